"""Production safety in the IAM and WAF definitions: the apply role cannot raise its own rights,
the plan is kept where only the plan and apply roles reach it, and the WAF neither hides the app's
422 behind a bare 403 nor blocks a carrier NAT."""

from __future__ import annotations

import yaml

from tests.terraform.terraform_support import TERRAFORM_DIR

APPLY_ROLE = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-github-apply"


def statements(main_stack, name: str) -> list[dict]:
    return main_stack.data[("aws_iam_policy_document", name)]["statement"]


def test_the_apply_role_has_a_boundary_that_denies_changing_itself(main_stack):
    role = main_stack.resource("aws_iam_role", "apply")
    assert role["permissions_boundary"] == "${aws_iam_policy.apply_boundary.arn}"
    boundary = statements(main_stack, "apply_boundary")
    self_deny = [s for s in boundary if s.get("effect") == "Deny" and APPLY_ROLE in s["resources"]]
    assert self_deny and self_deny[0]["not_actions"] == ["iam:Get*", "iam:List*"]
    # ... and the boundary policy itself cannot be edited or detached by the role it bounds.
    assert "arn:${local.partition}:iam::${local.account_id}:policy/${local.name}-apply-boundary" in self_deny[0]["resources"]
    assert main_stack.resource("aws_iam_policy", "apply_boundary")["name"] == "${local.name}-apply-boundary"
    assert any(s.get("effect") == "Deny" and s.get("actions") == ["sts:AssumeRole"] for s in boundary), "a role it creates could be assumed"


def test_the_apply_roles_own_policy_denies_editing_itself(main_stack):
    (deny,) = statements(main_stack, "apply_not_itself")
    assert deny["effect"] == "Deny" and deny["resources"] == [APPLY_ROLE]
    assert {"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary"} <= set(
        deny["actions"]
    )
    attached = main_stack.resource("aws_iam_role_policy", "apply_not_itself")
    assert attached["role"] == "${aws_iam_role.apply.id}"


def test_the_plan_role_may_store_the_saved_plan_where_the_workflow_puts_it(main_stack, repo_root):
    workflow = yaml.safe_load((repo_root / ".github" / "workflows" / "terraform.yml").read_text())
    upload = next(s["run"] for s in workflow["jobs"]["plan"]["steps"] if "plans/" in s.get("run", ""))
    assert "s3://$bucket/pizza/$DEPLOY_ENV/plans/$GITHUB_RUN_ID.tfplan" in upload
    saved = [s for s in statements(main_stack, "plan") if s.get("sid") == "SavedPlans"]
    assert saved and saved[0]["resources"] == ["arn:${local.partition}:s3:::*/pizza/${var.environment}/plans/*"]


def test_the_waf_counts_big_bodies_instead_of_answering_a_bare_403(main_stack):
    acl = main_stack.resource("aws_wafv2_web_acl", "web")
    common = next(r for r in acl["rule"] if r["name"] == "aws-common")
    group = common["statement"][0]["managed_rule_group_statement"][0]
    overrides = {o["name"]: o["action_to_use"][0] for o in group["rule_action_override"]}
    assert "count" in overrides["SizeRestrictions_BODY"]


def test_every_environment_rate_limit_leaves_room_for_a_carrier_nat(tfvars):
    for env, values in tfvars.items():
        assert values["waf_rate_limit"] >= 5000, env
    assert "carrier" in (TERRAFORM_DIR / "variables.tf").read_text()  # the reason stays beside the value
