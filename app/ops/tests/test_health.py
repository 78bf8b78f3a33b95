"""/healthz and /readyz: what the kubelet and the load balancer ask."""

import pytest
from django.core.management import call_command

from ops import readiness

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def urlconf_loaded():
    """As wsgi.py does at start-up: the URLconf (and the forms it builds) exists before a test breaks
    the ORM, so the breakage hits the request, not the import."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018


def test_healthz_answers_without_the_database(client, settings, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.0.3.7")  # a pod IP, not in ALLOWED_HOSTS
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "variant": settings.VARIANT, "theme": settings.THEME, "version": settings.APP_VERSION}


def test_readyz_is_ready_when_every_migration_is_applied(client):
    readiness.reset()
    response = client.get("/readyz", HTTP_HOST="10.0.3.7")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["migrations"] == {"ok": True, "missing": []}


def test_readyz_names_missing_migrations_with_503(client, monkeypatch):
    readiness.reset()
    monkeypatch.setattr(readiness, "missing_migrations", lambda: ["orders.0099_future"])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["checks"]["migrations"] == {"ok": False, "missing": ["orders.0099_future"]}


def test_readyz_says_which_check_failed_when_the_database_is_down_at_start(client, monkeypatch):
    readiness.reset()  # a pod that has not yet seen its schema
    monkeypatch.setattr(readiness, "database_ok", lambda: "OperationalError: connection refused")
    body = client.get("/readyz").json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError: connection refused"}


def test_a_database_outage_after_start_keeps_the_pod_ready_and_pages_answer_503(client, monkeypatch, pizza, django_assert_num_queries):
    """A failover must not take every pod out of the ALB at once: the pod stays ready, without
    asking the database, and the app itself answers 503 + Retry-After until the database is back."""
    from django.db import OperationalError

    from orders.models import Pizza

    readiness.reset()
    assert client.get("/readyz").status_code == 200
    monkeypatch.setattr(readiness, "database_ok", lambda: "OperationalError: the database is failing over")

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Pizza.objects, "filter", broken)
    with django_assert_num_queries(0):
        probe = client.get("/readyz", HTTP_HOST="10.0.3.7")
    assert probe.status_code == 200 and probe.json()["checks"]["migrations"]["cached"] is True
    page = client.get("/")
    assert page.status_code == 503 and page["Retry-After"] == "5"


def test_a_schema_found_behind_the_code_makes_the_pod_check_again(client, monkeypatch, pizza):
    from django.db import ProgrammingError

    from orders.models import Pizza

    readiness.reset()
    assert client.get("/readyz").status_code == 200

    def behind(*args, **kwargs):
        raise ProgrammingError('column "new_thing" does not exist')

    monkeypatch.setattr(Pizza.objects, "filter", behind)
    # The database now lacks a migration this code knows (another release rolled it back, say).
    monkeypatch.setattr(readiness, "missing_migrations", lambda: ["orders.0099_future"])
    assert client.get("/").status_code == 503  # the missing column: an outage while the schema is behind
    assert client.get("/readyz").status_code == 503  # and the cached "ready" was dropped: checked again


@pytest.mark.django_db(transaction=True)
def test_readyz_is_not_ready_on_a_schema_behind_the_code(client):
    """Roll the real schema back one migration: /readyz must say 503 and name it."""
    readiness.reset()
    try:
        call_command("migrate", "orders", "0001", verbosity=0)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "orders.0002_menu_and_switch" in response.json()["checks"]["migrations"]["missing"]
    finally:
        call_command("migrate", verbosity=0)
        readiness.reset()
    assert client.get("/readyz").status_code == 200


def test_every_response_carries_request_id_and_variant(client, settings):
    response = client.get("/", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert response["X-Request-ID"] == "abcdef0123456789"
    assert response["X-Pizza-Variant"] == settings.VARIANT
    assert len(client.get("/", HTTP_X_REQUEST_ID="bad id!").get("X-Request-ID")) == 32


def test_database_errors_become_503_with_retry_after(client, monkeypatch, pizza):
    from django.db import OperationalError

    from orders.models import Pizza

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Pizza.objects, "filter", broken)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "back in a moment" in response.content.decode()


def test_a_sql_bug_is_a_500_not_a_retried_outage(pizza, monkeypatch):
    """Only connection errors (or a schema behind the code) are outages; a broken query is a bug."""
    from django.db import ProgrammingError
    from django.test import Client

    from orders.models import Pizza

    def bad_sql(*args, **kwargs):
        raise ProgrammingError('syntax error at or near "SELEC"')

    monkeypatch.setattr(Pizza.objects, "filter", bad_sql)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_an_outage_raised_by_a_middleware_is_a_503_not_a_500(pizza, monkeypatch):
    """The view finished, then the session could not be saved: still an outage (503 + Retry-After)."""
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.db import OperationalError
    from django.test import Client

    def session_lost(self, request, response):
        raise OperationalError("FATAL: sorry, too many clients already")

    monkeypatch.setattr(SessionMiddleware, "process_response", session_lost)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "back in a moment" in response.content.decode()
    api = Client(raise_request_exception=False).get("/api/v1/menu", HTTP_ACCEPT="application/json")
    assert api.status_code == 503 and api["Retry-After"] == "5"
