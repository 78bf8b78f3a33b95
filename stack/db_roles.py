"""The two PostgreSQL roles of production, on a local server: an owner that migrates and a web
role the variants run as (rows only, no DDL). Used by the local stack and the tests, so the web
processes here are refused DDL exactly as the pods are.

    owner_url, web_url = ensure_roles("postgres://postgres@127.0.0.1:5432/postgres", "pizza_x")

The roles are named after the database (pizza_x_owner, pizza_x_web): roles are server-wide and
several test runs share one server. The SQL itself lives in app/ops/db_roles.py (one home).
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from ops.db_roles import ensure_web_role  # noqa: E402


def role_names(database: str) -> tuple[str, str]:
    return f"{database}_owner", f"{database}_web"


def with_credentials(server_url: str, database: str, user: str, password: str) -> str:
    parts = urlsplit(server_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user)}:{quote(password)}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


def ensure_roles(server_url: str, database: str) -> tuple[str, str]:
    """Make `database` owned by a fresh owner role with a web role beside it; return both URLs.

    `server_url` is a superuser connection (the harness's postgres user). The database is created
    when missing. Passwords are new on every call (nothing is stored).
    """
    owner, web = role_names(database)
    owner_password, web_password = secrets.token_hex(16), secrets.token_hex(16)
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [owner])
        verb = sql.SQL("ALTER") if cursor.fetchone() else sql.SQL("CREATE")
        # The owner may create the web role, as RDS's master user (rds_superuser) may.
        cursor.execute(sql.SQL("{} ROLE {} LOGIN CREATEROLE PASSWORD {}").format(verb, sql.Identifier(owner), sql.Literal(owner_password)))
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if not cursor.fetchone():
            cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(owner)))
        else:
            cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(owner)))
    admin.close()
    in_database = psycopg2.connect(urlunsplit(urlsplit(server_url)._replace(path=f"/{database}")))
    in_database.autocommit = True
    with in_database.cursor() as cursor:
        # The schema belongs to the owner, as a fresh RDS database's public schema effectively does to the master user.
        cursor.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    in_database.close()
    owner_url = with_credentials(server_url, database, owner, owner_password)
    as_owner = psycopg2.connect(owner_url)
    as_owner.autocommit = True
    with as_owner.cursor() as cursor:
        ensure_web_role(cursor, web, web_password, owner=owner, database=database)
    as_owner.close()
    return owner_url, with_credentials(server_url, database, web, web_password)


def roles_for(database_url: str) -> tuple[str, str]:
    """ensure_roles for a DATABASE_URL as `make up` takes it (a superuser's URL naming the database)."""
    parts = urlsplit(database_url)
    database = parts.path.lstrip("/")
    if not database:
        raise ValueError(f"DATABASE_URL names no database: {database_url!r}")
    try:
        return ensure_roles(urlunsplit(parts._replace(path="/postgres")), database)
    except psycopg2.Error as exc:
        raise ValueError(
            f"cannot set up the owner and web roles on {database} (DATABASE_URL must be a "
            f"superuser's, e.g. postgres://postgres@127.0.0.1:5432/pizza): {exc}".strip()
        ) from exc


def drop_roles(server_url: str, database: str) -> None:
    """Drop the database and both roles (test clean-up)."""
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        for role in role_names(database)[::-1]:
            cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    admin.close()
