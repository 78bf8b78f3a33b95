# Connection pooling: RDS Proxy between every web pod and the database; the migration Job connects
# to the instance directly (its advisory lock and DDL timeouts are session state, which a
# transaction pooler would pin or lose). Why RDS Proxy rather than PgBouncer pods in the cluster:
# it is managed and spread over the database subnets' zones, it keeps client connections open
# through a Multi-AZ failover, it reads the credentials from Secrets Manager itself, and it costs
# no image, Deployment or PodDisruptionBudget of ours. Its limit is that it has no reader endpoint
# for an RDS instance, so replica reads go to the replica directly (budgeted in docs/capacity.md).
# The local and test twin is PgBouncer in transaction mode (stack/services/pgbouncer.py).

locals {
  # Every login the proxy accepts: one Secrets Manager secret per database role. The web role of
  # the deploy work (issue 12) joins this list; the owner role used by migrations never does.
  db_proxy_secret_arns = [aws_secretsmanager_secret.database.arn]
}

resource "aws_iam_role" "rds_proxy" {
  name = "${local.name}-rds-proxy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "rds_proxy" {
  name = "read-database-secrets"
  role = aws_iam_role.rds_proxy.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = local.db_proxy_secret_arns
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.secrets.arn]
        Condition = {
          StringEquals = { "kms:ViaService" = "secretsmanager.${var.region}.amazonaws.com" }
        }
      },
    ]
  })
}

resource "aws_security_group" "rds_proxy" {
  name        = "${local.name}-rds-proxy"
  description = "RDS Proxy: PostgreSQL from the EKS pods, onward to the database only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "rds_proxy_from_cluster" {
  security_group_id            = aws_security_group.rds_proxy.id
  description                  = "PostgreSQL from the EKS nodes and pods"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.eks.node_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "rds_proxy_to_database" {
  security_group_id            = aws_security_group.rds_proxy.id
  description                  = "PostgreSQL to the database instance"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_rds_proxy" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from RDS Proxy"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.rds_proxy.id
}

resource "aws_db_proxy" "web" {
  name                   = local.name
  engine_family          = "POSTGRESQL"
  role_arn               = aws_iam_role.rds_proxy.arn
  vpc_subnet_ids         = module.vpc.database_subnets
  vpc_security_group_ids = [aws_security_group.rds_proxy.id]
  require_tls            = true
  # Longer than CONN_MAX_AGE (300 s): the app retires its connections before the proxy does.
  idle_client_timeout = 1800
  debug_logging       = false

  dynamic "auth" {
    for_each = local.db_proxy_secret_arns
    content {
      auth_scheme = "SECRETS"
      secret_arn  = auth.value
      iam_auth    = "DISABLED"
      # Clients log in with SCRAM-SHA-256, RDS Proxy's default for the POSTGRESQL engine family.
    }
  }
}

resource "aws_db_proxy_default_target_group" "web" {
  db_proxy_name = aws_db_proxy.web.name

  connection_pool_config {
    # The proxy's share of the instance's max_connections; the rest is for the migration Job,
    # RDS's reserved superuser slots and operators (tests/scale/test_connection_budget.py).
    max_connections_percent      = var.db_proxy_max_connections_percent
    max_idle_connections_percent = 50
    # A request waits this long for a pooled connection, then fails (the app answers 503).
    connection_borrow_timeout = 10
  }
}

resource "aws_db_proxy_target" "web" {
  db_proxy_name          = aws_db_proxy.web.name
  target_group_name      = aws_db_proxy_default_target_group.web.name
  db_instance_identifier = aws_db_instance.orders.identifier
}
