//! The API Gateway REQUEST authorizer: which route a request hits, whose token it carries, and what Cedar
//! says, answered as an IAM policy for the request's method ARN.
//!
//! Deny is the default and the answer to anything that cannot be judged: no route covers the request, the
//! route's pool has no Cognito settings, the `Authorization` header is missing, doubled, not `Bearer`,
//! oversized or not a valid access token of exactly that route's pool and app client, the claims name no
//! known role, or the event itself is not a REQUEST event. Nothing here returns an error or panics on
//! input; an error would make API Gateway answer 500 where the caller deserves 403.
//!
//! [`AuthorizerState`] is built once per cold start: the route table, the Cedar policies, and a token
//! verifier per pool whose JWKS cache (with its refetch floor) and verified-token cache outlive every
//! invocation of the warm function. [`authorize`] is a plain async function over (event, state), so tests
//! call it without the Lambda runtime.
//!
//! The Cedar principal is built from the verified claims alone: the PreTokenGeneration trigger wrote the
//! onboarding state, role, tier and team into the token, and [`TokenIdentity::from_claims`] reads them back
//! with the same rule (unknown roles ignored, tiers only where they apply, `cognito:groups` as the
//! fallback). A token whose onboarding state keeps permissions off (a dealer waiting for approval, staff
//! without MFA, a rejected or suspended account, or no recorded state at all) is denied before Cedar is
//! asked. The authorizer looks nothing up: revocation before `exp` is not seen here, which is why access
//! tokens are short-lived (see SECURITY.md).

use std::sync::Arc;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use cognigate_config::{CognitoConfig, Config, PoolKind, ProviderKind};
use cognigate_domain::authz::{Action, RequestContext, Resource};
use cognigate_domain::claims::{NotInForce, TokenIdentity};
use cognigate_domain::routes::RouteTable;
use cognigate_policy::Authorizer;
use cognigate_token::{Audience, JwksSource, VerifiedToken, Verifier, VerifierOptions};
use serde_json::{Value, json};

use crate::error::StartError;

/// The longest `Authorization` header looked at; the verifier's own limit on the token is below it.
pub const MAX_AUTHORIZATION_LEN: usize = 16 * 1024 + 64;

/// The principal id of a deny that could not tell who asked.
pub const ANONYMOUS: &str = "anonymous";

/// The issuer of a Cognito pool's tokens: Cognito's regional URL, or the endpoint override's (LocalStack,
/// another cognigate's wire endpoint), both followed by the pool id.
pub fn issuer_of(cognito: &CognitoConfig) -> String {
    match &cognito.endpoint {
        Some(endpoint) => format!("{}/{}", endpoint.trim_end_matches('/'), cognito.user_pool_id),
        None => format!("https://cognito-idp.{}.amazonaws.com/{}", cognito.region, cognito.user_pool_id),
    }
}

/// What one cold start builds and every invocation shares.
#[derive(Debug)]
pub struct AuthorizerState {
    routes: RouteTable,
    policies: Authorizer,
    /// A verifier per pool, `None` for a pool that is not on Cognito (its routes are always denied).
    verifiers: Vec<(PoolKind, Option<Verifier>)>,
}

impl AuthorizerState {
    /// Builds the state from the configuration, reading keys through `jwks` (an [`HttpJwksSource`] on AWS).
    ///
    /// [`HttpJwksSource`]: cognigate_token::HttpJwksSource
    ///
    /// # Errors
    /// [`StartError::Policy`] when the Cedar policies cannot be built, [`StartError::Verifier`] when a
    /// pool's verifier cannot (an empty client id).
    pub fn new(config: &Config, jwks: Arc<dyn JwksSource>) -> Result<Self, StartError> {
        let policies = Authorizer::from_config(config)?;
        let mut verifiers = Vec::new();
        for pool in PoolKind::ALL {
            let settings = config.pools.get(pool);
            let verifier = match (&settings.provider, &settings.cognito) {
                (ProviderKind::Cognito, Some(cognito)) => Some(
                    Verifier::builder(jwks.clone())
                        .audience(Audience::access(issuer_of(cognito), [cognito.client_id.clone()]))
                        .options(VerifierOptions::default())
                        .build()
                        .map_err(|source| StartError::Verifier { pool, source })?,
                ),
                _ => {
                    tracing::warn!(
                        pool = %pool,
                        "the pool is not on Cognito (pools.{pool}.provider and pools.{pool}.cognito): every route of it is denied"
                    );
                    None
                }
            };
            verifiers.push((pool, verifier));
        }
        Ok(Self { routes: RouteTable::from(config.routes.as_slice()), policies, verifiers })
    }

    /// Fetches every pool's JWKS now (the first request then finds the keys cached). A failure is logged,
    /// not fatal: the verifier fetches again, within its refetch floor, when a token needs the keys.
    pub async fn hydrate(&self) {
        for (pool, verifier) in &self.verifiers {
            if let Some(verifier) = verifier
                && let Err(error) = verifier.hydrate().await
            {
                tracing::warn!(pool = %pool, error = %error, "the pool's JWKS could not be fetched at start");
            }
        }
    }

    fn verifier(&self, pool: PoolKind) -> Option<&Verifier> {
        self.verifiers.iter().find(|(kind, _)| *kind == pool).and_then(|(_, verifier)| verifier.as_ref())
    }

    /// The JWKS fetches and signature checks of `pool`'s verifier so far (tests watch the caches with it).
    pub fn stats(&self, pool: PoolKind) -> Option<cognigate_token::VerifierStats> {
        self.verifier(pool).map(Verifier::stats)
    }
}

/// Why a request was denied, for the log line (never sent to the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    MalformedEvent,
    NoRoute,
    PoolNotOnCognito,
    NoAuthorization,
    BadAuthorization,
    InvalidToken,
    /// The account is not active: its token's onboarding state keeps every permission off.
    Inactive,
    NoKnownRole,
    Forbidden,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedEvent => "malformed_event",
            Self::NoRoute => "no_route",
            Self::PoolNotOnCognito => "pool_not_on_cognito",
            Self::NoAuthorization => "no_authorization",
            Self::BadAuthorization => "bad_authorization",
            Self::InvalidToken => "invalid_token",
            Self::Inactive => "inactive",
            Self::NoKnownRole => "no_known_role",
            Self::Forbidden => "forbidden",
        }
    }
}

/// Who was let in, as the `context` API Gateway hands to the integration.
pub type AllowedIdentity = TokenIdentity;

/// The decision on one request, before it becomes an IAM policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow(AllowedIdentity),
    /// Denied; the `sub` when the token was genuine.
    Deny {
        reason: DenyReason,
        sub: Option<String>,
    },
}

/// Decides a raw event: anything that is not a REQUEST authorizer event is denied.
pub async fn authorize_value(event: Value, state: &AuthorizerState) -> ApiGatewayCustomAuthorizerResponse {
    let method_arn = event.get("methodArn").and_then(Value::as_str).map(str::to_owned);
    match serde_json::from_value::<ApiGatewayCustomAuthorizerRequestTypeRequest>(event) {
        Ok(request) => authorize(&request, state).await,
        Err(error) => {
            tracing::info!(target: "authorizer", reason = DenyReason::MalformedEvent.as_str(), error = %error, "deny");
            deny_response(method_arn.as_deref(), None)
        }
    }
}

/// Decides a REQUEST authorizer event and answers with the IAM policy for its method ARN.
pub async fn authorize(
    request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
    state: &AuthorizerState,
) -> ApiGatewayCustomAuthorizerResponse {
    let verdict = decide(request, state).await;
    let method_arn = request.method_arn.as_deref();
    match verdict {
        Verdict::Allow(identity) if method_arn.is_some_and(is_method_arn) => {
            tracing::info!(
                target: "authorizer", pool = %identity.pool, sub = %identity.sub, role = %identity.role, "allow"
            );
            allow_response(method_arn.unwrap_or_default(), &identity)
        }
        Verdict::Allow(identity) => {
            tracing::info!(
                target: "authorizer", reason = DenyReason::MalformedEvent.as_str(), sub = %identity.sub, "deny"
            );
            deny_response(None, None)
        }
        Verdict::Deny { reason, sub } => {
            tracing::info!(target: "authorizer", reason = reason.as_str(), sub = sub.as_deref().unwrap_or(""), "deny");
            deny_response(method_arn, sub.as_deref())
        }
    }
}

/// The decision itself, without the IAM wrapping.
pub async fn decide(
    request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
    state: &AuthorizerState,
) -> Verdict {
    let deny = |reason| Verdict::Deny { reason, sub: None };
    if request.type_.as_deref().is_some_and(|kind| !kind.eq_ignore_ascii_case("REQUEST")) {
        return deny(DenyReason::MalformedEvent);
    }
    let method = request.http_method.as_ref().or(request.request_context.http_method.as_ref());
    let (Some(method), Some(path)) = (method, request.path.as_deref()) else {
        return deny(DenyReason::MalformedEvent);
    };
    let Some(route) = state.routes.find(method.as_str(), path) else {
        return deny(DenyReason::NoRoute);
    };
    let Some(verifier) = state.verifier(route.pool) else {
        return deny(DenyReason::PoolNotOnCognito);
    };
    let token = match bearer_token(request) {
        Ok(token) => token,
        Err(reason) => return deny(reason),
    };
    let verified = match verifier.verify(token).await {
        Ok(verified) => verified,
        Err(error) => {
            tracing::debug!(target: "authorizer", pool = %route.pool, error = %error, "token refused");
            return deny(DenyReason::InvalidToken);
        }
    };
    let sub = Some(verified.sub().to_owned());
    let identity = match identity_of(&state.policies, route.pool, &verified) {
        Ok(identity) => identity,
        Err(NotInForce::Onboarding(_)) => return Verdict::Deny { reason: DenyReason::Inactive, sub },
        Err(NotInForce::NoKnownRole) => return Verdict::Deny { reason: DenyReason::NoKnownRole, sub },
    };
    let decision = state.policies.authorize(
        &identity.principal(),
        &Action::Permission(route.permission.clone()),
        &Resource::Application,
        &RequestContext::default(),
    );
    if decision.allowed {
        Verdict::Allow(identity)
    } else {
        Verdict::Deny { reason: DenyReason::Forbidden, sub }
    }
}

/// The token of the one `Authorization: Bearer <token>` header.
fn bearer_token(request: &ApiGatewayCustomAuthorizerRequestTypeRequest) -> Result<&str, DenyReason> {
    let name = "authorization";
    if request.headers.get_all(name).iter().count() > 1
        || request.multi_value_headers.get_all(name).iter().count() > 1
    {
        return Err(DenyReason::BadAuthorization);
    }
    let header = request
        .headers
        .get(name)
        .or_else(|| request.multi_value_headers.get(name))
        .ok_or(DenyReason::NoAuthorization)?;
    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(DenyReason::BadAuthorization);
    }
    let value = header.to_str().map_err(|_| DenyReason::BadAuthorization)?;
    let (scheme, token) = value.split_once(' ').ok_or(DenyReason::BadAuthorization)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(char::is_whitespace) {
        return Err(DenyReason::BadAuthorization);
    }
    Ok(token)
}

/// Who a verified token says its holder is (see [`TokenIdentity::from_claims`]).
fn identity_of(
    policies: &Authorizer,
    pool: PoolKind,
    token: &VerifiedToken,
) -> Result<TokenIdentity, NotInForce> {
    TokenIdentity::from_claims(policies.model(), pool, token.sub(), token.claims(), token.groups())
}

/// `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<verb>/<path>`.
fn is_method_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some_and(|partition| !partition.is_empty())
        && parts.next() == Some("execute-api")
        && parts.next().is_some_and(|region| !region.is_empty())
        && parts.next().is_some_and(|account| !account.is_empty())
        && parts.next().is_some_and(|resource| resource.contains('/'))
}

fn policy(effect: IamPolicyEffect, resource: &str) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![resource.to_owned()];
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some("2012-10-17".to_owned());
    document.statement = vec![statement];
    document
}

fn allow_response(method_arn: &str, identity: &AllowedIdentity) -> ApiGatewayCustomAuthorizerResponse {
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(identity.sub.clone());
    response.policy_document = policy(IamPolicyEffect::Allow, method_arn);
    // API Gateway passes context values to the integration as strings, numbers or booleans only.
    response.context = json!({
        "sub": identity.sub,
        "pool": identity.pool.as_str(),
        "role": identity.role,
        "tier": identity.tiers.join(","),
        "team": identity.team.as_deref().unwrap_or(""),
    });
    response
}

/// A deny of the request's method ARN, or of everything when the event carried no usable ARN.
fn deny_response(method_arn: Option<&str>, sub: Option<&str>) -> ApiGatewayCustomAuthorizerResponse {
    let resource = method_arn.filter(|arn| is_method_arn(arn)).unwrap_or("*");
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(sub.unwrap_or(ANONYMOUS).to_owned());
    response.policy_document = policy(IamPolicyEffect::Deny, resource);
    response.context = json!({});
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_cognito_or_the_endpoint_override() {
        let mut cognito = CognitoConfig {
            region: "eu-west-1".to_owned(),
            user_pool_id: "eu-west-1_Abc".to_owned(),
            client_id: "c".to_owned(),
            client_secret: None,
            endpoint: None,
        };
        assert_eq!(issuer_of(&cognito), "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc");
        cognito.endpoint = Some("http://127.0.0.1:4566/".to_owned());
        assert_eq!(issuer_of(&cognito), "http://127.0.0.1:4566/eu-west-1_Abc");
    }

    #[test]
    fn method_arns_are_recognised() {
        assert!(is_method_arn("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/api/me"));
        assert!(is_method_arn("arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/*/*"));
        for arn in
            ["", "*", "arn:aws:lambda:eu-west-1:1:function:x", "arn:aws:execute-api:eu-west-1:1:abc", "x:y"]
        {
            assert!(!is_method_arn(arn), "{arn}");
        }
    }

    #[test]
    fn a_deny_without_an_arn_denies_everything() {
        let response = deny_response(Some("not an arn"), None);
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(value["principalId"], ANONYMOUS);
        assert_eq!(value["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(value["policyDocument"]["Statement"][0]["Resource"], json!(["*"]));
        assert_eq!(value["policyDocument"]["Version"], "2012-10-17");
    }
}
