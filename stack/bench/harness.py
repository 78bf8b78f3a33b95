"""The run: its own database and stack, the order-placement rounds, the staff table at each size,
worker memory; the figures go to report.py."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .. import APP_DIR, REPO_ROOT
from ..http import staff_login, wait_until_ready
from ..local import PortPlan, Stack
from ..local.ports import MAX_SLOTS
from ..postgres import database_url_for
from ..stats import percentile
from .load import GET_SCRIPT, ORDER_SCRIPT, POST_SCRIPT, WRK, check_load, combine, run_wrk
from .measurements import Orders, children, drop_bench_database, loadavg, memory_mb, recreate_database
from .references import BareApp, BenchError, FloorApp

STAFF_USER = "staff"
STAFF_PASSWORD = "bench-staff-password-1"
# Extra variant-A processes beside the stack's own, in slots HAProxy never balances over (see ports.py).
TOGGLE_SLOTS = 5  # 5, 6, 7: request log / exposure recording switched off (stopped before the staff table)
STAFF_SLOTS = 3  # 3, 4, 5, ...: one per staff-table size, the largest included (so at most 7 sizes)
# The POST-only bodies (post.lua puts a fresh CSRF secret and UUID in): the product's order form, the floor's.
POST_BODY = (
    "csrfmiddlewaretoken=@CSRF@&form_token=@TOKEN@&pizza={pizza}&size=medium&quantity=1&customer_name=Bench+Customer"
    "&phone=%2B45+12+34+56+78&address=1+Benchmark+Street%2C+Loopback&comments="
)
FLOOR_BODY = "csrfmiddlewaretoken=@CSRF@&pizza=Margherita&customer_name=Bench+Customer"


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


def wait_ready(base: str, timeout: float = 60) -> None:
    if not wait_until_ready(f"{base}/readyz", timeout):
        raise BenchError(f"{base} did not become ready within {timeout:g}s")


class StaffClient:
    """GET over one kept-alive HTTP/1.1 connection with a logged-in session's cookies (reconnects if closed)."""

    def __init__(self, base: str, session: requests.Session):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            return self._get(path)
        except (http.client.RemoteDisconnected, ConnectionError):  # gunicorn closed an idle keep-alive: once more
            self.conn.close()
            return self._get(path)

    def _get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.duration = args.duration or (2.0 if self.quick else 15.0)
        self.warmup = 1.0 if self.quick else 3.0
        self.rounds = args.rounds or (1 if self.quick else 3)
        self.connections = args.connections
        # p99 of 1,000 sequential requests is their 10th slowest; of the earlier 200, the 2nd (docs/bench.md).
        self.samples = args.samples or (20 if self.quick else 1000)
        self.sizes = sorted(set(args.sizes)) if args.sizes else [1_000, 100_000] if self.quick else [1_000, 100_000, 1_000_000]
        if len(self.sizes) < 2:
            raise BenchError("--sizes needs at least two table sizes: the smallest is the reference")
        if STAFF_SLOTS + len(self.sizes) - 1 > MAX_SLOTS:
            raise BenchError(f"--sizes takes at most {MAX_SLOTS - STAFF_SLOTS + 1} table sizes: one variant-A process slot each")
        chosen = sorted(args.experiment_sizes) if args.experiment_sizes else None
        self.experiment_sizes = (chosen[0], chosen[-1]) if chosen else (10_000, 100_000) if self.quick else (10_000, 1_000_000)
        self.experiment_runs = args.experiment_runs or (10 if self.quick else 100)
        self.db_name = args.db_name or ("pizza_bench_quick" if self.quick else "pizza_bench")
        self.ports = PortPlan(args.port or (28100 if self.quick else 28000))
        self.state_dir = REPO_ROOT / ".stack" / self.db_name.replace("_", "-")  # .stack/pizza-bench, ...
        server = os.environ.get("TEST_DATABASE_URL")
        if not server:
            raise BenchError("TEST_DATABASE_URL is not set: run `make bench` (stack.postgres sets it)")
        self.server_url = server
        self.db_url = database_url_for(server, self.db_name)
        self.results: dict = {"rows": []}
        self.exposures_setting = "RECORD_EXPOSURES" in (APP_DIR / "config" / "settings" / "base.py").read_text()

    # -- order placement ----------------------------------------------------------------------
    def load(self, url: str, key: str, what: str, round_no: int, pizza: int) -> dict:
        if key == "ceiling":
            script, args = GET_SCRIPT, []
        elif key == "post":  # the product's order POST alone: a new order per request
            body = POST_BODY.format(pizza=pizza)
            script, args = POST_SCRIPT, ["/order/", body, "303"]
        elif key == "floor_post":  # the floor's: its two-field ModelForm, saved, redirect
            script, args = POST_SCRIPT, ["/order/", FLOOR_BODY, "302"]
        else:
            script, args = ORDER_SCRIPT, [str(pizza)]
        seconds = self.duration / self.rounds
        if round_no == 1:
            run_wrk(url, script, self.warmup, self.connections, args)
        data = run_wrk(url, script, seconds, self.connections, args)
        check_load(data, what)
        flows = f", {data['flows_per_s']:.0f} orders/s" if "flows_per_s" in data else ""
        say(
            f"round {round_no}/{self.rounds} {what} ({url}, {seconds:g}s): {data['rps']:.0f} req/s{flows}, "
            f"p50 {data['latency_us']['p50'] / 1000:.1f} ms, p99 {data['latency_us']['p99'] / 1000:.1f} ms"
        )
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

    # -- staff table --------------------------------------------------------------------------
    def staff_session(self, base: str) -> requests.Session:
        return staff_login(base, STAFF_USER, STAFF_PASSWORD)

    def staff_db(self, size: int) -> str:
        return f"{self.db_name}_{size}"

    def staff_timings(self, targets: dict) -> dict:
        """targets: size -> (base url, logged-in session, {page: path}). Round-robin over every size and page.

        Each request goes over a kept-alive http.client connection carrying the session's cookies: the
        timer then holds the server's answer and ~0.2 ms of client, where requests' own work was ~0.7 ms
        a 50 KiB page, with its own jitter, on the same two cores (docs/bench.md, "Staff table")."""
        clients = {size: StaffClient(base, session) for size, (base, session, _) in targets.items()}
        try:
            for size, (_, _, paths) in targets.items():  # warm the workers, connections and PostgreSQL's cache
                for path in paths.values():
                    for _ in range(5 if self.quick else 10):
                        clients[size].get(path)
            times: dict[str, dict[str, list[float]]] = {size: {page: [] for page in paths} for size, (_, _, paths) in targets.items()}
            info: dict[str, dict] = {size: {} for size in targets}
            for _ in range(self.samples):
                for size, (_, _, paths) in targets.items():
                    for page, path in paths.items():
                        started = time.perf_counter()
                        status, body = clients[size].get(path)
                        took = time.perf_counter() - started
                        if status != 200:
                            raise BenchError(f"staff {page} at {size:,}: {path}: HTTP {status}")
                        times[size][page].append(took * 1000)
                        info[size][page] = {"bytes": len(body), "rows": body.count(b"data-reference=")}
        finally:
            for client in clients.values():
                client.close()
        return {
            size: {
                page: {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99), "n": len(values), **info[size][page]}
                for page, values in pages.items()
            }
            for size, pages in times.items()
        }

    # -- the run --------------------------------------------------------------------------------
    ON = {"REQUEST_LOG": "1", "RECORD_EXPOSURES": "1"}  # the product's defaults

    def run(self) -> dict:
        if not Path(WRK).exists():
            raise BenchError("wrk is not installed: apt-get install -y wrk")
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        say(f"database {self.db_name} (recreated) on {urlsplit(self.server_url).hostname}:{urlsplit(self.server_url).port}")
        recreate_database(self.server_url, self.db_name)
        stack = Stack(
            env="dev",
            state_dir=self.state_dir,
            ports=self.ports,
            database_url=self.db_url,
            workers=self.args.workers,
            threads=self.args.threads,
            quiet=True,
            extra_env=dict(self.ON),
        )
        self.databases: list[Orders] = []
        try:
            say(f"starting A, B, C and HAProxy on :{self.ports.entry} ({self.args.workers} workers x {self.args.threads} threads each)")
            stack.start(staff_password=STAFF_PASSWORD)
            orders = Orders(self.db_url)
            self.databases.append(orders)
            self.order_placement(stack, orders.pizza_id())
            self.staff_table(stack)
            self.experiment_page()
        finally:
            for db in self.databases:
                db.close()
            stack.stop()
            if not self.args.keep_db:
                for name in [self.db_name, f"{self.db_name}_floor", *(self.staff_db(size) for size in self.sizes)]:
                    drop_bench_database(self.server_url, name)
        self.results["elapsed_seconds"] = round(time.monotonic() - started, 1)
        self.results["loadavg_end"] = loadavg()
        return self.results

    def order_placement(self, stack: Stack, pizza: int) -> None:
        """Every configuration runs at once (idle ones cost nothing) and the load visits them in turn,
        round after round, so drift on this shared machine touches each configuration alike."""
        r = self.results
        toggles = {"off": {"REQUEST_LOG": "0", "RECORD_EXPOSURES": "0"}, "log_only": {"REQUEST_LOG": "1", "RECORD_EXPOSURES": "0"}}
        if self.exposures_setting:
            toggles["exposures_only"] = {"REQUEST_LOG": "0", "RECORD_EXPOSURES": "1"}
        toggle_urls = {}
        for slot, (name, env) in enumerate(toggles.items(), start=TOGGLE_SLOTS):
            stack.start_variant("a", slot=slot, env=env)
            toggle_urls[name] = stack.variant_url("a", "/", slot)
        for url in toggle_urls.values():
            wait_ready(url.rstrip("/"))
        floor_db = f"{self.db_name}_floor"
        recreate_database(self.server_url, floor_db)
        floor_url = database_url_for(self.server_url, floor_db)
        with (
            BareApp(self.ports.bare_app, self.args.workers, self.args.threads, self.state_dir) as bare,
            FloorApp(self.ports.floor_app, self.args.workers, self.args.threads, self.state_dir, floor_url) as floor,
        ):
            plan = [
                ("ceiling", bare.url, "bare WSGI, plain GET"),
                ("floor_post", floor.url, "floor: minimal Django order view, POST only"),
                ("post", stack.variant_url("a", "/"), "variant A, order POST only"),
                ("direct", stack.variant_url("a", "/"), "direct to variant A, log + exposures on"),
                ("lb", stack.url("/"), "through HAProxy, A/B/C split"),
                ("lb_a_only", stack.url("/"), "through HAProxy, B and C in maintenance: A only"),
                *[(name, url, f"direct to a variant-A process with {name}") for name, url in toggle_urls.items()],
            ]
            runs: dict[str, list[dict]] = {key: [] for key, _, _ in plan}
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
        # Orders the floor really stored, and exposures the product really recorded (the beacons).
        floor_db_orders = Orders(floor_url)
        try:
            r["floor_orders_stored"] = floor_db_orders.query("SELECT count(*) FROM floor_floororder")[0][0]
        finally:
            floor_db_orders.close()
        r["exposures_recorded"] = self.databases[0].query("SELECT count(*) FROM experiment_assignment")[0][0]
        r["orders_stored"] = self.databases[0].query("SELECT count(*) FROM orders_order")[0][0]
        say(f"stored: {r['orders_stored']} orders, {r['exposures_recorded']} exposures; the floor {r['floor_orders_stored']} orders")
        r["toggles"] = {name: r.pop(name) for name in toggles}
        r["toggles"]["on"] = r["direct"]
        for slot in range(TOGGLE_SLOTS, TOGGLE_SLOTS + len(toggles)):
            stack.stop_variant("a", slot)

    def staff_servers(self, stack: Stack) -> dict:
        """size -> (base url, Orders, pid): each size on a variant-A process and database of its own,
        started alike, none of them in HAProxy's rotation (no health checks) nor the database the order
        rounds just loaded: only the table's size differs between them."""
        servers = {}
        for slot, size in enumerate(self.sizes, start=STAFF_SLOTS):
            url = database_url_for(self.server_url, self.staff_db(size))
            recreate_database(self.server_url, self.staff_db(size))
            stack.manage("migrate_safely", env={"DATABASE_URL": url, "VARIANT": "a"})
            stack.manage("ensure_staff", "--password", STAFF_PASSWORD, env={"DATABASE_URL": url})
            stack.start_variant("a", slot=slot, env={"DATABASE_URL": url, **self.ON})
            servers[size] = (stack.variant_url("a", "", slot).rstrip("/"), Orders(url), stack.processes[("a", slot)].popen.pid)
            self.databases.append(servers[size][1])
        return servers

    def staff_table(self, stack: Stack) -> None:
        """Every size served at once and the rounds interleaved, so drift on this shared machine hits
        every size alike; then the memory of the workers that served the largest."""
        r = self.results
        r["staff"] = {}
        targets = {}
        servers = self.staff_servers(stack)
        for size, (base, db, _) in servers.items():
            seconds = db.grow_to(size)
            cursor, phone = db.middle()
            say(f"staff table at {size:,} orders on {base}: seeded + VACUUM ANALYZE in {seconds:.1f}s")
            wait_ready(base)
            targets[size] = (
                base,
                self.staff_session(base),
                {
                    "first": "/staff/orders/",
                    "deep": f"/staff/orders/?after={cursor}",
                    "status": "/staff/orders/?status=baking",
                    "search": f"/staff/orders/?q={requests.utils.quote(phone)}",
                },
            )
            r["staff"][str(size)] = {"seed_seconds": round(seconds, 1)}
        main_pid = servers[self.sizes[-1]][2]
        workers_before = children(main_pid)
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

    # -- experiment page ------------------------------------------------------------------------
    def experiment_page(self) -> None:
        """stack.bench.experiment in its own process (it runs Django in-process): the page and its CSV
        at a small and a large number of exposures, timed alternately; its JSON goes into the results."""
        small, large = self.experiment_sizes
        out = self.state_dir / "experiment.json"
        out.unlink(missing_ok=True)
        say(f"experiment page: {small:,} vs {large:,} exposures, {self.experiment_runs} requests per size and kind")
        cmd = [
            sys.executable,
            "-m",
            "stack.bench.experiment",
            "--small",
            str(small),
            "--large",
            str(large),
            "--runs",
            str(self.experiment_runs),
            "--db-name",
            f"{self.db_name}_experiment",
            "--json",
            str(out),
        ]
        if not self.args.keep_db:
            cmd.append("--drop")
        done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600)
        for line in done.stdout.splitlines():
            say(f"  {line.strip()}")
        if done.returncode not in (0, 3) or not out.exists():  # 3: a target missed, still a measurement
            raise BenchError(f"the experiment bench failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        self.results["experiment"] = json.loads(out.read_text())
