//! What the identity provider's confirmation of a sign-up means for the account, wherever it happens: in
//! [`crate::auth::AuthService::confirm`], or by a client of the pool that never passes through the service
//! (Cognito's own API). [`confirm_identity`] is the PostConfirmation hook both the Lambda on AWS and the
//! embedded engine run, so an account confirmed any way gets the same attributes, group and row.
//!
//! The rules are the auth service's: the role comes from the administrator-written attribute when it names
//! a known role, otherwise the least privileged one; confirming moves a row out of `pending_verification`
//! to the first gate it has not passed; nobody is taken as approved. A row the service already wrote at
//! registration (with the plan the person chose) is kept and only moved on.

use std::collections::BTreeMap;

use cognigate_config::{PoolConfig, PoolKind};
use cognigate_domain::access::AccessModel;
use cognigate_domain::claims::ONBOARDING_ATTRIBUTE;
use cognigate_domain::onboarding::{GateFacts, OnboardingEvent, OnboardingState, gates_for, transition};
use cognigate_provider::{IdentityProvider, ProviderResult};

use crate::auth::default_role;
use crate::ports::{MirrorStore, MirrorUser};

/// The identity whose sign-up was confirmed, as the identity provider describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedIdentity {
    pub pool: PoolKind,
    /// The immutable id.
    pub sub: String,
    /// The provider's username (for email-username pools, the sub).
    pub username: String,
    /// The user's attributes (`email`, `custom:base_type`, ...).
    pub attributes: BTreeMap<String, String>,
}

impl ConfirmedIdentity {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }
}

/// The role the mirror records for `identity`: its administrator-written role attribute (`custom:base_type`
/// for customers, `custom:role` for staff) when that names a role of the pool, otherwise the least
/// privileged role.
pub fn role_of(identity: &ConfirmedIdentity, model: &AccessModel) -> String {
    let attribute = match identity.pool {
        PoolKind::Customer => identity.attribute("custom:base_type"),
        PoolKind::Staff => identity.attribute("custom:role"),
    };
    attribute
        .filter(|role| model.pool(identity.pool).roles.contains_key(*role))
        .map_or_else(|| default_role(identity.pool).to_owned(), str::to_owned)
}

/// The PostConfirmation hook: makes a confirmed sign-up an account the rest of cognigate knows. In order:
/// a customer without a base type gets the least privileged one written to `custom:base_type` (a PreSignUp
/// answer cannot set attributes, so this is the first moment it can be); the user joins the pool's default
/// group, the least privileged role, which is also the fallback the token claims read; the onboarding state
/// after confirmation ([`mirror_after_confirmation`]) is written to `custom:onboarding`, which every token's
/// claims are decided by; and, when there is a store, the mirror row is written. The first three are the
/// identity and fail the hook when the provider refuses; the row is a copy, so a store failure is logged and
/// left to `cognigate sync`. Answers the row.
pub async fn confirm_identity(
    provider: &dyn IdentityProvider,
    mirror: Option<&dyn MirrorStore>,
    settings: &PoolConfig,
    model: &AccessModel,
    mut identity: ConfirmedIdentity,
    now_ms: i64,
) -> ProviderResult<MirrorUser> {
    let (pool, sub) = (identity.pool, identity.sub.clone());
    if pool == PoolKind::Customer && identity.attribute("custom:base_type").is_none() {
        let base = default_role(PoolKind::Customer).to_owned();
        let update = BTreeMap::from([("custom:base_type".to_owned(), base.clone())]);
        provider.admin_update_user_attributes(&identity.username, &update).await?;
        identity.attributes.insert("custom:base_type".to_owned(), base);
    }
    let group = default_role(pool);
    provider.admin_add_user_to_group(&identity.username, group).await?;
    tracing::info!(pool = %pool, sub = %sub, group, "confirmed sign-up joined the default group");
    let existing = match mirror {
        Some(store) => store.get_mirror(pool, &sub).await.unwrap_or_else(|error| {
            tracing::error!(pool = %pool, sub = %sub, error = %error, "the mirror row could not be read");
            None
        }),
        None => None,
    };
    let row = mirror_after_confirmation(existing, &identity, settings, model, now_ms);
    let onboarding = BTreeMap::from([(ONBOARDING_ATTRIBUTE.to_owned(), row.onboarding.as_str().to_owned())]);
    provider.admin_update_user_attributes(&identity.username, &onboarding).await?;
    if let Some(store) = mirror
        && let Err(error) = store.put_mirror(&row).await
    {
        tracing::error!(pool = %pool, sub = %sub, error = %error, "the mirror row could not be written; `cognigate sync` will repair it");
    }
    Ok(row)
}

/// The mirror row after the identity provider confirmed `identity`'s sign-up at `now_ms`: `existing` moved
/// past `pending_verification`, or a new row built from the identity's attributes.
pub fn mirror_after_confirmation(
    existing: Option<MirrorUser>,
    identity: &ConfirmedIdentity,
    settings: &PoolConfig,
    model: &AccessModel,
    now_ms: i64,
) -> MirrorUser {
    let mut user = existing.unwrap_or_else(|| new_row(identity, model, now_ms));
    "CONFIRMED".clone_into(&mut user.status);
    user.updated_at = now_ms;
    if user.onboarding == OnboardingState::PendingVerification {
        let gates = gates_for(&settings.onboarding.gates, &user.role, &user.requested_tiers);
        let facts = GateFacts {
            approved: user.approved,
            mfa_enrolled: user.mfa_enabled,
            subscribed: user.subscribed,
        };
        // Confirming a pending account is never refused; should the rules change, the row stays put.
        if let Ok(next) = transition(user.onboarding, OnboardingEvent::Confirmed, &gates, &facts) {
            user.onboarding = next;
        }
    }
    user
}

/// The mirror row after the user changed their own identity somewhere the service did not see it (Cognito's
/// self-service API: a verified new email, an authenticator turned on or off): the copies the mirror keeps
/// of those follow, so searches find the account by its address and the old address is free again. `None`
/// when the row already agrees.
pub fn mirror_after_identity_change(
    existing: &MirrorUser,
    email: Option<&str>,
    mfa_enabled: bool,
    now_ms: i64,
) -> Option<MirrorUser> {
    let email = email.map(|email| {
        cognigate_domain::email::normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase())
    });
    let mut row = existing.clone();
    if let Some(email) = email {
        row.email = email;
    }
    row.mfa_enabled = mfa_enabled;
    (row != *existing).then_some(MirrorUser { updated_at: now_ms, ..row })
}

fn new_row(identity: &ConfirmedIdentity, model: &AccessModel, now_ms: i64) -> MirrorUser {
    let tiers: Vec<String> = identity
        .attribute("custom:tier")
        .map(|tiers| tiers.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let premium = identity.pool == PoolKind::Customer && tiers.iter().any(|tier| tier == "premium");
    MirrorUser {
        sub: identity.sub.clone(),
        pool: identity.pool,
        username: identity.username.clone(),
        email: identity.attribute("email").unwrap_or_default().to_lowercase(),
        role: role_of(identity, model),
        premium,
        team: identity.attribute("custom:team").map(str::to_owned),
        onboarding: OnboardingState::PendingVerification,
        approved: false,
        mfa_enabled: false,
        // A tier an administrator wrote before confirmation counts as paid for, as when the service rebuilds
        // a row from the identity provider.
        subscribed: premium,
        requested_tiers: tiers,
        status: "CONFIRMED".to_owned(),
        enabled: true,
        created_at: now_ms,
        updated_at: now_ms,
        last_login_at: None,
        mfa_setup_started: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../cognigate.toml");

    fn config() -> cognigate_config::Config {
        cognigate_config::load_from_str(SHIPPED, "cognigate.toml", cognigate_config::Environment::Dev, [])
            .unwrap()
    }

    fn identity(pool: PoolKind, attributes: &[(&str, &str)]) -> ConfirmedIdentity {
        ConfirmedIdentity {
            pool,
            sub: "0f4c2a6e-0000-4000-8000-000000000001".to_owned(),
            username: "0f4c2a6e-0000-4000-8000-000000000001".to_owned(),
            attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn a_plain_sign_up_becomes_an_active_individual() {
        let config = config();
        let model = AccessModel::from_config(&config);
        let who = identity(PoolKind::Customer, &[("email", "Ann@Example.com"), ("sub", "x")]);
        let row = mirror_after_confirmation(None, &who, &config.pools.customer, &model, 5_000);
        assert_eq!(row.role, "individual");
        assert_eq!(row.email, "ann@example.com");
        assert_eq!(row.onboarding, OnboardingState::Active);
        assert_eq!(row.status, "CONFIRMED");
        assert_eq!((row.created_at, row.updated_at), (5_000, 5_000));
        assert!(!row.approved && !row.premium);
    }

    #[test]
    fn a_dealer_waits_for_approval_and_unknown_roles_fall_back() {
        let config = config();
        let model = AccessModel::from_config(&config);
        let dealer =
            identity(PoolKind::Customer, &[("email", "d@example.com"), ("custom:base_type", "dealer")]);
        let row = mirror_after_confirmation(None, &dealer, &config.pools.customer, &model, 1);
        assert_eq!((row.role.as_str(), row.onboarding), ("dealer", OnboardingState::PendingApproval));
        let forged = identity(PoolKind::Customer, &[("custom:base_type", "super_admin")]);
        assert_eq!(role_of(&forged, &model), "individual");
        let staff = identity(PoolKind::Staff, &[("custom:role", "manager"), ("custom:team", "north")]);
        let row = mirror_after_confirmation(None, &staff, &config.pools.staff, &model, 1);
        assert_eq!(row.role, "manager");
        assert_eq!(row.team.as_deref(), Some("north"));
        assert_eq!(row.onboarding, OnboardingState::PendingMfa, "staff enrol MFA before they are active");
    }

    /// F12 of the 2026-12-07 audit: an email changed over the wire left the mirror on the old address.
    #[test]
    fn the_mirror_follows_an_email_or_mfa_change_made_elsewhere() {
        let config = config();
        let model = AccessModel::from_config(&config);
        let who = identity(PoolKind::Customer, &[("email", "old@example.com")]);
        let row = mirror_after_confirmation(None, &who, &config.pools.customer, &model, 1);
        let moved = mirror_after_identity_change(&row, Some("New@Example.com"), false, 7).unwrap();
        assert_eq!((moved.email.as_str(), moved.updated_at), ("new@example.com", 7));
        assert_eq!(mirror_after_identity_change(&moved, Some("new@example.com"), false, 8), None);
        assert!(mirror_after_identity_change(&moved, Some("new@example.com"), true, 9).unwrap().mfa_enabled);
    }

    #[test]
    fn an_existing_row_keeps_its_plan_and_moves_on() {
        let config = config();
        let model = AccessModel::from_config(&config);
        let who = identity(PoolKind::Customer, &[("email", "p@example.com")]);
        let mut registered = mirror_after_confirmation(None, &who, &config.pools.customer, &model, 1);
        registered.onboarding = OnboardingState::PendingVerification;
        registered.status = "UNCONFIRMED".to_owned();
        registered.requested_tiers = vec!["premium".to_owned()];
        registered.created_at = 1;
        let row = mirror_after_confirmation(Some(registered), &who, &config.pools.customer, &model, 9);
        assert_eq!(row.onboarding, OnboardingState::PendingSubscription);
        assert_eq!((row.created_at, row.updated_at, row.status.as_str()), (1, 9, "CONFIRMED"));
        // A row already past verification is left where it is.
        let mut active = row.clone();
        active.onboarding = OnboardingState::Suspended;
        let again = mirror_after_confirmation(Some(active), &who, &config.pools.customer, &model, 10);
        assert_eq!(again.onboarding, OnboardingState::Suspended);
    }
}
