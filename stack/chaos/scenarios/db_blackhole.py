"""7. The database vanishes: every packet to PostgreSQL silently dropped (no RST) for a while, then
the network returns. No request hangs past a stated bound, customers get 503 + Retry-After, no
gunicorn worker is killed for timeout, every variant serves again within 5 s, nothing lost."""

from __future__ import annotations

import threading
import time

from config.settings import base as app_settings

from ...http import http_get
from ..harness import say

NUMBER = 7
NAME = "database blackhole"
NEEDS_NETWORK = True
# The longest a request may take while the database is unreachable: a persistent connection found
# dead (tcp_user_timeout), one reconnect that gets no SYN-ACK (connect_timeout), HAProxy's queue
# (timeout queue 1s) and 3 s for a loaded machine. gunicorn's timeout is 30 s.
# DETECTION: how long the app itself takes to give up on a database that went silent.
DETECTION = app_settings.DATABASE_TCP_USER_TIMEOUT_MS / 1000 + app_settings.DATABASE_CONNECT_TIMEOUT
BOUND = DETECTION + 1 + 3
RECOVERY = 5.0
# What a customer may see meanwhile: a 503 that says when to retry, or the API's 409 in flight.
# 409: the API's Idempotency-Key still in flight (Retry-After: 1). An attempt cut off by the outage could not
# release its key; the retry waits, then takes it over (api/idempotency.py) and finds or makes the order once.
ALLOWED = {"503_app", "503_lb", "409"}


def probe_loop(h, variant: str, slot: int, stop: threading.Event, probes: list) -> None:
    """The app itself, bypassing HAProxy: what a request gets while the database is gone."""
    while not stop.is_set():
        start = time.monotonic()
        try:
            status, headers, body = http_get(
                h.stack.variant_url(variant, "/api/v1/menu", slot), timeout=30, headers={"Accept": "application/json"}
            )
        except OSError:
            status, headers, body = 0, {}, b""
        probes.append((variant, status, "Retry-After" in headers, b"Traceback" in body, time.monotonic() - start))
        stop.wait(0.3)


def serves_again(h, variant: str, slot: int, timeout: float) -> float | None:
    """Seconds until the variant answers a database-backed page directly AND HAProxy routes to it."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            status, _, _ = http_get(h.stack.variant_url(variant, h.order_path, slot), timeout=BOUND, headers={"Accept": "application/json"})
        except OSError:
            status = 0
        if status == 200 and h.stack.server_states().get(f"{variant}{slot}") == "UP":
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def run(h, result) -> None:
    seconds = h.args.blackhole
    probes: list = []
    offsets = h.log_offsets()
    window: dict[str, float] = {}
    h.run_load_scenario(result, lambda load: blackhole(h, result, seconds, probes, window))
    check_outage(result, h.logs_since(offsets), probes, window)


def blackhole(h, result, seconds: float, probes: list, window: dict[str, float]) -> None:
    """The action under load: the network cut for `seconds` while every variant is probed directly,
    then how soon each variant serves again."""
    stop = threading.Event()
    window["cut"] = time.monotonic()
    h.network.blackhole()
    say(f"  network to PostgreSQL blackholed (nftables drop, both ways) for {seconds:g}s")
    threads = [threading.Thread(target=probe_loop, args=(h, v, s, stop, probes), daemon=True) for v, s in h.active.items()]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    dropped = h.network.dropped()
    h.network.restore()
    window["back"] = back = time.monotonic()
    say("  network restored")
    result.check("the blackhole was real: packets were dropped", dropped > 0)
    result.notes.append(f"{dropped} packets dropped in {back - window['cut']:.1f}s")
    results = serving_times(h)
    for thread in threads:
        thread.join(BOUND + 5)
    late = {v: t for v, t in results.items() if t is None or t > RECOVERY}
    result.notes.append(
        "serving again after the network returned: "
        + ", ".join(f"{v} {'never' if t is None else f'{t:.1f}s'}" for v, t in sorted(results.items()))
    )
    result.check(f"every variant serves again (direct and through HAProxy) within {RECOVERY:g}s of the network returning", not late)


def serving_times(h) -> dict[str, float | None]:
    """Per variant, seconds until it serves again (serves_again, in parallel, 30 s at most)."""
    results: dict[str, float | None] = {}
    waiters = [
        threading.Thread(target=lambda v=v, s=s: results.__setitem__(v, serves_again(h, v, s, 30)), daemon=True)
        for v, s in h.active.items()
    ]
    for thread in waiters:
        thread.start()
    for thread in waiters:
        thread.join()
    return results


def check_outage(result, logs: str, probes: list, window: dict[str, float]) -> None:
    """What customers and the direct probes saw during the cut: bounded, 503 + Retry-After, no worker killed."""
    attempts = result.stats.attempt_log
    longest = max((a[1] for a in attempts), default=0.0)
    during = [a for a in attempts if window.get("cut", 0) <= a[0] <= window.get("back", 0) + BOUND]
    kinds = {a[2] for a in during if a[2]}
    result.notes.append(
        f"bound {BOUND:g}s; longest attempt {longest:.1f}s; attempts ending during the cut: {len(during)}, failed by kind {sorted(kinds)}"
    )
    direct = [p for p in probes if p[1] != 200]
    result.notes.append(f"direct probes: {len(probes)}, {len(direct)} not 200, longest {max((p[4] for p in probes), default=0):.1f}s")
    # A direct probe may wait for a gunicorn thread (they are all stuck on the database) and be
    # served after the network is back: a 200 is fine if it came within the bound.
    result.check(f"no request took longer than {BOUND:g}s (longest {longest:.1f}s)", longest <= BOUND)
    result.check(
        "customers saw only 503 with Retry-After (never a 500, a 503 without Retry-After, or a hung connection)",
        set(result.stats.errors) <= ALLOWED,
    )
    result.check(
        "the app itself answered 503 + Retry-After (no traceback) or served, always within the bound",
        bool(probes) and all((s == 200 or (s == 503 and ra and not tb)) and d <= BOUND for _, s, ra, tb, d in probes),
    )
    result.check("customers were told 503 + Retry-After while the database was gone (the fault bit)", bool(result.stats.errors))
    result.check("no gunicorn worker was killed for timeout", "WORKER TIMEOUT" not in logs)
