"""The numbers of the Experiment page, from seeded exposures and orders."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy import stats as sp

from experiment.report import MIN_ORDERS, MIN_VISITORS, build_report, default_period
from orders.models import Status

from .factories import add_exposures, make_order, make_orders, variant_set

pytestmark = pytest.mark.django_db

ABC = variant_set(a=34, b=33, c=33)


def report(vs=ABC, control=None, days=14):
    today = timezone.localdate()
    return build_report(vs, today - timedelta(days=days - 1), today, control)


def row(result, name):
    return next(r for r in result.rows if r.name == name)


def test_default_period_is_the_last_14_days():
    today = timezone.localdate()
    assert default_period(today) == (today - timedelta(days=13), today)


def test_visitors_are_distinct_per_variant_over_the_range():
    today = timezone.localdate()
    visitors = add_exposures("a", 3, day=today)
    add_exposures("a", 0, day=today - timedelta(days=1), visitors=visitors[:2])  # returning visitors
    add_exposures("b", 2, day=today)
    result = report()
    assert (row(result, "a").visitors, row(result, "b").visitors, row(result, "c").visitors) == (3, 2, 0)


def test_exposures_outside_the_range_are_ignored():
    add_exposures("a", 4, day=timezone.localdate() - timedelta(days=20))
    assert row(report(), "a").visitors == 0


def test_orders_conversion_and_revenue():
    visitors = add_exposures("a", 10)
    make_order("a", visitors[0], "12.50")
    make_order("a", visitors[0], "7.50")  # a second order: two orders, one converting visitor
    make_order("a", visitors[1], "20.00")
    a = row(report(), "a")
    assert (a.orders, a.converters, a.revenue) == (3, 2, Decimal("40.00"))
    assert a.rate == pytest.approx(0.2)
    assert a.revenue_per_visitor == Decimal("4.0000")


def test_cancelled_orders_do_not_count():
    visitors = add_exposures("a", 5)
    make_order("a", visitors[0], status=Status.CANCELLED)
    assert row(report(), "a").orders == 0


def test_orders_outside_the_range_do_not_count():
    visitors = add_exposures("a", 5)
    make_order("a", visitors[0], day=timezone.localdate() - timedelta(days=30))
    assert row(report(), "a").orders == 0


def test_orders_without_an_exposure_are_unattributed():
    add_exposures("a", 5)
    make_order("a", "")  # no cookie (the JSON API)
    make_order("a", "f" * 32)  # a cookie never recorded on this variant
    a = row(report(), "a")
    assert (a.orders, a.unattributed_orders) == (0, 2)


def test_order_counts_on_the_variant_that_served_it():
    visitor = add_exposures("a", 1)[0]
    add_exposures("b", 0, visitors=[visitor])
    make_order("b", visitor)
    result = report()
    assert (row(result, "a").orders, row(result, "b").orders) == (0, 1)


def test_comparison_with_the_control_matches_scipy():
    a_visitors = add_exposures("a", 200)
    b_visitors = add_exposures("b", 220)
    make_orders("a", a_visitors[:10])
    make_orders("b", b_visitors[:30])
    _chi2, p, _dof, _exp = sp.chi2_contingency([[10, 190], [30, 190]], correction=False)
    b = row(report(), "b")
    assert b.p_value == pytest.approx(p, rel=1e-9)
    assert b.diff_pp == pytest.approx((30 / 220 - 10 / 200) * 100)
    assert b.significant


def test_the_control_can_be_chosen():
    add_exposures("a", 10)
    add_exposures("b", 10)
    result = report(control="b")
    assert result.control == "b"
    assert row(result, "b").comparison is None and row(result, "a").comparison is not None


def test_unknown_control_falls_back_to_the_schema_owner():
    assert report(control="z").control == "a"


def test_zero_visitors():
    result = report()
    assert result.total_visitors == 0
    assert all(r.rate is None and r.interval is None and r.comparison is None for r in result.rows)
    assert result.winner is None and not result.enough_data
    assert result.verdict.startswith("Not enough data yet")
    assert not result.split.flagged and result.split.result is None


def test_zero_orders():
    for name in "abc":
        add_exposures(name, 150)
    result = report()
    b = row(result, "b")
    assert (b.rate, b.interval[0], b.p_value) == (0.0, 0.0, 1.0)
    assert result.winner is None and result.verdict.startswith("Not enough data yet")


def test_one_variant_only():
    add_exposures("a", 500)
    result = report(variant_set(a=100))
    assert result.verdict == "Only one variant is in the split: there is nothing to compare."
    assert result.split.result is None and not result.split.flagged
    assert row(result, "a").comparison is None


def test_not_enough_data_names_no_winner():
    a_visitors = add_exposures("a", MIN_VISITORS)
    b_visitors = add_exposures("b", MIN_VISITORS - 1)
    c_visitors = add_exposures("c", MIN_VISITORS)
    make_orders("a", a_visitors[:MIN_ORDERS])
    make_orders("b", b_visitors[:60])
    make_orders("c", c_visitors[:MIN_ORDERS])
    result = report()
    assert result.winner is None
    assert "Still short: B (99 visitors, 60 orders)" in result.verdict


def test_a_significant_winner_is_named():
    for name, orders in [("a", 20), ("b", 60), ("c", 22)]:
        visitors = add_exposures(name, 400)
        make_orders(name, visitors[:orders])
    result = report()
    assert result.winner == "b"
    assert result.verdict.startswith("B converts best: 15.00 % against 5.00 % for the control A")


def test_a_leader_without_significance_is_not_a_winner():
    for name, orders in [("a", 20), ("b", 24), ("c", 21)]:
        visitors = add_exposures(name, 400)
        make_orders(name, visitors[:orders])
    result = report()
    assert result.winner is None
    assert result.verdict.startswith("B converts best so far, but its difference from the control A is not significant")


def test_a_fair_split_is_not_flagged():
    for name, n in [("a", 340), ("b", 335), ("c", 325)]:
        add_exposures(name, n)
    split = report().split
    assert split.result.p_value == pytest.approx(sp.chisquare([340, 335, 325], [340, 330, 330]).pvalue, rel=1e-9)
    assert not split.flagged


def test_a_skewed_split_is_flagged():
    for name, n in [("a", 420), ("b", 300), ("c", 280)]:
        add_exposures(name, n)
    result = report()
    assert result.split.result.p_value < 0.001
    assert result.split.flagged
    assert result.split.message.startswith("Sample ratio mismatch")


def test_srm_blocks_the_winner():
    for name, n, orders in [("a", 600, 30), ("b", 300, 60), ("c", 300, 15)]:
        visitors = add_exposures(name, n)
        make_orders(name, visitors[:orders])
    result = report()
    assert result.split.flagged and result.winner is None
    assert result.verdict.startswith("No winner: the split itself is unhealthy")


def test_weights_come_from_the_variant_set():
    for name, n in [("a", 500), ("b", 250), ("c", 250)]:
        add_exposures(name, n)
    assert report(variant_set(a=50, b=25, c=25)).split.flagged is False
    assert report(variant_set(a=34, b=33, c=33)).split.flagged is True


def test_weight_zero_variant_expects_nothing():
    for name, n in [("a", 300), ("b", 300)]:
        add_exposures(name, n)
    result = report(variant_set(a=50, b=50, c=0))
    assert result.split.result.df == 1 and not result.split.flagged
    assert row(result, "c").expected_share == 0.0


def test_weight_zero_variant_with_visitors_is_flagged():
    for name, n in [("a", 300), ("b", 300), ("c", 3)]:
        add_exposures(name, n)
    split = report(variant_set(a=50, b=50, c=0)).split
    assert split.flagged and split.unexpected == [("c", 3)]


def test_unconfigured_variant_is_shown_and_flagged():
    add_exposures("a", 10)
    add_exposures("d", 2)
    result = report()
    d = row(result, "d")
    assert (d.configured, d.visitors, d.expected_share) == (False, 2, None)
    assert result.split.flagged


def test_too_few_visitors_to_judge_the_split():
    add_exposures("a", 6)
    split = report().split
    assert not split.flagged and split.message.startswith("Too few visitors")


def test_multi_variant_visitors_are_counted():
    today = timezone.localdate()
    switchers = add_exposures("a", 3, day=today)
    add_exposures("b", 0, day=today, visitors=switchers[:2])  # same day: stickiness broken
    add_exposures("c", 0, day=today - timedelta(days=3), visitors=switchers[2:])  # on another day
    add_exposures("a", 0, day=today - timedelta(days=1), visitors=switchers[:1])  # the same variant again: not a switch
    add_exposures("b", 5)
    result = report()
    assert (result.multi_variant_visitors, result.same_day_multi_variant_visitors) == (3, 2)
    assert result.stickiness_broken


def test_no_multi_variant_visitors():
    add_exposures("a", 5)
    add_exposures("b", 5)
    result = report()
    assert (result.multi_variant_visitors, result.same_day_multi_variant_visitors) == (0, 0)
    assert not result.stickiness_broken


def test_query_count_does_not_grow_with_data():
    with CaptureQueriesContext(connection) as empty:
        report()
    for name in "abc":
        visitors = add_exposures(name, 50)
        make_orders(name, visitors[:5])
    with CaptureQueriesContext(connection) as seeded:
        report()
    assert len(seeded) == len(empty) == 5
