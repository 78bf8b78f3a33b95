"""Fixtures for the browser tests: the real local stack (HAProxy + A, B, C on PostgreSQL) and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The stack tests' helpers (a fresh database per run) are the one home of that logic.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))
from browser_support import POLL_SECONDS, STAFF_PASSWORD, chromium  # noqa: E402

from stack.local.ports import port_of  # noqa: E402
from stack_support import fresh_database, started_stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """A, B and C behind HAProxy on a database of their own, in the test run's "browser" block (it
    lives for the whole session, beside the stack tests' own blocks: stack/local/ports.py TEST_PORTS)."""
    entry = port_of("browser")
    database_url = fresh_database(os.environ.get("TEST_DATABASE_NAME", "pizza_test") + "_browser")
    with started_stack(
        tmp_path_factory.mktemp("browser-stack"),
        entry,
        database_url,
        staff_password=STAFF_PASSWORD,
        extra_env={"STATUS_POLL_SECONDS": str(POLL_SECONDS)},
    ) as running:
        # The suite walks the kitchen's and marketing's pages with one login: give it both (the admin role).
        running.manage("ensure_staff", "--username", "staff", "--role", "admin")
        yield running


@pytest.fixture(scope="session")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies) per test, at desktop size unless the test resizes it."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def db(stack):
    """A psycopg2 connection to the stack's database, for checking what the browser really stored."""
    import psycopg2

    conn = psycopg2.connect(stack.database_url)
    conn.autocommit = True
    yield conn
    conn.close()
