//! Tokens minted by `sign` verify, and every claim comes back as it went in; tokens are plain RS256 JWTs
//! that an independent library (jsonwebtoken) reads, and that we read when it mints them.

use cognigate_token::{JwkSet, TokenUse, VerifyError, sign};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use crate::*;

#[test]
fn access_token_round_trip_field_by_field() {
    let world = World::new();
    let claims = access_claims(CUSTOMER_ISSUER, WEB);
    let token = sign(&world.customer_key, &claims).unwrap();
    let verified = world.verify(&token).unwrap();

    assert_eq!(verified.audience(), &Audience::access(CUSTOMER_ISSUER, [WEB, MOBILE]));
    assert_eq!(verified.issuer(), CUSTOMER_ISSUER);
    assert_eq!(verified.token_use(), TokenUse::Access);
    assert_eq!(verified.sub(), claims.sub);
    assert_eq!(verified.username(), Some(claims.username.as_str()));
    assert_eq!(verified.client_id(), WEB);
    assert_eq!(verified.groups(), ["dealers".to_owned()]);
    assert_eq!(verified.jti(), Some(claims.jti.as_str()));
    assert_eq!(verified.origin_jti(), Some(claims.origin_jti.as_str()));
    assert_eq!(verified.iat(), claims.iat);
    assert_eq!(verified.auth_time(), Some(claims.auth_time));
    assert_eq!(verified.exp(), claims.exp);
    assert_eq!(verified.nbf(), None);
    assert_eq!(verified.claim("role"), Some(&json!("dealer")));
    assert_eq!(verified.claim("scope"), Some(&json!(COGNITO_ADMIN_SCOPE)));
    assert_eq!(verified.claim("version"), Some(&json!(2)));
    assert_eq!(verified.claim("event_id"), Some(&json!(claims.event_id)));
    // The full claim set is exactly what was signed.
    assert_eq!(Value::Object(verified.claims().clone()), serde_json::to_value(&claims).unwrap());
    let back: AccessClaims = serde_json::from_value(Value::Object(verified.claims().clone())).unwrap();
    assert_eq!(back, claims);
}

#[test]
fn id_token_round_trip_field_by_field() {
    let world = World::new();
    let claims = id_claims(CUSTOMER_ISSUER, WEB);
    let token = sign(&world.customer_key, &claims).unwrap();
    let verified = world.verify(&token).unwrap();

    assert_eq!(verified.audience(), &Audience::id(CUSTOMER_ISSUER, [WEB]));
    assert_eq!(verified.token_use(), TokenUse::Id);
    assert_eq!(verified.sub(), claims.sub);
    assert_eq!(verified.username(), Some("dealer-one"));
    assert_eq!(verified.client_id(), WEB);
    assert_eq!(verified.groups(), ["dealers".to_owned()]);
    assert_eq!(verified.jti(), Some(claims.jti.as_str()));
    assert_eq!(verified.origin_jti(), Some(claims.origin_jti.as_str()));
    assert_eq!(verified.iat(), claims.iat);
    assert_eq!(verified.auth_time(), Some(claims.auth_time));
    assert_eq!(verified.exp(), claims.exp);
    assert_eq!(verified.claim("email"), Some(&json!("dealer@example.com")));
    assert_eq!(verified.claim("email_verified"), Some(&json!(true)));
    assert_eq!(verified.claim("custom:tier"), Some(&json!("premium")));
    let back: IdClaims = serde_json::from_value(Value::Object(verified.claims().clone())).unwrap();
    assert_eq!(back, claims);
}

#[test]
fn second_client_and_groupless_tokens_verify() {
    let world = World::new();
    let mut claims = access_claims(CUSTOMER_ISSUER, MOBILE);
    claims.groups.clear();
    let token = sign(&world.customer_key, &claims).unwrap();
    let verified = world.verify(&token).unwrap();
    assert_eq!(verified.client_id(), MOBILE);
    assert!(verified.groups().is_empty());
    assert!(verified.claim("cognito:groups").is_none());
    let staff = sign(&world.staff_key, &access_claims(STAFF_ISSUER, CONSOLE)).unwrap();
    assert_eq!(world.verify_staff(&staff).unwrap().issuer(), STAFF_ISSUER);
}

#[test]
fn header_is_cognito_shaped() {
    let world = World::new();
    let token = world.customer_access();
    let header = token.split('.').next().unwrap();
    assert_eq!(
        String::from_utf8(unb64(header)).unwrap(),
        format!(r#"{{"alg":"RS256","kid":"{}"}}"#, world.customer_key.kid())
    );
    assert_eq!(token.split('.').count(), 3);
    // 2048-bit signature.
    assert_eq!(unb64(token.split('.').nth(2).unwrap()).len(), 256);
}

#[test]
fn signing_rejects_claims_that_are_not_an_object() {
    let world = World::new();
    assert!(sign(&world.customer_key, &json!(["a"])).is_err());
    assert!(sign(&world.customer_key, "text").is_err());
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::engine::general_purpose::STANDARD;
    let body = STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[test]
fn our_tokens_verify_with_jsonwebtoken() {
    let world = World::new();
    let claims = access_claims(CUSTOMER_ISSUER, WEB);
    let token = sign(&world.customer_key, &claims).unwrap();
    let jwk = world.customer_key.jwk();
    let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[CUSTOMER_ISSUER]);
    validation.validate_aud = false;
    validation.validate_exp = false;
    let decoded = jsonwebtoken::decode::<AccessClaims>(&token, &key, &validation).unwrap();
    assert_eq!(decoded.claims, claims);
    assert_eq!(decoded.header.kid.as_deref(), Some(world.customer_key.kid()));
    assert_eq!(decoded.header.typ, None);
}

#[test]
fn jsonwebtoken_tokens_verify_with_ours() {
    let world = World::new();
    let der = world.customer_key.to_pkcs8_der().unwrap();
    let encoding = EncodingKey::from_rsa_pem(pem("PRIVATE KEY", &der).as_bytes()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(world.customer_key.kid().to_owned());
    let claims = access_claims(CUSTOMER_ISSUER, WEB);
    let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
    let verified = world.verify(&token).unwrap();
    assert_eq!(verified.jti(), Some(claims.jti.as_str()));
}

#[test]
fn imported_key_signs_tokens_the_old_jwks_accepts() {
    let world = World::new();
    let der = world.customer_key.to_pkcs8_der().unwrap();
    let restored = SigningKey::from_pkcs8_der(world.customer_key.kid(), &der).unwrap();
    let token = sign(&restored, &access_claims(CUSTOMER_ISSUER, WEB)).unwrap();
    assert!(world.verify(&token).is_ok());
    assert_eq!(JwkSet::from_signing_keys([&restored]), JwkSet::from_signing_keys([&world.customer_key]));
}

#[test]
fn verify_future_is_send_and_verifier_is_shareable() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
    assert_send_sync::<VerifiedToken>();
    let world = World::new();
    let future = world.customer.verify("x");
    assert_send(&future);
    assert!(matches!(block_on(future), Err(VerifyError::Malformed(_))));
}

#[test]
fn errors_do_not_echo_token_text() {
    let world = World::new();
    let secretish = "THIS-SHOULD-NOT-APPEAR";
    for token in [
        format!("{secretish}.{secretish}.{secretish}"),
        sign_raw(
            &world.customer_key,
            &header_for(&world.customer_key),
            &format!(r#"{{"iss":"{secretish}","token_use":"access"}}"#),
        ),
    ] {
        let error = world.verify(&token).unwrap_err();
        assert!(!format!("{error} {error:?}").contains(secretish), "{error:?}");
    }
}
