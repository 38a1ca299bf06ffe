//! `/admin/*`: the admin API over both pools, for staff access tokens only. Each handler translates one
//! call of `cognigate_service::admin::AdminService`, where the decisions and the audit trail live; the
//! console (`console.rs`) calls the same functions.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cognigate_service::ServiceError;
use cognigate_service::admin::{
    Actor, AdminService, AssignTeamRequest, AuditFilter, AuditPage, ChangeRoleRequest, ChangeTierRequest,
    ConnectionReport, NewCustomer, NewTeam, SetPasswordRequest, StatusReport, TeamView, UserCommand,
    UserDetail, UserFilter, UserPage, UserSummary,
};
use cognigate_service::auth::Invitation;
use cognigate_service::ports::Team;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ApiError, ApiJson, ErrorBody, Meta, PoolPath, bearer, with_id};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(create_customer))
        .routes(routes!(invite_staff))
        .routes(routes!(user_detail, delete_user))
        .routes(routes!(run_command))
        .routes(routes!(set_password))
        .routes(routes!(change_role))
        .routes(routes!(change_tier))
        .routes(routes!(assign_team))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(audit))
        .routes(routes!(audit_export))
        .routes(routes!(status))
        .routes(routes!(test_connection))
}

pub(crate) fn admin(state: &AppState) -> Result<&AdminService, ServiceError> {
    state.auth.as_deref().map(|api| api.admin.as_ref()).ok_or_else(|| {
        ServiceError::new(
            cognigate_domain::errors::ErrorCode::ProviderUnavailable,
            "The admin API is not running in this process.",
        )
    })
}

/// The admin service and the staff member behind the bearer token.
async fn actor<'s>(
    state: &'s AppState,
    meta: &Meta,
    headers: &HeaderMap,
) -> ApiResult<(&'s AdminService, Actor)> {
    let admin = admin(state).map_err(|e| with_id(meta, e))?;
    let token = bearer(headers).ok_or_else(|| with_id(meta, ServiceError::invalid_token()))?;
    let actor = admin.authenticate(token).await.map_err(|e| with_id(meta, e))?;
    Ok((admin, actor))
}

const POOL: &str = "`customer` or `staff`";

/// Users of both pools, filtered and paged (`next` → `after`). A manager only ever sees their own team.
#[utoipa::path(get, path = "/admin/users", params(UserFilter), tag = "admin",
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_users(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    filter: Result<Query<UserFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<UserPage>> {
    let Query(filter) = filter.map_err(|e| with_id(&meta, ServiceError::validation(e.body_text())))?;
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.list_users(&actor, &filter).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Creates a customer account; the provider sends the invitation with a temporary password.
#[utoipa::path(post, path = "/admin/users/customer", request_body = NewCustomer, tag = "admin",
    responses((status = 201, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_customer(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewCustomer>,
) -> ApiResult<(StatusCode, Json<UserSummary>)> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    let created = admin.create_customer(&meta.0, &actor, body).await.map_err(|e| with_id(&meta, e))?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Invites a staff member: a temporary password by email, then a new password and MFA setup at the first
/// sign-in.
#[utoipa::path(post, path = "/admin/users/staff", request_body = Invitation, tag = "admin",
    responses((status = 201, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn invite_staff(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Invitation>,
) -> ApiResult<(StatusCode, Json<UserSummary>)> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    let invited = admin.invite_staff(&meta.0, &actor, body).await.map_err(|e| with_id(&meta, e))?;
    Ok((StatusCode::CREATED, Json(invited)))
}

/// One account in full, with the operations the caller may perform on it.
#[utoipa::path(get, path = "/admin/users/{pool}/{sub}", tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`")),
    responses((status = 200, body = UserDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
async fn user_detail(
    State(state): State<AppState>,
    Path((pool, sub)): Path<(PoolPath, String)>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<UserDetail>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.user_detail(&actor, pool.into(), &sub).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Deletes an account at the identity provider and in the mirror.
#[utoipa::path(delete, path = "/admin/users/{pool}/{sub}", tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
async fn delete_user(
    State(state): State<AppState>,
    Path((pool, sub)): Path<(PoolPath, String)>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.delete_user(&meta.0, &actor, pool.into(), &sub).await.map_err(|e| with_id(&meta, e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// An operation without arguments: `enable`, `disable`, `reset-password`, `sign-out`, `approve`, `reject`,
/// `require-mfa`, `reset-mfa`.
#[utoipa::path(post, path = "/admin/users/{pool}/{sub}/{command}", tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`"),
           ("command" = UserCommand, Path, description = "The operation")),
    responses((status = 200, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn run_command(
    State(state): State<AppState>,
    Path((pool, sub, command)): Path<(PoolPath, String, String)>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<UserSummary>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    let command = UserCommand::parse(&command).ok_or_else(|| {
        let known: Vec<&str> = UserCommand::ALL.iter().map(|c| c.as_str()).collect();
        with_id(&meta, ServiceError::validation(format!("the operation must be one of {}", known.join(", "))))
    })?;
    admin.run(&meta.0, &actor, pool.into(), &sub, command).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Sets a password, permanent or temporary.
#[utoipa::path(put, path = "/admin/users/{pool}/{sub}/password", request_body = SetPasswordRequest, tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`")),
    responses((status = 200, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn set_password(
    State(state): State<AppState>,
    Path((pool, sub)): Path<(PoolPath, String)>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SetPasswordRequest>,
) -> ApiResult<Json<UserSummary>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin
        .set_password(&meta.0, &actor, pool.into(), &sub, body)
        .await
        .map(Json)
        .map_err(|e| with_id(&meta, e))
}

/// Changes a staff role or a customer base type (nobody grants above their own rank).
#[utoipa::path(put, path = "/admin/users/{pool}/{sub}/role", request_body = ChangeRoleRequest, tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`")),
    responses((status = 200, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn change_role(
    State(state): State<AppState>,
    Path((pool, sub)): Path<(PoolPath, String)>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangeRoleRequest>,
) -> ApiResult<Json<UserSummary>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.change_role(&meta.0, &actor, pool.into(), &sub, body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Turns premium on or off for a customer.
#[utoipa::path(put, path = "/admin/users/{pool}/{sub}/tier", request_body = ChangeTierRequest, tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`")),
    responses((status = 200, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn change_tier(
    State(state): State<AppState>,
    Path((pool, sub)): Path<(PoolPath, String)>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangeTierRequest>,
) -> ApiResult<Json<UserSummary>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.change_tier(&meta.0, &actor, pool.into(), &sub, body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Puts an account in a team, or takes it out (`team: null`).
#[utoipa::path(put, path = "/admin/users/{pool}/{sub}/team", request_body = AssignTeamRequest, tag = "admin",
    params(("pool" = PoolPath, Path, description = POOL), ("sub" = String, Path, description = "The account's `sub`")),
    responses((status = 200, body = UserSummary), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn assign_team(
    State(state): State<AppState>,
    Path((pool, sub)): Path<(PoolPath, String)>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AssignTeamRequest>,
) -> ApiResult<Json<UserSummary>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.assign_team(&meta.0, &actor, pool.into(), &sub, body).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// The teams the caller may see, with their managers, members and customer count.
#[utoipa::path(get, path = "/admin/teams", tag = "admin",
    responses((status = 200, body = Vec<TeamView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_teams(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<TeamView>>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.list_teams(&actor).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// Creates a team.
#[utoipa::path(post, path = "/admin/teams", request_body = NewTeam, tag = "admin",
    responses((status = 201, body = Team), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_team(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    let team = admin.create_team(&meta.0, &actor, body).await.map_err(|e| with_id(&meta, e))?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// The audit log, newest first, filtered and paged (`next` → `before`).
#[utoipa::path(get, path = "/admin/audit", params(AuditFilter), tag = "admin",
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn audit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    filter: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AuditPage>> {
    let Query(filter) = filter.map_err(|e| with_id(&meta, ServiceError::validation(e.body_text())))?;
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.audit_page(&meta.0, &actor, &filter).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// The audit log as NDJSON (one event per line), every event matching the filter.
#[utoipa::path(get, path = "/admin/audit/export", params(AuditFilter), tag = "admin",
    responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn audit_export(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    filter: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(filter) = filter.map_err(|e| with_id(&meta, ServiceError::validation(e.body_text())))?;
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    ndjson_export(admin, &meta, &actor, &filter).await
}

/// The NDJSON download, for the API and the console alike.
pub(crate) async fn ndjson_export(
    admin: &AdminService,
    meta: &Meta,
    actor: &Actor,
    filter: &AuditFilter,
) -> ApiResult<Response> {
    let mut body = Vec::new();
    admin
        .export_audit(&meta.0, actor, filter, |events| {
            for event in events {
                if serde_json::to_writer(&mut body, &event).is_ok() {
                    body.push(b'\n');
                }
            }
            true
        })
        .await
        .map_err(|e| with_id(meta, e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"cognigate-audit.ndjson\""),
        ],
        Body::from(body),
    )
        .into_response())
}

/// Per pool: provider, pool and client ids, password and MFA policy, token lifetimes, mirror counts.
#[utoipa::path(get, path = "/admin/status", tag = "admin",
    responses((status = 200, body = StatusReport), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn status(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<StatusReport>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.status(&actor).await.map(Json).map_err(|e| with_id(&meta, e))
}

/// "Test connection": a round trip to each pool's identity provider, and the drift `cognigate sync` would
/// repair.
#[utoipa::path(post, path = "/admin/status/test", tag = "admin",
    responses((status = 200, body = ConnectionReport), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn test_connection(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
) -> ApiResult<Json<ConnectionReport>> {
    let (admin, actor) = actor(&state, &meta, &headers).await?;
    admin.test_connection(&meta.0, &actor).await.map(Json).map_err(|e| with_id(&meta, e))
}
