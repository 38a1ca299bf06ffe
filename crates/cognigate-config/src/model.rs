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
    /// Rate limits per pool and auth route, per client address and per account. What is left out has its
    /// default (per address / per account, each per minute): login and respond_to_challenge 30 / 10;
    /// register, resend_code and forgot_password 10 / 3; confirm, confirm_forgot_password and mfa 20 / 5;
    /// change_password 10 / 5; refresh 120 per address.
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
    /// The directory for local state (SQLite database, signing keys, dev outbox). Created owner-only
    /// (0700); the database files are 0600.
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
    /// The reverse proxies in front of the service, as addresses or CIDRs (`10.0.0.0/8`). A request whose
    /// TCP peer is one of them is attributed to the client its `Forwarded` (or `X-Forwarded-For`) header
    /// names, read right to left past these proxies; from any other peer the headers are ignored, since
    /// anyone can write them. Per-address rate limits, lockout and the audit log use that address; IPv6
    /// clients are counted per /64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// Which header the trusted proxies write the client's address into: `x-forwarded-for` (the default:
    /// AWS load balancers, nginx) or `forwarded` (RFC 7239). Only that one is read: a proxy that passes the
    /// other through untouched would otherwise let the client choose its own address.
    #[serde(default)]
    pub forwarded_header: ForwardedHeader,
}

/// The header carrying the client address through trusted proxies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

impl ServiceConfig {
    /// The trusted proxies as networks (a bare address is that one host), or the entry that is neither.
    pub fn trusted_proxy_networks(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                let text = entry.trim();
                if let Ok(net) = text.parse::<ipnet::IpNet>() {
                    Ok(net.trunc())
                } else if let Ok(address) = text.parse::<std::net::IpAddr>() {
                    Ok(ipnet::IpNet::from(address.to_canonical()))
                } else {
                    Err(format!("`{entry}` is not an IP address or CIDR such as 10.0.0.0/8"))
                }
            })
            .collect()
    }
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

/// Where Cognito's wire protocol is served and who may administer through it.
///
/// Client-side operations (SignUp, InitiateAuth, GetUser, ...) need no credentials, as on AWS; cognigate's
/// own app clients are never served over the wire (their callers go through the auth API and its rate
/// limits, lockout, onboarding and audit). Administrative operations (Admin*, pools, clients, groups,
/// ListUsers) need a request signed (AWS SigV4) with one of `admin_access_keys`; in dev without keys, a
/// loopback caller naming a loopback host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WireConfig {
    /// `"service"`: `POST /` on the service's own port (the dev default); an address such as
    /// `"127.0.0.1:9229"`: a listener of its own; `"off"`: not served (the default outside dev). Outside
    /// dev it can only be a listener of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Access keys allowed to call administrative operations: each request must carry a valid SigV4
    /// signature made with the key's secret (the key id alone is an identifier, printed in logs and
    /// SDK output, and authorizes nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_access_keys: Vec<WireAccessKey>,
}

/// One access key of the wire's administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WireAccessKey {
    /// The access key id (`AKIA...` or any 16 to 128 letters and digits).
    pub id: String,
    /// The secret access key, as a secret reference.
    pub secret: SecretRef,
}

/// Where the wire protocol is served, once the environment's default is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireListen {
    /// `POST /` on the service port.
    Service,
    /// A listener of its own at this address.
    Own(String),
    Off,
}

impl WireConfig {
    /// Where the wire is served in `environment`: as configured, or `service` in dev and `off` elsewhere.
    pub fn listen_in(&self, environment: crate::Environment) -> WireListen {
        match self.listen.as_deref().map(str::trim) {
            Some("service") => WireListen::Service,
            Some("off") => WireListen::Off,
            Some(address) => WireListen::Own(address.to_owned()),
            None if environment == crate::Environment::Dev => WireListen::Service,
            None => WireListen::Off,
        }
    }
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
    /// The bearer token Prometheus sends to `/metrics` (`authorization: credentials_file`). Outside dev
    /// `/metrics` is served only with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<SecretRef>,
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
    /// Whether every refresh hands out a new refresh token and retires the old one (default true). A
    /// retired token presented again after `rotation_grace` is taken as stolen: the whole sign-in (every
    /// token of its family) is revoked.
    #[serde(default = "yes")]
    pub rotate_refresh: bool,
    /// How long a retired refresh token is still accepted, for a client whose answer was lost on the
    /// network (0 to 60 seconds, default 10s).
    #[serde(default = "default_rotation_grace")]
    pub rotation_grace: HumanDuration,
}

fn default_rotation_grace() -> HumanDuration {
    HumanDuration::from_secs(10)
}

/// Slowing down guessing after repeated failures (wrong password or MFA code), without handing strangers a
/// way to lock the owner out.
///
/// Failures are counted per account and client address: after `max_failures` from one address, that
/// address waits 1 s before its next try, then 2, 4, ... up to `duration`. Every address together may
/// fail `account_max_failures` times before the account asks each further try to wait 1 s, 2, 4, ... up
/// to `account_max_delay`; addresses the account signed in from recently are exempt from that account-wide
/// wait. A password reset with the emailed code clears every count; a successful sign-in clears its own
/// address's (other addresses keep what they earned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockoutPolicy {
    /// Failures from one address before it must wait, 1 to 100.
    pub max_failures: u32,
    /// Failures older than this are forgotten.
    pub window: HumanDuration,
    /// The longest wait one address is given.
    pub duration: HumanDuration,
    /// Failures from all addresses together before every try at the account must wait (default 20).
    #[serde(default = "default_account_max_failures")]
    pub account_max_failures: u32,
    /// The longest account-wide wait (default 1m): what a stranger can impose on the owner at most.
    #[serde(default = "default_account_max_delay")]
    pub account_max_delay: HumanDuration,
}

fn default_account_max_failures() -> u32 {
    20
}

fn default_account_max_delay() -> HumanDuration {
    HumanDuration::from_secs(60)
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

/// The auth routes that carry their own rate limits. Every one is limited: a route or half (per address,
/// per account) the configuration leaves out gets its default (see [`RateLimitedRoute::default_limits`]).
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

impl RateLimitedRoute {
    pub const ALL: [Self; 10] = [
        Self::Login,
        Self::Register,
        Self::Confirm,
        Self::ResendCode,
        Self::RespondToChallenge,
        Self::ForgotPassword,
        Self::ConfirmForgotPassword,
        Self::ChangePassword,
        Self::Refresh,
        Self::Mfa,
    ];

    /// The name the configuration uses (`login`, `confirm_forgot_password`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::Confirm => "confirm",
            Self::ResendCode => "resend_code",
            Self::RespondToChallenge => "respond_to_challenge",
            Self::ForgotPassword => "forgot_password",
            Self::ConfirmForgotPassword => "confirm_forgot_password",
            Self::ChangePassword => "change_password",
            Self::Refresh => "refresh",
            Self::Mfa => "mfa",
        }
    }

    /// The limits a route has when the configuration says nothing: no auth route is ever unlimited. Routes
    /// that guess a secret (codes, passwords) allow a few tries a minute per account; those that send mail
    /// fewer; refresh only per address (a refresh token names no account before it is checked).
    pub fn default_limits(self) -> RateLimitConfig {
        let rate = |count, per_secs| Some(Rate { count, per: std::time::Duration::from_secs(per_secs) });
        let (per_address, per_account) = match self {
            Self::Login | Self::RespondToChallenge => (rate(30, 60), rate(10, 60)),
            Self::Register | Self::ResendCode | Self::ForgotPassword => (rate(10, 60), rate(3, 60)),
            Self::Confirm | Self::ConfirmForgotPassword | Self::Mfa => (rate(20, 60), rate(5, 60)),
            Self::ChangePassword => (rate(10, 60), rate(5, 60)),
            Self::Refresh => (rate(120, 60), None),
        };
        RateLimitConfig { per_address, per_account }
    }

    /// The limits in force: each half as configured, or its default.
    pub fn limits_in(self, configured: &BTreeMap<RateLimitedRoute, RateLimitConfig>) -> RateLimitConfig {
        let defaults = self.default_limits();
        match configured.get(&self) {
            Some(set) => RateLimitConfig {
                per_address: set.per_address.or(defaults.per_address),
                per_account: set.per_account.or(defaults.per_account),
            },
            None => defaults,
        }
    }
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
