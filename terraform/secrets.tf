# The app's credentials live in Secrets Manager, encrypted with their own KMS key, and reach the
# pods through External Secrets. They are generated here, so the Terraform state holds them too:
# the state bucket is KMS-encrypted, versioned and private (see bootstrap/).

# Two roles: the web pods connect as pizza_web (rows only, no DDL; created and kept in step by the
# migration job's first step, `manage.py ensure_web_role`), and only the migration job uses the
# owner (the RDS master user), from its own secret.
resource "random_password" "database_web" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "database" {
  name                    = "${local.secret_path}/database"
  description             = "${local.name}: PostgreSQL connection of the web pods (role pizza_web: rows only)"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = local.is_prod ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id = aws_secretsmanager_secret.database.id
  secret_string = jsonencode({
    username = "pizza_web"
    password = random_password.database_web.result
    host     = aws_db_instance.orders.address
    port     = aws_db_instance.orders.port
    dbname   = aws_db_instance.orders.db_name
    engine   = "postgres"
  })
}

resource "aws_secretsmanager_secret" "database_owner" {
  name                    = "${local.secret_path}/database-owner"
  description             = "${local.name}: PostgreSQL owner (the RDS master user): migrations only"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = local.is_prod ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "database_owner" {
  secret_id = aws_secretsmanager_secret.database_owner.id
  secret_string = jsonencode({
    username = aws_db_instance.orders.username
    password = random_password.database.result
    host     = aws_db_instance.orders.address
    port     = aws_db_instance.orders.port
    dbname   = aws_db_instance.orders.db_name
    engine   = "postgres"
  })
}

resource "random_password" "django_secret_key" {
  length  = 64
  special = true
}

resource "aws_secretsmanager_secret" "django" {
  name                    = "${local.secret_path}/django"
  description             = "${local.name}: Django SECRET_KEY shared by every variant (sessions survive a switch)"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = local.is_prod ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "django" {
  secret_id = aws_secretsmanager_secret.django.id
  secret_string = jsonencode({
    SECRET_KEY = random_password.django_secret_key.result
  })
}
