"""Fixtures for the workflow tests (helpers live in workflow_support.py)."""

from __future__ import annotations

import pytest

from workflow_support import load_workflow


@pytest.fixture(scope="session")
def deploy() -> dict:
    return load_workflow("deploy.yml")


@pytest.fixture(scope="session")
def terraform_workflow() -> dict:
    return load_workflow("terraform.yml")


@pytest.fixture(scope="session")
def ci() -> dict:
    return load_workflow("ci.yml")
