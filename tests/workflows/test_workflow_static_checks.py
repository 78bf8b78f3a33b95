"""The workflow files pass GitHub's schema, zizmor and checkov, and follow the hardening rules."""

from __future__ import annotations

import json
import re
import subprocess

import helm_python
import pytest
import yaml

from stack.deploy.releases import deep_merge, expand_set, releases
from workflow_support import GITHUB_DIR, REPO_ROOT, VENV_BIN, WORKFLOW_FILES, WORKFLOWS_DIR, load_workflow

ACTION_REF = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+\.\d+\.\d+\s*$")
NAMES = [p.name for p in WORKFLOW_FILES]


def test_the_three_workflows_exist():
    assert set(NAMES) >= {"ci.yml", "terraform.yml", "deploy.yml"}


@pytest.mark.parametrize("name", NAMES)
def test_workflow_matches_githubs_schema(name):
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOWS_DIR / name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_matches_its_schema_and_covers_pip_and_actions():
    path = GITHUB_DIR / "dependabot.yml"
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.dependabot", path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ecosystems = {u["package-ecosystem"] for u in yaml.safe_load(path.read_text())["updates"]}
    assert {"pip", "github-actions"} <= ecosystems


def test_zizmor_finds_nothing_at_medium_or_above():
    # The auditor persona also reports what the default one hides (unpinned service images,
    # secrets outside an environment); nothing at medium or above may remain.
    result = subprocess.run(
        [VENV_BIN / "zizmor", "--offline", "--persona", "auditor", "--min-severity", "medium", "--format", "json", WORKFLOWS_DIR],
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:4000]


def test_checkov_github_actions_checks_pass(run_checkov):
    result = run_checkov(GITHUB_DIR / ".checkov.yaml", "--framework", "github_actions", "-d", str(GITHUB_DIR), "-o", "json")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    assert reports and all(r.get("check_type") == "github_actions" for r in reports)
    assert sum(r["summary"]["passed"] for r in reports) > 0
    assert failed == [], [(c["check_id"], c["file_path"], c.get("resource")) for c in failed]


def test_every_checkov_skip_has_a_reason_beside_it():
    lines = (GITHUB_DIR / ".checkov.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s+-\s+CKV", line):
            assert lines[i - 1].strip().startswith("#"), f"no reason comment above {line.strip()}"


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(name):
    uses = [ACTION_REF.match(line) for line in (WORKFLOWS_DIR / name).read_text().splitlines()]
    uses = [m for m in uses if m]
    assert uses, "no actions found"
    for match in uses:
        ref = match["ref"].strip("'\"")
        if ref.startswith("./"):
            continue
        assert PINNED.match(ref), f"{ref} is not pinned to a 40-character commit SHA"
        assert VERSION_COMMENT.match(match["comment"]), f"{ref} lacks a '# vX.Y.Z' comment"


def test_the_same_action_is_pinned_to_the_same_sha_everywhere():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOW_FILES:
        for line in path.read_text().splitlines():
            if (m := ACTION_REF.match(line)) and "@" in m["ref"]:
                action, sha = m["ref"].split("@")
                pins.setdefault(action, set()).add(sha)
    assert {a: s for a, s in pins.items() if len(s) > 1} == {}


@pytest.mark.parametrize("name", NAMES)
def test_every_checkout_drops_its_credentials(name):
    workflow = load_workflow(name)
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, job_name


@pytest.mark.parametrize("name", NAMES)
def test_every_job_has_a_timeout(name):
    workflow = load_workflow(name)
    for job_name, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int) and job["timeout-minutes"] <= 60, job_name


@pytest.mark.parametrize("name", NAMES)
def test_permissions_are_least_privilege(name):
    workflow = load_workflow(name)
    assert workflow["permissions"] == {"contents": "read"}
    for job_name, job in workflow["jobs"].items():
        perms = job.get("permissions", {})
        assert "write-all" not in str(perms)
        steps = " ".join(s.get("uses", "") for s in job.get("steps", []))
        assumes_role = "configure-aws-credentials" in steps
        # Only a job that assumes an AWS role through OIDC may mint an id-token.
        assert (perms.get("id-token") == "write") == assumes_role, job_name
        allowed = {
            "contents": "read",
            "id-token": "write",
            "issues": "write",
            "actions": "read",
            "checks": "read",
        }  # checks: the notify job reads a failed canary's annotations
        assert all(allowed.get(k) == v for k, v in perms.items()), (job_name, perms)


def test_only_the_failure_notifier_may_write_issues(deploy):
    writers = [n for n, j in deploy["jobs"].items() if j.get("permissions", {}).get("issues") == "write"]
    assert writers == ["notify"]


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_is_expanded_inside_a_script(name):
    """Values reach scripts through env:, never `${{ }}` pasted into shell or JavaScript (injection)."""
    workflow = load_workflow(name)
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), (job_name, step.get("name"))
            assert "${{" not in (step.get("with") or {}).get("script", ""), (job_name, step.get("name"))


def test_ci_runs_on_pull_requests_and_pushes_and_cancels_superseded_runs(ci):
    assert {"pull_request", "push"} <= set(ci["on"])
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in ci["concurrency"]["group"]


def test_ci_lints_tests_on_postgresql_checks_chart_and_terraform_and_builds_without_push(ci):
    jobs = ci["jobs"]
    lint = "\n".join(s.get("run", "") for s in jobs["lint"]["steps"])
    for tool in ("check-jsonschema", "zizmor", "hadolint", "terraform fmt"):
        assert tool in lint
    test = jobs["test"]
    assert test["services"]["postgres"]["image"].startswith("postgres:")
    assert "@sha256:" in test["services"]["postgres"]["image"]
    assert "127.0.0.1:5432" in test["env"]["TEST_DATABASE_URL"]
    assert any(s.get("run") == "make test" for s in test["steps"])
    chart = "\n".join(s.get("run", "") for s in jobs["chart"]["steps"])
    assert "helm lint" in chart and "stack.deploy.releases" in chart
    assert "terraform validate" in "\n".join(s.get("run", "") for s in jobs["terraform"]["steps"])
    build = [s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    assert build and build[0]["with"]["push"] is False


def test_helm_is_pinned_to_helm_4_everywhere_it_is_installed(ci, deploy):
    for workflow in (ci, deploy):
        assert re.fullmatch(r"v4\.\d+\.\d+", workflow["env"]["HELM_VERSION"])
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("azure/setup-helm@"):
                    assert step["with"]["version"] == "${{ env.HELM_VERSION }}"


def test_ci_lints_and_renders_the_chart_with_values_the_schema_accepts(ci):
    """The chart job's stand-ins for what the deploy adds satisfy values.schema.json (helm lint --strict)."""
    script = "\n".join(s.get("run", "") for s in ci["jobs"]["chart"]["steps"])
    assert "helm lint --strict ./chart" in script and "helm template" in script
    stand_ins = dict(pair.split("=", 1) for pair in re.findall(r"--set-string ([^\s)]+)", script))
    assert {"image.tag", "image.repository", "targetGroupBinding.targetGroupARN", "database.host"} <= set(stand_ins)
    json_stand_ins = {}
    for pair in re.findall(r"--set-json '([^']+)'", script):
        json_stand_ins = deep_merge(json_stand_ins, helm_python.parse_set_json(pair))
    assert {"networkPolicy", "database"} <= set(json_stand_ins)
    for env in ("dev", "qa", "prod"):
        for release in releases(env):
            # release["values"] is what the job's helm-args make (tests/chart/test_chart_releases.py).
            values = deep_merge(release["values"], expand_set(stand_ins))
            values = deep_merge(values, json_stand_ins)
            result = helm_python.lint(REPO_ROOT / "chart", values, strict=True, namespace=release["namespace"])
            problems = [m for m in result["messages"] if m["severity"] > 1] + list(result["errors"] or [])
            assert problems == [], (env, release["name"], problems)


def test_ci_installs_every_release_into_kind_on_pull_requests_and_tests_each(ci):
    job = ci["jobs"]["kind-install"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["timeout-minutes"] == 30
    assert "permissions" not in job, "no token beyond the workflow's contents: read"
    uses = [s.get("uses", "") for s in job["steps"]]
    assert any(u.startswith("helm/kind-action@") for u in uses)
    build = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@"))
    assert build["with"]["push"] is False and build["with"]["load"] is True and build["with"]["tags"] == "pizza:ci"
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert "kind load docker-image pizza:ci" in script
    assert "kubectl apply -f .github/kind/postgres.yaml" in script
    assert 'python -m stack.deploy.releases --env "$DEPLOY_ENV" --format json' in script
    assert "-f chart/ci/kind-values.yaml" in script and "helm test" in script
    # Only the schema owner's hook may apply contract steps, as in the deploy.
    assert "schemaOwner" in script and "migrations.allowContract=true" in script
    kind_values = yaml.safe_load((REPO_ROOT / "chart" / "ci" / "kind-values.yaml").read_text())
    assert kind_values["image"] == {"repository": "pizza", "tag": "ci", "pullPolicy": "IfNotPresent"}
    assert kind_values["secrets"]["existingSecret"] == "pizza-credentials" and "pizza-credentials" in script


def test_the_kind_postgres_matches_the_kind_values_and_is_pinned(ci):
    docs = [d for d in yaml.safe_load_all((GITHUB_DIR / "kind" / "postgres.yaml").read_text()) if d]
    service = next(d for d in docs if d["kind"] == "Service")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    host = f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc.cluster.local"
    kind_values = yaml.safe_load((REPO_ROOT / "chart" / "ci" / "kind-values.yaml").read_text())
    assert kind_values["database"]["host"] == host
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == ci["jobs"]["test"]["services"]["postgres"]["image"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POSTGRES_DB"]["value"] == kind_values.get("database", {}).get("name", "pizza")
    assert "valueFrom" in env["POSTGRES_PASSWORD"], "the password comes from a Secret the job makes"


def test_ci_lint_job_runs_make_lint_after_installing_the_locked_tools(ci):
    # make lint is the one definition of the linters (Makefile, pyproject.toml); CI must not drift from it.
    runs = [s.get("run", "") for s in ci["jobs"]["lint"]["steps"]]
    assert "make lint" in runs
    assert runs.index("make .venv/.installed") < runs.index("make lint")
