"""The primary with WAL archiving, its base backup, and a new cluster restored to a point in time.

Both clusters are stack.postgres.DisposablePostgres (initdb/pg_ctl as an unprivileged user when
root); the archive and the backup live in the primary's temporary directory, which the restored
cluster (same owner) reads after the primary itself has been stopped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from .. import StackError
from ..postgres import DisposablePostgres


class ArchivingPrimary:
    """A cluster that copies every finished WAL segment into `archive` (what RDS ships to S3)."""

    def __init__(self, port: int):
        self.pg = DisposablePostgres(port=port)
        self.archive = self.pg.tmp / "archive"
        self.backup = self.pg.tmp / "base"
        self.pg.settings = {
            "wal_level": "replica",
            "archive_mode": "on",
            # never overwrite a segment already archived: a second copy would hide a split brain
            "archive_command": f"test ! -f {self.archive}/%f && cp %p {self.archive}/%f",
        }

    def init(self) -> None:
        self.pg._run("mkdir", "-p", str(self.archive))
        self.pg.init()

    def base_backup(self) -> tuple[float, int]:
        """pg_basebackup into self.backup; returns (seconds, bytes)."""
        start = time.monotonic()
        self.pg._run(
            str(self.pg.bindir / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.pg.port),
            "-U",
            "postgres",
            "-D",
            str(self.backup),
            "-c",
            "fast",
            "-X",
            "stream",
        )
        return time.monotonic() - start, directory_bytes(self.backup)

    def archive_now(self, timeout: float = 30.0) -> None:
        """Close the current WAL segment and wait until the archiver has copied it: the WAL past T
        must be in the archive, or recovery ends before reaching the target."""
        segment = self.pg.query("SELECT pg_walfile_name(pg_switch_wal())")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last, failed = self.pg.query("SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver")[0]
            if last >= segment:
                return
            time.sleep(0.1)
        raise StackError(f"WAL segment {segment} was not archived within {timeout:g}s (failed attempts: {failed}); see {self.pg.log}")


def execute(pg: DisposablePostgres, sql: str, params=None) -> None:
    """One statement, committed (DisposablePostgres.query only reads: it never commits)."""
    import psycopg2

    conn = psycopg2.connect(pg.url, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
    finally:
        conn.close()


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def target_text(wall_time: float) -> str:
    """A recovery_target_time PostgreSQL reads unambiguously: ISO 8601 in UTC."""
    return datetime.fromtimestamp(wall_time, UTC).isoformat(sep=" ")


def restore_to(primary: ArchivingPrimary, target: float, port: int, timeout: float = 300.0) -> DisposablePostgres:
    """A NEW cluster: the base backup, then WAL from the archive replayed up to `target` (a wall
    time), then promoted to a primary of its own. Returns it running and writable."""
    restored = DisposablePostgres(port=port)
    restored._run("cp", "-a", str(primary.backup), str(restored.data))
    restored.write_settings(
        {
            "restore_command": f"cp {primary.archive}/%f %p",
            "recovery_target_time": target_text(target),
            "recovery_target_action": "promote",
            "archive_mode": "off",  # the copy must not write into the old primary's archive
        }
    )
    restored._run("touch", str(restored.data / "recovery.signal"))
    try:
        restored.start()
        wait_promoted(restored, timeout)
    except StackError as exc:
        tail = restored.log.read_text()[-2000:] if restored.log.exists() else ""
        restored.teardown()
        raise StackError(f"restore to {target_text(target)} failed: {exc}\n{tail}") from exc
    return restored


def wait_promoted(pg: DisposablePostgres, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pg.query("SELECT pg_is_in_recovery()")[0][0]:
            return
        time.sleep(0.1)
    raise StackError(f"still in recovery after {timeout:g}s")
