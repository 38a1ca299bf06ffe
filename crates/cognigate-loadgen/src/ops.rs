//! The benchmarked operations: the request body of the i-th request and the check its answer must pass.
//!
//! Bodies are built the same way for every server; only the ids and tokens that each server issued differ.
//! Requests that name a seeded user walk the pool in a fixed pseudo-random order (i × 7919 mod N), so no
//! server is measured on one hot record. Every answer is checked: a figure with a failed check is invalid.

use anyhow::{Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The email of the i-th seeded user (0-based). Six digits: up to a million users.
pub fn seeded_email(index: u64) -> String {
    format!("user{index:06}@bench.example")
}

/// How many seeded users each prefix filter matches: the prefix `user` + 5 digits names a block of ten.
pub const PREFIX_BLOCK: u64 = 10;

/// The operations the benchmark knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// InitiateAuth USER_PASSWORD_AUTH with the benchmark user.
    PasswordAuth,
    /// InitiateAuth REFRESH_TOKEN_AUTH with the refresh token of one earlier sign-in.
    RefreshAuth,
    /// GetUser with the access token of one earlier sign-in.
    GetUser,
    /// AdminGetUser of a seeded user, by email.
    AdminGetUser,
    /// ListUsers with `email ^= "userNNNNN"` (a block of ten seeded users).
    ListUsersPrefix,
    /// ListUsers with `email = "userNNNNNN@bench.example"` (one seeded user).
    ListUsersExact,
}

/// What a server issued and what a request needs to name.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
    /// How many users were seeded (`user000000` to `user{N-1}`).
    pub users: u64,
}

impl Op {
    /// The X-Amz-Target operation.
    pub fn operation(self) -> &'static str {
        match self {
            Self::PasswordAuth | Self::RefreshAuth => "InitiateAuth",
            Self::GetUser => "GetUser",
            Self::AdminGetUser => "AdminGetUser",
            Self::ListUsersPrefix | Self::ListUsersExact => "ListUsers",
        }
    }

    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::PasswordAuth => "USER_PASSWORD_AUTH",
            Self::RefreshAuth => "REFRESH_TOKEN_AUTH",
            Self::GetUser => "GetUser (access token)",
            Self::AdminGetUser => "AdminGetUser",
            Self::ListUsersPrefix => "ListUsers email ^= (10 hits)",
            Self::ListUsersExact => "ListUsers email = (1 hit)",
        }
    }

    /// Whether the operation needs tokens from a sign-in first.
    pub fn needs_tokens(self) -> bool {
        matches!(self, Self::RefreshAuth | Self::GetUser)
    }

    /// The seeded user (or block of ten) the i-th request names.
    fn pick(i: u64, count: u64) -> u64 {
        if count == 0 { 0 } else { i.wrapping_mul(7919).wrapping_add(13) % count }
    }

    /// The body of the i-th request.
    pub fn body(self, target: &Target, i: u64) -> String {
        let body = match self {
            Self::PasswordAuth => json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": target.client_id,
                "AuthParameters": { "USERNAME": target.username, "PASSWORD": target.password },
            }),
            Self::RefreshAuth => json!({
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "ClientId": target.client_id,
                "AuthParameters": { "REFRESH_TOKEN": target.refresh_token },
            }),
            Self::GetUser => json!({ "AccessToken": target.access_token }),
            Self::AdminGetUser => json!({
                "UserPoolId": target.pool_id,
                "Username": seeded_email(Self::pick(i, target.users)),
            }),
            Self::ListUsersPrefix => json!({
                "UserPoolId": target.pool_id,
                "Filter": format!("email ^= \"{}\"", prefix(Self::pick(i, target.users / PREFIX_BLOCK))),
                "Limit": 60,
            }),
            Self::ListUsersExact => json!({
                "UserPoolId": target.pool_id,
                "Filter": format!("email = \"{}\"", seeded_email(Self::pick(i, target.users))),
                "Limit": 60,
            }),
        };
        body.to_string()
    }

    /// Checks the answer to the i-th request.
    pub fn check(self, target: &Target, i: u64, answer: &[u8]) -> Result<()> {
        let value: Value = serde_json::from_slice(answer).map_err(|error| anyhow!("not JSON: {error}"))?;
        match self {
            Self::PasswordAuth | Self::RefreshAuth => {
                if !value["AuthenticationResult"]["AccessToken"].is_string() {
                    bail!("no AuthenticationResult.AccessToken");
                }
            }
            Self::GetUser => expect_email(&value["UserAttributes"], &target.username)?,
            Self::AdminGetUser => {
                expect_email(&value["UserAttributes"], &seeded_email(Self::pick(i, target.users)))?;
            }
            Self::ListUsersPrefix => {
                let start = Self::pick(i, target.users / PREFIX_BLOCK) * PREFIX_BLOCK;
                let mut emails = listed_emails(&value)?;
                emails.sort();
                let expected: Vec<String> = (start..start + PREFIX_BLOCK).map(seeded_email).collect();
                if emails != expected {
                    bail!("expected {expected:?}, got {emails:?}");
                }
            }
            Self::ListUsersExact => {
                let expected = vec![seeded_email(Self::pick(i, target.users))];
                let emails = listed_emails(&value)?;
                if emails != expected {
                    bail!("expected {expected:?}, got {emails:?}");
                }
            }
        }
        Ok(())
    }
}

/// The filter prefix of the j-th block of ten seeded users.
fn prefix(block: u64) -> String {
    format!("user{block:05}")
}

/// The `email` attribute from a `[{Name, Value}]` list.
fn email_of(attributes: &Value) -> Option<&str> {
    attributes.as_array()?.iter().find(|a| a["Name"] == "email").and_then(|a| a["Value"].as_str())
}

fn expect_email(attributes: &Value, expected: &str) -> Result<()> {
    match email_of(attributes) {
        Some(email) if email.eq_ignore_ascii_case(expected) => Ok(()),
        other => bail!("expected email {expected}, got {other:?}"),
    }
}

/// The emails of the users a ListUsers answer lists.
fn listed_emails(value: &Value) -> Result<Vec<String>> {
    let users = value["Users"].as_array().ok_or_else(|| anyhow!("no Users list"))?;
    users
        .iter()
        .map(|user| {
            email_of(&user["Attributes"])
                .map(str::to_lowercase)
                .ok_or_else(|| anyhow!("a listed user has no email attribute"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_walk_the_seeded_users_and_checks_accept_the_right_answers() {
        let target = Target { pool_id: "p".into(), users: 1000, ..Target::default() };
        let body: Value = serde_json::from_str(&Op::ListUsersPrefix.body(&target, 3)).unwrap();
        let block = Op::pick(3, 100);
        assert_eq!(body["Filter"], format!("email ^= \"user{block:05}\""));
        let users: Vec<Value> = (block * 10..block * 10 + 10)
            .rev()
            .map(|n| json!({"Attributes": [{"Name": "email", "Value": seeded_email(n)}]}))
            .collect();
        let answer = json!({ "Users": users }).to_string();
        Op::ListUsersPrefix.check(&target, 3, answer.as_bytes()).unwrap();
        assert!(Op::ListUsersPrefix.check(&target, 4, answer.as_bytes()).is_err());
        assert!(Op::ListUsersExact.check(&target, 3, br#"{"Users": []}"#).is_err());
        assert!((0..10_000).all(|i| Op::pick(i, 1000) < 1000));
    }
}
