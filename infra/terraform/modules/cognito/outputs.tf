# What a backend needs to use the pool, and in cognigate_serve_environment exactly what `cognigate serve`
# needs to use it as a `cognito` pool.

locals {
  # A user pool id is "<region>_<id>"; reading the region from it keeps the module free of provider-version
  # specific data sources.
  region = split("_", aws_cognito_user_pool.this.id)[0]

  domain_base_url = (
    var.custom_domain_name != null ? "https://${var.custom_domain_name}" :
    var.domain_prefix != null ? "https://${var.domain_prefix}.auth.${local.region}.amazoncognito.com" : null
  )

  serve_prefix          = "COGNIGATE_POOLS__${upper(var.pool)}__"
  client_secret_env_var = "COGNIGATE_SECRET_${upper(var.pool)}_CLIENT"
}

output "user_pool_id" {
  description = "Cognito user pool id (<region>_<id>)."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "Cognito user pool ARN (for IAM policies and API Gateway Cognito authorizers)."
  value       = aws_cognito_user_pool.this.arn
}

output "user_pool_name" {
  description = "Cognito user pool name, by the naming convention unless user_pool_name is set."
  value       = aws_cognito_user_pool.this.name
}

output "user_pool_endpoint" {
  description = "User pool endpoint, cognito-idp.<region>.amazonaws.com/<user pool id>."
  value       = aws_cognito_user_pool.this.endpoint
}

output "issuer" {
  description = "Token issuer (iss claim) and OIDC authority: https://<user_pool_endpoint>."
  value       = "https://${aws_cognito_user_pool.this.endpoint}"
}

output "jwks_uri" {
  description = "Where the pool's token signing keys are published."
  value       = "https://${aws_cognito_user_pool.this.endpoint}/.well-known/jwks.json"
}

output "region" {
  description = "AWS region of the user pool."
  value       = local.region
}

output "mfa_configuration" {
  description = "Effective MFA mode: OFF, OPTIONAL or ON."
  value       = aws_cognito_user_pool.this.mfa_configuration
}

output "app_client_id" {
  description = "App client id (cognigate's COGNITO__CLIENT_ID; a backend's clientId)."
  value       = aws_cognito_user_pool_client.this.id
}

output "app_client_name" {
  description = "App client name, by the naming convention unless app_client_name is set."
  value       = aws_cognito_user_pool_client.this.name
}

output "app_client_secret" {
  description = "App client secret; null when generate_client_secret is false. Sensitive: it lands in the state, so keep the state encrypted."
  value       = var.generate_client_secret ? aws_cognito_user_pool_client.this.client_secret : null
  sensitive   = true
}

output "groups" {
  description = "The pool's groups by name, with precedence and description."
  value = {
    for name, group in aws_cognito_user_group.this : name => {
      precedence  = group.precedence
      description = group.description
    }
  }
}

output "user_pool_domain" {
  description = "The pool's domain (prefix or custom domain name) when one is configured, else null."
  value       = one(aws_cognito_user_pool_domain.this[*].domain)
}

output "custom_domain_url" {
  description = "https://<custom_domain_name> when a custom domain is configured, else null."
  value       = var.custom_domain_name != null ? "https://${var.custom_domain_name}" : null
}

output "custom_domain_cloudfront_distribution" {
  description = "CloudFront distribution a custom domain's DNS alias (A/AAAA or CNAME) must point at; null without a custom domain."
  value       = var.custom_domain_name != null ? one(aws_cognito_user_pool_domain.this[*].cloudfront_distribution) : null
}

output "hosted_ui_url" {
  description = "Hosted UI sign-in URL (authorization code flow, first callback URL) when enable_hosted_ui is true, else null."
  value = var.enable_hosted_ui ? join("", [
    "${local.domain_base_url}/login?client_id=${aws_cognito_user_pool_client.this.id}",
    "&response_type=code&scope=${join("+", var.oauth_scopes)}",
    "&redirect_uri=${urlencode(var.callback_urls[0])}",
  ]) : null
}

output "identity_pool_id" {
  description = "Identity pool id when enable_identity_pool is true, else null."
  value       = one(aws_cognito_identity_pool.this[*].id)
}

output "authenticated_role_arn" {
  description = "IAM role of signed-in identities when enable_identity_pool is true, else null."
  value       = one(aws_iam_role.authenticated[*].arn)
}

output "unauthenticated_role_arn" {
  description = "IAM role of guest identities when allow_unauthenticated_identities is true, else null."
  value       = one(aws_iam_role.unauthenticated[*].arn)
}

output "cognigate_serve_environment" {
  description = "Environment variables that make `cognigate serve` use this user pool as its `cognito` provider for the pool (COGNIGATE_POOLS__<POOL>__...). With a client secret, the secret itself is read from the variable named in cognigate_serve_secret_environment."
  value = merge(
    {
      "${local.serve_prefix}PROVIDER"              = "cognito"
      "${local.serve_prefix}COGNITO__REGION"       = local.region
      "${local.serve_prefix}COGNITO__USER_POOL_ID" = aws_cognito_user_pool.this.id
      "${local.serve_prefix}COGNITO__CLIENT_ID"    = aws_cognito_user_pool_client.this.id
    },
    var.generate_client_secret ? {
      # A secret reference, never the secret: cognigate reads { env = "..." } as "the value of that variable".
      "${local.serve_prefix}COGNITO__CLIENT_SECRET" = "{ env = \"${local.client_secret_env_var}\" }"
    } : {},
  )
}

output "cognigate_serve_secret_environment" {
  description = "The client secret under the variable name cognigate_serve_environment refers to (COGNIGATE_SECRET_<POOL>_CLIENT); empty without a client secret. Sensitive."
  value       = var.generate_client_secret ? { (local.client_secret_env_var) = aws_cognito_user_pool_client.this.client_secret } : {}
  sensitive   = true
}
