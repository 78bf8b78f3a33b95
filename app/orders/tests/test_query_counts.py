"""Queries of the hottest pages, statement by statement: a new per-request query fails here first
(docs/bench.md: each round trip is a measurable share of an order POST)."""

import uuid

import pytest
from django.core.cache import caches

from experiment.tests.factories import BROWSER
from orders.models import Order
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db

VISITOR = "0123456789abcdef0123456789abcdef"


def statements(ctx) -> list[str]:
    """The captured SQL, savepoints (the test's own transaction) left out."""
    sql = (" ".join(q["sql"].split()) for q in ctx.captured_queries)
    return [s for s in sql if not s.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]


@pytest.fixture
def customer(client, pizza, monkeypatch):
    """A returning browser with caches as they are in a running process: the orders_open switch
    (kept 1 s in production; here for the test's length, so a slow machine cannot expire it
    mid-test) and the menu already read."""
    monkeypatch.setattr(caches["waffle"], "default_timeout", 300)
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    client.cookies["pz_visitor"] = VISITOR
    assert client.get("/").status_code == 200
    assert client.get("/order/").status_code == 200
    return client


def test_landing_page_reads_nothing_from_the_database(customer, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert customer.get("/").status_code == 200


def test_order_form_reads_nothing_from_the_database(customer, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert customer.get("/order/").status_code == 200


def test_order_post_is_one_statement(customer, order_data, django_assert_max_num_queries):
    """The chosen pizza checked, the order and the experiment's counters in one statement and one commit
    (orders_place_order): no token lookup before it, no session, no switch read, no BEGIN/COMMIT pair."""
    assert customer.post("/order/", order_data).status_code == 303  # a running process has read the pizza before
    with django_assert_max_num_queries(10) as ctx:
        response = customer.post("/order/", {**order_data, "form_token": str(uuid.uuid4())})
    assert response.status_code == 303
    done = statements(ctx)
    assert len(done) == 1, done
    assert done[0].startswith("SELECT order_id, counted, count_error FROM orders_place_order("), done[0]
    order = Order.objects.latest("id")
    assert order.visitor_id == VISITOR
    assert response["Location"] == f"/orders/{order.access_token}/confirmed/"


def test_confirmation_is_one_query(customer, order_data, django_assert_num_queries):
    location = customer.post("/order/", order_data)["Location"]
    with django_assert_num_queries(1):
        assert customer.get(location).status_code == 200


def test_staff_first_page_queries(staff_client, django_assert_max_num_queries):
    """The session, the user, the user's and its groups' permissions (one statement, ops.auth), then one page of orders."""
    for _ in range(3):
        make_order()
    with django_assert_max_num_queries(10) as ctx:
        response = staff_client.get("/staff/orders/")
    assert response.status_code == 200
    done = statements(ctx)
    tables = [s.split(" FROM ", 1)[1].split()[0] for s in done]
    assert tables == ['"django_session"', '"auth_user"', '"auth_permission"', '"orders_order"'], done
    assert response.content.decode().count("<tr data-reference=") == 3
