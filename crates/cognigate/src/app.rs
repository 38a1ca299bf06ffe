//! The state the HTTP edge serves, assembled in one place for `serve`, `dev` and the tests that start a
//! whole cognigate, so they run what the binary runs.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use cognigate_config::{Config, Environment, WireListen};
use cognigate_http::auth::AuthApi;
use cognigate_http::{AppState, Readiness};
use cognigate_policy::Authorizer;

use crate::runtime::{Runtime, resolve_secret};

/// The application state for `config` in `environment`, over the running parts and the auth API.
pub fn state(
    config: Config,
    environment: Environment,
    authorizer: Arc<Authorizer>,
    runtime: &Runtime,
    api: Arc<AuthApi>,
    readiness: Readiness,
) -> Result<AppState> {
    let mut wire_access = wire_access(&config, environment)?;
    if environment != Environment::Dev {
        wire_access.guarded_pools = runtime.pools.iter().map(|pool| pool.pool_id.clone()).collect();
    }
    let wire_access = Arc::new(wire_access);
    let metrics_token = config
        .secrets
        .metrics_token
        .as_ref()
        .map(resolve_secret)
        .transpose()
        .context("secrets.metrics_token")?
        .filter(|token| !token.is_empty())
        .map(Arc::new);
    // `/config` shows, for each local pool, the client SDK tools use: the public one in dev, cognigate's
    // own (which they cannot use) elsewhere.
    let local_pools = runtime
        .pools
        .iter()
        .map(|pool| {
            let client = pool.client_id.clone().unwrap_or_else(|| pool.service_client_id.clone());
            (pool.kind, pool.pool_id.clone(), client)
        })
        .collect();
    Ok(AppState {
        wire_on_service_port: config.engine.wire.listen_in(environment) == WireListen::Service,
        config: Arc::new(config),
        environment,
        authorizer,
        readiness,
        engine: Some(runtime.engine.clone()),
        local_pools,
        wire_access,
        metrics_token,
        auth: Some(api),
        wire_in_flight: Arc::default(),
    })
}

/// Who may administer over the wire: the configured keys with their secrets resolved (a key whose secret
/// is missing stops the start); in dev without keys, loopback callers naming a loopback host. The pools
/// the wire must not serve client operations for are added by [`state`], which knows them.
pub fn wire_access(config: &Config, environment: Environment) -> Result<cognigate_engine::wire::WireAccess> {
    let mut keys = Vec::new();
    for key in &config.engine.wire.admin_access_keys {
        let secret = resolve_secret(&key.secret)
            .with_context(|| format!("the secret of wire access key {}", key.id))?;
        anyhow::ensure!(!secret.is_empty(), "the secret of wire access key {} is empty", key.id);
        keys.push(cognigate_engine::wire::AccessKey::new(key.id.clone(), secret));
    }
    Ok(cognigate_engine::wire::WireAccess {
        admin_keys: keys,
        loopback_admin: environment == Environment::Dev,
        guarded_pools: Default::default(),
    })
}
