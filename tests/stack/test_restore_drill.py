"""The short form of `make restore-drill`: one point-in-time restore under live orders (no bulk rows,
3 seconds of orders on each side of T), its own clusters and ports; each test reads one of its checks."""

from __future__ import annotations

import os

import pytest

from stack.drill.report import details
from stack.drill.run import Options, run
from stack.local.ports import port_of

# The drill's port base (the stack base..base+99, the clusters base+100, base+101): its own block of
# the test run (stack/local/ports.py TEST_PORTS); DRILL_PORT moves it.
PORT = int(os.environ.get("DRILL_PORT", port_of("restore_drill")))

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def drill():
    done = run(Options(port=PORT, lead=3.0, rate=15.0))
    print(details(done))
    assert done.result.error is None, details(done)
    return done


def check(drill, starts: str) -> bool:
    found = [ok for description, ok in drill.result.checks if description.startswith(starts)]
    assert found, f"no check starting {starts!r}:\n{details(drill)}"
    return all(found)


def test_orders_acknowledged_before_t_are_restored_exactly_once(drill):
    assert drill.figures["acked_before_t"] > 0
    assert drill.figures["lost_before_t"] == 0
    assert drill.figures["duplicates"] == 0


def test_orders_sent_after_t_are_not_restored(drill):
    # a restore to the end of the archive (the target ignored) would bring these back
    assert drill.figures["sent_after_t"] > 0
    assert drill.figures["present_after_t"] == 0
    assert drill.figures["extra"] == 0


def test_schema_and_migration_state_survive(drill):
    assert check(drill, "schema intact")
    assert check(drill, "migration state intact")


def test_the_app_starts_and_writes_on_the_restored_cluster(drill):
    assert check(drill, "every release answers /readyz ready")
    assert check(drill, "a new order is accepted and stored")
    assert 0 < drill.figures["restore_s"] <= drill.figures["rto_s"]
