"""Marketing looks every day: the page's decision must keep its error rate anyway (seeded, about 3 s).

The same sequential.decide the page runs, applied to thousands of simulated experiments after each day.
"""

import math

import numpy as np
from scipy import stats as sp

from experiment import sequential

from .simulation import simulate

ALPHA = sequential.ALPHA
WEIGHTS = [34, 33, 33]
BASELINE = 0.05


def margin(rate: float, n: int) -> float:
    """Three Monte Carlo standard errors: a correct method fails this about once in 700 seeds."""
    return 3 * math.sqrt(rate * (1 - rate) / n)


def test_a_a_experiments_peeked_daily_for_14_days_rarely_name_a_winner():
    experiments = 4000
    named = np.zeros(experiments, dtype=bool)
    naive = np.zeros(experiments, dtype=bool)
    for _day, arms, decision in simulate([BASELINE] * 3, WEIGHTS, daily=1500, days=14, experiments=experiments, mde=0.10, seed=20):
        for winner in decision.winners.values():
            named |= winner >= 0
        # What the page used to do: an unadjusted pooled z-test of B and of C against A, every day.
        a = arms[0]
        for other in arms[1:]:
            pooled = (a.converters + other.converters) / (a.visitors + other.visitors)
            se = np.sqrt(pooled * (1 - pooled) * (1 / a.visitors + 1 / other.visitors))
            z = np.abs(other.converters / other.visitors - a.converters / a.visitors) / np.where(se > 0, se, np.inf)
            naive |= 2 * sp.norm.sf(z) < ALPHA
    print(f"A/A false-winner rate {named.mean():.4f} (naive daily z-test {naive.mean():.4f}) over {experiments} experiments")
    assert named.mean() <= ALPHA + margin(ALPHA, experiments)
    # The harness can tell a broken method: daily peeking at a plain z-test names far more false winners.
    assert naive.mean() > 2 * ALPHA


def test_a_b_experiment_detects_the_planned_lift_by_the_planned_horizon():
    experiments, daily, mde = 2000, 5000, 0.20
    needed = sequential.visitors_needed(BASELINE, mde, 33 / 100, 34 / 100, ALPHA / 6)
    horizon = math.ceil(needed / daily)
    assert horizon <= 14
    for _day, _arms, decision in simulate(  # noqa: B007 (the last day's decision is judged below)
        [BASELINE, BASELINE * (1 + mde), BASELINE], WEIGHTS, daily=daily, days=horizon, experiments=experiments, mde=mde, seed=21
    ):
        pass
    b_vs_a = decision.test(0, 1, "conversion")
    detected = (b_vs_a.adjusted_p < ALPHA) & (b_vs_a.difference > 0)
    print(f"A/B detected {detected.mean():.4f} by day {horizon} (stated power {sequential.POWER})")
    assert detected.mean() >= sequential.POWER - margin(sequential.POWER, experiments)
    # Never the wrong way round: A or C named the conversion winner when B is truly better.
    assert not np.isin(decision.winners["conversion"], [0, 2]).any()
