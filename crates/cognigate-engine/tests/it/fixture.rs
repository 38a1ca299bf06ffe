//! One engine per test: a temporary SQLite file, a manual clock, cheap argon2 parameters (the real ones are
//! tested in the password module and measured by the benchmark).

use std::collections::BTreeMap;
use std::sync::Arc;

use cognigate_engine::api::{Attribute, AuthResponse, SignUpRequest};
use cognigate_engine::clock::{ManualClock, OsEntropy};
use cognigate_engine::model::MfaConfiguration;
use cognigate_engine::password::{HashParams, PasswordHasher};
use cognigate_engine::seal::Sealer;
use cognigate_engine::store::Store;
use cognigate_engine::triggers::NoTriggers;
use cognigate_engine::{Engine, EngineParts, NewClient, NewPool};
use cognigate_store::SqlStore;

pub const PASSWORD: &str = "Correct-horse-1";
pub const START_MS: i64 = 1_800_000_000_000;

pub struct Fixture {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub pool_id: String,
    pub client_id: String,
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn engine_with(
    store_dir: tempfile::TempDir,
) -> (Engine, Arc<ManualClock>, Arc<dyn Store>, std::path::PathBuf, tempfile::TempDir) {
    let db_path = store_dir.path().join("engine.db");
    let store: Arc<dyn Store> =
        Arc::new(SqlStore::open(&format!("sqlite://{}", db_path.display())).await.unwrap());
    let clock = Arc::new(ManualClock::starting_at(START_MS));
    let engine = engine_over(store.clone(), clock.clone());
    (engine, clock, store, db_path, store_dir)
}

/// An engine over `store`: what a process starting on an existing database gets.
pub fn engine_over(store: Arc<dyn Store>, clock: Arc<ManualClock>) -> Engine {
    let params = HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 };
    Engine::new(EngineParts {
        store: store.clone(),
        clock: clock.clone(),
        entropy: Arc::new(OsEntropy),
        hasher: PasswordHasher::new(params, 2, &OsEntropy).unwrap(),
        sealer: Arc::new(Sealer::new(&[42u8; 32]).unwrap()),
        triggers: Arc::new(NoTriggers),
        delivery: Arc::new(cognigate_engine::triggers::OutboxOnly),
        public_url: "http://127.0.0.1:9".to_owned(),
        region: "local".to_owned(),
        session_ttl_secs: 180,
    })
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with(|_| {}, |_| {}).await
    }

    pub async fn with(pool: impl FnOnce(&mut NewPool), client: impl FnOnce(&mut NewClient)) -> Self {
        let (engine, clock, store, db_path, dir) = engine_with(tempfile::tempdir().unwrap()).await;
        let mut new_pool = NewPool::with_defaults("customers");
        new_pool.mfa = MfaConfiguration::Optional;
        new_pool.software_token_mfa = true;
        pool(&mut new_pool);
        let pool = engine.create_user_pool(new_pool).await.unwrap();
        let mut new_client = NewClient::with_defaults("web");
        new_client.explicit_auth_flows.push("ALLOW_ADMIN_USER_PASSWORD_AUTH".to_owned());
        client(&mut new_client);
        let (client, _) = engine.create_user_pool_client(&pool.id, new_client).await.unwrap();
        Self { engine, clock, store, pool_id: pool.id, client_id: client.id, db_path, _dir: dir }
    }

    pub async fn sign_up(&self, email: &str) -> String {
        let response = self
            .engine
            .sign_up(SignUpRequest {
                client_id: self.client_id.clone(),
                secret_hash: None,
                username: email.to_owned(),
                password: PASSWORD.to_owned(),
                user_attributes: vec![Attribute { name: "given_name".into(), value: "Ann".into() }],
            })
            .await
            .unwrap();
        assert!(!response.user_confirmed);
        response.user_sub
    }

    /// The newest code mailed to `email`.
    pub async fn code_for(&self, email: &str) -> String {
        let messages = self.engine.outbox(Some(email), 1).await.unwrap();
        let body = &messages.first().expect("no message").body;
        body.split_whitespace()
            .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
            .expect("no code")
            .to_owned()
    }

    pub async fn confirmed_user(&self, email: &str) -> String {
        let sub = self.sign_up(email).await;
        let code = self.code_for(email).await;
        self.engine.confirm_sign_up(&self.client_id, None, email, &code).await.unwrap();
        sub
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
    ) -> Result<AuthResponse, cognigate_engine::EngineError> {
        let parameters = BTreeMap::from([
            ("USERNAME".to_owned(), email.to_owned()),
            ("PASSWORD".to_owned(), password.to_owned()),
        ]);
        self.engine.initiate_auth(&self.client_id, "USER_PASSWORD_AUTH", &parameters).await
    }

    pub async fn tokens(&self, email: &str) -> cognigate_engine::api::AuthenticationResult {
        self.login(email, PASSWORD).await.unwrap().authentication_result.expect("tokens")
    }

    pub async fn refresh(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<AuthResponse, cognigate_engine::EngineError> {
        let parameters = BTreeMap::from([("REFRESH_TOKEN".to_owned(), token.to_owned())]);
        self.engine.initiate_auth(client_id, "REFRESH_TOKEN_AUTH", &parameters).await
    }
}

/// The Cognito exception name of an error, for assertions.
pub fn kind<T: std::fmt::Debug>(result: Result<T, cognigate_engine::EngineError>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.cognito_type(),
    }
}

/// Decodes a JWT's payload (tests only; verification is tested separately).
pub fn claims(token: &str) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

/// A six-digit code that is not `code`.
pub fn other_code(code: &str) -> String {
    if code == "111111" { "222222".to_owned() } else { "111111".to_owned() }
}
