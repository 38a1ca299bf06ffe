//! Logins per second in-process with real argon2id (OWASP m=19456 KiB, t=2, p=1), against the raw hash rate
//! with the same parameters on the same cores, in one run. The ratio is what the engine costs on top of the
//! hash (lookups, lockout, RS256 signing of two tokens, the refresh-token write). Goal: ≥ 0.9.
//!
//! Run: `cargo bench -p cognigate-engine --bench login [LOGINS]` (or `scripts/bench`). Prints a table;
//! asserts nothing. `COGNIGATE_BENCH_CHEAP_HASH=1` swaps in a trivial hash to show the engine's own ceiling.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use cognigate_engine::api::SignUpRequest;
use cognigate_engine::clock::{OsEntropy, SystemClock};
use cognigate_engine::password::{HashParams, PasswordHasher};
use cognigate_engine::seal::Sealer;
use cognigate_engine::triggers::NoTriggers;
use cognigate_engine::{Engine, EngineParts, NewClient, NewPool};

const USERS: usize = 16;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Hashes per second with `threads` OS threads, each reusing its argon2 memory.
fn raw_hash_rate(threads: usize, per_thread: usize) -> f64 {
    let params = HashParams::default();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let argon = Argon2::new(
                    Algorithm::Argon2id,
                    Version::V0x13,
                    Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32)).unwrap(),
                );
                let mut blocks = vec![Block::new(); usize::try_from(params.memory_kib).unwrap()];
                let mut out = [0u8; 32];
                for i in 0..per_thread {
                    let salt = [u8::try_from((t * 31 + i) % 251).unwrap(); 16];
                    argon
                        .hash_password_into_with_memory(b"Correct-horse-1", &salt, &mut out, &mut blocks)
                        .unwrap();
                }
            });
        }
    });
    (threads * per_thread) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let logins: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(400);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();

    let (engine, client_id) = runtime.block_on(async {
        let store = Arc::new(
            cognigate_store::SqlStore::open(&format!("sqlite://{}/bench.db", dir.path().display()))
                .await
                .unwrap(),
        );
        let engine = Arc::new(Engine::new(EngineParts {
            store,
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            hasher: PasswordHasher::new(
                if std::env::var("COGNIGATE_BENCH_CHEAP_HASH").is_ok() {
                    HashParams { memory_kib: 8, iterations: 1, parallelism: 1 }
                } else {
                    HashParams::default()
                },
                cores,
                &OsEntropy,
            )
            .unwrap(),
            sealer: Arc::new(Sealer::new(&[9u8; 32]).unwrap()),
            triggers: Arc::new(NoTriggers),
            delivery: Arc::new(cognigate_engine::triggers::OutboxOnly),
            public_url: "http://127.0.0.1:8080".into(),
            region: "local".into(),
            session_ttl_secs: 180,
        }));
        let pool = engine.create_user_pool(NewPool::with_defaults("bench")).await.unwrap();
        let (client, _) =
            engine.create_user_pool_client(&pool.id, NewClient::with_defaults("bench")).await.unwrap();
        for i in 0..USERS {
            let username = format!("user{i}@example.com");
            engine
                .sign_up(SignUpRequest {
                    client_id: client.id.clone(),
                    secret_hash: None,
                    username: username.clone(),
                    password: "Correct-horse-1!".into(),
                    user_attributes: vec![],
                })
                .await
                .unwrap();
            engine.admin_confirm_sign_up(&pool.id, &username).await.unwrap();
        }
        (engine, client.id)
    });

    // Warm up both paths, then measure the raw rate, the engine, and the raw rate again (noise check).
    raw_hash_rate(cores, 4);
    let raw_before = raw_hash_rate(cores, logins / cores);

    let started = Instant::now();
    let mut latencies: Vec<Duration> = runtime.block_on(async {
        let mut tasks = Vec::new();
        // Four logins in flight per core, as on a loaded server: while some wait for the database, the
        // hashing pool (one permit per core) always has work.
        let tasks_count = cores * 4;
        let per_task = logins / tasks_count;
        for t in 0..tasks_count {
            let engine = engine.clone();
            let client_id = client_id.clone();
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_task);
                for i in 0..per_task {
                    let parameters = BTreeMap::from([
                        ("USERNAME".to_owned(), format!("user{}@example.com", (t * per_task + i) % USERS)),
                        ("PASSWORD".to_owned(), "Correct-horse-1!".to_owned()),
                    ]);
                    let one = Instant::now();
                    let response =
                        engine.initiate_auth(&client_id, "USER_PASSWORD_AUTH", &parameters).await.unwrap();
                    assert!(response.authentication_result.is_some());
                    times.push(one.elapsed());
                }
                times
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed();
    // The engine's hashing pool alone (no store, no tokens), driven the same way: what the pool costs.
    let hasher = PasswordHasher::new(HashParams::default(), cores, &OsEntropy).unwrap();
    let stored = runtime.block_on(hasher.hash("Correct-horse-1!", &OsEntropy)).unwrap();
    let pool_started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..cores * 4 {
            let hasher = hasher.clone();
            let stored = stored.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..logins / (cores * 4) {
                    assert!(hasher.verify("Correct-horse-1!", Some(&stored)).await.unwrap());
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let pool_rate = (logins / (cores * 4) * cores * 4) as f64 / pool_started.elapsed().as_secs_f64();
    let raw_after = raw_hash_rate(cores, logins / cores);
    latencies.sort_unstable();
    let login_rate = latencies.len() as f64 / elapsed.as_secs_f64();
    let raw = (raw_before + raw_after) / 2.0;

    println!(
        "argon2id m=19456 KiB t=2 p=1, {cores} cores, {} logins over {USERS} users (SQLite, real RS256 tokens)",
        latencies.len()
    );
    println!("| measure | per second | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    println!(
        "| raw argon2id hashes ({cores} threads, before / after) | {raw_before:.1} / {raw_after:.1} | | |"
    );
    println!(
        "| engine USER_PASSWORD_AUTH logins | {login_rate:.1} | {:.1} ms | {:.1} ms |",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    println!("| the engine's hashing pool alone (verify, same concurrency) | {pool_rate:.1} | | |");
    println!(
        "ratio logins / raw hashes: {:.3} (goal >= 0.9); hashing pool / raw: {:.3}",
        login_rate / raw,
        pool_rate / raw
    );
}
