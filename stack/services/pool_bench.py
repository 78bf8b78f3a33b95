"""Order throughput of one variant straight to PostgreSQL vs through the PgBouncer twin, same run.

    .venv/bin/python -m stack.postgres .venv/bin/python -m stack.services.pool_bench [--rounds 3] [--seconds 5]

Two gunicorn processes of variant A (2 workers x 4 threads each) on one database: slot 1 direct,
slot 2 through PgBouncer (transaction mode). wrk runs stack/bench/order.lua against each in
alternating rounds, so other work on the machine lands on both alike. Ports: its block above
PIZZA_TEST_PORT (stack/local/ports.py TEST_PORTS).
The figures feed docs/capacity.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..bench.load import ORDER_SCRIPT, run_wrk
from ..local import PortPlan, Stack
from ..local.ports import port_of
from ..postgres import drop_database
from . import service_port
from .pgbouncer import PgBouncer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    server = os.environ["TEST_DATABASE_URL"]
    url = drop_database(server, "pizza_scale_poolbench", create_again=True)
    pool = PgBouncer(server, service_port("pgbouncer_bench")).start()
    entry = port_of("pool_bench")
    stack = Stack(
        env="dev",
        state_dir=Path(tempfile.mkdtemp(prefix="pizza-poolbench.")),
        ports=PortPlan(entry),
        database_url=url,
        quiet=True,
        workers=2,
        threads=4,
        extra_env={"REQUEST_LOG": "0"},
    )
    try:
        stack.prepare(staff_password="poolbench-password")
        stack.start_variant("a", slot=1)
        stack.start_variant("a", slot=2, env={"DATABASE_URL": pool.url_for(url), "DATABASE_POOLED": "1"})
        for slot in (1, 2):
            assert stack.wait_ready("a", slot=slot, via_haproxy=False), f"slot {slot} not ready"
        import psycopg2

        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT min(id) FROM orders_pizza")
            pizza = str(cur.fetchone()[0])
        totals = {1: [0, 0.0, 0], 2: [0, 0.0, 0]}
        for round_no in range(1, args.rounds + 1):
            for slot in (1, 2) if round_no % 2 else (2, 1):
                target = stack.variant_url("a", "/", slot=slot)
                if round_no == 1:
                    run_wrk(target, ORDER_SCRIPT, 2, args.connections, [pizza])
                data = run_wrk(target, ORDER_SCRIPT, args.seconds, args.connections, [pizza])
                totals[slot][0] += data["requests"]
                totals[slot][1] += data["seconds"]
                totals[slot][2] += data.get("flows", 0)
                print(
                    f"round {round_no} {'direct' if slot == 1 else 'pooled'}: {data['rps']:.0f} req/s, "
                    f"{data.get('flows_per_s', 0):.0f} orders/s",
                    flush=True,
                )
        direct, pooled = (totals[s][0] / totals[s][1] for s in (1, 2))
        print(
            f"direct {direct:.0f} req/s ({totals[1][2] / totals[1][1]:.0f} orders/s); "
            f"through PgBouncer {pooled:.0f} req/s ({totals[2][2] / totals[2][1]:.0f} orders/s); ratio {pooled / direct:.0%}"
        )
        servers = [s for s in pool.show("SERVERS") if s["database"] == "pizza_scale_poolbench"]
        print(f"PgBouncer: 8 client threads per process, {len(servers)} server connections open at the end")
        return 0
    finally:
        stack.stop()
        pool.stop()
        drop_database(server, "pizza_scale_poolbench")
        shutil.rmtree(stack.state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
