use std::sync::Arc;

use cognigate_token::{Audience, StaticJwksSource, Verifier};

use crate::fixture::{Fixture, START_MS, claims};

pub(crate) struct At(pub u64);
impl cognigate_token::Clock for At {
    fn now(&self) -> u64 {
        self.0
    }
}

async fn verifier(f: &Fixture) -> Verifier {
    verifier_at(f, u64::try_from(START_MS / 1000).unwrap() + 5).await
}

async fn verifier_at(f: &Fixture, now: u64) -> Verifier {
    let issuer = f.engine.issuer(&f.pool_id);
    let jwks = f.engine.jwks(&f.pool_id).await.unwrap();
    Verifier::builder(Arc::new(StaticJwksSource::with_set(issuer.clone(), jwks)))
        .audience(Audience::access(issuer.clone(), [f.client_id.clone()]))
        .audience(Audience::id(issuer, [f.client_id.clone()]))
        .clock(Arc::new(At(now)))
        .revocation(f.engine.revocations())
        .build()
        .unwrap()
}

#[tokio::test]
async fn claim_sets_are_cognitos_field_by_field() {
    let f = Fixture::new().await;
    let sub = f.confirmed_user("claims@example.com").await;
    let tokens = f.tokens("claims@example.com").await;
    assert_eq!((tokens.token_type.as_str(), tokens.expires_in), ("Bearer", 3600));
    let issuer = format!("http://127.0.0.1:9/{}", f.pool_id);
    let now = START_MS / 1000;

    let access = claims(&tokens.access_token);
    let mut keys: Vec<&str> = access.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "auth_time",
            "client_id",
            "event_id",
            "exp",
            "iat",
            "iss",
            "jti",
            "origin_jti",
            "scope",
            "sub",
            "token_use",
            "username",
            "version"
        ]
    );
    assert_eq!(access["sub"], sub.as_str());
    assert_eq!(access["iss"], issuer.as_str());
    assert_eq!(access["client_id"], f.client_id.as_str());
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    // An email-username pool generates the username (the sub), as Cognito does.
    assert_eq!(access["username"], sub.as_str());
    assert_eq!(access["version"], 2);
    assert_eq!(access["iat"], now);
    assert_eq!(access["auth_time"], now);
    assert_eq!(access["exp"], now + 3600);

    let id = claims(&tokens.id_token);
    let mut keys: Vec<&str> = id.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "aud",
            "auth_time",
            "cognito:username",
            "email",
            "email_verified",
            "event_id",
            "exp",
            "given_name",
            "iat",
            "iss",
            "jti",
            "origin_jti",
            "sub",
            "token_use"
        ]
    );
    assert_eq!(id["aud"], f.client_id.as_str());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["email"], "claims@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["cognito:username"], sub.as_str());
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    assert_eq!(id["event_id"], access["event_id"]);
    assert_ne!(id["jti"], access["jti"]);
}

#[tokio::test]
async fn tokens_verify_against_the_served_jwks_and_openid_configuration() {
    let f = Fixture::new().await;
    let sub = f.confirmed_user("v@example.com").await;
    let tokens = f.tokens("v@example.com").await;
    let verifier = verifier(&f).await;
    let access = verifier.verify(&tokens.access_token).await.unwrap();
    assert_eq!(access.username(), Some(sub.as_str()));
    verifier.verify(&tokens.id_token).await.unwrap();
    let discovery = f.engine.openid_configuration(&f.pool_id).await.unwrap();
    assert_eq!(discovery["issuer"], f.engine.issuer(&f.pool_id));
    assert_eq!(discovery["jwks_uri"], format!("{}/.well-known/jwks.json", f.engine.issuer(&f.pool_id)));
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_verifiable() {
    let f = Fixture::new().await;
    f.confirmed_user("k@example.com").await;
    let before = f.tokens("k@example.com").await;
    let old_kid = f.engine.jwks(&f.pool_id).await.unwrap().keys[0].kid.clone();
    let new_kid = f.engine.rotate_signing_key(&f.pool_id).await.unwrap();
    let after = f.tokens("k@example.com").await;
    let header = |token: &str| -> serde_json::Value {
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header(&before.access_token)["kid"], old_kid.as_str());
    assert_eq!(header(&after.access_token)["kid"], new_kid.as_str());
    let jwks = f.engine.jwks(&f.pool_id).await.unwrap();
    assert_eq!(jwks.keys.len(), 2);
    let verifier = verifier(&f).await;
    verifier.verify(&before.access_token).await.unwrap();
    verifier.verify(&after.access_token).await.unwrap();
    f.engine.get_user(&before.access_token).await.unwrap();
}

#[tokio::test]
async fn each_pool_signs_with_its_own_keys() {
    let f = Fixture::new().await;
    let other = f.engine.create_user_pool(cognigate_engine::NewPool::with_defaults("staff")).await.unwrap();
    let mine = f.engine.jwks(&f.pool_id).await.unwrap();
    let theirs = f.engine.jwks(&other.id).await.unwrap();
    assert_ne!(mine.keys[0].kid, theirs.keys[0].kid);
    assert_ne!(mine.keys[0].n, theirs.keys[0].n);
}

#[tokio::test]
async fn the_verifier_sees_sign_out_revoke_token_and_deletion() {
    let f = Fixture::new().await;
    f.confirmed_user("rev@example.com").await;
    let a = f.tokens("rev@example.com").await;
    let b = f.tokens("rev@example.com").await;
    let verifier = verifier(&f).await;
    verifier.verify(&a.access_token).await.unwrap();
    verifier.verify(&b.access_token).await.unwrap();

    f.engine.revoke_token(&f.client_id, a.refresh_token.as_deref().unwrap(), None).await.unwrap();
    assert!(
        verifier.verify(&a.access_token).await.is_err(),
        "RevokeToken reaches the verifier, cached or not"
    );
    verifier.verify(&b.access_token).await.unwrap();

    f.engine.global_sign_out(&b.access_token).await.unwrap();
    assert!(verifier.verify(&b.access_token).await.is_err(), "sign-out reaches the verifier");
    assert!(verifier.verify(&b.id_token).await.is_err());
    // A login right after the sign-out, in the same second, is a new session and verifies.
    let c = f.tokens("rev@example.com").await;
    verifier.verify(&c.access_token).await.unwrap();

    f.engine.admin_delete_user(&f.pool_id, "rev@example.com").await.unwrap();
    assert!(verifier.verify(&c.access_token).await.is_err(), "a deleted user's tokens die with them");
}
