"""terraform.yml: by hand only, per environment, plan shown and kept, apply/destroy behind reviewers."""

from __future__ import annotations

from config.variants import ENVIRONMENTS
from workflow_support import REPO_ROOT, steps_text


def test_it_runs_by_hand_with_an_environment_and_an_action(terraform_workflow):
    on = terraform_workflow["on"]
    assert set(on) == {"workflow_dispatch"}
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == list(ENVIRONMENTS)
    assert inputs["action"]["options"] == ["plan", "apply", "destroy"]
    assert inputs["action"]["default"] == "plan"


def test_one_run_per_environment_and_never_cancelled(terraform_workflow):
    assert terraform_workflow["concurrency"]["group"] == "terraform-${{ inputs.environment }}"
    assert terraform_workflow["concurrency"]["cancel-in-progress"] is False


def test_the_plan_uses_the_environments_backend_and_variables(terraform_workflow):
    plan = terraform_workflow["jobs"]["plan"]
    assert plan["defaults"]["run"]["working-directory"] == "terraform"
    script = steps_text(plan)
    assert 'terraform init -backend-config="../environments/$DEPLOY_ENV/backend.hcl"' in script
    assert '-var-file="../environments/$DEPLOY_ENV/terraform.tfvars" -var "environment=$DEPLOY_ENV"' in script
    assert "-out=tfplan" in script and "-destroy" in script


def test_each_environment_has_the_files_the_workflow_reads(env_name):
    for name in ("backend.hcl", "terraform.tfvars"):
        assert (REPO_ROOT / "environments" / env_name / name).is_file(), name


def test_the_plan_is_uploaded_and_shown_in_the_job_summary(terraform_workflow):
    plan = terraform_workflow["jobs"]["plan"]
    assert "GITHUB_STEP_SUMMARY" in steps_text(plan) and "terraform show" in steps_text(plan)
    upload = [s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    # The readable plan only: the saved plan (it embeds the state) goes to the state bucket.
    assert len(upload) == 1 and upload[0]["with"]["path"].split() == ["terraform/plan.txt", "terraform/.terraform.lock.hcl"]


def test_plan_assumes_the_read_only_role_in_an_environment_without_reviewers(terraform_workflow):
    plan = terraform_workflow["jobs"]["plan"]
    assert plan["environment"] == "${{ inputs.environment }}-plan"
    creds = [s for s in plan["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert creds[0]["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"


def test_apply_and_destroy_wait_for_reviewers_and_apply_the_reviewed_plan(terraform_workflow):
    apply = terraform_workflow["jobs"]["apply"]
    assert apply["needs"] == "plan"
    assert apply["if"] == "inputs.action == 'apply' || inputs.action == 'destroy'"
    # The "<env>-apply" GitHub environment carries the required reviewers.
    assert apply["environment"] == "${{ inputs.environment }}-apply"
    script = steps_text(apply)
    assert "terraform apply -lock-timeout=5m tfplan" in script
    assert "-auto-approve" not in script
    assert any(s.get("uses", "").startswith("actions/download-artifact@") for s in apply["steps"])


def test_apply_and_destroy_assume_the_apply_role(terraform_workflow):
    apply = terraform_workflow["jobs"]["apply"]
    creds = [s for s in apply["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert creds[0]["with"]["role-to-assume"] == "${{ vars.AWS_APPLY_ROLE_ARN }}"


# Each role's OIDC subject in terraform/iam.tf, as "<env>" plus a suffix, and the variable holding its ARN.
ROLES = {"plan": ("-plan", "AWS_PLAN_ROLE_ARN"), "apply": ("-apply", "AWS_APPLY_ROLE_ARN"), "deploy": ("", "AWS_DEPLOY_ROLE_ARN")}


def test_every_job_that_assumes_a_role_runs_in_the_github_environment_its_role_trusts(terraform_workflow, deploy, ci):
    iam = (REPO_ROOT / "terraform" / "iam.tf").read_text()
    for role, (suffix, _) in ROLES.items():
        subject = f'{role:<6} = "repo:${{var.github_repository}}:environment:${{var.environment}}{suffix}"'
        assert subject in iam, subject
    by_variable = {variable: suffix for suffix, variable in ROLES.values()}
    seen = set()
    for workflow in (terraform_workflow, deploy, ci):
        env_expr = "inputs.environment" if workflow is terraform_workflow else "inputs.environment || 'dev'"
        for name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                if "configure-aws-credentials" not in step.get("uses", ""):
                    continue
                variable = step["with"]["role-to-assume"].removeprefix("${{ vars.").removesuffix(" }}")
                assert variable in by_variable, (name, variable)
                assert job["environment"] == f"${{{{ {env_expr} }}}}{by_variable[variable]}", (name, job.get("environment"))
                seen.add(variable)
    assert seen == set(by_variable)


def test_the_failure_notice_needs_no_aws(deploy):
    notify = deploy["jobs"]["notify"]
    assert notify["environment"] == "notifications"
    assert "id-token" not in notify["permissions"]
    assert not any("configure-aws-credentials" in s.get("uses", "") for s in notify["steps"])
