"""The harness: its own PostgreSQL and A/B/C stack, the load around each fault, and the run of
one scenario from a checked state to its accounting."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from .. import APP_DIR, REPO_ROOT, StackError
from ..deploy.builds import copy_app
from ..deploy.rollout import roll
from ..http import http_get
from ..local import PortPlan, Stack
from ..local.haproxy import server_name
from ..postgres import DisposablePostgres
from .accounting import Result, account, max_order_id
from .faults.network import DatabaseNetwork, NetworkUnavailable
from .load import CUSTOMER, Load

STAFF_PASSWORD = "chaos-" + uuid.uuid4().hex[:12]


class ChaosError(RuntimeError):
    """The harness itself could not do what a scenario needs (not an invariant failure)."""


def say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Chaos:
    def __init__(self, args):
        self.args = args
        self.pg: DisposablePostgres | None = None
        self.network: DatabaseNetwork | None = None
        self.background = None  # the Stats of a load running under every scenario (the soak's), if any
        self.network_error: str | None = None  # why there is no network namespace (scenarios needing it fail)
        self.stack: Stack | None = None
        self.active: dict[str, int] = {}  # variant -> the slot serving it
        self.temp_dirs: list[Path] = []
        self.pizzas: list[int] = []
        self.order_path = ""  # an order's JSON status: the outage probes' page that always reads the database

    # --- setup and teardown -----------------------------------------------------------------------
    def setup(self) -> None:
        state_dir = REPO_ROOT / ".stack" / f"chaos-{self.args.port}"
        shutil.rmtree(state_dir / "logs", ignore_errors=True)
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        say("starting a disposable PostgreSQL cluster")
        app_url = None
        if self.args.network:
            try:
                self.network = DatabaseNetwork().create()
            except NetworkUnavailable as exc:
                self.network, self.network_error = None, str(exc)
                say(f"NO NETWORK NAMESPACE: {exc}; the scenarios that need one will FAIL")
        if self.network is not None:
            self.pg = DisposablePostgres(host=self.network.address, wrap=self.network.wrap)
            self.pg.init()
            self.network.start_relay(self.pg.port, state_dir / "logs" / "relay.log")
            app_url = self.network.url_through_relay(self.pg.url)
            say(
                f"PostgreSQL in network namespace {self.network.name} on {self.pg.host}:{self.pg.port}; the app goes "
                f"through the veth {self.network.host_if} and the relay at {app_url.split('@')[1]} ({self.pg.tmp})"
            )
        else:
            self.pg = DisposablePostgres()
            self.pg.init()
            say(f"PostgreSQL on 127.0.0.1:{self.pg.port} ({self.pg.tmp})")
        self.stack = Stack(
            env=self.args.env,
            state_dir=state_dir,
            ports=PortPlan(self.args.port),
            database_url=app_url or self.pg.url,
            quiet=True,
            extra_env={"API_ORDER_RATE_LIMIT": "0"},
        )  # the load generator is one client
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
        self.order_path = self.place_probe_order()

    def place_probe_order(self) -> str:
        """One order placed before any scenario (outside every accounting window): its JSON status,
        read by token, is a page that needs the database on every request (nothing caches it)."""
        import requests

        assert self.stack is not None  # started in setup()
        body: dict = {**CUSTOMER, "pizza": self.pizzas[0], "comments": "the outage probes read this order"}
        answer = requests.post(
            self.stack.url("/api/v1/orders"),
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4()), "Accept": "application/json"},
            timeout=10,
        )
        if answer.status_code != 201:
            raise ChaosError(f"could not place the probes' order: {answer.status_code} {answer.text[:200]}")
        return answer.json()["status_url"]

    def teardown(self) -> None:
        if self.stack is not None:
            try:
                self.stack.stop()
            except Exception as exc:  # keep tearing down
                say(f"stopping the stack: {exc}")
        if self.pg is not None:
            self.pg.teardown()
        if self.network is not None:
            self.network.teardown()
        for path in self.temp_dirs:
            shutil.rmtree(path, ignore_errors=True)

    # --- what scenarios share ------------------------------------------------------------------------
    @property
    def base(self) -> str:
        assert self.stack is not None  # started in setup()
        return self.stack.url("")

    def start_slot(self, variant: str, slot: int, app_dir: Path = APP_DIR, env: dict | None = None, timeout: float = 60.0) -> bool:
        assert self.stack is not None  # started in setup()
        self.stack.start_in_slot(variant, slot, app_dir=app_dir, env=env)
        return self.stack.wait_ready(variant, slot, timeout=timeout)

    def retire(self, variant: str, slot: int, result: Result) -> None:
        assert self.stack is not None  # started in setup()
        start = time.monotonic()
        drained, in_flight, code = self.stack.retire(variant, slot)
        result.notes.append(
            f"{server_name(variant, slot)}: drained in {drained:.1f}s, {in_flight} in flight at SIGTERM, "
            f"exited ({code}) {time.monotonic() - start - drained:.1f}s later"
        )
        result.check(f"{server_name(variant, slot)} had no request in flight when it got SIGTERM", in_flight == 0)

    def roll(self, variant: str, result: Result, app_dir: Path = APP_DIR, env: dict | None = None) -> int:
        """The deploy's rolling restart (stack.deploy.rollout), its steps recorded as checks."""
        assert self.stack is not None  # started in setup()
        rollout = roll(self.stack, variant, app_dir=app_dir, env=env)
        result.check(f"{rollout.new} ready (HAProxy UP) before {rollout.old} got SIGTERM", rollout.ok)
        if not rollout.ok:
            raise ChaosError(f"{rollout.message}; see {self.stack.state_dir / 'logs'}")
        result.notes.append(f"{rollout.new}: UP {rollout.ready_after:.1f}s after start")
        if rollout.drained is not None:
            result.notes.append(
                f"{rollout.old}: drained in {rollout.drained:.1f}s, {rollout.in_flight} in flight at SIGTERM, "
                f"exited ({rollout.exit_code}) {rollout.stopped_after:.1f}s later"
            )
            result.check(f"{rollout.old} had no request in flight when it got SIGTERM", rollout.in_flight == 0)
        self.active[variant] = rollout.new_slot
        return rollout.new_slot

    def ensure_healthy(self) -> None:
        assert self.stack is not None  # started in setup()
        for variant, slot in self.active.items():
            if not self.stack.wait_ready(variant, slot, timeout=30):
                raise ChaosError(f"{server_name(variant, slot)} is not ready before the scenario")

    def copy_app(self, label: str) -> Path:
        target = copy_app(Path(tempfile.mkdtemp(prefix=f"pizza-chaos-{label}.")) / "app")
        self.temp_dirs.append(target.parent)
        return target

    def load(self, rate_factor: float = 1.0, stats=None, threads: int | None = None) -> Load:
        return Load(
            self.base, self.pizzas, self.args.rate * rate_factor, self.args.views * rate_factor, threads or self.args.threads, stats=stats
        )

    def log_offsets(self) -> dict[Path, int]:
        """Where every process log ends now; logs_since() reads what was written after."""
        assert self.stack is not None  # started in setup()
        return {path: path.stat().st_size for path in (self.stack.state_dir / "logs").glob("*.log")}

    def logs_since(self, offsets: dict[Path, int]) -> str:
        assert self.stack is not None  # started in setup()
        text = []
        for path in (self.stack.state_dir / "logs").glob("*.log"):
            with open(path, "rb") as f:
                f.seek(offsets.get(path, 0))
                text.append(f.read().decode(errors="replace"))
        return "".join(text)

    def max_order_id(self) -> int:
        assert self.pg is not None  # started in setup()
        return max_order_id(self.pg)

    def account(self, result: Result, since_id: int) -> None:
        assert self.pg is not None  # started in setup()
        foreign = set()
        if self.background is not None and self.background is not result.stats:
            with self.background.lock:
                foreign = set(self.background.attempted)
        account(self.pg, result, since_id, foreign)

    def run_load_scenario(self, result: Result, action, rate_factor: float = 1.0) -> None:
        """Load for `lead` seconds, action(load), `lead` more seconds, then the accounting."""
        since = self.max_order_id()
        load = self.load(rate_factor)
        with load:
            time.sleep(self.args.lead)
            action(load)
            time.sleep(self.args.lead)
        result.stats = load.stats
        self.account(result, since)

    # --- one scenario --------------------------------------------------------------------------------
    def run(self, scenario) -> Result:
        """scenario: a module of stack.chaos.scenarios (NUMBER, NAME, run(harness, result))."""
        result = Result(scenario.NUMBER, scenario.NAME, timing_advisory=self.args.short)
        say(f"scenario {scenario.NUMBER}: {scenario.NAME}")
        started = time.monotonic()
        try:
            if getattr(scenario, "NEEDS_NETWORK", False) and self.network is None:
                raise ChaosError(f"needs the database in a network namespace, which this run has not: {self.network_error}")
            self.ensure_healthy()
            scenario.run(self, result)
        except Exception as exc:  # recorded as this scenario's failure; the next one starts from a checked state
            result.error = f"{type(exc).__name__}: {exc}"
        for note in result.notes:
            say(f"  {note}")
        for description, ok in result.checks:
            if not ok:
                say(
                    f"  {'over (speed target, not enforced in --short)' if result.timing_advisory and description in result.timing else 'FAILED'}: {description}"
                )
        if result.error:
            say(f"  ERROR: {result.error}")
        say(f"scenario {scenario.NUMBER}: {'PASS' if result.passed else 'FAIL'} in {time.monotonic() - started:.0f}s")
        return result
