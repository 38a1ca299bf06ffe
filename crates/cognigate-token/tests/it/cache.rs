//! The verified-token cache: a repeated token costs no RSA verification, yet expiry and revocation are
//! checked on every hit, the cache stays bounded, and a token differing by one character is not a hit.

use cognigate_token::{VerifyError, sign};

use crate::*;

#[test]
fn repeated_token_is_verified_once() {
    let world = World::new();
    let token = world.customer_access();
    for _ in 0..100 {
        assert!(world.verify(&token).is_ok());
    }
    let stats = world.customer.stats();
    assert_eq!(stats.signature_checks, 1);
    assert_eq!(stats.cached_tokens, 1);
}

#[test]
fn revocation_is_seen_on_a_cache_hit() {
    let world = World::new();
    let claims = access_claims(CUSTOMER_ISSUER, WEB);
    let token = sign(&world.customer_key, &claims).unwrap();
    assert!(world.verify(&token).is_ok());

    world.revocations.revoke_origin_jti(claims.origin_jti.clone());
    assert!(matches!(world.verify(&token), Err(VerifyError::Revoked)));
    assert_eq!(world.customer.stats().signature_checks, 1, "refused from the cache");

    let second = world.customer_access();
    assert!(world.verify(&second).is_ok());
    world.revocations.revoke_jti(world.verify(&second).unwrap().jti().unwrap());
    assert!(matches!(world.verify(&second), Err(VerifyError::Revoked)));
}

#[test]
fn subject_revocation_covers_tokens_issued_until_the_given_time() {
    let world = World::new();
    let sub = access_claims(CUSTOMER_ISSUER, WEB).sub;
    let old = world.customer_access(); // iat = NOW - 10
    assert!(world.verify(&old).is_ok());
    world.revocations.revoke_subject_until(sub.clone(), NOW - 10);
    assert!(matches!(world.verify(&old), Err(VerifyError::Revoked)), "iat == until is revoked");

    let mut later = access_claims(CUSTOMER_ISSUER, WEB);
    later.iat = NOW - 9;
    let later = sign(&world.customer_key, &later).unwrap();
    assert!(world.verify(&later).is_ok());
    world.revocations.revoke_subject_until(sub.clone(), NOW - 100);
    assert!(world.verify(&later).is_ok(), "an earlier time does not shorten the revocation");
    assert!(matches!(world.verify(&old), Err(VerifyError::Revoked)));

    world.revocations.forget_subject(&sub);
    assert!(world.verify(&old).is_ok());
    // Revocation applies to ID tokens too, and to the staff verifier sharing the list.
    let id = sign(&world.customer_key, &id_claims(CUSTOMER_ISSUER, WEB)).unwrap();
    world.revocations.revoke_subject_until(sub, NOW);
    assert!(matches!(world.verify(&id), Err(VerifyError::Revoked)));
}

#[test]
fn cache_is_bounded() {
    let world =
        World::with_options(VerifierOptions { token_cache_capacity: 10, ..VerifierOptions::default() });
    let tokens: Vec<String> = (0..25).map(|_| world.customer_access()).collect();
    for token in &tokens {
        assert!(world.verify(token).is_ok());
    }
    assert_eq!(world.customer.stats().cached_tokens, 10);
    assert_eq!(world.customer.stats().signature_checks, 25);
    assert!(world.verify(&tokens[24]).is_ok());
    assert_eq!(world.customer.stats().signature_checks, 25, "recent token is a hit");
    assert!(world.verify(&tokens[0]).is_ok());
    assert_eq!(world.customer.stats().signature_checks, 26, "evicted token is verified again");
}

#[test]
fn near_miss_of_a_cached_token_is_not_a_hit() {
    let world = World::new();
    let token = world.customer_access();
    assert!(world.verify(&token).is_ok());
    let (body, signature) = token.rsplit_once('.').unwrap();
    let mut chars: Vec<char> = signature.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let altered = format!("{body}.{}", chars.into_iter().collect::<String>());
    assert!(matches!(world.verify(&altered), Err(VerifyError::BadSignature)));
    assert_eq!(world.customer.stats().signature_checks, 2);
    assert_eq!(world.customer.stats().cached_tokens, 1, "failures are not cached");
}

#[test]
fn disabled_cache_verifies_every_time() {
    let world =
        World::with_options(VerifierOptions { token_cache_capacity: 0, ..VerifierOptions::default() });
    let token = world.customer_access();
    for _ in 0..3 {
        assert!(world.verify(&token).is_ok());
    }
    assert_eq!(world.customer.stats().signature_checks, 3);
}
