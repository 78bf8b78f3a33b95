"""What /readyz checks: the database answers and every migration this code knows is applied."""

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
    """Forget a positive result (tests roll the schema back and forth)."""
    global _schema_ready
    _schema_ready = False


def check() -> tuple[bool, dict]:
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
