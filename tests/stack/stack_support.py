"""Helpers for the end-to-end tests: a fresh database, a started stack, a harness run, a customer
placing an order, a staff login."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from stack.deploy.builds import copy_app
from stack.http import BROWSER_UA, SEEN, form_fields, staff_login
from stack.local import PortPlan, Stack
from stack.postgres import drop_database

REPO_ROOT = Path(__file__).resolve().parents[2]


def fresh_database(name: str) -> str:
    """Create (or re-create) database `name` on the test server and return its URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.fail("TEST_DATABASE_URL is not set: run the tests with `make test`")
    return drop_database(base, name, create_again=True)


@contextmanager
def started_stack(state_dir: Path, entry: int, database_url: str, staff_password: str = "e2e-staff-password", **options) -> Iterator[Stack]:
    """A, B and C behind HAProxy (port base `entry`) on `database_url`, started with a staff login
    and stopped on the way out; `options` go to Stack (one worker and four threads unless given)."""
    running = Stack(
        env="dev",
        state_dir=state_dir,
        ports=PortPlan(entry),
        database_url=database_url,
        quiet=True,
        **{"workers": 1, "threads": 4, **options},
    )
    try:
        running.start(staff_password=staff_password)
        yield running
    finally:
        running.stop()


def run_harness(module: str, port: str, report: Path, timeout: float) -> tuple[subprocess.CompletedProcess, dict, int]:
    """`python -m <module> --short --port <port> --report <report>` from the repository root: its
    run, its JSON report and its pid (which names the network namespace it made, if any). Fails the
    test, with the run's output, when it wrote no report."""
    popen = subprocess.Popen(
        [sys.executable, "-m", module, "--short", "--port", port, "--report", str(report)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.communicate()
        raise
    run = subprocess.CompletedProcess(popen.args, popen.returncode, stdout, stderr)
    if not report.exists():
        pytest.fail(f"{module} wrote no report (exit {run.returncode}):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")
    return run, json.loads(report.read_text()), popen.pid


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
