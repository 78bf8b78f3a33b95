"""The dev releases installed in kind (ci.yml's kind job): each ready, its `helm test` passes, and an
order placed through A is seen by B and C (one database behind three releases)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
import uuid
from contextlib import contextmanager

import pytest
from pytest_helm_charts.k8s.deployment import wait_for_deployments_to_run

from stack.deploy.releases import releases

HOST = "pizza.localtest.me"  # chart/ci/kind-values.yaml's allowedHosts
RELEASES = releases("dev")


@contextmanager
def forwarded(release: dict):
    """kubectl port-forward to the release's Service on a free local port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        ["kubectl", "-n", release["namespace"], "port-forward", f"svc/{release['name']}", f"{port}:80"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def call(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Host": HOST, "Accept": "application/json", "Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("release", RELEASES, ids=[r["name"] for r in RELEASES])
def test_each_release_is_ready(cluster, release):
    wait_for_deployments_to_run(cluster.kube_client, [release["name"]], release["namespace"], 300)


@pytest.mark.parametrize("release", RELEASES, ids=[r["name"] for r in RELEASES])
def test_each_release_passes_its_helm_test(cluster, release):
    done = subprocess.run(
        ["helm", "test", release["name"], "--namespace", release["namespace"], "--timeout", "5m"],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_order_placed_through_a_is_seen_by_b_and_c(cluster):
    first, *others = RELEASES
    with forwarded(first) as base:
        _, menu = call(f"{base}/api/v1/menu")
        body = {
            "pizza": menu["pizzas"][0]["id"],
            "size": "small",
            "quantity": 1,
            "customer_name": "Kind",
            "phone": "+4422334455",
            "address": "1 Cluster Road",
        }
        status, created = call(f"{base}/api/v1/orders", body, {"Idempotency-Key": str(uuid.uuid4())})
        assert status == 201
    for release in others:
        with forwarded(release) as base:
            status, seen = call(base + created["status_url"])
            assert status == 200 and seen["reference"] == created["reference"], release["name"]
