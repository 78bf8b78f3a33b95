"""The numbers of the Experiment page, from visitors and orders written through the real write path."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from scipy import stats as sp

from experiment import intervals, sequential
from experiment.report import build_report, default_period
from orders.models import Status

from .factories import add_exposures, make_order, make_orders, seed_counts, variant_set

pytestmark = pytest.mark.django_db

ABC = variant_set(a=34, b=33, c=33)


def report(vs=ABC, control=None, days=14):
    today = timezone.localdate()
    return build_report(vs, today - timedelta(days=days - 1), today, control)


def row(result, name):
    return next(r for r in result.rows if r.name == name)


def test_default_period_starts_on_the_experiments_first_day():
    today = timezone.localdate()
    assert default_period(today) == (today, today)
    add_exposures("a", 1, day=today - timedelta(days=5))
    assert default_period(today) == (today - timedelta(days=5), today)


def test_visitors_are_counted_once_on_their_first_variant():
    today = timezone.localdate()
    visitors = add_exposures("a", 3, day=today - timedelta(days=1))
    add_exposures("a", 0, day=today, visitors=visitors[:2])  # returning visitors
    add_exposures("b", 0, day=today, visitors=visitors[:1])  # a crossover stays on A
    add_exposures("b", 2, day=today)
    result = report()
    assert (row(result, "a").visitors, row(result, "b").visitors, row(result, "c").visitors) == (3, 2, 0)
    assert (row(result, "a").crossovers, result.crossovers) == (1, 1)


def test_cohorts_outside_the_range_are_ignored():
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
    assert a.revenue_per_visitor == pytest.approx(4.0)


def test_revenue_is_capped_per_order_and_its_interval_is_welch_on_the_visitors():
    visitors = add_exposures("a", 8)
    totals = {0: ["12.50", "30.00"], 1: ["400.00"], 2: ["25.00"]}  # 400 is capped at 150
    for index, amounts in totals.items():
        for amount in amounts:
            make_order("a", visitors[index], amount)
    per_visitor = [42.5, 150.0, 25.0] + [0.0] * 5
    a = row(report(), "a")
    assert a.revenue == Decimal("217.50")
    sem = sp.sem(per_visitor)
    assert a.rpv_interval == pytest.approx(
        (np.mean(per_visitor) - intervals.Z95 * sem, np.mean(per_visitor) + intervals.Z95 * sem), rel=1e-9
    )


def test_orders_before_the_first_exposure_or_without_one_are_unattributed():
    visitor = add_exposures("a", 1)[0]
    make_order("a", visitor, day=timezone.localdate() - timedelta(days=3))  # before the visitor was exposed
    make_order("b", "")  # no cookie
    result = report()
    assert (row(result, "a").orders, row(result, "a").unattributed_orders, row(result, "b").unattributed_orders) == (0, 1, 1)


def test_an_order_is_credited_to_the_visitors_first_variant():
    visitor = add_exposures("a", 1)[0]
    add_exposures("b", 0, visitors=[visitor])
    make_order("b", visitor)  # the order form was shown by B, later
    result = report()
    assert (row(result, "a").orders, row(result, "b").orders) == (1, 0)


def test_api_orders_are_not_counted():
    visitor = add_exposures("a", 1)[0]
    make_order("a", visitor, channel="api")
    assert row(report(), "a").orders == 0


def test_cancellation_is_not_subtracted():
    visitor = add_exposures("a", 1)[0]
    make_order("a", visitor, status=Status.CANCELLED)
    assert row(report(), "a").orders == 1


def test_comparison_with_the_control_matches_statsmodels_and_the_decision():
    from statsmodels.stats.proportion import confint_proportions_2indep

    seed_counts("a", 2000, 100)
    seed_counts("b", 2000, 140)
    b = row(report(), "b")
    low, high = confint_proportions_2indep(140, 2000, 100, 2000, method="newcomb", compare="diff")
    assert b.newcombe == pytest.approx((low, high), abs=1e-12)
    arms = [sequential.Arm(2000, 100, 0.0, 0.0), sequential.Arm(2000, 140, 0.0, 0.0), sequential.Arm(0, 0, 0.0, 0.0)]
    expected = sequential.decide(arms, 0.10).test(0, 1, "conversion")
    assert b.p_value == pytest.approx(expected.adjusted_p)
    assert b.diff_pp == pytest.approx(2.0)


def test_zero_visitors():
    result = report()
    assert result.total_visitors == 0 and result.winner is None
    assert all(r.rate is None and r.interval is None for r in result.rows)


def test_zero_orders_everywhere_is_no_difference():
    for name in "abc":
        seed_counts(name, 500)
    result = report()
    assert result.winner is None
    assert row(result, "b").p_value == pytest.approx(1.0)


def test_one_variant_only():
    seed_counts("a", 500, 50)
    result = report(variant_set(a=100))
    assert result.winner is None and "nothing to compare" in result.verdict


def test_not_enough_data_names_no_winner_even_when_the_difference_is_large():
    seed_counts("a", 60, 0)
    seed_counts("b", 60, 30)
    seed_counts("c", 60, 0)
    result = report()
    assert result.winner is None and not result.enough_data


def test_a_variant_better_than_every_other_is_named():
    seed_counts("a", 20000, 1000, 25000.0, 1.0e6)
    seed_counts("b", 20000, 1400, 35000.0, 1.4e6)
    seed_counts("c", 20000, 1000, 25000.0, 1.0e6)
    result = report()
    assert (result.winner, result.winner_metric) == ("b", "conversion")
    assert row(result, "b").significant


def test_two_variants_tied_above_the_control_name_no_winner():
    seed_counts("a", 20000, 1000)
    seed_counts("b", 20000, 1400)
    seed_counts("c", 20000, 1395)
    result = report()
    assert row(result, "b").significant and row(result, "c").significant
    assert result.winner is None and "No winner yet" in result.verdict


def test_no_difference_says_how_many_more_days():
    today = timezone.localdate()
    for day in range(3):
        for name in "abc":
            seed_counts(name, 1000, 50, day=today - timedelta(days=day))
    result = build_report(ABC, today - timedelta(days=2), today)
    assert result.winner is None
    # 1000 visitors a variant a day; the plan needs result.plan.needed_visitors in all.
    assert result.plan.days_left == -(-(result.plan.needed_visitors - 9000) // 3000)
    assert f"about {result.plan.days_left} more days" in result.verdict


def test_srm_blocks_the_winner():
    seed_counts("a", 20000, 1000)
    seed_counts("b", 26000, 1800)
    seed_counts("c", 20000, 1000)
    result = report()
    assert result.split.flagged and result.winner is None


def test_a_fair_split_is_not_flagged():
    for name, n in [("a", 3400), ("b", 3300), ("c", 3300)]:
        seed_counts(name, n)
    assert not report().split.flagged


def test_weight_zero_variant_with_visitors_is_flagged():
    seed_counts("a", 500)
    seed_counts("c", 5)
    result = report(variant_set(a=50, b=50, c=0))
    assert result.split.flagged and ("c", 5) in result.split.unexpected


def test_unconfigured_variant_is_shown_and_flagged():
    seed_counts("a", 500)
    seed_counts("e", 7)
    result = report()
    e = row(result, "e")
    assert not e.configured and e.visitors == 7 and result.split.flagged


def test_unknown_control_falls_back_to_the_schema_owner():
    assert report(control="z").control == "a"


def test_the_control_can_be_chosen():
    seed_counts("a", 2000, 100)
    seed_counts("b", 2000, 140)
    result = report(control="b")
    assert row(result, "b").is_control and row(result, "a").diff_pp == pytest.approx(-2.0)


@override_settings(EXPERIMENT_REVENUE_CAP=Decimal("20.00"))
def test_the_cap_comes_from_settings():
    visitor = add_exposures("a", 1)[0]
    make_order("a", visitor, "35.00")
    assert row(report(), "a").revenue == Decimal("20.00")


def test_query_count_does_not_grow_with_data():
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report()
        return len(captured)

    seed_counts("a", 10)
    small = queries()
    for day in range(14):
        for name in "abc":
            seed_counts(name, 100000, 5000, day=timezone.localdate() - timedelta(days=day))
    make_orders("a", add_exposures("a", 20))
    assert queries() == small
