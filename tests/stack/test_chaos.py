"""The short form of `make chaos`: every fault scenario once, a few seconds each, with its invariants.

One run of `python -m stack.chaos --short` (its own disposable PostgreSQL cluster, its own ports)
serves every test here; each test reads its scenario's row of the JSON report, so a failure names
the scenario and the check that broke.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from stack.chaos import SCENARIOS, exit_status
from stack_support import run_harness

# The stack's port base (it uses base..base+99): away from `make up` (8000), `make chaos` (18000), the e2e tests
# and the bench; CHAOS_PORT moves it, so two runs can share a machine.
PORT = os.environ.get("CHAOS_PORT", "18100")

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def chaos(tmp_path_factory):
    # (run, report, pid): the pid names its network namespace
    return run_harness("stack.chaos", PORT, tmp_path_factory.mktemp("chaos") / "chaos.json", timeout=1500)


def scenario(data: dict, number: int) -> dict:
    rows = {row["scenario"]: row for row in data["scenarios"]}
    assert number in rows, f"scenario {number} did not run"
    return rows[number]


def assert_accounting(row: dict) -> None:
    """The invariant every scenario ends with."""
    assert row["error"] is None, row["error"]
    assert row["orders_acked"] > 0
    assert row["lost"] == 0, "an acknowledged order is missing from the database"
    assert row["duplicates"] == 0
    assert row["extra"] == 0, "the database holds orders the client never sent"
    assert row["orders_in_db"] >= row["orders_acked"]
    assert not row["unresolved"], f"requests that never succeeded: {row['unresolved']}"
    failed = [c["check"] for c in row["checks"] if not c["ok"] and not c.get("timing")]  # speed targets: make chaos
    assert not failed, (
        f"scenario {row['scenario']} ({row['name']}): {failed}\nnotes: {row['notes']}\nfailed attempts by kind: {row['errors_by_kind']}"
    )
    assert row["result"] == "PASS"


def test_the_full_short_run_passes_and_prints_the_table(chaos):
    run, data, _ = chaos
    assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    assert [row["scenario"] for row in data["scenarios"]] == sorted(SCENARIOS)
    for column in ("requests", "failed 1st try", "retries", "acked", "in DB", "dup", "lost", "p50 ms", "p99 ms", "result"):
        assert column in run.stdout
    assert "release pizza-" in run.stdout and "never became ready" in run.stdout


def test_1_rolling_restart_fails_no_request(chaos):
    row = scenario(chaos[1], 1)
    assert_accounting(row)
    assert row["failed_requests"] == 0 and not row["errors_by_kind"], row["errors_by_kind"]
    assert sum(1 for c in row["checks"] if "ready (HAProxy UP) before" in c["check"]) == 3


def test_2_mixed_versions_fail_no_request_on_any_variant(chaos):
    row = scenario(chaos[1], 2)
    assert_accounting(row)
    assert row["failed_requests"] == 0 and not row["errors_by_kind"], row["errors_by_kind"]
    assert set(row["served_by"]) >= {"a", "b", "c"}


def test_3_sigkill_loses_and_duplicates_nothing(chaos):
    row = scenario(chaos[1], 3)
    assert_accounting(row)
    assert not any(kind.startswith("500") for kind in row["errors_by_kind"])


def test_4_postgresql_restart_answers_503_and_recovers(chaos):
    row = scenario(chaos[1], 4)
    assert_accounting(row)
    assert not any(kind.startswith("500") or "no_retry_after" in kind for kind in row["errors_by_kind"])


def test_5_broken_release_is_named_and_gets_no_traffic(chaos):
    row = scenario(chaos[1], 5)
    assert_accounting(row)
    assert row["broken_release"] == "pizza-c"
    assert row["failed_requests"] == 0
    assert chaos[1]["broken_releases"] == ["pizza-c"] and chaos[1]["expect_broken"] is True


def test_6_staff_contention_has_exactly_one_winner(chaos):
    row = scenario(chaos[1], 6)
    assert_accounting(row)
    assert any("{409: 49, 200: 1}" in note or "{200: 1, 409: 49}" in note for note in row["notes"]), row["notes"]


def assert_no_500(row: dict) -> None:
    assert not any(kind.startswith("500") or "traceback" in kind or "no_retry_after" in kind for kind in row["errors_by_kind"]), row[
        "errors_by_kind"
    ]


def test_7_database_blackhole_answers_503_within_the_bound_and_recovers(chaos):
    row = scenario(chaos[1], 7)
    assert_accounting(row)  # includes: no request past the bound, no WORKER TIMEOUT, back within 5 s
    assert_no_500(row)
    # 409: the API's Idempotency-Key still in flight after an attempt the outage cut off (Retry-After: 1).
    assert set(row["errors_by_kind"]) <= {"503_app", "503_lb", "409"}, row["errors_by_kind"]


def test_8_slow_database_gives_no_5xx_and_keeps_liveness(chaos):
    row = scenario(chaos[1], 8)
    assert_accounting(row)
    assert not row["errors_by_kind"], row["errors_by_kind"]


def test_9_overload_is_shed_at_the_load_balancer(chaos):
    row = scenario(chaos[1], 9)
    assert_accounting(row)
    assert row["errors_by_kind"].get("503_lb", 0) > 0, "nothing was shed: the surge did not overload the stack"
    assert set(row["errors_by_kind"]) <= {"503_lb", "503_app"}, row["errors_by_kind"]


def test_10_database_out_of_connections_answers_503(chaos):
    row = scenario(chaos[1], 10)
    assert_accounting(row)
    assert_no_500(row)


def test_11_soak_with_random_faults_loses_nothing_and_does_not_leak(chaos):
    row = scenario(chaos[1], 11)
    assert_accounting(row)
    assert any(c["check"].startswith("fault ") for c in row["checks"]), row["notes"]


def test_12_cache_and_replica_down_cost_no_request_and_both_are_used_again(chaos):
    row = scenario(chaos[1], 12)
    assert_accounting(row)  # includes: every direct read 200 from the fault on, keys in Redis and reads on the standby again
    assert_no_500(row)
    # Both tiers are optional: the app itself never fails; only the load balancer's queue may shed on a busy machine.
    assert set(row["errors_by_kind"]) <= {"503_lb", "409"}, row["errors_by_kind"]
    assert any(c["check"].startswith("the standby serves the app's reads again") and c["ok"] for c in row["checks"]), row["notes"]


def test_the_run_leaves_no_network_namespace_behind(chaos):
    from stack.chaos.faults.network import PREFIX

    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    assert not [n for n in names if n.startswith(PREFIX) and n[len(PREFIX) :].split("x")[0] == f"{chaos[2]:x}"]


def test_exit_status_rule():
    assert exit_status([], [], expect_broken=False) == (0, "")
    assert exit_status([], ["pizza-c"], expect_broken=True) == (0, "")
    status, reason = exit_status([], ["pizza-c"], expect_broken=False)  # `--scenario 5` on its own
    assert status == 1 and reason == "release pizza-c never became ready"
    assert exit_status([3], ["pizza-c"], expect_broken=True)[0] == 1
