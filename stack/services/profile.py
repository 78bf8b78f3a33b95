"""`make up PROFILE=production`: the local stack with the production-like scale tier.

The variants reach PostgreSQL (DATABASE_URL) through PgBouncer in transaction mode as the web role,
as the pods reach RDS through RDS Proxy; the migration run connects directly as the owner. REDIS_URL, when set, is passed through
as always. The embedded default (SQLite, per-process cache) stays what `make up` runs without it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .. import StackError
from ..local import PortPlan
from .pgbouncer import PgBouncer


def production_like(database_url: str | None, entry_port: int, migrate_database_url: str | None = None) -> tuple[dict, PgBouncer]:
    """Stack keyword arguments for the pooled profile, and the started pool (stop it with the stack).

    database_url is the variants' login (the web role); the migrations connect directly with
    migrate_database_url (the owner), or database_url when there is no second role.
    """
    if not database_url or not database_url.startswith(("postgres://", "postgresql://")):
        raise StackError("PROFILE=production needs DATABASE_URL=postgres://... (PgBouncer pools PostgreSQL only)")
    web_user = urlsplit(database_url).username
    pool = PgBouncer(database_url, PortPlan(entry_port).pool, users=(web_user,) if web_user else ("postgres",)).start()
    return {
        "database_url": pool.url_for(database_url),
        "migrate_database_url": migrate_database_url or database_url,
        "extra_env": {"DATABASE_POOLED": "1"},
    }, pool
