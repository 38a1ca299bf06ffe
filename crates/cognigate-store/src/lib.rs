//! The engine's store on SQLite (the embedded default: one file, WAL) and PostgreSQL (shared by several
//! instances).
//!
//! One implementation serves both through sqlx's `Any` driver: the SQL is the portable subset both speak
//! (`ON CONFLICT`, `RETURNING`, `$n` parameters), and only the migrations differ per dialect. Records are
//! stored as JSON documents beside the few columns queries need, so the store places no rules on content:
//! the engine owns meaning, the store persists and indexes (the split kanidm's backend makes too).
//!
//! The same store also implements the service's ports (the user mirror, the audit log, the billing
//! webhook's ledger) in `service.rs`.

mod migrations;
mod service;

use async_trait::async_trait;
use cognigate_engine::clock::Millis;
use cognigate_engine::model::*;
use cognigate_engine::store::{Store, StoreError, UserPage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
}

fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn conflict_or_backend(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_owned()),
        _ => backend(error),
    }
}

fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Backend(format!("corrupt record: {error}")))
}

fn data<T: DeserializeOwned>(row: &AnyRow) -> Result<T, StoreError> {
    let text: String = row.try_get("data").map_err(backend)?;
    from_json(&text)
}

/// Attributes as filters compare them: usernames and emails case-insensitively.
fn value_key(name: &str, value: &str) -> String {
    if name == "email" || name == "username" { value.to_lowercase() } else { value.to_owned() }
}

/// The rows a user gets in `user_attributes`: its attributes and the pseudo-attributes filters accept.
fn filter_rows(user: &User) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> =
        user.attributes.iter().map(|(name, value)| (name.clone(), value_key(name, value))).collect();
    rows.push(("username".to_owned(), value_key("username", &user.username)));
    rows.push(("sub".to_owned(), user.sub.clone()));
    rows.push(("cognito:user_status".to_owned(), user.status.as_str().to_owned()));
    rows.push(("status".to_owned(), if user.enabled { "Enabled" } else { "Disabled" }.to_owned()));
    rows
}

/// Makes the SQLite file readable and writable by its owner only, creating it empty if missing. It holds
/// password hashes, sealed secrets and (in dev) the outbox: no other local user has business reading it.
/// SQLite gives the `-wal` and `-shm` files it creates beside it the database file's mode.
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        for file in [path.to_path_buf(), wal_file(path, "-wal"), wal_file(path, "-shm")] {
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `<path><suffix>`: SQLite's name for the write-ahead log and shared-memory files.
fn wal_file(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

impl SqlStore {
    /// Connects and applies the migrations. `url` is `sqlite://<path>` (the file is created) or
    /// `postgres://...`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (dialect, connect_url) = if let Some(rest) = url.strip_prefix("sqlite://") {
            // The file is created when missing; options the URL already carries are kept.
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let mut options: Vec<&str> = query.split('&').filter(|o| !o.is_empty()).collect();
            if !options.iter().any(|o| o.starts_with("mode=")) {
                options.push("mode=rwc");
            }
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(backend)?;
            }
            owner_only(std::path::Path::new(path)).map_err(backend)?;
            (Dialect::Sqlite, format!("sqlite://{path}?{}", options.join("&")))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_owned())
        } else {
            return Err(StoreError::Backend(format!("unsupported store URL scheme in `{url}`")));
        };
        let max = if dialect == Dialect::Sqlite { 4 } else { 16 };
        let mut options = AnyPoolOptions::new().max_connections(max);
        if dialect == Dialect::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    // In WAL mode NORMAL syncs at checkpoints, not at every commit: a crashed process loses
                    // nothing it committed (only a power cut can take the last commits). The busy timeout
                    // lets concurrent writers queue instead of failing.
                    sqlx::Executor::execute(&mut *connection, "PRAGMA synchronous = NORMAL").await?;
                    sqlx::Executor::execute(&mut *connection, "PRAGMA busy_timeout = 10000").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&connect_url).await.map_err(backend)?;
        if dialect == Dialect::Sqlite {
            // WAL lets readers work while a writer commits; the mode is stored in the database file.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await.map_err(backend)?;
        }
        migrations::run(&pool, dialect).await?;
        Ok(Self { pool, dialect })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A write transaction for the service's ports (their errors are `PortError`s).
    pub(crate) async fn begin_port_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, cognigate_service::ports::PortError> {
        self.begin_write()
            .await
            .map_err(|error| cognigate_service::ports::PortError::Backend(error.to_string()))
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes can find another writer ahead of it
    /// and fail with "database is locked" at once, whatever the busy timeout; an immediate one waits its turn.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend),
            Dialect::Postgres => self.pool.begin().await.map_err(backend),
        }
    }

    async fn write_user(&self, user: &User, insert: bool) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let json = to_json(user)?;
        let key = user.lookup_key();
        let result = if insert {
            sqlx::query("INSERT INTO users (pool_id, sub, username_key, data) VALUES ($1, $2, $3, $4)")
                .bind(&user.pool_id)
                .bind(&user.sub)
                .bind(&key)
                .bind(&json)
                .execute(&mut *tx)
                .await
        } else {
            sqlx::query("UPDATE users SET username_key = $1, data = $2 WHERE pool_id = $3 AND sub = $4")
                .bind(&key)
                .bind(&json)
                .bind(&user.pool_id)
                .bind(&user.sub)
                .execute(&mut *tx)
                .await
        };
        let done = result.map_err(|error| conflict_or_backend(error, "username"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {}", user.sub)));
        }
        sqlx::query("DELETE FROM user_attributes WHERE pool_id = $1 AND sub = $2")
            .bind(&user.pool_id)
            .bind(&user.sub)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for (name, value) in filter_rows(user) {
            sqlx::query(
                "INSERT INTO user_attributes (pool_id, sub, name, value_key) VALUES ($1, $2, $3, $4)",
            )
            .bind(&user.pool_id)
            .bind(&user.sub)
            .bind(&name)
            .bind(&value)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    /// The record of the one row the query finds, if any.
    async fn optional<T: DeserializeOwned>(&self, query: AnyQuery<'_>) -> Result<Option<T>, StoreError> {
        query.fetch_optional(&self.pool).await.map_err(backend)?.as_ref().map(data).transpose()
    }

    /// The records of every row the query finds.
    async fn all<T: DeserializeOwned>(&self, query: AnyQuery<'_>) -> Result<Vec<T>, StoreError> {
        query.fetch_all(&self.pool).await.map_err(backend)?.iter().map(data).collect()
    }

    /// Runs a statement and ignores its result.
    async fn run(&self, query: AnyQuery<'_>) -> Result<(), StoreError> {
        query.execute(&self.pool).await.map(|_| ()).map_err(backend)
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn put_pool(&self, pool: &UserPool) -> Result<(), StoreError> {
        self.run(
            sqlx::query("INSERT INTO pools (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data")
                .bind(&pool.id)
                .bind(to_json(pool)?),
        )
        .await
    }

    async fn get_pool(&self, pool_id: &str) -> Result<Option<UserPool>, StoreError> {
        self.optional(sqlx::query("SELECT data FROM pools WHERE id = $1").bind(pool_id)).await
    }

    async fn list_pools(&self) -> Result<Vec<UserPool>, StoreError> {
        self.all(sqlx::query("SELECT data FROM pools ORDER BY id")).await
    }

    async fn delete_pool(&self, pool_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for table in [
            "clients",
            "users",
            "user_attributes",
            "groups",
            "user_groups",
            "codes",
            "sessions",
            "lockouts",
            "refresh_tokens",
            "revoked_families",
            "signing_keys",
            "outbox",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE pool_id = $1")))
                .bind(pool_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        sqlx::query("DELETE FROM pools WHERE id = $1")
            .bind(pool_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn put_client(&self, client: &AppClient) -> Result<(), StoreError> {
        self.run(
            sqlx::query(
                "INSERT INTO clients (id, pool_id, data) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            )
            .bind(&client.id)
            .bind(&client.pool_id)
            .bind(to_json(client)?),
        )
        .await
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<AppClient>, StoreError> {
        self.optional(sqlx::query("SELECT data FROM clients WHERE id = $1").bind(client_id)).await
    }

    async fn list_clients(&self, pool_id: &str) -> Result<Vec<AppClient>, StoreError> {
        self.all(sqlx::query("SELECT data FROM clients WHERE pool_id = $1 ORDER BY id").bind(pool_id)).await
    }

    async fn delete_client(&self, client_id: &str) -> Result<(), StoreError> {
        self.run(sqlx::query("DELETE FROM clients WHERE id = $1").bind(client_id)).await
    }

    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        self.write_user(user, true).await
    }

    async fn update_user(&self, user: &User) -> Result<(), StoreError> {
        self.write_user(user, false).await
    }

    async fn get_user(&self, pool_id: &str, sub: &str) -> Result<Option<User>, StoreError> {
        self.optional(
            sqlx::query("SELECT data FROM users WHERE pool_id = $1 AND sub = $2").bind(pool_id).bind(sub),
        )
        .await
    }

    async fn find_user(&self, pool_id: &str, username: &str) -> Result<Option<User>, StoreError> {
        let query = sqlx::query("SELECT data FROM users WHERE pool_id = $1 AND username_key = $2");
        self.optional(query.bind(pool_id).bind(User::username_key(username))).await
    }

    async fn find_users_by_attribute(
        &self,
        pool_id: &str,
        name: &str,
        value: &str,
    ) -> Result<Vec<User>, StoreError> {
        let query = sqlx::query(
            "SELECT u.data FROM user_attributes a JOIN users u ON u.pool_id = a.pool_id AND u.sub = a.sub \
             WHERE a.pool_id = $1 AND a.name = $2 AND a.value_key = $3 ORDER BY u.sub",
        );
        self.all(query.bind(pool_id).bind(name).bind(value_key(name, value))).await
    }

    async fn delete_user(&self, pool_id: &str, sub: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for table in
            ["users", "user_attributes", "user_groups", "codes", "sessions", "lockouts", "refresh_tokens"]
        {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE pool_id = $1 AND sub = $2")))
                .bind(pool_id)
                .bind(sub)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn count_users(&self, pool_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE pool_id = $1")
            .bind(pool_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        row.try_get::<i64, _>("n").map_err(backend)
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<UserPage, StoreError> {
        let after = after.unwrap_or("");
        let fetch = i64::from(limit.max(1)) + 1;
        let rows = match filter {
            None => {
                sqlx::query("SELECT data, sub FROM users WHERE pool_id = $1 AND sub > $2 ORDER BY sub LIMIT $3")
                    .bind(pool_id)
                    .bind(after)
                    .bind(fetch)
                    .fetch_all(&self.pool)
                    .await
            }
            Some(filter) => {
                let low = value_key(&filter.attribute, &filter.value);
                let query = if filter.prefix {
                    // A byte range: everything that starts with `low` sorts between it and `low` + U+10FFFF.
                    // `a.sub || ''` keeps the planner off the primary key (which is in `sub` order and would
                    // scan the whole pool to avoid a sort): the value index finds the matches, then only
                    // those are sorted. Both dialects read it the same way.
                    sqlx::query(
                        "SELECT u.data, u.sub FROM user_attributes a JOIN users u ON u.pool_id = a.pool_id AND u.sub = a.sub \
                         WHERE a.pool_id = $1 AND a.name = $2 AND a.value_key >= $3 AND a.value_key < $4 \
                         AND a.sub || '' > $5 ORDER BY a.sub || '' LIMIT $6",
                    )
                    .bind(pool_id)
                    .bind(&filter.attribute)
                    .bind(low.clone())
                    .bind(format!("{low}\u{10FFFF}"))
                    .bind(after)
                    .bind(fetch)
                } else {
                    sqlx::query(
                        "SELECT u.data, u.sub FROM user_attributes a JOIN users u ON u.pool_id = a.pool_id AND u.sub = a.sub \
                         WHERE a.pool_id = $1 AND a.name = $2 AND a.value_key = $3 AND a.sub > $4 \
                         ORDER BY a.sub LIMIT $5",
                    )
                    .bind(pool_id)
                    .bind(&filter.attribute)
                    .bind(low)
                    .bind(after)
                    .bind(fetch)
                };
                query.fetch_all(&self.pool).await
            }
        }
        .map_err(backend)?;
        let mut users: Vec<User> = rows.iter().map(data).collect::<Result<_, _>>()?;
        let next = if users.len() > limit.max(1) as usize {
            users.truncate(limit.max(1) as usize);
            users.last().map(|user| user.sub.clone())
        } else {
            None
        };
        Ok(UserPage { users, next })
    }

    async fn put_group(&self, group: &Group) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO groups (pool_id, name, data) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id, name) DO UPDATE SET data = excluded.data",
        );
        self.run(query.bind(&group.pool_id).bind(&group.name).bind(to_json(group)?)).await
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> Result<Option<Group>, StoreError> {
        self.optional(
            sqlx::query("SELECT data FROM groups WHERE pool_id = $1 AND name = $2").bind(pool_id).bind(name),
        )
        .await
    }

    async fn list_groups(&self, pool_id: &str) -> Result<Vec<Group>, StoreError> {
        self.all(sqlx::query("SELECT data FROM groups WHERE pool_id = $1 ORDER BY name").bind(pool_id)).await
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM user_groups WHERE pool_id = $1 AND group_name = $2")
            .bind(pool_id)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("DELETE FROM groups WHERE pool_id = $1 AND name = $2")
            .bind(pool_id)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn add_user_to_group(&self, pool_id: &str, group: &str, sub: &str) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO user_groups (pool_id, group_name, sub) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id, group_name, sub) DO NOTHING",
        );
        self.run(query.bind(pool_id).bind(group).bind(sub)).await
    }

    async fn remove_user_from_group(&self, pool_id: &str, group: &str, sub: &str) -> Result<(), StoreError> {
        let query =
            sqlx::query("DELETE FROM user_groups WHERE pool_id = $1 AND group_name = $2 AND sub = $3");
        self.run(query.bind(pool_id).bind(group).bind(sub)).await
    }

    async fn groups_of_user(&self, pool_id: &str, sub: &str) -> Result<Vec<Group>, StoreError> {
        let query = sqlx::query(
            "SELECT g.data FROM user_groups m JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name \
             WHERE m.pool_id = $1 AND m.sub = $2 ORDER BY g.name",
        );
        self.all(query.bind(pool_id).bind(sub)).await
    }

    async fn users_in_group(&self, pool_id: &str, group: &str) -> Result<Vec<User>, StoreError> {
        let query = sqlx::query(
            "SELECT u.data FROM user_groups m JOIN users u ON u.pool_id = m.pool_id AND u.sub = m.sub \
             WHERE m.pool_id = $1 AND m.group_name = $2 ORDER BY u.sub",
        );
        self.all(query.bind(pool_id).bind(group)).await
    }

    async fn put_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO codes (pool_id, sub, purpose, data) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pool_id, sub, purpose) DO UPDATE SET data = excluded.data",
        );
        self.run(query.bind(&code.pool_id).bind(&code.sub).bind(code.purpose.as_str()).bind(to_json(code)?))
            .await
    }

    async fn get_code(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
    ) -> Result<Option<CodeRecord>, StoreError> {
        let query = sqlx::query("SELECT data FROM codes WHERE pool_id = $1 AND sub = $2 AND purpose = $3");
        self.optional(query.bind(pool_id).bind(sub).bind(purpose.as_str())).await
    }

    async fn delete_code(&self, pool_id: &str, sub: &str, purpose: CodePurpose) -> Result<(), StoreError> {
        let query = sqlx::query("DELETE FROM codes WHERE pool_id = $1 AND sub = $2 AND purpose = $3");
        self.run(query.bind(pool_id).bind(sub).bind(purpose.as_str())).await
    }

    async fn put_session(&self, session: &ChallengeSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, pool_id, sub, expires_ms, data) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(&session.pool_id)
        .bind(&session.sub)
        .bind(session.expires_ms)
        .bind(to_json(session)?)
        .execute(&self.pool)
        .await
        .map_err(|error| conflict_or_backend(error, "session"))?;
        Ok(())
    }

    async fn take_session(&self, id_hash: &str) -> Result<Option<ChallengeSession>, StoreError> {
        self.optional(sqlx::query("DELETE FROM sessions WHERE id_hash = $1 RETURNING data").bind(id_hash))
            .await
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<ChallengeSession>, StoreError> {
        self.optional(sqlx::query("SELECT data FROM sessions WHERE id_hash = $1").bind(id_hash)).await
    }

    async fn get_lockout(&self, pool_id: &str, sub: &str) -> Result<LockoutRecord, StoreError> {
        let query = sqlx::query("SELECT data FROM lockouts WHERE pool_id = $1 AND sub = $2");
        Ok(self.optional(query.bind(pool_id).bind(sub)).await?.unwrap_or_default())
    }

    async fn put_lockout(&self, pool_id: &str, sub: &str, record: &LockoutRecord) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO lockouts (pool_id, sub, data) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id, sub) DO UPDATE SET data = excluded.data",
        );
        self.run(query.bind(pool_id).bind(sub).bind(to_json(record)?)).await
    }

    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, pool_id, sub, family, expires_ms, rotated_ms, revoked, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&record.token_hash)
        .bind(&record.pool_id)
        .bind(&record.sub)
        .bind(&record.family)
        .bind(record.expires_ms)
        .bind(record.rotated_ms)
        .bind(i64::from(record.revoked))
        .bind(to_json(record)?)
        .execute(&self.pool)
        .await
        .map_err(|error| conflict_or_backend(error, "refresh token"))?;
        Ok(())
    }

    async fn live_refresh(
        &self,
        pool_id: &str,
        sub: &str,
        now: Millis,
    ) -> Result<Vec<RefreshRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT data FROM refresh_tokens \
             WHERE pool_id = $1 AND sub = $2 AND revoked = 0 AND rotated_ms IS NULL AND expires_ms > $3",
        )
        .bind(pool_id)
        .bind(sub)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut records: Vec<RefreshRecord> = rows.iter().map(data).collect::<Result<_, _>>()?;
        records.sort_by_key(|record| (record.auth_time_ms, record.issued_ms));
        Ok(records)
    }

    async fn get_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let row = sqlx::query("SELECT data, rotated_ms, revoked FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let mut record: RefreshRecord = data(&row)?;
        // The columns are the truth for what changes after insertion.
        record.rotated_ms = row.try_get::<Option<i64>, _>("rotated_ms").map_err(backend)?;
        record.revoked = row.try_get::<i64, _>("revoked").map_err(backend)? != 0;
        Ok(Some(record))
    }

    async fn mark_rotated(&self, token_hash: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET rotated_ms = $1 WHERE token_hash = $2 AND rotated_ms IS NULL AND revoked = 0",
        )
        .bind(at)
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_family(&self, pool_id: &str, family: &str, until: Millis) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE family = $1")
            .bind(family)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO revoked_families (family, pool_id, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (family) DO UPDATE SET until_ms = excluded.until_ms",
        )
        .bind(family)
        .bind(pool_id)
        .bind(until)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn revoke_user_refresh(
        &self,
        pool_id: &str,
        sub: &str,
    ) -> Result<Vec<(String, Millis)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let families: Vec<(String, Millis)> = sqlx::query(
            "SELECT family, MAX(expires_ms) AS until_ms FROM refresh_tokens \
             WHERE pool_id = $1 AND sub = $2 AND revoked = 0 GROUP BY family ORDER BY family",
        )
        .bind(pool_id)
        .bind(sub)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok((row.try_get::<String, _>("family")?, row.try_get::<i64, _>("until_ms")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(backend)?;
        sqlx::query(
            "INSERT INTO revoked_families (family, pool_id, until_ms) \
             SELECT family, pool_id, MAX(expires_ms) FROM refresh_tokens WHERE pool_id = $1 AND sub = $2 AND revoked = 0 \
             GROUP BY family, pool_id \
             ON CONFLICT (family) DO NOTHING",
        )
        .bind(pool_id)
        .bind(sub)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE pool_id = $1 AND sub = $2")
            .bind(pool_id)
            .bind(sub)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(families)
    }

    async fn live_revoked_families(&self, now: Millis) -> Result<Vec<(String, Millis)>, StoreError> {
        sqlx::query("SELECT family, until_ms FROM revoked_families WHERE until_ms > $1 ORDER BY family")
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(|row| Ok((row.try_get::<String, _>("family")?, row.try_get::<i64, _>("until_ms")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(backend)
    }

    async fn is_family_revoked(&self, family: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT family FROM revoked_families WHERE family = $1")
            .bind(family)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.is_some())
    }

    async fn put_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO signing_keys (pool_id, kid, data) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id, kid) DO UPDATE SET data = excluded.data",
        );
        self.run(query.bind(&key.pool_id).bind(&key.kid).bind(to_json(key)?)).await
    }

    async fn list_keys(&self, pool_id: &str) -> Result<Vec<StoredKey>, StoreError> {
        let mut keys: Vec<StoredKey> =
            self.all(sqlx::query("SELECT data FROM signing_keys WHERE pool_id = $1").bind(pool_id)).await?;
        keys.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then_with(|| a.kid.cmp(&b.kid)));
        Ok(keys)
    }

    async fn push_outbox(&self, message: &OutboxMessage) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO outbox (id, pool_id, recipient, created_ms, data) VALUES ($1, $2, $3, $4, $5)",
        );
        self.run(
            query
                .bind(&message.id)
                .bind(&message.pool_id)
                .bind(message.recipient.to_lowercase())
                .bind(message.created_ms)
                .bind(to_json(message)?),
        )
        .await
    }

    async fn list_outbox(
        &self,
        recipient: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::from(limit);
        match recipient {
            Some(recipient) => {
                let query = sqlx::query(
                    "SELECT data FROM outbox WHERE recipient = $1 ORDER BY created_ms DESC, id DESC LIMIT $2",
                );
                self.all(query.bind(recipient.to_lowercase()).bind(limit)).await
            }
            None => {
                let query = sqlx::query("SELECT data FROM outbox ORDER BY created_ms DESC, id DESC LIMIT $1");
                self.all(query.bind(limit)).await
            }
        }
    }
}
