"""What the Experiment page shows: one row per variant with its intervals and tests against the
control, the split check, the plan and the whole report, each with the display forms the page and
the CSV use (percentages, percentage points, p-values in words). experiment.report fills them in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import intervals, sequential

# A winner is named only when every variant in the split has at least this much data.
MIN_VISITORS = 100
MIN_ORDERS = 10
ALPHA = sequential.ALPHA  # family-wise, across every comparison and every look
SRM_ALPHA = 0.001  # a split this unlikely under the configured weights is flagged
CROSSOVER_WARN_SHARE = 0.01  # more than 1 % of visitors saw two designs: assignment is leaking


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100.0


class _PctEnd:
    """One end (0 low, 1 high) of a row's (low, high) interval attribute in percent; None without the interval."""

    def __init__(self, interval: str, end: int) -> None:
        self.interval, self.end = interval, end

    def __get__(self, row: object, owner: type | None = None) -> float | None:
        bounds = getattr(row, self.interval)
        return _pct(bounds[self.end]) if bounds else None


class _LiftEnd:
    """One end ("lift_low" or "lift_high") of a test's lift interval in percent, only where the row shows
    the lift itself (its `lift` attribute is not None)."""

    def __init__(self, test: str, lift: str, end: str) -> None:
        self.test, self.lift, self.end = test, lift, end

    def __get__(self, row: object, owner: type | None = None) -> float | None:
        test = getattr(row, self.test)
        return _pct(getattr(test, self.end)) if test is not None and getattr(row, self.lift) is not None else None


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
    revenue_sq: float = 0.0
    crossovers: int = 0
    unattributed_orders: int = 0
    observed_share: float | None = None
    interval: tuple[float, float] | None = None
    rpv_interval: tuple[float, float] | None = None
    is_control: bool = False
    configured: bool = True
    # Against the control (None for the control and for variants outside the split).
    conversion: sequential.PairTest | None = None
    revenue_test: sequential.PairTest | None = None
    newcombe: tuple[float, float] | None = None

    @property
    def active(self) -> bool:
        """Part of the split: configured with a weight above 0."""
        return self.configured and self.weight > 0

    @property
    def arm(self) -> sequential.Arm:
        return sequential.Arm(self.visitors, self.converters, float(self.revenue), self.revenue_sq)

    @property
    def rate(self) -> float | None:
        return self.converters / self.visitors if self.visitors else None

    @property
    def revenue_per_visitor(self) -> float | None:
        return float(self.revenue) / self.visitors if self.visitors else None

    @property
    def enough_data(self) -> bool:
        return self.visitors >= MIN_VISITORS and self.converters >= MIN_ORDERS

    @property
    def p_value(self) -> float | None:
        """Always-valid, Holm-adjusted p of the conversion difference from the control."""
        return None if self.conversion is None else self.conversion.adjusted_p

    @property
    def significant(self) -> bool:
        return self.conversion is not None and self.conversion.adjusted_p < ALPHA

    @property
    def revenue_significant(self) -> bool:
        return self.revenue_test is not None and self.revenue_test.adjusted_p < ALPHA

    @property
    def p_display(self) -> str:
        return format_p(self.p_value)

    @property
    def revenue_p_display(self) -> str:
        return format_p(None if self.revenue_test is None else self.revenue_test.adjusted_p)

    # Percentages and percentage points, for the template and the CSV.
    @property
    def rate_pct(self) -> float | None:
        return _pct(self.rate)

    ci_low_pct = _PctEnd("interval", 0)
    ci_high_pct = _PctEnd("interval", 1)

    @property
    def diff_pp(self) -> float | None:
        return _pct(self.conversion.difference) if self.conversion else None

    @property
    def diff_low_pp(self) -> float | None:
        return _pct(self.conversion.difference - self.conversion.half_width) if self.conversion else None

    @property
    def diff_high_pp(self) -> float | None:
        return _pct(self.conversion.difference + self.conversion.half_width) if self.conversion else None

    newcombe_low_pp = _PctEnd("newcombe", 0)
    newcombe_high_pp = _PctEnd("newcombe", 1)

    @property
    def lift_pct(self) -> float | None:
        return _pct(self.conversion.lift) if self.conversion and self.rate and self.conversion.lift_low is not None else None

    lift_low_pct = _LiftEnd("conversion", "lift_pct", "lift_low")
    lift_high_pct = _LiftEnd("conversion", "lift_pct", "lift_high")

    @property
    def lift_unbounded(self) -> bool:
        """The conversion lift has no finite upper end yet (shown as ∞; inf in the CSV)."""
        return self.lift_high_pct is not None and not math.isfinite(self.lift_high_pct)

    @property
    def rpv_diff(self) -> float | None:
        return self.revenue_test.difference if self.revenue_test else None

    @property
    def rpv_diff_low(self) -> float | None:
        return self.revenue_test.difference - self.revenue_test.half_width if self.revenue_test else None

    @property
    def rpv_diff_high(self) -> float | None:
        return self.revenue_test.difference + self.revenue_test.half_width if self.revenue_test else None

    @property
    def rpv_unbounded(self) -> bool:
        """The revenue difference has no finite interval yet (an arm's variance is unknown)."""
        return self.revenue_test is not None and not math.isfinite(self.revenue_test.half_width)

    @property
    def rpv_lift_pct(self) -> float | None:
        return _pct(self.revenue_test.lift) if self.revenue_test and self.revenue_per_visitor else None

    rpv_lift_low_pct = _LiftEnd("revenue_test", "rpv_lift_pct", "lift_low")
    rpv_lift_high_pct = _LiftEnd("revenue_test", "rpv_lift_pct", "lift_high")

    @property
    def expected_share_pct(self) -> float | None:
        return _pct(self.expected_share)

    @property
    def observed_share_pct(self) -> float | None:
        return _pct(self.observed_share)


@dataclass
class SplitCheck:
    """Sample ratio mismatch: are visitors split the way variants.yaml says?"""

    result: intervals.GoodnessOfFit | None
    flagged: bool
    message: str
    unexpected: list[tuple[str, int]] = field(default_factory=list)  # (variant, visitors) that should get none


@dataclass
class Plan:
    """The power calculation: visitors needed to detect `mde` at `power`, and the days left at this traffic."""

    mde: float
    power: float
    baseline: float
    needed_visitors: int | None
    daily_visitors: float
    days_left: int | None

    @property
    def mde_pct(self) -> float:
        return self.mde * 100.0

    @property
    def power_pct(self) -> float:
        return self.power * 100.0

    @property
    def baseline_pct(self) -> float:
        return self.baseline * 100.0


@dataclass
class Report:
    date_from: date
    date_to: date
    control: str
    rows: list[VariantRow]
    split: SplitCheck
    total_visitors: int
    crossovers: int
    winner: str | None
    winner_metric: str | None
    verdict: str
    enough_data: bool
    plan: Plan
    revenue_cap: Decimal
    family_size: int
    min_visitors: int = MIN_VISITORS
    min_orders: int = MIN_ORDERS
    alpha: float = ALPHA
    srm_alpha: float = SRM_ALPHA

    @property
    def crossover_share_pct(self) -> float | None:
        return 100.0 * self.crossovers / self.total_visitors if self.total_visitors else None

    @property
    def crossovers_high(self) -> bool:
        return bool(self.total_visitors) and self.crossovers / self.total_visitors > CROSSOVER_WARN_SHARE

    @property
    def unattributed_orders(self) -> int:
        return sum(row.unattributed_orders for row in self.rows)


def format_p(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p: float) -> str:
    """'p < 0.001' or 'p = 0.042', for sentences."""
    shown = format_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"
