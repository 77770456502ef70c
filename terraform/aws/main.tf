# AWS infrastructure of codesign-playground: VPC, EKS, RDS PostgreSQL, ElastiCache Redis.
# The modules are local (modules/*), built from aws_* resources, so the configuration
# validates and tests offline. The cluster add-ons and the app itself are installed with
# kubectl/helm afterwards (docs/operations.md), not by Terraform.

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = "codesign-playground"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

locals {
  name = "${var.project_name}-${var.environment}"
}

data "aws_caller_identity" "current" {}

module "vpc" {
  source = "./modules/vpc"

  name                 = local.name
  cidr                 = var.vpc_cidr
  azs                  = var.availability_zones
  private_subnet_cidrs = var.private_subnet_cidrs
  public_subnet_cidrs  = var.public_subnet_cidrs
  single_nat_gateway   = var.environment != "production"
  cluster_name         = local.name
}

# Role that administers the cluster (kubectl); assumed by the account's administrators.
resource "aws_iam_role" "eks_admin" {
  name = "${local.name}-eks-admin"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
    }]
  })
}

module "eks" {
  source = "./modules/eks"

  cluster_name        = local.name
  cluster_version     = var.kubernetes_version
  vpc_id              = module.vpc.vpc_id
  subnet_ids          = module.vpc.private_subnets
  instance_types      = var.node_instance_types
  min_size            = var.node_group_min_size
  max_size            = var.node_group_max_size
  desired_size        = var.node_group_desired_size
  admin_role_arn      = aws_iam_role.eks_admin.arn
  public_access_cidrs = var.eks_public_access_cidrs
  environment         = var.environment
}

module "rds" {
  source = "./modules/rds"

  identifier              = local.name
  subnet_ids              = module.vpc.private_subnets
  security_group_ids      = [aws_security_group.rds.id]
  engine_version          = var.db_engine_version
  instance_class          = var.db_instance_class
  allocated_storage       = var.db_allocated_storage
  max_allocated_storage   = var.db_max_allocated_storage
  db_name                 = var.db_name
  username                = var.db_username
  password                = var.db_password
  backup_retention_period = var.db_backup_retention_period
  multi_az                = var.environment == "production"
  deletion_protection     = var.environment == "production"
  skip_final_snapshot     = var.environment != "production"
}

module "elasticache" {
  source = "./modules/elasticache"

  replication_group_id = local.name
  description          = "Redis cluster for ${var.project_name}"
  subnet_ids           = module.vpc.private_subnets
  security_group_ids   = [aws_security_group.redis.id]
  node_type            = var.redis_node_type
  num_cache_clusters   = var.redis_num_cache_nodes
  auth_token           = var.redis_auth_token
}
