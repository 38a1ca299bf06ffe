//! Configuration: the shipped file loads in every environment, and each class of mistake is refused with an
//! error that names the key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use cognigate_config::{ConfigError, Environment, MfaMode, Origin, ProviderKind, load_from_str};

const SHIPPED: &str = include_str!("../../../../cognigate.toml");

fn load(
    source: &str,
    env: Environment,
    vars: &[(&str, &str)],
) -> Result<cognigate_config::Config, ConfigError> {
    load_from_str(source, "cognigate.toml", env, vars.iter().copied())
}

/// Loads the shipped file with one edit and returns the error text, asserting that it fails.
fn error_after(edit: impl Fn(&str) -> String, env: Environment, vars: &[(&str, &str)]) -> ConfigError {
    let source = edit(SHIPPED);
    assert!(source != SHIPPED, "the edit must change the file");
    match load(&source, env, vars) {
        Ok(_) => panic!("the edited configuration was accepted"),
        Err(error) => error,
    }
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(&str) -> String {
    move |source: &str| {
        assert!(source.contains(from), "the shipped file no longer contains {from:?}");
        source.replacen(from, to, 1)
    }
}

fn assert_names(error: &ConfigError, key: &str, words: &str) {
    let text = error.to_string();
    assert!(
        error.issues().iter().any(|issue| issue.key == key && issue.message.contains(words)),
        "expected an issue for `{key}` containing {words:?}, got:\n{text}"
    );
    assert!(text.contains(key), "the rendered error must name the key:\n{text}");
}

#[test]
fn the_shipped_file_loads_in_every_environment() {
    for env in Environment::ALL {
        let config = load(SHIPPED, env, &[]).unwrap_or_else(|error| panic!("{env}: {error}"));
        assert_eq!(config.pools.staff.mfa.mode, MfaMode::Required);
        assert!(
            config.pools.staff.tokens.access < config.pools.customer.tokens.access,
            "staff tokens are shorter"
        );
        assert!(config.pools.staff.tokens.refresh < config.pools.customer.tokens.refresh);
    }
}

#[test]
fn environment_sections_are_laid_over_the_file() {
    let dev = load(SHIPPED, Environment::Dev, &[]).unwrap();
    let prod = load(SHIPPED, Environment::Prod, &[]).unwrap();
    assert_eq!(dev.pools.customer.provider, ProviderKind::Local);
    assert_eq!(prod.pools.customer.provider, ProviderKind::Cognito);
    assert!(prod.store.url.starts_with("postgres://"));
    assert_eq!(prod.pools.staff.tokens.access.as_secs(), 600);
    // Keys the section does not mention keep the file's value.
    assert_eq!(prod.pools.staff.password.min_length, dev.pools.staff.password.min_length);
}

#[test]
fn environment_variables_override_any_key_with_typed_values() {
    let config = load(
        SHIPPED,
        Environment::Dev,
        &[
            ("COGNIGATE_STORE__URL", "postgres://cognigate@127.0.0.1:5432/cognigate"),
            ("COGNIGATE_POOLS__CUSTOMER__PASSWORD__MIN_LENGTH", "12"),
            ("COGNIGATE_POOLS__CUSTOMER__MFA__MODE", "required"),
            ("COGNIGATE_POOLS__CUSTOMER__TOKENS__ACCESS", "30m"),
            ("COGNIGATE_ENV", "dev"),
            ("COGNIGATE_SECRET_WEBHOOK", "not-a-key"),
            ("UNRELATED", "x"),
        ],
    )
    .unwrap();
    assert_eq!(config.store.url, "postgres://cognigate@127.0.0.1:5432/cognigate");
    assert_eq!(config.pools.customer.password.min_length, 12);
    assert_eq!(config.pools.customer.mfa.mode, MfaMode::Required);
    assert_eq!(config.pools.customer.tokens.access.as_secs(), 1800);
}

#[test]
fn a_misspelt_key_is_named_with_its_full_path() {
    let error = error_after(replace("min_length = 10", "min_lenght = 10"), Environment::Dev, &[]);
    assert_names(&error, "pools.customer.password.min_lenght", "unknown key `min_lenght`");
    assert!(error.to_string().contains("min_length"), "the error lists the expected keys: {error}");
}

#[test]
fn a_misspelt_environment_variable_is_named() {
    let error = error_after(|s| s.to_owned() + "\n", Environment::Dev, &[("COGNIGATE_STORE__URLL", "x")]);
    assert_eq!(error.issues().len(), 1, "{error}");
    assert_eq!(error.issues()[0].origin, Origin::EnvVar("COGNIGATE_STORE__URLL".into()));
    assert!(error.to_string().contains("COGNIGATE_STORE__URLL"), "{error}");
}

#[test]
fn an_unknown_top_level_variable_is_named_once() {
    let error =
        error_after(|s| s.to_owned() + "\n", Environment::Dev, &[("COGNIGATE_REQUIRE_POSTGRES", "1")]);
    assert_eq!(error.issues()[0].key, "require_postgres", "{error}");
}

#[test]
fn a_wrong_type_is_named() {
    let error = error_after(replace("max_failures = 5", "max_failures = \"five\""), Environment::Dev, &[]);
    assert_names(&error, "pools.customer.lockout.max_failures", "invalid type");
    let error = error_after(replace("access = \"1h\"", "access = \"soon\""), Environment::Dev, &[]);
    assert_names(&error, "pools.customer.tokens.access", "not a duration");
}

#[test]
fn an_unknown_enum_value_is_named() {
    let error = error_after(replace("mode = \"optional\"", "mode = \"sometimes\""), Environment::Dev, &[]);
    assert_names(&error, "pools.customer.mfa.mode", "unknown variant `sometimes`");
}

#[test]
fn staff_mfa_off_is_refused_in_staging_and_prod_but_allowed_in_dev() {
    let edit = replace("mode = \"required\"", "mode = \"off\"");
    for env in [Environment::Staging, Environment::Prod] {
        let error = error_after(&edit, env, &[]);
        assert_names(&error, "pools.staff.mfa.mode", "must be \"required\" for staff");
    }
    // Dev may relax it, but then the staff MFA onboarding gate is impossible and says so.
    let error = error_after(&edit, Environment::Dev, &[]);
    assert_names(&error, "pools.staff.onboarding.gates.*", "MFA is off");
    assert!(!error.issues().iter().any(|issue| issue.key == "pools.staff.mfa.mode"), "{error}");
}

#[test]
fn an_override_that_breaks_a_rule_names_its_variable() {
    let error = error_after(
        |s| s.to_owned() + "\n",
        Environment::Prod,
        &[("COGNIGATE_POOLS__STAFF__MFA__MODE", "optional")],
    );
    assert_names(&error, "pools.staff.mfa.mode", "must be \"required\"");
    assert!(
        error.to_string().contains("set by the environment variable COGNIGATE_POOLS__STAFF__MFA__MODE"),
        "{error}"
    );
}

#[test]
fn an_access_token_outliving_the_refresh_token_is_refused() {
    let error = error_after(
        replace("refresh = \"12h\"", "refresh = \"1h\"\n"),
        Environment::Dev,
        &[("COGNIGATE_POOLS__STAFF__TOKENS__ACCESS", "2h")],
    );
    assert_names(&error, "pools.staff.tokens.access", "would outlive the refresh token");
}

#[test]
fn an_environment_section_that_breaks_a_rule_is_named() {
    let error = error_after(
        replace(
            "pools.staff.tokens = { access = \"10m\", id = \"10m\", refresh = \"8h\" }",
            "pools.staff.tokens = { access = \"10m\", id = \"10m\", refresh = \"5m\" }",
        ),
        Environment::Prod,
        &[],
    );
    assert_names(&error, "pools.staff.tokens.refresh", "outside 1 hour to 3650 days");
    assert!(error.to_string().contains("(set in [environments.prod])"), "{error}");
}

#[test]
fn token_lifetimes_outside_cognitos_ranges_are_refused() {
    let error = error_after(replace("access = \"15m\"", "access = \"1m\""), Environment::Dev, &[]);
    assert_names(&error, "pools.staff.tokens.access", "outside 5 minutes to 1 day");
}

#[test]
fn a_route_naming_an_unknown_permission_is_refused() {
    let error = error_after(
        replace("permission = \"premium_analytics\"", "permission = \"premium_analitics\""),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "routes[3].permission", "unknown customer permission `premium_analitics`");
}

#[test]
fn a_route_naming_the_other_pools_permission_is_refused() {
    let error = error_after(
        replace("permission = \"financial_access\"", "permission = \"premium_analytics\""),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "routes[5].permission", "it is a customer permission");
}

#[test]
fn a_role_inheriting_itself_is_refused() {
    let error = error_after(
        replace("inherits = [\"team_member\"]", "inherits = [\"manager\"]"),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "roles.staff.manager.inherits", "cannot inherit itself");
}

#[test]
fn an_inheritance_cycle_is_refused() {
    let error = error_after(
        replace("rank = 10\n", "rank = 10\ninherits = [\"super_admin\"]\n"),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "roles.staff.admin.inherits", "inheritance cycle");
}

#[test]
fn a_role_granting_an_unknown_permission_is_refused() {
    let error = error_after(
        replace(
            "\"content_moderation\", \"sales_management\"]",
            "\"content_moderation\", \"sales_managment\"]",
        ),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "roles.staff.team_member.permissions", "unknown staff permission `sales_managment`");
}

#[test]
fn a_missing_staff_permission_or_super_admin_is_refused() {
    let error = error_after(replace("sales_management = \"Sales operations\"\n", ""), Environment::Dev, &[]);
    assert_names(&error, "permissions.staff.sales_management", "is missing");
    let error = error_after(replace("rank = 40", "rank = 25"), Environment::Dev, &[]);
    assert_names(&error, "roles.staff.admin.rank", "lower than super_admin");
}

#[test]
fn a_secret_in_the_file_is_refused_without_echoing_it() {
    let error = error_after(
        replace("webhook = { env = \"COGNIGATE_SECRET_WEBHOOK\" }", "webhook = \"whsec_live_123\""),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "secrets.webhook", "secrets are never written in the configuration file");
    assert!(!error.to_string().contains("whsec_live_123"), "{error}");
    let error = error_after(
        replace("url = \"sqlite://.cognigate/cognigate.db\"", "url = \"postgres://app:s3cret@db/app\""),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "store.url", "contains a password");
}

#[test]
fn staff_self_sign_up_is_refused() {
    let error = error_after(replace("sign_up = \"admin_only\"", "sign_up = \"self\""), Environment::Dev, &[]);
    assert_names(&error, "pools.staff.sign_up", "admin_only");
}

#[test]
fn a_cognito_pool_without_its_settings_is_refused() {
    let error = error_after(
        |s| s.to_owned() + "\n",
        Environment::Dev,
        &[("COGNIGATE_POOLS__CUSTOMER__PROVIDER", "cognito")],
    );
    assert_names(&error, "pools.customer.cognito", "is required when provider = \"cognito\"");
}

#[test]
fn bad_custom_attribute_rules_are_refused() {
    let error = error_after(replace("pattern = \"^[^<>]*$\"", "pattern = \"^[\""), Environment::Dev, &[]);
    assert_names(
        &error,
        "pools.customer.custom_attributes.display_name.pattern",
        "not a valid regular expression",
    );
    let error = error_after(
        replace("[pools.customer.custom_attributes.vat_number]", "[pools.customer.custom_attributes.role]"),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "pools.customer.custom_attributes.role", "managed by cognigate");
}

#[test]
fn an_unknown_environment_and_an_onboarding_gate_for_an_unknown_role_are_refused() {
    let error = error_after(replace("[environments.dev]", "[environments.qa]"), Environment::Dev, &[]);
    assert_names(&error, "environments.qa", "unknown environment");
    let error =
        error_after(replace("dealer = [\"approval\"]", "deeler = [\"approval\"]"), Environment::Dev, &[]);
    assert_names(&error, "pools.customer.onboarding.gates.deeler", "is not \"*\" or a customer role or tier");
}

#[test]
fn bad_route_patterns_and_rates_are_refused() {
    let error = error_after(
        replace("path = \"/api/listings/bulk\"", "path = \"/api/**/bulk\""),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "routes[2].path", "** may only be the last segment");
    let error = error_after(
        replace("register = { per_address = \"10/min\" }", "register = { per_address = \"10/fortnight\" }"),
        Environment::Dev,
        &[],
    );
    assert_names(&error, "rate_limits.customer.register.per_address", "is not a rate");
}

#[test]
fn syntax_errors_give_the_line() {
    let error = load("[service\nname = 1", Environment::Dev, &[]).unwrap_err();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{error}");
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn all_problems_are_reported_at_once() {
    let source = SHIPPED.replacen("min_length = 10", "min_length = 3", 1).replacen(
        "max_failures = 5",
        "max_failures = 0",
        1,
    );
    let error = load(&source, Environment::Dev, &[]).unwrap_err();
    assert!(error.issues().len() >= 2, "{error}");
}

#[test]
fn mail_delivery_rules() {
    let error =
        error_after(|s| s.to_owned() + "\n", Environment::Dev, &[("COGNIGATE_MAIL__DELIVERY", "smtp")]);
    assert_names(&error, "mail.smtp", "is required when mail.delivery = \"smtp\"");
    let error = error_after(
        |s| s.to_owned() + "\n",
        Environment::Dev,
        &[
            ("COGNIGATE_MAIL__DELIVERY", "smtp"),
            ("COGNIGATE_MAIL__SMTP", "{ host = \"mail.example.com\", security = \"none\" }"),
        ],
    );
    assert_names(&error, "mail.smtp.security", "only allowed for a relay on this machine");
    let error = error_after(
        |s| s.to_owned() + "\n",
        Environment::Prod,
        &[("COGNIGATE_POOLS__CUSTOMER__PROVIDER", "local")],
    );
    assert_names(&error, "mail.delivery", "must be \"smtp\" in prod");
    let ok = load(
        SHIPPED,
        Environment::Dev,
        &[
            ("COGNIGATE_MAIL__DELIVERY", "smtp"),
            ("COGNIGATE_MAIL__SMTP", "{ host = \"127.0.0.1\", port = 2525, security = \"none\" }"),
        ],
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn argon2_parameters_must_meet_owasps_minimum() {
    let error = error_after(
        |s| s.to_owned() + "\n",
        Environment::Dev,
        &[("COGNIGATE_ENGINE__ARGON2__ITERATIONS", "1")],
    );
    assert_names(&error, "engine.argon2.memory_kib", "weaker than OWASP");
    let strong = load(
        SHIPPED,
        Environment::Dev,
        &[("COGNIGATE_ENGINE__ARGON2__MEMORY_KIB", "47104"), ("COGNIGATE_ENGINE__ARGON2__ITERATIONS", "1")],
    );
    assert_eq!(strong.unwrap().engine.argon2.memory_kib, 47104);
}
