"""The two database roles: the owner (runs migrations, owns every table) and the web role the
variants connect as (reads and writes rows, no DDL). One home for the SQL, used by the migration
job (`manage.py ensure_web_role`, as the owner) and by the local stack and tests (stack/db_roles.py).

A web process that tries DDL (a migration, CREATE, ALTER, DROP) is refused by PostgreSQL itself:
the web role owns nothing and has no CREATE on the schema.
"""

from __future__ import annotations

from psycopg2 import sql

ROW_RIGHTS = sql.SQL("SELECT, INSERT, UPDATE, DELETE")


def ensure_web_role(cursor, web_user: str, web_password: str, owner: str, database: str, schema: str = "public") -> None:
    """Create or update `web_user` with row rights only, now and on every table `owner` creates later.

    Runs as the owner (on RDS: the master user, a member of rds_superuser, so it may create roles).
    Idempotent: every deploy's migration job runs it, so a rotated password is applied too.
    """
    web, own, db, sch = (sql.Identifier(n) for n in (web_user, owner, database, schema))
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [web_user])
    if cursor.fetchone():
        # Only the password may change (touching SUPERUSER and the like needs a superuser).
        cursor.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(web, sql.Literal(web_password)))
    else:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(web, sql.Literal(web_password)))
    # Nobody but the owner creates objects in the schema (PostgreSQL 15+ already says so; older ones did not).
    cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sch))
    cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, web))
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sch, web))
    cursor.execute(sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(ROW_RIGHTS, sch, web))
    cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sch, web))
    # Tables and sequences the owner's migrations create from now on.
    cursor.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON TABLES TO {}").format(own, sch, ROW_RIGHTS, web))
    cursor.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(own, sch, web)
    )
