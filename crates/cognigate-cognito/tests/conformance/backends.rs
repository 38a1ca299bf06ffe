//! The three backends the suite runs on, each with a fresh pool and app client of the same settings:
//! password of 10+ characters with upper, lower and digits; email as username, verified by code; optional
//! TOTP MFA; USER_PASSWORD, ADMIN_USER_PASSWORD and REFRESH_TOKEN flows; user existence errors prevented.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider as cip;
use cognigate_cognito::{CognitoProvider, CognitoSettings};
use cognigate_engine::clock::{OsEntropy, SystemClock};
use cognigate_engine::model::MfaConfiguration;
use cognigate_engine::password::{HashParams, PasswordHasher};
use cognigate_engine::seal::Sealer;
use cognigate_engine::store::Store;
use cognigate_engine::triggers::{NoTriggers, OutboxOnly};
use cognigate_engine::{Engine, EngineParts, NewClient, NewPool};
use cognigate_provider::{IdentityProvider, LocalProvider};
use cognigate_store::SqlStore;

/// Where a backend's one-time codes come from.
enum Codes {
    /// The engine's outbox (sealed at rest, opened by the engine).
    Outbox(Arc<Engine>),
    /// moto sends nothing and accepts any code; scenarios that depend on codes being checked are deviations.
    AnyAccepted,
}

pub struct Backend {
    pub name: &'static str,
    pub provider: Arc<dyn IdentityProvider>,
    codes: Codes,
    _keep: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl Backend {
    /// The newest 6-digit code sent to `email`.
    pub async fn code_for(&self, email: &str) -> String {
        match &self.codes {
            Codes::AnyAccepted => "123456".to_owned(),
            Codes::Outbox(engine) => {
                let messages = engine.outbox(Some(email), 1).await.unwrap();
                let body = &messages.first().unwrap_or_else(|| panic!("no message to {email}")).body;
                // The last 6-digit number: a pool's name may hold digits too.
                body.split(|c: char| !c.is_ascii_digit())
                    .rfind(|w| w.len() == 6)
                    .unwrap_or_else(|| panic!("no code in the message to {email}"))
                    .to_owned()
            }
        }
    }

    pub async fn local() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir, "http://127.0.0.1:9").await;
        let mut pool = NewPool::with_defaults("conformance");
        pool.password_policy.minimum_length = 10;
        pool.password_policy.require_symbols = false;
        pool.mfa = MfaConfiguration::Optional;
        pool.software_token_mfa = true;
        let pool = engine.create_user_pool(pool).await.unwrap();
        let mut client = NewClient::with_defaults("web");
        client.explicit_auth_flows.push("ALLOW_ADMIN_USER_PASSWORD_AUTH".to_owned());
        let (client, _) = engine.create_user_pool_client(&pool.id, client).await.unwrap();
        let provider = LocalProvider::new(engine.clone(), &pool.id, &client.id, None);
        Self {
            name: "local",
            provider: Arc::new(provider),
            codes: Codes::Outbox(engine),
            _keep: vec![Box::new(dir)],
        }
    }

    pub async fn wire() -> Self {
        Self::wire_with(Refresh::Reused).await
    }

    /// The wire backend with an app client that rotates refresh tokens, as `tokens.rotate_refresh` asks the
    /// infrastructure to configure: the provider must refresh with GetTokensFromRefreshToken there.
    pub async fn wire_rotating() -> Self {
        Self::wire_with(Refresh::Rotated).await
    }

    async fn wire_with(refresh: Refresh) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let engine = engine(&dir, &url).await;
        let source = include_str!("../../../../cognigate.toml");
        let environment = cognigate_config::Environment::Dev;
        let config = cognigate_config::load_from_str(source, "cognigate.toml", environment, []).unwrap();
        let authorizer = cognigate_policy::Authorizer::from_config(&config).unwrap();
        let state = cognigate_http::AppState {
            config: Arc::new(config),
            environment,
            authorizer: Arc::new(authorizer),
            readiness: cognigate_http::Readiness::default(),
            engine: Some(engine.clone()),
            local_pools: Vec::new(),
            wire_access: Arc::new(cognigate_engine::wire::WireAccess {
                admin_keys: Vec::new(),
                loopback_admin: true,
                guarded_pools: Default::default(),
            }),
            wire_on_service_port: true,
            metrics_token: None,
            auth: None,
            wire_in_flight: Arc::default(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(cognigate_http::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        let provider = provider_on(&url, refresh).await;
        Self {
            name: match refresh {
                Refresh::Reused => "wire",
                Refresh::Rotated => "wire (rotating refresh tokens)",
            },
            provider,
            codes: Codes::Outbox(engine),
            _keep: vec![Box::new(dir), Box::new(stop)],
        }
    }

    /// moto's server, started from the test venv; `None` (with a SKIP line) when moto is not installed and
    /// the run does not require it. The test command requires it.
    pub async fn moto() -> Option<Self> {
        let Some(binary) = moto_binary() else {
            assert!(
                std::env::var("COGNIGATE_TEST_REQUIRE_MOTO").as_deref() != Ok("1"),
                "COGNIGATE_TEST_REQUIRE_MOTO=1 but no moto_server was found (.venv/bin/moto_server or \
                 COGNIGATE_TEST_MOTO_SERVER)"
            );
            eprintln!("*** SKIP: moto_server not found; run ./scripts/test (it installs moto) ***");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let guard = KillOnDrop(child);
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut up = false;
        for _ in 0..150 {
            if http.get(format!("{url}/moto-api/")).send().await.is_ok_and(|r| r.status().is_success()) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "moto_server did not answer on {url}");
        let provider = provider_on(&url, Refresh::Reused).await;
        Some(Self { name: "moto", provider, codes: Codes::AnyAccepted, _keep: vec![Box::new(guard)] })
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("COGNIGATE_TEST_MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    venv.exists().then_some(venv)
}

async fn engine(dir: &tempfile::TempDir, public_url: &str) -> Arc<Engine> {
    let path = dir.path().join("engine.db");
    let store: Arc<dyn Store> =
        Arc::new(SqlStore::open(&format!("sqlite://{}", path.display())).await.unwrap());
    // Cheap argon2 parameters: the suite is about behaviour; the real parameters are measured elsewhere.
    let params = HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 };
    let engine = Engine::new(EngineParts {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        entropy: Arc::new(OsEntropy),
        hasher: PasswordHasher::new(params, 2, &OsEntropy).unwrap(),
        sealer: Arc::new(Sealer::new(&[7u8; 32]).unwrap()),
        triggers: Arc::new(NoTriggers),
        delivery: Arc::new(OutboxOnly),
        public_url: public_url.to_owned(),
        region: "local".to_owned(),
        session_ttl_secs: 180,
    });
    Arc::new(engine)
}

/// How the suite's app client treats a refresh token once used.
#[derive(Clone, Copy)]
pub enum Refresh {
    /// The same refresh token serves until it expires (REFRESH_TOKEN_AUTH).
    Reused,
    /// Each refresh replaces it (RefreshTokenRotation enabled, no grace period).
    Rotated,
}

/// Creates the suite's pool and client through the AWS SDK, the way a team provisions a pool, and answers
/// the `cognito` provider for them.
async fn provider_on(url: &str, refresh: Refresh) -> Arc<dyn IdentityProvider> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let client = cip::Client::new(&sdk);
    let policy = cip::types::PasswordPolicyType::builder()
        .minimum_length(10)
        .require_uppercase(true)
        .require_lowercase(true)
        .require_numbers(true)
        .require_symbols(false)
        .build();
    let pool = client
        .create_user_pool()
        .pool_name("conformance")
        .username_attributes(cip::types::UsernameAttributeType::Email)
        .auto_verified_attributes(cip::types::VerifiedAttributeType::Email)
        .policies(cip::types::UserPoolPolicyType::builder().password_policy(policy).build())
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().and_then(|p| p.id()).unwrap().to_owned();
    client
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .software_token_mfa_configuration(
            cip::types::SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .mfa_configuration(cip::types::UserPoolMfaType::Optional)
        .send()
        .await
        .unwrap();
    let app = client
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(cip::types::PreventUserExistenceErrorTypes::Enabled)
        .enable_token_revocation(true)
        .set_refresh_token_rotation(match refresh {
            Refresh::Reused => None,
            Refresh::Rotated => Some(
                cip::types::RefreshTokenRotationType::builder()
                    .feature(cip::types::FeatureType::Enabled)
                    .retry_grace_period_seconds(0)
                    .build()
                    .unwrap(),
            ),
        })
        .send()
        .await
        .unwrap();
    let client_id = app.user_pool_client().and_then(|c| c.client_id()).unwrap().to_owned();
    let settings = CognitoSettings {
        region: "us-east-1".to_owned(),
        user_pool_id: pool_id,
        client_id,
        client_secret: None,
        endpoint: Some(url.to_owned()),
    };
    Arc::new(CognitoProvider::with_sdk_config(settings, &sdk))
}
