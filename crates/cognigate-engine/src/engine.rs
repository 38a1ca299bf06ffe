//! The engine: its collaborators, and the pieces every operation shares (clients and SECRET_HASH, lockout,
//! signing keys and token minting, access-token checks, the outbox).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cognigate_token::{
    AccessClaims, Audience, COGNITO_ADMIN_SCOPE, IdClaims, JwkSet, RevocationList, SigningKey,
    StaticJwksSource, TokenUse, VerifiedToken, Verifier, VerifyError,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::EngineError;
use crate::api::AuthenticationResult;
use crate::clock::{Clock, Entropy, Millis};
use crate::codes::{hash_opaque, new_opaque};
use crate::model::*;
use crate::password::PasswordHasher;
use crate::seal::Sealer;
use crate::store::Store;
use crate::triggers::{Delivery, TokenContext, Triggers};

const KEY_PURPOSE: &str = "signing-key";
const CLIENT_SECRET_PURPOSE: &str = "client-secret";
const OUTBOX_PURPOSE: &str = "outbox-message";

/// Everything the engine is built from.
#[derive(Debug, Clone)]
pub struct EngineParts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub hasher: PasswordHasher,
    pub sealer: Arc<Sealer>,
    pub triggers: Arc<dyn Triggers>,
    /// How outbox messages reach people beyond the outbox.
    pub delivery: Arc<dyn Delivery>,
    /// Issuers are `<public_url>/<pool id>`.
    pub public_url: String,
    /// The region part of new pool ids (`<region>_<id>`).
    pub region: String,
    /// How long a challenge session lives (Cognito: 3 minutes by default).
    pub session_ttl_secs: i64,
}

/// The embedded identity engine. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Engine {
    pub(crate) parts: EngineParts,
    /// The pools' signing keys, loaded (and unsealed) once.
    keys: RwLock<HashMap<String, Arc<PoolKeys>>>,
    /// Orders outbox messages written in the same millisecond.
    outbox_sequence: AtomicU64,
    /// What this process has revoked, for token verifiers in the same process (the store keeps the record
    /// every instance sees).
    revocations: Arc<RevocationList>,
    /// Pool and client settings, read on every sign-in and rarely changed.
    settings: RwLock<SettingsCache>,
}

/// How long cached pool and client settings are trusted. Changes made through this engine apply at once;
/// changes made by another instance sharing the store apply within this time.
pub const SETTINGS_CACHE_MS: i64 = 5_000;

#[derive(Debug, Default)]
struct SettingsCache {
    pools: HashMap<String, (UserPool, Millis)>,
    clients: HashMap<String, (AppClient, Millis)>,
}

impl SettingsCache {
    fn pool(&self, id: &str, now: Millis) -> Option<UserPool> {
        self.pools.get(id).filter(|(_, at)| now - at < SETTINGS_CACHE_MS).map(|(pool, _)| pool.clone())
    }

    fn client(&self, id: &str, now: Millis) -> Option<AppClient> {
        self.clients.get(id).filter(|(_, at)| now - at < SETTINGS_CACHE_MS).map(|(client, _)| client.clone())
    }
}

/// A pool's keys: the newest signs, all are published until retired keys' tokens have expired.
#[derive(Debug)]
pub(crate) struct PoolKeys {
    /// Every key still published, the signing one first.
    pub(crate) all: Vec<SigningKey>,
}

impl PoolKeys {
    /// The key that signs new tokens.
    pub(crate) fn active(&self) -> Option<&SigningKey> {
        self.all.first()
    }
}

pub(crate) fn now_secs_of(ms: Millis) -> u64 {
    u64::try_from(ms.div_euclid(1000)).unwrap_or(0)
}

impl Engine {
    pub fn new(parts: EngineParts) -> Self {
        Self {
            parts,
            keys: RwLock::new(HashMap::new()),
            outbox_sequence: AtomicU64::new(0),
            revocations: Arc::new(RevocationList::new()),
            settings: RwLock::new(SettingsCache::default()),
        }
    }

    /// The revocations this engine has made, as a `RevocationCheck` for the token verifier.
    pub fn revocations(&self) -> Arc<RevocationList> {
        self.revocations.clone()
    }

    /// Loads what the store says is revoked into the in-process list the token verifiers read: every login
    /// (token family) revoked by a sign-out, password change or reset, disable, delete or reuse detection
    /// whose tokens may still be alive. Called at start-up, so a restart forgets nothing.
    pub async fn restore_revocations(&self) -> Result<usize, EngineError> {
        let families = self.parts.store.live_revoked_families(self.now()).await?;
        let count = families.len();
        for (family, until) in families {
            self.note_family_revoked(&family, until);
        }
        Ok(count)
    }

    /// Whether `client_id` is one of cognigate's own front-door clients, which the wire never serves.
    pub async fn is_front_door_client(&self, client_id: &str) -> Result<bool, EngineError> {
        Ok(self.cached_client(client_id).await?.is_some_and(|client| client.front_door))
    }

    /// The pool `client_id` belongs to, when the client exists.
    pub async fn client_pool(&self, client_id: &str) -> Result<Option<String>, EngineError> {
        Ok(self.cached_client(client_id).await?.map(|client| client.pool_id))
    }

    /// The client a challenge session belongs to, without using the session up.
    pub async fn session_client(&self, session: &str) -> Result<Option<String>, EngineError> {
        Ok(self.parts.store.get_session(&hash_opaque(session)).await?.map(|session| session.client_id))
    }

    /// Records in the in-process list that a login's tokens are revoked, until `until` (when its last
    /// refresh token, and so every token it could mint, has expired).
    pub(crate) fn note_family_revoked(&self, family: &str, until: Millis) {
        let now = now_secs_of(self.now());
        self.revocations.revoke_id_until_expiry(family, now_secs_of(until).saturating_add(1), now);
    }

    /// Records in the in-process list that every token of `sub` issued before `before_secs` is revoked.
    pub(crate) fn note_subject_revoked(&self, sub: &str, before_secs: i64) {
        self.revocations.revoke_subject_until(sub, u64::try_from(before_secs.saturating_sub(1)).unwrap_or(0));
    }

    /// How many password hashes the engine has computed.
    pub fn password_hashes(&self) -> u64 {
        self.parts.hasher.hashes_computed()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.parts.store
    }

    pub(crate) fn now(&self) -> Millis {
        self.parts.clock.now_ms()
    }

    /// The issuer of a pool's tokens.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.parts.public_url.trim_end_matches('/'))
    }

    pub(crate) async fn pool(&self, pool_id: &str) -> Result<UserPool, EngineError> {
        let now = self.now();
        if let Some(pool) = self.settings.read().ok().and_then(|cache| cache.pool(pool_id, now)) {
            return Ok(pool);
        }
        let pool =
            self.parts.store.get_pool(pool_id).await?.ok_or_else(|| {
                EngineError::ResourceNotFound(format!("User pool {pool_id} does not exist."))
            })?;
        if let Ok(mut cache) = self.settings.write() {
            cache.pools.insert(pool_id.to_owned(), (pool.clone(), now));
        }
        Ok(pool)
    }

    /// A client by id, through the settings cache.
    pub(crate) async fn cached_client(&self, client_id: &str) -> Result<Option<AppClient>, EngineError> {
        let now = self.now();
        if let Some(client) = self.settings.read().ok().and_then(|cache| cache.client(client_id, now)) {
            return Ok(Some(client));
        }
        let client = self.parts.store.get_client(client_id).await?;
        if let (Some(client), Ok(mut cache)) = (&client, self.settings.write()) {
            cache.clients.insert(client_id.to_owned(), (client.clone(), now));
        }
        Ok(client)
    }

    /// Drops cached settings after a change made through this engine.
    pub(crate) fn forget_settings(&self) {
        if let Ok(mut cache) = self.settings.write() {
            cache.pools.clear();
            cache.clients.clear();
        }
    }

    /// The client and its pool, with SECRET_HASH checked when the client has a secret.
    pub(crate) async fn client_for(
        &self,
        client_id: &str,
        username: Option<&str>,
        secret_hash: Option<&str>,
    ) -> Result<(AppClient, UserPool), EngineError> {
        let client = self.cached_client(client_id).await?.ok_or_else(|| {
            EngineError::ResourceNotFound(format!("User pool client {client_id} does not exist."))
        })?;
        if let Some(sealed) = &client.secret_sealed {
            let secret = self.parts.sealer.open(CLIENT_SECRET_PURPOSE, sealed)?;
            let Some(given) = secret_hash else {
                return Err(EngineError::NotAuthorized(format!(
                    "Client {client_id} is configured with secret but SECRET_HASH was not received"
                )));
            };
            let username = username.unwrap_or_default();
            if !secret_hash_matches(&secret, username, client_id, given) {
                return Err(EngineError::NotAuthorized(format!(
                    "Unable to verify secret hash for client {client_id}"
                )));
            }
        }
        let pool = self.pool(&client.pool_id).await?;
        Ok((client, pool))
    }

    pub(crate) fn seal_client_secret(&self, secret: &str) -> Result<Vec<u8>, EngineError> {
        self.parts.sealer.seal(CLIENT_SECRET_PURPOSE, secret.as_bytes(), self.parts.entropy.as_ref())
    }

    /// The client's secret, for DescribeUserPoolClient.
    pub fn client_secret(&self, client: &AppClient) -> Result<Option<String>, EngineError> {
        client
            .secret_sealed
            .as_ref()
            .map(|sealed| {
                let plain = self.parts.sealer.open(CLIENT_SECRET_PURPOSE, sealed)?;
                String::from_utf8(plain.to_vec())
                    .map_err(|_| EngineError::Internal("client secret is not text".into()))
            })
            .transpose()
    }

    // ----- lockout -----

    /// Fails with `NotAuthorized("Password attempts exceeded")` while the user must wait before the next
    /// attempt; otherwise returns the failures counted so far. Calls through a front-door client are not
    /// judged here: the auth API in front keeps its own lockout.
    pub(crate) async fn ensure_not_locked(
        &self,
        pool: &UserPool,
        sub: &str,
        guard: Guard,
    ) -> Result<LockoutRecord, EngineError> {
        if guard == Guard::FrontDoor {
            return Ok(LockoutRecord::default());
        }
        let record = self.parts.store.get_lockout(&pool.id, sub).await?;
        if record.locked_until_ms.is_some_and(|until| until > self.now()) {
            return Err(EngineError::NotAuthorized("Password attempts exceeded".to_owned()));
        }
        Ok(record)
    }

    /// Counts a failed password or code with Cognito's schedule: from the pool's threshold on, each failure
    /// makes the next attempt wait twice as long as the last (1 s, 2 s, 4 s, ...), up to the pool's lockout
    /// duration. Failures are forgotten after a quiet window.
    pub(crate) async fn record_failure(
        &self,
        pool: &UserPool,
        sub: &str,
        guard: Guard,
    ) -> Result<(), EngineError> {
        if guard == Guard::FrontDoor {
            return Ok(());
        }
        let now = self.now();
        let mut record = self.parts.store.get_lockout(&pool.id, sub).await?;
        if now - record.last_failure_ms.max(record.window_started_ms) > pool.lockout.window_secs * 1000 {
            record = LockoutRecord { window_started_ms: now, ..LockoutRecord::default() };
        }
        record.failures += 1;
        record.last_failure_ms = now;
        record.locked_until_ms =
            backoff_ms(record.failures, pool.lockout.max_failures, pool.lockout.duration_secs)
                .map(|wait| now + wait);
        self.parts.store.put_lockout(&pool.id, sub, &record).await?;
        Ok(())
    }

    /// Forgets the failures (a success, a reset with the emailed code, an administrator's new password).
    pub(crate) async fn clear_failures(&self, pool: &UserPool, sub: &str) -> Result<(), EngineError> {
        self.parts.store.put_lockout(&pool.id, sub, &LockoutRecord::default()).await?;
        Ok(())
    }

    // ----- signing keys and tokens -----

    /// Creates the pool's first signing key (at pool creation) or a new one (rotation).
    pub async fn rotate_signing_key(&self, pool_id: &str) -> Result<String, EngineError> {
        let key = SigningKey::generate().map_err(|error| EngineError::Internal(error.to_string()))?;
        let der = key.to_pkcs8_der().map_err(|error| EngineError::Internal(error.to_string()))?;
        let now = self.now();
        for mut old in self.parts.store.list_keys(pool_id).await? {
            if old.retired_ms.is_none() {
                old.retired_ms = Some(now);
                self.parts.store.put_key(&old).await?;
            }
        }
        let stored = StoredKey {
            pool_id: pool_id.to_owned(),
            kid: key.kid().to_owned(),
            private_sealed: self.parts.sealer.seal(KEY_PURPOSE, &der, self.parts.entropy.as_ref())?,
            public_jwk: serde_json::to_string(key.jwk())
                .map_err(|error| EngineError::Internal(error.to_string()))?,
            created_ms: now,
            retired_ms: None,
        };
        self.parts.store.put_key(&stored).await?;
        self.forget_keys(pool_id);
        Ok(stored.kid)
    }

    pub(crate) fn forget_keys(&self, pool_id: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.remove(pool_id);
        }
    }

    pub(crate) async fn pool_keys(&self, pool_id: &str) -> Result<Arc<PoolKeys>, EngineError> {
        if let Some(keys) = self.keys.read().ok().and_then(|keys| keys.get(pool_id).cloned()) {
            return Ok(keys);
        }
        let stored = self.parts.store.list_keys(pool_id).await?;
        let mut all = Vec::new();
        for key in &stored {
            let der = self.parts.sealer.open(KEY_PURPOSE, &key.private_sealed)?;
            all.push(
                SigningKey::from_pkcs8_der(key.kid.clone(), &der)
                    .map_err(|error| EngineError::Internal(error.to_string()))?,
            );
        }
        let active_kid = stored
            .iter()
            .filter(|key| key.retired_ms.is_none())
            .max_by_key(|key| key.created_ms)
            .map(|key| key.kid.clone())
            .ok_or_else(|| EngineError::Internal(format!("pool {pool_id} has no signing key")))?;
        let position = all.iter().position(|key| key.kid() == active_kid).unwrap_or_default();
        all.swap(0, position);
        let keys = Arc::new(PoolKeys { all });
        if let Ok(mut cache) = self.keys.write() {
            cache.insert(pool_id.to_owned(), keys.clone());
        }
        Ok(keys)
    }

    /// The pool's JWKS: every key still needed to verify live tokens.
    pub async fn jwks(&self, pool_id: &str) -> Result<JwkSet, EngineError> {
        self.pool(pool_id).await?;
        let keys = self.pool_keys(pool_id).await?;
        Ok(JwkSet::from_signing_keys(keys.all.iter()))
    }

    /// The OpenID discovery document of a pool.
    pub async fn openid_configuration(&self, pool_id: &str) -> Result<serde_json::Value, EngineError> {
        self.pool(pool_id).await?;
        let issuer = self.issuer(pool_id);
        Ok(serde_json::json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "response_types_supported": ["code", "token"],
            "claims_supported": ["sub", "email", "email_verified", "cognito:username", "cognito:groups"],
        }))
    }

    /// Mints access and ID tokens (and a refresh token when `refresh` is given as a new family).
    pub(crate) async fn mint(
        &self,
        client: &AppClient,
        user: &User,
        family: &str,
        auth_time_ms: Millis,
        new_refresh: bool,
        trigger_source: &str,
    ) -> Result<AuthenticationResult, EngineError> {
        let groups: Vec<String> = self
            .parts
            .store
            .groups_of_user(&client.pool_id, &user.sub)
            .await?
            .into_iter()
            .map(|g| g.name)
            .collect();
        let extra = self
            .parts
            .triggers
            .pre_token_generation(&TokenContext {
                pool_id: &client.pool_id,
                client_id: &client.id,
                user,
                groups: &groups,
                trigger_source,
            })
            .await?;
        let now_ms = self.now();
        let now = now_secs_of(now_ms);
        let issuer = self.issuer(&client.pool_id);
        let event_id = uuid::Uuid::new_v4().to_string();
        let auth_time = now_secs_of(auth_time_ms);
        let access = AccessClaims {
            sub: user.sub.clone(),
            groups: groups.clone(),
            iss: issuer.clone(),
            version: 2,
            client_id: client.id.clone(),
            origin_jti: family.to_owned(),
            event_id: event_id.clone(),
            token_use: TokenUse::Access,
            scope: COGNITO_ADMIN_SCOPE.to_owned(),
            auth_time,
            exp: now + u64::try_from(client.access_token_validity_secs).unwrap_or(3600),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            username: user.username.clone(),
            extra: extra.access,
        };
        let mut id_extra = extra.id;
        for (name, value) in self.readable_attributes(client, user) {
            if name != "email" && name != "email_verified" {
                id_extra.insert(name, serde_json::Value::String(value));
            }
        }
        let id = IdClaims {
            sub: user.sub.clone(),
            groups,
            email_verified: user.attribute("email").map(|_| user.attribute("email_verified") == Some("true")),
            iss: issuer,
            username: user.username.clone(),
            origin_jti: family.to_owned(),
            aud: client.id.clone(),
            event_id,
            token_use: TokenUse::Id,
            auth_time,
            exp: now + u64::try_from(client.id_token_validity_secs).unwrap_or(3600),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            email: user.attribute("email").map(str::to_owned),
            extra: id_extra,
        };
        let keys = self.pool_keys(&client.pool_id).await?;
        let sign_error = |error: cognigate_token::SignError| EngineError::Internal(error.to_string());
        let active = keys
            .active()
            .ok_or_else(|| EngineError::Internal(format!("pool {} has no signing key", client.pool_id)))?;
        let access_token = cognigate_token::sign(active, &access).map_err(sign_error)?;
        let id_token = cognigate_token::sign(active, &id).map_err(sign_error)?;
        let refresh_token = if new_refresh {
            let token = new_opaque(self.parts.entropy.as_ref());
            self.parts
                .store
                .insert_refresh(&RefreshRecord {
                    token_hash: hash_opaque(&token),
                    pool_id: client.pool_id.clone(),
                    client_id: client.id.clone(),
                    sub: user.sub.clone(),
                    family: family.to_owned(),
                    auth_time_ms,
                    issued_ms: now_ms,
                    // Counted from the sign-in, as Cognito does: a rotated token replaces the one before
                    // it without extending the sign-in, which ends when its first refresh token would have.
                    expires_ms: auth_time_ms.min(now_ms) + client.refresh_token_validity_secs * 1000,
                    rotated_ms: None,
                    revoked: false,
                })
                .await?;
            Some(token)
        } else {
            None
        };
        Ok(AuthenticationResult {
            access_token,
            id_token,
            refresh_token,
            expires_in: client.access_token_validity_secs,
            token_type: "Bearer".to_owned(),
        })
    }

    /// The attributes a client may read (all when it lists none).
    pub(crate) fn readable_attributes(&self, client: &AppClient, user: &User) -> Vec<(String, String)> {
        user.attributes
            .iter()
            .filter(|(name, _)| client.read_attributes.is_empty() || client.read_attributes.contains(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// Checks an access token for a self-service call (GetUser, ChangePassword, GlobalSignOut...) with the
    /// product's verifier (signature with the pool's keys, `token_use`, client, expiry), then revocation
    /// against the store. Returns the user and the verified token.
    pub(crate) async fn user_from_access_token(
        &self,
        token: &str,
    ) -> Result<(User, VerifiedToken), EngineError> {
        let invalid = || EngineError::NotAuthorized("Invalid Access Token".to_owned());
        let claims: UnverifiedClaims = decode_unverified(token).ok_or_else(invalid)?;
        let pool_id = claims.iss.rsplit('/').next().unwrap_or_default().to_owned();
        let issuer = self.issuer(&pool_id);
        if claims.iss != issuer {
            return Err(invalid());
        }
        let client = self
            .parts
            .store
            .get_client(&claims.client_id)
            .await?
            .filter(|c| c.pool_id == pool_id)
            .ok_or_else(invalid)?;
        let keys = self.pool_keys(&pool_id).await.map_err(|_| invalid())?;
        let source =
            Arc::new(StaticJwksSource::with_set(issuer.clone(), JwkSet::from_signing_keys(keys.all.iter())));
        let verifier = Verifier::builder(source)
            .audience(Audience::access(issuer, [client.id.clone()]))
            .clock(Arc::new(TokenClock(self.parts.clock.clone())))
            .build()
            .map_err(|error| EngineError::Internal(error.to_string()))?;
        let verified = verifier.verify(token).await.map_err(|error| match error {
            VerifyError::Expired => EngineError::NotAuthorized("Access Token has expired".to_owned()),
            _ => invalid(),
        })?;
        let user = self.parts.store.get_user(&pool_id, verified.sub()).await?.ok_or_else(invalid)?;
        let issued_ms = i64::try_from(verified.iat()).unwrap_or(i64::MAX).saturating_mul(1000);
        let family_revoked = match verified.origin_jti() {
            Some(family) => self.parts.store.is_family_revoked(family).await?,
            None => false,
        };
        if issued_ms < user.tokens_valid_after_ms || family_revoked {
            return Err(EngineError::NotAuthorized("Access Token has been revoked".to_owned()));
        }
        if !user.enabled {
            return Err(EngineError::NotAuthorized("User is disabled.".to_owned()));
        }
        Ok((user, verified))
    }

    // ----- outbox -----

    /// Sends a message (`email` or `sms`): through the delivery channel, and into the outbox, sealed, when
    /// nothing delivers it.
    pub(crate) async fn deliver(
        &self,
        pool_id: &str,
        channel: &str,
        recipient: &str,
        kind: &str,
        subject: &str,
        body: String,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let sequence = self.outbox_sequence.fetch_add(1, Ordering::Relaxed);
        let message = OutboxMessage {
            // Sorts by time, then by order of sending within this process.
            id: format!("{now:013}-{sequence:010}-{}", uuid::Uuid::new_v4().simple()),
            pool_id: pool_id.to_owned(),
            channel: channel.to_owned(),
            recipient: recipient.to_owned(),
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            body,
            created_ms: now,
            sealed: false,
        };
        if self.parts.delivery.keeps_in_outbox(&message) {
            let sealed = self.parts.sealer.seal(
                OUTBOX_PURPOSE,
                message.body.as_bytes(),
                self.parts.entropy.as_ref(),
            )?;
            let stored = OutboxMessage { body: STANDARD.encode(sealed), sealed: true, ..message.clone() };
            self.parts.store.push_outbox(&stored).await?;
        }
        self.parts.delivery.deliver(&message).await.map_err(EngineError::CodeDeliveryFailure)
    }

    /// Sends an email (a code, an invitation, or a notice of the service's own about the account): through
    /// the delivery channel, and into the outbox where nothing delivers.
    pub async fn notify(
        &self,
        pool_id: &str,
        recipient: &str,
        kind: &str,
        subject: &str,
        body: String,
    ) -> Result<(), EngineError> {
        self.deliver(pool_id, "email", recipient, kind, subject, body).await
    }

    /// The outbox, newest first (optionally only what went to `recipient`), opened.
    pub async fn outbox(
        &self,
        recipient: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, EngineError> {
        let messages = self.parts.store.list_outbox(recipient, limit).await?;
        messages.into_iter().map(|message| open_outbox_message(&self.parts.sealer, message)).collect()
    }
}

/// An outbox message as read from the store, with its body opened.
pub fn open_outbox_message(sealer: &Sealer, message: OutboxMessage) -> Result<OutboxMessage, EngineError> {
    if !message.sealed {
        return Ok(message);
    }
    let sealed = STANDARD
        .decode(message.body.as_bytes())
        .map_err(|_| EngineError::Internal("an outbox message is not base64".to_owned()))?;
    let text = sealer.open(OUTBOX_PURPOSE, &sealed)?;
    let body = String::from_utf8(text.to_vec())
        .map_err(|_| EngineError::Internal("an outbox message is not text".to_owned()))?;
    Ok(OutboxMessage { body, sealed: false, ..message })
}

/// Who guards a user's password and codes against guessing for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// The engine's per-user lockout, Cognito's: what SDK clients on the wire get.
    Engine,
    /// cognigate's auth API, calling through its own (front-door) client: its lockout, per account and
    /// client address, applies instead, and cannot be turned against the owner by strangers.
    FrontDoor,
}

impl Guard {
    pub(crate) fn of(client: &AppClient) -> Self {
        if client.front_door { Self::FrontDoor } else { Self::Engine }
    }
}

/// How long the next attempt must wait after `failures` failures (the one schedule, in milliseconds).
fn backoff_ms(failures: u32, threshold: u32, cap_secs: i64) -> Option<Millis> {
    let delay =
        cognigate_domain::lockout::delay_secs(failures, threshold, u64::try_from(cap_secs).unwrap_or(0))?;
    Some(i64::try_from(delay).unwrap_or(i64::MAX).saturating_mul(1000))
}

/// Cognito's SECRET_HASH: Base64(HMAC-SHA256(client secret, username + client id)).
pub fn secret_hash(client_secret: &[u8], username: &str, client_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(client_secret) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn secret_hash_matches(secret: &[u8], username: &str, client_id: &str, given: &str) -> bool {
    let expected = secret_hash(secret, username, client_id);
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), given.trim().as_bytes()).is_ok()
}

/// The two claims read before verification, to pick the pool and client to verify against.
#[derive(serde::Deserialize)]
struct UnverifiedClaims {
    iss: String,
    client_id: String,
}

/// The engine's clock as the token crate's.
#[derive(Debug)]
struct TokenClock(Arc<dyn Clock>);

impl cognigate_token::Clock for TokenClock {
    fn now(&self) -> u64 {
        now_secs_of(self.0.now_ms())
    }
}

/// Reads a JWT's payload without verifying it, only to learn which pool's keys to verify it with.
fn decode_unverified<T: serde::de::DeserializeOwned>(token: &str) -> Option<T> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if token.len() > 16 * 1024 {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The `client_id` a token says it was issued to, unverified: enough to refuse a token of a client the
/// caller may not use before any work is done (verification, which checks the claim, comes later anyway).
pub(crate) fn token_client_id(token: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Client {
        client_id: String,
    }
    decode_unverified::<Client>(token).map(|claims| claims.client_id)
}
