"""The experiment through the real HAProxy: the load balancer honours the app's hash, and an order
whose form was shown by A is credited to A even when its POST lands on B."""

from __future__ import annotations

import re

import psycopg2
import pytest
import requests

from config.variants import load_variants
from experiment import assignment
from stack.http import BROWSER_UA, SEEN, form_fields

pytestmark = pytest.mark.stack

WEIGHTS = {name: v.weight for name, v in load_variants("dev").variants.items()}


def browser(visitor_id: str | None = None) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = BROWSER_UA
    if visitor_id:
        session.cookies.set("pz_visitor", visitor_id)
    return session


def served(response) -> str:
    return response.headers["X-Pizza-Variant"]


def show(session: requests.Session, url: str) -> requests.Response:
    """A browser showing a page: the page, then the exposure beacon it carries (seen.js fetches it
    with the page's cookies once the page is shown)."""
    page = session.get(url, timeout=10)
    beacon = SEEN.search(page.text)
    assert beacon, f"no exposure beacon on {url}"
    origin = "/".join(url.split("/", 3)[:3])
    assert session.get(origin + beacon.group(1), timeout=10).status_code == 204
    return page


def test_haproxy_routes_every_visitor_id_to_the_variant_its_hash_picks(stack):
    for _ in range(60):
        visitor = assignment.mint_visitor_id("a", {"x": 1})  # any id: the weights here do not filter
        expected = assignment.assigned_variant(visitor, WEIGHTS)
        assert served(browser(visitor).get(stack.url(), timeout=10)) == expected


def test_a_new_visitor_returns_to_the_same_variant_without_the_sticky_cookie(stack):
    session = browser()
    first = served(session.get(stack.url(), timeout=10))
    assert assignment.assigned_variant(session.cookies["pz_visitor"], WEIGHTS) == first
    for _ in range(10):
        session.cookies.pop("PZV", None)  # the day-long sticky cookie is gone: the hash still holds
        assert served(session.get(stack.url(), timeout=10)) == first


def test_form_shown_on_a_and_posted_to_b_counts_for_a(stack):
    visitor = assignment.mint_visitor_id("a", WEIGHTS)
    session = browser(visitor)
    form = show(session, stack.url("/order/"))
    assert served(form) == "a"
    pizza = re.search(r'name="pizza" value="(\d+)"', form.text).group(1)
    shown_by = re.search(r'name="shown_by" value="([^"]+)"', form.text).group(1)
    data = {
        **form_fields(form.text),
        "shown_by": shown_by,
        "pizza": pizza,
        "size": "medium",
        "quantity": "1",
        "customer_name": "Crossing Over",
        "phone": "+4520304050",
        "address": "Test Street 1",
        "comments": "",
    }
    stack.set_server_state("a", 1, "maint")  # A goes away between the form and the POST
    try:
        done = session.post(stack.url("/order/"), data=data, headers={"Referer": stack.url("/order/")}, timeout=10)
    finally:
        stack.set_server_state("a", 1, "ready")
    assert done.history and done.history[0].status_code == 303
    assert served(done.history[0]) in {"b", "c"}
    with psycopg2.connect(stack.database_url) as db, db.cursor() as cursor:
        cursor.execute("SELECT variant FROM orders_order WHERE customer_name = %s", ["Crossing Over"])
        assert cursor.fetchall() == [("a",)]
        cursor.execute("SELECT variant, crossed, orders FROM experiment_assignment WHERE visitor_id = %s", [visitor])
        assert cursor.fetchall() == [("a", False, 1)]
        cursor.execute("SELECT variant, sum(orders), sum(converters), sum(crossovers) FROM experiment_dailycount GROUP BY variant")
        counts = {row[0]: row[1:] for row in cursor.fetchall()}
    assert counts["a"] == (1, 1, 0)
    assert all(orders == 0 for name, (orders, _c, _x) in counts.items() if name != "a")
