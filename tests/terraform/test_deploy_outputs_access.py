"""Every role that reads the deploy outputs SecureString may decrypt it with the key it is
encrypted under; the read-only plan role only through SSM (kms:ViaService)."""

from __future__ import annotations


def statements(main_stack, document: str) -> list[dict]:
    return main_stack.data[("aws_iam_policy_document", document)]["statement"]


def decrypts(statement: dict, key: str) -> bool:
    return (
        statement.get("effect", "Allow") == "Allow"
        and any(a in ("kms:Decrypt", "kms:*") for a in statement["actions"])
        and key in statement["resources"]
    )


def via_services(statement: dict) -> list[str]:
    return [v for c in statement.get("condition", []) if c["variable"] == "kms:ViaService" for v in c["values"]]


def test_the_plan_role_decrypts_the_deploy_outputs_key_through_ssm_only(main_stack):
    key = main_stack.resource("aws_ssm_parameter", "deploy_outputs")["key_id"]
    # ReadOnlyAccess gives ssm:GetParameter; a refresh of a SecureString also needs kms:Decrypt.
    assert main_stack.resource("aws_iam_role_policy_attachment", "plan_read_only")["policy_arn"].endswith(":policy/ReadOnlyAccess")
    granting = [s for s in statements(main_stack, "plan") if decrypts(s, key)]
    assert granting, f"the plan role cannot decrypt {key}: every plan after the first apply would fail with AccessDenied"
    for statement in granting:
        assert via_services(statement) == ["ssm.${var.region}.amazonaws.com"], statement


def test_the_deploy_role_reads_and_decrypts_the_deploy_outputs(main_stack):
    key = main_stack.resource("aws_ssm_parameter", "deploy_outputs")["key_id"]
    deploy = statements(main_stack, "deploy")
    assert any("ssm:GetParameter" in s["actions"] and "${aws_ssm_parameter.deploy_outputs.arn}" in s["resources"] for s in deploy)
    assert any(decrypts(s, key) for s in deploy)
