"""Staff accounts (issue 16): roles open only their pages, logins lock after repeated failures
wherever the counter lives, sessions end by POST, and a stale status click says who moved the order."""

from __future__ import annotations

import io
import logging
import subprocess

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from ops.roles import add_roles
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db


def user_with(django_user_model, name: str, *roles: str, **flags):
    user = django_user_model.objects.create_user(name, password=f"pw-{name}-123456", **flags)
    add_roles(user, *roles)
    client = Client()
    client.force_login(user)
    return client


def move(client, order, expected: str, status: str):
    """A status change from the staff table's JSON path (what the page's script sends)."""
    return client.post(f"/staff/orders/{order.reference}/status/", {"expected": expected, "status": status}, HTTP_ACCEPT="application/json")


# --- staff accounts -------------------------------------------------------------------------


def test_kitchen_sees_orders_and_changes_status_but_not_the_experiment(django_user_model):
    kitchen = user_with(django_user_model, "cook", "kitchen")
    order = make_order()
    assert kitchen.get("/staff/orders/").status_code == 200
    assert kitchen.post(f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking"}).status_code == 302
    assert kitchen.get("/staff/experiment/").status_code == 403
    assert kitchen.get("/admin/").status_code == 302  # not is_staff: the admin's login page


def test_marketing_sees_the_experiment_only(django_user_model):
    marketing = user_with(django_user_model, "ads", "marketing")
    order = make_order()
    assert marketing.get("/staff/experiment/").status_code == 200
    assert marketing.get("/staff/orders/").status_code == 403
    assert marketing.post(f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "received"


def test_is_staff_alone_opens_no_staff_page(django_user_model):
    client = user_with(django_user_model, "flagonly", is_staff=True)
    assert client.get("/staff/orders/").status_code == 403
    assert client.get("/staff/experiment/").status_code == 403


def test_ensure_staff_creates_a_kitchen_login_by_default_and_shows_the_password_once(capsys):
    root = logging.getLogger()
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    root.addHandler(handler)
    old_level, root.level = root.level, logging.DEBUG
    try:
        out = io.StringIO()
        call_command("ensure_staff", "--username", "newcook", stdout=out)
    finally:
        root.removeHandler(handler)
        root.level = old_level
    line = out.getvalue().strip()
    password = line.split(" / ")[1].split(" ")[0]
    user = get_user_model().objects.get(username="newcook")
    assert user.check_password(password)
    assert not user.is_staff and not user.is_superuser
    assert sorted(user.get_all_permissions()) == ["orders.change_order_status", "orders.view_order"]
    assert line.count(password) == 1
    assert not any(password in record.getMessage() or password in str(vars(record)) for record in records)
    again = io.StringIO()
    call_command("ensure_staff", "--username", "newcook", stdout=again)
    assert password not in again.getvalue()


def test_ensure_staff_admin_role_is_a_superuser():
    call_command("ensure_staff", "--username", "boss", "--role", "admin", "--password", "a-long-admin-pass", stdout=io.StringIO())
    user = get_user_model().objects.get(username="boss")
    assert user.is_superuser and user.is_staff and user.check_password("a-long-admin-pass")


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_login_is_locked_after_five_wrong_passwords_even_with_the_right_one(django_user_model, url):
    django_user_model.objects.create_superuser("target", password="right-password-123")
    client = Client()
    codes = [client.post(url, {"username": "target", "password": "wrong"}).status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]  # the fifth wrong password locks
    locked = client.post(url, {"username": "target", "password": "right-password-123"})
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by someone else's guesses.
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.post(url, {"username": "target", "password": "right-password-123"}).status_code == 302


def test_lockout_counts_the_address_the_proxy_saw_not_a_forged_one(django_user_model):
    django_user_model.objects.create_user("cook2", password="right-password-123")
    for i in range(5):  # a forged first entry changes every time; HAProxy's appended one does not
        Client().post("/accounts/login/", {"username": "cook2", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.9")
    locked = Client().post(
        "/accounts/login/", {"username": "cook2", "password": "right-password-123"}, HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.9"
    )
    assert locked.status_code == 429


def test_failures_are_counted_in_the_shared_database_without_a_shared_cache(django_user_model):
    from axes.handlers.cache import AxesCacheHandler
    from axes.handlers.database import AxesDatabaseHandler
    from axes.models import AccessAttempt

    from ops.lockout import SharedCounterHandler

    Client().post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert AccessAttempt.objects.filter(username="nobody").exists()
    assert isinstance(SharedCounterHandler(), AxesDatabaseHandler)
    with override_settings(
        CACHES={**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1"}}
    ):
        assert isinstance(SharedCounterHandler(), AxesCacheHandler)


@pytest.fixture
def redis_default_cache(tmp_path):
    """The default cache on a redis-server of this test's own (the shape of REDIS_URL in production)."""
    import shutil
    import socket
    import time

    from axes.handlers.proxy import AxesProxyHandler
    from django.core.cache import caches

    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed: apt-get install redis-server (.ci/run does)")
    from stack.local.ports import port_of

    port = port_of("redis_axes")  # this run's own port for it
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
        with override_settings(CACHES={**settings.CACHES, "default": redis_cache}):
            AxesProxyHandler.get_implementation(force=True)
            yield caches["default"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        AxesProxyHandler.get_implementation(force=True)


def test_with_a_shared_cache_failures_are_counted_there(django_user_model, redis_default_cache):
    from axes.models import AccessAttempt

    cache = redis_default_cache
    django_user_model.objects.create_user("cook3", password="right-password-123")
    codes = [Client().post("/accounts/login/", {"username": "cook3", "password": "wrong"}).status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]
    assert Client().post("/accounts/login/", {"username": "cook3", "password": "right-password-123"}).status_code == 429
    assert not AccessAttempt.objects.exists()  # not in the database: in Redis, where every process sees it
    assert cache._cache.get_client().dbsize() > 0


def test_logout_is_a_post_that_ends_the_session_and_redirects(staff_client):
    assert staff_client.get("/accounts/logout/").status_code == 405
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert staff_client.get("/staff/orders/").status_code == 302


def test_password_reset_is_not_offered(client):
    for url in ("/accounts/password_reset/", "/accounts/password_change/", "/accounts/reset/x/y/"):
        assert client.get(url).status_code == 404


def test_a_stale_status_click_says_where_the_order_is_and_who_moved_it(django_user_model):
    order = make_order()
    ann = user_with(django_user_model, "ann", "kitchen")
    bob = user_with(django_user_model, "bob", "kitchen")
    assert move(ann, order, "received", "baking").status_code == 200
    stale = move(bob, order, "received", "cancelled")
    assert stale.status_code == 409
    assert "already moved this order to Baking (ann," in stale.json()["message"]
    order.refresh_from_db()
    assert order.status_changed_by == "ann"
