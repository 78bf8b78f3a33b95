"""The release script (.github/scripts/roll-release.sh) run against a fake helm: every release
upgraded with wait and rollback then tested, the refusals before helm, and the contract check's
running-migrations script. The workflow that calls it: test_deploy_workflow.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stack.deploy.releases import helm_args
from tests.workflows.stand_ins import install
from workflow_support import REPO_ROOT, SCRIPTS_DIR, VENV_BIN, expected_releases, stack_releases

ROLL = SCRIPTS_DIR / "roll-release.sh"
TARGET_GROUPS = {v: f"arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/pizza-{v}/0" for v in "abcde"}
DATABASE_HOST = "pizza-dev.abcdefghijkl.eu-west-1.rds.amazonaws.com"
PROXY_HOST = "pizza-dev.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com"
IMAGE_DIGEST = "sha256:" + "0f" * 32


# --- The release script, run against a fake helm ------------------------------------------------

FAKE_HELM = r"""#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(["helm", *sys.argv[1:]]) + "\n")
command = sys.argv[1]
if command == "upgrade":
    sys.exit(int(os.environ.get("FAKE_UPGRADE_RC", "0")))
if command == "test":
    sys.exit(int(os.environ.get("FAKE_TEST_RC", "0")))
if command == "history":
    print(json.dumps([{"revision": int(os.environ.get("FAKE_REVISION", "3")), "chart": "pizza-1.0.0"}]))
"""


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    return install(tmp_path / "bin", {"helm": FAKE_HELM, "kubectl": "#!/bin/sh\nexit 0\n"})


def roll(release: dict, fake_bin: Path, tmp_path: Path, **fake) -> tuple[int, list[list[str]], str]:
    log, summary = tmp_path / "helm.log", tmp_path / "summary.md"
    log.write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if k != "CONTRACT_CHECKED"},
        # `python` as setup-python gives the job: the runtime lock installed (stack.deploy.releases).
        "PATH": f"{fake_bin}:{VENV_BIN}:{os.environ['PATH']}",
        "DEPLOY_ENV": Path(release["valuesFiles"][0]).parent.name,
        "FAKE_LOG": str(log),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RELEASE": json.dumps(release),
        "IMAGE_REPOSITORY": "000000000000.dkr.ecr.eu-west-1.amazonaws.com/pizza",
        "IMAGE_TAG": "0123456789abcdef0123456789abcdef01234567",
        "IMAGE_DIGEST": IMAGE_DIGEST,
        "TARGET_GROUP_ARNS": json.dumps(TARGET_GROUPS),
        "DATABASE_HOST": DATABASE_HOST,
        "ALB_SUBNET_CIDRS": '["10.0.48.0/24"]',
        "DATABASE_SUBNET_CIDRS": '["10.0.52.0/24"]',
        "PUBLIC_HOST": "pizza.example.com",
        "PUBLIC_SCHEME": "https",
        "SITE_URL": "https://pizza.example.com",
        "DATABASE_PROXY_HOST": PROXY_HOST,
        "DATABASE_REPLICA_HOST": "",
        "CACHE_SUBNET_CIDRS": '["10.0.52.0/24"]',
        **fake,
    }
    done = subprocess.run(["bash", str(ROLL)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return done.returncode, calls, summary.read_text() if summary.exists() else ""


@pytest.mark.slow  # the real roll script per environment
def test_every_release_is_upgraded_with_wait_rollback_its_values_and_then_tested(env_name, fake_bin, tmp_path):
    upgraded = []
    for release in stack_releases(env_name):
        rc, calls, summary = roll(release, fake_bin, tmp_path)
        assert rc == 0, calls
        upgrade = calls[0]
        assert upgrade[:5] == ["helm", "upgrade", "--install", release["name"], "./chart"]
        assert upgrade[upgrade.index("--namespace") + 1] == release["namespace"]
        assert "--rollback-on-failure" in upgrade and "--atomic" not in upgrade
        # The values files and per-release flags are stack.deploy.releases' helm-args, in order.
        own = helm_args(release)
        start = upgrade.index("-f")
        assert upgrade[start : start + len(own)] == own
        assert f"variantsFile=environments/{env_name}/variants.yaml" in own
        assert any(a.startswith("--wait") for a in upgrade)
        sets = [upgrade[i + 1] for i, a in enumerate(upgrade) if a in ("--set", "--set-string")]
        assert f"migrations.enabled={str(release['schemaOwner']).lower()}" in [s.lower() for s in sets]
        assert f"theme={release['theme']}" in sets
        assert f"image.tag={'0123456789abcdef0123456789abcdef01234567'}" in sets
        assert f"image.digest={IMAGE_DIGEST}" in sets, "every release runs the resolved digest"
        assert f"targetGroupBinding.targetGroupARN={TARGET_GROUPS[release['variant']]}" in sets
        # The pods through RDS Proxy, the migration hook straight to the instance.
        assert f"database.host={PROXY_HOST}" in sets and "database.pooled=true" in sets
        assert f"database.directHost={DATABASE_HOST}" in sets
        assert not any(s.startswith("weight=") for s in sets), "the chart has no weight; Terraform's rule holds it"
        assert "migrations.allowContract=true" not in sets, "no contract check ran in this call"
        assert f"environments/{env_name}/values.yaml" == upgrade[upgrade.index("-f") + 1]
        assert calls[1][:3] == ["helm", "test", release["name"]]
        assert f"| {release['name']} | {release['variant']} | {release['theme']} | 0123456789ab" in summary
        assert "| 3 | passed |" in summary  # revision and helm test result
        upgraded.append(release["name"])
    assert upgraded == [name for name, *_ in expected_releases(env_name)]


def test_a_release_that_does_not_become_ready_fails_the_job_and_is_not_tested(fake_bin, tmp_path):
    release = stack_releases("dev")[0]
    rc, calls, summary = roll(release, fake_bin, tmp_path, FAKE_UPGRADE_RC="1")
    assert rc != 0
    assert [c[1] for c in calls] == ["upgrade"]
    assert "failed, rolled back" in summary


def test_a_failing_helm_test_rolls_back_to_the_previous_revision_and_fails(fake_bin, tmp_path):
    release = stack_releases("dev")[-1]
    rc, calls, summary = roll(release, fake_bin, tmp_path, FAKE_TEST_RC="1", FAKE_REVISION="5")
    assert rc != 0
    assert ["helm", "rollback", release["name"]] == calls[-1][:3]
    assert "FAILED" in summary


def upgrade_sets(calls: list[list[str]]) -> list[str]:
    upgrade = calls[0]
    return [upgrade[i + 1] for i, a in enumerate(upgrade) if a in ("--set", "--set-string")]


@pytest.mark.parametrize(
    "missing", ["ALB_SUBNET_CIDRS", "DATABASE_SUBNET_CIDRS", "CACHE_SUBNET_CIDRS", "PUBLIC_HOST", "SITE_URL", "DATABASE_PROXY_HOST"]
)
def test_missing_network_ranges_or_public_host_stop_before_helm(missing, fake_bin, tmp_path):
    # An empty range would render a NetworkPolicy that cuts the pods off (or, for the ALB, opens them).
    rc, calls, _ = roll(stack_releases("dev")[0], fake_bin, tmp_path, **{missing: "[]" if "CIDRS" in missing else ""})
    assert rc != 0 and calls == []


@pytest.mark.slow  # the real roll script per environment
def test_only_the_schema_owner_after_a_passed_contract_check_may_apply_contract_steps(env_name, fake_bin, tmp_path):
    for release in stack_releases(env_name):
        rc, calls, _ = roll(release, fake_bin, tmp_path, CONTRACT_CHECKED="true")
        assert rc == 0, calls
        allowed = "migrations.allowContract=true" in upgrade_sets(calls)
        assert allowed is release["schemaOwner"], release["name"]
    owner = stack_releases(env_name)[0]
    for checked in ("", "false"):
        rc, calls, _ = roll(owner, fake_bin, tmp_path, CONTRACT_CHECKED=checked)
        assert rc == 0 and "migrations.allowContract=true" not in upgrade_sets(calls)


# (what the release says, what the job's environment says): each stops the script before any helm call.
REFUSED = {
    "a missing deploy env": ({}, {"DEPLOY_ENV": ""}),
    # stack.deploy.releases refuses the name: no upgrade with half its arguments.
    "a release the environment does not list": ({"name": "pizza-x"}, {}),
    # A tag alone could name another image later (or in another environment's repository).
    "no digest": ({}, {"IMAGE_DIGEST": ""}),
    "a tag for a digest": ({}, {"IMAGE_DIGEST": "latest"}),
    "a truncated digest": ({}, {"IMAGE_DIGEST": "sha256:0123"}),
    "a missing database host": ({}, {"DATABASE_HOST": ""}),
    "a variant without a target group": ({"variant": "z"}, {}),
}


@pytest.mark.parametrize("release_change, env_change", REFUSED.values(), ids=REFUSED.keys())
def test_an_incomplete_release_stops_before_helm(release_change, env_change, fake_bin, tmp_path):
    rc, calls, _ = roll({**stack_releases("dev")[0], **release_change}, fake_bin, tmp_path, **env_change)
    assert rc != 0 and calls == []


# --- The contract check before the owner's upgrade ----------------------------------------------

FAKE_HELM_VALUES = r"""#!/usr/bin/env python3
import json, os, sys
tags = json.loads(os.environ["FAKE_TAGS"])
if sys.argv[1:3] == ["get", "values"] and sys.argv[3] in tags:
    print(json.dumps({"image": {"tag": tags[sys.argv[3]]}}))
    sys.exit(0)
sys.exit(1)  # release not installed
"""


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_running_migrations_names_the_newest_migration_each_installed_release_knows(fake_bin, tmp_path):
    repo = tmp_path / "repo"
    for path in (
        "app/orders/migrations/0001_initial.py",
        "app/orders/migrations/0002_expand.py",
        "app/experiment/migrations/0001_initial.py",
        "app/orders/migrations/__init__.py",
    ):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text("")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "old")
    old = git(repo, "rev-parse", "HEAD")
    (repo / "app/orders/migrations/0003_contract.py").write_text("")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "new")
    new = git(repo, "rev-parse", "HEAD")
    install(fake_bin, {"helm": FAKE_HELM_VALUES})
    releases = tmp_path / "releases.json"
    releases.write_text(json.dumps(stack_releases("dev")))
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "FAKE_TAGS": json.dumps({"pizza-a": new, "pizza-b": old})}
    done = subprocess.run(
        ["bash", str(SCRIPTS_DIR / "running-migrations.sh"), str(releases)], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # pizza-c is not installed yet: nothing of it is running, so it constrains nothing.
    assert done.stdout.strip() == "a=experiment.0001_initial,a=orders.0003_contract,b=experiment.0001_initial,b=orders.0002_expand"


def test_the_contract_check_command_of_the_workflow_runs_without_a_database(deploy, tmp_path):
    step = [s for s in deploy["jobs"]["deploy-owner"]["steps"] if "--check-contract" in s.get("run", "")][0]
    assert "running-migrations.sh releases.json" in step["run"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": re.search(r"SECRET_KEY=(\S+)", step["run"]).group(1),
        "DATABASE_URL": f"sqlite:///{tmp_path}/contract-check.db",
        "DEPLOY_ENV": "dev",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate_safely", "--check-contract", "--running", ""],
        cwd=REPO_ROOT / "app",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "contract check passed" in done.stdout, done.stdout + done.stderr
