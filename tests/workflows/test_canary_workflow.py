"""The deploy's canary steps: .github/scripts/canary-release.sh and where deploy.yml runs it.

No cluster or AWS here: helm and kubectl are stand-ins that log their arguments, and Prometheus is a
stand-in HTTP server answering the analysis's queries with fixed counts (the queries themselves are
evaluated by Prometheus's real engine in tests/deploy/test_canary_analysis.py). The analysis that
runs is the real stack.deploy.analysis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stack.deploy.analysis import SERIES, selectors
from stack.local.ports import port_of
from tests.workflows.stand_ins import install
from workflow_support import REPO_ROOT, SCRIPTS_DIR, stack_releases

CANARY_SCRIPT = SCRIPTS_DIR / "canary-release.sh"
NEW, OLD = "0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98"
NEW_DIGEST = "sha256:" + "ab" * 32  # what the build job resolved for NEW: the canary runs by digest too
FAKE_PORT = port_of("canary_prometheus")  # this run's own port for it

FAKE_HELM = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["helm", *sys.argv[1:]]) + "\\n")
if sys.argv[1:3] == ["get", "values"]:
    print(json.dumps({"image": {"tag": os.environ["FAKE_STABLE_TAG"]}} if os.environ.get("FAKE_STABLE_TAG") else {}))
"""
FAKE_KUBECTL = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["kubectl", *sys.argv[1:]]) + "\\n")
if "get" in sys.argv:
    print(3, end="")  # ready stable replicas
"""

HEALTHY = {
    "requests": 1000,
    "errors": 0,
    "order_posts": 300,
    "order_errors": 0,
    "refusals": {},
    "orders": 300,
    "exposures": 200,
    "latency": {"0.1": 300, "+Inf": 300},
}
CANARY_OK = {**HEALTHY, "requests": 400, "order_posts": 120, "orders": 120, "exposures": 80, "latency": {"0.1": 120, "+Inf": 120}}
CANARY_BAD = {**CANARY_OK, "errors": 24, "order_errors": 24, "orders": 96}


def answers(release: str, canary: dict, stable: dict) -> dict[str, list]:
    """query -> Prometheus result rows, for every query PrometheusSource sends for this release."""
    table = {}
    for selector, counts in zip(selectors(release), (canary, stable), strict=False):
        for series in SERIES:
            value = counts[series.field]
            rows = (
                [{"metric": {series.by: k}, "value": [0, str(v)]} for k, v in value.items()]
                if series.by
                else [{"metric": {}, "value": [0, str(value)]}]
            )
            table[series.promql(selector, "1s")] = rows
    return table


@pytest.fixture
def prometheus():
    """A stand-in for the in-cluster Prometheus's /api/v1/query; set .table before use."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["query"][0]
            found = server.table.get(query)
            body = (
                {"status": "success", "data": {"resultType": "vector", "result": found}}
                if found is not None
                else {"status": "error", "error": "unknown query"}
            )
            data = json.dumps(body).encode()
            self.send_response(200 if found is not None else 400)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", FAKE_PORT), Handler)
    server.table = {}
    # shutdown() waits for serve_forever's next poll: 50 ms, not the default half second.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    return install(tmp_path / "bin", {"helm": FAKE_HELM, "kubectl": FAKE_KUBECTL})


def run_canary(release: dict, fake_bin: Path, tmp_path: Path, **env) -> tuple[int, list[list[str]], str, str]:
    log, summary = tmp_path / "calls.log", tmp_path / "summary.md"
    log.write_text("")
    full = {
        **os.environ,
        "PATH": f"{fake_bin}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RELEASE": json.dumps(release),
        "IMAGE_TAG": NEW,
        "IMAGE_DIGEST": NEW_DIGEST,
        "FAKE_STABLE_TAG": OLD,
        "CANARY_STEPS": "10,50",
        "CANARY_INTERVAL": "0",
        "CANARY_EXTENSIONS": "0",
        "PROMETHEUS_LOCAL_PORT": str(FAKE_PORT),
        "PYTHONPATH": str(REPO_ROOT),
        **env,
    }  # the job runs from the checkout, where stack/ is importable
    done = subprocess.run(["bash", str(CANARY_SCRIPT)], check=False, cwd=tmp_path, env=full, capture_output=True, text=True, timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return done.returncode, calls, done.stdout + done.stderr, summary.read_text() if summary.exists() else ""


@pytest.fixture
def chart_here(tmp_path):
    (tmp_path / "chart").symlink_to(REPO_ROOT / "chart")  # the script runs helm on ./chart


def upgrades(calls):
    return [c for c in calls if c[:2] == ["helm", "upgrade"]]


def test_without_canary_steps_nothing_is_touched(fake_bin, tmp_path):
    rc, calls, _, _ = run_canary(stack_releases("dev")[0], fake_bin, tmp_path, CANARY_STEPS="")
    assert rc == 0 and calls == []


def test_a_first_install_or_the_same_image_gets_no_canary(fake_bin, tmp_path):
    for stable in ("", NEW):
        rc, calls, _, _ = run_canary(stack_releases("dev")[0], fake_bin, tmp_path, FAKE_STABLE_TAG=stable)
        assert rc == 0 and not upgrades(calls)


def test_a_good_canary_passes_every_step_with_its_share_of_pods(prometheus, fake_bin, tmp_path, chart_here):
    release = stack_releases("dev")[1]
    prometheus.table = answers(release["name"], CANARY_OK, HEALTHY)
    rc, calls, out, summary = run_canary(release, fake_bin, tmp_path)
    assert rc == 0, out
    steps = upgrades(calls)
    # 3 stable pods: 10% -> 1 canary pod (25%, the nearest above), 50% -> 3.
    assert [next(a for a in c if a.startswith("canary.replicas=")) for c in steps] == ["canary.replicas=1", "canary.replicas=3"]
    for call in steps:
        assert call[2] == release["name"] and "--reset-then-reuse-values" in call and any(a.startswith("--wait") for a in call)
        assert "canary.enabled=true" in call and f"canary.image.tag={NEW}" in call
        assert f"canary.image.digest={NEW_DIGEST}" in call, "the canary runs the digest, not the tag alone"
        assert not any(a.startswith("image.tag=") for a in call), "the stable keeps its image until roll-release.sh"
    assert "passed 10,50%" in summary


def test_a_canary_without_a_digest_stops_before_any_upgrade(fake_bin, tmp_path, chart_here):
    rc, calls, out, _ = run_canary(stack_releases("dev")[1], fake_bin, tmp_path, IMAGE_DIGEST="")
    assert rc != 0 and not upgrades(calls) and "no IMAGE_DIGEST" in out


def test_a_canary_failing_orders_is_scaled_to_zero_at_once_removed_and_the_job_fails(prometheus, fake_bin, tmp_path, chart_here):
    release = stack_releases("dev")[0]
    prometheus.table = answers(release["name"], CANARY_BAD, HEALTHY)
    rc, calls, out, summary = run_canary(release, fake_bin, tmp_path)
    assert rc == 1
    scale = next(i for i, c in enumerate(calls) if c[:1] == ["kubectl"] and "scale" in c)
    assert calls[scale][-2:] == [f"deployment/{release['name']}-canary", "--replicas=0"]
    removal = upgrades(calls)[-1]
    assert calls.index(removal) > scale and "canary.enabled=false" in removal
    assert len(upgrades(calls)) == 2, "stopped at the first step"
    assert f"::error title=Canary of {release['name']} rolled back::step 10%: analysis failed:" in out
    assert "5xx ratio, order POSTs" in out and "rolled back" in summary


def test_deploy_runs_the_canary_before_each_roll_and_after_the_contract_check(deploy):
    for job_name in ("deploy-owner", "deploy-others"):
        runs = [step.get("run", "") for step in deploy["jobs"][job_name]["steps"]]
        canary = next(i for i, r in enumerate(runs) if "canary-release.sh" in r)
        roll = next(i for i, r in enumerate(runs) if "roll-release.sh" in r)
        assert canary < roll, job_name
        step = deploy["jobs"][job_name]["steps"][canary]
        assert step["env"]["CANARY_STEPS"] == "${{ vars.CANARY_STEPS }}"
    owner = deploy["jobs"]["deploy-owner"]["steps"]
    contract = next(i for i, s in enumerate(owner) if s.get("id") == "contract")
    canary = next(i for i, s in enumerate(owner) if "canary-release.sh" in s.get("run", ""))
    assert contract < canary and owner[canary]["env"]["CONTRACT_CHECKED"] == "${{ steps.contract.outputs.passed }}"


def test_the_failure_notice_carries_the_canarys_failed_analysis(deploy):
    notify = deploy["jobs"]["notify"]
    assert notify["permissions"].get("checks") == "read"
    assert set(deploy["jobs"]["notify"]["needs"]) >= {"deploy-owner", "deploy-others"}
    script = next(s["with"]["script"] for s in notify["steps"] if "github-script" in s.get("uses", ""))
    # The prefix the notice looks for is the one the script's error annotation carries.
    prefix = "Canary of"
    assert f"startsWith('{prefix}')" in script and f"::error title={prefix} $name rolled back::" in CANARY_SCRIPT.read_text()
