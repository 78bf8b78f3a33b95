"""The statistics of the Experiment page, in plain Python (math only; scipy and statsmodels check them in the tests).

- Conversion rate interval: Wilson score interval (well-behaved at 0 %, 100 % and small samples).
- Difference between two variants, for display at the planned end: Newcombe's hybrid score interval.
- The decision: a mixture sequential probability ratio test (normal mixture, as in Johari et al.,
  "Always valid inference", and Howard et al.'s confidence sequences) per pair of variants and
  metric, giving always-valid p-values and intervals, Holm-adjusted across every comparison shown.
  Looking every day, or every minute, keeps the chance of naming a false winner at ALPHA.
- Revenue per visitor: mean and Welch standard error from per-visitor sums (revenue capped per
  order), and relative lift on the log scale (delta method).
- The planned horizon: how many visitors a minimum detectable effect needs at the stated power.
- Sample ratio mismatch: Pearson's chi-square goodness of fit of visitors against the configured
  weights, p-value from the regularized upper incomplete gamma function Q(k/2, x/2).

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

# A number, or with xp=numpy an array of them (one per simulated experiment): the code is generic over both.
Value: TypeAlias = Any

# Two-sided 95 %: the 97.5th percentile of the standard normal distribution.
Z95 = 1.959963984540054
_EPS = 1e-15
_TINY = 1e-300
_MAX_ITERATIONS = 10_000


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial proportion; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = (z / denominator) * math.sqrt(p * (1.0 - p) / trials + z2 / (4.0 * trials * trials))
    # At 0 % and 100 % the bound is exactly 0 or 1; say so rather than leave a rounding residue.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def _log_gamma_prefix(a: float, x: float) -> float:
    """log(x^a e^-x / Gamma(a)), the factor shared by the series and the continued fraction."""
    return a * math.log(x) - x - math.lgamma(a)


def _lower_series(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x) by its power series (converges fast for x < a + 1)."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(_MAX_ITERATIONS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(_log_gamma_prefix(a, x))


def _upper_continued_fraction(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) by its continued fraction (modified Lentz), x >= a + 1."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h * math.exp(_log_gamma_prefix(a, x))


def regularized_gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a), for a > 0 and x >= 0."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x <= 0:
        return 1.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _lower_series(a, x))
    return _upper_continued_fraction(a, x)


def chi2_sf(statistic: float, df: int) -> float:
    """P(X > statistic) for X chi-square distributed with df degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    return regularized_gamma_q(df / 2.0, max(0.0, statistic) / 2.0)


@dataclass(frozen=True)
class GoodnessOfFit:
    statistic: float
    df: int
    p_value: float
    expected: tuple[float, ...]


def chi_square_goodness_of_fit(observed: list[int], weights: list[float]) -> GoodnessOfFit | None:
    """Pearson's chi-square of counts against expected shares proportional to `weights`.

    Cells must have a positive weight (a weight-0 variant has nothing to expect; the caller flags
    it separately). None when there is nothing to test: fewer than two cells or no observations.
    """
    if len(observed) != len(weights):
        raise ValueError("observed and weights differ in length")
    if any(w <= 0 for w in weights):
        raise ValueError("every weight must be positive")
    total = sum(observed)
    if len(observed) < 2 or total <= 0:
        return None
    weight_sum = float(sum(weights))
    expected = tuple(total * w / weight_sum for w in weights)
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=False))
    df = len(observed) - 1
    return GoodnessOfFit(statistic, df, chi2_sf(statistic, df), expected)


# --- Sequential decision ------------------------------------------------------------------------

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


def normal_ppf(q: float) -> float:
    """The q-quantile of the standard normal (bisection on erfc: 60 halvings reach float precision)."""
    if not 0.0 < q < 1.0:
        raise ValueError("q must be in (0, 1)")
    low, high = -40.0, 40.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if 1.0 - normal_sf(mid) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


def newcombe_interval(x_control: int, n_control: int, x_variant: int, n_variant: int, z: float = Z95) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (his method 10) of p_variant - p_control; None without trials.

    Built from the two Wilson intervals, so it never collapses to zero width at 0 % or 100 %.
    """
    variant, control = wilson_interval(x_variant, n_variant, z), wilson_interval(x_control, n_control, z)
    if variant is None or control is None:
        return None
    p_v, p_c = x_variant / n_variant, x_control / n_control
    difference = p_v - p_c
    low = difference - math.sqrt((p_v - variant[0]) ** 2 + (control[1] - p_c) ** 2)
    high = difference + math.sqrt((variant[1] - p_v) ** 2 + (p_c - control[0]) ** 2)
    return low, high


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
