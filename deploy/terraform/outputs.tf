output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.main.id
}

output "public_subnet_ids" {
  description = "The public subnets."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "The private subnets (EKS nodes, RDS)."
  value       = aws_subnet.private[*].id
}

output "rds_endpoint" {
  description = "host:port of the PostgreSQL instance."
  value       = aws_db_instance.main.endpoint
}

output "database_url_template" {
  description = "DATABASE_URL without its password (read it from rds_master_user_secret_arn)."
  value       = "postgresql+psycopg://${aws_db_instance.main.username}:PASSWORD@${aws_db_instance.main.endpoint}/${aws_db_instance.main.db_name}?sslmode=require"
}

output "rds_master_user_secret_arn" {
  description = "Secrets Manager secret holding the RDS master user's password (managed by RDS)."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "jwt_secret_arn" {
  description = "Secrets Manager secret holding the API's JWT_SECRET."
  value       = aws_secretsmanager_secret.jwt_secret.arn
}

output "s3_uploads_bucket" {
  description = "FRAMEFORGE_S3_UPLOADS_BUCKET."
  value       = aws_s3_bucket.main["uploads"].id
}

output "s3_results_bucket" {
  description = "FRAMEFORGE_S3_RESULTS_BUCKET."
  value       = aws_s3_bucket.main["results"].id
}

output "eks_cluster_name" {
  description = "aws eks update-kubeconfig --name <this>"
  value       = aws_eks_cluster.main.name
}

output "eks_cluster_endpoint" {
  description = "The Kubernetes API endpoint."
  value       = aws_eks_cluster.main.endpoint
}

output "eks_cluster_security_group_id" {
  description = "The cluster security group (the nodes'), the only source RDS admits."
  value       = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
}

output "frameforge_pod_role_arn" {
  description = "IAM role of the FrameForge service account (S3 buckets, secrets)."
  value       = aws_iam_role.frameforge_pods.arn
}
