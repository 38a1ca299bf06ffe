//! One-time codes (sign-up confirmation, password reset): six digits, stored only as a keyed hash, single
//! use, expiring, with a small number of attempts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::clock::Entropy;

/// How long a code stays valid (Cognito: 24 hours for sign-up codes, 1 hour for reset codes).
pub const SIGN_UP_CODE_TTL_SECS: i64 = 24 * 3600;
pub const RESET_CODE_TTL_SECS: i64 = 3600;
/// Wrong guesses allowed before the code is void and a new one must be requested.
pub const MAX_CODE_ATTEMPTS: u32 = 5;

/// Cognito's throttle on codes, per user and purpose, over a rolling hour (the window opens with the first
/// code or failure and lasts this long). A new code re-arms its own five attempts but not these counts, so
/// asking for code after code buys no more guesses: at most [`CODES_PER_WINDOW`] codes are sent and
/// [`FAILURES_PER_WINDOW`] wrong guesses made in an hour, after which the user gets LimitExceeded until the
/// hour is over. Guessing a 6-digit code then takes on the order of 10⁵ hours.
pub const THROTTLE_WINDOW_MS: i64 = 3_600_000;
pub const CODES_PER_WINDOW: u32 = 5;
pub const FAILURES_PER_WINDOW: u32 = 10;

/// The code subject standing for a name nobody has, when the client hides whether users exist: its codes
/// are stored and throttled like a real user's (and never sent), so no answer or limit tells them apart.
pub fn phantom_sub(pool_id: &str, username_key: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [pool_id, username_key] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    format!("unknown:{}", URL_SAFE_NO_PAD.encode(hasher.finalize()))
}

/// A uniformly random six-digit code (rejection sampling, no modulo bias).
pub fn new_code(entropy: &dyn Entropy) -> String {
    loop {
        let mut bytes = [0u8; 4];
        entropy.fill(&mut bytes);
        let value = u32::from_le_bytes(bytes);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if value < 4_294_000_000 {
            return format!("{:06}", value % 1_000_000);
        }
    }
}

/// The stored form of a code: bound to the user and purpose, so a code for one never matches another.
pub fn hash_code(pool_id: &str, sub: &str, purpose: &str, code: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [pool_id, sub, purpose, code.trim()] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// An opaque secret handed to a client (session, refresh token): 32 random bytes, base64url.
pub fn new_opaque(entropy: &dyn Entropy) -> String {
    let mut bytes = [0u8; 32];
    entropy.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How opaque secrets are stored: SHA-256, base64url.
pub fn hash_opaque(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::BTreeSet<String> = (0..200).map(|_| new_code(&OsEntropy)).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.chars().all(|d| d.is_ascii_digit())));
        assert!(codes.len() > 190);
    }

    #[test]
    fn code_hashes_are_bound_to_user_and_purpose() {
        let a = hash_code("p", "u1", "sign_up", "123456");
        assert_eq!(a, hash_code("p", "u1", "sign_up", " 123456 "));
        assert_ne!(a, hash_code("p", "u2", "sign_up", "123456"));
        assert_ne!(a, hash_code("p", "u1", "forgot_password", "123456"));
    }
}
