"""`make chaos`: restarts, crashes and deploys under load, and the proof that no order is lost.

Runs the local A/B/C stack (HAProxy + gunicorn per variant, see stack/local/) on a disposable
PostgreSQL cluster of its own (initdb + pg_ctl on a free port, so it can restart the database
without touching any other server), drives steady load through the load balancer (orders with
their one-time tokens, through the JSON API and the HTML form, plus page views), injects one fault
per scenario and prints a table:

  1. rolling restart of every variant, new process ready before the old one is drained and stopped
  2. mixed versions: one variant on code one expand migration ahead (applied by migrate_safely)
  3. SIGKILL of one variant's gunicorn (master and workers) mid-load
  4. PostgreSQL stopped and started again mid-load
  5. a broken release (code that fails at start-up) that must never become ready nor get traffic
  6. staff contention: 50 concurrent status changes on one order
  7. database blackhole: every packet to PostgreSQL dropped (its own network namespace, nftables)
  8. slow database: 200 ms added each way on the network to PostgreSQL
  9. overload: three times the measured capacity; HAProxy sheds with 503 + Retry-After
 10. PostgreSQL out of connections: another client holds every slot
 11. soak: mixed load with a random fault from 1-10 every minute (--soak S; `make chaos SOAK=600`)
 12. cache and replica down: Redis killed and the read replica (a hot standby) stopped, then both back

Every scenario ends with the same accounting, read from the database itself: every order the
client saw acknowledged is stored exactly once, and nothing was stored that the client did not
send. The harness exits non-zero when an invariant fails. A broken release (scenario 5) is
reported by name; it counts as the expected result in a full run and as a failure when asked for
on its own (`--scenario 5`), the way a deploy pipeline fails on a release that never gets ready.

    python -m stack.chaos [--short] [--scenario N ...] [--duration S] [--rate R]

See docs/chaos.md for how each scenario maps to its Kubernetes / AWS counterpart.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from .. import REPO_ROOT, StackError
from .accounting import Result
from .harness import Chaos, ChaosError, say
from .report import table, write_json
from .scenarios import REGISTRY, SCENARIOS, db_blackhole


def main(argv=None) -> int:
    args = parse_args(argv)
    chosen = resolve_defaults(args)
    started = time.monotonic()
    results: list[Result] = []
    status = run_scenarios(args, chosen, results)
    if status is not None:
        return status
    return report(args, results, started)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stack.chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="a few seconds per scenario at a lower rate (make test)")
    parser.add_argument("--scenario", type=int, action="append", choices=sorted(SCENARIOS), help="run only these (repeatable)")
    parser.add_argument("--duration", type=float, help="seconds of load around each fault (default 20, short 6)")
    parser.add_argument("--rate", type=float, help="orders per second (default 50, short 10)")
    parser.add_argument("--views", type=float, help="page views per second (default 20, short: the app's own detection time + 2)")
    parser.add_argument("--threads", type=int, help="client threads (default 32, short 12)")
    parser.add_argument("--outage", type=float, default=4.0, help="seconds PostgreSQL stays down in scenario 4")
    parser.add_argument(
        "--blackhole",
        type=float,
        help="seconds the database's network drops every packet in scenario 7 (default 20, short: the app's own detection time + 2)",
    )
    parser.add_argument(
        "--soak", type=float, help="seconds of the soak (scenario 11; default 120, short 40); given alone it runs only the soak"
    )
    parser.add_argument("--seed", type=int, help="the soak's random seed (to repeat a run)")
    parser.add_argument("--env", default="dev", help="which environments/<env>/variants.yaml")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("CHAOS_PORT", "18000")),
        help="the stack's port base: HAProxy's entry; every other port follows it (README, 'Ports')",
    )
    parser.add_argument("--report", default=str(REPO_ROOT / "reports" / "chaos.json"), help="where to write the JSON report")
    expect = parser.add_mutually_exclusive_group()
    expect.add_argument(
        "--expect-broken",
        dest="expect_broken",
        action="store_true",
        default=None,
        help="a detected broken release is the expected outcome (default when all scenarios run)",
    )
    expect.add_argument("--no-expect-broken", dest="expect_broken", action="store_false")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def resolve_defaults(args: argparse.Namespace) -> list[int]:
    """Fills in the defaults that depend on --short and on each other; returns the scenarios to run."""
    args.duration = args.duration or (6.0 if args.short else 20.0)
    args.rate = args.rate if args.rate is not None else (10.0 if args.short else 50.0)
    args.views = args.views if args.views is not None else (5.0 if args.short else 20.0)
    args.threads = args.threads or (12 if args.short else 32)
    args.lead = min(3.0, args.duration / 4)  # load before the first and after the last fault
    args.settle = min(2.0, args.duration / 8)
    args.logins = 5 if args.short else 10
    if args.short:
        args.outage = min(args.outage, 3.0)
    # The short cut must outlast the app's own detection (a dead connection, then a reconnect that
    # times out), or no request ever meets the outage: the fault would not bite.
    args.blackhole = args.blackhole or (max(5.0, db_blackhole.DETECTION + 2) if args.short else 20.0)
    if args.soak and not args.scenario:
        args.scenario = [11]  # `make chaos SOAK=600`
    args.soak = args.soak or (40.0 if args.short else 120.0)
    chosen = sorted(set(args.scenario or SCENARIOS))
    # The database goes into a network namespace of its own when a chosen scenario cuts or slows its network.
    args.network = any(getattr(REGISTRY[n], "NEEDS_NETWORK", False) for n in chosen)
    if args.expect_broken is None:
        args.expect_broken = args.scenario is None
    return chosen


def run_scenarios(args: argparse.Namespace, chosen: list[int], results: list[Result]) -> int | None:
    """Sets the stack up, runs each chosen scenario into `results`, tears down. An exit status when
    the run could not finish (130 interrupted, 2 setup failed), None when it did."""
    harness = Chaos(args)
    stopping = []

    def on_term(*_):
        stopping.append(True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        harness.setup()
        say(f"load: {args.rate:g} orders/s + {args.views:g} page views/s from {args.threads} client threads")
        for number in chosen:
            results.append(harness.run(REGISTRY[number]))
    except KeyboardInterrupt:
        say("interrupted; tearing down")
        return 130
    except (ChaosError, StackError) as exc:
        say(f"setup failed: {exc}")
        return 2
    finally:
        harness.teardown()
    return None


def report(args: argparse.Namespace, results: list[Result], started: float) -> int:
    """The table, the broken releases, the JSON report and the exit status."""
    print()
    print(table(results), flush=True)
    broken = [r.broken_release for r in results if r.broken_release]
    for release in broken:
        print(f"\nrelease {release} never became ready" + (" (expected: scenario 5 ships it on purpose)" if args.expect_broken else ""))
    failed = [r for r in results if not r.passed]
    written = write_json(Path(args.report), results, args, broken, started)
    print(f"\n{len(results) - len(failed)}/{len(results)} scenarios passed in {written['seconds']:.0f}s; report: {args.report}")
    status, reason = exit_status([r.number for r in failed], broken, args.expect_broken)
    if reason:
        print(f"chaos: {reason}", file=sys.stderr)
    return status


def exit_status(failed: list[int], broken: list[str], expect_broken: bool) -> tuple[int, str]:
    """0 only if every invariant held. A broken release that was detected (scenario 5 held) still
    fails the run unless the run expects it: the full run does (scenario 5 ships one on purpose),
    `--scenario 5` alone does not, like a deploy pipeline whose rollout never gets ready."""
    if failed:
        return 1, "invariant failed in scenario(s) " + ", ".join(map(str, failed))
    if broken and not expect_broken:
        return 1, f"release {', '.join(broken)} never became ready"
    return 0, ""
