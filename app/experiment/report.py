"""The numbers behind the Experiment page, read from the daily counters only.

Definitions (the same on the page, in the CSV and in the tests; docs/experiment.md says them in words):

- visitors: visitors whose first exposure (landing page or order form shown to a human, cookie
  returned) fell in the range, credited to the variant that showed it, for good.
- crossovers: of those, visitors later seen on another variant; they stay with their first variant.
- orders, converting visitors, revenue: web orders of those visitors placed after their first
  exposure (whenever placed), revenue capped per order at EXPERIMENT_REVENUE_CAP. A later
  cancellation is not subtracted: the design did persuade the customer to order.
- unattributed: web orders in the range with no earlier exposure of their visitor (cookies blocked,
  no beacon), on the variant that took them; not in any rate.

All queries live in this module (a database router may send them to a replica). They read
DailyCount rows of the range: at most days x variants x shards rows, whatever the traffic.
What the page shows of the numbers (rows, split check, plan) is in experiment.figures.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Min, Sum
from django.utils import timezone

from config.variants import VariantSet

from . import intervals, sequential
from .figures import ALPHA, MIN_ORDERS, MIN_VISITORS, SRM_ALPHA, Plan, Report, SplitCheck, VariantRow, p_phrase
from .models import DailyCount

SRM_MIN_EXPECTED = 5  # below this many expected visitors in a cell the chi-square test is not trusted
DEFAULT_BASELINE = 0.05  # the conversion rate planned for until the control has data
MAX_DAYS = 366


def first_day() -> date | None:
    """The first cohort day with any exposure: where the experiment's analysis starts by default."""
    return DailyCount.objects.aggregate(first=Min("day"))["first"]


def default_period(today: date | None = None) -> tuple[date, date]:
    """From the experiment's first day (at most MAX_DAYS back) to today."""
    today = today or timezone.localdate()
    start = first_day() or today
    return max(start, today - timedelta(days=MAX_DAYS - 1)), today


def default_control(variant_set: VariantSet) -> str:
    return variant_set.schema_owner if variant_set.schema_owner in variant_set.variants else next(iter(variant_set.variants))


def counts_by_variant(date_from: date, date_to: date) -> dict[str, dict]:
    """Every counter summed per variant over the range's cohort days."""
    rows = (
        DailyCount.objects.filter(day__gte=date_from, day__lte=date_to)
        .values("variant")
        .annotate(**{c: Sum(c) for c in ("visitors", "converters", "orders", "revenue", "revenue_sq", "crossovers", "unattributed")})
        .order_by()
    )
    return {row["variant"]: row for row in rows}


# --- Analysis --------------------------------------------------------------------------------


def check_split(rows: list[VariantRow]) -> SplitCheck:
    unexpected = [(row.name, row.visitors) for row in rows if not row.active and row.visitors]
    cells = [row for row in rows if row.active]
    result = intervals.chi_square_goodness_of_fit([r.visitors for r in cells], [r.weight for r in cells]) if len(cells) >= 2 else None
    if unexpected:
        names = ", ".join(f"{name.upper()} ({n})" for name, n in unexpected)
        message = f"Visitors reached variants that should get none (weight 0 or not in variants.yaml): {names}."
        return SplitCheck(result, True, message, unexpected)
    if len(cells) < 2:
        return SplitCheck(None, False, "Only one variant gets traffic: there is no split to check.")
    if result is None:
        return SplitCheck(None, False, "No visitors yet: the split cannot be checked.")
    if min(result.expected) < SRM_MIN_EXPECTED:
        return SplitCheck(result, False, f"Too few visitors to check the split (each variant should expect at least {SRM_MIN_EXPECTED}).")
    if result.p_value < SRM_ALPHA:
        return SplitCheck(
            result,
            True,
            f"Sample ratio mismatch: the visitors are not split as the weights say ({p_phrase(result.p_value)}, flagged below {SRM_ALPHA}). Fix the split before trusting any difference.",
        )
    return SplitCheck(result, False, f"No sample ratio mismatch: the split is consistent with the weights ({p_phrase(result.p_value)}).")


def make_plan(arms: list[VariantRow], control: VariantRow, family_size: int, days_observed: int) -> Plan:
    mde = settings.EXPERIMENT_MDE
    baseline = control.rate if control.enough_data and control.rate else DEFAULT_BASELINE
    total_weight = sum(row.weight for row in arms) or 1
    smallest_other = min((row.weight for row in arms if row is not control), default=0) / total_weight
    # Bonferroni's alpha / family: Holm's first step, so the plan is never optimistic.
    needed = sequential.visitors_needed(baseline, mde, control.weight / total_weight, smallest_other, ALPHA / max(1, family_size))
    visitors = sum(row.visitors for row in arms)
    daily = visitors / max(1, days_observed)
    days_left = None
    if needed is not None and daily > 0:
        days_left = max(0, -(-(needed - visitors) // int(max(1, round(daily)))))
    return Plan(mde, sequential.POWER, baseline, needed, daily, days_left)


def _verdict(
    arms: list[VariantRow], control: VariantRow, split: SplitCheck, decision: sequential.Decision | None, plan: Plan
) -> tuple[str | None, str | None, str]:
    """(winner or None, the metric it wins on, what marketing may conclude today, in one or two sentences)."""
    if len(arms) < 2:
        return None, None, "Only one variant is in the split: there is nothing to compare."
    keep_going = (
        f"Keep collecting: about {plan.days_left} more day{'s' if plan.days_left != 1 else ''} at this traffic "
        f"to detect a {plan.mde_pct:.0f} % lift with {plan.power:.0%} power."
        if plan.days_left
        else f"Keep collecting: the planned horizon to detect a {plan.mde_pct:.0f} % lift is reached, so the designs most likely "
        "differ by less than that; you may stop and keep the control."
        if plan.days_left == 0
        else "Keep collecting."
    )
    short = [row for row in arms if not row.enough_data]
    if short:
        names = ", ".join(f"{row.name.upper()} ({row.visitors} visitors, {row.converters} ordering)" for row in short)
        return (
            None,
            None,
            (
                f"No winner yet: each variant needs at least {MIN_VISITORS} visitors and {MIN_ORDERS} ordering visitors "
                f"before one can be named (still short: {names}). {keep_going}"
            ),
        )
    if split.flagged:
        return (
            None,
            None,
            "No winner: the split itself is unhealthy (see the split check), so no comparison can be trusted. Fix the split first.",
        )
    assert decision is not None  # decided whenever two or more arms are compared
    for metric, words in (("conversion", "converts best"), ("revenue", "earns the most per visitor")):
        index = decision.winners[metric]
        if index >= 0:
            best = arms[index]
            return (
                best.name,
                metric,
                (
                    f"{best.name.upper()} {words}: it is significantly better than every other design "
                    f"(always-valid test, Holm-adjusted across all {len(decision.tests)} comparisons). "
                    f"You may stop the experiment and roll out {best.name.upper()}."
                ),
            )
    worse = [
        row.name.upper()
        for row in arms
        if row is not control and row.significant and row.conversion is not None and row.conversion.difference < 0
    ]
    note = f" {', '.join(worse)} converts significantly worse than the control {control.name.upper()}." if worse else ""
    return None, None, f"No winner yet: no design is significantly better than all the others.{note} {keep_going}"


def build_report(variant_set: VariantSet, date_from: date, date_to: date, control: str | None = None, today: date | None = None) -> Report:
    control = control if control in variant_set.variants else default_control(variant_set)
    today = today or timezone.localdate()
    counts = counts_by_variant(date_from, date_to)
    total_weight = variant_set.total_weight
    rows = [
        VariantRow(name=v.name, theme=v.theme, weight=v.weight, expected_share=v.weight / total_weight)
        for v in variant_set.variants.values()
    ]
    # Traffic recorded for a variant this environment no longer (or never) configured is shown, not hidden.
    for name in sorted(set(counts) - set(variant_set.variants)):
        rows.append(VariantRow(name=name, theme="?", weight=0, expected_share=None, configured=False))
    for row in rows:
        found = counts.get(row.name, {})
        row.visitors = found.get("visitors") or 0
        row.orders = found.get("orders") or 0
        row.converters = found.get("converters") or 0
        row.revenue = found.get("revenue") or Decimal("0.00")
        row.revenue_sq = found.get("revenue_sq") or 0.0
        row.crossovers = found.get("crossovers") or 0
        row.unattributed_orders = found.get("unattributed") or 0
        row.is_control = row.name == control
        row.interval = intervals.wilson_interval(row.converters, row.visitors)
        if row.visitors >= 2:
            mean, variance = sequential.arm_moments(row.arm, "revenue")
            half = intervals.Z95 * (variance / row.visitors) ** 0.5
            row.rpv_interval = (mean - half, mean + half)
    total_visitors = sum(row.visitors for row in rows)
    for row in rows:
        row.observed_share = row.visitors / total_visitors if total_visitors else None
    control_row = next(row for row in rows if row.is_control)
    # The arms compared: the control first, then every variant in the split.
    arms = [control_row] + [row for row in rows if row.active and not row.is_control]
    decision = sequential.decide([row.arm for row in arms], settings.EXPERIMENT_MDE, ALPHA) if len(arms) >= 2 else None
    if decision is not None:
        for index, row in enumerate(arms[1:], start=1):
            if not (row.visitors and control_row.visitors):
                continue  # nothing to compare yet; the pair still counts in the family
            row.conversion = decision.test(0, index, "conversion")
            row.revenue_test = decision.test(0, index, "revenue")
            row.newcombe = intervals.newcombe_interval(control_row.converters, control_row.visitors, row.converters, row.visitors)
    split = check_split(rows)
    days_observed = (min(date_to, today) - date_from).days + 1
    family = len(decision.tests) if decision else 0
    plan = make_plan(arms, control_row, family, days_observed)
    winner, metric, verdict = _verdict(arms, control_row, split, decision, plan)
    return Report(
        date_from=date_from,
        date_to=date_to,
        control=control,
        rows=rows,
        split=split,
        total_visitors=total_visitors,
        crossovers=sum(row.crossovers for row in rows),
        winner=winner,
        winner_metric=metric,
        verdict=verdict,
        enough_data=all(row.enough_data for row in arms),
        plan=plan,
        revenue_cap=settings.EXPERIMENT_REVENUE_CAP,
        family_size=family,
    )
