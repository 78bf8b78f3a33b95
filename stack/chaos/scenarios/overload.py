"""9. Overload: three times the measured capacity for a while. HAProxy sheds what the servers cannot
take (maxconn per server, `timeout queue 1s`: a 503 with Retry-After within a second) instead of
letting latency grow to gunicorn's timeout; accepted requests keep their p99 within 2x of normal;
nothing is lost; service is normal again within 5 s of the surge."""

from __future__ import annotations

import time

from ...stats import percentile
from ..faults.loadbalancer import log_size, request_log
from ..harness import say
from ..load import Stats

NUMBER = 9
NAME = "overload"
FACTOR = 3.0
SHED_WITHIN_MS = 1000 + 100  # `timeout queue 1s` by HAProxy's own clock (its log's Ta), + its timer's slack on a loaded host
RECOVERY = 5.0


def p99(attempts: list) -> float | None:
    return percentile([a[1] for a in attempts], 99) if attempts else None


def run(h, result) -> None:
    surge_seconds = 6.0 if h.args.short else 30.0
    phase = max(h.args.lead, 3.0)
    stats = Stats()  # one accounting over every phase
    since = h.max_order_id()
    offset = log_size(h.stack)
    marks, wall, capacity, offered = drive_phases(h, stats, phase, surge_seconds)
    result.stats = stats
    h.account(result, since)
    check_overload(h, result, stats, offset, marks, wall, capacity, offered)


def drive_phases(h, stats: Stats, phase: float, surge_seconds: float) -> tuple[dict, dict, float, float]:
    """Normal load, a capacity probe, the surge at FACTOR x capacity, normal load again.
    Returns the phases' marks (monotonic), the same in epoch seconds for HAProxy's log, the capacity and the surge's rate."""
    marks = {}
    wall = {}  # the same marks in epoch seconds, for HAProxy's log
    maxconn = h.stack.server_maxconn * len(h.active)
    with h.load(stats=stats):  # normal service: the reference
        time.sleep(phase * 2)
    marks["normal_end"], wall["normal_end"] = time.monotonic(), time.time()
    # Capacity: a closed loop as many clients as the servers take at once, each sending its next
    # request when the last is answered (a rate far above what they can serve).
    with h.load(rate_factor=1000, stats=stats, threads=maxconn):  # its orders are accounted for too
        time.sleep(phase * 1.5)
        start = time.monotonic()
        time.sleep(phase)
        capacity = len([a for a in stats.attempts_between(start, time.monotonic()) if a[2] is None]) / phase
    marks["probe_end"] = time.monotonic()
    offered = FACTOR * capacity
    say(f"  measured capacity {capacity:.0f} answers/s; surging to {offered:.0f}/s for {surge_seconds:g}s")
    normal_factor = offered / max(h.args.rate + h.args.views, 0.1)
    threads = max(h.args.threads, int(offered * 1.5))
    marks["surge"], wall["surge"] = time.monotonic(), time.time()
    with h.load(rate_factor=normal_factor, stats=stats, threads=threads):
        time.sleep(surge_seconds)
    marks["surge_end"], wall["surge_end"] = time.monotonic(), time.time()
    with h.load(stats=stats):
        time.sleep(phase * 2 + RECOVERY)
    marks["end"] = time.monotonic()
    return marks, wall, capacity, offered


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


def check_overload(h, result, stats: Stats, offset: int, marks: dict, wall: dict, capacity: float, offered: float) -> None:
    """Shed fast, accepted latency within 2x, nothing else wrong, normal again within RECOVERY."""
    # Latency as the load balancer measured it (Ta: accept to last byte), so the load generator's
    # own hundreds of threads on the same cores do not count as the stack's latency.
    lines = request_log(h.stack, offset)
    normal_ta = [r[3] / 1000 for r in lines if r[0] <= wall["normal_end"] and r[1] < 400]
    accepted_ta = [r[3] / 1000 for r in lines if wall["surge"] + 1 <= r[0] <= wall["surge_end"] and r[1] < 400]
    shed_lines = [r for r in lines if r[1] == 503 and r[4].startswith("sQ")]
    normal_p99, surge_p99 = (percentile(normal_ta, 99) if normal_ta else None), (percentile(accepted_ta, 99) if accepted_ta else None)
    normal = [a for a in stats.attempt_log if a[0] <= marks["normal_end"] and a[2] is None]
    surge = [a for a in stats.attempt_log if marks["surge"] + 1 <= a[0] <= marks["surge_end"]]
    accepted = [a for a in surge if a[2] is None]
    shed = [a for a in surge if a[2] == "503_lb"]
    client_normal_p99, client_surge_p99 = p99(normal), p99(accepted)
    recovered = recovered_after(stats, marks, client_normal_p99)
    result.notes.append(
        f"capacity {capacity:.0f}/s, offered {offered:.0f}/s in the surge; accepted {len(accepted)}, shed {len(shed)} "
        f"(HAProxy: {len(shed_lines)} queue timeouts, longest {max((r[3] for r in shed_lines), default=0)} ms); "
        f"p99 of accepted at HAProxy: normal {(normal_p99 or 0) * 1000:.0f} ms, surge {(surge_p99 or 0) * 1000:.0f} ms; "
        f"at the client: normal {(client_normal_p99 or 0) * 1000:.0f} ms, surge {(client_surge_p99 or 0) * 1000:.0f} ms; "
        f"normal again {'never' if recovered is None else f'{recovered:.1f}s'} after the surge"
    )
    result.check("HAProxy shed load with 503 + Retry-After (queue timeouts)", bool(shed) and bool(shed_lines))
    result.check(
        f"every shed request answered within {SHED_WITHIN_MS} ms by HAProxy's clock",
        all(r[3] <= SHED_WITHIN_MS for r in shed_lines),
        timing=True,
    )
    result.check("nothing else went wrong: no 500, no hung or refused connection", set(stats.errors) <= {"503_lb", "503_app"})
    result.check(
        "accepted requests kept p99 within 2x of normal (HAProxy's Ta)",
        normal_p99 is not None and surge_p99 is not None and surge_p99 <= 2 * normal_p99,
        timing=True,
    )
    result.check(f"normal service within {RECOVERY:g}s after the surge", recovered is not None and recovered <= RECOVERY, timing=True)
