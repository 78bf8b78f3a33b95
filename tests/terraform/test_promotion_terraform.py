"""Build once, promote the same digest dev -> qa -> prod: the Terraform side.

The validations run in Terraform's own engine (variables.tf alone, as in test_first_apply_inputs.py);
the deploy role's statements are expanded from the parsed HCL for each environment
(terraform_support.evaluate: references, ==, !=, !, &&, ||, ?:, lists and strings only).
"""

from __future__ import annotations

import pytest
from test_first_apply_inputs import OPERATOR, PROD_DOMAIN, plan, refused, variables_module  # noqa: F401 - a fixture

from tests.terraform.terraform_support import evaluate

CHAIN = {"dev": "", "qa": "dev", "prod": "qa"}


# --- promote_from_environment --------------------------------------------------------------------------


def test_each_environment_promotes_from_the_one_before_it(tfvars, repo_root):
    assert {env: values["promote_from_environment"] for env, values in tfvars.items()} == CHAIN
    # The standby region is prod too (its images arrive by replication, dr.tf), so the same chain applies.
    from tests.terraform.terraform_support import load_tfvars

    standby = load_tfvars(repo_root / "environments" / "prod-eu-north-1" / "terraform.tfvars")
    assert standby["environment"] == "prod" and standby["promote_from_environment"] == "qa"


@pytest.mark.parametrize(
    ("env", "wrong"),
    [("dev", "qa"), ("qa", ""), ("qa", "prod"), ("prod", "dev"), ("prod", ""), ("prod", "prod")],
)
def test_terraform_refuses_a_chain_that_skips_an_environment_or_lets_it_build(variables_module, env, wrong):  # noqa: F811
    domain = PROD_DOMAIN if env == "prod" else []
    errors = refused(plan(variables_module, env, *OPERATOR, *domain, "-var", f"promote_from_environment={wrong}"))
    assert "promote_from_environment must name the environment before this one" in errors


def deploy_role_statements(main_stack, env: str, region_role: str = "primary") -> list[dict]:
    """The deploy role's policy statements for `env`, its dynamic ones expanded as Terraform would."""
    document = main_stack.data[("aws_iam_policy_document", "deploy")]
    locals_ = main_stack.locals
    refs = {
        "var.promote_from_environment": CHAIN[env],
        "var.region_role": region_role,
        "var.region": "us-east-1",
        "local.partition": "aws",
        "local.account_id": "000000000000",
    }
    refs["local.promotes"] = evaluate(locals_["promotes"], refs)
    refs["local.promote_from_repository"] = evaluate(locals_["promote_from_repository"], refs)
    statements = list(document["statement"])
    for block in document.get("dynamic", []):
        body = block["statement"]
        for value in evaluate(body["for_each"], refs):
            for content in body["content"]:
                expanded = {**refs, "statement.value": value}
                statements.append(
                    {
                        "sid": content["sid"],
                        "actions": content["actions"],
                        "resources": [evaluate(r, expanded) for r in content["resources"]],
                        "condition": [{**c, "values": [evaluate(v, expanded) for v in c["values"]]} for c in content.get("condition", [])],
                    }
                )
    return statements


def other_repositories(statements: list[dict], own: str) -> dict[str, list[str]]:
    return {
        r: s["actions"] for s in statements for r in s["resources"] if ":ecr:" in r and ":repository/" in r and r.rsplit("/", 1)[1] != own
    }


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_the_deploy_role_reads_only_the_previous_environments_repository(main_stack, env):
    statements = deploy_role_statements(main_stack, env)
    others = other_repositories(statements, f"pizza-{env}")
    if env == "dev":
        assert others == {}, "dev builds; it reads no other repository"
        return
    source = f"arn:aws:ecr:us-east-1:000000000000:repository/pizza-{CHAIN[env]}"
    assert list(others) == [source]
    assert sorted(others[source]) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
    ]
    # Its layers' key: that environment's image key by its alias (kms.tf names it alias/<local.name>-ecr),
    # to decrypt only, and only through ECR.
    assert main_stack.resource("aws_kms_alias", "ecr")["name"] == "alias/${local.name}-ecr"
    assert main_stack.locals["name"].startswith("pizza-${var.environment}")
    (key,) = [s for s in statements if s["sid"] == "DecryptThePreviousEnvironmentsImages"]
    assert key["actions"] == ["kms:Decrypt"]
    conditions = {c["variable"]: (c["test"], c["values"]) for c in key["condition"]}
    assert conditions == {
        "kms:ViaService": ("StringEquals", ["ecr.us-east-1.amazonaws.com"]),
        "kms:ResourceAliases": ("ForAnyValue:StringEquals", [f"alias/pizza-{CHAIN[env]}-ecr"]),
    }


def test_the_standby_region_promotes_nothing_itself(main_stack):
    # Its images are prod's, replicated (dr.tf); it may not read qa's repository in its region.
    assert other_repositories(deploy_role_statements(main_stack, "prod", region_role="standby"), "pizza-prod") == {}
