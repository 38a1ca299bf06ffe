//! Where verification keys come from. The verifier only ever asks a [`JwksSource`] for the key set of a
//! configured issuer, never for a URL found in a token (`jku`, `x5u`). Cognito pools are read over HTTPS
//! ([`HttpJwksSource`]); the embedded engine and tests hand their set over in memory ([`StaticJwksSource`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;

use crate::error::JwksError;
use crate::key::JwkSet;

/// Supplies the current JWKS of an issuer.
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// The current key set of `issuer` (a configured issuer, exactly as in the verifier's configuration).
    async fn fetch(&self, issuer: &str) -> Result<JwkSet, JwksError>;
}

/// The default body size limit: a Cognito JWKS with two keys is under 1 KiB.
pub const DEFAULT_MAX_JWKS_BYTES: usize = 64 * 1024;

/// The default request timeout (connect + response).
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches `<issuer>/.well-known/jwks.json` over HTTP(S): a timeout, no redirects, a body size limit.
#[derive(Debug, Clone)]
pub struct HttpJwksSource {
    client: reqwest::Client,
    max_bytes: usize,
}

impl HttpJwksSource {
    /// A source with [`DEFAULT_JWKS_TIMEOUT`], no redirects and [`DEFAULT_MAX_JWKS_BYTES`].
    ///
    /// # Errors
    /// [`JwksError::Request`] if the HTTP client cannot be built (TLS set-up).
    pub fn new() -> Result<Self, JwksError> {
        let client = reqwest::Client::builder()
            .timeout(DEFAULT_JWKS_TIMEOUT)
            .connect_timeout(DEFAULT_JWKS_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(JwksError::Request)?;
        Ok(Self::with_client(client))
    }

    /// A source using a caller-built client (its own timeouts and proxy settings).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client, max_bytes: DEFAULT_MAX_JWKS_BYTES }
    }

    /// Changes the body size limit.
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The JWKS URL of `issuer`: `<issuer>/.well-known/jwks.json`.
    pub fn jwks_url(issuer: &str) -> String {
        format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
    }
}

#[async_trait]
impl JwksSource for HttpJwksSource {
    async fn fetch(&self, issuer: &str) -> Result<JwkSet, JwksError> {
        let mut response = self
            .client
            .get(Self::jwks_url(issuer))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(JwksError::Request)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let too_large = JwksError::TooLarge { limit: self.max_bytes };
        if response.content_length().is_some_and(|len| len > self.max_bytes as u64) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(JwksError::Request)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(JwksError::Json)
    }
}

/// Key sets held in memory, per issuer. Replacing a set simulates (or, for the embedded engine, is) a key
/// rotation. Counts fetches so tests can assert the refetch floor.
#[derive(Debug, Default)]
pub struct StaticJwksSource {
    sets: RwLock<HashMap<String, JwkSet>>,
    fetches: AtomicU64,
}

impl StaticJwksSource {
    /// An empty source: every fetch fails with [`JwksError::UnknownIssuer`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A source holding `set` for `issuer`.
    pub fn with_set(issuer: impl Into<String>, set: JwkSet) -> Self {
        let source = Self::new();
        source.set(issuer, set);
        source
    }

    /// Sets (replaces) the key set of `issuer`.
    pub fn set(&self, issuer: impl Into<String>, set: JwkSet) {
        self.sets.write().unwrap_or_else(PoisonError::into_inner).insert(issuer.into(), set);
    }

    /// Removes the key set of `issuer`; later fetches fail.
    pub fn remove(&self, issuer: &str) {
        self.sets.write().unwrap_or_else(PoisonError::into_inner).remove(issuer);
    }

    /// How many times [`JwksSource::fetch`] was called.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JwksSource for StaticJwksSource {
    async fn fetch(&self, issuer: &str) -> Result<JwkSet, JwksError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.sets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(issuer)
            .cloned()
            .ok_or(JwksError::UnknownIssuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_url_appends_the_well_known_path() {
        assert_eq!(
            HttpJwksSource::jwks_url("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json"
        );
        assert_eq!(
            HttpJwksSource::jwks_url("http://127.0.0.1:9/p/"),
            "http://127.0.0.1:9/p/.well-known/jwks.json"
        );
    }

    #[tokio::test]
    async fn static_source_serves_replaces_and_counts() {
        let source = StaticJwksSource::new();
        assert!(matches!(source.fetch("i").await, Err(JwksError::UnknownIssuer)));
        source.set("i", JwkSet::default());
        assert_eq!(source.fetch("i").await.unwrap(), JwkSet::default());
        source.remove("i");
        assert!(source.fetch("i").await.is_err());
        assert_eq!(source.fetch_count(), 3);
    }
}
