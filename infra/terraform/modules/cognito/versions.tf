terraform {
  # 1.9: validation rules may refer to other variables (hosted UI needs a domain, prod keeps deletion
  # protection, ...), so a bad combination fails at plan time instead of half-way through an apply.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # user_pool_tier arrived in 5.83 (pre_token_generation_config with V2_0 events and deletion_protection
      # before it); 6.x is accepted as well.
      version = ">= 5.83, < 7.0"
    }
  }
}
