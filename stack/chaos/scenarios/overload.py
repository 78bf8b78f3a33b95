"""9. Overload: three times the measured capacity for a while. HAProxy sheds what the servers cannot
take (maxconn per server, `timeout queue 1s`: a 503 with Retry-After within a second) instead of
letting latency grow to gunicorn's timeout; accepted requests keep their p99 within 2x of normal;
nothing is lost; service is normal again within 5 s of the surge."""

from __future__ import annotations

import time

from ...stats import percentile
from ..harness import say
from ..load import Stats

NUMBER = 9
NAME = "overload"
FACTOR = 3.0
SHED_WITHIN = 1.0 + 0.5  # HAProxy's timeout queue, plus scheduling on a loaded machine
RECOVERY = 5.0


def p99(attempts: list) -> float | None:
    return percentile([a[1] for a in attempts], 99) if attempts else None


def run(h, result) -> None:
    surge_seconds = 6.0 if h.args.short else 30.0
    phase = max(h.args.lead, 3.0)
    stats = Stats()  # one accounting over every phase
    since = h.max_order_id()
    marks = {}
    maxconn = h.stack.workers * h.stack.threads * len(h.active)

    with h.load(stats=stats):  # normal service: the reference
        time.sleep(phase * 2)
    marks["normal_end"] = time.monotonic()
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
    marks["surge"] = time.monotonic()
    with h.load(rate_factor=normal_factor, stats=stats, threads=threads):
        time.sleep(surge_seconds)
    marks["surge_end"] = time.monotonic()
    with h.load(stats=stats):
        time.sleep(phase * 2 + RECOVERY)
    marks["end"] = time.monotonic()
    result.stats = stats
    h.account(result, since)

    normal = [a for a in stats.attempt_log if a[0] <= marks["normal_end"] and a[2] is None]
    surge = [a for a in stats.attempt_log if marks["surge"] + 1 <= a[0] <= marks["surge_end"]]
    accepted = [a for a in surge if a[2] is None]
    shed = [a for a in surge if a[2] == "503_lb"]
    normal_p99, surge_p99 = p99(normal), p99(accepted)
    # Normal again: the first second after the surge from which every attempt in a 1 s window
    # succeeds with a p99 within 2x of normal.
    recovered_after = None
    after = [a for a in stats.attempt_log if a[0] > marks["surge_end"]]
    t = marks["surge_end"]
    while t + 1 <= marks["end"]:
        window = [a for a in after if t <= a[0] < t + 1]
        if window and all(a[2] is None for a in window) and normal_p99 and p99(window) <= 2 * normal_p99:
            recovered_after = t - marks["surge_end"]
            break
        t += 0.25
    result.notes.append(
        f"capacity {capacity:.0f}/s, offered {offered:.0f}/s in the surge; accepted {len(accepted)}, shed {len(shed)} "
        f"(longest shed {max((a[1] for a in shed), default=0) * 1000:.0f} ms); p99 of accepted: normal "
        f"{(normal_p99 or 0) * 1000:.0f} ms, surge {(surge_p99 or 0) * 1000:.0f} ms; normal again "
        f"{'never' if recovered_after is None else f'{recovered_after:.1f}s'} after the surge")
    result.check("HAProxy shed load with 503 + Retry-After", bool(shed))
    result.check(f"every shed request answered within {SHED_WITHIN:g}s", all(a[1] <= SHED_WITHIN for a in shed))
    result.check("nothing else went wrong: no 500, no hung or refused connection",
                 set(stats.errors) <= {"503_lb", "503_app"})
    result.check("accepted requests kept p99 within 2x of normal",
                 normal_p99 is not None and surge_p99 is not None and surge_p99 <= 2 * normal_p99)
    result.check(f"normal service within {RECOVERY:g}s after the surge", recovered_after is not None and recovered_after <= RECOVERY)
