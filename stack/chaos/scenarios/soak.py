"""11. Soak: mixed load for a long while (`make chaos SOAK=600`: ten minutes) with one fault drawn at
random from scenarios 1-10 every period (a minute; 20 s in --short). Per-worker RSS grows less
than 10% after warm-up, open file descriptors stay flat, nothing is lost or duplicated."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from ..accounting import Result
from ..harness import say
from ..load import Stats

NUMBER = 11
NAME = "soak"
NEEDS_NETWORK = True  # it may draw 7 or 8
BACKGROUND = 0.2  # the steady load under the faults, as a share of the normal rate
RSS_GROWTH = 0.10
# A worker's sockets come and go with traffic: each of its threads may hold a keep-alive connection
# from HAProxy and a persistent database connection (opened lazily, replaced after a fault). More
# than that is a leak; a real leak also keeps growing, which the ten-minute soak shows.
FD_SLACK = 2 * 4


def workers(h) -> dict[int, str]:
    """Every gunicorn worker of every running slot: pid -> slot name."""
    found = {}
    for (variant, slot), process in h.stack.processes.items():
        if not process.alive():
            continue
        try:
            children = Path(f"/proc/{process.popen.pid}/task/{process.popen.pid}/children").read_text().split()
        except OSError:
            continue
        found.update({int(pid): f"{variant}{slot}" for pid in children})
    return found


def sample(h) -> dict[int, tuple[int, int, float]]:
    """pid -> (RSS kB, open fds, age in seconds)."""
    out = {}
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in workers(h):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
            out[pid] = (rss, len(os.listdir(f"/proc/{pid}/fd")), uptime - started)
        except (OSError, StopIteration, ValueError, IndexError):
            continue
    return out


def run(h, result) -> None:
    from . import REGISTRY  # the other scenarios, discovered when this one runs

    total = h.args.soak
    period = 20.0 if h.args.short else 60.0
    seed = h.args.seed if h.args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    # Not 12: it is two deploys (every variant rolled onto Redis and a replica, then back) around its
    # fault, with twins of its own to start; its rolls would spend most of a 20 s period.
    faults = [n for n in REGISTRY if 1 <= n <= 10]
    result.notes.append(f"seed {seed} (--seed to repeat), a fault every {period:g}s from {faults}, {total:g}s in all")
    stats = Stats()
    since = h.max_order_id()
    samples: dict[int, list] = {}  # pid -> [(rss, fds), ...] one per period
    subs: list[Result] = []
    start = time.monotonic()
    h.background = stats
    try:
        soak(h, result, stats, samples, subs, start, total, period, rng, faults, REGISTRY)
    finally:
        h.background = None
    judge(h, result, stats, samples, subs, since, period)


def soak(h, result, stats, samples, subs, start, total, period, rng, faults, REGISTRY) -> None:
    with h.load(rate_factor=BACKGROUND, stats=stats):
        time.sleep(min(period, total))  # warm-up: every worker has served
        for pid, value in sample(h).items():
            samples.setdefault(pid, []).append(value)
        while time.monotonic() - start + 1 < total:
            began = time.monotonic()
            number = rng.choice(faults)
            say(f"  soak {began - start:.0f}s: fault {number} ({REGISTRY[number].NAME})")
            sub = h.run(REGISTRY[number])
            subs.append(sub)
            failed = [d for d, ok in sub.checks if not ok] + ([sub.error] if sub.error else [])
            result.notes.append(
                f"{began - start:.0f}s: {number} {REGISTRY[number].NAME}: {'PASS' if sub.passed else 'FAIL'}"
                + (f" ({'; '.join(failed)}; errors {dict(sub.stats.errors)})" if failed else "")
            )
            result.check(f"fault {number} ({REGISTRY[number].NAME}) at {began - start:.0f}s held its invariants", sub.passed)
            if sub.broken_release:
                result.notes.append(f"release {sub.broken_release} never became ready (expected: scenario 5)")
            h.ensure_healthy()
            time.sleep(max(0.0, min(period - (time.monotonic() - began), total - (time.monotonic() - start))))
            for pid, value in sample(h).items():
                samples.setdefault(pid, []).append(value)


def judge(h, result, stats, samples, subs, since, period) -> None:
    # One accounting over the whole soak: the background's orders and every fault's own.
    for sub in subs:
        stats.attempted |= sub.stats.attempted
        for token, seen in sub.stats.acked.items():
            stats.acked.setdefault(token, set()).update(seen)
    background_errors = set(stats.errors)
    result.stats = stats
    h.account(result, since)
    result.check(
        "the background load never got a 500",
        not any(k.startswith("500") or "traceback" in k or "no_retry_after" in k for k in background_errors),
    )
    # A worker is judged from its first sample taken once it was warm (at least 20 s old, having
    # served under load) to its last.
    judged = {}
    for pid, values in samples.items():
        warm = [v for v in values if v[2] >= min(period, 20.0)]
        if len(warm) >= 2:
            judged[pid] = (warm[0], warm[-1])
    growth = {pid: last[0] / first[0] - 1 for pid, (first, last) in judged.items()}
    fds = {pid: last[1] - first[1] for pid, (first, last) in judged.items()}
    if judged:
        worst = max(growth, key=growth.__getitem__)
        result.notes.append(
            f"{len(judged)} worker(s) sampled warm twice or more: RSS growth max {growth[worst] * 100:+.1f}% "
            f"({judged[worst][0][0] // 1024} -> {judged[worst][1][0] // 1024} MB), fd change max {max(fds.values()):+d}"
        )
    else:
        result.notes.append("no worker was sampled warm twice (the faults restarted them all): RSS and fds not judged")
    result.check(f"per-worker RSS growth after warm-up under {RSS_GROWTH:.0%}", all(g < RSS_GROWTH for g in growth.values()))
    result.check(f"open file descriptors flat (within +{FD_SLACK})", all(d <= FD_SLACK for d in fds.values()))
