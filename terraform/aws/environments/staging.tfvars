environment                = "staging"
node_instance_types        = ["m5.large"]
node_group_min_size        = 2
node_group_max_size        = 6
node_group_desired_size    = 2
db_instance_class          = "db.t4g.large"
db_allocated_storage       = 50
db_max_allocated_storage   = 200
db_backup_retention_period = 7
redis_node_type            = "cache.t4g.medium"
redis_num_cache_nodes      = 1
# db_password and redis_auth_token: TF_VAR_db_password / TF_VAR_redis_auth_token
