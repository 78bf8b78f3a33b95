"""The decision of the Experiment page, in plain Python (math only; scipy and statsmodels check it in the tests).

- A mixture sequential probability ratio test (normal mixture, as in Johari et al., "Always valid
  inference", and Howard et al.'s confidence sequences) per pair of variants and metric, giving
  always-valid p-values and intervals, Holm-adjusted across every comparison shown. Looking every
  day, or every minute, keeps the chance of naming a false winner at ALPHA.
- Revenue per visitor: mean and Welch standard error from per-visitor sums (revenue capped per
  order), and relative lift on the log scale (delta method).
- The planned horizon: how many visitors a minimum detectable effect needs at the stated power.

The decision functions take an `xp` namespace (this module's MATH, or numpy) so that the seeded
simulation in the tests runs the very same code over thousands of experiments at once.

Every function answers None where the quantity is undefined (no visitors, a single variant)
instead of raising, so the page can say "not computable" rather than fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeAlias

from .intervals import normal_sf

# A number, or with xp=numpy an array of them (one per simulated experiment): the code is generic over both.
Value: TypeAlias = Any

# math.exp raises past this; numpy's exp answers inf there, and so does _exp.
_MAX_EXP = math.log(1.7976931348623157e308)


def _exp(x: float) -> float:
    """math.exp, but inf where it would overflow (a relative lift with an unbounded upper end), as numpy's exp."""
    return math.inf if x > _MAX_EXP else math.exp(x)


# Element-wise operations for plain floats; numpy offers the same names (and overflow to inf) for arrays.
MATH = SimpleNamespace(
    log=math.log,
    sqrt=math.sqrt,
    exp=_exp,
    minimum=min,
    maximum=max,
    where=lambda condition, a, b: a if condition else b,
)
_UNKNOWN_VARIANCE = 1e100  # a variance nothing can be concluded from
_FLOOR = 1e-150  # keeps variances and mixture widths positive without overflowing their products
ALPHA = 0.05  # family-wise error across every comparison on the page, at every look
POWER = 0.8
METRICS = ("conversion", "revenue")


def mixture_log_likelihood_ratio(estimate, variance, tau2, xp=MATH):
    """log of the mSPRT statistic for H0: effect = 0, with a N(0, tau2) mixture over the effect.

    Lambda = sqrt(V / (V + tau2)) * exp(tau2 * estimate^2 / (2 V (V + tau2))), V the variance of
    the estimate. Under H0 Lambda is a nonnegative martingale, so P(ever Lambda >= 1/alpha) <= alpha
    (Ville's inequality): rejecting when it crosses 1/alpha is valid at every look.
    """
    v = xp.maximum(variance, _FLOOR)
    t = xp.maximum(tau2, _FLOOR)
    return 0.5 * xp.log(v / (v + t)) + (t / (v + t)) * estimate * estimate / (2.0 * v)


def always_valid_p(estimate, variance, tau2, xp=MATH):
    """min(1, 1/Lambda): below alpha exactly when the always-valid interval excludes 0."""
    return xp.exp(xp.minimum(0.0, -mixture_log_likelihood_ratio(estimate, variance, tau2, xp)))


def always_valid_half_width(variance, tau2, alpha: float = ALPHA, xp=MATH):
    """Half-width of the (1 - alpha) confidence sequence: estimate +- this covers the effect at every look at once."""
    v = xp.maximum(variance, _FLOOR)
    t = xp.maximum(tau2, _FLOOR)
    return xp.sqrt(v * (v + t) / t * (2.0 * math.log(1.0 / alpha) + xp.log((v + t) / v)))


def holm_adjust(p_values: list, xp=MATH) -> list:
    """Holm's step-down adjusted p-values, element-wise over arrays; ties are ordered by position.

    Significant (family-wise error <= alpha) exactly where the adjusted value is below alpha.
    """
    k = len(p_values)
    ranks = []
    for i, p in enumerate(p_values):
        rank = 0
        for j, q in enumerate(p_values):
            if j != i:
                rank = rank + ((q < p) if j > i else (q <= p)) * 1
        ranks.append(rank)
    steps = [xp.minimum(1.0, (k - rank) * p) for rank, p in zip(ranks, p_values, strict=False)]
    adjusted = []
    for i in range(k):
        value = steps[i]
        for j in range(k):
            if j != i:
                value = xp.where(ranks[j] < ranks[i], xp.maximum(value, steps[j]), value)
        adjusted.append(value)
    return adjusted


@dataclass
class Arm:
    """One variant's sufficient statistics: visitors, converting visitors, capped revenue and its per-visitor sum of squares."""

    visitors: Value
    converters: Value
    revenue: Value
    revenue_sq: Value


def arm_moments(arm: Arm, metric: str, xp=MATH):
    """(mean, per-visitor variance) of `metric` for one arm.

    Conversion: the rate, with the variance of the rate plus one success and one failure (Agresti's
    adjustment) so a 0 % or 100 % arm is never "certain". Revenue: per-visitor mean and the sample
    variance from the sums.
    """
    n = xp.maximum(arm.visitors, 1)
    if metric == "conversion":
        mean = arm.converters / n
        adjusted = (arm.converters + 1.0) / (arm.visitors + 2.0)
        return mean, adjusted * (1.0 - adjusted)
    mean = arm.revenue / n
    variance = xp.maximum(arm.revenue_sq - n * mean * mean, 0.0) / xp.maximum(n - 1, 1)
    # Fewer than two visitors, or no spread where money was spent: the variance is unknown, not zero.
    unknown = (arm.visitors < 2) | ((variance <= 0) & (arm.revenue > 0))
    return mean, xp.where(unknown, _UNKNOWN_VARIANCE, variance)


# The mixture's spread, in minimum detectable effects. About 0.8 gives the narrowest interval at the
# planned horizon; 2 costs 2 % of width there and still catches a large early effect.
MIXTURE_SPREAD = 2.0


def mixture_tau2(mean_a, n_a, mean_b, n_b, mde: float):
    """The mixture's variance: MIXTURE_SPREAD minimum detectable (relative) effects on the pair's pooled mean, squared."""
    pooled = (mean_a * n_a + mean_b * n_b) / (n_a + n_b + 1e-300)
    return (MIXTURE_SPREAD * mde * pooled) ** 2


@dataclass
class PairTest:
    """Variant j against variant i on one metric: difference (j - i), intervals, always-valid and Holm p."""

    i: int
    j: int
    metric: str
    difference: Value
    half_width: Value  # of the always-valid interval at the family's adjusted level; inf while a variance is unknown
    p_value: Value  # always-valid, before Holm
    adjusted_p: Value = None
    lift: Value = None  # relative: mean_j / mean_i - 1
    lift_low: Value = None
    lift_high: Value = None  # inf while the data cannot bound the lift from above (an arm's variance unknown)

    def significant(self, alpha: float = ALPHA):
        return self.adjusted_p < alpha


def compare(arms: list[Arm], i: int, j: int, metric: str, mde: float, alpha: float, xp=MATH) -> PairTest:
    """One pair on one metric; the intervals are (1 - alpha) confidence sequences."""
    mean_i, var_i = arm_moments(arms[i], metric, xp)
    mean_j, var_j = arm_moments(arms[j], metric, xp)
    n_i, n_j = xp.maximum(arms[i].visitors, 1), xp.maximum(arms[j].visitors, 1)
    variance = var_i / n_i + var_j / n_j
    tau2 = mixture_tau2(mean_i, n_i, mean_j, n_j, mde)
    difference = mean_j - mean_i
    test = PairTest(
        i, j, metric, difference, always_valid_half_width(variance, tau2, alpha, xp), always_valid_p(difference, variance, tau2, xp)
    )
    # Relative lift on the log scale (delta method), the same mixture spread in log units.
    safe_i, safe_j = xp.maximum(mean_i, _FLOOR), xp.maximum(mean_j, _FLOOR)
    log_ratio = xp.log(safe_j / safe_i)
    log_variance = var_j / (n_j * safe_j * safe_j) + var_i / (n_i * safe_i * safe_i)
    half = always_valid_half_width(log_variance, math.log1p(MIXTURE_SPREAD * mde) ** 2, alpha, xp)
    test.lift, test.lift_low, test.lift_high = xp.exp(log_ratio) - 1.0, xp.exp(log_ratio - half) - 1.0, xp.exp(log_ratio + half) - 1.0
    # An arm whose variance is unknown (one visitor, or no spread in what was spent) bounds nothing:
    # its intervals are unbounded, said so, rather than widths of 1e50 printed as numbers.
    unknown = (var_i >= _UNKNOWN_VARIANCE) | (var_j >= _UNKNOWN_VARIANCE)
    test.half_width = xp.where(unknown, math.inf, test.half_width)
    test.lift_low = xp.where(unknown, -1.0, test.lift_low)
    test.lift_high = xp.where(unknown, math.inf, test.lift_high)
    return test


@dataclass
class Decision:
    """Every pair on every metric, Holm-adjusted as one family, and who (if anyone) wins each metric."""

    tests: list[PairTest]
    winners: dict  # metric -> index of the arm significantly better than every other arm, or -1
    enough_data: Value

    def test(self, i: int, j: int, metric: str) -> PairTest:
        return next(t for t in self.tests if {t.i, t.j} == {i, j} and t.metric == metric)


def decide(
    arms: list[Arm],
    mde: float,
    alpha: float = ALPHA,
    min_visitors: int = 0,
    min_orders: int = 0,
    metrics: tuple[str, ...] = METRICS,
    xp=MATH,
) -> Decision:
    """The page's verdict, for plain numbers or arrays of simulated experiments.

    The family is every pair of arms on every metric. A winner on a metric is an arm significantly
    better than each other arm (not merely than the control), and only once every arm has
    min_visitors and min_orders.
    """
    pairs = [(i, j) for i in range(len(arms)) for j in range(i + 1, len(arms))]
    family = max(1, len(pairs) * len(metrics))
    # Intervals at alpha / family (Bonferroni): they hold for every comparison at every look at once.
    tests = [compare(arms, i, j, metric, mde, alpha / family, xp) for metric in metrics for i, j in pairs]
    for test, adjusted in zip(tests, holm_adjust([t.p_value for t in tests], xp), strict=False):
        test.adjusted_p = adjusted
    enough = True
    for arm in arms:
        enough = enough & (arm.visitors >= min_visitors) & (arm.converters >= min_orders)
    winners = {}
    for metric in metrics:
        winner = -1
        for w in range(len(arms)):
            beats_all = True
            for test in tests:
                if test.metric != metric or w not in (test.i, test.j):
                    continue
                better = test.difference > 0 if w == test.j else test.difference < 0
                beats_all = beats_all & better & (test.adjusted_p < alpha)
            winner = xp.where(beats_all & enough, w, winner)
        winners[metric] = winner
    return Decision(tests, winners, enough)


def detection_probability(baseline: float, mde: float, n_control: float, n_variant: float, alpha: float) -> float:
    """Chance that the always-valid interval excludes 0 at the end, when the variant truly converts baseline * (1 + mde).

    A lower bound on detecting by then: the test may also stop earlier.
    """
    p_c, p_v = baseline, baseline * (1.0 + mde)
    variance = p_c * (1 - p_c) / n_control + p_v * (1 - p_v) / n_variant
    tau2 = mixture_tau2(p_c, n_control, p_v, n_variant, mde)
    half = always_valid_half_width(variance, tau2, alpha)
    return 1.0 - normal_sf((p_v - p_c - half) / math.sqrt(variance))


def visitors_needed(
    baseline: float, mde: float, share_control: float, share_variant: float, alpha: float, power: float = POWER
) -> int | None:
    """Total visitors (all variants) until the smallest pair reaches `power` at `mde`; None when undefined."""
    if not 0.0 < baseline < 1.0 or mde <= 0 or baseline * (1 + mde) >= 1.0 or share_control <= 0 or share_variant <= 0:
        return None

    def enough(total: float) -> bool:
        return detection_probability(baseline, mde, total * share_control, total * share_variant, alpha) >= power

    high = 100.0
    while not enough(high):
        high *= 2.0
        if high > 1e13:
            return None
    low = high / 2.0
    while high - low > max(1.0, low * 1e-4):
        mid = (low + high) / 2.0
        low, high = (low, mid) if enough(mid) else (mid, high)
    return math.ceil(high)
