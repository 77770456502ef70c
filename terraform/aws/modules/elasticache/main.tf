# ElastiCache Redis 7 replication group: encrypted at rest and in transit (AUTH token),
# automatic failover with two or more nodes.
variable "replication_group_id" { type = string }
variable "description" { type = string }
variable "subnet_ids" { type = list(string) }
variable "security_group_ids" { type = list(string) }
variable "node_type" { type = string }
variable "num_cache_clusters" { type = number }
variable "auth_token" {
  type      = string
  sensitive = true
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.replication_group_id
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.replication_group_id
  description          = var.description

  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = "default.redis7"
  num_cache_clusters   = var.num_cache_clusters

  automatic_failover_enabled = var.num_cache_clusters > 1
  multi_az_enabled           = var.num_cache_clusters > 1

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = var.security_group_ids

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = var.auth_token
  auto_minor_version_upgrade = true

  snapshot_retention_limit = 7
  snapshot_window          = "02:00-03:00"
  maintenance_window       = "sun:05:00-sun:06:00"

  tags = { Name = var.replication_group_id }
}

output "primary_endpoint" { value = aws_elasticache_replication_group.this.primary_endpoint_address }
output "automatic_failover" { value = aws_elasticache_replication_group.this.automatic_failover_enabled }
