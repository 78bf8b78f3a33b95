"""What the bench measures besides the load: its own databases (seeded to a size), the staff
table's timings, worker memory from /proc, and the machine it ran on."""

from __future__ import annotations

import base64
import os
import platform
import re
import subprocess
import time
from pathlib import Path

import psycopg2

from ..postgres import drop_database
from .load import WRK
from .references import BenchError

DB_NAME = re.compile(r"^pizza_bench[a-z0-9_]*$")


# --- databases --------------------------------------------------------------------------------


def recreate_database(server_url: str, name: str) -> None:
    """Drop and create our own database on that server; never touches any other."""
    if not DB_NAME.match(name):
        raise BenchError(f"refusing to recreate database {name!r}: bench databases are named pizza_bench*")
    drop_database(server_url, name, create_again=True)


def drop_bench_database(server_url: str, name: str) -> None:
    if DB_NAME.match(name):
        drop_database(server_url, name)


SEED_SQL = """
INSERT INTO orders_order (reference, access_token, form_token, pizza_id, size, quantity, unit_price, total,
                          customer_name, phone, address, comments, variant, visitor_id, status,
                          created_at, updated_at)
SELECT 'BN' || lpad(i::text, 8, '0'),
       md5('access' || i::text) || md5('token' || i::text),
       md5('form' || i::text)::uuid,
       p.ids[1 + mod(i, p.n)::int],
       (ARRAY['small', 'medium', 'large'])[1 + mod(i, 3)],
       1 + mod(i, 4),
       10.00,
       (1 + mod(i, 4)) * 10.00,
       'Customer ' || i,
       '+45' || lpad(i::text, 8, '0'),
       i || ' Benchmark Street',
       '',
       (ARRAY['a', 'b', 'c'])[1 + mod(i, 3)],
       '',
       (ARRAY['received', 'baking', 'out_for_delivery', 'delivered', 'cancelled'])[1 + mod(i, 5)],
       t.at,
       t.at
FROM generate_series(%(first)s, %(last)s) AS i
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM orders_pizza WHERE active) AS p
CROSS JOIN LATERAL (SELECT now() - random() * interval '90 days' AS at WHERE i IS NOT NULL) AS t
"""


class Orders:
    """A bench database's orders table: grow it to a size, find a deep cursor."""

    def __init__(self, url: str):
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True
        self.count = 0

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def grow_to(self, size: int) -> float:
        """Insert orders until the table holds `size`; VACUUM ANALYZE; return the seconds taken."""
        started = time.perf_counter()
        if size > self.count:
            self.query(SEED_SQL, {"first": self.count + 1, "last": size})
            self.count = size
        self.query("VACUUM ANALYZE orders_order")
        return time.perf_counter() - started

    def pizza_id(self) -> int:
        return self.query("SELECT id FROM orders_pizza WHERE active ORDER BY position, name LIMIT 1")[0][0]

    def middle(self) -> tuple[str, str]:
        """(cursor, phone) of the order half-way down the newest-first table."""
        created_at, pk, phone = self.query(
            "SELECT created_at, id, phone FROM orders_order ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (self.count // 2,),
        )[0]
        raw = f"{created_at.isoformat()}|{pk}"  # the app's encode_cursor
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="), phone


# --- memory and the machine -----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def memory_mb(pid: int) -> dict:
    out: dict[str, float] = {"pid": pid}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(("Pss:", "Private_Dirty:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict:
    model = next(
        (row.split(":", 1)[1].strip() for row in Path("/proc/cpuinfo").read_text().splitlines() if row.startswith("model name")),
        platform.processor(),
    )
    mem = next((int(row.split()[1]) // 1024 for row in Path("/proc/meminfo").read_text().splitlines() if row.startswith("MemTotal")), 0)

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    import django
    import gunicorn

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": version([WRK, "-v"]).split(" [")[0],
        "haproxy": version(["/usr/sbin/haproxy", "-v"]),
        "loadavg_start": loadavg(),
    }
