"""Helpers for the end-to-end tests: a fresh database, a customer placing an order, a staff login."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
import requests

from stack.deploy.builds import copy_app
from stack.http import BROWSER_UA, SEEN, form_fields, staff_login
from stack.postgres import drop_database


def fresh_database(name: str) -> str:
    """Create (or re-create) database `name` on the test server and return its URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.fail("TEST_DATABASE_URL is not set: run the tests with `make test`")
    return drop_database(base, name, create_again=True)


def place_order(session: requests.Session, base: str, name: str) -> tuple[str, str]:
    """The customer's path: GET the form, POST it with its tokens, follow to the confirmation.
    Returns (reference, variant that served it)."""
    session.headers["User-Agent"] = BROWSER_UA  # a customer's browser (the app counts no HTTP library)
    form = session.get(f"{base}/order/", timeout=10)
    assert form.status_code == 200, form.text[:300]
    seen = SEEN.search(form.text)  # what the page's script fetches in a browser
    if seen:
        session.get(f"{base}{seen.group(1)}", timeout=10)
    fields = form_fields(form.text)
    pizza = re.search(r'name="pizza" value="(\d+)"', form.text).group(1)
    data = {
        **fields,
        "pizza": pizza,
        "size": "medium",
        "quantity": "1",
        "customer_name": name,
        "phone": "+4520304050",
        "address": "Test Street 1",
        "comments": "",
    }
    done = session.post(f"{base}/order/", data=data, headers={"Referer": f"{base}/order/"}, timeout=10)
    assert done.status_code == 200 and done.history and done.history[0].status_code == 303, done.text[:300]
    reference = re.search(r'class="reference">([A-Z0-9]+)<', done.text).group(1)
    return reference, done.headers["X-Pizza-Variant"]


def staff_session(base: str, password: str = "e2e-staff-password") -> requests.Session:
    return staff_login(base, "staff", password)


def broken_copy(tmp_path: Path, source: Path) -> Path:
    """A build of the app whose code fails at start-up (an import-time error), like a bad release."""
    target = copy_app(tmp_path / "broken-app", source)
    urls = target / "config" / "urls.py"
    urls.write_text(urls.read_text() + f"\nraise RuntimeError('broken build: ' + {uuid.uuid4().hex[:6]!r})\n")
    return target
