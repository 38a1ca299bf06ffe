//! The HTTP edge. This is the only crate that knows axum; handlers extract, call the library that owns
//! the rule, and map the result.
//!
//! The service answers liveness (`/healthz`), readiness (`/readyz`), shows the configuration it loaded
//! (`/config`), speaks Cognito's wire protocol for the embedded engine (`POST /`, see
//! `cognigate_engine::wire`), and publishes each engine pool's keys (`/<pool id>/.well-known/jwks.json`) and
//! OpenID discovery document. The auth API (`/auth/{pool}/*`, `/webhooks/billing`, in [`auth`]) is
//! described by the OpenAPI document at `/openapi.json`, built from the same route list as the router.
//! Every request gets a request id (`x-request-id`, propagated when the caller sent one), a tracing span
//! and a latency observation at `/metrics`.

pub mod admin;
pub mod auth;
mod client_address;
mod console;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cognigate_config::{Config, Environment, PoolKind};
use cognigate_engine::Engine;
use cognigate_policy::Authorizer;
use serde_json::{Value, json};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub environment: Environment,
    pub authorizer: Arc<Authorizer>,
    pub readiness: Readiness,
    /// The embedded engine, when any pool uses the `local` provider.
    pub engine: Option<Arc<Engine>>,
    /// The pools the engine serves: (pool, pool id, client id).
    pub local_pools: Vec<(PoolKind, String, String)>,
    /// Who may call the wire protocol's administrative operations.
    pub wire_access: Arc<cognigate_engine::wire::WireAccess>,
    /// Whether `POST /` on the service port speaks the wire protocol (dev). Elsewhere the wire has a
    /// listener of its own ([`wire_router`]), or is off.
    pub wire_on_service_port: bool,
    /// The bearer token `/metrics` requires outside dev; without one, `/metrics` is not served there.
    pub metrics_token: Option<Arc<String>>,
    /// The auth API, when the binary built it.
    pub auth: Option<Arc<auth::AuthApi>>,
    /// Wire requests in flight per client address (see [`WIRE_IN_FLIGHT_PER_ADDRESS`]).
    pub wire_in_flight: Arc<InFlight>,
}

/// The client address a request is attributed to (the TCP peer, or what a trusted proxy forwarded), set
/// by a middleware for every request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Requests in flight per client address: a caller may occupy a few of the engine's password-hashing
/// places at once, not all of them, so one client's flood cannot make everyone else wait.
#[derive(Debug, Default)]
pub struct InFlight(std::sync::Mutex<std::collections::HashMap<String, usize>>);

/// How many wire requests one client address may have in flight.
pub const WIRE_IN_FLIGHT_PER_ADDRESS: usize = 8;

impl InFlight {
    /// A place for `key`, released when the guard drops; `None` when the key has all it may have.
    fn enter(self: &Arc<Self>, key: String, limit: usize) -> Option<InFlightGuard> {
        let mut counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(key.clone()).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(InFlightGuard { owner: self.clone(), key })
    }
}

#[derive(Debug)]
struct InFlightGuard {
    owner: Arc<InFlight>,
    key: String,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut counts = self.owner.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Whether the service should receive traffic. It starts not ready, becomes ready once everything it needs
/// is up, and stops being ready when shutdown begins, so a load balancer drains it first. The checks behind
/// it are remembered for a few seconds: `/readyz` is public, and each check costs a store query and, for a
/// `cognito` pool, a call counted against Cognito's quota.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
    checked: Arc<std::sync::Mutex<Option<(std::time::Instant, bool, Value)>>>,
}

/// How long a readiness check's result is reused.
const READINESS_CHECK_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Readiness {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    fn recent_check(&self) -> Option<(bool, Value)> {
        let checked = self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        checked
            .as_ref()
            .filter(|(at, _, _)| at.elapsed() < READINESS_CHECK_TTL)
            .map(|(_, ready, checks)| (*ready, checks.clone()))
    }

    fn remember(&self, ready: bool, checks: Value) {
        *self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), ready, checks));
    }
}

/// The OpenAPI document of the whole HTTP API: the auth routes with their schemas, and the operational ones.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "cognigate", description = "Authentication and authorization for customers and staff."),
    paths(healthz, readyz, metrics),
    components(schemas(auth::ErrorBody)),
    modifiers(&BearerScheme),
    tags((name = "auth", description = "Sign-up, sign-in, tokens and passwords, per pool"),
         (name = "mfa", description = "TOTP enrolment"),
         (name = "billing", description = "The billing provider's webhook"),
         (name = "admin", description = "Administration of both pools, for staff access tokens"),
         (name = "operations", description = "Health, readiness and metrics")),
)]
struct ApiDoc;

#[derive(Debug)]
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The documented routes and the document describing them, built from one list.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi as _;
    let (router, document) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(admin::routes())
        .split_for_parts();
    (router, document)
}

/// The OpenAPI document served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().1
}

/// The whole router; tests call it directly, the server serves it.
pub fn router(state: AppState) -> Router {
    let (documented, document) = documented();
    let document = Arc::new(document);
    let observed = state.auth.as_ref().map(|api| api.metrics.clone());
    let addresses = client_addresses(&state.config);
    let mut routes = Router::new();
    if state.wire_on_service_port {
        routes = routes.route("/", post(wire));
    }
    routes
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/config", get(config_view))
        .route("/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .route("/{pool_id}/.well-known/openid-configuration", get(openid_configuration))
        .merge(documented)
        .merge(console::routes(&state))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(axum::middleware::from_fn(no_store))
        .layer(axum::middleware::from_fn(move |request, next| observe(observed.clone(), request, next)))
        .layer(axum::middleware::from_fn(move |request, next| attribute(addresses.clone(), request, next)))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
        .with_state(state)
}

/// The wire protocol alone, for a listener of its own (outside dev: `engine.wire.listen`).
pub fn wire_router(state: AppState) -> Router {
    let addresses = client_addresses(&state.config);
    Router::new()
        .route("/", post(wire))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(move |request, next| attribute(addresses.clone(), request, next)))
        .with_state(state)
}

/// Auth bodies are small; the wire route reads its own body with its own limit.
pub(crate) const API_BODY_LIMIT: usize = 64 * 1024;

/// Where client addresses come from: the configured trusted proxies and the header they write.
#[derive(Debug, Clone)]
struct ClientAddresses {
    trusted: Arc<Vec<ipnet::IpNet>>,
    header: cognigate_config::ForwardedHeader,
}

fn client_addresses(config: &Config) -> ClientAddresses {
    // Validation refused an unparseable list before anything started; an empty list trusts nobody.
    let trusted = config.service.trusted_proxy_networks().unwrap_or_default();
    ClientAddresses { trusted: Arc::new(trusted), header: config.service.forwarded_header }
}

/// Attributes the request to its client (see [`client_address`]), for rate limits, lockout and the audit.
async fn attribute(
    addresses: ClientAddresses,
    mut request: Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().copied()
    {
        let name = match addresses.header {
            cognigate_config::ForwardedHeader::XForwardedFor => "x-forwarded-for",
            cognigate_config::ForwardedHeader::Forwarded => "forwarded",
        };
        let values: Vec<&str> =
            request.headers().get_all(name).iter().filter_map(|value| value.to_str().ok()).collect();
        let address =
            client_address::client_address(peer.ip(), addresses.header, &values, &addresses.trusted);
        request.extensions_mut().insert(ClientAddress(address));
    }
    next.run(request).await
}

/// Answers that may carry tokens, codes or account data are never stored by a browser or a proxy.
async fn no_store(request: Request, next: axum::middleware::Next) -> Response {
    let sensitive =
        ["/auth/", "/admin/", "/console"].iter().any(|prefix| request.uri().path().starts_with(prefix));
    let mut response = next.run(request).await;
    if sensitive {
        let headers = response.headers_mut();
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
        headers.entry(header::PRAGMA).or_insert(HeaderValue::from_static("no-cache"));
    }
    response
}

/// A span per request with its id, method and route pattern, and a latency observation.
async fn observe(
    metrics: Option<Arc<cognigate_service::metrics::Metrics>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    use tracing::Instrument as _;
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    span.in_scope(|| tracing::debug!(status, ms = seconds * 1000.0, "answered"));
    if let Some(metrics) = metrics {
        metrics.http_request(&method, &route, status, seconds);
    }
    response
}

/// Prometheus metrics in the text exposition format. Outside dev they need the configured bearer token
/// (`secrets.metrics_token`), and are not served without one.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String),
    (status = 401, description = "Outside dev: the metrics token is missing or wrong")))]
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.environment != Environment::Dev {
        let Some(expected) = &state.metrics_token else {
            return not_found().await;
        };
        let given = auth::bearer(&headers).unwrap_or_default();
        let matches = given.len() == expected.len()
            && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !matches {
            return unauthorized();
        }
    }
    match &state.auth {
        Some(api) => (
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            api.metrics.render(),
        )
            .into_response(),
        None => not_found().await,
    }
}

/// Serves the router on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

/// Serves `router` (the whole one, or [`wire_router`]) with the peer's address known to handlers.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: started, not shutting down, and the store and every pool's identity provider answer.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready, with the failing checks")))]
async fn readyz(State(state): State<AppState>) -> Response {
    if !state.readiness.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "not_ready" }))).into_response();
    }
    if let Some((ready, checks)) = state.readiness.recent_check() {
        return readiness_answer(ready, checks);
    }
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    if let Some(api) = &state.auth {
        let store = api.customer.mirror().get_mirror(PoolKind::Customer, "readyz-probe").await;
        ready &= store.is_ok();
        checks.insert("store".to_owned(), json!(if store.is_ok() { "ok" } else { "unreachable" }));
        for pool in PoolKind::ALL {
            let check = api.service(pool).provider().check().await;
            if let Err(error) = &check {
                tracing::warn!(pool = %pool, error = %error, "identity provider not ready");
            }
            ready &= check.is_ok();
            checks
                .insert(format!("{pool}_provider"), json!(if check.is_ok() { "ok" } else { "unreachable" }));
        }
    }
    let checks = Value::Object(checks);
    state.readiness.remember(ready, checks.clone());
    readiness_answer(ready, checks)
}

fn readiness_answer(ready: bool, checks: Value) -> Response {
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "status": if ready { "ready" } else { "not_ready" }, "checks": checks })))
        .into_response()
}

/// The loaded configuration: pools, policies in force, routes. Secrets are only ever references in the
/// configuration, and store URLs are left out (they name internal hosts). In dev anyone on the machine may
/// read it; elsewhere it is an operator's page (the whole access model, lockout and password policy), for
/// staff who may see the system's status.
async fn config_view(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.environment != Environment::Dev {
        let Some(api) = &state.auth else { return not_found().await };
        let Some(token) = auth::bearer(&headers) else { return unauthorized() };
        match api.admin.authenticate(token).await {
            Ok(actor) if api.admin.may_ever(&actor, cognigate_domain::authz::AdminAction::ReadStatus) => {}
            Ok(_) => {
                return (
                    StatusCode::FORBIDDEN,
                    Json(json!({ "code": "FORBIDDEN", "message": "not allowed" })),
                )
                    .into_response();
            }
            Err(_) => return unauthorized(),
        }
    }
    Json(config_document(&state)).into_response()
}

fn config_document(state: &AppState) -> Value {
    let config = &state.config;
    let model = state.authorizer.model();
    let pools: serde_json::Map<String, Value> = PoolKind::ALL
        .into_iter()
        .map(|pool| {
            let settings = config.pools.get(pool);
            let roles: serde_json::Map<String, Value> = model
                .pool(pool)
                .roles
                .values()
                .map(|role| (role.name.clone(), json!(role.effective)))
                .collect();
            let view = json!({
                "display_name": settings.display_name,
                "provider": settings.provider,
                "sign_up": settings.sign_up,
                "password": settings.password,
                "mfa": settings.mfa,
                "tokens": settings.tokens,
                "lockout": settings.lockout,
                "roles": roles,
                "tiers": model.pool(pool).tiers.values().map(|t| (t.name.clone(), json!(t.permissions))).collect::<serde_json::Map<_, _>>(),
            });
            (pool.as_str().to_owned(), view)
        })
        .collect();
    json!({
        "service": config.service_name(),
        "environment": state.environment.as_str(),
        "public_url": config.service.public_url,
        "pools": pools,
        "routes": config.routes,
        "local_pools": state.local_pools.iter().map(|(kind, pool_id, client_id)| json!({
            "pool": kind, "pool_id": pool_id, "client_id": client_id,
            "issuer": format!("{}/{pool_id}", config.service.public_url),
        })).collect::<Vec<_>>(),
        "policies": state.authorizer.policy_ids(),
    })
}

fn unauthorized() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "code": "AUTH_FAILED", "message": "a bearer token is required" })),
    )
        .into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Cognito's JSON protocol: the operation is in `X-Amz-Target`, the input in the body; the engine's wire
/// module does the rest. Whether the caller is on loopback comes from the socket, never from a header; the
/// `Host` it names, and the whole request for signature checks, go along. A client address gets a few
/// requests in flight at once, not the whole password-hashing pool.
async fn wire(State(state): State<AppState>, request: Request) -> Response {
    let Some(engine) = state.engine.clone() else {
        return wire_answer(cognigate_engine::wire::WireResponse {
            status: 400,
            body: br#"{"__type":"ResourceNotFoundException","message":"The embedded engine is not running"}"#
                .to_vec(),
            error_type: Some("ResourceNotFoundException"),
        });
    };
    let peer =
        request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
    let client = request.extensions().get::<ClientAddress>().map(|ClientAddress(address)| *address).or(peer);
    let key = cognigate_service::limits::address_key(client.map(|address| address.to_string()).as_deref());
    let Some(_in_flight) = state.wire_in_flight.enter(key, WIRE_IN_FLIGHT_PER_ADDRESS) else {
        return wire_answer(cognigate_engine::wire::WireResponse {
            status: 400,
            body: br#"{"__type":"TooManyRequestsException","message":"Too many requests in flight from this address"}"#
                .to_vec(),
            error_type: Some("TooManyRequestsException"),
        });
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, WIRE_BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => {
            return wire_answer(cognigate_engine::wire::WireResponse {
                status: 400,
                body: br#"{"__type":"SerializationException","message":"The request body is too large"}"#
                    .to_vec(),
                error_type: Some("SerializationException"),
            });
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    let host = parts.headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let caller = cognigate_engine::wire::Caller {
        loopback: peer.is_some_and(|peer| peer.is_loopback()),
        host_is_loopback: cognigate_engine::wire::is_loopback_host(host),
        request: cognigate_engine::wire::SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or_default(),
            headers: &headers,
            body: &body,
        },
    };
    let target = parts.headers.get("x-amz-target").and_then(|value| value.to_str().ok());
    let answer = cognigate_engine::wire::dispatch(&engine, &state.wire_access, &caller, target, &body).await;
    wire_answer(answer)
}

/// Cognito's request bodies are small; a megabyte is far beyond any legitimate one.
const WIRE_BODY_LIMIT: usize = 1 << 20;

fn wire_answer(answer: cognigate_engine::wire::WireResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(cognigate_engine::wire::CONTENT_TYPE));
    if let Some(error_type) = answer.error_type {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    }
    response
}

/// Every engine pool publishes its keys: the configured ones and any created over the wire.
async fn jwks(State(state): State<AppState>, Path(pool_id): Path<String>) -> Response {
    let Some(engine) = state.engine.clone() else {
        return not_found().await;
    };
    match engine.jwks(&pool_id).await {
        Ok(set) => Json(set).into_response(),
        Err(cognigate_engine::EngineError::ResourceNotFound(_)) => not_found().await,
        Err(error) => internal(&error),
    }
}

async fn openid_configuration(State(state): State<AppState>, Path(pool_id): Path<String>) -> Response {
    let Some(engine) = state.engine.clone() else {
        return not_found().await;
    };
    match engine.openid_configuration(&pool_id).await {
        Ok(document) => Json(document).into_response(),
        Err(cognigate_engine::EngineError::ResourceNotFound(_)) => not_found().await,
        Err(error) => internal(&error),
    }
}

/// Logs the cause and answers a generic 500: internal details never reach clients.
fn internal(error: &cognigate_engine::EngineError) -> Response {
    tracing::error!(%error, "request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "code": "INTERNAL", "message": "internal error" })))
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "code": "NOT_FOUND", "message": "no such route" }))).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn state() -> AppState {
        let source = include_str!("../../../cognigate.toml");
        let config = cognigate_config::load_from_str(source, "cognigate.toml", Environment::Dev, []).unwrap();
        let authorizer = Authorizer::from_config(&config).unwrap();
        AppState {
            config: Arc::new(config),
            environment: Environment::Dev,
            authorizer: Arc::new(authorizer),
            readiness: Readiness::default(),
            engine: None,
            local_pools: Vec::new(),
            wire_access: Default::default(),
            wire_on_service_port: true,
            metrics_token: None,
            auth: None,
            wire_in_flight: Default::default(),
        }
    }

    async fn get(router: Router, path: &str) -> (StatusCode, Value) {
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn readiness_follows_the_flag() {
        let state = state();
        let (status, _) = get(router(state.clone()), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        state.readiness.set_ready(true);
        let (status, body) = get(router(state.clone()), "/readyz").await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ready")));
        let (status, _) = get(router(state), "/healthz").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn config_view_shows_pools_and_leaves_out_the_store() {
        let (status, body) = get(router(state()), "/config").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["pools"]["staff"]["mfa"]["mode"], "required");
        assert_eq!(body["pools"]["customer"]["tiers"]["premium"][0], "premium_analytics");
        assert!(body.get("store").is_none());
        assert!(!body.to_string().contains("sqlite://"));
    }

    #[tokio::test]
    async fn unknown_routes_answer_404_in_json() {
        let (status, body) = get(router(state()), "/nope").await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
    }
}
