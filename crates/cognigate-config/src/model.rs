//! The typed shape of `cognigate.toml`.
//!
//! Every struct denies unknown fields: a misspelt key is an error, never a silently ignored setting. The doc
//! comments on fields are the configuration reference (`docs/configuration.md` is generated from them through
//! `schemars`), so they are written for the person editing the file.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::HumanDuration;
use crate::secret::SecretRef;

/// The whole configuration, after layering and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP service: where it listens and how it is reached.
    pub service: ServiceConfig,
    /// Where state is kept.
    pub store: StoreConfig,
    /// Where audit events go.
    #[serde(default)]
    pub audit: AuditConfig,
    /// References to the secrets the service uses (never the secrets themselves).
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// How codes and invitations reach people when a pool runs on the embedded engine.
    #[serde(default)]
    pub mail: MailConfig,
    /// Settings of the embedded identity engine.
    #[serde(default)]
    pub engine: EngineConfig,
    /// The customer pool and the staff pool.
    pub pools: Pools,
    /// The permission vocabulary of each pool: name → what it allows.
    pub permissions: PerPool<BTreeMap<String, String>>,
    /// Roles per pool: customer base types and staff roles.
    pub roles: PerPool<BTreeMap<String, RoleConfig>>,
    /// Customer tiers laid over a base type (premium).
    #[serde(default)]
    pub tiers: CustomerOnly<BTreeMap<String, TierConfig>>,
    /// Protected routes, enforced in gateway mode and by the Lambda authorizer.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Rate limits per pool and auth route.
    #[serde(default)]
    pub rate_limits: PerPool<BTreeMap<RateLimitedRoute, RateLimitConfig>>,
    /// Request throttling in front of the protected routes on AWS: API Gateway per pool, and the WAF rule
    /// per client address. `cognigate infra` writes these for the CDK app and Terraform.
    #[serde(default)]
    pub throttling: ThrottlingConfig,
}

/// The HTTP service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// A short name for this installation, used in Cedar (`Application::"<name>"`) and resource names.
    pub name: String,
    /// The socket address the HTTP server binds, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// The URL clients use to reach the service; token issuers are `<public_url>/<pool id>`.
    pub public_url: String,
    /// The directory for local state (SQLite database, signing keys, dev outbox).
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
}

fn default_data_dir() -> String {
    ".cognigate".to_owned()
}

/// Where state is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://<path>` (the embedded default) or `postgres://user@host:port/db`. Never put a password
    /// here: PostgreSQL reads it from `PGPASSWORD` or `store.password`.
    pub url: String,
    /// The PostgreSQL password, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// `redis://host:port` for rate limits, lockout counters and revocation shared between instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_url: Option<String>,
}

/// Where audit events go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Any of `store` (queryable in the console) and `log` (one JSON log line per event).
    pub sinks: Vec<AuditSink>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { sinks: vec![AuditSink::Store, AuditSink::Log] }
    }
}

/// An audit destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditSink {
    /// The store's audit table.
    Store,
    /// One JSON line per event on the service log.
    Log,
}

/// Settings of the embedded identity engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// argon2id parameters for password hashes.
    #[serde(default)]
    pub argon2: Argon2Config,
    /// Cognito's wire protocol on the service port (`POST /` with `X-Amz-Target`).
    #[serde(default)]
    pub wire: WireConfig,
}

/// Who may call the administrative operations of the wire protocol (Admin*, pools, clients, groups,
/// ListUsers). Client-side operations (SignUp, InitiateAuth, GetUser, ...) are open, as on AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WireConfig {
    /// AWS access key ids allowed to call administrative operations, read from the SigV4 `Credential` of
    /// each request. Empty (the default): in dev, administrative operations are open to loopback callers
    /// only; in staging and prod, to nobody. The signature is not verified — the engine knows no secret
    /// keys — so keep the port off untrusted networks.
    #[serde(default)]
    pub admin_access_keys: Vec<String>,
}

/// argon2id parameters. The defaults are OWASP's m=19456 KiB, t=2, p=1; any OWASP set is accepted
/// (memory × iterations at least 35840, e.g. m=47104 t=1 or m=7168 t=5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Argon2Config {
    /// Memory per hash, in KiB.
    #[serde(default = "default_memory_kib")]
    pub memory_kib: u32,
    /// Passes over the memory.
    #[serde(default = "default_iterations")]
    pub iterations: u32,
    /// Lanes.
    #[serde(default = "default_parallelism")]
    pub parallelism: u32,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: default_memory_kib(),
            iterations: default_iterations(),
            parallelism: default_parallelism(),
        }
    }
}

fn default_memory_kib() -> u32 {
    19_456
}

fn default_iterations() -> u32 {
    2
}

fn default_parallelism() -> u32 {
    1
}

/// Outgoing email of the embedded engine (on AWS, Cognito sends its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `outbox`: messages stay in the store, readable with `cognigate outbox` (dev). `smtp`: they are also
    /// sent through `mail.smtp`.
    #[serde(default)]
    pub delivery: MailDelivery,
    /// The sender address.
    #[serde(default = "default_from")]
    pub from: String,
    /// The SMTP relay, required when `delivery = "smtp"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self { delivery: MailDelivery::Outbox, from: default_from(), smtp: None }
    }
}

fn default_from() -> String {
    "no-reply@localhost".to_owned()
}

/// Where outgoing messages go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailDelivery {
    /// Only the outbox (dev).
    #[default]
    Outbox,
    /// The outbox and an SMTP relay.
    Smtp,
}

/// An SMTP relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The relay's host name.
    pub host: String,
    /// The relay's port (587 for STARTTLS, 465 for TLS, 25 or a local port for none).
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls`, `tls` or `none` (`none` only to a relay on this machine).
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The login name, when the relay asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The login password, as a secret reference (the `secrets.smtp_password` reference is used when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
}

fn default_smtp_port() -> u16 {
    587
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

/// Secret references used by the service as a whole (pool client secrets live with their pool).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// The billing webhook's HMAC secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<SecretRef>,
    /// The SMTP password for outgoing mail outside dev.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_password: Option<SecretRef>,
    /// A PEM file or secret holding the token signing keys of the embedded engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_keys: Option<SecretRef>,
}

/// The two populations. There are always exactly these two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pools {
    /// Customers: individuals and dealers, optionally premium.
    pub customer: PoolConfig,
    /// Staff: super admins, admins, managers and team members.
    pub staff: PoolConfig,
}

impl Pools {
    pub fn get(&self, pool: PoolKind) -> &PoolConfig {
        match pool {
            PoolKind::Customer => &self.customer,
            PoolKind::Staff => &self.staff,
        }
    }
}

/// Which of the two pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    Customer,
    Staff,
}

impl PoolKind {
    pub const ALL: [PoolKind; 2] = [PoolKind::Customer, PoolKind::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Staff => "staff",
        }
    }
}

impl std::fmt::Display for PoolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value kept once per pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: JsonSchema + Default")]
pub struct PerPool<T> {
    /// For the customer pool.
    #[serde(default)]
    pub customer: T,
    /// For the staff pool.
    #[serde(default)]
    pub staff: T,
}

impl<T> PerPool<T> {
    pub fn get(&self, pool: PoolKind) -> &T {
        match pool {
            PoolKind::Customer => &self.customer,
            PoolKind::Staff => &self.staff,
        }
    }
}

/// A value that only the customer pool may have (staff have no tiers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: JsonSchema + Default")]
pub struct CustomerOnly<T> {
    /// For the customer pool.
    #[serde(default)]
    pub customer: T,
}

/// One pool's identity settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// How the pool is named to people (console, docs).
    pub display_name: String,
    /// `local` (the embedded engine) or `cognito` (AWS Cognito through the AWS SDK).
    pub provider: ProviderKind,
    /// Required when `provider = "cognito"`: where the user pool is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito: Option<CognitoConfig>,
    /// `self` (anyone may register) or `admin_only` (accounts are created or invited by staff).
    pub sign_up: SignUpMode,
    /// Password rules, with Cognito's meaning.
    pub password: PasswordPolicy,
    /// Multi-factor authentication.
    pub mfa: MfaConfig,
    /// Token lifetimes.
    pub tokens: TokenLifetimes,
    /// Lockout after repeated failures (passwords and MFA codes counted together).
    pub lockout: LockoutPolicy,
    /// Standard (OpenID) attributes the pool keeps, by name.
    #[serde(default)]
    pub attributes: BTreeMap<String, StandardAttribute>,
    /// Custom attributes (`custom:<name>` in tokens), by name without the prefix.
    #[serde(default)]
    pub custom_attributes: BTreeMap<String, CustomAttribute>,
    /// What a new account goes through before it is `active`.
    #[serde(default)]
    pub onboarding: OnboardingConfig,
    /// Confirm self-service sign-ups at once, without an emailed code, and mark their email verified (the
    /// PreSignUp trigger on AWS). Only for pools with `sign_up = "self"`, and only in dev: everywhere else a
    /// person proves they own the address.
    #[serde(default)]
    pub auto_confirm: bool,
}

/// Which identity provider serves a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// The embedded, Cognito-compatible engine.
    Local,
    /// AWS Cognito.
    Cognito,
}

/// Where a Cognito user pool is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CognitoConfig {
    /// The AWS region, e.g. `eu-west-1`.
    pub region: String,
    /// The user pool id, `<region>_<id>`.
    pub user_pool_id: String,
    /// The app client id.
    pub client_id: String,
    /// The app client secret, when the client has one (SECRET_HASH is then computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// An endpoint override: LocalStack, the embedded engine's wire endpoint, or any Cognito-compatible URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// Who may create accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignUpMode {
    /// Anyone may register.
    #[serde(rename = "self")]
    SelfService,
    /// Only administrators create or invite accounts.
    AdminOnly,
}

/// Password rules, with Cognito's meaning and ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum length, 6 to 99 (Cognito's range).
    pub min_length: u32,
    /// Require at least one lowercase letter.
    #[serde(default)]
    pub require_lowercase: bool,
    /// Require at least one uppercase letter.
    #[serde(default)]
    pub require_uppercase: bool,
    /// Require at least one digit.
    #[serde(default)]
    pub require_digits: bool,
    /// Require at least one symbol (Cognito's set: ^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ; | _ ~ ` = + -).
    #[serde(default)]
    pub require_symbols: bool,
    /// How long a temporary (invitation) password stays usable, 1 to 365 days.
    pub temporary_password_validity: HumanDuration,
}

/// Multi-factor authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaConfig {
    /// `off`, `optional` or `required`.
    pub mode: MfaMode,
    /// The factors offered: `totp`, `sms`.
    #[serde(default)]
    pub methods: Vec<MfaMethod>,
}

/// Whether a second factor is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    Off,
    Optional,
    Required,
}

/// A second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    /// Time-based one-time passwords (RFC 6238) from an authenticator app.
    Totp,
    /// A code sent by SMS to a verified phone number.
    Sms,
}

/// Token lifetimes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenLifetimes {
    /// Access token lifetime, 5 minutes to 1 day.
    pub access: HumanDuration,
    /// ID token lifetime, 5 minutes to 1 day.
    pub id: HumanDuration,
    /// Refresh token lifetime, 1 hour to 3650 days; longer than the access and ID tokens.
    pub refresh: HumanDuration,
}

/// Lockout after repeated failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockoutPolicy {
    /// Failures (wrong password or MFA code) that lock the account, 1 to 100.
    pub max_failures: u32,
    /// The window in which failures are counted.
    pub window: HumanDuration,
    /// How long the account stays locked.
    pub duration: HumanDuration,
}

/// A standard attribute kept by the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StandardAttribute {
    /// Whether sign-up or invitation must give it.
    #[serde(default)]
    pub required: bool,
    /// Whether it can change after creation.
    #[serde(default = "yes")]
    pub mutable: bool,
}

fn yes() -> bool {
    true
}

/// A custom attribute and how its values are validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomAttribute {
    /// `string` or `number`.
    #[serde(rename = "type")]
    pub kind: CustomAttributeKind,
    /// Whether it can change after creation.
    #[serde(default = "yes")]
    pub mutable: bool,
    /// Strings: minimum length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Strings: maximum length in characters (Cognito allows at most 2048).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Strings: a regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Numbers: smallest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Numbers: largest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

/// The type of a custom attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomAttributeKind {
    String,
    Number,
}

/// What a new account goes through before it is active.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnboardingConfig {
    /// Gates by role, base type or tier name (`"*"` for every account): `approval`, `mfa`, `subscription`.
    #[serde(default)]
    pub gates: BTreeMap<String, Vec<OnboardingGate>>,
}

/// A step an account must pass before it is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingGate {
    /// A staff member approves the account (`pending_approval`).
    Approval,
    /// The account enrols a second factor (`pending_mfa`).
    Mfa,
    /// Billing confirms a subscription (`pending_subscription`).
    Subscription,
}

/// A role: a customer base type or a staff role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// What the role is, in a sentence.
    pub description: String,
    /// Why it has exactly these permissions (rendered in docs/permissions.md).
    #[serde(default)]
    pub rationale: String,
    /// Other roles of the same pool whose permissions this role also has.
    #[serde(default)]
    pub inherits: Vec<String>,
    /// Permissions of this role's pool granted directly.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Staff only: seniority. Nobody grants a role of higher rank than their own or edits someone above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// Staff only: `team` limits the role's actions on people to members of its own team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<RoleScope>,
}

/// How far a staff role reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    /// Every user of both pools (subject to the other rules).
    All,
    /// Only members of the staff member's own team.
    Team,
}

/// A customer tier: extra permissions on top of a base type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// What the tier is, in a sentence.
    pub description: String,
    /// Why it has exactly these permissions.
    #[serde(default)]
    pub rationale: String,
    /// The base types the tier can be laid over.
    pub applies_to: Vec<String>,
    /// Customer permissions the tier adds.
    pub permissions: Vec<String>,
}

/// A protected route of the application behind cognigate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// An HTTP method in capitals, or `*` for any.
    pub method: String,
    /// `/literal/{param}/**`: `{name}` matches one segment, a final `**` the rest of the path.
    pub path: String,
    /// The pool whose access tokens the route accepts.
    pub pool: PoolKind,
    /// The permission (of that pool) the route requires.
    pub permission: String,
}

/// Request throttling on AWS, in front of the application's protected routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottlingConfig {
    /// API Gateway throttling of the customer pool's routes.
    #[serde(default = "default_customer_throttle")]
    pub customer: PoolThrottle,
    /// API Gateway throttling of the staff pool's routes.
    #[serde(default = "default_staff_throttle")]
    pub staff: PoolThrottle,
    /// The WAF rate-based rule: requests one client address may send in any 5-minute window before it is
    /// blocked, 10 to 2,000,000,000 (AWS WAF's range).
    #[serde(default = "default_waf_limit")]
    pub waf_requests_per_5_minutes_per_address: u64,
}

impl Default for ThrottlingConfig {
    fn default() -> Self {
        Self {
            customer: default_customer_throttle(),
            staff: default_staff_throttle(),
            waf_requests_per_5_minutes_per_address: default_waf_limit(),
        }
    }
}

impl ThrottlingConfig {
    /// The throttle of `pool`'s routes.
    pub fn get(&self, pool: PoolKind) -> &PoolThrottle {
        match pool {
            PoolKind::Customer => &self.customer,
            PoolKind::Staff => &self.staff,
        }
    }
}

/// API Gateway's token bucket for one pool's routes: a steady rate and the burst it may absorb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolThrottle {
    /// Requests per second the routes accept on average, at least 1.
    pub rate_per_second: u32,
    /// Requests accepted at once above the steady rate (the bucket size), at least `rate_per_second`.
    pub burst: u32,
}

fn default_customer_throttle() -> PoolThrottle {
    PoolThrottle { rate_per_second: 100, burst: 200 }
}

fn default_staff_throttle() -> PoolThrottle {
    PoolThrottle { rate_per_second: 20, burst: 40 }
}

fn default_waf_limit() -> u64 {
    2000
}

/// The auth routes that carry their own rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitedRoute {
    Login,
    Register,
    Confirm,
    ResendCode,
    RespondToChallenge,
    ForgotPassword,
    ConfirmForgotPassword,
    ChangePassword,
    Refresh,
    Mfa,
}

/// A route's limits; each is `"<count>/<s|min|h>"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests allowed per client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_address: Option<Rate>,
    /// Requests allowed per account (the username or email being acted on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_account: Option<Rate>,
}

/// A request rate such as `30/min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct Rate {
    pub count: u32,
    pub per: std::time::Duration,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` is not a rate; write it like \"30/min\" (units: s, min, h)");
        let (count, unit) = text.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("`{text}`: a rate must allow at least one request"));
        }
        Ok(Rate { count, per: std::time::Duration::from_secs(per) })
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Config {
    /// The installation's name as used in Cedar and resource names.
    pub fn service_name(&self) -> &str {
        &self.service.name
    }
}
