"""The visitor cookie and the exposure log."""

import logging
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from experiment import middleware
from experiment.models import Exposure
from orders.services import VISITOR_COOKIE

from .factories import BROWSER

pytestmark = pytest.mark.django_db


def inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if "experiment_exposure" in q["sql"]]


def test_first_visit_sets_the_visitor_cookie(browser):
    response = browser.get("/")
    cookie = response.cookies[VISITOR_COOKIE]
    assert middleware.VISITOR_ID.match(cookie.value)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert not cookie["secure"]


def test_cookie_is_secure_over_https(browser):
    assert browser.get("/", secure=True).cookies[VISITOR_COOKIE]["secure"] is True


def test_first_visit_is_counted_under_the_new_id(browser):
    visitor = browser.get("/").cookies[VISITOR_COOKIE].value
    exposure = Exposure.objects.get()
    assert (exposure.visitor_id, exposure.variant, exposure.day) == (visitor, "a", timezone.localdate())


def test_returning_visitor_keeps_the_cookie(browser):
    browser.get("/")
    assert VISITOR_COOKIE not in browser.get("/").cookies


def test_malformed_cookie_is_replaced(browser):
    browser.cookies[VISITOR_COOKIE] = "not-a-visitor-id"
    response = browser.get("/")
    assert middleware.VISITOR_ID.match(response.cookies[VISITOR_COOKIE].value)
    assert Exposure.objects.get().visitor_id == response.cookies[VISITOR_COOKIE].value


def test_many_views_make_one_exposure(browser):
    for path in ["/", "/order/", "/", "/", "/order/"]:
        assert browser.get(path).status_code == 200
    assert Exposure.objects.count() == 1


def test_repeated_views_cost_no_query(browser):
    browser.get("/")
    with CaptureQueriesContext(connection) as queries:
        browser.get("/")
        browser.get("/order/")
    assert inserts(queries) == []


def test_first_view_costs_one_insert(browser):
    with CaptureQueriesContext(connection) as queries:
        browser.get("/")
    sql = inserts(queries)
    assert len(sql) == 1
    assert "ON CONFLICT DO NOTHING" in sql[0]


def test_a_second_process_does_not_duplicate(browser):
    browser.get("/")
    middleware.seen.clear()  # what another gunicorn worker knows: nothing
    browser.get("/")
    assert Exposure.objects.count() == 1


def test_a_new_day_is_a_new_exposure():
    visitor = "ab" * 16
    now = timezone.now()
    assert middleware.record_exposure(visitor, "a", now)
    assert not middleware.record_exposure(visitor, "a", now)
    assert middleware.record_exposure(visitor, "a", now + timedelta(days=1))
    assert Exposure.objects.filter(visitor_id=visitor).count() == 2


def test_each_variant_is_its_own_exposure(browser):
    browser.get("/")
    with override_settings(VARIANT="b"):
        browser.get("/")
    assert sorted(Exposure.objects.values_list("variant", flat=True)) == ["a", "b"]


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0)",
    "Baiduspider", "Yahoo! Slurp", "curl/8.5.0", "Wget/1.21", "kube-probe/1.30", "ELB-HealthChecker/2.0",
    "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0", "",
])
def test_bots_and_scripts_are_not_counted(agent):
    response = Client(HTTP_USER_AGENT=agent).get("/")
    assert response.status_code == 200
    assert not Exposure.objects.exists()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/v1/menu", "/staff/orders/", "/accounts/login/", "/static/css/base.css"])
def test_probes_and_non_customer_pages_are_not_counted(browser, path):
    response = browser.get(path)
    assert VISITOR_COOKIE not in response.cookies
    assert not Exposure.objects.exists()


def test_posts_are_not_counted(browser):
    browser.post("/order/", {})
    assert not Exposure.objects.exists()


def test_missing_pages_are_not_counted(browser):
    assert browser.get("/no-such-page/").status_code == 404
    assert not Exposure.objects.exists()


def test_staff_browsing_the_shop_are_not_counted(staff_client):
    staff_client.get("/")
    assert not Exposure.objects.exists()


@override_settings(RECORD_EXPOSURES=False)
def test_record_exposures_off_records_nothing(browser):
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/")
    assert response.status_code == 200
    assert VISITOR_COOKIE in response.cookies  # the cookie still marks orders with their visitor
    assert inserts(queries) == []
    assert not Exposure.objects.exists()


def test_database_error_does_not_break_the_page(browser, monkeypatch, caplog):
    def broken(params):
        raise OperationalError("the database went away")

    monkeypatch.setattr(middleware, "_execute", broken)
    with caplog.at_level(logging.WARNING, logger="pizza.experiment"):
        response = browser.get("/")
    assert response.status_code == 200
    assert VISITOR_COOKIE in response.cookies
    assert "exposure not recorded" in caplog.text
    assert len(middleware.seen) == 0  # not remembered: the next view tries again


def test_failed_insert_inside_a_transaction_leaves_it_usable(monkeypatch):
    # A duplicate primary key makes the INSERT itself fail in the database; the savepoint contains it.
    existing = Exposure.objects.create(day=timezone.localdate(), visitor_id="cd" * 16, variant="a")
    monkeypatch.setattr(middleware, "_insert_sql", lambda: "INSERT INTO experiment_exposure (id, day, visitor_id, variant, first_seen) "
                        f"VALUES ({existing.pk}, %s, %s, %s, %s)")
    assert middleware.record_exposure("ef" * 16, "a") is False
    assert Exposure.objects.count() == 1


def test_seen_is_bounded():
    seen = middleware.SeenToday(maxsize=3)
    for key in range(5):
        seen.add(key)
    assert len(seen) == 3
    assert 0 not in seen and 4 in seen


def test_seen_keeps_recently_used_keys():
    seen = middleware.SeenToday(maxsize=2)
    seen.add("old")
    seen.add("new")
    assert "old" in seen  # touched: now the most recent
    seen.add("newest")
    assert "old" in seen and "new" not in seen


def test_browser_user_agent_is_not_a_bot(rf):
    assert not middleware.is_bot(rf.get("/", HTTP_USER_AGENT=BROWSER))
