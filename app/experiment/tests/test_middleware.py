"""Exposure rules: the first rendering of a landing page or order form to a human whose cookie comes back."""

import logging
import re

import pytest
from django.db import OperationalError
from django.test import Client
from django.test.utils import override_settings
from waffle.testutils import override_switch

from experiment import assignment, middleware, tokens, tracking
from experiment.models import Assignment, DailyCount
from orders.services import VISITOR_COOKIE

from .factories import BROWSER

pytestmark = pytest.mark.django_db

ABC = {"a": 34, "b": 33, "c": 33}


def beacon_url(response) -> str | None:
    found = re.search(r'data-seen="(/seen/[^"]+)"', response.content.decode())
    return found.group(1) if found else None


def visit(client, path="/"):
    """A browser's page view: the page, then the beacon it carries (with the cookie the page set)."""
    response = client.get(path)
    url = beacon_url(response)
    if url:
        client.get(url)
    return response


def test_landing_page_carries_a_beacon_and_counts_once_the_cookie_returns(browser):
    response = browser.get("/")
    assert Assignment.objects.count() == 0  # the page view itself writes nothing
    assert browser.get(beacon_url(response)).status_code == 204
    assignment_row = Assignment.objects.get()
    assert (assignment_row.visitor_id, assignment_row.variant) == (response.cookies[VISITOR_COOKIE].value, "a")


@override_switch("orders_open", active=True)
def test_the_order_form_is_an_exposure(browser):
    visit(browser, "/order/")
    assert Assignment.objects.count() == 1


def test_a_cookieless_client_never_becomes_a_visitor():
    response = Client(HTTP_USER_AGENT=BROWSER).get("/")
    # Fetching the beacon without the cookie the page set: a client that drops cookies.
    assert Client(HTTP_USER_AGENT=BROWSER).get(beacon_url(response)).status_code == 204
    assert not Assignment.objects.exists()


def test_a_forged_beacon_is_refused_and_records_nothing(browser):
    browser.get("/")
    assert browser.get("/seen/not-a-token").status_code == 400
    assert not Assignment.objects.exists()


def test_a_beacon_cannot_name_another_variant(browser):
    response = browser.get("/")
    token = beacon_url(response).removeprefix("/seen/")
    forged = token.replace(".a:", ".b:", 1)
    assert browser.get(f"/seen/{forged}").status_code == 400


def test_many_views_make_one_visitor(browser):
    for _ in range(3):
        visit(browser)
    assert DailyCount.objects.get().visitors == 1


def test_confirmation_and_status_pages_carry_no_beacon(browser):
    from .factories import make_order

    order = make_order("a")
    for path in (f"/orders/{order.access_token}/confirmed/", f"/orders/{order.access_token}/"):
        response = browser.get(path)
        assert response.status_code == 200 and beacon_url(response) is None


@pytest.mark.parametrize("method", ["head", "post"])
def test_head_and_post_are_not_exposures(browser, method):
    response = getattr(browser, method)("/")
    assert beacon_url(response) is None if method == "head" else response.status_code == 405


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "WhatsApp/2.23.20.0",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (Macintosh) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36 (compatible; Twitterbot/1.0)",
        "python-requests/2.32.3",
        "Go-http-client/1.1",
        "okhttp/4.12.0",
        "Scrapy/2.11 (+https://scrapy.org)",
        "curl/8.5.0",
        "Wget/1.21",
        "Apache-HttpClient/4.5.14 (Java/17)",
        "axios/1.6.0",
        "node-fetch/1.0",
        "kube-probe/1.30",
        "ELB-HealthChecker/2.0",
        "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0",
        "",
    ],
)
def test_bots_scripts_and_unfurlers_get_no_beacon(agent):
    assert beacon_url(Client(HTTP_USER_AGENT=agent).get("/")) is None


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER,
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 9; CUBOT_P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (Linux; Android 13; Robotics Lab Tablet) AppleWebKit/537.36 Chrome/120 Safari/537.36",
    ],
)
def test_phones_and_browsers_are_humans(agent):
    client = Client(HTTP_USER_AGENT=agent)
    visit(client)
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize(
    "header,value",
    [
        ("HTTP_SEC_PURPOSE", "prefetch;prerender"),
        ("HTTP_SEC_PURPOSE", "prefetch"),
        ("HTTP_PURPOSE", "prefetch"),
        ("HTTP_X_MOZ", "prefetch"),
    ],
)
def test_a_prefetched_beacon_records_nothing(browser, header, value):
    response = browser.get("/", **{header: value})
    # The page's script (static/experiment/seen.js, no inline code under the CSP) defers the beacon until
    # shown (document.prerendering); a beacon sent while prefetching is ignored.
    assert 'src="/static/experiment/seen.js" data-seen="/seen/' in response.content.decode()
    browser.get(beacon_url(response), **{header: value})
    assert not Assignment.objects.exists()
    browser.get(beacon_url(response))
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/menu", "/staff/orders/", "/accounts/login/"])
def test_non_customer_pages_get_no_cookie(browser, path):
    assert VISITOR_COOKIE not in browser.get(path).cookies


def test_staff_browsing_the_shop_are_not_exposed(staff_client):
    response = staff_client.get("/")
    assert beacon_url(response) is None
    staff_client.get(tokens.seen_token(response.cookies[VISITOR_COOKIE].value, "a").join(["/seen/", ""]))
    assert not Assignment.objects.exists()


@override_settings(RECORD_EXPOSURES=False)
def test_record_exposures_off_records_nothing(browser):
    response = browser.get("/")
    assert VISITOR_COOKIE in response.cookies and beacon_url(response) is None


@pytest.mark.parametrize("variant", ["a", "b", "c"])
def test_a_new_visitor_gets_an_id_that_hashes_to_the_variant_serving_them(browser, variant):
    with override_settings(VARIANT=variant):
        response = browser.get("/")
    visitor = response.cookies[VISITOR_COOKIE].value
    assert assignment.assigned_variant(visitor, ABC) == variant
    assert response.cookies[middleware.ROUTE_COOKIE].value == variant


def test_a_visitor_seen_on_a_second_variant_stays_with_the_first_and_is_a_crossover(browser):
    visit(browser)
    with override_settings(VARIANT="b"):
        visit(browser)
        visit(browser)
    row = Assignment.objects.get()
    assert (row.variant, row.crossed) == ("a", True)
    assert DailyCount.objects.get().crossovers == 1


def test_database_error_does_not_break_the_beacon(browser, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(tracking, "record_exposure", broken)
    response = browser.get("/")
    with caplog.at_level(logging.WARNING, logger="pizza.experiment"):
        assert browser.get(beacon_url(response)).status_code == 204
    assert "exposure not recorded" in caplog.text
    assert len(middleware.seen) == 0  # not remembered: the next view tries again


def test_seen_is_bounded():
    seen = middleware.Seen(maxsize=3)
    for key in range(5):
        seen.add(key)
    assert len(seen) == 3
    assert 0 not in seen and 4 in seen
