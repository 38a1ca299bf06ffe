//! The token crate from the outside: sign→verify round trips, every library-level attack of the JWT
//! catalogue (security notes, section G), key rotation, revocation and the verified-token cache, and the
//! HTTP JWKS source against a local server. Time comes from a `FixedClock`; nothing sleeps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod attacks;
mod cache;
mod http;
mod rotation;
mod roundtrip;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RsaEncoding;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognigate_token::{
    AccessClaims, Audience, COGNITO_ADMIN_SCOPE, FixedClock, IdClaims, JwkSet, RevocationList, SigningKey,
    StaticJwksSource, TokenUse, VerifiedToken, Verifier, VerifierOptions, VerifyError, new_token_id, sign,
};
use serde_json::{Map, Value, json};

pub const NOW: u64 = 1_750_000_000;
pub const CUSTOMER_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Cust0mer1";
pub const STAFF_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Staff0001";
pub const WEB: &str = "customerwebclient0000000001";
pub const MOBILE: &str = "customermobileclient000001";
pub const OTHER_CLIENT: &str = "someotherappclient00000001";
pub const CONSOLE: &str = "staffconsoleclient00000001";

/// Two pools with their keys, one verifier per pool (customer: access for web+mobile, ID for web; staff:
/// access for the console), sharing one JWKS source, clock and revocation list.
#[derive(Debug)]
pub struct World {
    pub customer_key: SigningKey,
    pub staff_key: SigningKey,
    pub source: Arc<StaticJwksSource>,
    pub clock: Arc<FixedClock>,
    pub revocations: Arc<RevocationList>,
    pub customer: Verifier,
    pub staff: Verifier,
}

impl Default for World {
    fn default() -> Self {
        Self::with_options(VerifierOptions::default())
    }
}

impl World {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_options(options: VerifierOptions) -> Self {
        let customer_key = shared_key(0);
        let staff_key = shared_key(1);
        let source = Arc::new(StaticJwksSource::new());
        source.set(CUSTOMER_ISSUER, JwkSet::from_signing_keys([&customer_key]));
        source.set(STAFF_ISSUER, JwkSet::from_signing_keys([&staff_key]));
        let clock = Arc::new(FixedClock::new(NOW));
        let revocations = Arc::new(RevocationList::new());
        let customer = Verifier::builder(source.clone())
            .audience(Audience::access(CUSTOMER_ISSUER, [WEB, MOBILE]))
            .audience(Audience::id(CUSTOMER_ISSUER, [WEB]))
            .clock(clock.clone())
            .revocation(revocations.clone())
            .options(options.clone())
            .build()
            .unwrap();
        let staff = Verifier::builder(source.clone())
            .audience(Audience::access(STAFF_ISSUER, [CONSOLE]))
            .clock(clock.clone())
            .revocation(revocations.clone())
            .options(options)
            .build()
            .unwrap();
        Self { customer_key, staff_key, source, clock, revocations, customer, staff }
    }

    /// A valid customer access token for `WEB`.
    pub fn customer_access(&self) -> String {
        sign(&self.customer_key, &access_claims(CUSTOMER_ISSUER, WEB)).unwrap()
    }

    /// The customer verifier's result for `token`.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        block_on(self.customer.verify(token))
    }

    pub fn verify_staff(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        block_on(self.staff.verify(token))
    }
}

/// One of two RSA keys generated once per test process (key generation is the slow part of these tests
/// in a debug build); each call returns an independent `SigningKey` imported from the stored PKCS#8.
pub fn shared_key(index: usize) -> SigningKey {
    static KEYS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..2)
            .map(|_| {
                let key = SigningKey::generate().unwrap();
                (key.kid().to_owned(), key.to_pkcs8_der().unwrap().to_vec())
            })
            .collect()
    });
    let (kid, der) = &keys[index];
    SigningKey::from_pkcs8_der(kid.clone(), der).unwrap()
}

/// Runs a future on a fresh current-thread runtime (the verifier never waits on time, only on the JWKS
/// source, which is in memory here).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

pub fn access_claims(issuer: &str, client_id: &str) -> AccessClaims {
    let mut extra = Map::new();
    extra.insert("role".into(), json!("dealer"));
    extra.insert("tier".into(), json!("premium"));
    AccessClaims {
        sub: "8f1e7c1a-1111-4c4c-9a9a-000000000001".into(),
        groups: vec!["dealers".into()],
        iss: issuer.into(),
        version: 2,
        client_id: client_id.into(),
        origin_jti: new_token_id(),
        event_id: new_token_id(),
        token_use: TokenUse::Access,
        scope: COGNITO_ADMIN_SCOPE.into(),
        auth_time: NOW - 10,
        exp: NOW + 3590,
        iat: NOW - 10,
        jti: new_token_id(),
        username: "dealer-one".into(),
        extra,
    }
}

pub fn id_claims(issuer: &str, client_id: &str) -> IdClaims {
    let mut extra = Map::new();
    extra.insert("custom:tier".into(), json!("premium"));
    IdClaims {
        sub: "8f1e7c1a-1111-4c4c-9a9a-000000000001".into(),
        groups: vec!["dealers".into()],
        email_verified: Some(true),
        iss: issuer.into(),
        username: "dealer-one".into(),
        origin_jti: new_token_id(),
        aud: client_id.into(),
        event_id: new_token_id(),
        token_use: TokenUse::Id,
        auth_time: NOW - 10,
        exp: NOW + 3590,
        iat: NOW - 10,
        jti: new_token_id(),
        email: Some("dealer@example.com".into()),
        extra,
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(part).unwrap()
}

/// The aws-lc key pair behind `key`, for signing arbitrary bytes.
pub fn key_pair(key: &SigningKey) -> aws_lc_rs::rsa::KeyPair {
    aws_lc_rs::rsa::KeyPair::from_pkcs8(&key.to_pkcs8_der().unwrap()).unwrap()
}

/// `header.payload` (both given as raw JSON text) signed with `key` using `encoding`.
pub fn sign_raw_with(
    key: &SigningKey,
    encoding: &'static dyn RsaEncoding,
    header: &str,
    payload: &str,
) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let pair = key_pair(key);
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(encoding, &SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
    format!("{input}.{}", b64(signature))
}

/// `header.payload` (raw JSON text) signed RS256 with `key`.
pub fn sign_raw(key: &SigningKey, header: &str, payload: &str) -> String {
    sign_raw_with(key, &aws_lc_rs::signature::RSA_PKCS1_SHA256, header, payload)
}

/// The standard header for `key`.
pub fn header_for(key: &SigningKey) -> String {
    json!({"alg": "RS256", "kid": key.kid()}).to_string()
}

/// A valid customer access payload as a JSON object, to be edited by a test.
pub fn access_payload() -> Map<String, Value> {
    match serde_json::to_value(access_claims(CUSTOMER_ISSUER, WEB)).unwrap() {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// A one-route HTTP/1.1 server on a free loopback port: answers every request with `respond(path)` and
/// records the request lines. Runs until the test process ends.
#[derive(Debug)]
pub struct TestServer {
    pub base: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

pub type Response = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// A response header that makes `TestServer` leave out `Content-Length`.
pub const NO_LENGTH: &str = "X-Test-No-Length";

impl TestServer {
    pub fn start(respond: impl Fn(&str) -> Response + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).map(|n| n == 1).unwrap_or(false)
                {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                seen.lock().unwrap().push(line);
                let (status, headers, body) = respond(&path);
                let mut response = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
                // A response may omit its length: the body then runs until the connection closes.
                if !headers.iter().any(|(name, _)| *name == NO_LENGTH) {
                    response.push_str(&format!("Content-Length: {}\r\n", body.len()));
                }
                for (name, value) in headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                response.push_str("\r\n");
                let _ = stream.write_all(response.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Self { base, requests }
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}
