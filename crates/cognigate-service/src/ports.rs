//! What the service needs from storage, as traits: the user mirror, the audit log, the staff teams, the
//! billing webhook's processed-event ledger, the revocations it makes and the MFA recovery codes. `cognigate-store` implements them on SQLite and PostgreSQL; tests wrap
//! them to inject failures.

use async_trait::async_trait;
use cognigate_config::PoolKind;
use cognigate_domain::onboarding::OnboardingState;
use serde::{Deserialize, Serialize};

/// A storage failure. The message is for the server log; callers answer `INTERNAL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("storage failed: {0}")]
    Backend(String),
}

pub type PortResult<T> = Result<T, PortError>;

/// The service's own record of a user, keyed by the identity provider's `sub`. The identity provider owns
/// credentials and status; the mirror owns what the product adds (onboarding, premium, team) and a copy of
/// what queries need (email, role) so listing and filtering never walk the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorUser {
    pub sub: String,
    pub pool: PoolKind,
    /// The provider's username (for email-username pools, the sub itself).
    pub username: String,
    /// Lowercased.
    pub email: String,
    /// The staff role or the customer base type.
    pub role: String,
    /// Customers only.
    pub premium: bool,
    /// Staff only.
    pub team: Option<String>,
    pub onboarding: OnboardingState,
    /// A staff member approved the account (the approval gate).
    pub approved: bool,
    /// TOTP is enrolled at the identity provider.
    pub mfa_enabled: bool,
    /// Billing has an active subscription (the subscription gate).
    pub subscribed: bool,
    /// Tiers the account signed up for (or was given) whose gates decide its onboarding, e.g. `premium`
    /// chosen at registration and waiting for billing. `premium` above says whether it is in force.
    #[serde(default)]
    pub requested_tiers: Vec<String>,
    /// The identity provider's status when last seen (`CONFIRMED`, `UNCONFIRMED`, ...).
    pub status: String,
    pub enabled: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    /// When the signed-in user started enrolling an authenticator through the auth API (with their
    /// password, and a code from the current one): only then may a code from the new one activate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_setup_started: Option<i64>,
}

/// A page of the mirror in `sub` order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorQuery {
    pub pool: Option<PoolKind>,
    pub role: Option<String>,
    pub team: Option<String>,
    pub onboarding: Option<OnboardingState>,
    pub premium: Option<bool>,
    pub enabled: Option<bool>,
    /// Matches the start of the (lowercased) email.
    pub email_prefix: Option<String>,
    /// Only subs greater than this one (the previous page's last sub).
    pub after: Option<String>,
    pub limit: u32,
}

/// The user mirror.
#[async_trait]
pub trait MirrorStore: Send + Sync + std::fmt::Debug {
    async fn get_mirror(&self, pool: PoolKind, sub: &str) -> PortResult<Option<MirrorUser>>;
    /// Finds a user by email (lowercased by the caller).
    async fn find_mirror_by_email(&self, pool: PoolKind, email: &str) -> PortResult<Option<MirrorUser>>;
    /// Inserts or replaces the row for (`pool`, `sub`).
    async fn put_mirror(&self, user: &MirrorUser) -> PortResult<()>;
    /// Removes the row; `false` when there was none.
    async fn delete_mirror(&self, pool: PoolKind, sub: &str) -> PortResult<bool>;
    async fn list_mirror(&self, query: &MirrorQuery) -> PortResult<Vec<MirrorUser>>;
    /// How many rows of `pool` are in each onboarding state.
    async fn count_mirror(&self, pool: PoolKind) -> PortResult<Vec<(OnboardingState, u64)>>;
}

/// Whether an audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

/// One audited event. Never holds a password, code, token or secret: the fields are identifiers and
/// outcomes only, and `detail` is an error code or a short fixed phrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// A UUID.
    pub id: String,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// `customer` or `staff`.
    #[schema(value_type = String)]
    pub pool: PoolKind,
    /// `auth.login`, `auth.register`, `admin.user.disable`, ...
    pub action: String,
    pub outcome: AuditOutcome,
    /// Who acted: the `sub` of a signed-in user, or the lowercased email they gave, or `None`.
    pub actor: Option<String>,
    /// The actor's role, when known.
    pub actor_role: Option<String>,
    /// Who or what the action was about.
    pub target: Option<String>,
    /// The stable error code of a failure, or a short phrase.
    pub detail: Option<String>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// A query of the audit log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub pool: Option<PoolKind>,
    pub actor: Option<String>,
    pub target: Option<String>,
    /// Exact action, or a prefix ending in `.` (`admin.`).
    pub action: Option<String>,
    pub outcome: Option<AuditOutcome>,
    /// Milliseconds, inclusive.
    pub from: Option<i64>,
    /// Milliseconds, exclusive.
    pub to: Option<i64>,
    /// Only events older than this one (by (`at`, `id`)), for paging.
    pub before: Option<(i64, String)>,
    pub limit: u32,
}

/// The stored audit log.
#[async_trait]
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    async fn append_audit(&self, event: &AuditEvent) -> PortResult<()>;
    async fn query_audit(&self, query: &AuditQuery) -> PortResult<Vec<AuditEvent>>;
}

/// A staff team. Its members are the mirror rows whose `team` is its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub name: String,
    pub description: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// The staff teams.
#[async_trait]
pub trait TeamStore: Send + Sync + std::fmt::Debug {
    /// Creates the team; `false` when one with that name exists (nothing changes then).
    async fn create_team(&self, team: &Team) -> PortResult<bool>;
    async fn get_team(&self, name: &str) -> PortResult<Option<Team>>;
    /// Every team, by name.
    async fn list_teams(&self) -> PortResult<Vec<Team>>;
}

/// The billing webhook's ledger of processed events, for idempotency.
#[async_trait]
pub trait WebhookLedger: Send + Sync + std::fmt::Debug {
    /// Records `event_id` as processed at `at`; `false` when it was already recorded.
    async fn record_event(&self, event_id: &str, at: i64) -> PortResult<bool>;
    /// Forgets a recorded event, so a delivery whose processing failed can be retried.
    async fn forget_event(&self, event_id: &str) -> PortResult<()>;
}

/// A revocation the service made, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRevocation {
    pub pool: PoolKind,
    pub what: Revoked,
    /// When every token it covers has expired (milliseconds); the row is useless after.
    pub expires_ms: i64,
}

/// What a revocation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revoked {
    /// One token (`jti`) or one login (`origin_jti`, every token of the sign-in).
    Token(String),
    /// Every token of `sub` issued (`iat`, Unix seconds) before `issued_before`.
    Subject { sub: String, issued_before: u64 },
}

/// The service's revocations, kept so a restarted process refuses what was revoked before.
#[async_trait]
pub trait RevocationStore: Send + Sync + std::fmt::Debug {
    /// Records a revocation (a subject's is raised, never lowered).
    async fn record_revocation(&self, revocation: &StoredRevocation) -> PortResult<()>;
    /// Every revocation of `pool` whose tokens may still be alive at `now_ms`.
    async fn live_revocations(&self, pool: PoolKind, now_ms: i64) -> PortResult<Vec<StoredRevocation>>;
}

/// One-time MFA recovery codes, as hashes.
#[async_trait]
pub trait RecoveryCodeStore: Send + Sync + std::fmt::Debug {
    /// Replaces the account's codes with these (an enrolment makes a new set).
    async fn replace_recovery_codes(
        &self,
        pool: PoolKind,
        sub: &str,
        hashes: &[String],
        now_ms: i64,
    ) -> PortResult<()>;
    /// Marks the code used if it is the account's and unused; `true` when this call did it (a code works
    /// once, even for concurrent callers).
    async fn use_recovery_code(&self, pool: PoolKind, sub: &str, hash: &str, now_ms: i64)
    -> PortResult<bool>;
    /// How many unused codes the account has.
    async fn unused_recovery_codes(&self, pool: PoolKind, sub: &str) -> PortResult<u32>;
    /// Forgets the account's codes (its authenticator was removed).
    async fn delete_recovery_codes(&self, pool: PoolKind, sub: &str) -> PortResult<()>;
}

/// Sends an account holder a notice of the service's own (someone tried to register their address; a
/// recovery code was used), the way the deployment's mail goes.
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    async fn notify(&self, pool: PoolKind, to: &str, subject: &str, body: &str) -> PortResult<()>;
}
