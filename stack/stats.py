"""The one percentile function of the harnesses (linear interpolation between closest ranks)."""

from __future__ import annotations


def percentile(values, p: float) -> float:
    """The p-th percentile (0-100) of `values`; NaN when there are none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (p / 100) * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values) -> float:
    return percentile(values, 50)
