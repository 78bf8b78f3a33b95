"""Two database roles, as in production: the owner migrates, the web role the variants run as
reads and writes rows and is refused any DDL by PostgreSQL itself. Real PostgreSQL, real
manage.py processes (each as its role)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from stack.db_roles import drop_roles, ensure_roles, role_names

APP_DIR = Path(__file__).resolve().parents[2] / "app"
SERVER = os.environ.get("TEST_DATABASE_URL", "")
# slow: six manage.py processes, one of them migrating a fresh database (about ten seconds); make test runs it.
pytestmark = [pytest.mark.skipif(not SERVER, reason="needs TEST_DATABASE_URL (make test sets it)"), pytest.mark.slow]


def manage(database_url: str, *args: str, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    full.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=database_url, **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=APP_DIR, env=full, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def roles():
    database = f"{os.environ.get('TEST_DATABASE_NAME', 'pizza_test')}_roles"
    drop_roles(SERVER, database)
    owner_url, web_url = ensure_roles(SERVER, database)
    yield database, owner_url, web_url
    drop_roles(SERVER, database)


def test_a_web_process_that_tries_to_migrate_is_refused_and_the_owner_migrates(roles):
    _, owner_url, web_url = roles
    refused = manage(web_url, "migrate_safely")
    assert refused.returncode != 0
    assert "permission denied for schema public" in refused.stdout + refused.stderr
    done = manage(owner_url, "migrate_safely")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_web_role_works_rows_but_no_ddl_on_the_owners_tables(roles):
    database, owner_url, web_url = roles
    assert manage(owner_url, "migrate_safely").returncode == 0
    with psycopg2.connect(web_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ('k' || md5(random()::text), 'x', now())"
        )
        cursor.execute("SELECT count(*) FROM orders_order")
        cursor.execute("SELECT nextval(pg_get_serial_sequence('django_migrations', 'id'))")  # sequences: usage
    for ddl, message in [
        ("CREATE TABLE sneaky (id int)", "permission denied for schema public"),
        ("ALTER TABLE django_session ADD COLUMN sneaky int", "must be owner of table django_session"),
        ("DROP TABLE orders_order", "must be owner of table orders_order"),
        ("TRUNCATE django_session", "permission denied for table django_session"),
    ]:
        with psycopg2.connect(web_url) as connection, connection.cursor() as cursor:
            with pytest.raises(psycopg2.Error) as refused:
                cursor.execute(ddl)
            assert message in str(refused.value), ddl
    owner, web = role_names(database)
    with psycopg2.connect(owner_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'orders_order'")
        assert cursor.fetchone() == (owner,)


def test_the_migration_jobs_first_step_makes_the_web_role_and_refuses_the_owner_as_web(roles):
    database, owner_url, _ = roles
    owner, _ = role_names(database)
    done = manage(
        owner_url, "ensure_web_role", WEB_DATABASE_USER=f"{database}_web", WEB_DATABASE_PASSWORD="rotated-password-only-for-this-test"
    )
    assert done.returncode == 0 and f"web role {database}_web: rows only" in done.stdout, done.stderr
    same = manage(owner_url, "ensure_web_role", WEB_DATABASE_USER=owner, WEB_DATABASE_PASSWORD="x")
    assert same.returncode != 0 and "must not be the owner" in same.stderr
    missing = manage(owner_url, "ensure_web_role")
    assert missing.returncode != 0 and "set WEB_DATABASE_USER" in missing.stderr
