"""Geometry of the server-rendered SVG charts (the template only draws what is computed here)."""

from __future__ import annotations

import math

from .figures import Report

WIDTH = 520
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36


def _nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 x 10^n) at or above value, for the axis."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = step * 10**exponent
        if candidate >= value - 1e-12:
            return candidate
    return 10 ** (exponent + 1)


def conversion_chart(report: Report) -> dict:
    """Bars of conversion rate (%) with 95 % interval whiskers, one per variant that has visitors."""
    rows = [row for row in report.rows if row.visitors]
    top = _nice_ceiling(max([row.ci_high_pct or 0.0 for row in rows] + [0.0]) * 1.1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def y(pct: float) -> float:
        return round(TOP + plot_h * (1 - min(pct, top) / top), 1)

    slot = plot_w / max(len(rows), 1)
    bars = []
    for i, row in enumerate(rows):
        centre = LEFT + slot * (i + 0.5)
        bar_w = min(64.0, slot * 0.5)
        bars.append(
            {
                "name": row.name.upper(),
                "control": row.is_control,
                "significant": row.significant,
                "x": round(centre - bar_w / 2, 1),
                "width": round(bar_w, 1),
                "y": y(row.rate_pct or 0.0),
                "height": round(y(0.0) - y(row.rate_pct or 0.0), 1),
                "centre": round(centre, 1),
                "whisker_low": y(row.ci_low_pct or 0.0),
                "whisker_high": y(row.ci_high_pct or 0.0),
                "cap_left": round(centre - bar_w / 4, 1),
                "cap_right": round(centre + bar_w / 4, 1),
                "label": f"{row.rate_pct:.2f} %",
                "title": f"{row.name.upper()}: {row.rate_pct:.2f} % (95 % CI {row.ci_low_pct:.2f}–{row.ci_high_pct:.2f} %)",
            }
        )
    ticks = [{"y": y(top * k / 4), "label": f"{top * k / 4:g} %"} for k in range(5)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": y(0.0),
        "label_y": HEIGHT - BOTTOM + 16,
        "bars": bars,
        "ticks": ticks,
        "empty": not rows,
    }


def split_chart(report: Report) -> dict:
    """One horizontal 100 % bar of expected shares (weights) above one of observed visitor shares."""
    rows = [row for row in report.rows if row.expected_share or row.observed_share]
    width = WIDTH - LEFT - RIGHT

    def segments(attr: str) -> list[dict]:
        out, x = [], float(LEFT)
        for index, row in enumerate(rows):
            share = getattr(row, attr) or 0.0
            w = width * share
            out.append(
                {
                    "x": round(x, 1),
                    "width": round(w, 1),
                    "name": row.name.upper(),
                    "pct": f"{share * 100:.1f} %",
                    "shade": index % 5,
                    "wide": w > 48,
                }
            )
            x += w
        return out

    return {
        "width": WIDTH,
        "left": LEFT,
        "expected": segments("expected_share"),
        "observed": segments("observed_share") if report.total_visitors else [],
        "flagged": report.split.flagged,
    }
