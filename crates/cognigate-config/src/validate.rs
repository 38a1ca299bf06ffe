//! The rules a well-typed configuration must still satisfy.
//!
//! Types catch misspelt keys and wrong value types; these checks catch values that are well-typed but
//! impossible or unsafe together (a route naming an unknown permission, an access token outliving its
//! refresh token, a role inheriting itself, staff MFA off in production...). Every check reports all the
//! problems it finds, each with the dotted key to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use crate::duration::HumanDuration;
use crate::error::Issue;
use crate::layering::Environment;
use crate::model::*;

/// The staff permissions every installation has (SPEC section 2); configuration may add more.
pub const STAFF_PERMISSIONS: [&str; 9] = [
    "user_management",
    "content_moderation",
    "financial_access",
    "system_config",
    "analytics_view",
    "audit_log_view",
    "tier_management",
    "billing_management",
    "sales_management",
];

/// Names the Cedar policies use for action groups; a permission cannot take one.
pub const RESERVED_PERMISSION_NAMES: [&str; 4] = ["customer_pool", "staff_pool", "mutating", "people"];

/// The top staff role. The last active one cannot be disabled, deleted or demoted.
pub const SUPER_ADMIN: &str = "super_admin";

/// Custom attributes cognigate manages itself, for authorization; users never write them. `onboarding` is
/// the account's onboarding state, which token claims are decided by (no permissions unless it allows them).
pub const RESERVED_CUSTOM_ATTRIBUTES: [&str; 5] = ["role", "base_type", "tier", "team", "onboarding"];

/// The OpenID standard attributes Cognito knows.
pub const STANDARD_ATTRIBUTES: [&str; 17] = [
    "address",
    "birthdate",
    "email",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

const HTTP_METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"];

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

pub(crate) fn validate(config: &Config, environment: Environment) -> Vec<Issue> {
    let mut issues = Vec::new();
    service(config, environment, &mut issues);
    store(&config.store, &mut issues);
    if config.audit.sinks.is_empty() {
        issues.push(Issue::new("audit.sinks", "needs at least one sink: \"store\" or \"log\""));
    }
    mail(config, environment, &mut issues);
    let argon2 = &config.engine.argon2;
    if u64::from(argon2.memory_kib) * u64::from(argon2.iterations) < 35_840 || argon2.memory_kib > 1_048_576 {
        issues.push(Issue::new(
            "engine.argon2.memory_kib",
            "with engine.argon2.iterations is weaker than OWASP's minimum (memory_kib × iterations ≥ 35840, memory ≤ 1 GiB)",
        ));
    }
    if !(1..=16).contains(&argon2.parallelism) {
        issues.push(Issue::new("engine.argon2.parallelism", "must be 1 to 16"));
    }
    permissions(config, &mut issues);
    for pool in PoolKind::ALL {
        roles(config, pool, &mut issues);
        pool_settings(config, pool, environment, &mut issues);
    }
    tiers(config, &mut issues);
    routes(config, &mut issues);
    rate_limits(config, &mut issues);
    throttling(&config.throttling, &mut issues);
    issues
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn service(config: &Config, environment: Environment, issues: &mut Vec<Issue>) {
    let service = &config.service;
    let name_ok = !service.name.is_empty()
        && service.name.len() <= 32
        && service.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        issues.push(Issue::new("service.name", "must be 1 to 32 characters of a-z, 0-9 and '-'"));
    }
    if service.listen.parse::<SocketAddr>().is_err() {
        issues.push(Issue::new(
            "service.listen",
            format!("`{}` is not a socket address such as 127.0.0.1:8080", service.listen),
        ));
    }
    let url = &service.public_url;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.ends_with('/') {
        issues.push(Issue::new("service.public_url", "must be an http(s) URL without a trailing slash"));
    } else if environment == Environment::Prod && !url.starts_with("https://") {
        issues.push(Issue::new("service.public_url", "must use https in prod: tokens travel over it"));
    }
    if let Err(message) = service.trusted_proxy_networks() {
        issues.push(Issue::new("service.trusted_proxies", message));
    }
    wire(&config.engine.wire, environment, issues);
}

fn wire(wire: &WireConfig, environment: Environment, issues: &mut Vec<Issue>) {
    match wire.listen_in(environment) {
        WireListen::Service if environment != Environment::Dev => issues.push(Issue::new(
            "engine.wire.listen",
            format!(
                "cannot be \"service\" in {environment}: outside dev the wire protocol has a listener of its own \
                 (an address such as 127.0.0.1:9229), or is \"off\""
            ),
        )),
        WireListen::Own(address) if address.parse::<SocketAddr>().is_err() => issues.push(Issue::new(
            "engine.wire.listen",
            format!("`{address}` is not \"service\", \"off\" or a socket address such as 127.0.0.1:9229"),
        )),
        _ => {}
    }
    let mut seen = BTreeSet::new();
    for (index, key) in wire.admin_access_keys.iter().enumerate() {
        let valid = (16..=128).contains(&key.id.len()) && key.id.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            issues.push(Issue::new(
                format!("engine.wire.admin_access_keys[{index}].id"),
                "must be 16 to 128 letters and digits, like an AWS access key id",
            ));
        }
        if !seen.insert(key.id.as_str()) {
            issues.push(Issue::new(format!("engine.wire.admin_access_keys[{index}].id"), "is listed twice"));
        }
    }
}

fn store(store: &StoreConfig, issues: &mut Vec<Issue>) {
    let url = &store.url;
    if let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) {
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.split_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':')) {
            issues.push(Issue::new(
                "store.url",
                "contains a password; secrets are never in the file: use store.password = { env = \"...\" }",
            ));
        }
    } else if url.strip_prefix("sqlite://").is_none_or(str::is_empty) {
        issues.push(Issue::new("store.url", "must be sqlite://<path> or postgres://user@host:port/database"));
    }
    if let Some(cache) = &store.cache_url
        && !(cache.starts_with("redis://") || cache.starts_with("rediss://"))
    {
        issues.push(Issue::new("store.cache_url", "must be a redis:// or rediss:// URL"));
    }
}

fn mail(config: &Config, environment: Environment, issues: &mut Vec<Issue>) {
    let mail = &config.mail;
    if !mail.from.contains('@') {
        issues.push(Issue::new("mail.from", "must be an email address"));
    }
    match (&mail.delivery, &mail.smtp) {
        (MailDelivery::Smtp, None) => {
            issues.push(Issue::new(
                "mail.smtp",
                "is required when mail.delivery = \"smtp\" (host, port, security)",
            ));
        }
        (MailDelivery::Smtp, Some(smtp)) => {
            if smtp.host.trim().is_empty() {
                issues.push(Issue::new("mail.smtp.host", "is empty"));
            }
            let local = smtp.host == "localhost" || smtp.host.starts_with("127.") || smtp.host == "::1";
            if smtp.security == SmtpSecurity::None && !local {
                issues.push(Issue::new(
                    "mail.smtp.security",
                    "\"none\" is only allowed for a relay on this machine",
                ));
            }
        }
        (MailDelivery::Outbox, _) => {
            let local_pool =
                PoolKind::ALL.into_iter().any(|pool| config.pools.get(pool).provider == ProviderKind::Local);
            if environment != Environment::Dev && local_pool {
                issues.push(Issue::new(
                    "mail.delivery",
                    format!("must be \"smtp\" in {environment} while a pool uses the local provider: codes must reach people"),
                ));
            }
        }
    }
}

fn permissions(config: &Config, issues: &mut Vec<Issue>) {
    for pool in PoolKind::ALL {
        let names = config.permissions.get(pool);
        if names.is_empty() {
            issues.push(Issue::new(format!("permissions.{pool}"), "declares no permissions"));
        }
        for (name, description) in names {
            if !is_identifier(name) {
                issues.push(Issue::new(
                    format!("permissions.{pool}.{name}"),
                    "permission names are lower_snake_case identifiers",
                ));
            }
            if RESERVED_PERMISSION_NAMES.contains(&name.as_str()) {
                issues.push(Issue::new(
                    format!("permissions.{pool}.{name}"),
                    "is reserved for the Cedar action groups; choose another name",
                ));
            }
            if description.trim().is_empty() {
                issues.push(Issue::new(format!("permissions.{pool}.{name}"), "needs a description"));
            }
        }
    }
    for required in STAFF_PERMISSIONS {
        if !config.permissions.staff.contains_key(required) {
            issues.push(Issue::new(
                format!("permissions.staff.{required}"),
                "is missing; the nine staff permissions of the product are always declared",
            ));
        }
    }
    for name in config.permissions.customer.keys() {
        if config.permissions.staff.contains_key(name) {
            issues.push(Issue::new(
                format!("permissions.customer.{name}"),
                "is also a staff permission; the pools never share a permission name",
            ));
        }
    }
}

fn check_permission_list(
    config: &Config,
    pool: PoolKind,
    key: &str,
    listed: &[String],
    issues: &mut Vec<Issue>,
) {
    let known = config.permissions.get(pool);
    let mut seen = BTreeSet::new();
    for permission in listed {
        if !known.contains_key(permission) {
            let other = PoolKind::ALL.into_iter().find(|p| *p != pool).unwrap_or(pool);
            let hint = if config.permissions.get(other).contains_key(permission) {
                format!(" (it is a {other} permission; the pools never mix)")
            } else {
                format!(" (known: {})", known.keys().cloned().collect::<Vec<_>>().join(", "))
            };
            issues.push(Issue::new(key, format!("unknown {pool} permission `{permission}`{hint}")));
        } else if !seen.insert(permission) {
            issues.push(Issue::new(key, format!("lists `{permission}` twice")));
        }
    }
}

fn roles(config: &Config, pool: PoolKind, issues: &mut Vec<Issue>) {
    let roles = config.roles.get(pool);
    if roles.is_empty() {
        issues.push(Issue::new(format!("roles.{pool}"), "declares no roles"));
    }
    for (name, role) in roles {
        let key = format!("roles.{pool}.{name}");
        if !is_identifier(name) {
            issues.push(Issue::new(&key, "role names are lower_snake_case identifiers"));
        }
        check_permission_list(config, pool, &format!("{key}.permissions"), &role.permissions, issues);
        for parent in &role.inherits {
            if parent == name {
                issues.push(Issue::new(format!("{key}.inherits"), "a role cannot inherit itself"));
            } else if !roles.contains_key(parent) {
                issues.push(Issue::new(format!("{key}.inherits"), format!("unknown {pool} role `{parent}`")));
            }
        }
        match pool {
            PoolKind::Customer => {
                if role.rank.is_some() {
                    issues.push(Issue::new(format!("{key}.rank"), "only staff roles have a rank"));
                }
                if role.scope.is_some() {
                    issues.push(Issue::new(format!("{key}.scope"), "only staff roles have a scope"));
                }
            }
            PoolKind::Staff => {
                if role.rank.is_none() {
                    issues.push(Issue::new(format!("{key}.rank"), "is required for staff roles"));
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(roles) {
        issues.push(Issue::new(
            format!("roles.{pool}.{}.inherits", cycle.first().map(String::as_str).unwrap_or_default()),
            format!("inheritance cycle: {}", cycle.join(" → ")),
        ));
    }
    if pool == PoolKind::Staff {
        match roles.get(SUPER_ADMIN) {
            None => issues.push(Issue::new(
                format!("roles.staff.{SUPER_ADMIN}"),
                "is missing; the staff pool always has a super_admin role",
            )),
            Some(top) => {
                let top_rank = top.rank.unwrap_or(i64::MIN);
                for (name, role) in roles.iter().filter(|(name, _)| name.as_str() != SUPER_ADMIN) {
                    if role.rank.is_some_and(|rank| rank >= top_rank) {
                        issues.push(Issue::new(
                            format!("roles.staff.{name}.rank"),
                            "must be lower than super_admin's rank; super_admin is the top role",
                        ));
                    }
                }
                if top.scope == Some(RoleScope::Team) {
                    issues
                        .push(Issue::new("roles.staff.super_admin.scope", "super_admin reaches every team"));
                }
            }
        }
    }
}

/// Returns the first inheritance cycle longer than one role (self-inheritance is reported on its own).
fn find_cycle(roles: &BTreeMap<String, RoleConfig>) -> Option<Vec<String>> {
    fn visit<'a>(
        name: &'a str,
        roles: &'a BTreeMap<String, RoleConfig>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(position) = stack.iter().position(|entry| *entry == name) {
            let mut cycle: Vec<String> = stack.get(position..)?.iter().map(|s| (*s).to_owned()).collect();
            cycle.push(name.to_owned());
            return Some(cycle);
        }
        if !done.insert(name) {
            return None;
        }
        stack.push(name);
        for parent in roles.get(name).map(|role| role.inherits.as_slice()).unwrap_or_default() {
            if parent != name
                && let Some(cycle) = visit(parent, roles, stack, done)
            {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    roles.keys().find_map(|name| visit(name, roles, &mut Vec::new(), &mut done))
}

fn tiers(config: &Config, issues: &mut Vec<Issue>) {
    for (name, tier) in &config.tiers.customer {
        let key = format!("tiers.customer.{name}");
        if !is_identifier(name) {
            issues.push(Issue::new(&key, "tier names are lower_snake_case identifiers"));
        }
        if config.roles.customer.contains_key(name) {
            issues.push(Issue::new(
                &key,
                "has the name of a base type; tiers and base types need distinct names",
            ));
        }
        if tier.applies_to.is_empty() {
            issues.push(Issue::new(format!("{key}.applies_to"), "names no base type"));
        }
        for base in &tier.applies_to {
            if !config.roles.customer.contains_key(base) {
                issues.push(Issue::new(
                    format!("{key}.applies_to"),
                    format!("unknown customer base type `{base}`"),
                ));
            }
        }
        if tier.permissions.is_empty() {
            issues.push(Issue::new(format!("{key}.permissions"), "a tier adds at least one permission"));
        }
        check_permission_list(
            config,
            PoolKind::Customer,
            &format!("{key}.permissions"),
            &tier.permissions,
            issues,
        );
    }
}

fn in_range(
    key: String,
    value: Duration,
    low: Duration,
    high: Duration,
    what: &str,
    issues: &mut Vec<Issue>,
) {
    if value < low || value > high {
        issues.push(Issue::new(
            key,
            format!(
                "{} is outside {what} ({} to {})",
                HumanDuration(value),
                HumanDuration(low),
                HumanDuration(high)
            ),
        ));
    }
}

fn pool_settings(config: &Config, pool: PoolKind, environment: Environment, issues: &mut Vec<Issue>) {
    let settings = config.pools.get(pool);
    let key = |rest: &str| format!("pools.{pool}.{rest}");

    if settings.provider == ProviderKind::Cognito {
        match &settings.cognito {
            None => issues.push(Issue::new(
                key("cognito"),
                "is required when provider = \"cognito\" (region, user_pool_id, client_id)",
            )),
            Some(cognito) => {
                if cognito.region.trim().is_empty() {
                    issues.push(Issue::new(key("cognito.region"), "is empty"));
                }
                let prefix = format!("{}_", cognito.region);
                let suffix = cognito.user_pool_id.strip_prefix(&prefix).unwrap_or_default();
                if suffix.is_empty() || !suffix.chars().all(|c| c.is_ascii_alphanumeric()) {
                    issues.push(Issue::new(
                        key("cognito.user_pool_id"),
                        format!(
                            "`{}` is not a user pool id of region {} (<region>_<id>)",
                            cognito.user_pool_id, cognito.region
                        ),
                    ));
                }
                if cognito.client_id.trim().is_empty() {
                    issues.push(Issue::new(key("cognito.client_id"), "is empty"));
                }
                if let Some(endpoint) = &cognito.endpoint
                    && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
                {
                    issues.push(Issue::new(key("cognito.endpoint"), "must be an http(s) URL"));
                }
            }
        }
    }

    if settings.auto_confirm {
        if settings.sign_up != SignUpMode::SelfService {
            issues.push(Issue::new(
                key("auto_confirm"),
                "only applies to self-service sign-up (sign_up = \"self\")",
            ));
        }
        if environment != Environment::Dev {
            issues.push(Issue::new(
                key("auto_confirm"),
                format!("must be false in {environment}: only dev may skip proving the email address"),
            ));
        }
    }

    if pool == PoolKind::Staff && settings.sign_up == SignUpMode::SelfService {
        issues.push(Issue::new(
            key("sign_up"),
            "staff are invited by administrators; the staff pool must be admin_only",
        ));
    }

    let password = &settings.password;
    if !(6..=99).contains(&password.min_length) {
        issues.push(Issue::new(
            key("password.min_length"),
            format!("{} is outside 6 to 99", password.min_length),
        ));
    }
    in_range(
        key("password.temporary_password_validity"),
        password.temporary_password_validity.0,
        DAY,
        365 * DAY,
        "Cognito's range",
        issues,
    );

    let mfa = &settings.mfa;
    if mfa.mode != MfaMode::Off && mfa.methods.is_empty() {
        issues.push(Issue::new(
            key("mfa.methods"),
            format!("MFA is {:?} but no method is offered", mfa.mode).to_lowercase(),
        ));
    }
    if mfa.methods.iter().collect::<BTreeSet<_>>().len() != mfa.methods.len() {
        issues.push(Issue::new(key("mfa.methods"), "lists a method twice"));
    }
    if mfa.methods.contains(&MfaMethod::Sms) && !settings.attributes.contains_key("phone_number") {
        issues
            .push(Issue::new(key("mfa.methods"), "offers sms but the pool keeps no phone_number attribute"));
    }
    if pool == PoolKind::Staff && environment != Environment::Dev && mfa.mode != MfaMode::Required {
        issues.push(Issue::new(
            key("mfa.mode"),
            format!("must be \"required\" for staff in {environment}; only dev may relax it"),
        ));
    }

    let tokens = &settings.tokens;
    in_range(key("tokens.access"), tokens.access.0, 5 * MINUTE, DAY, "5 minutes to 1 day", issues);
    in_range(key("tokens.id"), tokens.id.0, 5 * MINUTE, DAY, "5 minutes to 1 day", issues);
    in_range(key("tokens.refresh"), tokens.refresh.0, HOUR, 3650 * DAY, "1 hour to 3650 days", issues);
    for (name, lifetime) in [("access", tokens.access), ("id", tokens.id)] {
        if lifetime > tokens.refresh {
            issues.push(Issue::new(
                key(&format!("tokens.{name}")),
                format!("the {name} token ({lifetime}) would outlive the refresh token ({})", tokens.refresh),
            ));
        }
    }

    if tokens.rotation_grace.0 > Duration::from_secs(60) {
        issues.push(Issue::new(key("tokens.rotation_grace"), "must be 0 to 60 seconds (Cognito's range)"));
    }

    let lockout = &settings.lockout;
    if !(1..=100).contains(&lockout.max_failures) {
        issues.push(Issue::new(key("lockout.max_failures"), "must be 1 to 100"));
    }
    if !(lockout.max_failures..=1000).contains(&lockout.account_max_failures) {
        issues.push(Issue::new(
            key("lockout.account_max_failures"),
            "must be at least lockout.max_failures and at most 1000",
        ));
    }
    in_range(
        key("lockout.account_max_delay"),
        lockout.account_max_delay.0,
        Duration::from_secs(1),
        Duration::from_secs(15 * 60),
        "1 second to 15 minutes: longer lets a stranger keep the owner out",
        issues,
    );
    in_range(
        key("lockout.window"),
        lockout.window.0,
        Duration::from_secs(1),
        DAY,
        "1 second to 1 day",
        issues,
    );
    in_range(
        key("lockout.duration"),
        lockout.duration.0,
        Duration::from_secs(1),
        30 * DAY,
        "1 second to 30 days",
        issues,
    );

    match settings.attributes.get("email") {
        Some(email) if email.required => {}
        _ => issues.push(Issue::new(
            key("attributes.email"),
            "must be declared with required = true: email is the username",
        )),
    }
    for name in settings.attributes.keys() {
        if !STANDARD_ATTRIBUTES.contains(&name.as_str()) {
            issues.push(Issue::new(
                key(&format!("attributes.{name}")),
                "is not a standard attribute; declare it under custom_attributes",
            ));
        }
    }
    for (name, attribute) in &settings.custom_attributes {
        custom_attribute(&key(&format!("custom_attributes.{name}")), name, attribute, issues);
    }

    for (subject, gates) in &settings.onboarding.gates {
        let gate_key = key(&format!("onboarding.gates.{subject}"));
        let known = subject == "*"
            || config.roles.get(pool).contains_key(subject)
            || (pool == PoolKind::Customer && config.tiers.customer.contains_key(subject));
        if !known {
            issues.push(Issue::new(
                &gate_key,
                format!(
                    "`{subject}` is not \"*\" or a {pool} role{}",
                    if pool == PoolKind::Customer { " or tier" } else { "" }
                ),
            ));
        }
        if gates.contains(&OnboardingGate::Mfa) && mfa.mode == MfaMode::Off {
            issues.push(Issue::new(&gate_key, "requires MFA enrolment but the pool's MFA is off"));
        }
        if pool == PoolKind::Staff && gates.contains(&OnboardingGate::Subscription) {
            issues.push(Issue::new(&gate_key, "staff have no subscription"));
        }
    }
}

fn custom_attribute(key: &str, name: &str, attribute: &CustomAttribute, issues: &mut Vec<Issue>) {
    if !is_identifier(name) || name.len() > 20 {
        issues.push(Issue::new(key, "custom attribute names are 1 to 20 characters of a-z, 0-9 and _"));
    }
    if RESERVED_CUSTOM_ATTRIBUTES.contains(&name) {
        issues.push(Issue::new(key, format!("custom:{name} is managed by cognigate for authorization")));
    }
    match attribute.kind {
        CustomAttributeKind::String => {
            if attribute.min.is_some() || attribute.max.is_some() {
                issues.push(Issue::new(key, "min and max are for numbers; use min_length and max_length"));
            }
            let min = attribute.min_length.unwrap_or(0);
            let max = attribute.max_length.unwrap_or(2048);
            if max > 2048 {
                issues.push(Issue::new(format!("{key}.max_length"), "Cognito allows at most 2048"));
            }
            if min > max {
                issues.push(Issue::new(format!("{key}.min_length"), "is greater than max_length"));
            }
            if let Some(pattern) = &attribute.pattern
                && let Err(error) = regex::Regex::new(pattern)
            {
                issues.push(Issue::new(
                    format!("{key}.pattern"),
                    format!("is not a valid regular expression: {error}"),
                ));
            }
        }
        CustomAttributeKind::Number => {
            if attribute.min_length.is_some() || attribute.max_length.is_some() || attribute.pattern.is_some()
            {
                issues.push(Issue::new(
                    key,
                    "min_length, max_length and pattern are for strings; use min and max",
                ));
            }
            if let (Some(min), Some(max)) = (attribute.min, attribute.max)
                && min > max
            {
                issues.push(Issue::new(format!("{key}.min"), "is greater than max"));
            }
        }
    }
}

fn routes(config: &Config, issues: &mut Vec<Issue>) {
    let mut seen = BTreeSet::new();
    for (index, route) in config.routes.iter().enumerate() {
        let key = |field: &str| format!("routes[{index}].{field}");
        if !HTTP_METHODS.contains(&route.method.as_str()) {
            issues.push(Issue::new(
                key("method"),
                format!("`{}` is not one of {}", route.method, HTTP_METHODS.join(", ")),
            ));
        }
        if let Err(message) = check_path_pattern(&route.path) {
            issues.push(Issue::new(key("path"), message));
        }
        check_permission_list(
            config,
            route.pool,
            &key("permission"),
            std::slice::from_ref(&route.permission),
            issues,
        );
        if !seen.insert((route.method.clone(), route.path.clone())) {
            issues
                .push(Issue::new(key("path"), format!("{} {} is declared twice", route.method, route.path)));
        }
    }
}

/// Checks the route pattern syntax: `/literal/{param}/**`.
pub fn check_path_pattern(path: &str) -> Result<(), String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("`{path}` must start with /"));
    };
    if rest.is_empty() {
        return Ok(());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    for (position, segment) in segments.iter().enumerate() {
        let last = position + 1 == segments.len();
        if segment.is_empty() {
            return Err(format!("`{path}` has an empty segment"));
        }
        if *segment == "**" {
            if !last {
                return Err(format!("`{path}`: ** may only be the last segment"));
            }
        } else if let Some(inner) = segment.strip_prefix('{') {
            let name = inner.strip_suffix('}').unwrap_or_default();
            if !is_identifier(name) {
                return Err(format!("`{path}`: `{segment}` is not a {{name}} parameter"));
            }
        } else if segment.contains(['{', '}', '*', '?', '#', '%']) || *segment == "." || *segment == ".." {
            return Err(format!("`{path}`: `{segment}` is not a literal segment"));
        }
    }
    Ok(())
}

fn rate_limits(config: &Config, issues: &mut Vec<Issue>) {
    for pool in PoolKind::ALL {
        for (route, limit) in config.rate_limits.get(pool) {
            let route_name = serde_json::to_value(route)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let key = format!("rate_limits.{pool}.{route_name}");
            if limit.per_address.is_none() && limit.per_account.is_none() {
                issues.push(Issue::new(&key, "sets neither per_address nor per_account"));
            }
            if pool == PoolKind::Staff && *route == RateLimitedRoute::Register {
                issues.push(Issue::new(&key, "staff do not register; they are invited"));
            }
        }
    }
}

/// AWS WAF's bounds for a rate-based rule's limit (requests per evaluation window).
pub const WAF_RATE_LIMIT_RANGE: std::ops::RangeInclusive<u64> = 10..=2_000_000_000;

fn throttling(throttling: &ThrottlingConfig, issues: &mut Vec<Issue>) {
    for pool in PoolKind::ALL {
        let throttle = throttling.get(pool);
        if throttle.rate_per_second == 0 {
            issues.push(Issue::new(
                format!("throttling.{pool}.rate_per_second"),
                "must be at least 1 request per second",
            ));
        }
        if throttle.burst < throttle.rate_per_second {
            issues.push(Issue::new(
                format!("throttling.{pool}.burst"),
                format!(
                    "{} is below rate_per_second ({}): the bucket must hold at least one second of traffic",
                    throttle.burst, throttle.rate_per_second
                ),
            ));
        }
    }
    let waf = throttling.waf_requests_per_5_minutes_per_address;
    if !WAF_RATE_LIMIT_RANGE.contains(&waf) {
        issues.push(Issue::new(
            "throttling.waf_requests_per_5_minutes_per_address",
            format!(
                "{waf} is outside AWS WAF's range ({} to {})",
                WAF_RATE_LIMIT_RANGE.start(),
                WAF_RATE_LIMIT_RANGE.end()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../cognigate.toml");

    fn load(env: Environment, vars: &[(&str, &str)]) -> Result<Config, crate::ConfigError> {
        crate::load_from_str(SHIPPED, "cognigate.toml", env, vars.iter().copied())
    }

    fn issue_keys(env: Environment, vars: &[(&str, &str)]) -> Vec<(String, String)> {
        match load(env, vars) {
            Ok(_) => Vec::new(),
            Err(error) => error.issues().iter().map(|i| (i.key.clone(), i.message.clone())).collect(),
        }
    }

    #[test]
    fn throttling_has_defaults_and_reads_overrides() {
        let config = load(Environment::Dev, &[]).unwrap();
        assert!(config.throttling.customer.burst >= config.throttling.customer.rate_per_second);
        assert!(WAF_RATE_LIMIT_RANGE.contains(&config.throttling.waf_requests_per_5_minutes_per_address));
        let tuned = load(
            Environment::Prod,
            &[
                ("COGNIGATE_THROTTLING__STAFF__RATE_PER_SECOND", "7"),
                ("COGNIGATE_THROTTLING__STAFF__BURST", "7"),
                ("COGNIGATE_THROTTLING__WAF_REQUESTS_PER_5_MINUTES_PER_ADDRESS", "10"),
            ],
        )
        .unwrap();
        assert_eq!(tuned.throttling.staff, PoolThrottle { rate_per_second: 7, burst: 7 });
        assert_eq!(tuned.throttling.waf_requests_per_5_minutes_per_address, 10);
    }

    #[test]
    fn throttling_out_of_bounds_is_refused_with_its_key() {
        let zero = issue_keys(Environment::Dev, &[("COGNIGATE_THROTTLING__CUSTOMER__RATE_PER_SECOND", "0")]);
        assert!(zero.iter().any(|(key, _)| key == "throttling.customer.rate_per_second"), "{zero:?}");
        let small_burst = issue_keys(
            Environment::Dev,
            &[
                ("COGNIGATE_THROTTLING__STAFF__RATE_PER_SECOND", "50"),
                ("COGNIGATE_THROTTLING__STAFF__BURST", "49"),
            ],
        );
        assert!(
            small_burst
                .iter()
                .any(|(key, message)| key == "throttling.staff.burst" && message.contains("49")),
            "{small_burst:?}"
        );
        for limit in ["9", "2000000001"] {
            let issues = issue_keys(
                Environment::Dev,
                &[("COGNIGATE_THROTTLING__WAF_REQUESTS_PER_5_MINUTES_PER_ADDRESS", limit)],
            );
            assert!(
                issues
                    .iter()
                    .any(|(key, message)| key == "throttling.waf_requests_per_5_minutes_per_address"
                        && message.contains("AWS WAF")),
                "{limit}: {issues:?}"
            );
        }
        for limit in ["10", "2000000000"] {
            let vars = [("COGNIGATE_THROTTLING__WAF_REQUESTS_PER_5_MINUTES_PER_ADDRESS", limit)];
            assert!(load(Environment::Dev, &vars).is_ok(), "{limit}");
        }
    }

    #[test]
    fn auto_confirm_is_for_dev_self_sign_up_only() {
        let on = [("COGNIGATE_POOLS__CUSTOMER__AUTO_CONFIRM", "true")];
        let dev = load(Environment::Dev, &on).unwrap();
        assert!(dev.pools.customer.auto_confirm);
        assert!(!load(Environment::Dev, &[]).unwrap().pools.customer.auto_confirm, "off by default");
        for env in [Environment::Staging, Environment::Prod] {
            let issues = issue_keys(env, &on);
            assert!(
                issues
                    .iter()
                    .any(|(key, message)| key == "pools.customer.auto_confirm"
                        && message.contains(env.as_str())),
                "{env}: {issues:?}"
            );
        }
        let staff = issue_keys(Environment::Dev, &[("COGNIGATE_POOLS__STAFF__AUTO_CONFIRM", "true")]);
        assert!(
            staff.iter().any(|(key, message)| key == "pools.staff.auto_confirm" && message.contains("self")),
            "{staff:?}"
        );
    }
}
