"""The shared cache on a real redis-server of the test's own: switches, sessions and counters live
there, and killing it costs nothing but speed (orders, logins and counters still work)."""

import pytest
import redis
from axes.handlers.proxy import AxesProxyHandler
from django.core.cache import caches
from waffle.models import Switch

from config.settings.base import redis_cache
from orders.models import Order
from stack.services import service_port
from stack.services.redis import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_cache(settings):
    """The settings REDIS_URL gives, pointing at a redis-server this test owns (and may kill)."""
    server = RedisServer(service_port("redis")).start()
    try:
        settings.CACHES = {
            name: dict(redis_cache(name if name != "default" else "pizza", timeout), LOCATION=server.url)
            for name, timeout in (("default", 300), ("waffle", 30), ("counters", None))
        }
        settings.SESSION_ENGINE = "ops.sessions.cached_db"
        AxesProxyHandler.implementation = None  # ops.lockout chooses where to count by CACHES: choose again
        yield server
    finally:
        for cache in caches.all():
            cache.close()
        server.stop()
        # axes keeps the handler it chose (counting in this Redis) until AXES_HANDLER changes: the
        # next test's logins must not be counted, failing open, in a server that is gone.
        AxesProxyHandler.implementation = None


def log_in(client):
    """Through the login page, as staff do (django-axes needs the request a test client's login() lacks)."""
    return client.post("/accounts/login/", {"username": "staffer", "password": "pw-staff-123"})


def keys(server) -> list[str]:
    return [k.decode() for k in redis.Redis.from_url(server.url).keys("*")]


def test_switches_sessions_and_counters_live_in_redis(shared_cache, client, staff_user, pizza):
    assert log_in(client).status_code == 302
    assert client.get("/staff/orders/").status_code == 200
    assert client.get("/order/").status_code == 200  # reads the orders_open switch
    caches["counters"].add("login-failures:203.0.113.9", 0)
    assert caches["counters"].incr("login-failures:203.0.113.9") == 1
    stored = keys(shared_cache)
    assert any("sessions.cached_db" in k for k in stored), stored
    assert any(k.startswith("waffle:") for k in stored), stored
    assert any(k.startswith("counters:") and "login-failures" in k for k in stored), stored


def test_a_switch_flipped_anywhere_is_seen_at_once_through_the_shared_cache(
    shared_cache, client, pizza, django_capture_on_commit_callbacks
):
    assert 'name="form_token"' in client.get("/order/").content.decode()  # now cached in Redis
    switch = Switch.objects.get(name="orders_open")
    switch.active = False
    with django_capture_on_commit_callbacks(execute=True):
        switch.save()  # on commit, waffle deletes the shared key: no pod waits for an expiry
    assert "closed for orders" in client.get("/order/").content.decode()


def test_with_redis_killed_orders_logins_and_counters_still_work(shared_cache, client, order_data, staff_user):
    assert client.get("/order/").status_code == 200
    shared_cache.kill()
    response = client.post("/order/", order_data)
    assert response.status_code == 303
    assert Order.objects.filter(customer_name="Ada Lovelace").count() == 1
    assert client.get(response["Location"]).status_code == 200
    staff = type(client)()
    assert log_in(staff).status_code == 302  # the login page: axes counts failures, the session is written
    assert staff.get("/staff/orders/").status_code == 200
    assert caches["counters"].incr("api:203.0.113.9") == 1  # fails open: no cache, no count, no error


def test_the_menu_is_read_once_then_served_from_redis_and_an_edit_is_seen_at_once(
    shared_cache, client, pizza, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert pizza.name in client.get("/").content.decode()
    assert any(k.startswith("pizza:") and "menu" in k for k in keys(shared_cache)), keys(shared_cache)
    with CaptureQueriesContext(connection) as queries:
        assert pizza.name in client.get("/").content.decode()
        assert pizza.name in [p["name"] for p in client.get("/api/v1/menu").json()["pizzas"]]
    assert not [q["sql"] for q in queries if "orders_pizza" in q["sql"]], "the menu was read from the database again"
    pizza.name = "Quattro Formaggi"
    with django_capture_on_commit_callbacks(execute=True):
        pizza.save()  # on commit, the shared entry is dropped: every pod reads the new menu next
    assert "Quattro Formaggi" in client.get("/").content.decode()


def test_with_redis_killed_the_menu_comes_from_the_database(shared_cache, client, pizza):
    assert pizza.name in client.get("/").content.decode()
    shared_cache.kill()
    assert pizza.name in client.get("/").content.decode()
    assert client.get("/api/v1/menu").status_code == 200
