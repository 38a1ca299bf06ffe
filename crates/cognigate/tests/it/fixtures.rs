//! Shared fixtures for the auth API tests: a whole cognigate started in-process on a free loopback port
//! (the binary's own wiring, a real SQLite file, a test clock), a JSON client, the outbox, TOTP codes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use cognigate::runtime::Runtime;
use cognigate::services::ServiceOptions;
use cognigate_config::{Environment, PoolKind};
use cognigate_domain::onboarding::OnboardingState;
use cognigate_http::Readiness;
use cognigate_http::auth::AuthApi;
use cognigate_service::ports::{MirrorQuery, MirrorStore, MirrorUser, PortError, PortResult};
use serde_json::{Value, json};

use crate::repo_root;

/// The webhook secret the stacks are configured with.
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";

/// A mirror that fails its writes on demand (the store failure of compensation tests).
#[derive(Debug)]
pub struct FlakyMirror {
    inner: Arc<dyn MirrorStore>,
    pub fail_writes: AtomicBool,
}

#[async_trait]
impl MirrorStore for FlakyMirror {
    async fn get_mirror(&self, pool: PoolKind, sub: &str) -> PortResult<Option<MirrorUser>> {
        self.inner.get_mirror(pool, sub).await
    }
    async fn find_mirror_by_email(&self, pool: PoolKind, email: &str) -> PortResult<Option<MirrorUser>> {
        self.inner.find_mirror_by_email(pool, email).await
    }
    async fn put_mirror(&self, user: &MirrorUser) -> PortResult<()> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(PortError::Backend("injected failure".to_owned()));
        }
        self.inner.put_mirror(user).await
    }
    async fn delete_mirror(&self, pool: PoolKind, sub: &str) -> PortResult<bool> {
        self.inner.delete_mirror(pool, sub).await
    }
    async fn list_mirror(&self, query: &MirrorQuery) -> PortResult<Vec<MirrorUser>> {
        self.inner.list_mirror(query).await
    }
    async fn count_mirror(&self, pool: PoolKind) -> PortResult<Vec<(OnboardingState, u64)>> {
        self.inner.count_mirror(pool).await
    }
}

/// Real time plus an offset a test moves forward: the service and the engine share it, so locks and tokens
/// expire on both layers together, while TOTP codes (computed from real time) stay in step.
#[derive(Debug, Default)]
pub struct TestClock {
    offset_secs: std::sync::atomic::AtomicI64,
}

impl TestClock {
    pub fn advance(&self, seconds: u64) {
        self.offset_secs.fetch_add(i64::try_from(seconds).unwrap(), Ordering::SeqCst);
    }

    pub fn reset(&self) {
        self.offset_secs.store(0, Ordering::SeqCst);
    }

    fn offset_ms(&self) -> i64 {
        self.offset_secs.load(Ordering::SeqCst) * 1000
    }
}

impl cognigate_token::Clock for TestClock {
    fn now(&self) -> u64 {
        u64::try_from(cognigate_engine::clock::Clock::now_ms(self) / 1000).unwrap()
    }
}

impl cognigate_engine::clock::Clock for TestClock {
    fn now_ms(&self) -> cognigate_engine::clock::Millis {
        let real = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
        i64::try_from(real).unwrap() + self.offset_ms()
    }
}

/// A running cognigate, stopped when dropped.
pub struct Stack {
    pub url: String,
    pub api: Arc<AuthApi>,
    pub runtime: Runtime,
    pub clock: Arc<TestClock>,
    pub flaky: Arc<FlakyMirror>,
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

impl Stack {
    /// The repository's `cognigate.toml` (dev) with its state in a temporary directory, and `vars` as
    /// `COGNIGATE_*` overrides.
    pub async fn start(vars: &[(&str, &str)]) -> Self {
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self::launch(tempfile::tempdir().unwrap(), vars, "127.0.0.1:0").await
    }

    /// Stops this process's cognigate and starts a new one on the same state and address: what a
    /// restart of the service leaves (nothing held in memory survives; the store does).
    pub async fn restart(self) -> Self {
        let Self { url, api, runtime, dir, vars, stop, served, .. } = self;
        drop(stop);
        served.await.unwrap();
        drop((api, runtime));
        let address = url.trim_start_matches("http://").to_owned();
        Self::launch(dir, vars, &address).await
    }

    /// The directory the state lives in.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    async fn launch(dir: tempfile::TempDir, vars: Vec<(String, String)>, address: &str) -> Self {
        let secret_file = dir.path().join("webhook.secret");
        std::fs::write(&secret_file, WEBHOOK_SECRET).unwrap();
        let source = std::fs::read_to_string(repo_root().join("cognigate.toml")).unwrap().replace(
            r#"webhook = { env = "COGNIGATE_SECRET_WEBHOOK" }"#,
            &format!("webhook = {{ file = {:?} }}", secret_file.display().to_string()),
        );
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let data_dir = dir.path().display().to_string();
        let store_url = format!("sqlite://{data_dir}/cognigate.db");
        // Tokens name the issuer by the public URL: this server's own, as in a real deployment.
        let mut all: Vec<(&str, &str)> = vec![
            ("COGNIGATE_SERVICE__DATA_DIR", &data_dir),
            ("COGNIGATE_STORE__URL", &store_url),
            ("COGNIGATE_SERVICE__PUBLIC_URL", &url),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let config =
            cognigate_config::load_from_str(&source, "cognigate.toml", Environment::Dev, all).unwrap();
        let authorizer = Arc::new(cognigate_policy::Authorizer::from_config(&config).unwrap());
        let clock = Arc::new(TestClock::default());
        let runtime =
            cognigate::runtime::start_with_clock(&config, Environment::Dev, clock.clone()).await.unwrap();
        let flaky =
            Arc::new(FlakyMirror { inner: runtime.store.clone(), fail_writes: AtomicBool::new(false) });
        let options = ServiceOptions { clock: clock.clone(), mirror: Some(flaky.clone()) };
        let api = Arc::new(
            cognigate::services::build(&config, Environment::Dev, authorizer.clone(), &runtime, options)
                .await
                .unwrap(),
        );
        let readiness = Readiness::default();
        readiness.set_ready(true);
        let state =
            cognigate::app::state(config, Environment::Dev, authorizer, &runtime, api.clone(), readiness)
                .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            let _ = cognigate_http::serve(listener, state, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Self { url, api, runtime, clock, flaky, dir, vars, stop, served }
    }

    /// The (pool id, client id) of a pool: the public client SDK tools use over the wire in dev.
    pub fn pool_ids(&self, kind: PoolKind) -> (String, String) {
        let pool = self.runtime.pools.iter().find(|p| p.kind == kind).unwrap();
        (pool.pool_id.clone(), pool.client_id.clone().unwrap())
    }

    /// The newest six-digit code sent to `email`.
    pub async fn code_for(&self, email: &str) -> String {
        let messages = self.runtime.engine.outbox(Some(email), 1).await.unwrap();
        let body = &messages.first().unwrap_or_else(|| panic!("nothing was sent to {email}")).body;
        last_code(body).unwrap_or_else(|| panic!("no code in {body:?}"))
    }

    /// The temporary password of the newest invitation to `email`.
    pub async fn temporary_password_for(&self, email: &str) -> String {
        let messages = self.runtime.engine.outbox(Some(email), 1).await.unwrap();
        let body = &messages[0].body;
        let line = body.lines().find(|l| l.to_lowercase().contains("password")).unwrap();
        line.rsplit(|c: char| c.is_whitespace()).find(|w| !w.is_empty()).unwrap().to_owned()
    }
}

/// The code of a message: its last 6-digit number (a pool's name may hold digits too).
fn last_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).rfind(|w| w.len() == 6).map(str::to_owned)
}

/// The TOTP code of `secret` for the 30-second step `offset` steps from now. The engine accepts ±1 step and
/// never the same step twice, so a test has three codes (−1, 0, +1) without waiting.
pub fn totp(secret_base32: &str, offset: i64) -> String {
    let secret =
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret_base32.trim_end_matches('='))
            .unwrap();
    let at = u64::try_from(i64::try_from(now_secs()).unwrap() + offset * 30).unwrap();
    cognigate_engine::totp(&secret, 6).unwrap().generate(at).to_string()
}

/// A JSON call against `base`: the status and the body (`Null` for an empty one).
pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value =
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(json!(text)) };
    (status, value, headers)
}

/// A client for one pool's routes at one base URL.
#[derive(Clone)]
pub struct Pool {
    pub http: reqwest::Client,
    pub base: String,
}

impl Pool {
    pub fn new(url: &str, pool: &str) -> Self {
        Self { http: reqwest::Client::new(), base: format!("{url}/auth/{pool}") }
    }

    pub async fn post(&self, route: &str, body: Value) -> (u16, Value) {
        let (status, body, _) =
            call(&self.http, reqwest::Method::POST, format!("{}/{route}", self.base), None, Some(body)).await;
        (status, body)
    }

    pub async fn post_headers(&self, route: &str, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
        call(&self.http, reqwest::Method::POST, format!("{}/{route}", self.base), None, Some(body)).await
    }

    pub async fn post_as(&self, route: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let (status, body, _) =
            call(&self.http, reqwest::Method::POST, format!("{}/{route}", self.base), Some(token), body)
                .await;
        (status, body)
    }

    pub async fn me(&self, token: &str) -> (u16, Value) {
        let (status, body, _) =
            call(&self.http, reqwest::Method::GET, format!("{}/me", self.base), Some(token), None).await;
        (status, body)
    }

    pub async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        self.post("login", json!({ "email": email, "password": password })).await
    }
}

/// `value[key]` as a string.
pub fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_else(|| panic!("no {key} in {value}")).to_owned()
}
