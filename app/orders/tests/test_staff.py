"""The staff order table: who may see it, what it shows, how it pages, and status changes."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from orders.queries import PAGE_SIZE, decode_cursor, encode_cursor
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db

TABLE = "/staff/orders/"


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(TABLE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logged_in_non_staff_gets_403(client, customer_user):
    client.force_login(customer_user)
    assert client.get(TABLE).status_code == 403
    assert client.post("/staff/orders/XYZ/status/", {"expected": "received", "status": "baking"}).status_code == 403


def test_staff_can_log_in_with_the_login_page(client, staff_user):
    response = client.post("/accounts/login/", {"username": "staffer", "password": "pw-staff-123"})
    assert response.status_code == 302
    assert client.get(TABLE).status_code == 200


def test_table_lists_newest_first_with_variant(staff_client):
    old = make_order(created_at=timezone.now() - timedelta(hours=2), variant="b")
    new = make_order(variant="c")
    page = staff_client.get(TABLE)
    html = page.content.decode()
    assert html.index(new.reference) < html.index(old.reference)
    assert [o.reference for o in page.context["orders"]] == [new.reference, old.reference]


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"status": "baking"}, {"baking"}),
        ({"variant": "b"}, {"b-order"}),
    ],
)
def test_filters_by_status_and_variant(staff_client, params, expected):
    make_order(status="baking", customer_name="baking")
    make_order(variant="b", customer_name="b-order")
    make_order(customer_name="other")
    names = {o.customer_name for o in staff_client.get(TABLE, params).context["orders"]}
    assert names == expected


def test_filter_by_date_range(staff_client):
    make_order(created_at=timezone.now() - timedelta(days=10), customer_name="old")
    make_order(customer_name="today")
    today = timezone.now().date().isoformat()
    names = {o.customer_name for o in staff_client.get(TABLE, {"date_from": today, "date_to": today}).context["orders"]}
    assert names == {"today"}


def test_search_by_reference_name_prefix_and_phone(staff_client):
    target = make_order(customer_name="Margherita Rossi", phone="+4599887766")
    make_order(customer_name="Someone Else", phone="+4511111111")
    for q in (target.reference.lower(), "Margherita", "+45 99 88 77 66"):
        found = [o.reference for o in staff_client.get(TABLE, {"q": q}).context["orders"]]
        assert found == [target.reference], q


def test_invalid_filters_are_ignored_not_a_500(staff_client):
    make_order()
    response = staff_client.get(TABLE, {"status": "bogus", "date_from": "yesterday", "after": "!!!"})
    assert response.status_code == 200
    assert len(response.context["orders"]) == 1


def test_keyset_pages_cover_every_order_once(staff_client):
    start = timezone.now()
    for i in range(PAGE_SIZE + 7):
        make_order(created_at=start - timedelta(seconds=i // 2))  # pairs share a timestamp
    seen, url, pages = [], TABLE, 0
    while url:
        page = staff_client.get(url)
        seen += [o.reference for o in page.context["orders"]]
        url = page.context["next_url"]
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == Order.objects.count()


def test_cursor_round_trips():
    order = make_order()
    assert decode_cursor(encode_cursor(order)) == (order.created_at, order.pk)


def test_page_query_does_not_count_or_scan(staff_client, django_assert_max_num_queries):
    for _ in range(3):
        make_order()
    with django_assert_max_num_queries(6) as ctx:
        staff_client.get(TABLE)
    sql = " ".join(q["sql"] for q in ctx.captured_queries).upper()
    assert "COUNT(" not in sql
    assert "LIMIT 51" in sql


def test_status_change_moves_the_order_and_says_so(staff_client):
    order = make_order()
    response = staff_client.post(f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking"}, follow=True)
    order.refresh_from_db()
    assert order.status == "baking"
    assert "Order moved to Baking" in response.content.decode()


def test_invalid_transition_is_refused_with_a_message(staff_client):
    order = make_order(status="delivered")
    response = staff_client.post(
        f"/staff/orders/{order.reference}/status/", {"expected": "delivered", "status": "baking"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    assert "cannot go from delivered to baking" in response.json()["message"]
    order.refresh_from_db()
    assert order.status == "delivered"


def test_stale_expected_status_loses(staff_client):
    order = make_order(status="baking")
    response = staff_client.post(
        f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "cancelled"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.status == "baking"


def test_unknown_status_value_is_refused(staff_client):
    order = make_order()
    response = staff_client.post(
        f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "eaten"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    assert response.json()["message"] == "Unknown status."


def test_status_change_without_csrf_is_refused(staff_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    order = make_order()
    assert client.post(f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "received"


def test_status_change_never_redirects_off_site(staff_client):
    order = make_order()
    response = staff_client.post(
        f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking", "next": "https://evil.example/"}
    )
    assert response["Location"] == TABLE


def test_admin_lists_orders_and_menu(staff_client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    staff_client.force_login(admin)
    make_order()
    assert staff_client.get("/admin/orders/order/").status_code == 200
    assert staff_client.get("/admin/orders/pizza/").status_code == 200


@pytest.mark.parametrize("filters", [{}, {"variant": "a"}])  # the fixed statement (no filter) and the ORM's query
def test_deep_page_uses_one_row_comparison(staff_client, django_assert_max_num_queries, filters):
    """The cursor's condition is a ROW(created_at, id) < ROW(...) the order_newest index answers."""
    for _ in range(3):
        make_order(variant="a")
    cursor = encode_cursor(Order.objects.order_by("-created_at", "-id")[0])
    with django_assert_max_num_queries(6) as ctx:
        page = staff_client.get(TABLE, {"after": cursor, **filters})
    assert len(page.context["orders"]) == 2
    sql = " ".join(q["sql"] for q in ctx.captured_queries).upper()
    assert re.search(r'ROW\((O|"ORDERS_ORDER")\."CREATED_AT", \1\."ID"\) < \(?ROW\(', sql)


@pytest.mark.parametrize("cursor", ["MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "MjAyNi0wMS0wMVQwMDowMDowMHwx"])
def test_a_cursor_out_of_range_or_without_zone_is_ignored(staff_client, cursor):
    """Beyond bigint, or a naive timestamp: the first page, not a database error."""
    make_order()
    response = staff_client.get(TABLE, {"after": cursor})
    assert response.status_code == 200 and len(response.context["orders"]) == 1


def test_the_last_representable_day_is_a_valid_upper_bound(staff_client):
    make_order()
    response = staff_client.get(TABLE, {"date_to": "9999-12-31"})
    assert response.status_code == 200 and len(response.context["orders"]) == 1


def test_admin_cannot_move_a_status_backwards(staff_client, django_user_model):
    """The admin's change form has no status field: a crafted POST leaves a delivered order delivered."""
    admin = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    staff_client.force_login(admin)
    order = make_order(status="delivered")
    form = staff_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'name="status"' not in form
    data = {
        "pizza": order.pizza_id,
        "size": "medium",
        "quantity": 1,
        "unit_price": "10.00",
        "total": "10.00",
        "customer_name": "Grace Hopper",
        "phone": "+4511223344",
        "address": "x",
        "comments": "",
        "channel": "web",
        "status": "received",
    }
    staff_client.post(f"/admin/orders/order/{order.pk}/change/", data)
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_admin_actions_move_orders_through_the_compare_and_set(staff_client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    staff_client.force_login(admin)
    fresh, done = make_order(), make_order(status="delivered")
    before = fresh.updated_at
    staff_client.post("/admin/orders/order/", {"action": "to_baking", "_selected_action": [fresh.pk, done.pk]})
    fresh.refresh_from_db()
    assert fresh.status == "baking" and fresh.updated_at > before
    assert Order.objects.get(pk=done.pk).status == "delivered"  # delivered -> baking is not a transition


def test_the_unfiltered_page_is_one_fixed_statement_with_the_orms_rows(django_assert_num_queries):
    """queries.staff_page without filters reads the rows page(staff_orders({})) would, first page and older."""
    from orders import queries

    moment = timezone.now()
    for i in range(PAGE_SIZE + 7):  # equal times too: the id breaks the tie
        make_order(created_at=moment - timedelta(minutes=i // 3), comments="" if i % 2 else "ring twice")
    cursor = None
    for _ in range(2):
        with django_assert_num_queries(1):
            rows, following = queries.staff_page({"status": "", "q": "", "date_from": None}, cursor)
        assert (rows, following) == queries.page(queries.staff_orders({}), cursor)
        cursor = decode_cursor(following) if following else None
    assert len(rows) == 7 and following is None


@pytest.mark.parametrize("comments", ["", 'say "hi" & <wave>', "x\x00y"])  # the last: a NUL, as SQLite could hold
def test_every_text_cell_is_escaped_as_the_template_would(comments):
    """staff_table escapes a page's cells in one pass (escaped_cells); each cell is still html.escape of its value."""
    from html import escape

    from orders import staff_table
    from orders.queries import StaffRow

    odd = StaffRow(
        1, timezone.now(), "AB<1>", "Marg & 'rita'", "medium", 2, 20, '<b>"O\'Neil"</b>', "+45 1", "a\nb & c", comments, "a", "baking"
    )
    html = staff_table.rows([odd, odd._replace(reference="CD2", comments="")], lambda: "tok", "/staff/orders/")
    for value in ("AB<1>", "Marg & 'rita'", '<b>"O\'Neil"</b>', "a\nb & c", comments or "–"):
        assert escape(value) in html
    assert "<b>" not in html and html.count("<tr") == 2 and 'data-reference="CD2"' in html
