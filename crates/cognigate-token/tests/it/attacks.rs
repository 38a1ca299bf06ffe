//! The JWT attack catalogue (security notes, section G) as far as it concerns the library: each forged,
//! confused or malformed token is refused with a specific error and without an RSA verification where none
//! is needed.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::KeyPair as _;
use cognigate_token::{HttpJwksSource, Jwk, JwkSet, VerifyError, sign};
use serde_json::{Value, json};

use crate::*;

fn assert_rejected(
    result: Result<VerifiedToken, VerifyError>,
    expected: fn(&VerifyError) -> bool,
    what: &str,
) {
    match result {
        Ok(_) => panic!("{what}: accepted"),
        Err(error) => assert!(expected(&error), "{what}: unexpected error {error:?}"),
    }
}

fn payload_json() -> String {
    Value::Object(access_payload()).to_string()
}

#[test]
fn g1_alg_none_in_any_case_is_refused() {
    let world = World::new();
    let kid = world.customer_key.kid();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "kid": kid}).to_string();
        let unsigned = format!("{}.{}.", b64(&header), b64(payload_json()));
        assert_rejected(world.verify(&unsigned), |e| matches!(e, VerifyError::Malformed(_)), alg);
        let with_signature = format!("{}.{}.{}", b64(&header), b64(payload_json()), b64("x"));
        assert_rejected(
            world.verify(&with_signature),
            |e| matches!(e, VerifyError::UnsupportedAlgorithm),
            alg,
        );
        let no_kid = format!("{}.{}.{}", b64(json!({"alg": alg}).to_string()), b64(payload_json()), b64("x"));
        assert_rejected(world.verify(&no_kid), |e| matches!(e, VerifyError::UnsupportedAlgorithm), alg);
    }
    assert_eq!(world.customer.stats().signature_checks, 0);
}

#[test]
fn g2_hs256_signed_with_the_public_key_is_refused() {
    let world = World::new();
    let pair = key_pair(&world.customer_key);
    let spki_der = pair.public_key().as_der().unwrap().as_ref().to_vec();
    let pkcs1_der = pair.public_key().as_ref().to_vec();
    let pem = |label: &str, der: &[u8]| {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    };
    let spki_pem = pem("PUBLIC KEY", &spki_der);
    let pkcs1_pem = pem("RSA PUBLIC KEY", &pkcs1_der);
    let jwk_json = serde_json::to_string(world.customer_key.jwk()).unwrap();
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", spki_pem.clone().into_bytes()),
        ("PKCS#1 PEM", pkcs1_pem.into_bytes()),
        ("PEM with leading whitespace", format!("  \n{spki_pem}").into_bytes()),
        ("PEM with CRLF", spki_pem.replace('\n', "\r\n").into_bytes()),
        ("PEM without trailing newline", spki_pem.trim_end().as_bytes().to_vec()),
        ("SPKI DER", spki_der),
        ("PKCS#1 DER", pkcs1_der),
        ("JWK JSON", jwk_json.into_bytes()),
        ("modulus bytes", unb64(&world.customer_key.jwk().n)),
        ("modulus base64url", world.customer_key.jwk().n.clone().into_bytes()),
    ];
    for (what, secret) in &secrets {
        for alg in ["HS256", "HS384", "HS512", "hs256"] {
            let header = json!({"alg": alg, "kid": world.customer_key.kid(), "typ": "JWT"}).to_string();
            let input = format!("{}.{}", b64(&header), b64(payload_json()));
            let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
            let token = format!("{input}.{}", b64(tag.as_ref()));
            assert_rejected(
                world.verify(&token),
                |e| matches!(e, VerifyError::UnsupportedAlgorithm),
                &format!("{alg} with {what}"),
            );
        }
        // The same HMAC under an RS256 header is just a bad signature.
        let input = format!("{}.{}", b64(header_for(&world.customer_key)), b64(payload_json()));
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        assert_rejected(
            world.verify(&format!("{input}.{}", b64(tag.as_ref()))),
            |e| matches!(e, VerifyError::BadSignature),
            what,
        );
    }
}

#[test]
fn g3_header_alg_other_than_the_keys_is_refused() {
    let world = World::new();
    let key = &world.customer_key;
    let kid = key.kid();
    let cases: [(&str, &'static dyn aws_lc_rs::signature::RsaEncoding); 5] = [
        ("RS384", &aws_lc_rs::signature::RSA_PKCS1_SHA384),
        ("RS512", &aws_lc_rs::signature::RSA_PKCS1_SHA512),
        ("PS256", &aws_lc_rs::signature::RSA_PSS_SHA256),
        ("PS512", &aws_lc_rs::signature::RSA_PSS_SHA512),
        ("ES256", &aws_lc_rs::signature::RSA_PKCS1_SHA256),
    ];
    for (alg, encoding) in cases {
        let token =
            sign_raw_with(key, encoding, &json!({"alg": alg, "kid": kid}).to_string(), &payload_json());
        assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::UnsupportedAlgorithm), alg);
    }
    assert_eq!(world.customer.stats().signature_checks, 0);

    // A JWK published for another algorithm is not used for RS256, even with a genuine RS256 signature.
    // (Nothing above reached the JWKS, so the first fetch sees this set.)
    let mut rs512_jwk = key.jwk().clone();
    rs512_jwk.alg = Some("RS512".into());
    world.source.set(CUSTOMER_ISSUER, JwkSet { keys: vec![rs512_jwk] });
    let token = sign(key, &access_claims(CUSTOMER_ISSUER, WEB)).unwrap();
    assert_rejected(
        world.verify(&token),
        |e| matches!(e, VerifyError::UnsupportedAlgorithm),
        "JWK alg RS512",
    );
    assert_eq!(world.customer.stats().signature_checks, 0);
}

#[test]
fn g4_tampered_tokens_are_refused() {
    let world = World::new();
    let token = world.customer_access();
    let other = world.customer_access();
    let parts: Vec<&str> = token.split('.').collect();
    let other_parts: Vec<&str> = other.split('.').collect();

    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert_rejected(world.verify(&stripped), |e| matches!(e, VerifyError::Malformed(_)), "stripped");

    let swapped = format!("{}.{}.{}", parts[0], parts[1], other_parts[2]);
    assert_rejected(world.verify(&swapped), |e| matches!(e, VerifyError::BadSignature), "other signature");

    let mut payload: Value = serde_json::from_slice(&unb64(parts[1])).unwrap();
    payload["cognito:groups"] = json!(["super_admin"]);
    let escalated = format!("{}.{}.{}", parts[0], b64(payload.to_string()), parts[2]);
    assert_rejected(world.verify(&escalated), |e| matches!(e, VerifyError::BadSignature), "forged groups");

    let mut raw_payload = unb64(parts[1]);
    raw_payload[20] ^= 0x01;
    let flipped_payload = format!("{}.{}.{}", parts[0], b64(&raw_payload), parts[2]);
    assert!(world.verify(&flipped_payload).is_err(), "payload bit flip");

    for index in [0, 100, 255] {
        let mut signature = unb64(parts[2]);
        signature[index] ^= 0x80;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
        assert_rejected(
            world.verify(&flipped),
            |e| matches!(e, VerifyError::BadSignature),
            "signature bit flip",
        );
    }
    let mut short = unb64(parts[2]);
    short.truncate(255);
    let truncated = format!("{}.{}.{}", parts[0], parts[1], b64(&short));
    assert_rejected(world.verify(&truncated), |e| matches!(e, VerifyError::BadSignature), "short signature");
    let long = format!("{}.{}.{}", parts[0], parts[1], b64(vec![7u8; 2000]));
    assert_rejected(world.verify(&long), |e| matches!(e, VerifyError::BadSignature), "long signature");

    assert!(world.verify(&token).is_ok());
}

#[test]
fn g5_unknown_kids_refetch_at_most_once_per_floor() {
    let world = World::new();
    block_on(world.customer.hydrate()).unwrap();
    assert_eq!(world.source.fetch_count(), 1);
    let valid = world.customer_access();
    let payload = payload_json();
    // The signature is never reached for an unknown kid, so a dummy one keeps the test fast.
    let random_kid_token = || {
        let header = json!({"alg": "RS256", "kid": new_token_id()}).to_string();
        format!("{}.{}.{}", b64(header), b64(&payload), b64([7u8; 256]))
    };

    // The floor counts from the last fetch, whatever triggered it: hydrate's fetch fills this window.
    for _ in 0..1000 {
        assert_rejected(world.verify(&random_kid_token()), |e| matches!(e, VerifyError::UnknownKey), "kid");
    }
    assert_eq!(world.source.fetch_count(), 1, "no refetch inside the window of hydrate's fetch");
    assert!(world.verify(&valid).is_ok(), "known keys keep working");

    world.clock.advance(10);
    for _ in 0..1000 {
        assert_rejected(world.verify(&random_kid_token()), |e| matches!(e, VerifyError::UnknownKey), "kid");
    }
    assert_eq!(world.source.fetch_count(), 2, "one refetch in the next window");

    world.clock.advance(9);
    for _ in 0..100 {
        assert!(world.verify(&random_kid_token()).is_err());
    }
    assert_eq!(world.source.fetch_count(), 2, "still inside the 10 s floor");

    world.clock.advance(1);
    for _ in 0..100 {
        assert!(world.verify(&random_kid_token()).is_err());
    }
    assert_eq!(world.source.fetch_count(), 3, "one more after the floor");
    assert_eq!(world.customer.stats().jwks_fetches, 3);
    assert_eq!(world.customer.stats().signature_checks, 1);
}

#[test]
fn g5_concurrent_unknown_kids_share_one_fetch() {
    let world = World::new();
    let verifier = Arc::new(world.customer);
    let payload = payload_json();
    let tokens: Vec<String> = (0..200)
        .map(|_| {
            let header = json!({"alg": "RS256", "kid": new_token_id()}).to_string();
            format!("{}.{}.{}", b64(header), b64(&payload), b64([7u8; 256]))
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for token in tokens {
            let verifier = verifier.clone();
            tasks.spawn(async move { verifier.verify(&token).await });
        }
        while let Some(result) = tasks.join_next().await {
            assert!(matches!(result.unwrap(), Err(VerifyError::UnknownKey)));
        }
    });
    assert_eq!(world.source.fetch_count(), 1, "cold start: one fetch for all");
}

#[test]
fn g6_odd_kids_are_refused_without_lookups_outside_the_jwks() {
    let world = World::new();
    let payload = payload_json();
    for kid in
        ["../../../../dev/null", "/proc/sys/kernel/randomize_va_space", "' OR 1=1--", "%00", "k\u{202e}"]
    {
        let token = sign_raw(&world.customer_key, &json!({"alg": "RS256", "kid": kid}).to_string(), &payload);
        assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::UnknownKey), kid);
    }
    let long = "k".repeat(10_000);
    for header in [
        json!({"alg": "RS256", "kid": long}),
        json!({"alg": "RS256", "kid": 7}),
        json!({"alg": "RS256", "kid": {}}),
        json!({"alg": "RS256", "kid": null}),
        json!({"alg": "RS256", "kid": ["a"]}),
        json!({"alg": "RS256"}),
        json!({"alg": "RS256", "kid": ""}),
        json!({"alg": "RS256", "kid": "a\nb"}),
    ] {
        let token = sign_raw(&world.customer_key, &header.to_string(), &payload);
        assert_rejected(
            world.verify(&token),
            |e| matches!(e, VerifyError::Malformed(_)),
            &header.to_string(),
        );
    }
    assert_eq!(world.source.fetch_count(), 1, "only the odd-but-valid string kids reach the JWKS, once");
}

#[tokio::test]
async fn g7_key_reference_headers_are_never_followed() {
    let key = SigningKey::generate().unwrap();
    let attacker = SigningKey::generate().unwrap();
    let jwks = serde_json::to_vec(&JwkSet::from_signing_keys([&key])).unwrap();
    let pool =
        TestServer::start(move |_| (200, vec![("Content-Type", "application/json".into())], jwks.clone()));
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let trap_url = format!("http://{}/jwks.json", trap.local_addr().unwrap());

    let issuer = format!("{}/us-east-1_Pool", pool.base);
    let verifier = Verifier::builder(Arc::new(HttpJwksSource::new().unwrap()))
        .audience(Audience::access(issuer.clone(), [WEB]))
        .clock(Arc::new(FixedClock::new(NOW)))
        .build()
        .unwrap();
    let payload = Value::Object({
        let mut claims = access_payload();
        claims.insert("iss".into(), json!(issuer));
        claims
    })
    .to_string();
    let attacker_jwk = serde_json::to_value(attacker.jwk()).unwrap();
    let references = |kid: &str| {
        vec![
            json!({"alg": "RS256", "kid": kid, "jku": trap_url}),
            json!({"alg": "RS256", "kid": kid, "x5u": trap_url}),
            json!({"alg": "RS256", "kid": kid, "jwk": attacker_jwk}),
            json!({"alg": "RS256", "kid": kid, "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}),
            json!({"alg": "RS256", "kid": kid, "jku": trap_url, "x5u": trap_url, "jwk": attacker_jwk}),
        ]
    };
    // Signed by the pool's key: the extra headers are ignored and the token is valid.
    for header in references(key.kid()) {
        let token = sign_raw(&key, &header.to_string(), &payload);
        assert!(verifier.verify(&token).await.is_ok(), "{header}");
    }
    // Signed by the attacker's key, whatever kid it claims: refused.
    for header in references(attacker.kid()) {
        let token = sign_raw(&attacker, &header.to_string(), &payload);
        assert!(matches!(verifier.verify(&token).await, Err(VerifyError::UnknownKey)), "{header}");
    }
    for header in references(key.kid()) {
        let token = sign_raw(&attacker, &header.to_string(), &payload);
        assert!(matches!(verifier.verify(&token).await, Err(VerifyError::BadSignature)), "{header}");
    }
    assert!(
        matches!(trap.accept(), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "nothing may connect to a URL taken from a token"
    );
    let requests = pool.requests.lock().unwrap().clone();
    assert_eq!(requests, vec!["GET /us-east-1_Pool/.well-known/jwks.json HTTP/1.1"; requests.len()]);
    assert!(requests.len() <= 2, "{requests:?}");
}

#[test]
fn g8_tokens_of_the_other_pool_are_refused() {
    let world = World::new();
    let staff_token = sign(&world.staff_key, &access_claims(STAFF_ISSUER, CONSOLE)).unwrap();
    let customer_token = world.customer_access();
    assert_rejected(
        world.verify(&staff_token),
        |e| matches!(e, VerifyError::UnknownIssuer),
        "staff on customer",
    );
    assert_rejected(
        world.verify_staff(&customer_token),
        |e| matches!(e, VerifyError::UnknownIssuer),
        "customer on staff",
    );
    // A customer token re-labelled with the staff issuer (and client): the staff JWKS has no customer key.
    let relabelled = sign(&world.customer_key, &access_claims(STAFF_ISSUER, CONSOLE)).unwrap();
    assert_rejected(world.verify_staff(&relabelled), |e| matches!(e, VerifyError::UnknownKey), "relabelled");
    // …and with the staff kid, the signature fails.
    let mut claims = access_payload();
    claims.insert("iss".into(), json!(STAFF_ISSUER));
    claims.insert("client_id".into(), json!(CONSOLE));
    let forged =
        sign_raw(&world.customer_key, &header_for(&world.staff_key), &Value::Object(claims).to_string());
    assert_rejected(world.verify_staff(&forged), |e| matches!(e, VerifyError::BadSignature), "staff kid");
    // Issuer look-alikes.
    for iss in [
        format!("{CUSTOMER_ISSUER}/"),
        CUSTOMER_ISSUER.to_uppercase(),
        CUSTOMER_ISSUER.replace("https", "http"),
        format!(" {CUSTOMER_ISSUER}"),
    ] {
        let mut claims = access_payload();
        claims.insert("iss".into(), json!(iss));
        let token = sign_raw(
            &world.customer_key,
            &header_for(&world.customer_key),
            &Value::Object(claims).to_string(),
        );
        assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::UnknownIssuer), &iss);
    }
    assert_eq!(world.customer.stats().signature_checks, 0, "no key work for unknown issuers");
}

#[test]
fn g10_other_app_clients_are_refused() {
    let world = World::new();
    let access = sign(&world.customer_key, &access_claims(CUSTOMER_ISSUER, OTHER_CLIENT)).unwrap();
    assert_rejected(world.verify(&access), |e| matches!(e, VerifyError::WrongClient), "access client_id");
    // MOBILE is accepted for access tokens but not for ID tokens.
    let id = sign(&world.customer_key, &id_claims(CUSTOMER_ISSUER, MOBILE)).unwrap();
    assert_rejected(world.verify(&id), |e| matches!(e, VerifyError::WrongClient), "id aud");
    // An access token carrying an accepted `aud` but a foreign `client_id` is still refused.
    let mut claims = access_payload();
    claims.insert("client_id".into(), json!(OTHER_CLIENT));
    claims.insert("aud".into(), json!(WEB));
    let token =
        sign_raw(&world.customer_key, &header_for(&world.customer_key), &Value::Object(claims).to_string());
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::WrongClient), "aud on access");
    for value in [json!(null), json!([WEB]), json!(7)] {
        let mut claims = access_payload();
        claims.insert("client_id".into(), value.clone());
        let token = sign_raw(
            &world.customer_key,
            &header_for(&world.customer_key),
            &Value::Object(claims).to_string(),
        );
        assert_rejected(
            world.verify(&token),
            |e| matches!(e, VerifyError::InvalidClaim { .. }),
            &value.to_string(),
        );
    }
    let mut claims = access_payload();
    claims.remove("client_id");
    let token =
        sign_raw(&world.customer_key, &header_for(&world.customer_key), &Value::Object(claims).to_string());
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::InvalidClaim { .. }), "no client_id");
}

#[test]
fn g11_id_and_access_tokens_are_not_interchangeable() {
    let world = World::new();
    let id_for_console = sign(&world.staff_key, &id_claims(STAFF_ISSUER, CONSOLE)).unwrap();
    assert_rejected(
        world.verify_staff(&id_for_console),
        |e| matches!(e, VerifyError::WrongTokenUse),
        "id token on an access-only verifier",
    );
    let id_only = Verifier::builder(world.source.clone())
        .audience(Audience::id(CUSTOMER_ISSUER, [WEB]))
        .clock(world.clock.clone())
        .build()
        .unwrap();
    let access = world.customer_access();
    assert!(matches!(block_on(id_only.verify(&access)), Err(VerifyError::WrongTokenUse)));
    for token_use in [json!("refresh"), json!("Access"), json!("")] {
        let mut claims = access_payload();
        claims.insert("token_use".into(), token_use.clone());
        let token = sign_raw(
            &world.customer_key,
            &header_for(&world.customer_key),
            &Value::Object(claims).to_string(),
        );
        assert_rejected(
            world.verify(&token),
            |e| matches!(e, VerifyError::WrongTokenUse),
            &token_use.to_string(),
        );
    }
    // An ID token whose `aud` is an accepted access client but which lacks `client_id` is an ID token.
    let id_as_access = sign(&world.customer_key, &id_claims(CUSTOMER_ISSUER, MOBILE)).unwrap();
    assert!(world.verify(&id_as_access).is_err());
    assert_eq!(id_only.stats().signature_checks, 0);
}

#[test]
fn g12_expiry_and_not_before_honour_the_leeway() {
    let world = World::new(); // leeway 5 s
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.exp = NOW;
    let token = sign(&world.customer_key, &claims).unwrap();
    world.clock.set(NOW + 4);
    assert!(world.verify(&token).is_ok(), "leeway - 1 s");
    world.clock.set(NOW + 5);
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Expired), "leeway (cached)");
    world.clock.set(NOW + 6);
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Expired), "leeway + 1 s (cached)");
    world.customer.clear_token_cache();
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Expired), "leeway + 1 s (first seen)");

    world.clock.set(NOW);
    let with_nbf = |nbf: u64| {
        let mut claims = access_payload();
        claims.insert("nbf".into(), json!(nbf));
        sign_raw(&world.customer_key, &header_for(&world.customer_key), &Value::Object(claims).to_string())
    };
    assert!(world.verify(&with_nbf(NOW + 5)).is_ok(), "nbf within leeway");
    assert_rejected(world.verify(&with_nbf(NOW + 6)), |e| matches!(e, VerifyError::NotYetValid), "nbf");
    let mut future = access_claims(CUSTOMER_ISSUER, WEB);
    future.iat = NOW + 60;
    future.exp = NOW + 3600;
    let token = sign(&world.customer_key, &future).unwrap();
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::NotYetValid), "iat in the future");

    // Leeway zero: expired at exp exactly.
    let strict =
        World::with_options(VerifierOptions { leeway: Duration::ZERO, ..VerifierOptions::default() });
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.exp = NOW + 1;
    let token = sign(&strict.customer_key, &claims).unwrap();
    assert!(strict.verify(&token).is_ok());
    strict.clock.set(NOW + 1);
    assert_rejected(strict.verify(&token), |e| matches!(e, VerifyError::Expired), "leeway 0");
}

#[test]
fn g13_claims_of_the_wrong_type_are_refused() {
    let world = World::new();
    let cases: Vec<(&str, Option<Value>)> = vec![
        ("exp", Some(json!("9999999999"))),
        ("nbf", Some(json!("99999999999"))),
        ("exp", Some(json!(null))),
        ("exp", Some(json!(-1))),
        ("exp", Some(json!(1e300))),
        ("exp", Some(json!(1_750_003_590.5))),
        ("exp", Some(json!(99_999_999_999_999_u64))),
        ("exp", Some(json!([NOW + 100]))),
        ("exp", None),
        ("iat", Some(json!("x"))),
        ("iat", None),
        ("auth_time", Some(json!("yesterday"))),
        ("token_use", Some(json!(["access"]))),
        ("token_use", None),
        ("iss", Some(json!(123))),
        ("iss", Some(json!([CUSTOMER_ISSUER]))),
        ("iss", None),
        ("sub", Some(json!(5))),
        ("sub", Some(json!(""))),
        ("sub", None),
        ("cognito:groups", Some(json!("super_admin"))),
        ("cognito:groups", Some(json!([1, 2]))),
        ("username", Some(json!(7))),
        ("jti", Some(json!({"id": 1}))),
        ("origin_jti", Some(json!(false))),
    ];
    for (claim, value) in cases {
        let mut claims = access_payload();
        match &value {
            Some(value) => claims.insert(claim.into(), value.clone()),
            None => claims.remove(claim),
        };
        let token = sign_raw(
            &world.customer_key,
            &header_for(&world.customer_key),
            &Value::Object(claims).to_string(),
        );
        assert!(world.verify(&token).is_err(), "{claim} = {value:?} accepted");
    }
    // exp before iat.
    let mut claims = access_payload();
    claims.insert("exp".into(), json!(NOW - 20));
    let token =
        sign_raw(&world.customer_key, &header_for(&world.customer_key), &Value::Object(claims).to_string());
    assert_rejected(
        world.verify(&token),
        |e| matches!(e, VerifyError::InvalidClaim { claim: "exp", .. }),
        "exp<iat",
    );
}

#[test]
fn g14_structural_tricks_are_refused() {
    let world = World::new();
    let header = header_for(&world.customer_key);
    let valid = world.customer_access();
    let parts: Vec<&str> = valid.split('.').collect();

    let payload = payload_json();
    let duplicated = format!(r#"{{"sub":"someone-else",{}"#, &payload[1..]);
    let token = sign_raw(&world.customer_key, &header, &duplicated);
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Malformed(_)), "duplicate sub");
    let nested_duplicate = format!(r#"{{"x":{{"a":1,"a":2}},{}"#, &payload[1..]);
    let token = sign_raw(&world.customer_key, &header, &nested_duplicate);
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Malformed(_)), "nested duplicate");
    let duplicate_header = format!(r#"{{"alg":"none",{}"#, &header[1..]);
    let token = sign_raw(&world.customer_key, &duplicate_header, &payload);
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Malformed(_)), "duplicate alg");

    for crit in [json!(["b64"]), json!(["exp"]), json!([]), json!("b64")] {
        let header =
            json!({"alg": "RS256", "kid": world.customer_key.kid(), "crit": crit, "b64": false}).to_string();
        let token = sign_raw(&world.customer_key, &header, &payload);
        assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Malformed(_)), &crit.to_string());
    }

    let json_serialised = json!({
        "payload": parts[1],
        "signatures": [{"protected": parts[0], "signature": parts[2]}],
    })
    .to_string();
    let flattened = json!({"payload": parts[1], "protected": parts[0], "signature": parts[2]}).to_string();
    let two = format!("{}.{}", parts[0], parts[1]);
    let four = format!("{valid}.{}", parts[2]);
    let padded = |index: usize| {
        let mut copy: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        copy[index].push('=');
        copy.join(".")
    };
    let bad_char = |index: usize, c: char| {
        let mut copy: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        copy[index].insert(4, c);
        copy.join(".")
    };
    let mut malformed = vec![
        json_serialised,
        flattened,
        two,
        four,
        String::new(),
        ".".into(),
        "..".into(),
        format!(" {valid}"),
        format!("{valid}\n"),
        format!("Bearer {valid}"),
        format!("{}.{}.{}", b64("not json"), parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], b64("[1,2]"), parts[2]),
        format!("{}.{}.{}", b64("{}"), parts[1], parts[2]),
    ];
    for index in 0..3 {
        malformed.push(padded(index));
        for c in ['+', '/', '*', ' ', '%'] {
            malformed.push(bad_char(index, c));
        }
    }
    for token in &malformed {
        assert_rejected(world.verify(token), |e| matches!(e, VerifyError::Malformed(_)), token);
    }
    assert_eq!(world.customer.stats().signature_checks, 0);
    assert!(world.verify(&valid).is_ok());
}

#[test]
fn g15_oversized_tokens_are_refused_before_decoding() {
    let world = World::new();
    let limit = VerifierOptions::default().max_token_len;
    for len in [limit + 1, 1024 * 1024, 4 * 1024 * 1024] {
        let token =
            format!("{}.{}.{}", "a".repeat(len / 3), "b".repeat(len / 3), "c".repeat(len - 2 * (len / 3)));
        assert!(
            matches!(world.verify(&token), Err(VerifyError::TooLarge { len: l, limit: m }) if l == token.len() && m == limit),
            "{len}"
        );
    }
    // 10^5 groups: far over the limit.
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.groups = (0..100_000).map(|i| format!("g{i}")).collect();
    let token = sign(&world.customer_key, &claims).unwrap();
    assert!(matches!(world.verify(&token), Err(VerifyError::TooLarge { .. })));
    // Deep nesting under the size limit: refused by the JSON depth limit, not a stack overflow.
    let deep = format!(r#"{{"x":{}1{},{}"#, "[".repeat(3000), "]".repeat(3000), &payload_json()[1..]);
    let token = sign_raw(&world.customer_key, &header_for(&world.customer_key), &deep);
    assert!(token.len() < limit);
    assert_rejected(world.verify(&token), |e| matches!(e, VerifyError::Malformed(_)), "deep nesting");
    // Just under the limit with many groups: accepted.
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.groups = (0..1000).map(|i| format!("g{i}")).collect();
    let token = sign(&world.customer_key, &claims).unwrap();
    assert!(token.len() < limit, "{}", token.len());
    assert_eq!(world.verify(&token).unwrap().groups().len(), 1000);
}

#[test]
fn g19_jwks_outage_fails_closed_for_unknown_kids() {
    let world = World::new();
    world.source.remove(CUSTOMER_ISSUER);
    let token = world.customer_access();
    assert!(matches!(world.verify(&token), Err(VerifyError::Jwks(_))), "cold start, endpoint down");
    world.clock.advance(3);
    assert!(matches!(world.verify(&token), Err(VerifyError::UnknownKey)), "inside the floor: no new fetch");
    assert_eq!(world.source.fetch_count(), 1);
    world.clock.advance(10);
    world.source.set(CUSTOMER_ISSUER, JwkSet::from_signing_keys([&world.customer_key]));
    assert!(world.verify(&token).is_ok(), "recovers after the floor");
}

#[test]
fn jwk_with_odd_fields_round_trips_through_a_verifier() {
    // A JWKS entry with `use: enc` is never used for signatures.
    let world = World::new();
    let mut jwk: Jwk = world.customer_key.jwk().clone();
    jwk.use_ = Some("enc".into());
    world.source.set(CUSTOMER_ISSUER, JwkSet { keys: vec![jwk] });
    let token = world.customer_access();
    assert!(matches!(world.verify(&token), Err(VerifyError::UnsupportedAlgorithm)));
}
