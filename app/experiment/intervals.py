"""Intervals and classical tests of the Experiment page, in plain Python (math only; scipy and
statsmodels check them in the tests).

- Conversion rate interval: Wilson score interval (well-behaved at 0 %, 100 % and small samples).
- Difference between two variants, for display at the planned end: Newcombe's hybrid score interval.
- Sample ratio mismatch: Pearson's chi-square goodness of fit of visitors against the configured
  weights, p-value from the regularized upper incomplete gamma function Q(k/2, x/2).
- The standard normal's tail and quantile, which experiment.sequential plans with.

Every function answers None where the quantity is undefined (no visitors, a single variant)
instead of raising, so the page can say "not computable" rather than fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
