//! The access model and the token claims, from the shipped configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::collections::BTreeMap;

use cognigate_config::Environment;
use cognigate_domain::PoolKind;
use cognigate_domain::access::AccessModel;
use cognigate_domain::claims::identity_claims;

fn model() -> AccessModel {
    let source = include_str!("../../../../cognigate.toml");
    AccessModel::from_config(
        &cognigate_config::load_from_str(source, "cognigate.toml", Environment::Dev, []).unwrap(),
    )
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn inheritance_is_resolved() {
    let model = model();
    let dealer = &model.customer.roles["dealer"].effective;
    assert!(dealer.contains("listing_create") && dealer.contains("dealer_bulk_listing"));
    let super_admin = &model.staff.roles["super_admin"].effective;
    assert_eq!(super_admin.len(), 9, "super_admin holds every staff permission through inheritance");
    assert!(!model.staff.roles["admin"].effective.contains("system_config"));
}

#[test]
fn premium_customers_get_their_base_permissions_plus_premium() {
    let model = model();
    let claims = identity_claims(
        &model,
        PoolKind::Customer,
        &attrs(&[("custom:base_type", "dealer"), ("custom:tier", "premium")]),
        &[],
    );
    assert_eq!(claims.role.as_deref(), Some("dealer"));
    assert_eq!(claims.tiers, ["premium"]);
    for permission in ["dealer_bulk_listing", "listing_create", "premium_analytics"] {
        assert!(claims.permissions.contains(&permission.to_owned()), "{permission}");
    }
    let plain =
        identity_claims(&model, PoolKind::Customer, &attrs(&[("custom:base_type", "individual")]), &[]);
    assert!(plain.tiers.is_empty());
    assert!(!plain.permissions.contains(&"premium_analytics".to_owned()));
}

#[test]
fn staff_claims_come_from_admin_written_attributes_then_groups() {
    let model = model();
    let claims = identity_claims(
        &model,
        PoolKind::Staff,
        &attrs(&[("custom:role", "manager"), ("custom:team", "alpha")]),
        &[],
    );
    assert_eq!((claims.role.as_deref(), claims.team.as_deref()), (Some("manager"), Some("alpha")));
    assert!(claims.permissions.contains(&"user_management".to_owned()));
    let from_groups =
        identity_claims(&model, PoolKind::Staff, &BTreeMap::new(), &["team_member".into(), "admin".into()]);
    assert_eq!(from_groups.role.as_deref(), Some("admin"), "the most senior group wins");
    let unknown =
        identity_claims(&model, PoolKind::Staff, &attrs(&[("custom:role", "root")]), &["admin".into()]);
    assert_eq!(unknown.role, None, "an unknown role in the attribute grants nothing, even with groups");
    assert!(unknown.permissions.is_empty());
    let customer_as_staff =
        identity_claims(&model, PoolKind::Customer, &attrs(&[("custom:base_type", "super_admin")]), &[]);
    assert_eq!(customer_as_staff.role, None, "a staff role name means nothing in the customer pool");
}

/// F3 of the 2026-12-07 audit: a dealer waiting for approval carried dealer permissions in its tokens.
#[test]
fn tokens_carry_permissions_only_while_the_onboarding_state_puts_them_in_force() {
    use cognigate_domain::claims::{NotInForce, TokenIdentity, token_claims};
    use cognigate_domain::onboarding::OnboardingState;
    let model = model();
    let dealer = |state: Option<&str>| {
        let mut pairs = vec![("custom:base_type", "dealer")];
        if let Some(state) = state {
            pairs.push(("custom:onboarding", state));
        }
        token_claims(&model, PoolKind::Customer, &attrs(&pairs), &[])
    };
    for state in OnboardingState::ALL {
        let claims = dealer(Some(state.as_str()));
        assert_eq!(claims["onboarding"], state.as_str());
        let permissions = claims["permissions"].as_array().unwrap();
        let identity = TokenIdentity::from_claims(&model, PoolKind::Customer, "sub-1", &claims, &[]);
        if state.permissions_in_force() {
            assert_eq!(claims["role"], "dealer", "{state}");
            assert!(permissions.iter().any(|p| p == "dealer_bulk_listing"), "{state}");
            assert_eq!(identity.unwrap().role, "dealer");
        } else {
            assert!(permissions.is_empty(), "{state}: {claims:?}");
            assert!(claims.get("role").is_none() && claims.get("tier").is_none(), "{state}: {claims:?}");
            assert_eq!(identity, Err(NotInForce::Onboarding(Some(state))));
        }
    }
    // No recorded state (an account cognigate never saw): nothing, whatever the attributes and groups say.
    let unknown = dealer(None);
    assert!(unknown.get("onboarding").is_none() && unknown["permissions"].as_array().unwrap().is_empty());
    let from_groups = token_claims(&model, PoolKind::Staff, &BTreeMap::new(), &["admin".into()]);
    assert!(from_groups["permissions"].as_array().unwrap().is_empty());
    assert_eq!(
        TokenIdentity::from_claims(&model, PoolKind::Staff, "s", &from_groups, &["admin".into()]),
        Err(NotInForce::Onboarding(None))
    );
    // A token whose claims were edited to say active but name no known role still grants nothing.
    let mut forged = serde_json::Map::new();
    forged.insert("onboarding".into(), "active".into());
    forged.insert("role".into(), "root".into());
    assert_eq!(
        TokenIdentity::from_claims(&model, PoolKind::Staff, "s", &forged, &[]),
        Err(NotInForce::NoKnownRole)
    );
}

/// A requested tier is not a granted one: premium waits for billing (`custom:tier` is written only then),
/// and the base type's permissions hold meanwhile.
#[test]
fn a_tier_waiting_for_billing_is_not_in_the_token() {
    use cognigate_domain::claims::token_claims;
    let model = model();
    let waiting = token_claims(
        &model,
        PoolKind::Customer,
        &attrs(&[("custom:base_type", "individual"), ("custom:onboarding", "pending_subscription")]),
        &[],
    );
    let permissions = waiting["permissions"].as_array().unwrap();
    assert!(permissions.iter().any(|p| p == "listing_create"));
    assert!(!permissions.iter().any(|p| p == "premium_analytics") && waiting.get("tier").is_none());
}
