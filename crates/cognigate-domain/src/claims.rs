//! Role, tier, team and permission claims for tokens: the pre-token-generation logic.
//!
//! Written once and run in two places: the embedded engine calls it in-process when it mints tokens, and
//! the PreTokenGeneration Lambda calls it on AWS, so a token carries the same claims offline and online.
//! The authoritative facts are the custom attributes only administrators can write (`custom:role`,
//! `custom:base_type`, `custom:tier`, `custom:team`); group membership is the fallback for accounts created
//! outside cognigate.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::PoolKind;
use crate::access::AccessModel;

/// The identity claims added to both tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityClaims {
    /// The customer base type or the staff role; `None` when nothing known applies.
    pub role: Option<String>,
    /// Customer tiers in force (e.g. `premium`), only those that apply to the base type.
    pub tiers: Vec<String>,
    /// The staff team, if any.
    pub team: Option<String>,
    /// The effective permissions, sorted.
    pub permissions: Vec<String>,
}

/// The claims PreTokenGeneration adds to both tokens, by name: `role`, `tier` (comma-separated), `team` and
/// `permissions`. The embedded engine and the Lambda both put exactly this map in access and ID tokens.
pub fn token_claims(
    model: &AccessModel,
    pool: PoolKind,
    attributes: &BTreeMap<String, String>,
    groups: &[String],
) -> Map<String, Value> {
    let claims = identity_claims(model, pool, attributes, groups);
    let mut map = Map::new();
    if let Some(role) = claims.role {
        map.insert("role".to_owned(), Value::String(role));
    }
    if !claims.tiers.is_empty() {
        map.insert("tier".to_owned(), Value::String(claims.tiers.join(",")));
    }
    if let Some(team) = claims.team {
        map.insert("team".to_owned(), Value::String(team));
    }
    map.insert(
        "permissions".to_owned(),
        Value::Array(claims.permissions.into_iter().map(Value::String).collect()),
    );
    map
}

/// Computes the claims for a user of `pool` from their attributes and group names.
pub fn identity_claims(
    model: &AccessModel,
    pool: PoolKind,
    attributes: &BTreeMap<String, String>,
    groups: &[String],
) -> IdentityClaims {
    let access = model.pool(pool);
    let attribute = |name: &str| attributes.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let role_attribute = match pool {
        PoolKind::Customer => attribute("custom:base_type"),
        PoolKind::Staff => attribute("custom:role"),
    };
    let role = match role_attribute {
        Some(role) => access.roles.contains_key(role).then(|| role.to_owned()),
        // From groups: the most senior known role (staff), or the richest base type (customers).
        None => groups
            .iter()
            .filter_map(|group| access.roles.get(group))
            .max_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.effective.len().cmp(&b.effective.len())))
            .map(|role| role.name.clone()),
    };
    let tiers: Vec<String> = match (pool, &role) {
        (PoolKind::Customer, Some(base)) => {
            let mut named: Vec<&str> =
                attribute("custom:tier").map(|t| t.split(',').map(str::trim).collect()).unwrap_or_default();
            named.extend(groups.iter().map(String::as_str));
            let mut tiers: Vec<String> = access
                .tiers
                .values()
                .filter(|tier| named.contains(&tier.name.as_str()) && tier.applies_to.contains(base))
                .map(|tier| tier.name.clone())
                .collect();
            tiers.sort();
            tiers
        }
        _ => Vec::new(),
    };
    // Staff belong to a team; a customer may be looked after by one (a dealer's sales team).
    let team = attribute("custom:team").map(str::to_owned);
    let permissions = role
        .as_deref()
        .map(|role| model.permissions_of(pool, role, &tiers).into_iter().collect())
        .unwrap_or_default();
    IdentityClaims { role, tiers, team, permissions }
}
