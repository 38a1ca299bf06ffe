//! The values that cross the provider interface, independent of any SDK's types.

use std::collections::BTreeMap;

use serde::Serialize;

/// User attributes by Cognito name (`email`, `custom:team`, ...).
pub type Attributes = BTreeMap<String, String>;

/// What a provider points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// `local` or `cognito`.
    pub kind: &'static str,
    pub pool_id: String,
    pub client_id: String,
    pub region: String,
    /// The endpoint override, when one is set.
    pub endpoint: Option<String>,
}

/// The pool's settings as the provider reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolSummary {
    pub pool_id: String,
    pub name: String,
    /// `OFF`, `ON` or `OPTIONAL`.
    pub mfa_configuration: String,
    pub password_minimum_length: i32,
    pub estimated_users: Option<i64>,
}

/// Tokens for a signed-in user.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
    /// Present on sign-in; a refresh only answers one when the client rotates refresh tokens.
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub token_type: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Where a sign-in stands: done, or a challenge to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    SignedIn(Tokens),
    Challenge(Challenge),
}

/// A challenge Cognito (or the engine) asks the user to answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `SOFTWARE_TOKEN_MFA`, `SMS_MFA`, `NEW_PASSWORD_REQUIRED`, `MFA_SETUP`, `SELECT_MFA_TYPE`, ...
    pub name: String,
    /// The opaque session to answer with.
    pub session: String,
    pub parameters: BTreeMap<String, String>,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge").field("name", &self.name).field("parameters", &self.parameters).finish()
    }
}

/// An answer to a challenge.
#[derive(Clone, PartialEq, Eq)]
pub enum ChallengeAnswer {
    /// SOFTWARE_TOKEN_MFA.
    TotpCode(String),
    /// SMS_MFA.
    SmsCode(String),
    /// NEW_PASSWORD_REQUIRED, with any required attributes the user must supply.
    NewPassword { password: String, attributes: Attributes },
    /// MFA_SETUP, after [`IdentityProvider::verify_software_token`] confirmed enrolment in the session.
    MfaSetupDone,
}

impl ChallengeAnswer {
    /// The challenge this answers.
    pub fn challenge_name(&self) -> &'static str {
        match self {
            Self::TotpCode(_) => "SOFTWARE_TOKEN_MFA",
            Self::SmsCode(_) => "SMS_MFA",
            Self::NewPassword { .. } => "NEW_PASSWORD_REQUIRED",
            Self::MfaSetupDone => "MFA_SETUP",
        }
    }

    /// Cognito's `ChallengeResponses` for this answer, besides USERNAME (and SECRET_HASH).
    pub fn responses(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        match self {
            Self::TotpCode(code) => {
                map.insert("SOFTWARE_TOKEN_MFA_CODE".to_owned(), code.clone());
            }
            Self::SmsCode(code) => {
                map.insert("SMS_MFA_CODE".to_owned(), code.clone());
            }
            Self::NewPassword { password, attributes } => {
                map.insert("NEW_PASSWORD".to_owned(), password.clone());
                for (name, value) in attributes {
                    map.insert(format!("userAttributes.{name}"), value.clone());
                }
            }
            Self::MfaSetupDone => {}
        }
        map
    }
}

impl std::fmt::Debug for ChallengeAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChallengeAnswer({})", self.challenge_name())
    }
}

/// Who is enrolling a TOTP authenticator.
#[derive(Clone, PartialEq, Eq)]
pub enum Enrolment {
    /// A signed-in user, by access token.
    AccessToken(String),
    /// A user inside an MFA_SETUP challenge, by its session.
    Session(String),
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AccessToken(_) => "Enrolment::AccessToken",
            Self::Session(_) => "Enrolment::Session",
        })
    }
}

/// A new TOTP secret (base32), and inside a challenge the session to continue with.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret {
    pub secret_base32: String,
    pub session: Option<String>,
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// A user's choice for one MFA method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaSetting {
    pub enabled: bool,
    pub preferred: bool,
}

/// Where a code went (masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDelivery {
    pub destination: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    pub attribute: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignUpOutcome {
    pub user_sub: String,
    pub confirmed: bool,
    pub delivery: Option<CodeDelivery>,
}

/// A user as the provider describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub username: String,
    /// The immutable id; also in `attributes["sub"]`.
    pub sub: String,
    pub attributes: Attributes,
    /// `UNCONFIRMED`, `CONFIRMED`, `FORCE_CHANGE_PASSWORD`, `RESET_REQUIRED`, ...
    pub status: String,
    pub enabled: bool,
    /// `SOFTWARE_TOKEN_MFA`, `SMS_MFA`.
    pub mfa_methods: Vec<String>,
    pub preferred_mfa: Option<String>,
    /// Seconds since the epoch.
    pub created_at: i64,
    pub modified_at: i64,
}

impl UserRecord {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// One signed-in session of a user: a refresh-token family that can still refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub client_id: String,
    /// When the user signed in (milliseconds since the epoch).
    pub signed_in_ms: i64,
    /// When the session's current tokens were issued.
    pub refreshed_ms: i64,
    /// When the session ends unless refreshed.
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRecord {
    pub name: String,
    pub description: Option<String>,
    pub precedence: Option<i32>,
}

/// An app client's secret, when it has one, and the SECRET_HASH Cognito asks for with it
/// (Base64(HMAC-SHA256(secret, username + client id))). Both providers sign their calls with this.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientSecret(Option<String>);

impl ClientSecret {
    pub fn new(secret: Option<String>) -> Self {
        Self(secret)
    }

    /// The secret itself (RevokeToken and GetTokensFromRefreshToken send it as `ClientSecret`).
    pub fn value(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The SECRET_HASH for `username`, or `None` for a public client.
    pub fn hash_for(&self, username: &str, client_id: &str) -> Option<String> {
        self.0.as_ref().map(|secret| crate::secret_hash(secret.as_bytes(), username, client_id))
    }

    /// Adds `SECRET_HASH` to auth parameters or challenge responses when the client has a secret.
    pub fn add_to<M: Extend<(String, String)>>(&self, username: &str, client_id: &str, parameters: &mut M) {
        if let Some(hash) = self.hash_for(username, client_id) {
            parameters.extend([("SECRET_HASH".to_owned(), hash)]);
        }
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "ClientSecret(<redacted>)" } else { "ClientSecret(none)" })
    }
}
