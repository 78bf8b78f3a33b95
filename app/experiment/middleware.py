"""The visitor cookie and the exposure log: which variant each visitor saw, once per day.

Cost on the hot path: a page view of a visitor this process already recorded today costs no query
(an in-process LRU of keys written); the first view of the day costs one
INSERT ... ON CONFLICT DO NOTHING. POSTs (placing an order) never write here.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import OrderedDict
from datetime import date

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ops import metrics
from orders.services import VISITOR_COOKIE, VISITOR_ID

from .models import Exposure

log = logging.getLogger("pizza.experiment")

COOKIE_MAX_AGE = 365 * 24 * 3600
# Pages that are not part of the customer experience (probes never get here: HealthMiddleware answers first).
UNTRACKED_PREFIXES = ("/static/", "/admin/", "/api/", "/staff/", "/accounts/", "/healthz", "/readyz", "/favicon")
# Crawlers, monitors and scripts. curl and wget are the ops scripts' tools: their page views are not visitors.
# An empty User-Agent counts as a script too; real browsers always send one.
BOT_USER_AGENT = re.compile(r"bot|crawl|spider|slurp|curl|wget|headless|lighthouse|probe|health|monitor|uptime", re.I)
SEEN_MAX = 20_000  # keys remembered per process: about 3 MB, far more than one process's daily visitors


class SeenToday:
    """A bounded, thread-safe LRU of (day, visitor, variant) keys this process has already written."""

    def __init__(self, maxsize: int = SEEN_MAX):
        self.maxsize = maxsize
        self._keys: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return True
            return False

    def add(self, key: tuple) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self.maxsize:
                self._keys.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)


seen = SeenToday()


def _insert_sql() -> str:
    table = connection.ops.quote_name(Exposure._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(Exposure._meta.get_field(f).column) for f in ("day", "visitor_id", "variant", "first_seen"))
    # ON CONFLICT DO NOTHING: PostgreSQL and SQLite (the local default) both accept it.
    return f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"


def record_exposure(visitor_id: str, variant: str, now=None) -> bool:
    """Write (today, visitor, variant) once; True when a statement was sent. Never raises on DB errors."""
    now = now or timezone.now()
    day: date = timezone.localdate(now)
    key = (day, visitor_id, variant)
    if key in seen:
        return False
    params = [connection.ops.adapt_datefield_value(day), visitor_id, variant, connection.ops.adapt_datetimefield_value(now)]
    try:
        # One statement, one round trip in autocommit; inside a transaction a savepoint keeps a failure local.
        if connection.in_atomic_block:
            with transaction.atomic():
                _execute(params)
        else:
            _execute(params)
    except DatabaseError as exc:
        log.warning("exposure not recorded: %s", type(exc).__name__, extra={"error": str(exc).strip()[:300]})
        return False
    seen.add(key)
    return True


def _execute(params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), params)
        if cursor.rowcount == 1:  # ON CONFLICT DO NOTHING: count only rows really written
            metrics.exposure_recorded()


def is_bot(request) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return not agent.strip() or bool(BOT_USER_AGENT.search(agent))


def is_tracked_path(path: str) -> bool:
    return not path.startswith(UNTRACKED_PREFIXES)


class VisitorMiddleware:
    """Gives every visitor of a customer page the pz_visitor cookie and records their exposure.

    Only GETs of customer pages are considered; an exposure is a 200 HTML response to a non-bot,
    non-staff visitor while settings.RECORD_EXPOSURES is on. A visitor arriving without the cookie
    is counted on that first response under the id the response sets.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "GET" or not is_tracked_path(request.path_info):
            return self.get_response(request)
        current = request.COOKIES.get(VISITOR_COOKIE, "")
        is_new = not VISITOR_ID.match(current)
        visitor_id = uuid.uuid4().hex if is_new else current
        request.visitor_id = visitor_id
        response = self.get_response(request)
        if is_new:
            response.set_cookie(
                VISITOR_COOKIE, visitor_id, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", secure=request.is_secure(),
            )
        if self._is_exposure(request, response):
            record_exposure(visitor_id, settings.VARIANT)
        return response

    @staticmethod
    def _is_exposure(request, response) -> bool:
        if not getattr(settings, "RECORD_EXPOSURES", True) or response.status_code != 200:
            return False
        if not response.get("Content-Type", "").startswith("text/html") or is_bot(request):
            return False
        user = getattr(request, "user", None)
        # Staff browsing the shop are not customers; the check costs a query only for a logged-in session.
        return not (user is not None and user.is_staff)
