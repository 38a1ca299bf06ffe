# What the module plans for each kind of pool and environment, with a mocked AWS provider (no account, no
# network): naming, MFA, password policy, token lifetimes, groups, triggers, deletion protection.

mock_provider "aws" {}

variables {
  environment = "dev"
  pool        = "customer"
}

run "dev_defaults" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.name == "dev-cognigate-cognito-customer-user-pool"
    error_message = "user pool name must follow {environment}-{project_name}-cognito-{pool}-user-pool"
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.name == "dev-cognigate-cognito-customer-app-client"
    error_message = "app client name must follow {environment}-{project_name}-cognito-{pool}-app-client"
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OFF"
    error_message = "MFA is off by default in dev (the brief: enable_mfa defaults to false for dev)"
  }

  assert {
    condition     = length(aws_cognito_user_pool.this.software_token_mfa_configuration) == 0
    error_message = "TOTP must not be configured while MFA is off"
  }

  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "INACTIVE"
    error_message = "dev pools can be deleted"
  }

  assert {
    condition = (
      aws_cognito_user_pool.this.password_policy[0].minimum_length == 12 &&
      aws_cognito_user_pool.this.password_policy[0].require_lowercase &&
      aws_cognito_user_pool.this.password_policy[0].require_uppercase &&
      aws_cognito_user_pool.this.password_policy[0].require_numbers &&
      aws_cognito_user_pool.this.password_policy[0].require_symbols &&
      aws_cognito_user_pool.this.password_policy[0].temporary_password_validity_days == 7
    )
    error_message = "default password policy: 12 characters, all four character classes, 7-day temporary passwords"
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this.access_token_validity == 60 &&
      aws_cognito_user_pool_client.this.id_token_validity == 60 &&
      aws_cognito_user_pool_client.this.refresh_token_validity == 43200 &&
      aws_cognito_user_pool_client.this.token_validity_units[0].access_token == "minutes" &&
      aws_cognito_user_pool_client.this.token_validity_units[0].id_token == "minutes" &&
      aws_cognito_user_pool_client.this.token_validity_units[0].refresh_token == "minutes"
    )
    error_message = "default lifetimes: 1 hour access and ID tokens, 30-day refresh tokens, recorded in minutes"
  }

  assert {
    condition     = aws_cognito_user_pool.this.username_configuration[0].case_sensitive == false
    error_message = "user names (email addresses) are case-insensitive by default"
  }

  assert {
    condition     = aws_cognito_user_pool.this.username_attributes == toset(["email"]) && aws_cognito_user_pool.this.auto_verified_attributes == toset(["email"])
    error_message = "users sign in with a verified email address"
  }

  assert {
    condition     = aws_cognito_user_pool.this.admin_create_user_config[0].allow_admin_create_user_only
    error_message = "self sign-up is off unless asked for"
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.generate_secret && aws_cognito_user_pool_client.this.enable_token_revocation && aws_cognito_user_pool_client.this.prevent_user_existence_errors == "ENABLED"
    error_message = "the client has a secret by default, revocable tokens, and hides whether a user exists"
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.explicit_auth_flows == toset(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"])
    error_message = "cognigate signs in with USER_PASSWORD_AUTH; a rotating client (the default) does not allow REFRESH_TOKEN_AUTH, which Cognito refuses there"
  }

  assert {
    condition = (
      one(aws_cognito_user_pool_client.this.refresh_token_rotation[*].feature) == "ENABLED" &&
      one(aws_cognito_user_pool_client.this.refresh_token_rotation[*].retry_grace_period_seconds) == 10
    )
    error_message = "the client rotates refresh tokens by default, with cognigate.toml's default 10-second grace period"
  }

  assert {
    condition     = length(aws_cognito_user_pool_domain.this) == 0 && length(aws_cognito_identity_pool.this) == 0 && length(aws_iam_role.authenticated) == 0
    error_message = "domain and identity pool are off by default"
  }

  assert {
    condition     = length(aws_cognito_user_group.this) == 0 && length(aws_lambda_permission.trigger) == 0 && length(aws_cognito_user_pool.this.lambda_config) == 0
    error_message = "no groups and no triggers unless given"
  }

  assert {
    condition     = aws_cognito_user_pool.this.user_pool_tier == "ESSENTIALS" && length(aws_cognito_user_pool.this.user_pool_add_ons) == 0
    error_message = "ESSENTIALS plan without threat protection by default"
  }

  assert {
    condition = (
      aws_cognito_user_pool.this.tags["Environment"] == "dev" && aws_cognito_user_pool.this.tags["Pool"] == "customer" &&
      aws_cognito_user_pool.this.tags["Project"] == "cognigate" && aws_cognito_user_pool.this.tags["Name"] == "dev-cognigate-cognito-customer-user-pool"
    )
    error_message = "user pool tags name the environment, project, pool and resource"
  }

  assert {
    condition = toset(aws_cognito_user_pool_client.this.write_attributes) == toset(["email"]) && toset(aws_cognito_user_pool_client.this.read_attributes) == toset([
      "email", "email_verified", "custom:role", "custom:base_type", "custom:tier", "custom:team", "custom:onboarding",
    ])
    error_message = "the client reads every attribute but cannot write cognigate's admin-only ones"
  }
}

run "staging_turns_mfa_on_by_default" {
  command = plan

  variables {
    environment = "staging"
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OPTIONAL" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "outside dev, MFA is offered (OPTIONAL, TOTP) unless enable_mfa = false"
  }

  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "INACTIVE"
    error_message = "only prod forces deletion protection"
  }
}

run "prod_staff_pool" {
  command = plan

  variables {
    environment             = "prod"
    pool                    = "staff"
    project_name            = "marketplace"
    mfa_configuration       = "ON"
    password_minimum_length = 14
    user_pool_tier          = "PLUS"
    advanced_security_mode  = "ENFORCED"
    token_validity_minutes  = { access = 10, id = 10, refresh = 480 }
    standard_attributes = [
      { name = "email", required = true },
      { name = "given_name", required = true },
      { name = "family_name", required = true },
    ]
    groups = [
      { name = "super_admin", description = "Owns the installation", precedence = 10 },
      { name = "admin", description = "Runs day-to-day operations", precedence = 20 },
      { name = "manager", description = "Leads one team", precedence = 30 },
      { name = "team_member", description = "Works in one team", precedence = 40 },
    ]
  }

  assert {
    condition     = aws_cognito_user_pool.this.name == "prod-marketplace-cognito-staff-user-pool" && aws_cognito_user_pool_client.this.name == "prod-marketplace-cognito-staff-app-client"
    error_message = "names follow {environment}-{project_name}-cognito-{pool}-{resource_type}"
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "ON" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "staff MFA is required, with TOTP"
  }

  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "ACTIVE"
    error_message = "prod pools have deletion protection without being asked"
  }

  assert {
    condition     = aws_cognito_user_pool.this.password_policy[0].minimum_length == 14
    error_message = "password_minimum_length reaches the pool"
  }

  assert {
    condition     = aws_cognito_user_pool.this.user_pool_tier == "PLUS" && aws_cognito_user_pool.this.user_pool_add_ons[0].advanced_security_mode == "ENFORCED"
    error_message = "threat protection is enforced on the PLUS plan"
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this.access_token_validity == 10 &&
      aws_cognito_user_pool_client.this.id_token_validity == 10 &&
      aws_cognito_user_pool_client.this.refresh_token_validity == 480
    )
    error_message = "token_validity_minutes sets exact lifetimes"
  }

  assert {
    condition     = length(aws_cognito_user_group.this) == 4
    error_message = "one group per staff role"
  }

  assert {
    condition = (
      aws_cognito_user_group.this["super_admin"].precedence == 10 &&
      aws_cognito_user_group.this["team_member"].precedence == 40 &&
      aws_cognito_user_group.this["manager"].description == "Leads one team"
    )
    error_message = "groups keep their precedence and description"
  }

  assert {
    condition     = toset(aws_cognito_user_pool_client.this.write_attributes) == toset(["email", "given_name", "family_name"])
    error_message = "staff cannot write role, base_type, tier, team or onboarding through the client"
  }
}

run "hours_and_days_variables" {
  command = plan

  variables {
    token_validity_access  = 2
    token_validity_id      = 3
    token_validity_refresh = 7
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this.access_token_validity == 120 &&
      aws_cognito_user_pool_client.this.id_token_validity == 180 &&
      aws_cognito_user_pool_client.this.refresh_token_validity == 10080
    )
    error_message = "token_validity_access/id are hours and token_validity_refresh days, converted to minutes"
  }
}

run "rotation_with_the_given_grace_period" {
  command = plan

  variables {
    environment                          = "prod"
    pool                                 = "staff"
    refresh_token_rotation_grace_seconds = 0
    explicit_auth_flows                  = ["ALLOW_USER_PASSWORD_AUTH"]
  }

  assert {
    condition = (
      one(aws_cognito_user_pool_client.this.refresh_token_rotation[*].feature) == "ENABLED" &&
      one(aws_cognito_user_pool_client.this.refresh_token_rotation[*].retry_grace_period_seconds) == 0
    )
    error_message = "refresh_token_rotation_grace_seconds reaches the client, 0 (no grace) included"
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.explicit_auth_flows == toset(["ALLOW_USER_PASSWORD_AUTH"])
    error_message = "a rotating client gets exactly the given sign-in flows, without REFRESH_TOKEN_AUTH"
  }
}

run "rotation_off_allows_refresh_token_auth" {
  command = plan

  variables {
    refresh_token_rotation               = false
    refresh_token_rotation_grace_seconds = 30
  }

  assert {
    condition     = length(aws_cognito_user_pool_client.this.refresh_token_rotation) == 0
    error_message = "refresh_token_rotation = false configures no rotation (the grace period is ignored)"
  }

  assert {
    condition = aws_cognito_user_pool_client.this.explicit_auth_flows == toset([
      "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
    ])
    error_message = "without rotation the client refreshes with REFRESH_TOKEN_AUTH, which the module adds"
  }
}

run "rotation_off_keeps_a_listed_refresh_flow" {
  command = plan

  variables {
    refresh_token_rotation = false
    explicit_auth_flows    = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.explicit_auth_flows == toset(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "a caller that still lists ALLOW_REFRESH_TOKEN_AUTH (the old default) keeps it, once, while rotation is off"
  }
}

run "explicit_mfa_off_and_no_secret" {
  command = plan

  variables {
    environment            = "prod"
    enable_mfa             = false
    generate_client_secret = false
    self_sign_up_enabled   = true
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OFF"
    error_message = "enable_mfa = false turns MFA off even in prod"
  }

  assert {
    condition     = aws_cognito_user_pool_client.this.generate_secret == false
    error_message = "generate_client_secret = false gives a public client"
  }

  assert {
    condition     = aws_cognito_user_pool.this.admin_create_user_config[0].allow_admin_create_user_only == false
    error_message = "self_sign_up_enabled lets anyone register"
  }
}

run "triggers_use_pre_token_generation_v2" {
  command = plan

  variables {
    lambda_triggers = {
      pre_sign_up          = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers"
      post_confirmation    = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers"
      pre_token_generation = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers"
      post_authentication  = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers"
    }
  }

  assert {
    condition = (
      aws_cognito_user_pool.this.lambda_config[0].pre_token_generation_config[0].lambda_version == "V2_0" &&
      aws_cognito_user_pool.this.lambda_config[0].pre_token_generation_config[0].lambda_arn == "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers" &&
      aws_cognito_user_pool.this.lambda_config[0].pre_sign_up == "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers" &&
      aws_cognito_user_pool.this.lambda_config[0].post_confirmation == "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers" &&
      aws_cognito_user_pool.this.lambda_config[0].post_authentication == "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers"
    )
    error_message = "all four triggers are wired, pre token generation with V2_0 events"
  }

  assert {
    condition     = length(aws_lambda_permission.trigger) == 4 && alltrue([for permission in aws_lambda_permission.trigger : permission.principal == "cognito-idp.amazonaws.com"])
    error_message = "Cognito may invoke the function once per trigger"
  }

  assert {
    condition     = aws_lambda_permission.trigger["pre_token_generation"].statement_id == "dev-cognigate-cognito-customer-pre-token-generation"
    error_message = "permission statements are named per pool and trigger"
  }
}

run "one_trigger_only" {
  command = plan

  variables {
    lambda_triggers = {
      post_confirmation = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers:live"
    }
    create_lambda_permissions = false
  }

  assert {
    condition = (
      length(aws_cognito_user_pool.this.lambda_config[0].pre_token_generation_config) == 0 &&
      aws_cognito_user_pool.this.lambda_config[0].pre_sign_up == null &&
      aws_cognito_user_pool.this.lambda_config[0].post_confirmation == "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers:live"
    )
    error_message = "only the given trigger is configured"
  }

  assert {
    condition     = length(aws_lambda_permission.trigger) == 0
    error_message = "create_lambda_permissions = false leaves the permissions to the caller"
  }
}

run "custom_attribute_constraints" {
  command = plan

  variables {
    custom_attributes = [
      { name = "role", min_length = 1, max_length = 64, admin_only = true },
      { name = "base_type", min_length = 1, max_length = 64, admin_only = true },
      { name = "tier", min_length = 1, max_length = 64, admin_only = true },
      { name = "team", min_length = 1, max_length = 64, admin_only = true },
      { name = "onboarding", min_length = 0, max_length = 64, admin_only = true },
      { name = "display_name", min_length = 2, max_length = 60 },
      { name = "company_name", min_length = 2, max_length = 120, mutable = false },
      { name = "credits", type = "Number", min = 0, max = 1000, mutable = false },
    ]
  }

  assert {
    condition = (
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "display_name"]).attribute_data_type == "String" &&
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "display_name"]).string_attribute_constraints[0].min_length == "2" &&
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "display_name"]).string_attribute_constraints[0].max_length == "60"
    )
    error_message = "string custom attributes keep their length constraints"
  }

  assert {
    condition = (
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "credits"]).attribute_data_type == "Number" &&
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "credits"]).mutable == false &&
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "credits"]).number_attribute_constraints[0].min_value == "0" &&
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "credits"]).number_attribute_constraints[0].max_value == "1000"
    )
    error_message = "number custom attributes keep their bounds and mutability"
  }

  assert {
    condition     = contains(aws_cognito_user_pool_client.this.write_attributes, "custom:display_name") && !contains(aws_cognito_user_pool_client.this.write_attributes, "custom:tier")
    error_message = "configured attributes are writable, admin-only ones are not"
  }

  assert {
    condition = (
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "company_name"]).mutable == false &&
      contains(aws_cognito_user_pool_client.this.write_attributes, "custom:company_name") &&
      contains(aws_cognito_user_pool_client.this.write_attributes, "custom:credits")
    )
    error_message = "immutable attributes stay writable by the client: Cognito sets them at sign-up only, through a client that may write them"
  }

  assert {
    condition = (
      one([for schema in aws_cognito_user_pool.this.schema : schema if schema.name == "onboarding"]).mutable == true &&
      !contains(aws_cognito_user_pool_client.this.write_attributes, "custom:onboarding") &&
      contains(aws_cognito_user_pool_client.this.read_attributes, "custom:onboarding")
    )
    error_message = "the onboarding state is declared, readable, and not writable by the client"
  }
}
