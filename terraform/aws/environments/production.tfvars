environment = "production"
# db_password and redis_auth_token: TF_VAR_db_password / TF_VAR_redis_auth_token
