//! The store port: what the engine needs persisted, and nothing about how.
//!
//! Methods are small and mostly record-shaped; the few that must be atomic say so (taking a session,
//! rotating a refresh token, creating a user with a unique username). `cognigate-store` implements this on
//! SQLite and PostgreSQL and runs one conformance suite against both.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::model::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (username, pool id, group name...).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The record the write refers to is gone.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database failed; the message is for logs, never for clients.
    #[error("store failure: {0}")]
    Backend(String),
}

/// A page of users and the key to continue after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // Pools and clients.
    async fn put_pool(&self, pool: &UserPool) -> Result<(), StoreError>;
    async fn get_pool(&self, pool_id: &str) -> Result<Option<UserPool>, StoreError>;
    async fn list_pools(&self) -> Result<Vec<UserPool>, StoreError>;
    /// Deletes the pool and everything in it.
    async fn delete_pool(&self, pool_id: &str) -> Result<(), StoreError>;
    async fn put_client(&self, client: &AppClient) -> Result<(), StoreError>;
    async fn get_client(&self, client_id: &str) -> Result<Option<AppClient>, StoreError>;
    async fn list_clients(&self, pool_id: &str) -> Result<Vec<AppClient>, StoreError>;
    async fn delete_client(&self, client_id: &str) -> Result<(), StoreError>;

    // Users.
    /// Fails with `Conflict` when the username (case-insensitively) is taken in the pool.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// Replaces the user's record (attributes included). `Conflict` if the new username is taken.
    async fn update_user(&self, user: &User) -> Result<(), StoreError>;
    async fn get_user(&self, pool_id: &str, sub: &str) -> Result<Option<User>, StoreError>;
    async fn find_user(&self, pool_id: &str, username: &str) -> Result<Option<User>, StoreError>;
    /// Finds users of the pool whose attribute equals (case-insensitively for `email`) the value.
    async fn find_users_by_attribute(
        &self,
        pool_id: &str,
        name: &str,
        value: &str,
    ) -> Result<Vec<User>, StoreError>;
    /// Deletes the user with their groups, codes, sessions and refresh tokens.
    async fn delete_user(&self, pool_id: &str, sub: &str) -> Result<(), StoreError>;
    /// How many users the pool has (DescribeUserPool's EstimatedNumberOfUsers).
    async fn count_users(&self, pool_id: &str) -> Result<i64, StoreError>;
    /// Users in `sub` order after `after`, optionally filtered.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<UserPage, StoreError>;

    // Groups.
    async fn put_group(&self, group: &Group) -> Result<(), StoreError>;
    async fn get_group(&self, pool_id: &str, name: &str) -> Result<Option<Group>, StoreError>;
    async fn list_groups(&self, pool_id: &str) -> Result<Vec<Group>, StoreError>;
    async fn delete_group(&self, pool_id: &str, name: &str) -> Result<(), StoreError>;
    async fn add_user_to_group(&self, pool_id: &str, group: &str, sub: &str) -> Result<(), StoreError>;
    async fn remove_user_from_group(&self, pool_id: &str, group: &str, sub: &str) -> Result<(), StoreError>;
    async fn groups_of_user(&self, pool_id: &str, sub: &str) -> Result<Vec<Group>, StoreError>;
    async fn users_in_group(&self, pool_id: &str, group: &str) -> Result<Vec<User>, StoreError>;

    // Codes, sessions, lockout.
    /// Replaces the user's code for that purpose.
    async fn put_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    async fn get_code(
        &self,
        pool_id: &str,
        sub: &str,
        purpose: CodePurpose,
    ) -> Result<Option<CodeRecord>, StoreError>;
    async fn delete_code(&self, pool_id: &str, sub: &str, purpose: CodePurpose) -> Result<(), StoreError>;
    async fn put_session(&self, session: &ChallengeSession) -> Result<(), StoreError>;
    /// Removes and returns the session: a session is used at most once, even by concurrent callers.
    async fn take_session(&self, id_hash: &str) -> Result<Option<ChallengeSession>, StoreError>;
    /// Reads a session without taking it (to see which client it belongs to).
    async fn get_session(&self, id_hash: &str) -> Result<Option<ChallengeSession>, StoreError>;
    async fn get_lockout(&self, pool_id: &str, sub: &str) -> Result<LockoutRecord, StoreError>;
    async fn put_lockout(&self, pool_id: &str, sub: &str, record: &LockoutRecord) -> Result<(), StoreError>;

    // Refresh tokens and revocation.
    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), StoreError>;
    async fn get_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError>;
    /// Marks the token rotated if it was not already; returns whether this call did it.
    async fn mark_rotated(&self, token_hash: &str, at: Millis) -> Result<bool, StoreError>;
    /// Revokes every refresh token of the family and records the family as revoked.
    async fn revoke_family(&self, pool_id: &str, family: &str, until: Millis) -> Result<(), StoreError>;
    /// Revokes every refresh token of the user and records their families as revoked, so access tokens
    /// of those logins are refused too. Returns the families it revoked, each with when its last refresh
    /// token expires.
    async fn revoke_user_refresh(
        &self,
        pool_id: &str,
        sub: &str,
    ) -> Result<Vec<(String, Millis)>, StoreError>;
    async fn is_family_revoked(&self, family: &str) -> Result<bool, StoreError>;
    /// The revoked families whose tokens may still be alive at `now` (what a restarted process must refuse),
    /// each with when that stops being so.
    async fn live_revoked_families(&self, now: Millis) -> Result<Vec<(String, Millis)>, StoreError>;
    /// The user's refresh tokens that still work at `now` (not revoked, not rotated, not expired): one per
    /// signed-in session, oldest sign-in first.
    async fn live_refresh(
        &self,
        pool_id: &str,
        sub: &str,
        now: Millis,
    ) -> Result<Vec<RefreshRecord>, StoreError>;

    // Signing keys and the outbox.
    async fn put_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    async fn list_keys(&self, pool_id: &str) -> Result<Vec<StoredKey>, StoreError>;
    async fn push_outbox(&self, message: &OutboxMessage) -> Result<(), StoreError>;
    /// Messages, newest first, optionally only those to one recipient.
    async fn list_outbox(
        &self,
        recipient: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
}
