"""The first apply refuses the inputs that would lock its operator out or break the site, before
it creates anything, with a message that says what to set.

Terraform's own engine evaluates the validations: terraform/variables.tf is copied into an empty
module (no providers, no resources, so `terraform init` downloads nothing) and planned with each
environment's tfvars, as the terraform workflow plans them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.terraform.terraform_support import TERRAFORM_DIR

REPO_ROOT = TERRAFORM_DIR.parent
ADMIN = "arn:aws:iam::123456789012:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
# What an operator sets before the first apply (the shipped tfvars hold placeholders).
OPERATOR = ["-var", "github_repository=example-shop/pizza", "-var", f'cluster_admin_arns=["{ADMIN}"]']
PROD_DOMAIN = ["-var", "domain_name=shop.example.org", "-var", "route53_zone_name=example.org"]


@pytest.fixture(scope="module")
def variables_module(tmp_path_factory) -> Path:
    terraform = shutil.which("terraform")
    if not terraform:
        pytest.skip("terraform binary not on PATH: the variable validations were not evaluated")
    module = tmp_path_factory.mktemp("variables-only")
    shutil.copy(TERRAFORM_DIR / "variables.tf", module)
    done = subprocess.run([terraform, "init", "-input=false", "-no-color"], cwd=module, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return module


def plan(module: Path, env: str, *args: str) -> subprocess.CompletedProcess:
    tfvars = REPO_ROOT / "environments" / env / "terraform.tfvars"
    return subprocess.run(
        ["terraform", "plan", "-input=false", "-no-color", "-lock=false", f"-var-file={tfvars}", *args],
        cwd=module,
        capture_output=True,
        text=True,
        timeout=120,
    )


def refused(result: subprocess.CompletedProcess) -> str:
    """The validation messages, joined into one line each way Terraform wraps them."""
    assert result.returncode != 0, result.stdout
    return " ".join(result.stderr.split())


def test_the_shipped_placeholders_are_refused_naming_what_to_set(variables_module, env_name):
    errors = refused(plan(variables_module, env_name))
    assert "github_repository is still the placeholder pizza-abc/pizza-abc: set it in environments/<env>/terraform.tfvars" in errors
    assert (
        "cluster_admin_arns is empty: set it in environments/<env>/terraform.tfvars to the IAM role ARN(s) of whoever runs the first apply"
        in errors
    )


def test_with_the_operators_values_dev_and_qa_plan_and_prod_still_needs_a_domain(variables_module, env_name):
    result = plan(variables_module, env_name, *OPERATOR)
    if env_name == "prod":
        errors = refused(result)
        assert "domain_name is empty, but prod serves customers only over HTTPS" in errors
        assert "github_repository" not in errors and "cluster_admin_arns" not in errors
        result = plan(variables_module, env_name, *OPERATOR, *PROD_DOMAIN)
    assert result.returncode == 0, result.stderr


def test_an_assumed_role_session_is_not_an_admin_role(variables_module):
    session = "arn:aws:sts::123456789012:assumed-role/Admin/jane"
    errors = refused(
        plan(variables_module, "dev", "-var", "github_repository=example-shop/pizza", "-var", f'cluster_admin_arns=["{session}"]')
    )
    assert "cluster_admin_arns must be IAM role ARNs" in errors


def test_a_domain_needs_its_hosted_zone(variables_module):
    errors = refused(plan(variables_module, "qa", *OPERATOR, "-var", "domain_name=qa.example.org"))
    assert "route53_zone_name is empty" in errors
