"""Shared helpers for the cross-cutting tests (chart, terraform, workflows, image, local stack)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from config.variants import ENVIRONMENTS, load_variants

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def env_name(request) -> str:
    """Every environment in turn: dev, qa, prod."""
    return request.param


@pytest.fixture(scope="session")
def variant_sets():
    return {env: load_variants(env) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def chart():
    """chart/ loaded once per session with Helm's own engine (helm-python-sdk): tests/chart renders
    its releases, tests/crosslayer deploys them through the model."""
    import helm_python

    loaded = helm_python.Chart.load(str(REPO_ROOT / "chart"))
    yield loaded
    loaded.close()


def checkov_binary() -> str:
    """checkov lives in its own virtual environment (see the Makefile); a missing one is an error."""
    candidates = [os.environ.get("CHECKOV"), str(REPO_ROOT / ".venv-checkov" / "bin" / "checkov"), shutil.which("checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("checkov is not installed: run `make .venv-checkov/.installed` (make test does it)")


def _run_checkov(config: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [checkov_binary(), "--config-file", str(config), "--quiet", "--compact", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=900)


@pytest.fixture(scope="session")
def run_checkov():
    """Run checkov with a config file (the one file that lists each skip beside its reason), then args.
    A fixture, not an import: `from tests.conftest import ...` loads this file a second time."""
    return _run_checkov


def pytest_collection_modifyitems(items):
    from tests.quarantine import reason_for

    # checkov takes tens of seconds per run: whatever uses it is `slow`, out of `make check`.
    for item in items:
        reason = reason_for(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.quarantine(reason=reason))
        if "run_checkov" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
