//! The store conformance suite, written once and run against SQLite (a real file) and PostgreSQL (a fresh
//! database on the server at `COGNIGATE_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! Without a reachable PostgreSQL the PostgreSQL run is skipped with a loud message, unless
//! `COGNIGATE_TEST_REQUIRE_POSTGRES=1` (set by `scripts/test` once it has made sure a server runs), which turns
//! the skip into a failure.
//!
//! `service` holds the scenarios of the service's ports (user mirror, audit log, webhook ledger), run on both
//! backends the same way, and the check that a database made by the previous version migrates forward.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod service;
mod suite;

use cognigate_store::SqlStore;

#[tokio::test]
async fn conformance_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/cognigate.db", dir.path().display());
    let store = SqlStore::open(&url).await.unwrap();
    suite::run_all(&store).await;
    // F9 of the 2026-12-07 audit: the database was 0644 in a 0755 directory.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let file = dir.path().join("nested/cognigate.db");
        for path in [file.clone(), file.with_extension("db-wal"), file.with_extension("db-shm")] {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }
    // Everything committed survives a reopen, and migrations are not applied twice.
    drop(store);
    let reopened = SqlStore::open(&url).await.unwrap();
    suite::survives_reopen(&reopened).await;
}

fn postgres_admin_url() -> String {
    std::env::var("COGNIGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh database on the test PostgreSQL server, dropped by [`PostgresDatabase::drop_database`].
#[derive(Debug)]
pub struct PostgresDatabase {
    admin: sqlx::AnyPool,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    /// Creates the database with the server's default collation, or returns `None` (after saying loudly that
    /// `what` is skipped) when no server answers and `COGNIGATE_TEST_REQUIRE_POSTGRES` is not `1`.
    pub async fn create(what: &str) -> Option<Self> {
        Self::create_with(what, "").await
    }

    /// Like [`PostgresDatabase::create`], but the database's default collation is a linguistic one (ICU
    /// `en-US`, as on many production servers) when the server has ICU, so a query that silently relies on
    /// byte order (a prefix range, `sub` order) fails here even when the test server's default is `C`.
    pub async fn create_linguistic(what: &str) -> Option<Self> {
        Self::create_with(what, " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'").await
    }

    async fn create_with(what: &str, options: &'static str) -> Option<Self> {
        sqlx::any::install_default_drivers();
        let admin_url = postgres_admin_url();
        let admin = match sqlx::AnyPool::connect(&admin_url).await {
            Ok(pool) => pool,
            Err(error) => {
                assert!(
                    std::env::var("COGNIGATE_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "PostgreSQL is required but unreachable at {admin_url}: {error}"
                );
                eprintln!("\n*** SKIPPED: {what} on PostgreSQL: no server at {admin_url} ({error}) ***\n");
                return None;
            }
        };
        let name = format!("cognigate_test_{}", uuid::Uuid::new_v4().simple());
        let create = |options: &str| format!("CREATE DATABASE {name}{options}");
        if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(create(options))).execute(&admin).await {
            assert!(!options.is_empty(), "CREATE DATABASE failed: {error}");
            eprintln!("note: {what} uses the server's default collation ({error})");
            sqlx::query(sqlx::AssertSqlSafe(create(""))).execute(&admin).await.unwrap();
        }
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Some(Self { admin, name, url })
    }

    /// Drops the database (every connection to it must be closed or is cut).
    pub async fn drop_database(self) {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {} WITH (FORCE)", self.name)))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn conformance_on_postgres() {
    let Some(database) = PostgresDatabase::create("the store conformance run").await else { return };
    let store = SqlStore::open(&database.url).await.unwrap();
    suite::run_all(&store).await;
    drop(store);
    let reopened = SqlStore::open(&database.url).await.unwrap();
    suite::survives_reopen(&reopened).await;
    drop(reopened);
    database.drop_database().await;
}
