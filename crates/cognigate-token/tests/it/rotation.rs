//! Key rotation under the documented cache policy: a fetch replaces an issuer's key set; new keys are
//! picked up by one refetch on their first unknown `kid`; keys still published keep verifying; a key
//! withdrawn from the JWKS stops verifying at the next refetch (unknown `kid` or `jwks_max_age`), and the
//! verified-token cache forgets the tokens it signed; an unreachable JWKS leaves cached keys working.

use cognigate_token::{JwkSet, VerifyError, sign};

use crate::*;

#[test]
fn new_key_verifies_after_one_refetch_and_old_key_keeps_working() {
    let world = World::new();
    let old_token = world.customer_access();
    assert!(world.verify(&old_token).is_ok());
    assert_eq!(world.source.fetch_count(), 1);

    let new_key = SigningKey::generate().unwrap();
    world.source.set(CUSTOMER_ISSUER, JwkSet::from_signing_keys([&world.customer_key, &new_key]));
    let new_token = sign(&new_key, &access_claims(CUSTOMER_ISSUER, WEB)).unwrap();
    // Within the refetch floor of the first fetch, the new kid is not fetched yet (the price of the floor).
    world.clock.advance(9);
    assert!(matches!(world.verify(&new_token), Err(VerifyError::UnknownKey)));
    world.clock.advance(1);
    assert!(world.verify(&new_token).is_ok());
    assert_eq!(world.source.fetch_count(), 2, "one refetch for the new kid");

    world.customer.clear_token_cache();
    assert!(world.verify(&old_token).is_ok(), "old key still published");
    let another_old = world.customer_access();
    assert!(world.verify(&another_old).is_ok());
    assert_eq!(world.source.fetch_count(), 2);
}

#[test]
fn withdrawn_key_fails_after_the_refetch_a_new_kid_triggers() {
    let world = World::new();
    let old_token = world.customer_access();
    assert!(world.verify(&old_token).is_ok());
    assert_eq!(world.customer.stats().cached_tokens, 1);

    let new_key = SigningKey::generate().unwrap();
    world.source.set(CUSTOMER_ISSUER, JwkSet::from_signing_keys([&new_key]));
    // Until something triggers a refetch, the cached key (and cached token) still verify.
    assert!(world.verify(&old_token).is_ok());

    let new_token = sign(&new_key, &access_claims(CUSTOMER_ISSUER, WEB)).unwrap();
    world.clock.advance(10);
    assert!(world.verify(&new_token).is_ok());
    assert_eq!(world.customer.stats().cached_tokens, 1, "the refetch dropped a key: cache cleared");
    assert!(matches!(world.verify(&old_token), Err(VerifyError::UnknownKey)));
    let fresh_old = world.customer_access();
    assert!(matches!(world.verify(&fresh_old), Err(VerifyError::UnknownKey)));
}

#[test]
fn withdrawn_key_fails_once_the_key_set_is_older_than_max_age() {
    let world = World::new(); // jwks_max_age 1 h
    let old_token = world.customer_access();
    assert!(world.verify(&old_token).is_ok());
    let new_key = SigningKey::generate().unwrap();
    world.source.set(CUSTOMER_ISSUER, JwkSet::from_signing_keys([&new_key]));

    world.clock.advance(3599);
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.exp = NOW + 7200;
    let before = sign(&world.customer_key, &claims).unwrap();
    assert!(world.verify(&before).is_ok(), "set not yet stale");
    assert_eq!(world.source.fetch_count(), 1);

    world.clock.advance(1);
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.exp = NOW + 7200;
    let after = sign(&world.customer_key, &claims).unwrap();
    assert!(matches!(world.verify(&after), Err(VerifyError::UnknownKey)));
    assert_eq!(world.source.fetch_count(), 2, "stale set refreshed once");
    assert!(matches!(world.verify(&before), Err(VerifyError::UnknownKey)), "cached token forgotten");
}

#[test]
fn unreachable_jwks_keeps_stale_keys_working() {
    let world = World::new();
    assert!(world.verify(&world.customer_access()).is_ok());
    world.source.remove(CUSTOMER_ISSUER);
    world.clock.advance(2 * 3600);
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.exp = NOW + 3 * 3600;
    let token = sign(&world.customer_key, &claims).unwrap();
    assert!(world.verify(&token).is_ok(), "stale but still the best we have");
    assert_eq!(world.source.fetch_count(), 2, "one refresh attempt");

    // A new kid during the outage fails closed, with the fetch error.
    let stranger = SigningKey::generate().unwrap();
    let mut claims = access_claims(CUSTOMER_ISSUER, WEB);
    claims.exp = NOW + 3 * 3600;
    let unknown = sign(&stranger, &claims).unwrap();
    world.clock.advance(10);
    assert!(matches!(world.verify(&unknown), Err(VerifyError::Jwks(_))));
    assert!(matches!(world.verify(&unknown), Err(VerifyError::UnknownKey)));
    world.customer.clear_token_cache();
    assert!(world.verify(&token).is_ok());
}

#[test]
fn hydrate_loads_every_issuer_and_reports_failures() {
    let world = World::new();
    block_on(world.customer.hydrate()).unwrap();
    assert_eq!(world.customer.stats().jwks_fetches, 1);
    assert!(world.verify(&world.customer_access()).is_ok());
    assert_eq!(world.source.fetch_count(), 1);

    world.source.remove(STAFF_ISSUER);
    assert!(matches!(block_on(world.staff.hydrate()), Err(VerifyError::Jwks(_))));
}
