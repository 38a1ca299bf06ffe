//! The verifier: the one place that decides whether a bearer token is a genuine, current token of a
//! configured pool and app client. Everything else (HTTP edge, Lambda authorizer, gateway mode) calls
//! [`Verifier::verify`] and maps its error to 401.
//!
//! Order of checks, cheapest and least trusting first:
//! 1. length limit and compact form (three parts), then the verified-token cache (SHA-256 of the token,
//!    whose prefix state also serves the RSA verification) → on a hit only time and revocation are
//!    checked;
//! 2. header (`alg` exactly RS256, string `kid`, no `crit`), payload JSON (no duplicate keys);
//! 3. `iss` must be configured and `token_use` configured for that issuer — before any key work;
//! 4. the key from the issuer's cached JWKS by `kid` (refetch on an unknown `kid`, at most once per
//!    refetch floor per issuer), then the RS256 signature;
//! 5. typed claims (`sub`, `exp`, `iat`, `nbf`, `client_id`/`aud`, …), time with leeway, revocation.
//!
//! Key cache policy: per issuer, the parsed keys of the last successful JWKS fetch. A fetch replaces the
//! whole set, so a key removed from the JWKS stops verifying at the next refetch, which happens on an
//! unknown `kid` or when the set is older than `jwks_max_age` (driven by first-seen tokens); when a refetch
//! drops a key, the verified-token cache is cleared. A failed fetch keeps the previous set (cached keys keep
//! working, unknown kids fail closed).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use aws_lc_rs::digest::Context;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::cache::{TokenCache, TokenDigest};
use crate::claims::TokenUse;
use crate::clock::{Clock, SystemClock};
use crate::compact::{self, MAX_SIGNATURE_LEN, Parts};
use crate::error::{ConfigError, JwksError, VerifyError};
use crate::jwks::JwksSource;
use crate::key::{JwkSet, RS256, check_kid};
use crate::revocation::{NoRevocation, Revocation, RevocationCheck};

/// Most keys accepted in one JWKS; Cognito publishes two.
pub const MAX_KEYS_PER_SET: usize = 100;

/// Latest accepted time claim (9999-12-31T23:59:59Z), so arithmetic on times cannot overflow.
const MAX_TIME: u64 = 253_402_300_799;

/// One accepted kind of token: tokens of `token_use` issued by `issuer` to one of `client_ids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// The issuer URL, exactly as in the `iss` claim (`https://cognito-idp.<region>.amazonaws.com/<pool id>`).
    pub issuer: String,
    /// Access or ID tokens.
    pub token_use: TokenUse,
    /// Accepted app clients: `client_id` of access tokens, `aud` of ID tokens.
    pub client_ids: Vec<String>,
}

impl Audience {
    /// Access tokens of `issuer` for `client_ids`.
    pub fn access(
        issuer: impl Into<String>,
        client_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            token_use: TokenUse::Access,
            client_ids: client_ids.into_iter().map(Into::into).collect(),
        }
    }

    /// ID tokens of `issuer` for `client_ids`.
    pub fn id(issuer: impl Into<String>, client_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { token_use: TokenUse::Id, ..Self::access(issuer, client_ids) }
    }
}

/// Tunables of a [`Verifier`]; `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierOptions {
    /// Clock-skew allowance for `exp`, `nbf` and `iat` (default 5 s, at most 300 s). A token is expired
    /// when `now >= exp + leeway`.
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches of one issuer (default 10 s, as aws-jwt-verify; at least 1 s).
    pub refetch_floor: Duration,
    /// Refetch an issuer's JWKS when a first-seen token finds the set older than this (default 1 h), so a
    /// key withdrawn from the JWKS stops verifying; `None` keeps a set until an unknown `kid` appears.
    pub jwks_max_age: Option<Duration>,
    /// Verified tokens kept (default 10,000; 0 disables the cache).
    pub token_cache_capacity: usize,
    /// Longest token accepted, in bytes, checked before any decoding (default 16 KiB).
    pub max_token_len: usize,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(5),
            refetch_floor: Duration::from_secs(10),
            jwks_max_age: Some(Duration::from_secs(3600)),
            token_cache_capacity: 10_000,
            max_token_len: 16 * 1024,
        }
    }
}

/// Counters for tests, metrics and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifierStats {
    /// RSA signature verifications performed.
    pub signature_checks: u64,
    /// JWKS fetches attempted (successful or not).
    pub jwks_fetches: u64,
    /// Tokens currently in the verified-token cache.
    pub cached_tokens: usize,
}

/// A token that passed every check. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct VerifiedToken(Arc<Verified>);

struct Verified {
    audience: Arc<Audience>,
    sub: String,
    username: Option<String>,
    client_id: String,
    groups: Vec<String>,
    jti: Option<String>,
    origin_jti: Option<String>,
    iat: u64,
    auth_time: Option<u64>,
    exp: u64,
    nbf: Option<u64>,
    claims: Map<String, Value>,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("issuer", &self.audience.issuer)
            .field("token_use", &self.audience.token_use)
            .field("sub", &self.sub)
            .field("username", &self.username)
            .field("client_id", &self.client_id)
            .field("groups", &self.groups)
            .field("jti", &self.jti)
            .field("origin_jti", &self.origin_jti)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

impl VerifiedToken {
    /// The configured audience the token matched.
    pub fn audience(&self) -> &Audience {
        &self.0.audience
    }

    /// The `iss` claim.
    pub fn issuer(&self) -> &str {
        &self.0.audience.issuer
    }

    /// The `token_use` claim.
    pub fn token_use(&self) -> TokenUse {
        self.0.audience.token_use
    }

    /// The `sub` claim.
    pub fn sub(&self) -> &str {
        &self.0.sub
    }

    /// `username` (access) or `cognito:username` (ID), if present.
    pub fn username(&self) -> Option<&str> {
        self.0.username.as_deref()
    }

    /// The app client: `client_id` (access) or `aud` (ID).
    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// `cognito:groups`, empty when absent.
    pub fn groups(&self) -> &[String] {
        &self.0.groups
    }

    /// The `jti` claim.
    pub fn jti(&self) -> Option<&str> {
        self.0.jti.as_deref()
    }

    /// The `origin_jti` claim.
    pub fn origin_jti(&self) -> Option<&str> {
        self.0.origin_jti.as_deref()
    }

    /// The `iat` claim.
    pub fn iat(&self) -> u64 {
        self.0.iat
    }

    /// The `auth_time` claim.
    pub fn auth_time(&self) -> Option<u64> {
        self.0.auth_time
    }

    /// The `exp` claim.
    pub fn exp(&self) -> u64 {
        self.0.exp
    }

    /// The `nbf` claim.
    pub fn nbf(&self) -> Option<u64> {
        self.0.nbf
    }

    /// Every claim of the payload, including the ones above.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0.claims
    }

    /// One claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.0.claims.get(name)
    }
}

/// Builds a [`Verifier`]; see [`Verifier::builder`].
pub struct VerifierBuilder {
    audiences: Vec<Audience>,
    source: Arc<dyn JwksSource>,
    clock: Arc<dyn Clock>,
    revocation: Arc<dyn RevocationCheck>,
    options: VerifierOptions,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("audiences", &self.audiences)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Accepts one more kind of token.
    #[must_use]
    pub fn audience(mut self, audience: Audience) -> Self {
        self.audiences.push(audience);
        self
    }

    /// Accepts more kinds of token.
    #[must_use]
    pub fn audiences(mut self, audiences: impl IntoIterator<Item = Audience>) -> Self {
        self.audiences.extend(audiences);
        self
    }

    /// Reads time from `clock` (default [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Consults `revocation` after every successful verification (default [`NoRevocation`]).
    #[must_use]
    pub fn revocation(mut self, revocation: Arc<dyn RevocationCheck>) -> Self {
        self.revocation = revocation;
        self
    }

    /// Replaces the options.
    #[must_use]
    pub fn options(mut self, options: VerifierOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks the configuration and builds the verifier. No JWKS is fetched here; see
    /// [`Verifier::hydrate`].
    ///
    /// # Errors
    /// [`ConfigError`] for no audience, an empty issuer or client list, a duplicate (issuer, token use),
    /// or an option out of range.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let options = &self.options;
        if self.audiences.is_empty() {
            return Err(ConfigError::NoAudiences);
        }
        let range = |option, ok: bool, reason| {
            if ok { Ok(()) } else { Err(ConfigError::Option { option, reason }) }
        };
        range("leeway", options.leeway <= Duration::from_secs(300), "at most 300 s")?;
        range(
            "refetch_floor",
            options.refetch_floor >= Duration::from_secs(1)
                && options.refetch_floor <= Duration::from_secs(86_400),
            "between 1 s and 1 day",
        )?;
        range(
            "jwks_max_age",
            options.jwks_max_age.is_none_or(|age| age >= options.refetch_floor),
            "at least the refetch floor",
        )?;
        range(
            "max_token_len",
            (256..=1024 * 1024).contains(&options.max_token_len),
            "between 256 bytes and 1 MiB",
        )?;
        range("token_cache_capacity", options.token_cache_capacity <= 10_000_000, "at most 10,000,000")?;

        let mut issuers: Vec<IssuerState> = Vec::new();
        let mut audiences: Vec<AudienceState> = Vec::new();
        for audience in self.audiences {
            if audience.issuer.is_empty() {
                return Err(ConfigError::EmptyIssuer);
            }
            if audience.client_ids.is_empty() || audience.client_ids.iter().any(String::is_empty) {
                return Err(ConfigError::NoClientIds {
                    issuer: audience.issuer,
                    token_use: audience.token_use.as_str(),
                });
            }
            if audiences
                .iter()
                .any(|a| a.audience.issuer == audience.issuer && a.audience.token_use == audience.token_use)
            {
                return Err(ConfigError::DuplicateAudience {
                    issuer: audience.issuer,
                    token_use: audience.token_use.as_str(),
                });
            }
            let issuer = match issuers.iter().position(|state| state.issuer == audience.issuer) {
                Some(index) => index,
                None => {
                    issuers.push(IssuerState::new(audience.issuer.clone()));
                    issuers.len() - 1
                }
            };
            audiences.push(AudienceState { audience: Arc::new(audience), issuer });
        }
        Ok(Verifier {
            leeway: options.leeway.as_secs(),
            floor: options.refetch_floor.as_secs(),
            max_age: options.jwks_max_age.map(|age| age.as_secs()),
            max_token_len: options.max_token_len,
            cache: TokenCache::new(options.token_cache_capacity),
            options: self.options,
            audiences,
            issuers,
            source: self.source,
            clock: self.clock,
            revocation: self.revocation,
            signature_checks: AtomicU64::new(0),
            jwks_fetches: AtomicU64::new(0),
        })
    }
}

/// Verifies Cognito-shaped RS256 tokens for a fixed set of audiences. Share one per process (`Arc`); it
/// is `Send + Sync` and its caches are internal.
pub struct Verifier {
    audiences: Vec<AudienceState>,
    issuers: Vec<IssuerState>,
    source: Arc<dyn JwksSource>,
    clock: Arc<dyn Clock>,
    revocation: Arc<dyn RevocationCheck>,
    options: VerifierOptions,
    leeway: u64,
    floor: u64,
    max_age: Option<u64>,
    max_token_len: usize,
    cache: TokenCache,
    signature_checks: AtomicU64,
    jwks_fetches: AtomicU64,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("audiences", &self.audiences.iter().map(|a| &*a.audience).collect::<Vec<_>>())
            .field("options", &self.options)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct AudienceState {
    audience: Arc<Audience>,
    /// Index into `Verifier::issuers`.
    issuer: usize,
}

struct IssuerState {
    issuer: String,
    keys: RwLock<Arc<KeySet>>,
    /// Serialises fetches of this issuer's JWKS and remembers when the last one started.
    refresh: tokio::sync::Mutex<RefreshState>,
}

#[derive(Default)]
struct RefreshState {
    last_attempt: Option<u64>,
}

impl IssuerState {
    fn new(issuer: String) -> Self {
        Self {
            issuer,
            keys: RwLock::new(Arc::new(KeySet::default())),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The parsed keys of one successful JWKS fetch. Generation 0 is the empty set before the first fetch.
#[derive(Default)]
struct KeySet {
    generation: u64,
    fetched_at: u64,
    keys: std::collections::HashMap<String, KeyEntry>,
}

enum KeyEntry {
    /// An RSA key usable for RS256, parsed once.
    Rs256(ParsedPublicKey),
    /// A key this verifier must not use for RS256 (other `kty`/`alg`/`use`, too small, malformed, or a
    /// `kid` listed twice).
    Unusable,
}

impl KeySet {
    fn from_jwks(set: &JwkSet, generation: u64, fetched_at: u64) -> Result<Self, JwksError> {
        if set.keys.len() > MAX_KEYS_PER_SET {
            return Err(JwksError::TooManyKeys { count: set.keys.len(), limit: MAX_KEYS_PER_SET });
        }
        let mut keys = std::collections::HashMap::with_capacity(set.keys.len());
        for jwk in &set.keys {
            if check_kid(&jwk.kid).is_err() {
                continue;
            }
            let entry = if keys.contains_key(&jwk.kid) { KeyEntry::Unusable } else { parse_jwk(jwk) };
            keys.insert(jwk.kid.clone(), entry);
        }
        Ok(Self { generation, fetched_at, keys })
    }
}

fn parse_jwk(jwk: &crate::key::Jwk) -> KeyEntry {
    if jwk.kty != "RSA"
        || jwk.alg.as_deref().is_some_and(|alg| alg != RS256)
        || jwk.use_.as_deref().is_some_and(|use_| use_ != "sig")
    {
        return KeyEntry::Unusable;
    }
    let decode = |value: &str| URL_SAFE_NO_PAD.decode(value.trim_end_matches('='));
    let (Ok(n), Ok(e)) = (decode(&jwk.n), decode(&jwk.e)) else {
        return KeyEntry::Unusable;
    };
    let significant = n.iter().skip_while(|byte| **byte == 0).count();
    if significant < 256 {
        return KeyEntry::Unusable;
    }
    match (RsaPublicKeyComponents { n: &n[..], e: &e[..] }).to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    {
        Ok(key) => KeyEntry::Rs256(key),
        Err(_) => KeyEntry::Unusable,
    }
}

impl Verifier {
    /// Starts a builder reading keys from `source`, with [`SystemClock`], [`NoRevocation`] and default
    /// options.
    pub fn builder(source: Arc<dyn JwksSource>) -> VerifierBuilder {
        VerifierBuilder {
            audiences: Vec::new(),
            source,
            clock: Arc::new(SystemClock),
            revocation: Arc::new(NoRevocation),
            options: VerifierOptions::default(),
        }
    }

    /// Verifies `token` (the bare JWT, without `Bearer `). Async only because an unknown `kid` may
    /// require fetching the issuer's JWKS; with a cached key or a cached token it does not wait.
    ///
    /// # Errors
    /// The [`VerifyError`] naming the first check that failed.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        if token.len() > self.max_token_len {
            return Err(VerifyError::TooLarge { len: token.len(), limit: self.max_token_len });
        }
        let now = self.clock.now();
        let parts = compact::split(token)?;
        let (key, signed_part) = TokenDigest::of(parts.signing_input, parts.signature);
        if let Some(hit) = self.cache.get(&key) {
            self.check_current(&hit, now)?;
            return Ok(hit);
        }
        let verified = self.verify_uncached(parts, signed_part, now).await?;
        self.check_current(&verified, now)?;
        self.cache.insert(key, verified.clone());
        Ok(verified)
    }

    /// Fetches every configured issuer's JWKS now, ignoring the refetch floor (start-up, readiness).
    ///
    /// # Errors
    /// The first issuer's [`VerifyError::Jwks`]; the other issuers are still fetched.
    pub async fn hydrate(&self) -> Result<(), VerifyError> {
        let now = self.clock.now();
        let mut first_error = None;
        for issuer in &self.issuers {
            let mut state = issuer.refresh.lock().await;
            let generation = issuer.snapshot().generation;
            if let Err(error) = self.fetch_and_store(issuer, &mut state, generation, now).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Empties the verified-token cache (every token is verified again on next use).
    pub fn clear_token_cache(&self) {
        self.cache.clear();
    }

    /// Counters since construction.
    pub fn stats(&self) -> VerifierStats {
        VerifierStats {
            signature_checks: self.signature_checks.load(Ordering::Relaxed),
            jwks_fetches: self.jwks_fetches.load(Ordering::Relaxed),
            cached_tokens: self.cache.len(),
        }
    }

    /// The configured audiences.
    pub fn audiences(&self) -> impl Iterator<Item = &Audience> {
        self.audiences.iter().map(|state| &*state.audience)
    }

    /// Time and revocation: the checks that can change after a token was verified once.
    fn check_current(&self, token: &VerifiedToken, now: u64) -> Result<(), VerifyError> {
        let claims = &token.0;
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(VerifyError::Expired);
        }
        let latest = now.saturating_add(self.leeway);
        if claims.iat > latest || claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(VerifyError::NotYetValid);
        }
        match self.revocation.check(token) {
            Revocation::Valid => Ok(()),
            Revocation::Revoked => Err(VerifyError::Revoked),
        }
    }

    async fn verify_uncached(
        &self,
        parts: Parts<'_>,
        signed_part: Context,
        now: u64,
    ) -> Result<VerifiedToken, VerifyError> {
        let kid = compact::parse_header(&compact::decode_part(parts.header)?)?;
        let claims = compact::parse_payload(&compact::decode_part(parts.payload)?)?;

        let iss = required(str_claim(claims.get("iss"), "iss")?, "iss")?;
        let token_use = required(str_claim(claims.get("token_use"), "token_use")?, "token_use")?;
        let Some(issuer_index) = self.issuers.iter().position(|state| state.issuer == iss) else {
            return Err(VerifyError::UnknownIssuer);
        };
        let token_use = TokenUse::parse(token_use).ok_or(VerifyError::WrongTokenUse)?;
        let audience = self
            .audiences
            .iter()
            .find(|state| state.issuer == issuer_index && state.audience.token_use == token_use)
            .ok_or(VerifyError::WrongTokenUse)?;
        let issuer = self.issuers.get(issuer_index).ok_or(VerifyError::UnknownIssuer)?;

        let keys = self.key_set_for(issuer, &kid, now).await?;
        let key = match keys.keys.get(kid.as_str()) {
            Some(KeyEntry::Rs256(key)) => key,
            Some(KeyEntry::Unusable) => return Err(VerifyError::UnsupportedAlgorithm),
            None => return Err(VerifyError::UnknownKey),
        };
        let mut buffer = [0u8; MAX_SIGNATURE_LEN];
        let signature = compact::decode_signature(parts.signature, &mut buffer)?;
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        key.verify_digest_sig(&signed_part.finish(), signature).map_err(|_| VerifyError::BadSignature)?;

        typed_claims(claims, &audience.audience)
    }

    fn is_stale(&self, keys: &KeySet, now: u64) -> bool {
        self.max_age.is_some_and(|max_age| now >= keys.fetched_at.saturating_add(max_age))
    }

    /// The issuer's key set that should hold `kid`, refetching as the cache policy allows.
    async fn key_set_for(
        &self,
        issuer: &IssuerState,
        kid: &str,
        now: u64,
    ) -> Result<Arc<KeySet>, VerifyError> {
        let current = issuer.snapshot();
        if current.keys.contains_key(kid) {
            // A stale set is refreshed best effort, never waiting for another task's fetch; if the JWKS is
            // unreachable the cached key keeps working.
            if self.is_stale(&current, now)
                && let Ok(mut state) = issuer.refresh.try_lock()
                && self.refresh_if_allowed(issuer, &mut state, current.generation, now).await.is_ok()
            {
                return Ok(issuer.snapshot());
            }
            return Ok(current);
        }
        let outcome = {
            let mut state = issuer.refresh.lock().await;
            self.refresh_if_allowed(issuer, &mut state, current.generation, now).await
        };
        let fresh = issuer.snapshot();
        if fresh.keys.contains_key(kid) {
            return Ok(fresh);
        }
        match outcome {
            Err(error) => Err(error),
            Ok(()) => Err(VerifyError::UnknownKey),
        }
    }

    /// Fetches the issuer's JWKS unless another task already replaced the set the caller saw, or the last
    /// attempt is more recent than the refetch floor.
    async fn refresh_if_allowed(
        &self,
        issuer: &IssuerState,
        state: &mut RefreshState,
        observed_generation: u64,
        now: u64,
    ) -> Result<(), VerifyError> {
        if issuer.snapshot().generation != observed_generation {
            return Ok(());
        }
        if state.last_attempt.is_some_and(|last| now < last.saturating_add(self.floor)) {
            return Ok(());
        }
        self.fetch_and_store(issuer, state, observed_generation, now).await
    }

    async fn fetch_and_store(
        &self,
        issuer: &IssuerState,
        state: &mut RefreshState,
        observed_generation: u64,
        now: u64,
    ) -> Result<(), VerifyError> {
        state.last_attempt = Some(now);
        self.jwks_fetches.fetch_add(1, Ordering::Relaxed);
        let set = self.source.fetch(&issuer.issuer).await?;
        let next = KeySet::from_jwks(&set, observed_generation.saturating_add(1), now)?;
        let previous = issuer.snapshot();
        let dropped_a_key =
            previous.keys.keys().any(|kid| !matches!(next.keys.get(kid), Some(KeyEntry::Rs256(_))));
        *issuer.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        if dropped_a_key {
            self.cache.clear();
        }
        Ok(())
    }
}

/// Reads and type-checks the claims of a token whose signature verified.
fn typed_claims(claims: Map<String, Value>, audience: &Arc<Audience>) -> Result<VerifiedToken, VerifyError> {
    let string = |name: &'static str| -> Result<Option<String>, VerifyError> {
        Ok(str_claim(claims.get(name), name)?.map(str::to_owned))
    };
    let time = |name: &'static str| time_claim(claims.get(name), name);
    let sub = required(string("sub")?, "sub")?;
    if sub.is_empty() {
        return Err(claim_error("sub", "empty"));
    }
    let exp = required(time("exp")?, "exp")?;
    let iat = required(time("iat")?, "iat")?;
    let nbf = time("nbf")?;
    let auth_time = time("auth_time")?;
    if exp <= iat {
        return Err(claim_error("exp", "not after iat"));
    }
    let (client_claim, username_claim) = match audience.token_use {
        TokenUse::Access => ("client_id", "username"),
        TokenUse::Id => ("aud", "cognito:username"),
    };
    let client_id = required(string(client_claim)?, client_claim)?;
    if !audience.client_ids.contains(&client_id) {
        return Err(VerifyError::WrongClient);
    }
    let groups = match claims.get("cognito:groups") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| claim_error("cognito:groups", "not an array of strings"))?,
        Some(_) => return Err(claim_error("cognito:groups", "not an array of strings")),
    };
    Ok(VerifiedToken(Arc::new(Verified {
        audience: Arc::clone(audience),
        sub,
        username: string(username_claim)?,
        client_id,
        groups,
        jti: string("jti")?,
        origin_jti: string("origin_jti")?,
        iat,
        auth_time,
        exp,
        nbf,
        claims,
    })))
}

fn claim_error(claim: &'static str, reason: &'static str) -> VerifyError {
    VerifyError::InvalidClaim { claim, reason }
}

fn required<T>(value: Option<T>, name: &'static str) -> Result<T, VerifyError> {
    value.ok_or_else(|| claim_error(name, "missing"))
}

fn str_claim<'v>(value: Option<&'v Value>, name: &'static str) -> Result<Option<&'v str>, VerifyError> {
    match value {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(claim_error(name, "not a string")),
    }
}

/// A NumericDate as Cognito writes it: a non-negative JSON integer, at most year 9999.
fn time_claim(value: Option<&Value>, name: &'static str) -> Result<Option<u64>, VerifyError> {
    match value {
        None => Ok(None),
        Some(Value::Number(number)) => match number.as_u64() {
            Some(time) if time <= MAX_TIME => Ok(Some(time)),
            _ => Err(claim_error(name, "not an integer time between 1970 and 9999")),
        },
        Some(_) => Err(claim_error(name, "not a number")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_verified(sub: &str) -> VerifiedToken {
        VerifiedToken(Arc::new(Verified {
            audience: Arc::new(Audience::access("https://issuer", ["c"])),
            sub: sub.to_owned(),
            username: None,
            client_id: "c".to_owned(),
            groups: Vec::new(),
            jti: Some(format!("jti-{sub}")),
            origin_jti: Some(format!("origin-{sub}")),
            iat: 100,
            auth_time: None,
            exp: 200,
            nbf: None,
            claims: Map::new(),
        }))
    }

    fn claims(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json).unwrap() {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn time_claims_are_non_negative_integers() {
        let map = claims(
            r#"{"a":1700000000,"b":"1700000000","c":-1,"d":1e300,"e":1.5,"f":null,"g":253402300800,"h":0}"#,
        );
        assert_eq!(time_claim(map.get("a"), "a").unwrap(), Some(1_700_000_000));
        assert_eq!(time_claim(map.get("h"), "h").unwrap(), Some(0));
        assert_eq!(time_claim(map.get("zz"), "zz").unwrap(), None);
        for name in ["b", "c", "d", "e", "f", "g"] {
            assert!(time_claim(map.get(name), "x").is_err(), "{name}");
        }
        assert!(required(time_claim(None, "zz").unwrap(), "zz").is_err());
    }

    #[test]
    fn strings_must_be_strings() {
        let map = claims(r#"{"a":"x","b":["x"],"c":1,"d":null}"#);
        assert_eq!(str_claim(map.get("a"), "a").unwrap(), Some("x"));
        assert!(str_claim(map.get("b"), "b").is_err());
        assert!(str_claim(map.get("c"), "c").is_err());
        assert!(str_claim(map.get("d"), "d").is_err());
        assert!(matches!(
            required(str_claim(None, "zz").unwrap(), "zz"),
            Err(VerifyError::InvalidClaim { claim: "zz", reason: "missing" })
        ));
    }

    #[test]
    fn builder_rejects_bad_configuration() {
        let source: Arc<dyn JwksSource> = Arc::new(crate::StaticJwksSource::new());
        let build = |audiences: Vec<Audience>, options: VerifierOptions| {
            Verifier::builder(Arc::clone(&source)).audiences(audiences).options(options).build().map(|_| ())
        };
        let ok = || vec![Audience::access("https://i", ["c"])];
        assert_eq!(build(ok(), VerifierOptions::default()), Ok(()));
        assert_eq!(build(vec![], VerifierOptions::default()), Err(ConfigError::NoAudiences));
        assert_eq!(
            build(vec![Audience::access("", ["c"])], VerifierOptions::default()),
            Err(ConfigError::EmptyIssuer)
        );
        assert!(matches!(
            build(vec![Audience::access("https://i", Vec::<String>::new())], VerifierOptions::default()),
            Err(ConfigError::NoClientIds { .. })
        ));
        assert!(matches!(
            build(
                vec![Audience::access("https://i", ["a"]), Audience::access("https://i", ["b"])],
                VerifierOptions::default()
            ),
            Err(ConfigError::DuplicateAudience { .. })
        ));
        assert_eq!(
            build(
                vec![Audience::access("https://i", ["a"]), Audience::id("https://i", ["b"])],
                VerifierOptions::default()
            ),
            Ok(())
        );
        for options in [
            VerifierOptions { leeway: Duration::from_secs(301), ..VerifierOptions::default() },
            VerifierOptions { refetch_floor: Duration::ZERO, ..VerifierOptions::default() },
            VerifierOptions { jwks_max_age: Some(Duration::from_secs(5)), ..VerifierOptions::default() },
            VerifierOptions { max_token_len: 10, ..VerifierOptions::default() },
        ] {
            assert!(matches!(build(ok(), options), Err(ConfigError::Option { .. })));
        }
    }

    #[test]
    fn jwks_keys_are_parsed_once_and_odd_keys_are_unusable() {
        let key = crate::SigningKey::generate().unwrap();
        let mut set = JwkSet::from_signing_keys([&key]);
        let mut rs384 = key.jwk().clone();
        rs384.kid = "rs384".into();
        rs384.alg = Some("RS384".into());
        let mut enc = key.jwk().clone();
        enc.kid = "enc".into();
        enc.use_ = Some("enc".into());
        let mut small = key.jwk().clone();
        small.kid = "small".into();
        small.n = URL_SAFE_NO_PAD.encode([0xffu8; 128]);
        let mut no_alg = key.jwk().clone();
        no_alg.kid = "no-alg".into();
        no_alg.alg = None;
        no_alg.use_ = None;
        let mut ec = key.jwk().clone();
        ec.kid = "ec".into();
        ec.kty = "EC".into();
        let mut duplicate = key.jwk().clone();
        duplicate.n = URL_SAFE_NO_PAD.encode([0xabu8; 256]);
        set.keys.extend([rs384, enc, small, no_alg, ec, duplicate]);
        let parsed = KeySet::from_jwks(&set, 1, 0).unwrap();
        assert!(matches!(parsed.keys.get("no-alg"), Some(KeyEntry::Rs256(_))));
        for kid in ["rs384", "enc", "small", "ec", key.kid()] {
            assert!(matches!(parsed.keys.get(kid), Some(KeyEntry::Unusable)), "{kid}");
        }
        let too_many = JwkSet { keys: vec![key.jwk().clone(); MAX_KEYS_PER_SET + 1] };
        assert!(KeySet::from_jwks(&too_many, 1, 0).is_err());
    }
}
