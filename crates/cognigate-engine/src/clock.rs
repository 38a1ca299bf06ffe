//! Time and randomness, as inputs. The engine never reads the wall clock or the OS random generator
//! directly, so tests can fix both.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> Millis;

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn starting_at(ms: Millis) -> Self {
        Self(AtomicI64::new(ms))
    }

    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// A source of secret randomness (codes, session ids, refresh tokens, TOTP secrets).
pub trait Entropy: Send + Sync + std::fmt::Debug {
    fn fill(&self, buffer: &mut [u8]);

    fn bytes<const N: usize>(&self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut buffer = [0u8; N];
        self.fill(&mut buffer);
        buffer
    }
}

/// The operating system's CSPRNG (through aws-lc-rs).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buffer: &mut [u8]) {
        // aws-lc's generator only fails when the OS cannot provide randomness at all; there is no safe way to
        // continue then, and an all-zero buffer would be a predictable secret, so abort loudly.
        if aws_lc_rs::rand::fill(buffer).is_err() {
            std::process::abort();
        }
    }
}

/// Fills from the OS generator through a trait object.
pub fn random_bytes<const N: usize>(entropy: &dyn Entropy) -> [u8; N] {
    let mut buffer = [0u8; N];
    entropy.fill(&mut buffer);
    buffer
}
