"""The series /metrics exports move when the shop does: requests, orders, refusals, exposures, status changes."""

import json
import re
import uuid

import pytest
from django.db import ProgrammingError, connection
from django.test import Client
from prometheus_client import REGISTRY
from waffle.models import Switch

from experiment.middleware import seen
from orders.models import Order, Status

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def value(name: str, **labels) -> float:
    from django.conf import settings

    return REGISTRY.get_sample_value(name, {"variant": settings.VARIANT, "theme": settings.THEME, **labels}) or 0.0


class Delta:
    """value(name, **labels) after minus before, for counters that other tests also move."""

    def __init__(self, name: str, **labels):
        self.name, self.labels = name, labels
        self.before = value(name, **labels)

    @property
    def now(self) -> float:
        return value(self.name, **self.labels) - self.before


def test_requests_are_counted_by_route_name_and_status_class_never_by_raw_path(client, pizza):
    home = Delta("pizza_http_requests_total", route="orders:home", method="GET", status_class="2xx")
    missing = Delta("pizza_http_requests_total", route="unmatched", method="GET", status_class="4xx")
    timed = Delta("pizza_http_request_duration_seconds_count", route="orders:home", method="GET")
    client.get("/")
    client.get("/no/such/page/4242")
    assert (home.now, missing.now, timed.now) == (1, 1, 1)
    exported = REGISTRY.collect()
    assert not any("4242" in str(sample.labels) for family in exported for sample in family.samples)


def test_probes_are_not_requests(client):
    before = Delta("pizza_http_requests_total", route="unmatched", method="GET", status_class="2xx")
    ready = Delta("pizza_readiness_checks_total", outcome="ready")
    client.get("/healthz")
    client.get("/readyz")
    assert before.now == 0 and ready.now == 1


def test_metrics_are_not_served_on_the_public_port(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"pizza_http_requests" not in response.content


def test_a_placed_order_counts_once_and_its_retry_not_again(client, order_data):
    web = Delta("pizza_orders_placed_total", channel="web")
    client.post("/order/", order_data)
    client.post("/order/", order_data)  # the same one-time token: the same order comes back
    assert Order.objects.count() == 1 and web.now == 1


def test_api_orders_count_under_their_channel(client, pizza):
    api = Delta("pizza_orders_placed_total", channel="api")
    body = {"pizza": pizza.pk, "size": "small", "quantity": 1, "customer_name": "Api", "phone": "+4512345678", "address": "Road 1"}
    response = client.post("/api/v1/orders", json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 201 and api.now == 1


def test_refusals_are_counted_by_reason(client, order_data):
    validation = Delta("pizza_order_refusals_total", channel="web", reason="validation")
    api_bad = Delta("pizza_order_refusals_total", channel="api", reason="bad_request")
    api_invalid = Delta("pizza_order_refusals_total", channel="api", reason="validation")
    assert client.post("/order/", {**order_data, "quantity": "0"}).status_code == 422
    assert client.post("/api/v1/orders", "{", content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 400
    assert client.post("/api/v1/orders", "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 422
    assert (validation.now, api_bad.now, api_invalid.now) == (1, 1, 1)


def test_orders_refused_while_closed(client, order_data):
    closed = Delta("pizza_order_refusals_total", channel="web", reason="closed")
    Switch.objects.filter(name="orders_open").update(active=False)
    assert client.post("/order/", order_data).status_code == 503
    assert closed.now == 1


def test_csrf_refusal_counts_for_the_order_form_only(order_data, staff_user):
    csrf = Delta("pizza_order_refusals_total", channel="web", reason="csrf")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/order/", order_data).status_code == 403
    assert strict.post("/accounts/login/", {"username": "x", "password": "y"}).status_code == 403  # not an order
    assert csrf.now == 1 and Order.objects.count() == 0


def test_exposures_count_first_exposures_only(client, pizza):
    """A visitor counts once: the page's beacon with the cookie the page set (experiment.middleware)."""
    seen.clear()
    exposures = Delta("pizza_exposures_recorded_total")
    visitor = Client(HTTP_USER_AGENT=BROWSER)
    for _ in range(2):  # the same visitor again: the database already holds their first exposure
        page = visitor.get("/").content.decode()
        visitor.get(re.search(r'data-seen="(/seen/[^"]+)"', page).group(1))
        seen.clear()
    assert 'data-seen="' not in Client(HTTP_USER_AGENT="curl/8.5").get("/").content.decode()  # a script is no visitor
    assert exposures.now == 1


def test_status_changes_count_winners_and_conflicts(pizza, order_data, client):
    from orders.services import change_status

    client.post("/order/", order_data)
    order = Order.objects.get()
    changed = Delta("pizza_order_status_changes_total", from_status="received", to_status="baking", outcome="changed")
    conflict = Delta("pizza_order_status_changes_total", from_status="received", to_status="baking", outcome="conflict")
    assert change_status(order.pk, Status.RECEIVED, Status.BAKING)[0]
    assert not change_status(order.pk, Status.RECEIVED, Status.BAKING)[0]  # the second click loses
    assert (changed.now, conflict.now) == (1, 1)


def test_failed_statements_are_timed_and_counted_as_database_errors():
    errors = Delta("pizza_db_errors_total", stage="query", error="ProgrammingError")
    timed = Delta("pizza_db_query_duration_seconds_count")
    with pytest.raises(ProgrammingError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here")
    assert errors.now == 1 and timed.now >= 1


def test_every_series_names_variant_and_theme(client):
    client.get("/")
    for family in REGISTRY.collect():
        if family.name.startswith("pizza_"):
            for sample in family.samples:
                assert {"variant", "theme"} <= set(sample.labels), sample
