# One cognigate pool on AWS Cognito: the user pool, the app client cognigate signs users in with, the pool's
# groups (cognigate's roles), and optionally a hosted-UI domain and an identity pool.
#
# The module is instantiated once per pool (customer, staff) and per environment; what differs between them
# comes in through variables, which the environments read from infra/cognigate.json so that no value of
# cognigate.toml is typed a second time here.

locals {
  # {environment}-{project_name}-cognito-{resource_type}; the resource type names the pool as well, because
  # every environment holds two pools.
  name_prefix     = "${var.environment}-${var.project_name}-cognito-${var.pool}"
  user_pool_name  = coalesce(var.user_pool_name, "${local.name_prefix}-user-pool")
  app_client_name = coalesce(var.app_client_name, "${local.name_prefix}-app-client")
  # Identity pool names allow only letters, digits, underscores and spaces.
  identity_pool_name        = replace("${local.name_prefix}-identity-pool", "-", "_")
  authenticated_role_name   = coalesce(var.authenticated_role_name, "${local.name_prefix}-authenticated-role")
  unauthenticated_role_name = coalesce(var.unauthenticated_role_name, "${local.name_prefix}-unauthenticated-role")

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project_name
    Pool        = var.pool
    ManagedBy   = "terraform"
  })

  # Environment-gated defaults from the brief: MFA off in dev, deletion protection in prod.
  mfa_enabled         = coalesce(var.enable_mfa, var.environment != "dev")
  mfa_configuration   = local.mfa_enabled ? var.mfa_configuration : "OFF"
  deletion_protection = coalesce(var.deletion_protection, var.environment == "prod")

  totp_enabled = local.mfa_enabled && contains(var.mfa_methods, "SOFTWARE_TOKEN_MFA")
  sms_enabled  = local.mfa_enabled && contains(var.mfa_methods, "SMS_MFA")

  token_minutes = var.token_validity_minutes != null ? var.token_validity_minutes : {
    access  = var.token_validity_access * 60
    id      = coalesce(var.token_validity_id, var.token_validity_access) * 60
    refresh = var.token_validity_refresh * 1440
  }

  # The app client reads every attribute and writes all but the admin-only ones (role, base_type, tier, team,
  # onboarding), which only cognigate's administrative calls may change. Immutable attributes (the customer
  # pool's company_name and vat_number) stay writable on purpose: Cognito sets an immutable attribute only
  # when the user is created, at sign-up only if the client may write it, and refuses every change after
  # that. The CDK app (infra/cdk/lib/user-pool.ts, clientWriteAttributes) has the same rule.
  read_attributes = concat(
    [for attribute in var.standard_attributes : attribute.name],
    contains([for attribute in var.standard_attributes : attribute.name], "email") ? ["email_verified"] : [],
    contains([for attribute in var.standard_attributes : attribute.name], "phone_number") ? ["phone_number_verified"] : [],
    [for attribute in var.custom_attributes : "custom:${attribute.name}"],
  )
  write_attributes = concat(
    [for attribute in var.standard_attributes : attribute.name],
    [for attribute in var.custom_attributes : "custom:${attribute.name}" if !attribute.admin_only],
  )

  # Cognito refuses REFRESH_TOKEN_AUTH on a client that rotates refresh tokens (those refresh with
  # GetTokensFromRefreshToken, and cognigate's cognito provider picks the call from the client's setting), so
  # the flow is there exactly when rotation is off. The CDK app (infra/cdk/lib/user-pool.ts) does the same.
  explicit_auth_flows = var.refresh_token_rotation ? var.explicit_auth_flows : distinct(concat(var.explicit_auth_flows, ["ALLOW_REFRESH_TOKEN_AUTH"]))

  triggers = var.lambda_triggers

  domain = var.custom_domain_name != null ? var.custom_domain_name : var.domain_prefix

  # Groups that name an IAM role make the identity pool pick the role from the token's cognito:preferred_role.
  group_roles = anytrue([for group in var.groups : group.role_arn != null])
}

resource "aws_cognito_user_pool" "this" {
  name                = local.user_pool_name
  deletion_protection = local.deletion_protection ? "ACTIVE" : "INACTIVE"
  user_pool_tier      = var.user_pool_tier

  # Users sign in with their email address, which Cognito verifies with a code.
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]

  username_configuration {
    case_sensitive = var.enable_username_case_sensitivity
  }

  admin_create_user_config {
    allow_admin_create_user_only = !var.self_sign_up_enabled
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = var.password_require_lowercase
    require_uppercase                = var.password_require_uppercase
    require_numbers                  = var.password_require_numbers
    require_symbols                  = var.password_require_symbols
    temporary_password_validity_days = var.temporary_password_validity_days
  }

  mfa_configuration = local.mfa_configuration

  dynamic "software_token_mfa_configuration" {
    for_each = local.totp_enabled ? [true] : []
    content {
      enabled = true
    }
  }

  dynamic "sms_configuration" {
    for_each = local.sms_enabled ? [true] : []
    content {
      sns_caller_arn = var.sms_role_arn
      external_id    = coalesce(var.sms_external_id, "${local.name_prefix}-sms")
    }
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
  }

  email_configuration {
    email_sending_account = var.ses_email_identity_arn != null ? "DEVELOPER" : "COGNITO_DEFAULT"
    source_arn            = var.ses_email_identity_arn
    from_email_address    = var.from_email_address
  }

  dynamic "user_pool_add_ons" {
    for_each = var.advanced_security_mode != "OFF" ? [true] : []
    content {
      advanced_security_mode = var.advanced_security_mode
    }
  }

  dynamic "lambda_config" {
    for_each = length(local.triggers) > 0 ? [true] : []
    content {
      pre_sign_up         = lookup(local.triggers, "pre_sign_up", null)
      post_confirmation   = lookup(local.triggers, "post_confirmation", null)
      post_authentication = lookup(local.triggers, "post_authentication", null)

      dynamic "pre_token_generation_config" {
        for_each = contains(keys(local.triggers), "pre_token_generation") ? [true] : []
        content {
          lambda_arn     = local.triggers.pre_token_generation
          lambda_version = "V2_0"
        }
      }
    }
  }

  # Standard attributes are written with Cognito's own constraints (0-2048) so that plans stay empty after
  # the first apply.
  dynamic "schema" {
    for_each = var.standard_attributes
    content {
      name                     = schema.value.name
      attribute_data_type      = "String"
      required                 = schema.value.required
      mutable                  = schema.value.mutable
      developer_only_attribute = false

      string_attribute_constraints {
        min_length = 0
        max_length = 2048
      }
    }
  }

  dynamic "schema" {
    for_each = var.custom_attributes
    content {
      name                     = schema.value.name
      attribute_data_type      = schema.value.type
      required                 = false
      mutable                  = schema.value.mutable
      developer_only_attribute = false

      dynamic "string_attribute_constraints" {
        for_each = schema.value.type == "String" ? [true] : []
        content {
          min_length = coalesce(schema.value.min_length, 0)
          max_length = coalesce(schema.value.max_length, 2048)
        }
      }

      dynamic "number_attribute_constraints" {
        for_each = schema.value.type == "Number" ? [true] : []
        content {
          min_value = schema.value.min
          max_value = schema.value.max
        }
      }
    }
  }

  tags = merge(local.tags, { Name = local.user_pool_name })
}

resource "aws_cognito_user_pool_client" "this" {
  name         = local.app_client_name
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret               = var.generate_client_secret
  explicit_auth_flows           = local.explicit_auth_flows
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  auth_session_validity         = 3

  access_token_validity  = local.token_minutes.access
  id_token_validity      = local.token_minutes.id
  refresh_token_validity = local.token_minutes.refresh

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "minutes"
  }

  # Rotation on: Cognito's RefreshTokenRotation (Feature ENABLED) with the grace period. Off: no block, the
  # client does not rotate (and keeps ALLOW_REFRESH_TOKEN_AUTH, see local.explicit_auth_flows).
  dynamic "refresh_token_rotation" {
    for_each = var.refresh_token_rotation ? [true] : []
    content {
      feature                    = "ENABLED"
      retry_grace_period_seconds = var.refresh_token_rotation_grace_seconds
    }
  }

  read_attributes  = local.read_attributes
  write_attributes = local.write_attributes

  allowed_oauth_flows_user_pool_client = var.enable_hosted_ui
  allowed_oauth_flows                  = var.enable_hosted_ui ? ["code"] : null
  allowed_oauth_scopes                 = var.enable_hosted_ui ? var.oauth_scopes : null
  callback_urls                        = var.enable_hosted_ui ? var.callback_urls : null
  logout_urls                          = var.enable_hosted_ui && length(var.logout_urls) > 0 ? var.logout_urls : null
  supported_identity_providers         = var.enable_hosted_ui ? ["COGNITO"] : null
}

resource "aws_cognito_user_group" "this" {
  for_each = { for group in var.groups : group.name => group }

  user_pool_id = aws_cognito_user_pool.this.id
  name         = each.value.name
  description  = each.value.description
  precedence   = each.value.precedence
  role_arn     = each.value.role_arn
}

resource "aws_lambda_permission" "trigger" {
  for_each = var.create_lambda_permissions ? local.triggers : {}

  # One statement per trigger and pool: the same cognigate-triggers function serves every trigger of both
  # pools, and each pool may invoke it only for itself.
  statement_id  = "${local.name_prefix}-${replace(each.key, "_", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = each.value
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.this.arn
}

resource "aws_cognito_user_pool_domain" "this" {
  count = local.domain != null ? 1 : 0

  domain          = local.domain
  certificate_arn = var.certificate_arn
  user_pool_id    = aws_cognito_user_pool.this.id
}

# ---------------------------------------------------------------------------------------------------------
# Identity pool
# ---------------------------------------------------------------------------------------------------------

resource "aws_cognito_identity_pool" "this" {
  count = var.enable_identity_pool ? 1 : 0

  identity_pool_name               = local.identity_pool_name
  allow_unauthenticated_identities = var.allow_unauthenticated_identities
  allow_classic_flow               = false

  cognito_identity_providers {
    client_id               = aws_cognito_user_pool_client.this.id
    provider_name           = aws_cognito_user_pool.this.endpoint
    server_side_token_check = true
  }

  tags = merge(local.tags, { Name = local.identity_pool_name })
}

resource "aws_iam_role" "authenticated" {
  count = var.enable_identity_pool ? 1 : 0

  name        = local.authenticated_role_name
  description = "Signed-in users of ${local.user_pool_name}, through the identity pool"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "cognito-identity.amazonaws.com" }
      Action    = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
      Condition = {
        StringEquals             = { "cognito-identity.amazonaws.com:aud" = aws_cognito_identity_pool.this[0].id }
        "ForAnyValue:StringLike" = { "cognito-identity.amazonaws.com:amr" = "authenticated" }
      }
    }]
  })

  tags = merge(local.tags, { Name = local.authenticated_role_name })
}

resource "aws_iam_role_policy" "authenticated" {
  count = var.enable_identity_pool && var.authenticated_role_policy_json != null ? 1 : 0

  name   = "${local.authenticated_role_name}-policy"
  role   = aws_iam_role.authenticated[0].id
  policy = var.authenticated_role_policy_json
}

resource "aws_iam_role" "unauthenticated" {
  count = var.allow_unauthenticated_identities ? 1 : 0

  name        = local.unauthenticated_role_name
  description = "Guests (not signed in) of ${local.user_pool_name}, through the identity pool"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "cognito-identity.amazonaws.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals             = { "cognito-identity.amazonaws.com:aud" = aws_cognito_identity_pool.this[0].id }
        "ForAnyValue:StringLike" = { "cognito-identity.amazonaws.com:amr" = "unauthenticated" }
      }
    }]
  })

  tags = merge(local.tags, { Name = local.unauthenticated_role_name })
}

resource "aws_iam_role_policy" "unauthenticated" {
  count = var.allow_unauthenticated_identities && var.unauthenticated_role_policy_json != null ? 1 : 0

  name   = "${local.unauthenticated_role_name}-policy"
  role   = aws_iam_role.unauthenticated[0].id
  policy = var.unauthenticated_role_policy_json
}

resource "aws_cognito_identity_pool_roles_attachment" "this" {
  count = var.enable_identity_pool ? 1 : 0

  identity_pool_id = aws_cognito_identity_pool.this[0].id
  roles = merge(
    { authenticated = aws_iam_role.authenticated[0].arn },
    var.allow_unauthenticated_identities ? { unauthenticated = aws_iam_role.unauthenticated[0].arn } : {},
  )

  dynamic "role_mapping" {
    for_each = local.group_roles ? [true] : []
    content {
      identity_provider         = "${aws_cognito_user_pool.this.endpoint}:${aws_cognito_user_pool_client.this.id}"
      type                      = "Token"
      ambiguous_role_resolution = "AuthenticatedRole"
    }
  }
}
