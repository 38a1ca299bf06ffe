//! Revocation, consulted after every successful verification, cached or not. A signature only proves who
//! issued a token, not that it is still wanted: sign-out, `RevokeToken` and disabling a user must take
//! effect before `exp`. The check is synchronous and meant to be an in-memory lookup (the engine keeps its
//! denylist in memory and adapts it to [`RevocationCheck`]); anything slower belongs outside the hot path.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use crate::verify::VerifiedToken;

/// The answer of a revocation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The token may be used.
    Valid,
    /// The token is revoked.
    Revoked,
}

/// Decides whether a verified token was revoked. Called on every successful verification, including
/// verified-token cache hits, so it must be fast and must not block.
pub trait RevocationCheck: Send + Sync {
    /// `token` has a valid signature and valid claims; is it revoked?
    fn check(&self, token: &VerifiedToken) -> Revocation;
}

/// No revocation: every verified token is valid (for verifiers that only see short-lived tokens).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRevocation;

impl RevocationCheck for NoRevocation {
    fn check(&self, _token: &VerifiedToken) -> Revocation {
        Revocation::Valid
    }
}

/// An in-memory revocation list: revoked token ids (`jti` or `origin_jti`) and, per subject, a time up to
/// which every token issued (`iat`) is revoked (global sign-out, disabled user). An entry revoked with an
/// expiry is forgotten once no token it covers can still be alive, so the list holds what is live, not
/// every sign-out there ever was.
#[derive(Debug, Default)]
pub struct RevocationList {
    inner: RwLock<Lists>,
    /// Revocations since the last pruning.
    since_pruned: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Lists {
    /// Revoked `jti`s and `origin_jti`s (both are UUIDs; one set serves both), with when they stop mattering.
    ids: HashMap<String, u64>,
    /// `sub` → (tokens with `iat <= t` are revoked, until when that matters).
    subjects: HashMap<String, (u64, u64)>,
}

/// Expired entries are looked for once every so many revocations (never a scan per call).
const PRUNE_EVERY: u64 = 1024;

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes every token whose `origin_jti` is `origin_jti` (a refresh token and everything it minted).
    pub fn revoke_origin_jti(&self, origin_jti: impl Into<String>) {
        self.write().ids.insert(origin_jti.into(), u64::MAX);
    }

    /// Revokes the one token whose `jti` is `jti`.
    pub fn revoke_jti(&self, jti: impl Into<String>) {
        self.write().ids.insert(jti.into(), u64::MAX);
    }

    /// Revokes every token of `sub` issued at or before `until` (Unix seconds, inclusive: a token issued
    /// in the same second as the sign-out is revoked too). A later call with an earlier time does not
    /// shorten an existing revocation.
    pub fn revoke_subject_until(&self, sub: impl Into<String>, until: u64) {
        self.revoke_subject(sub.into(), until, u64::MAX);
    }

    /// Revokes a token or login id (`jti`, `origin_jti`) until `expires` (Unix seconds), when every token
    /// it covers has expired; `now` lets the list forget what no longer matters.
    pub fn revoke_id_until_expiry(&self, id: impl Into<String>, expires: u64, now: u64) {
        {
            let mut lists = self.write();
            let entry = lists.ids.entry(id.into()).or_insert(expires);
            *entry = (*entry).max(expires);
        }
        self.maybe_prune(now);
    }

    /// [`Self::revoke_subject_until`], remembered until `expires` (when the last token issued before
    /// `until` has expired).
    pub fn revoke_subject_until_expiry(&self, sub: impl Into<String>, until: u64, expires: u64, now: u64) {
        self.revoke_subject(sub.into(), until, expires);
        self.maybe_prune(now);
    }

    fn revoke_subject(&self, sub: String, until: u64, expires: u64) {
        let mut lists = self.write();
        let entry = lists.subjects.entry(sub).or_insert((until, expires));
        *entry = (entry.0.max(until), entry.1.max(expires));
    }

    /// Forgets every entry whose tokens have all expired at `now`.
    pub fn forget_expired(&self, now: u64) {
        let mut lists = self.write();
        lists.ids.retain(|_, expires| *expires > now);
        lists.subjects.retain(|_, (_, expires)| *expires > now);
    }

    /// How many entries the list holds (ids and subjects).
    pub fn len(&self) -> usize {
        let lists = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        lists.ids.len() + lists.subjects.len()
    }

    /// Whether the list holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn maybe_prune(&self, now: u64) {
        let count = self.since_pruned.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if count % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.forget_expired(now);
        }
    }

    /// Forgets a subject-wide revocation (e.g. the entry outlived every token it covered).
    pub fn forget_subject(&self, sub: &str) {
        self.write().subjects.remove(sub);
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Lists> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl RevocationCheck for RevocationList {
    fn check(&self, token: &VerifiedToken) -> Revocation {
        let lists = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let id_revoked = |id: Option<&str>| id.is_some_and(|id| lists.ids.contains_key(id));
        if id_revoked(token.jti()) || id_revoked(token.origin_jti()) {
            return Revocation::Revoked;
        }
        match lists.subjects.get(token.sub()) {
            Some(&(until, _)) if token.iat() <= until => Revocation::Revoked,
            _ => Revocation::Valid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I5 of the 2026-12-07 audit: the list never forgot anything, so it grew with every sign-out.
    #[test]
    fn entries_are_forgotten_once_their_tokens_have_expired() {
        let list = RevocationList::new();
        list.revoke_id_until_expiry("family-1", 100, 10);
        list.revoke_subject_until_expiry("sub-1", 50, 200, 10);
        list.revoke_jti("forever");
        assert_eq!(list.len(), 3);
        list.forget_expired(150);
        assert_eq!(list.len(), 2, "family-1's tokens have expired");
        list.forget_expired(250);
        assert_eq!(list.len(), 1, "an entry without an expiry stays");
        // A later revocation never shortens an earlier one.
        list.revoke_subject_until_expiry("sub-2", 50, 900, 10);
        list.revoke_subject_until_expiry("sub-2", 40, 300, 10);
        list.forget_expired(500);
        assert_eq!(list.len(), 2);
        // Pruning happens by itself as revocations come in.
        for i in 0..(2 * PRUNE_EVERY) {
            list.revoke_id_until_expiry(format!("old-{i}"), 1, 1_000);
        }
        assert!(list.len() < 2 + 2 * PRUNE_EVERY as usize);
    }
}
