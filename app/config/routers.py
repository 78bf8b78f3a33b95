"""Read replica routing: stale-tolerant reads go to the replica, everything else to the primary.

Who reads where:
- Only GET/HEAD requests to the views in REPLICA_READ_VIEWS (staff table, experiment report, menu
  and order form) may read from the replica, and only the orders and experiment tables: sessions,
  users and switches always come from the primary, so a login is never lost to lag.
- Every write, the status compare-and-set, and any read inside a transaction go to the primary.
- Read-your-writes: a request that wrote sets the PZ_PRIMARY cookie; for REPLICA_PIN_SECONDS
  that visitor (customer or staff member, on any variant) reads only from the primary, so the
  confirmation and the changed status are there on the very next page despite replica lag.
- A replica that does not answer, or lags more than REPLICA_MAX_LAG_SECONDS, is skipped: the
  page is served from the primary. Each process checks at most once per CHECK_SECONDS; one that
  did not answer is left alone for RETRY_SECONDS (each try may cost a connect timeout).
- The lag reading overstates after a quiet spell: WAL not yet replayed is timed from the last
  commit replayed, however long ago that was, so the first write after 10 idle seconds reads as
  10 s of lag until it is applied. A lagging verdict is therefore looked at again after
  CHECK_SECONDS, not RETRY_SECONDS, so a replica that has caught up is used again at once.
- A replica that goes away between two checks fails the read that was sent to it: the page is
  read again from the primary (those views only read before any write), so the replica's loss
  costs no request an error (docs/chaos.md, scenario 12).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

REPLICA = "replica"
PIN_COOKIE = "PZ_PRIMARY"
# Tables whose stale-by-a-second reads are harmless on the pages that opt in.
REPLICA_APPS = frozenset({"orders", "experiment"})
CHECK_SECONDS = 1.0
# How long a replica that did not answer is left alone before the next try.
RETRY_SECONDS = 5.0

log = logging.getLogger(__name__)

# Per request (each gunicorn thread has its own context): may this request read from the replica,
# and has it written yet?
_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_allowed", default=False)
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_wrote", default=False)
_used: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_used", default=False)


class _Health:
    """The replica's state as this process last saw it: usable or not, and until when to believe it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.usable = False
        self.until = 0.0
        self.lag: float | None = None

    def check(self) -> bool:
        now = time.monotonic()
        if now < self.until:
            return self.usable
        with self.lock:
            if now < self.until:
                return self.usable
            return self._probe_and_remember(now)

    def recheck(self) -> bool:
        """Probe now, whatever the last check said (a read on the replica has just failed)."""
        with self.lock:
            return self._probe_and_remember(time.monotonic())

    def _probe_and_remember(self, now: float) -> bool:
        self.usable, self.lag = self._probe()
        # A lag of None: it did not answer. A lagging replica answered, and may have caught up in a second.
        self.until = now + (RETRY_SECONDS if self.lag is None else CHECK_SECONDS)
        return self.usable

    def _probe(self) -> tuple[bool, float | None]:
        connection = connections[REPLICA]
        try:
            with connection.cursor() as cursor:
                # Lag is zero when everything received is applied, else the age of the last applied commit.
                cursor.execute(
                    "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                    " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
                )
                lag = float(cursor.fetchone()[0] or 0)
        except DatabaseError as exc:
            connection.close()
            log.warning("read replica unavailable, reading from the primary: %s", str(exc).strip().splitlines()[0])
            return False, None
        if lag > settings.REPLICA_MAX_LAG_SECONDS:
            log.warning("read replica %.1fs behind (bound %.1fs), reading from the primary", lag, settings.REPLICA_MAX_LAG_SECONDS)
            return False, lag
        return True, lag


health = _Health()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _allowed.get() or _wrote.get() or model._meta.app_label not in REPLICA_APPS:
            return "default"
        if connections["default"].in_atomic_block:  # a read inside a write transaction sees that transaction
            return "default"
        if not health.check():
            return "default"
        _used.set(True)
        return REPLICA

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """Opens replica reads for the opted-in views, and pins a visitor who just wrote to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.views = frozenset(settings.REPLICA_READ_VIEWS)

    def __call__(self, request):
        allowed_token = _allowed.set(False)
        wrote_token = _wrote.set(False)
        used_token = _used.set(False)
        try:
            response = self.get_response(request)
            if _wrote.get():
                # Milliseconds since the epoch: any process of any variant can compare it with its clock.
                until = int((time.time() + settings.REPLICA_PIN_SECONDS) * 1000)
                response.set_cookie(
                    PIN_COOKIE,
                    str(until),
                    max_age=int(settings.REPLICA_PIN_SECONDS) + 1,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
            return response
        finally:
            _allowed.reset(allowed_token)
            _wrote.reset(wrote_token)
            _used.reset(used_token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method in ("GET", "HEAD") and match and match.view_name in self.views and not pinned(request):
            _allowed.set(True)
        return None

    def process_exception(self, request, exception):
        """The view failed on a connection error after reading from the replica: if the replica does
        not answer now either, it went away since this process last checked it, and the same GET is
        served again from the primary. Otherwise the error is the primary's (DatabaseUnavailableMiddleware
        answers it). Last in MIDDLEWARE, this runs before every other middleware's process_exception.

        Only GET/HEAD views in REPLICA_READ_VIEWS read from the replica, and only before they write (a
        write sends every later read to the primary), so running the view again repeats no write.
        """
        if not (_allowed.get() and _used.get() and isinstance(exception, (OperationalError, InterfaceError))):
            return None
        if health.recheck():
            return None
        log.warning("read replica failed mid-request, reading from the primary: %s", type(exception).__name__)
        _allowed.set(False)
        _used.set(False)
        match = request.resolver_match
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
            response = response.render()  # Django renders only the view's own response, not this one
        return response


def pinned(request) -> bool:
    """True while the visitor's last write is younger than REPLICA_PIN_SECONDS."""
    try:
        return int(request.COOKIES.get(PIN_COOKIE, "0")) > time.time() * 1000
    except ValueError:
        return False  # a mangled cookie only costs the pin, never an error
