//! The one interface between the service and whoever holds the identities: [`IdentityProvider`].
//!
//! Two implementations exist: [`LocalProvider`] calls the embedded engine in-process, and
//! `cognigate-cognito`'s `CognitoProvider` calls AWS Cognito (or any Cognito-compatible endpoint, including
//! the engine's own wire protocol) through the AWS SDK. The service, the console and `cognigate sync` only
//! ever see this trait, so a pool moves from `local` to `cognito` by configuration alone.
//!
//! The vocabulary is Cognito's (usernames, challenges, sessions, groups), because both implementations speak
//! it; errors are the product's stable [`ErrorCode`]s, mapped from Cognito's exception names in one place
//! ([`ErrorCode::from_cognito_exception`]). A provider instance is bound to one pool and one app client.

mod local;
mod types;

pub use cognigate_domain::errors::ErrorCode;
pub use cognigate_engine::secret_hash;
pub use local::LocalProvider;
pub use types::*;

use async_trait::async_trait;

/// A failure from the identity provider, already classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub code: ErrorCode,
    /// Cognito's exception name as the provider gave it (`NotAuthorizedException`), for logs and tests.
    pub exception: String,
    /// The provider's message. It never contains a secret; it may name the user, so answers to
    /// unauthenticated callers use the code's own wording instead.
    pub message: String,
}

impl ProviderError {
    /// An error from one of Cognito's exception names.
    pub fn from_exception(exception: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::from_cognito_exception(exception),
            exception: exception.to_owned(),
            message: message.into(),
        }
    }

    /// The provider could not be reached or refused our credentials.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self { code: ErrorCode::ProviderUnavailable, exception: String::new(), message: message.into() }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// Everything the service asks of an identity provider, for one pool and its app client.
#[async_trait]
pub trait IdentityProvider: Send + Sync + std::fmt::Debug {
    /// Which provider this is and what it points at (for status pages and start-up messages).
    fn info(&self) -> &ProviderInfo;

    /// A round trip that proves the pool is reachable with our credentials; answers the pool's settings.
    async fn check(&self) -> ProviderResult<PoolSummary>;

    // --- Self-service, as an app client ---

    async fn sign_up(
        &self,
        username: &str,
        password: &str,
        attributes: &Attributes,
    ) -> ProviderResult<SignUpOutcome>;
    async fn confirm_sign_up(&self, username: &str, code: &str) -> ProviderResult<()>;
    async fn resend_confirmation_code(&self, username: &str) -> ProviderResult<CodeDelivery>;
    /// USER_PASSWORD_AUTH: tokens, or the challenge that stands between the user and them.
    async fn sign_in(&self, username: &str, password: &str) -> ProviderResult<AuthStep>;
    /// Answers a challenge from [`IdentityProvider::sign_in`] (or from a previous answer).
    async fn respond_to_challenge(
        &self,
        username: &str,
        session: &str,
        answer: &ChallengeAnswer,
    ) -> ProviderResult<AuthStep>;
    /// REFRESH_TOKEN_AUTH. `username` is the token owner's username (only needed for SECRET_HASH).
    async fn refresh(&self, refresh_token: &str, username: &str) -> ProviderResult<Tokens>;
    async fn forgot_password(&self, username: &str) -> ProviderResult<CodeDelivery>;
    async fn confirm_forgot_password(&self, username: &str, code: &str, password: &str)
    -> ProviderResult<()>;
    async fn change_password(&self, access_token: &str, previous: &str, proposed: &str)
    -> ProviderResult<()>;
    async fn get_user(&self, access_token: &str) -> ProviderResult<UserRecord>;
    async fn update_user_attributes(&self, access_token: &str, attributes: &Attributes)
    -> ProviderResult<()>;
    async fn global_sign_out(&self, access_token: &str) -> ProviderResult<()>;
    async fn revoke_token(&self, refresh_token: &str) -> ProviderResult<()>;
    /// Starts TOTP enrolment for a signed-in user or inside an MFA_SETUP challenge.
    async fn associate_software_token(&self, who: &Enrolment) -> ProviderResult<TotpSecret>;
    /// Confirms enrolment with a first code; inside a challenge, answers the session to continue with.
    async fn verify_software_token(&self, who: &Enrolment, code: &str) -> ProviderResult<Option<String>>;
    async fn set_mfa_preference(&self, access_token: &str, totp: MfaSetting) -> ProviderResult<()>;

    // --- Administration of the pool ---

    /// Creates (invites) a user. With `temporary_password`, that password; otherwise one is generated and
    /// sent, unless `suppress_message`.
    async fn admin_create_user(
        &self,
        username: &str,
        attributes: &Attributes,
        temporary_password: Option<&str>,
        suppress_message: bool,
    ) -> ProviderResult<UserRecord>;
    async fn admin_get_user(&self, username: &str) -> ProviderResult<UserRecord>;
    async fn admin_delete_user(&self, username: &str) -> ProviderResult<()>;
    async fn admin_disable_user(&self, username: &str) -> ProviderResult<()>;
    async fn admin_enable_user(&self, username: &str) -> ProviderResult<()>;
    async fn admin_confirm_sign_up(&self, username: &str) -> ProviderResult<()>;
    async fn admin_reset_user_password(&self, username: &str) -> ProviderResult<()>;
    async fn admin_set_user_password(
        &self,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> ProviderResult<()>;
    async fn admin_update_user_attributes(
        &self,
        username: &str,
        attributes: &Attributes,
    ) -> ProviderResult<()>;
    async fn admin_user_global_sign_out(&self, username: &str) -> ProviderResult<()>;
    /// The user's signed-in sessions, when the provider can tell (Cognito cannot: `None`).
    async fn admin_list_sessions(&self, username: &str) -> ProviderResult<Option<Vec<SessionSummary>>>;
    async fn admin_set_mfa_preference(&self, username: &str, totp: MfaSetting) -> ProviderResult<()>;
    async fn create_group(
        &self,
        name: &str,
        description: Option<&str>,
        precedence: Option<i32>,
    ) -> ProviderResult<()>;
    async fn list_groups(&self) -> ProviderResult<Vec<GroupRecord>>;
    async fn admin_add_user_to_group(&self, username: &str, group: &str) -> ProviderResult<()>;
    async fn admin_remove_user_from_group(&self, username: &str, group: &str) -> ProviderResult<()>;
    async fn admin_list_groups_for_user(&self, username: &str) -> ProviderResult<Vec<String>>;
    async fn list_users_in_group(&self, group: &str) -> ProviderResult<Vec<UserRecord>>;
    /// One page of users, optionally filtered with Cognito's syntax (`email ^= "a"`).
    async fn list_users(
        &self,
        filter: Option<&str>,
        limit: Option<i32>,
        pagination_token: Option<&str>,
    ) -> ProviderResult<UserPage>;
}
