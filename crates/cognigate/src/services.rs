//! Building the auth API from the running parts: one verifier per pool (the engine's keys in-process for
//! `local` pools, the issuer's JWKS over HTTPS for `cognito` pools), the service's revocation list beside
//! the engine's (both loaded from the store, so a restart forgets no revocation), the store as mirror,
//! audit log, webhook ledger, revocation record and recovery codes, notices sent the way the engine's
//! mail goes, in-memory rate limits and lockout counters, and the metrics registry. Tests call [`build`]
//! with their own clock or a failing mirror.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use async_trait::async_trait;
use cognigate_config::{AuditSink, Config, Environment, PoolKind};
use cognigate_engine::Engine;
use cognigate_http::auth::AuthApi;
use cognigate_policy::Authorizer;
use cognigate_service::admin::AdminService;
use cognigate_service::audit::Auditor;
use cognigate_service::auth::{AuthService, PoolParts, SharedParts};
use cognigate_service::limits::{Lockout, MemoryLockout, MemoryRateLimiter, RateLimiter};
use cognigate_service::metrics::Metrics;
use cognigate_service::ports::{
    AuditStore, MirrorStore, Notifier, PortError, PortResult, RecoveryCodeStore, RevocationStore, Revoked,
    TeamStore, WebhookLedger,
};
use cognigate_service::webhook::{BillingWebhook, WebhookSecret};
use cognigate_token::{
    Audience, Clock, HttpJwksSource, JwkSet, JwksError, JwksSource, Revocation, RevocationCheck,
    RevocationList, SystemClock, VerifiedToken, Verifier,
};

use crate::runtime::Runtime;

/// What tests may replace.
#[derive(Clone)]
pub struct ServiceOptions {
    pub clock: Arc<dyn Clock>,
    /// The mirror, instead of the store (tests wrap the store to inject failures).
    pub mirror: Option<Arc<dyn MirrorStore>>,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), mirror: None }
    }
}

impl std::fmt::Debug for ServiceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceOptions").field("mirror", &self.mirror).finish_non_exhaustive()
    }
}

/// The embedded engine's keys, read in-process: no HTTP round trip to ourselves.
struct EngineJwks {
    engine: Arc<Engine>,
    pool_id: String,
}

#[async_trait]
impl JwksSource for EngineJwks {
    async fn fetch(&self, _issuer: &str) -> Result<JwkSet, JwksError> {
        self.engine.jwks(&self.pool_id).await.map_err(|error| {
            tracing::error!(error = %error, "the engine could not give its keys");
            JwksError::Status(404)
        })
    }
}

/// Revoked if any list says so: the engine's (its own sign-outs, disables, deletions) and the service's.
struct AnyRevocation(Vec<Arc<dyn RevocationCheck>>);

impl RevocationCheck for AnyRevocation {
    fn check(&self, token: &VerifiedToken) -> Revocation {
        if self.0.iter().any(|list| list.check(token) == Revocation::Revoked) {
            Revocation::Revoked
        } else {
            Revocation::Valid
        }
    }
}

/// The issuer of a `cognito` pool's tokens: Cognito's, or the endpoint override's (LocalStack, or another
/// cognigate's wire endpoint, both of which issue under their own URL).
fn cognito_issuer(region: &str, pool_id: &str, endpoint: Option<&str>) -> String {
    match endpoint {
        Some(endpoint) => format!("{}/{pool_id}", endpoint.trim_end_matches('/')),
        None => format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
    }
}

/// The service's notices (a registration attempt on an existing address, a recovery code used) go where
/// the engine's messages go: SMTP when configured, the outbox in dev.
#[derive(Debug)]
struct EngineNotifier {
    engine: Arc<Engine>,
    /// The pool id each message is filed under.
    pools: Vec<(PoolKind, String)>,
}

#[async_trait]
impl Notifier for EngineNotifier {
    async fn notify(&self, pool: PoolKind, to: &str, subject: &str, body: &str) -> PortResult<()> {
        let pool_id = self.pools.iter().find(|(kind, _)| *kind == pool).map_or("", |(_, id)| id.as_str());
        self.engine
            .notify(pool_id, to, "notice", subject, body.to_owned())
            .await
            .map_err(|error| PortError::Backend(error.to_string()))
    }
}

/// Builds the auth API, with the revocations the store holds already in force.
pub async fn build(
    config: &Config,
    environment: Environment,
    authorizer: Arc<Authorizer>,
    runtime: &Runtime,
    options: ServiceOptions,
) -> Result<AuthApi> {
    let store = runtime.store.clone();
    let mirror: Arc<dyn MirrorStore> = options.mirror.clone().unwrap_or_else(|| store.clone());
    let audit_store: Option<Arc<dyn AuditStore>> =
        config.audit.sinks.contains(&AuditSink::Store).then(|| store.clone() as Arc<dyn AuditStore>);
    let audit_store_for_queries = audit_store.clone();
    let metrics = Arc::new(Metrics::new());
    let limiter: Arc<dyn RateLimiter> = Arc::new(MemoryRateLimiter::new());
    let lockout: Arc<dyn Lockout> = Arc::new(MemoryLockout::new());
    let revocation_store: Arc<dyn RevocationStore> = store.clone();
    let recovery_codes: Arc<dyn RecoveryCodeStore> = store.clone();
    let notifier = Arc::new(EngineNotifier {
        engine: runtime.engine.clone(),
        pools: runtime
            .providers
            .iter()
            .map(|(kind, provider, _)| (*kind, provider.info().pool_id.clone()))
            .collect(),
    });
    let shared = SharedParts {
        authorizer,
        mirror,
        auditor: Auditor::new(audit_store, config.audit.sinks.contains(&AuditSink::Log)),
        limiter,
        lockout,
        revocation_store: revocation_store.clone(),
        recovery_codes,
        notifier,
        clock: options.clock.clone(),
        metrics: metrics.clone(),
        service_name: config.service.name.clone(),
    };
    let mut services = Vec::new();
    for (kind, provider, _) in &runtime.providers {
        let info = provider.info();
        let revocations = Arc::new(RevocationList::new());
        let now_ms = i64::try_from(options.clock.now()).unwrap_or(i64::MAX).saturating_mul(1000);
        let now = options.clock.now();
        for stored in revocation_store.live_revocations(*kind, now_ms).await? {
            let expires = u64::try_from(stored.expires_ms.div_euclid(1000)).unwrap_or(0);
            match stored.what {
                Revoked::Token(id) => revocations.revoke_id_until_expiry(id, expires, now),
                Revoked::Subject { sub, issued_before } => {
                    revocations.revoke_subject_until_expiry(
                        sub,
                        issued_before.saturating_sub(1),
                        expires,
                        now,
                    );
                }
            }
        }
        // The auth API accepts the tokens of cognigate's own client, and in dev those of the public client
        // SDK tools sign in with over the wire.
        let mut clients = vec![info.client_id.clone()];
        let (issuer, source, checks): (String, Arc<dyn JwksSource>, Vec<Arc<dyn RevocationCheck>>) =
            if info.kind == "local" {
                clients.extend(
                    runtime
                        .pools
                        .iter()
                        .filter(|pool| pool.kind == *kind)
                        .filter_map(|pool| pool.client_id.clone()),
                );
                (
                    runtime.engine.issuer(&info.pool_id),
                    Arc::new(EngineJwks { engine: runtime.engine.clone(), pool_id: info.pool_id.clone() }),
                    vec![runtime.engine.revocations(), revocations.clone()],
                )
            } else {
                (
                    cognito_issuer(&info.region, &info.pool_id, info.endpoint.as_deref()),
                    Arc::new(HttpJwksSource::new().context("cannot build the JWKS client")?),
                    vec![revocations.clone()],
                )
            };
        let verifier = Verifier::builder(source)
            .audience(Audience::access(issuer, clients))
            .revocation(Arc::new(AnyRevocation(checks)))
            .clock(options.clock.clone())
            .build()
            .with_context(|| format!("cannot build the {kind} pool's token verifier"))?;
        let parts = PoolParts {
            pool: *kind,
            settings: config.pools.get(*kind).clone(),
            rate_limits: config.rate_limits.get(*kind).clone(),
            provider: provider.clone(),
            verifier: Arc::new(verifier),
            revocations,
        };
        services.push((*kind, Arc::new(AuthService::new(shared.clone(), parts))));
    }
    let service = |kind: PoolKind| {
        services
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s.clone())
            .with_context(|| format!("the {kind} pool has no identity provider"))
    };
    let customer = service(PoolKind::Customer)?;
    let staff = service(PoolKind::Staff)?;
    let secret = match &config.secrets.webhook {
        Some(reference) => match crate::runtime::resolve_secret(reference) {
            Ok(secret) if !secret.is_empty() => Some(WebhookSecret::new(secret)),
            Ok(_) | Err(_) => {
                tracing::warn!(
                    "secrets.webhook is not available: the billing webhook refuses every delivery"
                );
                None
            }
        },
        None => None,
    };
    let ledger: Arc<dyn WebhookLedger> = store.clone();
    let webhook = BillingWebhook::new(secret, ledger, customer.clone(), options.clock.clone());
    let teams: Arc<dyn TeamStore> = store;
    let admin = Arc::new(AdminService::new(
        customer.clone(),
        staff.clone(),
        teams,
        audit_store_for_queries,
        environment.as_str(),
    ));
    Ok(AuthApi { customer, staff, admin, webhook, metrics })
}
