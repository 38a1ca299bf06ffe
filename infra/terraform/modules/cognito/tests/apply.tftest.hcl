# Applies the module against a mocked AWS provider so that the outputs computed from AWS's answers (ids,
# endpoint, domain, identity pool, roles) can be checked, including the settings handed to `cognigate serve`.

mock_provider "aws" {
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id       = "eu-west-1_Mock12345"
      arn      = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Mock12345"
      endpoint = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Mock12345"
    }
  }

  mock_resource "aws_cognito_user_pool_client" {
    defaults = {
      id            = "mockclientid1234567890abcd"
      client_secret = "mock-client-secret"
    }
  }

  mock_resource "aws_cognito_identity_pool" {
    defaults = {
      id = "eu-west-1:00000000-1111-2222-3333-444444444444"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock-role"
    }
  }

  mock_resource "aws_cognito_user_pool_domain" {
    defaults = {
      cloudfront_distribution = "d111111abcdef8.cloudfront.net"
    }
  }
}

variables {
  environment = "staging"
  pool        = "staff"
}

run "identity_pool_and_hosted_ui" {
  variables {
    enable_identity_pool = true
    domain_prefix        = "marketplace-staff-staging"
    enable_hosted_ui     = true
    callback_urls        = ["https://console.example.com/callback"]
    logout_urls          = ["https://console.example.com/"]
    groups = [
      { name = "admin", precedence = 20, role_arn = "arn:aws:iam::123456789012:role/staging-admins" },
    ]
  }

  assert {
    condition     = output.user_pool_id == "eu-west-1_Mock12345" && output.region == "eu-west-1"
    error_message = "the region is read from the user pool id"
  }

  assert {
    condition     = output.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Mock12345"
    error_message = "the issuer is https://<user pool endpoint>"
  }

  assert {
    condition     = output.jwks_uri == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Mock12345/.well-known/jwks.json"
    error_message = "jwks_uri is under the issuer"
  }

  assert {
    condition     = output.identity_pool_id == "eu-west-1:00000000-1111-2222-3333-444444444444"
    error_message = "identity_pool_id comes from the identity pool"
  }

  assert {
    condition     = aws_cognito_identity_pool.this[0].identity_pool_name == "staging_cognigate_cognito_staff_identity_pool"
    error_message = "identity pool names use underscores (Cognito forbids hyphens there)"
  }

  assert {
    condition     = aws_cognito_identity_pool.this[0].allow_unauthenticated_identities == false && output.unauthenticated_role_arn == null
    error_message = "guests get nothing unless allow_unauthenticated_identities is set"
  }

  assert {
    condition     = output.authenticated_role_arn == "arn:aws:iam::123456789012:role/mock-role" && aws_iam_role.authenticated[0].name == "staging-cognigate-cognito-staff-authenticated-role"
    error_message = "signed-in users get the authenticated role, named by the convention"
  }

  assert {
    condition     = jsondecode(aws_iam_role.authenticated[0].assume_role_policy).Statement[0].Condition.StringEquals["cognito-identity.amazonaws.com:aud"] == output.identity_pool_id
    error_message = "the authenticated role trusts only this identity pool"
  }

  assert {
    condition = (
      one(aws_cognito_identity_pool.this[0].cognito_identity_providers).provider_name == "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Mock12345" &&
      one(aws_cognito_identity_pool.this[0].cognito_identity_providers).client_id == "mockclientid1234567890abcd" &&
      one(aws_cognito_identity_pool.this[0].cognito_identity_providers).server_side_token_check
    )
    error_message = "the identity pool trusts this user pool and app client"
  }

  assert {
    condition = (
      one(aws_cognito_identity_pool_roles_attachment.this[0].role_mapping).type == "Token" &&
      one(aws_cognito_identity_pool_roles_attachment.this[0].role_mapping).ambiguous_role_resolution == "AuthenticatedRole" &&
      one(aws_cognito_identity_pool_roles_attachment.this[0].role_mapping).identity_provider == "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Mock12345:mockclientid1234567890abcd"
    )
    error_message = "a group with an IAM role makes the identity pool take the role from the token"
  }

  assert {
    condition     = output.user_pool_domain == "marketplace-staff-staging" && output.custom_domain_url == null
    error_message = "the Cognito domain prefix is the pool's domain"
  }

  assert {
    condition     = output.hosted_ui_url == "https://marketplace-staff-staging.auth.eu-west-1.amazoncognito.com/login?client_id=mockclientid1234567890abcd&response_type=code&scope=openid+email+profile&redirect_uri=https%3A%2F%2Fconsole.example.com%2Fcallback"
    error_message = "hosted_ui_url is the domain's login page for this client and the first callback URL"
  }

  assert {
    condition = (
      aws_cognito_user_pool_client.this.allowed_oauth_flows_user_pool_client &&
      aws_cognito_user_pool_client.this.allowed_oauth_flows == toset(["code"]) &&
      aws_cognito_user_pool_client.this.supported_identity_providers == toset(["COGNITO"])
    )
    error_message = "the hosted UI uses the authorization code flow against the user pool"
  }

  assert {
    condition = output.cognigate_serve_environment == {
      COGNIGATE_POOLS__STAFF__PROVIDER               = "cognito"
      COGNIGATE_POOLS__STAFF__COGNITO__REGION        = "eu-west-1"
      COGNIGATE_POOLS__STAFF__COGNITO__USER_POOL_ID  = "eu-west-1_Mock12345"
      COGNIGATE_POOLS__STAFF__COGNITO__CLIENT_ID     = "mockclientid1234567890abcd"
      COGNIGATE_POOLS__STAFF__COGNITO__CLIENT_SECRET = "{ env = \"COGNIGATE_SECRET_STAFF_CLIENT\" }"
    }
    error_message = "cognigate_serve_environment holds exactly what `cognigate serve` needs for a cognito pool"
  }

  assert {
    condition = (
      length(nonsensitive(output.cognigate_serve_secret_environment)) == 1 &&
      nonsensitive(output.cognigate_serve_secret_environment)["COGNIGATE_SECRET_STAFF_CLIENT"] == "mock-client-secret"
    )
    error_message = "the secret is handed over under the variable the settings refer to"
  }

  assert {
    condition     = nonsensitive(output.app_client_secret) == "mock-client-secret"
    error_message = "app_client_secret is the client's secret"
  }
}

run "custom_domain_public_client" {
  variables {
    pool                   = "customer"
    generate_client_secret = false
    custom_domain_name     = "auth.staging.example.com"
    certificate_arn        = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef"
    enable_hosted_ui       = true
    callback_urls          = ["https://shop.example.com/auth/callback"]
  }

  assert {
    condition     = output.custom_domain_url == "https://auth.staging.example.com" && output.user_pool_domain == "auth.staging.example.com"
    error_message = "the custom domain is the pool's domain"
  }

  assert {
    condition     = aws_cognito_user_pool_domain.this[0].certificate_arn == "arn:aws:acm:us-east-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef"
    error_message = "the custom domain uses the given certificate"
  }

  assert {
    condition     = output.custom_domain_cloudfront_distribution == "d111111abcdef8.cloudfront.net"
    error_message = "the CloudFront target for the DNS alias is an output"
  }

  assert {
    condition     = startswith(output.hosted_ui_url, "https://auth.staging.example.com/login?client_id=")
    error_message = "the hosted UI is served on the custom domain"
  }

  assert {
    condition     = output.app_client_secret == null && length(nonsensitive(output.cognigate_serve_secret_environment)) == 0
    error_message = "a public client has no secret to hand over"
  }

  assert {
    condition     = !contains(keys(output.cognigate_serve_environment), "COGNIGATE_POOLS__CUSTOMER__COGNITO__CLIENT_SECRET") && output.cognigate_serve_environment["COGNIGATE_POOLS__CUSTOMER__PROVIDER"] == "cognito"
    error_message = "without a secret, cognigate is not told to compute SECRET_HASH"
  }

  assert {
    condition     = output.identity_pool_id == null && output.authenticated_role_arn == null
    error_message = "no identity pool unless asked for"
  }
}

run "guest_access" {
  variables {
    enable_identity_pool             = true
    allow_unauthenticated_identities = true
    unauthenticated_role_name        = "staging-guests"
    unauthenticated_role_policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"mobiletargeting:PutEvents\",\"Resource\":\"*\"}]}"
  }

  assert {
    condition     = aws_iam_role.unauthenticated[0].name == "staging-guests" && output.unauthenticated_role_arn == "arn:aws:iam::123456789012:role/mock-role"
    error_message = "guest access creates the unauthenticated role"
  }

  assert {
    condition     = jsondecode(aws_iam_role.unauthenticated[0].assume_role_policy).Statement[0].Condition["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"] == "unauthenticated"
    error_message = "the guest role can only be assumed by unauthenticated identities"
  }

  assert {
    condition     = length(aws_iam_role_policy.unauthenticated) == 1 && length(aws_iam_role_policy.authenticated) == 0
    error_message = "policies are attached only where given"
  }

  assert {
    condition     = length(aws_cognito_identity_pool_roles_attachment.this[0].role_mapping) == 0 && length(aws_cognito_identity_pool_roles_attachment.this[0].roles) == 2
    error_message = "without group roles, the attachment maps only the two default roles"
  }
}
