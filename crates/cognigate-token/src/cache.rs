//! The verified-token cache: a service sees the same bearer token on every request of a session, and an
//! RSA verification costs ~16 µs while hashing the token and a map lookup cost ~1 µs. Entries are keyed by
//! the SHA-256 of the whole token (never a part of it: a cached signature must not vouch for another
//! payload, nor a cached payload for a mangled signature) and hold the verified claims; expiry and
//! revocation are re-checked by the verifier on every hit. Bounded, first-in-first-out eviction, O(1) per
//! operation.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{PoisonError, RwLock};

use aws_lc_rs::digest::{Context, SHA256};

use crate::verify::VerifiedToken;

/// The SHA-256 of a whole token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// Hashes the token `header.payload.signature` in one pass, also returning the hash state after
    /// `header.payload`: finishing it gives the digest the RSA verification of a first-seen token needs.
    pub(crate) fn of(signing_input: &str, signature: &str) -> (Self, Context) {
        let mut context = Context::new(&SHA256);
        context.update(signing_input.as_bytes());
        let signed_part = context.clone();
        context.update(b".");
        context.update(signature.as_bytes());
        let hashed = context.finish();
        let mut bytes = [0u8; 32];
        for (out, byte) in bytes.iter_mut().zip(hashed.as_ref()) {
            *out = *byte;
        }
        (Self(bytes), signed_part)
    }
}

impl Hash for TokenDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The digest is already uniformly distributed and not chosen by an attacker (only tokens with a
        // valid signature are inserted), so eight of its bytes are a good hash.
        let [a, b, c, d, e, f, g, h, ..] = self.0;
        state.write_u64(u64::from_le_bytes([a, b, c, d, e, f, g, h]));
    }
}

/// Passes a `write_u64` through; used only with [`TokenDigest`].
#[derive(Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A bounded map from token digest to verified token.
#[derive(Debug)]
pub(crate) struct TokenCache {
    capacity: usize,
    inner: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<TokenDigest, VerifiedToken, BuildHasherDefault<DigestHasher>>,
    /// Insertion order; always holds exactly the keys of `map`.
    order: VecDeque<TokenDigest>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, inner: RwLock::new(Entries::default()) }
    }

    pub(crate) fn get(&self, key: &TokenDigest) -> Option<VerifiedToken> {
        if self.capacity == 0 {
            return None;
        }
        self.inner.read().unwrap_or_else(PoisonError::into_inner).map.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: TokenDigest, token: VerifiedToken) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if entries.map.contains_key(&key) {
            return;
        }
        while entries.map.len() >= self.capacity {
            match entries.order.pop_front() {
                Some(oldest) => {
                    entries.map.remove(&oldest);
                }
                None => break,
            }
        }
        entries.map.insert(key, token);
        entries.order.push_back(key);
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        entries.map.clear();
        entries.order.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::sample_verified;

    #[test]
    fn digest_is_sha256_of_the_whole_token() {
        let (whole, signed) = TokenDigest::of("a.b", "c");
        // SHA-256("a.b.c") and SHA-256("a.b")
        let expected_whole = aws_lc_rs::digest::digest(&SHA256, b"a.b.c");
        let expected_signed = aws_lc_rs::digest::digest(&SHA256, b"a.b");
        assert_eq!(whole.0[..], expected_whole.as_ref()[..]);
        assert_eq!(signed.finish().as_ref(), expected_signed.as_ref());
        assert_ne!(TokenDigest::of("a.b", "d").0, whole);
        assert_ne!(TokenDigest::of("a.c", "c").0, whole);
        assert_eq!(TokenDigest::of("a.b", "c").0, whole);
    }

    fn key(i: usize) -> TokenDigest {
        TokenDigest::of(&i.to_string(), "s").0
    }

    #[test]
    fn evicts_oldest_first_and_stays_bounded() {
        let cache = TokenCache::new(3);
        for i in 0..5 {
            cache.insert(key(i), sample_verified(&format!("sub{i}")));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&key(0)).is_none());
        assert!(cache.get(&key(1)).is_none());
        assert_eq!(cache.get(&key(4)).unwrap().sub(), "sub4");
        // Re-inserting a present key neither duplicates nor refreshes it.
        cache.insert(key(2), sample_verified("other"));
        assert_eq!(cache.get(&key(2)).unwrap().sub(), "sub2");
        cache.insert(key(5), sample_verified("sub5"));
        assert!(cache.get(&key(2)).is_none());
        assert_eq!(cache.len(), 3);
        cache.clear();
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn zero_capacity_disables_the_cache() {
        let cache = TokenCache::new(0);
        cache.insert(key(1), sample_verified("s"));
        assert!(cache.get(&key(1)).is_none());
        assert_eq!(cache.len(), 0);
    }
}
