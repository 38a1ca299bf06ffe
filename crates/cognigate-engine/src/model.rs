//! The engine's records. They are what the store persists (as JSON documents beside a few indexed columns),
//! so every field has a serde default where a later version may add it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;

/// A user pool and its settings, with Cognito's meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPool {
    /// `<region>_<9 characters>`, e.g. `local_AbC123xyz`.
    pub id: String,
    pub name: String,
    pub password_policy: PasswordPolicy,
    pub mfa: MfaConfiguration,
    /// Which second factors the pool offers.
    #[serde(default)]
    pub software_token_mfa: bool,
    #[serde(default)]
    pub sms_mfa: bool,
    /// Attributes verified by code at sign-up (Cognito's AutoVerifiedAttributes): `email`.
    #[serde(default)]
    pub auto_verified_attributes: Vec<String>,
    /// `email` when users sign in with their email address (case-insensitive).
    #[serde(default)]
    pub username_attributes: Vec<String>,
    /// Custom attributes the pool accepts, by name without the `custom:` prefix.
    #[serde(default)]
    pub custom_attributes: BTreeMap<String, CustomAttributeRule>,
    /// Whether only administrators may create users (AdminCreateUserConfig.AllowAdminCreateUserOnly).
    #[serde(default)]
    pub admin_create_only: bool,
    /// Failures (passwords and codes) before the user is locked, and for how long.
    pub lockout: LockoutPolicy,
    /// How long a temporary password from AdminCreateUser stays valid, in days.
    pub temporary_password_validity_days: u32,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaConfiguration {
    Off,
    On,
    Optional,
}

impl MfaConfiguration {
    /// Cognito's `MfaConfiguration` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::On => "ON",
            Self::Optional => "OPTIONAL",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "OFF" => Some(Self::Off),
            "ON" => Some(Self::On),
            "OPTIONAL" => Some(Self::Optional),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub window_secs: i64,
    pub duration_secs: i64,
}

/// How a custom attribute's values are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomAttributeRule {
    #[serde(default)]
    pub number: bool,
    #[serde(default = "default_true")]
    pub mutable: bool,
    #[serde(default)]
    pub min_length: Option<u32>,
    #[serde(default)]
    pub max_length: Option<u32>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

fn default_true() -> bool {
    true
}

/// An app client of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppClient {
    /// 26 lowercase letters and digits, like Cognito's.
    pub id: String,
    pub pool_id: String,
    pub name: String,
    /// The client secret, sealed at rest; `None` for public clients.
    #[serde(default)]
    pub secret_sealed: Option<Vec<u8>>,
    /// Cognito's ExplicitAuthFlows: `ALLOW_USER_PASSWORD_AUTH`, `ALLOW_REFRESH_TOKEN_AUTH`,
    /// `ALLOW_ADMIN_USER_PASSWORD_AUTH`, ...
    pub explicit_auth_flows: Vec<String>,
    pub access_token_validity_secs: i64,
    pub id_token_validity_secs: i64,
    pub refresh_token_validity_secs: i64,
    /// `ENABLED` hides whether a user exists from every answer.
    pub prevent_user_existence_errors: bool,
    /// Attributes the client may read; empty means all.
    #[serde(default)]
    pub read_attributes: Vec<String>,
    /// Attributes the client may write; empty means all but the ones cognigate manages.
    #[serde(default)]
    pub write_attributes: Vec<String>,
    pub enable_token_revocation: bool,
    /// GetTokensFromRefreshToken issues a new refresh token and retires the old one.
    #[serde(default)]
    pub refresh_token_rotation: bool,
    /// Seconds during which a rotated refresh token may still be presented (0 to 60).
    #[serde(default)]
    pub rotation_grace_secs: i64,
    /// cognigate's own app client of a configured pool, reached only in-process by the auth API. Its
    /// callers pass the service's rate limits and its lockout per account and address, so the engine's
    /// per-user lockout (which lets anyone lock the owner out) is not applied to them; and the wire never
    /// serves it, so nothing reaches the pool's client operations around the service.
    #[serde(default)]
    pub front_door: bool,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

impl AppClient {
    pub fn allows(&self, flow: &str) -> bool {
        self.explicit_auth_flows.iter().any(|allowed| allowed == flow)
    }
}

/// Cognito's user statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ResetRequired => "RESET_REQUIRED",
        }
    }
}

/// A user of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub pool_id: String,
    /// A UUID that never changes.
    pub sub: String,
    /// Cognito's username. In a pool whose users sign in with their email (`UsernameAttributes = email`)
    /// Cognito generates it — it equals the `sub` — and the email is the sign-in alias below.
    pub username: String,
    /// The email an email-username pool's user signs in with (as given); `None` in other pools. Unique per
    /// pool, case-insensitively: the store keys lookups on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_alias: Option<String>,
    /// Attributes by name (`email`, `email_verified`, `custom:company_name`, ...), `sub` excluded.
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    /// The argon2id PHC string; `None` until a password is set.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// When a temporary password stops working.
    #[serde(default)]
    pub temporary_password_expires_ms: Option<Millis>,
    /// A new email the user asked for, waiting for its code; the old one stays in force until then
    /// (Cognito's AttributesRequireVerificationBeforeUpdate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<String>,
    #[serde(default)]
    pub mfa: UserMfa,
    /// Tokens issued before this instant are revoked (sign-out everywhere, disable, password change).
    #[serde(default)]
    pub tokens_valid_after_ms: Millis,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

impl User {
    /// The case-insensitive key usernames are unique by.
    pub fn username_key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    /// What the user signs in with: the alias (email) where there is one, else the username.
    pub fn sign_in_name(&self) -> &str {
        self.sign_in_alias.as_deref().unwrap_or(&self.username)
    }

    /// The unique key the store finds this user by (the sign-in name, case-insensitively).
    pub fn lookup_key(&self) -> String {
        Self::username_key(self.sign_in_name())
    }

    /// Whether `name` designates this user: the username, the sub, or the sign-in alias.
    pub fn answers_to(&self, name: &str) -> bool {
        let key = Self::username_key(name);
        name == self.sub || key == Self::username_key(&self.username) || key == self.lookup_key()
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// A user's second factors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMfa {
    /// The TOTP secret in force, sealed at rest.
    #[serde(default)]
    pub totp_secret_sealed: Option<Vec<u8>>,
    /// A secret AssociateSoftwareToken handed out, sealed, waiting for VerifySoftwareToken: until a code
    /// from it is verified it replaces nothing (Cognito's behaviour), so a stolen access token cannot
    /// lock the owner out of their authenticator by asking for a new secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_pending_sealed: Option<Vec<u8>>,
    /// Whether VerifySoftwareToken confirmed the secret.
    #[serde(default)]
    pub totp_verified: bool,
    /// The last TOTP time step accepted: a code is never accepted twice.
    #[serde(default)]
    pub totp_last_step: Option<u64>,
    #[serde(default)]
    pub totp_enabled: bool,
    #[serde(default)]
    pub sms_enabled: bool,
    /// `SOFTWARE_TOKEN_MFA` or `SMS_MFA`.
    #[serde(default)]
    pub preferred: Option<String>,
}

/// A group of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub pool_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub precedence: Option<i64>,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    SignUp,
    ForgotPassword,
    VerifyEmail,
    SmsMfa,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::ForgotPassword => "forgot_password",
            Self::VerifyEmail => "verify_email",
            Self::SmsMfa => "sms_mfa",
        }
    }
}

/// A 6-digit code sent to a user, stored hashed; one per (user, purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub pool_id: String,
    pub sub: String,
    pub purpose: CodePurpose,
    /// SHA-256 of the code, keyed by the user and purpose.
    pub code_hash: String,
    pub expires_ms: Millis,
    /// Wrong guesses at this code.
    pub attempts: u32,
    /// Cognito's throttle on codes, per user and purpose, carried from one code to the next: when the
    /// current hour began, how many codes were sent in it, and how many wrong guesses were made in it at
    /// any of them. A new code re-arms its own attempts, never these.
    #[serde(default)]
    pub window_started_ms: Millis,
    #[serde(default)]
    pub sent_in_window: u32,
    #[serde(default)]
    pub failures_in_window: u32,
}

/// A challenge in progress (MFA, new password), held server-side and used once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeSession {
    /// SHA-256 of the opaque session string handed to the client.
    pub id_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub sub: String,
    pub challenge: String,
    pub expires_ms: Millis,
    /// When the password step succeeded (becomes `auth_time`).
    pub auth_time_ms: Millis,
}

/// A refresh token, stored by hash. Tokens of one login share a family (`origin_jti`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub token_hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub sub: String,
    pub family: String,
    pub auth_time_ms: Millis,
    pub issued_ms: Millis,
    pub expires_ms: Millis,
    /// Set when rotation replaced this token.
    #[serde(default)]
    pub rotated_ms: Option<Millis>,
    #[serde(default)]
    pub revoked: bool,
}

/// A token signing key of a pool. The private key is sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    pub pool_id: String,
    pub kid: String,
    pub private_sealed: Vec<u8>,
    /// The public JWK as JSON.
    pub public_jwk: String,
    pub created_ms: Millis,
    /// When the key stopped signing; it stays in the JWKS until its tokens have expired.
    #[serde(default)]
    pub retired_ms: Option<Millis>,
}

/// A message that would be emailed or texted. Kept in the outbox only where mail is not delivered (dev),
/// and then with its body sealed at rest: it holds codes and temporary passwords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: String,
    pub pool_id: String,
    /// `email` or `sms`.
    pub channel: String,
    pub recipient: String,
    /// `sign_up_code`, `invitation`, `forgot_password_code`, ...
    pub kind: String,
    pub subject: String,
    /// The text; in the store, base64 of the sealed text (`sealed`), opened by [`crate::Engine::outbox`].
    pub body: String,
    pub created_ms: Millis,
    #[serde(default)]
    pub sealed: bool,
}

/// Failures counted toward lockout for one user: Cognito's schedule, where each failure past the pool's
/// threshold doubles the wait before the next attempt (1 s, 2 s, 4 s, ... up to the pool's duration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutRecord {
    pub failures: u32,
    pub window_started_ms: Millis,
    /// No attempt is judged before this instant; attempts made earlier are refused and not counted.
    #[serde(default)]
    pub locked_until_ms: Option<Millis>,
    /// When the last failure was counted (failures are forgotten after a quiet window).
    #[serde(default)]
    pub last_failure_ms: Millis,
}

/// A ListUsers filter: Cognito's `attribute = "value"` or `attribute ^= "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub attribute: String,
    pub value: String,
    pub prefix: bool,
}
