# The database grows without a person: RDS storage autoscaling (rds.tf: allocated_storage up to
# max_allocated_storage, in steps of at least 10% when less than 10% is free) and an alarm before the
# ceiling is reached, when a person must raise db_max_allocated_storage or archive old orders.
#
# While storage can still grow, autoscaling keeps free space above ~10% of the allocation; it waits
# 6 hours between two growths. Free space under 10% of the ceiling therefore means either the ceiling
# is close or the data grows faster than autoscaling follows: both need a person within hours.

resource "aws_cloudwatch_metric_alarm" "database_storage" {
  alarm_name          = "${local.name}-database-storage-near-ceiling"
  alarm_description   = "Free storage under 10% of db_max_allocated_storage (${var.db_max_allocated_storage} GiB): raise it or archive orders (docs/runbook.md, DatabaseStorageNearCeiling)."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.orders.identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.db_max_allocated_storage * 0.1 * 1073741824 # bytes
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
}
