"""Races that real traffic produces: double submits and two staff clicking at once."""

import threading

import pytest
from django.db import connection
from django.test import Client

from ops.roles import add_roles
from orders.models import Order
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(count, action):
    """Start `count` threads that wait on one barrier, then call action(i); return the results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(i):
        try:
            barrier.wait()
            results[i] = action(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_same_form_token_posted_concurrently_creates_one_order(order_data):
    statuses = run_at_once(12, lambda i: Client().post("/order/", order_data))
    assert Order.objects.count() == 1
    locations = {r["Location"] for r in statuses}
    assert [r.status_code for r in statuses] == [303] * 12
    assert len(locations) == 1


def test_different_tokens_posted_concurrently_create_one_order_each(order_data):
    import uuid

    tokens = [str(uuid.uuid4()) for _ in range(8)]
    run_at_once(8, lambda i: Client().post("/order/", {**order_data, "form_token": tokens[i]}))
    assert Order.objects.count() == 8


def test_concurrent_status_changes_have_exactly_one_winner(django_user_model):
    order = make_order()
    user = django_user_model.objects.create_user("kitchen", password="pw")
    add_roles(user, "kitchen")

    def click(i):
        client = Client()
        client.force_login(user)
        return client.post(
            f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking"}, HTTP_ACCEPT="application/json"
        )

    responses = run_at_once(20, click)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19
    losers = [r.json()["message"] for r in responses if r.status_code == 409]
    assert all("someone else already moved this order to Baking" in m for m in losers)
    order.refresh_from_db()
    assert order.status == "baking"
