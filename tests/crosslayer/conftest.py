"""Fixtures for the cross-layer tests: the chart, and every environment deployed through the model."""

from __future__ import annotations

import pytest

from tests.crosslayer.deploy_model import deploy_environment


@pytest.fixture(scope="session")
def deployed(chart, tmp_path_factory):
    """env -> the releases the first deploy installs, as tfvars ship them (dev, qa, prod)."""
    cache: dict = {}

    def get(env: str, **tfvars):
        key = (env, tuple(sorted((k, repr(v)) for k, v in tfvars.items())))
        if key not in cache:
            cache[key] = deploy_environment(chart, env, tmp_path_factory.mktemp(f"deploy-{env}"), tfvars or None)
        return cache[key]

    return get
