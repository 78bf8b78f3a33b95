"""Parsed copies of terraform/ for the static tests (python-hcl2; nothing is downloaded or applied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.terraform.terraform_support import TERRAFORM_DIR, Stack, load_stack, load_tfvars  # noqa: F401


@pytest.fixture(scope="session")
def terraform_dir() -> Path:
    return TERRAFORM_DIR


@pytest.fixture(scope="session")
def main_stack() -> Stack:
    return load_stack(TERRAFORM_DIR)


@pytest.fixture(scope="session")
def bootstrap_stack() -> Stack:
    return load_stack(TERRAFORM_DIR / "bootstrap")


@pytest.fixture(scope="session")
def tfvars(repo_root) -> dict[str, dict]:
    return {env: load_tfvars(repo_root / "environments" / env / "terraform.tfvars") for env in ("dev", "qa", "prod")}


@pytest.fixture(scope="session")
def backend_configs(repo_root) -> dict[str, dict]:
    return {env: load_tfvars(repo_root / "environments" / env / "backend.hcl") for env in ("dev", "qa", "prod")}
