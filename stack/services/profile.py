"""`make up PROFILE=production`: the local stack with the production-like scale tier.

The variants reach PostgreSQL (DATABASE_URL) through PgBouncer in transaction mode, as the pods reach
RDS through RDS Proxy; the migration run connects directly. REDIS_URL, when set, is passed through
as always. The embedded default (SQLite, per-process cache) stays what `make up` runs without it.
"""

from __future__ import annotations

from .. import StackError
from ..local import PortPlan
from .pgbouncer import PgBouncer


def production_like(database_url: str | None, entry_port: int) -> tuple[dict, PgBouncer]:
    """Stack keyword arguments for the pooled profile, and the started pool (stop it with the stack)."""
    if not database_url or not database_url.startswith(("postgres://", "postgresql://")):
        raise StackError("PROFILE=production needs DATABASE_URL=postgres://... (PgBouncer pools PostgreSQL only)")
    pool = PgBouncer(database_url, PortPlan(entry_port).pool).start()
    return {"database_url": pool.url_for(database_url), "migrate_database_url": database_url,
            "extra_env": {"DATABASE_POOLED": "1"}}, pool
