//! Token verification throughput, for the comparison with aws-jwt-verify that `bench/verify/run.sh`
//! drives: this binary writes the shared fixtures (one RSA-2048 key, its JWKS, 1,000 distinct Cognito
//! access tokens) and measures our `Verifier` on them, single-threaded:
//!
//! - first-seen: the verifier's token cache is emptied (untimed) before each pass over the 1,000 tokens,
//!   so every verification decodes, parses, looks the key up and checks the RSA signature. Measured twice:
//!   `verify` alone (typed claims only), and `verify` + `claims()` (the full claim map built, as
//!   aws-jwt-verify always returns the whole payload);
//! - repeated: the same tokens again with a warm cache, `verify` + `claims()`: SHA-256 of the token, a map
//!   lookup, the expiry check and the revocation check (an in-memory `RevocationList` holding 1,000 revoked
//!   ids and 1,000 revoked subjects, none matching);
//! - jsonwebtoken 11.1 `decode` with a cached `DecodingKey` and the same claim checks, for reference.
//!
//! `bench/verify/run.sh` alternates rounds of Node and of this binary, so that load from other processes
//! hits both sides alike, then asks this binary for the report: per figure and per ratio, the median over
//! the rounds.
//!
//! Usage (via cargo, which adds `--bench`):
//!   cargo bench -p cognigate-token --bench verify -- gen <dir> [--tokens 1000]
//!   cargo bench -p cognigate-token --bench verify -- run <dir> [--n 200000] [--trials 1] [--out <file>]
//!   cargo bench -p cognigate-token --bench verify -- report <dir> --rounds <R>
//!     (reads <dir>/node-<i>.json and <dir>/rust-<i>.json, i = 1..=R)
//! With no arguments (plain `cargo bench`) it generates fixtures in a temporary directory and runs once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark fails by panicking and reports by printing"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cognigate_token::{
    AccessClaims, Audience, COGNITO_ADMIN_SCOPE, JwkSet, RevocationList, SigningKey, StaticJwksSource,
    TokenUse, Verifier, VerifierOptions, new_token_id, sign,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

const REGION: &str = "us-east-1";
const USER_POOL_ID: &str = "us-east-1_BenchPoo1";
const CLIENT_ID: &str = "benchclient0000000000000001";

fn issuer() -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL_ID}")
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let flag = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let dir = || PathBuf::from(args.get(1).expect("a fixtures directory"));
    match args.first().map(String::as_str) {
        Some("gen") => generate(&dir(), flag("--tokens", "1000").parse().unwrap()),
        Some("run") => {
            let result = run(
                &dir(),
                flag("--n", "200000").parse().unwrap(),
                flag("--trials", "1").parse().unwrap(),
            );
            let out = flag("--out", "");
            if !out.is_empty() {
                std::fs::write(&out, serde_json::to_vec_pretty(&result).unwrap()).unwrap();
            }
        }
        Some("report") => report(&dir(), flag("--rounds", "1").parse().unwrap()),
        _ => {
            let dir = std::env::temp_dir().join(format!("cognigate-bench-verify-{}", std::process::id()));
            generate(&dir, 1000);
            run(&dir, 50_000, 3);
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

/// Writes `jwks.json`, `tokens.json` and `meta.json` into `dir`.
fn generate(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let key = SigningKey::generate().unwrap();
    let now = now();
    let tokens: Vec<String> = (0..count)
        .map(|i| {
            let claims = AccessClaims {
                sub: new_token_id(),
                groups: vec!["dealers".into()],
                iss: issuer(),
                version: 2,
                client_id: CLIENT_ID.into(),
                origin_jti: new_token_id(),
                event_id: new_token_id(),
                token_use: TokenUse::Access,
                scope: COGNITO_ADMIN_SCOPE.into(),
                auth_time: now - 60,
                exp: now + 24 * 3600,
                iat: now - 60,
                jti: new_token_id(),
                username: format!("user{i:06}"),
                extra: Map::new(),
            };
            sign(&key, &claims).unwrap()
        })
        .collect();
    let write = |name: &str, value: &Value| {
        std::fs::write(dir.join(name), serde_json::to_vec_pretty(value).unwrap()).unwrap();
    };
    write(
        "jwks.json",
        &serde_json::to_value(JwkSet::from_signing_keys([&key])).unwrap(),
    );
    write("tokens.json", &json!(tokens));
    write(
        "meta.json",
        &json!({
            "userPoolId": USER_POOL_ID,
            "issuer": issuer(),
            "clientId": CLIENT_ID,
            "tokenUse": "access",
            "count": count,
        }),
    );
    println!(
        "wrote {count} tokens ({} bytes each on average) and the JWKS to {}",
        tokens.iter().map(String::len).sum::<usize>() / count.max(1),
        dir.display()
    );
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// What `verify.mjs` writes.
#[derive(Deserialize)]
struct NodeResult {
    tokens_per_s: f64,
    node: String,
    aws_jwt_verify: String,
}

/// One run of this binary, in tokens per second (medians over its trials).
#[derive(Serialize, Deserialize)]
struct RustResult {
    first_seen: f64,
    first_seen_with_claims: f64,
    repeated: f64,
    jsonwebtoken: f64,
    first_seen_per_trial: usize,
    repeated_per_trial: usize,
    tokens: usize,
    average_token_bytes: usize,
}

fn run(dir: &Path, n: usize, trials: usize) -> RustResult {
    let jwks: JwkSet = read_json(&dir.join("jwks.json"));
    let tokens: Vec<String> = read_json(&dir.join("tokens.json"));
    assert!(!tokens.is_empty());
    let passes = n.div_ceil(tokens.len()).max(1);
    let per_trial = passes * tokens.len();

    let revocations = Arc::new(RevocationList::new());
    for i in 0..1000u64 {
        revocations.revoke_origin_jti(new_token_id());
        revocations.revoke_subject_until(new_token_id(), i);
    }
    let verifier = Verifier::builder(Arc::new(StaticJwksSource::with_set(issuer(), jwks.clone())))
        .audience(Audience::access(issuer(), [CLIENT_ID]))
        .revocation(revocations)
        .options(VerifierOptions {
            token_cache_capacity: 10_000,
            ..VerifierOptions::default()
        })
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(verifier.hydrate()).unwrap();

    let verify_all = |read_claims: bool| {
        runtime.block_on(async {
            for token in &tokens {
                let verified = verifier.verify(token).await.unwrap();
                if read_claims {
                    assert!(verified.claims().len() > 10);
                }
            }
        });
    };
    // Correctness first: every token verifies, a tampered one does not.
    verify_all(true);
    let (body, signature) = tokens[0].rsplit_once('.').unwrap();
    let other = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{body}.{other}{}", &signature[1..]);
    assert!(runtime.block_on(verifier.verify(&tampered)).is_err());

    let first_seen_trial = |read_claims: bool| {
        let checks_before = verifier.stats().signature_checks;
        let mut elapsed = Duration::ZERO;
        for _ in 0..passes {
            verifier.clear_token_cache();
            let start = Instant::now();
            verify_all(read_claims);
            elapsed += start.elapsed();
        }
        assert_eq!(
            verifier.stats().signature_checks - checks_before,
            per_trial as u64
        );
        per_trial as f64 / elapsed.as_secs_f64()
    };
    verifier.clear_token_cache();
    verify_all(false); // warm-up
    let mut first_seen = Vec::new();
    let mut first_seen_with_claims = Vec::new();
    for _ in 0..trials {
        first_seen.push(first_seen_trial(false));
        first_seen_with_claims.push(first_seen_trial(true));
    }

    // Repeated: the cache is warm from the last first-seen pass.
    let repeated_passes = passes * 10;
    let mut repeated = Vec::new();
    for _ in 0..trials {
        let checks_before = verifier.stats().signature_checks;
        let start = Instant::now();
        for _ in 0..repeated_passes {
            verify_all(true);
        }
        let elapsed = start.elapsed();
        assert_eq!(verifier.stats().signature_checks, checks_before, "all cache hits");
        repeated.push((repeated_passes * tokens.len()) as f64 / elapsed.as_secs_f64());
    }

    let result = RustResult {
        first_seen: median(first_seen),
        first_seen_with_claims: median(first_seen_with_claims),
        repeated: median(repeated),
        jsonwebtoken: jsonwebtoken_reference(&jwks, &tokens, passes, trials),
        first_seen_per_trial: per_trial,
        repeated_per_trial: repeated_passes * tokens.len(),
        tokens: tokens.len(),
        average_token_bytes: tokens.iter().map(String::len).sum::<usize>() / tokens.len(),
    };
    println!(
        "cognigate-token: first-seen {:.0}/s, first-seen + claims() {:.0}/s, repeated {:.0}/s; \
         jsonwebtoken {:.0}/s",
        result.first_seen, result.first_seen_with_claims, result.repeated, result.jsonwebtoken
    );
    result
}

/// Prints the comparison over `rounds` alternating rounds of Node and of `run`.
fn report(dir: &Path, rounds: usize) {
    let node: Vec<NodeResult> = (1..=rounds)
        .map(|i| read_json(&dir.join(format!("node-{i}.json"))))
        .collect();
    let rust: Vec<RustResult> = (1..=rounds)
        .map(|i| read_json(&dir.join(format!("rust-{i}.json"))))
        .collect();
    let (aws, ours) = (&node[0], &rust[0]);
    println!();
    println!(
        "Token verification, {} distinct RS256 Cognito access tokens ({} bytes avg), one thread,",
        ours.tokens, ours.average_token_bytes
    );
    println!(
        "{rounds} alternating rounds (Node then Rust; first-seen {} and repeated {} verifications per round);",
        ours.first_seen_per_trial, ours.repeated_per_trial
    );
    println!("each figure is the median over the rounds.");
    println!();
    println!("{:<62} {:>10} {:>9}", "", "tokens/s", "ns/token");
    let row = |name: &str, values: Vec<f64>| {
        let per_s = median(values);
        println!("{name:<62} {per_s:>10.0} {:>9.0}", 1e9 / per_s);
    };
    row(
        &format!(
            "aws-jwt-verify {} verifySync (Node {})",
            aws.aws_jwt_verify, aws.node
        ),
        node.iter().map(|r| r.tokens_per_s).collect(),
    );
    row(
        "cognigate-token first-seen: verify",
        rust.iter().map(|r| r.first_seen).collect(),
    );
    row(
        "cognigate-token first-seen: verify + claims()",
        rust.iter().map(|r| r.first_seen_with_claims).collect(),
    );
    row(
        "cognigate-token repeated: verify + claims(), revocation checked",
        rust.iter().map(|r| r.repeated).collect(),
    );
    row(
        "jsonwebtoken 11.1 decode, cached DecodingKey (reference)",
        rust.iter().map(|r| r.jsonwebtoken).collect(),
    );
    let ratios = |pick: fn(&RustResult) -> f64| -> Vec<f64> {
        node.iter()
            .zip(&rust)
            .map(|(n, r)| pick(r) / n.tokens_per_s)
            .collect()
    };
    let line = |name: &str, goal: &str, values: Vec<f64>| {
        let each = values
            .iter()
            .map(|v| format!("{v:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "{name:<46} {:>6.2}x  (goal {goal}; per round: {each})",
            median(values)
        );
    };
    println!();
    line(
        "ratio first-seen (verify) / aws-jwt-verify",
        ">= 1.5x",
        ratios(|r| r.first_seen),
    );
    line(
        "ratio first-seen (+ claims) / aws-jwt-verify",
        ">= 1.5x",
        ratios(|r| r.first_seen_with_claims),
    );
    line(
        "ratio repeated / aws-jwt-verify",
        ">= 20x",
        ratios(|r| r.repeated),
    );
}

#[derive(Deserialize)]
#[allow(
    dead_code,
    reason = "deserialised to pay the same cost as the other verifiers"
)]
struct ReferenceClaims {
    sub: String,
    iss: String,
    client_id: String,
    token_use: String,
    exp: u64,
    iat: u64,
    jti: String,
    origin_jti: String,
    username: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

fn jsonwebtoken_reference(jwks: &JwkSet, tokens: &[String], passes: usize, trials: usize) -> f64 {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let keys: Vec<(String, DecodingKey)> = jwks
        .keys
        .iter()
        .map(|jwk| {
            (
                jwk.kid.clone(),
                DecodingKey::from_rsa_components(&jwk.n, &jwk.e).unwrap(),
            )
        })
        .collect();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer()]);
    validation.validate_aud = false;
    validation.leeway = 5;
    let verify = |token: &str| {
        let header = decode_header(token).unwrap();
        let kid = header.kid.unwrap();
        let key = &keys.iter().find(|(k, _)| *k == kid).unwrap().1;
        let data = decode::<ReferenceClaims>(token, key, &validation).unwrap();
        assert!(data.claims.token_use == "access" && data.claims.client_id == CLIENT_ID);
    };
    tokens.iter().for_each(|t| verify(t));
    let mut results = Vec::new();
    for _ in 0..trials {
        let start = Instant::now();
        for _ in 0..passes {
            tokens.iter().for_each(|t| verify(t));
        }
        results.push((passes * tokens.len()) as f64 / start.elapsed().as_secs_f64());
    }
    median(results)
}
