use std::collections::BTreeMap;

use cognigate_engine::model::MfaConfiguration;
use cognigate_engine::{MfaPreference, totp};

use crate::fixture::{Fixture, PASSWORD, START_MS, kind};

pub(crate) fn code_at(secret_base32: &str, unix_secs: u64) -> String {
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret_base32).unwrap();
    totp(&secret, 6).unwrap().generate(unix_secs).to_string()
}

pub(crate) fn now(f: &Fixture) -> u64 {
    let _ = f;
    u64::try_from(START_MS / 1000).unwrap()
}

/// RFC 6238 appendix B, the SHA-1 rows, with the engine's TOTP construction (8 digits there).
#[test]
fn totp_matches_the_rfc_6238_test_vectors() {
    let secret = b"12345678901234567890";
    let generator = totp(secret, 8).unwrap();
    for (time, expected) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(generator.generate(time).to_string(), expected, "t = {time}");
    }
}

#[tokio::test]
async fn totp_enrolment_challenge_and_no_replay() {
    let f = Fixture::new().await;
    f.confirmed_user("mfa@example.com").await;
    let tokens = f.tokens("mfa@example.com").await;
    let (secret, _) = f.engine.associate_software_token(Some(&tokens.access_token), None).await.unwrap();
    assert_eq!(secret.len(), 32, "160-bit secret, base32");
    // A wrong code does not enable MFA.
    let right = code_at(&secret, now(&f));
    let wrong = crate::fixture::other_code(&right);
    assert_eq!(
        kind(f.engine.verify_software_token(Some(&tokens.access_token), None, &wrong).await),
        "EnableSoftwareTokenMFAException"
    );
    f.engine.verify_software_token(Some(&tokens.access_token), None, &right).await.unwrap();

    // Next login: password then the TOTP challenge.
    f.clock.advance_secs(30);
    let challenge = f.login("mfa@example.com", PASSWORD).await.unwrap();
    assert_eq!(challenge.challenge_name.as_deref(), Some("SOFTWARE_TOKEN_MFA"));
    assert!(challenge.authentication_result.is_none(), "the password alone never yields tokens");
    let session = challenge.session.unwrap();
    let code = code_at(&secret, now(&f) + 30);
    let responses = BTreeMap::from([
        ("USERNAME".to_owned(), "mfa@example.com".to_owned()),
        ("SOFTWARE_TOKEN_MFA_CODE".to_owned(), code.clone()),
    ]);
    let done = f
        .engine
        .respond_to_auth_challenge(&f.client_id, "SOFTWARE_TOKEN_MFA", &session, &responses)
        .await
        .unwrap();
    assert!(done.authentication_result.is_some());

    // The same code again (same step), in a new login: refused.
    let session = f.login("mfa@example.com", PASSWORD).await.unwrap().session.unwrap();
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&f.client_id, "SOFTWARE_TOKEN_MFA", &session, &responses)
                .await
        ),
        "CodeMismatchException"
    );
    // An empty code counts as a failure too; five failures lock the account.
    let empty = BTreeMap::from([
        ("USERNAME".to_owned(), "mfa@example.com".to_owned()),
        ("SOFTWARE_TOKEN_MFA_CODE".to_owned(), String::new()),
    ]);
    for _ in 0..3 {
        let _ =
            f.engine.respond_to_auth_challenge(&f.client_id, "SOFTWARE_TOKEN_MFA", &session, &empty).await;
    }
    let _ = f.engine.respond_to_auth_challenge(&f.client_id, "SOFTWARE_TOKEN_MFA", &session, &empty).await;
    assert_eq!(
        f.login("mfa@example.com", PASSWORD).await.unwrap_err().to_string(),
        "Password attempts exceeded"
    );
}

#[tokio::test]
async fn a_session_of_one_user_cannot_take_another_users_code() {
    let f = Fixture::new().await;
    for email in ["a@example.com", "b@example.com"] {
        f.confirmed_user(email).await;
        let tokens = f.tokens(email).await;
        let (secret, _) = f.engine.associate_software_token(Some(&tokens.access_token), None).await.unwrap();
        f.engine
            .verify_software_token(Some(&tokens.access_token), None, &code_at(&secret, now(&f)))
            .await
            .unwrap();
    }
    f.clock.advance_secs(60);
    let session = f.login("a@example.com", PASSWORD).await.unwrap().session.unwrap();
    let responses = BTreeMap::from([
        ("USERNAME".to_owned(), "b@example.com".to_owned()),
        ("SOFTWARE_TOKEN_MFA_CODE".to_owned(), "123456".to_owned()),
    ]);
    assert_eq!(
        kind(
            f.engine
                .respond_to_auth_challenge(&f.client_id, "SOFTWARE_TOKEN_MFA", &session, &responses)
                .await
        ),
        "NotAuthorizedException"
    );
}

#[tokio::test]
async fn required_mfa_forces_setup_and_cannot_be_turned_off() {
    let f = Fixture::with(|pool| pool.mfa = MfaConfiguration::On, |_| {}).await;
    f.confirmed_user("staff@example.com").await;
    let challenge = f.login("staff@example.com", PASSWORD).await.unwrap();
    assert_eq!(challenge.challenge_name.as_deref(), Some("MFA_SETUP"));
    let (secret, session) =
        f.engine.associate_software_token(None, challenge.session.as_deref()).await.unwrap();
    // A mistyped first code can be typed again in the same session.
    let right = code_at(&secret, now(&f));
    let wrong = if right == "000000" { "000001" } else { "000000" };
    assert_eq!(
        kind(f.engine.verify_software_token(None, session.as_deref(), wrong).await),
        "EnableSoftwareTokenMFAException"
    );
    let session = f.engine.verify_software_token(None, session.as_deref(), &right).await.unwrap().unwrap();
    let responses = BTreeMap::from([("USERNAME".to_owned(), "staff@example.com".to_owned())]);
    let done =
        f.engine.respond_to_auth_challenge(&f.client_id, "MFA_SETUP", &session, &responses).await.unwrap();
    let tokens = done.authentication_result.unwrap();
    assert_eq!(
        kind(
            f.engine
                .set_user_mfa_preference(&tokens.access_token, Some(MfaPreference::default()), None)
                .await
        ),
        "InvalidParameterException"
    );
    f.clock.advance_secs(30);
    assert_eq!(
        f.login("staff@example.com", PASSWORD).await.unwrap().challenge_name.as_deref(),
        Some("SOFTWARE_TOKEN_MFA")
    );
}

#[tokio::test]
async fn optional_mfa_can_be_turned_off_by_the_user() {
    let f = Fixture::new().await;
    f.confirmed_user("opt@example.com").await;
    let tokens = f.tokens("opt@example.com").await;
    let (secret, _) = f.engine.associate_software_token(Some(&tokens.access_token), None).await.unwrap();
    f.engine
        .verify_software_token(Some(&tokens.access_token), None, &code_at(&secret, now(&f)))
        .await
        .unwrap();
    f.engine
        .set_user_mfa_preference(&tokens.access_token, Some(MfaPreference::default()), None)
        .await
        .unwrap();
    assert!(f.login("opt@example.com", PASSWORD).await.unwrap().authentication_result.is_some());
    let user = f.engine.admin_get_user(&f.pool_id, "opt@example.com").await.unwrap();
    assert!(user.user_m_f_a_setting_list.is_empty());
}

#[tokio::test]
async fn sms_mfa_sends_a_code_to_the_outbox_and_checks_it() {
    let f = Fixture::with(|pool| pool.sms_mfa = true, |_| {}).await;
    f.confirmed_user("sms@example.com").await;
    let phone = vec![
        cognigate_engine::api::Attribute { name: "phone_number".into(), value: "+15555550123".into() },
        cognigate_engine::api::Attribute { name: "phone_number_verified".into(), value: "true".into() },
    ];
    let tokens = f.tokens("sms@example.com").await;
    let on = Some(MfaPreference { enabled: true, preferred: true });
    assert_eq!(
        kind(f.engine.set_user_mfa_preference(&tokens.access_token, None, on).await),
        "InvalidParameterException",
        "needs a verified phone"
    );
    f.engine.admin_update_user_attributes(&f.pool_id, "sms@example.com", &phone).await.unwrap();
    f.engine.set_user_mfa_preference(&tokens.access_token, None, on).await.unwrap();

    let challenge = f.login("sms@example.com", PASSWORD).await.unwrap();
    assert_eq!(challenge.challenge_name.as_deref(), Some("SMS_MFA"));
    assert_eq!(challenge.challenge_parameters["CODE_DELIVERY_DESTINATION"], "+*******0123");
    let message = f.engine.outbox(Some("+15555550123"), 1).await.unwrap().remove(0);
    assert_eq!(message.channel, "sms");
    let code = message.body.split_whitespace().last().unwrap().to_owned();
    let session = challenge.session.unwrap();
    let wrong = BTreeMap::from([
        ("USERNAME".to_owned(), "sms@example.com".to_owned()),
        ("SMS_MFA_CODE".to_owned(), crate::fixture::other_code(&code)),
    ]);
    assert_eq!(
        kind(f.engine.respond_to_auth_challenge(&f.client_id, "SMS_MFA", &session, &wrong).await),
        "CodeMismatchException"
    );
    let right = BTreeMap::from([
        ("USERNAME".to_owned(), "sms@example.com".to_owned()),
        ("SMS_MFA_CODE".to_owned(), code.clone()),
    ]);
    let done = f.engine.respond_to_auth_challenge(&f.client_id, "SMS_MFA", &session, &right).await.unwrap();
    assert!(done.authentication_result.is_some());
    // The code was used; a new login needs a new code.
    let session = f.login("sms@example.com", PASSWORD).await.unwrap().session.unwrap();
    let _ = f.engine.respond_to_auth_challenge(&f.client_id, "SMS_MFA", &session, &right).await;
    let user = f.engine.admin_get_user(&f.pool_id, "sms@example.com").await.unwrap();
    assert_eq!(user.preferred_mfa_setting.as_deref(), Some("SMS_MFA"));
}
