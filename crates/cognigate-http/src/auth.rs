//! `/auth/{pool}/*` and `/webhooks/billing`: extract, call `cognigate-service`, map the answer. Both pools
//! share these handlers; the `{pool}` segment picks the pool's service, so the two route families cannot
//! drift apart. Each handler is registered together with its OpenAPI description (`utoipa-axum`), so the
//! document and the router are built from the same list.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cognigate_config::PoolKind;
use cognigate_service::auth::{
    AcceptedResponse, AuthService, ChallengeRequest, ChangePasswordRequest, ConfirmRequest, ConfirmResponse,
    EmailRequest, LoginOutcome, LoginRequest, MfaStatusResponse, RefreshRequest, RegisterRequest,
    RegisterResponse, RequestMeta, ResetPasswordRequest, TokenResponse, TotpDisableRequest, TotpSetupRequest,
    TotpSetupResponse, TotpVerifyOutcome, TotpVerifyRequest, UserView,
};
use cognigate_service::metrics::Metrics;
use cognigate_service::webhook::{BillingWebhook, WebhookOutcome};
use cognigate_service::{ServiceError, ServiceResult};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The auth API's parts, built by the binary.
#[derive(Debug, Clone)]
pub struct AuthApi {
    pub customer: Arc<AuthService>,
    pub staff: Arc<AuthService>,
    /// The admin API and the console's operations, over both pools.
    pub admin: Arc<cognigate_service::admin::AdminService>,
    pub webhook: BillingWebhook,
    pub metrics: Arc<Metrics>,
}

impl AuthApi {
    pub fn service(&self, pool: PoolKind) -> &Arc<AuthService> {
        match pool {
            PoolKind::Customer => &self.customer,
            PoolKind::Staff => &self.staff,
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// A stable machine code: `AUTH_FAILED`, `MFA_REQUIRED`, `CODE_MISMATCH`, `LOCKED`, `RATE_LIMITED`, ...
    pub code: String,
    /// For people; never a stack trace, a password or a token.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A service error as an HTTP answer: the code's status, the body, `Retry-After` when there is a wait, and
/// `WWW-Authenticate` on 401s.
#[derive(Debug)]
pub struct ApiError {
    error: ServiceError,
    request_id: Option<String>,
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self { error, request_id: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: self.error.code.as_str().to_owned(),
            message: self.error.message,
            request_id: self.request_id,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.error.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// JSON bodies whose rejections are `VALIDATION` answers in the API's own shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => {
                let message = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => {
                        "the body must be application/json".to_owned()
                    }
                    JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON".to_owned(),
                    JsonRejection::JsonDataError(error) => error.body_text(),
                    JsonRejection::BytesRejection(_) => {
                        format!(
                            "the body could not be read; it may be at most {} KiB",
                            crate::API_BODY_LIMIT / 1024
                        )
                    }
                    _ => "the body could not be read".to_owned(),
                };
                Err(ServiceError::validation(message).into())
            }
        }
    }
}

/// Who is calling: the client's address as [`crate::client_address`] found it (the socket's peer, or the
/// address a trusted proxy forwarded; never a header from anyone else), the user agent and the request id
/// the middleware set.
#[derive(Debug, Clone)]
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(256).collect::<String>())
        };
        let address = parts
            .extensions
            .get::<crate::ClientAddress>()
            .map(|crate::ClientAddress(address)| *address)
            .or_else(|| {
                parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())
            });
        Ok(Self(RequestMeta {
            address: address.map(|address| address.to_string()),
            user_agent: header("user-agent"),
            request_id: header("x-request-id"),
        }))
    }
}

/// The bearer token of `Authorization`, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn require_bearer(headers: &HeaderMap) -> ServiceResult<&str> {
    bearer(headers).ok_or_else(ServiceError::invalid_token)
}

/// The `{pool}` path segment.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoolPath {
    Customer,
    Staff,
}

impl From<PoolPath> for PoolKind {
    fn from(pool: PoolPath) -> Self {
        match pool {
            PoolPath::Customer => Self::Customer,
            PoolPath::Staff => Self::Staff,
        }
    }
}

fn api(state: &AppState) -> ServiceResult<&AuthApi> {
    state.auth.as_deref().ok_or_else(|| {
        ServiceError::new(
            cognigate_domain::errors::ErrorCode::ProviderUnavailable,
            "The auth API is not running in this process.",
        )
    })
}

fn service(state: &AppState, pool: PoolPath) -> ServiceResult<&Arc<AuthService>> {
    Ok(api(state)?.service(pool.into()))
}

pub(crate) fn with_id(meta: &Meta, error: ServiceError) -> ApiError {
    ApiError { error, request_id: meta.0.request_id.clone() }
}

type ApiResult<T> = Result<T, ApiError>;

/// Registers a customer (self sign-up pools only; staff are invited). The code goes to the email. The
/// answer is the same `202` whether the address was free or already had an account (whose owner is told
/// by email instead).
#[utoipa::path(post, path = "/auth/{pool}/register", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = RegisterRequest, tag = "auth",
    responses((status = 202, body = RegisterResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.register(&meta.0, body).await;
    answer.map(|r| (StatusCode::ACCEPTED, Json(r))).map_err(|e| with_id(&meta, e))
}

/// Confirms the email with the code that was sent to it.
#[utoipa::path(post, path = "/auth/{pool}/confirm", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = ConfirmRequest, tag = "auth",
    responses((status = 200, body = ConfirmResponse), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> ApiResult<Json<ConfirmResponse>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.confirm(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Sends a new confirmation code. The answer is the same whether or not the account exists.
#[utoipa::path(post, path = "/auth/{pool}/resend-code", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = EmailRequest, tag = "auth",
    responses((status = 200, body = AcceptedResponse), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn resend_code(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<EmailRequest>,
) -> ApiResult<Json<AcceptedResponse>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.resend_code(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Signs in with email and password: tokens, or a challenge (`challenge`, `session`, `mfaRequired`).
#[utoipa::path(post, path = "/auth/{pool}/login", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = LoginRequest, tag = "auth",
    responses((status = 200, body = LoginOutcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginOutcome>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.login(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Answers a challenge: an MFA code, or a new password.
#[utoipa::path(post, path = "/auth/{pool}/challenge", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = ChallengeRequest, tag = "auth",
    responses((status = 200, body = LoginOutcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
async fn challenge(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<ChallengeRequest>,
) -> ApiResult<Json<LoginOutcome>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.respond(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Starts TOTP enrolment: the secret, the `otpauth://` URI and its QR code (SVG and PNG). With the session
/// of an `MFA_SETUP` challenge; or signed in (bearer token) with the `password`, plus a current `code` when
/// an authenticator is enrolled already. The new secret replaces nothing until it is verified.
#[utoipa::path(post, path = "/auth/{pool}/totp/setup", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = TotpSetupRequest, tag = "mfa",
    responses((status = 200, body = TotpSetupResponse), (status = 401, body = ErrorBody)),
    security((), ("bearer" = [])))]
async fn totp_setup(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<TotpSetupResponse>> {
    // An empty body is allowed: the bearer token says who enrols.
    let request: TotpSetupRequest = if body.is_empty() {
        TotpSetupRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| with_id(&meta, ServiceError::validation(e.to_string())))?
    };
    let service = service(&state, pool).map_err(|e| with_id(&meta, e))?;
    service.totp_setup(&meta.0, bearer(&headers), request).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Confirms TOTP enrolment with a first code from the new authenticator. Signed in: turns MFA on. Inside
/// `MFA_SETUP`: finishes the sign-in and answers tokens. Either way the answer carries the account's new
/// one-time recovery codes, shown this once.
#[utoipa::path(post, path = "/auth/{pool}/totp/verify", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = TotpVerifyRequest, tag = "mfa",
    responses((status = 200, body = TotpVerifyOutcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security((), ("bearer" = [])))]
async fn totp_verify(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TotpVerifyRequest>,
) -> ApiResult<Json<TotpVerifyOutcome>> {
    let service = service(&state, pool).map_err(|e| with_id(&meta, e))?;
    service.totp_verify(&meta.0, bearer(&headers), body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Turns TOTP off with the password and a current code; refused while the pool or the account requires
/// MFA.
#[utoipa::path(post, path = "/auth/{pool}/totp/disable", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = TotpDisableRequest, tag = "mfa",
    responses((status = 200, body = MfaStatusResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn totp_disable(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TotpDisableRequest>,
) -> ApiResult<Json<MfaStatusResponse>> {
    let service = service(&state, pool).map_err(|e| with_id(&meta, e))?;
    let token = require_bearer(&headers).map_err(|e| with_id(&meta, e))?;
    service.totp_disable(&meta.0, token, body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// New access and ID tokens from a refresh token.
#[utoipa::path(post, path = "/auth/{pool}/refresh", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = RefreshRequest, tag = "auth",
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.refresh(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Sends a password-reset code. The answer is the same whether or not the account exists.
#[utoipa::path(post, path = "/auth/{pool}/forgot-password", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = EmailRequest, tag = "auth",
    responses((status = 200, body = AcceptedResponse), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn forgot_password(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<EmailRequest>,
) -> ApiResult<Json<AcceptedResponse>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.forgot_password(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Sets a new password with the reset code; ends every session and lifts a lockout.
#[utoipa::path(post, path = "/auth/{pool}/reset-password", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = ResetPasswordRequest, tag = "auth",
    responses((status = 200, body = AcceptedResponse), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> ApiResult<Json<AcceptedResponse>> {
    let answer = service(&state, pool).map_err(|e| with_id(&meta, e))?.reset_password(&meta.0, body).await;
    answer.map(Json).map_err(|e| with_id(&meta, e))
}

/// Changes the password of the signed-in user and ends every session.
#[utoipa::path(post, path = "/auth/{pool}/change-password", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), request_body = ChangePasswordRequest, tag = "auth",
    responses((status = 200, body = AcceptedResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn change_password(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<AcceptedResponse>> {
    let service = service(&state, pool).map_err(|e| with_id(&meta, e))?;
    let token = require_bearer(&headers).map_err(|e| with_id(&meta, e))?;
    service.change_password(&meta.0, token, body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Signs out everywhere: every refresh token is revoked and issued access tokens stop being accepted.
#[utoipa::path(post, path = "/auth/{pool}/sign-out", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), tag = "auth",
    responses((status = 200, body = AcceptedResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn sign_out(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<AcceptedResponse>> {
    let service = service(&state, pool).map_err(|e| with_id(&meta, e))?;
    let token = require_bearer(&headers).map_err(|e| with_id(&meta, e))?;
    service.sign_out(&meta.0, token).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// The signed-in user: role, tiers, team, onboarding state, MFA, and the permissions in force.
#[utoipa::path(get, path = "/auth/{pool}/me", params(("pool" = PoolPath, Path, description = "`customer` or `staff`")), tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn me(
    State(state): State<AppState>,
    Path(pool): Path<PoolPath>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<UserView>> {
    let service = service(&state, pool).map_err(|e| with_id(&meta, e))?;
    let token = require_bearer(&headers).map_err(|e| with_id(&meta, e))?;
    service.me(token).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// The billing provider's webhook (Stripe's signing scheme: `Stripe-Signature: t=...,v1=...`).
/// `customer.subscription.created` grants premium, `customer.subscription.deleted` removes it; an event id
/// is processed once.
#[utoipa::path(post, path = "/webhooks/billing", tag = "billing", request_body(content = String, content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">")),
    responses((status = 200, body = WebhookOutcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn billing_webhook(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookOutcome>> {
    let api = api(&state).map_err(|e| with_id(&meta, e))?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    api.webhook.handle(&meta.0, signature, &body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// The auth routes with their OpenAPI descriptions.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(confirm))
        .routes(routes!(resend_code))
        .routes(routes!(login))
        .routes(routes!(challenge))
        .routes(routes!(totp_setup))
        .routes(routes!(totp_verify))
        .routes(routes!(totp_disable))
        .routes(routes!(refresh))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(change_password))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(billing_webhook))
}
