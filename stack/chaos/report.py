"""The report: a fixed-width table on the terminal and the JSON file tests and CI read."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .accounting import Result

COLUMNS = [
    ("#", 2),
    ("scenario", 19),
    ("requests", 8),
    ("failed 1st try", 26),
    ("retries", 7),
    ("acked", 6),
    ("in DB", 6),
    ("dup", 4),
    ("lost", 4),
    ("p50 ms", 7),
    ("p99 ms", 8),
    ("result", 6),
]


def fmt_kinds(counter: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(counter.items(), key=lambda kv: -kv[1])) or "0"


def table(results: list[Result]) -> str:
    def row(cells):
        return "  ".join(
            str(c).ljust(w) if i == 1 or i == 3 else str(c).rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=False))
        )

    lines = [row([name for name, _ in COLUMNS]), "  ".join("-" * w for _, w in COLUMNS)]
    for r in results:
        d = r.as_dict()
        lines.append(
            row(
                [
                    r.number,
                    r.name,
                    d["requests"],
                    fmt_kinds(d["failed_by_kind"]),
                    d["retries"],
                    d["orders_acked"],
                    d["orders_in_db"],
                    d["duplicates"],
                    d["lost"],
                    "-" if d["p50_ms"] is None else f"{d['p50_ms']:.0f}",
                    "-" if d["p99_ms"] is None else f"{d['p99_ms']:.0f}",
                    ("PASS*" if d["timing_over"] else "PASS") if r.passed else "FAIL",
                ]
            )
        )
    over = [f"  {r.number}: {d}" for r in results if r.passed for d in r.as_dict()["timing_over"]]
    if over:
        lines += ["", "PASS*: a speed target missed, reported but not enforced in --short (make chaos enforces it):", *over]
    kinds = [f"  {r.number}: {fmt_kinds(r.as_dict()['errors_by_kind'])}" for r in results if r.stats.errors]
    if kinds:
        lines += ["", "every failed attempt, retries included, by kind:", *kinds]
    return "\n".join(lines)


def write_json(path: Path, results: list[Result], args, broken: list[str], started: float) -> dict:
    """reports/chaos.json: the run's settings, each scenario's row and the table as printed."""
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - (time.monotonic() - started))),
        "seconds": round(time.monotonic() - started, 1),
        "short": args.short,
        "order_rate": args.rate,
        "view_rate": args.views,
        "duration": args.duration,
        "broken_releases": broken,
        "expect_broken": args.expect_broken,
        "scenarios": [r.as_dict() for r in results],
        "table": table(results),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report
