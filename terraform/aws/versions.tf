terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  # Settings come from -backend-config at init (docs/operations.md):
  #   terraform init -backend-config=environments/production.s3.tfbackend
  backend "s3" {}
}
