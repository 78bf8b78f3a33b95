"""A primary and its streaming standby: the twin of RDS and its read replica.

The machine's shared PostgreSQL refuses replication connections (its pg_hba.conf has no
`replication` line, and the tests must not change it), so the replica tests run on a primary of
their own: a disposable cluster (stack.postgres.DisposablePostgres) on a port of the test's range,
copied with `pg_basebackup -R` into a hot standby on the next port. `recovery_min_apply_delay`
holds every replayed commit back by a chosen time, which is how replica lag is injected.

`Standby` copies any DisposablePostgres, the chaos harness's too (scenario 12), even one inside a
network namespace: it streams over the primary's Unix socket (initdb's pg_hba.conf trusts local
replication) and listens on the host's loopback, where the app reaches it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .. import StackError
from ..postgres import DisposablePostgres


def autocommit(port: int, sql: str, dbname: str = "postgres") -> list[tuple]:
    """One statement in autocommit as postgres on the loopback cluster at `port`; its rows, if any."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


class Primary(DisposablePostgres):
    """A disposable cluster on a fixed port, ready to stream WAL to a standby."""

    def __init__(self, port: int):
        super().__init__()
        self.port = port
        self.options = f"-h 127.0.0.1 -p {port} -k {self.tmp} -c fsync=off -c max_connections=100 -c wal_level=replica"

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple]:
        """One statement in autocommit (CREATE DATABASE, writes that must reach the standby)."""
        return autocommit(self.port, sql, dbname)


class Standby:
    """A hot standby of `primary`, on its own port, with statements logged so tests can see its reads."""

    def __init__(self, primary: DisposablePostgres, port: int, apply_delay_ms: int = 0):
        self.primary = primary
        self.port = port
        self.apply_delay_ms = apply_delay_ms
        self.data = primary.tmp / "standby"
        self.log = primary.tmp / "standby.log"
        self.max_connections = 100  # a hot standby refuses to start with fewer than its primary: create() reads it

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """As the cluster's owner, on the host (outside the primary's network namespace, if it has one)."""
        result = subprocess.run([*self.primary.as_owner, *args], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise StackError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}")
        return result

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _options(self) -> str:
        # log_statement=all: the tests read the log to see which queries reached the replica.
        return (
            f"-h 127.0.0.1 -p {self.port} -k {self.primary.tmp} -c fsync=off -c max_connections={self.max_connections}"
            f" -c hot_standby=on -c recovery_min_apply_delay={self.apply_delay_ms}ms"
            " -c log_statement=all -c log_line_prefix='%m [%p] app=%a db=%d '"
        )

    def create(self) -> Standby:
        self.max_connections = max(self.max_connections, int(self.primary.query("SHOW max_connections")[0][0]))
        self._run(
            str(self.primary.bindir / "pg_basebackup"),
            "-h",
            str(self.primary.tmp),  # the primary's Unix socket: local replication is trusted, whatever its address
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-X",
            "stream",
            "-R",
            "-c",
            "fast",
        )
        self.start()
        return self

    def start(self) -> None:
        self._run(
            str(self.primary.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.log), "-o", self._options(), "start"
        )

    def stop(self) -> None:
        self._run(str(self.primary.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop", check=False)

    def remove(self) -> None:
        """Stopped at once and its data directory gone; the primary keeps running."""
        if self.data.exists():
            self._run(str(self.primary.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False)
            shutil.rmtree(self.data, ignore_errors=True)

    def query(self, sql: str, dbname: str = "postgres") -> list[tuple]:
        return autocommit(self.port, sql, dbname)

    def wait_streaming(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.primary.query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")[0][0]:
                return
            time.sleep(0.2)
        raise StackError(f"the standby on {self.port} never started streaming; see {self.log}")

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = self.primary.query("SELECT pg_current_wal_lsn()::text")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.query(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0]:
                return
            time.sleep(0.1)
        raise StackError(f"the standby did not replay up to {target} within {timeout:g}s")

    def log_text(self) -> str:
        return Path(self.log).read_text(errors="replace") if Path(self.log).exists() else ""


def start_pair(primary_port: int, standby_port: int, apply_delay_ms: int = 0) -> tuple[Primary, Standby]:
    """A fresh primary and its streaming standby; call teardown(primary, standby) to remove both."""
    primary = Primary(primary_port)
    standby = Standby(primary, standby_port, apply_delay_ms)
    try:
        primary.init()
        standby.create()
        standby.wait_streaming()
    except (StackError, subprocess.SubprocessError):
        teardown(primary, standby)
        raise
    return primary, standby


def teardown(primary: Primary, standby: Standby) -> None:
    if standby.data.exists():
        standby.stop()
    primary.teardown()
