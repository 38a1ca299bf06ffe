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
    pub wire_access: cognigate_engine::wire::WireAccess,
    /// The auth API, when the binary built it.
    pub auth: Option<Arc<auth::AuthApi>>,
}

/// Whether the service should receive traffic. It starts not ready, becomes ready once everything it needs
/// is up, and stops being ready when shutdown begins, so a load balancer drains it first.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
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
    Router::new()
        .route("/", post(wire))
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
        .layer(axum::middleware::from_fn(move |request, next| observe(observed.clone(), request, next)))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
        .with_state(state)
}

/// Auth bodies are small; the wire route reads its own body with its own limit.
const API_BODY_LIMIT: usize = 64 * 1024;

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

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String)))]
async fn metrics(State(state): State<AppState>) -> Response {
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
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
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
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "status": if ready { "ready" } else { "not_ready" }, "checks": checks })))
        .into_response()
}

/// The loaded configuration as clients may see it: pools, policies in force, routes. Secrets are only ever
/// references in the configuration, and store URLs are left out (they name internal hosts).
async fn config_view(State(state): State<AppState>) -> Json<Value> {
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
    Json(json!({
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
    }))
}

/// Cognito's JSON protocol: the operation is in `X-Amz-Target`, the input in the body; the engine's wire
/// module does the rest. Whether the caller is on loopback comes from the socket, never from a header.
async fn wire(State(state): State<AppState>, request: Request) -> Response {
    let Some(engine) = state.engine.clone() else {
        return wire_answer(cognigate_engine::wire::WireResponse {
            status: 400,
            body: br#"{"__type":"ResourceNotFoundException","message":"The embedded engine is not running"}"#
                .to_vec(),
            error_type: Some("ResourceNotFoundException"),
        });
    };
    let loopback = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|ConnectInfo(address)| address.ip().is_loopback());
    let headers: HeaderMap = request.headers().clone();
    let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let caller = cognigate_engine::wire::Caller {
        loopback,
        access_key: header_text("authorization")
            .and_then(cognigate_engine::wire::Caller::access_key_from_authorization),
    };
    let body = match axum::body::to_bytes(request.into_body(), WIRE_BODY_LIMIT).await {
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
    let answer = cognigate_engine::wire::dispatch(
        &engine,
        &state.wire_access,
        &caller,
        header_text("x-amz-target"),
        &body,
    )
    .await;
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
            auth: None,
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
