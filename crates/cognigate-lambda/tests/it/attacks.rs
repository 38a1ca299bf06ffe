//! What the authorizer must deny: forged, foreign, stale or misused tokens, broken `Authorization` headers,
//! requests no route covers, and events that are not REQUEST authorizer events. Every answer is a Deny
//! policy, never an error.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognigate_config::PoolKind;
use cognigate_domain::access::Subject;
use cognigate_token::{IdClaims, TokenUse, new_token_id, sign};
use serde_json::{Map, Value, json};

use crate::authorizer::World;
use crate::*;

const ROUTE: (&str, &str) = ("GET", "/api/me");
const STAFF_ROUTE: (&str, &str) = ("GET", "/api/staff/moderation/queue");

fn individual() -> Subject {
    Subject { pool: PoolKind::Customer, role: "individual".into(), tiers: Vec::new() }
}

async fn assert_denied(world: &World, (method, path): (&str, &str), authorization: Option<&str>, what: &str) {
    let response = world.call_with(method, path, authorization).await;
    assert_eq!(effect(&response).0, "Deny", "{what}: {response}");
    assert_eq!(response["context"], json!({}), "{what}: a deny carries no identity");
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> (String, String, String) {
    let mut split = token.split('.');
    let header = split.next().unwrap().to_owned();
    let payload = split.next().unwrap().to_owned();
    let signature = split.next().unwrap().to_owned();
    (header, payload, signature)
}

#[tokio::test]
async fn the_baseline_token_is_allowed() {
    let world = World::new();
    let token = world.token_for(&individual(), None, "ann");
    let response = world.call_with(ROUTE.0, ROUTE.1, Some(&format!("Bearer {token}"))).await;
    assert_eq!(effect(&response).0, "Allow", "the attacks below start from a token that works: {response}");
}

#[tokio::test]
async fn tokens_of_the_other_pool_are_denied() {
    let world = World::new();
    let staff = Subject { pool: PoolKind::Staff, role: "super_admin".into(), tiers: Vec::new() };
    let staff_token = world.token_for(&staff, None, "root");
    assert_denied(&world, ROUTE, Some(&format!("Bearer {staff_token}")), "a staff token on a customer route")
        .await;
    let customer_token = world.token_for(&individual(), None, "ann");
    assert_denied(
        &world,
        STAFF_ROUTE,
        Some(&format!("Bearer {customer_token}")),
        "a customer token on a staff route",
    )
    .await;
    // The customer pool's issuer, but signed with the staff pool's key: that key is not in the customer JWKS.
    let claims =
        access_claims(&world.server.issuer(PoolKind::Customer), PoolKind::Customer, "ann", Map::new());
    let cross_signed = sign(&key(STAFF_KEY), &claims).unwrap();
    assert_denied(&world, ROUTE, Some(&format!("Bearer {cross_signed}")), "signed by the other pool's key")
        .await;
    // The staff pool's app client on the customer issuer.
    let mut claims =
        access_claims(&world.server.issuer(PoolKind::Customer), PoolKind::Customer, "ann", Map::new());
    claims.client_id = STAFF_CLIENT.to_owned();
    let wrong_client = sign(&key(CUSTOMER_KEY), &claims).unwrap();
    assert_denied(&world, ROUTE, Some(&format!("Bearer {wrong_client}")), "another app client").await;
}

#[tokio::test]
async fn id_tokens_are_not_access_tokens() {
    let world = World::new();
    let now = now();
    let claims = IdClaims {
        sub: "ann".into(),
        groups: vec!["individual".into()],
        email_verified: Some(true),
        iss: world.server.issuer(PoolKind::Customer),
        username: "ann".into(),
        origin_jti: new_token_id(),
        aud: CUSTOMER_CLIENT.into(),
        event_id: new_token_id(),
        token_use: TokenUse::Id,
        auth_time: now,
        exp: now + 3600,
        iat: now,
        jti: new_token_id(),
        email: Some("ann@example.com".into()),
        extra: Map::from_iter([("role".to_owned(), json!("individual"))]),
    };
    let id_token = sign(&key(CUSTOMER_KEY), &claims).unwrap();
    assert_denied(&world, ROUTE, Some(&format!("Bearer {id_token}")), "an ID token").await;
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_denied() {
    let world = World::new();
    let issuer = world.server.issuer(PoolKind::Customer);
    let extra = Map::from_iter([("role".to_owned(), json!("individual"))]);
    let mut expired = access_claims(&issuer, PoolKind::Customer, "ann", extra.clone());
    expired.iat = now() - 7200;
    expired.auth_time = expired.iat;
    expired.exp = now() - 3600;
    let token = sign(&key(CUSTOMER_KEY), &expired).unwrap();
    assert_denied(&world, ROUTE, Some(&format!("Bearer {token}")), "an expired token").await;
    let mut future = access_claims(&issuer, PoolKind::Customer, "ann", extra);
    future.iat = now() + 3600;
    future.exp = now() + 7200;
    let token = sign(&key(CUSTOMER_KEY), &future).unwrap();
    assert_denied(&world, ROUTE, Some(&format!("Bearer {token}")), "a token issued in the future").await;
}

#[tokio::test]
async fn tampered_tokens_are_denied() {
    let world = World::new();
    let token = world.token_for(&individual(), None, "ann");
    let (header, payload, signature) = parts(&token);
    // A promoted role with the original signature.
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    claims["role"] = json!("dealer");
    let promoted = format!("{header}.{}.{signature}", b64(serde_json::to_vec(&claims).unwrap()));
    assert_denied(
        &world,
        ("POST", "/api/listings/bulk"),
        Some(&format!("Bearer {promoted}")),
        "a promoted payload",
    )
    .await;
    // One flipped bit in the signature.
    let mut bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    bytes[10] ^= 0x01;
    let flipped = format!("{header}.{payload}.{}", b64(bytes));
    assert_denied(&world, ROUTE, Some(&format!("Bearer {flipped}")), "a flipped signature bit").await;
    // No signature at all.
    assert_denied(&world, ROUTE, Some(&format!("Bearer {header}.{payload}.")), "an empty signature").await;
}

#[tokio::test]
async fn alg_none_and_unknown_keys_are_denied() {
    let world = World::new();
    let token = world.token_for(&individual(), None, "ann");
    let (_, payload, _) = parts(&token);
    let none_header = b64(json!({"alg": "none", "kid": key(CUSTOMER_KEY).kid()}).to_string());
    assert_denied(&world, ROUTE, Some(&format!("Bearer {none_header}.{payload}.")), "alg none").await;
    let hs_header = b64(json!({"alg": "HS256", "kid": key(CUSTOMER_KEY).kid()}).to_string());
    assert_denied(&world, ROUTE, Some(&format!("Bearer {hs_header}.{payload}.c2lnbmF0dXJl")), "alg HS256")
        .await;
    // Signed with a key the pool never published: one refetch (the key might be new), then no more.
    let claims = access_claims(
        &world.server.issuer(PoolKind::Customer),
        PoolKind::Customer,
        "ann",
        Map::from_iter([("role".to_owned(), json!("individual"))]),
    );
    let rogue = sign(&key(ROGUE_KEY), &claims).unwrap();
    for _ in 0..3 {
        assert_denied(&world, ROUTE, Some(&format!("Bearer {rogue}")), "an unknown kid").await;
    }
    assert_eq!(
        world.server.fetches(CUSTOMER_POOL_ID),
        1,
        "the refetch floor holds the JWKS endpoint to one fetch"
    );
}

#[tokio::test]
async fn broken_authorization_headers_are_denied() {
    let world = World::new();
    let token = world.token_for(&individual(), None, "ann");
    assert_denied(&world, ROUTE, None, "no header").await;
    for (header, what) in [
        (format!("Basic {token}"), "another scheme"),
        (token.clone(), "no scheme"),
        ("Bearer".to_owned(), "no token"),
        ("Bearer ".to_owned(), "an empty token"),
        (format!("Bearer  {token}"), "two spaces"),
        (format!("Bearer {token} extra"), "trailing words"),
        ("Bearer abc.def.ghi".to_owned(), "garbage"),
        ("Bearer ....".to_owned(), "dots"),
        (format!("Bearer {}", "a".repeat(20 * 1024)), "a huge token"),
        (
            format!("Bearer {}.{}.{}", "e".repeat(6000), "e".repeat(6000), "e".repeat(6000)),
            "a huge three-part token",
        ),
    ] {
        assert_denied(&world, ROUTE, Some(&header), what).await;
    }
    // Two Authorization headers: which one would API Gateway have used as the identity source?
    let mut event = request_event(ROUTE.0, ROUTE.1, Some(&format!("Bearer {token}")));
    event["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}"), "Bearer other"]);
    event["headers"].as_object_mut().unwrap().remove("Authorization");
    let response = world.call(event).await;
    assert_eq!(effect(&response).0, "Deny", "{response}");
}

#[tokio::test]
async fn requests_no_route_covers_are_denied_even_with_a_good_token() {
    let world = World::new();
    let admin = Subject { pool: PoolKind::Staff, role: "super_admin".into(), tiers: Vec::new() };
    let bearer = format!("Bearer {}", world.token_for(&admin, None, "root"));
    for (method, path) in [
        ("GET", "/api/unknown"),
        ("DELETE", "/api/staff/moderation/queue"),
        ("GET", "/api/staff/settings/../reports/q1"),
        ("GET", "/api/staff//reports/q1"),
        ("GET", "/api/staff/reports/q1/"),
        ("GET", "api/staff/reports/q1"),
    ] {
        assert_denied(&world, (method, path), Some(&bearer), &format!("{method} {path}")).await;
    }
    assert_eq!(effect(&world.call_with("GET", "/api/staff/reports/q1", Some(&bearer)).await).0, "Allow");
}

#[tokio::test]
async fn malformed_events_are_denied() {
    let world = World::new();
    let token = world.token_for(&individual(), None, "ann");
    let good = request_event(ROUTE.0, ROUTE.1, Some(&format!("Bearer {token}")));
    let arn = good["methodArn"].as_str().unwrap().to_owned();
    let without = |field: &str| {
        let mut event = good.clone();
        event.as_object_mut().unwrap().remove(field);
        event
    };
    let mut token_event = good.clone();
    token_event["type"] = json!("TOKEN");
    let mut bad_arn = good.clone();
    bad_arn["methodArn"] = json!("not-an-arn");
    let mut numeric_path = good.clone();
    numeric_path["path"] = json!(42);
    let cases = [
        (json!(null), "null"),
        (json!([]), "an array"),
        (json!("REQUEST"), "a string"),
        (json!({}), "an empty object"),
        (without("requestContext"), "no requestContext"),
        (without("path"), "no path"),
        (without("methodArn"), "no methodArn"),
        (token_event, "a TOKEN authorizer event"),
        (bad_arn, "a methodArn that is not one"),
        (numeric_path, "a numeric path"),
    ];
    for (event, what) in cases {
        let response = world.call(event).await;
        let (effect, resource) = effect(&response);
        assert_eq!(effect, "Deny", "{what}: {response}");
        assert!(resource == "*" || resource == arn, "{what}: {resource}");
        assert_eq!(response["principalId"], "anonymous", "{what}");
    }
    let mut no_method = good.clone();
    no_method.as_object_mut().unwrap().remove("httpMethod");
    no_method["requestContext"].as_object_mut().unwrap().remove("httpMethod");
    assert_eq!(effect(&world.call(no_method).await).0, "Deny", "no method anywhere");
    // The method may come from the request context alone.
    let mut context_method = good;
    context_method.as_object_mut().unwrap().remove("httpMethod");
    assert_eq!(effect(&world.call(context_method).await).0, "Allow");
}
