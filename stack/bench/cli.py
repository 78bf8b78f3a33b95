"""`make bench`: order throughput, the staff table at a million orders, the Experiment page and worker
memory, each beside a reference measured in the same run on the same machine (absolute times drift
here; ratios do not).

    .venv/bin/python -m stack.postgres .venv/bin/python -m stack.bench [--quick] [--duration S] [--connections N]

What it does, in order (see docs/bench.md for the method and the latest table):

1. Recreates its own database (pizza_bench; pizza_bench_quick with --quick; --db-name) on the PostgreSQL
   server TEST_DATABASE_URL points at, and starts A, B, C and HAProxy with stack.local.Stack on its own ports
   (28000-28099; 28100-28199 with --quick), with a fixed gunicorn worker/thread count for every process.
2. Order placement with wrk and stack/bench/order.lua (form GET, POST with CSRF and one-time token,
   confirmation GET), in alternating rounds over: the ceiling (wrk plain GET against stack/bench/bare_wsgi.py under
   the same gunicorn settings), variant A direct, HAProxy's A/B/C split, HAProxy with B and C in maintenance,
   and extra variant-A processes with the request log and the exposure recording switched off; and
   POST-only load (post.lua, a new order per request) on variant A and on the floor: the simplest
   Django order view (stack/bench/floor/) under the same gunicorn settings, on its own database.
3. The staff table at 1,000 / 100,000 / 1,000,000 orders (generate_series, then VACUUM ANALYZE), each size
   in its own database behind its own variant-A process, measured in interleaved sequential rounds: first
   page, a deep keyset page (half-way), a status filter and a phone search, p50/p99.
4. Resident memory of each worker of the variant A that served the largest table.
5. The Experiment page and its CSV at 10,000 and 1,000,000 exposures (stack/bench/experiment.py).

It prints a fixed-width table and writes reports/bench.json and reports/bench.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import requests

from .. import REPO_ROOT, StackError
from .harness import Bench, say
from .measurements import machine
from .references import BenchError
from .report import build_rows, render_markdown, render_text

REPORTS = REPO_ROOT / "reports"


def sizes(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: whole numbers separated by commas, e.g. 1000,1000000") from None
    if len(values) < 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: at least two sizes, each at least 1")
    return values


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke test: short runs, staff table up to 100,000 orders")
    parser.add_argument(
        "--duration", type=float, default=None, help="measured seconds per configuration, split over the rounds (default 15, quick 2)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="the order-placement runs alternate this many times (default 3, quick 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (= wrk threads) per run (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per variant and for the bare app (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--samples", type=int, default=None, help="sequential requests per staff page and size (default 1000, quick 20)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="the port base: HAProxy's entry; the stack and the bare app use the next 99 (default 28000, quick 28100)",
    )
    parser.add_argument(
        "--db-name", default=None, help="the bench database, dropped and recreated (default pizza_bench, quick pizza_bench_quick)"
    )
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=None,
        help="staff table sizes, comma-separated; the smallest is the reference (default 1000,100000,1000000; quick 1000,100000)",
    )
    parser.add_argument(
        "--experiment-sizes",
        type=sizes,
        default=None,
        help="exposures of the Experiment page's small and large database (default 10000,1000000; quick 10000,100000)",
    )
    parser.add_argument(
        "--experiment-runs", type=int, default=None, help="timed Experiment requests per size and kind (default 100, quick 10)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards (for profiling)")
    parser.add_argument("--reports", default=str(REPORTS), help="where bench.json and bench.md go")
    return parser.parse_args(argv)


def command_line(argv) -> str:
    """The command as the reports show it: `make bench`, with BENCH_ARGS when there were arguments."""
    given = argv if argv is not None else sys.argv[1:]
    return "make bench" + (f" BENCH_ARGS='{' '.join(given)}'" if given else "")


def run_settings(args: argparse.Namespace, bench: Bench, facts: dict) -> dict:
    """What the run held fixed, in words: the reports print it above the table."""
    return {
        "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread, preload, app/gunicorn.conf.py) per variant, "
        "for the bare app and for the floor app",
        "load generator": f"wrk {facts['wrk'].split()[1] if len(facts['wrk'].split()) > 1 else ''}: {args.connections} connections, "
        f"{args.connections} threads, {bench.duration:g}s per configuration in {bench.rounds} alternating round(s), after a {bench.warmup:g}s warm-up",
        "staff table": f"{bench.samples} sequential rounds per page, direct to variant A, logged in as staff",
        "exposure setting": "RECORD_EXPOSURES present"
        if bench.exposures_setting
        else "RECORD_EXPOSURES not in settings yet: passed but has no effect",
    }


def run_header(facts: dict, settings: dict, results: dict) -> str:
    return (
        f"{facts['cpus']} CPUs ({facts['cpu_model']}), {facts['memory_mb']} MB; client (wrk), HAProxy, gunicorn and PostgreSQL "
        f"share the same cores (load average {facts['loadavg_start']} at start, {results['loadavg_end']} at end). "
        f"{settings['gunicorn']}. Load: {settings['load generator']}. {settings['exposure setting']}; "
        f"the run stored {results['orders_stored']:,} orders and {results['exposures_recorded']:,} exposures."
    )


def print_report(header: str, rows: list[dict]) -> None:
    print()
    print(header)
    print(render_text(rows))
    misses = [r["measurement"] for r in rows if r["result"] == "MISS"]
    print(f"\n{len([r for r in rows if r['result'] == 'PASS'])} PASS, {len(misses)} MISS" + (f": {'; '.join(misses)}" if misses else ""))


def write_reports(reports: Path, command: str, header: str, report: dict) -> None:
    """reports/bench.json (report: machine, settings, rows, raw results) and reports/bench.md."""
    reports.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (reports / "bench.json").write_text(json.dumps({"when": stamp, "command": command, **report}, indent=2, default=str))
    (reports / "bench.md").write_text(f"# make bench ({stamp})\n\nCommand: `{command}`\n\n{header}\n\n{render_markdown(report['rows'])}\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line(argv)
    try:
        bench = Bench(args)
        facts = machine()
        say(f"{facts['cpus']} CPU(s) ({facts['cpu_model']}): wrk and the servers share them; loopback only")
        results = bench.run()
    except (BenchError, StackError, psycopg2.Error, requests.RequestException) as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 1
    rows = build_rows(results)
    settings = run_settings(args, bench, facts)
    header = run_header(facts, settings, results)
    print_report(header, rows)
    reports = Path(args.reports)
    report = {"machine": facts, "settings": settings, "quick": args.quick, "rows": rows, "raw": results}
    write_reports(reports, command, header, report)
    print(f"\nwritten: {reports / 'bench.json'}, {reports / 'bench.md'} ({results['elapsed_seconds']:.0f}s)")
    return 0
