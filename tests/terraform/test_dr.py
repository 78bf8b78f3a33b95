"""The second region (terraform/dr.tf), the storage alarm (storage.tf) and the runbook's AWS steps,
read with python-hcl2: prod has a standby in another region built from the same code, and nothing
region-specific is written into the Terraform itself."""

from __future__ import annotations

import re

import pytest

from tests.terraform.terraform_support import load_tfvars

# An AWS region or zone name (us-east-1, eu-north-1a, ap-southeast-2, ...).
REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:north|south|east|west|central|(?:north|south)(?:east|west))-\d[a-z]?\b")


@pytest.fixture(scope="module")
def prod(tfvars) -> dict:
    return tfvars["prod"]


@pytest.fixture(scope="module")
def standby_dir(repo_root, prod):
    return repo_root / "environments" / f"prod-{prod['peer_region']}"


@pytest.fixture(scope="module")
def standby(standby_dir) -> dict:
    assert (standby_dir / "terraform.tfvars").exists(), f"prod's peer_region has no standby environment {standby_dir}"
    return load_tfvars(standby_dir / "terraform.tfvars")


def test_prod_pairs_with_a_standby_of_the_same_environment_in_its_peer_region(prod, standby):
    assert prod.get("region_role", "primary") == "primary"
    assert prod["peer_region"] and prod["peer_region"] != prod["region"]
    assert standby["environment"] == "prod" and standby["region_role"] == "standby"
    assert (standby["region"], standby["peer_region"]) == (prod["peer_region"], prod["region"])
    assert all(az.startswith(standby["region"]) for az in standby["azs"])
    assert standby["vpc_cidr"] != prod["vpc_cidr"]  # peerable later without renumbering


def test_the_standby_keeps_its_state_in_its_own_region_under_its_own_key(repo_root, standby_dir, standby, backend_configs):
    backend = load_tfvars(standby_dir / "backend.hcl")
    assert backend["region"] == standby["region"]
    assert backend["key"] != backend_configs["prod"]["key"] and backend["bucket"] != backend_configs["prod"]["bucket"]
    assert backend["use_lockfile"] is True and backend["encrypt"] is True


def test_primary_side_replicates_backups_and_images_to_the_peer_region(main_stack):
    locals_ = main_stack.locals
    assert locals_["dr_enabled"] == '${var.peer_region != ""}'
    assert locals_["dr_primary"] == '${local.dr_enabled && var.region_role == "primary"}'
    backups = main_stack.resource("aws_db_instance_automated_backups_replication", "orders")
    assert backups["count"] == "${local.dr_primary ? 1 : 0}" and backups["provider"] == "${aws.peer}"
    assert backups["source_db_instance_arn"] == "${aws_db_instance.orders.arn}"
    assert backups["kms_key_id"] == "${aws_kms_key.dr_backups[0].arn}"
    assert main_stack.resource("aws_kms_key", "dr_backups")["provider"] == "${aws.peer}"
    ecr = main_stack.resource("aws_ecr_replication_configuration", "app")
    rule = ecr["replication_configuration"][0]["rule"][0]
    assert rule["destination"][0]["region"] == "${var.peer_region}"
    assert rule["repository_filter"][0]["filter"] == "${aws_ecr_repository.app.name}"
    peer = [p["aws"] for f in main_stack.files.values() for p in f.get("provider", []) if p.get("aws", {}).get("alias") == "peer"]
    assert peer and peer[0]["region"] == "${local.dr_enabled ? var.peer_region : var.region}"


def test_standby_side_replicates_the_primary_database_into_its_own_network(main_stack):
    assert main_stack.locals["dr_standby"] == '${local.dr_enabled && var.region_role == "standby"}'
    source = main_stack.data[("aws_db_instance", "peer_orders")]
    assert source["provider"] == "${aws.peer}" and source["db_instance_identifier"] == "${local.primary_name}"
    replica = main_stack.resource("aws_db_instance", "standby")
    assert replica["count"] == "${local.dr_standby ? 1 : 0}"
    assert replica["replicate_source_db"] == "${var.dr_promoted ? null : data.aws_db_instance.peer_orders[0].db_instance_arn}"
    # once promoted, a plan must not need the (possibly lost) primary region
    assert source["count"] == "${local.dr_standby && !var.dr_promoted ? 1 : 0}"
    assert replica["db_subnet_group_name"] == "${module.vpc.database_subnet_group_name}"
    assert replica["storage_encrypted"] is True and replica["kms_key_id"] == "${aws_kms_key.database.arn}"
    assert replica["backup_retention_period"] == "${var.backup_retention_days}"  # PITR from the moment it is promoted
    lag = main_stack.resource("aws_cloudwatch_metric_alarm", "standby_lag")
    assert lag["metric_name"] == "ReplicaLag" and lag["dimensions"]["DBInstanceIdentifier"] == "${aws_db_instance.standby[0].identifier}"


def test_the_standby_names_differ_where_aws_names_are_global(main_stack):
    # IAM roles and S3 buckets are account-wide: the standby's local.name carries "-dr", primary_name strips it.
    assert main_stack.locals["name"] == 'pizza-${var.environment}${var.region_role == "standby" ? "-dr" : ""}'
    assert main_stack.locals["primary_name"] == '${trimsuffix(local.name, "-dr")}'


def test_the_public_name_fails_over_between_the_two_albs_on_their_health(main_stack):
    check = main_stack.resource("aws_route53_health_check", "web")
    assert check["fqdn"] == "${aws_lb.web.dns_name}" and check["resource_path"] == "/readyz"
    record = main_stack.resource("aws_route53_record", "failover")
    assert record["failover_routing_policy"][0]["type"] == '${var.region_role == "primary" ? "PRIMARY" : "SECONDARY"}'
    assert record["health_check_id"] == "${aws_route53_health_check.web[0].id}"
    assert record["name"] == "${var.domain_name}" and record["alias"][0]["name"] == "${aws_lb.web.dns_name}"
    # the plain record of the same name steps aside, or Route 53 refuses the failover pair
    assert main_stack.resource("aws_route53_record", "web")["count"] == "${local.https && !local.dns_failover ? 1 : 0}"


def strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_nothing_region_specific_is_hard_coded(terraform_dir, main_stack):
    hits = []
    for tf in sorted(terraform_dir.glob("*.tf")):
        if tf.name == "variables.tf":
            continue
        for number, line in enumerate(strip_comments(tf.read_text()).splitlines(), 1):
            hits += [(tf.name, number, m) for m in REGION.findall(line)]
            if re.search(r"arn:aws[\w-]*:[\w-]+:[a-z]{2}-", line):
                hits.append((tf.name, number, "ARN with a region"))
    # The one exception: CloudFront's web ACL and its logs must live in us-east-1 (an AWS rule, not a choice),
    # so that region may appear in the aliased edge provider and in resources created through it only.
    edge = [p["aws"] for f in main_stack.files.values() for p in f.get("provider", []) if p.get("aws", {}).get("alias") == "edge"]
    edge_region = edge[0]["region"] if edge else None
    pinned = [f"{t}.{n}" for (t, n), body in main_stack.resources.items() if edge_region and edge_region in str(body)]
    assert [r for r in pinned if main_stack.resources[tuple(r.split(".", 1))].get("provider") != "${aws.edge}"] == []
    assert [(name, m) for name, _, m in hits if m != edge_region or name not in ("providers.tf", "edge.tf")] == []


def test_the_database_storage_alarm_fires_before_the_autoscaling_ceiling(main_stack, tfvars):
    alarm = main_stack.resource("aws_cloudwatch_metric_alarm", "database_storage")
    assert alarm["metric_name"] == "FreeStorageSpace" and alarm["comparison_operator"] == "LessThanThreshold"
    assert alarm["dimensions"]["DBInstanceIdentifier"] == "${aws_db_instance.orders.identifier}"
    assert "var.db_max_allocated_storage" in alarm["threshold"]
    variables = main_stack.variables
    for env, values in tfvars.items():
        allocated = values.get("db_allocated_storage", variables["db_allocated_storage"]["default"])
        ceiling = values.get("db_max_allocated_storage", variables["db_max_allocated_storage"]["default"])
        assert ceiling > allocated, f"{env}: storage autoscaling needs max_allocated_storage above allocated_storage"


def test_each_environment_runs_the_database_class_docs_capacity_gives_it(repo_root, tfvars):
    table = dict(re.findall(r"^\| (dev|qa|prod) \| [^|]+ \| (db\.[\w.]+) \|", (repo_root / "docs" / "capacity.md").read_text(), re.M))
    assert {env: values["db_instance_class"] for env, values in tfvars.items()} == table


def test_the_runbook_names_what_the_terraform_builds(repo_root, main_stack, prod, standby):
    restore = (repo_root / "docs" / "runbook.md").read_text().split("## Restore", 1)[1]
    # rds.tf names the instance local.name (pizza-<env>); dr.tf the standby's replica "${local.name}-orders",
    # where the standby's local.name is pizza-<env>-dr.
    assert main_stack.resource("aws_db_instance", "orders")["identifier"] == "${local.name}"
    assert main_stack.resource("aws_db_instance", "standby")["identifier"] == "${local.name}-orders"
    primary, replica = "pizza-prod", "pizza-prod-dr-orders"
    region = {"primary": prod["region"], "standby": standby["region"]}
    assert re.search(
        rf"restore-db-instance-to-point-in-time --region {region['primary']} \\\n\s+--source-db-instance-identifier {primary} ", restore
    )
    assert f"promote-read-replica --region {region['standby']} --db-instance-identifier {replica} " in restore
    assert f"--cluster-name {primary}-dr " in restore  # the standby's EKS cluster carries the standby's name
    # no other instance name than the two Terraform builds (and the restore's and fail-back's own new ones)
    names = set(re.findall(r"--db-instance-identifier ([\w$\"-]+)", restore))
    assert names <= {primary, replica, '"$NEW"'}, names
