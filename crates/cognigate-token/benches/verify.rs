//! Token verification throughput, for the comparison with aws-jwt-verify that `bench/verify/run.sh`
//! drives: this binary writes the shared fixtures (one RSA-2048 key, its JWKS, 1,000 distinct Cognito
//! access tokens) and measures our `Verifier` on them, on one thread, each verification followed by a read
//! of `claims()` (aws-jwt-verify returns the whole payload too):
//!
//! - first-seen: a verifier whose token cache holds 999 entries, cycling over the 1,000 tokens, so that every
//!   verification misses the cache (decode, parse, key lookup, RSA signature, insert, evict the oldest);
//! - repeated: a verifier with a warm cache: SHA-256 of the token, a map lookup, the expiry check and the
//!   revocation check (an in-memory `RevocationList` holding 1,000 revoked ids and 1,000 revoked subjects,
//!   none matching);
//! - jsonwebtoken 11.1 `decode` with a cached `DecodingKey` and the same claim checks, for reference.
//!
//! Each figure is given per wall-clock second and per CPU second of the measuring thread
//! (`/proc/thread-self/schedstat`); the latter is insensitive to other processes taking the CPU away, which
//! on a shared 2-core machine is the main source of noise. `bench/verify/run.sh` alternates rounds of Node
//! and of this binary, then asks this binary for the report: the median over the rounds of every figure and
//! of every per-round ratio.
//!
//! Usage (via cargo, which adds `--bench`):
//!   cargo bench -p cognigate-token --bench verify -- gen <dir> [--tokens 1000]
//!   cargo bench -p cognigate-token --bench verify -- run <dir> [--n 200000] [--out <file>]
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
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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
            let result = run(&dir(), flag("--n", "200000").parse().unwrap());
            let out = flag("--out", "");
            if !out.is_empty() {
                std::fs::write(&out, serde_json::to_vec_pretty(&result).unwrap()).unwrap();
            }
        }
        Some("report") => report(&dir(), flag("--rounds", "1").parse().unwrap()),
        _ => {
            let dir = std::env::temp_dir().join(format!("cognigate-bench-verify-{}", std::process::id()));
            generate(&dir, 1000);
            run(&dir, 50_000);
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
    write("jwks.json", &serde_json::to_value(JwkSet::from_signing_keys([&key])).unwrap());
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

/// Verifications per wall-clock second and per CPU second.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    stat.split_whitespace().next().unwrap().parse().unwrap()
}

/// Runs `work` (which performs `count` verifications) and returns its rates.
fn measure(count: usize, work: impl FnOnce()) -> Rate {
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    work();
    let wall = start.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns() - cpu_start) as f64 / 1e9;
    Rate { wall: count as f64 / wall, cpu: count as f64 / cpu }
}

/// What `verify.mjs` writes.
#[derive(Deserialize)]
struct NodeResult {
    tokens_per_s: f64,
    tokens_per_cpu_s: f64,
    node: String,
    aws_jwt_verify: String,
}

/// One run of this binary.
#[derive(Serialize, Deserialize)]
struct RustResult {
    first_seen: Rate,
    repeated: Rate,
    jsonwebtoken: Rate,
    n: usize,
    repeated_n: usize,
    tokens: usize,
    average_token_bytes: usize,
}

fn verifier(jwks: &JwkSet, cache_capacity: usize) -> Verifier {
    let revocations = Arc::new(RevocationList::new());
    for i in 0..1000u64 {
        revocations.revoke_origin_jti(new_token_id());
        revocations.revoke_subject_until(new_token_id(), i);
    }
    Verifier::builder(Arc::new(StaticJwksSource::with_set(issuer(), jwks.clone())))
        .audience(Audience::access(issuer(), [CLIENT_ID]))
        .revocation(revocations)
        .options(VerifierOptions { token_cache_capacity: cache_capacity, ..VerifierOptions::default() })
        .build()
        .unwrap()
}

fn run(dir: &Path, n: usize) -> RustResult {
    let jwks: JwkSet = read_json(&dir.join("jwks.json"));
    let tokens: Vec<String> = read_json(&dir.join("tokens.json"));
    assert!(tokens.len() > 1);
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let verify_n = |verifier: &Verifier, n: usize| {
        runtime.block_on(async {
            for token in tokens.iter().cycle().take(n) {
                let verified = verifier.verify(token).await.unwrap();
                std::hint::black_box(verified.claims().len());
            }
        });
    };

    // First-seen: one cache slot fewer than tokens, so every verification misses.
    let churning = verifier(&jwks, tokens.len() - 1);
    runtime.block_on(churning.hydrate()).unwrap();
    // Correctness first: a tampered token is refused.
    let (body, signature) = tokens[0].rsplit_once('.').unwrap();
    let other = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{body}.{other}{}", &signature[1..]);
    assert!(runtime.block_on(churning.verify(&tampered)).is_err());
    verify_n(&churning, 2 * tokens.len()); // warm-up
    let before = churning.stats().signature_checks;
    let first_seen = measure(n, || verify_n(&churning, n));
    assert_eq!(churning.stats().signature_checks - before, n as u64, "every verification missed");

    // Repeated: a cache large enough for every token, warmed.
    let warm = verifier(&jwks, 10_000);
    verify_n(&warm, tokens.len());
    let repeated_n = n * 10;
    let before = warm.stats().signature_checks;
    let repeated = measure(repeated_n, || verify_n(&warm, repeated_n));
    assert_eq!(warm.stats().signature_checks, before, "every verification hit");

    let result = RustResult {
        first_seen,
        repeated,
        jsonwebtoken: jsonwebtoken_reference(&jwks, &tokens, n),
        n,
        repeated_n,
        tokens: tokens.len(),
        average_token_bytes: tokens.iter().map(String::len).sum::<usize>() / tokens.len(),
    };
    println!(
        "cognigate-token (tokens/s wall, per CPU s): first-seen {:.0}, {:.0}; repeated {:.0}, {:.0}; \
         jsonwebtoken {:.0}, {:.0}",
        result.first_seen.wall,
        result.first_seen.cpu,
        result.repeated.wall,
        result.repeated.cpu,
        result.jsonwebtoken.wall,
        result.jsonwebtoken.cpu
    );
    result
}

/// Prints the comparison over `rounds` alternating rounds of Node and of `run`.
fn report(dir: &Path, rounds: usize) {
    let node: Vec<NodeResult> =
        (1..=rounds).map(|i| read_json(&dir.join(format!("node-{i}.json")))).collect();
    let rust: Vec<RustResult> =
        (1..=rounds).map(|i| read_json(&dir.join(format!("rust-{i}.json")))).collect();
    let (aws, ours) = (&node[0], &rust[0]);
    println!();
    println!(
        "Token verification, {} distinct RS256 Cognito access tokens ({} bytes avg), one thread, {rounds} \
         alternating rounds",
        ours.tokens, ours.average_token_bytes
    );
    println!(
        "(Node then Rust; per round {} verifications per mode, {} for repeated). Medians over the rounds.",
        ours.n, ours.repeated_n
    );
    println!();
    println!("{:<58} {:>10} {:>9} {:>12}", "", "tokens/s", "ns/token", "per CPU s");
    let row = |name: &str, wall: Vec<f64>, cpu: Vec<f64>| {
        let wall = median(wall);
        println!("{name:<58} {wall:>10.0} {:>9.0} {:>12.0}", 1e9 / wall, median(cpu));
    };
    row(
        &format!("aws-jwt-verify {} verifySync (Node {})", aws.aws_jwt_verify, aws.node),
        node.iter().map(|r| r.tokens_per_s).collect(),
        node.iter().map(|r| r.tokens_per_cpu_s).collect(),
    );
    let ours_row = |name: &str, pick: fn(&RustResult) -> Rate| {
        row(name, rust.iter().map(|r| pick(r).wall).collect(), rust.iter().map(|r| pick(r).cpu).collect());
    };
    ours_row("cognigate-token first-seen", |r| r.first_seen);
    ours_row("cognigate-token repeated (token cache + revocation check)", |r| r.repeated);
    ours_row("jsonwebtoken 11.1, cached DecodingKey (reference)", |r| r.jsonwebtoken);

    let line = |name: &str, goal: &str, pick: fn(&RustResult) -> Rate| {
        let wall: Vec<f64> = node.iter().zip(&rust).map(|(n, r)| pick(r).wall / n.tokens_per_s).collect();
        let cpu: Vec<f64> = node.iter().zip(&rust).map(|(n, r)| pick(r).cpu / n.tokens_per_cpu_s).collect();
        let each = |values: &[f64]| values.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(" ");
        println!(
            "{name:<36} {:>6.2}x wall [{}]  {:>6.2}x CPU [{}]  (goal {goal})",
            median(wall.clone()),
            each(&wall),
            median(cpu.clone()),
            each(&cpu)
        );
    };
    println!();
    line("ratio first-seen / aws-jwt-verify", ">= 1.5x", |r| r.first_seen);
    line("ratio repeated / aws-jwt-verify", ">= 20x", |r| r.repeated);
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "deserialised to pay the same cost as the other verifiers")]
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

fn jsonwebtoken_reference(jwks: &JwkSet, tokens: &[String], n: usize) -> Rate {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let keys: Vec<(String, DecodingKey)> = jwks
        .keys
        .iter()
        .map(|jwk| (jwk.kid.clone(), DecodingKey::from_rsa_components(&jwk.n, &jwk.e).unwrap()))
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
    measure(n, || tokens.iter().cycle().take(n).for_each(|t| verify(t)))
}
