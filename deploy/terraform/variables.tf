variable "project" {
  description = "Name prefix of every resource."
  type        = string
  default     = "frameforge"
}

variable "environment" {
  description = "Environment name (dev, staging, prod): part of names, and dev relaxes deletion safeguards."
  type        = string
  default     = "dev"
}

variable "aws_region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

# --- network --------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "public_subnet_cidrs" {
  description = "Public subnets, one per availability zone (load balancers, the NAT gateway)."
  type        = list(string)
  default     = ["10.0.1.0/24", "10.0.2.0/24"]
}

variable "private_subnet_cidrs" {
  description = "Private subnets, one per availability zone (EKS nodes, RDS)."
  type        = list(string)
  default     = ["10.0.10.0/24", "10.0.11.0/24"]
}

# --- database -------------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL version of the RDS instance (major only: RDS picks the current minor)."
  type        = string
  default     = "15"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t3.micro"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the RDS instance, in GB (it grows up to db_max_allocated_storage_gb)."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling limit of the RDS instance, in GB."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Whether RDS keeps a standby in a second availability zone."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups."
  type        = number
  default     = 7
}

# --- object storage -------------------------------------------------------------------------

variable "bucket_suffix" {
  description = "Appended to the bucket names, which are global across AWS accounts (e.g. the account id)."
  type        = string
  default     = ""
}

variable "web_origins" {
  description = "Origins of the web page (FRAMEFORGE_PUBLIC_URL's scheme and host, e.g. https://frames.example.com) allowed to upload to the uploads bucket from a browser; empty: none."
  type        = list(string)
  default     = []
}

variable "glacier_transition_days" {
  description = "Days after which current objects move to S3 Glacier."
  type        = number
  default     = 30
}

variable "noncurrent_version_days" {
  description = "Days after which an object's noncurrent versions (left by an overwrite or a delete) expire, on every prefix of both buckets; deleted data must not outlive this."
  type        = number
  default     = 1

  validation {
    condition     = var.noncurrent_version_days >= 1 && var.noncurrent_version_days <= 7
    error_message = "noncurrent_version_days must be 1 to 7: deleted videos must not stay readable by version id."
  }
}

variable "incomplete_multipart_upload_days" {
  description = "Days after which an unfinished multipart upload is aborted and its parts deleted."
  type        = number
  default     = 7
}

# --- Kubernetes -----------------------------------------------------------------------------

variable "eks_version" {
  description = "Kubernetes version of the EKS cluster (1.28 or later)."
  type        = string
  default     = "1.31"

  validation {
    condition     = tonumber(split(".", var.eks_version)[0]) == 1 && tonumber(split(".", var.eks_version)[1]) >= 28
    error_message = "eks_version must be 1.28 or later."
  }
}

variable "eks_public_access_cidrs" {
  description = "Addresses allowed to reach the EKS API endpoint from the internet."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "node_instance_types" {
  description = "Instance types of the managed node group (video runs want 2 GiB or more each: consider t3.large)."
  type        = list(string)
  default     = ["t3.small"]
}

variable "node_min_size" {
  description = "Fewest nodes of the managed node group."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Most nodes of the managed node group."
  type        = number
  default     = 10
}

variable "node_desired_size" {
  description = "Nodes at creation (then the cluster autoscaler's)."
  type        = number
  default     = 2
}

variable "kubernetes_namespace" {
  description = "Namespace of the FrameForge workloads (EKS Pod Identity association)."
  type        = string
  default     = "frameforge"
}

variable "kubernetes_service_account" {
  description = "Service account of the FrameForge pods, which get the S3 and Secrets Manager role."
  type        = string
  default     = "frameforge"
}
