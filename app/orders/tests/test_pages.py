"""What the browser work added on the server side: the status page's JSON, the cancel
confirmation step, times in the shop's zone, the logout button."""

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from orders.models import Order
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_status_json_follows_the_order_and_says_when_to_stop(client):
    order = make_order()
    url = f"/orders/{order.access_token}/status.json"
    first = client.get(url)
    assert first["Cache-Control"] == "no-store"
    assert first.json()["status"] == "received" and first.json()["final"] is False
    Order.objects.filter(pk=order.pk).update(status="delivered")
    done = client.get(url).json()
    assert (done["status"], done["label"], done["final"]) == ("delivered", "Delivered", True)
    assert [s["state"] for s in done["steps"]] == ["done", "done", "done", "current"]


def test_status_json_needs_the_token(client):
    order = make_order()
    assert client.get(f"/orders/{order.reference}/status.json").status_code == 404


def test_status_page_polls_only_while_the_order_can_change(client):
    order = make_order()
    page = client.get(f"/orders/{order.access_token}/").content.decode()
    assert "js/order-status.js" in page and "data-poll-url" in page
    Order.objects.filter(pk=order.pk).update(status="cancelled")
    page = client.get(f"/orders/{order.access_token}/").content.decode()
    assert "js/order-status.js" not in page and "data-poll-url" not in page


def test_a_cancel_from_the_table_asks_first_and_changes_nothing(staff_client):
    order = make_order()
    response = staff_client.post(
        f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "cancelled", "next": "/staff/orders/?q=x"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"/staff/orders/{order.reference}/cancel/")
    order.refresh_from_db()
    assert order.status == "received"
    page = staff_client.get(response["Location"])
    assert page.status_code == 200 and b"Yes, cancel the order" in page.content
    done = staff_client.post(
        f"/staff/orders/{order.reference}/status/",
        {"expected": "received", "status": "cancelled", "confirm": "yes", "next": "/staff/orders/?q=x"},
    )
    assert done["Location"] == "/staff/orders/?q=x"
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_the_confirmation_refuses_an_order_that_can_no_longer_be_cancelled(staff_client):
    order = make_order(status="delivered")
    page = staff_client.get(f"/staff/orders/{order.reference}/cancel/?next=https://evil.example/").content.decode()
    assert "can no longer be cancelled" in page and "Yes, cancel" not in page
    assert "evil.example" not in page  # the way back stays on this site


def test_the_confirmation_is_for_staff_only(client):
    order = make_order()
    assert client.get(f"/staff/orders/{order.reference}/cancel/").status_code == 302


@override_settings(TIME_ZONE="Europe/Copenhagen", SHOP_TIME_ZONE="Europe/Copenhagen")
def test_staff_table_shows_local_time_and_names_the_zone_with_address_and_comments(staff_client):
    make_order(created_at=datetime(2026, 7, 1, 10, 30, tzinfo=UTC), address="Nørregade 7", comments="Ring twice")
    page = staff_client.get("/staff/orders/").content.decode()
    assert "2026-07-01 12:30" in page  # summer time: UTC+2
    assert "Europe/Copenhagen" in page
    assert "Nørregade 7" in page and "Ring twice" in page
    assert 'action="/accounts/logout/"' in page  # logging out is a POST form


def test_confirmation_has_no_stray_bracket(client):
    order = make_order(size="medium")
    page = client.get(f"/orders/{order.access_token}/confirmed/").content.decode()
    assert "Medium (30 cm)," in page and "cm))" not in page
