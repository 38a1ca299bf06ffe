//! The Lambdas from the outside, with real event JSON in the shapes AWS documents (`tests/events`): the
//! authorizer over every route of the shipped route table for every role and tier, the token attacks and
//! malformed events it must deny, with its JWKS fetched over HTTP from a server on 127.0.0.1; each trigger;
//! and the PreTokenGeneration claims against the embedded engine's on the same user.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod attacks;
mod authorizer;
mod parity;
mod triggers;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};

use cognigate_config::{Config, Environment, PoolKind};
use cognigate_token::{AccessClaims, COGNITO_ADMIN_SCOPE, JwkSet, SigningKey, TokenUse, new_token_id, sign};
use serde_json::{Map, Value};

pub const SHIPPED: &str = include_str!("../../../../cognigate.toml");
pub const CUSTOMER_POOL_ID: &str = "eu-west-1_TestCust1";
pub const STAFF_POOL_ID: &str = "eu-west-1_TestStaf1";
pub const CUSTOMER_CLIENT: &str = "testcustomerclient000000001";
pub const STAFF_CLIENT: &str = "teststaffclient00000000001";

/// The shipped configuration in `environment`, with both pools on Cognito (the test pool ids above) and
/// `endpoint` as their endpoint override when given, plus `extra` overrides.
pub fn config(environment: Environment, endpoint: Option<&str>, extra: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = Vec::new();
    for (pool, id, client) in
        [("CUSTOMER", CUSTOMER_POOL_ID, CUSTOMER_CLIENT), ("STAFF", STAFF_POOL_ID, STAFF_CLIENT)]
    {
        let key = |rest: &str| format!("COGNIGATE_POOLS__{pool}__{rest}");
        vars.push((key("PROVIDER"), "cognito".to_owned()));
        vars.push((key("COGNITO__REGION"), "eu-west-1".to_owned()));
        vars.push((key("COGNITO__USER_POOL_ID"), id.to_owned()));
        vars.push((key("COGNITO__CLIENT_ID"), client.to_owned()));
        if let Some(endpoint) = endpoint {
            vars.push((key("COGNITO__ENDPOINT"), endpoint.to_owned()));
        }
    }
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    cognigate_config::load_from_str(
        SHIPPED,
        "cognigate.toml",
        environment,
        vars.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .unwrap_or_else(|error| panic!("{error}"))
}

/// A fixture from `tests/events`.
pub fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Three RSA keys generated once per test process (key generation is slow in a debug build): the
/// customer pool's, the staff pool's, and one nobody publishes.
pub fn key(index: usize) -> SigningKey {
    static KEYS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..3)
            .map(|_| {
                let key = SigningKey::generate().unwrap();
                (key.kid().to_owned(), key.to_pkcs8_der().unwrap().to_vec())
            })
            .collect()
    });
    let (kid, der) = &keys[index];
    SigningKey::from_pkcs8_der(kid.clone(), der).unwrap()
}

pub const CUSTOMER_KEY: usize = 0;
pub const STAFF_KEY: usize = 1;
pub const ROGUE_KEY: usize = 2;

/// A JWKS server on 127.0.0.1: `/<pool id>/.well-known/jwks.json` for both test pools, counting requests.
#[derive(Debug)]
pub struct JwksServer {
    pub base: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl JwksServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sets: BTreeMap<String, String> = [(CUSTOMER_POOL_ID, CUSTOMER_KEY), (STAFF_POOL_ID, STAFF_KEY)]
            .into_iter()
            .map(|(pool, index)| {
                let set = JwkSet::from_signing_keys([&key(index)]);
                (format!("/{pool}/.well-known/jwks.json"), serde_json::to_string(&set).unwrap())
            })
            .collect();
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Drain the headers.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                log.lock().unwrap().push(path.clone());
                let (status, body) = match sets.get(&path) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", "{}".to_owned()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self { base, requests }
    }

    /// JWKS requests for `pool_id` so far.
    pub fn fetches(&self, pool_id: &str) -> usize {
        let path = format!("/{pool_id}/.well-known/jwks.json");
        self.requests.lock().unwrap().iter().filter(|p| **p == path).count()
    }

    pub fn issuer(&self, pool: PoolKind) -> String {
        format!("{}/{}", self.base, pool_id(pool))
    }
}

pub fn pool_id(pool: PoolKind) -> &'static str {
    match pool {
        PoolKind::Customer => CUSTOMER_POOL_ID,
        PoolKind::Staff => STAFF_POOL_ID,
    }
}

pub fn client_id(pool: PoolKind) -> &'static str {
    match pool {
        PoolKind::Customer => CUSTOMER_CLIENT,
        PoolKind::Staff => STAFF_CLIENT,
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Access-token claims as Cognito issues them for `pool`'s app client, with `extra` from PreTokenGeneration.
pub fn access_claims(issuer: &str, pool: PoolKind, sub: &str, extra: Map<String, Value>) -> AccessClaims {
    let now = now();
    AccessClaims {
        sub: sub.to_owned(),
        groups: Vec::new(),
        iss: issuer.to_owned(),
        version: 2,
        client_id: client_id(pool).to_owned(),
        origin_jti: new_token_id(),
        event_id: new_token_id(),
        token_use: TokenUse::Access,
        scope: COGNITO_ADMIN_SCOPE.to_owned(),
        auth_time: now - 5,
        exp: now + 3600,
        iat: now - 5,
        jti: new_token_id(),
        username: sub.to_owned(),
        extra,
    }
}

/// A signed access token of `pool`.
pub fn mint(issuer: &str, pool: PoolKind, sub: &str, extra: Map<String, Value>) -> String {
    let index = if pool == PoolKind::Customer { CUSTOMER_KEY } else { STAFF_KEY };
    sign(&key(index), &access_claims(issuer, pool, sub, extra)).unwrap()
}

/// The REQUEST authorizer fixture for `method path` with `authorization` (or no header).
pub fn request_event(method: &str, path: &str, authorization: Option<&str>) -> Value {
    let mut event = event("authorizer-request");
    event["httpMethod"] = Value::String(method.to_owned());
    event["path"] = Value::String(path.to_owned());
    event["resource"] = Value::String(path.to_owned());
    event["requestContext"]["httpMethod"] = Value::String(method.to_owned());
    event["requestContext"]["resourcePath"] = Value::String(path.to_owned());
    event["requestContext"]["path"] = Value::String(format!("/prod{path}"));
    event["methodArn"] =
        Value::String(format!("arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/{method}{path}"));
    for headers in ["headers", "multiValueHeaders"] {
        let map = event[headers].as_object_mut().unwrap();
        map.remove("Authorization");
        if let Some(value) = authorization {
            let value = if headers == "headers" {
                Value::String(value.to_owned())
            } else {
                serde_json::json!([value])
            };
            map.insert("Authorization".to_owned(), value);
        }
    }
    event
}

/// The effect (`Allow`/`Deny`) and resource of an authorizer response.
pub fn effect(response: &Value) -> (&str, &str) {
    let statement = &response["policyDocument"]["Statement"][0];
    (statement["Effect"].as_str().unwrap(), statement["Resource"][0].as_str().unwrap())
}
