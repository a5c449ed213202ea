# PostgreSQL is reachable only from the EKS nodes: the managed node group (no launch template)
# runs its nodes in the cluster security group that EKS creates, and that group is the only
# source the RDS group admits, on 5432. RDS needs no egress rule.

resource "aws_security_group" "rds" {
  name        = "${local.name}-postgres"
  description = "PostgreSQL, from the EKS nodes only"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "${local.name}-postgres"
  }
}

resource "aws_vpc_security_group_ingress_rule" "rds_from_eks_nodes" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from the EKS nodes"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
}
