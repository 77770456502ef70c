output "vpc_id" {
  description = "VPC id"
  value       = module.vpc.vpc_id
}

output "eks_cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)"
  value       = module.eks.cluster_name
}

output "eks_cluster_endpoint" {
  description = "EKS API endpoint"
  value       = module.eks.cluster_endpoint
}

output "eks_admin_role_arn" {
  description = "IAM role with cluster-admin access"
  value       = aws_iam_role.eks_admin.arn
}

output "db_endpoint" {
  description = "RDS endpoint host:port (DATABASE_URL host)"
  value       = module.rds.endpoint
}

output "redis_primary_endpoint" {
  description = "ElastiCache primary endpoint (REDIS_URL host, rediss://)"
  value       = module.elasticache.primary_endpoint
}
