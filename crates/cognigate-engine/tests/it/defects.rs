//! The emulator defects of shared/notes/emulators.md, each as a regression test that a peer-like
//! implementation would fail.

use std::collections::BTreeMap;

use cognigate_engine::MessageAction;
use cognigate_engine::model::CodePurpose;
use cognigate_token::{AccessClaims, SigningKey};

use crate::fixture::{Fixture, PASSWORD, kind};

/// Every byte the store wrote for this engine: the database and its WAL.
fn database_bytes(f: &Fixture) -> Vec<u8> {
    let mut bytes = std::fs::read(&f.db_path).unwrap();
    let wal = f.db_path.with_extension("db-wal");
    if let Ok(more) = std::fs::read(wal) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// cognito-local keeps passwords (and codes) in plain text.
#[tokio::test]
async fn passwords_codes_and_totp_secrets_are_never_stored_in_plain_text() {
    let f = Fixture::new().await;
    let sub = f.sign_up("plain@example.com").await;
    let code = f.code_for("plain@example.com").await;
    let stored = f.store.get_code(&f.pool_id, &sub, CodePurpose::SignUp).await.unwrap().unwrap();
    assert!(!stored.code_hash.contains(&code));
    f.engine.confirm_sign_up(&f.client_id, None, "plain@example.com", &code).await.unwrap();
    let tokens = f.tokens("plain@example.com").await;
    let (secret, _) = f.engine.associate_software_token(Some(&tokens.access_token), None).await.unwrap();
    let bytes = database_bytes(&f);
    assert!(!contains(&bytes, PASSWORD.as_bytes()), "the password is in the database file");
    assert!(!contains(&bytes, secret.as_bytes()), "the TOTP secret is in the database file");
    let raw = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &secret).unwrap();
    assert!(!contains(&bytes, &raw));
    let user = f.store.get_user(&f.pool_id, &sub).await.unwrap().unwrap();
    assert!(user.password_hash.unwrap().starts_with("$argon2id$"));
}

/// cognito-local and moto ship one static signing key for every install.
#[tokio::test]
async fn every_installation_and_pool_has_its_own_signing_key() {
    let a = Fixture::new().await;
    let b = Fixture::new().await;
    let key_a = a.engine.jwks(&a.pool_id).await.unwrap().keys.remove(0);
    let key_b = b.engine.jwks(&b.pool_id).await.unwrap().keys.remove(0);
    assert_ne!(key_a.n, key_b.n);
    assert_ne!(key_a.kid, key_b.kid);
    assert!(!key_a.kid.contains("dummy") && !key_a.kid.contains("CognitoLocal"));
}

/// cognito-local accepts a NEW_PASSWORD_REQUIRED answer with any session, taking over the account.
#[tokio::test]
async fn new_password_challenge_needs_the_real_session() {
    let f = Fixture::new().await;
    f.confirmed_user("victim@example.com").await;
    let responses = BTreeMap::from([
        ("USERNAME".to_owned(), "victim@example.com".to_owned()),
        ("NEW_PASSWORD".to_owned(), "Attacker-pass-9".to_owned()),
    ]);
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(
                    &f.client_id,
                    "NEW_PASSWORD_REQUIRED",
                    "made-up-session",
                    &responses
                )
                .await
        ),
        "NotAuthorizedException"
    );
    // Nor does a real session for another user work for the victim.
    f.engine
        .admin_create_user(
            &f.pool_id,
            "attacker@example.com",
            &[],
            Some("Temporary-pass-1"),
            MessageAction::Suppress,
        )
        .await
        .unwrap();
    let session = f.login("attacker@example.com", "Temporary-pass-1").await.unwrap().session.unwrap();
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&f.client_id, "NEW_PASSWORD_REQUIRED", &session, &responses)
                .await
        ),
        "NotAuthorizedException"
    );
    assert!(f.login("victim@example.com", PASSWORD).await.is_ok(), "the victim's password is unchanged");
    assert_eq!(kind(f.login("victim@example.com", "Attacker-pass-9").await), "NotAuthorizedException");
}

/// cognito-local decodes access tokens on self-service calls without checking signature or expiry.
#[tokio::test]
async fn self_service_calls_check_the_access_tokens_signature_and_expiry() {
    let f = Fixture::new().await;
    f.confirmed_user("self@example.com").await;
    let tokens = f.tokens("self@example.com").await;
    let claims: AccessClaims =
        serde_json::from_value(serde_json::Value::Object(crate::fixture::claims(&tokens.access_token)))
            .unwrap();
    // The attacker signs the same claims with their own key under the pool's kid.
    let kid = f.engine.jwks(&f.pool_id).await.unwrap().keys.remove(0).kid;
    let attacker = SigningKey::generate().unwrap();
    let attacker = SigningKey::from_pkcs8_der(kid, &attacker.to_pkcs8_der().unwrap()).unwrap();
    let forged = cognigate_token::sign(&attacker, &claims).unwrap();
    assert_eq!(kind(f.engine.get_user(&forged).await), "NotAuthorizedException");
    // A tampered payload with the original signature.
    let mut parts: Vec<String> = tokens.access_token.split('.').map(str::to_owned).collect();
    let mut payload = crate::fixture::claims(&tokens.access_token);
    payload.insert("username".into(), "admin@example.com".into());
    use base64::Engine as _;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    assert_eq!(kind(f.engine.get_user(&parts.join(".")).await), "NotAuthorizedException");
    // An ID token is not an access token.
    assert_eq!(kind(f.engine.get_user(&tokens.id_token).await), "NotAuthorizedException");
    // Expired.
    f.engine.get_user(&tokens.access_token).await.unwrap();
    f.clock.advance_secs(3600 + 60);
    assert_eq!(kind(f.engine.get_user(&tokens.access_token).await), "NotAuthorizedException");
}

/// moto accepts any confirmation or reset code.
#[tokio::test]
async fn made_up_codes_are_refused() {
    let f = Fixture::new().await;
    f.sign_up("codes@example.com").await;
    let code = f.code_for("codes@example.com").await;
    let guess = crate::fixture::other_code(&code);
    assert_eq!(
        kind(f.engine.confirm_sign_up(&f.client_id, None, "codes@example.com", &guess).await),
        "CodeMismatchException"
    );
    assert_eq!(
        kind(
            f.engine
                .confirm_sign_up(&f.client_id, None, "codes@example.com", "moto-confirmation-code:123456")
                .await
        ),
        "CodeMismatchException"
    );
    f.engine.confirm_sign_up(&f.client_id, None, "codes@example.com", &code).await.unwrap();
    f.engine.forgot_password(&f.client_id, None, "codes@example.com").await.unwrap();
    let reset = f.code_for("codes@example.com").await;
    assert_eq!(
        kind(
            f.engine
                .confirm_forgot_password(
                    &f.client_id,
                    None,
                    "codes@example.com",
                    &crate::fixture::other_code(&reset),
                    "Taken-over-99"
                )
                .await
        ),
        "CodeMismatchException"
    );
    assert!(f.login("codes@example.com", PASSWORD).await.is_ok());
}

/// cognito-local and LocalStack still issue tokens to disabled users.
#[tokio::test]
async fn disabled_users_get_nothing() {
    let f = Fixture::new().await;
    f.confirmed_user("disabled@example.com").await;
    f.engine.admin_disable_user(&f.pool_id, "disabled@example.com").await.unwrap();
    assert!(f.login("disabled@example.com", PASSWORD).await.is_err());
    let parameters = BTreeMap::from([
        ("USERNAME".to_owned(), "disabled@example.com".to_owned()),
        ("PASSWORD".to_owned(), PASSWORD.to_owned()),
    ]);
    assert!(
        f.engine
            .admin_initiate_auth(&f.pool_id, &f.client_id, "ADMIN_USER_PASSWORD_AUTH", &parameters)
            .await
            .is_err()
    );
}
