# The API's JWT_SECRET: generated, stored in Secrets Manager (the seed's recovery window of 0
# days: a destroyed environment's secret is deleted at once). Its value is in the Terraform
# state (keep the state encrypted, see versions.tf); the database password is not (rds.tf).

resource "random_password" "jwt_secret" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "jwt_secret" {
  name                    = "${local.name}/jwt-secret"
  description             = "FrameForge API JWT_SECRET (token and signed-URL key)"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "jwt_secret" {
  secret_id     = aws_secretsmanager_secret.jwt_secret.id
  secret_string = random_password.jwt_secret.result
}
