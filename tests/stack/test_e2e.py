"""End to end: the real local stack on PostgreSQL. Orders placed anywhere are seen everywhere."""

from __future__ import annotations

import collections
import time

import pytest
import requests

from stack.haproxy import COOKIE
from stack.rollout import roll

from stack_support import broken_copy, place_order, staff_session

pytestmark = pytest.mark.stack


def test_orders_from_the_split_and_each_variant_appear_on_every_staff_table(stack):
    placed = {}
    for i in range(6):  # through the load balancer, a new visitor each time
        reference, served_by = place_order(requests.Session(), stack.url().rstrip("/"), f"split-{i}")
        placed[reference] = served_by
    for name in stack.names:  # straight to each variant
        reference, served_by = place_order(requests.Session(), stack.variant_url(name).rstrip("/"), f"direct-{name}")
        assert served_by == name
        placed[reference] = served_by
    for viewer in stack.names:
        table = staff_session(stack.variant_url(viewer).rstrip("/")).get(stack.variant_url(viewer, "/staff/orders/"), timeout=10)
        assert table.headers["X-Pizza-Variant"] == viewer
        for reference, served_by in placed.items():
            assert reference in table.text, f"order {reference} from {served_by} missing on {viewer}'s table"
    assert set(placed.values()) == set(stack.names)


def test_split_follows_the_weights_and_sticks(stack):
    counts = collections.Counter()
    for _ in range(300):
        counts[requests.get(stack.url("/healthz"), timeout=5).headers["X-Pizza-Variant"]] += 1
    assert set(counts) == set(stack.names)
    for name in stack.names:  # 34/33/33: each gets roughly a third (binomial, 300 draws)
        assert 60 <= counts[name] <= 150, counts
    visitor = requests.Session()
    first = visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"]
    assert visitor.cookies.get(COOKIE) == first
    assert {visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] for _ in range(20)} == {first}


def test_only_ready_variants_get_traffic_and_sticky_visitors_move_on(stack):
    visitor = requests.Session()
    visitor.cookies.set(COOKIE, "b")
    assert visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] == "b"
    stack.stop_variant("b")
    try:
        deadline = time.monotonic() + 10
        while stack.server_states().get("b1") != "DOWN" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stack.server_states()["b1"] == "DOWN"
        served = collections.Counter(requests.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] for _ in range(60))
        assert "b" not in served and sum(served.values()) == 60
        assert visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] in {"a", "c"}
    finally:
        stack.start_variant("b")
        assert stack.wait_ready("b", timeout=30)


def test_a_release_that_cannot_start_is_caught_and_named(stack, tmp_path):
    """The deploy's gate, locally: a build that never becomes ready fails its rollout with a
    non-zero result naming the release, and the previous version keeps serving."""
    result = roll(stack, "c", app_dir=broken_copy(tmp_path, stack_app_dir()), deadline=15)
    assert not result.ok
    assert "rollout of release pizza-c failed" in result.message
    assert "broken build" in result.message
    assert requests.get(stack.variant_url("c", "/readyz"), timeout=5).status_code == 200
    assert stack.server_states()["c2"] == "DOWN"


def test_rolling_a_good_release_swaps_slots_without_downtime(stack):
    result = roll(stack, "a", deadline=30)
    assert result.ok, result.message
    assert ("a", 2) in stack.processes and ("a", 1) not in stack.processes
    assert requests.get(stack.variant_url("a", "/readyz", slot=2), timeout=5).status_code == 200


def test_the_rollout_gate_command_exits_non_zero_naming_the_release(stack, tmp_path):
    import subprocess
    import sys

    from stack.local import REPO_ROOT

    result = subprocess.run(
        [sys.executable, "-m", "stack.rollout_gate", "--url", stack.variant_url("c", "/readyz"), "--release", "pizza-c",
         "--deadline", "3"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "stack.rollout_gate", "--url", "http://127.0.0.1:38099/readyz", "--release", "pizza-c",
         "--deadline", "3"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "release pizza-c never became ready within 3s" in result.stderr


def stack_app_dir():
    from stack.local import APP_DIR

    return APP_DIR


def test_an_oversized_form_through_haproxy_gets_the_413_page_never_a_reset(stack):
    """10 MB form bodies: the app drains them and answers its themed 413 naming the limit (issue 16);
    above the drain cap HAProxy refuses them itself with 413. Ten of ten answered, no resets."""
    from config.limits import MAX_DRAIN_BYTES

    body = b"comments=" + b"x" * (10 * 1024 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(10):
        response = requests.post(stack.url("/order/"), data=body, headers=form, timeout=30)
        assert response.status_code == 413
        assert "256 KB" in response.text and "data-theme=" in response.text
    huge = requests.post(stack.url("/order/"), data=b"x" * (MAX_DRAIN_BYTES + 1), headers=form, timeout=30)
    assert huge.status_code == 413
