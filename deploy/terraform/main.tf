locals {
  name = "${var.project}-${var.environment}"
  dev  = var.environment == "dev"
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_caller_identity" "current" {}
