"""`make chaos`: restarts, crashes and deploys under load, and the proof that no order is lost.

Runs the local A/B/C stack (HAProxy + gunicorn per variant, see stack/local.py) on a disposable
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
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .haproxy import Ports, server_name
from .local import APP_DIR, REPO_ROOT, Stack, StackError, copy_app, form_fields, http_get
from .postgres import DisposablePostgres
from .releases import release_name

SCENARIOS = {
    1: "rolling restart",
    2: "mixed versions",
    3: "SIGKILL a variant",
    4: "PostgreSQL restart",
    5: "broken release",
    6: "staff contention",
}
# 409 is the API's "this Idempotency-Key is still in flight": retry the same request later.
RETRYABLE_PREFIXES = ("5", "409", "conn_error", "timeout")
# Errors a client may see while PostgreSQL is down: the app's 503 (with Retry-After) and the load
# balancer's own answers when it has marked every variant unready. Never a 500.
OUTAGE_ERRORS = {"503_app", "503_lb", "502_lb", "504_lb", "conn_error", "timeout"}
STAFF_PASSWORD = "chaos-" + uuid.uuid4().hex[:12]


class ChaosError(RuntimeError):
    """The harness itself could not do what a scenario needs (not an invariant failure)."""


def say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The load ------------------------------------------------------------------------------------

def classify(response: requests.Response) -> str | None:
    """None for a success; else the kind of failure. An answer without X-Pizza-Variant came from
    the load balancer itself (no ready server, or the server broke the connection)."""
    code = response.status_code
    if code < 400:
        return None
    from_app = "X-Pizza-Variant" in response.headers
    if code == 503:
        if not from_app:
            return "503_lb"
        return "503_app" if response.headers.get("Retry-After") else "503_app_no_retry_after"
    if code in (502, 504) and not from_app:
        return f"{code}_lb"
    if code >= 500 and "Traceback" in response.text:
        return f"{code}_traceback"
    return str(code)


def retryable(kind: str) -> bool:
    return kind.startswith(RETRYABLE_PREFIXES)


@dataclass
class Stats:
    """What the client saw. A request is one logical call (its retries included)."""

    requests: int = 0
    attempts: int = 0
    failed: Counter = field(default_factory=Counter)  # requests whose FIRST attempt failed, by kind
    errors: Counter = field(default_factory=Counter)  # every failed attempt, by kind
    unresolved: Counter = field(default_factory=Counter)  # requests that never succeeded, by last kind
    retries: int = 0
    latencies: list = field(default_factory=list)  # seconds, first attempt to final answer
    served: list = field(default_factory=list)  # (monotonic time, variant) of every successful answer
    attempted: set = field(default_factory=set)  # order tokens sent
    acked: dict = field(default_factory=dict)  # token -> set of (reference or access token) seen
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    def served_by(self, since: float = 0.0, until: float = float("inf")) -> Counter:
        with self.lock:
            return Counter(v for t, v in self.served if since <= t <= until)


class Client:
    """One HTTP call with the client's retry rule: same request (same token) until it succeeds
    or the deadline passes; every failed attempt is counted, the first one included."""

    def __init__(self, base: str, stats: Stats, retry_deadline: float = 45.0):
        self.base = base
        self.stats = stats
        self.retry_deadline = retry_deadline

    def call(self, session: requests.Session, method: str, path: str, accept: tuple = (), **kwargs) -> requests.Response | None:
        """`accept`: status codes that are an answer here, not a failure (409 for a lost compare-and-set)."""
        start = time.monotonic()
        attempts, errors = 0, []
        response, kind = None, None
        while True:
            attempts += 1
            try:
                response = session.request(method, self.base + path, timeout=(3, 30), allow_redirects=False, **kwargs)
                kind = None if response.status_code in accept else classify(response)
            except requests.Timeout:
                response, kind = None, "timeout"
            except requests.RequestException:
                response, kind = None, "conn_error"
            if kind is None:
                break
            errors.append(kind)
            if not retryable(kind) or time.monotonic() - start > self.retry_deadline:
                break
            # Honour Retry-After, capped so a short outage is measured rather than slept through.
            retry_after = response.headers.get("Retry-After") if response is not None else None
            pause = min(float(retry_after), 1.0) if retry_after and retry_after.isdigit() else min(0.1 * 2 ** len(errors), 1.0)
            time.sleep(pause)
        end = time.monotonic()
        with self.stats.lock:
            self.stats.requests += 1
            self.stats.attempts += attempts
            self.stats.retries += attempts - 1
            self.stats.errors.update(errors)
            if errors:
                self.stats.failed[errors[0]] += 1
            if kind is not None:
                self.stats.unresolved[kind] += 1
            self.stats.latencies.append(end - start)
            if kind is None:
                self.stats.served.append((end, response.headers.get("X-Pizza-Variant", "?")))
        return response if kind is None else None


CUSTOMER = {"size": "medium", "quantity": 1, "customer_name": "Chaos Monkey", "phone": "+45 12 34 56 78",
            "address": "1 Loopback Street", "comments": "placed by stack.chaos"}


class Load:
    """Steady open-loop load through the load balancer: orders (JSON API and, one in ten, the HTML
    form) at `order_rate` per second plus page views (/ and /order/) at `view_rate` per second."""

    def __init__(self, base: str, pizzas: list[int], order_rate: float, view_rate: float, threads: int, form_share: float = 0.1):
        self.stats = Stats()
        self.client = Client(base, self.stats)
        self.pizzas = pizzas
        self.order_rate, self.view_rate = order_rate, view_rate
        self.total_rate = max(order_rate + view_rate, 0.1)
        self.form_share = form_share
        self.threads_n = threads
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.seq = 0
        self.seq_lock = threading.Lock()
        self.t0 = 0.0

    def __enter__(self):
        self.t0 = time.monotonic()
        for n in range(self.threads_n):
            thread = threading.Thread(target=self._worker, name=f"load-{n}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> Stats:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(self.client.retry_deadline + 40)
        return self.stats

    def _worker(self) -> None:
        session, used = None, 0
        while not self.stop_event.is_set():
            with self.seq_lock:
                i = self.seq
                self.seq += 1
            wait = self.t0 + i / self.total_rate - time.monotonic()
            if wait > 0 and self.stop_event.wait(wait):
                break
            if session is None or used >= 20:  # a new visitor now and then: the weighted split places it
                if session is not None:
                    session.close()
                session, used = requests.Session(), 0
            used += 1
            rng = random.Random(i)
            try:
                if rng.random() < self.order_rate / self.total_rate:
                    (self.order_form if rng.random() < self.form_share else self.order_api)(session, rng)
                else:
                    self.client.call(session, "GET", rng.choice(["/", "/order/"]))
            except Exception as exc:  # a bug in the harness must not look like a quiet pass
                with self.stats.lock:
                    self.stats.unresolved[f"harness:{type(exc).__name__}"] += 1
        if session is not None:
            session.close()

    def _note_attempt(self, token: str) -> None:
        with self.stats.lock:
            self.stats.attempted.add(token)

    def _note_ack(self, token: str, reference: str) -> None:
        with self.stats.lock:
            self.stats.acked.setdefault(token, set()).add(reference)

    def order_api(self, session: requests.Session, rng: random.Random) -> None:
        token = str(uuid.uuid4())
        self._note_attempt(token)
        body = dict(CUSTOMER, pizza=rng.choice(self.pizzas))
        response = self.client.call(session, "POST", "/api/v1/orders", json=body,
                                    headers={"Idempotency-Key": token, "Accept": "application/json"})
        if response is not None and response.status_code in (200, 201):
            self._note_ack(token, "ref:" + response.json()["reference"])

    def order_form(self, session: requests.Session, rng: random.Random) -> None:
        page = self.client.call(session, "GET", "/order/")
        if page is None:
            return
        fields = form_fields(page.text)
        if "form_token" not in fields or "csrfmiddlewaretoken" not in fields:
            with self.stats.lock:
                self.stats.unresolved["harness:no_form"] += 1
            return
        token = fields["form_token"]
        self._note_attempt(token)
        data = dict(CUSTOMER, pizza=rng.choice(self.pizzas), **fields)
        response = self.client.call(session, "POST", "/order/", data=data, headers={"Referer": self.client.base + "/order/"})
        if response is not None and response.status_code == 303 and "/confirmed/" in response.headers.get("Location", ""):
            access = response.headers["Location"].rstrip("/").split("/")[-2]
            self._note_ack(token, "access:" + access)


# --- Scenario results ----------------------------------------------------------------------------

@dataclass
class Result:
    number: int
    name: str
    stats: Stats = field(default_factory=Stats)
    checks: list = field(default_factory=list)  # (description, ok)
    notes: list = field(default_factory=list)
    orders_acked: int = 0
    orders_in_db: int = 0
    duplicates: int = 0
    lost: int = 0
    extra: int = 0
    broken_release: str | None = None
    error: str | None = None

    def check(self, description: str, ok: bool) -> bool:
        self.checks.append((description, bool(ok)))
        return ok

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.checks) and all(ok for _, ok in self.checks)

    def as_dict(self) -> dict:
        s = self.stats
        return {
            "scenario": self.number,
            "name": self.name,
            "result": "PASS" if self.passed else "FAIL",
            "requests": s.requests,
            "attempts": s.attempts,
            "failed_requests": sum(s.failed.values()),
            "failed_by_kind": dict(s.failed),
            "errors_by_kind": dict(s.errors),
            "unresolved": dict(s.unresolved),
            "retries": s.retries,
            "orders_attempted": len(s.attempted),
            "orders_acked": self.orders_acked,
            "orders_in_db": self.orders_in_db,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "extra": self.extra,
            "p50_ms": round(s.percentile(0.50), 1) if s.latencies else None,
            "p99_ms": round(s.percentile(0.99), 1) if s.latencies else None,
            "served_by": dict(Counter(v for _, v in s.served)),
            "broken_release": self.broken_release,
            "checks": [{"check": d, "ok": ok} for d, ok in self.checks],
            "notes": self.notes,
            "error": self.error,
        }


# --- The harness ---------------------------------------------------------------------------------

class Chaos:
    def __init__(self, args):
        self.args = args
        self.pg: DisposablePostgres | None = None
        self.stack: Stack | None = None
        self.active: dict[str, int] = {}
        self.temp_dirs: list[Path] = []
        self.pizzas: list[int] = []

    # setup and teardown
    def setup(self) -> None:
        say("starting a disposable PostgreSQL cluster")
        self.pg = DisposablePostgres()
        self.pg.init()
        say(f"PostgreSQL on 127.0.0.1:{self.pg.port} ({self.pg.tmp})")
        state_dir = REPO_ROOT / ".stack" / f"chaos-{self.args.port}"
        shutil.rmtree(state_dir / "logs", ignore_errors=True)
        self.stack = Stack(env=self.args.env, state_dir=state_dir, ports=Ports(entry=self.args.port, stats=self.args.port + 404),
                           database_url=self.pg.url, quiet=True,
                           extra_env={"API_ORDER_RATE_LIMIT": "0"})  # the load generator is one client at 50 orders/s
        say(f"starting A/B/C behind HAProxy on {self.stack.url()} (logs in {state_dir / 'logs'})")
        try:
            self.stack.start(staff_password=STAFF_PASSWORD)
        except StackError as exc:
            bodies = []
            for name in self.stack.names:
                try:
                    bodies.append(f"{name} /readyz: {http_get(self.stack.variant_url(name, '/readyz'), timeout=5)[2][:300]!r}")
                except OSError as error:
                    bodies.append(f"{name} /readyz: {error}")
            raise ChaosError(f"{exc}\n" + "\n".join(bodies)) from exc
        self.active = {name: 1 for name in self.stack.names}
        for name in self.stack.names:  # the idle slots stay out of rotation until a restart uses them
            self.stack.park(name, 2)
        status, _, body = http_get(self.stack.url("/api/v1/menu"), timeout=5)
        self.pizzas = [p["id"] for p in json.loads(body)["pizzas"]] if status == 200 else []
        if not self.pizzas:
            raise ChaosError(f"the menu is empty or unreachable ({status})")

    def teardown(self) -> None:
        if self.stack is not None:
            try:
                self.stack.stop()
            except Exception as exc:  # keep tearing down
                say(f"stopping the stack: {exc}")
        if self.pg is not None:
            self.pg.teardown()
        for path in self.temp_dirs:
            shutil.rmtree(path, ignore_errors=True)

    # HAProxy and process helpers
    def server_stat(self, variant: str, slot: int) -> dict:
        return self.stack.server_stats().get(server_name(variant, slot), {})

    def start_slot(self, variant: str, slot: int, app_dir: Path = APP_DIR, env: dict | None = None, timeout: float = 60.0) -> bool:
        self.stack.start_in_slot(variant, slot, app_dir=app_dir, env=env)
        return self.stack.wait_ready(variant, slot, timeout=timeout)

    def retire(self, variant: str, slot: int, result: Result) -> None:
        start = time.monotonic()
        drained, in_flight, code = self.stack.retire(variant, slot)
        result.notes.append(f"{server_name(variant, slot)}: drained in {drained:.1f}s, {in_flight} in flight at SIGTERM, "
                            f"exited ({code}) {time.monotonic() - start - drained:.1f}s later")
        result.check(f"{server_name(variant, slot)} had no request in flight when it got SIGTERM", in_flight == 0)

    def roll(self, variant: str, result: Result, app_dir: Path = APP_DIR, env: dict | None = None) -> int:
        """maxSurge 1 / maxUnavailable 0: new process in the other slot, ready, then retire the old."""
        old = self.active[variant]
        new = 3 - old
        t = time.monotonic()
        ready = self.start_slot(variant, new, app_dir=app_dir, env=env)
        result.check(f"{server_name(variant, new)} ready (HAProxy UP) before {server_name(variant, old)} got SIGTERM", ready)
        if not ready:
            raise ChaosError(f"{server_name(variant, new)} did not become ready; see {self.stack.state_dir / 'logs'}")
        result.notes.append(f"{server_name(variant, new)}: UP {time.monotonic() - t:.1f}s after start")
        self.retire(variant, old, result)
        self.active[variant] = new
        return new

    def ensure_healthy(self) -> None:
        for variant, slot in self.active.items():
            if not self.stack.wait_ready(variant, slot, timeout=30):
                raise ChaosError(f"{server_name(variant, slot)} is not ready before the scenario")

    def copy_app(self, label: str) -> Path:
        target = copy_app(Path(tempfile.mkdtemp(prefix=f"pizza-chaos-{label}.")) / "app")
        self.temp_dirs.append(target.parent)
        return target

    @property
    def base(self) -> str:
        return self.stack.url("")

    def load(self, rate_factor: float = 1.0) -> Load:
        return Load(self.base, self.pizzas, self.args.rate * rate_factor, self.args.views * rate_factor, self.args.threads)

    def max_order_id(self) -> int:
        return self.pg.query("SELECT coalesce(max(id), 0) FROM orders_order")[0][0]

    def account(self, result: Result, since_id: int) -> None:
        """The invariant every scenario ends with, from the database itself."""
        s = result.stats
        rows = self.pg.query("SELECT form_token::text, reference, access_token FROM orders_order WHERE id > %s", (since_id,))
        stored = Counter(token for token, _, _ in rows)
        by_token = {token: ("ref:" + ref, "access:" + access) for token, ref, access in rows}
        result.orders_acked = len(s.acked)
        result.orders_in_db = sum(n for token, n in stored.items() if token in s.attempted)
        result.extra = sum(n for token, n in stored.items() if token not in s.attempted)
        result.lost = sum(1 for token in s.acked if token not in stored)
        mismatched = sum(1 for token, seen in s.acked.items() if token in by_token and not seen <= set(by_token[token]))
        result.duplicates = sum(n - 1 for n in stored.values() if n > 1) + sum(1 for seen in s.acked.values() if len({x for x in seen if x.startswith("ref:")}) > 1) + mismatched
        unacked_stored = sum(1 for token in s.attempted if token in stored and token not in s.acked)
        if unacked_stored:
            result.notes.append(f"{unacked_stored} order(s) stored whose acknowledgement the client never got")
        result.check("every acknowledged order is in the database (0 lost)", result.lost == 0)
        result.check("each exactly once, as acknowledged (0 duplicates)", result.duplicates == 0)
        result.check("nothing stored that the client did not send", result.extra == 0)
        result.check("no order left unacknowledged (the client's retries all succeeded)", not s.unresolved)

    def run_load_scenario(self, result: Result, action) -> None:
        since = self.max_order_id()
        load = self.load()
        with load:
            time.sleep(self.args.lead)
            action(load)
            time.sleep(self.args.lead)
        result.stats = load.stats
        self.account(result, since)

    # --- the scenarios ----------------------------------------------------------------------------
    def scenario_1(self, result: Result) -> None:
        def action(load):
            for variant in self.stack.names:
                self.roll(variant, result)
                time.sleep(self.args.settle)

        self.run_load_scenario(result, action)
        result.check("0 failed requests (first attempts included)", not result.stats.failed)
        result.check("no 500 anywhere", not any(k.startswith("500") for k in result.stats.errors))

    def scenario_2(self, result: Result) -> None:
        variant = self.stack.variants.schema_owner
        ahead = self.copy_app("expand")
        migration = add_expand_step(ahead)
        say(f"  applying {migration} with migrate_safely from the newer code")
        migrated = self.stack.manage("migrate_safely", app_dir=ahead, env={"VARIANT": variant})
        result.notes.append(migrated.stdout.strip().splitlines()[-1] if migrated.stdout.strip() else "migrated")
        version = "chaos-expand"

        def action(load):
            applied = self.pg.query("SELECT count(*) FROM django_migrations WHERE app = 'orders' AND name = %s", (migration,))[0][0]
            result.check(f"expand step {migration} applied before any process runs it", applied == 1)
            # Old code on the newer schema first, under load, then one variant rolls onto the new code.
            time.sleep(self.args.settle)
            slot = self.roll(variant, result, app_dir=ahead, env={"APP_VERSION": version})
            _, _, body = http_get(self.stack.variant_url(variant, "/healthz", slot), timeout=5)
            running = json.loads(body).get("version")
            result.check(f"{server_name(variant, slot)} runs the newer code (version {running})", running == version)
            window_start = time.monotonic()
            time.sleep(max(self.args.duration / 2, 3))
            served = load.stats.served_by(window_start)
            result.notes.append(f"mixed window served by {dict(served)}")
            result.check("all three variants served orders and pages while mixed", all(served.get(v, 0) > 0 for v in self.stack.names))
            # ...and back: the older code again, on the schema that stays ahead (a rollback).
            self.roll(variant, result)

        self.run_load_scenario(result, action)
        result.check("0 failed requests on all three (first attempts included)", not result.stats.failed)

    def scenario_3(self, result: Result) -> None:
        variant = self.stack.names[1 % len(self.stack.names)]
        limit = 2 * 1.0 + 1.0  # fall 2 x inter 1s, plus one check's slack

        def action(load):
            slot = self.active[variant]
            process = self.stack.processes[(variant, slot)]
            os.killpg(process.popen.pid, signal.SIGKILL)
            killed = time.monotonic()
            detected = self.stack.wait_server(variant, slot, lambda s: s.startswith("DOWN"), timeout=15)
            self.stack.stop_variant(variant, slot)  # reap it
            if detected is None:
                result.check(f"HAProxy marked {server_name(variant, slot)} DOWN", False)
            else:
                result.notes.append(f"{server_name(variant, slot)} SIGKILLed; HAProxy marked it DOWN after {detected:.2f}s")
                result.check(f"load balancer stopped sending to it within {limit:g}s (took {detected:.2f}s)", detected <= limit)
            sessions_down = int(self.server_stat(variant, slot).get("stot") or 0)
            time.sleep(max(self.args.duration / 2 - (time.monotonic() - killed), 1))
            result.check("no request routed to the dead server after it was marked DOWN",
                         int(self.server_stat(variant, slot).get("stot") or 0) == sessions_down)
            # The kubelet restarts the container; it rejoins once ready.
            t = time.monotonic()
            ready = self.start_slot(variant, slot)
            result.check(f"{server_name(variant, slot)} restarted and ready again", ready)
            result.notes.append(f"{server_name(variant, slot)} back UP {time.monotonic() - t:.1f}s after restart")

        self.run_load_scenario(result, action)
        result.check("no 500 and no traceback", not any(k.startswith("500") or "traceback" in k for k in result.stats.errors))

    def scenario_4(self, result: Result) -> None:
        outage = self.args.outage
        probes: list[tuple[str, int, bool, bool]] = []

        def action(load):
            self.pg.stop("fast")
            down = time.monotonic()
            say(f"  PostgreSQL stopped; down for {outage:g}s")
            time.sleep(min(0.5, outage / 4))
            while time.monotonic() - down < outage:  # the app itself, bypassing the load balancer
                for variant, slot in self.active.items():
                    for path, accept in (("/", "text/html"), ("/api/v1/menu", "application/json")):
                        try:
                            status, headers, body = http_get(self.stack.variant_url(variant, path, slot), timeout=5, headers={"Accept": accept})
                        except OSError:
                            status, headers, body = 0, {}, b""
                        probes.append((f"{variant}{path}", status, "Retry-After" in headers, b"Traceback" in body))
                time.sleep(0.5)
            self.pg.start()
            back = time.monotonic()
            say("  PostgreSQL started again")
            recovered = [self.stack.wait_server(v, s, lambda st: st == "UP", timeout=30) for v, s in self.active.items()]
            if None in recovered:
                result.check("every variant ready again by itself", False)
            else:
                result.notes.append(f"PostgreSQL down {back - down:.1f}s; every variant UP again {max(recovered):.1f}s after it was back")
                result.check("every variant ready again by itself within 15s", max(recovered) <= 15)
            outage_served = load.stats.served_by(down, back)
            result.notes.append(f"answers served during the outage: {sum(outage_served.values())}")

        self.run_load_scenario(result, action)
        errors = set(result.stats.errors)
        result.notes.append(f"direct probes during the outage: {Counter((p[1], p[2]) for p in probes)}")
        result.check("direct requests to the app during the outage: all 503 with Retry-After, no traceback",
                     bool(probes) and all(status == 503 and retry and not trace for _, status, retry, trace in probes))
        result.check("clients saw only 503 (app, with Retry-After) or load-balancer errors; never a 500",
                     errors <= OUTAGE_ERRORS)

    def scenario_5(self, result: Result) -> None:
        variant = self.stack.names[-1]
        release = release_name(variant)
        broken = self.copy_app("broken")
        with open(broken / "orders" / "models.py", "a") as out:
            out.write('\nraise RuntimeError("broken build: stack.chaos scenario 5")\n')
        old = self.active[variant]
        new = 3 - old
        deadline = max(self.args.duration / 2, 4)
        state: dict = {"starts": 0, "ever_up": False, "exit": None}

        def crash_loop(seconds: float) -> None:
            """The kubelet: start it, and start it again each time it exits, until the deadline."""
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                process = self.stack.processes.get((variant, new))
                if process is None or not process.alive():
                    if process is not None:
                        state["exit"] = self.stack.stop_variant(variant, new)
                    self.stack.start_variant(variant, new, app_dir=broken)
                    state["starts"] += 1
                if self.stack.server_states().get(server_name(variant, new), "").startswith("UP"):
                    state["ever_up"] = True
                time.sleep(0.1)

        def action(load):
            before = int(self.server_stat(variant, new).get("stot") or 0)
            self.stack.set_server_state(variant, new, "ready")
            # Rollout: the new pod never gets ready, the old one keeps serving (maxUnavailable 0).
            crash_loop(deadline)
            # The other half: the broken release is the only process of its variant.
            self.retire(variant, old, result)
            alone = time.monotonic()
            crash_loop(deadline)
            served = load.stats.served_by(alone + 0.2)
            result.notes.append(f"while {release} had only the broken process: served by {dict(served)}")
            result.check(f"{release} served nothing while only the broken release was there", served.get(variant, 0) == 0)
            result.check("the other variants served everything", sum(served.values()) > 0 and set(served) <= set(self.stack.names) - {variant})
            after = int(self.server_stat(variant, new).get("stot") or 0)
            result.check(f"HAProxy sent 0 requests to the broken server {server_name(variant, new)}", after == before)
            self.stack.stop_variant(variant, new, signal.SIGKILL)
            self.stack.park(variant, new)
            # Roll back: the previous release comes back in its slot.
            ready = self.start_slot(variant, old)
            result.check(f"{release} restored on the previous code", ready)

        self.run_load_scenario(result, action)
        log_tail = [line for line in (self.stack.state_dir / "logs" / f"{variant}{new}.log").read_text(errors="replace").splitlines() if "Error" in line]
        result.check(f"the broken release never became ready ({state['starts']} start(s), each exited {state['exit']})", not state["ever_up"] and state["starts"] > 0)
        result.check("0 failed requests while the rollout failed (first attempts included)", not result.stats.failed)
        result.broken_release = release
        result.notes.append(f"release {release} never became ready: {log_tail[-1].strip() if log_tail else 'no error logged'}")

    def scenario_6(self, result: Result) -> None:
        contenders = 50
        logins = self.args.logins
        stats = result.stats
        client = Client(self.base, stats)
        since = self.max_order_id()
        token = str(uuid.uuid4())
        stats.attempted.add(token)
        with requests.Session() as s:
            response = client.call(s, "POST", "/api/v1/orders", json=dict(CUSTOMER, pizza=self.pizzas[0]), headers={"Idempotency-Key": token})
        if response is None:
            raise ChaosError("could not place the order to fight over")
        reference = response.json()["reference"]
        stats.acked[token] = {"ref:" + reference}

        def login() -> requests.Session:
            session = requests.Session()
            page = client.call(session, "GET", "/accounts/login/")
            csrf = form_fields(page.text).get("csrfmiddlewaretoken", "") if page is not None else ""
            done = client.call(session, "POST", "/accounts/login/", data={"username": "staff", "password": STAFF_PASSWORD, "csrfmiddlewaretoken": csrf},
                               headers={"Referer": self.stack.url("/accounts/login/")})
            if done is None or done.status_code != 302:
                raise ChaosError(f"staff login failed ({done.status_code if done is not None else 'no answer'})")
            return session

        # Each login hashes the password (slow on purpose); a few real sessions, shared round-robin.
        sessions = [login() for _ in range(logins)]
        cookie_sets = [{k: v for k, v in s.cookies.items() if k in ("sessionid", "csrftoken")} for s in sessions]
        barrier = threading.Barrier(contenders)
        answers: list[tuple[int, dict]] = []
        lock = threading.Lock()

        def contend(n: int) -> None:
            session = requests.Session()  # no PZV cookie: the contenders spread over A, B and C
            session.cookies.update(cookie_sets[n % len(cookie_sets)])
            barrier.wait()
            response = client.call(session, "POST", f"/staff/orders/{reference}/status/", accept=(409,), data={"expected": "received", "status": "baking"},
                                   headers={"Accept": "application/json", "X-CSRFToken": session.cookies.get("csrftoken", ""),
                                            "Referer": self.stack.url("/staff/orders/")})
            if response is None:
                answer = (0, {})
            else:
                try:
                    answer = (response.status_code, response.json())
                except ValueError:
                    answer = (response.status_code, {})
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=contend, args=(n,)) for n in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        codes = Counter(code for code, _ in answers)
        winners = [body for code, body in answers if code == 200 and body.get("ok") is True]
        losers = [body for code, body in answers if code == 409]
        status = self.pg.query("SELECT status FROM orders_order WHERE reference = %s", (reference,))[0][0]
        result.notes.append(f"{contenders} concurrent status changes from {logins} staff session(s): {dict(codes)}; "
                            f"a loser was told: {losers[0].get('message') if losers else '-'}")
        result.check("exactly one status change won (200 ok)", len(winners) == 1)
        result.check(f"the other {contenders - 1} got 409 with a reason", len(losers) == contenders - 1 and all(b.get("ok") is False and b.get("message") for b in losers))
        result.check("the order moved once: received -> baking", status == "baking")
        result.check("no request failed", not stats.failed)
        self.account(result, since)

    def run(self, number: int) -> Result:
        result = Result(number, SCENARIOS[number])
        say(f"scenario {number}: {SCENARIOS[number]}")
        started = time.monotonic()
        try:
            self.ensure_healthy()
            getattr(self, f"scenario_{number}")(result)
        except Exception as exc:  # recorded as this scenario's failure; the next one starts from a checked state
            result.error = f"{type(exc).__name__}: {exc}"
        for note in result.notes:
            say(f"  {note}")
        for description, ok in result.checks:
            if not ok:
                say(f"  FAILED: {description}")
        if result.error:
            say(f"  ERROR: {result.error}")
        say(f"scenario {number}: {'PASS' if result.passed else 'FAIL'} in {time.monotonic() - started:.0f}s")
        return result


def add_expand_step(app_dir: Path) -> str:
    """One backward-compatible step on top of the newest orders migration: a nullable column that
    the newer code declares and the older code simply never mentions."""
    migrations = app_dir / "orders" / "migrations"
    names = sorted(p.stem for p in migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
    if not names:
        raise ChaosError("no orders migrations found")
    latest = names[-1]
    name = f"{int(latest[:4]) + 1:04d}_chaos_expand_note"
    (migrations / f"{name}.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [(\"orders\", \"{latest}\")]\n"
        "    operations = [\n"
        "        migrations.AddField(\"order\", \"chaos_note\", models.CharField(max_length=40, null=True, blank=True)),\n"
        "    ]\n"
    )
    models = app_dir / "orders" / "models.py"
    text = models.read_text()
    marker = "class Order(models.Model):\n"
    if marker not in text:
        raise ChaosError("orders/models.py has no `class Order(models.Model):` to extend")
    models.write_text(text.replace(marker, marker + "    chaos_note = models.CharField(max_length=40, null=True, blank=True)\n", 1))
    return name


# --- Report --------------------------------------------------------------------------------------

COLUMNS = [("#", 2), ("scenario", 19), ("requests", 8), ("failed 1st try", 26), ("retries", 7), ("acked", 6),
           ("in DB", 6), ("dup", 4), ("lost", 4), ("p50 ms", 7), ("p99 ms", 8), ("result", 6)]


def fmt_kinds(counter: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(counter.items(), key=lambda kv: -kv[1])) or "0"


def table(results: list[Result]) -> str:
    def row(cells):
        return "  ".join(str(c).ljust(w) if i == 1 or i == 3 else str(c).rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS)))

    lines = [row([name for name, _ in COLUMNS]), "  ".join("-" * w for _, w in COLUMNS)]
    for r in results:
        d = r.as_dict()
        lines.append(row([
            r.number, r.name, d["requests"], fmt_kinds(d["failed_by_kind"]), d["retries"], d["orders_acked"],
            d["orders_in_db"], d["duplicates"], d["lost"],
            "-" if d["p50_ms"] is None else f"{d['p50_ms']:.0f}", "-" if d["p99_ms"] is None else f"{d['p99_ms']:.0f}",
            "PASS" if r.passed else "FAIL",
        ]))
    kinds = [f"  {r.number}: {fmt_kinds(r.as_dict()['errors_by_kind'])}" for r in results if r.stats.errors]
    if kinds:
        lines += ["", "every failed attempt, retries included, by kind:", *kinds]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="a few seconds per scenario at a lower rate (make test)")
    parser.add_argument("--scenario", type=int, action="append", choices=sorted(SCENARIOS), help="run only these (repeatable)")
    parser.add_argument("--duration", type=float, help="seconds of load around each fault (default 20, short 6)")
    parser.add_argument("--rate", type=float, help="orders per second (default 50, short 10)")
    parser.add_argument("--views", type=float, help="page views per second (default 20, short 5)")
    parser.add_argument("--threads", type=int, help="client threads (default 32, short 12)")
    parser.add_argument("--outage", type=float, default=4.0, help="seconds PostgreSQL stays down in scenario 4")
    parser.add_argument("--env", default="dev", help="which environments/<env>/variants.yaml")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CHAOS_PORT", "18000")), help="HAProxy entry port (variants on the next ports)")
    parser.add_argument("--report", default=str(REPO_ROOT / "reports" / "chaos.json"), help="where to write the JSON report")
    expect = parser.add_mutually_exclusive_group()
    expect.add_argument("--expect-broken", dest="expect_broken", action="store_true", default=None,
                        help="a detected broken release is the expected outcome (default when all scenarios run)")
    expect.add_argument("--no-expect-broken", dest="expect_broken", action="store_false")
    args = parser.parse_args(argv)
    args.duration = args.duration or (6.0 if args.short else 20.0)
    args.rate = args.rate if args.rate is not None else (10.0 if args.short else 50.0)
    args.views = args.views if args.views is not None else (5.0 if args.short else 20.0)
    args.threads = args.threads or (12 if args.short else 32)
    args.lead = min(3.0, args.duration / 4)  # load before the first and after the last fault
    args.settle = min(2.0, args.duration / 8)
    args.logins = 5 if args.short else 10
    if args.short:
        args.outage = min(args.outage, 3.0)
    chosen = sorted(set(args.scenario or SCENARIOS))
    if args.expect_broken is None:
        args.expect_broken = args.scenario is None

    harness = Chaos(args)
    results: list[Result] = []
    stopping = []

    def on_term(*_):
        stopping.append(True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    try:
        harness.setup()
        say(f"load: {args.rate:g} orders/s + {args.views:g} page views/s from {args.threads} client threads")
        for number in chosen:
            results.append(harness.run(number))
    except KeyboardInterrupt:
        say("interrupted; tearing down")
        return 130
    except (ChaosError, StackError) as exc:
        say(f"setup failed: {exc}")
        return 2
    finally:
        harness.teardown()

    print()
    print(table(results), flush=True)
    broken = [r.broken_release for r in results if r.broken_release]
    for release in broken:
        print(f"\nrelease {release} never became ready" + (" (expected: scenario 5 ships it on purpose)" if args.expect_broken else ""))
    failed = [r for r in results if not r.passed]
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - (time.monotonic() - started))),
        "seconds": round(time.monotonic() - started, 1),
        "short": args.short,
        "order_rate": args.rate,
        "view_rate": args.views,
        "duration": args.duration,
        "broken_releases": broken,
        "expect_broken": args.expect_broken,
        "scenarios": [r.as_dict() for r in results],
        "table": table(results),
    }
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{len(results) - len(failed)}/{len(results)} scenarios passed in {report['seconds']:.0f}s; report: {args.report}")
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


if __name__ == "__main__":
    sys.exit(main())
