//! The engine's part of the 2026-12-07 security audit (shared/notes/security-audit.md), finding by finding,
//! driven the way the audit drove it: Cognito's operations, called as a wire client calls them.

use std::collections::BTreeMap;
use std::sync::Arc;

use cognigate_engine::model::MfaConfiguration;
use cognigate_engine::wire::{Caller, SignedRequest, WireAccess, dispatch};
use cognigate_engine::{EngineError, MfaPreference};
use cognigate_token::{Audience, StaticJwksSource, Verifier};

use crate::fixture::{Fixture, PASSWORD, START_MS, engine_over, kind, other_code};
use crate::mfa::{code_at, now};

const NEW_PASSWORD: &str = "Stolen-pass-9";

async fn reset(f: &Fixture, email: &str, code: &str) -> Result<(), EngineError> {
    f.engine.confirm_forgot_password(&f.client_id, None, email, code, NEW_PASSWORD).await
}

/// F1: every ForgotPassword used to re-arm five guesses on a fresh code. Now guesses are counted across
/// codes (ten an hour) and codes are throttled (five an hour), so the loop of the audit stops.
#[tokio::test]
async fn f01_reissued_reset_codes_do_not_rearm_guesses() {
    let f = Fixture::new().await;
    f.confirmed_user("victim@example.com").await;
    let mut answers = Vec::new();
    let mut last_right = String::new();
    for _ in 0..3 {
        f.engine.forgot_password(&f.client_id, None, "victim@example.com").await.unwrap();
        last_right = f.code_for("victim@example.com").await;
        for _ in 0..5 {
            answers.push(kind(reset(&f, "victim@example.com", &other_code(&last_right)).await));
        }
    }
    let mismatches = answers.iter().filter(|a| **a == "CodeMismatchException").count();
    assert!(mismatches <= 8, "at most ten wrong guesses an hour reach a code: {answers:?}");
    assert_eq!(answers.last().copied(), Some("LimitExceededException"));
    assert_eq!(
        kind(reset(&f, "victim@example.com", &last_right).await),
        "LimitExceededException",
        "once the hour's guesses are spent, even the right code waits"
    );
    // Codes themselves: five an hour.
    let g = Fixture::new().await;
    g.confirmed_user("spam@example.com").await;
    for _ in 0..5 {
        g.engine.forgot_password(&g.client_id, None, "spam@example.com").await.unwrap();
    }
    assert_eq!(
        kind(g.engine.forgot_password(&g.client_id, None, "spam@example.com").await),
        "LimitExceededException"
    );
    // An hour later the owner can reset again.
    f.clock.advance_secs(3601);
    f.engine.forgot_password(&f.client_id, None, "victim@example.com").await.unwrap();
    let code = f.code_for("victim@example.com").await;
    reset(&f, "victim@example.com", &code).await.unwrap();
    assert!(f.login("victim@example.com", NEW_PASSWORD).await.unwrap().authentication_result.is_some());
}

/// F1 and F8 on the wire: a name nobody has is answered and throttled exactly like a real one, so
/// neither the answers nor the limits say which exists.
#[tokio::test]
async fn unknown_names_get_the_same_answers_and_the_same_limits() {
    let f = Fixture::new().await;
    f.confirmed_user("real@example.com").await;
    let mut trails = Vec::new();
    for email in ["real@example.com", "nobody@example.com"] {
        let mut trail = Vec::new();
        for _ in 0..6 {
            let sent = f.engine.forgot_password(&f.client_id, None, email).await;
            trail.push(sent.map(|d| d.delivery_medium).map_err(|e| e.cognito_type()));
        }
        for _ in 0..11 {
            trail
                .push(reset(&f, email, "000000").await.map(|()| String::new()).map_err(|e| e.cognito_type()));
        }
        trails.push(trail);
    }
    // The real account's code is random: "000000" is (all but certainly) wrong for both.
    assert_eq!(trails[0], trails[1]);
    assert!(f.store.list_outbox(Some("nobody@example.com"), 5).await.unwrap().is_empty(), "nothing is sent");
    // Confirming sign-up: a made-up name is refused the way a wrong code is, and throttled the same.
    f.sign_up("pending@example.com").await;
    let mut trails = Vec::new();
    for email in ["pending@example.com", "nobody2@example.com"] {
        f.engine.resend_confirmation_code(&f.client_id, None, email).await.unwrap();
        let trail: Vec<&str> =
            futures_lite(12, || f.engine.confirm_sign_up(&f.client_id, None, email, "000000"))
                .await
                .into_iter()
                .map(kind)
                .collect();
        trails.push(trail);
    }
    assert_eq!(trails[0], trails[1]);
}

/// Runs `make` `n` times one after the other and collects the results.
async fn futures_lite<F, Fut, T>(n: usize, make: F) -> Vec<Result<T, EngineError>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, EngineError>>,
{
    let mut results = Vec::new();
    for _ in 0..n {
        results.push(make().await);
    }
    results
}

/// F5: five wrong passwords locked anyone out for 30 minutes, and the owner's reset was refused while
/// locked. The reset with the emailed code now works and lifts the lock.
#[tokio::test]
async fn f05_a_reset_with_the_emailed_code_works_while_locked_and_lifts_the_lock() {
    let f = Fixture::new().await;
    f.confirmed_user("owner@example.com").await;
    for _ in 0..8 {
        let _ = f.login("owner@example.com", "Wrong-password-1").await;
    }
    assert_eq!(
        f.login("owner@example.com", PASSWORD).await.unwrap_err().to_string(),
        "Password attempts exceeded"
    );
    f.engine.forgot_password(&f.client_id, None, "owner@example.com").await.unwrap();
    let code = f.code_for("owner@example.com").await;
    reset(&f, "owner@example.com", &code).await.unwrap();
    assert!(f.login("owner@example.com", NEW_PASSWORD).await.unwrap().authentication_result.is_some());
}

/// F5, the engine's own schedule (what SDK clients on the wire meet): Cognito's, 1 s after the fifth
/// failure, doubling with each further one up to the pool's duration; tries during a wait are refused
/// and not counted.
#[tokio::test]
async fn f05_the_engine_lockout_doubles_its_wait_and_ignores_tries_while_waiting() {
    let f = Fixture::new().await;
    f.confirmed_user("slow@example.com").await;
    let wrong = || f.login("slow@example.com", "Wrong-password-1");
    for _ in 0..5 {
        assert_eq!(wrong().await.unwrap_err().to_string(), "Incorrect username or password.");
    }
    let mut waits = Vec::new();
    for _ in 0..4 {
        // Locked now: a try (even the right password) is refused and does not count.
        assert_eq!(
            f.login("slow@example.com", PASSWORD).await.unwrap_err().to_string(),
            "Password attempts exceeded"
        );
        let mut waited = 0;
        while wrong().await.unwrap_err().to_string() == "Password attempts exceeded" {
            f.clock.advance_secs(1);
            waited += 1;
        }
        waits.push(waited);
    }
    assert_eq!(waits, [1, 2, 4, 8]);
}

/// The front door: cognigate's own client skips the engine's per-user lockout (the auth API in front of it
/// keeps one per account and address), so strangers failing on the wire cannot lock the owner out of the
/// service, and failures through the service do not lock wire clients out either.
#[tokio::test]
async fn front_door_clients_are_not_judged_by_the_engine_lockout() {
    let f = Fixture::new().await;
    f.confirmed_user("owner@example.com").await;
    let mut front = cognigate_engine::NewClient::with_defaults("service");
    front.front_door = true;
    let (front, _) = f.engine.create_user_pool_client(&f.pool_id, front).await.unwrap();
    let attempt = |client: String, password: &'static str| {
        let parameters = BTreeMap::from([
            ("USERNAME".to_owned(), "owner@example.com".to_owned()),
            ("PASSWORD".to_owned(), password.to_owned()),
        ]);
        let engine = &f.engine;
        async move { engine.initiate_auth(&client, "USER_PASSWORD_AUTH", &parameters).await }
    };
    for _ in 0..10 {
        let _ = attempt(f.client_id.clone(), "Wrong-password-1").await;
    }
    assert_eq!(
        kind(attempt(f.client_id.clone(), PASSWORD).await),
        "NotAuthorizedException",
        "the wire client waits"
    );
    assert!(attempt(front.id.clone(), PASSWORD).await.unwrap().authentication_result.is_some());
    for _ in 0..10 {
        let _ = attempt(front.id.clone(), "Wrong-password-1").await;
    }
    assert!(attempt(front.id.clone(), PASSWORD).await.unwrap().authentication_result.is_some());
}

async fn enrolled(f: &Fixture, email: &str) -> (String, String) {
    f.confirmed_user(email).await;
    let tokens = f.tokens(email).await;
    let (secret, _) = f.engine.associate_software_token(Some(&tokens.access_token), None).await.unwrap();
    f.engine
        .verify_software_token(Some(&tokens.access_token), None, &code_at(&secret, now(f)))
        .await
        .unwrap();
    (secret, tokens.access_token)
}

async fn totp_sign_in(f: &Fixture, email: &str, code: &str) -> Result<(), EngineError> {
    let session = f.login(email, PASSWORD).await?.session.unwrap_or_default();
    let responses = BTreeMap::from([
        ("USERNAME".to_owned(), email.to_owned()),
        ("SOFTWARE_TOKEN_MFA_CODE".to_owned(), code.to_owned()),
    ]);
    f.engine
        .respond_to_auth_challenge(&f.client_id, "SOFTWARE_TOKEN_MFA", &session, &responses)
        .await
        .map(|_| ())
}

/// F4: AssociateSoftwareToken with a bare access token overwrote the secret in force, so the owner's
/// authenticator stopped working. A new secret now waits until a code from it is verified.
#[tokio::test]
async fn f04_a_new_totp_secret_replaces_nothing_until_it_is_verified() {
    let f = Fixture::new().await;
    let (owners, token) = enrolled(&f, "mfa@example.com").await;
    let (attackers, _) = f.engine.associate_software_token(Some(&token), None).await.unwrap();
    assert_ne!(owners, attackers);
    f.clock.advance_secs(30);
    totp_sign_in(&f, "mfa@example.com", &code_at(&owners, now(&f) + 30)).await.unwrap();
    f.clock.advance_secs(30);
    assert_eq!(
        kind(totp_sign_in(&f, "mfa@example.com", &code_at(&attackers, now(&f) + 60)).await),
        "CodeMismatchException",
        "an unverified secret signs nobody in"
    );
    // Verified, it replaces the old one (Cognito's behaviour; the auth API asks for the current code first).
    f.engine.verify_software_token(Some(&token), None, &code_at(&attackers, now(&f) + 60)).await.unwrap();
    f.clock.advance_secs(60);
    assert_eq!(
        kind(totp_sign_in(&f, "mfa@example.com", &code_at(&owners, now(&f) + 120)).await),
        "CodeMismatchException"
    );
}

/// I10: a staff member whose authenticator is lost could only be deleted and invited again. An
/// administrator may now turn TOTP off even in a pool that requires MFA: the next sign-in enrols anew.
#[tokio::test]
async fn i10_an_administrator_resets_mfa_and_the_next_sign_in_enrols_again() {
    let f = Fixture::with(|pool| pool.mfa = MfaConfiguration::On, |_| {}).await;
    f.confirmed_user("staff@example.com").await;
    let setup = f.login("staff@example.com", PASSWORD).await.unwrap();
    let session = setup.session.unwrap();
    let (secret, session) = f.engine.associate_software_token(None, Some(&session)).await.unwrap();
    let session = f
        .engine
        .verify_software_token(None, session.as_deref(), &code_at(&secret, now(&f)))
        .await
        .unwrap()
        .unwrap();
    let responses = BTreeMap::from([("USERNAME".to_owned(), "staff@example.com".to_owned())]);
    let tokens =
        f.engine.respond_to_auth_challenge(&f.client_id, "MFA_SETUP", &session, &responses).await.unwrap();
    let access = tokens.authentication_result.unwrap().access_token;
    let off = MfaPreference { enabled: false, preferred: false };
    assert_eq!(
        kind(f.engine.set_user_mfa_preference(&access, Some(off), None).await),
        "InvalidParameterException",
        "the user cannot turn required MFA off"
    );
    f.engine.admin_set_user_mfa_preference(&f.pool_id, "staff@example.com", Some(off), None).await.unwrap();
    let next = f.login("staff@example.com", PASSWORD).await.unwrap();
    assert_eq!(next.challenge_name.as_deref(), Some("MFA_SETUP"));
}

/// F6: revocations lived in process memory only. The store keeps every revoked login, and a new process
/// loads them before its verifiers answer.
#[tokio::test]
async fn f06_revocations_survive_a_restart() {
    let f = Fixture::new().await;
    f.confirmed_user("gone@example.com").await;
    let out = f.tokens("gone@example.com").await;
    f.engine.global_sign_out(&out.access_token).await.unwrap();
    let kept = f.tokens("gone@example.com").await;
    f.confirmed_user("deleted@example.com").await;
    let deleted = f.tokens("deleted@example.com").await;
    f.engine.admin_delete_user(&f.pool_id, "deleted@example.com").await.unwrap();

    let restarted = engine_over(f.store.clone(), f.clock.clone());
    assert!(restarted.restore_revocations().await.unwrap() >= 2);
    let issuer = restarted.issuer(&f.pool_id);
    let verifier = Verifier::builder(Arc::new(StaticJwksSource::with_set(
        issuer.clone(),
        restarted.jwks(&f.pool_id).await.unwrap(),
    )))
    .audience(Audience::access(issuer, [f.client_id.clone()]))
    .clock(Arc::new(crate::tokens::At(u64::try_from(START_MS / 1000).unwrap() + 5)))
    .revocation(restarted.revocations())
    .build()
    .unwrap();
    assert!(verifier.verify(&out.access_token).await.is_err(), "signed out before the restart");
    assert!(verifier.verify(&deleted.access_token).await.is_err(), "deleted before the restart");
    verifier.verify(&kept.access_token).await.unwrap();
}

/// F14: look-alike addresses became separate accounts. The address is normalised (NFKC, lower case) and
/// invisible or mixed-script addresses are refused, at sign-up and wherever a name is looked up.
#[tokio::test]
async fn f14_look_alike_addresses_are_refused_and_variants_fold() {
    let f = Fixture::new().await;
    f.confirmed_user("alice@example.com").await;
    for spoof in ["alice\u{200B}@example.com", "\u{0430}lice@example.com", "ali\u{202E}ce@example.com"] {
        let request = cognigate_engine::api::SignUpRequest {
            client_id: f.client_id.clone(),
            secret_hash: None,
            username: spoof.to_owned(),
            password: PASSWORD.to_owned(),
            user_attributes: vec![],
        };
        assert_eq!(kind(f.engine.sign_up(request).await), "InvalidParameterException", "{spoof:?}");
    }
    for variant in ["ALICE@Example.com", "\u{FF41}lice@example.com"] {
        assert!(f.login(variant, PASSWORD).await.unwrap().authentication_result.is_some(), "{variant:?}");
        let request = cognigate_engine::api::SignUpRequest {
            client_id: f.client_id.clone(),
            secret_hash: None,
            username: variant.to_owned(),
            password: PASSWORD.to_owned(),
            user_attributes: vec![],
        };
        assert_eq!(kind(f.engine.sign_up(request).await), "UsernameExistsException", "{variant:?}");
    }
}

fn wire_caller() -> Caller<'static> {
    Caller {
        loopback: true,
        host_is_loopback: true,
        request: SignedRequest { method: "POST", path: "/", query: "", headers: &[], body: b"" },
    }
}

async fn wire(f: &Fixture, operation: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let access =
        WireAccess { admin_keys: Vec::new(), loopback_admin: true, guarded_pools: Default::default() };
    let target = format!("AWSCognitoIdentityProviderService.{operation}");
    let answer =
        dispatch(&f.engine, &access, &wire_caller(), Some(&target), body.to_string().as_bytes()).await;
    (answer.status, serde_json::from_slice(&answer.body).unwrap())
}

/// F1, F4, F12: the service's own app client is never served over the wire: not by id, not through a
/// token issued to it, not through one of its challenge sessions; other clients of the pool still are.
#[tokio::test]
async fn the_wire_never_serves_a_front_door_client() {
    let f = Fixture::with(|pool| pool.mfa = MfaConfiguration::On, |_| {}).await;
    let mut front = cognigate_engine::NewClient::with_defaults("service");
    front.front_door = true;
    front.generate_secret = true;
    let (front, secret) = f.engine.create_user_pool_client(&f.pool_id, front).await.unwrap();
    let secret = secret.unwrap();
    f.confirmed_user("user@example.com").await;
    let parameters = BTreeMap::from([
        ("USERNAME".to_owned(), "user@example.com".to_owned()),
        ("PASSWORD".to_owned(), PASSWORD.to_owned()),
        (
            "SECRET_HASH".to_owned(),
            cognigate_engine::secret_hash(secret.as_bytes(), "user@example.com", &front.id),
        ),
    ]);
    // In-process (the auth API) the front door works, and hands out an MFA_SETUP session.
    let setup = f.engine.initiate_auth(&front.id, "USER_PASSWORD_AUTH", &parameters).await.unwrap();
    let session = setup.session.unwrap();

    let refused = |(status, body): (u16, serde_json::Value)| {
        assert_eq!((status, body["__type"].as_str()), (400, Some("NotAuthorizedException")), "{body}");
    };
    refused(
        wire(
            &f,
            "InitiateAuth",
            serde_json::json!({
        "ClientId": front.id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": parameters }),
        )
        .await,
    );
    refused(
        wire(
            &f,
            "ForgotPassword",
            serde_json::json!({
        "ClientId": front.id, "Username": "user@example.com", "SecretHash": parameters["SECRET_HASH"] }),
        )
        .await,
    );
    refused(
        wire(
            &f,
            "DescribeUserPoolClient",
            serde_json::json!({ "UserPoolId": f.pool_id, "ClientId": front.id }),
        )
        .await,
    );
    refused(wire(&f, "AssociateSoftwareToken", serde_json::json!({ "Session": session })).await);
    // The session was not used up by the refusal: the service can still finish the enrolment with it.
    f.engine.associate_software_token(None, Some(&session)).await.unwrap();

    // A token issued to the front door is refused too; one of the public client is served.
    let g = Fixture::new().await;
    let mut front = cognigate_engine::NewClient::with_defaults("service");
    front.front_door = true;
    let (front, _) = g.engine.create_user_pool_client(&g.pool_id, front).await.unwrap();
    g.confirmed_user("user@example.com").await;
    let parameters = BTreeMap::from([
        ("USERNAME".to_owned(), "user@example.com".to_owned()),
        ("PASSWORD".to_owned(), PASSWORD.to_owned()),
    ]);
    let front_token = g.engine.initiate_auth(&front.id, "USER_PASSWORD_AUTH", &parameters).await.unwrap();
    let front_token = front_token.authentication_result.unwrap().access_token;
    refused(wire(&g, "GetUser", serde_json::json!({ "AccessToken": front_token })).await);
    refused(wire(&g, "AssociateSoftwareToken", serde_json::json!({ "AccessToken": front_token })).await);
    let public = g.tokens("user@example.com").await.access_token;
    let (status, body) = wire(&g, "GetUser", serde_json::json!({ "AccessToken": public })).await;
    assert_eq!(status, 200, "{body}");
}

/// Outside dev every configured pool is guarded: no client of it is served over the wire, not even one an
/// administrator added, while administration and other pools are.
#[tokio::test]
async fn a_guarded_pool_serves_no_client_operation_over_the_wire() {
    let f = Fixture::new().await;
    f.confirmed_user("user@example.com").await;
    let access = WireAccess {
        admin_keys: Vec::new(),
        loopback_admin: true,
        guarded_pools: [f.pool_id.clone()].into(),
    };
    let call = |operation: &str, body: serde_json::Value| {
        let target = format!("AWSCognitoIdentityProviderService.{operation}");
        let access = &access;
        let engine = &f.engine;
        async move {
            let answer =
                dispatch(engine, access, &wire_caller(), Some(&target), body.to_string().as_bytes()).await;
            (answer.status, serde_json::from_slice::<serde_json::Value>(&answer.body).unwrap())
        }
    };
    // An administrator adds a public client to the guarded pool: that works (administration is signed
    // outside dev), but the client reaches nobody's sign-in.
    let (status, created) = call(
        "CreateUserPoolClient",
        serde_json::json!({ "UserPoolId": f.pool_id, "ClientName": "side-door",
                            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let side_door = created["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    let auth = serde_json::json!({ "ClientId": side_door, "AuthFlow": "USER_PASSWORD_AUTH",
                                   "AuthParameters": { "USERNAME": "user@example.com", "PASSWORD": PASSWORD } });
    for (operation, body) in [
        ("InitiateAuth", auth.clone()),
        ("ForgotPassword", serde_json::json!({ "ClientId": side_door, "Username": "user@example.com" })),
        (
            "SignUp",
            serde_json::json!({ "ClientId": side_door, "Username": "new@example.com", "Password": PASSWORD }),
        ),
        (
            "InitiateAuth",
            serde_json::json!({ "ClientId": f.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                             "AuthParameters": { "USERNAME": "user@example.com", "PASSWORD": PASSWORD } }),
        ),
    ] {
        let (status, body) = call(operation, body).await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("NotAuthorizedException")),
            "{operation}: {body}"
        );
    }
    // A token minted in-process for the pool's client is not usable over the wire either.
    let token = f.tokens("user@example.com").await.access_token;
    let (status, body) = call("GetUser", serde_json::json!({ "AccessToken": token })).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("NotAuthorizedException")), "{body}");
    // Administration of the pool is still served.
    let (status, body) =
        call("AdminGetUser", serde_json::json!({ "UserPoolId": f.pool_id, "Username": "user@example.com" }))
            .await;
    assert_eq!(status, 200, "{body}");
    // A pool nobody configured (a test's own) is served as before.
    let (status, body) = call("CreateUserPool", serde_json::json!({ "PoolName": "scratch" })).await;
    assert_eq!(status, 200, "{body}");
    let scratch = body["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (_, body) = call(
        "CreateUserPoolClient",
        serde_json::json!({ "UserPoolId": scratch, "ClientName": "web", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"] }),
    )
    .await;
    let web = body["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    let (status, body) = call(
        "SignUp",
        serde_json::json!({ "ClientId": web, "Username": "someone@example.com", "Password": PASSWORD }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
