"""The local A/B/C stack: gunicorn per variant behind HAProxy, on one database.

Used by `make up` (stack/local/up.py), the end-to-end tests, `make chaos` and `make bench`.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from config.variants import VariantSet, load_variants

from .. import APP_DIR, REPO_ROOT, StackError
from ..http import port_open, stop_process, wait_until_ready
from . import haproxy
from .install import ensure_haproxy
from .ports import BALANCED_SLOTS, PortPlan


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Stack:
    env: str = "dev"
    state_dir: Path = REPO_ROOT / ".stack"
    ports: PortPlan = field(default_factory=PortPlan)
    database_url: str | None = None
    workers: int = 2
    threads: int = 4
    quiet: bool = False
    variants: VariantSet = None  # type: ignore[assignment]  # None means "load env's", done in __post_init__
    extra_env: dict = field(default_factory=dict)
    # migrate_database_url is the migrations' login: directly to PostgreSQL (never the pooler) and,
    # with production's two roles, as the owner, while database_url is the variants' web role.
    migrate_database_url: str | None = None

    @property
    def server_maxconn(self) -> int:
        """Requests HAProxy lets into one process at once: what gunicorn works on (workers x threads).
        Fewer would keep CPU-bound requests faster under overload but starve a slow database's
        waits (docs/chaos.md, scenarios 8 and 9)."""
        return self.workers * self.threads

    def __post_init__(self):
        self.state_dir = Path(self.state_dir)
        self.variants = self.variants or load_variants(self.env)
        self.processes: dict[tuple[str, int], Process] = {}
        self.haproxy: Process | None = None
        self.python = sys.executable

    # --- configuration ----------------------------------------------------------------------
    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    @property
    def names(self) -> list[str]:
        return list(self.variants.variants)

    def index(self, variant: str) -> int:
        return self.names.index(variant)

    def secret_key(self) -> str:
        if os.environ.get("SECRET_KEY"):
            return os.environ["SECRET_KEY"]
        path = self.state_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        return path.read_text().strip()

    def base_env(self, app_dir: Path = APP_DIR) -> dict:
        # PROMETHEUS_MULTIPROC_DIR too: inherited, it would put every variant's samples in one directory
        # (each emptied by the next start); gunicorn.conf.py gives each process its own under state_dir.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VARIANT", "THEME", "DJANGO_", "PROMETHEUS_MULTIPROC_DIR"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DEPLOY_ENV=self.env,
            VARIANTS_ROOT=str(REPO_ROOT),
            SECRET_KEY=self.secret_key(),
            ALLOWED_HOSTS="localhost,127.0.0.1",
            PYTHONPATH=str(app_dir),
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        else:
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(self.state_dir / "db.sqlite3")
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, app_dir: Path = APP_DIR, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        run_env = self.base_env(app_dir)
        run_env.update(env or {})
        result = subprocess.run([self.python, "manage.py", *args], cwd=app_dir, env=run_env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    # --- lifecycle ----------------------------------------------------------------------------
    def check_not_running(self) -> None:
        pid_file = self.state_dir / "stack.pid"
        pid = int(pid_file.read_text().strip() or 0) if pid_file.exists() else 0
        if pid and pid != os.getpid():  # our own pid file (written by `make up` itself) is no obstacle
            try:
                os.kill(pid, 0)
            except (ProcessLookupError, PermissionError):
                pid_file.unlink()  # left behind by a stack that is gone
            else:
                raise StackError(
                    f"the stack is already running (pid {pid}): {self.url()} . Stop it with Ctrl-C in its terminal or `kill {pid}`."
                )
        busy = [p for p in self.ports.listening(len(self.names)) if port_open(p)]
        if busy:
            raise StackError(
                f"port(s) {', '.join(map(str, busy))} already in use by another program; stop it or pick another "
                f"base with --port (a stack uses {self.ports.base}..{self.ports.last})"
            )

    def prepare(self, staff_password: str | None = None) -> str:
        """Migrate once (the schema owner's job), collect each theme's static files, ensure a staff login."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        owner = self.variants.schema_owner
        database = "PostgreSQL (DATABASE_URL)" if self.database_url else f"SQLite {self.state_dir / 'db.sqlite3'}"
        variants = ", ".join(f"{v.name.upper()} {v.theme}" for v in self.variants.variants.values())
        self.say(f"==> environment {self.env}: {variants}; database {database}")
        self.say(f"==> migrations (as {owner.upper()}, the schema owner)")
        direct = {"DATABASE_URL": self.migrate_database_url} if self.migrate_database_url else {}
        migrated = self.manage("migrate_safely", env={"VARIANT": owner, **direct})
        self.say(migrated.stdout.strip().splitlines()[-1] if migrated.stdout.strip() else "migrations applied")
        for theme in sorted({v.theme for v in self.variants.variants.values()}):
            self.say(f"==> static files for the {theme} theme")
            self.manage("collectstatic", "--noinput", "-v", "0", env={"THEME": theme, "STATIC_ROOT": str(self.static_root(theme))})
        self.say("==> staff login")
        # The password travels in the environment, not argv (which `ps` shows to every user).
        return self.manage("ensure_staff", env={"STAFF_PASSWORD": staff_password} if staff_password else None).stdout.strip()

    def static_root(self, theme: str) -> Path:
        return self.state_dir / "static" / theme

    def start_variant(self, variant: str, slot: int = 1, app_dir: Path = APP_DIR, env: dict | None = None) -> Process:
        spec = self.variants.variants[variant]
        port = self.ports.variant(self.index(variant), slot)
        run_env = self.base_env(app_dir)
        run_env.update(
            VARIANT=variant,
            THEME=spec.theme,
            HOST="127.0.0.1",
            PORT=str(port),
            WEB_CONCURRENCY=str(self.workers),
            GUNICORN_THREADS=str(self.threads),
            GUNICORN_WORKER_TMP_DIR=str(self.state_dir),
            STATIC_ROOT=str(self.static_root(spec.theme)),
            APP_VERSION=run_env.get("APP_VERSION", "local"),
            # Only the balanced slots have a metrics port in the plan; the bench's extra slots go unscraped.
            METRICS_PORT=str(self.ports.metrics(self.index(variant), slot)) if slot in BALANCED_SLOTS else "0",
        )
        run_env.update(env or {})
        log = self.state_dir / "logs" / f"{variant}{slot}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                [self.python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
                cwd=app_dir,
                env=run_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(f"{variant}{slot}", popen, log)
        self.processes[(variant, slot)] = process
        return process

    def stop_variant(self, variant: str, slot: int = 1, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int | None:
        process = self.processes.pop((variant, slot), None)
        if process is None:
            return None
        if process.alive():
            process.popen.send_signal(sig)
            try:
                return process.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                return process.popen.wait()
        return process.popen.returncode

    def start_haproxy(self) -> Process:
        binary = ensure_haproxy()
        config = self.state_dir / "haproxy.cfg"
        config.write_text(haproxy.render(self.variants, self.ports, self.haproxy_socket, server_maxconn=self.server_maxconn))
        check = subprocess.run([binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise StackError(f"generated HAProxy config is invalid:\n{check.stdout}{check.stderr}")
        log = self.state_dir / "logs" / "haproxy.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            popen = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.haproxy = Process("haproxy", popen, log)
        deadline = time.monotonic() + 10
        while not port_open(self.ports.entry):
            if not self.haproxy.alive() or time.monotonic() > deadline:
                raise StackError(f"HAProxy did not start; see {log}")
            time.sleep(0.1)
        return self.haproxy

    @property
    def haproxy_socket(self) -> Path:
        return self.state_dir / "haproxy.sock"

    def server_stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's 'show stat' per variant server: {'a1': {'status': 'UP', 'scur': '0', ...}, ...}."""
        return haproxy.server_stats(self.haproxy_socket)

    def server_states(self) -> dict[str, str]:
        """{'a1': 'UP', 'a2': 'DOWN', ...} as HAProxy's health checks see them."""
        return {name: row["status"] for name, row in self.server_stats().items()}

    def set_server_state(self, variant: str, slot: int, state: str) -> None:
        """ready, drain or maint for one slot, through HAProxy's runtime API."""
        answer = haproxy.runtime_command(
            self.haproxy_socket, f"set server {haproxy.backend_name(variant)}/{haproxy.server_name(variant, slot)} state {state}"
        ).strip()
        if answer:
            raise StackError(f"HAProxy refused 'set server ... state {state}': {answer}")

    def wait_server(self, variant: str, slot: int, predicate, timeout: float) -> float | None:
        """Seconds until predicate(HAProxy's status of the slot) holds, or None after `timeout`."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if predicate(self.server_states().get(haproxy.server_name(variant, slot), "")):
                return time.monotonic() - start
            time.sleep(0.05)
        return None

    def start_in_slot(self, variant: str, slot: int, app_dir: Path = APP_DIR, env: dict | None = None) -> Process:
        """Start a process in a slot and put the slot back into rotation: it stays DOWN (no traffic)
        until `rise` health checks pass on the new process, like a pod before its readiness."""
        if self.haproxy is not None:
            self.set_server_state(variant, slot, "ready")
        return self.start_variant(variant, slot, app_dir=app_dir, env=env)

    def park(self, variant: str, slot: int) -> None:
        """An empty slot stays drained (weight 0) with its health checks running until they have seen
        it gone. Not `maint`: leaving maintenance HAProxy starts a server as UP ("start OK but check
        immediately"), so a restart would get traffic before its process even listens."""
        self.set_server_state(variant, slot, "drain")
        self.wait_server(variant, slot, lambda status: status.startswith("DOWN"), timeout=10)

    def retire(self, variant: str, slot: int, max_drain: float = 15.0) -> tuple[float, int, int | None]:
        """preStop + deregistration: drain the slot, wait until nothing is in flight, SIGTERM, park.
        Returns (seconds drained, requests in flight at SIGTERM, exit code)."""
        name = haproxy.server_name(variant, slot)
        self.set_server_state(variant, slot, "drain")
        start = time.monotonic()
        time.sleep(0.5)
        while time.monotonic() - start < max_drain and int(self.server_stats().get(name, {}).get("scur") or 0) > 0:
            time.sleep(0.05)
        in_flight = int(self.server_stats().get(name, {}).get("scur") or 0)
        drained = time.monotonic() - start
        code = self.stop_variant(variant, slot, signal.SIGTERM)
        self.park(variant, slot)
        return drained, in_flight, code

    def wait_ready(self, variant: str, slot: int = 1, timeout: float = 60.0, via_haproxy: bool = True) -> bool:
        """True once the variant's /readyz answers 200 (and HAProxy has marked it UP, if asked and
        the slot is one HAProxy balances over)."""
        process = self.processes.get((variant, slot))
        in_haproxy = via_haproxy and self.haproxy is not None and slot in BALANCED_SLOTS
        return wait_until_ready(
            self.variant_url(variant, "/readyz", slot),
            timeout,
            also=(lambda: self.server_states().get(haproxy.server_name(variant, slot)) == "UP") if in_haproxy else None,
            gone=(lambda: not process.alive()) if process is not None else None,
        )

    def start(self, staff_password: str | None = None, ready_timeout: float = 60.0) -> str:
        """Everything `make up` does: prepare, start A, B, C and HAProxy, wait until all are ready."""
        self.check_not_running()
        staff = self.prepare(staff_password)
        for name in self.names:
            self.say(f"==> starting variant {name.upper()} (gunicorn on {self.variant_url(name)})")
            self.start_variant(name)
        self.say(f"==> starting HAProxy on {self.url()}")
        self.start_haproxy()
        not_ready = []
        for name in self.names:
            began = time.monotonic()
            if self.wait_ready(name, timeout=ready_timeout):
                self.say(f"==> variant {name.upper()} ready ({time.monotonic() - began:.1f}s more)")
            else:
                not_ready.append(name)
        if not_ready:
            logs = ", ".join(str(self.processes[(n, 1)].log) for n in not_ready if (n, 1) in self.processes)
            raise StackError(f"variant(s) {', '.join(not_ready)} did not become ready within {ready_timeout:g}s; see {logs}")
        return staff

    def stop(self) -> None:
        for variant, slot in list(self.processes):
            self.stop_variant(variant, slot, timeout=30)
        if self.haproxy:
            stop_process(self.haproxy.popen)
        self.haproxy = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- addresses ----------------------------------------------------------------------------
    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports.entry}{path}"

    def variant_url(self, variant: str, path: str = "/", slot: int = 1) -> str:
        return f"http://127.0.0.1:{self.ports.variant(self.index(variant), slot)}{path}"

    def summary(self) -> str:
        rows = [f"  split (HAProxy, weighted + sticky)  {self.url()}"]
        for name, spec in self.variants.variants.items():
            rows.append(f"  variant {name.upper()} ({spec.theme}, weight {spec.weight})".ljust(38) + self.variant_url(name))
        rows.append("  staff order table".ljust(38) + self.url("/staff/orders/"))
        rows.append("  HAProxy stats".ljust(38) + f"http://127.0.0.1:{self.ports.stats}/stats")
        database = "PostgreSQL (DATABASE_URL)" if self.database_url else f"SQLite {self.state_dir / 'db.sqlite3'}"
        rows.append("  database".ljust(38) + database)
        return "\n".join(rows)
