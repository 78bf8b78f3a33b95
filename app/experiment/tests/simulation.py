"""Seeded simulations of whole experiments, vectorised: many experiments at once, one array per number.

Each simulated experiment gets `daily` visitors a day, split by weight; a visitor converts with its
arm's rate and then spends a lognormal order value capped like the app caps it. The page's own
decision (sequential.decide) is applied to the running totals after every day, as a marketer looking daily.
"""

from __future__ import annotations

import numpy as np

from experiment import sequential


def simulate(
    rates,
    weights,
    daily: int,
    days: int,
    experiments: int,
    mde: float,
    seed: int,
    order_mean: float = 25.0,
    cap: float = 100.0,
    min_visitors: int = 0,
    min_orders: int = 0,
):
    """Per look (day), the running totals and the decision over `experiments` simulated experiments: (day, arms, Decision)."""
    rng = np.random.default_rng(seed)
    k = len(rates)
    shares = np.asarray(weights, dtype=float) / sum(weights)
    visitors = np.zeros((experiments, k))
    converters = np.zeros((experiments, k))
    revenue = np.zeros((experiments, k))
    revenue_sq = np.zeros((experiments, k))
    sigma = 0.8
    mu = np.log(order_mean) - sigma * sigma / 2
    for day in range(1, days + 1):
        arrivals = rng.multinomial(daily, shares, size=experiments)
        converted = rng.binomial(arrivals, np.asarray(rates))
        values = np.minimum(rng.lognormal(mu, sigma, size=int(converted.sum())), cap)
        cell = np.repeat(np.arange(experiments * k), converted.ravel())
        visitors += arrivals
        converters += converted
        revenue += np.bincount(cell, weights=values, minlength=experiments * k).reshape(experiments, k)
        revenue_sq += np.bincount(cell, weights=values * values, minlength=experiments * k).reshape(experiments, k)
        arms = [sequential.Arm(visitors[:, a], converters[:, a], revenue[:, a], revenue_sq[:, a]) for a in range(k)]
        yield day, arms, sequential.decide(arms, mde, min_visitors=min_visitors, min_orders=min_orders, xp=np)
