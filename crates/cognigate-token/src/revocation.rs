//! Revocation, consulted after every successful verification, cached or not. A signature only proves who
//! issued a token, not that it is still wanted: sign-out, `RevokeToken` and disabling a user must take
//! effect before `exp`. The check is synchronous and meant to be an in-memory lookup (the engine keeps its
//! denylist in memory and adapts it to [`RevocationCheck`]); anything slower belongs outside the hot path.

use std::collections::{HashMap, HashSet};
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
/// which every token issued (`iat`) is revoked (global sign-out, disabled user).
#[derive(Debug, Default)]
pub struct RevocationList {
    inner: RwLock<Lists>,
}

#[derive(Debug, Default)]
struct Lists {
    /// Revoked `jti`s and `origin_jti`s (both are UUIDs; one set serves both).
    ids: HashSet<String>,
    /// `sub` → tokens with `iat <= t` are revoked.
    subjects: HashMap<String, u64>,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes every token whose `origin_jti` is `origin_jti` (a refresh token and everything it minted).
    pub fn revoke_origin_jti(&self, origin_jti: impl Into<String>) {
        self.write().ids.insert(origin_jti.into());
    }

    /// Revokes the one token whose `jti` is `jti`.
    pub fn revoke_jti(&self, jti: impl Into<String>) {
        self.write().ids.insert(jti.into());
    }

    /// Revokes every token of `sub` issued at or before `until` (Unix seconds, inclusive: a token issued
    /// in the same second as the sign-out is revoked too). A later call with an earlier time does not
    /// shorten an existing revocation.
    pub fn revoke_subject_until(&self, sub: impl Into<String>, until: u64) {
        let mut lists = self.write();
        let entry = lists.subjects.entry(sub.into()).or_insert(until);
        *entry = (*entry).max(until);
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
        let id_revoked = |id: Option<&str>| id.is_some_and(|id| lists.ids.contains(id));
        if id_revoked(token.jti()) || id_revoked(token.origin_jti()) {
            return Revocation::Revoked;
        }
        match lists.subjects.get(token.sub()) {
            Some(&until) if token.iat() <= until => Revocation::Revoked,
            _ => Revocation::Valid,
        }
    }
}
