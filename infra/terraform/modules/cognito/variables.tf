# Inputs of one cognigate pool (customer or staff) on AWS Cognito.
#
# Every value a person would otherwise get wrong at apply time is validated here, so `terraform plan` fails
# with a sentence instead of Cognito failing half-way through an apply. The environments feed most of these
# from infra/cognigate.json (generated from cognigate.toml); the rest are deployment choices.

# ---------------------------------------------------------------------------------------------------------
# Identity and naming: {environment}-{project_name}-cognito-{resource_type}
# ---------------------------------------------------------------------------------------------------------

variable "environment" {
  description = "Deployment environment: dev, staging or prod. Drives naming and the environment-gated defaults (MFA, deletion protection)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "project_name" {
  description = "Project name used in every resource name ({environment}-{project_name}-cognito-{resource_type})."
  type        = string
  default     = "cognigate"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.project_name))
    error_message = "project_name must be 2-20 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (IAM role names built from it must stay under 64 characters)."
  }
}

variable "pool" {
  description = "Which cognigate pool this user pool serves: customer or staff. Part of every resource type in the names, and the <POOL> of the COGNIGATE_POOLS__<POOL>__* settings this module outputs."
  type        = string

  validation {
    condition     = contains(["customer", "staff"], var.pool)
    error_message = "pool must be customer or staff (the two pools cognigate.toml knows)."
  }
}

variable "user_pool_name" {
  description = "User pool name. Null: {environment}-{project_name}-cognito-{pool}-user-pool."
  type        = string
  default     = null

  validation {
    condition     = var.user_pool_name == null ? true : can(regex("^[\\w\\s+=,.@-]{1,128}$", var.user_pool_name))
    error_message = "user_pool_name must be 1-128 characters of letters, digits, spaces and + = , . @ _ -."
  }
}

variable "app_client_name" {
  description = "App client name. Null: {environment}-{project_name}-cognito-{pool}-app-client."
  type        = string
  default     = null

  validation {
    condition     = var.app_client_name == null ? true : can(regex("^[\\w\\s+=,.@-]{1,128}$", var.app_client_name))
    error_message = "app_client_name must be 1-128 characters of letters, digits, spaces and + = , . @ _ -."
  }
}

variable "tags" {
  description = "Extra tags for every taggable resource (Environment, Project, Pool and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------
# Sign-up, sign-in and the user pool's plan
# ---------------------------------------------------------------------------------------------------------

variable "self_sign_up_enabled" {
  description = "Whether anyone may register (cognigate's sign_up = \"self\"). False: only administrators create accounts (staff)."
  type        = bool
  default     = false
}

variable "enable_username_case_sensitivity" {
  description = "Whether user names (here: email addresses) are case sensitive. False means Ann@x.com and ann@x.com are one user."
  type        = bool
  default     = false
}

variable "user_pool_tier" {
  description = "Cognito feature plan: LITE, ESSENTIALS (AWS's default for new pools) or PLUS (threat protection; costs more)."
  type        = string
  default     = "ESSENTIALS"

  validation {
    condition     = contains(["LITE", "ESSENTIALS", "PLUS"], var.user_pool_tier)
    error_message = "user_pool_tier must be LITE, ESSENTIALS or PLUS."
  }
}

variable "advanced_security_mode" {
  description = "Threat protection (formerly advanced security): OFF, AUDIT or ENFORCED. Anything but OFF needs user_pool_tier = PLUS."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "AUDIT", "ENFORCED"], var.advanced_security_mode)
    error_message = "advanced_security_mode must be OFF, AUDIT or ENFORCED."
  }

  validation {
    condition     = var.advanced_security_mode == "OFF" || var.user_pool_tier == "PLUS"
    error_message = "advanced_security_mode AUDIT or ENFORCED needs user_pool_tier = \"PLUS\"."
  }
}

variable "deletion_protection" {
  description = "Whether Cognito refuses to delete the user pool. Null: on in prod, off elsewhere. It cannot be turned off in prod."
  type        = bool
  default     = null

  validation {
    condition     = var.environment != "prod" || var.deletion_protection != false
    error_message = "deletion_protection cannot be false in prod: losing the prod user pool loses every account."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Multi-factor authentication
# ---------------------------------------------------------------------------------------------------------

variable "enable_mfa" {
  description = "Whether a second factor is offered at all. Null: off in dev, on in staging and prod. False sets Cognito's MFA to OFF."
  type        = bool
  default     = null
}

variable "mfa_configuration" {
  description = "When MFA is enabled: OPTIONAL (users may enrol) or ON (every user must). OFF is written enable_mfa = false."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OPTIONAL or ON; to turn MFA off, set enable_mfa = false."
  }
}

variable "mfa_methods" {
  description = "Second factors offered, in Cognito's names: SOFTWARE_TOKEN_MFA (TOTP apps) and/or SMS_MFA (needs sms_role_arn)."
  type        = list(string)
  default     = ["SOFTWARE_TOKEN_MFA"]

  validation {
    condition = (
      length(var.mfa_methods) > 0 &&
      length(distinct(var.mfa_methods)) == length(var.mfa_methods) &&
      alltrue([for method in var.mfa_methods : contains(["SOFTWARE_TOKEN_MFA", "SMS_MFA"], method)])
    )
    error_message = "mfa_methods must be a non-empty list without repeats of SOFTWARE_TOKEN_MFA and SMS_MFA."
  }
}

variable "sms_role_arn" {
  description = "IAM role Cognito assumes to send SMS through SNS. Required when mfa_methods contains SMS_MFA."
  type        = string
  default     = null

  validation {
    condition     = var.sms_role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$", var.sms_role_arn))
    error_message = "sms_role_arn must be an IAM role ARN (arn:aws:iam::123456789012:role/name)."
  }

  validation {
    condition     = !contains(var.mfa_methods, "SMS_MFA") || var.sms_role_arn != null
    error_message = "mfa_methods contains SMS_MFA: set sms_role_arn (and sms_external_id) so Cognito can send text messages."
  }
}

variable "sms_external_id" {
  description = "External id in the trust policy of sms_role_arn. Null: {environment}-{project_name}-cognito-{pool}-sms."
  type        = string
  default     = null

  validation {
    condition     = var.sms_external_id == null ? true : can(regex("^[\\w+=,.@:/-]{2,1224}$", var.sms_external_id))
    error_message = "sms_external_id must be 2-1224 characters of letters, digits and + = , . @ : / _ -."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Password policy
# ---------------------------------------------------------------------------------------------------------

variable "password_minimum_length" {
  description = "Minimum password length (8-99). The checkov policy CKV2_COGNIGATE_2 flags pools below 12."
  type        = number
  default     = 12

  validation {
    condition     = floor(var.password_minimum_length) == var.password_minimum_length && var.password_minimum_length >= 8 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be a whole number from 8 to 99."
  }
}

variable "password_require_lowercase" {
  description = "Passwords need a lowercase letter."
  type        = bool
  default     = true
}

variable "password_require_uppercase" {
  description = "Passwords need an uppercase letter."
  type        = bool
  default     = true
}

variable "password_require_numbers" {
  description = "Passwords need a digit."
  type        = bool
  default     = true
}

variable "password_require_symbols" {
  description = "Passwords need a symbol."
  type        = bool
  default     = true
}

variable "temporary_password_validity_days" {
  description = "Days an administrator-issued temporary password stays usable (1-365)."
  type        = number
  default     = 7

  validation {
    condition     = floor(var.temporary_password_validity_days) == var.temporary_password_validity_days && var.temporary_password_validity_days >= 1 && var.temporary_password_validity_days <= 365
    error_message = "temporary_password_validity_days must be a whole number from 1 to 365."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Token lifetimes. The client always records them in minutes, whichever variables set them.
# ---------------------------------------------------------------------------------------------------------

variable "token_validity_access" {
  description = "Access token lifetime in hours (1-24). Ignored when token_validity_minutes is set."
  type        = number
  default     = 1

  validation {
    condition     = floor(var.token_validity_access) == var.token_validity_access && var.token_validity_access >= 1 && var.token_validity_access <= 24
    error_message = "token_validity_access must be a whole number of hours from 1 to 24; use token_validity_minutes for shorter lifetimes."
  }
}

variable "token_validity_id" {
  description = "ID token lifetime in hours (1-24). Null: the access token's. Ignored when token_validity_minutes is set."
  type        = number
  default     = null

  validation {
    condition     = var.token_validity_id == null ? true : (floor(var.token_validity_id) == var.token_validity_id && var.token_validity_id >= 1 && var.token_validity_id <= 24)
    error_message = "token_validity_id must be a whole number of hours from 1 to 24."
  }
}

variable "token_validity_refresh" {
  description = "Refresh token lifetime in days (1-3650). Ignored when token_validity_minutes is set."
  type        = number
  default     = 30

  validation {
    condition     = floor(var.token_validity_refresh) == var.token_validity_refresh && var.token_validity_refresh >= 1 && var.token_validity_refresh <= 3650
    error_message = "token_validity_refresh must be a whole number of days from 1 to 3650."
  }
}

variable "token_validity_minutes" {
  description = "Exact lifetimes in minutes ({ access, id, refresh }); replaces the three hour/day variables. The environments use it because cognigate.toml writes lifetimes such as 15m and 12h."
  type = object({
    access  = number
    id      = number
    refresh = number
  })
  default = null

  validation {
    condition = var.token_validity_minutes == null ? true : alltrue([
      for minutes in [var.token_validity_minutes.access, var.token_validity_minutes.id] :
      floor(minutes) == minutes && minutes >= 5 && minutes <= 1440
    ])
    error_message = "token_validity_minutes.access and .id must be whole numbers of minutes from 5 to 1440 (Cognito's limits)."
  }

  validation {
    condition = var.token_validity_minutes == null ? true : (
      floor(var.token_validity_minutes.refresh) == var.token_validity_minutes.refresh &&
      var.token_validity_minutes.refresh >= 60 && var.token_validity_minutes.refresh <= 5256000
    )
    error_message = "token_validity_minutes.refresh must be a whole number of minutes from 60 (1 hour) to 5256000 (3650 days)."
  }

  validation {
    condition = var.token_validity_minutes == null ? true : (
      var.token_validity_minutes.refresh > var.token_validity_minutes.access &&
      var.token_validity_minutes.refresh > var.token_validity_minutes.id
    )
    error_message = "token_validity_minutes.refresh must be longer than the access and ID token lifetimes."
  }
}

# ---------------------------------------------------------------------------------------------------------
# App client
# ---------------------------------------------------------------------------------------------------------

variable "generate_client_secret" {
  description = "Whether the app client has a secret. cognigate computes SECRET_HASH when it has one; browsers and mobile apps cannot keep one."
  type        = bool
  default     = true
}

variable "explicit_auth_flows" {
  description = "Sign-in flows the app client allows. cognigate signs in with USER_PASSWORD_AUTH. ALLOW_REFRESH_TOKEN_AUTH is the module's to decide: it is added when refresh_token_rotation is off and must not be listed while it is on (Cognito refuses REFRESH_TOKEN_AUTH on a rotating client)."
  type        = list(string)
  default     = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]

  validation {
    condition = alltrue([
      for flow in var.explicit_auth_flows : contains([
        "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH",
      ], flow)
    ])
    error_message = "explicit_auth_flows may only hold ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_CUSTOM_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH and ALLOW_USER_AUTH."
  }

  validation {
    condition     = length(distinct(var.explicit_auth_flows)) == length(var.explicit_auth_flows) && length([for flow in var.explicit_auth_flows : flow if flow != "ALLOW_REFRESH_TOKEN_AUTH"]) > 0
    error_message = "explicit_auth_flows must hold at least one sign-in flow and no flow twice."
  }

  validation {
    condition     = !(var.refresh_token_rotation && contains(var.explicit_auth_flows, "ALLOW_REFRESH_TOKEN_AUTH"))
    error_message = "explicit_auth_flows must not contain ALLOW_REFRESH_TOKEN_AUTH while refresh_token_rotation is on: Cognito refuses REFRESH_TOKEN_AUTH on a rotating client, which refreshes with GetTokensFromRefreshToken."
  }
}

variable "refresh_token_rotation" {
  description = "Whether the app client rotates refresh tokens: every refresh (GetTokensFromRefreshToken) hands out a new refresh token and retires the old one. cognigate.toml's pools.<pool>.tokens.rotate_refresh; the environments pass it from cognigate.json. On: ALLOW_REFRESH_TOKEN_AUTH is left out of the client's flows. Off: it is added."
  type        = bool
  default     = true
  nullable    = false
}

variable "refresh_token_rotation_grace_seconds" {
  description = "How long a retired refresh token is still accepted after its rotation, for a client whose answer was lost (0-60 seconds; 0 retires it at once). cognigate.toml's pools.<pool>.tokens.rotation_grace. Ignored while refresh_token_rotation is off."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = floor(var.refresh_token_rotation_grace_seconds) == var.refresh_token_rotation_grace_seconds && var.refresh_token_rotation_grace_seconds >= 0 && var.refresh_token_rotation_grace_seconds <= 60
    error_message = "refresh_token_rotation_grace_seconds must be a whole number of seconds from 0 to 60 (Cognito's range)."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------------------

variable "standard_attributes" {
  description = "Standard (OIDC) attributes the pool keeps: name, required, mutable. The user name is the email address, so email must be listed as required."
  type = list(object({
    name     = string
    required = optional(bool, false)
    mutable  = optional(bool, true)
  }))
  default = [{ name = "email", required = true }]

  validation {
    condition = alltrue([
      for attribute in var.standard_attributes : contains([
        "address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name", "name",
        "nickname", "phone_number", "picture", "preferred_username", "profile", "website", "zoneinfo",
      ], attribute.name)
    ])
    error_message = "standard_attributes names must be Cognito standard attributes (address, birthdate, email, family_name, gender, given_name, locale, middle_name, name, nickname, phone_number, picture, preferred_username, profile, website, zoneinfo)."
  }

  validation {
    condition     = length(distinct([for attribute in var.standard_attributes : attribute.name])) == length(var.standard_attributes)
    error_message = "standard_attributes must not list an attribute twice."
  }

  validation {
    condition     = anytrue([for attribute in var.standard_attributes : attribute.name == "email" && attribute.required])
    error_message = "standard_attributes must contain email with required = true: users sign in with their email address."
  }
}

variable "custom_attributes" {
  description = "Custom attributes (custom:<name>). admin_only attributes are readable but not writable by the app client; all others are writable, immutable ones too (Cognito sets those at sign-up only). cognigate keeps role, base_type, tier, team and onboarding here; they must be present and admin_only, or users could grant themselves roles or activate their own accounts."
  type = list(object({
    name       = string
    type       = optional(string, "String")
    mutable    = optional(bool, true)
    min_length = optional(number)
    max_length = optional(number)
    min        = optional(number)
    max        = optional(number)
    admin_only = optional(bool, false)
  }))
  default = [
    { name = "role", min_length = 1, max_length = 64, admin_only = true },
    { name = "base_type", min_length = 1, max_length = 64, admin_only = true },
    { name = "tier", min_length = 0, max_length = 256, admin_only = true },
    { name = "team", min_length = 0, max_length = 64, admin_only = true },
    { name = "onboarding", min_length = 0, max_length = 64, admin_only = true },
  ]

  validation {
    condition     = length(var.custom_attributes) <= 50 && alltrue([for attribute in var.custom_attributes : can(regex("^[A-Za-z0-9_]{1,20}$", attribute.name))])
    error_message = "custom_attributes: at most 50, each name 1-20 letters, digits or underscores (without the custom: prefix)."
  }

  validation {
    condition     = length(distinct([for attribute in var.custom_attributes : attribute.name])) == length(var.custom_attributes)
    error_message = "custom_attributes must not define an attribute twice."
  }

  validation {
    condition     = alltrue([for attribute in var.custom_attributes : contains(["String", "Number"], attribute.type)])
    error_message = "custom_attributes type must be String or Number."
  }

  validation {
    condition = alltrue([
      for attribute in var.custom_attributes : attribute.type != "String" ? true : (
        attribute.min == null && attribute.max == null &&
        (attribute.min_length == null ? true : (floor(attribute.min_length) == attribute.min_length && attribute.min_length >= 0 && attribute.min_length <= 2048)) &&
        (attribute.max_length == null ? true : (floor(attribute.max_length) == attribute.max_length && attribute.max_length >= 1 && attribute.max_length <= 2048)) &&
        coalesce(attribute.min_length, 0) <= coalesce(attribute.max_length, 2048)
      )
    ])
    error_message = "custom_attributes of type String take min_length/max_length (whole numbers, 0-2048, min_length <= max_length), not min/max."
  }

  validation {
    condition = alltrue([
      for attribute in var.custom_attributes : attribute.type != "Number" ? true : (
        attribute.min_length == null && attribute.max_length == null &&
        (attribute.min == null || attribute.max == null ? true : attribute.min <= attribute.max)
      )
    ])
    error_message = "custom_attributes of type Number take min/max (min <= max), not min_length/max_length."
  }

  validation {
    condition = alltrue([
      for name in ["role", "base_type", "tier", "team", "onboarding"] :
      anytrue([for attribute in var.custom_attributes : attribute.name == name && attribute.type == "String" && attribute.admin_only])
    ])
    error_message = "custom_attributes must contain role, base_type, tier, team and onboarding as admin_only String attributes: cognigate reads a user's access and onboarding state from them, so app clients must not write them."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Groups (cognigate's roles and tiers)
# ---------------------------------------------------------------------------------------------------------

variable "groups" {
  description = "User pool groups: cognigate's roles (and customer tiers). Lower precedence wins when a user is in several groups (Cognito's rule, cognigate's rank). role_arn is the IAM role the identity pool hands to members."
  type = list(object({
    name        = string
    description = optional(string, "")
    precedence  = optional(number)
    role_arn    = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for group in var.groups : can(regex("^[\\w+=,.@-]{1,128}$", group.name))])
    error_message = "groups names must be 1-128 characters of letters, digits and + = , . @ _ -."
  }

  validation {
    condition     = length(distinct([for group in var.groups : group.name])) == length(var.groups)
    error_message = "groups must not define a group twice."
  }

  validation {
    condition = alltrue([
      for group in var.groups : group.precedence == null ? true : (floor(group.precedence) == group.precedence && group.precedence >= 0 && group.precedence <= 2147483647)
    ])
    error_message = "groups precedence must be a whole number from 0 to 2147483647."
  }

  validation {
    condition     = alltrue([for group in var.groups : length(group.description) <= 2048])
    error_message = "groups description must be at most 2048 characters."
  }

  validation {
    condition = alltrue([
      for group in var.groups : group.role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$", group.role_arn))
    ])
    error_message = "groups role_arn must be an IAM role ARN."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Lambda triggers (the cognigate-triggers function serves all four)
# ---------------------------------------------------------------------------------------------------------

variable "lambda_triggers" {
  description = "Lambda function ARNs for the Cognito triggers cognigate uses, by trigger: pre_sign_up, post_confirmation, pre_token_generation, post_authentication. Pre token generation is wired with event version V2_0 (access token customisation). Triggers left out are not configured. A map, so that ARNs of functions created in the same apply (unknown until then) still give known keys."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for trigger in keys(var.lambda_triggers) :
      contains(["pre_sign_up", "post_confirmation", "pre_token_generation", "post_authentication"], trigger)
    ])
    error_message = "lambda_triggers keys must be pre_sign_up, post_confirmation, pre_token_generation or post_authentication."
  }

  validation {
    condition = alltrue([
      for arn in values(var.lambda_triggers) :
      can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$", arn))
    ])
    error_message = "lambda_triggers values must be Lambda function ARNs (arn:aws:lambda:<region>:<account>:function:<name>[:<alias or version>])."
  }

  validation {
    condition     = !contains(keys(var.lambda_triggers), "pre_token_generation") || var.user_pool_tier != "LITE"
    error_message = "lambda_triggers.pre_token_generation (V2_0 events) needs user_pool_tier ESSENTIALS or PLUS."
  }
}

variable "create_lambda_permissions" {
  description = "Whether to grant cognito-idp.amazonaws.com permission to invoke each trigger function, scoped to this user pool."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------------
# Domain and hosted UI (optional)
# ---------------------------------------------------------------------------------------------------------

variable "domain_prefix" {
  description = "Cognito domain prefix (<prefix>.auth.<region>.amazoncognito.com), globally unique per region. Cognito forbids aws, amazon and cognito in it, so it is not derived from the naming convention."
  type        = string
  default     = null

  validation {
    condition = var.domain_prefix == null ? true : (
      can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) &&
      !can(regex("aws|amazon|cognito", var.domain_prefix))
    )
    error_message = "domain_prefix must be 1-63 lowercase letters, digits and inner hyphens, without aws, amazon or cognito in it."
  }
}

variable "custom_domain_name" {
  description = "Custom domain for the hosted UI (e.g. auth.example.com). Needs certificate_arn; replaces domain_prefix."
  type        = string
  default     = null

  validation {
    condition     = var.custom_domain_name == null ? true : can(regex("^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.custom_domain_name))
    error_message = "custom_domain_name must be a lowercase fully qualified domain name such as auth.example.com."
  }

  validation {
    condition     = var.custom_domain_name == null || var.domain_prefix == null
    error_message = "Set domain_prefix or custom_domain_name, not both: a user pool has one domain."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for custom_domain_name. Cognito serves custom domains through CloudFront, so the certificate must be in us-east-1."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null ? true : can(regex("^arn:aws[a-z-]*:acm:us-east-1:\\d{12}:certificate/[0-9a-f-]{36}$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<uuid>)."
  }

  validation {
    condition     = (var.custom_domain_name == null) == (var.certificate_arn == null)
    error_message = "custom_domain_name and certificate_arn go together: set both or neither."
  }
}

variable "enable_hosted_ui" {
  description = "Whether the app client uses the hosted UI (OAuth authorization code flow). Needs a domain (domain_prefix or custom_domain_name) and callback_urls."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_hosted_ui || var.domain_prefix != null || var.custom_domain_name != null
    error_message = "enable_hosted_ui needs domain_prefix or custom_domain_name: the hosted UI is served on the pool's domain."
  }

  validation {
    condition     = !var.enable_hosted_ui || length(var.callback_urls) > 0
    error_message = "enable_hosted_ui needs at least one callback_urls entry."
  }
}

variable "callback_urls" {
  description = "Where the hosted UI may send users after sign-in. HTTPS, or http://localhost for development."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for url in var.callback_urls : can(regex("^(https://[^\\s#]+|http://localhost(:\\d+)?(/[^\\s#]*)?)$", url))])
    error_message = "callback_urls must be https:// URLs (or http://localhost for development) without fragments."
  }
}

variable "logout_urls" {
  description = "Where the hosted UI may send users after sign-out. HTTPS, or http://localhost for development."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for url in var.logout_urls : can(regex("^(https://[^\\s#]+|http://localhost(:\\d+)?(/[^\\s#]*)?)$", url))])
    error_message = "logout_urls must be https:// URLs (or http://localhost for development) without fragments."
  }
}

variable "oauth_scopes" {
  description = "OAuth scopes the hosted UI client may request."
  type        = list(string)
  default     = ["openid", "email", "profile"]

  validation {
    condition     = contains(var.oauth_scopes, "openid") && alltrue([for scope in var.oauth_scopes : contains(["openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"], scope)])
    error_message = "oauth_scopes must include openid and may hold only openid, email, profile, phone and aws.cognito.signin.user.admin."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Identity pool (optional): AWS credentials for signed-in users
# ---------------------------------------------------------------------------------------------------------

variable "enable_identity_pool" {
  description = "Whether to create an identity pool linked to this user pool, with IAM roles for authenticated (and optionally unauthenticated) identities."
  type        = bool
  default     = false
}

variable "allow_unauthenticated_identities" {
  description = "Whether the identity pool hands credentials to visitors who have not signed in (guest access). Creates the unauthenticated role."
  type        = bool
  default     = false

  validation {
    condition     = !var.allow_unauthenticated_identities || var.enable_identity_pool
    error_message = "allow_unauthenticated_identities needs enable_identity_pool = true."
  }
}

variable "authenticated_role_name" {
  description = "IAM role name for signed-in identities. Null: {environment}-{project_name}-cognito-{pool}-authenticated-role."
  type        = string
  default     = null

  validation {
    condition     = var.authenticated_role_name == null ? true : can(regex("^[\\w+=,.@-]{1,64}$", var.authenticated_role_name))
    error_message = "authenticated_role_name must be 1-64 characters of letters, digits and + = , . @ _ -."
  }
}

variable "unauthenticated_role_name" {
  description = "IAM role name for guest identities. Null: {environment}-{project_name}-cognito-{pool}-unauthenticated-role."
  type        = string
  default     = null

  validation {
    condition     = var.unauthenticated_role_name == null ? true : can(regex("^[\\w+=,.@-]{1,64}$", var.unauthenticated_role_name))
    error_message = "unauthenticated_role_name must be 1-64 characters of letters, digits and + = , . @ _ -."
  }
}

variable "authenticated_role_policy_json" {
  description = "IAM policy document (JSON) for signed-in identities. Null: the role grants nothing (least privilege); add what the application needs."
  type        = string
  default     = null

  validation {
    condition     = var.authenticated_role_policy_json == null ? true : can(jsondecode(var.authenticated_role_policy_json).Statement)
    error_message = "authenticated_role_policy_json must be a JSON IAM policy document with a Statement."
  }
}

variable "unauthenticated_role_policy_json" {
  description = "IAM policy document (JSON) for guest identities. Null: the role grants nothing."
  type        = string
  default     = null

  validation {
    condition     = var.unauthenticated_role_policy_json == null ? true : can(jsondecode(var.unauthenticated_role_policy_json).Statement)
    error_message = "unauthenticated_role_policy_json must be a JSON IAM policy document with a Statement."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------------------------------------

variable "ses_email_identity_arn" {
  description = "Verified SES identity to send codes and invitations from. Null: Cognito's own sender (low daily quota; fine outside prod)."
  type        = string
  default     = null

  validation {
    condition     = var.ses_email_identity_arn == null ? true : can(regex("^arn:aws[a-z-]*:ses:[a-z0-9-]+:\\d{12}:identity/.+$", var.ses_email_identity_arn))
    error_message = "ses_email_identity_arn must be an SES identity ARN."
  }
}

variable "from_email_address" {
  description = "From address for SES mail, e.g. \"Marketplace <no-reply@example.com>\". Required with ses_email_identity_arn."
  type        = string
  default     = null

  validation {
    condition     = (var.from_email_address == null) == (var.ses_email_identity_arn == null)
    error_message = "from_email_address and ses_email_identity_arn go together: set both or neither."
  }
}
