"""10. PostgreSQL out of connections: another client holds every slot of max_connections. The app
answers 503 + Retry-After, never 500, and recovers once the connections are free again."""

from __future__ import annotations

import time

import psycopg2

from ..harness import say
from .postgres_restart import probe

NUMBER = 10
NAME = "DB out of connections"
# 409: the API's Idempotency-Key still in flight (Retry-After: 1). An attempt cut off by the outage could not
# release its key; the retry waits, then takes it over (api/idempotency.py) and finds or makes the order once.
ALLOWED = {"503_app", "503_lb", "409"}


def grab(url: str, hog: list) -> None:
    """Open connections until the server refuses ("too many clients")."""
    while True:
        try:
            hog.append(psycopg2.connect(url, connect_timeout=3, application_name="chaos-hog"))
        except psycopg2.OperationalError:
            return


def run(h, result) -> None:
    seconds = 5.0 if h.args.short else 15.0
    probes: list = []
    url = h.pg.url

    def action(load):
        hog: list = []
        try:
            grab(url, hog)
            limit = hog[0].cursor()
            limit.execute("SHOW max_connections")
            say(f"  another client holds {len(hog)} connections (max_connections {limit.fetchone()[0]}); the app's are ended")
            start = time.monotonic()
            while time.monotonic() - start < seconds:
                # The app's sessions end (a recycled pod, a failover) and the hog takes their slots.
                cursor = hog[0].cursor()
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pizza-%'")
                grab(url, hog)
                probe(h, probes)
                time.sleep(0.3)
            result.notes.append(f"the hog held {len(hog)} connections for {seconds:g}s")
        finally:
            for conn in hog:
                conn.close()
        say("  connections released")
        released = time.monotonic()
        recovered = [h.stack.wait_server(v, s, lambda st: st == "UP", timeout=30) for v, s in h.active.items()]
        ok = None not in recovered
        result.notes.append("every variant UP again " + (f"{time.monotonic() - released:.1f}s after the release" if ok else "NEVER"))
        result.check("every variant ready again by itself within 15s of the release", ok and time.monotonic() - released <= 15)

    h.run_load_scenario(result, action)
    refused = [p for p in probes if p[1] != 200]
    result.notes.append(f"direct probes: {len(probes)}, {len(refused)} refused")
    result.check(
        "the app itself answered 503 with Retry-After and no traceback when it had no connection",
        bool(refused) and all(status == 503 and retry and not trace for _, status, retry, trace in refused),
    )
    result.check("customers saw only 503 (or the API's 409 in flight) with Retry-After, never a 500", set(result.stats.errors) <= ALLOWED)
