"""ENGINE "config.postgresql": Django's PostgreSQL backend, its per-request health check made cheap.

With CONN_HEALTH_CHECKS, Django asks the server `SELECT 1` before the first query of every request
that reuses a persistent connection: one more round trip, and one more statement for PostgreSQL,
on every request that touches the database (an order POST made two statements instead of one).

A connection the server has closed (a restart, a failover, pg_terminate_backend, a pooler going
away) does not stay silent: the server sends its FATAL message and closes the socket, so the socket
turns readable. An idle connection in good health has nothing to read. So the check first polls the
socket without waiting; only when something is there (or psycopg already knows it is broken) does it
fall back to Django's own check, which then runs `SELECT 1`, closes the connection if that fails,
and lets the request reconnect exactly as before. The other uses of `is_usable()` (after an error
in a request) are Django's, unchanged.

What neither check can see is a server that vanished without a word (packets dropped): `SELECT 1`
would wait on it like the request's own query does, so the connection's tcp_user_timeout and
keepalives (settings/base.py) bound both alike.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


def idle_and_quiet(connection) -> bool:
    """True when the psycopg connection is open and its socket has nothing to read and no error."""
    if connection.closed:
        return False
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)  # POLLERR, POLLHUP and POLLNVAL are always reported
    except (OSError, ValueError):
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # set by Django's __init__ and per request

    def close_if_health_check_failed(self):
        if self.connection is not None and self.health_check_enabled and not self.health_check_done and idle_and_quiet(self.connection):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
