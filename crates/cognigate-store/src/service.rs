//! The service's storage ports (`cognigate_service::ports`) on the engine's database: the user mirror, the
//! audit log, the staff teams, the billing webhook's ledger of processed events, the service's revocations
//! and the MFA recovery codes.
//!
//! Same conventions as the engine's store: portable SQL over the `Any` driver, each record a JSON document
//! (`data`) beside the columns queries filter and order on (tables in `migrations/*/0002_service.sql`).
//! Enums are stored as their snake_case names, booleans as 0 or 1. Filters are assembled from fixed SQL
//! fragments; every value is bound as a parameter, never spliced into the text.

use async_trait::async_trait;
use cognigate_config::PoolKind;
use cognigate_domain::onboarding::OnboardingState;
use cognigate_service::ports::{
    AuditEvent, AuditQuery, AuditStore, MirrorQuery, MirrorStore, MirrorUser, PortError, PortResult,
    RecoveryCodeStore, RevocationStore, Revoked, StoredRevocation, Team, TeamStore, WebhookLedger,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AnyQuery, SqlStore};

/// A page when the caller asks for none (`limit` 0).
const DEFAULT_LIMIT: u32 = 50;
/// The largest page, whatever the caller asks for.
const MAX_LIMIT: u32 = 1000;

fn backend(error: impl std::fmt::Display) -> PortError {
    PortError::Backend(error.to_string())
}

fn to_json(value: &impl Serialize) -> PortResult<String> {
    serde_json::to_string(value).map_err(backend)
}

fn data<T: DeserializeOwned>(row: &AnyRow) -> PortResult<T> {
    let text: String = row.try_get("data").map_err(backend)?;
    serde_json::from_str(&text).map_err(|error| PortError::Backend(format!("corrupt record: {error}")))
}

fn page_size(limit: u32) -> i64 {
    i64::from(if limit == 0 { DEFAULT_LIMIT } else { limit.min(MAX_LIMIT) })
}

/// The exclusive upper bound of the strings starting with `prefix`: in byte order (SQLite's `BINARY`,
/// PostgreSQL's `C` collation) everything that starts with `prefix` sorts between it and `prefix` followed by
/// U+10FFFF, the largest code point. A range over an indexed column is served by the index on both dialects;
/// `LIKE` would need escaping and is not indexed under every collation.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn bool_column(value: bool) -> i64 {
    i64::from(value)
}

/// A value bound to a `$n` parameter.
#[derive(Debug)]
enum Value {
    Text(String),
    Int(i64),
}

/// A `SELECT` assembled from fixed fragments and bound values. `&'static str` keeps anything
/// caller-controlled out of the SQL text: values only ever arrive through [`Select::param`].
#[derive(Debug)]
struct Select {
    head: &'static str,
    conditions: Vec<String>,
    values: Vec<Value>,
}

impl Select {
    fn new(head: &'static str) -> Self {
        Self { head, conditions: Vec::new(), values: Vec::new() }
    }

    /// Binds `value` and returns its placeholder.
    fn param(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// Adds `<left> <placeholder>` (as in `"email >="`) to the conditions, all of which must hold.
    fn compare(&mut self, left: &'static str, value: Value) {
        let placeholder = self.param(value);
        self.conditions.push(format!("{left} {placeholder}"));
    }

    fn text(&mut self, left: &'static str, value: impl Into<String>) {
        self.compare(left, Value::Text(value.into()));
    }

    fn int(&mut self, left: &'static str, value: i64) {
        self.compare(left, Value::Int(value));
    }

    /// The statement, ending with `tail` (ordering) and a bound `LIMIT`.
    fn finish(mut self, tail: &'static str, limit: i64) -> AnyQuery<'static> {
        let limit = self.param(Value::Int(limit));
        let mut sql = self.head.to_owned();
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        sql.push(' ');
        sql.push_str(tail);
        sql.push_str(" LIMIT ");
        sql.push_str(&limit);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in self.values {
            query = match value {
                Value::Text(text) => query.bind(text),
                Value::Int(int) => query.bind(int),
            };
        }
        query
    }
}

/// Restricts `select` to `pool`, or to every pool kind when there is none: the same rows, but the condition
/// lets the indexes (which all lead with `pool`) serve a query that names no pool.
fn pool_condition(select: &mut Select, pool: Option<PoolKind>) {
    match pool {
        Some(pool) => select.text("pool =", pool.as_str()),
        None => {
            let list: Vec<String> = PoolKind::ALL
                .iter()
                .map(|kind| select.param(Value::Text(kind.as_str().to_owned())))
                .collect();
            select.conditions.push(format!("pool IN ({})", list.join(", ")));
        }
    }
}

impl SqlStore {
    async fn port_optional<T: DeserializeOwned>(&self, query: AnyQuery<'_>) -> PortResult<Option<T>> {
        query.fetch_optional(&self.pool).await.map_err(backend)?.as_ref().map(data).transpose()
    }

    async fn port_all<T: DeserializeOwned>(&self, query: AnyQuery<'_>) -> PortResult<Vec<T>> {
        query.fetch_all(&self.pool).await.map_err(backend)?.iter().map(data).collect()
    }
}

#[async_trait]
impl MirrorStore for SqlStore {
    async fn get_mirror(&self, pool: PoolKind, sub: &str) -> PortResult<Option<MirrorUser>> {
        let query = sqlx::query("SELECT data FROM mirror_users WHERE pool = $1 AND sub = $2");
        self.port_optional(query.bind(pool.as_str()).bind(sub)).await
    }

    async fn find_mirror_by_email(&self, pool: PoolKind, email: &str) -> PortResult<Option<MirrorUser>> {
        let query = sqlx::query("SELECT data FROM mirror_users WHERE pool = $1 AND email = $2");
        self.port_optional(query.bind(pool.as_str()).bind(email.to_lowercase())).await
    }

    async fn put_mirror(&self, user: &MirrorUser) -> PortResult<()> {
        sqlx::query(
            "INSERT INTO mirror_users (pool, sub, email, role, team, onboarding, premium, enabled, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (pool, sub) DO UPDATE SET email = excluded.email, role = excluded.role, \
             team = excluded.team, onboarding = excluded.onboarding, premium = excluded.premium, \
             enabled = excluded.enabled, data = excluded.data",
        )
        .bind(user.pool.as_str())
        .bind(&user.sub)
        .bind(user.email.to_lowercase())
        .bind(&user.role)
        .bind(user.team.clone())
        .bind(user.onboarding.as_str())
        .bind(bool_column(user.premium))
        .bind(bool_column(user.enabled))
        .bind(to_json(user)?)
        .execute(&self.pool)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => PortError::Backend(format!(
                "another {} user already has the email of {}",
                user.pool.as_str(),
                user.sub
            )),
            _ => backend(error),
        })?;
        Ok(())
    }

    async fn delete_mirror(&self, pool: PoolKind, sub: &str) -> PortResult<bool> {
        let done = sqlx::query("DELETE FROM mirror_users WHERE pool = $1 AND sub = $2")
            .bind(pool.as_str())
            .bind(sub)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_mirror(&self, query: &MirrorQuery) -> PortResult<Vec<MirrorUser>> {
        let mut select = Select::new("SELECT data FROM mirror_users");
        pool_condition(&mut select, query.pool);
        if let Some(role) = &query.role {
            select.text("role =", role);
        }
        if let Some(team) = &query.team {
            select.text("team =", team);
        }
        if let Some(onboarding) = query.onboarding {
            select.text("onboarding =", onboarding.as_str());
        }
        if let Some(premium) = query.premium {
            select.int("premium =", bool_column(premium));
        }
        if let Some(enabled) = query.enabled {
            select.int("enabled =", bool_column(enabled));
        }
        let tail = if let Some(prefix) = &query.email_prefix {
            let prefix = prefix.to_lowercase();
            let end = prefix_end(&prefix);
            select.text("email >=", prefix);
            select.text("email <", end);
            // `sub || ''` keeps the planner off the primary key, which is in `sub` order and would walk the
            // whole pool to avoid a sort: the email index finds the matches, then only those are sorted.
            if let Some(after) = &query.after {
                select.text("sub || '' >", after);
            }
            "ORDER BY sub || '', pool"
        } else {
            if let Some(after) = &query.after {
                select.text("sub >", after);
            }
            "ORDER BY sub, pool"
        };
        self.port_all(select.finish(tail, page_size(query.limit))).await
    }

    async fn count_mirror(&self, pool: PoolKind) -> PortResult<Vec<(OnboardingState, u64)>> {
        let rows = sqlx::query(
            "SELECT onboarding, COUNT(*) AS n FROM mirror_users WHERE pool = $1 GROUP BY onboarding",
        )
        .bind(pool.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut counts = rows
            .iter()
            .map(|row| {
                let name: String = row.try_get("onboarding").map_err(backend)?;
                let state = OnboardingState::parse(&name).ok_or_else(|| {
                    PortError::Backend(format!("corrupt record: onboarding state `{name}`"))
                })?;
                let count: i64 = row.try_get("n").map_err(backend)?;
                Ok((state, u64::try_from(count).map_err(backend)?))
            })
            .collect::<PortResult<Vec<_>>>()?;
        counts.sort();
        Ok(counts)
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, event: &AuditEvent) -> PortResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (id, at, pool, action, outcome, actor, target, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&event.id)
        .bind(event.at)
        .bind(event.pool.as_str())
        .bind(&event.action)
        .bind(event.outcome.as_str())
        .bind(event.actor.clone())
        .bind(event.target.clone())
        .bind(to_json(event)?)
        .execute(&self.pool)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                PortError::Backend(format!("audit event {} is already recorded", event.id))
            }
            _ => backend(error),
        })?;
        Ok(())
    }

    async fn query_audit(&self, query: &AuditQuery) -> PortResult<Vec<AuditEvent>> {
        let mut select = Select::new("SELECT data FROM audit_events");
        if let Some(pool) = query.pool {
            select.text("pool =", pool.as_str());
        }
        if let Some(actor) = &query.actor {
            select.text("actor =", actor);
        }
        if let Some(target) = &query.target {
            select.text("target =", target);
        }
        if let Some(action) = &query.action {
            if action.ends_with('.') {
                select.text("action >=", action);
                select.text("action <", prefix_end(action));
            } else {
                select.text("action =", action);
            }
        }
        if let Some(outcome) = query.outcome {
            select.text("outcome =", outcome.as_str());
        }
        if let Some(from) = query.from {
            select.int("at >=", from);
        }
        if let Some(to) = query.to {
            select.int("at <", to);
        }
        if let Some((at, id)) = &query.before {
            let at = select.param(Value::Int(*at));
            let id = select.param(Value::Text(id.clone()));
            select.conditions.push(format!("(at, id) < ({at}, {id})"));
        }
        self.port_all(select.finish("ORDER BY at DESC, id DESC", page_size(query.limit))).await
    }
}

#[async_trait]
impl TeamStore for SqlStore {
    async fn create_team(&self, team: &Team) -> PortResult<bool> {
        let done = sqlx::query(
            "INSERT INTO teams (name, description, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&team.name)
        .bind(&team.description)
        .bind(team.created_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_team(&self, name: &str) -> PortResult<Option<Team>> {
        let row = sqlx::query("SELECT name, description, created_at FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(team_of).transpose()
    }

    async fn list_teams(&self) -> PortResult<Vec<Team>> {
        let rows = sqlx::query("SELECT name, description, created_at FROM teams ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(team_of).collect()
    }
}

fn team_of(row: &AnyRow) -> PortResult<Team> {
    Ok(Team {
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

#[async_trait]
impl WebhookLedger for SqlStore {
    async fn record_event(&self, event_id: &str, at: i64) -> PortResult<bool> {
        let done = sqlx::query(
            "INSERT INTO webhook_events (event_id, at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn forget_event(&self, event_id: &str) -> PortResult<()> {
        sqlx::query("DELETE FROM webhook_events WHERE event_id = $1")
            .bind(event_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl RevocationStore for SqlStore {
    async fn record_revocation(&self, revocation: &StoredRevocation) -> PortResult<()> {
        let pool = revocation.pool.as_str();
        let (id, sub, token_id, issued_before) = match &revocation.what {
            Revoked::Token(token) => (format!("{pool}:token:{token}"), None, Some(token.as_str()), None),
            Revoked::Subject { sub, issued_before } => (
                format!("{pool}:sub:{sub}"),
                Some(sub.as_str()),
                None,
                Some(i64::try_from(*issued_before).unwrap_or(i64::MAX)),
            ),
        };
        // A subject's revocation only ever moves forward, and lives as long as the longest it covers.
        let query = sqlx::query(
            "INSERT INTO token_revocations (id, pool, sub, token_id, issued_before, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET \
               issued_before = CASE WHEN excluded.issued_before > token_revocations.issued_before \
                 THEN excluded.issued_before ELSE token_revocations.issued_before END, \
               expires_ms = CASE WHEN excluded.expires_ms > token_revocations.expires_ms \
                 THEN excluded.expires_ms ELSE token_revocations.expires_ms END",
        );
        query
            .bind(id)
            .bind(pool)
            .bind(sub)
            .bind(token_id)
            .bind(issued_before)
            .bind(revocation.expires_ms)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn live_revocations(&self, pool: PoolKind, now_ms: i64) -> PortResult<Vec<StoredRevocation>> {
        let rows = sqlx::query(
            "SELECT sub, token_id, issued_before, expires_ms FROM token_revocations \
             WHERE pool = $1 AND expires_ms > $2 ORDER BY id",
        )
        .bind(pool.as_str())
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let token: Option<String> = row.try_get("token_id").map_err(backend)?;
                let sub: Option<String> = row.try_get("sub").map_err(backend)?;
                let issued_before: Option<i64> = row.try_get("issued_before").map_err(backend)?;
                let what = match (token, sub, issued_before) {
                    (Some(token), _, _) => Revoked::Token(token),
                    (None, Some(sub), Some(before)) => {
                        Revoked::Subject { sub, issued_before: u64::try_from(before).unwrap_or(0) }
                    }
                    _ => return Err(PortError::Backend("corrupt revocation row".to_owned())),
                };
                Ok(StoredRevocation { pool, what, expires_ms: row.try_get("expires_ms").map_err(backend)? })
            })
            .collect()
    }
}

#[async_trait]
impl RecoveryCodeStore for SqlStore {
    async fn replace_recovery_codes(
        &self,
        pool: PoolKind,
        sub: &str,
        hashes: &[String],
        now_ms: i64,
    ) -> PortResult<()> {
        let mut tx = self.begin_port_write().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE pool = $1 AND sub = $2")
            .bind(pool.as_str())
            .bind(sub)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (pool, sub, code_hash, created_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(pool.as_str())
            .bind(sub)
            .bind(hash)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn use_recovery_code(
        &self,
        pool: PoolKind,
        sub: &str,
        hash: &str,
        now_ms: i64,
    ) -> PortResult<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_ms = $1 \
             WHERE pool = $2 AND sub = $3 AND code_hash = $4 AND used_ms IS NULL",
        )
        .bind(now_ms)
        .bind(pool.as_str())
        .bind(sub)
        .bind(hash)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unused_recovery_codes(&self, pool: PoolKind, sub: &str) -> PortResult<u32> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS unused FROM recovery_codes WHERE pool = $1 AND sub = $2 AND used_ms IS NULL",
        )
        .bind(pool.as_str())
        .bind(sub)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let count: i64 = row.try_get("unused").map_err(backend)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn delete_recovery_codes(&self, pool: PoolKind, sub: &str) -> PortResult<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE pool = $1 AND sub = $2")
            .bind(pool.as_str())
            .bind(sub)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0), 50);
        assert_eq!(page_size(7), 7);
        assert_eq!(page_size(1000), 1000);
        assert_eq!(page_size(u32::MAX), 1000);
    }

    #[test]
    fn values_are_bound_never_spliced() {
        let mut select = Select::new("SELECT data FROM mirror_users");
        pool_condition(&mut select, None);
        select.text("email >=", "x'; DROP TABLE mirror_users; --");
        let placeholders = select.conditions.join(" AND ");
        assert_eq!(placeholders, "pool IN ($1, $2) AND email >= $3");
        assert!(!placeholders.contains("DROP"));
    }
}
