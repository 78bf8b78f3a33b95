# Disaster recovery: a second region that can take over (docs/runbook.md, "Restore" and "Region failover").
#
# One root module, applied twice per environment: environments/<env>/ (region_role = "primary") and
# environments/<env>-<region>/ (region_role = "standby", the same environment's variants and values,
# its own tfvars, state bucket and key). Nothing here names a region: region and peer_region come from
# the tfvars of each side.
#
# - primary side: automated backups (and their WAL) replicated to peer_region, so point-in-time
#   restore works there even when the primary region is gone; images replicated to peer_region's ECR.
# - standby side: a cross-region read replica of the primary database in the standby's own VPC,
#   promoted by the runbook when the primary region is lost; the same EKS/ALB stack, scaled down.
# - both sides (dns_failover): the public name as Route 53 failover records, PRIMARY on the primary's
#   ALB and SECONDARY on the standby's, each with a health check on /readyz through its ALB. Refused
#   with edge_certificate_arn (variables.tf): only one CloudFront distribution may hold the name, so
#   these records would bypass the edge; alb.tf's plain record points at the edge instead.
#
# RPO: replica lag (seconds; alarm below) when the replica is promoted; about 5 minutes (the interval
# at which RDS ships WAL) when restoring from the replicated backups. RTO: about 30 minutes, the
# promotion (~5-10 min) plus pointing the standby releases at it and scaling the nodes (runbook).

locals {
  dr_enabled   = var.peer_region != ""
  dr_primary   = local.dr_enabled && var.region_role == "primary"
  dr_standby   = local.dr_enabled && var.region_role == "standby"
  dns_failover = local.dr_enabled && var.dns_failover && local.https
  # The primary's name: the standby side's local.name carries a "-dr" suffix (main.tf), because IAM
  # roles and S3 buckets are global and both sides live in one account.
  primary_name = trimsuffix(local.name, "-dr")
}

# The other region of the pair. Unused (pointed at var.region) when peer_region is empty.
provider "aws" {
  alias  = "peer"
  region = local.dr_enabled ? var.peer_region : var.region

  default_tags {
    tags = local.tags
  }
}

# --- Primary side: backups and images in the peer region ------------------------------------------

resource "aws_kms_key" "dr_backups" {
  count    = local.dr_primary ? 1 : 0
  provider = aws.peer

  description             = "${local.name}: automated backups replicated from ${var.region}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.key_admin_statement]
  })
}

# Snapshots and transaction logs copied to peer_region: restore-db-instance-to-point-in-time works there
# with --source-db-instance-automated-backups-arn.
resource "aws_db_instance_automated_backups_replication" "orders" {
  count    = local.dr_primary ? 1 : 0
  provider = aws.peer

  source_db_instance_arn = aws_db_instance.orders.arn
  retention_period       = var.dr_backup_retention_days
  kms_key_id             = aws_kms_key.dr_backups[0].arn
}

# Every image pushed here also lands in peer_region, under the same repository name, for the standby's
# releases. A registry has one replication configuration: this stack owns it in its account and region.
resource "aws_ecr_replication_configuration" "app" {
  count = local.dr_primary ? 1 : 0

  replication_configuration {
    rule {
      destination {
        region      = var.peer_region
        registry_id = local.account_id
      }
      repository_filter {
        filter      = aws_ecr_repository.app.name
        filter_type = "PREFIX_MATCH"
      }
    }
  }
}

# --- Standby side: the cross-region read replica ----------------------------------------------------

# Not read once promoted: the primary region may be unreachable then, and a refresh must not need it.
data "aws_db_instance" "peer_orders" {
  count    = local.dr_standby && !var.dr_promoted ? 1 : 0
  provider = aws.peer

  db_instance_identifier = local.primary_name
}

resource "aws_db_instance" "standby" {
  count = local.dr_standby ? 1 : 0

  identifier = "${local.name}-orders"
  # dr_promoted (runbook, after promote-read-replica) records that it is a primary now.
  replicate_source_db = var.dr_promoted ? null : data.aws_db_instance.peer_orders[0].db_instance_arn
  instance_class      = coalesce(var.dr_db_instance_class, var.db_instance_class)

  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.database.arn
  max_allocated_storage = var.db_max_allocated_storage

  # Multi-AZ already while it replicates: promoted, it is at once the primary prod needs, with no
  # conversion to wait for during the incident (it doubles the replica's instance cost).
  multi_az               = true
  db_subnet_group_name   = module.vpc.database_subnet_group_name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.orders.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  apply_immediately                   = !local.is_prod

  # Backups from the start: once promoted it is the primary, with point-in-time restore of its own.
  backup_retention_period   = var.backup_retention_days
  backup_window             = "02:00-03:00"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !local.is_prod
  final_snapshot_identifier = "${local.name}-orders-final"

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.database.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
}

# The replica's lag is the data a promotion would lose (the RPO): page before it grows.
resource "aws_cloudwatch_metric_alarm" "standby_lag" {
  count = local.dr_standby ? 1 : 0

  alarm_name          = "${local.name}-standby-replica-lag"
  alarm_description   = "Cross-region replica lag above ${var.dr_max_lag_seconds}s: a failover now would lose that much (docs/runbook.md, Region failover)."
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.standby[0].identifier }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.dr_max_lag_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
}

# --- Both sides: the public name fails over between the two ALBs ------------------------------------

resource "aws_route53_health_check" "web" {
  count = local.dns_failover ? 1 : 0

  fqdn              = aws_lb.web.dns_name
  port              = 443
  type              = "HTTPS"
  resource_path     = "/readyz"
  request_interval  = 10
  failure_threshold = 3
  measure_latency   = true
  tags              = { Name = "${local.name}-${var.region_role}" }
}

resource "aws_route53_record" "failover" {
  count = local.dns_failover ? 1 : 0

  zone_id         = data.aws_route53_zone.web[0].zone_id
  name            = var.domain_name
  type            = "A"
  set_identifier  = "${local.name}-${var.region_role}"
  health_check_id = aws_route53_health_check.web[0].id

  failover_routing_policy {
    type = var.region_role == "primary" ? "PRIMARY" : "SECONDARY"
  }

  alias {
    name                   = aws_lb.web.dns_name
    zone_id                = aws_lb.web.zone_id
    evaluate_target_health = true
  }
}
