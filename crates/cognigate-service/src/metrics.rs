//! Prometheus metrics: auth attempts by pool, action and outcome, lockouts, rate-limited requests, and
//! HTTP latency by route. One registry per process, rendered at `/metrics` in the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    pool: String,
    action: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    pool: String,
    route: String,
    scope: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    /// The route pattern (`/auth/{pool}/login`), never the raw path: cardinality stays bounded.
    route: String,
    status: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// The process's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    auth: Family<AuthLabels, Counter>,
    lockouts: Family<PoolLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    http: Family<HttpLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cognigate");
        let auth = Family::<AuthLabels, Counter>::default();
        let lockouts = Family::<PoolLabels, Counter>::default();
        let rate_limited = Family::<LimitLabels, Counter>::default();
        let http =
            Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("auth_attempts", "Auth API calls by pool, action and outcome", auth.clone());
        registry.register("lockouts", "Accounts locked after repeated failures", lockouts.clone());
        registry.register("rate_limited", "Requests refused by a rate limit", rate_limited.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", http.clone());
        Self { registry, auth, lockouts, rate_limited, http }
    }

    pub fn auth_attempt(&self, pool: &str, action: &str, outcome: &str) {
        self.auth
            .get_or_create(&AuthLabels {
                pool: pool.to_owned(),
                action: action.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn lockout(&self, pool: &str) {
        self.lockouts.get_or_create(&PoolLabels { pool: pool.to_owned() }).inc();
    }

    pub fn rate_limited(&self, pool: &str, route: &str, scope: &str) {
        self.rate_limited
            .get_or_create(&LimitLabels {
                pool: pool.to_owned(),
                route: route.to_owned(),
                scope: scope.to_owned(),
            })
            .inc();
    }

    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .observe(seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %error, "metrics could not be encoded");
        }
        out
    }
}
