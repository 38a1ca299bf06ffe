//! The authorizer on genuine tokens: every route of the shipped route table for every role and tier of
//! both pools, with the expectation derived from the access model (not a copied table), the identity
//! context API Gateway passes on, the groups fallback, and the caches that make a warm function cheap.

use std::collections::BTreeMap;
use std::sync::Arc;

use cognigate_config::{Config, Environment, PoolKind, RouteConfig};
use cognigate_domain::access::{AccessModel, Subject};
use cognigate_lambda::authorizer::{AuthorizerState, authorize_value};
use cognigate_lambda::triggers::tokens::token_claims;
use cognigate_token::HttpJwksSource;
use serde_json::{Map, Value, json};

use crate::*;

pub struct World {
    pub server: JwksServer,
    pub config: Config,
    pub state: AuthorizerState,
}

impl World {
    pub fn new() -> Self {
        let server = JwksServer::start();
        let config = config(Environment::Prod, Some(&server.base), &[]);
        let state = AuthorizerState::new(&config, Arc::new(HttpJwksSource::new().unwrap())).unwrap();
        Self { server, config, state }
    }

    pub async fn call(&self, event: Value) -> Value {
        serde_json::to_value(authorize_value(event, &self.state).await).unwrap()
    }

    pub async fn call_with(&self, method: &str, path: &str, authorization: Option<&str>) -> Value {
        self.call(request_event(method, path, authorization)).await
    }

    /// A token for `subject` as Cognito issues it once the PreTokenGeneration trigger has run.
    pub fn token_for(&self, subject: &Subject, team: Option<&str>, sub: &str) -> String {
        let model = AccessModel::from_config(&self.config);
        let mut attributes = BTreeMap::new();
        let role_attribute = match subject.pool {
            PoolKind::Customer => "custom:base_type",
            PoolKind::Staff => "custom:role",
        };
        attributes.insert(role_attribute.to_owned(), subject.role.clone());
        if !subject.tiers.is_empty() {
            attributes.insert("custom:tier".to_owned(), subject.tiers.join(","));
        }
        if let Some(team) = team {
            attributes.insert("custom:team".to_owned(), team.to_owned());
        }
        attributes.insert("custom:onboarding".to_owned(), "active".to_owned());
        let claims = token_claims(&model, subject.pool, &attributes, &[]);
        mint(&self.server.issuer(subject.pool), subject.pool, sub, claims)
    }
}

/// A request path the route's pattern matches: `{name}` → a value, `**` → two segments.
pub fn concrete_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| match segment {
            "**" => "queue/42",
            _ if segment.starts_with('{') => "7f3a",
            literal => literal,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn methods(route: &RouteConfig) -> Vec<&str> {
    if route.method == "*" { vec!["GET", "POST", "DELETE"] } else { vec![route.method.as_str()] }
}

#[tokio::test]
async fn every_route_for_every_role_and_tier_follows_the_access_model() {
    let world = World::new();
    let model = AccessModel::from_config(&world.config);
    assert!(!world.config.routes.is_empty());
    let (mut allowed, mut denied) = (BTreeMap::<PoolKind, usize>::new(), BTreeMap::<PoolKind, usize>::new());
    for pool in PoolKind::ALL {
        for (index, subject) in model.subjects(pool).into_iter().enumerate() {
            let team = (pool == PoolKind::Staff).then_some("north");
            let sub = format!("{pool}-{index}-{}", subject.label().replace(' ', "-"));
            let token = world.token_for(&subject, team, &sub);
            let granted = model.permissions_of(pool, &subject.role, &subject.tiers);
            for route in &world.config.routes {
                for method in methods(route) {
                    let path = concrete_path(&route.path);
                    let expected = subject.pool == route.pool && granted.contains(&route.permission);
                    let response = world.call_with(method, &path, Some(&format!("Bearer {token}"))).await;
                    let (effect, resource) = effect(&response);
                    let label =
                        format!("{} ({pool}) {method} {path} needs {}", subject.label(), route.permission);
                    assert_eq!(effect == "Allow", expected, "{label}: {response}");
                    assert_eq!(
                        resource,
                        format!("arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/{method}{path}")
                    );
                    if expected {
                        *allowed.entry(pool).or_default() += 1;
                        assert_eq!(response["principalId"], sub.as_str());
                        assert_eq!(
                            response["context"],
                            json!({"sub": sub, "pool": pool.as_str(), "role": subject.role,
                                   "tier": subject.tiers.join(","), "team": team.unwrap_or("")}),
                            "{label}"
                        );
                    } else {
                        *denied.entry(pool).or_default() += 1;
                        // A token of the route's pool is genuine and names its sub; the other pool's is not.
                        let principal = if subject.pool == route.pool { sub.as_str() } else { "anonymous" };
                        assert_eq!(response["principalId"], principal, "{label}");
                        assert_eq!(response["context"], json!({}), "{label}");
                    }
                }
            }
        }
    }
    for pool in PoolKind::ALL {
        assert!(allowed.get(&pool).copied().unwrap_or(0) > 0, "{pool}: some route must be allowed");
        assert!(denied.get(&pool).copied().unwrap_or(0) > 0, "{pool}: some route must be denied");
    }
    // One JWKS fetch per pool for the whole matrix: the keys are cached across invocations.
    assert_eq!(world.server.fetches(CUSTOMER_POOL_ID), 1);
    assert_eq!(world.server.fetches(STAFF_POOL_ID), 1);
}

#[tokio::test]
async fn the_fixture_event_with_a_premium_dealer_token_is_allowed_with_its_identity() {
    let world = World::new();
    let subject = Subject { pool: PoolKind::Customer, role: "dealer".into(), tiers: vec!["premium".into()] };
    let token = world.token_for(&subject, None, "0e2f5b7a-3c4d-4e5f-8a9b-1c2d3e4f5a6b");
    let response =
        world.call_with("GET", "/api/listings/1234/analytics", Some(&format!("Bearer {token}"))).await;
    assert_eq!(effect(&response).0, "Allow", "{response}");
    assert_eq!(response["policyDocument"]["Version"], "2012-10-17");
    assert_eq!(response["policyDocument"]["Statement"][0]["Action"], json!(["execute-api:Invoke"]));
    assert_eq!(response["context"]["role"], "dealer");
    assert_eq!(response["context"]["tier"], "premium");
    // The same dealer without the tier is refused the premium route but keeps the dealer one.
    let plain = Subject { tiers: Vec::new(), ..subject };
    let token = world.token_for(&plain, None, "0e2f5b7a-3c4d-4e5f-8a9b-1c2d3e4f5a6b");
    let bearer = format!("Bearer {token}");
    assert_eq!(
        effect(&world.call_with("GET", "/api/listings/1234/analytics", Some(&bearer)).await).0,
        "Deny"
    );
    assert_eq!(effect(&world.call_with("POST", "/api/listings/bulk", Some(&bearer)).await).0, "Allow");
    // The scheme is case-insensitive, as HTTP says.
    let lower = format!("bearer {token}");
    assert_eq!(effect(&world.call_with("POST", "/api/listings/bulk", Some(&lower)).await).0, "Allow");
}

/// F3 of the 2026-12-07 audit: the authorizer built its principal with `active: true` whatever the token
/// said, so a pending dealer's token reached the dealer routes.
#[tokio::test]
async fn a_token_whose_account_is_not_active_is_denied_before_any_permission_is_looked_at() {
    let world = World::new();
    let issuer = world.server.issuer(PoolKind::Customer);
    for state in [None, Some("pending_approval"), Some("rejected"), Some("suspended"), Some("disabled")] {
        // Even a token that still names the role and its permissions (as a forged or stale one might).
        let mut extra = Map::from_iter([
            ("role".to_owned(), Value::from("dealer")),
            ("permissions".to_owned(), serde_json::json!(["dealer_bulk_listing"])),
        ]);
        if let Some(state) = state {
            extra.insert("onboarding".to_owned(), Value::from(state));
        }
        let claims = access_claims(&issuer, PoolKind::Customer, "pending-dealer", extra);
        let token = cognigate_token::sign(&key(CUSTOMER_KEY), &claims).unwrap();
        let response = world.call_with("POST", "/api/listings/bulk", Some(&format!("Bearer {token}"))).await;
        assert_eq!(effect(&response).0, "Deny", "{state:?}: {response}");
    }
}

#[tokio::test]
async fn groups_stand_in_for_missing_role_claims() {
    let world = World::new();
    let issuer = world.server.issuer(PoolKind::Customer);
    let active = Map::from_iter([("onboarding".to_owned(), Value::from("active"))]);
    let mut claims = access_claims(&issuer, PoolKind::Customer, "no-claims-user", active);
    claims.groups = vec!["dealer".to_owned(), "unknown-group".to_owned()];
    let token = cognigate_token::sign(&key(CUSTOMER_KEY), &claims).unwrap();
    let bearer = format!("Bearer {token}");
    let response = world.call_with("POST", "/api/listings/bulk", Some(&bearer)).await;
    assert_eq!(effect(&response).0, "Allow", "{response}");
    assert_eq!(response["context"]["role"], "dealer");
    // Neither a role claim nor a known group: nobody to authorize.
    claims.groups = vec!["unknown-group".to_owned()];
    claims.jti = cognigate_token::new_token_id();
    let token = cognigate_token::sign(&key(CUSTOMER_KEY), &claims).unwrap();
    let response = world.call_with("GET", "/api/me", Some(&format!("Bearer {token}"))).await;
    assert_eq!(effect(&response).0, "Deny");
}

#[tokio::test]
async fn a_repeated_token_is_verified_once_and_the_keys_fetched_once() {
    let world = World::new();
    let subject = Subject { pool: PoolKind::Staff, role: "super_admin".into(), tiers: Vec::new() };
    let token = world.token_for(&subject, None, "root");
    for _ in 0..5 {
        let response =
            world.call_with("PUT", "/api/staff/settings/mail", Some(&format!("Bearer {token}"))).await;
        assert_eq!(effect(&response).0, "Allow");
    }
    let stats = world.state.stats(PoolKind::Staff).unwrap();
    assert_eq!(stats.signature_checks, 1, "later calls hit the verified-token cache");
    assert_eq!(stats.jwks_fetches, 1);
    assert_eq!(world.server.fetches(STAFF_POOL_ID), 1);
    assert_eq!(
        world.server.fetches(CUSTOMER_POOL_ID),
        0,
        "no pool's keys are fetched before they are needed"
    );
    world.state.hydrate().await;
    assert_eq!(world.server.fetches(CUSTOMER_POOL_ID), 1, "hydrate fetches every pool's keys");
}

#[tokio::test]
async fn a_pool_not_on_cognito_has_every_route_denied() {
    let server = JwksServer::start();
    let config =
        config(Environment::Dev, Some(&server.base), &[("COGNIGATE_POOLS__STAFF__PROVIDER", "local")]);
    let state = AuthorizerState::new(&config, Arc::new(HttpJwksSource::new().unwrap())).unwrap();
    let subject = Subject { pool: PoolKind::Staff, role: "super_admin".into(), tiers: Vec::new() };
    let model = AccessModel::from_config(&config);
    let attributes =
        BTreeMap::from([("custom:role".into(), subject.role), ("custom:onboarding".into(), "active".into())]);
    let claims = token_claims(&model, PoolKind::Staff, &attributes, &[]);
    let token = mint(&server.issuer(PoolKind::Staff), PoolKind::Staff, "root", claims);
    let event = request_event("GET", "/api/staff/reports/q1", Some(&format!("Bearer {token}")));
    let response = serde_json::to_value(authorize_value(event, &state).await).unwrap();
    assert_eq!(effect(&response).0, "Deny");
    assert_eq!(server.fetches(STAFF_POOL_ID), 0);
}
