"""The short form of `make canary`: a good and a bad build of variant A as canaries under load.

One run of `python -m stack.deploy.canary_demo --short` (its own PostgreSQL cluster and ports, the
chaos harness's load and accounting) serves every test here; each reads the JSON report.
"""

from __future__ import annotations

import os

import pytest

from stack.deploy.canary_demo import failed_on_5xx
from stack_support import run_harness

# The stack's port base (base..base+99), away from `make canary` (18200) and the chaos tests; CANARY_PORT moves it.
PORT = os.environ.get("CANARY_PORT", "18300")

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run, data, _ = run_harness("stack.deploy.canary_demo", PORT, tmp_path_factory.mktemp("canary") / "canary.json", timeout=900)
    failed = [c["check"] for c in data["checks"] if not c["ok"]]
    assert run.returncode == 0 and not failed, f"{failed}\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    return {row["name"]: row for row in data["outcomes"]}


def assert_exactly_once(row: dict) -> None:
    assert row["orders_acked"] > 0
    assert (row["lost"], row["duplicates"], row["extra"]) == (0, 0, 0)
    assert not row["unresolved"], row["unresolved"]


def test_a_good_build_is_promoted_with_no_failed_request(report):
    good = report["good"]
    assert good["outcome"] == "promoted", good["message"]
    assert [s["verdict"] for s in good["steps"]] == ["pass", "pass"]
    assert good["failed_requests"] == 0 and not good["errors_by_kind"], good["errors_by_kind"]
    assert good["canary_requests"] > 0
    assert_exactly_once(good)


def test_a_build_failing_one_order_in_five_is_rolled_back_by_its_order_errors(report):
    bad = report["bad"]
    assert bad["outcome"] == "rolled back", bad["message"]
    assert bad["steps"][-1]["verdict"] == "fail"
    assert failed_on_5xx(bad["failed_analysis"]), bad["failed_analysis"]
    assert bad["rollback_seconds"] < 1.0  # weight 0 through the runtime API, not a restart
    assert_exactly_once(bad)  # the customers' retries (same token) were answered by the stable process


def test_only_a_few_customers_of_the_canaried_variant_saw_an_error(report):
    bad = report["bad"]
    assert 0 < bad["customers_with_error"] <= bad["canary_order_posts"]
    assert bad["customers_with_error_outside_variant"] == 0
    assert set(bad["failed_by_kind"]) <= {"500", "500_traceback"}
    # Bounded by the canary's share: the canary answered at most max_share% of its variant's requests.
    assert bad["canary_requests"] <= bad["variant_requests"] * bad["max_share"] / 100 + 5
    assert bad["customers_with_error"] < bad["visitors_of_variant"] * bad["max_share"] / 100


def test_visitors_of_the_canaried_variant_keep_their_variant(report):
    for row in report.values():
        assert row["visitors_of_variant"] > 0
        assert row["visitors_switched_variant"] == 0
