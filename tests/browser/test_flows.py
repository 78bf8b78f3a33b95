"""What people do, clicked in Chromium through HAProxy (each variant forced by its sticky cookie):
a customer orders and follows the order, staff on another variant work it, marketing takes the CSV.
The database is the judge of how many orders were made and what state they are in."""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests
from browser_support import POLL_SECONDS, fill_order, force_variant, log_in, served_by, unique_name
from playwright.sync_api import expect

from stack_support import place_order

pytestmark = [pytest.mark.stack, pytest.mark.browser]

VARIANTS = ["a", "b", "c"]


def orders_named(db, name: str) -> list[tuple[str, str, str]]:
    with db.cursor() as cur:
        cur.execute("SELECT reference, status, variant FROM orders_order WHERE customer_name = %s", (name,))
        return cur.fetchall()


def status_of(db, reference: str) -> str:
    with db.cursor() as cur:
        cur.execute("SELECT status FROM orders_order WHERE reference = %s", (reference,))
        return cur.fetchone()[0]


@pytest.mark.parametrize("variant", VARIANTS)
def test_customer_orders_once_and_staff_on_another_variant_work_it(stack, browser, db, variant):
    # --- the customer, on `variant` -----------------------------------------------------------
    customer = browser.new_context(viewport={"width": 390, "height": 844})
    customer.set_default_timeout(10_000)
    base = force_variant(customer, stack, variant)
    page = customer.new_page()
    page.goto(base + "/")
    assert served_by(page) == variant
    page.locator(".hero a.cta").click()
    page.wait_for_url("**/order/")
    name = unique_name(f"Browser {variant.upper()}")
    fill_order(page, name, comments="Ring twice")
    page.locator("form.order-form button[type=submit]").dblclick()  # an impatient double click
    page.wait_for_url("**/confirmed/")
    reference = page.locator(".reference").inner_text()
    assert orders_named(db, name) == [(reference, "received", variant)]

    page.go_back()  # back to the filled-in form, and send it again
    page.wait_for_url("**/order/")
    page.locator("form.order-form button[type=submit]").click()
    page.wait_for_url("**/confirmed/")
    assert page.locator(".reference").inner_text() == reference
    assert orders_named(db, name) == [(reference, "received", variant)]  # still exactly one order

    page.get_by_role("link", name="Follow your order").click()
    page.wait_for_url("**/orders/*/")
    status = page.locator(".status [data-status]")
    assert status.get_attribute("data-status") == "received"
    polls = []
    page.on("request", lambda request: polls.append(time.monotonic()) if request.url.endswith("/status.json") else None)

    # --- staff, on another variant --------------------------------------------------------------
    other = VARIANTS[(VARIANTS.index(variant) + 1) % 3]
    staff = browser.new_context(viewport={"width": 390, "height": 844})
    staff.set_default_timeout(10_000)
    staff_base = force_variant(staff, stack, other)
    desk = staff.new_page()
    log_in(desk, staff_base)
    assert served_by(desk) == other
    desk.fill("input[name=q]", reference)
    desk.get_by_role("button", name="Filter").click()
    row = desk.locator(f"tr[data-reference='{reference}']")
    assert row.locator(".variant").inner_text() == variant.upper()
    assert "Nørregade 7" in row.locator(".address").inner_text()
    assert row.locator(".comments").inner_text() == "Ring twice"
    for label, value in [("Baking", "baking"), ("Out for delivery", "out_for_delivery")]:
        desk.locator(f"tr[data-reference='{reference}']").get_by_role("button", name=label).click()
        expect(desk.locator(f"tr[data-reference='{reference}'] .status")).to_have_text(label)
        assert status_of(db, reference) == value
        # The customer's page notices by itself (it polls every POLL_SECONDS here).
        # (expect, not wait_for_function: the page's CSP forbids the eval that wait_for_function needs)
        expect(page.locator(".status [data-status]")).to_have_attribute("data-status", value, timeout=POLL_SECONDS * 5 * 1000)
    desk.locator(f"tr[data-reference='{reference}']").get_by_role("button", name="Delivered").click()
    expect(desk.locator(f"tr[data-reference='{reference}'] .status")).to_have_text("Delivered")
    assert status_of(db, reference) == "delivered"
    expect(page.locator(".status [data-status]")).to_have_attribute("data-status", "delivered", timeout=POLL_SECONDS * 5 * 1000)
    assert page.locator(".step-current").inner_text() == "Delivered"
    stopped = len(polls)
    page.wait_for_timeout(POLL_SECONDS * 3 * 1000)
    assert len(polls) == stopped, "the status page kept polling after the order was delivered"

    # --- cancelling asks first ------------------------------------------------------------------
    second, _ = place_order(requests.Session(), stack.variant_url(variant).rstrip("/"), unique_name("Cancel me"))
    desk.goto(f"{staff_base}/staff/orders/?q={second}")
    desk.locator(f"tr[data-reference='{second}']").get_by_role("link", name="Cancel…").click()
    desk.wait_for_url(f"**/staff/orders/{second}/cancel/**")
    assert status_of(db, second) == "received"  # the click alone changed nothing
    desk.get_by_role("link", name="No, keep it").click()
    desk.wait_for_url(lambda url: "/cancel/" not in url)
    assert status_of(db, second) == "received"
    desk.locator(f"tr[data-reference='{second}']").get_by_role("link", name="Cancel…").click()
    desk.get_by_role("button", name="Yes, cancel the order").click()
    expect(desk.locator(f"tr[data-reference='{second}'] .status")).to_have_text("Cancelled")
    assert status_of(db, second) == "cancelled"

    # --- log out: a POST button, after which the staff pages ask for a login again -----------------
    desk.get_by_role("button", name="Log out").click()
    desk.wait_for_url(lambda url: "/staff/" not in url)
    desk.goto(f"{staff_base}/staff/orders/")
    assert "/accounts/login/" in desk.url
    staff.close()
    customer.close()


@pytest.mark.parametrize("variant", VARIANTS)
def test_marketing_opens_the_experiment_and_downloads_the_csv(stack, browser, variant):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    base = force_variant(context, stack, variant)
    page = context.new_page()
    log_in(page, base)
    page.get_by_role("link", name="Experiment").click()
    page.wait_for_url("**/staff/experiment/**")
    assert served_by(page) == variant
    shown = {row.get_attribute("data-variant") for row in page.locator(".experiment-table tbody tr").all()}
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {row["variant"] for row in rows} == shown == set(VARIANTS)
    context.close()
