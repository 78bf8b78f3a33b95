"""What /readyz says: this pod can serve. Its code started and the schema holds every migration
that code needs.

The schema is checked against the database until the check first passes, then the answer is
cached: the schema only grows, so a database outage or failover later does not make the pod
unready. (If it did, every pod of A, B and C would go unready at once, the ALB would deregister
them all and answer its own bare 503, and recovery would wait for more health-check rounds.)
During an outage the app answers 503 + Retry-After itself (DatabaseUnavailableMiddleware). A
schema found behind the code at run time (a ProgrammingError) forgets the cached answer.
"""

from __future__ import annotations

import threading

from django.db import DEFAULT_DB_ALIAS, connections

from . import metrics
from .schema import pending_plan

_lock = threading.Lock()
_schema_ready = False  # once every known migration is applied it stays so: the schema only grows


def database_ok() -> str | None:
    """None when the database answers, else why not."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # any driver error means "not ready", never a 500
        connections[DEFAULT_DB_ALIAS].close()
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__}: {first_line}"


def missing_migrations() -> list[str]:
    """Migrations this code knows that the database has not applied. A database ahead is fine."""
    global _schema_ready
    if _schema_ready:
        return []
    with _lock:
        missing = [f"{m.app_label}.{m.name}" for m in pending_plan(DEFAULT_DB_ALIAS)]
        _schema_ready = not missing
        return missing


def reset() -> None:
    """Forget a positive result (a schema found behind the code; tests roll the schema back and forth)."""
    global _schema_ready
    _schema_ready = False


def check() -> tuple[bool, dict]:
    if _schema_ready:
        # Cached: no database round trip, so a slow or failing-over database cannot fail the probe.
        metrics.readiness_checked("ready")
        return True, {"migrations": {"ok": True, "missing": [], "cached": True}}
    checks: dict[str, object] = {}
    problem = database_ok()
    if problem:
        checks["database"] = {"ok": False, "error": problem}
        checks["migrations"] = {"ok": False, "error": "not checked: no database"}
        metrics.readiness_checked("database")
        return False, checks
    checks["database"] = {"ok": True}
    try:
        missing = missing_migrations()
    except Exception as exc:
        checks["migrations"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        metrics.readiness_checked("migrations")
        return False, checks
    checks["migrations"] = {"ok": not missing, "missing": missing}
    metrics.readiness_checked("migrations" if missing else "ready")
    return not missing, checks
