"""terraform/ follows the agreed layout and conventions (files by role, typed and described inputs)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

KUBERNETES_VERSION = re.compile(r'(kubernetes_version|cluster_version)\s*=\s*"(\d+\.\d+)"')


@pytest.mark.parametrize("stack_name", ["main_stack", "bootstrap_stack"])
def test_every_variable_and_output_has_type_and_description(request, stack_name):
    stack = request.getfixturevalue(stack_name)
    for name, body in stack.variables.items():
        assert body.get("type"), f"variable {name} has no type"
        assert body.get("description"), f"variable {name} has no description"
    for name, body in stack.outputs.items():
        assert body.get("description"), f"output {name} has no description"
        assert "value" in body, f"output {name} has no value"


def test_one_kubernetes_version_literal_for_the_chart(terraform_dir):
    found = {m.group(2) for tf in terraform_dir.glob("*.tf") for m in KUBERNETES_VERSION.finditer(tf.read_text())}
    assert found == {"1.33"}


def test_registry_modules_are_pinned(main_stack):
    assert main_stack.modules["vpc"]["source"] == "terraform-aws-modules/vpc/aws"
    assert main_stack.modules["eks"]["source"] == "terraform-aws-modules/eks/aws"
    for name, module in main_stack.modules.items():
        assert module.get("version", "").startswith("~> "), f"module {name} is not pinned"


def test_main_stack_uses_a_partial_s3_backend(main_stack):
    backends = [b["backend"] for b in main_stack.terraform if "backend" in b]
    assert backends == [[{"s3": {}}]]


def test_outputs_the_deploy_needs(main_stack):
    needed = {
        "cluster_name",
        "ecr_repository_url",
        "target_group_arns",
        "database_secret_arn",
        "django_secret_arn",
        "database_host",
        "plan_role_arn",
        "apply_role_arn",
        "deploy_role_arn",
        "alb_dns_name",
        "region",
    }
    assert needed <= set(main_stack.outputs)


def test_environment_is_validated(main_stack):
    condition = main_stack.variables["environment"]["validation"][0]["condition"]
    assert all(env in condition for env in ('"dev"', '"qa"', '"prod"'))


def test_terraform_fmt(repo_root):
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform binary not on PATH: `terraform fmt -check -recursive` was not run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", "terraform", "environments"],
        capture_output=True,
        text=True,
        cwd=repo_root,
        timeout=120,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def test_the_deploy_outputs_parameter_mirrors_the_outputs_the_deploy_reads(terraform_dir):
    """The deploy role cannot read the state; /pizza/<env>/deploy-outputs carries the same values."""
    published = dict(re.findall(r"^\s+(\w+)\s+=\s+\{ value = (.+) \}$", (terraform_dir / "deploy-outputs.tf").read_text(), re.M))
    outputs = dict(re.findall(r'output "(\w+)" \{\n(?:  .*\n)*?  value\s+= (.+)\n', (terraform_dir / "outputs.tf").read_text()))
    for key in ("cluster_name", "ecr_repository_url", "target_group_arns", "database_host", "alb_dns_name"):
        assert key in published, f"{key} is not in the SSM parameter"
        assert published[key] == outputs[key], key
