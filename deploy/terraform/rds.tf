# RDS PostgreSQL 15 in the private subnets. The master password is generated and kept by RDS
# in AWS Secrets Manager (manage_master_user_password): it is never in this code, in a
# variable or in the Terraform state. The app's database is created here (frameforge); the
# Dagster instance's database (dagster) is created once with psql, see deploy/README.md.

resource "aws_db_subnet_group" "main" {
  name       = "${local.name}-postgres"
  subnet_ids = aws_subnet.private[*].id

  tags = {
    Name = "${local.name}-postgres"
  }
}

resource "aws_db_parameter_group" "postgres" {
  name   = "${local.name}-postgres15"
  family = "postgres15"

  # Clients must use TLS (encryption in transit).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_instance" "main" {
  identifier     = "${local.name}-postgres"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name                     = "frameforge"
  username                    = "frameforge"
  manage_master_user_password = true

  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.rds.id]
  parameter_group_name   = aws_db_parameter_group.postgres.name
  publicly_accessible    = false
  multi_az               = var.db_multi_az

  backup_retention_period    = var.db_backup_retention_days
  backup_window              = "03:00-04:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  auto_minor_version_upgrade = true
  copy_tags_to_snapshot      = true

  deletion_protection       = !local.dev
  skip_final_snapshot       = local.dev
  final_snapshot_identifier = local.dev ? null : "${local.name}-postgres-final"

  tags = {
    Name = "${local.name}-postgres"
  }
}
