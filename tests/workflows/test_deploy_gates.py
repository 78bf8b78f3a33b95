"""The gates around a deploy and an apply: CI must have passed for the commit, prod only from
main, the plan (which embeds the state) never becomes an artifact, and a failure tells Slack what
failed. The scripts run here against stand-ins for `gh` and `curl` (no GitHub, no Slack)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.workflows.stand_ins import install
from workflow_support import REPO_ROOT, SCRIPTS_DIR

# Stand-in gh: answers `gh api <path> --jq <filter>` with the next canned JSON document, through the real jq.
FAKE_GH = r"""#!/usr/bin/env python3
import json, os, subprocess, sys
state = os.environ["FAKE_GH_STATE"]
answers = json.load(open(state))
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
answer = answers.pop(0) if len(answers) > 1 else answers[0]
json.dump(answers, open(state, "w"))
args = sys.argv[1:]
jq = args[args.index("--jq") + 1] if "--jq" in args else "."
sys.exit(subprocess.run(["jq", "-r", jq], input=json.dumps(answer), text=True).returncode)
"""
FAKE_CURL = """#!/bin/sh
echo "$@" >> "$FAKE_CURL_LOG"
for a in "$@"; do case "$a" in @*) cat "${a#@}" >> "$FAKE_CURL_LOG";; esac; done
"""


@pytest.fixture
def fakes(tmp_path: Path):
    return install(tmp_path / "bin", {"gh": FAKE_GH, "curl": FAKE_CURL})


def run(script: str, fakes: Path, tmp_path: Path, answers: list, **env) -> tuple[subprocess.CompletedProcess, list, str]:
    state, gh_log, curl_log = tmp_path / "gh.json", tmp_path / "gh.log", tmp_path / "curl.log"
    state.write_text(json.dumps(answers))
    gh_log.write_text("")
    curl_log.write_text("")
    full = {
        **os.environ,
        "PATH": f"{fakes}:{os.environ['PATH']}",
        "FAKE_GH_STATE": str(state),
        "FAKE_GH_LOG": str(gh_log),
        "FAKE_CURL_LOG": str(curl_log),
        "GITHUB_REPOSITORY": "example-shop/pizza",
        "GITHUB_RUN_ID": "42",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_ACTOR": "jane",
        "CI_POLL_SECONDS": "0",
        **env,
    }
    done = subprocess.run(["bash", str(SCRIPTS_DIR / script)], cwd=tmp_path, env=full, capture_output=True, text=True, timeout=60)
    return done, [json.loads(line) for line in gh_log.read_text().splitlines()], curl_log.read_text()


def ci_runs(*runs: tuple[str, str | None]) -> dict:
    return {"workflow_runs": [{"status": s, "conclusion": c} for s, c in runs]}


SHA = "0123456789abcdef0123456789abcdef01234567"
MAIN = {"SHA": SHA, "DEPLOY_ENV": "prod", "GITHUB_REF": "refs/heads/main"}


def test_a_deploy_goes_ahead_once_ci_succeeded_for_that_commit(fakes, tmp_path):
    done, calls, _ = run(
        "require-ci-success.sh", fakes, tmp_path, [ci_runs(("in_progress", None)), ci_runs(("completed", "success"))], **MAIN
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert len(calls) == 2 and f"head_sha={SHA}" in calls[0][1] and "/workflows/ci.yml/" in calls[0][1]


def test_a_failed_or_cancelled_ci_stops_the_deploy(fakes, tmp_path):
    done, _, _ = run(
        "require-ci-success.sh",
        fakes,
        tmp_path,
        [ci_runs(("completed", "failure"), ("completed", "cancelled"))],
        **{**MAIN, "DEPLOY_ENV": "dev"},
    )
    assert done.returncode == 1
    assert f"CI (ci.yml) did not succeed for {SHA} (cancelled, failure)" in done.stdout


def test_no_ci_run_at_all_stops_the_deploy_after_the_wait(fakes, tmp_path):
    done, _, _ = run("require-ci-success.sh", fakes, tmp_path, [ci_runs()], **{**MAIN, "CI_WAIT_SECONDS": "0"})
    assert done.returncode == 1 and "no successful CI" in done.stdout


def test_prod_deploys_only_from_main(fakes, tmp_path):
    done, calls, _ = run(
        "require-ci-success.sh", fakes, tmp_path, [ci_runs(("completed", "success"))], **{**MAIN, "GITHUB_REF": "refs/heads/feature"}
    )
    assert done.returncode == 1 and "prod deploys only from main" in done.stdout and calls == []
    done, _, _ = run(
        "require-ci-success.sh",
        fakes,
        tmp_path,
        [ci_runs(("completed", "success"))],
        **{**MAIN, "DEPLOY_ENV": "qa", "GITHUB_REF": "refs/heads/feature"},
    )
    assert done.returncode == 0


def test_every_deploy_job_waits_for_the_ci_gate(deploy):
    jobs = deploy["jobs"]

    def ancestors(name: str) -> set[str]:
        needs = jobs[name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*(ancestors(n) for n in needs)) if needs else set()

    for name in jobs:
        if name not in ("ci-passed", "notify"):
            assert "ci-passed" in ancestors(name), f"{name} can run before CI passed"
    assert jobs["ci-passed"]["steps"][-1]["env"]["SHA"] == "${{ github.sha }}"  # the commit being deployed


def test_slack_hears_which_jobs_failed(fakes, tmp_path):
    jobs = {
        "jobs": [
            {"name": "build and push the image", "conclusion": "success"},
            {"name": "roll pizza-b", "conclusion": "failure"},
            {"name": "smoke check through the load balancer", "conclusion": "failure"},
        ]
    }
    done, _, posted = run(
        "notify-failure.sh", fakes, tmp_path, [jobs], WHAT="deploy of abc to qa", SLACK_WEBHOOK_URL="https://hooks.slack.invalid/T0/B0/x"
    )
    assert done.returncode == 0, done.stderr
    assert "deploy of abc to qa failed at: roll pizza-b, smoke check through the load balancer" in posted
    assert "https://github.com/example-shop/pizza/actions/runs/42" in posted


def test_without_a_webhook_the_message_is_printed_and_nothing_posted(fakes, tmp_path):
    done, _, posted = run(
        "notify-failure.sh",
        fakes,
        tmp_path,
        [{"jobs": [{"name": "apply prod", "conclusion": "failure"}]}],
        WHAT="terraform apply of prod",
        SLACK_WEBHOOK_URL="",
    )
    assert done.returncode == 0 and posted == ""
    assert "terraform apply of prod failed at: apply prod" in done.stdout


def test_both_workflows_notify_on_failure_through_the_script(deploy, terraform_workflow):
    for workflow, needed in ((deploy, {"smoke", "deploy-others"}), (terraform_workflow, {"plan", "apply"})):
        notify = workflow["jobs"]["notify"]
        assert notify["if"] == "failure()" and needed <= set(notify["needs"])
        assert any(s.get("run") == ".github/scripts/notify-failure.sh" for s in notify["steps"])


def test_the_saved_plan_is_never_an_artifact(terraform_workflow):
    for job in terraform_workflow["jobs"].values():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/upload-artifact@"):
                paths = step["with"]["path"].split()
                assert "terraform/tfplan" not in paths, "the saved plan embeds the state (generated credentials)"
    apply = terraform_workflow["jobs"]["apply"]
    runs = "\n".join(s.get("run", "") for s in apply["steps"])
    assert 'plans/$GITHUB_RUN_ID.tfplan" tfplan' in runs and "terraform apply -lock-timeout=5m tfplan" in runs
    assert (REPO_ROOT / ".github" / "scripts" / "notify-failure.sh").stat().st_mode & stat.S_IXUSR


def test_the_kind_job_runs_the_cluster_tests_after_installing_the_releases(ci):
    steps = ci["jobs"]["kind-install"]["steps"]
    install = next(i for i, s in enumerate(steps) if "helm upgrade --install each release" in s.get("name", ""))
    cluster = next(i for i, s in enumerate(steps) if "pytest tests/cluster" in s.get("run", ""))
    assert install < cluster and "--kube-config" in steps[cluster]["run"]
    assert (REPO_ROOT / "tests" / "cluster" / "test_kind_releases.py").read_text().count("def test_") == 3
