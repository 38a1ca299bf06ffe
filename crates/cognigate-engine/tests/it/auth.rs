use std::collections::BTreeMap;

use cognigate_engine::MessageAction;
use cognigate_engine::api::Attribute;

use crate::fixture::{Fixture, PASSWORD, kind};

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let f = Fixture::new().await;
    f.confirmed_user("known@example.com").await;
    let unknown = f.login("nobody@example.com", PASSWORD).await.unwrap_err();
    let wrong = f.login("known@example.com", "Wrong-password-1").await.unwrap_err();
    assert_eq!((unknown.cognito_type(), unknown.to_string()), (wrong.cognito_type(), wrong.to_string()));
    assert_eq!(wrong.cognito_type(), "NotAuthorizedException");
    // Forgot-password and resend answer as if the user existed.
    let delivery = f.engine.forgot_password(&f.client_id, None, "nobody@example.com").await.unwrap();
    assert_eq!(delivery.delivery_medium, "EMAIL");
    assert!(f.store.list_outbox(Some("nobody@example.com"), 5).await.unwrap().is_empty(), "nothing is sent");
    f.engine.resend_confirmation_code(&f.client_id, None, "nobody@example.com").await.unwrap();
    assert_eq!(
        kind(f.engine.confirm_sign_up(&f.client_id, None, "nobody@example.com", "123456").await),
        "CodeMismatchException"
    );
}

#[tokio::test]
async fn without_existence_protection_cognitos_not_found_errors_come_back() {
    let f = Fixture::with(|_| {}, |client| client.prevent_user_existence_errors = false).await;
    assert_eq!(kind(f.login("nobody@example.com", PASSWORD).await), "UserNotFoundException");
    assert_eq!(
        kind(f.engine.forgot_password(&f.client_id, None, "nobody@example.com").await),
        "UserNotFoundException"
    );
}

#[tokio::test]
async fn status_and_disabled_users() {
    let f = Fixture::new().await;
    f.sign_up("pending@example.com").await;
    assert_eq!(kind(f.login("pending@example.com", PASSWORD).await), "UserNotConfirmedException");
    assert_eq!(kind(f.login("pending@example.com", "Wrong-password-1").await), "NotAuthorizedException");

    f.confirmed_user("off@example.com").await;
    let tokens = f.tokens("off@example.com").await;
    f.engine.admin_disable_user(&f.pool_id, "off@example.com").await.unwrap();
    let error = f.login("off@example.com", PASSWORD).await.unwrap_err();
    assert_eq!(error.to_string(), "User is disabled.");
    assert_eq!(
        f.login("off@example.com", "Wrong-password-1").await.unwrap_err().to_string(),
        "Incorrect username or password."
    );
    // Everything issued before is dead: refresh, and access tokens on self-service calls.
    assert_eq!(
        kind(f.refresh(&f.client_id, tokens.refresh_token.as_deref().unwrap()).await),
        "NotAuthorizedException"
    );
    assert_eq!(kind(f.engine.get_user(&tokens.access_token).await), "NotAuthorizedException");
    f.engine.admin_enable_user(&f.pool_id, "off@example.com").await.unwrap();
    assert!(f.login("off@example.com", PASSWORD).await.is_ok());
    assert_eq!(
        kind(f.refresh(&f.client_id, tokens.refresh_token.as_deref().unwrap()).await),
        "NotAuthorizedException",
        "re-enabling does not revive old sessions"
    );
}

#[tokio::test]
async fn lockout_after_repeated_failures_then_release() {
    let f = Fixture::new().await;
    f.confirmed_user("lock@example.com").await;
    for _ in 0..5 {
        assert_eq!(kind(f.login("lock@example.com", "Wrong-password-1").await), "NotAuthorizedException");
    }
    let locked = f.login("lock@example.com", PASSWORD).await.unwrap_err();
    assert_eq!(
        locked.to_string(),
        "Password attempts exceeded",
        "the right password does not help while locked"
    );
    f.clock.advance_secs(30 * 60 + 1);
    assert!(f.login("lock@example.com", PASSWORD).await.unwrap().authentication_result.is_some());
}

#[tokio::test]
async fn secret_hash_is_required_and_checked() {
    let f = Fixture::with(|_| {}, |client| client.generate_secret = true).await;
    let client = f.engine.describe_user_pool_client(&f.pool_id, &f.client_id).await.unwrap();
    let secret = f.engine.client_secret(&client).unwrap().unwrap();
    f.store.put_client(&client).await.unwrap();
    let mut request = cognigate_engine::api::SignUpRequest {
        client_id: f.client_id.clone(),
        secret_hash: None,
        username: "s@example.com".into(),
        password: PASSWORD.into(),
        user_attributes: vec![],
    };
    assert_eq!(kind(f.engine.sign_up(request.clone()).await), "NotAuthorizedException");
    request.secret_hash = Some(cognigate_engine::secret_hash(b"wrong", "s@example.com", &f.client_id));
    assert_eq!(kind(f.engine.sign_up(request.clone()).await), "NotAuthorizedException");
    request.secret_hash =
        Some(cognigate_engine::secret_hash(secret.as_bytes(), "s@example.com", &f.client_id));
    f.engine.sign_up(request).await.unwrap();
    f.engine.admin_confirm_sign_up(&f.pool_id, "s@example.com").await.unwrap();
    let mut parameters = BTreeMap::from([
        ("USERNAME".to_owned(), "s@example.com".to_owned()),
        ("PASSWORD".to_owned(), PASSWORD.to_owned()),
    ]);
    assert_eq!(
        kind(f.engine.initiate_auth(&f.client_id, "USER_PASSWORD_AUTH", &parameters).await),
        "NotAuthorizedException"
    );
    parameters.insert(
        "SECRET_HASH".into(),
        cognigate_engine::secret_hash(secret.as_bytes(), "s@example.com", &f.client_id),
    );
    assert!(f.engine.initiate_auth(&f.client_id, "USER_PASSWORD_AUTH", &parameters).await.is_ok());
}

#[tokio::test]
async fn only_the_clients_allowed_flows_work() {
    let f =
        Fixture::with(|_| {}, |client| client.explicit_auth_flows = vec!["ALLOW_REFRESH_TOKEN_AUTH".into()])
            .await;
    f.confirmed_user("flow@example.com").await;
    assert_eq!(kind(f.login("flow@example.com", PASSWORD).await), "InvalidParameterException");
    let parameters = BTreeMap::from([
        ("USERNAME".to_owned(), "flow@example.com".to_owned()),
        ("PASSWORD".to_owned(), PASSWORD.to_owned()),
    ]);
    assert_eq!(
        kind(
            f.engine
                .admin_initiate_auth(&f.pool_id, &f.client_id, "ADMIN_USER_PASSWORD_AUTH", &parameters)
                .await
        ),
        "InvalidParameterException"
    );
}

#[tokio::test]
async fn refresh_keeps_the_login_and_is_bound_to_its_client() {
    let f = Fixture::new().await;
    f.confirmed_user("r@example.com").await;
    let first = f.tokens("r@example.com").await;
    let refresh_token = first.refresh_token.clone().unwrap();
    f.clock.advance_secs(600);
    let refreshed = f.refresh(&f.client_id, &refresh_token).await.unwrap().authentication_result.unwrap();
    assert!(refreshed.refresh_token.is_none(), "REFRESH_TOKEN_AUTH returns no new refresh token");
    let before = crate::fixture::claims(&first.access_token);
    let after = crate::fixture::claims(&refreshed.access_token);
    assert_eq!(before["origin_jti"], after["origin_jti"]);
    assert_eq!(before["auth_time"], after["auth_time"], "auth_time is the original login");
    assert_ne!(before["jti"], after["jti"]);

    let (other, _) = f
        .engine
        .create_user_pool_client(&f.pool_id, cognigate_engine::NewClient::with_defaults("other"))
        .await
        .unwrap();
    assert_eq!(kind(f.refresh(&other.id, &refresh_token).await), "NotAuthorizedException");
    assert_eq!(kind(f.refresh(&f.client_id, "not-a-token").await), "NotAuthorizedException");
}

#[tokio::test]
async fn global_sign_out_ends_every_session() {
    let f = Fixture::new().await;
    f.confirmed_user("out@example.com").await;
    let a = f.tokens("out@example.com").await;
    let b = f.tokens("out@example.com").await;
    f.engine.get_user(&a.access_token).await.unwrap();
    f.engine.global_sign_out(&a.access_token).await.unwrap();
    for tokens in [&a, &b] {
        assert_eq!(
            f.engine.get_user(&tokens.access_token).await.unwrap_err().to_string(),
            "Access Token has been revoked"
        );
        assert_eq!(
            kind(f.refresh(&f.client_id, tokens.refresh_token.as_deref().unwrap()).await),
            "NotAuthorizedException"
        );
    }
    // A new login works.
    let c = f.tokens("out@example.com").await;
    f.engine.get_user(&c.access_token).await.unwrap();
}

#[tokio::test]
async fn revoke_token_ends_one_session_only() {
    let f = Fixture::new().await;
    f.confirmed_user("rv@example.com").await;
    let a = f.tokens("rv@example.com").await;
    let b = f.tokens("rv@example.com").await;
    f.engine.revoke_token(&f.client_id, a.refresh_token.as_deref().unwrap(), None).await.unwrap();
    assert_eq!(
        kind(f.refresh(&f.client_id, a.refresh_token.as_deref().unwrap()).await),
        "NotAuthorizedException"
    );
    assert_eq!(kind(f.engine.get_user(&a.access_token).await), "NotAuthorizedException");
    f.engine.get_user(&b.access_token).await.unwrap();
    assert!(f.refresh(&f.client_id, b.refresh_token.as_deref().unwrap()).await.is_ok());
}

#[tokio::test]
async fn rotation_replaces_the_refresh_token_and_a_reused_one_revokes_the_family() {
    let f = Fixture::with(
        |_| {},
        |client| {
            client.refresh_token_rotation = true;
            client.rotation_grace_secs = 10;
        },
    )
    .await;
    f.confirmed_user("rot@example.com").await;
    let first = f.tokens("rot@example.com").await.refresh_token.unwrap();
    assert_eq!(
        kind(f.refresh(&f.client_id, &first).await),
        "NotAuthorizedException",
        "REFRESH_TOKEN_AUTH is refused with rotation"
    );
    let second = f
        .engine
        .get_tokens_from_refresh_token(&f.client_id, &first, None)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    assert_ne!(first, second);
    // Inside the grace period the old token still answers (a retried request).
    let retried = f.engine.get_tokens_from_refresh_token(&f.client_id, &first, None).await.unwrap();
    assert!(retried.refresh_token.is_some());
    // After it, reuse is theft: the whole family dies, the newest token included.
    f.clock.advance_secs(11);
    assert_eq!(
        kind(f.engine.get_tokens_from_refresh_token(&f.client_id, &first, None).await),
        "NotAuthorizedException"
    );
    assert_eq!(
        kind(f.engine.get_tokens_from_refresh_token(&f.client_id, &second, None).await),
        "NotAuthorizedException"
    );
}

/// Rotation replaces the token, not the sign-in: the last token of a family expires when the first would
/// have (Cognito's refresh-token validity counts from the authentication), so refreshing forever does not
/// keep a stolen sign-in alive.
#[tokio::test]
async fn rotated_refresh_tokens_keep_the_sign_ins_expiry() {
    let f = Fixture::with(
        |_| {},
        |client| {
            client.refresh_token_rotation = true;
            client.rotation_grace_secs = 0;
            client.refresh_token_validity_secs = 3600;
        },
    )
    .await;
    f.confirmed_user("slide@example.com").await;
    let mut token = f.tokens("slide@example.com").await.refresh_token.unwrap();
    for _ in 0..5 {
        f.clock.advance_secs(600);
        token = f
            .engine
            .get_tokens_from_refresh_token(&f.client_id, &token, None)
            .await
            .unwrap()
            .refresh_token
            .unwrap();
    }
    // 50 minutes in: the newest token still works until the hour of the sign-in is over.
    f.clock.advance_secs(590);
    token = f
        .engine
        .get_tokens_from_refresh_token(&f.client_id, &token, None)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    f.clock.advance_secs(11);
    assert_eq!(
        kind(f.engine.get_tokens_from_refresh_token(&f.client_id, &token, None).await),
        "NotAuthorizedException",
        "an hour after the sign-in, the family is over however recently it rotated"
    );
}

#[tokio::test]
async fn new_password_challenge_for_invited_users() {
    let f = Fixture::new().await;
    f.engine
        .admin_create_user(
            &f.pool_id,
            "new@example.com",
            &[],
            Some("Temporary-pass-1"),
            MessageAction::Suppress,
        )
        .await
        .unwrap();
    let challenge = f.login("new@example.com", "Temporary-pass-1").await.unwrap();
    assert_eq!(challenge.challenge_name.as_deref(), Some("NEW_PASSWORD_REQUIRED"));
    let session = challenge.session.unwrap();
    let mut responses = BTreeMap::from([
        ("USERNAME".to_owned(), "new@example.com".to_owned()),
        ("NEW_PASSWORD".to_owned(), "weak".to_owned()),
    ]);
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&f.client_id, "NEW_PASSWORD_REQUIRED", &session, &responses)
                .await
        ),
        "InvalidPasswordException"
    );
    responses.insert("NEW_PASSWORD".into(), "Chosen-password-2".into());
    let done = f
        .engine
        .respond_to_auth_challenge(&f.client_id, "NEW_PASSWORD_REQUIRED", &session, &responses)
        .await
        .unwrap();
    assert!(done.authentication_result.is_some());
    // Single use.
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&f.client_id, "NEW_PASSWORD_REQUIRED", &session, &responses)
                .await
        ),
        "NotAuthorizedException"
    );
    assert!(f.login("new@example.com", "Chosen-password-2").await.unwrap().authentication_result.is_some());
    assert_eq!(kind(f.login("new@example.com", "Temporary-pass-1").await), "NotAuthorizedException");
}

#[tokio::test]
async fn challenge_sessions_expire_and_belong_to_their_client() {
    let f = Fixture::new().await;
    f.engine
        .admin_create_user(
            &f.pool_id,
            "x@example.com",
            &[],
            Some("Temporary-pass-1"),
            MessageAction::Suppress,
        )
        .await
        .unwrap();
    let responses = BTreeMap::from([
        ("USERNAME".to_owned(), "x@example.com".to_owned()),
        ("NEW_PASSWORD".to_owned(), "Chosen-password-2".to_owned()),
    ]);
    let session = f.login("x@example.com", "Temporary-pass-1").await.unwrap().session.unwrap();
    f.clock.advance_secs(181);
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&f.client_id, "NEW_PASSWORD_REQUIRED", &session, &responses)
                .await
        ),
        "NotAuthorizedException"
    );
    let session = f.login("x@example.com", "Temporary-pass-1").await.unwrap().session.unwrap();
    let (other, _) = f
        .engine
        .create_user_pool_client(&f.pool_id, cognigate_engine::NewClient::with_defaults("other"))
        .await
        .unwrap();
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&other.id, "NEW_PASSWORD_REQUIRED", &session, &responses)
                .await
        ),
        "NotAuthorizedException"
    );
}

#[tokio::test]
async fn temporary_passwords_expire() {
    let f = Fixture::new().await;
    f.engine
        .admin_create_user(
            &f.pool_id,
            "late@example.com",
            &[],
            Some("Temporary-pass-1"),
            MessageAction::Suppress,
        )
        .await
        .unwrap();
    f.clock.advance_secs(8 * 86_400);
    assert!(
        f.login("late@example.com", "Temporary-pass-1")
            .await
            .unwrap_err()
            .to_string()
            .contains("Temporary password has expired")
    );
}

#[tokio::test]
async fn forgot_password_resets_and_ends_sessions_but_keeps_disabled_users_out() {
    let f = Fixture::new().await;
    f.confirmed_user("fp@example.com").await;
    let tokens = f.tokens("fp@example.com").await;
    f.engine.forgot_password(&f.client_id, None, "fp@example.com").await.unwrap();
    let code = f.code_for("fp@example.com").await;
    assert_eq!(
        kind(f.engine.confirm_forgot_password(&f.client_id, None, "fp@example.com", &code, "weak").await),
        "InvalidPasswordException"
    );
    assert_eq!(
        kind(
            f.engine
                .confirm_forgot_password(
                    &f.client_id,
                    None,
                    "fp@example.com",
                    &crate::fixture::other_code(&code),
                    "New-password-22"
                )
                .await
        ),
        "CodeMismatchException"
    );
    f.engine
        .confirm_forgot_password(&f.client_id, None, "fp@example.com", &code, "New-password-22")
        .await
        .unwrap();
    assert_eq!(kind(f.login("fp@example.com", PASSWORD).await), "NotAuthorizedException");
    assert!(f.login("fp@example.com", "New-password-22").await.is_ok());
    assert_eq!(
        kind(f.refresh(&f.client_id, tokens.refresh_token.as_deref().unwrap()).await),
        "NotAuthorizedException"
    );
    // A code is used once.
    assert_eq!(
        kind(
            f.engine
                .confirm_forgot_password(&f.client_id, None, "fp@example.com", &code, "Other-password-33")
                .await
        ),
        "ExpiredCodeException"
    );

    f.confirmed_user("dis@example.com").await;
    f.engine.admin_disable_user(&f.pool_id, "dis@example.com").await.unwrap();
    f.engine.forgot_password(&f.client_id, None, "dis@example.com").await.unwrap();
    let code = f.code_for("dis@example.com").await;
    f.engine
        .confirm_forgot_password(&f.client_id, None, "dis@example.com", &code, "New-password-22")
        .await
        .unwrap();
    assert_eq!(
        f.login("dis@example.com", "New-password-22").await.unwrap_err().to_string(),
        "User is disabled."
    );
}

#[tokio::test]
async fn change_password_checks_the_old_one_and_revokes() {
    let f = Fixture::new().await;
    f.confirmed_user("cp@example.com").await;
    let tokens = f.tokens("cp@example.com").await;
    assert_eq!(
        kind(f.engine.change_password(&tokens.access_token, "Wrong-password-1", "New-password-22").await),
        "NotAuthorizedException"
    );
    assert_eq!(
        kind(f.engine.change_password(&tokens.access_token, PASSWORD, "weak").await),
        "InvalidPasswordException"
    );
    f.engine.change_password(&tokens.access_token, PASSWORD, "New-password-22").await.unwrap();
    assert_eq!(kind(f.engine.get_user(&tokens.access_token).await), "NotAuthorizedException");
    assert!(f.login("cp@example.com", "New-password-22").await.is_ok());
}

#[tokio::test]
async fn admin_set_and_reset_password() {
    let f = Fixture::new().await;
    f.confirmed_user("adm@example.com").await;
    f.engine.admin_set_user_password(&f.pool_id, "adm@example.com", "Set-by-admin-3", false).await.unwrap();
    assert_eq!(
        f.login("adm@example.com", "Set-by-admin-3").await.unwrap().challenge_name.as_deref(),
        Some("NEW_PASSWORD_REQUIRED")
    );
    f.engine.admin_set_user_password(&f.pool_id, "adm@example.com", "Set-by-admin-4", true).await.unwrap();
    assert!(f.login("adm@example.com", "Set-by-admin-4").await.unwrap().authentication_result.is_some());
    f.engine.admin_reset_user_password(&f.pool_id, "adm@example.com").await.unwrap();
    // The right password learns that a reset is needed; a wrong one learns nothing.
    assert_eq!(kind(f.login("adm@example.com", "Set-by-admin-4").await), "PasswordResetRequiredException");
    assert_eq!(kind(f.login("adm@example.com", "Wrong-password-9").await), "NotAuthorizedException");
    let code = f.code_for("adm@example.com").await;
    f.engine
        .confirm_forgot_password(&f.client_id, None, "adm@example.com", &code, "After-reset-5")
        .await
        .unwrap();
    assert!(f.login("adm@example.com", "After-reset-5").await.is_ok());
}

#[tokio::test]
async fn self_service_attribute_updates_stay_within_bounds() {
    let f = Fixture::with(
        |pool| {
            pool.custom_attributes.insert(
                "company_name".into(),
                cognigate_engine::model::CustomAttributeRule {
                    number: false,
                    mutable: true,
                    min_length: Some(2),
                    max_length: Some(10),
                    pattern: None,
                    min: None,
                    max: None,
                },
            );
        },
        |_| {},
    )
    .await;
    f.confirmed_user("me@example.com").await;
    let tokens = f.tokens("me@example.com").await;
    let set = |name: &str, value: &str| vec![Attribute { name: name.into(), value: value.into() }];
    f.engine.update_user_attributes(&tokens.access_token, &set("custom:company_name", "Acme")).await.unwrap();
    assert_eq!(
        kind(f.engine.update_user_attributes(&tokens.access_token, &set("custom:company_name", "A")).await),
        "InvalidParameterException"
    );
    assert_eq!(
        kind(f.engine.update_user_attributes(&tokens.access_token, &set("custom:role", "super_admin")).await),
        "NotAuthorizedException"
    );
    assert_eq!(
        kind(f.engine.update_user_attributes(&tokens.access_token, &set("email_verified", "true")).await),
        "NotAuthorizedException"
    );
    let me = f.engine.get_user(&tokens.access_token).await.unwrap();
    assert!(me.attributes.iter().any(|a| a.name == "custom:company_name" && a.value == "Acme"));
    assert!(!me.attributes.iter().any(|a| a.name == "custom:role"));
}

#[tokio::test]
async fn a_new_email_counts_only_once_verified() {
    let f = Fixture::new().await;
    f.confirmed_user("old@example.com").await;
    f.confirmed_user("taken@example.com").await;
    let tokens = f.tokens("old@example.com").await;
    let set = |value: &str| vec![Attribute { name: "email".into(), value: value.into() }];
    assert_eq!(
        kind(f.engine.update_user_attributes(&tokens.access_token, &set("taken@example.com")).await),
        "AliasExistsException"
    );
    let delivery = f
        .engine
        .update_user_attributes(&tokens.access_token, &set("new@example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.attribute_name, "email");
    // Until verified, the old address is the account.
    assert!(f.login("old@example.com", PASSWORD).await.is_ok());
    assert_eq!(kind(f.login("new@example.com", PASSWORD).await), "NotAuthorizedException");
    let code = f.code_for("new@example.com").await;
    assert_eq!(
        kind(
            f.engine
                .verify_user_attribute(&tokens.access_token, "email", &crate::fixture::other_code(&code))
                .await
        ),
        "CodeMismatchException"
    );
    f.engine.verify_user_attribute(&tokens.access_token, "email", &code).await.unwrap();
    assert!(f.login("new@example.com", PASSWORD).await.is_ok());
    assert_eq!(kind(f.login("old@example.com", PASSWORD).await), "NotAuthorizedException");
    let me = f.engine.admin_get_user(&f.pool_id, "new@example.com").await.unwrap();
    assert!(me.attributes.iter().any(|a| a.name == "email_verified" && a.value == "true"));
}

#[tokio::test]
async fn guessing_reset_codes_ends_the_code_but_never_locks_the_owner_out() {
    let f = Fixture::new().await;
    f.confirmed_user("guess@example.com").await;
    f.engine.forgot_password(&f.client_id, None, "guess@example.com").await.unwrap();
    let right = f.code_for("guess@example.com").await;
    let wrong = if right == "000000" { "000001" } else { "000000" };
    let mut answers = Vec::new();
    for _ in 0..5 {
        let result = f
            .engine
            .confirm_forgot_password(&f.client_id, None, "guess@example.com", wrong, "Stolen-pass-9")
            .await;
        answers.push(kind(result));
    }
    assert_eq!(answers[..4], ["CodeMismatchException"; 4]);
    assert_eq!(answers[4], "LimitExceededException");
    // The code is dead, even the right one; the owner's password still signs in.
    let after = f
        .engine
        .confirm_forgot_password(&f.client_id, None, "guess@example.com", &right, "Stolen-pass-9")
        .await;
    assert_eq!(kind(after), "LimitExceededException");
    assert!(f.login("guess@example.com", PASSWORD).await.unwrap().authentication_result.is_some());
}
