"""A real PostgreSQL for the tests, the benchmark and the chaos harness.

`python -m stack.postgres CMD...` runs CMD with TEST_DATABASE_URL pointing at:
  1. TEST_DATABASE_URL as given, if set;
  2. else the server on 127.0.0.1:5432 (user postgres, trust), if it answers;
  3. else a disposable cluster made here with initdb/pg_ctl and removed afterwards.
It never falls back to SQLite. `DisposablePostgres` is that cluster; `make chaos` uses it directly
because it restarts the database. `drop_database` makes or clears the databases tests and bench own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import StackError

MACHINE_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url_for(server_url: str, name: str) -> str:
    """The URL of database `name` on the server `server_url` points at."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def drop_database(server_url: str, name: str, create_again: bool = False) -> str:
    """Drop database `name` (closing its sessions), optionally create it empty; returns its URL."""
    import psycopg2

    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create_again:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return database_url_for(server_url, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- A disposable PostgreSQL ---------------------------------------------------------------------


class DisposablePostgres:
    """A throw-away cluster on a free loopback port, owned by an unprivileged user when run as root.

    `host` and `wrap` put it elsewhere: the chaos harness runs it inside a network namespace of its
    own (wrap = ["ip", "netns", "exec", NAME], host = the namespace's address) so it can cut or slow
    the network to it. Server-side TCP keepalives end the sessions of clients that vanished.
    """

    def __init__(self, host: str = "127.0.0.1", wrap: list[str] | None = None, settings: dict | None = None, port: int | None = None):
        # settings: extra postgresql.conf lines (WAL archiving for the restore drill); written after initdb.
        self.settings = dict(settings or {})
        self.bindir = self._find_bindir()
        self.host = host
        self.port = port or free_port()  # a fixed port keeps a caller inside its port range
        self.tmp = Path(tempfile.mkdtemp(prefix="pizza-pg."))
        self.data = self.tmp / "data"
        self.log = self.tmp / "postgres.log"
        # as_owner: the prefix that runs a command as the cluster's owner, outside any namespace (a
        # standby beside it, stack.services.replica); run_as: the same inside `wrap`, for the server.
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root: hand the cluster to an unprivileged user
            import pwd

            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                entry = pwd.getpwnam("nobody")
            os.chown(self.tmp, entry.pw_uid, entry.pw_gid)
            self.as_owner = ["runuser", "-u", entry.pw_name, "--"]
        self.run_as: list[str] = [*(wrap or []), *self.as_owner]
        self.options = (
            f"-h {host} -p {self.port} -k {self.tmp} -c fsync=off -c max_connections=200"
            " -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=2"
        )

    @staticmethod
    def _find_bindir() -> Path:
        candidates = []
        if shutil.which("pg_config"):
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
            candidates.append(Path(out))
        candidates += sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True
        )
        for candidate in candidates:
            if (candidate / "initdb").exists():
                return candidate
        raise StackError("no PostgreSQL server binaries (initdb, pg_ctl) found: apt-get install -y postgresql")

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.run_as, *args], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise StackError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}")
        return result

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-N", "-A", "trust", "-U", "postgres", "-D", str(self.data))
        if self.host != "127.0.0.1":  # clients on the host's end of the namespace's own /30 (nothing else reaches it)
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write("host all all samenet trust\n")
        self.write_settings()
        self.start()

    def write_settings(self, settings: dict | None = None, conf: str = "postgresql.conf") -> None:
        """Append `settings` (default: the constructor's) to a configuration file of the data directory."""
        lines = [f"{key} = '{str(value).replace(chr(39), chr(39) * 2)}'" for key, value in (settings or self.settings).items()]
        if lines:
            with open(self.data / conf, "a") as out:
                out.write("\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.log), "-o", self.options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop")

    def teardown(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def query(self, sql: str, params=()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.url, connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


def machine_server_answers() -> bool:
    import psycopg2

    try:
        psycopg2.connect(MACHINE_SERVER, connect_timeout=3).close()
        return True
    except psycopg2.Error:
        return False


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m stack.postgres CMD [ARG...]", file=sys.stderr)
        return 2
    if os.environ.get("TEST_DATABASE_URL"):
        return subprocess.call(argv)
    if machine_server_answers():
        return subprocess.call(argv, env=dict(os.environ, TEST_DATABASE_URL=MACHINE_SERVER))
    try:
        cluster = DisposablePostgres()
        print(f"with-postgres: starting a disposable PostgreSQL on 127.0.0.1:{cluster.port} ({cluster.tmp})", flush=True)
        cluster.init()
    except StackError as exc:
        print(f"with-postgres: no PostgreSQL answers on 127.0.0.1:5432 and none could be started: {exc}", file=sys.stderr)
        print("with-postgres: install one (apt-get install -y postgresql) or set TEST_DATABASE_URL.", file=sys.stderr)
        return 2
    try:
        return subprocess.call(argv, env=dict(os.environ, TEST_DATABASE_URL=cluster.url))
    finally:
        cluster.teardown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
