"""The staff Experiment page and its CSV, on every variant and theme."""

import csv
import html as html_lib
import io
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from config.variants import THEMES

from .factories import add_exposures, bulk_visitors, make_orders, variant_set

pytestmark = pytest.mark.django_db

URL = "/staff/experiment/"


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """400 visitors each; 20, 60 and 22 orders of 10.00: B converts best, significantly. Seeded once for
    the class that reads it, in a transaction of its own that each test's nests in; rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        for name, orders in [("a", 20), ("b", 60), ("c", 22)]:
            visitors = bulk_visitors(name, 400)
            make_orders(name, visitors[:orders])
        yield
        transaction.set_rollback(True)


def row_html(html: str, name: str) -> str:
    return re.search(rf'<tr data-variant="{name}">(.*?)</tr>', html, re.S).group(1)


def cell(html: str, name: str, css: str) -> str:
    text = re.search(rf'<td class="[^"]*\b{css}\b[^"]*">(.*?)</td>', row_html(html, name), re.S).group(1)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip())


def test_url_is_under_staff():
    assert reverse("experiment:report") == URL


def test_anonymous_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_non_staff_is_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("customer", password="pw-customer-123"))
    assert client.get(URL).status_code == 403


def test_page_says_not_enough_data(staff_client):
    add_exposures("a", 20)
    html = staff_client.get(URL).content.decode()
    assert "No winner yet" in html and "Keep collecting" in html
    assert 'data-winner=""' in html


def test_page_flags_a_skewed_split(staff_client):
    for name, n in [("a", 420), ("b", 300), ("c", 280)]:
        bulk_visitors(name, n)
    assert "Sample ratio mismatch" in staff_client.get(URL).content.decode()


def test_page_shows_crossovers(staff_client):
    switchers = add_exposures("a", 2)
    add_exposures("c", 0, visitors=switchers)
    html = staff_client.get(URL).content.decode()
    assert re.search(r'class="crossovers">2<', html)
    assert "assignment is leaking" in html


def test_empty_page_renders(staff_client):
    html = staff_client.get(URL).content.decode()
    assert "No visitors in this range yet." in html


def test_date_range_parameters(staff_client):
    old = timezone.localdate() - timedelta(days=30)
    add_exposures("a", 7, day=old)
    html = staff_client.get(URL, {"date_from": str(old), "date_to": str(old)}).content.decode()
    assert cell(html, "a", "visitors").startswith("7 ")
    # The default range starts on the experiment's first day.
    assert cell(staff_client.get(URL).content.decode(), "a", "visitors").startswith("7 ")


def test_bad_parameters_fall_back_to_the_defaults(staff_client):
    response = staff_client.get(URL, {"date_from": "2026-05-02", "date_to": "2026-05-01", "control": "zz"})
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()


def test_csv_with_zero_visitors(staff_client):
    rows = list(csv.DictReader(io.StringIO(staff_client.get(URL, {"format": "csv"}).content.decode())))
    assert [(r["visitors"], r["conversion_pct"], r["p_value_always_valid_holm"]) for r in rows] == [("0", "", "")] * 3


def test_one_ordering_visitor_per_variant_shows_unbounded_intervals_not_a_500(staff_client):
    """The first morning of an experiment: each design has one visitor, who ordered. One visitor's
    revenue has no variance, so the revenue comparison bounds nothing; the page says so (it used to
    overflow math.exp and answer 500)."""
    for name in ("a", "b", "c"):
        make_orders(name, add_exposures(name, 1), total="9.50")
    response = staff_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert cell(html, "b", "rpv-diff") == "+€0.00 (−∞ to ∞; 0.0 %)"
    assert cell(html, "b", "visitors").startswith("1 ")
    rows = list(csv.DictReader(io.StringIO(staff_client.get(URL, {"format": "csv"}).content.decode())))
    b = rows[1]
    assert (b["rpv_diff_always_valid_low"], b["rpv_diff_always_valid_high"]) == ("-inf", "inf")
    assert float(b["p_value_always_valid_holm"]) == pytest.approx(1.0)


def test_weights_come_from_settings(staff_client):
    with override_settings(VARIANT_SET=variant_set(a=50, b=50)):
        html = staff_client.get(URL).content.decode()
    assert 'data-variant="c"' not in html
    assert cell(html, "b", "weight").startswith("50 (50.0 %)")


def test_staff_nav_links_to_the_page(staff_client):
    assert f'href="{URL}"' in staff_client.get("/").content.decode()


@pytest.mark.usefixtures("seeded")
class TestTheSeededExperiment:
    """The page and its CSV over one experiment that B wins (the `seeded` data, which they only read)."""

    def test_staff_sees_the_numbers(self, staff_client):
        html = staff_client.get(URL).content.decode()
        assert cell(html, "a", "visitors") == "400 (33.3 %)"
        assert cell(html, "b", "orders") == "60 (60 visitors)"
        assert cell(html, "b", "conversion") == "15.00 % (11.83–18.83)"
        assert cell(html, "b", "rpv").startswith("€1.50 (")
        assert cell(html, "b", "diff").startswith("+10.00 pp")
        assert cell(html, "b", "lift").startswith("+200.0 %")
        assert float(cell(html, "b", "p-value")) < 0.05  # always-valid and Holm-adjusted: far above the naive 1e-6
        assert cell(html, "b", "significant") == "yes"
        assert cell(html, "c", "significant") == "no"
        assert cell(html, "a", "diff") == "control"

    def test_page_names_the_winner_and_the_split(self, staff_client):
        html = staff_client.get(URL).content.decode()
        assert 'data-winner="b"' in html
        assert "B converts best" in html
        assert "No sample ratio mismatch" in html
        assert "at least 100 visitors and 10 ordering visitors" in html

    def test_page_draws_the_charts(self, staff_client):
        html = staff_client.get(URL).content.decode()
        assert html.count('<g class="variant-bar">') == 3
        assert '<svg class="split-chart"' in html

    def test_control_parameter(self, staff_client):
        html = staff_client.get(URL, {"control": "b"}).content.decode()
        assert cell(html, "b", "diff") == "control"
        assert cell(html, "a", "diff").startswith("-10.00 pp")

    def test_csv_has_the_same_table(self, staff_client):
        response = staff_client.get(URL, {"format": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [r["variant"] for r in rows] == ["a", "b", "c"]
        b = rows[1]
        assert (b["visitors"], b["orders"], b["converting_visitors"], b["revenue_capped"]) == ("400", "60", "60", "600.00")
        assert (b["conversion_pct"], b["diff_vs_control_pp"], b["significant"], b["control"]) == ("15.0000", "10.0000", "yes", "no")
        assert float(b["ci_low_pct"]) == pytest.approx(11.8345, abs=1e-4)
        assert float(b["p_value_always_valid_holm"]) < 0.05
        assert float(b["diff_always_valid_low_pp"]) < float(b["diff_newcombe_low_pp"]) < 10 < float(b["diff_newcombe_high_pp"])
        assert rows[0]["control"] == "yes" and rows[0]["p_value_always_valid_holm"] == ""

    @pytest.mark.parametrize("theme", THEMES)
    @pytest.mark.parametrize("variant", ["a", "b", "c"])
    def test_page_works_under_every_theme_and_variant(self, staff_client, use_theme, theme, variant):
        with use_theme(theme, VARIANT=variant):
            response = staff_client.get(URL)
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-theme="{theme}"' in html and f'data-variant="{variant}"' in html
        assert 'data-winner="b"' in html
        assert cell(html, "b", "conversion").startswith("15.00 %")
