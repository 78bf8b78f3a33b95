"""`make bench` (experiment section): the Experiment page and its CSV at 10,000 and 1,000,000 exposures.

    .venv/bin/python -m stack.postgres .venv/bin/python -m stack.bench.experiment [--small N] [--large N] [--runs N]

`make bench` runs it as its last step (stack/bench/harness.py) and puts its figures in the table.

1. Recreates two databases (pizza_bench_experiment_small and _large) on TEST_DATABASE_URL's server
   and migrates them.
2. Writes `--small` and `--large` visitors over 14 days into their first-assignment tables
   (generate_series; 10 % ordering: 100,000 orders at 1,000,000 exposures; varied revenue, a few
   crossovers) and, in the same statement, the
   daily counters exactly as the app's write path would have left them; then VACUUM ANALYZE.
3. Times the staff view (queries, statistics, template) and its CSV in this process, alternating
   between the two databases in blocks (the first request after a switch reconnects and is not
   timed), `--runs` requests per size and kind; p50, p90 and p99. Target: large / small <= 1.25 at
   p99 for both, and the large page well under a second.

The page reads only the counters (days x variants x 8 shards rows), so its cost does not depend on
the number of visitors; the assignment table is there to show that nothing scans it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .. import APP_DIR
from ..postgres import database_url_for, drop_database
from ..stats import percentile

DB_NAME = "pizza_bench_experiment_{}"
BLOCK = 5  # timed requests per database before switching
TARGET_RATIO = 1.25
EXIT_MISSED = 3  # a target missed (a crash exits 1)
DAYS = 14
ORDERS_EVERY = 10  # one visitor in ten ordered: 100,000 orders at 1,000,000 exposures


def setup_django(database_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=database_url,
        DEPLOY_ENV="dev",
        ALLOWED_HOSTS="testserver,localhost",
        REQUEST_LOG="0",
    )
    sys.path.insert(0, str(APP_DIR))
    import django

    django.setup()
    from django.test.utils import override_settings

    # Static files from the finders: the bench measures the page, not collectstatic's manifest.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()


CHUNK = 1_000_000


def grow(first: int, last: int) -> None:
    """Visitors first..last-1: assignment rows and, in the same statement, their counters (the sums the app keeps)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        for start in range(first, last, CHUNK):
            cursor.execute(
                """
                WITH new AS (
                    INSERT INTO experiment_assignment (visitor_id, variant, day, first_seen, crossed, orders, revenue)
                    SELECT md5(i::text), (ARRAY['a','b','c'])[1 + i %% 3], current_date - (i %% %s), now(), i %% 997 = 0,
                           CASE WHEN i %% {every} = 0 THEN 1 ELSE 0 END, CASE WHEN i %% {every} = 0 THEN 10 + i %% 90 ELSE 0 END
                    FROM generate_series(%s, %s) AS i
                    RETURNING *
                )
                INSERT INTO experiment_dailycount (day, variant, shard, visitors, converters, orders, revenue, revenue_sq, crossovers, unattributed)
                SELECT day, variant, get_byte(decode(substr(visitor_id, 1, 2), 'hex'), 0) %% 8, count(*), count(*) FILTER (WHERE orders > 0),
                       sum(orders), sum(revenue), sum((revenue * revenue)::float8), count(*) FILTER (WHERE crossed), 0
                FROM new GROUP BY 1, 2, 3
                ON CONFLICT (day, variant, shard) DO UPDATE SET
                    visitors = experiment_dailycount.visitors + EXCLUDED.visitors,
                    converters = experiment_dailycount.converters + EXCLUDED.converters,
                    orders = experiment_dailycount.orders + EXCLUDED.orders,
                    revenue = experiment_dailycount.revenue + EXCLUDED.revenue,
                    revenue_sq = experiment_dailycount.revenue_sq + EXCLUDED.revenue_sq,
                    crossovers = experiment_dailycount.crossovers + EXCLUDED.crossovers
                """.replace("{every}", str(ORDERS_EVERY)),
                [DAYS, start, min(last, start + CHUNK) - 1],
            )
        cursor.execute("VACUUM ANALYZE experiment_assignment")
        cursor.execute("VACUUM ANALYZE experiment_dailycount")


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def view_timer(staff):
    """A function timing one request of the page or the CSV (ms), as staff, through the view itself."""
    from django.test import RequestFactory

    from experiment.views import report

    factory = RequestFactory()

    def timed(params: dict) -> float:
        request = factory.get("/staff/experiment/", params)
        request.user = staff
        start = time.perf_counter()
        response = report(request)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    return timed


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench (experiment)", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10_000, help="visitors (exposures) of the small database (default 10,000)")
    parser.add_argument("--large", type=int, default=1_000_000, help="visitors (exposures) of the large database (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per size and kind (default 40)")
    parser.add_argument(
        "--measure-only", action="store_true", help="reuse the databases a previous run seeded (checked by the visitor count)"
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file (make bench reads it)")
    parser.add_argument("--drop", action="store_true", help="drop both databases afterwards")
    parser.add_argument("--db-name", default=DB_NAME.format("").rstrip("_"), help="database name prefix (default pizza_bench_experiment)")
    return parser.parse_args(argv)


def prepare(name: str, size: int, staff, measure_only: bool) -> None:
    """Migrates and seeds one database with `size` visitors (unless measure_only), then checks the CSV counts them all."""
    from django.core.management import call_command
    from django.test import RequestFactory

    from experiment.views import report

    use_database(name)
    started = time.perf_counter()
    if not measure_only:
        call_command("migrate", verbosity=0)
        grow(1, size + 1)
    request = RequestFactory().get("/staff/experiment/", {"format": "csv"})
    request.user = staff
    seen = sum(int(line.split(",")[6]) for line in report(request).content.decode().splitlines()[1:])
    assert seen == size, f"the page counts {seen} visitors, {size} seeded"
    verb = "found" if measure_only else "seeded"
    print(f"  {verb} {size:,} exposures (the page counts them all) in {time.perf_counter() - started:.0f} s", flush=True)


def measure(names: dict[str, str], timed, runs: int) -> dict[tuple[str, str], list[float]]:
    """Page and CSV times (ms) per (size label, kind), alternating between the databases in blocks of BLOCK."""
    times: dict[tuple[str, str], list[float]] = {(label, kind): [] for label in names for kind in ("page", "csv")}
    while min(len(v) for v in times.values()) < runs:
        for label in names:
            use_database(names[label])
            timed({})  # reconnects: not timed
            for _ in range(BLOCK):
                times[(label, "page")].append(timed({}))
                times[(label, "csv")].append(timed({"format": "csv"}))
    return times


def summarize(args: argparse.Namespace, times: dict[tuple[str, str], list[float]]) -> tuple[dict[str, dict], bool]:
    """Prints p50/p90/p99 per kind and size with the large/small ratio; returns the figures and whether a target was missed."""
    print()
    print(f"Experiment page and CSV, {args.runs}+ requests each (ms)  {args.small:>12,}  {args.large:>12,}   ratio  target")
    failed = False
    figures: dict[str, dict] = {}
    for kind in ("page", "csv"):
        figures[kind] = {label: {"n": len(times[(label, kind)])} for label in ("small", "large")}
        for stat, p in (("p50", 50), ("p90", 90), ("p99", 99)):
            small, large = (percentile(times[(label, kind)], p) for label in ("small", "large"))
            figures[kind]["small"][f"{stat}_ms"], figures[kind]["large"][f"{stat}_ms"] = round(small, 2), round(large, 2)
            ratio = large / small
            ok = stat != "p99" or (ratio <= TARGET_RATIO and large < 1000)
            failed |= not ok
            print(
                f"  {kind:4} {stat:<48} {small:>12.1f}  {large:>12.1f}  {ratio:>6.2f}  {'<= 1.25' if stat == 'p99' else '':7} {'' if ok else 'MISSED'}"
            )
    return figures, failed


def main(argv=None) -> int:
    args = parse_args(argv)
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        print("TEST_DATABASE_URL is not set: run through `make bench` (stack.postgres)", file=sys.stderr)
        return 2
    names = {size: f"{args.db_name}_{size}" for size in ("small", "large")}
    for name in names.values():
        if not args.measure_only:
            drop_database(server, name, create_again=True)
    setup_django(database_url_for(server, names["small"]))
    from django.contrib.auth import get_user_model

    # Never saved: no session needed; a superuser passes the permission check without a query.
    staff = get_user_model()(username="bench-staff", is_staff=True, is_superuser=True, is_active=True)
    for label, size in (("small", args.small), ("large", args.large)):
        prepare(names[label], size, staff, args.measure_only)
    times = measure(names, view_timer(staff), args.runs)
    from django.db import connection

    connection.close()
    if args.drop:
        for name in names.values():
            drop_database(server, name)
    figures, failed = summarize(args, times)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"small": args.small, "large": args.large, "runs": args.runs, "orders_every": ORDERS_EVERY, **figures}, indent=2)
        )
    return EXIT_MISSED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
