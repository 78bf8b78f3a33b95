"""Security and availability properties of the AWS side, read from the parsed HCL and tfvars."""

from __future__ import annotations

import re

import pytest

ENVIRONMENTS = ("dev", "qa", "prod")


def _value(tfvars, stack, name):
    """What Terraform would use for `name`: the environment's tfvars, else the variable's default."""
    if name in tfvars:
        return tfvars[name]
    return stack.variables[name]["default"]


# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------


def test_database_is_wired_to_the_environment_switches(main_stack):
    db = main_stack.resource("aws_db_instance", "orders")
    assert db["multi_az"] == "${var.multi_az}"
    assert db["deletion_protection"] == "${var.deletion_protection}"
    assert db["skip_final_snapshot"] == "${!local.is_prod}"
    assert main_stack.locals["is_prod"] == '${var.environment == "prod"}'
    assert db["final_snapshot_identifier"]
    assert db["backup_retention_period"] == "${var.backup_retention_days}"


def test_prod_database_is_multi_az_protected_and_backed_up(tfvars, main_stack):
    prod = tfvars["prod"]
    assert _value(prod, main_stack, "multi_az") is True
    assert _value(prod, main_stack, "deletion_protection") is True
    assert _value(prod, main_stack, "backup_retention_days") >= 7


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backups_are_kept_at_least_seven_days(env, tfvars, main_stack):
    assert _value(tfvars[env], main_stack, "backup_retention_days") >= 7
    condition = main_stack.variables["backup_retention_days"]["validation"][0]["condition"]
    assert "var.backup_retention_days >= 7" in condition


def test_database_is_encrypted_private_and_observed(main_stack):
    db = main_stack.resource("aws_db_instance", "orders")
    assert db["storage_encrypted"] is True
    assert db["kms_key_id"] == "${aws_kms_key.database.arn}"
    assert db["publicly_accessible"] is False
    assert db["performance_insights_enabled"] is True
    assert db["performance_insights_kms_key_id"] == "${aws_kms_key.database.arn}"
    assert db["monitoring_interval"] > 0 and db["monitoring_role_arn"]
    assert db["db_subnet_group_name"] == "${module.vpc.database_subnet_group_name}"
    assert db["port"] == 5432


def test_database_forces_tls(main_stack):
    db = main_stack.resource("aws_db_instance", "orders")
    assert db["parameter_group_name"] == "${aws_db_parameter_group.orders.name}"
    parameters = {p["name"]: p["value"] for p in main_stack.resource("aws_db_parameter_group", "orders")["parameter"]}
    assert parameters["rds.force_ssl"] == "1"


def test_database_password_is_generated_not_rds_managed(main_stack):
    db = main_stack.resource("aws_db_instance", "orders")
    # An RDS-managed master password forbids read replicas; ours comes from random_password.
    assert "manage_master_user_password" not in db
    assert db["password"] == "${random_password.database.result}"


def test_database_port_is_open_only_to_the_cluster(main_stack):
    db = main_stack.resource("aws_db_instance", "orders")
    assert db["vpc_security_group_ids"] == ["${aws_security_group.database.id}"]
    sg = main_stack.resource("aws_security_group", "database")
    assert "ingress" not in sg and "egress" not in sg
    rules = {
        name: r
        for name, r in main_stack.resources_of("aws_vpc_security_group_ingress_rule").items()
        if r["security_group_id"] == "${aws_security_group.database.id}"
    }
    # The pods (replica reads, the migration Job) and RDS Proxy (pooled web traffic), nothing else.
    assert sorted(rules) == ["database_from_cluster", "database_from_rds_proxy"]
    assert rules["database_from_rds_proxy"]["referenced_security_group_id"] == "${aws_security_group.rds_proxy.id}"
    rule = rules["database_from_cluster"]
    assert rule["from_port"] == rule["to_port"] == 5432
    assert rule["referenced_security_group_id"] == "${module.eks.node_security_group_id}"
    assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule)


def test_database_subnets_span_three_zones(main_stack, tfvars):
    vpc = main_stack.modules["vpc"]
    for kind in ("public_subnets", "private_subnets", "database_subnets"):
        assert "var.azs" in vpc[kind], kind
    assert vpc["azs"] == "${var.azs}"
    for env in ENVIRONMENTS:
        assert len(set(tfvars[env]["azs"])) == 3
    assert vpc["public_subnet_tags"] == {"kubernetes.io/role/elb": 1}
    assert vpc["private_subnet_tags"] == {"kubernetes.io/role/internal-elb": 1}


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------


def test_secrets_are_generated_into_secrets_manager(main_stack):
    assert main_stack.locals["secret_path"] == "pizza/${var.environment}"
    database = main_stack.resource("aws_secretsmanager_secret", "database")
    owner = main_stack.resource("aws_secretsmanager_secret", "database_owner")
    django = main_stack.resource("aws_secretsmanager_secret", "django")
    assert database["name"] == "${local.secret_path}/database"
    assert owner["name"] == "${local.secret_path}/database-owner"
    assert django["name"] == "${local.secret_path}/django"
    for secret in (database, owner, django):
        assert secret["kms_key_id"] == "${aws_kms_key.secrets.arn}"
    web_body = main_stack.resource("aws_secretsmanager_secret_version", "database")["secret_string"]
    owner_body = main_stack.resource("aws_secretsmanager_secret_version", "database_owner")["secret_string"]
    for body in (web_body, owner_body):
        for key in ("username", "password", "host", "port", "dbname", "engine"):
            assert re.search(rf"\b{key}\s*=", body), key
    # The web pods' secret holds the web role; the master password only the owner's secret.
    assert 'username = "pizza_web"' in web_body and "random_password.database_web.result" in web_body
    assert "random_password.database.result" in owner_body and "random_password.database.result" not in web_body
    assert (
        "random_password.django_secret_key.result" in (main_stack.resource("aws_secretsmanager_secret_version", "django")["secret_string"])
    )


def test_external_secrets_reads_only_the_app_secrets(main_stack):
    policy = main_stack.data[("aws_iam_policy_document", "external_secrets")]
    statements = {s["sid"]: s for s in policy["statement"]}
    assert set(statements) == {"ReadAppSecrets", "DecryptAppSecrets"}
    assert statements["ReadAppSecrets"]["resources"] == [
        "${aws_secretsmanager_secret.database.arn}",
        "${aws_secretsmanager_secret.database_owner.arn}",
        "${aws_secretsmanager_secret.django.arn}",
        "${aws_secretsmanager_secret.alerting.arn}",  # Alertmanager's receivers (observability.tf)
        "${aws_secretsmanager_secret.cache.arn}",  # REDIS_URL (cache.tf; tests/crosslayer/test_first_install.py)
    ]
    assert all(a.startswith("secretsmanager:") and "*" not in a for a in statements["ReadAppSecrets"]["actions"])
    assert statements["DecryptAppSecrets"]["actions"] == ["kms:Decrypt"]
    assert statements["DecryptAppSecrets"]["resources"] == ["${aws_kms_key.secrets.arn}"]
    association = main_stack.resource("aws_eks_pod_identity_association", "external_secrets")
    assert (association["namespace"], association["service_account"]) == ("external-secrets", "external-secrets")


def test_load_balancer_controller_touches_only_our_target_groups(main_stack):
    policy = main_stack.data[("aws_iam_policy_document", "lb_controller")]
    for statement in policy["statement"]:
        writes = [a for a in statement["actions"] if not a.split(":")[1].startswith("Describe")]
        if writes:
            assert statement["resources"] != ["*"], statement["sid"]
    association = main_stack.resource("aws_eks_pod_identity_association", "lb_controller")
    assert (association["namespace"], association["service_account"]) == ("kube-system", "aws-load-balancer-controller")


SECRET_NAMES = re.compile(r"(password|passwd|secret|token|private_key|access_key)", re.I)
SECRET_LOOKING = [
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"ghp_[A-Za-z0-9]{20,}"),
    re.compile(r"aws_secret_access_key", re.I),
]


def _walk(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
    else:
        yield path, node


def _is_literal(value) -> bool:
    return isinstance(value, str) and value != "" and "${" not in value


def test_no_secret_literal_in_any_tf_file(main_stack, bootstrap_stack):
    for stack in (main_stack, bootstrap_stack):
        for filename, parsed in stack.files.items():
            for path, value in _walk(parsed):
                if SECRET_NAMES.search(path[-1]) and path[-1] not in ("description",):
                    assert not _is_literal(value), f"{filename}: {'.'.join(path)} is a literal"


def test_no_secret_in_tfvars_or_backend_files(repo_root, tfvars, backend_configs):
    for env in ENVIRONMENTS:
        for key in list(tfvars[env]) + list(backend_configs[env]):
            assert not SECRET_NAMES.search(key), f"environments/{env}: {key} looks like a secret input"


def test_no_secret_looking_text_anywhere(repo_root):
    files = [
        *(repo_root / "terraform").rglob("*.tf"),
        *(repo_root / "environments").rglob("*.tfvars"),
        *(repo_root / "environments").rglob("*.hcl"),
        *(repo_root / "terraform").rglob("*.yaml"),
    ]
    for path in files:
        text = path.read_text()
        for pattern in SECRET_LOOKING:
            assert not pattern.search(text), f"{path.relative_to(repo_root)} matches {pattern.pattern}"


def test_no_secret_is_an_output(main_stack):
    for name, output in main_stack.outputs.items():
        assert "random_password" not in str(output["value"]), name


# ---------------------------------------------------------------------------------------------
# GitHub OIDC and keys
# ---------------------------------------------------------------------------------------------


def test_github_trust_is_pinned_to_this_repository_and_environment(main_stack):
    assert main_stack.locals["github_subjects"] == {
        "plan": "repo:${var.github_repository}:environment:${var.environment}-plan",
        "apply": "repo:${var.github_repository}:environment:${var.environment}-apply",
        "deploy": "repo:${var.github_repository}:environment:${var.environment}",
    }
    trust = main_stack.data[("aws_iam_policy_document", "github_trust")]
    assert trust["for_each"] == "${local.github_subjects}"
    (statement,) = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"][0]["identifiers"] == ["${data.aws_iam_openid_connect_provider.github.arn}"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["token.actions.githubusercontent.com:aud"]["test"] == "StringEquals"
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == ["sts.amazonaws.com"]
    sub = conditions["token.actions.githubusercontent.com:sub"]
    assert sub["test"] == "StringEquals", "StringLike would allow wildcards"
    assert sub["values"] == ["${each.value}"]
    for role in ("plan", "apply", "deploy"):
        assert main_stack.resource("aws_iam_role", role)["assume_role_policy"] == (
            f'${{data.aws_iam_policy_document.github_trust["{role}"].json}}'
        )


def test_plan_role_writes_nothing_but_the_lock_file_and_its_saved_plan(main_stack):
    attachment = main_stack.resource("aws_iam_role_policy_attachment", "plan_read_only")
    assert attachment["policy_arn"].endswith(":iam::aws:policy/ReadOnlyAccess")
    statements = main_stack.data[("aws_iam_policy_document", "plan")]["statement"]
    writes = [s for s in statements if any(a.startswith("s3:") for a in s["actions"])]
    assert sorted(w["resources"][0].rsplit("/", 1)[-1] for w in writes) == ["*", "terraform.tfstate.tflock"]
    assert [w["resources"] for w in writes if w["resources"][0].endswith("*")] == [
        ["arn:${local.partition}:s3:::*/pizza/${var.environment}/plans/*"]
    ]


def test_github_repository_inputs_have_no_wildcards(tfvars, main_stack):
    validation = main_stack.variables["github_repository"]["validation"][0]["condition"]
    assert "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$" in validation
    for env in ENVIRONMENTS:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", tfvars[env]["github_repository"])


def test_the_oidc_provider_exists_once_per_account(bootstrap_stack, main_stack):
    provider = bootstrap_stack.resource("aws_iam_openid_connect_provider", "github")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert main_stack.data[("aws_iam_openid_connect_provider", "github")]["url"] == provider["url"]


def test_no_long_lived_access_key(main_stack, bootstrap_stack):
    for stack in (main_stack, bootstrap_stack):
        types = {t for t, _ in stack.resources}
        assert not types & {"aws_iam_access_key", "aws_iam_user", "aws_iam_user_login_profile"}


# ---------------------------------------------------------------------------------------------
# Cluster, registry, state
# ---------------------------------------------------------------------------------------------


def test_eks_runs_the_agreed_addons_over_three_zones(main_stack):
    eks = main_stack.modules["eks"]
    assert eks["kubernetes_version"] == "${local.kubernetes_version}"
    assert main_stack.locals["kubernetes_version"] == "1.33"
    assert set(eks["addons"]) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver", "metrics-server"}
    assert "enableNetworkPolicy" in eks["addons"]["vpc-cni"]["configuration_values"]
    (group,) = eks["eks_managed_node_groups"].values()
    assert group["subnet_ids"] == "${module.vpc.private_subnets}"
    assert main_stack.variables["node_min_size"]["default"] >= 3


def test_ecr_is_immutable_scanned_and_pruned(main_stack):
    repo = main_stack.resource("aws_ecr_repository", "app")
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"][0]["scan_on_push"] is True
    assert main_stack.resource("aws_ecr_lifecycle_policy", "app")["repository"] == "${aws_ecr_repository.app.name}"


def test_state_bucket_is_private_versioned_encrypted_and_tls_only(bootstrap_stack):
    versioning = bootstrap_stack.resource("aws_s3_bucket_versioning", "state")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    sse = bootstrap_stack.resource("aws_s3_bucket_server_side_encryption_configuration", "state")
    default = sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"] == "${aws_kms_key.state.arn}"
    block = bootstrap_stack.resource("aws_s3_bucket_public_access_block", "state")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    (statement,) = bootstrap_stack.data[("aws_iam_policy_document", "state")]["statement"]
    assert statement["effect"] == "Deny"
    assert statement["condition"][0]["variable"] == "aws:SecureTransport"
    assert statement["condition"][0]["values"] == ["false"]


def test_locking_is_s3_native(bootstrap_stack, main_stack, backend_configs, tfvars):
    for stack in (bootstrap_stack, main_stack):
        assert not stack.resources_of("aws_dynamodb_table"), "no DynamoDB lock table: use_lockfile is used"
    prefix = bootstrap_stack.variables["state_bucket_prefix"]["default"]
    assert bootstrap_stack.locals["bucket_name"] == "${var.state_bucket_prefix}-${var.environment}"
    for env, backend in backend_configs.items():
        assert backend["use_lockfile"] is True and backend["encrypt"] is True
        assert backend["bucket"] == f"{prefix}-{env}"
        assert backend["region"] == tfvars[env]["region"]
        assert env in backend["key"]
