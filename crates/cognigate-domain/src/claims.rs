//! Role, tier, team, permission and onboarding claims for tokens: the pre-token-generation logic, and the
//! one way to read them back.
//!
//! Written once and run in two places: the embedded engine calls it in-process when it mints tokens, and
//! the PreTokenGeneration Lambda calls it on AWS, so a token carries the same claims offline and online.
//! The authoritative facts are the custom attributes only administrators can write (`custom:role`,
//! `custom:base_type`, `custom:tier`, `custom:team`, `custom:onboarding`); group membership is the fallback
//! for the role of accounts created outside cognigate.
//!
//! Tokens tell the truth about onboarding: the `onboarding` claim is the account's state, and the role, tier
//! and permission claims appear only when that state puts permissions in force. A dealer waiting for
//! approval, a staff member who has not enrolled MFA, a rejected or suspended account, or an account whose
//! state cognigate never recorded (no `custom:onboarding`) carries no role and no permission, whoever
//! reads the token. [`TokenIdentity::from_claims`] is the reading side, used by the Lambda authorizer and
//! every other consumer that decides from a token alone.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::PoolKind;
use crate::access::AccessModel;
use crate::authz::{CustomerIdentity, Principal, StaffIdentity};
use crate::onboarding::OnboardingState;

/// The identity-provider attribute holding the account's onboarding state. The service writes it whenever
/// the state changes (identity first, then the mirror), so tokens minted anywhere read the same state.
pub const ONBOARDING_ATTRIBUTE: &str = "custom:onboarding";

/// The claim carrying the onboarding state.
pub const ONBOARDING_CLAIM: &str = "onboarding";

/// The attribute holding an account's role: the customer base type or the staff role.
pub fn role_attribute(pool: PoolKind) -> &'static str {
    match pool {
        PoolKind::Customer => "custom:base_type",
        PoolKind::Staff => "custom:role",
    }
}

/// What an account's attributes and groups say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityClaims {
    /// The onboarding state cognigate recorded, if any.
    pub onboarding: Option<OnboardingState>,
    /// The customer base type or the staff role; `None` when nothing known applies.
    pub role: Option<String>,
    /// Customer tiers granted (e.g. `premium`), only those that apply to the base type.
    pub tiers: Vec<String>,
    /// The team, if any (staff, or the team that looks after a customer).
    pub team: Option<String>,
    /// The permissions of the role and tiers, sorted (in force only when [`Self::in_force`]).
    pub permissions: Vec<String>,
}

impl IdentityClaims {
    /// Whether the account's permissions are in force: its recorded state says so. No recorded state
    /// means no permissions: fail closed.
    pub fn in_force(&self) -> bool {
        self.onboarding.is_some_and(OnboardingState::permissions_in_force)
    }
}

/// The claims PreTokenGeneration adds to both tokens, by name: `onboarding`, `team`, and — only while the
/// state puts permissions in force — `role`, `tier` (comma-separated) and the `permissions`, which are
/// otherwise an empty list. The embedded engine and the Lambda both put exactly this map in access and ID
/// tokens.
pub fn token_claims(
    model: &AccessModel,
    pool: PoolKind,
    attributes: &BTreeMap<String, String>,
    groups: &[String],
) -> Map<String, Value> {
    let claims = identity_claims(model, pool, attributes, groups);
    let in_force = claims.in_force();
    let mut map = Map::new();
    if let Some(state) = claims.onboarding {
        map.insert(ONBOARDING_CLAIM.to_owned(), Value::String(state.as_str().to_owned()));
    }
    if let Some(team) = claims.team {
        map.insert("team".to_owned(), Value::String(team));
    }
    let mut permissions = Vec::new();
    if in_force {
        if let Some(role) = claims.role {
            map.insert("role".to_owned(), Value::String(role));
        }
        if !claims.tiers.is_empty() {
            map.insert("tier".to_owned(), Value::String(claims.tiers.join(",")));
        }
        permissions = claims.permissions;
    }
    map.insert("permissions".to_owned(), Value::Array(permissions.into_iter().map(Value::String).collect()));
    map
}

/// Computes what a user of `pool` is from their attributes and group names.
pub fn identity_claims(
    model: &AccessModel,
    pool: PoolKind,
    attributes: &BTreeMap<String, String>,
    groups: &[String],
) -> IdentityClaims {
    let attribute = |name: &str| attributes.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let role = role_from(model, pool, attribute(role_attribute(pool)), groups);
    let tiers = tiers_from(model, pool, role.as_deref(), attribute("custom:tier"), groups);
    let permissions = role
        .as_deref()
        .map(|role| model.permissions_of(pool, role, &tiers).into_iter().collect())
        .unwrap_or_default();
    IdentityClaims {
        onboarding: attribute(ONBOARDING_ATTRIBUTE).and_then(OnboardingState::parse),
        role,
        tiers,
        team: attribute("custom:team").map(str::to_owned),
        permissions,
    }
}

/// The role an attribute names (when the model knows it), or else the most senior known role among the
/// groups (staff) or the richest base type (customers).
fn role_from(model: &AccessModel, pool: PoolKind, named: Option<&str>, groups: &[String]) -> Option<String> {
    let access = model.pool(pool);
    match named {
        Some(role) => access.roles.contains_key(role).then(|| role.to_owned()),
        None => groups
            .iter()
            .filter_map(|group| access.roles.get(group))
            .max_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.effective.len().cmp(&b.effective.len())))
            .map(|role| role.name.clone()),
    }
}

/// The customer tiers named (comma-separated, or as groups) that apply to the base type, sorted.
fn tiers_from(
    model: &AccessModel,
    pool: PoolKind,
    role: Option<&str>,
    named: Option<&str>,
    groups: &[String],
) -> Vec<String> {
    let (PoolKind::Customer, Some(base)) = (pool, role) else {
        return Vec::new();
    };
    let mut names: Vec<&str> = named.map(|t| t.split(',').map(str::trim).collect()).unwrap_or_default();
    names.extend(groups.iter().map(String::as_str));
    let mut tiers: Vec<String> = model
        .pool(pool)
        .tiers
        .values()
        .filter(|tier| names.contains(&tier.name.as_str()) && tier.applies_to.iter().any(|b| b == base))
        .map(|tier| tier.name.clone())
        .collect();
    tiers.sort();
    tiers
}

/// Who a verified token's holder is, read back from the claims [`token_claims`] wrote: what a consumer
/// that decides from the token alone (the Lambda authorizer, an application using `cognigate-token`) asks
/// Cedar about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    pub sub: String,
    pub pool: PoolKind,
    pub role: String,
    pub tiers: Vec<String>,
    pub team: Option<String>,
}

/// Why a token grants nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotInForce {
    /// The account's onboarding state keeps its permissions off (or the token carries no state).
    Onboarding(Option<OnboardingState>),
    /// No role the configuration knows.
    NoKnownRole,
}

impl TokenIdentity {
    /// Reads the identity from a token's claims. Only a token whose `onboarding` claim puts permissions in
    /// force yields one: anything else (pending, rejected, suspended, no claim at all) is refused here,
    /// before any permission is looked at.
    pub fn from_claims(
        model: &AccessModel,
        pool: PoolKind,
        sub: &str,
        claims: &Map<String, Value>,
        groups: &[String],
    ) -> Result<Self, NotInForce> {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|value| !value.is_empty());
        let state = text(ONBOARDING_CLAIM).and_then(OnboardingState::parse);
        if !state.is_some_and(OnboardingState::permissions_in_force) {
            return Err(NotInForce::Onboarding(state));
        }
        let role = role_from(model, pool, text("role"), groups).ok_or(NotInForce::NoKnownRole)?;
        let tiers = tiers_from(model, pool, Some(&role), text("tier"), groups);
        Ok(Self { sub: sub.to_owned(), pool, role, tiers, team: text("team").map(str::to_owned) })
    }

    /// The Cedar principal: active, since only an active token yields an identity.
    pub fn principal(&self) -> Principal {
        match self.pool {
            PoolKind::Customer => Principal::Customer(CustomerIdentity {
                id: self.sub.clone(),
                base: self.role.clone(),
                tiers: self.tiers.clone(),
                team: self.team.clone(),
                active: true,
            }),
            PoolKind::Staff => Principal::Staff(StaffIdentity {
                id: self.sub.clone(),
                role: self.role.clone(),
                team: self.team.clone(),
                active: true,
            }),
        }
    }
}
