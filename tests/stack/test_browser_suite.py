"""The browser suite (tests/browser) as one test of `make test`, run in a pytest process of its own.

Playwright's sync API runs an asyncio event loop in the thread that drives it; while it lives, Django
sees a running loop and refuses every database call of the tests that follow (SynchronousOnlyOperation).
A child process keeps that loop away from this one whatever the order, -k or failure: nothing of
Playwright ever runs here. `make browser` runs the same suite directly.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# The suite takes about two minutes here; a hung browser must not hold `make test` for ever.
TIMEOUT_SECONDS = 1800
# A failure shows this much of the child's report: its summary and the failing assertions.
TAIL_LINES = 300


def run_browser_suite(repo_root: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", "-m", "browser and not quarantine", "tests/browser"]
    # The same environment: TEST_DATABASE_URL, TEST_DATABASE_NAME, PIZZA_TEST_PORT (the suite's stack
    # takes +500..+599, a block no test of this process uses) and CHROMIUM.
    return subprocess.run(command, cwd=repo_root, env=os.environ.copy(), capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def test_the_browser_suite_passes_in_a_process_of_its_own(repo_root):
    result = run_browser_suite(repo_root)
    output = (result.stdout + result.stderr).splitlines()
    if result.returncode != 0:
        pytest.fail(f"`pytest tests/browser` exited {result.returncode}:\n" + "\n".join(output[-TAIL_LINES:]), pytrace=False)
    # Exit 0 with nothing collected would prove nothing: the suite ran and its tests passed.
    summary = output[-1] if output else ""
    assert " passed" in summary and "skipped" not in summary, summary
    # What Django's async_unsafe checks before every database call: no event loop runs in this process.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
