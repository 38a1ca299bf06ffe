//! Seeding the pools with `user000000@bench.example` ... before the benchmark.
//!
//! Creating 100k users through the API is slow everywhere: cognito-local rewrites its whole JSON database on
//! every write and cognigate hashes each password with argon2id. So the two servers that persist are seeded
//! offline, while they are stopped: cognigate through its own store (`Store::insert_user`, the same rows the
//! engine writes; seeded users have no password, which AdminGetUser and ListUsers never read) and
//! cognito-local by writing its pool file (`.cognito/db/<poolId>.json`) in the format its StormDB store
//! reads. moto keeps everything in memory, so it is seeded through AdminCreateUser with MessageAction
//! SUPPRESS over several connections. Every seeded user has the attributes `email` and
//! `email_verified=true`.
//!
//! The auth benchmark (`bench/auth`) needs users that can sign in, so it seeds through the API on the
//! running server instead (`confirmed_through_api`: AdminCreateUser, then AdminSetUserPassword with
//! `Permanent`), a few thousand at most: two argon2 hashes each.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};
use cognigate_engine::model::{User, UserMfa, UserStatus};
use cognigate_engine::store::Store as _;
use cognigate_store::SqlStore;
use reqwest::Client;
use serde_json::{Value, json};

use crate::ops::seeded_email;
use crate::wire;

/// AdminCreateUser of a seeded user: welcome message suppressed, email verified, and the temporary
/// password when one is given.
fn create_body(pool_id: &str, email: &str, password: Option<&str>) -> Value {
    let mut body = json!({
        "UserPoolId": pool_id,
        "Username": email,
        "MessageAction": "SUPPRESS",
        "UserAttributes": [
            { "Name": "email", "Value": email },
            { "Name": "email_verified", "Value": "true" },
        ],
    });
    if let Some(password) = password {
        body["TemporaryPassword"] = json!(password);
    }
    body
}

/// AdminSetUserPassword with `Permanent`: the user is CONFIRMED with `password`.
fn set_password_body(pool_id: &str, email: &str, password: &str) -> Value {
    json!({ "UserPoolId": pool_id, "Username": email, "Password": password, "Permanent": true })
}

/// One confirmed user with a known password: AdminCreateUser, then AdminSetUserPassword with `Permanent`.
/// Two argon2 hashes on the server.
pub async fn confirmed_user(
    client: &Client,
    url: &str,
    pool_id: &str,
    username: &str,
    password: &str,
) -> Result<()> {
    wire::call(client, url, "AdminCreateUser", &create_body(pool_id, username, Some(password))).await?;
    wire::call(client, url, "AdminSetUserPassword", &set_password_body(pool_id, username, password)).await?;
    Ok(())
}

/// How often the auth seeding repeats a call the server failed (HTTP 5xx) before giving up.
const SEED_ATTEMPTS: u32 = 5;

/// A wire call that is repeated when the server fails (HTTP 5xx), counting each repetition; any other answer
/// is final. With `exists_ok`, `UsernameExistsException` after a failed attempt counts as done (the failed
/// attempt did create the user).
async fn call_repeating(
    client: &Client,
    url: &str,
    operation: &str,
    body: &Value,
    exists_ok: bool,
    repeats: &AtomicU64,
) -> Result<()> {
    let mut last = String::new();
    for attempt in 0..SEED_ATTEMPTS {
        let answer = wire::send(client, url, operation, body.to_string()).await?;
        match answer.status {
            200 => return Ok(()),
            400 if attempt > 0 && exists_ok && answer.snippet().contains("UsernameExistsException") => {
                return Ok(());
            }
            500..=599 => {
                repeats.fetch_add(1, Ordering::Relaxed);
                last = format!("HTTP {}: {}", answer.status, answer.snippet());
                if repeats.load(Ordering::Relaxed) <= 3 {
                    eprintln!("  {operation} failed ({last}); repeating it");
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            status => bail!("{operation} at {url} answered HTTP {status}: {}", answer.snippet()),
        }
    }
    bail!("{operation} at {url} failed {SEED_ATTEMPTS} times; last: {last}")
}

/// Users `from..to` through the API, `concurrency` at a time: AdminCreateUser, and with `password` also
/// AdminSetUserPassword with `Permanent` (confirmed users the auth benchmark signs in with). A call the
/// server fails (HTTP 5xx) is repeated; returns how many repetitions there were, for the report.
pub async fn through_api(
    client: &Client,
    url: &str,
    pool_id: &str,
    range: (u64, u64),
    password: Option<&str>,
    concurrency: usize,
) -> Result<u64> {
    let (from, to) = range;
    let next = Arc::new(AtomicU64::new(from));
    let repeats = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, pool_id, password, next, repeats) = (
            client.clone(),
            url.to_owned(),
            pool_id.to_owned(),
            password.map(str::to_owned),
            next.clone(),
            repeats.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    return Ok::<(), anyhow::Error>(());
                }
                let email = seeded_email(i);
                async {
                    let create = create_body(&pool_id, &email, password.as_deref());
                    call_repeating(&client, &url, "AdminCreateUser", &create, true, &repeats).await?;
                    if let Some(password) = &password {
                        let set = set_password_body(&pool_id, &email, password);
                        call_repeating(&client, &url, "AdminSetUserPassword", &set, false, &repeats).await?;
                    }
                    anyhow::Ok(())
                }
                .await
                .with_context(|| format!("seeding user {i}"))?;
                if (i + 1).is_multiple_of(1000) {
                    eprintln!(
                        "  ... {} users ({:.0}/s)",
                        i + 1,
                        (i + 1 - from) as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for worker in workers {
        worker.await.context("a seeding worker panicked")??;
    }
    Ok(repeats.load(Ordering::Relaxed))
}

fn now_ms() -> Result<i64> {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).context("the clock is before 1970")?;
    i64::try_from(since.as_millis()).context("the clock is too far in the future")
}

/// Users `from..to` straight into cognigate's store (the server must be stopped).
pub async fn into_cognigate_store(store_url: &str, pool_id: &str, range: (u64, u64)) -> Result<()> {
    let store =
        SqlStore::open(store_url).await.map_err(|error| anyhow!("cannot open {store_url}: {error}"))?;
    let now = now_ms()?;
    let started = Instant::now();
    for i in range.0..range.1 {
        let email = seeded_email(i);
        // As the engine makes them in an email-username pool: the username is generated (the sub) and
        // the email is the sign-in alias.
        let sub = uuid::Uuid::new_v4().to_string();
        let user = User {
            pool_id: pool_id.to_owned(),
            username: sub.clone(),
            sub,
            sign_in_alias: Some(email.clone()),
            attributes: BTreeMap::from([
                ("email".to_owned(), email),
                ("email_verified".to_owned(), "true".to_owned()),
            ]),
            status: UserStatus::Confirmed,
            enabled: true,
            password_hash: None,
            temporary_password_expires_ms: None,
            pending_email: None,
            mfa: UserMfa::default(),
            tokens_valid_after_ms: 0,
            created_ms: now,
            updated_ms: now,
        };
        store.insert_user(&user).await.map_err(|error| anyhow!("inserting user {i}: {error}"))?;
        if (i + 1).is_multiple_of(10_000) {
            eprintln!(
                "  ... {} users ({:.0}/s)",
                i + 1,
                (i + 1 - range.0) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Users `from..to` into cognito-local's pool file (the server must be stopped). The pool has no
/// UsernameAttributes (see run.sh), so the username is the email and the record is keyed by it, as
/// AdminCreateUser would store it.
pub fn into_cognito_local_file(file: &Path, range: (u64, u64)) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut db: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let aliases = &db["Options"]["UsernameAttributes"];
    if aliases.as_array().is_some_and(|a| !a.is_empty()) {
        bail!("the pool in {} has UsernameAttributes {aliases}; the seeding expects none", file.display());
    }
    let users = db
        .as_object_mut()
        .ok_or_else(|| anyhow!("{} is not a JSON object", file.display()))?
        .entry("Users")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| anyhow!("Users in {} is not an object", file.display()))?;
    let date = "2026-01-01T00:00:00.000Z";
    for i in range.0..range.1 {
        let email = seeded_email(i);
        let record = json!({
            "Username": email,
            "Password": "Seeded-Passw0rd",
            "Attributes": [
                { "Name": "email", "Value": email },
                { "Name": "email_verified", "Value": "true" },
                { "Name": "sub", "Value": uuid::Uuid::new_v4().to_string() },
            ],
            "Enabled": true,
            "UserStatus": "CONFIRMED",
            "UserCreateDate": date,
            "UserLastModifiedDate": date,
            "RefreshTokens": [],
        });
        if users.insert(email.clone(), record).is_some() {
            bail!("{email} is already in {}", file.display());
        }
    }
    let temporary = file.with_extension("json.seeding");
    std::fs::write(&temporary, serde_json::to_vec_pretty(&db)?)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, file).with_context(|| format!("cannot replace {}", file.display()))?;
    Ok(())
}
