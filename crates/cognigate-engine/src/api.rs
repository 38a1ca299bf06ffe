//! Requests and answers in Cognito's shapes and field names, so the wire protocol is a thin (de)serializer
//! over them and the in-process provider speaks the same language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Cognito's `AttributeType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

pub fn attributes_to_map(attributes: &[Attribute]) -> BTreeMap<String, String> {
    attributes.iter().map(|a| (a.name.clone(), a.value.clone())).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignUpRequest {
    pub client_id: String,
    #[serde(default)]
    pub secret_hash: Option<String>,
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub user_attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeDeliveryDetails {
    pub destination: String,
    pub delivery_medium: String,
    pub attribute_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignUpResponse {
    pub user_confirmed: bool,
    #[serde(rename = "UserSub")]
    pub user_sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_delivery_details: Option<CodeDeliveryDetails>,
}

/// Tokens as Cognito returns them (`AuthenticationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthenticationResult {
    pub access_token: String,
    pub id_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub token_type: String,
}

/// The answer to an authentication step: tokens, or a challenge to answer with `session`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub challenge_parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_result: Option<AuthenticationResult>,
}

/// A user as AdminGetUser / ListUsers describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDescription {
    pub username: String,
    pub attributes: Vec<Attribute>,
    pub user_status: String,
    pub enabled: bool,
    /// Seconds since the epoch, as the SDKs' timestamps.
    pub user_create_date: f64,
    pub user_last_modified_date: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_m_f_a_setting_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_mfa_setting: Option<String>,
}
