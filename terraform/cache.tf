# The shared cache: ElastiCache for Valkey (Redis-compatible) with TLS in transit, encryption at
# rest and an auth token. The app keeps switches, sessions (cached_db) and counters there; it is
# an optimisation, never a dependency: with the cache down, orders still go through the database.
# The pods get REDIS_URL (rediss://, token included) from Secrets Manager through External Secrets.

resource "random_password" "cache_auth" {
  length  = 64
  special = false # the token sits inside a rediss:// URL; ElastiCache also refuses some symbols
}

resource "aws_security_group" "cache" {
  name        = "${local.name}-cache"
  description = "Valkey: reachable on 6379 from the EKS nodes and pods only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "cache_from_cluster" {
  security_group_id            = aws_security_group.cache.id
  description                  = "Valkey (TLS) from the EKS nodes and pods"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = module.eks.node_security_group_id
}

resource "aws_elasticache_subnet_group" "cache" {
  name       = "${local.name}-cache"
  subnet_ids = module.vpc.database_subnets
}

resource "aws_cloudwatch_log_group" "cache" {
  name              = "/aws/elasticache/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_elasticache_replication_group" "cache" {
  replication_group_id = local.name
  description          = "${local.name}: switches, sessions and counters shared by every variant"
  engine               = "valkey"
  engine_version       = "8.0"
  node_type            = var.cache_node_type
  port                 = 6379
  # Two nodes in two zones: a failover keeps sessions and counters (and qa rehearses what prod runs).
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.cache.name
  security_group_ids = [aws_security_group.cache.id]

  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.database.arn
  auth_token                 = random_password.cache_auth.result

  auto_minor_version_upgrade = true
  apply_immediately          = !local.is_prod
  snapshot_retention_limit   = local.is_prod ? 1 : 0
  maintenance_window         = "sun:04:30-sun:05:30"

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.cache.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "engine-log"
  }
}

resource "aws_secretsmanager_secret" "cache" {
  name                    = "${local.secret_path}/cache"
  description             = "${local.name}: REDIS_URL of the shared cache (rediss://, auth token included)"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = local.is_prod ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "cache" {
  secret_id = aws_secretsmanager_secret.cache.id
  secret_string = jsonencode({
    # The chart's ExternalSecret reads `url` into REDIS_URL (chart value cache.enabled).
    url        = "rediss://:${random_password.cache_auth.result}@${aws_elasticache_replication_group.cache.primary_endpoint_address}:6379/0"
    auth_token = random_password.cache_auth.result
  })
}
