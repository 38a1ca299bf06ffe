//! The store conformance suite, written once and run against SQLite (a real file) and PostgreSQL (a fresh
//! database on the server at `COGNIGATE_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! Without a reachable PostgreSQL the PostgreSQL run is skipped with a loud message, unless
//! `COGNIGATE_TEST_REQUIRE_POSTGRES=1` (set by `scripts/test` once it has made sure a server runs), which turns
//! the skip into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod suite;

use cognigate_store::SqlStore;

#[tokio::test]
async fn conformance_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/cognigate.db", dir.path().display());
    let store = SqlStore::open(&url).await.unwrap();
    suite::run_all(&store).await;
    // Everything committed survives a reopen, and migrations are not applied twice.
    drop(store);
    let reopened = SqlStore::open(&url).await.unwrap();
    suite::survives_reopen(&reopened).await;
}

fn postgres_admin_url() -> String {
    std::env::var("COGNIGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[tokio::test]
async fn conformance_on_postgres() {
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let admin = match sqlx::AnyPool::connect(&admin_url).await {
        Ok(pool) => pool,
        Err(error) => {
            assert!(
                std::env::var("COGNIGATE_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "PostgreSQL is required but unreachable at {admin_url}: {error}"
            );
            eprintln!("\n*** SKIPPED: the PostgreSQL store run: no server at {admin_url} ({error}) ***\n");
            return;
        }
    };
    let database = format!("cognigate_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).execute(&admin).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{database}");
    let store = SqlStore::open(&url).await.unwrap();
    suite::run_all(&store).await;
    drop(store);
    let reopened = SqlStore::open(&url).await.unwrap();
    suite::survives_reopen(&reopened).await;
    drop(reopened);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {database} WITH (FORCE)")))
        .execute(&admin)
        .await
        .unwrap();
}
