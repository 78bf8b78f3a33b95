"""`make bench --quick` runs to the end and fills every row of its table with numbers.

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

EXPECTED = [
    "ceiling: bare WSGI, plain GET",
    "order flow, direct to variant A",
    "order flow, HAProxy -> A/B/C split",
    "order flow, HAProxy -> A only",
    "order flow, A, log + exposures ON (default)",
    "order flow, A, request log only",
    *[
        f"staff {page} @ {size}"
        for page in ("first page", "deep page (keyset, half-way)", "status=baking", "search by phone")
        for size in ("1,000", "100,000")
    ],
    "worker RSS after 100,000-order run (A)",
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
        [sys.executable, "-m", "stack.bench", "--quick", "--reports", str(tmp_path), "--port", str(port), "--db-name", "pizza_bench_smoke"],
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
        if row["target"]:
            assert row["result"] in ("PASS", "MISS"), (name, row)
            assert isinstance(row["value"], (int, float)) and math.isfinite(row["value"]), (name, row)
    assert (tmp_path / "bench.md").read_text().count("\n|") >= len(EXPECTED)
    # every table row also reached the terminal
    for name in EXPECTED:
        assert name in result.stdout
