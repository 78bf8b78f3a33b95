"""The numbers behind the Experiment page: visitors, orders and revenue per variant, and what they say.

Definitions (the same on the page, in the CSV and in the tests):

- visitors: distinct visitor ids with an exposure on that variant on a day in the range.
- orders: orders created in the range on that variant, not cancelled, whose visitor has an exposure
  on the same variant in the range ("attributed"). Orders without a matching exposure (the JSON API,
  cookies blocked, RECORD_EXPOSURES off) are counted apart as unattributed, so a conversion rate can
  never exceed 100 % and every order sits in the denominator it came from.
- converting visitors: distinct visitor ids among those orders; conversion = converting / visitors.
- revenue: the total of those orders; revenue per visitor = revenue / visitors.

Every query is bounded by the date range: exposures by the (day, variant, visitor_id) index, orders
by created_at (the order_newest index), each order probing the exposure unique index
(visitor_id, variant, day) once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from config.variants import VariantSet
from orders.models import Order, Status

from . import stats
from .models import Exposure

# A winner is named only when every variant in the split has at least this much data.
MIN_VISITORS = 100
MIN_ORDERS = 10
ALPHA = 0.05  # significance of a difference from the control (two-sided, unadjusted)
SRM_ALPHA = 0.001  # a split this unlikely under the configured weights is flagged
SRM_MIN_EXPECTED = 5  # below this many expected visitors in a cell the chi-square test is not trusted
STICKINESS_WARN_SHARE = 0.01  # more than 1 % of visitors on two variants on one day: stickiness is broken
DEFAULT_DAYS = 14
MAX_DAYS = 366


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 14 days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def default_control(variant_set: VariantSet) -> str:
    return variant_set.schema_owner if variant_set.schema_owner in variant_set.variants else next(iter(variant_set.variants))


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100.0


@dataclass
class VariantRow:
    name: str
    theme: str
    weight: int
    expected_share: float | None  # None for a variant not in variants.yaml
    visitors: int = 0
    orders: int = 0
    converters: int = 0
    revenue: Decimal = Decimal("0.00")
    unattributed_orders: int = 0
    observed_share: float | None = None
    interval: tuple[float, float] | None = None
    comparison: stats.Comparison | None = None
    is_control: bool = False
    configured: bool = True

    @property
    def active(self) -> bool:
        """Part of the split: configured with a weight above 0."""
        return self.configured and self.weight > 0

    @property
    def rate(self) -> float | None:
        return self.converters / self.visitors if self.visitors else None

    @property
    def revenue_per_visitor(self) -> Decimal | None:
        return (self.revenue / self.visitors).quantize(Decimal("0.0001")) if self.visitors else None

    @property
    def enough_data(self) -> bool:
        return self.visitors >= MIN_VISITORS and self.orders >= MIN_ORDERS

    @property
    def p_value(self) -> float | None:
        return self.comparison.p_value if self.comparison else None

    @property
    def significant(self) -> bool:
        return self.comparison is not None and self.comparison.p_value < ALPHA

    @property
    def p_display(self) -> str:
        return format_p(self.p_value)

    # Percentages and percentage points, for the template and the CSV.
    @property
    def rate_pct(self) -> float | None:
        return _pct(self.rate)

    @property
    def ci_low_pct(self) -> float | None:
        return _pct(self.interval[0]) if self.interval else None

    @property
    def ci_high_pct(self) -> float | None:
        return _pct(self.interval[1]) if self.interval else None

    @property
    def diff_pp(self) -> float | None:
        return _pct(self.comparison.difference) if self.comparison else None

    @property
    def diff_low_pp(self) -> float | None:
        return _pct(self.comparison.low) if self.comparison else None

    @property
    def diff_high_pp(self) -> float | None:
        return _pct(self.comparison.high) if self.comparison else None

    @property
    def expected_share_pct(self) -> float | None:
        return _pct(self.expected_share)

    @property
    def observed_share_pct(self) -> float | None:
        return _pct(self.observed_share)


@dataclass
class SplitCheck:
    """Sample ratio mismatch: are visitors split the way variants.yaml says?"""

    result: stats.GoodnessOfFit | None
    flagged: bool
    message: str
    unexpected: list[tuple[str, int]] = field(default_factory=list)  # (variant, visitors) that should get none


@dataclass
class Report:
    date_from: date
    date_to: date
    control: str
    rows: list[VariantRow]
    split: SplitCheck
    total_visitors: int
    multi_variant_visitors: int
    same_day_multi_variant_visitors: int
    winner: str | None
    verdict: str
    enough_data: bool
    min_visitors: int = MIN_VISITORS
    min_orders: int = MIN_ORDERS
    alpha: float = ALPHA
    srm_alpha: float = SRM_ALPHA

    @property
    def multi_variant_share_pct(self) -> float | None:
        return 100.0 * self.multi_variant_visitors / self.total_visitors if self.total_visitors else None

    @property
    def stickiness_broken(self) -> bool:
        return bool(self.total_visitors) and self.same_day_multi_variant_visitors / self.total_visitors > STICKINESS_WARN_SHARE

    @property
    def unattributed_orders(self) -> int:
        return sum(row.unattributed_orders for row in self.rows)


# --- Queries ---------------------------------------------------------------------------------

def _exposures(date_from: date, date_to: date):
    return Exposure.objects.filter(day__gte=date_from, day__lte=date_to)


def visitors_by_variant(date_from: date, date_to: date) -> dict[str, int]:
    rows = _exposures(date_from, date_to).values("variant").annotate(n=Count("visitor_id", distinct=True)).order_by()
    return {row["variant"]: row["n"] for row in rows}


def orders_by_variant(date_from: date, date_to: date) -> dict[str, dict]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tz)
    in_range = Order.objects.filter(created_at__gte=start, created_at__lt=end).exclude(status=Status.CANCELLED)
    exposed = _exposures(date_from, date_to).filter(visitor_id=OuterRef("visitor_id"), variant=OuterRef("variant"))
    # EXISTS in the WHERE clause: one semi-join probe per order (the exposure unique index), not one per aggregate.
    attributed = (
        in_range.filter(Exists(exposed)).values("variant")
        .annotate(orders=Count("id"), converters=Count("visitor_id", distinct=True), revenue=Sum("total")).order_by()
    )
    totals = in_range.values("variant").annotate(n=Count("id")).order_by()
    found: dict[str, dict] = {row["variant"]: {**row, "unattributed": 0} for row in attributed}
    for row in totals:
        entry = found.setdefault(row["variant"], {"variant": row["variant"], "orders": 0, "converters": 0, "revenue": None})
        entry["unattributed"] = row["n"] - entry["orders"]
    return found


def multi_variant_visitors(date_from: date, date_to: date) -> tuple[int, int]:
    """(visitors seen on more than one variant in the range, of those: on two variants on one day)."""
    in_range = _exposures(date_from, date_to)
    anywhere = in_range.values("visitor_id").annotate(k=Count("variant", distinct=True)).filter(k__gt=1).order_by().count()
    same_day = (
        in_range.values("day", "visitor_id").annotate(k=Count("variant")).filter(k__gt=1).order_by()
        .aggregate(n=Count("visitor_id", distinct=True))["n"]
    )
    return anywhere, same_day or 0


# --- Analysis --------------------------------------------------------------------------------

def check_split(rows: list[VariantRow]) -> SplitCheck:
    unexpected = [(row.name, row.visitors) for row in rows if not row.active and row.visitors]
    cells = [row for row in rows if row.active]
    result = stats.chi_square_goodness_of_fit([r.visitors for r in cells], [r.weight for r in cells]) if len(cells) >= 2 else None
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
        return SplitCheck(result, True, f"Sample ratio mismatch: the visitors are not split as the weights say ({p_phrase(result.p_value)}, flagged below {SRM_ALPHA}). Fix the split before trusting any difference.")
    return SplitCheck(result, False, f"No sample ratio mismatch: the split is consistent with the weights ({p_phrase(result.p_value)}).")


def format_p(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p: float) -> str:
    """'p < 0.001' or 'p = 0.042', for sentences."""
    shown = format_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def _verdict(rows: list[VariantRow], control: VariantRow, split: SplitCheck) -> tuple[str | None, str, bool]:
    """(winner or None, one sentence for marketing, whether every variant has the minimum sample)."""
    active = [row for row in rows if row.active or row.is_control]
    if len(active) < 2:
        return None, "Only one variant is in the split: there is nothing to compare.", False
    short = [row for row in active if not row.enough_data]
    if short:
        names = ", ".join(f"{row.name.upper()} ({row.visitors} visitors, {row.orders} orders)" for row in short)
        return None, (f"Not enough data yet: each variant needs at least {MIN_VISITORS} visitors and {MIN_ORDERS} orders "
                      f"before a winner is named. Still short: {names}."), False
    if split.flagged:
        return None, "No winner: the split itself is unhealthy (see the split check), so the comparison cannot be trusted.", True
    best = max(active, key=lambda row: (row.rate, row.is_control))
    others = [row for row in active if row is not control]
    if best is control:
        if all(row.significant for row in others):
            return control.name, f"{control.name.upper()} (the control) converts best; every other variant is significantly lower.", True
        return None, f"No variant converts significantly better than the control {control.name.upper()}.", True
    if best.significant:
        return best.name, (f"{best.name.upper()} converts best: {best.rate_pct:.2f} % against {control.rate_pct:.2f} % for the control "
                           f"{control.name.upper()} ({best.diff_pp:+.2f} pp, {p_phrase(best.p_value)})."), True
    return None, (f"{best.name.upper()} converts best so far, but its difference from the control {control.name.upper()} "
                  f"is not significant ({p_phrase(best.p_value)})."), True


def build_report(variant_set: VariantSet, date_from: date, date_to: date, control: str | None = None) -> Report:
    control = control if control in variant_set.variants else default_control(variant_set)
    visitors = visitors_by_variant(date_from, date_to)
    orders = orders_by_variant(date_from, date_to)
    total_weight = variant_set.total_weight
    rows = [
        VariantRow(name=v.name, theme=v.theme, weight=v.weight, expected_share=v.weight / total_weight)
        for v in variant_set.variants.values()
    ]
    # Traffic recorded for a variant this environment no longer (or never) configured is shown, not hidden.
    for name in sorted((set(visitors) | set(orders)) - set(variant_set.variants)):
        rows.append(VariantRow(name=name, theme="?", weight=0, expected_share=None, configured=False))
    total_visitors = sum(visitors.values())
    for row in rows:
        row.visitors = visitors.get(row.name, 0)
        found = orders.get(row.name, {})
        row.orders = found.get("orders", 0)
        row.converters = found.get("converters", 0)
        row.revenue = found.get("revenue") or Decimal("0.00")
        row.unattributed_orders = found.get("unattributed", 0)
        row.observed_share = row.visitors / total_visitors if total_visitors else None
        row.interval = stats.wilson_interval(row.converters, row.visitors)
        row.is_control = row.name == control
    control_row = next(row for row in rows if row.is_control)
    for row in rows:
        if not row.is_control:
            row.comparison = stats.two_proportion_test(control_row.converters, control_row.visitors, row.converters, row.visitors)
    split = check_split(rows)
    anywhere, same_day = multi_variant_visitors(date_from, date_to)
    winner, verdict, enough = _verdict(rows, control_row, split)
    return Report(
        date_from=date_from, date_to=date_to, control=control, rows=rows, split=split,
        total_visitors=total_visitors, multi_variant_visitors=anywhere, same_day_multi_variant_visitors=same_day,
        winner=winner, verdict=verdict, enough_data=enough,
    )
