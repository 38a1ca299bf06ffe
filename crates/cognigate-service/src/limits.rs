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

/// The key per-address limits and lockout count a client under: its address, or for IPv6 its /64 (the
/// smallest block a host is usually given, all of which it can rotate through). No address counts as one.
pub fn address_key(address: Option<&str>) -> String {
    match address.and_then(|text| text.parse::<std::net::IpAddr>().ok()).map(|ip| ip.to_canonical()) {
        Some(std::net::IpAddr::V6(v6)) => {
            let network = std::net::Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX));
            format!("{network}/64")
        }
        Some(v4) => v4.to_string(),
        None => "unknown".to_owned(),
    }
}

/// A pool's lockout policy in seconds (see `cognigate_config::LockoutPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    /// Failures from one address before that address waits.
    pub max_failures: u32,
    pub window_secs: u64,
    /// The longest wait of one address.
    pub duration_secs: u64,
    /// Failures from every address together before every try waits.
    pub account_max_failures: u32,
    /// The longest account-wide wait: what a stranger can impose on the owner at most.
    pub account_max_delay_secs: u64,
}

impl From<&cognigate_config::LockoutPolicy> for LockoutRule {
    fn from(policy: &cognigate_config::LockoutPolicy) -> Self {
        Self {
            max_failures: policy.max_failures,
            window_secs: policy.window.as_secs(),
            duration_secs: policy.duration.as_secs(),
            account_max_failures: policy.account_max_failures,
            account_max_delay_secs: policy.account_max_delay.as_secs(),
        }
    }
}

/// Slows down guessing at one account (passwords and MFA codes alike) without giving strangers a way to
/// keep the owner out: failures are counted per (account, client address) — that address waits longer and
/// longer — and per account, where the wait is short and skipped by the addresses the account recently
/// signed in from. Keys are the strings the service builds (`customer:alice@example.com`, an address or
/// IPv6 /64), so a shared implementation needs no knowledge of pools or routes.
#[async_trait]
pub trait Lockout: Send + Sync + std::fmt::Debug {
    /// Seconds `address` must still wait before trying `account` again, if any.
    async fn wait_for(&self, account: &str, address: &str, now: u64) -> Option<u64>;
    /// Counts a failure at `now`; answers the wait it imposes on `address`, if it now has one.
    async fn record_failure(&self, account: &str, address: &str, rule: LockoutRule, now: u64) -> Option<u64>;
    /// A success from `address`: forgets that address's failures on the account and remembers it as the
    /// account's. What other addresses earned stays: the owner signing in does not set a guesser free.
    async fn record_success(&self, account: &str, address: &str, now: u64);
    /// Forgets every failure of the account (a password reset with the emailed code).
    async fn clear(&self, account: &str);
}

/// Consecutive failures and the wait they impose.
#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    failures: u32,
    last_failure: u64,
    wait_until: u64,
}

impl Counter {
    /// Counts a failure with the doubling schedule; failures older than the window are forgotten first.
    fn fail(&mut self, now: u64, window_secs: u64, threshold: u32, cap_secs: u64) -> Option<u64> {
        if now.saturating_sub(self.last_failure) >= window_secs {
            *self = Self::default();
        }
        self.failures = self.failures.saturating_add(1);
        self.last_failure = now;
        let delay = cognigate_domain::lockout::delay_secs(self.failures, threshold, cap_secs);
        self.wait_until = delay.map_or(0, |delay| now.saturating_add(delay));
        delay
    }

    fn waiting(&self, now: u64) -> Option<u64> {
        (self.wait_until > now).then(|| self.wait_until - now)
    }
}

#[derive(Debug, Default)]
struct Account {
    all: Counter,
    by_address: HashMap<String, Counter>,
}

/// How long an address the account signed in from stays exempt from the account-wide wait.
const KNOWN_ADDRESS_SECS: u64 = 30 * 24 * 3600;
/// The addresses remembered per account, newest first.
const KNOWN_ADDRESSES: usize = 8;
/// Counters are pruned every so many failures (amortised, never a scan per call).
const PRUNE_EVERY: u64 = 4096;
/// Remembered accounts beyond which the oldest known addresses are forgotten.
const MAX_KNOWN_ACCOUNTS: usize = 1_000_000;

/// Lockout counters in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryLockout {
    accounts: Mutex<HashMap<String, Account>>,
    /// Per account, the addresses it signed in from and when.
    known: Mutex<HashMap<String, VecDeque<(String, u64)>>>,
    failures_seen: AtomicU64,
}

impl MemoryLockout {
    pub fn new() -> Self {
        Self::default()
    }

    fn is_known(&self, account: &str, address: &str, now: u64) -> bool {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.get(account).is_some_and(|addresses| {
            addresses.iter().any(|(seen, at)| seen == address && now.saturating_sub(*at) < KNOWN_ADDRESS_SECS)
        })
    }
}

#[async_trait]
impl Lockout for MemoryLockout {
    async fn wait_for(&self, account: &str, address: &str, now: u64) -> Option<u64> {
        let (pair, all) = {
            let accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
            let state = accounts.get(account)?;
            let pair = state.by_address.get(address).and_then(|counter| counter.waiting(now));
            (pair, state.all.waiting(now))
        };
        pair.or_else(|| all.filter(|_| !self.is_known(account, address, now)))
    }

    async fn record_failure(&self, account: &str, address: &str, rule: LockoutRule, now: u64) -> Option<u64> {
        if rule.max_failures == 0 {
            return None;
        }
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        if self.failures_seen.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            // Forget idle accounts so an attacker's random names do not pile up.
            accounts.retain(|_, state| {
                state
                    .by_address
                    .retain(|_, counter| now.saturating_sub(counter.last_failure) < rule.window_secs);
                now.saturating_sub(state.all.last_failure) < rule.window_secs || state.all.wait_until > now
            });
        }
        let state = accounts.entry(account.to_owned()).or_default();
        state.all.fail(now, rule.window_secs, rule.account_max_failures, rule.account_max_delay_secs);
        state.by_address.entry(address.to_owned()).or_default().fail(
            now,
            rule.window_secs,
            rule.max_failures,
            rule.duration_secs,
        )
    }

    async fn record_success(&self, account: &str, address: &str, now: u64) {
        if let Some(state) = self.accounts.lock().unwrap_or_else(PoisonError::into_inner).get_mut(account) {
            state.by_address.remove(address);
        }
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= MAX_KNOWN_ACCOUNTS && !known.contains_key(account) {
            known.retain(|_, addresses| {
                addresses.retain(|(_, at)| now.saturating_sub(*at) < KNOWN_ADDRESS_SECS / 2);
                !addresses.is_empty()
            });
        }
        let addresses = known.entry(account.to_owned()).or_default();
        addresses.retain(|(seen, _)| seen != address);
        addresses.push_front((address.to_owned(), now));
        addresses.truncate(KNOWN_ADDRESSES);
    }

    async fn clear(&self, account: &str) {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner).remove(account);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const RULE: LockoutRule = LockoutRule {
        max_failures: 5,
        window_secs: 900,
        duration_secs: 1800,
        account_max_failures: 20,
        account_max_delay_secs: 60,
    };

    /// F5 of the 2026-12-07 audit: five wrong passwords from anyone locked the account for 30 minutes.
    #[tokio::test]
    async fn a_guessing_address_waits_longer_and_longer_and_the_owner_elsewhere_does_not() {
        let lockout = MemoryLockout::new();
        let mut now = 1000;
        let mut waits = Vec::new();
        for i in 0..8 {
            waits.push(lockout.record_failure("a", "attacker", RULE, now).await);
            if i < 7 {
                now += waits.last().copied().flatten().unwrap_or(0);
            }
        }
        assert_eq!(waits, [None, None, None, None, Some(1), Some(2), Some(4), Some(8)]);
        assert_eq!(lockout.wait_for("a", "attacker", now).await, Some(8));
        assert_eq!(lockout.wait_for("a", "owner", now).await, None, "another address is not held");
        assert_eq!(lockout.wait_for("b", "attacker", now).await, None, "nor another account");
        // The owner signing in elsewhere does not set the guesser free.
        lockout.record_success("a", "owner", now).await;
        assert_eq!(lockout.wait_for("a", "attacker", now).await, Some(8));
        // Failures during a wait are still counted (the caller refuses the try before it is judged).
        assert_eq!(lockout.wait_for("a", "attacker", now + 8).await, None);
        // A quiet window forgets.
        assert_eq!(lockout.record_failure("a", "attacker", RULE, now + 8 + 900).await, None);
    }

    #[tokio::test]
    async fn many_addresses_together_slow_the_account_but_not_the_addresses_it_signs_in_from() {
        let lockout = MemoryLockout::new();
        lockout.record_success("a", "owner", 1).await;
        let now = 1000;
        for i in 0..25 {
            lockout.record_failure("a", &format!("bot-{i}"), RULE, now).await;
        }
        assert!(lockout.wait_for("a", "bot-99", now).await.is_some_and(|wait| wait <= 60));
        assert_eq!(lockout.wait_for("a", "owner", now).await, None, "the owner's address is exempt");
        // The account-wide wait is capped: a stranger cannot impose more than account_max_delay.
        for i in 0..100 {
            lockout.record_failure("a", &format!("more-{i}"), RULE, now).await;
        }
        assert_eq!(lockout.wait_for("a", "new-phone", now).await, Some(60));
        // A reset with the emailed code forgets it all.
        lockout.clear("a").await;
        assert_eq!(lockout.wait_for("a", "new-phone", now).await, None);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address_key(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(address_key(Some("2001:db8:1:2:ffff::9")), address_key(Some("2001:db8:1:2::7")));
        assert_eq!(address_key(Some("::ffff:10.0.0.1")), "10.0.0.1");
        assert_eq!(address_key(Some("10.0.0.1")), "10.0.0.1");
        assert_eq!(address_key(None), "unknown");
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
