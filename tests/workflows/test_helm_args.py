"""One implementation turns variants.yaml into helm arguments: `python -m stack.deploy.releases
--release <name> --format helm-args`. ci.yml's chart and kind-install steps run here as written,
against a stand-in helm, and every release's helm call must carry exactly those arguments; the
deploy's roll-release.sh is run the same way in test_roll_release.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from config.variants import ENVIRONMENTS
from stack.deploy.releases import helm_args, releases
from tests.workflows.stand_ins import install
from workflow_support import REPO_ROOT, SCRIPTS_DIR, VENV_BIN, WORKFLOWS_DIR

STAND_IN_HELM = r"""#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
"""
HELM_ARGS_CALL = 'python -m stack.deploy.releases --env "$DEPLOY_ENV" --release "$name" --format helm-args'


def ci_step(ci: dict, job: str, marker: str) -> dict:
    return next(step for step in ci["jobs"][job]["steps"] if marker in step.get("run", ""))


def run_step(script: str, tmp_path: Path, env: dict[str, str]) -> list[list[str]]:
    """A workflow `run:` script as GitHub runs it (bash -eo pipefail), in a checkout-like directory,
    with stand-ins for helm and kubectl; returns helm's calls."""
    work = tmp_path / "checkout"
    work.mkdir(parents=True)
    for name in ("stack", "app", "chart", "environments"):
        (work / name).symlink_to(REPO_ROOT / name)
    bin_dir = install(tmp_path / "bin", {"helm": STAND_IN_HELM, "kubectl": "#!/bin/sh\nexit 0\n"})
    log = tmp_path / "helm.log"
    log.write_text("")
    env_vars = {
        **os.environ,
        # `python` as setup-python and the runtime lock give the job.
        "PATH": f"{bin_dir}:{VENV_BIN}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "FAKE_LOG": str(log),
        **env,
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=work,
        env=env_vars,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def contains_run(call: list[str], run: list[str]) -> bool:
    return any(call[i : i + len(run)] == run for i in range(len(call) - len(run) + 1))


def test_the_chart_job_lints_and_renders_each_release_with_its_helm_args(ci, tmp_path):
    job = ci["jobs"]["chart"]
    assert job["strategy"]["matrix"]["environment"] == list(ENVIRONMENTS)
    step = ci_step(ci, "chart", "helm lint")
    assert step["env"]["DEPLOY_ENV"] == "${{ matrix.environment }}"
    for env in ENVIRONMENTS:
        calls = run_step(step["run"], tmp_path / env, {"DEPLOY_ENV": env})
        listed = releases(env)
        assert [c[0] for c in calls] == ["lint", "template"] * len(listed)
        for release, lint, template in zip(listed, calls[::2], calls[1::2], strict=True):
            assert lint[:3] == ["lint", "--strict", "./chart"] and template[:3] == ["template", release["name"], "./chart"]
            for call in (lint, template):
                assert contains_run(call, helm_args(release)), (env, release["name"], call)
                assert call[call.index("--namespace") + 1] == release["namespace"]


def test_the_kind_job_installs_each_dev_release_with_its_helm_args_and_the_kind_values(ci, tmp_path):
    job = ci["jobs"]["kind-install"]
    step = ci_step(ci, "kind-install", "helm test")
    calls = run_step(step["run"], tmp_path, {"DEPLOY_ENV": job["env"]["DEPLOY_ENV"]})
    listed = releases(job["env"]["DEPLOY_ENV"])
    upgrades = [c for c in calls if c[0] == "upgrade"]
    assert [c[2] for c in upgrades] == [r["name"] for r in listed], "schema owner first, every release"
    assert [c[1] for c in calls if c[0] == "test"] == [r["name"] for r in listed]
    for release, upgrade in zip(listed, upgrades, strict=True):
        own = helm_args(release)
        assert contains_run(upgrade, own), upgrade
        # kind-values.yaml layers over the environment's values file (Helm applies -f files in order).
        files = [upgrade[i + 1] for i, a in enumerate(upgrade) if a == "-f"]
        assert files == [*release["valuesFiles"], "chart/ci/kind-values.yaml"]
        allowed = contains_run(upgrade, ["--set", "migrations.allowContract=true"])
        assert allowed is release["schemaOwner"], release["name"]


@pytest.mark.parametrize("path", [*sorted(WORKFLOWS_DIR.glob("*.yml")), *sorted(SCRIPTS_DIR.iterdir())], ids=lambda p: p.name)
def test_no_workflow_or_script_builds_release_arguments_itself(path):
    text = path.read_text()
    # The old copies: jq turning .set into --set flags and .valuesFiles into -f.
    assert "to_entries" not in text, path.name
    assert not re.search(r"\.(set|setFiles|valuesFiles)\b", text), f"{path.name} reads a release's arguments from the JSON list"


def test_every_caller_reads_its_release_arguments_from_stack_deploy_releases(ci):
    for job in ("chart", "kind-install"):
        script = "\n".join(step.get("run", "") for step in ci["jobs"][job]["steps"])
        assert HELM_ARGS_CALL in script and "mapfile -d '' -t values" in script, job
    roll = (SCRIPTS_DIR / "roll-release.sh").read_text()
    assert HELM_ARGS_CALL in roll and "mapfile -d '' -t values" in roll
