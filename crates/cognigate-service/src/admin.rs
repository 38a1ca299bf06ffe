//! Administration of both pools by staff: what `/admin/*` and the console do.
//!
//! There is one admin system: the JSON API and the server-rendered console are two front ends over this
//! module, so a rule holds in both or in neither. Every operation has the same shape: the actor is a staff
//! member whose access token was verified and whose mirror row says they are active; the target is read from
//! the mirror; Cedar decides (`Authorizer::authorize`) with the facts of both and, where a rule needs them,
//! the role being granted and the number of active super_admins; the identity provider changes first, then
//! the mirror; and one audit event records who did what to whom and how it ended, denials included.

use std::collections::BTreeMap;
use std::sync::Arc;

use cognigate_config::PoolKind;
use cognigate_domain::authz::{Action, AdminAction, Principal, RequestContext, Resource, StaffIdentity};
use cognigate_domain::errors::ErrorCode;
use cognigate_domain::onboarding::{OnboardingEvent, OnboardingState, state_after_gates};
use cognigate_provider::{MfaSetting, PoolSummary, ProviderInfo};
use serde::{Deserialize, Serialize};

use crate::auth::{AuthService, Invitation, RequestMeta, audit_outcome, normalize_email};
use crate::error::{ServiceError, ServiceResult};
use crate::ports::{
    AuditEvent, AuditOutcome, AuditQuery, AuditStore, MirrorQuery, MirrorUser, Team, TeamStore,
};
use crate::sync::{SyncReport, sync_pool};

/// The largest page of users or audit events one call returns.
pub const MAX_PAGE: u32 = 200;

/// A signed-in staff member, as the admin operations see them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    /// The actor's own mirror row.
    pub user: MirrorUser,
}

impl Actor {
    pub fn sub(&self) -> &str {
        &self.user.sub
    }

    pub fn role(&self) -> &str {
        &self.user.role
    }

    pub fn team(&self) -> Option<&str> {
        self.user.team.as_deref()
    }
}

/// Filters of the user list; every one is optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// `customer` or `staff`.
    #[schema(value_type = Option<String>)]
    #[param(value_type = Option<String>)]
    pub pool: Option<PoolKind>,
    /// A staff role or a customer base type.
    pub role: Option<String>,
    /// `premium` (customers with the tier) or `standard` (without).
    pub tier: Option<String>,
    pub team: Option<String>,
    /// `enabled` or `disabled`.
    pub status: Option<String>,
    /// One of the eight onboarding states.
    pub onboarding: Option<String>,
    /// The start of the email address.
    pub email: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// At most this many users (default 50, at most 200).
    pub limit: Option<u32>,
}

/// One row of the user list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    #[schema(value_type = String)]
    pub pool: PoolKind,
    pub sub: String,
    pub email: String,
    pub role: String,
    pub premium: bool,
    pub team: Option<String>,
    pub onboarding: String,
    pub enabled: bool,
    pub status: String,
    pub mfa_enabled: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

impl From<&MirrorUser> for UserSummary {
    fn from(user: &MirrorUser) -> Self {
        Self {
            pool: user.pool,
            sub: user.sub.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
            premium: user.premium,
            team: user.team.clone(),
            onboarding: user.onboarding.as_str().to_owned(),
            enabled: user.enabled,
            status: user.status.clone(),
            mfa_enabled: user.mfa_enabled,
            created_at: user.created_at,
            last_login_at: user.last_login_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Everything about one account: the mirror's view and the identity provider's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDetail {
    pub user: UserSummary,
    /// The identity provider's attributes (`email`, `given_name`, `custom:*`...).
    pub attributes: BTreeMap<String, String>,
    /// The provider's groups for the account.
    pub groups: Vec<String>,
    /// MFA methods enrolled at the provider (`SOFTWARE_TOKEN_MFA`, ...).
    pub mfa_methods: Vec<String>,
    pub preferred_mfa: Option<String>,
    /// Whether the account may sign in now: enabled and in a state that signs in.
    pub can_sign_in: bool,
    /// The account's signed-in sessions, when the identity provider can list them (the embedded engine
    /// can; Cognito cannot, and then this is absent).
    pub sessions: Option<Vec<SessionView>>,
    /// The admin operations the asking staff member may perform on this account (`user.disable`, ...).
    #[schema(value_type = Vec<String>)]
    pub allowed_actions: Vec<AdminAction>,
    /// The roles the asking staff member may give this account.
    pub grantable_roles: Vec<String>,
}

/// One signed-in session (times in milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub client_id: String,
    pub signed_in_at: i64,
    pub refreshed_at: i64,
    pub expires_at: i64,
}

/// A customer account created by staff.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCustomer {
    pub email: String,
    /// `individual`, `dealer`, ...
    pub base_type: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub premium: bool,
}

/// The operations on one account that take no arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UserCommand {
    Enable,
    Disable,
    ResetPassword,
    SignOut,
    Approve,
    Reject,
    RequireMfa,
    ResetMfa,
}

impl UserCommand {
    pub const ALL: [Self; 8] = [
        Self::Enable,
        Self::Disable,
        Self::ResetPassword,
        Self::SignOut,
        Self::Approve,
        Self::Reject,
        Self::RequireMfa,
        Self::ResetMfa,
    ];

    pub fn action(self) -> AdminAction {
        match self {
            Self::Enable => AdminAction::EnableUser,
            Self::Disable => AdminAction::DisableUser,
            Self::ResetPassword => AdminAction::ResetPassword,
            Self::SignOut => AdminAction::SignOutUser,
            Self::Approve => AdminAction::Approve,
            Self::Reject => AdminAction::Reject,
            Self::RequireMfa => AdminAction::RequireMfa,
            Self::ResetMfa => AdminAction::ResetMfa,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|command| command.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "enable",
            Self::Disable => "disable",
            Self::ResetPassword => "reset-password",
            Self::SignOut => "sign-out",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::RequireMfa => "require-mfa",
            Self::ResetMfa => "reset-mfa",
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetPasswordRequest {
    pub password: String,
    /// A permanent password; otherwise it is temporary and must be changed at the next sign-in.
    #[serde(default)]
    pub permanent: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeRoleRequest {
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeTierRequest {
    pub premium: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignTeamRequest {
    /// The team, or nothing to take the account out of its team.
    pub team: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTeam {
    /// Lowercase letters, digits, `-` and `_`, starting with a letter or digit; at most 64.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub managers: Vec<UserSummary>,
    pub members: Vec<UserSummary>,
    /// Customers the team looks after.
    pub customers: u64,
}

/// Filters of the audit log.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `customer` or `staff`.
    #[schema(value_type = Option<String>)]
    #[param(value_type = Option<String>)]
    pub pool: Option<PoolKind>,
    /// The `sub` (or email) of who acted.
    pub actor: Option<String>,
    /// The `sub` (or email) the action was about.
    pub target: Option<String>,
    /// An exact action (`admin.user.disable`) or a prefix ending in `.` (`admin.`).
    pub action: Option<String>,
    /// `success`, `failure` or `denied`.
    #[schema(value_type = Option<String>)]
    #[param(value_type = Option<String>)]
    pub outcome: Option<AuditOutcome>,
    /// Milliseconds since the epoch, inclusive.
    pub from: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    pub to: Option<i64>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
    /// At most this many events (default 50, at most 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next: Option<String>,
}

/// One pool's status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolStatus {
    #[schema(value_type = String)]
    pub pool: PoolKind,
    pub display_name: String,
    /// `local` or `cognito`.
    pub provider: String,
    pub pool_id: String,
    pub client_id: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub sign_up: String,
    pub password_policy: String,
    pub mfa: String,
    pub access_token_lifetime: String,
    pub id_token_lifetime: String,
    pub refresh_token_lifetime: String,
    /// Mirror rows per onboarding state.
    pub mirror_counts: BTreeMap<String, u64>,
    pub mirror_total: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub environment: String,
    pub pools: Vec<PoolStatus>,
}

/// The result of "test connection": a round trip to each pool's identity provider and a dry run of `sync`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    pub pools: Vec<ConnectionCheck>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    #[schema(value_type = String)]
    pub pool: PoolKind,
    pub ok: bool,
    /// What the provider answered (pool name, MFA setting, estimated users), or why it failed.
    pub message: String,
    /// Milliseconds the round trip took.
    pub elapsed_ms: u64,
    /// Mirror rows `cognigate sync` would create, correct and remove.
    pub drift: Option<SyncReport>,
}

/// The admin operations over both pools.
#[derive(Debug, Clone)]
pub struct AdminService {
    customer: Arc<AuthService>,
    staff: Arc<AuthService>,
    teams: Arc<dyn TeamStore>,
    audit: Option<Arc<dyn AuditStore>>,
    environment: String,
    /// Held from counting the active super_admins to acting, by every operation that could remove one:
    /// two concurrent demotions cannot both see "two left" and leave none.
    super_admin_changes: Arc<tokio::sync::Mutex<()>>,
}

impl AdminService {
    pub fn new(
        customer: Arc<AuthService>,
        staff: Arc<AuthService>,
        teams: Arc<dyn TeamStore>,
        audit: Option<Arc<dyn AuditStore>>,
        environment: impl Into<String>,
    ) -> Self {
        Self {
            customer,
            staff,
            teams,
            audit,
            environment: environment.into(),
            super_admin_changes: Arc::default(),
        }
    }

    pub fn pool(&self, pool: PoolKind) -> &AuthService {
        match pool {
            PoolKind::Customer => &self.customer,
            PoolKind::Staff => &self.staff,
        }
    }

    /// The staff service (for the console's sign-in).
    pub fn staff(&self) -> &Arc<AuthService> {
        &self.staff
    }

    pub fn customer(&self) -> &Arc<AuthService> {
        &self.customer
    }

    // ----- who asks -----

    /// The staff member behind a staff access token. Customer tokens, expired, revoked or tampered tokens
    /// are `AUTH_FAILED`; a staff member who is not active (pending MFA, suspended, disabled) is
    /// `FORBIDDEN`.
    pub async fn authenticate(&self, access_token: &str) -> ServiceResult<Actor> {
        let caller = self.staff.authenticate(access_token).await?;
        let user = self.staff.load_or_rebuild(caller.token.sub(), access_token).await?;
        self.actor_of(user)
    }

    /// The actor for a staff mirror row: only an enabled member whose onboarding is complete acts.
    pub fn actor_of(&self, user: MirrorUser) -> ServiceResult<Actor> {
        if user.pool != PoolKind::Staff {
            return Err(ServiceError::invalid_token());
        }
        let principal = Principal::Staff(StaffIdentity {
            id: user.sub.clone(),
            role: user.role.clone(),
            team: user.team.clone(),
            active: user.enabled && user.onboarding.permissions_in_force(),
        });
        if !user.enabled || !user.onboarding.permissions_in_force() {
            return Err(ServiceError::forbidden("Your staff account is not active."));
        }
        Ok(Actor { principal, user })
    }

    /// Whether the actor may perform `action` at all, on some account or team (for menus).
    pub fn may_ever(&self, actor: &Actor, action: AdminAction) -> bool {
        let model = self.staff.shared.authorizer.model();
        let permissions = model.permissions_of(PoolKind::Staff, actor.role(), &[]);
        permissions.contains(action.permission())
    }

    fn decide(
        &self,
        actor: &Actor,
        action: AdminAction,
        resource: &Resource,
        context: &RequestContext,
    ) -> bool {
        self.staff
            .shared
            .authorizer
            .authorize(&actor.principal, &Action::Admin(action), resource, context)
            .allowed
    }

    /// Records an admin action's outcome, then passes the result on.
    async fn finish<T>(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        action: AdminAction,
        target: Option<&str>,
        result: ServiceResult<T>,
    ) -> ServiceResult<T> {
        let (outcome, detail) = audit_outcome(&result);
        let name = format!("admin.{}", action.id());
        self.pool(pool)
            .audit(meta, &name, outcome, Some(actor.sub()), Some(actor.role()), target, detail)
            .await;
        result
    }

    async fn target(&self, pool: PoolKind, sub: &str) -> ServiceResult<MirrorUser> {
        self.pool(pool)
            .mirror()
            .get_mirror(pool, sub)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, "No such user."))
    }

    async fn active_super_admins(&self) -> ServiceResult<u64> {
        let query = MirrorQuery {
            pool: Some(PoolKind::Staff),
            role: Some(cognigate_config::SUPER_ADMIN.to_owned()),
            enabled: Some(true),
            limit: 1000,
            ..MirrorQuery::default()
        };
        let rows = self.staff.mirror().list_mirror(&query).await?;
        Ok(rows.iter().filter(|u| u.onboarding.permissions_in_force()).count() as u64)
    }

    /// The request context the rules need for `action` on `target`.
    async fn context_for(
        &self,
        action: AdminAction,
        target: &MirrorUser,
        granted_role: Option<&str>,
    ) -> ServiceResult<RequestContext> {
        Ok(RequestContext {
            granted_role: match target.pool {
                PoolKind::Staff => granted_role.map(str::to_owned),
                PoolKind::Customer => None,
            },
            active_super_admins: if removes_super_admin(action, target) {
                Some(self.active_super_admins().await?)
            } else {
                None
            },
            ..RequestContext::default()
        })
    }

    /// While an operation that could remove a super_admin runs, no other such operation does (they count
    /// the active super_admins, then act); `None` for every other operation.
    async fn serialize_super_admin_changes(
        &self,
        action: AdminAction,
        target: &MirrorUser,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        if removes_super_admin(action, target) {
            Some(self.super_admin_changes.clone().lock_owned().await)
        } else {
            None
        }
    }

    /// Decides `action` on `target` for `actor`; `FORBIDDEN` when Cedar says no.
    async fn authorize_on(
        &self,
        actor: &Actor,
        action: AdminAction,
        target: &MirrorUser,
        granted_role: Option<&str>,
    ) -> ServiceResult<()> {
        let context = self.context_for(action, target, granted_role).await?;
        let resource = self.pool(target.pool).resource_of(target);
        if self.decide(actor, action, &resource, &context) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(denial(action)))
        }
    }

    // ----- reading users -----

    /// A page of users the actor may see, filtered. A team-scoped actor (a manager) only ever gets the
    /// accounts of their own team, whatever the filter asks.
    pub async fn list_users(&self, actor: &Actor, filter: &UserFilter) -> ServiceResult<UserPage> {
        if !self.may_ever(actor, AdminAction::ReadUser) {
            return Err(ServiceError::forbidden(denial(AdminAction::ReadUser)));
        }
        let limit = filter.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let mut query = MirrorQuery {
            pool: filter.pool,
            role: filter.role.clone().filter(|r| !r.is_empty()),
            team: filter.team.clone().filter(|t| !t.is_empty()),
            onboarding: match filter.onboarding.as_deref().filter(|s| !s.is_empty()) {
                Some(text) => {
                    Some(OnboardingState::parse(text).ok_or_else(|| {
                        ServiceError::validation(format!("unknown onboarding state `{text}`"))
                    })?)
                }
                None => None,
            },
            premium: match filter.tier.as_deref().filter(|s| !s.is_empty()) {
                Some("premium") => Some(true),
                Some("standard") => Some(false),
                Some(other) => {
                    return Err(ServiceError::validation(format!(
                        "tier must be `premium` or `standard`, not `{other}`"
                    )));
                }
                None => None,
            },
            enabled: match filter.status.as_deref().filter(|s| !s.is_empty()) {
                Some("enabled") => Some(true),
                Some("disabled") => Some(false),
                Some(other) => {
                    return Err(ServiceError::validation(format!(
                        "status must be `enabled` or `disabled`, not `{other}`"
                    )));
                }
                None => None,
            },
            email_prefix: filter.email.as_deref().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()),
            after: filter.after.clone().filter(|a| !a.is_empty()),
            limit: limit + 1,
        };
        if self.is_team_scoped(actor) {
            match (actor.team(), &query.team) {
                (Some(own), Some(asked)) if asked != own => {
                    return Ok(UserPage { users: Vec::new(), next: None });
                }
                (Some(own), _) => query.team = Some(own.to_owned()),
                (None, _) => return Ok(UserPage { users: Vec::new(), next: None }),
            }
        }
        let mut rows = self.customer.mirror().list_mirror(&query).await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|u| u.sub.clone())
        } else {
            None
        };
        let users = rows
            .iter()
            .filter(|user| {
                let resource = self.pool(user.pool).resource_of(user);
                self.decide(actor, AdminAction::ReadUser, &resource, &RequestContext::default())
            })
            .map(UserSummary::from)
            .collect();
        Ok(UserPage { users, next })
    }

    /// Whether the actor's role acts only within its team (a manager).
    pub fn is_team_scoped(&self, actor: &Actor) -> bool {
        self.staff
            .shared
            .authorizer
            .model()
            .pool(PoolKind::Staff)
            .roles
            .get(actor.role())
            .is_some_and(|role| role.team_scoped)
    }

    /// One account in full, with what the actor may do to it.
    pub async fn user_detail(&self, actor: &Actor, pool: PoolKind, sub: &str) -> ServiceResult<UserDetail> {
        let target = self.target(pool, sub).await?;
        self.authorize_on(actor, AdminAction::ReadUser, &target, None).await?;
        let provider = self.pool(pool).provider();
        let record = provider.admin_get_user(&target.username).await?;
        let groups = provider.admin_list_groups_for_user(&target.username).await.unwrap_or_default();
        let sessions = provider.admin_list_sessions(&target.username).await?.map(|sessions| {
            sessions
                .into_iter()
                .map(|s| SessionView {
                    client_id: s.client_id,
                    signed_in_at: s.signed_in_ms,
                    refreshed_at: s.refreshed_ms,
                    expires_at: s.expires_ms,
                })
                .collect()
        });
        let mut allowed_actions = Vec::new();
        for action in AdminAction::ALL {
            if matches!(
                action,
                AdminAction::ReadAudit
                    | AdminAction::ExportAudit
                    | AdminAction::ReadStatus
                    | AdminAction::CreateUser
                    | AdminAction::InviteStaff
                    | AdminAction::ReadUser
            ) {
                continue;
            }
            if !applies(action, &target) {
                continue;
            }
            let mfa_required = self.pool(pool).settings().mfa.mode == cognigate_config::MfaMode::Required;
            if action == AdminAction::ResetMfa && mfa_required {
                continue;
            }
            let role = (action == AdminAction::ChangeRole).then(|| target.role.clone());
            let context = self.context_for(action, &target, role.as_deref()).await?;
            let resource = self.pool(pool).resource_of(&target);
            if action == AdminAction::ChangeRole {
                // Offered when some other role may be given.
                if !self.grantable_roles(actor, &target).await?.is_empty() {
                    allowed_actions.push(action);
                }
            } else if self.decide(actor, action, &resource, &context) {
                allowed_actions.push(action);
            }
        }
        let grantable_roles = self.grantable_roles(actor, &target).await?;
        Ok(UserDetail {
            user: UserSummary::from(&target),
            attributes: record.attributes.clone(),
            groups,
            mfa_methods: record.mfa_methods.clone(),
            preferred_mfa: record.preferred_mfa.clone(),
            can_sign_in: target.enabled
                && !matches!(
                    target.onboarding.sign_in(),
                    cognigate_domain::onboarding::SignInAccess::Refused
                ),
            sessions,
            allowed_actions,
            grantable_roles,
        })
    }

    /// The roles (other than the current one) the actor may give `target`.
    async fn grantable_roles(&self, actor: &Actor, target: &MirrorUser) -> ServiceResult<Vec<String>> {
        let model = self.staff.shared.authorizer.model();
        let mut roles = Vec::new();
        for role in model.pool(target.pool).roles.keys() {
            if *role == target.role {
                continue;
            }
            let context = self.context_for(AdminAction::ChangeRole, target, Some(role)).await?;
            let resource = self.pool(target.pool).resource_of(target);
            if self.decide(actor, AdminAction::ChangeRole, &resource, &context) {
                roles.push(role.clone());
            }
        }
        Ok(roles)
    }

    /// The `sub` of the account with this email in `pool`, if the actor may see it.
    pub async fn find_by_email(&self, actor: &Actor, pool: PoolKind, email: &str) -> ServiceResult<String> {
        let email = normalize_email(email)?;
        let user = self
            .pool(pool)
            .mirror()
            .find_mirror_by_email(pool, &email)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, "No such user."))?;
        self.authorize_on(actor, AdminAction::ReadUser, &user, None).await?;
        Ok(user.sub)
    }

    /// The staff roles the actor may invite someone with (into their own team, for a manager).
    pub fn invitable_roles(&self, actor: &Actor) -> Vec<String> {
        let model = self.staff.shared.authorizer.model();
        model
            .pool(PoolKind::Staff)
            .roles
            .keys()
            .filter(|role| {
                let target = Resource::Staff(StaffIdentity {
                    id: String::new(),
                    role: (*role).clone(),
                    team: actor.team().map(str::to_owned),
                    active: false,
                });
                let context =
                    RequestContext { granted_role: Some((*role).clone()), ..RequestContext::default() };
                self.decide(actor, AdminAction::InviteStaff, &target, &context)
            })
            .cloned()
            .collect()
    }

    // ----- creating accounts -----

    /// Invites a staff member (temporary password by email → FORCE_CHANGE_PASSWORD → MFA setup).
    pub async fn invite_staff(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        invitation: Invitation,
    ) -> ServiceResult<UserSummary> {
        if let Some(team) = &invitation.team {
            self.require_team(team).await?;
        }
        let user = self.staff.invite_staff(meta, Some(&actor.principal), invitation).await?;
        Ok(UserSummary::from(&user))
    }

    /// Creates a customer account: an invitation with a temporary password, sent by the provider. Staff
    /// created it, so the approval gate is passed; a premium customer created here is premium at once.
    pub async fn create_customer(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        request: NewCustomer,
    ) -> ServiceResult<UserSummary> {
        let email = normalize_email(&request.email);
        let target_name = email.clone().unwrap_or_default();
        let result = async {
            let email = email?;
            let model = self.staff.shared.authorizer.model().pool(PoolKind::Customer);
            if !model.roles.contains_key(&request.base_type) {
                return Err(ServiceError::validation(format!(
                    "baseType must be one of {:?}",
                    model.roles.keys().collect::<Vec<_>>()
                )));
            }
            let team = request.team.clone().filter(|t| !t.is_empty());
            if let Some(team) = &team {
                self.require_team(team).await?;
            }
            let resource = Resource::Customer(cognigate_domain::authz::CustomerIdentity {
                id: String::new(),
                base: request.base_type.clone(),
                tiers: if request.premium { vec!["premium".to_owned()] } else { Vec::new() },
                team: team.clone(),
                active: false,
            });
            if !self.decide(actor, AdminAction::CreateUser, &resource, &RequestContext::default()) {
                return Err(ServiceError::forbidden(denial(AdminAction::CreateUser)));
            }
            if request.premium
                && !self.decide(actor, AdminAction::ChangeTier, &resource, &RequestContext::default())
            {
                return Err(ServiceError::forbidden(denial(AdminAction::ChangeTier)));
            }
            let mut attributes = BTreeMap::from([("custom:base_type".to_owned(), request.base_type.clone())]);
            if let Some(team) = &team {
                attributes.insert("custom:team".to_owned(), team.clone());
            }
            if request.premium {
                attributes.insert("custom:tier".to_owned(), "premium".to_owned());
            }
            // Staff created it: the approval gate is passed; the provider sends the invitation.
            let user = self.customer.provision(&email, &attributes, None, true).await?;
            Ok(UserSummary::from(&user))
        }
        .await;
        self.finish(meta, actor, PoolKind::Customer, AdminAction::CreateUser, Some(&target_name), result)
            .await
    }

    // ----- acting on one account -----

    /// One of the argument-free operations on an account.
    pub async fn run(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        sub: &str,
        command: UserCommand,
    ) -> ServiceResult<UserSummary> {
        if matches!(command, UserCommand::Approve | UserCommand::Reject) {
            let approve = command == UserCommand::Approve;
            let user = self.pool(pool).decide_approval(meta, &actor.principal, sub, approve).await?;
            return Ok(UserSummary::from(&user));
        }
        let action = command.action();
        let result = async {
            let _serialized =
                self.serialize_super_admin_changes(action, &self.target(pool, sub).await?).await;
            let mut target = self.target(pool, sub).await?;
            self.authorize_on(actor, action, &target, None).await?;
            let service = self.pool(pool);
            let provider = service.provider();
            match command {
                UserCommand::Disable => {
                    provider.admin_disable_user(&target.username).await?;
                    target.enabled = false;
                    if let Ok(next) = cognigate_domain::onboarding::transition(
                        target.onboarding,
                        OnboardingEvent::Disabled,
                        &service.gates_of(&target),
                        &AuthService::facts_of(&target),
                    ) {
                        target.onboarding = next;
                    }
                    service.end_sessions(&target.sub, &target.username).await;
                }
                UserCommand::Enable => {
                    provider.admin_enable_user(&target.username).await?;
                    target.enabled = true;
                    if target.onboarding == OnboardingState::Disabled {
                        target.onboarding =
                            state_after_gates(&service.gates_of(&target), &AuthService::facts_of(&target));
                    }
                }
                UserCommand::ResetPassword => {
                    provider.admin_reset_user_password(&target.username).await?;
                    target.status = "RESET_REQUIRED".to_owned();
                    service.end_sessions(&target.sub, &target.username).await;
                }
                UserCommand::SignOut => service.end_sessions(&target.sub, &target.username).await,
                UserCommand::RequireMfa => {
                    if !target.mfa_enabled {
                        return Err(ServiceError::new(
                            ErrorCode::MfaNotSetUp,
                            "The account has no authenticator app enrolled: MFA can only be required once it \
                             has one. Staff accounts enrol at their first sign-in.",
                        ));
                    }
                    provider
                        .admin_set_mfa_preference(
                            &target.username,
                            MfaSetting { enabled: true, preferred: true },
                        )
                        .await?;
                }
                UserCommand::ResetMfa => {
                    // The authenticator (and its recovery codes) goes; where MFA is required, the next
                    // sign-in enrols a new one (MFA_SETUP), so a lost authenticator never means deleting
                    // and inviting the account again.
                    provider
                        .admin_set_mfa_preference(
                            &target.username,
                            MfaSetting { enabled: false, preferred: false },
                        )
                        .await?;
                    service.forget_recovery_codes(&target.sub).await?;
                    target.mfa_enabled = false;
                    service.end_sessions(&target.sub, &target.username).await;
                }
                // Decided by `decide_approval` above.
                UserCommand::Approve | UserCommand::Reject => {}
            }
            target.updated_at = service.now_ms();
            service.save(&target).await?;
            Ok(UserSummary::from(&target))
        }
        .await;
        self.finish(meta, actor, pool, action, Some(sub), result).await
    }

    /// Deletes an account at the identity provider and its mirror row.
    pub async fn delete_user(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        sub: &str,
    ) -> ServiceResult<()> {
        let result = async {
            let _serialized =
                self.serialize_super_admin_changes(AdminAction::DeleteUser, &self.target(pool, sub).await?).await;
            let target = self.target(pool, sub).await?;
            self.authorize_on(actor, AdminAction::DeleteUser, &target, None).await?;
            let service = self.pool(pool);
            // Tokens issued until now stop working here at once; the provider's deletion ends the rest.
            service.parts.revocations.revoke_subject_until(&target.sub, service.now().saturating_sub(1));
            service.provider().admin_delete_user(&target.username).await?;
            if let Err(error) = service.mirror().delete_mirror(pool, sub).await {
                tracing::error!(error = %error, "a deleted account's mirror row stayed; `cognigate sync` will remove it");
            }
            Ok(())
        }
        .await;
        self.finish(meta, actor, pool, AdminAction::DeleteUser, Some(sub), result).await
    }

    /// Sets a password, permanent or temporary (the next sign-in must change it).
    pub async fn set_password(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        sub: &str,
        request: SetPasswordRequest,
    ) -> ServiceResult<UserSummary> {
        let result = async {
            let mut target = self.target(pool, sub).await?;
            // A permanent password is a rule of its own (only a super_admin sets one): the context says
            // which kind this is.
            let mut context = self.context_for(AdminAction::SetPassword, &target, None).await?;
            context.permanent_password = Some(request.permanent);
            let resource = self.pool(pool).resource_of(&target);
            if !self.decide(actor, AdminAction::SetPassword, &resource, &context) {
                return Err(ServiceError::forbidden(if request.permanent {
                    "Only a super_admin may set a permanent password; set a temporary one (changed at the next sign-in)."
                        .to_owned()
                } else {
                    denial(AdminAction::SetPassword)
                }));
            }
            let service = self.pool(pool);
            service
                .provider()
                .admin_set_user_password(&target.username, &request.password, request.permanent)
                .await?;
            target.status = if request.permanent { "CONFIRMED" } else { "FORCE_CHANGE_PASSWORD" }.to_owned();
            target.updated_at = service.now_ms();
            service.end_sessions(&target.sub, &target.username).await;
            service.save(&target).await?;
            Ok(UserSummary::from(&target))
        }
        .await;
        self.finish(meta, actor, pool, AdminAction::SetPassword, Some(sub), result).await
    }

    /// Changes a staff role or a customer base type. The role attribute at the provider first (the next
    /// tokens carry it), the provider's groups, then the mirror; the account's sessions end so no token
    /// keeps the old role.
    pub async fn change_role(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        sub: &str,
        request: ChangeRoleRequest,
    ) -> ServiceResult<UserSummary> {
        let result = async {
            let mut target = self.target(pool, sub).await?;
            let model = self.staff.shared.authorizer.model().pool(pool);
            if !model.roles.contains_key(&request.role) {
                return Err(ServiceError::validation(format!(
                    "role must be one of {:?}",
                    model.roles.keys().collect::<Vec<_>>()
                )));
            }
            let _serialized = self.serialize_super_admin_changes(AdminAction::ChangeRole, &target).await;
            target = self.target(pool, sub).await?;
            self.authorize_on(actor, AdminAction::ChangeRole, &target, Some(&request.role)).await?;
            if target.role == request.role {
                return Ok(UserSummary::from(&target));
            }
            let service = self.pool(pool);
            let attribute = match pool {
                PoolKind::Customer => "custom:base_type",
                PoolKind::Staff => "custom:role",
            };
            let provider = service.provider();
            provider
                .admin_update_user_attributes(
                    &target.username,
                    &BTreeMap::from([(attribute.to_owned(), request.role.clone())]),
                )
                .await?;
            let groups = provider.admin_list_groups_for_user(&target.username).await.unwrap_or_default();
            if groups.contains(&target.role)
                && let Err(error) = provider.admin_remove_user_from_group(&target.username, &target.role).await
            {
                tracing::warn!(error = %error, "the old role's group could not be left");
            }
            if let Err(error) = provider.admin_add_user_to_group(&target.username, &request.role).await {
                tracing::debug!(error = %error, "no group for the new role");
            }
            let previous = std::mem::replace(&mut target.role, request.role.clone());
            // A customer's new base type may bring its own gates (a dealer waits for approval unless it had
            // one); states that are not about gates stay as they are.
            if pool == PoolKind::Customer
                && matches!(
                    target.onboarding,
                    OnboardingState::Active
                        | OnboardingState::PendingApproval
                        | OnboardingState::PendingMfa
                        | OnboardingState::PendingSubscription
                )
            {
                target.onboarding = state_after_gates(&service.gates_of(&target), &AuthService::facts_of(&target));
            }
            target.updated_at = service.now_ms();
            service.end_sessions(&target.sub, &target.username).await;
            if let Err(error) = service.save(&target).await {
                let undo = BTreeMap::from([(attribute.to_owned(), previous)]);
                if let Err(undo) = provider.admin_update_user_attributes(&target.username, &undo).await {
                    tracing::error!(error = %undo, "the role could not be put back; `cognigate sync` will repair it");
                }
                return Err(error);
            }
            Ok(UserSummary::from(&target))
        }
        .await;
        self.finish(meta, actor, pool, AdminAction::ChangeRole, Some(sub), result).await
    }

    /// Turns premium on or off for a customer (as billing would).
    pub async fn change_tier(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        sub: &str,
        request: ChangeTierRequest,
    ) -> ServiceResult<UserSummary> {
        let result = async {
            if pool != PoolKind::Customer {
                return Err(ServiceError::validation("tiers are for customers"));
            }
            let target = self.target(pool, sub).await?;
            self.authorize_on(actor, AdminAction::ChangeTier, &target, None).await?;
            let user = self.customer.set_subscription(sub, request.premium).await?;
            Ok(UserSummary::from(&user))
        }
        .await;
        self.finish(meta, actor, pool, AdminAction::ChangeTier, Some(sub), result).await
    }

    /// Puts an account in a team (or takes it out). The actor must be allowed to manage both the account
    /// and the team it goes to: a manager moves people only within their own team.
    pub async fn assign_team(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        pool: PoolKind,
        sub: &str,
        request: AssignTeamRequest,
    ) -> ServiceResult<UserSummary> {
        let result = async {
            let mut target = self.target(pool, sub).await?;
            let team = request.team.filter(|t| !t.is_empty());
            if let Some(team) = &team {
                self.require_team(team).await?;
                let resource = Resource::Team { name: team.clone() };
                if !self.decide(actor, AdminAction::ManageTeam, &resource, &RequestContext::default()) {
                    return Err(ServiceError::forbidden(denial(AdminAction::ManageTeam)));
                }
            }
            self.authorize_on(actor, AdminAction::ManageTeam, &target, None).await?;
            if target.team == team {
                return Ok(UserSummary::from(&target));
            }
            let service = self.pool(pool);
            let value = team.clone().unwrap_or_default();
            service
                .provider()
                .admin_update_user_attributes(
                    &target.username,
                    &BTreeMap::from([("custom:team".to_owned(), value)]),
                )
                .await?;
            target.team = team;
            target.updated_at = service.now_ms();
            service.save(&target).await?;
            Ok(UserSummary::from(&target))
        }
        .await;
        self.finish(meta, actor, pool, AdminAction::ManageTeam, Some(sub), result).await
    }

    // ----- teams -----

    async fn require_team(&self, name: &str) -> ServiceResult<Team> {
        self.teams
            .get_team(name)
            .await?
            .ok_or_else(|| ServiceError::validation(format!("there is no team `{name}`: create it first")))
    }

    pub async fn create_team(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        request: NewTeam,
    ) -> ServiceResult<Team> {
        let name = request.name.trim().to_owned();
        let result = async {
            if !valid_team_name(&name) {
                return Err(ServiceError::validation(
                    "a team name is 1 to 64 lowercase letters, digits, `-` or `_`, starting with a letter or digit",
                ));
            }
            if request.description.chars().count() > 200 {
                return Err(ServiceError::validation("a team description is at most 200 characters"));
            }
            let resource = Resource::Team { name: name.clone() };
            if !self.decide(actor, AdminAction::ManageTeam, &resource, &RequestContext::default()) {
                return Err(ServiceError::forbidden(denial(AdminAction::ManageTeam)));
            }
            let team =
                Team { name: name.clone(), description: request.description.trim().to_owned(), created_at: self.staff.now_ms() };
            if !self.teams.create_team(&team).await? {
                return Err(ServiceError::new(ErrorCode::Conflict, format!("the team `{name}` exists already")));
            }
            Ok(team)
        }
        .await;
        self.finish(meta, actor, PoolKind::Staff, AdminAction::ManageTeam, Some(&name), result).await
    }

    /// The teams the actor may see, with their people.
    pub async fn list_teams(&self, actor: &Actor) -> ServiceResult<Vec<TeamView>> {
        let mut views = Vec::new();
        for team in self.teams.list_teams().await? {
            let resource = Resource::Team { name: team.name.clone() };
            if !self.decide(actor, AdminAction::ReadUser, &resource, &RequestContext::default()) {
                continue;
            }
            let staff = self
                .staff
                .mirror()
                .list_mirror(&MirrorQuery {
                    pool: Some(PoolKind::Staff),
                    team: Some(team.name.clone()),
                    limit: 1000,
                    ..MirrorQuery::default()
                })
                .await?;
            let customers = self
                .customer
                .mirror()
                .list_mirror(&MirrorQuery {
                    pool: Some(PoolKind::Customer),
                    team: Some(team.name.clone()),
                    limit: 1000,
                    ..MirrorQuery::default()
                })
                .await?
                .len() as u64;
            let (managers, members): (Vec<_>, Vec<_>) =
                staff.iter().map(UserSummary::from).partition(|u| self.role_is_team_scoped(&u.role));
            views.push(TeamView {
                name: team.name,
                description: team.description,
                created_at: team.created_at,
                managers,
                members,
                customers,
            });
        }
        Ok(views)
    }

    fn role_is_team_scoped(&self, role: &str) -> bool {
        self.staff
            .shared
            .authorizer
            .model()
            .pool(PoolKind::Staff)
            .roles
            .get(role)
            .is_some_and(|r| r.team_scoped)
    }

    /// The team names the actor may assign (for forms): every team for those who manage teams across the
    /// installation, their own for a team-scoped role, none for the rest.
    pub async fn team_names(&self, actor: &Actor) -> ServiceResult<Vec<String>> {
        if !self.may_ever(actor, AdminAction::ManageTeam) {
            return Ok(Vec::new());
        }
        if self.is_team_scoped(actor) {
            return Ok(actor.team().map(str::to_owned).into_iter().collect());
        }
        Ok(self.teams.list_teams().await?.into_iter().map(|t| t.name).collect())
    }

    // ----- audit -----

    pub async fn audit_page(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        filter: &AuditFilter,
    ) -> ServiceResult<AuditPage> {
        let result = async {
            if !self.decide(actor, AdminAction::ReadAudit, &Resource::Application, &RequestContext::default())
            {
                return Err(ServiceError::forbidden(denial(AdminAction::ReadAudit)));
            }
            let limit = filter.limit.unwrap_or(50).clamp(1, MAX_PAGE);
            let mut query = audit_query(filter)?;
            query.limit = limit + 1;
            let mut events = self.audit_store()?.query_audit(&query).await?;
            let next = if events.len() > limit as usize {
                events.truncate(limit as usize);
                events.last().map(|e| format!("{}:{}", e.at, e.id))
            } else {
                None
            };
            Ok(AuditPage { events, next })
        }
        .await;
        // Reading the log is itself only audited when refused: a page view per read would drown it.
        if result.as_ref().is_err_and(|e| e.code == ErrorCode::Forbidden) {
            return self.finish(meta, actor, PoolKind::Staff, AdminAction::ReadAudit, None, result).await;
        }
        result
    }

    /// Every event matching the filter, newest first, in pages of `MAX_PAGE` handed to `sink` (for an
    /// NDJSON download that never holds the whole log in memory).
    pub async fn export_audit<F>(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        filter: &AuditFilter,
        mut sink: F,
    ) -> ServiceResult<u64>
    where
        F: FnMut(Vec<AuditEvent>) -> bool + Send,
    {
        let result = async {
            if !self.decide(
                actor,
                AdminAction::ExportAudit,
                &Resource::Application,
                &RequestContext::default(),
            ) {
                return Err(ServiceError::forbidden(denial(AdminAction::ExportAudit)));
            }
            let store = self.audit_store()?;
            let mut query = audit_query(filter)?;
            query.limit = MAX_PAGE;
            let mut total = 0u64;
            loop {
                let events = store.query_audit(&query).await?;
                let last = events.last().map(|e| (e.at, e.id.clone()));
                let count = events.len();
                total += count as u64;
                if !sink(events) || count < MAX_PAGE as usize {
                    break;
                }
                query.before = last;
            }
            Ok(total)
        }
        .await;
        self.finish(meta, actor, PoolKind::Staff, AdminAction::ExportAudit, None, result).await
    }

    fn audit_store(&self) -> ServiceResult<&Arc<dyn AuditStore>> {
        self.audit.as_ref().ok_or_else(|| {
            ServiceError::new(ErrorCode::NotFound, "The audit log is not stored (no `store` audit sink).")
        })
    }

    // ----- status -----

    pub async fn status(&self, actor: &Actor) -> ServiceResult<StatusReport> {
        if !self.decide(actor, AdminAction::ReadStatus, &Resource::Application, &RequestContext::default()) {
            return Err(ServiceError::forbidden(denial(AdminAction::ReadStatus)));
        }
        let mut pools = Vec::new();
        for service in [&self.customer, &self.staff] {
            let settings = service.settings();
            let info: &ProviderInfo = service.provider().info();
            let counts = service.mirror().count_mirror(service.pool()).await?;
            let mirror_total = counts.iter().map(|(_, n)| n).sum();
            let password = &settings.password;
            let mut classes = Vec::new();
            for (on, name) in [
                (password.require_lowercase, "lowercase"),
                (password.require_uppercase, "uppercase"),
                (password.require_digits, "digits"),
                (password.require_symbols, "symbols"),
            ] {
                if on {
                    classes.push(name);
                }
            }
            pools.push(PoolStatus {
                pool: service.pool(),
                display_name: settings.display_name.clone(),
                provider: info.kind.to_owned(),
                pool_id: info.pool_id.clone(),
                client_id: info.client_id.clone(),
                region: info.region.clone(),
                endpoint: info.endpoint.clone(),
                sign_up: to_text(&settings.sign_up),
                password_policy: format!(
                    "at least {} characters{}",
                    password.min_length,
                    if classes.is_empty() { String::new() } else { format!(", with {}", classes.join(", ")) }
                ),
                mfa: format!(
                    "{} ({})",
                    to_text(&settings.mfa.mode),
                    settings.mfa.methods.iter().map(to_text).collect::<Vec<_>>().join(", ")
                ),
                access_token_lifetime: settings.tokens.access.to_string(),
                id_token_lifetime: settings.tokens.id.to_string(),
                refresh_token_lifetime: settings.tokens.refresh.to_string(),
                mirror_counts: counts.iter().map(|(state, n)| (state.as_str().to_owned(), *n)).collect(),
                mirror_total,
            });
        }
        Ok(StatusReport { environment: self.environment.clone(), pools })
    }

    /// "Test connection": a round trip to each pool's identity provider and a dry run of `cognigate sync`.
    pub async fn test_connection(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
    ) -> ServiceResult<ConnectionReport> {
        let result = async {
            if !self.decide(
                actor,
                AdminAction::ReadStatus,
                &Resource::Application,
                &RequestContext::default(),
            ) {
                return Err(ServiceError::forbidden(denial(AdminAction::ReadStatus)));
            }
            let mut pools = Vec::new();
            for service in [&self.customer, &self.staff] {
                let started = std::time::Instant::now();
                let answer = service.provider().check().await;
                let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                let check = match answer {
                    Ok(summary) => ConnectionCheck {
                        pool: service.pool(),
                        ok: true,
                        message: describe(&summary),
                        elapsed_ms,
                        drift: sync_pool(service, true).await.ok(),
                    },
                    Err(error) => ConnectionCheck {
                        pool: service.pool(),
                        ok: false,
                        message: format!("{}: {}", error.code.as_str(), error.message),
                        elapsed_ms,
                        drift: None,
                    },
                };
                pools.push(check);
            }
            Ok(ConnectionReport { pools })
        }
        .await;
        self.finish(meta, actor, PoolKind::Staff, AdminAction::ReadStatus, None, result).await
    }
}

/// Whether `action` could leave the installation without an active super_admin.
fn removes_super_admin(action: AdminAction, target: &MirrorUser) -> bool {
    target.pool == PoolKind::Staff
        && target.role == cognigate_config::SUPER_ADMIN
        && matches!(action, AdminAction::DisableUser | AdminAction::DeleteUser | AdminAction::ChangeRole)
}

/// Whether an operation makes sense for this account at all (before asking whether the actor may).
fn applies(action: AdminAction, target: &MirrorUser) -> bool {
    match action {
        // A rejection is final: the account stays disabled.
        AdminAction::EnableUser => !target.enabled && target.onboarding != OnboardingState::Rejected,
        AdminAction::DisableUser => target.enabled,
        AdminAction::Approve | AdminAction::Reject => target.onboarding == OnboardingState::PendingApproval,
        AdminAction::ChangeTier => target.pool == PoolKind::Customer,
        AdminAction::RequireMfa => target.mfa_enabled,
        AdminAction::ResetMfa => target.mfa_enabled,
        _ => true,
    }
}

fn audit_query(filter: &AuditFilter) -> ServiceResult<AuditQuery> {
    let before = match filter.before.as_deref().filter(|b| !b.is_empty()) {
        Some(cursor) => {
            let (at, id) =
                cursor.split_once(':').ok_or_else(|| ServiceError::validation("before: not a cursor"))?;
            let at = at.parse::<i64>().map_err(|_| ServiceError::validation("before: not a cursor"))?;
            Some((at, id.to_owned()))
        }
        None => None,
    };
    let nonempty =
        |value: &Option<String>| value.clone().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    Ok(AuditQuery {
        pool: filter.pool,
        actor: nonempty(&filter.actor),
        target: nonempty(&filter.target),
        action: nonempty(&filter.action),
        outcome: filter.outcome,
        from: filter.from,
        to: filter.to,
        before,
        limit: MAX_PAGE,
    })
}

fn valid_team_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The refusal of an admin operation: what was refused, never why in terms of the other account.
fn denial(action: AdminAction) -> String {
    format!("You may not do this: {}.", action.description().to_lowercase())
}

fn to_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn describe(summary: &PoolSummary) -> String {
    let users = summary.estimated_users.map(|n| format!(", about {n} users")).unwrap_or_default();
    format!(
        "reached pool `{}` ({}): MFA {}, passwords of at least {} characters{users}",
        summary.name, summary.pool_id, summary.mfa_configuration, summary.password_minimum_length
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_names() {
        for good in ["sales-east", "a", "team_2", "0x"] {
            assert!(valid_team_name(good), "{good}");
        }
        for bad in ["", "Sales", "-east", "east side", "é", &"a".repeat(65)] {
            assert!(!valid_team_name(bad), "{bad}");
        }
    }

    #[test]
    fn commands_round_trip_through_their_names() {
        for command in UserCommand::ALL {
            assert_eq!(UserCommand::parse(command.as_str()), Some(command));
            let json = serde_json::to_string(&command).unwrap();
            assert_eq!(json, format!("\"{}\"", command.as_str()));
        }
        assert_eq!(UserCommand::parse("promote"), None);
    }

    #[test]
    fn audit_cursors() {
        let filter = AuditFilter { before: Some("1700:abc".into()), ..AuditFilter::default() };
        assert_eq!(audit_query(&filter).unwrap().before, Some((1700, "abc".into())));
        for bad in ["1700", "x:abc"] {
            let filter = AuditFilter { before: Some(bad.into()), ..AuditFilter::default() };
            assert_eq!(audit_query(&filter).unwrap_err().code, ErrorCode::Validation);
        }
    }
}
