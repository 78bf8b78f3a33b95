"""Cluster tests (pytest-helm-charts): they run in ci.yml's kind job against the three dev releases
it installed, and are collected and skipped anywhere no cluster is reachable (make test here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SKIP = "no Kubernetes cluster reachable (ci.yml's kind job runs these with --kube-config)"


@pytest.fixture(scope="module")
def cluster(request):
    """pytest-helm-charts' kube_cluster, or a skip with one line when there is no cluster."""
    path = request.config.getoption("--kube-config", default=None) or os.environ.get("KUBECONFIG")
    if not path or not Path(path).is_file() or not shutil.which("kubectl"):
        pytest.skip(SKIP)
    try:
        kube = request.getfixturevalue("kube_cluster")
        kube.kube_client.version  # noqa: B018  (one round trip: is the API server there?)
    except Exception as exc:  # unreachable API server, bad credentials
        pytest.skip(f"{SKIP}: {type(exc).__name__}")
    return kube
