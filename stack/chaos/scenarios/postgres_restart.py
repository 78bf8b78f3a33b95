"""4. PostgreSQL stopped and started again mid-load: the app answers 503 with Retry-After, never a
500, and every variant is ready again by itself."""

from __future__ import annotations

import time
from collections import Counter

from ...http import http_get
from ..faults.database import Outage
from ..harness import say

NUMBER = 4
NAME = "PostgreSQL restart"
# Errors a client may see while PostgreSQL is down: the app's 503 (with Retry-After) and the load
# balancer's own answers when it has marked every variant unready. Never a 500.
# 409: the API's Idempotency-Key still in flight (Retry-After: 1). An attempt cut off by the outage could not
# release its key; the retry waits, then takes it over (api/idempotency.py) and finds or makes the order once.
OUTAGE_ERRORS = {"503_app", "503_lb", "502_lb", "504_lb", "conn_error", "timeout", "409"}


# Probed: an order's JSON status (h.order_path) reads the database on every request; the landing
# page, the order form and the API's menu may be answered from the cache (the menu, the form's fields).
NEEDS_DATABASE = "/api/v1/orders/"
CACHED = (("/", "text/html"), ("/order/", "text/html"), ("/api/v1/menu", "application/json"))


def probe(h, probes: list) -> None:
    """The app itself, bypassing the load balancer: every serving process, HTML and JSON."""
    for variant, slot in h.active.items():
        for path, accept in ((h.order_path, "application/json"), *CACHED):
            try:
                status, headers, body = http_get(h.stack.variant_url(variant, path, slot), timeout=5, headers={"Accept": accept})
            except OSError:
                status, headers, body = 0, {}, b""
            probes.append((f"{variant}{path}", status, "Retry-After" in headers, b"Traceback" in body))


def run(h, result) -> None:
    seconds = h.args.outage
    probes: list[tuple[str, int, bool, bool]] = []

    def action(load):
        with Outage(h.pg) as outage:
            say(f"  PostgreSQL stopped; down for {seconds:g}s")
            time.sleep(min(0.5, seconds / 4))
            while time.monotonic() - outage.down < seconds:
                probe(h, probes)
                time.sleep(0.5)
        say("  PostgreSQL started again")
        recovered = [h.stack.wait_server(v, s, lambda st: st == "UP", timeout=30) for v, s in h.active.items()]
        if None in recovered:
            result.check("every variant ready again by itself", False)
        else:
            result.notes.append(
                f"PostgreSQL down {outage.back - outage.down:.1f}s; every variant UP again {max(recovered):.1f}s after it was back"
            )
            result.check("every variant ready again by itself within 15s", max(recovered) <= 15)
        outage_served = load.stats.served_by(outage.down, outage.back)
        result.notes.append(f"answers served during the outage: {sum(outage_served.values())}")

    h.run_load_scenario(result, action)
    errors = set(result.stats.errors)
    result.notes.append(f"direct probes during the outage: {Counter((p[1], p[2]) for p in probes)}")
    result.check(
        "direct requests to the app during the outage: an order's status always 503 with Retry-After; "
        "every answer a 503 with Retry-After or served (from the cache), never a traceback",
        bool(probes)
        and all(status == 503 and retry for where, status, retry, _ in probes if NEEDS_DATABASE in where)
        and all((status == 200 or (status == 503 and retry)) and not trace for _, status, retry, trace in probes),
    )
    result.check("clients saw only 503 (app, with Retry-After) or load-balancer errors; never a 500", errors <= OUTAGE_ERRORS)
