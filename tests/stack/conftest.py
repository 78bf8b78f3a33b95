"""Fixtures for tests that run the real local stack (HAProxy + gunicorn per variant) on PostgreSQL."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from stack.db_roles import ensure_roles
from stack.local.ports import port_of
from stack.services.pgbouncer import shared_for_tests
from stack_support import fresh_database, started_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A, B and C behind HAProxy on a database of their own, in the test run's "e2e" block (stack/local/ports.py)."""
    # PIZZA_TEST_PORT and TEST_DATABASE_NAME let two test runs share one machine without clashing.
    entry = port_of("e2e")
    database_url = fresh_database(os.environ.get("TEST_DATABASE_NAME", "pizza_test") + "_e2e")
    state = tmp_path_factory.mktemp("stack")
    # Production's two roles: the migration run connects directly as the owner, as the migration job
    # does; the variants as the web role (no DDL) through the PgBouncer twin (transaction mode), as
    # the pods go through RDS Proxy.
    owner_url, web_url = ensure_roles(os.environ["TEST_DATABASE_URL"], database_url.rsplit("/", 1)[1])
    pool = shared_for_tests(os.environ["TEST_DATABASE_URL"])
    pool.allow(urlsplit(web_url).username)
    with started_stack(
        state,
        entry,
        pool.url_for(web_url),
        migrate_database_url=owner_url,
        extra_env={"DATABASE_POOLED": "1"},
    ) as running:
        yield running
