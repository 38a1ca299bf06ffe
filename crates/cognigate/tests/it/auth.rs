//! The auth API end to end: real HTTP against the binary's router and wiring, a real SQLite store, the
//! embedded engine as identity provider — and the same journeys with the pools on the `cognito` provider,
//! talking to a cognigate's wire endpoint through the AWS SDK.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use cognigate_config::PoolKind;
use cognigate_domain::authz::{Principal, StaffIdentity};
use cognigate_domain::onboarding::OnboardingState;
use cognigate_service::auth::{Invitation, RequestMeta};
use cognigate_service::ports::{AuditQuery, AuditStore as _, MirrorStore as _};
use cognigate_token::Clock as _;
use serde_json::{Value, json};

use crate::fixtures::{Pool, Stack, WEBHOOK_SECRET, call, text, totp};

const PASSWORD: &str = "Journey-Pass-1";
const NEW_PASSWORD: &str = "Journey-Pass-2";
const STAFF_PASSWORD: &str = "Staff-Journey-Pass-1!";

fn tokens(body: &Value) -> (String, String, String) {
    (text(body, "accessToken"), text(body, "idToken"), text(body, "refreshToken"))
}

/// Register, confirm with the outbox code, sign in, enrol TOTP, sign in with MFA, refresh, change the
/// password (old tokens refused), sign in again, sign out everywhere (tokens refused).
async fn customer_journey(customer: &Pool, upstream: &Stack, email: &str) {
    let (status, body) = customer.post("register", json!({ "email": email, "password": PASSWORD })).await;
    assert_eq!((status, body["accepted"].as_bool()), (202, Some(true)), "{body}");
    let (status, body) = customer.login(email, PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("NOT_CONFIRMED")), "{body}");

    let code = upstream.code_for(email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = customer.post("confirm", json!({ "email": email, "code": wrong })).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("CODE_MISMATCH")), "{body}");
    let (status, body) = customer.post("confirm", json!({ "email": email, "code": code })).await;
    assert_eq!((status, body["onboardingState"].as_str()), (200, Some("active")), "{body}");

    let (status, body) = customer.login(email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 3600);
    assert_eq!(body["user"]["role"], "individual");
    assert!(body["user"]["permissions"].as_array().unwrap().contains(&json!("profile_manage")));
    let (access, _, _) = tokens(&body);

    let (status, refused) = customer.post_as("totp/setup", &access, None).await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("VALIDATION")), "a bare token does not enrol");
    let (status, setup) =
        customer.post_as("totp/setup", &access, Some(json!({ "password": PASSWORD }))).await;
    assert_eq!(status, 200, "{setup}");
    let secret = text(&setup, "secret");
    assert!(text(&setup, "otpauthUri").starts_with("otpauth://totp/"));
    assert!(text(&setup, "qrSvg").contains("<svg"));
    let png = base64::engine::general_purpose::STANDARD.decode(text(&setup, "qrPngBase64")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let (status, body) =
        customer.post_as("totp/verify", &access, Some(json!({ "code": totp(&secret, -1) }))).await;
    assert_eq!((status, body["mfaEnabled"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(
        body["recoveryCodes"].as_array().map(Vec::len),
        Some(10),
        "recovery codes, shown once: {body}"
    );

    // From now on a second factor is needed; a wrong code is refused (and ends that challenge).
    let (status, body) = customer.login(email, PASSWORD).await;
    assert_eq!(
        (status, text(&body, "challenge").as_str(), body["mfaRequired"].as_bool()),
        (200, "SOFTWARE_TOKEN_MFA", Some(true))
    );
    let bad = json!({ "email": email, "challenge": "SOFTWARE_TOKEN_MFA", "session": body["session"], "code": "000000" });
    let (status, answer) = customer.post("challenge", bad).await;
    assert!(matches!(answer["code"].as_str(), Some("CODE_MISMATCH" | "AUTH_FAILED")), "{status} {answer}");
    let (_, body) = customer.login(email, PASSWORD).await;
    let good = json!({ "email": email, "challenge": "SOFTWARE_TOKEN_MFA", "session": body["session"], "code": totp(&secret, 0) });
    let (status, body) = customer.post("challenge", good).await;
    assert_eq!(status, 200, "{body}");
    let (access, _, refresh) = tokens(&body);
    let username = text(&body["user"], "username");

    let (status, refreshed) =
        customer.post("refresh", json!({ "refreshToken": refresh, "username": username })).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, me) = customer.me(&text(&refreshed, "accessToken")).await;
    assert_eq!((status, me["email"].as_str(), me["mfaEnabled"].as_bool()), (200, Some(email), Some(true)));

    let change = json!({ "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD });
    let (status, body) = customer.post_as("change-password", &access, Some(change)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(customer.me(&access).await.0, 401, "the access token of before the change is refused");
    assert_eq!(customer.me(&text(&refreshed, "accessToken")).await.0, 401);
    let (status, _) =
        customer.post("refresh", json!({ "refreshToken": refresh, "username": username })).await;
    assert_eq!(status, 401, "the refresh token of before the change is refused");
    assert_eq!(customer.login(email, PASSWORD).await.0, 401);

    let (_, body) = customer.login(email, NEW_PASSWORD).await;
    let answer = json!({ "email": email, "challenge": "SOFTWARE_TOKEN_MFA", "session": body["session"], "code": totp(&secret, 1) });
    let (status, body) = customer.post("challenge", answer).await;
    assert_eq!(status, 200, "{body}");
    let (access, _, refresh) = tokens(&body);
    assert_eq!(customer.me(&access).await.0, 200);
    let (status, _) = customer.post_as("sign-out", &access, None).await;
    assert_eq!(status, 200);
    let (status, body) = customer.me(&access).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("AUTH_FAILED")));
    let (status, _) =
        customer.post("refresh", json!({ "refreshToken": refresh, "username": username })).await;
    assert_eq!(status, 401, "sign-out revokes the refresh token");
}

fn invitation(email: &str, role: &str, team: Option<&str>) -> Invitation {
    Invitation {
        email: email.to_owned(),
        role: role.to_owned(),
        team: team.map(str::to_owned),
        attributes: BTreeMap::from([
            ("given_name".to_owned(), "Sam".to_owned()),
            ("family_name".to_owned(), "Staff".to_owned()),
        ]),
        temporary_password: None,
    }
}

/// Invited → new password → forced MFA set-up → tokens with staff lifetimes → sign in with MFA → sign out.
async fn staff_journey(staff: &Pool, customer: &Pool, upstream: &Stack, email: &str) {
    upstream
        .api
        .staff
        .invite_staff(&RequestMeta::default(), None, invitation(email, "admin", None))
        .await
        .unwrap();
    let temporary = upstream.temporary_password_for(email).await;
    let (status, body) = staff.login(email, &temporary).await;
    assert_eq!((status, text(&body, "challenge").as_str()), (200, "NEW_PASSWORD_REQUIRED"), "{body}");
    assert_eq!(body["mfaRequired"], false);
    let answer = json!({ "email": email, "challenge": "NEW_PASSWORD_REQUIRED", "session": body["session"], "newPassword": "short" });
    let (status, refused) = staff.post("challenge", answer).await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("PASSWORD_POLICY")), "{refused}");
    let (_, body) = staff.login(email, &temporary).await;
    let answer = json!({ "email": email, "challenge": "NEW_PASSWORD_REQUIRED", "session": body["session"], "newPassword": STAFF_PASSWORD });
    let (status, body) = staff.post("challenge", answer).await;
    assert_eq!((status, text(&body, "challenge").as_str()), (200, "MFA_SETUP"), "{body}");
    assert_eq!(body["mfaRequired"], true);

    let (status, setup) = staff.post("totp/setup", json!({ "session": body["session"] })).await;
    assert_eq!(status, 200, "{setup}");
    let secret = text(&setup, "secret");
    let verify = json!({ "email": email, "session": setup["session"], "code": totp(&secret, -1) });
    let (status, body) = staff.post("totp/verify", verify).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expiresIn"], 900, "staff access tokens live 15 minutes");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["onboardingState"], "active");
    assert_eq!(body["user"]["mfaEnabled"], true);
    assert!(body["user"]["permissions"].as_array().unwrap().contains(&json!("user_management")));
    assert_eq!(body["recoveryCodes"].as_array().map(Vec::len), Some(10), "{body}");
    let (access, _, _) = tokens(&body);
    assert_eq!(customer.me(&access).await.0, 401, "a staff token is refused on the customer routes");
    let disable = json!({ "password": STAFF_PASSWORD, "code": totp(&secret, 0) });
    let (status, body) = staff.post_as("totp/disable", &access, Some(disable)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "MFA is required for staff");

    let (status, body) = staff.login(email, STAFF_PASSWORD).await;
    assert_eq!((status, text(&body, "challenge").as_str()), (200, "SOFTWARE_TOKEN_MFA"));
    let answer = json!({ "email": email, "challenge": "SOFTWARE_TOKEN_MFA", "session": body["session"], "code": totp(&secret, 0) });
    let (status, body) = staff.post("challenge", answer).await;
    assert_eq!(status, 200, "{body}");
    let (access, _, _) = tokens(&body);
    assert_eq!(staff.me(&access).await.0, 200);
    assert_eq!(staff.post_as("sign-out", &access, None).await.0, 200);
    assert_eq!(staff.me(&access).await.0, 401);
}

#[tokio::test]
async fn customer_journey_on_the_embedded_engine() {
    let stack = Stack::start(&[]).await;
    customer_journey(&Pool::new(&stack.url, "customer"), &stack, "journey@example.com").await;
    // Every step was audited, and no audit event holds a password or a code.
    let events =
        stack.runtime.store.query_audit(&AuditQuery { limit: 1000, ..AuditQuery::default() }).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "auth.register",
        "auth.confirm",
        "auth.login",
        "auth.challenge",
        "auth.refresh",
        "auth.change_password",
        "auth.sign_out",
        "auth.totp_verify",
    ] {
        assert!(actions.contains(&action), "{action} not audited: {actions:?}");
    }
    let all = serde_json::to_string(&events).unwrap();
    for secret in [PASSWORD, NEW_PASSWORD, "eyJ"] {
        assert!(!all.contains(secret), "the audit log holds {secret}");
    }
    assert!(events.iter().all(|e| e.request_id.is_some() && e.address.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn staff_journey_on_the_embedded_engine() {
    let stack = Stack::start(&[]).await;
    staff_journey(
        &Pool::new(&stack.url, "staff"),
        &Pool::new(&stack.url, "customer"),
        &stack,
        "staffer@example.com",
    )
    .await;
}

/// The `cognito` provider against `upstream`'s wire endpoint, for both pools, in a cognigate process.
fn cognito_env(upstream: &Stack) -> Vec<(String, String)> {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDTEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "test-secret".to_owned()),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
    ];
    for kind in PoolKind::ALL {
        let (pool_id, client_id) = upstream.pool_ids(kind);
        let key = kind.as_str().to_uppercase();
        env.push((format!("COGNIGATE_POOLS__{key}__PROVIDER"), "cognito".to_owned()));
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__USER_POOL_ID"), pool_id));
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__CLIENT_ID"), client_id));
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__ENDPOINT"), upstream.url.clone()));
        env.push((format!("COGNIGATE_POOLS__{key}__COGNITO__REGION"), "local".to_owned()));
    }
    env
}

// Two workers: the upstream serves in this process while the test waits for the other process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journeys_on_the_cognito_provider() {
    // cognigate as an app's auth server with both pools on AWS Cognito — here a second cognigate's wire
    // endpoint, reached through the AWS SDK exactly as AWS would be.
    let upstream = Stack::start(&[]).await;
    let env = cognito_env(&upstream);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = crate::serve::start_with(&["dev", "--no-seed", "--listen", "127.0.0.1:0"], &env);
    for kind in ["customer", "staff"] {
        let line = server.lines.iter().find(|l| l.starts_with(&format!("{kind} pool: "))).unwrap();
        assert!(line.contains("AWS Cognito"), "{line}");
    }
    let customer = Pool::new(&server.url, "customer");
    customer_journey(&customer, &upstream, "remote-journey@example.com").await;
    staff_journey(&Pool::new(&server.url, "staff"), &customer, &upstream, "remote-staffer@example.com").await;
    // The upstream's tokens are not accepted by the upstream's own routes for the other pool either.
    let (status, readiness, _) =
        call(&reqwest::Client::new(), reqwest::Method::GET, format!("{}/readyz", server.url), None, None)
            .await;
    assert_eq!((status, readiness["checks"]["customer_provider"].as_str()), (200, Some("ok")));
}

/// A confirmed, active customer and its tokens.
async fn signed_in_customer(stack: &Stack, customer: &Pool, email: &str) -> Value {
    let (status, body) = customer.post("register", json!({ "email": email, "password": PASSWORD })).await;
    assert_eq!(status, 202, "{body}");
    let code = stack.code_for(email).await;
    assert_eq!(customer.post("confirm", json!({ "email": email, "code": code })).await.0, 200);
    let (status, body) = customer.login(email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
    let mut claims: Value = serde_json::from_slice(&payload).unwrap();
    claims["sub"] = json!("someone-else");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    parts.join(".")
}

fn alg_none(token: &str) -> String {
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = token.split('.').nth(1).unwrap();
    format!("{header}.{payload}.")
}

async fn wire(url: &str, operation: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{operation}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn tokens_are_bound_to_their_pool_client_and_kind_and_attacks_are_refused() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    let staff = Pool::new(&stack.url, "staff");
    let body = signed_in_customer(&stack, &customer, "bound@example.com").await;
    let (access, id, _) = tokens(&body);
    assert_eq!(customer.me(&access).await.0, 200);

    let (status, body) = staff.me(&access).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("AUTH_FAILED")),
        "customer token on a staff route"
    );
    assert_eq!(customer.me(&id).await.0, 401, "an ID token is not an access token");
    assert_eq!(customer.me(&tamper(&access)).await.0, 401, "tampered claims");
    assert_eq!(customer.me(&alg_none(&access)).await.0, 401, "alg none");
    assert_eq!(customer.me("not-a-jwt").await.0, 401);
    assert_eq!(customer.me(&"a".repeat(20_000)).await.0, 401, "oversized");
    let (status, _, headers) =
        call(&customer.http, reqwest::Method::GET, format!("{}/me", customer.base), None, None).await;
    assert_eq!((status, headers["www-authenticate"].to_str().unwrap()), (401, "Bearer"));

    // A token of another app client of the same pool.
    let (pool_id, _) = stack.pool_ids(PoolKind::Customer);
    let other = wire(&stack.url, "CreateUserPoolClient", json!({ "UserPoolId": pool_id, "ClientName": "other", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] })).await;
    let other_client = other["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    let auth = wire(&stack.url, "InitiateAuth", json!({ "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": other_client, "AuthParameters": { "USERNAME": "bound@example.com", "PASSWORD": PASSWORD } })).await;
    let foreign = auth["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    assert_eq!(customer.me(foreign).await.0, 401, "a token of another client");

    // Expired (the service's clock moves past `exp`), then disabled: refused although unexpired.
    stack.clock.advance(3601 + 10);
    assert_eq!(customer.me(&access).await.0, 401, "expired");
    stack.clock.reset();
    assert_eq!(customer.me(&access).await.0, 200);
    let sub = text(&body_sub(&customer, &access).await, "sub");
    stack.api.customer.provider().admin_disable_user(&sub).await.unwrap();
    assert_eq!(customer.me(&access).await.0, 401, "revoked by disabling the user");
    let (status, body) = customer.login("bound@example.com", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("AUTH_FAILED")));
}

async fn body_sub(customer: &Pool, access: &str) -> Value {
    customer.me(access).await.1
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer_for_the_same_work() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    signed_in_customer(&stack, &customer, "known@example.com").await;
    let strip = |mut body: Value| {
        body.as_object_mut().unwrap().remove("requestId");
        body
    };
    let before = stack.runtime.engine.password_hashes();
    let (status_wrong, wrong) = customer.login("known@example.com", "Wrong-Pass-99").await;
    let after_wrong = stack.runtime.engine.password_hashes();
    let (status_unknown, unknown) = customer.login("unknown@example.com", "Wrong-Pass-99").await;
    let after_unknown = stack.runtime.engine.password_hashes();
    assert_eq!((status_wrong, strip(wrong.clone())), (status_unknown, strip(unknown)), "{wrong}");
    assert_eq!(after_wrong - before, after_unknown - after_wrong, "one hash each");
    assert_eq!(after_wrong - before, 1);
    // Forgot-password and resend answer alike too.
    let known = customer.post("forgot-password", json!({ "email": "known@example.com" })).await;
    let unknown = customer.post("forgot-password", json!({ "email": "nobody@example.com" })).await;
    assert_eq!(known, unknown);
    let known = customer.post("resend-code", json!({ "email": "known@example.com" })).await;
    let unknown = customer.post("resend-code", json!({ "email": "nobody@example.com" })).await;
    assert_eq!(known, unknown);
}

#[tokio::test]
async fn lockout_slows_a_guessing_address_and_answers_the_same_while_it_waits() {
    // The per-account rate limit would stop this many tries first; the lockout is what is tested here.
    let stack = Stack::start(&[("COGNIGATE_RATE_LIMITS__CUSTOMER__LOGIN__PER_ACCOUNT", "100/min")]).await;
    let customer = Pool::new(&stack.url, "customer");
    signed_in_customer(&stack, &customer, "locked@example.com").await;
    for _ in 0..5 {
        assert_eq!(customer.login("locked@example.com", "Wrong-Pass-99").await.0, 401);
    }
    let before = stack.runtime.engine.password_hashes();
    let (status, body, headers) =
        customer.post_headers("login", json!({ "email": "locked@example.com", "password": PASSWORD })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("LOCKED")),
        "the right password waits like a wrong one"
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry, 1, "the fifth failure makes this address wait a second");
    let (_, wrong, _) = customer
        .post_headers("login", json!({ "email": "locked@example.com", "password": "Wrong-Pass-99" }))
        .await;
    assert_eq!(wrong["code"], body["code"], "right and wrong passwords get the same answer while waiting");
    assert_eq!(stack.runtime.engine.password_hashes(), before, "a waiting try is not even hashed");
    // Unknown names are slowed the same way, so the wait reveals nothing.
    for _ in 0..5 {
        customer.login("ghost@example.com", "Wrong-Pass-99").await;
    }
    assert_eq!(customer.login("ghost@example.com", PASSWORD).await.1["code"], "LOCKED");
    // Each further failure doubles the wait.
    let mut waits = Vec::new();
    for _ in 0..3 {
        stack.clock.advance(60);
        let (_, _, headers) = customer
            .post_headers("login", json!({ "email": "locked@example.com", "password": "Wrong-Pass-99" }))
            .await;
        assert!(headers.get("retry-after").is_none());
        let (_, _, headers) = customer
            .post_headers("login", json!({ "email": "locked@example.com", "password": PASSWORD }))
            .await;
        waits.push(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap());
    }
    assert_eq!(waits, [2, 4, 8]);
    stack.clock.advance(9);
    let (status, body) = customer.login("locked@example.com", PASSWORD).await;
    assert_eq!(status, 200, "after the wait the owner signs in: {body}");
    let metrics = reqwest::get(format!("{}/metrics", stack.url)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"cognigate_lockouts_total{pool="customer"}"#), "{metrics}");
}

#[tokio::test]
async fn mfa_failures_count_toward_the_same_lockout() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    let body = signed_in_customer(&stack, &customer, "mfa-lock@example.com").await;
    let (access, _, _) = tokens(&body);
    let (_, setup) = customer.post_as("totp/setup", &access, Some(json!({ "password": PASSWORD }))).await;
    let secret = text(&setup, "secret");
    customer.post_as("totp/verify", &access, Some(json!({ "code": totp(&secret, -1) }))).await;
    for _ in 0..3 {
        assert_eq!(customer.login("mfa-lock@example.com", "Wrong-Pass-99").await.0, 401);
    }
    for _ in 0..2 {
        let (_, challenge) = customer.login("mfa-lock@example.com", PASSWORD).await;
        let answer = json!({ "email": "mfa-lock@example.com", "challenge": "SOFTWARE_TOKEN_MFA", "session": challenge["session"], "code": "000000" });
        assert!(customer.post("challenge", answer).await.0 >= 400);
    }
    let (status, body) = customer.login("mfa-lock@example.com", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("LOCKED")));
}

#[tokio::test]
async fn rate_limits_per_address_per_pool_and_route() {
    let stack = Stack::start(&[]).await;
    let staff = Pool::new(&stack.url, "staff");
    let customer = Pool::new(&stack.url, "customer");
    // rate_limits.staff.login: 10/min per address (and 5/min per account): spread over accounts.
    for i in 0..10 {
        let (status, _) = staff.login(&format!("flood{i}@example.com"), "Wrong-Pass-99").await;
        assert_eq!(status, 401);
    }
    let (status, body, headers) =
        staff.post_headers("login", json!({ "email": "flood10@example.com", "password": "x" })).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RATE_LIMITED")), "{body}");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // The staff flood does not throttle customer logins.
    assert_eq!(customer.login("someone@example.com", "Wrong-Pass-99").await.0, 401);
    // Per account: rate_limits.customer.forgot_password is 3/min per account.
    for _ in 0..3 {
        assert_eq!(customer.post("forgot-password", json!({ "email": "target@example.com" })).await.0, 200);
    }
    let (status, body) = customer.post("forgot-password", json!({ "email": "target@example.com" })).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RATE_LIMITED")));
    let metrics = reqwest::get(format!("{}/metrics", stack.url)).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"cognigate_rate_limited_total{pool="staff",route="login",scope="address"} 1"#),
        "{metrics}"
    );
}

fn webhook_event(id: &str, kind: &str, sub: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "id": id, "type": kind, "data": { "object": { "id": "sub_1", "metadata": { "user_sub": sub } } } })).unwrap()
}

async fn deliver(stack: &Stack, body: &[u8], signature: Option<String>) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().post(format!("{}/webhooks/billing", stack.url)).body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_billing_webhook_checks_signature_and_replay_and_is_idempotent() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    let body = signed_in_customer(&stack, &customer, "payer@example.com").await;
    let sub = text(&body["user"], "sub");
    let premium = |me: &Value| me["premium"].as_bool().unwrap();
    let now = stack.clock.now();
    let event = webhook_event("evt_1", "customer.subscription.created", &sub);
    let sign = |t: u64, body: &[u8]| cognigate_service::webhook::sign(WEBHOOK_SECRET.as_bytes(), t, body);

    let (status, answer) = deliver(&stack, &event, None).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("AUTH_FAILED")), "no signature");
    let forged = cognigate_service::webhook::sign(b"not-the-secret", now, &event);
    assert_eq!(deliver(&stack, &event, Some(forged)).await.0, 401, "wrong secret");
    let mut altered = event.clone();
    altered.extend_from_slice(b" ");
    assert_eq!(deliver(&stack, &altered, Some(sign(now, &event))).await.0, 401, "body altered after signing");
    assert_eq!(
        deliver(&stack, &event, Some(sign(now - 301, &event))).await.0,
        401,
        "outside the replay window"
    );
    let mirror = stack.runtime.store.get_mirror(PoolKind::Customer, &sub).await.unwrap().unwrap();
    assert!(!mirror.premium, "nothing changed");

    let (status, answer) = deliver(&stack, &event, Some(sign(now, &event))).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("processed")), "{answer}");
    let (access, _, refresh) = tokens(&customer.login("payer@example.com", PASSWORD).await.1);
    let me = customer.me(&access).await.1;
    assert!(premium(&me));
    assert!(me["permissions"].as_array().unwrap().contains(&json!("premium_analytics")));
    let _ = refresh;
    // The same event again: acknowledged, not applied twice.
    let (status, answer) = deliver(&stack, &event, Some(sign(now, &event))).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("duplicate")));

    let deleted = webhook_event("evt_2", "customer.subscription.deleted", &sub);
    let (status, _) = deliver(&stack, &deleted, Some(sign(now, &deleted))).await;
    assert_eq!(status, 200);
    let me = customer.me(&access).await.1;
    assert!(!premium(&me));
    assert!(!me["permissions"].as_array().unwrap().contains(&json!("premium_analytics")));
    // A created event replayed after the deletion changes nothing (already processed).
    assert_eq!(deliver(&stack, &event, Some(sign(now, &event))).await.1["status"], "duplicate");
    assert!(!premium(&customer.me(&access).await.1));
}

#[tokio::test]
async fn onboarding_gates_approval_subscription_and_refused_states() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    let meta = RequestMeta::default();

    // A dealer waits for approval: it may sign in and see where it stands, with no permission in force.
    let register = json!({ "email": "dealer@example.com", "password": PASSWORD, "baseType": "dealer" });
    assert_eq!(customer.post("register", register).await.0, 202);
    let code = stack.code_for("dealer@example.com").await;
    let (_, confirmed) =
        customer.post("confirm", json!({ "email": "dealer@example.com", "code": code })).await;
    assert_eq!(confirmed["onboardingState"], "pending_approval");
    let (status, body) = customer.login("dealer@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["onboardingState"], "pending_approval");
    assert_eq!(body["user"]["permissions"], json!([]));
    let dealer = text(&body["user"], "sub");

    // A team member may not approve; an admin may (Cedar decides).
    let member = Principal::Staff(StaffIdentity {
        id: "m".into(),
        role: "team_member".into(),
        team: Some("a".into()),
        active: true,
    });
    let denied = stack.api.customer.decide_approval(&meta, &member, &dealer, true).await.unwrap_err();
    assert_eq!(denied.code.as_str(), "FORBIDDEN");
    let admin =
        Principal::Staff(StaffIdentity { id: "adm".into(), role: "admin".into(), team: None, active: true });
    let approved = stack.api.customer.decide_approval(&meta, &admin, &dealer, true).await.unwrap();
    assert_eq!(approved.onboarding, OnboardingState::Active);
    let (_, body) = customer.login("dealer@example.com", PASSWORD).await;
    assert!(body["user"]["permissions"].as_array().unwrap().contains(&json!("dealer_bulk_listing")));
    let events = stack
        .runtime
        .store
        .query_audit(&AuditQuery { action: Some("admin.user.".into()), limit: 10, ..AuditQuery::default() })
        .await
        .unwrap();
    let mut outcomes: Vec<&str> = events.iter().map(|e| e.outcome.as_str()).collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["denied", "success"]);

    // Another dealer is rejected: it can no longer sign in, and its sessions end.
    let register = json!({ "email": "dealer2@example.com", "password": PASSWORD, "baseType": "dealer" });
    customer.post("register", register).await;
    let code = stack.code_for("dealer2@example.com").await;
    customer.post("confirm", json!({ "email": "dealer2@example.com", "code": code })).await;
    let (_, body) = customer.login("dealer2@example.com", PASSWORD).await;
    let (access, _, _) = tokens(&body);
    let rejected = text(&body["user"], "sub");
    stack.api.customer.decide_approval(&meta, &admin, &rejected, false).await.unwrap();
    let (status, body) = customer.login("dealer2@example.com", PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("AUTH_FAILED")),
        "the answer of a wrong password: {body}"
    );
    assert_eq!(customer.me(&access).await.0, 401);
    assert!(
        stack.api.customer.decide_approval(&meta, &admin, &rejected, true).await.is_err(),
        "rejected is final"
    );

    // Premium at sign-up waits for billing; the base type's permissions hold meanwhile.
    let register = json!({ "email": "premium@example.com", "password": PASSWORD, "plan": "premium" });
    customer.post("register", register).await;
    let code = stack.code_for("premium@example.com").await;
    let (_, confirmed) =
        customer.post("confirm", json!({ "email": "premium@example.com", "code": code })).await;
    assert_eq!(confirmed["onboardingState"], "pending_subscription");
    let (_, body) = customer.login("premium@example.com", PASSWORD).await;
    let permissions = body["user"]["permissions"].as_array().unwrap().clone();
    assert!(
        permissions.contains(&json!("listing_create")) && !permissions.contains(&json!("premium_analytics"))
    );
    let sub = text(&body["user"], "sub");
    let event = webhook_event("evt_premium", "customer.subscription.created", &sub);
    let signature = cognigate_service::webhook::sign(WEBHOOK_SECRET.as_bytes(), stack.clock.now(), &event);
    assert_eq!(deliver(&stack, &event, Some(signature)).await.0, 200);
    let mirror = stack.runtime.store.get_mirror(PoolKind::Customer, &sub).await.unwrap().unwrap();
    assert_eq!((mirror.onboarding, mirror.premium), (OnboardingState::Active, true));

    // A suspended account is refused at sign-in and its tokens stop working.
    let (_, body) = customer.login("premium@example.com", PASSWORD).await;
    let (access, _, _) = tokens(&body);
    let mut suspended = mirror.clone();
    suspended.onboarding = OnboardingState::Suspended;
    stack.runtime.store.put_mirror(&suspended).await.unwrap();
    assert_eq!(customer.me(&access).await.0, 401);
    let (status, body) = customer.login("premium@example.com", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("AUTH_FAILED")), "{body}");

    // Registration refuses what a customer may not set.
    let sneaky = json!({ "email": "sneaky@example.com", "password": PASSWORD, "attributes": { "custom:tier": "premium" } });
    assert_eq!(customer.post("register", sneaky).await.1["code"], "VALIDATION");
    let unknown = json!({ "email": "x@example.com", "password": PASSWORD, "baseType": "super_admin" });
    assert_eq!(customer.post("register", unknown).await.1["code"], "VALIDATION");
    let staff_register = json!({ "email": "x@example.com", "password": STAFF_PASSWORD });
    assert_eq!(
        Pool::new(&stack.url, "staff").post("register", staff_register).await.0,
        403,
        "staff are invited"
    );
}

#[tokio::test]
async fn a_failed_mirror_write_rolls_the_registration_back() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    stack.flaky.fail_writes.store(true, Ordering::SeqCst);
    let register = json!({ "email": "half@example.com", "password": PASSWORD });
    let (status, body) = customer.post("register", register.clone()).await;
    assert_eq!((status, body["code"].as_str()), (500, Some("INTERNAL")), "{body}");
    assert!(!body.to_string().contains("injected"), "internal details stay in the log");
    let lookup = stack.api.customer.provider().admin_get_user("half@example.com").await;
    assert!(lookup.is_err(), "the identity created by the failed request was deleted");
    stack.flaky.fail_writes.store(false, Ordering::SeqCst);
    assert_eq!(customer.post("register", register).await.0, 202, "the email is free again");
    assert!(stack.api.customer.provider().admin_get_user("half@example.com").await.is_ok());

    // A sign-in whose mirror write fails takes its tokens back but never deletes the user.
    let code = stack.code_for("half@example.com").await;
    assert_eq!(customer.post("confirm", json!({ "email": "half@example.com", "code": code })).await.0, 200);
    stack.flaky.fail_writes.store(true, Ordering::SeqCst);
    assert_eq!(customer.login("half@example.com", PASSWORD).await.0, 500);
    stack.flaky.fail_writes.store(false, Ordering::SeqCst);
    assert!(stack.api.customer.provider().admin_get_user("half@example.com").await.is_ok());
    assert_eq!(customer.login("half@example.com", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    for (route, body) in [
        ("register", json!({ "email": "not-an-email", "password": PASSWORD })),
        ("register", json!({ "email": "a@example.com", "password": PASSWORD, "unexpected": 1 })),
        ("login", json!({ "email": "a@example.com" })),
        ("confirm", json!({ "email": "a@example.com", "code": "12ab56" })),
        ("challenge", json!({ "email": "a@example.com", "challenge": "SOMETHING", "session": "s" })),
    ] {
        let (status, answer) = customer.post(route, body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("VALIDATION")), "{route} {body}: {answer}");
    }
    let (status, answer, _) =
        call(&customer.http, reqwest::Method::POST, format!("{}/login", customer.base), None, None).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("VALIDATION")));
    let (status, _) = Pool::new(&stack.url, "vendors").login("a@example.com", PASSWORD).await;
    assert!(status == 400 || status == 404, "{status}");
    let users = stack.api.customer.provider().list_users(None, Some(10), None).await.unwrap();
    assert!(users.users.is_empty(), "nothing was created");
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_served_routes() {
    let stack = Stack::start(&[]).await;
    let document: Value =
        reqwest::get(format!("{}/openapi.json", stack.url)).await.unwrap().json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    let mut auth_routes = 0;
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let url = format!("{}{}", stack.url, path.replace("{pool}", "customer"));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body, _) = call(&reqwest::Client::new(), method.clone(), url, None, None).await;
            assert!(
                status != 404 && status != 405,
                "{method} {path} is documented but answers {status} {body}"
            );
            auth_routes += usize::from(path.starts_with("/auth/"));
        }
    }
    assert_eq!(auth_routes, 14);
    // And the other way: an undocumented route under /auth is not served.
    let (status, _) = Pool::new(&stack.url, "customer").post("impersonate", json!({})).await;
    assert_eq!(status, 404);
    for name in ["LoginRequest", "TokenResponse", "ErrorBody", "UserView"] {
        assert!(document["components"]["schemas"].get(name).is_some(), "{name} is not described");
    }
}

#[tokio::test]
async fn requests_carry_ids_and_health_and_metrics_answer() {
    let stack = Stack::start(&[]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/auth/customer/login", stack.url))
        .header("x-request-id", "trace-me-123")
        .json(&json!({ "email": "nobody@example.com", "password": "Wrong-Pass-99" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["requestId"], "trace-me-123");
    let events =
        stack.runtime.store.query_audit(&AuditQuery { limit: 5, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(events[0].request_id.as_deref(), Some("trace-me-123"));
    let generated = reqwest::get(format!("{}/healthz", stack.url)).await.unwrap();
    assert_eq!(generated.headers()["x-request-id"].len(), 36, "a UUID when the caller sent none");
    let ready: Value = reqwest::get(format!("{}/readyz", stack.url)).await.unwrap().json().await.unwrap();
    assert_eq!(ready["checks"]["store"], "ok");
    let metrics = reqwest::get(format!("{}/metrics", stack.url)).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(
            r#"cognigate_auth_attempts_total{pool="customer",action="auth.login",outcome="failure"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"cognigate_http_request_duration_seconds_count{method="POST",route="/auth/{pool}/login",status="401"} 1"#), "{metrics}");
}

#[tokio::test]
async fn sync_repairs_the_drift_a_killed_process_leaves() {
    // A real server process. SignUp over the wire creates an identity without a mirror row: exactly what a
    // registration cut off between its two steps leaves. A deleted identity leaves a mirror row behind.
    let mut server = crate::serve::start_with(&["dev", "--no-seed", "--listen", "127.0.0.1:0"], &[]);
    let customer = Pool::new(&server.url, "customer");
    let (status, _) =
        customer.post("register", json!({ "email": "kept@example.com", "password": PASSWORD })).await;
    assert_eq!(status, 202);
    customer.post("register", json!({ "email": "gone@example.com", "password": PASSWORD })).await;
    let env = crate::serve::cognito_pools_at(&server.url, &server.lines);
    let client_id =
        &env.iter().find(|(k, _)| k == "COGNIGATE_POOLS__CUSTOMER__COGNITO__CLIENT_ID").unwrap().1;
    let pool_id =
        &env.iter().find(|(k, _)| k == "COGNIGATE_POOLS__CUSTOMER__COGNITO__USER_POOL_ID").unwrap().1;
    let cut = wire(&server.url, "SignUp", json!({ "ClientId": client_id, "Username": "cut@example.com", "Password": PASSWORD, "UserAttributes": [{ "Name": "email", "Value": "cut@example.com" }] })).await;
    let cut_sub = cut["UserSub"].as_str().unwrap().to_owned();
    let gone =
        wire(&server.url, "AdminGetUser", json!({ "UserPoolId": pool_id, "Username": "gone@example.com" }))
            .await;
    let gone_sub = gone["Username"].clone();
    let deleted = wire(
        &server.url,
        "AdminDeleteUser",
        json!({ "UserPoolId": pool_id, "Username": "gone@example.com" }),
    )
    .await;
    assert_eq!(deleted, json!({}));
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let sync = |dry_run: bool| {
        let mut command = crate::cognigate();
        command
            .args(["sync", "--json"])
            .env("COGNIGATE_SERVICE__DATA_DIR", server.data.path())
            .env("COGNIGATE_STORE__URL", format!("sqlite://{}/cognigate.db", server.data.path().display()));
        if dry_run {
            command.arg("--dry-run");
        }
        let (ok, stdout, stderr) = crate::run(&mut command);
        assert!(ok, "{stderr}");
        let reports: Value = serde_json::from_str(&stdout).unwrap();
        reports.as_array().unwrap().iter().find(|r| r["pool"] == "customer").unwrap().clone()
    };
    let preview = sync(true);
    assert_eq!(preview["created"], json!([cut_sub]));
    assert_eq!(preview["removed"], json!([gone_sub]));
    let repaired = sync(false);
    assert_eq!(
        (repaired["created"].clone(), repaired["removed"].clone()),
        (preview["created"].clone(), preview["removed"].clone())
    );
    assert_eq!(repaired["identities"], 2);
    let again = sync(false);
    assert_eq!(
        (again["created"].clone(), again["updated"].clone(), again["removed"].clone()),
        (json!([]), json!([]), json!([])),
        "{again}"
    );

    // The repaired user goes on as if nothing happened: confirm and sign in.
    let server = crate::serve::restart(server);
    let customer = Pool::new(&server.url, "customer");
    let code = crate::serve::code_in_outbox(&server, "cut@example.com");
    let (status, body) = customer.post("confirm", json!({ "email": "cut@example.com", "code": code })).await;
    assert_eq!((status, body["onboardingState"].as_str()), (200, Some("active")), "{body}");
    assert_eq!(customer.login("cut@example.com", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn sync_corrects_drifted_fields_and_never_approves_by_itself() {
    let stack = Stack::start(&[]).await;
    let customer = Pool::new(&stack.url, "customer");
    // A confirmed dealer whose mirror row is lost must not come back approved.
    let register = json!({ "email": "lost-dealer@example.com", "password": PASSWORD, "baseType": "dealer" });
    customer.post("register", register).await;
    let dealer = stack.api.customer.provider().admin_get_user("lost-dealer@example.com").await.unwrap().sub;
    let code = stack.code_for("lost-dealer@example.com").await;
    customer.post("confirm", json!({ "email": "lost-dealer@example.com", "code": code })).await;
    assert!(stack.runtime.store.delete_mirror(PoolKind::Customer, &dealer).await.unwrap());
    // Another customer's tier changed at the identity provider behind the mirror's back.
    let body = signed_in_customer(&stack, &customer, "drift@example.com").await;
    let drifted = text(&body["user"], "sub");
    let tier = BTreeMap::from([("custom:tier".to_owned(), "premium".to_owned())]);
    stack.api.customer.provider().admin_update_user_attributes(&drifted, &tier).await.unwrap();

    let report = cognigate_service::sync::sync_pool(&stack.api.customer, false).await.unwrap();
    assert_eq!(report.created, vec![dealer.clone()]);
    assert_eq!(report.updated, vec![(drifted.clone(), vec!["premium".to_owned()])]);
    let restored = stack.runtime.store.get_mirror(PoolKind::Customer, &dealer).await.unwrap().unwrap();
    assert_eq!((restored.role.as_str(), restored.onboarding), ("dealer", OnboardingState::PendingApproval));
    assert!(stack.runtime.store.get_mirror(PoolKind::Customer, &drifted).await.unwrap().unwrap().premium);
    assert_eq!(cognigate_service::sync::sync_pool(&stack.api.customer, false).await.unwrap().drift(), 0);
}
