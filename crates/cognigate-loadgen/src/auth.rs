//! cognigate's auth API (`/auth/customer/*`) as the auth benchmark calls it: JSON in camelCase, errors as
//! `{"code", "message"}` with a 4xx/5xx status. Each answer is checked for the status and the fields the
//! contract promises; anything else is an error, described with the status and the start of the body.

use anyhow::{Result, anyhow};
use reqwest::Client;
use serde_json::{Value, json};

use crate::wire::Answer;

/// The customer pool's routes, under the server's base URL.
pub const LOGIN: &str = "/auth/customer/login";
pub const REFRESH: &str = "/auth/customer/refresh";
pub const REGISTER: &str = "/auth/customer/register";
pub const ME: &str = "/auth/customer/me";

/// The email of the n-th registration of a run (unique per run id).
pub fn registration_email(run: &str, n: u64) -> String {
    format!("load-{run}-{n}@example.com")
}

/// A signed-in seeded user.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    /// The pool's username (a generated id in an email-username pool), for `refresh`.
    pub username: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// `base` without a trailing slash, then `path`.
pub fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// POSTs a JSON body and reads the whole answer (any status).
pub async fn post(client: &Client, url: &str, body: &Value) -> Result<Answer> {
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|error| anyhow!("POST {url}: {error}"))?;
    let status = response.status().as_u16();
    let body =
        response.bytes().await.map_err(|error| anyhow!("reading the answer to POST {url}: {error}"))?;
    Ok(Answer { status, body: body.to_vec() })
}

fn describe(answer: &Answer, problem: &str) -> String {
    format!("HTTP {}{problem}: {}", answer.status, answer.snippet())
}

/// The answer as JSON if its status is `status`, or the error.
fn expect(answer: &Answer, status: u16) -> Result<Value, String> {
    if answer.status != status {
        return Err(describe(answer, ""));
    }
    serde_json::from_slice(&answer.body).map_err(|_| describe(answer, " (not JSON)"))
}

fn has_string(value: &Value, field: &str) -> bool {
    value[field].as_str().is_some_and(|text| !text.is_empty())
}

/// A login answer: 200 with access, id and refresh tokens, for the user `email`.
pub fn check_login(answer: &Answer, email: &str) -> Result<Value, String> {
    let value = expect(answer, 200)?;
    let tokens = ["accessToken", "idToken", "refreshToken"].iter().all(|field| has_string(&value, field));
    if !tokens {
        return Err(describe(answer, " without accessToken, idToken and refreshToken"));
    }
    if !value["user"]["email"].as_str().is_some_and(|got| got.eq_ignore_ascii_case(email)) {
        return Err(describe(answer, &format!(" with user.email other than {email}")));
    }
    Ok(value)
}

/// A refresh answer: 200 with access and id tokens, and the new refresh token where the pool rotates them.
pub fn check_refresh(answer: &Answer, email: &str) -> Result<Option<String>, String> {
    let value = expect(answer, 200)?;
    if !has_string(&value, "accessToken") || !has_string(&value, "idToken") {
        return Err(describe(answer, " without accessToken and idToken"));
    }
    if !value["user"]["email"].as_str().is_some_and(|got| got.eq_ignore_ascii_case(email)) {
        return Err(describe(answer, &format!(" with user.email other than {email}")));
    }
    Ok(value["refreshToken"].as_str().filter(|token| !token.is_empty()).map(str::to_owned))
}

/// A registration answer: 202 `{"accepted": true, ...}` (the same for new and existing addresses, so it
/// tells nobody which exist).
pub fn check_register(answer: &Answer) -> Result<(), String> {
    let value = expect(answer, 202)?;
    if value["accepted"] != Value::Bool(true) {
        return Err(describe(answer, " without accepted: true"));
    }
    Ok(())
}

pub fn login_body(email: &str, password: &str) -> Value {
    json!({ "email": email, "password": password })
}

pub fn refresh_body(session: &Session) -> Value {
    json!({ "refreshToken": session.refresh_token, "username": session.username })
}

pub fn register_body(email: &str, password: &str) -> Value {
    json!({ "email": email, "password": password, "baseType": "individual" })
}

/// Signs a seeded user in and keeps the tokens.
pub async fn log_in(client: &Client, base: &str, email: &str, password: &str) -> Result<Session> {
    let answer = post(client, &url(base, LOGIN), &login_body(email, password)).await?;
    let value = check_login(&answer, email).map_err(|error| anyhow!("signing {email} in: {error}"))?;
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(Session {
        email: email.to_owned(),
        username: text("/user/username"),
        access_token: text("/accessToken"),
        refresh_token: text("/refreshToken"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn checks_follow_the_contract() {
        let login = r#"{"accessToken":"a","idToken":"i","refreshToken":"r","tokenType":"Bearer","expiresIn":3600,
            "user":{"sub":"s","username":"u","email":"User1@x.example"}}"#;
        assert!(check_login(&answer(200, login), "user1@x.example").is_ok());
        assert!(check_login(&answer(200, login), "user2@x.example").is_err());
        let throttled =
            check_login(&answer(429, r#"{"code":"RATE_LIMITED"}"#), "user1@x.example").unwrap_err();
        assert_eq!(throttled, r#"HTTP 429: {"code":"RATE_LIMITED"}"#);
        assert!(check_refresh(&answer(200, login), "user1@x.example").is_ok());
        assert!(check_refresh(&answer(200, r#"{"idToken":"i"}"#), "user1@x.example").is_err());
        assert!(check_register(&answer(202, r#"{"accepted":true,"message":"m"}"#)).is_ok());
        assert!(check_register(&answer(202, r#"{"accepted":false}"#)).is_err());
        assert!(check_register(&answer(201, r#"{"accepted":true}"#)).is_err());
        assert!(check_register(&answer(202, "not json")).is_err());
        assert_eq!(url("http://h:1/", ME), "http://h:1/auth/customer/me");
    }
}
