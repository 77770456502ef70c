# terraform test (offline): every AWS resource is mocked, so a plan and an apply run without
# credentials. Mocked values are plausible (ARNs where the provider validates ARNs).
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/ci"
      user_id    = "AIDAEXAMPLE"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"Service\":\"eks.amazonaws.com\"}}]}"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/codesign-mock"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/mock"
    }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      arn      = "arn:aws:eks:us-west-2:123456789012:cluster/codesign-playground-staging"
      endpoint = "https://ABCDEF0123456789.gr7.us-west-2.eks.amazonaws.com"
      vpc_config = {
        cluster_security_group_id = "sg-0123456789abcdef0"
        vpc_id                    = "vpc-0123456789abcdef0"
      }
    }
  }
  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }
  mock_resource "aws_db_instance" {
    defaults = {
      endpoint = "codesign-playground-staging.abcdefghijkl.us-west-2.rds.amazonaws.com:5432"
      address  = "codesign-playground-staging.abcdefghijkl.us-west-2.rds.amazonaws.com"
    }
  }
  mock_resource "aws_elasticache_replication_group" {
    defaults = {
      primary_endpoint_address = "master.codesign-playground-staging.abcdef.usw2.cache.amazonaws.com"
    }
  }
}

variables {
  db_password      = "test-password-0123456789"
  redis_auth_token = "test-redis-token-0123456789"
}

run "staging_plan" {
  command = plan

  variables {
    environment           = "staging"
    redis_num_cache_nodes = 1
  }

  assert {
    condition     = module.vpc.nat_gateway_count == 1
    error_message = "staging shares one NAT gateway"
  }
  assert {
    condition     = length(module.vpc.private_subnets) == 3
    error_message = "one private subnet per availability zone"
  }
  assert {
    condition     = module.rds.multi_az == false
    error_message = "staging RDS is single-AZ"
  }
  assert {
    condition     = module.elasticache.automatic_failover == false
    error_message = "a single Redis node cannot fail over"
  }
}

run "production_apply" {
  command = apply

  variables {
    environment = "production"
  }

  assert {
    condition     = module.vpc.nat_gateway_count == 3
    error_message = "production has one NAT gateway per availability zone"
  }
  assert {
    condition     = module.rds.multi_az
    error_message = "production RDS is Multi-AZ"
  }
  assert {
    condition     = module.elasticache.automatic_failover
    error_message = "production Redis fails over automatically"
  }
  assert {
    condition     = output.eks_cluster_name == "codesign-playground-production"
    error_message = "cluster name is <project>-<environment>"
  }
  assert {
    condition     = startswith(output.eks_admin_role_arn, "arn:aws:iam::")
    error_message = "admin role ARN"
  }
  assert {
    condition     = module.eks.node_group_scaling.min_size == 3 && module.eks.node_group_scaling.max_size == 20
    error_message = "node group sizes from the variables"
  }
}

run "environment_is_validated" {
  command = plan

  variables {
    environment = "prod"
  }

  expect_failures = [var.environment]
}
