"""The orders_open switch closes ordering on every variant at once (they share the database)."""

import time
from types import SimpleNamespace

import pytest
from waffle.models import Switch

from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(pizza):
    Switch.objects.filter(name="orders_open").update(active=False)


def test_open_shop_shows_the_form(client, pizza):
    assert 'name="form_token"' in client.get("/order/").content.decode()


def test_closed_shop_says_so_and_shows_no_form(client, closed):
    response = client.get("/order/")
    assert "closed for orders" in response.content.decode()
    assert 'name="form_token"' not in response.content.decode()


def test_closed_shop_accepts_no_order(client, order_data, closed):
    response = client.post("/order/", order_data)
    assert response.status_code == 503
    assert "closed for orders" in response.content.decode()
    assert Order.objects.count() == 0


def test_a_toggle_by_another_variant_is_seen_within_a_second(client, pizza, monkeypatch):
    """Each process keeps the switch for one second at most, so all three variants agree quickly."""
    assert "closed for orders" not in client.get("/order/").content.decode()
    Switch.objects.filter(name="orders_open").update(active=False)  # as another process would, no signal here
    # The process-local cache's clock, a second on: no sleep, and the bound is the settings' one.
    from django.core.cache.backends import locmem

    monkeypatch.setattr(locmem, "time", SimpleNamespace(time=lambda: time.time() + 1.01))
    assert "closed for orders" in client.get("/order/").content.decode()


def test_toggling_from_the_admin_closes_the_shop(client, django_user_model, pizza):
    boss = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    client.force_login(boss)
    switch = Switch.objects.get(name="orders_open")
    response = client.post("/admin/waffle/switch/", {"action": "disable_switches", "_selected_action": [switch.pk]})
    assert response.status_code == 302
    assert "closed for orders" in client.get("/order/").content.decode()
