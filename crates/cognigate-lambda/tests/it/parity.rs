//! The PreTokenGeneration Lambda and the embedded engine's in-process claims trigger must write the same
//! claims for the same user: one user per case is created in the engine (the binary's own wiring), signs
//! in, and the claims of its real access and ID tokens are compared with what the Lambda answers for a
//! V2 event built from that same user's attributes and groups.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognigate_config::{Environment, PoolKind};
use cognigate_lambda::triggers::{TriggerParts, TriggerState, handle};
use cognigate_provider::{AuthStep, IdentityProvider};
use serde_json::{Value, json};

use crate::triggers::Engine;
use crate::*;

const PASSWORD: &str = "Correct-Horse-Battery-9!";
const CLAIMS: [&str; 5] = ["onboarding", "role", "tier", "team", "permissions"];

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Signs `username` in and compares the engine's token claims with the Lambda's for the same user.
async fn assert_same_claims(
    provider: &dyn IdentityProvider,
    pool: PoolKind,
    username: &str,
    sign_in_name: &str,
) {
    let tokens = match provider.sign_in(sign_in_name, PASSWORD).await.unwrap() {
        AuthStep::SignedIn(tokens) => tokens,
        AuthStep::Challenge(challenge) => panic!("unexpected challenge {}", challenge.name),
    };
    let record = provider.admin_get_user(username).await.unwrap();
    let groups = provider.admin_list_groups_for_user(&record.username).await.unwrap();

    let mut event = event("pre-token-generation-v2");
    event["userPoolId"] = json!(pool_id(pool));
    event["userName"] = json!(record.username);
    let mut attributes: BTreeMap<String, String> = record.attributes.clone();
    attributes.insert("sub".to_owned(), record.sub.clone());
    event["request"]["userAttributes"] = json!(attributes);
    event["request"]["groupConfiguration"]["groupsToOverride"] = json!(groups);
    let state = TriggerState::new(
        config(Environment::Dev, None, &[]),
        Environment::Dev,
        TriggerParts { providers: Vec::new(), store: cognigate_lambda::triggers::StoreAccess::Off },
    )
    .unwrap();
    let answer = handle(event, &state, None).await.unwrap();
    let details = &answer["response"]["claimsAndScopeOverrideDetails"];

    for (token, generation) in
        [(&tokens.access_token, "accessTokenGeneration"), (&tokens.id_token, "idTokenGeneration")]
    {
        let engine_claims = payload(token);
        let lambda_claims = &details[generation]["claimsToAddOrOverride"];
        for claim in CLAIMS {
            assert_eq!(
                engine_claims.get(claim),
                lambda_claims.get(claim),
                "{pool} {generation} claim `{claim}`: engine {engine_claims} vs lambda {lambda_claims}"
            );
        }
        assert_eq!(
            lambda_claims.as_object().unwrap().keys().filter(|k| !CLAIMS.contains(&k.as_str())).count(),
            0
        );
    }
    assert!(payload(&tokens.access_token).get("role").is_some(), "the case must exercise a role claim");
}

#[tokio::test]
async fn the_lambda_and_the_engine_write_the_same_claims_for_the_same_user() {
    // Staff MFA is relaxed (dev allows it) so the staff member can sign in with a password alone.
    let engine = Engine::start(&[("COGNIGATE_POOLS__STAFF__MFA__MODE", "optional")]).await;

    let customers = engine.provider(PoolKind::Customer);
    // A premium dealer looked after by a team, named by attributes.
    let email = "dealer@example.com";
    let sub = customers
        .sign_up(email, PASSWORD, &[("email".to_owned(), email.to_owned())].into())
        .await
        .unwrap()
        .user_sub;
    customers.admin_confirm_sign_up(&sub).await.unwrap();
    let attributes: BTreeMap<String, String> = [
        ("custom:base_type", "dealer"),
        ("custom:tier", "premium"),
        ("custom:team", "north"),
        ("custom:onboarding", "active"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    customers.admin_update_user_attributes(&sub, &attributes).await.unwrap();
    customers.admin_add_user_to_group(&sub, "individual").await.unwrap();
    assert_same_claims(customers.as_ref(), PoolKind::Customer, &sub, email).await;

    // A customer known only by its groups (created outside cognigate).
    let email = "grouped@example.com";
    let sub = customers
        .sign_up(email, PASSWORD, &[("email".to_owned(), email.to_owned())].into())
        .await
        .unwrap()
        .user_sub;
    customers.admin_confirm_sign_up(&sub).await.unwrap();
    let active = BTreeMap::from([("custom:onboarding".to_owned(), "active".to_owned())]);
    customers.admin_update_user_attributes(&sub, &active).await.unwrap();
    customers.admin_add_user_to_group(&sub, "dealer").await.unwrap();
    customers.admin_add_user_to_group(&sub, "premium").await.unwrap();
    assert_same_claims(customers.as_ref(), PoolKind::Customer, &sub, email).await;

    // A manager of a team, invited by an administrator.
    let staff = engine.provider(PoolKind::Staff);
    let email = "mia@example.com";
    let invited: BTreeMap<String, String> = [
        ("email", email),
        ("given_name", "Mia"),
        ("family_name", "Berg"),
        ("custom:role", "manager"),
        ("custom:team", "north"),
        ("custom:onboarding", "active"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    let record = staff.admin_create_user(email, &invited, Some("Temporary-Pass-1!"), true).await.unwrap();
    staff.admin_set_user_password(&record.username, PASSWORD, true).await.unwrap();
    staff.admin_add_user_to_group(&record.username, "team_member").await.unwrap();
    assert_same_claims(staff.as_ref(), PoolKind::Staff, &record.username, email).await;
}
