"""`make bench`: order throughput, the staff table at a million orders and worker memory, each beside a
reference measured in the same run on the same machine (absolute times drift here; ratios do not).

    .venv/bin/python -m stack.postgres .venv/bin/python -m stack.bench [--quick] [--duration S] [--connections N]

What it does, in order (see docs/bench.md for the method and the latest table):

1. Recreates its own database (pizza_bench; pizza_bench_quick with --quick; --db-name) on the PostgreSQL
   server TEST_DATABASE_URL points at, and starts A, B, C and HAProxy with stack.local.Stack on its own ports
   (28000 up; 28100 with --quick), with a fixed gunicorn worker/thread count for every process.
2. Order placement with wrk and stack/bench_order.lua (form GET, POST with CSRF and one-time token,
   confirmation GET), in alternating rounds over: the ceiling (wrk plain GET against stack/bare_wsgi.py under
   the same gunicorn settings), variant A direct, HAProxy's A/B/C split, HAProxy with B and C in maintenance,
   and extra variant-A processes with the request log and the exposure recording switched off.
3. The staff table at 1,000 / 100,000 / 1,000,000 orders (generate_series, then VACUUM ANALYZE), each size
   in its own database behind its own variant-A process, measured in interleaved sequential rounds: first
   page, a deep keyset page (half-way), a status filter and a phone search, p50/p99.
4. Resident memory of each worker of the variant A that served the largest table.

It prints a fixed-width table and writes reports/bench.json and reports/bench.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import requests

from .haproxy import Ports
from .local import APP_DIR, REPO_ROOT, Stack, StackError, database_url_for, drop_database, http_get, staff_login

WRK = shutil.which("wrk") or "/usr/bin/wrk"
ORDER_SCRIPT = REPO_ROOT / "stack" / "bench_order.lua"
GET_SCRIPT = REPO_ROOT / "stack" / "bench_get.lua"
REPORTS = REPO_ROOT / "reports"
STAFF_USER = "staff"
STAFF_PASSWORD = "bench-staff-password-1"
DB_NAME = re.compile(r"^pizza_bench[a-z0-9_]*$")

# Targets: (comparison, bound). Ratios, so they hold however fast this machine is today.
TARGET_DIRECT = 0.20      # order flow req/s direct to a variant / bare WSGI req/s
TARGET_LB = 0.85          # order flow req/s through HAProxy / direct
TARGET_STAFF = 1.25       # staff first-page p99 at the largest size / at 1,000
TARGET_RSS_MB = 100.0     # each gunicorn worker after the largest staff run


class BenchError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


# --- database ---------------------------------------------------------------------------------

def bench_database_url(server_url: str, name: str) -> str:
    return database_url_for(server_url, name)


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
    """The bench database's orders table: empty it, grow it to a size, find a deep cursor."""

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

    def truncate(self) -> None:
        self.query("TRUNCATE orders_order RESTART IDENTITY")
        self.count = 0

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


# --- processes --------------------------------------------------------------------------------

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
    out = {"pid": pid}
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


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http_get(f"{base}/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{base} did not become ready within {timeout:g}s")


class BareApp:
    """stack/bare_wsgi.py under app/gunicorn.conf.py, the same workers and threads as the product."""

    def __init__(self, port: int, workers: int, threads: int, state_dir: Path):
        self.port, self.workers, self.threads, self.state_dir = port, workers, threads, state_dir
        self.popen: subprocess.Popen | None = None

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VARIANT", "THEME", "DJANGO_"))}
        env.update(HOST="127.0.0.1", PORT=str(self.port), WEB_CONCURRENCY=str(self.workers),
                   GUNICORN_THREADS=str(self.threads), GUNICORN_WORKER_TMP_DIR=str(self.state_dir),
                   PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")
        log = self.state_dir / "logs" / "bare.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(APP_DIR / "gunicorn.conf.py"), "stack.bare_wsgi:application"],
                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                if http_get(f"http://127.0.0.1:{self.port}/", timeout=1)[0] == 200:
                    return self
            except OSError:
                pass
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the bare WSGI app did not start; see {log}")
            time.sleep(0.1)

    def __exit__(self, *exc):
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


# --- load -------------------------------------------------------------------------------------

def run_wrk(url: str, script: Path, duration: float, connections: int, args: list[str] = ()) -> dict:
    # One wrk thread per connection: the order script keeps one customer's steps per thread.
    cmd = [WRK, "-t", str(connections), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
           "--timeout", "10s", "-s", str(script), url]
    if args:
        cmd += ["--", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    data = json.loads(line[len("BENCH_JSON "):])
    seconds = data["duration_us"] / 1e6
    data["seconds"] = seconds
    data["rps"] = data["requests"] / seconds
    if "flows" in data:
        data["flows_per_s"] = data["flows"] / seconds
    data["command"] = " ".join(shlex.quote(c) for c in cmd)
    return data


def check_load(data: dict, what: str) -> None:
    bad = sum(data["socket_errors"].values()) + data.get("flow_errors", 0)
    if data["requests"] == 0 or (data.get("flows") == 0) or bad > max(10, 0.01 * data["requests"]):
        raise BenchError(f"{what}: too many failures: {json.dumps(data)}")


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.duration = args.duration or (2.0 if self.quick else 15.0)
        self.warmup = 1.0 if self.quick else 3.0
        self.rounds = args.rounds or (1 if self.quick else 3)
        self.connections = args.connections
        self.samples = args.samples or (20 if self.quick else 200)
        self.sizes = [1_000, 100_000] if self.quick else [1_000, 100_000, 1_000_000]
        self.db_name = args.db_name or ("pizza_bench_quick" if self.quick else "pizza_bench")
        entry = args.port or (28100 if self.quick else 28000)
        self.ports = Ports(entry=entry, stats=entry + 404)
        self.bare_port = entry + 50
        self.state_dir = REPO_ROOT / ".stack" / self.db_name.replace("_", "-")  # .stack/pizza-bench, ...
        server = os.environ.get("TEST_DATABASE_URL")
        if not server:
            raise BenchError("TEST_DATABASE_URL is not set: run `make bench` (stack.postgres sets it)")
        self.server_url = server
        self.db_url = bench_database_url(server, self.db_name)
        self.results: dict = {"rows": []}
        self.exposures_setting = "RECORD_EXPOSURES" in (APP_DIR / "config" / "settings" / "base.py").read_text()

    # -- order placement ----------------------------------------------------------------------
    def load(self, url: str, key: str, what: str, round_no: int, pizza: int) -> dict:
        script, args = (GET_SCRIPT, []) if key == "ceiling" else (ORDER_SCRIPT, [str(pizza)])
        seconds = self.duration / self.rounds
        if round_no == 1:
            run_wrk(url, script, self.warmup, self.connections, args)
        data = run_wrk(url, script, seconds, self.connections, args)
        check_load(data, what)
        flows = f", {data['flows_per_s']:.0f} orders/s" if "flows_per_s" in data else ""
        say(f"round {round_no}/{self.rounds} {what} ({url}, {seconds:g}s): {data['rps']:.0f} req/s{flows}, "
            f"p50 {data['latency_us']['p50'] / 1000:.1f} ms, p99 {data['latency_us']['p99'] / 1000:.1f} ms")
        return data

    def maintenance(self, stack: Stack, on: bool) -> None:
        """B and C out of (or back into) rotation through HAProxy's runtime API."""
        for variant in ("b", "c"):
            stack.set_server_state(variant, 1, "maint" if on else "ready")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = stack.server_states()
            if all((states.get(s) == "UP") != on for s in ("b1", "c1")):
                return
            time.sleep(0.2)
        raise BenchError(f"HAProxy did not {'drain' if on else 'restore'} B and C: {stack.server_states()}")

    def restart_a(self, stack: Stack, **env: str) -> None:
        stack.stop_variant("a")
        stack.start_variant("a", env=env)
        if not stack.wait_ready("a", timeout=60):
            raise BenchError(f"variant a did not come back; see {stack.state_dir / 'logs' / 'a1.log'}")

    # -- staff table --------------------------------------------------------------------------
    def staff_session(self, base: str) -> requests.Session:
        return staff_login(base, STAFF_USER, STAFF_PASSWORD)

    def staff_db(self, size: int) -> str:
        return f"{self.db_name}_{size}"

    def staff_timings(self, targets: dict) -> dict:
        """targets: size -> (base url, logged-in session, {page: path}). Round-robin over every size and page."""
        for base, session, paths in targets.values():  # warm the workers, connections and PostgreSQL's cache
            for path in paths.values():
                for _ in range(5 if self.quick else 10):
                    session.get(base + path, timeout=30)
        times = {size: {page: [] for page in paths} for size, (_, _, paths) in targets.items()}
        info = {size: {} for size in targets}
        for _ in range(self.samples):
            for size, (base, session, paths) in targets.items():
                for page, path in paths.items():
                    started = time.perf_counter()
                    response = session.get(base + path, timeout=30)
                    took = time.perf_counter() - started
                    if response.status_code != 200:
                        raise BenchError(f"staff {page} at {size:,}: {path}: HTTP {response.status_code}")
                    times[size][page].append(took * 1000)
                    info[size][page] = {"bytes": len(response.content), "rows": response.text.count("data-reference=")}
        return {size: {page: {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99), "n": len(values), **info[size][page]}
                       for page, values in pages.items()} for size, pages in times.items()}

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> dict:
        if not Path(WRK).exists():
            raise BenchError("wrk is not installed: apt-get install -y wrk")
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        say(f"database {self.db_name} (recreated) on {urlsplit(self.server_url).hostname}:{urlsplit(self.server_url).port}")
        recreate_database(self.server_url, self.db_name)
        on = {"REQUEST_LOG": "1", "RECORD_EXPOSURES": "1"}
        stack = Stack(env="dev", state_dir=self.state_dir, ports=self.ports, database_url=self.db_url,
                      workers=self.args.workers, threads=self.args.threads, quiet=True, extra_env=dict(on))
        orders = None
        extra: list[Orders] = []
        try:
            say(f"starting A, B, C and HAProxy on :{self.ports.entry} ({self.args.workers} workers x {self.args.threads} threads each)")
            stack.start(staff_password=STAFF_PASSWORD)
            orders = Orders(self.db_url)
            pizza = orders.pizza_id()
            r = self.results
            # Order placement: every configuration runs at once (idle ones cost nothing) and the load visits them
            # in turn, round after round, so drift on this shared machine touches each configuration alike.
            toggles = {"off": {"REQUEST_LOG": "0", "RECORD_EXPOSURES": "0"},
                       "log_only": {"REQUEST_LOG": "1", "RECORD_EXPOSURES": "0"}}
            if self.exposures_setting:
                toggles["exposures_only"] = {"REQUEST_LOG": "0", "RECORD_EXPOSURES": "1"}
            toggle_urls = {}
            for slot, (name, env) in enumerate(toggles.items(), start=5):
                port = self.ports.entry + 30 + slot
                stack.start_variant("a", slot=slot, env={**env, "PORT": str(port)})
                toggle_urls[name] = f"http://127.0.0.1:{port}/"
            for url in toggle_urls.values():
                wait_ready(url.rstrip("/"))
            with BareApp(self.bare_port, self.args.workers, self.args.threads, self.state_dir):
                plan = [("ceiling", f"http://127.0.0.1:{self.bare_port}/", "bare WSGI, plain GET"),
                        ("direct", stack.variant_url("a", "/"), "direct to variant A, log + exposures on"),
                        ("lb", stack.url("/"), "through HAProxy, A/B/C split"),
                        ("lb_a_only", stack.url("/"), "through HAProxy, B and C in maintenance: A only"),
                        *[(name, url, f"direct to a variant-A process with {name}") for name, url in toggle_urls.items()]]
                runs = {key: [] for key, _, _ in plan}
                for round_no in range(1, self.rounds + 1):
                    for key, url, what in plan:
                        if key == "lb_a_only":
                            self.maintenance(stack, True)
                        try:
                            runs[key].append(self.load(url, key, what, round_no, pizza))
                        finally:
                            if key == "lb_a_only":
                                self.maintenance(stack, False)
            for key in runs:
                r[key] = combine(runs[key])
            r["toggles"] = {name: r.pop(name) for name in toggles}
            r["toggles"]["on"] = r["direct"]
            for slot in range(5, 5 + len(toggles)):
                stack.stop_variant("a", slot)

            # staff table: every size is served at once, each by its own variant-A gunicorn on its own database,
            # and the rounds interleave them, so drift on this shared machine hits every size alike.
            # The largest size is on the stack's own A (restarted: fresh workers, production settings), whose
            # workers' memory is read afterwards.
            self.restart_a(stack, **on)
            main_pid = stack.processes[("a", 1)].popen.pid
            workers_before = children(main_pid)
            orders.truncate()
            servers = {}  # size -> (base url, Orders)
            for slot, size in enumerate(self.sizes[:-1], start=2):
                url = bench_database_url(self.server_url, self.staff_db(size))
                recreate_database(self.server_url, self.staff_db(size))
                stack.manage("migrate_safely", env={"DATABASE_URL": url, "VARIANT": "a"})
                stack.manage("ensure_staff", "--password", STAFF_PASSWORD, env={"DATABASE_URL": url})
                port = self.ports.entry + 30 + slot
                stack.start_variant("a", slot=slot, env={"DATABASE_URL": url, "PORT": str(port), **on})
                servers[size] = (f"http://127.0.0.1:{port}", Orders(url))
                extra.append(servers[size][1])
            servers[self.sizes[-1]] = (stack.variant_url("a", "").rstrip("/"), orders)
            r["staff"] = {}
            targets = {}
            for size, (base, db) in servers.items():
                seconds = db.grow_to(size)
                cursor, phone = db.middle()
                say(f"staff table at {size:,} orders on {base}: seeded + VACUUM ANALYZE in {seconds:.1f}s")
                wait_ready(base)
                targets[size] = (base, self.staff_session(base), {
                    "first": "/staff/orders/",
                    "deep": f"/staff/orders/?after={cursor}",
                    "status": "/staff/orders/?status=baking",
                    "search": f"/staff/orders/?q={requests.utils.quote(phone)}",
                })
                r["staff"][str(size)] = {"seed_seconds": round(seconds, 1)}
            say(f"staff table: {self.samples} interleaved rounds over {len(targets)} sizes x 4 pages")
            for size, timings in self.staff_timings(targets).items():
                r["staff"][str(size)].update(timings)
                say(f"  {size:>9,}: " + ", ".join(f"{k} p50 {v['p50_ms']:.1f} / p99 {v['p99_ms']:.1f} ms" for k, v in timings.items()))
            workers_after = children(main_pid)
            r["memory"] = {
                "variant_a_workers": [memory_mb(pid) for pid in workers_after],
                "variant_a_master": memory_mb(main_pid),
                "workers_recycled_during_staff_run": workers_before != workers_after,
            }
            say("  worker RSS: " + ", ".join(f"{m.get('VmRSS', 0):.1f} MB" for m in r["memory"]["variant_a_workers"]))
        finally:
            for db in [orders, *extra]:
                if db is not None:
                    db.close()
            stack.stop()
            if not self.args.keep_db:
                for name in [self.db_name, *(self.staff_db(size) for size in self.sizes[:-1])]:
                    drop_bench_database(self.server_url, name)
        self.results["elapsed_seconds"] = round(time.monotonic() - started, 1)
        self.results["loadavg_end"] = loadavg()
        return self.results


# --- statistics and report ----------------------------------------------------------------------

def combine(runs: list[dict]) -> dict:
    """Rounds of one configuration: rates from the totals, latencies as the median round's."""
    seconds = sum(run["seconds"] for run in runs)
    out = {
        "rps": sum(run["requests"] for run in runs) / seconds,
        "seconds": seconds,
        "latency_us": {k: median([run["latency_us"][k] for run in runs]) for k in ("p50", "p90", "p99", "max")},
        "rounds": runs,
    }
    if "flows" in runs[0]:
        out["flows_per_s"] = sum(run["flows"] for run in runs) / seconds
        out["flow_errors"] = sum(run["flow_errors"] for run in runs)
        out["flow_latency_us"] = {k: median([run["flow"][k] for run in runs]) for k in ("p50", "p99")}
        out["post_latency_us"] = {k: median([run["post"][k] for run in runs]) for k in ("p50", "p99")}
    return out


def median(values: list[float]) -> float:
    return percentile(values, 50)


def round_ratios(runs: list[dict], reference: list[dict]) -> str:
    """Per-round ratios as 'a-b%': how much the rounds agree."""
    ratios = [run["rps"] / ref["rps"] * 100 for run, ref in zip(runs, reference)]
    if len(ratios) < 2:
        return ""
    return f", rounds {min(ratios):.0f}-{max(ratios):.0f}%"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (p / 100) * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) // 1024 for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), 0)

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    import django
    import gunicorn

    return {
        "cpus": os.cpu_count(), "cpu_model": model, "memory_mb": mem, "kernel": platform.release(),
        "python": platform.python_version(), "django": django.get_version(), "gunicorn": gunicorn.__version__,
        "wrk": version([WRK, "-v"]).split(" [")[0], "haproxy": version(["/usr/sbin/haproxy", "-v"]),
        "loadavg_start": loadavg(),
    }


def fmt_load(d: dict, flows: bool = True) -> str:
    text = f"{d['rps']:.0f} req/s"
    if flows and "flows_per_s" in d:
        text += f" ({d['flows_per_s']:.0f} orders/s)"
    return text + f", p50 {d['latency_us']['p50'] / 1000:.1f} / p99 {d['latency_us']['p99'] / 1000:.1f} ms"


def build_rows(r: dict, quick: bool) -> list[dict]:
    rows = []

    def row(name, number, figure, reference="", ratio=None, target="", ok=None, kind="%"):
        """number: the figure as one float (req/s, p99 ms or MB); ratio: figure / reference."""
        shown = "" if ratio is None else f"{ratio * 100:.0f}%" if kind == "%" else f"{ratio:.2f}x"
        rows.append({"measurement": name, "figure": figure, "reference": reference, "ratio": shown,
                     "target": target, "result": "" if ok is None else ("PASS" if ok else "MISS"),
                     "number": round(float(number), 2), "value": ratio})

    c, d, lb, lba = r["ceiling"], r["direct"], r["lb"], r["lb_a_only"]
    n = len(c["rounds"])
    row("ceiling: bare WSGI, plain GET", c["rps"], fmt_load(c, False), f"(the reference; {n} round{'s' * (n > 1)})")
    row("order flow, direct to variant A", d["rps"], fmt_load(d), f"ceiling {c['rps']:.0f} req/s" + round_ratios(d["rounds"], c["rounds"]),
        d["rps"] / c["rps"], f">= {TARGET_DIRECT:.0%}", d["rps"] / c["rps"] >= TARGET_DIRECT)
    row("order flow, HAProxy -> A/B/C split", lb["rps"], fmt_load(lb), f"direct {d['rps']:.0f} req/s" + round_ratios(lb["rounds"], d["rounds"]),
        lb["rps"] / d["rps"], f">= {TARGET_LB:.0%}", lb["rps"] / d["rps"] >= TARGET_LB)
    row("order flow, HAProxy -> A only", lba["rps"], fmt_load(lba), f"direct {d['rps']:.0f} req/s" + round_ratios(lba["rounds"], d["rounds"]),
        lba["rps"] / d["rps"])
    toggles = r["toggles"]
    off = toggles["off"]
    for name, label in (("on", "log + exposures ON (default)"), ("log_only", "request log only"), ("exposures_only", "exposure recording only")):
        if name in toggles:
            row(f"order flow, A, {label}", toggles[name]["rps"], fmt_load(toggles[name]),
                f"both off {off['rps']:.0f} req/s" + round_ratios(toggles[name]["rounds"], off["rounds"]), toggles[name]["rps"] / off["rps"])
    staff = r["staff"]
    sizes = sorted(staff, key=int)
    base = staff[sizes[0]]
    largest = sizes[-1]
    for page, label in (("first", "first page"), ("deep", "deep page (keyset, half-way)"), ("status", "status=baking"), ("search", "search by phone")):
        for size in sizes:
            s = staff[size][page]
            ratio = s["p99_ms"] / base[page]["p99_ms"]
            target, ok = "", None
            if page in ("first", "deep") and size == largest and size != sizes[0]:
                target, ok = f"<= {TARGET_STAFF:.2f}x" + ("" if int(size) >= 1_000_000 else " (at 1M)"), ratio <= TARGET_STAFF
            row(f"staff {label} @ {int(size):,}", s["p99_ms"], f"p50 {s['p50_ms']:.1f} / p99 {s['p99_ms']:.1f} ms, {s['rows']} rows, {s['bytes'] / 1024:.0f} KiB",
                f"p99 @ {int(sizes[0]):,}: {base[page]['p99_ms']:.1f} ms", ratio, target, ok, kind="x")
    mem = r["memory"]
    rss = [m.get("VmRSS", 0.0) for m in mem["variant_a_workers"]]
    pss = [m.get("Pss", 0.0) for m in mem["variant_a_workers"]]
    row(f"worker RSS after {int(largest):,}-order run (A)", max(rss) if rss else float("nan"), ", ".join(f"{x:.0f}" for x in rss) + " MB (PSS " + ", ".join(f"{x:.0f}" for x in pss) + ")",
        f"master {mem['variant_a_master'].get('VmRSS', 0):.0f} MB", max(rss) / TARGET_RSS_MB if rss else None,
        f"< {TARGET_RSS_MB:.0f} MB", bool(rss) and max(rss) < TARGET_RSS_MB)
    return rows


def render_text(rows: list[dict]) -> str:
    cols = ["measurement", "figure", "reference", "ratio", "target", "result"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    line = "  ".join(c.ljust(widths[c]) for c in cols)
    out = [line, "  ".join("-" * widths[c] for c in cols)]
    for r in rows:
        out.append("  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip())
    return "\n".join(out)


def render_markdown(rows: list[dict]) -> str:
    cols = ["measurement", "figure", "reference", "ratio", "target", "result"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke test: short runs, staff table up to 100,000 orders")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per configuration, split over the rounds (default 15, quick 2)")
    parser.add_argument("--rounds", type=int, default=None, help="the order-placement runs alternate this many times (default 3, quick 1)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (= wrk threads) per run (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per variant and for the bare app (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--samples", type=int, default=None, help="sequential requests per staff page and size (default 200, quick 20)")
    parser.add_argument("--port", type=int, default=None, help="HAProxy entry port; variants and the bare app use the next ones (default 28000, quick 28100)")
    parser.add_argument("--db-name", default=None, help="the bench database, dropped and recreated (default pizza_bench, quick pizza_bench_quick)")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards (for profiling)")
    parser.add_argument("--reports", default=str(REPORTS), help="where bench.json and bench.md go")
    args = parser.parse_args(argv)

    command = "make bench" + (f" BENCH_ARGS='{' '.join(argv if argv is not None else sys.argv[1:])}'" if (argv if argv is not None else sys.argv[1:]) else "")
    try:
        bench = Bench(args)
        facts = machine()
        say(f"{facts['cpus']} CPU(s) ({facts['cpu_model']}): wrk and the servers share them; loopback only")
        results = bench.run()
    except (BenchError, StackError, psycopg2.Error, requests.RequestException) as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 1
    rows = build_rows(results, args.quick)
    settings = {
        "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread, preload, app/gunicorn.conf.py) per variant and for the bare app",
        "load generator": f"wrk {facts['wrk'].split()[1] if len(facts['wrk'].split()) > 1 else ''}: {args.connections} connections, "
                          f"{args.connections} threads, {bench.duration:g}s per configuration in {bench.rounds} alternating round(s), after a {bench.warmup:g}s warm-up",
        "staff table": f"{bench.samples} sequential rounds per page, direct to variant A, logged in as staff",
        "exposure setting": "RECORD_EXPOSURES present" if bench.exposures_setting else "RECORD_EXPOSURES not in settings yet: passed but has no effect",
    }
    header = (f"{facts['cpus']} CPUs ({facts['cpu_model']}), {facts['memory_mb']} MB; client (wrk), HAProxy, gunicorn and PostgreSQL "
              f"share the same cores (load average {facts['loadavg_start']} at start, {results['loadavg_end']} at end). "
              f"{settings['gunicorn']}. Load: {settings['load generator']}. {settings['exposure setting']}.")
    table = render_text(rows)
    print()
    print(header)
    print(table)
    misses = [r["measurement"] for r in rows if r["result"] == "MISS"]
    print(f"\n{len([r for r in rows if r['result'] == 'PASS'])} PASS, {len(misses)} MISS" + (f": {'; '.join(misses)}" if misses else ""))
    reports = Path(args.reports)
    reports.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (reports / "bench.json").write_text(json.dumps({
        "when": stamp, "command": command, "machine": facts, "settings": settings, "quick": args.quick,
        "rows": rows, "raw": results,
    }, indent=2, default=str))
    (reports / "bench.md").write_text(
        f"# make bench ({stamp})\n\nCommand: `{command}`\n\n{header}\n\n{render_markdown(rows)}\n"
    )
    print(f"\nwritten: {reports / 'bench.json'}, {reports / 'bench.md'} ({results['elapsed_seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
