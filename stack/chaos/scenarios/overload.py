"""9. Overload: a flash crowd of three times the measured capacity for a while, while the customers
keep ordering. HAProxy sheds what the servers cannot take (maxconn per server, `timeout queue 1s`: a
503 with Retry-After within a second) instead of letting latency grow to gunicorn's timeout; accepted
requests keep their p99 within 2x of full-load service (the capacity probe's: servers busy, nothing
queued to speak of); nothing is lost; service is normal again within 5 s of the surge.

The p99 under light load (normal) is reported beside it, not checked against: here the crowd's wrk,
HAProxy and the servers share two cores, so a busy CPU slows every accepted request whatever the load
balancer does (docs/chaos.md, "Overload: which latency the 2x is measured against").

The crowd is wrk (C, one event loop per thread: thousands of open connections for little CPU), not
the Python load generator: a Python client cannot offer three times the stack's capacity from the
same two cores, and a client that starves measures itself. Each crowd connection is a visitor who
loads a page a second, served or shed (get.lua's pause), so the offered rate is set by the crowd's
size, not by how fast the load balancer refuses; the customers' load (the accounted orders) retries
with back-off and Retry-After as always."""

from __future__ import annotations

import resource
import time

from ...bench.load import GET_SCRIPT, run_wrk
from ...stats import percentile
from ..faults.loadbalancer import log_size, request_log
from ..harness import say
from ..load import Stats

NUMBER = 9
NAME = "overload"
FACTOR = 3.0
VISIT_PAUSE_MS = 1000  # each crowd connection loads a page a second
SHED_WITHIN_MS = 1000 + 100  # `timeout queue 1s` by HAProxy's own clock (its log's Ta), + its timer's slack on a loaded host
RECOVERY = 5.0
CROWD_MAX = 3800  # wrk connections at most: under HAProxy's global maxconn (4096) with room for the customers, so none is refused
CROWD_THREADS = 2  # one per core


def is_shed(line: tuple) -> bool:
    """HAProxy's 503 for overload: refused at the door by the queue-length rule (LR: answered locally
    in the request phase) or timed out in the queue (sQ). stack/local/haproxy.py, shed_rule()."""
    return line[1] == 503 and line[4][:2] in ("LR", "sQ")


def p99(attempts: list) -> float | None:
    return percentile([a[1] for a in attempts], 99) if attempts else None


def accepted_p99(lines: list, begin: float, end: float) -> float | None:
    """p99 of HAProxy's Ta (seconds) of the requests it accepted and served between begin and end (epoch)."""
    times = [r[3] / 1000 for r in lines if begin <= r[0] <= end and r[1] < 400]
    return percentile(times, 99) if times else None


def run(h, result) -> None:
    surge_seconds = 6.0 if h.args.short else 30.0
    phase = max(h.args.lead, 3.0)
    stats = Stats()  # the customers' accounting, over every phase
    since = h.max_order_id()
    offset = log_size(h.stack)
    marks, wall, crowd = drive_phases(h, stats, phase, surge_seconds)
    result.stats = stats
    h.account(result, since)
    check_overload(h, result, stats, offset, marks, wall, crowd)


def flash_crowd(h, seconds: float, connections: int, pause_ms: int = 0) -> dict:
    """wrk's plain GETs of the landing page, without cookies, so HAProxy spreads them over A, B and C:
    each connection sends its next request when the last is answered (or shed), after pause_ms."""
    args = [str(pause_ms)] if pause_ms else []
    return run_wrk(h.base + "/", GET_SCRIPT, seconds, connections, args, threads=min(CROWD_THREADS, connections))


def crowd_limit() -> int:
    """The most connections wrk may open: CROWD_MAX, within the open-files limit (raised to its hard
    limit for this process and so for wrk, its child), less a margin for the harness's own files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        soft = CROWD_MAX + 1024 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return max(0, min(CROWD_MAX, soft - 512))


def drive_phases(h, stats: Stats, phase: float, surge_seconds: float) -> tuple[dict, dict, dict]:
    """The customers' load throughout; a capacity probe, then the surge at FACTOR x capacity.
    Returns the phases' marks (monotonic), the same in epoch seconds for HAProxy's log, and the crowd's figures."""
    marks: dict = {}
    wall: dict = {}  # the same marks in epoch seconds, for HAProxy's log
    slots = h.stack.server_maxconn * len(h.active)  # requests the servers take at once
    with h.load(stats=stats):  # the customers, ordering through every phase
        marks["start"], wall["start"] = time.monotonic(), time.time()
        time.sleep(phase * 2)  # normal service
        marks["normal_end"], wall["normal_end"] = time.monotonic(), time.time()
        # Capacity: as many crowd connections as the servers take at once (no queue to speak of);
        # the reference for the accepted requests' latency in the surge.
        flash_crowd(h, 2, slots)  # warm-up
        wall["probe"] = time.time()
        probe = flash_crowd(h, phase, slots)
        wall["probe_end"] = time.time()
        capacity = (probe["requests"] - probe["non_2xx_3xx"]) / probe["seconds"]
        # A visitor loads a page a second (plus the answer's own time, measured here at about a quarter
        # more): FACTOR x capacity per second needs FACTOR x capacity x 1.25 visitors.
        connections = max(2 * slots, min(crowd_limit(), round(FACTOR * capacity * VISIT_PAUSE_MS / 1000 * 1.25)))
        say(f"  measured capacity {capacity:.0f} answers/s; a crowd of {connections} visitors for {surge_seconds:g}s")
        marks["surge"], wall["surge"] = time.monotonic(), time.time()
        surge = flash_crowd(h, surge_seconds, connections, VISIT_PAUSE_MS)
        marks["surge_end"], wall["surge_end"] = time.monotonic(), time.time()
        time.sleep(phase * 2 + RECOVERY)
        marks["end"] = time.monotonic()
    crowd = {
        "capacity": capacity,
        "connections": connections,
        "offered": surge["requests"] / surge["seconds"],
        "answered": surge["requests"] - surge["non_2xx_3xx"],
        "refused": surge["non_2xx_3xx"],
        "socket_errors": surge["socket_errors"],
        "seconds": surge["seconds"],
    }
    return marks, wall, crowd


def ms(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds * 1000:.0f} ms"


def ratio(value: float | None, reference: float | None) -> str:
    return f"{value / reference:.1f}x" if value is not None and reference else "n/a"


def recovered_after(stats: Stats, marks: dict, client_normal_p99: float | None) -> float | None:
    """Normal again: the first second after the surge from which every attempt in a 1 s window
    succeeds with a p99 within 2x of normal (seconds after the surge; None: never)."""
    after = [a for a in stats.attempt_log if a[0] > marks["surge_end"]]
    t = marks["surge_end"]
    while t + 1 <= marks["end"]:
        window = [a for a in after if t <= a[0] < t + 1]
        if (
            window
            and all(a[2] is None for a in window)
            and client_normal_p99
            and (w99 := p99(window)) is not None
            and w99 <= 2 * client_normal_p99
        ):
            return t - marks["surge_end"]
        t += 0.25
    return None


def check_overload(h, result, stats: Stats, offset: int, marks: dict, wall: dict, crowd: dict) -> None:
    """Shed fast, accepted latency within 2x of full-load service, nothing else wrong, normal again within RECOVERY."""
    # Latency as the load balancer measured it (Ta: accept to last byte), the crowd's and the
    # customers' alike, so the client's scheduling on the same cores does not count as the stack's.
    # Each phase's first second is left out (cold connections at the start, the crowd ramping up),
    # and the normal phase's last half second (the probe's first requests land on it).
    lines = request_log(h.stack, offset)
    normal_p99 = accepted_p99(lines, wall["start"] + 1, wall["normal_end"] - 0.5)
    full_p99 = accepted_p99(lines, wall["probe"] + 1, wall["probe_end"])
    surge_p99 = accepted_p99(lines, wall["surge"] + 1, wall["surge_end"])
    shed_lines = [r for r in lines if is_shed(r)]
    other_5xx = sorted({(r[1], r[4]) for r in lines if r[1] >= 500 and not is_shed(r)})
    normal = [a for a in stats.attempt_log if marks["start"] + 1 <= a[0] <= marks["normal_end"] - 0.5 and a[2] is None]
    surge = [a for a in stats.attempt_log if marks["surge"] + 1 <= a[0] <= marks["surge_end"]]
    shed = [a for a in surge if a[2] == "503_lb"]
    client_normal_p99 = p99(normal)
    recovered = recovered_after(stats, marks, client_normal_p99)
    result.notes.append(
        f"capacity {crowd['capacity']:.0f}/s; the crowd ({crowd['connections']} connections) offered {crowd['offered']:.0f}/s: "
        f"{crowd['answered']} answered ({crowd['answered'] / crowd['seconds']:.0f}/s), {crowd['refused']} shed; the customers' attempts in the surge: {len(surge)}, shed {len(shed)}; "
        f"HAProxy: {len(shed_lines)} shed ({sum(r[4].startswith('sQ') for r in shed_lines)} after the queue timeout), "
        f"longest {max((r[3] for r in shed_lines), default=0)} ms; "
        f"p99 of accepted at HAProxy: light load {ms(normal_p99)}, full load {ms(full_p99)}, surge {ms(surge_p99)} "
        f"({ratio(surge_p99, full_p99)} of full load, {ratio(surge_p99, normal_p99)} of light load); "
        f"normal again {'never' if recovered is None else f'{recovered:.1f}s'} after the surge"
    )
    result.check(
        f"the crowd offered at least 2x capacity (offered {crowd['offered']:.0f}/s, capacity {crowd['capacity']:.0f}/s)",
        crowd["offered"] >= 2 * crowd["capacity"],
    )
    result.check("HAProxy shed load with 503 + Retry-After, customers' requests included", bool(shed) and bool(shed_lines))
    result.check(
        f"every shed request answered within {SHED_WITHIN_MS} ms by HAProxy's clock",
        all(r[3] <= SHED_WITHIN_MS for r in shed_lines),
        timing=True,
    )
    result.check(
        f"nothing else went wrong: no other 5xx at HAProxy {other_5xx}, no refused, broken or hung connection "
        f"(crowd: {crowd['socket_errors']}; customers: {dict(stats.errors)})",
        not other_5xx and not any(crowd["socket_errors"].values()) and set(stats.errors) <= {"503_lb", "503_app"},
    )
    result.check(
        "accepted requests kept p99 within 2x of full-load service (HAProxy's Ta; the capacity probe's p99)",
        full_p99 is not None and surge_p99 is not None and surge_p99 <= 2 * full_p99,
        timing=True,
    )
    result.check(f"normal service within {RECOVERY:g}s after the surge", recovered is not None and recovered <= RECOVERY, timing=True)
