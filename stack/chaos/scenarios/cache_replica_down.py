"""12. The optional tiers lost mid-load: the shared cache (Redis, the twin of ElastiCache) killed and
the read replica (a hot standby of the harness's PostgreSQL) stopped while orders continue. Both are
optimisations, never dependencies: no customer sees an error, every acknowledged order is stored
once, and when both come back the app uses them again (Redis holds keys again, the standby serves
the stale-tolerant reads again)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import requests

from ...http import http_get, staff_login
from ...local import PortPlan
from ...services.redis import RedisServer
from ...services.replica import Standby
from ..harness import STAFF_PASSWORD, say

NUMBER = 12
NAME = "cache and replica down"
# How long the app may take to use a tier again once it is back: the cache is left alone for
# config.cache.PAUSE_SECONDS (5) after a failure and the replica for config.routers.RETRY_SECONDS (5);
# then the next request tries it. Plus the load's own gaps and a busy machine.
BACK_WITHIN = 20.0
# A read the router sent to the replica: a SELECT on a table of config.routers.REPLICA_APPS, by a variant.
REPLICA_READ = re.compile(r'app=pizza-\S+ .*statement: SELECT .*"(orders|experiment)_')
# What the load balancer's own queue may shed on a 2-core machine shared with other runs (scenario
# 9's 1 s queue timeout), and the API's Idempotency-Key in flight: both retried, both carry Retry-After.
# The app itself must answer every request: no 503 of its own, which would mean a tier was a dependency.
TOLERATED = {"503_lb", "409"}
STAFF_TABLE = "/staff/orders/"
USED_WITHIN = 15.0  # seconds for the first read on the standby: the staff sessions' pin (5 s) and a busy machine


def replica_reads(standby: Standby, since: int) -> int:
    return sum(1 for line in standby.log_text()[since:].splitlines() if REPLICA_READ.search(line))


def readers(h, probes: list, stop: threading.Event, staff: dict) -> None:
    """Stale-tolerant pages straight from every variant without a pause, as visitors who have not
    written (no pin cookie): the load's visitors order, and an order pins them to the primary. So
    there is always a read in flight when a tier goes, including inside the second for which each
    process trusts its last health check of the replica. The customer pages come from the cache
    while Redis is up; the staff table (`staff`: a logged-in session per variant) is never cached,
    so it is the read that shows the replica in use."""
    while not stop.is_set():
        for variant, slot in h.active.items():
            for path in ("/", "/order/", "/api/v1/menu", STAFF_TABLE):
                try:
                    if path == STAFF_TABLE:
                        answer = staff[variant].get(h.stack.variant_url(variant, path, slot), timeout=10, allow_redirects=False)
                        status, body = answer.status_code, answer.content
                    else:
                        status, _, body = http_get(h.stack.variant_url(variant, path, slot), timeout=10)
                except (OSError, requests.RequestException):
                    status, body = 0, b""
                probes.append((time.monotonic(), f"{variant}{path}", status, b"Traceback" in body))


def staff_sessions(h) -> dict:
    """A kitchen session per variant, logged in through that variant's own login page."""
    return {variant: staff_login(h.stack.variant_url(variant, "", slot), "staff", STAFF_PASSWORD) for variant, slot in h.active.items()}


def redis_keys(redis: RedisServer) -> int:
    import redis as client

    try:
        return int(client.Redis(port=redis.port, socket_timeout=2).dbsize())
    except client.RedisError:
        return -1


def seconds_or_never(value: float | None) -> str:
    return "NEVER" if value is None else f"{value:.1f}s"


def wait_until(predicate, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.25)
    return None


def run(h, result) -> None:
    seconds = 6.0 if h.args.short else 15.0
    ports = PortPlan(h.args.port)
    redis = RedisServer(ports.cache)
    standby = Standby(h.pg, ports.replica)
    rolled: list[str] = []
    try:
        start_tiers(h, result, redis, standby, rolled)
        h.run_load_scenario(result, lambda load: lose_both_tiers(h, result, redis, standby, seconds))
    finally:
        restore(h, result, redis, standby, rolled)
    errors = set(result.stats.errors)
    result.notes.append(f"failed attempts by kind: {dict(result.stats.errors) or 'none'}")
    result.check("no 500 and no error from the app itself: the cache and the replica are optional", errors <= TOLERATED)


def start_tiers(h, result, redis: RedisServer, standby: Standby, rolled: list[str]) -> None:
    """Redis and a streaming standby up, every variant rolled onto both (`rolled` says which, for restore)."""
    redis.start()
    standby.create()
    standby.wait_streaming()
    say(f"  Redis on {redis.port}, a streaming standby on {standby.port}; rolling A/B/C onto both")
    # The app's database is "postgres" on the harness's cluster; the standby holds the same.
    env = {"REDIS_URL": redis.url, "DATABASE_REPLICA_URL": standby.url}
    for variant in h.stack.names:
        rolled.append(variant)
        h.roll(variant, result, env=env)
    standby.wait_caught_up()


def lose_both_tiers(h, result, redis: RedisServer, standby: Standby, seconds: float) -> None:
    """The action under load: both tiers used, both down for `seconds`, both back; direct readers throughout."""
    probes: list = []
    log_start = len(standby.log_text())
    stop = threading.Event()
    # Logging in writes, which pins each session to the primary for REPLICA_PIN_SECONDS: the wait
    # for the first read on the standby below allows for it.
    reader = threading.Thread(target=readers, args=(h, probes, stop, staff_sessions(h)), daemon=True)
    reader.start()
    try:
        wait_until(lambda: replica_reads(standby, log_start) > 0, USED_WITHIN)
        before = replica_reads(standby, log_start), redis_keys(redis)
        result.notes.append(f"before the fault: {before[0]} reads on the standby, {before[1]} keys in Redis")
        result.check("with both tiers up, the app used them (reads on the standby, keys in Redis)", before[0] > 0 and before[1] > 0)
        down = take_tiers_down(h, result, redis, standby, seconds)
        cache_back, replica_back = bring_tiers_back(result, redis, standby)
    finally:
        stop.set()
        reader.join(30)
    during = [p for p in probes if p[0] >= down]
    result.notes.append(f"direct reads from the fault on: {len(during)}, by status {dict(Counter(p[2] for p in during))}")
    result.check(
        "every stale-tolerant page answered 200 straight from the app, from the fault to the end",
        bool(during) and all(p[2] == 200 and not p[3] for p in during),
    )
    result.notes.append(
        f"back: Redis holds keys again {seconds_or_never(cache_back)}, "
        f"the standby serves reads again {seconds_or_never(replica_back)} "
        "after both were started"
    )
    result.check(f"Redis holds keys again within {BACK_WITHIN:g}s of its restart", cache_back is not None)
    result.check(f"the standby serves the app's reads again within {BACK_WITHIN:g}s of its restart", replica_back is not None)


def take_tiers_down(h, result, redis: RedisServer, standby: Standby, seconds: float) -> float:
    """Redis killed and the standby stopped for `seconds`; returns when they went (monotonic)."""
    offsets = h.log_offsets()
    redis.kill()
    standby.stop()
    down = time.monotonic()
    say(f"  Redis killed and the standby stopped; both down for {seconds:g}s")
    time.sleep(seconds)
    logs = h.logs_since(offsets)
    noticed = ("cache unavailable" in logs, "read replica unavailable" in logs)
    result.check("the app noticed both tiers down (its logs say so): the faults bit", all(noticed))
    result.notes.append(
        f"reads that failed on the going replica and were served again from the primary: {logs.count('replica failed mid-request')}"
    )
    return down


def bring_tiers_back(result, redis: RedisServer, standby: Standby) -> tuple[float | None, float | None]:
    """Both started again; seconds until Redis holds keys and until the standby serves reads (None: not within BACK_WITHIN)."""
    redis.start()
    standby.start()
    back = time.monotonic()
    log_back = len(standby.log_text())
    say("  Redis and the standby started again")
    standby.wait_streaming()
    cache_after = wait_until(lambda: redis_keys(redis) > 0, BACK_WITHIN)
    cache_back = time.monotonic() - back
    replica_after = wait_until(lambda: replica_reads(standby, log_back) > 0, max(0.0, BACK_WITHIN - (time.monotonic() - back)))
    replica_back = time.monotonic() - back
    result.notes.append(f"since the restart: {replica_reads(standby, log_back)} reads on the standby, {redis_keys(redis)} keys in Redis")
    return (cache_back if cache_after is not None else None), (replica_back if replica_after is not None else None)


def restore(h, result, redis: RedisServer, standby: Standby, rolled: list[str]) -> None:
    # The later scenarios run on the plain settings: every variant back without the tiers.
    for variant in rolled:
        try:
            h.roll(variant, result)
        except Exception as exc:  # keep restoring the others; the scenario has failed already
            result.error = result.error or f"rolling {variant} back to the plain settings: {exc}"
    redis.stop()
    standby.remove()
