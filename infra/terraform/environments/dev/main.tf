# The dev environment: cognigate's two pools (customer, staff) on AWS Cognito.
#
# Every pool setting comes from infra/cognigate.json, which `cognigate infra` generates from cognigate.toml
# and its [environments.dev] table; change cognigate.toml, never the values here. What is decided in this
# file is only what cognigate.toml does not know: the Cognito feature plan, threat protection, client secrets,
# and the optional domains, hosted UI, identity pools and trigger function passed in as variables.
#
#   terraform init -backend-config=<your s3 backend settings>
#   terraform apply -var triggers_lambda_arn=arn:aws:lambda:...:function:cognigate-triggers
#   terraform output -json cognigate_serve_environment   # the COGNIGATE_* settings for `cognigate serve`

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.83, < 7.0"
    }
  }

  # The state holds the app client secrets: keep it in an encrypted S3 bucket with locking. The settings
  # (bucket, key, region, encrypt = true, use_lockfile = true) are given at `terraform init -backend-config=...`.
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      Environment = local.environment
      Service     = local.cognigate.service
    })
  }
}

variable "aws_region" {
  description = "AWS region of the user pools."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-\\d$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "triggers_lambda_arn" {
  description = "ARN of the cognigate-triggers Lambda function, wired to PreSignUp, PostConfirmation, PreTokenGeneration (V2_0) and PostAuthentication of both pools. Null: no triggers."
  type        = string
  default     = null

  validation {
    condition     = var.triggers_lambda_arn == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$", var.triggers_lambda_arn))
    error_message = "triggers_lambda_arn must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:cognigate-triggers)."
  }
}

variable "hosted_ui" {
  description = "Hosted UI per pool (customer, staff): a Cognito domain prefix or a custom domain with its us-east-1 certificate, and the callback and logout URLs."
  type = map(object({
    domain_prefix      = optional(string)
    custom_domain_name = optional(string)
    certificate_arn    = optional(string)
    callback_urls      = list(string)
    logout_urls        = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for pool in keys(var.hosted_ui) : contains(["customer", "staff"], pool)])
    error_message = "hosted_ui keys must be customer or staff."
  }
}

variable "identity_pools" {
  description = "Pools (customer, staff) that get an identity pool handing AWS credentials to signed-in users."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for pool in var.identity_pools : contains(["customer", "staff"], pool)])
    error_message = "identity_pools may only name customer and staff."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

locals {
  environment = "dev"
  cognigate   = jsondecode(file("${path.module}/../../../cognigate.json"))
  pools       = local.cognigate.environments[local.environment].pools

  # Deployment choices cognigate.toml does not make. Dev keeps the cheaper ESSENTIALS plan everywhere.
  deployment = {
    customer = { user_pool_tier = "ESSENTIALS", advanced_security_mode = "OFF", generate_client_secret = false }
    staff    = { user_pool_tier = "ESSENTIALS", advanced_security_mode = "OFF", generate_client_secret = true }
  }

  lambda_triggers = var.triggers_lambda_arn == null ? {} : {
    pre_sign_up          = var.triggers_lambda_arn
    post_confirmation    = var.triggers_lambda_arn
    pre_token_generation = var.triggers_lambda_arn
    post_authentication  = var.triggers_lambda_arn
  }
}

module "pool" {
  source   = "../../modules/cognito"
  for_each = local.pools

  environment  = local.environment
  project_name = local.cognigate.service
  pool         = each.key

  self_sign_up_enabled = each.value.selfSignUp
  enable_mfa           = each.value.mfa != "OFF"
  mfa_configuration    = each.value.mfa == "ON" ? "ON" : "OPTIONAL"
  mfa_methods          = each.value.mfaMethods

  password_minimum_length          = each.value.password.minLength
  password_require_lowercase       = each.value.password.requireLowercase
  password_require_uppercase       = each.value.password.requireUppercase
  password_require_numbers         = each.value.password.requireDigits
  password_require_symbols         = each.value.password.requireSymbols
  temporary_password_validity_days = each.value.password.temporaryPasswordValidityDays

  token_validity_minutes = {
    access  = each.value.tokens.accessMinutes
    id      = each.value.tokens.idMinutes
    refresh = each.value.tokens.refreshMinutes
  }
  refresh_token_rotation               = each.value.tokens.rotateRefresh
  refresh_token_rotation_grace_seconds = each.value.tokens.rotationGraceSeconds

  standard_attributes = [
    for attribute in each.value.standardAttributes : {
      name     = attribute.name
      required = attribute.required
      mutable  = attribute.mutable
    }
  ]
  custom_attributes = [
    for attribute in each.value.customAttributes : {
      name       = attribute.name
      type       = attribute.type
      mutable    = attribute.mutable
      min_length = try(attribute.minLength, null)
      max_length = try(attribute.maxLength, null)
      min        = try(attribute.min, null)
      max        = try(attribute.max, null)
      admin_only = attribute.adminOnly
    }
  ]
  groups = [
    for group in each.value.groups : {
      name        = group.name
      description = group.description
      precedence  = group.precedence
    }
  ]

  user_pool_tier         = local.deployment[each.key].user_pool_tier
  advanced_security_mode = local.deployment[each.key].advanced_security_mode
  generate_client_secret = local.deployment[each.key].generate_client_secret
  lambda_triggers        = local.lambda_triggers

  enable_hosted_ui   = contains(keys(var.hosted_ui), each.key)
  domain_prefix      = try(var.hosted_ui[each.key].domain_prefix, null)
  custom_domain_name = try(var.hosted_ui[each.key].custom_domain_name, null)
  certificate_arn    = try(var.hosted_ui[each.key].certificate_arn, null)
  callback_urls      = try(var.hosted_ui[each.key].callback_urls, [])
  logout_urls        = try(var.hosted_ui[each.key].logout_urls, [])

  enable_identity_pool = contains(var.identity_pools, each.key)
}

output "pools" {
  description = "Per pool: user pool id and ARN, app client id, issuer, domain, hosted UI URL and identity pool id."
  value = {
    for name, pool in module.pool : name => {
      user_pool_id       = pool.user_pool_id
      user_pool_arn      = pool.user_pool_arn
      user_pool_endpoint = pool.user_pool_endpoint
      app_client_id      = pool.app_client_id
      issuer             = pool.issuer
      user_pool_domain   = pool.user_pool_domain
      hosted_ui_url      = pool.hosted_ui_url
      identity_pool_id   = pool.identity_pool_id
    }
  }
}

output "cognigate_serve_environment" {
  description = "COGNIGATE_ENV and the COGNIGATE_POOLS__<POOL>__* settings that make `cognigate serve` use these user pools."
  value       = merge({ COGNIGATE_ENV = local.environment }, [for pool in module.pool : pool.cognigate_serve_environment]...)
}

output "cognigate_serve_secret_environment" {
  description = "The app client secrets under the COGNIGATE_SECRET_<POOL>_CLIENT names cognigate_serve_environment refers to."
  value       = merge({}, [for pool in module.pool : pool.cognigate_serve_secret_environment]...)
  sensitive   = true
}
