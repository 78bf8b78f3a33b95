"""Every page of A, B and C at phone and desktop size: nothing scrolls sideways, every control is
in reach (and big enough for a finger on the phone), no inline script or style, and axe-core finds
no serious or critical accessibility violation (colour contrast included)."""

from __future__ import annotations

import json
import os

import pytest
import requests
from browser_support import VIEWPORTS, check_every_page, check_page, force_variant

from stack_support import place_order

pytestmark = [pytest.mark.stack, pytest.mark.browser]


@pytest.fixture(scope="module")
def order(stack, browser):
    """One order to show on the customer and staff pages: (reference, access token)."""
    import psycopg2

    reference, _ = place_order(requests.Session(), stack.url().rstrip("/"), "Page Check")
    with psycopg2.connect(stack.database_url) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE orders_order SET comments = %s WHERE reference = %s RETURNING access_token",
            ("Ring twice, the bell is broken. Extra basil please.", reference),
        )
        return reference, cur.fetchone()[0]


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
@pytest.mark.parametrize("variant", ["a", "b", "c"])
def test_every_page_fits_reaches_and_passes_axe(stack, browser, order, variant, size):
    context = browser.new_context(viewport=VIEWPORTS[size])
    context.set_default_timeout(10_000)
    try:
        problems, measured = check_every_page(context, force_variant(context, stack, variant), variant, size == "phone", order)
    finally:
        context.close()
    report = os.environ.get("BROWSER_REPORT")
    if report:  # the figures for a reviewer: width per page and axe findings
        with open(report, "a") as out:
            out.write(json.dumps({"variant": variant, "size": size, "pages": measured}) + "\n")
    assert not problems, "\n".join(problems)


def test_the_closed_page_fits_and_passes_axe(stack, browser, order):
    """With ordering switched off (the admin's `orders_open` switch, read by every variant within a
    second) the menu and the order form's "closed" page pass the same checks; the switch is restored."""
    import psycopg2

    def switch(active: bool) -> None:
        with psycopg2.connect(stack.database_url) as conn, conn.cursor() as cur:
            cur.execute("UPDATE waffle_switch SET active = %s WHERE name = 'orders_open'", (active,))

    problems = []
    switch(False)
    try:
        for variant in ["a", "b", "c"]:
            for size, viewport in sorted(VIEWPORTS.items()):
                context = browser.new_context(viewport=viewport)
                base = force_variant(context, stack, variant)
                page = context.new_page()
                page.goto(base + "/order/")
                for _ in range(30):  # each process re-reads the switch once a second
                    if page.locator(".closed").count():
                        break
                    page.wait_for_timeout(200)
                    page.goto(base + "/order/")
                found = check_page(page, size == "phone")
                problems.extend(f"{variant} {size} closed: {p}" for p in found)
                context.close()
    finally:
        switch(True)
    assert not problems, "\n".join(problems)
