//! Cognito's own wire protocol over the engine: `POST /` with `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Operation>` and an `application/x-amz-json-1.1` body.
//!
//! This is what lets any AWS SDK, the AWS CLI and cognigate's own `cognito` provider use the embedded engine
//! unchanged. The module is transport-free — it turns (target, body, caller) into (status, body) — so the
//! HTTP crate only moves bytes, and tests can drive it without a socket.
//!
//! Faithfulness rules: field names, types and defaults are Cognito's (including its surprising ones, e.g.
//! UpdateUserPool resets what it is not given); every failure is an HTTP 400 with Cognito's `__type`, never a
//! 500 unless the engine itself failed; a body that is not JSON is a `SerializationException`, a missing or
//! mistyped member an `InvalidParameterException`, an operation we do not know an
//! `UnknownOperationException`.
//!
//! Who may call what:
//! - The client-side operations (SignUp, InitiateAuth, GetUser, ...) need no credentials, as on AWS, with
//!   one exception: cognigate's own app clients (front-door clients) are never served here. Their users go
//!   through the auth API, which applies rate limits, lockout per account and address, onboarding and the
//!   audit log; a request naming such a client, carrying one of its tokens or one of its challenge
//!   sessions is refused, so the wire cannot be used to walk around the service.
//! - The administrative ones (Admin*, pools, clients, groups, ListUsers) need IAM on AWS; here, a request
//!   signed with AWS Signature Version 4 by one of the configured access keys ([`sigv4`]: the signature
//!   is verified, the key id alone authorizes nothing). In dev with no keys configured, a loopback caller
//!   that names a loopback host (`localhost`, `127.0.0.1`, `[::1]`) may administer: the host check keeps
//!   a DNS-rebinding web page, whose requests name its own domain, out.

mod shapes;
pub mod sigv4;

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api::SignUpRequest;
use crate::ops::{MessageAction, NewPool};
use crate::{Engine, EngineError};
use shapes::*;
pub use sigv4::{AccessKey, SignedRequest};

/// The `X-Amz-Target` prefix of every Cognito user-pool operation.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The content type of requests and answers.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The service name SigV4 signatures are scoped to.
pub const SIGNING_SERVICE: &str = "cognito-idp";

/// How far a signature's `X-Amz-Date` may be from our clock, either way (AWS's window).
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Who is calling, as far as the wire can tell: where the request came from, and the request as signed.
#[derive(Debug)]
pub struct Caller<'a> {
    /// Whether the request came over the loopback interface (from the socket, never from a header).
    pub loopback: bool,
    /// Whether the `Host` header names this machine by a loopback name or address.
    pub host_is_loopback: bool,
    /// Method, path, query, headers and body, for signature verification.
    pub request: SignedRequest<'a>,
}

/// Whether a `Host` header value names this machine: `localhost`, `127.0.0.1` (any 127/8 address) or
/// `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']').map_or("", |(inside, _)| inside)
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// Who may call the administrative operations.
#[derive(Debug, Default)]
pub struct WireAccess {
    /// Keys whose SigV4 signature authorizes administrative operations.
    pub admin_keys: Vec<AccessKey>,
    /// Whether loopback callers naming a loopback host may administer without a signature (dev, and only
    /// when no key is configured).
    pub loopback_admin: bool,
    /// Pools whose users are served by the auth API alone (outside dev: every configured pool): no client
    /// operation of theirs is answered over the wire, whatever app client it names, so not even a client an
    /// administrator added reaches their sign-in, codes or MFA around the service.
    pub guarded_pools: BTreeSet<String>,
}

impl WireAccess {
    /// Whether `caller` may administer, or the AWS error type and message that say why not.
    fn admin_check(
        &self,
        operation: &str,
        caller: &Caller<'_>,
        now_secs: i64,
    ) -> Result<(), (&'static str, String)> {
        if !self.admin_keys.is_empty() {
            return sigv4::verify(
                &caller.request,
                &self.admin_keys,
                SIGNING_SERVICE,
                now_secs,
                MAX_CLOCK_SKEW_SECS,
            )
            .map(|key_id| {
                // Signed administration is as strong as the engine gets (no Cedar, no service audit):
                // each use is logged with the key that made it.
                tracing::info!(operation, key_id, "wire administration, signed");
            })
            .map_err(|error| (error.aws_type(), error.to_string()));
        }
        if self.loopback_admin && caller.loopback && caller.host_is_loopback {
            return Ok(());
        }
        Err((
            "NotAuthorizedException",
            if self.loopback_admin {
                "Administrative operations are open to loopback callers that name a loopback host \
                 (localhost, 127.0.0.1, [::1]), or need a request signed with a key of engine.wire.admin_access_keys"
                    .to_owned()
            } else {
                "Administrative operations need a request signed (SigV4) with a key of engine.wire.admin_access_keys"
                    .to_owned()
            },
        ))
    }
}

/// An answer on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct WireResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// Cognito's exception name, also sent as the `x-amzn-ErrorType` header.
    pub error_type: Option<&'static str>,
}

impl WireResponse {
    fn ok(body: &Value) -> Self {
        Self { status: 200, body: body.to_string().into_bytes(), error_type: None }
    }

    fn error(status: u16, error_type: &'static str, message: &str) -> Self {
        let body = json!({ "__type": error_type, "message": message });
        Self { status, body: body.to_string().into_bytes(), error_type: Some(error_type) }
    }
}

/// A failure before or after the engine: the wire's own errors plus the engine's.
#[derive(Debug)]
pub(super) enum WireError {
    Engine(EngineError),
    /// Cognito's `__type` and message, for errors that are the protocol's rather than the engine's.
    Protocol(&'static str, String),
}

impl From<EngineError> for WireError {
    fn from(error: EngineError) -> Self {
        Self::Engine(error)
    }
}

pub(super) fn invalid(message: impl Into<String>) -> WireError {
    WireError::Engine(EngineError::InvalidParameter(message.into()))
}

type WireResult = Result<Value, WireError>;

/// Parses a request body into an operation's input. Not JSON → SerializationException; JSON of the wrong
/// shape → InvalidParameterException naming the member.
fn input<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        WireError::Protocol("SerializationException", "The request body is not valid JSON".into())
    })?;
    if !value.is_object() {
        return Err(WireError::Protocol(
            "SerializationException",
            "The request body must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value).map_err(|error| {
        // serde's message names the member and the expected type; strip the value it may quote.
        let text = error.to_string();
        let text = text.split(" at line").next().unwrap_or(&text);
        invalid(format!("1 validation error detected: {}", text.split(": invalid").next().unwrap_or(text)))
    })
}

/// Operations that need IAM credentials on AWS.
fn is_admin(operation: &str) -> bool {
    operation.starts_with("Admin")
        || matches!(
            operation,
            "CreateUserPool"
                | "DescribeUserPool"
                | "UpdateUserPool"
                | "ListUserPools"
                | "DeleteUserPool"
                | "SetUserPoolMfaConfig"
                | "GetUserPoolMfaConfig"
                | "CreateUserPoolClient"
                | "DescribeUserPoolClient"
                | "UpdateUserPoolClient"
                | "ListUserPoolClients"
                | "DeleteUserPoolClient"
                | "CreateGroup"
                | "GetGroup"
                | "ListGroups"
                | "DeleteGroup"
                | "ListUsers"
                | "ListUsersInGroup"
        )
}

/// Cognito operations the engine knows of but does not offer; they answer a clear error, not "unknown".
const NOT_OFFERED: [&str; 12] = [
    "DeleteUser",
    "DeleteUserAttributes",
    "AdminDeleteUserAttributes",
    "GetUserAttributeVerificationCode",
    "CreateUserPoolDomain",
    "DescribeUserPoolDomain",
    "AdminLinkProviderForUser",
    "CreateIdentityProvider",
    "CreateResourceServer",
    "AdminListUserAuthEvents",
    "ConfirmDevice",
    "ListDevices",
];

/// Answers one wire request.
pub async fn dispatch(
    engine: &Engine,
    access: &WireAccess,
    caller: &Caller<'_>,
    target: Option<&str>,
    body: &[u8],
) -> WireResponse {
    let Some(operation) = target.and_then(|t| t.strip_prefix(TARGET_PREFIX)) else {
        return WireResponse::error(
            400,
            "UnknownOperationException",
            "Missing or unknown X-Amz-Target; expected AWSCognitoIdentityProviderService.<Operation>",
        );
    };
    if is_admin(operation)
        && let Err((error_type, message)) =
            access.admin_check(operation, caller, engine.now().div_euclid(1000))
    {
        return WireResponse::error(400, error_type, &message);
    }
    match front_door_check(engine, access, body).await {
        Ok(()) => {}
        Err(WireError::Protocol(error_type, message)) => {
            return WireResponse::error(400, error_type, &message);
        }
        Err(WireError::Engine(error)) => return engine_error(operation, &error),
    }
    match call(engine, operation, body).await {
        Ok(value) => WireResponse::ok(&value),
        Err(WireError::Protocol(error_type, message)) => WireResponse::error(400, error_type, &message),
        Err(WireError::Engine(error)) => engine_error(operation, &error),
    }
}

fn engine_error(operation: &str, error: &EngineError) -> WireResponse {
    match error {
        EngineError::Internal(detail) => {
            tracing::error!(operation, detail, "wire operation failed");
            WireResponse::error(500, error.cognito_type(), "Internal error")
        }
        other => WireResponse::error(400, other.cognito_type(), &other.to_string()),
    }
}

/// Refuses a request that would act as one of cognigate's own front-door clients, or as any client of a
/// guarded pool: it names the client (`ClientId`), carries a token issued to it (`AccessToken`), or a
/// challenge session begun through it (`Session`). What is not JSON is left for the operation to refuse in
/// its own words.
async fn front_door_check(engine: &Engine, access: &WireAccess, body: &[u8]) -> Result<(), WireError> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str).filter(|value| !value.is_empty());
    let mut clients = Vec::new();
    if let Some(client) = text("ClientId") {
        clients.push(client.to_owned());
    }
    if let Some(client) = text("AccessToken").and_then(crate::engine::token_client_id) {
        clients.push(client);
    }
    if let Some(session) = text("Session")
        && let Some(client) = engine.session_client(session).await?
    {
        clients.push(client);
    }
    for client in clients {
        if engine.is_front_door_client(&client).await? {
            return Err(WireError::Protocol(
                "NotAuthorizedException",
                "This app client is cognigate's own: its users sign in, reset passwords and manage MFA through \
                 the auth API (/auth/<pool>/...), not over the wire"
                    .to_owned(),
            ));
        }
        if !access.guarded_pools.is_empty()
            && let Some(pool) = engine.client_pool(&client).await?
            && access.guarded_pools.contains(&pool)
        {
            return Err(WireError::Protocol(
                "NotAuthorizedException",
                "This user pool is served by cognigate's auth API (/auth/<pool>/...) only: its users' sign-in, codes \
                 and MFA are not offered over the wire outside dev"
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

async fn call(engine: &Engine, operation: &str, body: &[u8]) -> WireResult {
    match operation {
        // ----- pools -----
        "CreateUserPool" => {
            let request: CreateUserPoolInput = input(body)?;
            let pool = engine.create_user_pool(request.into_new_pool(None)?).await?;
            Ok(json!({ "UserPool": pool_json(engine, &pool).await? }))
        }
        "DescribeUserPool" => {
            let request: PoolRef = input(body)?;
            let pool = engine.describe_user_pool(&request.user_pool_id).await?;
            Ok(json!({ "UserPool": pool_json(engine, &pool).await? }))
        }
        "UpdateUserPool" => {
            let request: UpdateUserPoolInput = input(body)?;
            let existing = engine.describe_user_pool(&request.user_pool_id).await?;
            engine.ensure_user_pool(request.into_new_pool(&existing)?).await?;
            Ok(json!({}))
        }
        "ListUserPools" => {
            let request: ListInput = input(body)?;
            let limit = request.max_results.ok_or_else(|| invalid("MaxResults is required"))?;
            let pools = engine.list_user_pools().await?;
            let (page, next) = paginate(pools, |pool| pool.id.clone(), limit, request.next_token.as_deref())?;
            let items: Vec<Value> = page
                .iter()
                .map(|pool| {
                    json!({
                        "Id": pool.id, "Name": pool.name, "LambdaConfig": {},
                        "CreationDate": seconds(pool.created_ms), "LastModifiedDate": seconds(pool.updated_ms),
                    })
                })
                .collect();
            Ok(with_token(json!({ "UserPools": items }), "NextToken", next))
        }
        "DeleteUserPool" => {
            let request: PoolRef = input(body)?;
            engine.delete_user_pool(&request.user_pool_id).await?;
            Ok(json!({}))
        }
        "SetUserPoolMfaConfig" => {
            let request: SetMfaConfigInput = input(body)?;
            let existing = engine.describe_user_pool(&request.user_pool_id).await?;
            let mut new = NewPool::from_pool(&existing);
            if let Some(mode) = &request.mfa_configuration {
                new.mfa = parse_mfa(mode)?;
            }
            if let Some(totp) = &request.software_token_mfa_configuration {
                new.software_token_mfa = totp.enabled;
            }
            if request.sms_mfa_configuration.is_some() {
                new.sms_mfa = true;
            }
            if new.mfa != crate::model::MfaConfiguration::Off && !new.software_token_mfa && !new.sms_mfa {
                return Err(invalid(
                    "At least one MFA method must be enabled when MfaConfiguration is not OFF",
                ));
            }
            let pool = engine.ensure_user_pool(new).await?;
            Ok(mfa_config_json(&pool))
        }
        "GetUserPoolMfaConfig" => {
            let request: PoolRef = input(body)?;
            Ok(mfa_config_json(&engine.describe_user_pool(&request.user_pool_id).await?))
        }
        // ----- app clients -----
        "CreateUserPoolClient" => {
            let request: ClientInput = input(body)?;
            let pool_id = request.user_pool_id.clone();
            let generate_secret = request.generate_secret;
            let mut new = request.into_new_client(None)?;
            new.generate_secret = generate_secret;
            let (client, secret) = engine.create_user_pool_client(&pool_id, new).await?;
            Ok(json!({ "UserPoolClient": client_json(&client, secret.as_deref()) }))
        }
        "DescribeUserPoolClient" => {
            let request: ClientRef = input(body)?;
            let client = engine.describe_user_pool_client(&request.user_pool_id, &request.client_id).await?;
            let secret = engine.client_secret(&client)?;
            Ok(json!({ "UserPoolClient": client_json(&client, secret.as_deref()) }))
        }
        "UpdateUserPoolClient" => {
            let request: ClientInput = input(body)?;
            let client_id = request.client_id.clone().ok_or_else(|| invalid("ClientId is required"))?;
            let existing = engine.describe_user_pool_client(&request.user_pool_id, &client_id).await?;
            let pool_id = request.user_pool_id.clone();
            let new = request.into_new_client(Some(&existing))?;
            let client = engine.ensure_user_pool_client(&pool_id, new).await?;
            let secret = engine.client_secret(&client)?;
            Ok(json!({ "UserPoolClient": client_json(&client, secret.as_deref()) }))
        }
        "ListUserPoolClients" => {
            let request: ListInput = input(body)?;
            let pool_id = request.user_pool_id.as_deref().ok_or_else(|| invalid("UserPoolId is required"))?;
            let clients = engine.list_user_pool_clients(pool_id).await?;
            let (page, next) = paginate(
                clients,
                |client| client.id.clone(),
                request.max_results.unwrap_or(60),
                request.next_token.as_deref(),
            )?;
            let items: Vec<Value> = page
                .iter()
                .map(|c| json!({ "ClientId": c.id, "UserPoolId": c.pool_id, "ClientName": c.name }))
                .collect();
            Ok(with_token(json!({ "UserPoolClients": items }), "NextToken", next))
        }
        "DeleteUserPoolClient" => {
            let request: ClientRef = input(body)?;
            engine.delete_user_pool_client(&request.user_pool_id, &request.client_id).await?;
            Ok(json!({}))
        }
        // ----- sign-up and confirmation -----
        "SignUp" => {
            let request: SignUpRequest = input(body)?;
            Ok(json!(engine.sign_up(request).await?))
        }
        "ConfirmSignUp" => {
            let r: ConfirmInput = input(body)?;
            engine
                .confirm_sign_up(&r.client_id, r.secret_hash.as_deref(), &r.username, &r.confirmation_code)
                .await?;
            Ok(json!({}))
        }
        "ResendConfirmationCode" => {
            let r: ClientUserInput = input(body)?;
            let details =
                engine.resend_confirmation_code(&r.client_id, r.secret_hash.as_deref(), &r.username).await?;
            Ok(json!({ "CodeDeliveryDetails": details }))
        }
        "AdminConfirmSignUp" => {
            let r: PoolUser = input(body)?;
            engine.admin_confirm_sign_up(&r.user_pool_id, &r.username).await?;
            Ok(json!({}))
        }
        // ----- users (admin) -----
        "AdminCreateUser" => {
            let r: AdminCreateUserInput = input(body)?;
            let action = match r.message_action.as_deref() {
                None => MessageAction::Send,
                Some("RESEND") => MessageAction::Resend,
                Some("SUPPRESS") => MessageAction::Suppress,
                Some(other) => {
                    return Err(invalid(format!("MessageAction {other} is not RESEND or SUPPRESS")));
                }
            };
            let user = engine
                .admin_create_user(
                    &r.user_pool_id,
                    &r.username,
                    &r.user_attributes,
                    r.temporary_password.as_deref(),
                    action,
                )
                .await?;
            let description = crate::ops::describe(&user);
            Ok(json!({ "User": user_type_json(&description) }))
        }
        "AdminGetUser" => {
            let r: PoolUser = input(body)?;
            let user = engine.admin_get_user(&r.user_pool_id, &r.username).await?;
            Ok(get_user_json(&user, true))
        }
        "AdminDeleteUser" => {
            let r: PoolUser = input(body)?;
            engine.admin_delete_user(&r.user_pool_id, &r.username).await?;
            Ok(json!({}))
        }
        "AdminDisableUser" => {
            let r: PoolUser = input(body)?;
            engine.admin_disable_user(&r.user_pool_id, &r.username).await?;
            Ok(json!({}))
        }
        "AdminEnableUser" => {
            let r: PoolUser = input(body)?;
            engine.admin_enable_user(&r.user_pool_id, &r.username).await?;
            Ok(json!({}))
        }
        "AdminSetUserPassword" => {
            let r: AdminSetPasswordInput = input(body)?;
            engine.admin_set_user_password(&r.user_pool_id, &r.username, &r.password, r.permanent).await?;
            Ok(json!({}))
        }
        "AdminResetUserPassword" => {
            let r: PoolUser = input(body)?;
            engine.admin_reset_user_password(&r.user_pool_id, &r.username).await?;
            Ok(json!({}))
        }
        "AdminUpdateUserAttributes" => {
            let r: AdminAttributesInput = input(body)?;
            engine.admin_update_user_attributes(&r.user_pool_id, &r.username, &r.user_attributes).await?;
            Ok(json!({}))
        }
        "AdminUserGlobalSignOut" => {
            let r: PoolUser = input(body)?;
            engine.admin_user_global_sign_out(&r.user_pool_id, &r.username).await?;
            Ok(json!({}))
        }
        "AdminSetUserMFAPreference" => {
            let r: MfaPreferenceInput = input(body)?;
            let pool_id = r.user_pool_id.as_deref().ok_or_else(|| invalid("UserPoolId is required"))?;
            let username = r.username.as_deref().ok_or_else(|| invalid("Username is required"))?;
            engine.admin_set_user_mfa_preference(pool_id, username, r.totp(), r.sms()).await?;
            Ok(json!({}))
        }
        "ListUsers" => {
            let r: ListUsersInput = input(body)?;
            let limit = r
                .limit
                .map(|l| u32::try_from(l).map_err(|_| invalid("Limit must be 0 to 60")))
                .transpose()?;
            if limit.is_some_and(|l| l > 60) {
                return Err(invalid("Limit must be 0 to 60"));
            }
            let (users, next) = engine
                .list_users(&r.user_pool_id, r.filter.as_deref(), limit, r.pagination_token.as_deref())
                .await?;
            let users: Vec<Value> = users
                .iter()
                .map(|user| filter_attributes(user_type_json(user), r.attributes_to_get.as_deref()))
                .collect();
            Ok(with_token(json!({ "Users": users }), "PaginationToken", next))
        }
        // ----- users (self-service) -----
        "ForgotPassword" => {
            let r: ClientUserInput = input(body)?;
            let details = engine.forgot_password(&r.client_id, r.secret_hash.as_deref(), &r.username).await?;
            Ok(json!({ "CodeDeliveryDetails": details }))
        }
        "ConfirmForgotPassword" => {
            let r: ConfirmForgotInput = input(body)?;
            engine
                .confirm_forgot_password(
                    &r.client_id,
                    r.secret_hash.as_deref(),
                    &r.username,
                    &r.confirmation_code,
                    &r.password,
                )
                .await?;
            Ok(json!({}))
        }
        "ChangePassword" => {
            let r: ChangePasswordInput = input(body)?;
            engine.change_password(&r.access_token, &r.previous_password, &r.proposed_password).await?;
            Ok(json!({}))
        }
        "GetUser" => {
            let r: AccessTokenInput = input(body)?;
            let user = engine.get_user(&r.access_token).await?;
            Ok(get_user_json(&user, false))
        }
        "UpdateUserAttributes" => {
            let r: UpdateAttributesInput = input(body)?;
            let details = engine.update_user_attributes(&r.access_token, &r.user_attributes).await?;
            Ok(json!({ "CodeDeliveryDetailsList": details.into_iter().collect::<Vec<_>>() }))
        }
        "VerifyUserAttribute" => {
            let r: VerifyAttributeInput = input(body)?;
            engine.verify_user_attribute(&r.access_token, &r.attribute_name, &r.code).await?;
            Ok(json!({}))
        }
        // ----- authentication -----
        "InitiateAuth" => {
            let r: InitiateAuthInput = input(body)?;
            let response = engine.initiate_auth(&r.client_id, &r.auth_flow, &r.auth_parameters).await?;
            Ok(auth_json(response))
        }
        "AdminInitiateAuth" => {
            let r: AdminInitiateAuthInput = input(body)?;
            let response = engine
                .admin_initiate_auth(&r.user_pool_id, &r.client_id, &r.auth_flow, &r.auth_parameters)
                .await?;
            Ok(auth_json(response))
        }
        "RespondToAuthChallenge" => {
            let r: RespondInput = input(body)?;
            let session = r.session.as_deref().unwrap_or_default();
            let response = engine
                .respond_to_auth_challenge(&r.client_id, &r.challenge_name, session, &r.challenge_responses)
                .await?;
            Ok(auth_json(response))
        }
        "AdminRespondToAuthChallenge" => {
            let r: RespondInput = input(body)?;
            let pool_id = r.user_pool_id.as_deref().ok_or_else(|| invalid("UserPoolId is required"))?;
            let session = r.session.as_deref().unwrap_or_default();
            let response = engine
                .admin_respond_to_auth_challenge(
                    pool_id,
                    &r.client_id,
                    &r.challenge_name,
                    session,
                    &r.challenge_responses,
                )
                .await?;
            Ok(auth_json(response))
        }
        "GetTokensFromRefreshToken" => {
            let r: RefreshInput = input(body)?;
            let result = engine
                .get_tokens_from_refresh_token(&r.client_id, &r.refresh_token, r.client_secret.as_deref())
                .await?;
            Ok(json!({ "AuthenticationResult": result }))
        }
        "RevokeToken" => {
            let r: RevokeInput = input(body)?;
            engine.revoke_token(&r.client_id, &r.token, r.client_secret.as_deref()).await?;
            Ok(json!({}))
        }
        "GlobalSignOut" => {
            let r: AccessTokenInput = input(body)?;
            engine.global_sign_out(&r.access_token).await?;
            Ok(json!({}))
        }
        "AssociateSoftwareToken" => {
            let r: SoftwareTokenInput = input(body)?;
            let (secret, session) =
                engine.associate_software_token(r.access_token.as_deref(), r.session.as_deref()).await?;
            Ok(with_token(json!({ "SecretCode": secret }), "Session", session))
        }
        "VerifySoftwareToken" => {
            let r: SoftwareTokenInput = input(body)?;
            let code = r.user_code.as_deref().ok_or_else(|| invalid("UserCode is required"))?;
            let session =
                engine.verify_software_token(r.access_token.as_deref(), r.session.as_deref(), code).await?;
            Ok(with_token(json!({ "Status": "SUCCESS" }), "Session", session))
        }
        "SetUserMFAPreference" => {
            let r: MfaPreferenceInput = input(body)?;
            let token = r.access_token.as_deref().ok_or_else(|| invalid("AccessToken is required"))?;
            engine.set_user_mfa_preference(token, r.totp(), r.sms()).await?;
            Ok(json!({}))
        }
        // ----- groups -----
        "CreateGroup" => {
            let r: GroupInput = input(body)?;
            let group = engine
                .create_group(&r.user_pool_id, &r.group_name, r.description.as_deref(), r.precedence)
                .await?;
            Ok(json!({ "Group": group_json(&group) }))
        }
        "GetGroup" => {
            let r: GroupInput = input(body)?;
            Ok(json!({ "Group": group_json(&engine.get_group(&r.user_pool_id, &r.group_name).await?) }))
        }
        "ListGroups" => {
            let r: ListInput = input(body)?;
            let pool_id = r.user_pool_id.as_deref().ok_or_else(|| invalid("UserPoolId is required"))?;
            let groups = engine.list_groups(pool_id).await?;
            let (page, next) =
                paginate(groups, |g| g.name.clone(), r.limit.unwrap_or(60), r.next_token.as_deref())?;
            Ok(with_token(
                json!({ "Groups": page.iter().map(group_json).collect::<Vec<_>>() }),
                "NextToken",
                next,
            ))
        }
        "DeleteGroup" => {
            let r: GroupInput = input(body)?;
            engine.delete_group(&r.user_pool_id, &r.group_name).await?;
            Ok(json!({}))
        }
        "AdminAddUserToGroup" => {
            let r: UserGroupInput = input(body)?;
            engine.admin_add_user_to_group(&r.user_pool_id, &r.username, &r.group_name).await?;
            Ok(json!({}))
        }
        "AdminRemoveUserFromGroup" => {
            let r: UserGroupInput = input(body)?;
            engine.admin_remove_user_from_group(&r.user_pool_id, &r.username, &r.group_name).await?;
            Ok(json!({}))
        }
        "AdminListGroupsForUser" => {
            let r: PoolUser = input(body)?;
            let groups = engine.admin_list_groups_for_user(&r.user_pool_id, &r.username).await?;
            Ok(json!({ "Groups": groups.iter().map(group_json).collect::<Vec<_>>() }))
        }
        "ListUsersInGroup" => {
            let r: GroupInput = input(body)?;
            let users = engine.list_users_in_group(&r.user_pool_id, &r.group_name).await?;
            Ok(json!({ "Users": users.iter().map(user_type_json).collect::<Vec<_>>() }))
        }
        other if NOT_OFFERED.contains(&other) => Err(WireError::Protocol(
            "UnsupportedOperationException",
            format!("{other} is a Cognito operation the embedded engine does not offer"),
        )),
        other => Err(WireError::Protocol(
            "UnknownOperationException",
            format!("Unknown operation AWSCognitoIdentityProviderService.{other}"),
        )),
    }
}

pub(super) fn parse_mfa(mode: &str) -> Result<crate::model::MfaConfiguration, WireError> {
    crate::model::MfaConfiguration::parse(mode)
        .ok_or_else(|| invalid(format!("MfaConfiguration {mode} is not OFF, ON or OPTIONAL")))
}

/// A page of `items` (sorted by `key`) after the token, and the token of the next page.
fn paginate<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    limit: i64,
    after: Option<&str>,
) -> Result<(Vec<T>, Option<String>), WireError> {
    if !(1..=60).contains(&limit) {
        return Err(invalid("MaxResults must be 1 to 60"));
    }
    items.sort_by_key(&key);
    let start = after
        .map_or(0, |after| items.iter().position(|item| key(item).as_str() > after).unwrap_or(items.len()));
    let limit = usize::try_from(limit).unwrap_or(60);
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > limit).then(|| rest.get(limit - 1).map(&key)).flatten();
    Ok((rest.into_iter().take(limit).collect(), next))
}

fn with_token(mut value: Value, name: &str, token: Option<String>) -> Value {
    if let (Some(token), Some(map)) = (token, value.as_object_mut()) {
        map.insert(name.to_owned(), Value::String(token));
    }
    value
}

/// ListUsers' AttributesToGet: only those attributes in each user.
fn filter_attributes(mut user: Value, wanted: Option<&[String]>) -> Value {
    if let (Some(wanted), Some(list)) = (wanted, user.get_mut("Attributes").and_then(Value::as_array_mut)) {
        list.retain(|attribute| {
            attribute.get("Name").and_then(Value::as_str).is_some_and(|name| wanted.iter().any(|w| w == name))
        });
    }
    user
}

#[cfg(test)]
mod tests;
