//! Starting the parts the configuration asks for: the store, the embedded engine with the pools of every
//! `local` pool (stable ids, so the service, the CDK context and a developer's SDK scripts agree), the
//! pre-token-generation hook that adds role, tier, team and permission claims, and one identity provider per
//! pool — `local` (the engine in-process) or `cognito` (AWS Cognito through the SDK), checked at start-up.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use async_trait::async_trait;
use cognigate_cognito::{CognitoProvider, CognitoSettings};
use cognigate_config::{
    Config, Environment, MfaMethod, MfaMode, PoolConfig, PoolKind, ProviderKind, SignUpMode,
};
use cognigate_domain::access::{AccessModel, pool_groups};
use cognigate_domain::claims::token_claims;
use cognigate_domain::sign_up::{AttributeRules, SignUpSource, check_sign_up};
use cognigate_engine::clock::{Entropy, OsEntropy, SystemClock};
use cognigate_engine::model::{CustomAttributeRule, LockoutPolicy, MfaConfiguration, PasswordPolicy};
use cognigate_engine::password::{HashParams, PasswordHasher};
use cognigate_engine::seal::Sealer;
use cognigate_engine::triggers::{ExtraClaims, TokenContext, Triggers};
use cognigate_engine::{Engine, EngineError, EngineParts, NewClient, NewPool};
use cognigate_provider::{IdentityProvider, LocalProvider, PoolSummary};
use cognigate_service::ports::MirrorStore;
use cognigate_service::triggers::{ConfirmedIdentity, confirm_identity, mirror_after_identity_change};
use cognigate_store::SqlStore;
use sha2::{Digest, Sha256};

/// A pool served by the embedded engine.
#[derive(Debug, Clone)]
pub struct LocalPool {
    pub kind: PoolKind,
    pub pool_id: String,
    /// The app client SDK tools use over the wire: public, dev only (`None` elsewhere).
    pub client_id: Option<String>,
    /// cognigate's own client, through which the auth API reaches the pool (never served over the wire).
    pub service_client_id: String,
}

/// The running parts.
#[derive(Debug)]
pub struct Runtime {
    /// The store: the engine's records, the user mirror, the audit log.
    pub store: Arc<SqlStore>,
    pub engine: Arc<Engine>,
    /// The pools the embedded engine serves (configured `local`, or fallen back to in dev).
    pub pools: Vec<LocalPool>,
    /// The identity provider of each pool, and the settings it reported when checked at start-up.
    pub providers: Vec<(PoolKind, Arc<dyn IdentityProvider>, PoolSummary)>,
}

/// A stable identifier made from the installation's name and a label, in `alphabet`.
fn stable_id(service: &str, label: &str, alphabet: &[u8], len: usize) -> String {
    let digest = Sha256::digest(format!("cognigate/{service}/{label}").as_bytes());
    digest.iter().take(len).map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()])).collect()
}

/// The pool id the embedded engine gives a configured pool: `local_` and 9 characters, like Cognito's.
pub fn pool_id(config: &Config, kind: PoolKind) -> String {
    format!(
        "local_{}",
        stable_id(
            &config.service.name,
            kind.as_str(),
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            9
        )
    )
}

/// The dev app client id of a configured pool (the one SDK tools use over the wire): 26 lowercase letters
/// and digits, like Cognito's.
pub fn client_id(config: &Config, kind: PoolKind) -> String {
    stable_id(&config.service.name, &format!("{kind}/client"), b"abcdefghijklmnopqrstuvwxyz0123456789", 26)
}

/// The id of cognigate's own client of a configured pool.
pub fn service_client_id(config: &Config, kind: PoolKind) -> String {
    stable_id(
        &config.service.name,
        &format!("{kind}/service-client"),
        b"abcdefghijklmnopqrstuvwxyz0123456789",
        26,
    )
}

fn new_pool(config: &Config, kind: PoolKind) -> NewPool {
    let settings = config.pools.get(kind);
    let password = &settings.password;
    NewPool {
        name: format!("{}-{kind}", config.service.name),
        id: Some(pool_id(config, kind)),
        password_policy: PasswordPolicy {
            minimum_length: password.min_length,
            require_lowercase: password.require_lowercase,
            require_uppercase: password.require_uppercase,
            require_numbers: password.require_digits,
            require_symbols: password.require_symbols,
        },
        mfa: match settings.mfa.mode {
            MfaMode::Off => MfaConfiguration::Off,
            MfaMode::Optional => MfaConfiguration::Optional,
            MfaMode::Required => MfaConfiguration::On,
        },
        software_token_mfa: settings.mfa.methods.contains(&MfaMethod::Totp),
        sms_mfa: settings.mfa.methods.contains(&MfaMethod::Sms),
        auto_verified_attributes: vec!["email".to_owned()],
        username_attributes: vec!["email".to_owned()],
        custom_attributes: settings
            .custom_attributes
            .iter()
            .map(|(name, rule)| {
                let mapped = CustomAttributeRule {
                    number: rule.kind == cognigate_config::CustomAttributeKind::Number,
                    mutable: rule.mutable,
                    min_length: rule.min_length,
                    max_length: rule.max_length,
                    pattern: rule.pattern.clone(),
                    min: rule.min,
                    max: rule.max,
                };
                (name.clone(), mapped)
            })
            .collect(),
        admin_create_only: settings.sign_up == SignUpMode::AdminOnly,
        lockout: LockoutPolicy {
            max_failures: settings.lockout.max_failures,
            window_secs: i64::try_from(settings.lockout.window.as_secs()).unwrap_or(i64::MAX),
            duration_secs: i64::try_from(settings.lockout.duration.as_secs()).unwrap_or(i64::MAX),
        },
        temporary_password_validity_days: u32::try_from(
            settings.password.temporary_password_validity.as_secs() / 86_400,
        )
        .unwrap_or(u32::MAX)
        .max(1),
    }
}

/// The two kinds of app client a configured pool has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientRole {
    /// cognigate's own: with a secret only this process knows, refresh tokens rotated as configured, and
    /// never served over the wire (the auth API's controls stand in front of it).
    Service,
    /// Dev only: the public client SDK tools and scripts use over the wire, as they would a Cognito pool's.
    DevTools,
}

fn new_client(config: &Config, kind: PoolKind, role: ClientRole) -> NewClient {
    let tokens = &config.pools.get(kind).tokens;
    let secs = |d: cognigate_config::HumanDuration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let service = role == ClientRole::Service;
    NewClient {
        name: match role {
            ClientRole::Service => format!("{}-{kind}-service", config.service.name),
            ClientRole::DevTools => format!("{}-{kind}-app", config.service.name),
        },
        id: Some(match role {
            ClientRole::Service => service_client_id(config, kind),
            ClientRole::DevTools => client_id(config, kind),
        }),
        generate_secret: service,
        explicit_auth_flows: [
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ]
        .map(str::to_owned)
        .to_vec(),
        access_token_validity_secs: secs(tokens.access),
        id_token_validity_secs: secs(tokens.id),
        refresh_token_validity_secs: secs(tokens.refresh),
        prevent_user_existence_errors: true,
        read_attributes: Vec::new(),
        write_attributes: Vec::new(),
        refresh_token_rotation: service && tokens.rotate_refresh,
        rotation_grace_secs: if service { secs(tokens.rotation_grace) } else { 0 },
        front_door: service,
    }
}

/// Creates the data directory owner-only (0700), or makes an existing one so: it holds the database, the
/// sealing key and, in dev, the outbox.
pub fn private_data_dir(data_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data_dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot make {} owner-only", data_dir.display()))?;
        }
    }
    Ok(())
}

/// Reads the sealing key under the data directory, without creating one: what reads sealed data (the
/// outbox command) must use the key that sealed it.
pub fn existing_sealing_key(data_dir: &Path) -> Result<Vec<u8>> {
    let path = data_dir.join("sealing.key");
    let key = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {}: the outbox is sealed with the key of the data directory that wrote it",
            path.display()
        )
    })?;
    anyhow::ensure!(key.len() == Sealer::KEY_LEN, "{} is not a {}-byte key", path.display(), Sealer::KEY_LEN);
    Ok(key)
}

/// Reads the sealing key under the data directory, creating it (owner-only) on first start.
pub fn sealing_key(data_dir: &Path) -> Result<Vec<u8>> {
    let path = data_dir.join("sealing.key");
    if let Ok(existing) = std::fs::read(&path) {
        anyhow::ensure!(
            existing.len() == Sealer::KEY_LEN,
            "{} is not a {}-byte key",
            path.display(),
            Sealer::KEY_LEN
        );
        return Ok(existing);
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut key = vec![0u8; Sealer::KEY_LEN];
    OsEntropy.fill(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, &key)?;
    Ok(key)
}

/// The trigger hooks of cognigate's pools, the same rules the Lambdas run on AWS: who may sign up with
/// which attributes (PreSignUp), and the role, tier, team and permission claims (PreTokenGeneration).
#[derive(Debug)]
struct ClaimsTrigger {
    model: AccessModel,
    pools: BTreeMap<String, PoolKind>,
    settings: BTreeMap<PoolKind, (PoolConfig, AttributeRules)>,
    environment: Environment,
    /// The user mirror, kept in step with changes users make to their own identity.
    mirror: Arc<dyn MirrorStore>,
    clock: Arc<dyn cognigate_engine::clock::Clock>,
    /// Each local pool's provider (through cognigate's own client), for the PostConfirmation hook; set once
    /// the engine the providers call exists.
    providers: Arc<std::sync::OnceLock<BTreeMap<PoolKind, Arc<dyn IdentityProvider>>>>,
}

#[async_trait]
impl Triggers for ClaimsTrigger {
    async fn pre_sign_up(
        &self,
        pool_id: &str,
        _username: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<bool, EngineError> {
        let Some((kind, (settings, rules))) =
            self.pools.get(pool_id).and_then(|kind| Some((*kind, self.settings.get(kind)?)))
        else {
            return Ok(false);
        };
        let attributes: HashMap<String, String> = attributes.clone().into_iter().collect();
        check_sign_up(
            kind,
            settings,
            rules,
            &self.model,
            self.environment,
            SignUpSource::SelfService,
            &attributes,
        )
        .map(|decision| decision.auto_confirm)
        .map_err(EngineError::InvalidParameter)
    }

    /// The PostConfirmation Lambda's hook, run the same way for a sign-up confirmed over the wire as on AWS.
    async fn post_confirmation(
        &self,
        pool_id: &str,
        user: &cognigate_engine::model::User,
    ) -> Result<(), EngineError> {
        let Some(kind) = self.pools.get(pool_id).copied() else { return Ok(()) };
        let (Some(provider), Some((settings, _))) =
            (self.providers.get().and_then(|providers| providers.get(&kind)), self.settings.get(&kind))
        else {
            return Err(EngineError::Internal(format!("the {kind} pool's confirmation hook is not ready")));
        };
        let identity = ConfirmedIdentity {
            pool: kind,
            sub: user.sub.clone(),
            username: user.username.clone(),
            attributes: user.attributes.clone(),
        };
        confirm_identity(
            provider.as_ref(),
            Some(self.mirror.as_ref()),
            settings,
            &self.model,
            identity,
            self.clock.now_ms(),
        )
        .await
        .map(|_| ())
        .map_err(|error| EngineError::Internal(format!("PostConfirmation: {error}")))
    }

    async fn pre_token_generation(&self, context: &TokenContext<'_>) -> Result<ExtraClaims, EngineError> {
        let Some(kind) = self.pools.get(context.pool_id) else {
            return Ok(ExtraClaims::default());
        };
        let map = token_claims(&self.model, *kind, &context.user.attributes, context.groups);
        Ok(ExtraClaims { access: map.clone(), id: map })
    }

    async fn user_changed(&self, pool_id: &str, user: &cognigate_engine::model::User) {
        let Some(kind) = self.pools.get(pool_id) else { return };
        let row = match self.mirror.get_mirror(*kind, &user.sub).await {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(error = %error, "the mirror could not follow a change to an identity; `cognigate sync` will");
                return;
            }
        };
        let now = self.clock.now_ms();
        if let Some(next) =
            mirror_after_identity_change(&row, user.attribute("email"), user.mfa.totp_enabled, now)
            && let Err(error) = self.mirror.put_mirror(&next).await
        {
            tracing::warn!(error = %error, "the mirror could not follow a change to an identity; `cognigate sync` will");
        }
    }
}

/// Creates the pool's role and tier groups the infrastructure creates on AWS, where missing: new accounts
/// join the least privileged one, and `cognito:groups` names them.
async fn ensure_groups(engine: &Engine, pool_id: &str, model: &AccessModel, kind: PoolKind) -> Result<()> {
    let (groups, _) = pool_groups(model, kind);
    for group in groups {
        match engine.get_group(pool_id, &group.name).await {
            Ok(_) => {}
            Err(EngineError::ResourceNotFound(_)) => {
                engine
                    .create_group(
                        pool_id,
                        &group.name,
                        Some(&group.description),
                        Some(i64::from(group.precedence)),
                    )
                    .await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Each pool's settings with its compiled attribute rules, for the PreSignUp hook.
fn sign_up_rules(config: &Config) -> Result<BTreeMap<PoolKind, (PoolConfig, AttributeRules)>> {
    PoolKind::ALL
        .into_iter()
        .map(|kind| {
            let settings = config.pools.get(kind).clone();
            let rules = AttributeRules::new(kind, &settings)?;
            Ok((kind, (settings, rules)))
        })
        .collect()
}

/// Resolves a secret reference from the environment or a file. AWS Secrets Manager needs the AWS SDK,
/// which arrives with the `cognito` provider.
pub fn resolve_secret(secret: &cognigate_config::SecretRef) -> Result<String> {
    match secret {
        cognigate_config::SecretRef::Env(name) => std::env::var(name)
            .with_context(|| format!("the secret's environment variable {name} is not set")),
        cognigate_config::SecretRef::File(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the secret file {path}"))?
            .trim_end_matches(['\r', '\n'])
            .to_owned()),
        cognigate_config::SecretRef::AwsSecretsManager(id) => {
            anyhow::bail!("AWS Secrets Manager secret {id}: not supported by this build yet; use env or file")
        }
    }
}

/// Where outbox messages go besides the outbox.
fn delivery(config: &Config) -> Result<Arc<dyn cognigate_engine::triggers::Delivery>> {
    match config.mail.delivery {
        cognigate_config::MailDelivery::Outbox => Ok(Arc::new(cognigate_engine::triggers::OutboxOnly)),
        cognigate_config::MailDelivery::Smtp => {
            let reference = config
                .mail
                .smtp
                .as_ref()
                .and_then(|smtp| smtp.password.as_ref())
                .or(config.secrets.smtp_password.as_ref());
            let password = reference.map(resolve_secret).transpose()?;
            Ok(Arc::new(crate::mail::SmtpDelivery::new(&config.mail, password)?))
        }
    }
}

/// Connects a `cognito` pool and proves it is reachable with our credentials.
async fn connect_cognito(
    config: &Config,
    kind: PoolKind,
) -> Result<(Arc<dyn IdentityProvider>, PoolSummary)> {
    let Some(cognito) = config.pools.get(kind).cognito.as_ref() else {
        anyhow::bail!("pools.{kind}.cognito is required when pools.{kind}.provider = \"cognito\"");
    };
    let client_secret = cognito.client_secret.as_ref().map(resolve_secret).transpose()?;
    let settings = CognitoSettings {
        region: cognito.region.clone(),
        user_pool_id: cognito.user_pool_id.clone(),
        client_id: cognito.client_id.clone(),
        client_secret,
        endpoint: cognito.endpoint.clone(),
    };
    let provider = CognitoProvider::connect(settings).await;
    let summary = provider.check().await.map_err(|error| {
        anyhow::anyhow!(
            "cannot reach the Cognito user pool {} of the {kind} pool (region {}{}): {error}",
            cognito.user_pool_id,
            cognito.region,
            cognito.endpoint.as_deref().map(|e| format!(", endpoint {e}")).unwrap_or_default(),
        )
    })?;
    Ok((Arc::new(provider), summary))
}

/// Opens the store and the engine, connects every pool's identity provider, and makes sure every `local`
/// pool of the configuration exists in the engine. A `cognito` pool that cannot be reached stops the start
/// in staging and prod; in dev it falls back to the embedded engine, with a warning nobody can miss.
pub async fn start(config: &Config, environment: Environment) -> Result<Runtime> {
    start_with_clock(config, environment, Arc::new(SystemClock)).await
}

/// [`start`] with the engine on `clock` (tests move time forward to expire locks and tokens).
pub async fn start_with_clock(
    config: &Config,
    environment: Environment,
    clock: Arc<dyn cognigate_engine::clock::Clock>,
) -> Result<Runtime> {
    private_data_dir(Path::new(&config.service.data_dir))?;
    let store = Arc::new(SqlStore::open(&config.store.url).await.with_context(|| "cannot open the store")?);
    let mut remote = Vec::new();
    let mut local: Vec<PoolKind> = Vec::new();
    for kind in PoolKind::ALL {
        match config.pools.get(kind).provider {
            ProviderKind::Local => local.push(kind),
            ProviderKind::Cognito => match connect_cognito(config, kind).await {
                Ok((provider, summary)) => remote.push((kind, provider, summary)),
                Err(error) if environment == Environment::Dev => {
                    eprintln!(
                        "!!! WARNING: {error:#}\n!!! the {kind} pool FALLS BACK to the embedded engine (dev only; \
                         staging and prod refuse to start)"
                    );
                    tracing::warn!(pool = %kind, error = %format!("{error:#}"), "cognito pool unreachable; using local");
                    local.push(kind);
                }
                Err(error) => {
                    return Err(error.context(format!(
                        "the {kind} pool uses the cognito provider; {environment} refuses to start without it"
                    )));
                }
            },
        }
    }
    let pools_by_id = local.iter().map(|kind| (pool_id(config, *kind), *kind)).collect();
    let confirmation_providers = Arc::new(std::sync::OnceLock::new());
    let model = AccessModel::from_config(config);
    let entropy: Arc<dyn Entropy> = Arc::new(OsEntropy);
    let concurrency = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let engine = Arc::new(Engine::new(EngineParts {
        store: store.clone(),
        clock: clock.clone(),
        entropy: entropy.clone(),
        hasher: PasswordHasher::new(
            HashParams {
                memory_kib: config.engine.argon2.memory_kib,
                iterations: config.engine.argon2.iterations,
                parallelism: config.engine.argon2.parallelism,
            },
            concurrency,
            entropy.as_ref(),
        )?,
        sealer: Arc::new(Sealer::new(&sealing_key(Path::new(&config.service.data_dir))?)?),
        triggers: Arc::new(ClaimsTrigger {
            model: model.clone(),
            pools: pools_by_id,
            settings: sign_up_rules(config)?,
            environment,
            mirror: store.clone(),
            clock: clock.clone(),
            providers: confirmation_providers.clone(),
        }),
        delivery: delivery(config)?,
        public_url: config.service.public_url.clone(),
        region: "local".to_owned(),
        session_ttl_secs: 180,
    }));
    let restored = engine.restore_revocations().await?;
    tracing::debug!(restored, "revoked sign-ins loaded from the store");
    let mut pools = Vec::new();
    let mut providers = remote;
    for kind in local {
        let pool = engine.ensure_user_pool(new_pool(config, kind)).await?;
        ensure_groups(&engine, &pool.id, &model, kind).await?;
        let service =
            engine.ensure_user_pool_client(&pool.id, new_client(config, kind, ClientRole::Service)).await?;
        let secret = engine.client_secret(&service)?;
        let dev_client = if environment == Environment::Dev {
            Some(
                engine
                    .ensure_user_pool_client(&pool.id, new_client(config, kind, ClientRole::DevTools))
                    .await?
                    .id,
            )
        } else {
            // Outside dev no public client of a configured pool exists: nothing reaches its users' sign-in,
            // codes or MFA around the auth API.
            let dev_id = client_id(config, kind);
            if engine.describe_user_pool_client(&pool.id, &dev_id).await.is_ok() {
                engine.delete_user_pool_client(&pool.id, &dev_id).await?;
            }
            None
        };
        let provider: Arc<dyn IdentityProvider> =
            Arc::new(LocalProvider::new(engine.clone(), &pool.id, &service.id, secret));
        let summary = provider.check().await.map_err(|error| anyhow::anyhow!("the {kind} pool: {error}"))?;
        providers.push((kind, provider, summary));
        pools.push(LocalPool {
            kind,
            pool_id: pool.id,
            client_id: dev_client,
            service_client_id: service.id,
        });
    }
    providers.sort_by_key(|(kind, _, _)| *kind);
    let local_providers = providers
        .iter()
        .filter(|(kind, _, _)| pools.iter().any(|pool| pool.kind == *kind))
        .map(|(kind, provider, _)| (*kind, provider.clone()))
        .collect();
    let _ = confirmation_providers.set(local_providers);
    Ok(Runtime { store, engine, pools, providers })
}
