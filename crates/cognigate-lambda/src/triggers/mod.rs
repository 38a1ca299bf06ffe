//! The Cognito triggers of both pools, one function dispatching on `triggerSource`.
//!
//! - PreSignUp ([`sign_up`]): the pool's attribute rules, no self-written authorization attributes, and
//!   auto-confirmation only where `auto_confirm` is on (dev).
//! - PostConfirmation ([`confirmation`]): the customer base type's default, the default group, and the
//!   user mirror row.
//! - PreTokenGeneration, event version 2 ([`tokens`]): role, tier, team and permission claims in both
//!   tokens, exactly as the embedded engine writes them.
//! - PostAuthentication ([`audit`]): one audit event.
//!
//! An event is matched to a pool by its `userPoolId` against `pools.*.cognito.user_pool_id`, so one
//! deployment of the function serves both pools. The [`TriggerState`] is built once per cold start; the
//! store is connected on first use, so triggers that never need it (token generation, sign-up checks)
//! never wait for it.

pub mod audit;
pub mod confirmation;
pub mod sign_up;
pub mod tokens;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cognigate_config::{AuditSink, Config, Environment, PoolConfig, PoolKind, ProviderKind};
use cognigate_domain::access::AccessModel;
use cognigate_provider::IdentityProvider;
use cognigate_store::SqlStore;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::error::{StartError, TriggerError};
use sign_up::AttributeRules;

/// How long a trigger waits for the store: Cognito gives a trigger 5 seconds in all, and the store is a
/// copy the trigger can do without.
pub const STORE_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// After a failed connection, invocations skip the store for this long rather than each wait again.
pub const STORE_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Where the triggers keep the user mirror and the audit log.
#[derive(Debug)]
pub enum StoreAccess {
    /// No store: mirror rows are left to `cognigate sync`, audit events go to the log only.
    Off,
    /// Connect to this URL on first use (and again on a later invocation if that failed).
    Connect(String),
    /// An open store.
    Ready(Arc<SqlStore>),
}

impl StoreAccess {
    /// The store the configuration names, when Lambdas can share it: PostgreSQL. An SQLite file would
    /// live and die with one Lambda instance, so it means no store here.
    pub fn from_config(config: &Config) -> Self {
        let url = &config.store.url;
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Connect(url.clone())
        } else {
            Self::Off
        }
    }
}

/// What the deployment hands the triggers besides the configuration.
#[derive(Debug)]
pub struct TriggerParts {
    /// The identity provider of each pool (PostConfirmation adds users to groups through it).
    pub providers: Vec<(PoolKind, Arc<dyn IdentityProvider>)>,
    pub store: StoreAccess,
}

#[derive(Debug)]
struct TriggerPool {
    kind: PoolKind,
    user_pool_id: Option<String>,
    provider: Option<Arc<dyn IdentityProvider>>,
    rules: AttributeRules,
}

/// What one cold start builds and every invocation shares.
#[derive(Debug)]
pub struct TriggerState {
    environment: Environment,
    config: Config,
    model: AccessModel,
    pools: Vec<TriggerPool>,
    store: StoreAccess,
    connected: OnceCell<Arc<SqlStore>>,
    last_failure: Mutex<Option<Instant>>,
}

impl TriggerState {
    /// Builds the state from the configuration and the given parts.
    ///
    /// # Errors
    /// [`StartError::Pattern`] when a custom attribute's pattern does not compile.
    pub fn new(config: Config, environment: Environment, parts: TriggerParts) -> Result<Self, StartError> {
        let model = AccessModel::from_config(&config);
        let mut pools = Vec::new();
        for kind in PoolKind::ALL {
            let settings = config.pools.get(kind);
            let user_pool_id = settings
                .cognito
                .as_ref()
                .filter(|_| settings.provider == ProviderKind::Cognito)
                .map(|cognito| cognito.user_pool_id.clone());
            let provider =
                parts.providers.iter().find(|(pool, _)| *pool == kind).map(|(_, provider)| provider.clone());
            pools.push(TriggerPool {
                kind,
                user_pool_id,
                provider,
                rules: AttributeRules::new(kind, settings)?,
            });
        }
        Ok(Self {
            environment,
            config,
            model,
            pools,
            store: parts.store,
            connected: OnceCell::new(),
            last_failure: Mutex::new(None),
        })
    }

    /// Builds the state for AWS: a `CognitoProvider` for each pool on Cognito, and the configured store
    /// when it is PostgreSQL.
    ///
    /// # Errors
    /// See [`TriggerState::new`]. A client secret that cannot be resolved is not needed by the
    /// administrative calls the triggers make, so it is not read.
    pub async fn connect(config: Config, environment: Environment) -> Result<Self, StartError> {
        let mut providers: Vec<(PoolKind, Arc<dyn IdentityProvider>)> = Vec::new();
        for kind in PoolKind::ALL {
            let settings = config.pools.get(kind);
            if let (ProviderKind::Cognito, Some(cognito)) = (&settings.provider, &settings.cognito) {
                let provider =
                    cognigate_cognito::CognitoProvider::connect(cognigate_cognito::CognitoSettings {
                        region: cognito.region.clone(),
                        user_pool_id: cognito.user_pool_id.clone(),
                        client_id: cognito.client_id.clone(),
                        client_secret: None,
                        endpoint: cognito.endpoint.clone(),
                    })
                    .await;
                providers.push((kind, Arc::new(provider)));
            }
        }
        let store = StoreAccess::from_config(&config);
        Self::new(config, environment, TriggerParts { providers, store })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    pub fn model(&self) -> &AccessModel {
        &self.model
    }

    fn pool(&self, user_pool_id: Option<&str>) -> Result<&TriggerPool, TriggerError> {
        let id = user_pool_id.unwrap_or_default();
        self.pools
            .iter()
            .find(|pool| pool.user_pool_id.as_deref() == Some(id))
            .ok_or_else(|| TriggerError::UnknownPool(id.to_owned()))
    }

    fn settings(&self, pool: PoolKind) -> &PoolConfig {
        self.config.pools.get(pool)
    }

    /// The store, connected on first use; `None` when there is none or it cannot be reached now (logged).
    async fn store(&self) -> Option<Arc<SqlStore>> {
        match &self.store {
            StoreAccess::Off => None,
            StoreAccess::Ready(store) => Some(store.clone()),
            StoreAccess::Connect(url) => {
                if let Some(store) = self.connected.get() {
                    return Some(store.clone());
                }
                let failed_recently = self
                    .last_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_some_and(|at| at.elapsed() < STORE_RETRY_AFTER);
                if failed_recently {
                    return None;
                }
                let attempt = async {
                    match tokio::time::timeout(STORE_CONNECT_TIMEOUT, SqlStore::open(url)).await {
                        Ok(opened) => opened.map(Arc::new).map_err(|error| error.to_string()),
                        Err(_) => Err(format!("no answer within {STORE_CONNECT_TIMEOUT:?}")),
                    }
                };
                match self.connected.get_or_try_init(|| attempt).await {
                    Ok(store) => Some(store.clone()),
                    Err(error) => {
                        *self.last_failure.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(Instant::now());
                        tracing::error!(
                            error = %error,
                            "the store cannot be reached; mirror and audit rows are skipped for {STORE_RETRY_AFTER:?}"
                        );
                        None
                    }
                }
            }
        }
    }

    /// Whether audit events go to the store (the `store` sink).
    fn audits_to_store(&self) -> bool {
        self.config.audit.sinks.contains(&AuditSink::Store)
    }
}

/// Handles one Cognito trigger event and returns the event with its response filled in, as Cognito expects.
/// `request_id` is the Lambda invocation's id (recorded on audit events).
///
/// # Errors
/// [`TriggerError`]: Cognito then fails the operation and shows the message.
pub async fn handle(
    event: Value,
    state: &TriggerState,
    request_id: Option<&str>,
) -> Result<Value, TriggerError> {
    let source = event
        .get("triggerSource")
        .and_then(Value::as_str)
        .ok_or_else(|| TriggerError::Malformed {
            trigger: "Cognito",
            message: "no triggerSource".to_owned(),
        })?
        .to_owned();
    if source.starts_with("PreSignUp_") {
        sign_up::handle(event, state)
    } else if source.starts_with("PostConfirmation_") {
        confirmation::handle(event, state).await
    } else if source.starts_with("TokenGeneration_") {
        tokens::handle(event, state)
    } else if source.starts_with("PostAuthentication_") {
        audit::handle(event, state, request_id).await
    } else {
        Err(TriggerError::UnsupportedTrigger(source))
    }
}

fn parse<T: DeserializeOwned>(trigger: &'static str, event: Value) -> Result<T, TriggerError> {
    serde_json::from_value(event)
        .map_err(|error| TriggerError::Malformed { trigger, message: error.to_string() })
}

fn answer<T: Serialize>(trigger: &'static str, event: &T) -> Result<Value, TriggerError> {
    serde_json::to_value(event)
        .map_err(|error| TriggerError::Malformed { trigger, message: error.to_string() })
}
