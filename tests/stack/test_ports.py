"""The test run's port table (stack/local/ports.py TEST_PORTS): no two users share a port, and every
test reads its ports from the table, so a stack left over from one module, or one that lives for the
whole session (the browser's, the shared twins), never holds a port another stack wants."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from stack.local.ports import SPAN, TEST_PORTS, TEST_RUN_SPAN, PortPlan, port_of

REPO_ROOT = Path(__file__).resolve().parents[2]
EPHEMERAL_FIRST = 32768  # Linux's ip_local_port_range starts here: outgoing connections take ports above it


def test_no_two_users_of_a_test_run_share_a_port():
    ranges = {name: range(offset, offset + width) for name, (offset, width) in TEST_PORTS.items()}
    for (one, first), (other, second) in itertools.combinations(ranges.items(), 2):
        shared = set(first) & set(second)
        assert not shared, f"{one} and {other} share offsets {sorted(shared)[:5]}..."
    assert all(offset >= 0 and width >= 1 for offset, width in TEST_PORTS.values())


def test_every_stack_block_holds_a_whole_port_plan():
    # A name used as a PortPlan base must own the plan's whole range (entry .. Prometheus at +99).
    users = {"e2e", "bench_smoke", "replica", "restore_drill", "browser", "metrics_live", "pool_bench"}
    for name in users:
        offset, width = TEST_PORTS[name]
        assert width >= SPAN, name
        assert PortPlan(port_of(name)).last - port_of(name) < width, name


def test_make_tests_run_stays_below_the_ephemeral_range_and_apart_from_the_next_run():
    base = int(re.search(r"^TEST_PORT \?= (\d+)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1))
    assert base + TEST_RUN_SPAN <= EPHEMERAL_FIRST, f"make test's ports reach {base + TEST_RUN_SPAN - 1}"
    assert TEST_RUN_SPAN <= 1000, "runs whose bases are 1000 apart would overlap"


def test_port_of_follows_the_runs_base(monkeypatch):
    monkeypatch.setenv("PIZZA_TEST_PORT", "23000")
    assert (port_of("e2e"), port_of("metrics_live"), port_of("redis")) == (23000, 23600, 23479)
    with pytest.raises(KeyError, match="TEST_PORTS"):
        port_of("no_such_user")


def test_nothing_else_derives_ports_from_the_runs_base():
    """A test that adds its own offset to PIZZA_TEST_PORT escapes the overlap check above."""
    own = REPO_ROOT / "stack" / "local" / "ports.py"
    readers = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("app", "stack", "tests")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if path != own and re.search(r"environ(\.get\(|\[)\s*['\"]PIZZA_TEST_PORT", path.read_text())
    ]
    assert readers == [], f"read the port from stack.local.ports.port_of(<name in TEST_PORTS>) instead: {readers}"
