# A read replica of the orders database (qa, prod): the staff table, the experiment report and the
# menu read from it; writes, the status compare-and-set and a visitor's reads for a few seconds
# after they wrote stay on the primary (app/config/routers.py). The pods reach it directly.

resource "aws_db_instance" "replica" {
  count = var.db_replica_enabled ? 1 : 0

  identifier          = "${local.name}-replica"
  replicate_source_db = aws_db_instance.orders.identifier
  instance_class      = coalesce(var.db_replica_instance_class, var.db_instance_class)

  storage_type      = "gp3"
  storage_encrypted = true
  kms_key_id        = aws_kms_key.database.arn

  # A replica in another zone than the primary's; it is not itself Multi-AZ (the primary is).
  multi_az               = false
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.orders.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  apply_immediately                   = !local.is_prod

  # Backups stay with the primary; a replica is rebuilt from it, never restored.
  backup_retention_period = 0
  skip_final_snapshot     = true
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.database.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
}
