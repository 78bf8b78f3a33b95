"""8. A slow database: +200 ms each way on the network to PostgreSQL for a while. No 5xx, liveness
never fails as often in a row as the chart's rule restarts a pod (a slow database must not restart
pods), the order POST's p99 stays under a stated bound, and throughput recovers afterwards."""

from __future__ import annotations

import threading
import time

from ...deploy.releases import releases
from ...http import http_get
from ...stats import percentile
from ..harness import say

NUMBER = 8
NAME = "slow database"
NEEDS_NETWORK = True
DELAY_MS = 200
P99_BOUND = 10.0  # seconds for an order POST while every round trip to PostgreSQL takes 400 ms more
# A request holds its place (HAProxy lets 8 per process in, 24 in all) for every round trip it
# makes, so a 400 ms round trip cuts what the stack carries to a fraction: an order makes about six,
# ~2.5 s. This scenario runs at 3 orders/s + 1.5 page views/s, well within what 24 places carry at
# that latency (docs/chaos.md); the normal load would be shed as overload (scenario 9).
ORDERS, VIEWS = 3.0, 1.5


def liveness_rule(env: str) -> tuple[float, int]:
    """The kubelet's liveness rule as the chart deploys it: (timeoutSeconds, failureThreshold)."""
    probes = releases(env)[0]["values"]["probes"]
    return float(probes["livenessTimeoutSeconds"]), int(probes["livenessFailureThreshold"])


def liveness_loop(h, timeout: float, stop: threading.Event, probes: list) -> None:
    """Probes /healthz on every variant, far more often than the kubelet (every 0.5 s), so a run of
    failures here is a stricter test than the kubelet's."""
    while not stop.is_set():
        for variant, slot in h.active.items():
            start = time.monotonic()
            try:
                status, _, _ = http_get(h.stack.variant_url(variant, "/healthz", slot), timeout=timeout)
            except OSError:
                status = 0
            probes.append((variant, status, time.monotonic() - start))
        stop.wait(0.5)


def longest_failure_run(probes: list, variant: str) -> int:
    longest = run = 0
    for name, status, _ in probes:
        if name == variant:
            run = run + 1 if status != 200 else 0
            longest = max(longest, run)
    return longest


def run(h, result) -> None:
    seconds = max(h.args.duration, 6.0) if h.args.short else 30.0
    probes: list = []
    window = {}
    timeout, threshold = liveness_rule(h.args.env)

    def action(load):
        stop = threading.Event()
        prober = threading.Thread(target=liveness_loop, args=(h, timeout, stop, probes), daemon=True)
        prober.start()
        window["on"] = time.monotonic()
        mechanism = h.network.delay(DELAY_MS)
        say(f"  {mechanism}, for {seconds:g}s")
        time.sleep(seconds)
        h.network.restore()
        window["off"] = time.monotonic()
        say("  delay removed")
        time.sleep(max(h.args.lead, 3.0))
        stop.set()
        prober.join()
        result.notes.append(mechanism)

    h.run_load_scenario(result, action, rate_factor=(ORDERS + VIEWS) / max(h.args.rate + h.args.views, 0.1))
    attempts = result.stats.attempt_log
    on, off = window.get("on", 0), window.get("off", 0)
    slow_orders = [a[1] for a in attempts if a[3] and on + 1 <= a[0] <= off and a[2] is None]
    # Equal windows: just before the delay, and after it (1 s to settle). The load's first second is
    # left out of "before": it opens with a burst (every customer starts at once; 7 answers in it at
    # 4.5/s offered, on a host where the steady state was 4-5), which no later second repeats.
    span = max(h.args.lead - 1.0, 1.0)
    rate_before = len([a for a in attempts if on - span <= a[0] < on and a[2] is None]) / span
    rate_after = len([a for a in attempts if off + 1 <= a[0] < off + 1 + span and a[2] is None]) / span
    p99 = percentile(slow_orders, 99) if slow_orders else None
    dead = [p for p in probes if p[1] != 200]
    runs = {variant: longest_failure_run(probes, variant) for variant in h.active}
    result.notes.append(
        f"order POST p99 with the delay: {'-' if p99 is None else f'{p99 * 1000:.0f} ms'} over {len(slow_orders)} orders; "
        f"answers/s before {rate_before:.1f}, after {rate_after:.1f}; liveness probes {len(probes)}, failed {len(dead)}, "
        f"slowest {max((p[2] for p in probes), default=0):.1f}s, longest run of failures {max(runs.values(), default=0)}"
    )
    # Under the soak's background load a slow database is also an overload (its orders hold every
    # place in the servers for seconds): there HAProxy's shed, a 503 with Retry-After before the
    # request reaches a server (scenario 9), is the right answer; nothing else is.
    shed_ok = h.background is not None
    allowed = {"503_lb"} if shed_ok else set()
    result.check(
        "no 5xx at all (first attempts included)" + (", but HAProxy's shed under the soak's load" if shed_ok else ""),
        not any(k[0] == "5" or k in ("timeout", "conn_error") for k in set(result.stats.errors) - allowed),
    )
    result.check(
        f"no variant failed {threshold} liveness probes in a row (/healthz within {timeout:g}s: the kubelet would restart it)",
        bool(probes) and max(runs.values(), default=0) < threshold,
    )
    result.check(f"order POST p99 under the delay within {P99_BOUND:g}s", p99 is not None and p99 <= P99_BOUND, timing=True)
    result.check("throughput recovered after the delay (answers/s at least 80% of before)", rate_after >= 0.8 * rate_before, timing=True)
