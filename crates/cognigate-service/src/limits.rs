//! Rate limits and lockout, behind interfaces: the in-memory versions here serve one instance; counters in
//! Redis replace them when several instances must share what they count.
//!
//! Both count by key strings the service builds (`customer.login.address:127.0.0.1`,
//! `staff:alice@example.com`), so a shared implementation needs no knowledge of routes or pools.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use cognigate_config::Rate;
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};

/// Admits or refuses one request per call.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Takes one request of `rate` for `key` in `bucket`; `Err(seconds)` says how long until one is free.
    async fn acquire(&self, bucket: &str, key: &str, rate: Rate) -> Result<(), u64>;
}

type Keyed = Governor<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// `governor`'s generic cell rate algorithm per bucket and key, in memory.
#[derive(Debug, Default)]
pub struct MemoryRateLimiter {
    buckets: Mutex<HashMap<(String, u32, u64), Arc<Keyed>>>,
    calls: AtomicU64,
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    fn limiter(&self, bucket: &str, rate: Rate) -> Option<Arc<Keyed>> {
        let count = NonZeroU32::new(rate.count)?;
        let period = rate.per.checked_div(rate.count)?;
        let id = (bucket.to_owned(), rate.count, u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(limiter) = buckets.get(&id) {
            return Some(limiter.clone());
        }
        let quota = Quota::with_period(period)?.allow_burst(count);
        let limiter = Arc::new(Governor::keyed(quota));
        buckets.insert(id, limiter.clone());
        Some(limiter)
    }
}

/// Forgetting keys whose cells are full again keeps memory bounded by the recently active keys.
const RETAIN_EVERY: u64 = 4096;

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn acquire(&self, bucket: &str, key: &str, rate: Rate) -> Result<(), u64> {
        let Some(limiter) = self.limiter(bucket, rate) else {
            // A zero rate is refused by configuration validation; if one slips through, it admits nothing.
            return Err(rate.per.as_secs().max(1));
        };
        if self.calls.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// A pool's lockout policy in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    pub max_failures: u32,
    pub window_secs: u64,
    pub duration_secs: u64,
}

impl From<&cognigate_config::LockoutPolicy> for LockoutRule {
    fn from(policy: &cognigate_config::LockoutPolicy) -> Self {
        Self {
            max_failures: policy.max_failures,
            window_secs: policy.window.as_secs(),
            duration_secs: policy.duration.as_secs(),
        }
    }
}

/// Counts failed sign-in factors (passwords and MFA codes alike) per account and locks the account for a
/// while after too many within the window.
#[async_trait]
pub trait Lockout: Send + Sync + std::fmt::Debug {
    /// Seconds left of a lock on `key` at `now`, if locked.
    async fn locked_for(&self, key: &str, now: u64) -> Option<u64>;
    /// Counts a failure at `now`; answers the lock's length when this failure locks the account.
    async fn record_failure(&self, key: &str, rule: LockoutRule, now: u64) -> Option<u64>;
    /// Forgets the failures (a successful sign-in or password reset).
    async fn clear(&self, key: &str);
}

#[derive(Debug, Default)]
struct Failures {
    at: VecDeque<u64>,
    locked_until: u64,
}

/// Lockout counters in memory.
#[derive(Debug, Default)]
pub struct MemoryLockout {
    accounts: Mutex<HashMap<String, Failures>>,
}

impl MemoryLockout {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Lockout for MemoryLockout {
    async fn locked_for(&self, key: &str, now: u64) -> Option<u64> {
        let accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        accounts.get(key).filter(|f| f.locked_until > now).map(|f| f.locked_until - now)
    }

    async fn record_failure(&self, key: &str, rule: LockoutRule, now: u64) -> Option<u64> {
        if rule.max_failures == 0 {
            return None;
        }
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget idle accounts now and then so an attacker's random names do not pile up.
        if accounts.len() > 100_000 {
            accounts.retain(|_, f| {
                f.locked_until > now || f.at.back().is_some_and(|t| now < t + rule.window_secs)
            });
        }
        let failures = accounts.entry(key.to_owned()).or_default();
        if failures.locked_until > now {
            // Attempts during a lock do not extend it.
            return None;
        }
        while failures.at.front().is_some_and(|t| *t + rule.window_secs <= now) {
            failures.at.pop_front();
        }
        failures.at.push_back(now);
        if failures.at.len() >= rule.max_failures as usize {
            failures.at.clear();
            failures.locked_until = now + rule.duration_secs;
            return Some(rule.duration_secs);
        }
        None
    }

    async fn clear(&self, key: &str) {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const RULE: LockoutRule = LockoutRule { max_failures: 5, window_secs: 900, duration_secs: 1800 };

    #[tokio::test]
    async fn five_failures_in_the_window_lock_for_the_duration() {
        let lockout = MemoryLockout::new();
        for i in 0..4 {
            assert_eq!(lockout.record_failure("a", RULE, 1000 + i * 100).await, None);
        }
        assert_eq!(lockout.locked_for("a", 1400).await, None);
        assert_eq!(lockout.record_failure("a", RULE, 1450).await, Some(1800));
        assert_eq!(lockout.locked_for("a", 1450).await, Some(1800));
        // Failures while locked do not extend it.
        assert_eq!(lockout.record_failure("a", RULE, 2000).await, None);
        assert_eq!(lockout.locked_for("a", 3249).await, Some(1));
        assert_eq!(lockout.locked_for("a", 3250).await, None);
        assert_eq!(lockout.locked_for("b", 1450).await, None);
    }

    #[tokio::test]
    async fn failures_outside_the_window_are_forgotten_and_success_clears() {
        let lockout = MemoryLockout::new();
        for i in 0..4 {
            lockout.record_failure("a", RULE, i * 300).await;
        }
        // The first failure (t=0) left the window at t=900.
        assert_eq!(lockout.record_failure("a", RULE, 900).await, None);
        lockout.clear("a").await;
        for i in 0..4 {
            assert_eq!(lockout.record_failure("a", RULE, 1000 + i).await, None);
        }
    }

    #[tokio::test]
    async fn rate_limits_admit_the_burst_then_answer_retry_after() {
        let limiter = MemoryRateLimiter::new();
        let rate = Rate { count: 3, per: Duration::from_secs(60) };
        for _ in 0..3 {
            assert_eq!(limiter.acquire("customer.login.address", "10.0.0.1", rate).await, Ok(()));
        }
        let wait = limiter.acquire("customer.login.address", "10.0.0.1", rate).await;
        assert!(matches!(wait, Err(secs) if (1..=20).contains(&secs)), "{wait:?}");
        // Another key and another bucket are counted separately.
        assert_eq!(limiter.acquire("customer.login.address", "10.0.0.2", rate).await, Ok(()));
        assert_eq!(limiter.acquire("staff.login.address", "10.0.0.1", rate).await, Ok(()));
    }
}
