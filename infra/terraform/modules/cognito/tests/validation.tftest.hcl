# Bad inputs are refused at plan time, each by the validation rule that names the problem.

mock_provider "aws" {}

variables {
  environment = "dev"
  pool        = "customer"
}

run "unknown_environment" {
  command = plan
  variables {
    environment = "qa"
  }
  expect_failures = [var.environment]
}

run "unknown_pool" {
  command = plan
  variables {
    pool = "admins"
  }
  expect_failures = [var.pool]
}

run "project_name_with_capitals" {
  command = plan
  variables {
    project_name = "CogniGate"
  }
  expect_failures = [var.project_name]
}

run "password_shorter_than_eight" {
  command = plan
  variables {
    password_minimum_length = 6
  }
  expect_failures = [var.password_minimum_length]
}

run "fractional_password_length" {
  command = plan
  variables {
    password_minimum_length = 12.5
  }
  expect_failures = [var.password_minimum_length]
}

run "mfa_off_is_written_enable_mfa_false" {
  command = plan
  variables {
    mfa_configuration = "OFF"
  }
  expect_failures = [var.mfa_configuration]
}

run "unknown_mfa_method" {
  command = plan
  variables {
    mfa_methods = ["EMAIL_OTP"]
  }
  expect_failures = [var.mfa_methods]
}

run "sms_without_role" {
  command = plan
  variables {
    mfa_methods = ["SOFTWARE_TOKEN_MFA", "SMS_MFA"]
  }
  expect_failures = [var.sms_role_arn]
}

run "prod_without_deletion_protection" {
  command = plan
  variables {
    environment         = "prod"
    deletion_protection = false
  }
  expect_failures = [var.deletion_protection]
}

run "threat_protection_without_plus" {
  command = plan
  variables {
    advanced_security_mode = "ENFORCED"
  }
  expect_failures = [var.advanced_security_mode]
}

run "access_token_hours_out_of_range" {
  command = plan
  variables {
    token_validity_access = 48
  }
  expect_failures = [var.token_validity_access]
}

run "refresh_token_days_out_of_range" {
  command = plan
  variables {
    token_validity_refresh = 0
  }
  expect_failures = [var.token_validity_refresh]
}

run "access_token_minutes_below_cognito_minimum" {
  command = plan
  variables {
    token_validity_minutes = { access = 2, id = 15, refresh = 720 }
  }
  expect_failures = [var.token_validity_minutes]
}

run "refresh_not_longer_than_access" {
  command = plan
  variables {
    token_validity_minutes = { access = 60, id = 60, refresh = 60 }
  }
  expect_failures = [var.token_validity_minutes]
}

run "refresh_flow_on_a_rotating_client" {
  command = plan
  variables {
    explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  }
  expect_failures = [var.explicit_auth_flows]
}

run "refresh_flow_only" {
  command = plan
  variables {
    refresh_token_rotation = false
    explicit_auth_flows    = ["ALLOW_REFRESH_TOKEN_AUTH"]
  }
  expect_failures = [var.explicit_auth_flows]
}

run "sign_in_flow_twice" {
  command = plan
  variables {
    explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
  }
  expect_failures = [var.explicit_auth_flows]
}

run "rotation_grace_above_cognito_maximum" {
  command = plan
  variables {
    refresh_token_rotation_grace_seconds = 61
  }
  expect_failures = [var.refresh_token_rotation_grace_seconds]
}

run "negative_rotation_grace" {
  command = plan
  variables {
    refresh_token_rotation_grace_seconds = -1
  }
  expect_failures = [var.refresh_token_rotation_grace_seconds]
}

run "fractional_rotation_grace" {
  command = plan
  variables {
    refresh_token_rotation_grace_seconds = 2.5
  }
  expect_failures = [var.refresh_token_rotation_grace_seconds]
}

run "email_not_required" {
  command = plan
  variables {
    standard_attributes = [{ name = "email", required = false }]
  }
  expect_failures = [var.standard_attributes]
}

run "unknown_standard_attribute" {
  command = plan
  variables {
    standard_attributes = [{ name = "email", required = true }, { name = "shoe_size" }]
  }
  expect_failures = [var.standard_attributes]
}

run "role_attribute_writable_by_clients" {
  command = plan
  variables {
    custom_attributes = [
      { name = "role", min_length = 1, max_length = 64, admin_only = false },
      { name = "base_type", min_length = 1, max_length = 64, admin_only = true },
      { name = "tier", min_length = 1, max_length = 64, admin_only = true },
      { name = "team", min_length = 1, max_length = 64, admin_only = true },
      { name = "onboarding", min_length = 0, max_length = 64, admin_only = true },
    ]
  }
  expect_failures = [var.custom_attributes]
}

run "onboarding_attribute_writable_by_clients" {
  command = plan
  variables {
    custom_attributes = [
      { name = "role", admin_only = true },
      { name = "base_type", admin_only = true },
      { name = "tier", admin_only = true },
      { name = "team", admin_only = true },
      { name = "onboarding", min_length = 0, max_length = 64, admin_only = false },
    ]
  }
  expect_failures = [var.custom_attributes]
}

run "onboarding_attribute_missing" {
  command = plan
  variables {
    custom_attributes = [
      { name = "role", admin_only = true },
      { name = "base_type", admin_only = true },
      { name = "tier", admin_only = true },
      { name = "team", admin_only = true },
    ]
  }
  expect_failures = [var.custom_attributes]
}

run "custom_attribute_name_too_long" {
  command = plan
  variables {
    custom_attributes = [
      { name = "role", admin_only = true },
      { name = "base_type", admin_only = true },
      { name = "tier", admin_only = true },
      { name = "team", admin_only = true },
      { name = "onboarding", admin_only = true },
      { name = "a_name_far_longer_than_twenty" },
    ]
  }
  expect_failures = [var.custom_attributes]
}

run "string_attribute_with_number_bounds" {
  command = plan
  variables {
    custom_attributes = [
      { name = "role", admin_only = true },
      { name = "base_type", admin_only = true },
      { name = "tier", admin_only = true },
      { name = "team", admin_only = true },
      { name = "onboarding", admin_only = true },
      { name = "nickname2", min = 1, max = 5 },
    ]
  }
  expect_failures = [var.custom_attributes]
}

run "duplicate_groups" {
  command = plan
  variables {
    groups = [{ name = "admin", precedence = 10 }, { name = "admin", precedence = 20 }]
  }
  expect_failures = [var.groups]
}

run "negative_group_precedence" {
  command = plan
  variables {
    groups = [{ name = "admin", precedence = -1 }]
  }
  expect_failures = [var.groups]
}

run "trigger_that_is_not_a_lambda_arn" {
  command = plan
  variables {
    lambda_triggers = { pre_sign_up = "arn:aws:sns:eu-west-1:123456789012:topic" }
  }
  expect_failures = [var.lambda_triggers]
}

run "pre_token_generation_on_lite" {
  command = plan
  variables {
    user_pool_tier  = "LITE"
    lambda_triggers = { pre_token_generation = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers" }
  }
  expect_failures = [var.lambda_triggers]
}

run "domain_prefix_with_reserved_word" {
  command = plan
  variables {
    domain_prefix = "my-cognito-login"
  }
  expect_failures = [var.domain_prefix]
}

run "prefix_and_custom_domain_together" {
  command = plan
  variables {
    domain_prefix      = "marketplace-login"
    custom_domain_name = "auth.example.com"
    certificate_arn    = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef"
  }
  expect_failures = [var.custom_domain_name]
}

run "custom_domain_without_certificate" {
  command = plan
  variables {
    custom_domain_name = "auth.example.com"
  }
  expect_failures = [var.certificate_arn]
}

run "certificate_outside_us_east_1" {
  command = plan
  variables {
    custom_domain_name = "auth.example.com"
    certificate_arn    = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef"
  }
  expect_failures = [var.certificate_arn]
}

run "hosted_ui_without_domain" {
  command = plan
  variables {
    enable_hosted_ui = true
    callback_urls    = ["https://shop.example.com/callback"]
  }
  expect_failures = [var.enable_hosted_ui]
}

run "plain_http_callback" {
  command = plan
  variables {
    callback_urls = ["http://shop.example.com/callback"]
  }
  expect_failures = [var.callback_urls]
}

run "guests_without_identity_pool" {
  command = plan
  variables {
    allow_unauthenticated_identities = true
  }
  expect_failures = [var.allow_unauthenticated_identities]
}

run "role_policy_that_is_not_a_policy" {
  command = plan
  variables {
    enable_identity_pool           = true
    authenticated_role_policy_json = "{\"Version\": \"2012-10-17\"}"
  }
  expect_failures = [var.authenticated_role_policy_json]
}

run "ses_identity_without_from_address" {
  command = plan
  variables {
    ses_email_identity_arn = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
  }
  expect_failures = [var.from_email_address]
}

run "unknown_trigger" {
  command = plan
  variables {
    lambda_triggers = { pre_authentication = "arn:aws:lambda:eu-west-1:123456789012:function:cognigate-triggers" }
  }
  expect_failures = [var.lambda_triggers]
}
