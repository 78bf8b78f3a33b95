"""`make bench --quick` runs to the end and fills every row of its table with numbers, each beside a
reference measured in the same run, with no failed requests.

Only that: whether the targets are met is the benchmark's verdict (`make bench`), not a timed test's.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stack.local.ports import port_of

REPO_ROOT = Path(__file__).resolve().parents[2]

# Small sizes: the smoke checks the report's shape, not the figures (the full run seeds 1,000,000 rows).
STAFF_SIZES = ("1,000", "10,000")
EXPERIMENT_SIZES = ("1,000", "20,000")
EXPECTED = [
    "ceiling: bare WSGI, plain GET",
    "floor: minimal Django order view, POST",
    "order POST, direct to variant A",
    "order flow, direct to variant A",
    "order flow, HAProxy -> A/B/C split",
    "order flow, HAProxy -> A only",
    "order flow, A, log + exposures ON (default)",
    "order flow, A, request log only",
    "order flow, A, exposure recording only",
    *[
        f"staff {page} @ {size}"
        for page in ("first page", "deep page (keyset, half-way)", "status=baking", "search by phone")
        for size in STAFF_SIZES
    ],
    *[f"Experiment {kind} @ {size} exposures" for kind in ("page", "CSV") for size in EXPERIMENT_SIZES],
    f"worker RSS after {STAFF_SIZES[-1]}-order run (A)",
]
# Rows measured against a reference, with a PASS/MISS target (issue 18).
TARGETED = [
    "order POST, direct to variant A",
    "order flow, direct to variant A",
    "order flow, HAProxy -> A/B/C split",
    f"staff first page @ {STAFF_SIZES[-1]}",
    f"staff deep page (keyset, half-way) @ {STAFF_SIZES[-1]}",
    f"Experiment page @ {EXPERIMENT_SIZES[-1]} exposures",
    f"Experiment CSV @ {EXPERIMENT_SIZES[-1]} exposures",
    f"worker RSS after {STAFF_SIZES[-1]}-order run (A)",
]


@pytest.mark.stack
@pytest.mark.slow
def test_quick_bench_completes_with_every_row(tmp_path):
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.fail("TEST_DATABASE_URL is not set: run the tests with `make test`")
    if not (shutil.which("wrk") or Path("/usr/bin/wrk").exists()):
        pytest.skip("wrk is not installed (apt-get install -y wrk): `make bench` needs it")
    # Its own block of the test run (stack/local/ports.py TEST_PORTS), so two runs can share a machine.
    port = port_of("bench_smoke")
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stack.bench",
            "--quick",
            "--reports",
            str(tmp_path),
            "--port",
            str(port),
            "--db-name",
            "pizza_bench_smoke",
            "--sizes",
            ",".join(STAFF_SIZES).replace(",000", "000"),
            "--experiment-sizes",
            ",".join(EXPERIMENT_SIZES).replace(",000", "000"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"bench --quick failed after {elapsed:.0f}s:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    report = json.loads((tmp_path / "bench.json").read_text())
    rows = {row["measurement"]: row for row in report["rows"]}
    missing = [name for name in EXPECTED if name not in rows]
    assert not missing, f"rows missing from the table: {missing}\n{result.stdout[-2000:]}"
    for name, row in rows.items():
        assert isinstance(row["number"], (int, float)) and math.isfinite(row["number"]) and row["number"] > 0, (name, row)
        if row["ratio"]:  # beside a reference measured in this run
            assert isinstance(row["value"], (int, float)) and math.isfinite(row["value"]) and row["value"] > 0, (name, row)
        if row["target"]:
            assert row["result"] in ("PASS", "MISS"), (name, row)
    for name in TARGETED:
        assert rows[name]["target"] and rows[name]["reference"] and rows[name]["result"] in ("PASS", "MISS"), rows[name]

    raw = report["raw"]
    # The references were really measured: the bare app outruns any Django flow; the floor stored its orders.
    ceiling = rows["ceiling: bare WSGI, plain GET"]["number"]
    assert all(ceiling > row["number"] for name, row in rows.items() if name.startswith(("order", "floor"))), rows
    assert raw["floor_orders_stored"] > 0
    # The product did the work it is measured for: orders stored, exposures recorded through the beacon.
    assert raw["orders_stored"] > 0 and raw["exposures_recorded"] > 0, raw
    assert raw["direct"]["beacons_per_s"] > 0 and raw["toggles"]["off"]["beacons_per_s"] == 0
    # No configuration failed more than the bench allows (it would have exited 1), and the run said so.
    loads = [raw[key] for key in ("ceiling", "floor_post", "post", "direct", "lb", "lb_a_only")] + list(raw["toggles"].values())
    for load in loads:
        requests = sum(run["requests"] for run in load["rounds"])
        assert load["errors"] <= max(10, 0.01 * requests), load
    assert (tmp_path / "bench.md").read_text().count("\n|") >= len(EXPECTED)
    # every table row also reached the terminal
    for name in EXPECTED:
        assert name in result.stdout
