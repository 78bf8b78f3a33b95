"""`make up` (python -m stack.local): run A, B and C behind HAProxy until Ctrl-C.

With no DATABASE_URL the three share a SQLite file in .stack/ (the embedded default); with
DATABASE_URL pointing at PostgreSQL (a superuser's URL) the same stack runs on it with production's
two roles: migrations as <db>_owner, the variants as <db>_web (no DDL).
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .. import StackError
from .ports import PortPlan
from .prometheus import start_for_stack, where_metrics_are
from .stack import Stack


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C stops everything even when started from a script, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stack = build_stack(args)
    except (ValueError, StackError) as exc:
        print(f"make up: {exc}", file=sys.stderr)
        return 2
    pid_file = stack.state_dir / "stack.pid"
    status, staff = start(stack, pid_file)
    if status:
        return status

    print("\nPizza A/B/C is up:\n" + stack.summary())
    print(f"  {staff}\n\n{where_metrics_are(stack)}", flush=True)
    # PROMETHEUS=1 (make up PROMETHEUS=1): a real Prometheus scraping A, B and C with the chart's alert rules.
    prometheus = start_for_stack(stack) if os.environ.get("PROMETHEUS", "") not in ("", "0") else None
    print(f"\nLogs in {stack.state_dir / 'logs'}. Ctrl-C stops everything.", flush=True)
    watch(stack)
    print("\nstopping A, B, C and HAProxy...", flush=True)
    if prometheus:
        prometheus.stop()
    stack.stop()
    pid_file.unlink(missing_ok=True)
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make up", description=__doc__)
    parser.add_argument("--env", default=os.environ.get("ENV", "dev"), help="which environments/<env>/variants.yaml (dev, qa, prod)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PIZZA_PORT", "8000")),
        help="the port base: the split entry point; every other port of the stack follows it (README, 'Ports')",
    )
    return parser.parse_args(argv)


def build_stack(args: argparse.Namespace) -> Stack:
    """The stack on DATABASE_URL (SQLite when unset; PostgreSQL with production's two roles), with
    the scale tier's pool under PROFILE=production. Raises ValueError or StackError on bad settings."""
    options: dict[str, Any] = {"database_url": os.environ.get("DATABASE_URL")}
    if (options["database_url"] or "").startswith(("postgres://", "postgresql://")):
        # Production's two roles (stack/db_roles.py): the migrations run as the owner, the
        # variants as the web role, which may change rows but not the schema.
        from ..db_roles import roles_for

        owner_url, web_url = roles_for(options["database_url"])
        options = {"database_url": web_url, "migrate_database_url": owner_url}
    if os.environ.get("PROFILE") == "production":  # the scale tier's pool (stack/services/profile.py)
        from ..services.profile import production_like

        options, pool = production_like(options["database_url"], args.port, options.get("migrate_database_url"))
        atexit.register(pool.stop)
    return Stack(env=args.env, ports=PortPlan(args.port), **options)


def start(stack: Stack, pid_file: Path) -> tuple[int, str | None]:
    """(0, the staff login line) once every process is up; (exit status, None) when it could not start."""
    try:
        stack.check_not_running()
        stack.state_dir.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(str(os.getpid()))
        return 0, stack.start(staff_password=os.environ.get("STAFF_PASSWORD"))
    except StackError as exc:
        print(f"make up: {exc}", file=sys.stderr)
        if pid_file.exists() and pid_file.read_text().strip() == str(os.getpid()):
            stack.stop()
            pid_file.unlink()
        return 1, None
    except KeyboardInterrupt:
        stack.stop()
        pid_file.unlink(missing_ok=True)
        return 130, None


def watch(stack: Stack) -> None:
    """Until Ctrl-C, SIGTERM or a process of the stack exits on its own (said on stderr)."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            dead = [p.name for p in stack.processes.values() if not p.alive()]
            if dead or (stack.haproxy and not stack.haproxy.alive()):
                print(
                    f"make up: process(es) exited unexpectedly: {', '.join(dead) or 'haproxy'}; see {stack.state_dir / 'logs'}",
                    file=sys.stderr,
                )
                break
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
