"""PgBouncer in transaction pooling mode: the twin of RDS Proxy in front of the web processes.

What it enforces is what RDS Proxy needs to multiplex without pinning: no session state survives a
transaction (no SET, no advisory locks, no WITH HOLD cursors). Django obeys with
DISABLE_SERVER_SIDE_CURSORS and DATABASE_POOLED (no `options` startup parameter); the migration run
connects to PostgreSQL directly because its advisory lock and DDL timeouts are session state.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .. import StackError
from ..http import port_open, stop_process, wait_for_port

# The pool's limits. The local stack at its largest (make up: 3 variants x 2 slots x 2 workers x 4
# threads = 48 clients) fits in max_client_conn; default_pool_size caps server connections per
# database and user, the figure that must stay under PostgreSQL's max_connections.
MAX_CLIENT_CONN = 200
DEFAULT_POOL_SIZE = 20
# Server-side timeouts the app would otherwise send as a startup `options` parameter (PgBouncer and
# RDS Proxy refuse or pin on it); on RDS the same values are the web role's defaults.
CONNECT_QUERY = "SET statement_timeout = 15000; SET lock_timeout = 5000"


def find_pgbouncer() -> str:
    for candidate in (shutil.which("pgbouncer"), "/usr/sbin/pgbouncer"):
        if candidate and Path(candidate).exists():
            return candidate
    raise StackError("pgbouncer is not installed: apt-get install -y pgbouncer (Debian's package)")


class PgBouncer:
    """One pgbouncer process pooling every database of the server at `server_url`."""

    def __init__(
        self,
        server_url: str,
        port: int,
        users: tuple[str, ...] = ("postgres",),
        max_client_conn: int = MAX_CLIENT_CONN,
        pool_size: int = DEFAULT_POOL_SIZE,
    ):
        self.server = urlsplit(server_url)
        self.port = port
        # users are the roles that may log in through the pool (e.g. the web role); trust locally.
        self.users = tuple(dict.fromkeys([*users, self.server.username or "postgres"]))
        self.max_client_conn = max_client_conn
        self.pool_size = pool_size
        self.dir = Path(tempfile.mkdtemp(prefix="pizza-pgbouncer."))
        self.popen: subprocess.Popen | None = None

    def config(self) -> str:
        host, port = self.server.hostname or "127.0.0.1", self.server.port or 5432
        return "\n".join(
            [
                "[databases]",
                # The wildcard entry pools any database name on the one server (test databases come and go).
                f"* = host={host} port={port} connect_query='{CONNECT_QUERY}'",
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {self.port}",
                f"unix_socket_dir = {self.dir}",
                "auth_type = trust",
                f"auth_file = {self.dir / 'users.txt'}",
                f"admin_users = {self.users[-1]}",
                "pool_mode = transaction",
                f"max_client_conn = {self.max_client_conn}",
                f"default_pool_size = {self.pool_size}",
                "server_reset_query =",
                # Server connections to a dropped test database must not linger.
                "server_idle_timeout = 10",
                "ignore_startup_parameters = extra_float_digits",
                f"logfile = {self.log}",
                f"pidfile = {self.dir / 'pgbouncer.pid'}",
                "",
            ]
        )

    @property
    def log(self) -> Path:
        return self.dir / "pgbouncer.log"

    def start(self) -> PgBouncer:
        if port_open(self.port):
            raise StackError(f"port {self.port} is taken: another PgBouncer or program listens there")
        (self.dir / "users.txt").write_text("".join(f'"{user}" ""\n' for user in self.users))
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(self.config())
        cmd = [find_pgbouncer(), str(ini)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root: hand it the folder and drop privileges
            user = "postgres" if _has_user("postgres") else "nobody"
            shutil.chown(self.dir, user)
            cmd = ["runuser", "-u", user, "--", *cmd]
        self.popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for_port(self.port, self.popen):
            log = self.log.read_text() if self.log.exists() else ""
            raise StackError(f"pgbouncer did not start on {self.port}: {log[-800:]}")
        return self

    def stop(self) -> None:
        stop_process(self.popen)
        self.popen = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def allow(self, *users: str) -> None:
        """Let more roles log in through the running pool (e.g. a test database's web role): the
        auth file gains them and PgBouncer re-reads it (RELOAD), without dropping its clients."""
        added = [u for u in users if u not in self.users]
        if not added:
            return
        self.users = tuple(dict.fromkeys([*added, *self.users]))  # the admin user stays last
        (self.dir / "users.txt").write_text("".join(f'"{user}" ""\n' for user in self.users))
        if self.popen and self.popen.poll() is None:
            self.admin("RELOAD")

    def url_for(self, database_url: str) -> str:
        """database_url (direct to PostgreSQL) rewritten to go through this pool."""
        parts = urlsplit(database_url)
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, f"{user}127.0.0.1:{self.port}", parts.path, parts.query, ""))

    def admin(self, command: str) -> list[dict]:
        """A command on PgBouncer's admin console (KILL db, SHOW POOLS, ...); rows as dicts."""
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, dbname="pgbouncer", user=self.users[-1], connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(command)
                if not cur.description:
                    return []
                names = [c.name for c in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()

    def show(self, what: str) -> list[dict]:
        """SHOW CLIENTS / SERVERS / POOLS, for tests that check traffic really went through the pool."""
        return self.admin(f"SHOW {what}")


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


_shared: PgBouncer | None = None


def shared_for_tests(server_url: str) -> PgBouncer:
    """The one pool of a test run (app tests and stack tests alike), stopped when the run ends."""
    global _shared
    if _shared is None:
        from . import service_port

        _shared = PgBouncer(server_url, service_port("pgbouncer")).start()
        atexit.register(_shared.stop)
    return _shared
