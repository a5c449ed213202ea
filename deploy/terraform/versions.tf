# Terraform and provider versions, pinned. Run `terraform init` once on a machine with network
# access and commit the .terraform.lock.hcl it writes (it records the providers' checksums).
terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.70.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.6.3"
    }
  }

  # State holds the generated JWT secret: keep it in an encrypted, access-controlled backend.
  # Uncomment and fill in for a shared environment (the bucket and table must exist first):
  # backend "s3" {
  #   bucket         = "my-terraform-state"
  #   key            = "frameforge/dev/terraform.tfstate"
  #   region         = "us-east-1"
  #   encrypt        = true
  #   dynamodb_table = "terraform-locks"
  # }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
