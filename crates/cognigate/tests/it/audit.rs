//! The security audit of 2026-12-07 (shared/notes/security-audit.md), finding by finding, driven the way the
//! audit drove it: real HTTP and Cognito wire calls against a running cognigate (the binary's own wiring, a
//! real SQLite file). Each test fails on the code the audit examined and passes on today's. Together with
//! the engine's `audit` tests, the Lambda's and the Python SigV4 suite, they are the attack catalogue whose
//! count the notes report.

use std::collections::BTreeMap;

use base64::Engine as _;
use cognigate_config::PoolKind;
use cognigate_domain::authz::{Principal, StaffIdentity};
use cognigate_service::auth::RequestMeta;
use cognigate_service::ports::MirrorStore as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::{Pool, Stack, call, text, totp};

const PASSWORD: &str = "Audit-Pass-Word-1";
const STAFF_PASSWORD: &str = "Audit-Staff-Pass-1!";

/// A stack whose trusted proxy is the test itself (loopback), so requests can say which client address they
/// come from (`X-Forwarded-For`), as they would through a load balancer.
async fn behind_a_proxy(extra: &[(&str, &str)]) -> Stack {
    let mut vars = vec![("COGNIGATE_SERVICE__TRUSTED_PROXIES", r#"["127.0.0.1"]"#)];
    vars.extend_from_slice(extra);
    Stack::start(&vars).await
}

/// A JSON call to a pool's route from the client address `from`.
async fn post_from(pool: &Pool, route: &str, body: Value, from: &str) -> (u16, Value) {
    let response = pool
        .http
        .post(format!("{}/{route}", pool.base))
        .header("x-forwarded-for", from)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A Cognito wire call: the status and the answer.
async fn wire(url: &str, operation: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{operation}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error_type(answer: &Value) -> &str {
    answer["__type"].as_str().unwrap_or("")
}

/// A JWT's payload (the tests read what any consumer of the token would).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

/// Registers and confirms a customer through the auth API; its login answer.
async fn customer(stack: &Stack, pool: &Pool, email: &str, extra: Value) -> Value {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    assert_eq!(pool.post("register", body).await.0, 202);
    let code = stack.code_for(email).await;
    assert_eq!(pool.post("confirm", json!({ "email": email, "code": code })).await.0, 200);
    let (status, login) = pool.login(email, PASSWORD).await;
    assert_eq!(status, 200, "{login}");
    login
}

fn admin() -> Principal {
    Principal::Staff(StaffIdentity { id: "adm".into(), role: "admin".into(), team: None, active: true })
}

/// F1: over the wire, every ForgotPassword re-armed five guesses on a fresh code, without limits: a
/// stranger could take an account over in minutes. Codes are throttled per user (five an hour) and wrong
/// guesses counted across codes (ten an hour); the auth API's code routes have limits of their own.
#[tokio::test]
async fn f01_reset_codes_cannot_be_brute_forced_over_the_wire_or_the_api() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "victim@example.com", json!({})).await;
    let (_, client_id) = stack.pool_ids(PoolKind::Customer);
    let mut mismatches = 0;
    let mut forgot = Vec::new();
    for _ in 0..8 {
        let (status, answer) = wire(
            &stack.url,
            "ForgotPassword",
            &json!({ "ClientId": client_id, "Username": "victim@example.com" }),
            &[],
        )
        .await;
        forgot.push(if status == 200 { "sent" } else { error_type(&answer) }.to_owned());
        for guess in 0..5 {
            let body = json!({ "ClientId": client_id, "Username": "victim@example.com",
                               "ConfirmationCode": format!("00000{guess}"), "Password": "Stolen-Pass-99" });
            let (_, answer) = wire(&stack.url, "ConfirmForgotPassword", &body, &[]).await;
            mismatches += usize::from(error_type(&answer) == "CodeMismatchException");
        }
    }
    assert!(forgot.iter().filter(|f| *f == "sent").count() <= 5, "five codes an hour: {forgot:?}");
    assert!(forgot.contains(&"LimitExceededException".to_owned()), "{forgot:?}");
    assert!(mismatches <= 10, "at most ten wrong guesses an hour reach any code, not {mismatches}");
    assert_eq!(pool.login("victim@example.com", PASSWORD).await.0, 200, "the owner's password still works");

    // The same loop on the confirmation of a sign-up for an address the attacker does not own.
    let stack = Stack::start(&[]).await;
    let (_, client_id) = stack.pool_ids(PoolKind::Customer);
    let body = json!({ "ClientId": client_id, "Username": "not-mine@example.com", "Password": PASSWORD,
                       "UserAttributes": [{ "Name": "email", "Value": "not-mine@example.com" }] });
    assert_eq!(wire(&stack.url, "SignUp", &body, &[]).await.0, 200);
    let mut mismatches = 0;
    for _ in 0..8 {
        wire(
            &stack.url,
            "ResendConfirmationCode",
            &json!({ "ClientId": client_id, "Username": "not-mine@example.com" }),
            &[],
        )
        .await;
        for guess in 0..5 {
            let body = json!({ "ClientId": client_id, "Username": "not-mine@example.com", "ConfirmationCode": format!("00000{guess}") });
            mismatches += usize::from(
                error_type(&wire(&stack.url, "ConfirmSignUp", &body, &[]).await.1) == "CodeMismatchException",
            );
        }
    }
    assert!(mismatches <= 10, "{mismatches}");

    // The auth API: reset-password has its own limit per account (it had none).
    let pool = Pool::new(&stack.url, "customer");
    let mut statuses = Vec::new();
    for guess in 0..8 {
        let body = json!({ "email": "victim@example.com", "code": format!("10000{guess}"), "newPassword": "Stolen-Pass-99" });
        statuses.push(pool.post("reset-password", body).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// F2: a listed access key *id* in any `Authorization` header was accepted as an administrator. Now only a
/// SigV4 signature made with the key's secret is (the Python suite signs real requests with boto3).
#[tokio::test]
async fn f02_an_access_key_id_alone_administers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("wire.secret");
    std::fs::write(&secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").unwrap();
    let keys = format!(
        r#"[{{ id = "AKIAIOSFODNN7EXAMPLE", secret = {{ file = {:?} }} }}]"#,
        secret.display().to_string()
    );
    let stack = Stack::start(&[("COGNIGATE_ENGINE__WIRE__ADMIN_ACCESS_KEYS", &keys)]).await;
    let list = json!({ "MaxResults": 10 });
    let named = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/us-east-1/cognito-idp/aws4_request, \
                 SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";
    for (authorization, expected) in [
        (None, "MissingAuthenticationTokenException"),
        // What the audit sent: the key id alone, and a forged header naming it (no date: incomplete).
        (Some("Credential=AKIAIOSFODNN7EXAMPLE"), "IncompleteSignatureException"),
        (Some(named), "IncompleteSignatureException"),
    ] {
        let headers: Vec<(&str, &str)> = authorization.map(|a| ("authorization", a)).into_iter().collect();
        let (status, answer) = wire(&stack.url, "ListUserPools", &list, &headers).await;
        assert_eq!((status, error_type(&answer)), (400, expected), "{authorization:?}: {answer}");
    }
    // A forged signature with a date: the signature is checked, not the id.
    let date = "20261207T120000Z";
    let forged = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/us-east-1/cognito-idp/aws4_request, \
                  SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";
    let (_, answer) = wire(
        &stack.url,
        "AdminCreateUser",
        &json!({ "UserPoolId": "x", "Username": "root@example.com" }),
        &[("authorization", forged), ("x-amz-date", date)],
    )
    .await;
    assert_eq!(error_type(&answer), "InvalidSignatureException", "{answer}");
    // With keys configured, being on loopback is not enough either.
    assert_eq!(
        error_type(&wire(&stack.url, "ListUserPools", &list, &[]).await.1),
        "MissingAuthenticationTokenException"
    );
}

/// F3: a dealer waiting for approval carried the dealer permissions in its tokens, and a rejected dealer
/// still got them from the identity provider. Tokens now say the onboarding state and carry permissions only
/// when it allows; rejecting disables the identity.
#[tokio::test]
async fn f03_tokens_tell_the_truth_about_onboarding() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    let login = customer(&stack, &pool, "dealer@example.com", json!({ "baseType": "dealer" })).await;
    let access = claims(&text(&login, "accessToken"));
    let id = claims(&text(&login, "idToken"));
    for token in [&access, &id] {
        assert_eq!(token["onboarding"], "pending_approval", "{token}");
        assert_eq!(token["permissions"], json!([]), "{token}");
        assert!(token.get("role").is_none(), "a requested base type is not a granted one: {token}");
    }
    // The same account over the wire, with the pool's public client: the same truthful tokens.
    let (_, client_id) = stack.pool_ids(PoolKind::Customer);
    let auth = json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": { "USERNAME": "dealer@example.com", "PASSWORD": PASSWORD } });
    let (_, answer) = wire(&stack.url, "InitiateAuth", &auth, &[]).await;
    let over_the_wire = claims(answer["AuthenticationResult"]["AccessToken"].as_str().unwrap());
    assert_eq!(
        (over_the_wire["onboarding"].clone(), over_the_wire["permissions"].clone()),
        (json!("pending_approval"), json!([]))
    );

    // Approved: the next tokens carry the dealer permissions.
    let sub = text(&login["user"], "sub");
    stack.api.customer.decide_approval(&RequestMeta::default(), &admin(), &sub, true).await.unwrap();
    let (_, login) = pool.login("dealer@example.com", PASSWORD).await;
    let access = claims(&text(&login, "accessToken"));
    assert_eq!(access["onboarding"], "active");
    assert!(access["permissions"].as_array().unwrap().contains(&json!("dealer_bulk_listing")), "{access}");

    // Rejected: no tokens anywhere, the right password or not.
    let other = customer(&stack, &pool, "rejected@example.com", json!({ "baseType": "dealer" })).await;
    let rejected = text(&other["user"], "sub");
    stack.api.customer.decide_approval(&RequestMeta::default(), &admin(), &rejected, false).await.unwrap();
    let auth = json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": { "USERNAME": "rejected@example.com", "PASSWORD": PASSWORD } });
    let (status, answer) = wire(&stack.url, "InitiateAuth", &auth, &[]).await;
    assert_eq!((status, error_type(&answer)), (400, "NotAuthorizedException"), "{answer}");
    let record = stack.api.customer.provider().admin_get_user(&rejected).await.unwrap();
    assert!(!record.enabled, "a rejected account's identity is disabled");
    assert_eq!(record.attribute("custom:onboarding"), Some("rejected"));
}

/// F4: a bare access token could replace the owner's authenticator or turn MFA off. Enrolling while signed
/// in takes the password; replacing or removing an authenticator also takes a current code from it.
#[tokio::test]
async fn f04_a_stolen_access_token_cannot_touch_the_second_factor() {
    // Many tries in a row: the MFA routes' own rate limit is not what this test is about.
    let stack = Stack::start(&[
        ("COGNIGATE_RATE_LIMITS__CUSTOMER__MFA__PER_ACCOUNT", "100/min"),
        ("COGNIGATE_RATE_LIMITS__CUSTOMER__MFA__PER_ADDRESS", "100/min"),
    ])
    .await;
    let pool = Pool::new(&stack.url, "customer");
    let login = customer(&stack, &pool, "mfa@example.com", json!({})).await;
    let token = text(&login, "accessToken");
    let (_, setup) = pool.post_as("totp/setup", &token, Some(json!({ "password": PASSWORD }))).await;
    let secret = text(&setup, "secret");
    let (status, _) = pool.post_as("totp/verify", &token, Some(json!({ "code": totp(&secret, -1) }))).await;
    assert_eq!(status, 200);

    // The thief has the token only.
    for body in [
        None,
        Some(json!({})),
        Some(json!({ "password": "Guessed-Pass-1" })),
        Some(json!({ "password": PASSWORD })),
    ] {
        let (status, answer) = pool.post_as("totp/setup", &token, body.clone()).await;
        assert!((400..500).contains(&status), "{body:?} → {status} {answer}");
    }
    for body in [
        json!({}),
        json!({ "password": PASSWORD, "code": "000000" }),
        json!({ "password": "Wrong-Pass-1", "code": totp(&secret, 0) }),
    ] {
        let (status, answer) = pool.post_as("totp/disable", &token, Some(body.clone())).await;
        assert!((400..500).contains(&status), "{body} → {status} {answer}");
    }
    // The verify step cannot be reached without a setup begun with the password.
    let (status, answer) =
        pool.post_as("totp/verify", &token, Some(json!({ "code": totp(&secret, 0) }))).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("CONFLICT")), "{answer}");
    // The owner's authenticator still signs in.
    let (_, challenge) = pool.login("mfa@example.com", PASSWORD).await;
    let answer = json!({ "email": "mfa@example.com", "challenge": "SOFTWARE_TOKEN_MFA", "session": challenge["session"], "code": totp(&secret, 1) });
    assert_eq!(pool.post("challenge", answer).await.0, 200);
}

/// I10 and the recovery codes: a lost authenticator is recovered with a one-time code (the password too),
/// or reset by an administrator; either way the next sign-in enrols a new one. Nobody is deleted and
/// invited again.
#[tokio::test]
async fn i10_a_lost_authenticator_is_recovered_with_a_one_time_code() {
    let stack = Stack::start(&[]).await;
    let staff = Pool::new(&stack.url, "staff");
    let attributes = BTreeMap::from([("custom:role".to_owned(), "admin".to_owned())]);
    stack.api.staff.provision("lost@example.com", &attributes, Some(STAFF_PASSWORD), true).await.unwrap();
    let (_, body) = staff.login("lost@example.com", STAFF_PASSWORD).await;
    let (_, setup) = staff.post("totp/setup", json!({ "session": body["session"] })).await;
    let verify = json!({ "email": "lost@example.com", "session": setup["session"], "code": totp(&text(&setup, "secret"), 0) });
    let (_, enrolled) = staff.post("totp/verify", verify).await;
    let codes: Vec<String> = enrolled["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let victim_sub = text(&enrolled["user"], "sub");
    let stored = stack.api.staff.unused_recovery_codes(&victim_sub).await.unwrap();
    assert_eq!(stored, 10);

    // A stranger's own MFA_SETUP session, answered with the victim's address, touches nothing of theirs
    // (it used to replace their recovery codes and mark them enrolled before the provider said no).
    stack.api.staff.provision("stranger@example.com", &attributes, Some(STAFF_PASSWORD), true).await.unwrap();
    let (_, body) = staff.login("stranger@example.com", STAFF_PASSWORD).await;
    let (_, setup) = staff.post("totp/setup", json!({ "session": body["session"] })).await;
    let forged = json!({ "email": "lost@example.com", "session": setup["session"], "code": totp(&text(&setup, "secret"), 0) });
    let (status, answer) = staff.post("totp/verify", forged).await;
    assert!((400..500).contains(&status), "{status} {answer}");
    assert_eq!(
        stack.api.staff.unused_recovery_codes(&victim_sub).await.unwrap(),
        10,
        "the victim's codes stand"
    );

    // A wrong code fails like a wrong password; a right one passes once and asks for a new enrolment.
    let login =
        |code: &str| json!({ "email": "lost@example.com", "password": STAFF_PASSWORD, "recoveryCode": code });
    let (status, answer) = staff.post("login", login("aaaaa-bbbbb")).await;
    assert_eq!((status, answer["code"].as_str()), (401, Some("AUTH_FAILED")), "{answer}");
    let (status, answer) = staff.post("login", login(&codes[3].to_uppercase())).await;
    assert_eq!((status, answer["challenge"].as_str()), (200, Some("MFA_SETUP")), "{answer}");
    let (status, _) = staff.post("login", login(&codes[3])).await;
    assert!(status >= 400, "a code works once");
    let (status, _) = staff.post("login", login(&codes[4])).await;
    assert!(status >= 400, "the rest of the set went with the authenticator");
    let notice = stack.runtime.engine.outbox(Some("lost@example.com"), 1).await.unwrap();
    assert!(notice[0].subject.contains("recovery code"), "the owner is told: {notice:?}");

    // A recovery code offered for an account without an authenticator is refused, and the sign-in its
    // password made on the way is not left alive.
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "plain@example.com", json!({})).await;
    let sessions = || async {
        let provider = stack.api.customer.provider();
        provider.admin_list_sessions("plain@example.com").await.unwrap().unwrap_or_default().len()
    };
    let before = sessions().await;
    let (status, answer) = pool
        .post(
            "login",
            json!({ "email": "plain@example.com", "password": PASSWORD, "recoveryCode": "aaaaa-bbbbb" }),
        )
        .await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("VALIDATION")), "{answer}");
    assert_eq!(sessions().await, before, "no sign-in nobody holds");
}

/// F5: five wrong passwords from anyone locked the account for 30 minutes, and the owner's reset was refused
/// while locked. A guessing address now slows itself down; the owner's address is not held, and a reset
/// with the emailed code always works and lifts what there is.
#[tokio::test]
async fn f05_strangers_cannot_lock_the_owner_out() {
    let stack = behind_a_proxy(&[
        ("COGNIGATE_RATE_LIMITS__CUSTOMER__LOGIN__PER_ACCOUNT", "1000/min"),
        ("COGNIGATE_RATE_LIMITS__CUSTOMER__LOGIN__PER_ADDRESS", "1000/min"),
    ])
    .await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "owner@example.com", json!({})).await;
    let attempt = |from: String, password: &'static str| {
        let pool = pool.clone();
        async move {
            post_from(&pool, "login", json!({ "email": "owner@example.com", "password": password }), &from)
                .await
        }
    };
    // The owner signs in once from home: that address is the account's own.
    assert_eq!(attempt("198.51.100.7".into(), PASSWORD).await.0, 200);
    // An attacker fails over and over from one address, then from many.
    for _ in 0..6 {
        attempt("203.0.113.66".into(), "Wrong-Pass-99").await;
    }
    assert_eq!(
        attempt("203.0.113.66".into(), PASSWORD).await.1["code"],
        "LOCKED",
        "the guessing address waits"
    );
    for i in 0..30 {
        attempt(format!("192.0.2.{i}"), "Wrong-Pass-99").await;
    }
    assert_eq!(attempt("198.51.100.7".into(), PASSWORD).await.0, 200, "the owner's own address is not held");
    // From a new address the owner may be asked to wait, never more than a minute (the account-wide cap).
    let (status, body) = attempt("198.51.100.200".into(), PASSWORD).await;
    assert!(status == 200 || body["code"] == "LOCKED", "{body}");
    // A reset with the emailed code works while strangers keep failing, and signs the owner in after.
    attempt("203.0.113.66".into(), "Wrong-Pass-99").await;
    assert_eq!(pool.post("forgot-password", json!({ "email": "owner@example.com" })).await.0, 200);
    let code = stack.code_for("owner@example.com").await;
    let reset = json!({ "email": "owner@example.com", "code": code, "newPassword": "New-Owner-Pass-1" });
    assert_eq!(pool.post("reset-password", reset).await.0, 200);
    let (status, body) = post_from(
        &pool,
        "login",
        json!({ "email": "owner@example.com", "password": "New-Owner-Pass-1" }),
        "198.51.100.200",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// F6: revocation lived in memory only: a signed-out token worked again after a restart. Every kind of
/// revocation is stored and loaded before the restarted service answers.
#[tokio::test]
async fn f06_revocations_survive_a_restart() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    let signed_out = text(&customer(&stack, &pool, "out@example.com", json!({})).await, "accessToken");
    assert_eq!(pool.post_as("sign-out", &signed_out, None).await.0, 200);
    let changed = text(&customer(&stack, &pool, "changed@example.com", json!({})).await, "accessToken");
    let change = json!({ "currentPassword": PASSWORD, "newPassword": "Changed-Pass-1" });
    assert_eq!(pool.post_as("change-password", &changed, Some(change)).await.0, 200);
    let kept = text(&pool.login("changed@example.com", "Changed-Pass-1").await.1, "accessToken");
    let disabled_login = customer(&stack, &pool, "disabled@example.com", json!({})).await;
    let disabled = text(&disabled_login, "accessToken");
    stack.api.customer.provider().admin_disable_user(&text(&disabled_login["user"], "sub")).await.unwrap();
    for token in [&signed_out, &changed, &disabled] {
        assert_eq!(pool.me(token).await.0, 401);
    }

    let stack = stack.restart().await;
    let pool = Pool::new(&stack.url, "customer");
    for (token, what) in
        [(&signed_out, "signed out"), (&changed, "before a password change"), (&disabled, "disabled")]
    {
        assert_eq!(pool.me(token).await.0, 401, "{what}: refused after the restart");
    }
    assert_eq!(pool.me(&kept).await.0, 200, "the sign-in after the change, in the same second or not, works");
}

/// Makes `email` a super_admin and signs them into the console; the session cookie.
async fn console_sign_in(stack: &Stack, email: &str) -> String {
    let attributes = BTreeMap::from([("custom:role".to_owned(), "super_admin".to_owned())]);
    stack.api.staff.provision(email, &attributes, Some(STAFF_PASSWORD), true).await.unwrap();
    console_sign_in_as(stack, email).await
}

/// F7: 12,000 anonymous requests evicted every signed-in console session. Anonymous sessions now only ever
/// push out other anonymous ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f07_anonymous_traffic_cannot_sign_staff_out_of_the_console() {
    let stack = Stack::start(&[]).await;
    let cookie = console_sign_in(&stack, "root@example.com").await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let users = || http.get(format!("{}/console/users", stack.url)).header("cookie", &cookie).send();
    assert_eq!(users().await.unwrap().status(), 200);
    let flood = (0..4).map(|_| {
        let http = http.clone();
        let url = format!("{}/console/login", stack.url);
        tokio::spawn(async move {
            for _ in 0..3_100 {
                http.get(&url).send().await.unwrap();
            }
        })
    });
    for worker in flood {
        worker.await.unwrap();
    }
    assert_eq!(users().await.unwrap().status(), 200, "still signed in after 12,400 anonymous sessions");
}

/// F8: register, confirm and reset-password told existing accounts from unknown ones, without limits.
#[tokio::test]
async fn f08_no_route_tells_which_addresses_have_accounts() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "taken@example.com", json!({})).await;
    let strip = |(status, mut body): (u16, Value)| {
        if let Some(body) = body.as_object_mut() {
            body.remove("requestId");
        }
        (status, body)
    };
    for (route, known, unknown) in [
        (
            "register",
            json!({ "email": "taken@example.com", "password": PASSWORD }),
            json!({ "email": "free@example.com", "password": PASSWORD }),
        ),
        (
            "confirm",
            json!({ "email": "taken@example.com", "code": "123456" }),
            json!({ "email": "ghost@example.com", "code": "123456" }),
        ),
        (
            "reset-password",
            json!({ "email": "taken@example.com", "code": "123456", "newPassword": PASSWORD }),
            json!({ "email": "ghost@example.com", "code": "123456", "newPassword": PASSWORD }),
        ),
        ("resend-code", json!({ "email": "taken@example.com" }), json!({ "email": "ghost@example.com" })),
        ("forgot-password", json!({ "email": "taken@example.com" }), json!({ "email": "ghost@example.com" })),
    ] {
        let known = strip(pool.post(route, known).await);
        let unknown = strip(pool.post(route, unknown).await);
        assert_eq!(known, unknown, "{route}");
    }
    // The owner of the taken address learns that someone tried, once an hour however often they try.
    let again = pool.post("register", json!({ "email": "taken@example.com", "password": PASSWORD })).await;
    assert_eq!(again.0, 202, "{again:?}");
    let notices = stack.runtime.engine.outbox(Some("taken@example.com"), 20).await.unwrap();
    let notices = notices.iter().filter(|m| m.subject.contains("tried to register")).count();
    assert_eq!(notices, 1, "one notice for two attempts");
    let query = cognigate_service::ports::AuditQuery {
        action: Some("auth.register_existing".to_owned()),
        limit: 10,
        ..Default::default()
    };
    let logged = cognigate_service::ports::AuditStore::query_audit(stack.runtime.store.as_ref(), &query)
        .await
        .unwrap();
    assert_eq!(logged.len(), 2, "each attempt on a taken address is in the audit log: {logged:?}");
    // Forty tries in a row are throttled.
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(
            pool.post("confirm", json!({ "email": format!("probe{i}@example.com"), "code": "123456" }))
                .await
                .0,
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// F9: the outbox kept temporary passwords and codes in the clear, the database was world-readable, and
/// every manager read the whole outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f09_nothing_secret_sits_in_the_clear_and_only_admins_read_the_outbox() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "coded@example.com", json!({})).await;
    let invite = cognigate_service::auth::Invitation {
        email: "invited@example.com".into(),
        role: "manager".into(),
        team: None,
        attributes: BTreeMap::from([("given_name".into(), "I".into()), ("family_name".into(), "V".into())]),
        temporary_password: None,
    };
    stack.api.staff.invite_staff(&RequestMeta::default(), None, invite).await.unwrap();
    let temporary = stack.temporary_password_for("invited@example.com").await;
    let database = std::fs::read(stack.data_dir().join("cognigate.db")).unwrap();
    let wal = std::fs::read(stack.data_dir().join("cognigate.db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(&temporary), "the temporary password is in the database in the clear");
        assert!(!text.contains("Temporary password:"), "an invitation is in the database in the clear");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: std::path::PathBuf| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(stack.data_dir().to_path_buf()), 0o700);
        assert_eq!(mode(stack.data_dir().join("cognigate.db")), 0o600);
    }
    // The console's outbox is for those who may see the system's status (super_admins), not managers.
    let root = console_sign_in(&stack, "root@example.com").await;
    let http = reqwest::Client::new();
    let outbox =
        |cookie: String| http.get(format!("{}/console/outbox", stack.url)).header("cookie", cookie).send();
    let page = outbox(root).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("invited@example.com"));
    let manager = {
        let attributes = BTreeMap::from([
            ("custom:role".to_owned(), "manager".to_owned()),
            ("custom:team".to_owned(), "north".to_owned()),
        ]);
        stack
            .api
            .staff
            .provision("north@example.com", &attributes, Some(STAFF_PASSWORD), true)
            .await
            .unwrap();
        console_sign_in_as(&stack, "north@example.com").await
    };
    assert_eq!(outbox(manager).await.unwrap().status(), 403);
}

/// Signs an existing staff member into the console (password, then the forced authenticator set-up); the
/// session cookie.
async fn console_sign_in_as(stack: &Stack, email: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form_page = http.get(format!("{}/console/login", stack.url)).send().await.unwrap();
    let cookie = form_page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf_of = |html: &str| {
        html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
    };
    let csrf = csrf_of(&form_page.text().await.unwrap());
    let response = http
        .post(format!("{}/console/login", stack.url))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("email", email), ("password", STAFF_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/login/mfa-setup");
    let page = http
        .get(format!("{}/console/login/mfa-setup", stack.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    let secret = page.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let response = http
        .post(format!("{}/console/login/mfa-setup", stack.url))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf_of(&page).as_str()), ("code", totp(&secret, 0).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/users");
    response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

/// F10: per-address limits counted the TCP peer, so behind a proxy every client shared one bucket, and
/// forwarding headers from anyone would have been worse. Trusted proxies name the client; others are not
/// believed.
#[tokio::test]
async fn f10_clients_behind_a_trusted_proxy_have_their_own_limits() {
    let stack = behind_a_proxy(&[]).await;
    let staff = Pool::new(&stack.url, "staff");
    // rate_limits.staff.login is 10/min per address: one address exhausts its own bucket...
    let mut statuses = Vec::new();
    for i in 0..11 {
        statuses.push(
            post_from(
                &staff,
                "login",
                json!({ "email": format!("s{i}@example.com"), "password": "x-Wrong-1" }),
                "203.0.113.1",
            )
            .await
            .0,
        );
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // ...and not everyone else's.
    assert_eq!(
        post_from(
            &staff,
            "login",
            json!({ "email": "t@example.com", "password": "x-Wrong-1" }),
            "198.51.100.9"
        )
        .await
        .0,
        401
    );
    // IPv6 clients are counted per /64: rotating within it buys nothing.
    for i in 0..10 {
        post_from(
            &staff,
            "login",
            json!({ "email": format!("v{i}@example.com"), "password": "x-Wrong-1" }),
            &format!("2001:db8:1:2::{i:x}"),
        )
        .await;
    }
    assert_eq!(
        post_from(
            &staff,
            "login",
            json!({ "email": "w@example.com", "password": "x-Wrong-1" }),
            "2001:db8:1:2:ffff::1"
        )
        .await
        .0,
        429
    );

    // Without a trusted proxy the header is ignored: a client cannot pick a fresh address per request.
    let stack = Stack::start(&[]).await;
    let staff = Pool::new(&stack.url, "staff");
    let mut statuses = Vec::new();
    for i in 0..11 {
        statuses.push(
            post_from(
                &staff,
                "login",
                json!({ "email": format!("s{i}@example.com"), "password": "x-Wrong-1" }),
                &format!("10.9.8.{i}"),
            )
            .await
            .0,
        );
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

/// F11: one wire client holding 64 connections made a legitimate sign-in wait a second. A client address
/// gets a few requests in flight; beyond that, and beyond the hashing queue, the answer is an immediate
/// refusal, and other clients are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f11_one_client_cannot_monopolise_password_hashing() {
    let stack = behind_a_proxy(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "steady@example.com", json!({})).await;
    let (_, client_id) = stack.pool_ids(PoolKind::Customer);
    let flood: Vec<_> = (0..48)
        .map(|i| {
            let url = stack.url.clone();
            let body = json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                               "AuthParameters": { "USERNAME": format!("nobody{i}@example.com"), "PASSWORD": "Wrong-Pass-99" } });
            tokio::spawn(async move { wire(&url, "InitiateAuth", &body, &[("x-forwarded-for", "203.0.113.50")]).await })
        })
        .collect();
    let legitimate = post_from(
        &pool,
        "login",
        json!({ "email": "steady@example.com", "password": PASSWORD }),
        "198.51.100.1",
    )
    .await;
    let mut refused = 0;
    for request in flood {
        let (_, answer) = request.await.unwrap();
        match error_type(&answer) {
            "TooManyRequestsException" => refused += 1,
            "NotAuthorizedException" => {}
            other => panic!("unexpected answer {other}: {answer}"),
        }
    }
    assert!(refused > 0, "a flood beyond its places is refused at once");
    assert_eq!(legitimate.0, 200, "another client is served meanwhile: {}", legitimate.1);
}

/// F12: a self-service email change over the wire left the mirror on the old address (which then could not
/// be registered again), and a dealer rewrote what staff had approved.
#[tokio::test]
async fn f12_changes_made_over_the_wire_keep_the_mirror_in_step() {
    let stack = Stack::start(&[]).await;
    let (_, client_id) = stack.pool_ids(PoolKind::Customer);
    let pool = Pool::new(&stack.url, "customer");
    let attributes = json!({ "custom:company_name": "Old Cars Ltd", "custom:vat_number": "DE123456789" });
    customer(&stack, &pool, "mover@example.com", json!({ "baseType": "dealer", "attributes": attributes }))
        .await;
    let auth = json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": { "USERNAME": "mover@example.com", "PASSWORD": PASSWORD } });
    let (_, answer) = wire(&stack.url, "InitiateAuth", &auth, &[]).await;
    let token = answer["AuthenticationResult"]["AccessToken"].as_str().unwrap().to_owned();
    // The business attributes approval relied on are not the customer's to change.
    let edit = json!({ "AccessToken": token, "UserAttributes": [{ "Name": "custom:company_name", "Value": "Other Ltd" }] });
    let (status, answer) = wire(&stack.url, "UpdateUserAttributes", &edit, &[]).await;
    assert_eq!((status, error_type(&answer)), (400, "NotAuthorizedException"), "{answer}");
    // A new email, verified with its code: the mirror follows.
    let change = json!({ "AccessToken": token, "UserAttributes": [{ "Name": "email", "Value": "moved@example.com" }] });
    assert_eq!(wire(&stack.url, "UpdateUserAttributes", &change, &[]).await.0, 200);
    let code = stack.code_for("moved@example.com").await;
    let verify = json!({ "AccessToken": token, "AttributeName": "email", "Code": code });
    assert_eq!(wire(&stack.url, "VerifyUserAttribute", &verify, &[]).await.0, 200);
    let row =
        stack.runtime.store.find_mirror_by_email(PoolKind::Customer, "moved@example.com").await.unwrap();
    assert!(row.is_some(), "the mirror knows the new address");
    // The old address can be registered again (it answered 500 before).
    let (status, body) =
        pool.post("register", json!({ "email": "mover@example.com", "password": PASSWORD })).await;
    assert_eq!(status, 202, "{body}");
    assert!(
        stack
            .runtime
            .store
            .find_mirror_by_email(PoolKind::Customer, "mover@example.com")
            .await
            .unwrap()
            .is_some()
    );
}

/// F3/F12: a sign-up confirmed over the wire (the dev client, as an Amplify app would) runs the same
/// PostConfirmation hook as the Lambda on AWS: base type, default group, onboarding state, mirror row. Its
/// tokens and the auth API then agree on what the account may do (the tokens had no role and no
/// permissions while the API answered four).
#[tokio::test]
async fn f12_a_sign_up_confirmed_over_the_wire_is_a_whole_account() {
    let stack = Stack::start(&[]).await;
    let (_, client_id) = stack.pool_ids(PoolKind::Customer);
    let email = "wire-born@example.com";
    let sign_up = json!({ "ClientId": client_id, "Username": email, "Password": PASSWORD,
                          "UserAttributes": [{ "Name": "email", "Value": email }] });
    assert_eq!(wire(&stack.url, "SignUp", &sign_up, &[]).await.0, 200);
    let code = stack.code_for(email).await;
    let confirm = json!({ "ClientId": client_id, "Username": email, "ConfirmationCode": code });
    let (status, answer) = wire(&stack.url, "ConfirmSignUp", &confirm, &[]).await;
    assert_eq!(status, 200, "{answer}");
    let row = stack.runtime.store.find_mirror_by_email(PoolKind::Customer, email).await.unwrap();
    let row = row.expect("the hook wrote the mirror row");
    assert_eq!((row.role.as_str(), row.onboarding.as_str()), ("individual", "active"));

    let auth = json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": { "USERNAME": email, "PASSWORD": PASSWORD } });
    let (_, answer) = wire(&stack.url, "InitiateAuth", &auth, &[]).await;
    let over_wire = claims(answer["AuthenticationResult"]["AccessToken"].as_str().unwrap());
    assert_eq!(over_wire["role"], "individual", "{over_wire}");
    assert_eq!(over_wire["onboarding"], "active");
    assert_eq!(over_wire["cognito:groups"], json!(["individual"]));

    let (status, body) = Pool::new(&stack.url, "customer").login(email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let from_api = claims(body["accessToken"].as_str().unwrap());
    assert_eq!(from_api["role"], body["user"]["role"]);
    assert_eq!(from_api["permissions"], body["user"]["permissions"], "{from_api} vs {body}");
    assert!(!from_api["permissions"].as_array().unwrap().is_empty());
}

/// F13: in dev, a DNS-rebinding page (attacker.example resolved to 127.0.0.1) could administer the engine
/// from the developer's browser. A loopback caller must also name a loopback host.
#[tokio::test]
async fn f13_a_rebound_host_cannot_administer_in_dev() {
    let stack = Stack::start(&[]).await;
    let list = json!({ "MaxResults": 10 });
    let host = stack.url.trim_start_matches("http://").to_owned();
    assert_eq!(wire(&stack.url, "ListUserPools", &list, &[("host", &host)]).await.0, 200);
    let port = host.rsplit(':').next().unwrap();
    for rebound in [format!("attacker.example:{port}"), "127.0.0.1.attacker.example".to_owned()] {
        let (status, answer) = wire(&stack.url, "ListUserPools", &list, &[("host", &rebound)]).await;
        assert_eq!((status, error_type(&answer)), (400, "NotAuthorizedException"), "{rebound}");
    }
}

/// F14: `alice<U+200B>@example.com` and a Cyrillic `аlice@example.com` registered beside `alice@example.com`.
#[tokio::test]
async fn f14_look_alike_addresses_are_refused() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "alice@example.com", json!({})).await;
    for spoof in ["alice\u{200B}@example.com", "\u{0430}lice@example.com", "alice@ex\u{0430}mple.com"] {
        let (status, body) = pool.post("register", json!({ "email": spoof, "password": PASSWORD })).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("VALIDATION")), "{spoof:?}: {body}");
    }
    // Variants of one address are one account: the full-width form signs in as alice.
    assert_eq!(pool.login("\u{FF41}lice@EXAMPLE.com", PASSWORD).await.0, 200);
}

/// F15: the service's own clients never rotated refresh tokens, so a stolen one worked for 30 days and reuse
/// detection never ran. Every refresh now hands out a new one; presenting a retired one after the grace
/// period revokes the whole sign-in.
#[tokio::test]
async fn f15_refresh_tokens_rotate_and_reuse_revokes_the_sign_in() {
    let stack = Stack::start(&[("COGNIGATE_POOLS__CUSTOMER__TOKENS__ROTATION_GRACE", "0s")]).await;
    let pool = Pool::new(&stack.url, "customer");
    let login = customer(&stack, &pool, "rotor@example.com", json!({})).await;
    let first = text(&login, "refreshToken");
    let (status, refreshed) = pool.post("refresh", json!({ "refreshToken": first })).await;
    assert_eq!(status, 200, "{refreshed}");
    let second = text(&refreshed, "refreshToken");
    assert_ne!(first, second, "a new refresh token each time");
    stack.clock.advance(2);
    let (status, _) = pool.post("refresh", json!({ "refreshToken": first })).await;
    assert_eq!(status, 401, "the retired token is refused");
    let (status, _) = pool.post("refresh", json!({ "refreshToken": second })).await;
    assert_eq!(status, 401, "and its reuse revoked the whole sign-in, the thief's copy and the owner's");
    assert_eq!(pool.me(&text(&refreshed, "accessToken")).await.0, 401);
}

/// F16: a rejected account answered 403 to the right password and 401 to a wrong one.
#[tokio::test]
async fn f16_a_rejected_account_answers_right_and_wrong_passwords_alike() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    let login = customer(&stack, &pool, "refused@example.com", json!({ "baseType": "dealer" })).await;
    let sub = text(&login["user"], "sub");
    stack.api.customer.decide_approval(&RequestMeta::default(), &admin(), &sub, false).await.unwrap();
    let strip = |(status, mut body): (u16, Value)| {
        body.as_object_mut().unwrap().remove("requestId");
        (status, body)
    };
    let right = strip(pool.login("refused@example.com", PASSWORD).await);
    let wrong = strip(pool.login("refused@example.com", "Wrong-Pass-99").await);
    assert_eq!(right, wrong);
    assert_eq!(right.0, 401);
}

/// I2: answers that carry tokens were cacheable.
#[tokio::test]
async fn i02_token_answers_are_never_stored() {
    let stack = Stack::start(&[]).await;
    let pool = Pool::new(&stack.url, "customer");
    customer(&stack, &pool, "cache@example.com", json!({})).await;
    let (_, _, headers) = call(
        &pool.http,
        Method::POST,
        format!("{}/login", pool.base),
        None,
        Some(json!({ "email": "cache@example.com", "password": PASSWORD })),
    )
    .await;
    assert_eq!(headers["cache-control"], "no-store");
}

/// I3: an admin could disable, delete or set the password of another admin; staff could set a known
/// permanent password on any customer and sign in as them.
#[tokio::test]
async fn i03_peers_do_not_change_each_other_and_permanent_passwords_are_rare() {
    let stack = Stack::start(&[]).await;
    let meta = RequestMeta::default();
    let make = |email: &'static str, role: &'static str| {
        let attributes = BTreeMap::from([("custom:role".to_owned(), role.to_owned())]);
        let staff = stack.api.staff.clone();
        async move { staff.provision(email, &attributes, Some(STAFF_PASSWORD), true).await.unwrap() }
    };
    let one = active(&stack, make("admin1@example.com", "admin").await).await;
    let two = active(&stack, make("admin2@example.com", "admin").await).await;
    let actor = stack.api.admin.actor_of(one.clone()).unwrap();
    let admin = &stack.api.admin;
    let denied = admin
        .run(&meta, &actor, PoolKind::Staff, &two.sub, cognigate_service::admin::UserCommand::Disable)
        .await;
    assert_eq!(denied.unwrap_err().code.as_str(), "FORBIDDEN");
    let pool = Pool::new(&stack.url, "customer");
    let login = customer(&stack, &pool, "impersonated@example.com", json!({})).await;
    let target = text(&login["user"], "sub");
    let permanent =
        cognigate_service::admin::SetPasswordRequest { password: "Known-To-Staff-1".into(), permanent: true };
    let denied = admin.set_password(&meta, &actor, PoolKind::Customer, &target, permanent).await;
    assert_eq!(denied.unwrap_err().code.as_str(), "FORBIDDEN");
    let temporary = cognigate_service::admin::SetPasswordRequest {
        password: "Known-To-Staff-1".into(),
        permanent: false,
    };
    admin.set_password(&meta, &actor, PoolKind::Customer, &target, temporary).await.unwrap();
    let (_, answer) = pool.login("impersonated@example.com", "Known-To-Staff-1").await;
    assert_eq!(answer["challenge"], "NEW_PASSWORD_REQUIRED", "a password staff chose must be changed first");
}

/// I4: two concurrent demotions of the last two super_admins could both succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i04_the_last_super_admin_survives_concurrent_demotions() {
    let stack = Stack::start(&[]).await;
    let meta = RequestMeta::default();
    let attributes = BTreeMap::from([("custom:role".to_owned(), "super_admin".to_owned())]);
    let one =
        stack.api.staff.provision("sa1@example.com", &attributes, Some(STAFF_PASSWORD), true).await.unwrap();
    let two =
        stack.api.staff.provision("sa2@example.com", &attributes, Some(STAFF_PASSWORD), true).await.unwrap();
    let (one, two) = (active(&stack, one).await, active(&stack, two).await);
    let admin = stack.api.admin.clone();
    let demote = |actor: cognigate_service::ports::MirrorUser, target: String| {
        let admin = admin.clone();
        tokio::spawn(async move {
            let actor = admin.actor_of(actor).unwrap();
            let request = cognigate_service::admin::ChangeRoleRequest { role: "admin".into() };
            admin.change_role(&RequestMeta::default(), &actor, PoolKind::Staff, &target, request).await
        })
    };
    let (a, b) = tokio::join!(demote(one.clone(), two.sub.clone()), demote(two.clone(), one.sub.clone()));
    let succeeded = [a.unwrap(), b.unwrap()].iter().filter(|r| r.is_ok()).count();
    assert_eq!(succeeded, 1, "exactly one demotion goes through");
    let left = stack
        .runtime
        .store
        .list_mirror(&cognigate_service::ports::MirrorQuery {
            role: Some("super_admin".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    let _ = meta;
}

/// A staff mirror row made active as if its MFA enrolment were done (the tests here are about what an active
/// member may do, not about enrolling).
async fn active(
    stack: &Stack,
    mut row: cognigate_service::ports::MirrorUser,
) -> cognigate_service::ports::MirrorUser {
    row.mfa_enabled = true;
    row.onboarding = cognigate_domain::onboarding::OnboardingState::Active;
    stack.runtime.store.put_mirror(&row).await.unwrap();
    row
}
