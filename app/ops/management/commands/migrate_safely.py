"""The one migration command: the Helm hook, `make up`, the deploy workflow and the tests use it.

- A PostgreSQL advisory lock lets one run migrate at a time; a second run waits (bounded), then
  finds nothing left to do and exits 0.
- lock_timeout and statement_timeout keep a DDL statement from queueing order traffic behind it;
  a lock timeout is retried with backoff.
- Contract steps (removing or renaming) are refused unless the deploy says every running release
  is past them (--running) or explicitly allows them (--allow-contract, after that check).
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connections

from ops import readiness
from ops.schema import MIGRATION_LOCK_KEY, contract_rule, contract_violations, parse_running, pending_plan

LOCK_NOT_AVAILABLE = "55P03"


class Command(BaseCommand):
    help = "Apply migrations under an advisory lock with bounded lock and statement timeouts."

    def add_arguments(self, parser):
        parser.add_argument("--lock-wait", type=float, default=300.0, help="seconds to wait for another run to finish")
        parser.add_argument("--lock-timeout", default="5s", help="PostgreSQL lock_timeout for each DDL statement")
        parser.add_argument("--statement-timeout", default="15min", help="PostgreSQL statement_timeout for each statement")
        parser.add_argument("--retries", type=int, default=5, help="attempts after a lock timeout")
        parser.add_argument("--backoff", type=float, default=2.0, help="first pause after a lock timeout, doubled each time")
        parser.add_argument("--running", default="", help="releases still serving: a=orders.0003_x,b=orders.0004_y")
        parser.add_argument("--allow-contract", action="store_true", help="apply contract steps (after the deploy's check)")
        parser.add_argument("--check-contract", action="store_true", help="only check contract steps against --running")

    def handle(self, *args, **opts):
        conn = connections["default"]
        pending = pending_plan()
        contracts = [m for m in pending if contract_rule(m)]
        if opts["check_contract"] or opts["running"]:
            try:
                running = parse_running(opts["running"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            problems = contract_violations(contracts, running)
            if problems:
                raise CommandError("contract step refused:\n  " + "\n  ".join(problems))
            if opts["check_contract"]:
                self.stdout.write(
                    f"contract check passed: {len(contracts)} contract step(s) pending, safe for {sorted(running) or 'no'} release(s)"
                )
                return
        elif contracts and not opts["allow_contract"]:
            names = ", ".join(f"{m.app_label}.{m.name}" for m in contracts)
            raise CommandError(
                f"contract step(s) pending: {names}. They remove what older code may use; run "
                "`migrate_safely --check-contract --running <release=app.migration,...>` first, then pass --allow-contract"
            )

        if conn.vendor != "postgresql":
            # The embedded SQLite default has one writer at a time anyway; no advisory locks there.
            self._migrate(opts)
            return

        with conn.cursor() as cursor:
            self._acquire(cursor, opts["lock_wait"])
            try:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                    [opts["lock_timeout"], opts["statement_timeout"]],
                )
                self._migrate_with_retries(opts)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
        readiness.reset()

    def _acquire(self, cursor, wait: float) -> None:
        deadline = time.monotonic() + wait
        announced = False
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
            if cursor.fetchone()[0]:
                return
            if not announced:
                self.stdout.write("another migration run holds the lock; waiting for it")
                announced = True
            if time.monotonic() >= deadline:
                raise CommandError(f"gave up after {wait:g}s waiting for the migration lock held by another run")
            time.sleep(0.5)

    def _migrate_with_retries(self, opts) -> None:
        pause = opts["backoff"]
        for attempt in range(opts["retries"] + 1):
            try:
                self._migrate(opts)
                return
            except OperationalError as exc:
                if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                    raise
                if attempt == opts["retries"]:
                    raise CommandError(
                        f"gave up after {attempt + 1} attempts: a table stayed locked longer than "
                        f"lock_timeout={opts['lock_timeout']} each time ({str(exc).strip()})"
                    ) from exc
                self.stdout.write(f"lock timeout (attempt {attempt + 1}); retrying in {pause:g}s")
                time.sleep(pause)
                pause *= 2

    def _migrate(self, opts) -> None:
        pending = pending_plan()
        if not pending:
            self.stdout.write("no migrations to apply: the schema is up to date")
            return
        for migration in pending:
            self.stdout.write(f"applying {migration.app_label}.{migration.name}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"applied {len(pending)} migration(s)")
