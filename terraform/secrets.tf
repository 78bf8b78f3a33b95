# The app's credentials live in Secrets Manager, encrypted with their own KMS key, and reach the
# pods through External Secrets. They are generated here, so the Terraform state holds them too:
# the state bucket is KMS-encrypted, versioned and private (see bootstrap/).

resource "aws_secretsmanager_secret" "database" {
  name                    = "${local.secret_path}/database"
  description             = "${local.name}: PostgreSQL connection (username, password, host, port, dbname, engine)"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = local.is_prod ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id = aws_secretsmanager_secret.database.id
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
