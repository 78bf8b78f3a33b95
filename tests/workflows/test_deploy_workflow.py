"""deploy.yml rolls exactly the releases of environments/<env>/variants.yaml, and only the schema
owner migrates. The workflow itself cannot run here; its structure is checked here, and its release
script runs against a fake `helm` that records what it was asked to do in test_roll_release.py."""

from __future__ import annotations

import json
import re

from config.variants import load_variants
from workflow_support import REPO_ROOT, SCRIPTS_DIR, WORKFLOWS_DIR, expected_releases, stack_releases, steps_text

# --- The release list comes from variants.yaml --------------------------------------------------


def test_release_list_is_exactly_the_variants_file(env_name):
    got = [(r["name"], r["namespace"], r["theme"], r["schemaOwner"]) for r in stack_releases(env_name)]
    assert got == expected_releases(env_name)


def test_only_the_schema_owner_enables_the_migration_hook(env_name):
    owner = load_variants(env_name).schema_owner
    for release in stack_releases(env_name):
        assert release["set"]["migrations.enabled"] is (release["variant"] == owner), release["name"]


def test_the_workflow_reads_the_release_list_from_variants_yaml(deploy):
    releases_job = deploy["jobs"]["releases"]
    script = steps_text(releases_job)
    assert 'python -m stack.deploy.releases --env "$DEPLOY_ENV" --format json' in script
    assert set(releases_job["outputs"]) == {"all", "owner", "others"}
    assert "select(.schemaOwner)" in script and "select(.schemaOwner | not)" in script


def test_no_release_name_is_written_into_the_delivery_path():
    for path in [*WORKFLOWS_DIR.glob("*.yml"), *SCRIPTS_DIR.iterdir()]:
        text = path.read_text()
        assert not re.search(r"pizza-[a-e]\b", text), f"{path.name} names a release; read it from variants.yaml"
        assert not re.search(r"variant[=: ]+['\"]?[a-e]\b", text), f"{path.name} hard-codes a variant"


def test_the_owner_rolls_alone_then_the_others_from_the_list(deploy):
    jobs = deploy["jobs"]
    owner, others = jobs["deploy-owner"], jobs["deploy-others"]
    assert owner["env"]["RELEASE"] == "${{ needs.releases.outputs.owner }}"
    assert "strategy" not in owner
    assert others["strategy"]["matrix"]["release"] == "${{ fromJSON(needs.releases.outputs.others) }}"
    assert others["env"]["RELEASE"] == "${{ toJSON(matrix.release) }}"
    assert others["strategy"]["fail-fast"] is False
    # Order: gate and image before the owner; the owner (whose hook migrates) before the others.
    assert {"releases", "gate", "build"} <= set(owner["needs"])
    assert "deploy-owner" in others["needs"]
    assert {"deploy-owner", "deploy-others"} <= set(jobs["smoke"]["needs"])


def test_migrations_run_only_through_the_owners_hook_after_the_gate(deploy):
    gate = steps_text(deploy["jobs"]["gate"])
    assert "make migration-gate" in gate
    for name, job in deploy["jobs"].items():
        for line in steps_text(job).splitlines():
            if "migrate" in line and "manage.py" in line:
                # The only manage.py call is the contract check, which changes nothing.
                assert name == "deploy-owner" and "--check-contract" in line, (name, line)
    for path in SCRIPTS_DIR.iterdir():
        text = path.read_text()
        assert "manage.py migrate" not in text and "migrations.enabled=" not in text, path.name


def test_the_image_is_built_once_and_tagged_with_the_commit(deploy):
    build = deploy["jobs"]["build"]
    push = [s for s in build["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    assert len(push) == 1 and push[0]["with"]["push"] is True
    # In dev only (tests/workflows/test_image_promotion.py evaluates the condition per environment).
    assert "env.DEPLOY_ENV == 'dev'" in push[0]["if"]
    assert push[0]["with"]["tags"].endswith(":${{ github.sha }}")
    assert deploy["env"]["IMAGE_TAG"] == "${{ github.sha }}"
    assert any("amazon-ecr-login" in s.get("uses", "") for s in build["steps"])


def test_deploy_runs_on_push_to_main_and_by_hand_one_at_a_time(deploy):
    assert deploy["on"]["push"]["branches"] == ["main"]
    choices = deploy["on"]["workflow_dispatch"]["inputs"]["environment"]["options"]
    assert choices == ["dev", "qa", "prod"]
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "inputs.environment" in deploy["concurrency"]["group"]


def test_aws_is_reached_through_the_oidc_role_only(deploy, terraform_workflow):
    for workflow in (deploy, terraform_workflow):
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if "configure-aws-credentials" in step.get("uses", ""):
                    assert step["with"]["role-to-assume"].startswith("${{ vars.AWS_")
                    assert "aws-access-key-id" not in step["with"]


def test_a_failure_posts_to_slack_when_configured_and_always_opens_or_updates_an_issue(deploy):
    notify = deploy["jobs"]["notify"]
    assert notify["if"] == "failure()"
    assert set(notify["needs"]) == set(deploy["jobs"]) - {"notify"}
    _, slack, issue = notify["steps"]
    assert slack["env"]["SLACK_WEBHOOK_URL"] == "${{ secrets.SLACK_WEBHOOK_URL }}"
    assert slack["run"] == ".github/scripts/notify-failure.sh"  # tests/workflows/test_deploy_gates.py runs it
    assert issue["uses"].startswith("actions/github-script@")
    assert issue["if"] == "${{ !cancelled() }}"
    script = issue["with"]["script"]
    assert "issues.create(" in script and "issues.createComment(" in script and "runUrl" in script
    assert "/actions/runs/${{ github.run_id }}" in notify["env"]["RUN_URL"]


def test_the_smoke_check_goes_through_the_load_balancer_for_every_variant(deploy):
    smoke = deploy["jobs"]["smoke"]
    assert smoke["if"] == "${{ !failure() && !cancelled() }}"
    run = steps_text(smoke)
    assert "python -m stack.deploy.smoke_check" in run and "--releases releases.json" in run and '--base-url "$SITE_URL"' in run
    # Terraform's site_url: the listener the ALB really has (https://domain, or http://<ALB DNS name>).
    assert smoke["env"]["SITE_URL"] == "${{ needs.build.outputs.site_url }}"


# --- The deploy jobs around the release script (run in test_roll_release.py) -------------------


def test_the_owner_rolls_with_allow_contract_only_after_the_contract_check_step(deploy):
    steps = deploy["jobs"]["deploy-owner"]["steps"]
    check = next(i for i, s in enumerate(steps) if "--check-contract" in s.get("run", ""))
    roll_step = next(i for i, s in enumerate(steps) if "roll-release.sh" in s.get("run", ""))
    assert check < roll_step
    assert steps[check]["id"] == "contract"
    # The output is written only after the check command succeeded (bash -e stops the step before it).
    run = steps[check]["run"]
    assert run.index("--check-contract") < run.index('echo "passed=true" >> "$GITHUB_OUTPUT"')
    assert steps[roll_step]["env"]["CONTRACT_CHECKED"] == "${{ steps.contract.outputs.passed }}"
    for step in deploy["jobs"]["deploy-others"]["steps"]:
        assert "CONTRACT_CHECKED" not in (step.get("env") or {})


def test_the_deploy_reads_terraforms_outputs_from_ssm_not_the_state(deploy):
    assert "setup-terraform" not in (WORKFLOWS_DIR / "deploy.yml").read_text()
    scripts = "\n".join(steps_text(job) for job in deploy["jobs"].values())
    assert "terraform init" not in scripts and "terraform output" not in scripts
    build = deploy["jobs"]["build"]
    step = next(s for s in build["steps"] if s.get("id") == "tf")
    assert (
        'aws ssm get-parameter --with-decryption --name "/pizza/${DEPLOY_ENV}/deploy-outputs" '
        "--query Parameter.Value --output text > tf-outputs.json"
    ) in step["run"]
    # Every key read here is published by terraform/deploy-outputs.tf.
    published = (REPO_ROOT / "terraform" / "deploy-outputs.tf").read_text()
    for key in re.findall(r"'\.(\w+)\.value'", step["run"]):
        assert re.search(rf"^\s+{key}\s+=", published, re.M), f"{key} is not in the SSM parameter"
    assert {"repository", "cluster", "target_groups", "database_host", "alb"} <= set(build["outputs"])
    for job in ("deploy-owner", "deploy-others"):
        env = deploy["jobs"][job]["env"]
        assert env["DATABASE_HOST"] == "${{ needs.build.outputs.database_host }}"
        assert env["DATABASE_PROXY_HOST"] == "${{ needs.build.outputs.database_proxy_host }}"
        assert env["TARGET_GROUP_ARNS"] == "${{ needs.build.outputs.target_groups }}"
        assert env["IMAGE_REPOSITORY"] == "${{ needs.build.outputs.repository }}"
        assert env["IMAGE_DIGEST"] == "${{ needs.build.outputs.digest }}"


def test_environment_variables_are_read_only_in_jobs_that_run_in_the_environment(deploy):
    for name, job in deploy["jobs"].items():
        if "vars." in json.dumps(job.get("steps", [])) + json.dumps(job.get("env", {})):
            assert "environment" in job, f"{name} reads vars.* without an environment"
