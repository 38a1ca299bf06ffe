//! Cognito's request and response shapes for the wire: member names, types and defaults as the AWS API
//! reference gives them. Requests deserialize into these; answers are built as JSON by the functions below.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{WireError, invalid, parse_mfa};
use crate::api::{Attribute, AuthResponse, UserDescription};
use crate::model::{AppClient, CustomAttributeRule, Group, MfaConfiguration, PasswordPolicy, UserPool};
use crate::ops::{MfaPreference, NewClient, NewPool};
use crate::{Engine, EngineError};

/// Epoch seconds, as the SDKs read timestamps in JSON 1.1.
pub(super) fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PoolRef {
    pub user_pool_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientRef {
    pub user_pool_id: String,
    pub client_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListInput {
    #[serde(default)]
    pub user_pool_id: Option<String>,
    #[serde(default)]
    pub max_results: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
}

// ----- pools -----

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PasswordPolicyInput {
    #[serde(default)]
    pub minimum_length: Option<u32>,
    #[serde(default)]
    pub require_uppercase: bool,
    #[serde(default)]
    pub require_lowercase: bool,
    #[serde(default)]
    pub require_numbers: bool,
    #[serde(default)]
    pub require_symbols: bool,
    #[serde(default)]
    pub temporary_password_validity_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PoliciesInput {
    #[serde(default)]
    pub password_policy: Option<PasswordPolicyInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminCreateUserConfigInput {
    #[serde(default)]
    pub allow_admin_create_user_only: bool,
}

/// A number Cognito sends as a string in schema constraints (`"MinLength": "1"`); numbers are accepted too.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Numberish {
    Text(String),
    Number(i64),
}

impl Numberish {
    fn value(&self, what: &str) -> Result<i64, WireError> {
        match self {
            Self::Number(n) => Ok(*n),
            Self::Text(text) => text.trim().parse().map_err(|_| invalid(format!("{what} must be a number"))),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StringConstraints {
    #[serde(default)]
    pub min_length: Option<Numberish>,
    #[serde(default)]
    pub max_length: Option<Numberish>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct NumberConstraints {
    #[serde(default)]
    pub min_value: Option<Numberish>,
    #[serde(default)]
    pub max_value: Option<Numberish>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SchemaAttributeInput {
    pub name: String,
    #[serde(default)]
    pub attribute_data_type: Option<String>,
    #[serde(default)]
    pub mutable: Option<bool>,
    #[serde(default)]
    pub string_attribute_constraints: Option<StringConstraints>,
    #[serde(default)]
    pub number_attribute_constraints: Option<NumberConstraints>,
}

/// Attributes Cognito defines itself; a Schema entry naming one adjusts it rather than adding a custom one.
const STANDARD_ATTRIBUTES: [&str; 20] = [
    "sub",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "address",
    "updated_at",
];

fn custom_attributes(
    schema: &[SchemaAttributeInput],
) -> Result<BTreeMap<String, CustomAttributeRule>, WireError> {
    let mut rules = BTreeMap::new();
    for entry in schema {
        let name = entry.name.strip_prefix("custom:").unwrap_or(&entry.name);
        if STANDARD_ATTRIBUTES.contains(&name) {
            continue;
        }
        if name.is_empty() || name.len() > 20 {
            return Err(invalid(format!("Custom attribute name {name} must be 1 to 20 characters")));
        }
        let number = match entry.attribute_data_type.as_deref().unwrap_or("String") {
            "String" => false,
            "Number" => true,
            other => {
                return Err(invalid(format!(
                    "AttributeDataType {other} is not supported (String or Number)"
                )));
            }
        };
        let strings = entry.string_attribute_constraints.as_ref();
        let numbers = entry.number_attribute_constraints.as_ref();
        let length = |value: Option<&Numberish>, what| -> Result<Option<u32>, WireError> {
            value.map(|v| v.value(what).map(|n| u32::try_from(n).unwrap_or(0))).transpose()
        };
        let rule = CustomAttributeRule {
            number,
            mutable: entry.mutable.unwrap_or(true),
            min_length: length(strings.and_then(|s| s.min_length.as_ref()), "MinLength")?,
            max_length: length(strings.and_then(|s| s.max_length.as_ref()), "MaxLength")?,
            pattern: None,
            min: numbers.and_then(|n| n.min_value.as_ref()).map(|v| v.value("MinValue")).transpose()?,
            max: numbers.and_then(|n| n.max_value.as_ref()).map(|v| v.value("MaxValue")).transpose()?,
        };
        rules.insert(name.to_owned(), rule);
    }
    Ok(rules)
}

fn password_policy(input: Option<&PasswordPolicyInput>, defaults: &NewPool) -> (PasswordPolicy, u32) {
    match input {
        None => (defaults.password_policy.clone(), defaults.temporary_password_validity_days),
        Some(p) => (
            PasswordPolicy {
                minimum_length: p.minimum_length.unwrap_or(8),
                require_lowercase: p.require_lowercase,
                require_uppercase: p.require_uppercase,
                require_numbers: p.require_numbers,
                require_symbols: p.require_symbols,
            },
            p.temporary_password_validity_days.unwrap_or(7),
        ),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateUserPoolInput {
    pub pool_name: String,
    #[serde(default)]
    pub policies: Option<PoliciesInput>,
    #[serde(default)]
    pub mfa_configuration: Option<String>,
    #[serde(default)]
    pub auto_verified_attributes: Option<Vec<String>>,
    #[serde(default)]
    pub username_attributes: Option<Vec<String>>,
    #[serde(default)]
    pub schema: Vec<SchemaAttributeInput>,
    #[serde(default)]
    pub admin_create_user_config: Option<AdminCreateUserConfigInput>,
}

impl CreateUserPoolInput {
    pub fn into_new_pool(self, id: Option<String>) -> Result<NewPool, WireError> {
        let defaults = NewPool::with_defaults(&self.pool_name);
        let (password_policy, temporary_days) =
            password_policy(self.policies.as_ref().and_then(|p| p.password_policy.as_ref()), &defaults);
        let mfa =
            self.mfa_configuration.as_deref().map(parse_mfa).transpose()?.unwrap_or(MfaConfiguration::Off);
        for attribute in self.username_attributes.iter().flatten() {
            if attribute != "email" {
                return Err(invalid(format!("UsernameAttributes {attribute} is not supported (email only)")));
            }
        }
        Ok(NewPool {
            id,
            password_policy,
            temporary_password_validity_days: temporary_days,
            mfa,
            // Cognito enables TOTP with SetUserPoolMfaConfig; a pool created with MFA on gets TOTP at once so
            // it is usable without a second call.
            software_token_mfa: mfa != MfaConfiguration::Off,
            sms_mfa: false,
            auto_verified_attributes: self.auto_verified_attributes.unwrap_or_default(),
            username_attributes: self.username_attributes.unwrap_or_default(),
            custom_attributes: custom_attributes(&self.schema)?,
            admin_create_only: self.admin_create_user_config.is_some_and(|c| c.allow_admin_create_user_only),
            ..defaults
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateUserPoolInput {
    pub user_pool_id: String,
    #[serde(default)]
    pub policies: Option<PoliciesInput>,
    #[serde(default)]
    pub mfa_configuration: Option<String>,
    #[serde(default)]
    pub auto_verified_attributes: Option<Vec<String>>,
    #[serde(default)]
    pub admin_create_user_config: Option<AdminCreateUserConfigInput>,
}

impl UpdateUserPoolInput {
    /// Cognito's rule: settings the request leaves out return to their defaults. The name, username
    /// attributes, schema, MFA methods and lockout are not updatable this way and are kept.
    pub fn into_new_pool(self, existing: &UserPool) -> Result<NewPool, WireError> {
        let current = NewPool::from_pool(existing);
        let defaults = NewPool::with_defaults(&existing.name);
        let (password_policy, temporary_days) =
            password_policy(self.policies.as_ref().and_then(|p| p.password_policy.as_ref()), &defaults);
        let mfa =
            self.mfa_configuration.as_deref().map(parse_mfa).transpose()?.unwrap_or(MfaConfiguration::Off);
        if mfa != MfaConfiguration::Off && !current.software_token_mfa && !current.sms_mfa {
            return Err(EngineError::InvalidUserPoolConfiguration(
                "Enable an MFA method with SetUserPoolMfaConfig before turning MFA on".to_owned(),
            )
            .into());
        }
        Ok(NewPool {
            password_policy,
            temporary_password_validity_days: temporary_days,
            mfa,
            auto_verified_attributes: self.auto_verified_attributes.unwrap_or_default(),
            admin_create_only: self.admin_create_user_config.is_some_and(|c| c.allow_admin_create_user_only),
            ..current
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EnabledInput {
    #[serde(default)]
    pub enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SetMfaConfigInput {
    pub user_pool_id: String,
    #[serde(default)]
    pub mfa_configuration: Option<String>,
    #[serde(default)]
    pub software_token_mfa_configuration: Option<EnabledInput>,
    #[serde(default)]
    pub sms_mfa_configuration: Option<Value>,
}

pub(super) async fn pool_json(engine: &Engine, pool: &UserPool) -> Result<Value, EngineError> {
    let users = engine.count_users(&pool.id).await?;
    let region = pool.id.split('_').next().unwrap_or("local");
    let mut schema = vec![
        json!({ "Name": "sub", "AttributeDataType": "String", "DeveloperOnlyAttribute": false, "Mutable": false,
                "Required": true, "StringAttributeConstraints": { "MinLength": "1", "MaxLength": "2048" } }),
        json!({ "Name": "email", "AttributeDataType": "String", "DeveloperOnlyAttribute": false, "Mutable": true,
                "Required": false, "StringAttributeConstraints": { "MinLength": "0", "MaxLength": "2048" } }),
        json!({ "Name": "email_verified", "AttributeDataType": "Boolean", "DeveloperOnlyAttribute": false,
                "Mutable": true, "Required": false }),
    ];
    for (name, rule) in &pool.custom_attributes {
        let mut entry = json!({
            "Name": format!("custom:{name}"),
            "AttributeDataType": if rule.number { "Number" } else { "String" },
            "DeveloperOnlyAttribute": false, "Mutable": rule.mutable, "Required": false,
        });
        if rule.number {
            let mut constraints = serde_json::Map::new();
            if let Some(min) = rule.min {
                constraints.insert("MinValue".into(), json!(min.to_string()));
            }
            if let Some(max) = rule.max {
                constraints.insert("MaxValue".into(), json!(max.to_string()));
            }
            entry["NumberAttributeConstraints"] = Value::Object(constraints);
        } else {
            entry["StringAttributeConstraints"] = json!({
                "MinLength": rule.min_length.unwrap_or(0).to_string(),
                "MaxLength": rule.max_length.unwrap_or(2048).to_string(),
            });
        }
        schema.push(entry);
    }
    let policy = &pool.password_policy;
    Ok(json!({
        "Id": pool.id,
        "Name": pool.name,
        "Arn": format!("arn:aws:cognito-idp:{region}:000000000000:userpool/{}", pool.id),
        "Policies": { "PasswordPolicy": {
            "MinimumLength": policy.minimum_length,
            "RequireUppercase": policy.require_uppercase,
            "RequireLowercase": policy.require_lowercase,
            "RequireNumbers": policy.require_numbers,
            "RequireSymbols": policy.require_symbols,
            "TemporaryPasswordValidityDays": pool.temporary_password_validity_days,
        }},
        "DeletionProtection": "INACTIVE",
        "LambdaConfig": {},
        "LastModifiedDate": seconds(pool.updated_ms),
        "CreationDate": seconds(pool.created_ms),
        "SchemaAttributes": schema,
        "AutoVerifiedAttributes": pool.auto_verified_attributes,
        "UsernameAttributes": pool.username_attributes,
        "UsernameConfiguration": { "CaseSensitive": false },
        "MfaConfiguration": pool.mfa.as_str(),
        "EstimatedNumberOfUsers": users,
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": pool.admin_create_only,
            "UnusedAccountValidityDays": pool.temporary_password_validity_days,
        },
        "UserAttributeUpdateSettings": { "AttributesRequireVerificationBeforeUpdate": ["email"] },
        "VerificationMessageTemplate": { "DefaultEmailOption": "CONFIRM_WITH_CODE" },
        "UserPoolTags": {},
    }))
}

pub(super) fn mfa_config_json(pool: &UserPool) -> Value {
    let mut value = json!({
        "SoftwareTokenMfaConfiguration": { "Enabled": pool.software_token_mfa },
        "MfaConfiguration": pool.mfa.as_str(),
    });
    if pool.sms_mfa {
        value["SmsMfaConfiguration"] = json!({ "SmsConfiguration": {} });
    }
    value
}

// ----- app clients -----

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TokenValidityUnitsInput {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RotationInput {
    #[serde(default)]
    pub feature: Option<String>,
    #[serde(default)]
    pub retry_grace_period_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientInput {
    pub user_pool_id: String,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub generate_secret: bool,
    #[serde(default)]
    pub access_token_validity: Option<i64>,
    #[serde(default)]
    pub id_token_validity: Option<i64>,
    #[serde(default)]
    pub refresh_token_validity: Option<i64>,
    #[serde(default)]
    pub token_validity_units: Option<TokenValidityUnitsInput>,
    #[serde(default)]
    pub explicit_auth_flows: Option<Vec<String>>,
    #[serde(default)]
    pub prevent_user_existence_errors: Option<String>,
    #[serde(default)]
    pub read_attributes: Option<Vec<String>>,
    #[serde(default)]
    pub write_attributes: Option<Vec<String>>,
    #[serde(default)]
    pub refresh_token_rotation: Option<RotationInput>,
}

fn unit_seconds(unit: &str) -> Result<i64, WireError> {
    match unit {
        "seconds" => Ok(1),
        "minutes" => Ok(60),
        "hours" => Ok(3600),
        "days" => Ok(86_400),
        other => Err(invalid(format!("TokenValidityUnits {other} is not seconds, minutes, hours or days"))),
    }
}

/// Cognito's legacy ExplicitAuthFlows names, as the `ALLOW_` names they mean.
fn flow_name(flow: &str) -> String {
    match flow {
        "ADMIN_NO_SRP_AUTH" => "ALLOW_ADMIN_USER_PASSWORD_AUTH".to_owned(),
        "USER_PASSWORD_AUTH" => "ALLOW_USER_PASSWORD_AUTH".to_owned(),
        "CUSTOM_AUTH_FLOW_ONLY" => "ALLOW_CUSTOM_AUTH".to_owned(),
        other => other.to_owned(),
    }
}

impl ClientInput {
    /// The client these settings describe. As in Cognito, settings left out take their defaults on update
    /// too (only the name is kept when not given).
    pub fn into_new_client(self, existing: Option<&AppClient>) -> Result<NewClient, WireError> {
        let name = match (self.client_name, existing) {
            (Some(name), _) => name,
            (None, Some(existing)) => existing.name.clone(),
            (None, None) => return Err(invalid("ClientName is required")),
        };
        if name.trim().is_empty() || name.len() > 128 {
            return Err(invalid("ClientName must be 1 to 128 characters"));
        }
        let defaults = NewClient::with_defaults(&name);
        let units = self.token_validity_units.unwrap_or_default();
        let validity = |value: Option<i64>, unit: Option<&str>, default_unit: &str, default_secs: i64| {
            value.map_or(Ok::<i64, WireError>(default_secs), |v| {
                Ok(v.saturating_mul(unit_seconds(unit.unwrap_or(default_unit))?))
            })
        };
        let rotation = self.refresh_token_rotation;
        Ok(NewClient {
            id: existing.map(|client| client.id.clone()),
            access_token_validity_secs: validity(
                self.access_token_validity,
                units.access_token.as_deref(),
                "hours",
                3600,
            )?,
            id_token_validity_secs: validity(
                self.id_token_validity,
                units.id_token.as_deref(),
                "hours",
                3600,
            )?,
            refresh_token_validity_secs: validity(
                self.refresh_token_validity,
                units.refresh_token.as_deref(),
                "days",
                30 * 86_400,
            )?,
            explicit_auth_flows: match self.explicit_auth_flows {
                Some(flows) => flows.iter().map(|flow| flow_name(flow)).collect(),
                // Cognito's default when the request names none.
                None => ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
                    .map(str::to_owned)
                    .to_vec(),
            },
            prevent_user_existence_errors: match self.prevent_user_existence_errors.as_deref() {
                None | Some("ENABLED") => true,
                Some("LEGACY") => false,
                Some(other) => {
                    return Err(invalid(format!(
                        "PreventUserExistenceErrors {other} is not ENABLED or LEGACY"
                    )));
                }
            },
            read_attributes: self.read_attributes.unwrap_or_default(),
            write_attributes: self.write_attributes.unwrap_or_default(),
            refresh_token_rotation: rotation
                .as_ref()
                .is_some_and(|r| r.feature.as_deref() == Some("ENABLED")),
            rotation_grace_secs: rotation.and_then(|r| r.retry_grace_period_seconds).unwrap_or(0),
            ..defaults
        })
    }
}

/// A lifetime in the largest unit that divides it, the way a person would have written it.
fn lifetime(secs: i64, units: &[(&'static str, i64)]) -> (i64, &'static str) {
    units
        .iter()
        .find(|(_, size)| secs % size == 0)
        .map_or((secs, "seconds"), |(unit, size)| (secs / size, *unit))
}

pub(super) fn client_json(client: &AppClient, secret: Option<&str>) -> Value {
    let short = [("hours", 3600), ("minutes", 60), ("seconds", 1)];
    let long = [("days", 86_400), ("hours", 3600), ("minutes", 60), ("seconds", 1)];
    let (access, access_unit) = lifetime(client.access_token_validity_secs, &short);
    let (id, id_unit) = lifetime(client.id_token_validity_secs, &short);
    let (refresh, refresh_unit) = lifetime(client.refresh_token_validity_secs, &long);
    let mut value = json!({
        "UserPoolId": client.pool_id,
        "ClientName": client.name,
        "ClientId": client.id,
        "LastModifiedDate": seconds(client.updated_ms),
        "CreationDate": seconds(client.created_ms),
        "AccessTokenValidity": access,
        "IdTokenValidity": id,
        "RefreshTokenValidity": refresh,
        "TokenValidityUnits": { "AccessToken": access_unit, "IdToken": id_unit, "RefreshToken": refresh_unit },
        "ExplicitAuthFlows": client.explicit_auth_flows,
        "PreventUserExistenceErrors": if client.prevent_user_existence_errors { "ENABLED" } else { "LEGACY" },
        "EnableTokenRevocation": client.enable_token_revocation,
        "EnablePropagateAdditionalUserContextData": false,
        "AuthSessionValidity": 3,
        "AllowedOAuthFlowsUserPoolClient": false,
        "RefreshTokenRotation": {
            "Feature": if client.refresh_token_rotation { "ENABLED" } else { "DISABLED" },
            "RetryGracePeriodSeconds": client.rotation_grace_secs,
        },
    });
    if !client.read_attributes.is_empty() {
        value["ReadAttributes"] = json!(client.read_attributes);
    }
    if !client.write_attributes.is_empty() {
        value["WriteAttributes"] = json!(client.write_attributes);
    }
    if let Some(secret) = secret {
        value["ClientSecret"] = json!(secret);
    }
    value
}

// ----- users -----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PoolUser {
    pub user_pool_id: String,
    pub username: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientUserInput {
    pub client_id: String,
    #[serde(default)]
    pub secret_hash: Option<String>,
    pub username: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConfirmInput {
    pub client_id: String,
    #[serde(default)]
    pub secret_hash: Option<String>,
    pub username: String,
    pub confirmation_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConfirmForgotInput {
    pub client_id: String,
    #[serde(default)]
    pub secret_hash: Option<String>,
    pub username: String,
    pub confirmation_code: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminCreateUserInput {
    pub user_pool_id: String,
    pub username: String,
    #[serde(default)]
    pub user_attributes: Vec<Attribute>,
    #[serde(default)]
    pub temporary_password: Option<String>,
    #[serde(default)]
    pub message_action: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminSetPasswordInput {
    pub user_pool_id: String,
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub permanent: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminAttributesInput {
    pub user_pool_id: String,
    pub username: String,
    pub user_attributes: Vec<Attribute>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MfaSettings {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub preferred_mfa: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MfaPreferenceInput {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub user_pool_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub software_token_mfa_settings: Option<MfaSettings>,
    #[serde(default, rename = "SMSMfaSettings")]
    pub sms_mfa_settings: Option<MfaSettings>,
}

impl MfaPreferenceInput {
    pub fn totp(&self) -> Option<MfaPreference> {
        mfa_preference(self.software_token_mfa_settings.as_ref())
    }

    pub fn sms(&self) -> Option<MfaPreference> {
        mfa_preference(self.sms_mfa_settings.as_ref())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUsersInput {
    pub user_pool_id: String,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub pagination_token: Option<String>,
    #[serde(default)]
    pub attributes_to_get: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ChangePasswordInput {
    pub access_token: String,
    pub previous_password: String,
    pub proposed_password: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AccessTokenInput {
    pub access_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateAttributesInput {
    pub access_token: String,
    pub user_attributes: Vec<Attribute>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VerifyAttributeInput {
    pub access_token: String,
    pub attribute_name: String,
    pub code: String,
}

/// ListUsers' and AdminCreateUser's `UserType`.
pub(super) fn user_type_json(user: &UserDescription) -> Value {
    json!({
        "Username": user.username,
        "Attributes": user.attributes,
        "UserCreateDate": user.user_create_date,
        "UserLastModifiedDate": user.user_last_modified_date,
        "Enabled": user.enabled,
        "UserStatus": user.user_status,
    })
}

/// GetUser's answer, and with `admin` AdminGetUser's (which adds status, dates and `Enabled`).
pub(super) fn get_user_json(user: &UserDescription, admin: bool) -> Value {
    let mut value = json!({
        "Username": user.username,
        "UserAttributes": user.attributes,
        "UserMFASettingList": user.user_m_f_a_setting_list,
    });
    if let Some(preferred) = &user.preferred_mfa_setting {
        value["PreferredMfaSetting"] = json!(preferred);
    }
    if admin {
        value["UserCreateDate"] = json!(user.user_create_date);
        value["UserLastModifiedDate"] = json!(user.user_last_modified_date);
        value["Enabled"] = json!(user.enabled);
        value["UserStatus"] = json!(user.user_status);
    }
    value
}

// ----- authentication -----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InitiateAuthInput {
    pub client_id: String,
    pub auth_flow: String,
    #[serde(default)]
    pub auth_parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminInitiateAuthInput {
    pub user_pool_id: String,
    pub client_id: String,
    pub auth_flow: String,
    #[serde(default)]
    pub auth_parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RespondInput {
    #[serde(default)]
    pub user_pool_id: Option<String>,
    pub client_id: String,
    pub challenge_name: String,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub challenge_responses: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RefreshInput {
    pub client_id: String,
    pub refresh_token: String,
    #[serde(default)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RevokeInput {
    pub client_id: String,
    pub token: String,
    #[serde(default)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SoftwareTokenInput {
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub user_code: Option<String>,
}

/// InitiateAuth's and RespondToAuthChallenge's answer; Cognito always sends `ChallengeParameters`.
pub(super) fn auth_json(response: AuthResponse) -> Value {
    let mut value = json!(response);
    if let Some(map) = value.as_object_mut() {
        map.entry("ChallengeParameters").or_insert_with(|| json!({}));
    }
    value
}

// ----- groups -----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupInput {
    pub user_pool_id: String,
    pub group_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub precedence: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserGroupInput {
    pub user_pool_id: String,
    pub username: String,
    pub group_name: String,
}

pub(super) fn group_json(group: &Group) -> Value {
    let mut value = json!({
        "GroupName": group.name,
        "UserPoolId": group.pool_id,
        "LastModifiedDate": seconds(group.updated_ms),
        "CreationDate": seconds(group.created_ms),
    });
    if let Some(description) = &group.description {
        value["Description"] = json!(description);
    }
    if let Some(precedence) = group.precedence {
        value["Precedence"] = json!(precedence);
    }
    value
}

fn mfa_preference(settings: Option<&MfaSettings>) -> Option<MfaPreference> {
    settings.map(|s| MfaPreference { enabled: s.enabled, preferred: s.preferred_mfa })
}
