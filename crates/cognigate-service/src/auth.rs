//! One pool's auth flows: `/auth/customer/*` and `/auth/staff/*` are two instances of [`AuthService`] with
//! the same code and their own provider, verifier, policies and limits.
//!
//! Every flow has the same shape: validate the input, apply the rate limits and the lockout, call the
//! identity provider, then bring the user mirror up to date (identity first, mirror second, with
//! compensation when the second step fails), and write one audit event. Unknown users and wrong
//! passwords take the same path and get the same answer: the provider hashes a password either way, and
//! lockout counts failures for any name.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use cognigate_config::{PoolConfig, PoolKind, Rate, RateLimitConfig, RateLimitedRoute};
use cognigate_domain::authz::{Action, CustomerIdentity, Principal, RequestContext, Resource, StaffIdentity};
use cognigate_domain::claims::{ONBOARDING_ATTRIBUTE, ONBOARDING_CLAIM};
use cognigate_domain::errors::ErrorCode;
use cognigate_domain::onboarding::{
    GateFacts, OnboardingEvent, OnboardingState, SignInAccess, gates_for, state_after_gates, transition,
};
use cognigate_policy::Authorizer;
use cognigate_provider::{AuthStep, ChallengeAnswer, IdentityProvider, ProviderError, Tokens, UserRecord};
use cognigate_token::{Clock, RevocationList, VerifiedToken, Verifier};
use serde::{Deserialize, Serialize};

use crate::audit::Auditor;
use crate::error::{ServiceError, ServiceResult};
use crate::limits::{Lockout, LockoutRule, RateLimiter, address_key};
use crate::metrics::Metrics;
use crate::ports::{
    AuditEvent, AuditOutcome, MirrorStore, MirrorUser, Notifier, RecoveryCodeStore, RevocationStore, Revoked,
    StoredRevocation,
};

/// Who is asking, as the transport saw it. Only identifiers: never a header's full contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// The client's address: the TCP peer, or the address trusted proxies forwarded for it.
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// What every pool's service shares.
#[derive(Clone)]
pub struct SharedParts {
    pub authorizer: Arc<Authorizer>,
    pub mirror: Arc<dyn MirrorStore>,
    pub auditor: Auditor,
    pub limiter: Arc<dyn RateLimiter>,
    pub lockout: Arc<dyn Lockout>,
    /// Where revocations are kept, so a restarted process still refuses what was revoked.
    pub revocation_store: Arc<dyn RevocationStore>,
    pub recovery_codes: Arc<dyn RecoveryCodeStore>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// The name authenticator apps show (`issuer` of the `otpauth://` URI).
    pub service_name: String,
}

impl std::fmt::Debug for SharedParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedParts")
            .field("mirror", &self.mirror)
            .field("limiter", &self.limiter)
            .field("lockout", &self.lockout)
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

/// One pool's parts.
#[derive(Debug, Clone)]
pub struct PoolParts {
    pub pool: PoolKind,
    pub settings: PoolConfig,
    pub rate_limits: BTreeMap<RateLimitedRoute, RateLimitConfig>,
    pub provider: Arc<dyn IdentityProvider>,
    /// Accepts this pool's access tokens only (issuer, client, `token_use`), and consults `revocations`.
    pub verifier: Arc<Verifier>,
    /// Revocations this service makes (sign-out, password change, refused sign-in), for `verifier`.
    pub revocations: Arc<RevocationList>,
}

/// (role, tiers, active): what a pool's permissions depend on.
type PermissionFacts = (String, Vec<String>, bool);

/// The auth flows of one pool.
#[derive(Debug)]
pub struct AuthService {
    pub(crate) shared: SharedParts,
    pub(crate) parts: PoolParts,
    /// Permissions by (role, tiers, active): `authorize` is pure over these facts, so each combination is
    /// decided by Cedar once.
    permissions: Mutex<HashMap<PermissionFacts, Vec<String>>>,
    /// Mirror rows recently read for `me`, by sub. Flows that change a row read the store and refresh this
    /// entry; another instance's change shows here within [`MIRROR_CACHE`].
    recent: Mutex<HashMap<String, (MirrorUser, std::time::Instant)>>,
}

/// How long `me` trusts a mirror row it read. Suspension, rejection and disabling also revoke the
/// account's tokens at once, so this only delays what `me` displays.
const MIRROR_CACHE: std::time::Duration = std::time::Duration::from_secs(2);

/// At most this many cached rows; the cache starts over when full.
const MIRROR_CACHE_ROWS: usize = 100_000;

// ----- requests and answers -----

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    /// `individual` (default) or `dealer`.
    #[serde(default)]
    pub base_type: Option<String>,
    /// `premium` to start on the paid tier (it is in force once billing confirms the subscription).
    #[serde(default)]
    pub plan: Option<String>,
    /// Standard attributes (`given_name`, ...) and the pool's custom attributes (`custom:display_name`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmRequest {
    pub email: String,
    pub code: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    /// One of the account's MFA recovery codes, when its authenticator is lost: with the password it
    /// passes the MFA step once, removes the authenticator, and the sign-in continues with a new enrolment
    /// (`MFA_SETUP`) where the pool requires MFA.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChallengeRequest {
    pub email: String,
    /// The `challenge` of the previous answer: `SOFTWARE_TOKEN_MFA`, `SMS_MFA` or `NEW_PASSWORD_REQUIRED`
    /// (`MFA_SETUP` is answered through `/totp/setup` and `/totp/verify` with the session).
    pub challenge: String,
    pub session: String,
    /// The MFA code, for MFA challenges.
    #[serde(default)]
    pub code: Option<String>,
    /// The new password, for `NEW_PASSWORD_REQUIRED`.
    #[serde(default)]
    #[schema(format = Password)]
    pub new_password: Option<String>,
    /// Required attributes the pool asks for with `NEW_PASSWORD_REQUIRED`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpSetupRequest {
    /// The session of an `MFA_SETUP` challenge; without it, the caller's bearer token says who enrols.
    #[serde(default)]
    pub session: Option<String>,
    /// With a bearer token: the account's password, proving the person and not just a token is here.
    #[serde(default)]
    #[schema(format = Password)]
    pub password: Option<String>,
    /// With a bearer token, when an authenticator is enrolled already: a current code from it. Replacing
    /// an authenticator takes the one in force.
    #[serde(default)]
    pub code: Option<String>,
}

/// What turning MFA off takes: the password and a current code from the authenticator.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpDisableRequest {
    #[schema(format = Password)]
    pub password: String,
    pub code: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpVerifyRequest {
    pub code: String,
    /// The session from `/totp/setup` inside an `MFA_SETUP` challenge (then `email` too).
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
    /// The `user.username` of the sign-in (needed when the app client has a secret).
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub email: String,
    pub code: String,
    #[schema(format = Password)]
    pub new_password: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(format = Password)]
    pub current_password: String,
    #[schema(format = Password)]
    pub new_password: String,
}

/// The signed-in user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub sub: String,
    pub username: String,
    pub email: String,
    /// `customer` or `staff`.
    pub pool: String,
    /// The staff role or the customer base type.
    pub role: String,
    pub tiers: Vec<String>,
    pub team: Option<String>,
    pub premium: bool,
    /// One of the eight onboarding states.
    pub onboarding_state: String,
    pub mfa_enabled: bool,
    /// The permissions in force now, as Cedar decides them (none until the account is active).
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub access_token: String,
    pub id_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
    pub expires_in: i64,
    pub user: UserView,
    /// After an MFA enrolment only: one-time recovery codes, shown this once (they are stored hashed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResponse {
    /// `SOFTWARE_TOKEN_MFA`, `SMS_MFA`, `MFA_SETUP` or `NEW_PASSWORD_REQUIRED`.
    pub challenge: String,
    pub session: String,
    /// True for the MFA challenges (including `MFA_SETUP`).
    pub mfa_required: bool,
}

/// Tokens, or the next challenge.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LoginOutcome {
    Tokens(Box<TokenResponse>),
    Challenge(ChallengeResponse),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
/// The one answer to a registration, whether the address was free or already had an account (its owner is
/// told by email instead): the answer never says which.
pub struct RegisterResponse {
    pub accepted: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmResponse {
    pub confirmed: bool,
    pub onboarding_state: String,
}

/// The one answer to requests that must not reveal whether an account exists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedResponse {
    pub accepted: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpSetupResponse {
    /// The base32 secret, for typing into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
    /// A PNG of the same QR code, base64-encoded.
    pub qr_png_base64: String,
    /// Inside an `MFA_SETUP` challenge: the session to verify with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaStatusResponse {
    pub mfa_enabled: bool,
    pub user: UserView,
    /// After an enrolment only: one-time recovery codes, shown this once (they are stored hashed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// What verifying a TOTP code leads to: MFA on for a signed-in user, or the end of an `MFA_SETUP` sign-in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TotpVerifyOutcome {
    Enabled(Box<MfaStatusResponse>),
    SignedIn(LoginOutcome),
}

/// A verified caller of a protected route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: VerifiedToken,
    pub access_token: String,
}

// ----- input checks -----

/// The email as the pools store it (`cognigate_domain::email`: NFKC, lower case; invisible and mixed-script
/// look-alikes refused), or a validation error saying why.
pub fn normalize_email(email: &str) -> ServiceResult<String> {
    cognigate_domain::email::normalize_email(email)
        .map_err(|error| ServiceError::validation(error.to_string()))
}

pub(crate) fn check_password_shape(field: &str, password: &str) -> ServiceResult<()> {
    if password.is_empty() || password.chars().count() > 256 {
        return Err(ServiceError::validation(format!("{field} must be 1 to 256 characters")));
    }
    Ok(())
}

pub(crate) fn check_code(code: &str) -> ServiceResult<()> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ServiceError::validation("code must be 6 digits"))
    }
}

pub(crate) fn check_opaque(field: &str, value: &str) -> ServiceResult<()> {
    if value.is_empty() || value.len() > 8192 {
        return Err(ServiceError::validation(format!("{field} is missing or too long")));
    }
    Ok(())
}

fn is_mfa_challenge(name: &str) -> bool {
    matches!(name, "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "MFA_SETUP" | "SELECT_MFA_TYPE")
}

/// Attributes a registering customer may set: the standard ones the pool declares (email aside) and its
/// non-reserved custom attributes.
fn check_registration_attributes(
    settings: &PoolConfig,
    attributes: &BTreeMap<String, String>,
) -> ServiceResult<()> {
    for name in attributes.keys() {
        let allowed = match name.strip_prefix("custom:") {
            Some(custom) => settings.custom_attributes.contains_key(custom),
            None => name != "email" && settings.attributes.contains_key(name),
        };
        if !allowed {
            return Err(ServiceError::validation(format!("attribute {name} cannot be set at registration")));
        }
    }
    for (name, rule) in &settings.attributes {
        if rule.required && name != "email" && !attributes.contains_key(name) {
            return Err(ServiceError::validation(format!("attribute {name} is required")));
        }
    }
    Ok(())
}

impl AuthService {
    pub fn new(shared: SharedParts, parts: PoolParts) -> Self {
        Self { shared, parts, permissions: Mutex::new(HashMap::new()), recent: Mutex::new(HashMap::new()) }
    }

    pub fn pool(&self) -> PoolKind {
        self.parts.pool
    }

    pub fn provider(&self) -> &Arc<dyn IdentityProvider> {
        &self.parts.provider
    }

    pub fn mirror(&self) -> &Arc<dyn MirrorStore> {
        &self.shared.mirror
    }

    pub fn settings(&self) -> &PoolConfig {
        &self.parts.settings
    }

    pub(crate) fn now(&self) -> u64 {
        self.shared.clock.now()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        i64::try_from(self.now()).unwrap_or(i64::MAX).saturating_mul(1000)
    }

    fn lockout_rule(&self) -> LockoutRule {
        LockoutRule::from(&self.parts.settings.lockout)
    }

    pub(crate) fn account_key(&self, email: &str) -> String {
        format!("{}:{email}", self.parts.pool)
    }

    // ----- cross-cutting steps -----

    /// Applies the route's per-address and per-account limits (its configured ones, or the defaults: no
    /// auth route is unlimited). Addresses are counted as [`address_key`] groups them (IPv6 per /64).
    pub(crate) async fn limit(
        &self,
        route: RateLimitedRoute,
        meta: &RequestMeta,
        account: Option<&str>,
    ) -> ServiceResult<()> {
        let config = route.limits_in(&self.parts.rate_limits);
        let route_name = route.as_str();
        let pool = self.parts.pool.as_str();
        let address = address_key(meta.address.as_deref());
        let checks = [
            (config.per_address, "address", address.as_str()),
            (config.per_account, "account", account.unwrap_or("")),
        ];
        for (rate, scope, key) in checks {
            let Some(rate) = rate else { continue };
            if scope == "account" && key.is_empty() {
                continue;
            }
            let bucket = format!("{pool}.{route_name}.{scope}");
            if let Err(wait) = self.shared.limiter.acquire(&bucket, key, rate).await {
                self.shared.metrics.rate_limited(pool, route_name, scope);
                return Err(ServiceError::rate_limited(wait));
            }
        }
        Ok(())
    }

    /// Refuses a try at `email` from this address while it must wait (see [`Lockout`]).
    pub(crate) async fn ensure_not_locked(&self, meta: &RequestMeta, email: &str) -> ServiceResult<()> {
        let address = address_key(meta.address.as_deref());
        match self.shared.lockout.wait_for(&self.account_key(email), &address, self.now()).await {
            Some(left) => Err(ServiceError::locked(left)),
            None => Ok(()),
        }
    }

    /// Counts a failed factor; when it makes the address wait, says so in the metrics and the audit log.
    pub(crate) async fn count_failure(&self, meta: &RequestMeta, email: &str) {
        let address = address_key(meta.address.as_deref());
        if let Some(_wait) = self
            .shared
            .lockout
            .record_failure(&self.account_key(email), &address, self.lockout_rule(), self.now())
            .await
        {
            self.shared.metrics.lockout(self.parts.pool.as_str());
            self.audit(
                meta,
                "auth.lockout",
                AuditOutcome::Failure,
                Some(email),
                None,
                Some(email),
                Some("LOCKED"),
            )
            .await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn audit(
        &self,
        meta: &RequestMeta,
        action: &str,
        outcome: AuditOutcome,
        actor: Option<&str>,
        actor_role: Option<&str>,
        target: Option<&str>,
        detail: Option<&str>,
    ) {
        self.shared
            .auditor
            .record(AuditEvent {
                id: uuid::Uuid::new_v4().to_string(),
                at: wall_clock_ms(),
                pool: self.parts.pool,
                action: action.to_owned(),
                outcome,
                actor: actor.map(str::to_owned),
                actor_role: actor_role.map(str::to_owned),
                target: target.map(str::to_owned),
                detail: detail.map(str::to_owned),
                address: meta.address.clone(),
                user_agent: meta.user_agent.clone(),
                request_id: meta.request_id.clone(),
            })
            .await;
    }

    /// Audits and counts the outcome of an auth call, then passes it on.
    pub(crate) async fn finish<T>(
        &self,
        meta: &RequestMeta,
        action: &str,
        actor: Option<&str>,
        result: ServiceResult<T>,
    ) -> ServiceResult<T> {
        let (outcome, detail) = audit_outcome(&result);
        self.shared.metrics.auth_attempt(self.parts.pool.as_str(), action, outcome.as_str());
        self.audit(meta, action, outcome, actor, None, actor, detail).await;
        result
    }

    /// Verifies a bearer access token for this pool: signature, issuer, client, `token_use`, expiry and
    /// revocation. Any failure is the same `AUTH_FAILED`.
    pub async fn authenticate(&self, access_token: &str) -> ServiceResult<Caller> {
        if access_token.is_empty() || access_token.len() > 16 * 1024 {
            return Err(ServiceError::invalid_token());
        }
        let token = self.parts.verifier.verify(access_token).await.map_err(|error| {
            tracing::debug!(pool = %self.parts.pool, error = %error, "access token refused");
            ServiceError::invalid_token()
        })?;
        Ok(Caller { token, access_token: access_token.to_owned() })
    }

    // ----- the mirror -----

    pub(crate) fn gates_of(&self, user: &MirrorUser) -> Vec<cognigate_config::OnboardingGate> {
        gates_for(&self.parts.settings.onboarding.gates, &user.role, &user.requested_tiers)
    }

    pub(crate) fn facts_of(user: &MirrorUser) -> GateFacts {
        GateFacts { approved: user.approved, mfa_enrolled: user.mfa_enabled, subscribed: user.subscribed }
    }

    /// The next state of `user` after `event`, or a conflict the caller answers.
    pub(crate) fn apply(&self, user: &mut MirrorUser, event: OnboardingEvent) -> ServiceResult<()> {
        let next = transition(user.onboarding, event, &self.gates_of(user), &Self::facts_of(user))
            .map_err(|refused| ServiceError::new(ErrorCode::Conflict, refused.to_string()))?;
        user.onboarding = next;
        user.updated_at = self.now_ms();
        Ok(())
    }

    /// A mirror row built from what the identity provider knows (a user created outside this service, or
    /// one whose mirror write was lost).
    pub fn mirror_from_record(&self, record: &UserRecord) -> MirrorUser {
        let pool = self.parts.pool;
        let attribute = |name: &str| record.attribute(name).filter(|v| !v.is_empty()).map(str::to_owned);
        let model = self.shared.authorizer.model().pool(pool);
        let role = match pool {
            PoolKind::Customer => attribute("custom:base_type"),
            PoolKind::Staff => attribute("custom:role"),
        }
        .filter(|role| model.roles.contains_key(role))
        .unwrap_or_else(|| default_role(pool).to_owned());
        let tiers: Vec<String> = attribute("custom:tier")
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let premium = tiers.iter().any(|t| t == "premium");
        let mfa_enabled = record.mfa_methods.iter().any(|m| m == "SOFTWARE_TOKEN_MFA");
        let mut user = MirrorUser {
            sub: record.sub.clone(),
            pool,
            username: record.username.clone(),
            email: attribute("email").unwrap_or_default().to_lowercase(),
            role,
            premium,
            team: attribute("custom:team"),
            onboarding: OnboardingState::PendingVerification,
            approved: false,
            mfa_enabled,
            subscribed: premium,
            requested_tiers: tiers,
            status: record.status.clone(),
            enabled: record.enabled,
            created_at: record.created_at.saturating_mul(1000),
            updated_at: self.now_ms(),
            last_login_at: None,
            mfa_setup_started: None,
        };
        user.onboarding = self.state_from_record(&user, record);
        user
    }

    /// Where a user found at the identity provider stands, for a new mirror row. Nobody is taken as
    /// approved: a dealer whose registration was cut off before its mirror row was written must not skip
    /// the approval it never had, so it waits in `pending_approval` like any other.
    fn state_from_record(&self, user: &MirrorUser, record: &UserRecord) -> OnboardingState {
        if !record.enabled {
            return OnboardingState::Disabled;
        }
        if record.status == "UNCONFIRMED" {
            return OnboardingState::PendingVerification;
        }
        state_after_gates(&self.gates_of(user), &Self::facts_of(user))
    }

    pub(crate) async fn load_or_rebuild(&self, sub: &str, access_token: &str) -> ServiceResult<MirrorUser> {
        if let Some(user) = self.shared.mirror.get_mirror(self.parts.pool, sub).await? {
            return Ok(user);
        }
        let record = self.parts.provider.get_user(access_token).await?;
        Ok(self.mirror_from_record(&record))
    }

    /// Ends every session of an account: its tokens issued before this second are refused here at once
    /// (and after a restart: the revocation is stored), and the identity provider revokes every sign-in
    /// (for the embedded engine, each login's family is revoked and stored, which catches this second's
    /// tokens too). A failure at the provider is logged; the local revocation holds.
    pub(crate) async fn end_sessions(&self, sub: &str, username: &str) {
        self.revoke(Revoked::Subject { sub: sub.to_owned(), issued_before: self.now() }).await;
        if let Err(error) = self.parts.provider.admin_user_global_sign_out(username).await {
            tracing::warn!(error = %error, sub, "the account's sessions could not be ended at the identity provider");
        }
    }

    /// Revokes in this process at once, and in the store for every later one. A store failure is logged:
    /// the in-process revocation still holds until this process ends.
    pub(crate) async fn revoke(&self, what: Revoked) {
        let tokens = &self.parts.settings.tokens;
        let longest_access = tokens.access.as_secs().max(tokens.id.as_secs());
        let now = self.now();
        let lives_for = match &what {
            Revoked::Subject { .. } => longest_access,
            Revoked::Token(_) => tokens.refresh.as_secs(),
        };
        // A minute beyond the last token it covers: the verifiers' leeway on expiry is smaller.
        let expires = now.saturating_add(lives_for).saturating_add(60);
        match &what {
            Revoked::Subject { sub, issued_before } => self.parts.revocations.revoke_subject_until_expiry(
                sub.clone(),
                issued_before.saturating_sub(1),
                expires,
                now,
            ),
            Revoked::Token(id) => self.parts.revocations.revoke_id_until_expiry(id.clone(), expires, now),
        }
        let expires_ms = i64::try_from(expires).unwrap_or(i64::MAX).saturating_mul(1000);
        let record = StoredRevocation { pool: self.parts.pool, what, expires_ms };
        if let Err(error) = self.shared.revocation_store.record_revocation(&record).await {
            tracing::error!(error = %error, "a revocation could not be stored; it holds in this process only");
        }
    }

    /// Tells the identity provider an account's onboarding state (`custom:onboarding`), which decides the
    /// claims of every token minted for it from then on.
    pub(crate) async fn publish_onboarding(
        &self,
        username: &str,
        state: OnboardingState,
    ) -> ServiceResult<()> {
        let attribute = BTreeMap::from([(ONBOARDING_ATTRIBUTE.to_owned(), state.as_str().to_owned())]);
        Ok(self.parts.provider.admin_update_user_attributes(username, &attribute).await?)
    }

    /// Writes a mirror row, identity first (see [`Self::save_from`]), reading the row it replaces.
    pub(crate) async fn save(&self, user: &MirrorUser) -> ServiceResult<()> {
        let previous = self.shared.mirror.get_mirror(self.parts.pool, &user.sub).await?;
        self.save_from(previous.as_ref(), user).await
    }

    /// Writes a mirror row that replaces `previous`, identity first: when the onboarding state changes,
    /// the identity provider learns it (`custom:onboarding`, which every token's claims are decided by),
    /// and a state that bars the account (rejected, suspended) disables the identity there, so no client of
    /// the provider signs it in around the service. Then the mirror, and this instance forgets its cached
    /// copy.
    pub(crate) async fn save_from(
        &self,
        previous: Option<&MirrorUser>,
        user: &MirrorUser,
    ) -> ServiceResult<()> {
        let mut user = user.clone();
        if previous.is_none_or(|previous| previous.onboarding != user.onboarding) {
            self.publish_onboarding(&user.username, user.onboarding).await?;
        }
        if bars(user.onboarding) && user.enabled {
            self.parts.provider.admin_disable_user(&user.username).await?;
            user.enabled = false;
        }
        self.recent.lock().unwrap_or_else(PoisonError::into_inner).remove(&user.sub);
        self.shared.mirror.put_mirror(&user).await?;
        Ok(())
    }

    /// The permissions in force for `user`, decided by Cedar (cached per combination of facts).
    fn permissions_of(&self, user: &MirrorUser) -> Vec<String> {
        let active = user.onboarding.permissions_in_force() && user.enabled;
        let tiers = if user.premium && self.parts.pool == PoolKind::Customer {
            vec!["premium".to_owned()]
        } else {
            Vec::new()
        };
        let key = (user.role.clone(), tiers.clone(), active);
        if let Some(cached) = self.permissions.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return cached.clone();
        }
        let principal = match self.parts.pool {
            PoolKind::Customer => Principal::Customer(CustomerIdentity {
                id: user.sub.clone(),
                base: user.role.clone(),
                tiers: tiers.clone(),
                team: None,
                active,
            }),
            PoolKind::Staff => Principal::Staff(StaffIdentity {
                id: user.sub.clone(),
                role: user.role.clone(),
                team: user.team.clone(),
                active,
            }),
        };
        let model = self.shared.authorizer.model();
        let candidates = model.pool(self.parts.pool).permissions.keys();
        let allowed: Vec<String> = candidates
            .filter(|permission| {
                self.shared
                    .authorizer
                    .authorize(
                        &principal,
                        &Action::Permission((*permission).clone()),
                        &Resource::Application,
                        &RequestContext::default(),
                    )
                    .allowed
            })
            .cloned()
            .collect();
        self.permissions.lock().unwrap_or_else(PoisonError::into_inner).insert(key, allowed.clone());
        allowed
    }

    pub fn view(&self, user: &MirrorUser) -> UserView {
        UserView {
            sub: user.sub.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            pool: self.parts.pool.as_str().to_owned(),
            role: user.role.clone(),
            tiers: if user.premium { vec!["premium".to_owned()] } else { Vec::new() },
            team: user.team.clone(),
            premium: user.premium,
            onboarding_state: user.onboarding.as_str().to_owned(),
            mfa_enabled: user.mfa_enabled,
            permissions: self.permissions_of(user),
        }
    }

    /// Takes back the tokens of a sign-in we refuse after the provider already minted them: that login
    /// only (its family), so the account's other sessions are not touched by a refusal.
    pub(crate) async fn discard_tokens(&self, tokens: &Tokens, verified: &VerifiedToken) {
        if let Some(family) = verified.origin_jti() {
            self.revoke(Revoked::Token(family.to_owned())).await;
        }
        if let Some(refresh) = &tokens.refresh_token
            && let Err(error) = self.parts.provider.revoke_token(refresh).await
        {
            tracing::warn!(error = %error, "could not revoke the refresh token of a refused sign-in");
        }
    }

    /// Revokes the caller's session (its login, stored) and every token of the caller issued before this
    /// second (stored). `iat` has second precision: a token another session got in this very second is
    /// caught by the identity provider's sign-out, which revokes each login's family (the embedded engine
    /// stores them); a sign-in right after the sign-out, in the same second, is a new login and works.
    async fn end_sessions_before_now(&self, token: &VerifiedToken) {
        self.revoke(Revoked::Subject { sub: token.sub().to_owned(), issued_before: self.now() }).await;
        if let Some(family) = token.origin_jti() {
            self.revoke(Revoked::Token(family.to_owned())).await;
        }
        if let Some(jti) = token.jti() {
            self.revoke(Revoked::Token(jti.to_owned())).await;
        }
    }

    // ----- the flows -----

    /// Registers a customer. Whether the address was free or already had an account, the answer is the
    /// same (the owner of an existing account gets an email saying someone tried), and both cost one
    /// password hash: nothing here tells a stranger which addresses have accounts.
    pub async fn register(
        &self,
        meta: &RequestMeta,
        request: RegisterRequest,
    ) -> ServiceResult<RegisterResponse> {
        let email = normalize_email(&request.email)?;
        let result = self.register_inner(meta, &email, request).await;
        self.finish(meta, "auth.register", Some(&email), result).await
    }

    async fn register_inner(
        &self,
        meta: &RequestMeta,
        email: &str,
        request: RegisterRequest,
    ) -> ServiceResult<RegisterResponse> {
        if self.parts.settings.sign_up != cognigate_config::SignUpMode::SelfService {
            return Err(ServiceError::forbidden("Accounts in this pool are created by invitation only."));
        }
        check_password_shape("password", &request.password)?;
        let model = self.shared.authorizer.model().pool(self.parts.pool);
        let base = request.base_type.clone().unwrap_or_else(|| default_role(self.parts.pool).to_owned());
        if !model.roles.contains_key(&base) {
            return Err(ServiceError::validation(format!(
                "baseType must be one of {:?}",
                model.roles.keys()
            )));
        }
        let requested_tiers: Vec<String> = match request.plan.as_deref() {
            None | Some("") | Some("free") => Vec::new(),
            Some(plan) if model.tiers.get(plan).is_some_and(|tier| tier.applies_to.contains(&base)) => {
                vec![plan.to_owned()]
            }
            Some(plan) => {
                return Err(ServiceError::validation(format!("plan {plan} is not available for {base}")));
            }
        };
        check_registration_attributes(&self.parts.settings, &request.attributes)?;
        self.limit(RateLimitedRoute::Register, meta, Some(email)).await?;

        let mut attributes = request.attributes.clone();
        attributes.insert("email".to_owned(), email.to_owned());
        let outcome = match self.parts.provider.sign_up(email, &request.password, &attributes).await {
            Ok(outcome) => outcome,
            Err(error) if error.code == ErrorCode::UserExists => {
                // The caller is told nothing; the audit log says what happened.
                self.audit(
                    meta,
                    "auth.register_existing",
                    AuditOutcome::Failure,
                    Some(email),
                    None,
                    None,
                    Some("USER_EXISTS"),
                )
                .await;
                self.tell_owner_of_registration_attempt(email).await;
                return Ok(registration_accepted());
            }
            Err(error) => return Err(error.into()),
        };
        // The identity exists from here on; it is new (sign-up refuses existing names), so compensation
        // may delete it. The base type is recorded as asked: it is in force only once onboarding says so
        // (a dealer waits for approval), and tokens carry no role until then.
        let base_attributes = BTreeMap::from([("custom:base_type".to_owned(), base.clone())]);
        if let Err(error) =
            self.parts.provider.admin_update_user_attributes(&outcome.user_sub, &base_attributes).await
        {
            self.compensate_registration(&outcome.user_sub).await;
            return Err(error.into());
        }
        let now = self.now_ms();
        let mut user = MirrorUser {
            sub: outcome.user_sub.clone(),
            pool: self.parts.pool,
            username: outcome.user_sub.clone(),
            email: email.to_owned(),
            role: base,
            premium: false,
            team: None,
            onboarding: OnboardingState::PendingVerification,
            approved: false,
            mfa_enabled: false,
            subscribed: false,
            requested_tiers,
            status: if outcome.confirmed { "CONFIRMED" } else { "UNCONFIRMED" }.to_owned(),
            enabled: true,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            mfa_setup_started: None,
        };
        if outcome.confirmed {
            self.apply(&mut user, OnboardingEvent::Confirmed)?;
        }
        if let Err(error) = self.save_from(None, &user).await {
            self.compensate_registration(&outcome.user_sub).await;
            return Err(error);
        }
        Ok(registration_accepted())
    }

    /// Tells the owner of an existing account that someone tried to register their address (best effort:
    /// the caller's answer does not depend on it), at most once an hour, so repeated attempts cannot fill
    /// their mailbox.
    async fn tell_owner_of_registration_attempt(&self, email: &str) {
        let once_an_hour = Rate { count: 1, per: std::time::Duration::from_secs(3600) };
        let bucket = format!("{}.registration_notice", self.parts.pool);
        if self.shared.limiter.acquire(&bucket, email, once_an_hour).await.is_err() {
            return;
        }
        let body = format!(
            "Someone tried to create a {} account with this email address, which already has one.\n\n\
             If it was you, sign in instead, or reset your password if you have forgotten it.\n\
             If it was not you, you can ignore this message: nothing about your account changed.\n",
            self.parts.settings.display_name
        );
        if let Err(error) = self
            .shared
            .notifier
            .notify(self.parts.pool, email, "Someone tried to register with your email address", &body)
            .await
        {
            tracing::warn!(error = %error, "the owner of an existing account could not be told of a registration attempt");
        }
    }

    /// Undoes a registration whose second step failed. Only ever called for an identity this request
    /// created; if the delete fails too, `cognigate sync` finds the identity without a mirror row.
    async fn compensate_registration(&self, sub: &str) {
        match self.parts.provider.admin_delete_user(sub).await {
            Ok(()) => {
                tracing::warn!(pool = %self.parts.pool, sub, "registration rolled back: identity deleted")
            }
            Err(error) => tracing::error!(
                pool = %self.parts.pool, sub, error = %error,
                "registration half done and the identity could not be deleted; `cognigate sync` will repair it"
            ),
        }
    }

    /// Confirms a sign-up with the emailed code. Every failure that could tell an unknown address from a
    /// known one (no such account, already confirmed, no code, an expired or exhausted code) is the same
    /// `CODE_MISMATCH`.
    pub async fn confirm(
        &self,
        meta: &RequestMeta,
        request: ConfirmRequest,
    ) -> ServiceResult<ConfirmResponse> {
        let email = normalize_email(&request.email)?;
        let result = async {
            check_code(&request.code)?;
            self.limit(RateLimitedRoute::Confirm, meta, Some(&email)).await?;
            self.parts.provider.confirm_sign_up(&email, &request.code).await.map_err(code_failure)?;
            let state = self.after_confirmation(&email).await?;
            Ok(ConfirmResponse { confirmed: true, onboarding_state: state.as_str().to_owned() })
        }
        .await;
        self.finish(meta, "auth.confirm", Some(&email), result).await
    }

    /// Moves the mirror past `pending_verification` (rebuilding it from the provider when it is missing).
    async fn after_confirmation(&self, email: &str) -> ServiceResult<OnboardingState> {
        let record = self.parts.provider.admin_get_user(email).await?;
        let previous = self.shared.mirror.get_mirror(self.parts.pool, &record.sub).await?;
        let mut user = match &previous {
            Some(user) => user.clone(),
            None => self.mirror_from_record(&record),
        };
        user.status.clone_from(&record.status);
        if user.onboarding == OnboardingState::PendingVerification {
            self.apply(&mut user, OnboardingEvent::Confirmed)?;
        }
        self.save_from(previous.as_ref(), &user).await?;
        Ok(user.onboarding)
    }

    pub async fn resend_code(
        &self,
        meta: &RequestMeta,
        request: EmailRequest,
    ) -> ServiceResult<AcceptedResponse> {
        let email = normalize_email(&request.email)?;
        let result = async {
            self.limit(RateLimitedRoute::ResendCode, meta, Some(&email)).await?;
            // Unknown and already confirmed accounts get the same answer.
            let sent = self.parts.provider.resend_confirmation_code(&email).await;
            accepted_whoever_asked(
                sent,
                "If the account exists and is unconfirmed, a new code has been sent.",
            )
        }
        .await;
        self.finish(meta, "auth.resend_code", Some(&email), result).await
    }

    pub async fn login(&self, meta: &RequestMeta, request: LoginRequest) -> ServiceResult<LoginOutcome> {
        let email = normalize_email(&request.email)?;
        let result = async {
            check_password_shape("password", &request.password)?;
            self.limit(RateLimitedRoute::Login, meta, Some(&email)).await?;
            self.ensure_not_locked(meta, &email).await?;
            if let Some(code) = &request.recovery_code {
                return self.recover(meta, &email, &request.password, code).await;
            }
            let step = self.sign_in(meta, &email, &request.password).await?;
            self.after_step(meta, &email, step).await
        }
        .await;
        self.finish(meta, "auth.login", Some(&email), result).await
    }

    /// The provider's password step, with failures counted toward the lockout. Unknown users, wrong
    /// passwords and disabled accounts (right password or not) get the one answer.
    pub(crate) async fn sign_in(
        &self,
        meta: &RequestMeta,
        email: &str,
        password: &str,
    ) -> ServiceResult<AuthStep> {
        match self.parts.provider.sign_in(email, password).await {
            Ok(step) => Ok(step),
            Err(error) => {
                if error.code == ErrorCode::AuthFailed {
                    self.count_failure(meta, email).await;
                }
                Err(error.into())
            }
        }
    }

    pub(crate) async fn after_step(
        &self,
        meta: &RequestMeta,
        email: &str,
        step: AuthStep,
    ) -> ServiceResult<LoginOutcome> {
        match step {
            AuthStep::Challenge(challenge) => Ok(LoginOutcome::Challenge(ChallengeResponse {
                mfa_required: is_mfa_challenge(&challenge.name),
                challenge: challenge.name,
                session: challenge.session,
            })),
            AuthStep::SignedIn(tokens) => {
                Ok(LoginOutcome::Tokens(Box::new(self.signed_in(meta, email, tokens).await?)))
            }
        }
    }

    /// Tokens were minted: decide from the mirror whether this account may have them, and record it. When
    /// this sign-in moved the account's state (its first sign-in after an administrator confirmed it, an
    /// enrolment finished elsewhere), the tokens minted before are re-minted, so they carry the state and
    /// permissions the account has now.
    async fn signed_in(
        &self,
        meta: &RequestMeta,
        email: &str,
        tokens: Tokens,
    ) -> ServiceResult<TokenResponse> {
        let verified =
            self.parts.verifier.verify(&tokens.access_token).await.map_err(ServiceError::internal)?;
        let sub = verified.sub().to_owned();
        let previous = self.shared.mirror.get_mirror(self.parts.pool, &sub).await?;
        let mut user = match &previous {
            Some(user) => user.clone(),
            None => self.mirror_from_record(&self.parts.provider.get_user(&tokens.access_token).await?),
        };
        if user.onboarding == OnboardingState::PendingVerification {
            // Confirmed elsewhere (an administrator); the provider would not have signed in otherwise.
            self.apply(&mut user, OnboardingEvent::Confirmed)?;
        }
        if user.onboarding == OnboardingState::PendingMfa && !user.mfa_enabled {
            let record = self.parts.provider.get_user(&tokens.access_token).await?;
            if record.mfa_methods.iter().any(|m| m == "SOFTWARE_TOKEN_MFA") {
                user.mfa_enabled = true;
                self.apply(&mut user, OnboardingEvent::MfaEnrolled)?;
            }
        }
        if user.onboarding.sign_in() == SignInAccess::Refused {
            self.discard_tokens(&tokens, &verified).await;
            return Err(refusal(user.onboarding));
        }
        user.last_login_at = Some(self.now_ms());
        user.status = "CONFIRMED".to_owned();
        if let Err(error) = self.save_from(previous.as_ref(), &user).await {
            // The identity existed before this request: compensation takes the tokens back, never the user.
            self.discard_tokens(&tokens, &verified).await;
            return Err(error);
        }
        let address = address_key(meta.address.as_deref());
        self.shared.lockout.record_success(&self.account_key(email), &address, self.now()).await;
        let stale = verified.claim(ONBOARDING_CLAIM).and_then(serde_json::Value::as_str)
            != Some(user.onboarding.as_str());
        let tokens = match (&tokens.refresh_token, stale) {
            (Some(refresh), true) => {
                let mut fresh = self.parts.provider.refresh(refresh, &user.username).await?;
                // A client that does not rotate answers no refresh token: the sign-in's own still serves.
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = Some(refresh.clone());
                }
                fresh
            }
            _ => tokens,
        };
        Ok(self.token_response(tokens, &user))
    }

    pub(crate) fn token_response(&self, tokens: Tokens, user: &MirrorUser) -> TokenResponse {
        TokenResponse {
            access_token: tokens.access_token,
            id_token: tokens.id_token,
            refresh_token: tokens.refresh_token,
            token_type: tokens.token_type,
            expires_in: tokens.expires_in,
            user: self.view(user),
            recovery_codes: None,
        }
    }

    pub async fn respond(
        &self,
        meta: &RequestMeta,
        request: ChallengeRequest,
    ) -> ServiceResult<LoginOutcome> {
        let email = normalize_email(&request.email)?;
        let result = async {
            check_opaque("session", &request.session)?;
            let answer = match request.challenge.as_str() {
                "SOFTWARE_TOKEN_MFA" | "SMS_MFA" => {
                    let code =
                        request.code.clone().ok_or_else(|| ServiceError::validation("code is required"))?;
                    check_code(&code)?;
                    if request.challenge == "SMS_MFA" {
                        ChallengeAnswer::SmsCode(code)
                    } else {
                        ChallengeAnswer::TotpCode(code)
                    }
                }
                "NEW_PASSWORD_REQUIRED" => {
                    let password = request
                        .new_password
                        .clone()
                        .ok_or_else(|| ServiceError::validation("newPassword is required"))?;
                    check_password_shape("newPassword", &password)?;
                    ChallengeAnswer::NewPassword { password, attributes: request.attributes.clone() }
                }
                "MFA_SETUP" => {
                    return Err(ServiceError::validation(
                        "MFA_SETUP is answered with /totp/setup and /totp/verify and the session",
                    ));
                }
                other => return Err(ServiceError::validation(format!("unknown challenge {other}"))),
            };
            self.limit(RateLimitedRoute::RespondToChallenge, meta, Some(&email)).await?;
            self.ensure_not_locked(meta, &email).await?;
            match self.parts.provider.respond_to_challenge(&email, &request.session, &answer).await {
                Ok(step) => self.after_step(meta, &email, step).await,
                Err(error) => {
                    if matches!(error.code, ErrorCode::CodeMismatch | ErrorCode::AuthFailed) {
                        self.count_failure(meta, &email).await;
                    }
                    Err(error.into())
                }
            }
        }
        .await;
        self.finish(meta, "auth.challenge", Some(&email), result).await
    }

    pub async fn refresh(&self, meta: &RequestMeta, request: RefreshRequest) -> ServiceResult<TokenResponse> {
        let result = async {
            check_opaque("refreshToken", &request.refresh_token)?;
            self.limit(RateLimitedRoute::Refresh, meta, None).await?;
            let username = request.username.as_deref().unwrap_or("");
            let tokens = self.parts.provider.refresh(&request.refresh_token, username).await?;
            let verified = self.parts.verifier.verify(&tokens.access_token).await.map_err(|error| {
                tracing::warn!(error = %error, "a refreshed access token failed verification");
                ServiceError::invalid_token()
            })?;
            let user = self.load_or_rebuild(verified.sub(), &tokens.access_token).await?;
            if user.onboarding.sign_in() == SignInAccess::Refused {
                self.discard_tokens(&tokens, &verified).await;
                return Err(ServiceError::auth_failed());
            }
            Ok(self.token_response(tokens, &user))
        }
        .await;
        self.finish(meta, "auth.refresh", None, result).await
    }

    pub async fn forgot_password(
        &self,
        meta: &RequestMeta,
        request: EmailRequest,
    ) -> ServiceResult<AcceptedResponse> {
        let email = normalize_email(&request.email)?;
        let result = async {
            self.limit(RateLimitedRoute::ForgotPassword, meta, Some(&email)).await?;
            let sent = self.parts.provider.forgot_password(&email).await;
            accepted_whoever_asked(sent, "If the account exists, a code to reset the password has been sent.")
        }
        .await;
        self.finish(meta, "auth.forgot_password", Some(&email), result).await
    }

    /// Sets a new password with the emailed code. Works while the account is locked, and lifts the lock:
    /// the code proves the mailbox, and this is how an owner gets past a lockout a stranger caused. Every
    /// failure that could tell accounts apart is the same `CODE_MISMATCH`; the password policy (the pool's,
    /// the same for every address) is judged first.
    pub async fn reset_password(
        &self,
        meta: &RequestMeta,
        request: ResetPasswordRequest,
    ) -> ServiceResult<AcceptedResponse> {
        let email = normalize_email(&request.email)?;
        let result = async {
            check_code(&request.code)?;
            check_password_shape("newPassword", &request.new_password)?;
            self.limit(RateLimitedRoute::ConfirmForgotPassword, meta, Some(&email)).await?;
            self.parts
                .provider
                .confirm_forgot_password(&email, &request.code, &request.new_password)
                .await
                .map_err(code_failure)?;
            // Ends every session that used the old password.
            self.shared.lockout.clear(&self.account_key(&email)).await;
            if let Ok(record) = self.parts.provider.admin_get_user(&email).await {
                self.end_sessions(&record.sub, &record.username).await;
            }
            Ok(accepted("The password has been reset."))
        }
        .await;
        self.finish(meta, "auth.reset_password", Some(&email), result).await
    }

    pub async fn change_password(
        &self,
        meta: &RequestMeta,
        bearer: &str,
        request: ChangePasswordRequest,
    ) -> ServiceResult<AcceptedResponse> {
        let result = async {
            check_password_shape("currentPassword", &request.current_password)?;
            check_password_shape("newPassword", &request.new_password)?;
            let caller = self.authenticate(bearer).await?;
            let user = self.load_or_rebuild(caller.token.sub(), bearer).await?;
            self.limit(RateLimitedRoute::ChangePassword, meta, Some(&user.email)).await?;
            self.ensure_not_locked(meta, &user.email).await?;
            if let Err(error) = self
                .parts
                .provider
                .change_password(bearer, &request.current_password, &request.new_password)
                .await
            {
                if error.code == ErrorCode::AuthFailed {
                    self.count_failure(meta, &user.email).await;
                }
                return Err(error.into());
            }
            // Other sessions used the old password: end them all, this one included.
            self.end_sessions_before_now(&caller.token).await;
            if let Err(error) = self.parts.provider.global_sign_out(bearer).await {
                tracing::warn!(error = %error, "sessions could not be ended after a password change");
            }
            Ok(accepted("The password has been changed; sign in again."))
        }
        .await;
        self.finish(meta, "auth.change_password", None, result).await
    }

    pub async fn sign_out(&self, meta: &RequestMeta, bearer: &str) -> ServiceResult<AcceptedResponse> {
        let result = async {
            let caller = self.authenticate(bearer).await?;
            self.parts.provider.global_sign_out(bearer).await?;
            self.end_sessions_before_now(&caller.token).await;
            Ok(accepted("Signed out everywhere."))
        }
        .await;
        self.finish(meta, "auth.sign_out", None, result).await
    }

    pub async fn me(&self, bearer: &str) -> ServiceResult<UserView> {
        let caller = self.authenticate(bearer).await?;
        let sub = caller.token.sub();
        let cached = {
            let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            recent.get(sub).filter(|(_, at)| at.elapsed() < MIRROR_CACHE).map(|(user, _)| user.clone())
        };
        let user = match cached {
            Some(user) => user,
            None => {
                let user = self.load_or_rebuild(sub, bearer).await?;
                let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
                if recent.len() >= MIRROR_CACHE_ROWS {
                    recent.clear();
                }
                recent.insert(sub.to_owned(), (user.clone(), std::time::Instant::now()));
                user
            }
        };
        if user.onboarding.sign_in() == SignInAccess::Refused {
            return Err(ServiceError::invalid_token());
        }
        Ok(self.view(&user))
    }

    // ----- service functions for the admin API and the console -----

    /// Approves or rejects a `pending_approval` account, as `actor` (decided by Cedar).
    pub async fn decide_approval(
        &self,
        meta: &RequestMeta,
        actor: &Principal,
        sub: &str,
        approve: bool,
    ) -> ServiceResult<MirrorUser> {
        let action = if approve { "admin.user.approve" } else { "admin.user.reject" };
        let result = async {
            let mut user = self
                .shared
                .mirror
                .get_mirror(self.parts.pool, sub)
                .await?
                .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, "No such user."))?;
            let admin_action = if approve {
                cognigate_domain::authz::AdminAction::Approve
            } else {
                cognigate_domain::authz::AdminAction::Reject
            };
            let decision = self.shared.authorizer.authorize(
                actor,
                &Action::Admin(admin_action),
                &self.resource_of(&user),
                &RequestContext::default(),
            );
            if !decision.allowed {
                return Err(ServiceError::forbidden("You may not decide on this account."));
            }
            if approve {
                user.approved = true;
                self.apply(&mut user, OnboardingEvent::Approved)?;
            } else {
                self.apply(&mut user, OnboardingEvent::Rejected)?;
            }
            self.save(&user).await?;
            if !approve {
                // A rejected account has no business holding sessions.
                self.end_sessions(&user.sub, &user.username).await;
            }
            Ok(user)
        }
        .await;
        let (outcome, detail) = audit_outcome(&result);
        let (actor_id, actor_role) = principal_facts(actor);
        self.audit(meta, action, outcome, Some(actor_id), actor_role, Some(sub), detail).await;
        result
    }

    /// The authorization resource for a mirror row.
    pub fn resource_of(&self, user: &MirrorUser) -> Resource {
        let active = user.onboarding.permissions_in_force() && user.enabled;
        match self.parts.pool {
            PoolKind::Customer => Resource::Customer(CustomerIdentity {
                id: user.sub.clone(),
                base: user.role.clone(),
                tiers: if user.premium { vec!["premium".to_owned()] } else { Vec::new() },
                team: user.team.clone(),
                active,
            }),
            PoolKind::Staff => Resource::Staff(StaffIdentity {
                id: user.sub.clone(),
                role: user.role.clone(),
                team: user.team.clone(),
                active,
            }),
        }
    }

    /// Invites a staff member: the identity provider creates the account with a temporary password and
    /// sends the invitation; the mirror records role and team. Returns the mirror row and, when
    /// `temporary_password` was not given, nothing else: the password only travels in the invitation.
    pub async fn invite_staff(
        &self,
        meta: &RequestMeta,
        actor: Option<&Principal>,
        invitation: Invitation,
    ) -> ServiceResult<MirrorUser> {
        let email = normalize_email(&invitation.email)?;
        let result = async {
            if self.parts.pool != PoolKind::Staff {
                return Err(ServiceError::validation("only staff are invited"));
            }
            let model = self.shared.authorizer.model().pool(self.parts.pool);
            if !model.roles.contains_key(&invitation.role) {
                return Err(ServiceError::validation(format!(
                    "role must be one of {:?}",
                    model.roles.keys()
                )));
            }
            if let Some(actor) = actor {
                let target = StaffIdentity {
                    id: String::new(),
                    role: invitation.role.clone(),
                    team: invitation.team.clone(),
                    active: false,
                };
                let decision = self.shared.authorizer.authorize(
                    actor,
                    &Action::Admin(cognigate_domain::authz::AdminAction::InviteStaff),
                    &Resource::Staff(target),
                    &RequestContext {
                        granted_role: Some(invitation.role.clone()),
                        ..RequestContext::default()
                    },
                );
                if !decision.allowed {
                    return Err(ServiceError::forbidden("You may not invite staff with this role or team."));
                }
            }
            let mut attributes = invitation.attributes.clone();
            attributes.insert("email".to_owned(), email.clone());
            attributes.insert("email_verified".to_owned(), "true".to_owned());
            attributes.insert("custom:role".to_owned(), invitation.role.clone());
            if let Some(team) = &invitation.team {
                attributes.insert("custom:team".to_owned(), team.clone());
            }
            let record = self
                .parts
                .provider
                .admin_create_user(&email, &attributes, invitation.temporary_password.as_deref(), false)
                .await?;
            let mut user = self.mirror_from_record(&record);
            user.approved = true;
            user.onboarding = state_after_gates(&self.gates_of(&user), &Self::facts_of(&user));
            if let Err(error) = self.save(&user).await {
                self.compensate_registration(&record.username).await;
                return Err(error);
            }
            Ok(user)
        }
        .await;
        let (outcome, detail) = audit_outcome(&result);
        let (actor_id, actor_role) = actor.map(principal_facts).unwrap_or(("system", None));
        self.audit(meta, "admin.user.invite", outcome, Some(actor_id), actor_role, Some(&email), detail)
            .await;
        result
    }

    /// Creates an account directly, with a permanent password when one is given (or the provider's
    /// invitation otherwise), for seeding and imports: no actor, no authorization, no invitation message
    /// when a password is set. `attributes` carry the role, base type, tier and team.
    pub async fn provision(
        &self,
        email: &str,
        attributes: &BTreeMap<String, String>,
        password: Option<&str>,
        approved: bool,
    ) -> ServiceResult<MirrorUser> {
        let email = normalize_email(email)?;
        let mut attributes = attributes.clone();
        attributes.insert("email".to_owned(), email.clone());
        attributes.insert("email_verified".to_owned(), "true".to_owned());
        let record =
            self.parts.provider.admin_create_user(&email, &attributes, password, password.is_some()).await?;
        if let Some(password) = password
            && let Err(error) =
                self.parts.provider.admin_set_user_password(&record.username, password, true).await
        {
            self.compensate_registration(&record.username).await;
            return Err(error.into());
        }
        let record = self.parts.provider.admin_get_user(&record.username).await?;
        let mut user = self.mirror_from_record(&record);
        user.approved = approved;
        user.onboarding = state_after_gates(&self.gates_of(&user), &Self::facts_of(&user));
        if let Err(error) = self.save(&user).await {
            self.compensate_registration(&record.username).await;
            return Err(error);
        }
        Ok(user)
    }

    /// Grants or removes premium (billing): the tier attribute at the identity provider first, so the next
    /// tokens carry it, then the mirror; if the mirror write fails, the attribute is put back.
    pub async fn set_subscription(&self, sub: &str, subscribed: bool) -> ServiceResult<MirrorUser> {
        if self.parts.pool != PoolKind::Customer {
            return Err(ServiceError::validation("subscriptions are for customers"));
        }
        let mut user = self
            .shared
            .mirror
            .get_mirror(self.parts.pool, sub)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, "No such customer."))?;
        let previous_tier = if user.premium { "premium" } else { "" };
        let tier = if subscribed { "premium" } else { "" };
        let attribute = |value: &str| BTreeMap::from([("custom:tier".to_owned(), value.to_owned())]);
        self.parts.provider.admin_update_user_attributes(&user.username, &attribute(tier)).await?;
        user.subscribed = subscribed;
        user.premium = subscribed;
        if subscribed {
            if !user.requested_tiers.iter().any(|t| t == "premium") {
                user.requested_tiers.push("premium".to_owned());
            }
        } else {
            user.requested_tiers.retain(|t| t != "premium");
        }
        let event = if subscribed { OnboardingEvent::Subscribed } else { OnboardingEvent::Unsubscribed };
        // Suspended, disabled or rejected accounts keep their state; only the tier changes.
        if let Ok(next) = transition(user.onboarding, event, &self.gates_of(&user), &Self::facts_of(&user)) {
            user.onboarding = next;
        }
        user.updated_at = self.now_ms();
        if let Err(error) = self.save(&user).await {
            if let Err(undo) = self
                .parts
                .provider
                .admin_update_user_attributes(&user.username, &attribute(previous_tier))
                .await
            {
                tracing::error!(error = %undo, sub, "the tier could not be put back; `cognigate sync` will repair it");
            }
            return Err(error);
        }
        // Tokens minted before carry the old tier; the next refresh carries the new one.
        Ok(user)
    }

    pub async fn audit_event(
        &self,
        meta: &RequestMeta,
        action: &str,
        outcome: AuditOutcome,
        target: Option<&str>,
        detail: Option<&str>,
    ) {
        self.audit(meta, action, outcome, None, None, target, detail).await;
    }
}

/// An invitation of a staff member.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Invitation {
    pub email: String,
    pub role: String,
    #[serde(default)]
    pub team: Option<String>,
    /// `given_name`, `family_name`, ...
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Set by tests and seeding; otherwise the provider generates one and sends it.
    #[serde(default, skip)]
    pub temporary_password: Option<String>,
}

/// How an audit event records a result: success, a denial (`FORBIDDEN`), or a failure with its code.
pub(crate) fn audit_outcome<T>(result: &ServiceResult<T>) -> (AuditOutcome, Option<&'static str>) {
    match result {
        Ok(_) => (AuditOutcome::Success, None),
        Err(error) if error.code == ErrorCode::Forbidden => (AuditOutcome::Denied, Some(error.code.as_str())),
        Err(error) => (AuditOutcome::Failure, Some(error.code.as_str())),
    }
}

pub(crate) fn principal_facts(principal: &Principal) -> (&str, Option<&str>) {
    match principal {
        Principal::Customer(customer) => (&customer.id, Some(&customer.base)),
        Principal::Staff(staff) => (&staff.id, Some(&staff.role)),
    }
}

/// Audit events are stamped with the wall clock in milliseconds: they record when something happened,
/// and their order matters to readers; the injected clock decides policy (locks, windows, expiry).
fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The role of an account nobody gave one: the least privileged.
pub fn default_role(pool: PoolKind) -> &'static str {
    match pool {
        PoolKind::Customer => "individual",
        PoolKind::Staff => "team_member",
    }
}

/// The one answer of a request that must not reveal whether the account exists: the same acceptance
/// whether the provider sent a code or refused (no such user, not in that state, too many codes this
/// hour). Only a failure of the provider itself is an error.
fn accepted_whoever_asked<T>(
    sent: Result<T, ProviderError>,
    message: &str,
) -> ServiceResult<AcceptedResponse> {
    match sent {
        Err(error) if matches!(error.code, ErrorCode::Internal | ErrorCode::ProviderUnavailable) => {
            Err(error.into())
        }
        _ => Ok(accepted(message)),
    }
}

/// The answer to a registration, new address or not.
fn registration_accepted() -> RegisterResponse {
    RegisterResponse {
        accepted: true,
        message: "Registration received: follow the instructions sent to this email address.".to_owned(),
    }
}

/// A failed code (confirmation, reset): one answer for every reason that could tell accounts apart. What
/// the caller must fix (the password policy, the input's shape) and what it must wait for (rate limits)
/// say so; a failure of the provider stays one.
fn code_failure(error: ProviderError) -> ServiceError {
    match error.code {
        ErrorCode::PasswordPolicy
        | ErrorCode::Validation
        | ErrorCode::RateLimited
        | ErrorCode::Internal
        | ErrorCode::ProviderUnavailable => error.into(),
        _ => {
            ServiceError::new(ErrorCode::CodeMismatch, "The code is wrong or has expired; ask for a new one.")
        }
    }
}

fn accepted(message: &str) -> AcceptedResponse {
    AcceptedResponse { accepted: true, message: message.to_owned() }
}

/// The answer to a sign-in the onboarding state refuses. Suspended, rejected and disabled accounts get
/// the answer of a wrong password, whether the password was right or not: a different answer would tell
/// a guesser they found it.
fn refusal(state: OnboardingState) -> ServiceError {
    match state {
        OnboardingState::PendingVerification => {
            ServiceError::new(ErrorCode::NotConfirmed, "The account's email is not confirmed yet.")
        }
        _ => ServiceError::auth_failed(),
    }
}

/// States that bar the account: its identity is disabled at the provider while it is in one.
pub(crate) fn bars(state: OnboardingState) -> bool {
    matches!(state, OnboardingState::Suspended | OnboardingState::Rejected)
}
