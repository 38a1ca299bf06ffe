//! The shape of an authorization question and its answer.
//!
//! These are plain data so any front end can build them: the HTTP API from a verified token and the user
//! mirror, the Lambda authorizer from a token and the route table, the console from its session. Identity
//! facts that matter to a rule (role, team, tier, active) travel in the request; nothing is looked up during
//! a decision, which keeps `authorize` pure and synchronous.

use serde::{Deserialize, Serialize};

use crate::PoolKind;

/// A customer, as a principal or as the target of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerIdentity {
    /// The identity provider's `sub`.
    pub id: String,
    /// The base type: `individual`, `dealer`, ...
    pub base: String,
    /// Tiers laid over the base type, e.g. `["premium"]`.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// The staff team that looks after the account (e.g. a dealer's sales team), if any: a team-scoped
    /// manager reaches the customers of their own team and no others.
    #[serde(default)]
    pub team: Option<String>,
    /// False when the account is disabled, suspended or otherwise not allowed to act.
    pub active: bool,
}

/// A staff member, as a principal or as the target of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffIdentity {
    /// The identity provider's `sub`.
    pub id: String,
    /// `super_admin`, `admin`, `manager`, `team_member`, ...
    pub role: String,
    /// The team the staff member belongs to, if any.
    #[serde(default)]
    pub team: Option<String>,
    /// False when the account is disabled, suspended or otherwise not allowed to act.
    pub active: bool,
}

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pool", rename_all = "snake_case")]
pub enum Principal {
    Customer(CustomerIdentity),
    Staff(StaffIdentity),
}

impl Principal {
    pub fn pool(&self) -> PoolKind {
        match self {
            Self::Customer(_) => PoolKind::Customer,
            Self::Staff(_) => PoolKind::Staff,
        }
    }
}

/// What the action is done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Resource {
    /// The application as a whole: a route, a page, a feature.
    Application,
    /// A customer account.
    Customer(CustomerIdentity),
    /// A staff account.
    Staff(StaffIdentity),
    /// A staff team, by name (creating it, assigning members).
    Team { name: String },
}

/// What is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Action {
    /// Exercise a permission of the configuration, e.g. on a protected route.
    Permission(String),
    /// One of the administrative operations.
    Admin(AdminAction),
}

impl Action {
    /// The Cedar action id.
    pub fn id(&self) -> &str {
        match self {
            Self::Permission(name) => name,
            Self::Admin(action) => action.id(),
        }
    }
}

/// The administrative operations of the admin API and console. Each is governed by one staff permission
/// and, in Cedar, is a member of that permission's action group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AdminAction {
    #[serde(rename = "user.read")]
    ReadUser,
    #[serde(rename = "user.create")]
    CreateUser,
    #[serde(rename = "user.invite")]
    InviteStaff,
    #[serde(rename = "user.enable")]
    EnableUser,
    #[serde(rename = "user.disable")]
    DisableUser,
    #[serde(rename = "user.delete")]
    DeleteUser,
    #[serde(rename = "user.reset_password")]
    ResetPassword,
    #[serde(rename = "user.set_password")]
    SetPassword,
    #[serde(rename = "user.require_mfa")]
    RequireMfa,
    #[serde(rename = "user.reset_mfa")]
    ResetMfa,
    #[serde(rename = "user.sign_out")]
    SignOutUser,
    #[serde(rename = "user.change_role")]
    ChangeRole,
    #[serde(rename = "user.approve")]
    Approve,
    #[serde(rename = "user.reject")]
    Reject,
    #[serde(rename = "user.change_tier")]
    ChangeTier,
    #[serde(rename = "team.manage")]
    ManageTeam,
    #[serde(rename = "audit.read")]
    ReadAudit,
    #[serde(rename = "audit.export")]
    ExportAudit,
    #[serde(rename = "system.status")]
    ReadStatus,
}

impl AdminAction {
    pub const ALL: [AdminAction; 19] = [
        Self::ReadUser,
        Self::CreateUser,
        Self::InviteStaff,
        Self::EnableUser,
        Self::DisableUser,
        Self::DeleteUser,
        Self::ResetPassword,
        Self::SetPassword,
        Self::RequireMfa,
        Self::ResetMfa,
        Self::SignOutUser,
        Self::ChangeRole,
        Self::Approve,
        Self::Reject,
        Self::ChangeTier,
        Self::ManageTeam,
        Self::ReadAudit,
        Self::ExportAudit,
        Self::ReadStatus,
    ];

    /// The Cedar action id, e.g. `user.disable`.
    pub fn id(self) -> &'static str {
        match self {
            Self::ReadUser => "user.read",
            Self::CreateUser => "user.create",
            Self::InviteStaff => "user.invite",
            Self::EnableUser => "user.enable",
            Self::DisableUser => "user.disable",
            Self::DeleteUser => "user.delete",
            Self::ResetPassword => "user.reset_password",
            Self::SetPassword => "user.set_password",
            Self::RequireMfa => "user.require_mfa",
            Self::ResetMfa => "user.reset_mfa",
            Self::SignOutUser => "user.sign_out",
            Self::ChangeRole => "user.change_role",
            Self::Approve => "user.approve",
            Self::Reject => "user.reject",
            Self::ChangeTier => "user.change_tier",
            Self::ManageTeam => "team.manage",
            Self::ReadAudit => "audit.read",
            Self::ExportAudit => "audit.export",
            Self::ReadStatus => "system.status",
        }
    }

    /// The staff permission that governs the action.
    pub fn permission(self) -> &'static str {
        match self {
            Self::ChangeTier => "tier_management",
            Self::ReadAudit | Self::ExportAudit => "audit_log_view",
            Self::ReadStatus => "system_config",
            _ => "user_management",
        }
    }

    /// Whether the action changes something (and so falls under the rank rules).
    pub fn mutates(self) -> bool {
        !matches!(self, Self::ReadUser | Self::ReadAudit | Self::ExportAudit | Self::ReadStatus)
    }

    /// Whether the action is done to a person or a team (and so falls under team scope).
    pub fn is_about_people(self) -> bool {
        !matches!(self, Self::ReadAudit | Self::ExportAudit | Self::ReadStatus)
    }

    /// What the action does, for docs.
    pub fn description(self) -> &'static str {
        match self {
            Self::ReadUser => "See a user's details",
            Self::CreateUser => "Create a customer account",
            Self::InviteStaff => "Invite a staff member with a given role",
            Self::EnableUser => "Enable a disabled account",
            Self::DisableUser => "Disable an account",
            Self::DeleteUser => "Delete an account",
            Self::ResetPassword => "Force a password reset",
            Self::SetPassword => "Set a password (permanent or temporary)",
            Self::RequireMfa => "Require MFA for an account",
            Self::ResetMfa => "Remove an account's MFA enrolment",
            Self::SignOutUser => "End all of an account's sessions",
            Self::ChangeRole => "Change a staff role or a customer base type",
            Self::Approve => "Approve a pending account",
            Self::Reject => "Reject a pending account",
            Self::ChangeTier => "Turn a customer tier (premium) on or off",
            Self::ManageTeam => "Create a team, assign members and managers",
            Self::ReadAudit => "Query the audit log",
            Self::ExportAudit => "Export the audit log",
            Self::ReadStatus => "See the status page and test provider connections",
        }
    }
}

/// Facts about the circumstances of a request that some rules need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// For `user.change_role` and `user.invite`: the role being granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_role: Option<String>,
    /// For actions that could remove a super_admin: how many active super_admins exist now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_super_admins: Option<u64>,
    /// For `user.set_password`: whether the password is permanent (otherwise it must be changed at the next
    /// sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_password: Option<bool>,
}

/// The answer: allowed or not, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// The ids of the policies that determined the answer: the permits that allowed it, or the forbids that
    /// denied it. Empty for a default deny (nothing permitted it).
    pub policies: Vec<String>,
    /// Problems with the request itself (unknown role, unknown action...). Any error means deny.
    pub errors: Vec<String>,
}

impl Decision {
    pub fn deny_with_error(error: impl Into<String>) -> Self {
        Self { allowed: false, policies: Vec::new(), errors: vec![error.into()] }
    }
}
