//! `infra/cognigate.json`: what the CDK app and the Terraform environments need from `cognigate.toml`, for
//! every environment at once.
//!
//! Pools, groups, lifetimes, routes and throttles are written once, in the configuration; the IaC reads them
//! only from this file and never types them a second time, and `cognigate infra --check` fails CI when the
//! committed file falls behind. The format is shared with the TypeScript and HCL readers, so it is spelt
//! out here field by field (camelCase, keys in a fixed order, all three environments always present) and
//! uses Cognito's own vocabulary wherever Cognito has one (`OPTIONAL`, `SOFTWARE_TOKEN_MFA`, `String`).

use cognigate_config::{
    Config, CustomAttributeKind, Environment, MfaMethod, MfaMode, PoolKind, RESERVED_CUSTOM_ATTRIBUTES,
    SignUpMode,
};
use cognigate_domain::access::{AccessModel, pool_groups};
use serde::Serialize;

use crate::ExportError;

/// The first key of the document: a reader of the file learns it is generated and from what.
pub const GENERATED_BY: &str =
    "cognigate infra: do not edit; change cognigate.toml and run `cognigate infra`";

/// Cognito's longest custom string attribute, the default upper bound of a string attribute.
const MAX_STRING_ATTRIBUTE: u32 = 2048;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    generated_by: &'static str,
    service: String,
    environments: Environments,
}

#[derive(Debug, Serialize)]
struct Environments {
    dev: EnvironmentDocument,
    staging: EnvironmentDocument,
    prod: EnvironmentDocument,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvironmentDocument {
    pools: Pools,
    routes: Vec<Route>,
    throttling: Throttling,
}

#[derive(Debug, Serialize)]
struct Pools {
    customer: Pool,
    staff: Pool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pool {
    display_name: String,
    self_sign_up: bool,
    auto_confirm: bool,
    mfa: &'static str,
    mfa_methods: Vec<&'static str>,
    password: Password,
    tokens: Tokens,
    standard_attributes: Vec<StandardAttribute>,
    custom_attributes: Vec<CustomAttribute>,
    groups: Vec<Group>,
    default_group: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Password {
    min_length: u32,
    require_lowercase: bool,
    require_uppercase: bool,
    require_digits: bool,
    require_symbols: bool,
    temporary_password_validity_days: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tokens {
    access_minutes: u64,
    id_minutes: u64,
    refresh_minutes: u64,
    /// Whether the app client rotates refresh tokens (Cognito's `RefreshTokenRotation`, `Feature=ENABLED`).
    rotate_refresh: bool,
    /// How long a rotated-out refresh token stays valid (Cognito's `RetryGracePeriodSeconds`, 0 to 60).
    rotation_grace_seconds: u64,
}

#[derive(Debug, Serialize)]
struct StandardAttribute {
    name: String,
    required: bool,
    mutable: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomAttribute {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    mutable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
    admin_only: bool,
}

#[derive(Debug, Serialize)]
struct Group {
    name: String,
    description: String,
    precedence: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Route {
    method: String,
    path: String,
    api_gateway_path: String,
    pool: PoolKind,
    permission: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Throttling {
    customer: Throttle,
    staff: Throttle,
    #[serde(rename = "wafRequestsPer5MinutesPerAddress")]
    waf_requests_per_5_minutes_per_address: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Throttle {
    rate_per_second: u32,
    burst: u32,
}

/// The text of `infra/cognigate.json` (pretty-printed, ending in a newline) from the configuration as
/// loaded for each environment. All three environments must be given, and agree on the service's name.
///
/// # Errors
/// [`ExportError::Infra`] when an environment is missing, the service name differs between environments,
/// or a lifetime cannot be said in Cognito's units (whole minutes for tokens, whole days for temporary
/// passwords).
pub fn infra_json(environments: &[(Environment, Config)]) -> Result<String, ExportError> {
    let config_of =
        |wanted: Environment| {
            environments.iter().find(|(env, _)| *env == wanted).map(|(_, config)| config).ok_or_else(|| {
                ExportError::Infra(format!("the {wanted} environment's configuration is missing"))
            })
        };
    let (dev, staging, prod) =
        (config_of(Environment::Dev)?, config_of(Environment::Staging)?, config_of(Environment::Prod)?);
    for (env, config) in [(Environment::Staging, staging), (Environment::Prod, prod)] {
        if config.service.name != dev.service.name {
            return Err(ExportError::Infra(format!(
                "service.name is `{}` in {env} but `{}` in dev; the deployment names resources after one name",
                config.service.name, dev.service.name
            )));
        }
    }
    let document = Document {
        generated_by: GENERATED_BY,
        service: dev.service.name.clone(),
        environments: Environments {
            dev: environment(dev)?,
            staging: environment(staging)?,
            prod: environment(prod)?,
        },
    };
    let mut text = serde_json::to_string_pretty(&document).map_err(|error| ExportError::Serialize {
        what: "infra/cognigate.json",
        message: error.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}

fn environment(config: &Config) -> Result<EnvironmentDocument, ExportError> {
    let model = AccessModel::from_config(config);
    Ok(EnvironmentDocument {
        pools: Pools {
            customer: pool(config, &model, PoolKind::Customer)?,
            staff: pool(config, &model, PoolKind::Staff)?,
        },
        routes: config
            .routes
            .iter()
            .map(|route| Route {
                method: route.method.clone(),
                path: route.path.clone(),
                api_gateway_path: api_gateway_path(&route.path),
                pool: route.pool,
                permission: route.permission.clone(),
            })
            .collect(),
        throttling: Throttling {
            customer: throttle(config, PoolKind::Customer),
            staff: throttle(config, PoolKind::Staff),
            waf_requests_per_5_minutes_per_address: config.throttling.waf_requests_per_5_minutes_per_address,
        },
    })
}

fn throttle(config: &Config, pool: PoolKind) -> Throttle {
    let throttle = config.throttling.get(pool);
    Throttle { rate_per_second: throttle.rate_per_second, burst: throttle.burst }
}

/// A duration in whole `unit`s, or an error naming the key.
fn whole(key: String, value: std::time::Duration, unit_secs: u64, unit: &str) -> Result<u64, ExportError> {
    let secs = value.as_secs();
    if !secs.is_multiple_of(unit_secs) || value.subsec_nanos() != 0 {
        return Err(ExportError::Infra(format!("{key} must be a whole number of {unit} for Cognito")));
    }
    Ok(secs / unit_secs)
}

/// The grace period in Cognito's whole seconds and range (0 to 60; the configuration's validation already
/// refuses more, this keeps the file's promise for a configuration that was not validated).
fn rotation_grace_seconds(key: String, value: std::time::Duration) -> Result<u64, ExportError> {
    let seconds = whole(key.clone(), value, 1, "seconds")?;
    if seconds > 60 {
        return Err(ExportError::Infra(format!("{key} must be 0 to 60 seconds for Cognito")));
    }
    Ok(seconds)
}

fn pool(config: &Config, model: &AccessModel, kind: PoolKind) -> Result<Pool, ExportError> {
    let settings = config.pools.get(kind);
    let key = |rest: &str| format!("pools.{kind}.{rest}");
    let password = &settings.password;
    let tokens = &settings.tokens;
    let mut custom_attributes: Vec<CustomAttribute> = settings
        .custom_attributes
        .iter()
        .map(|(name, rule)| match rule.kind {
            CustomAttributeKind::String => CustomAttribute {
                name: name.clone(),
                kind: "String",
                mutable: rule.mutable,
                min_length: Some(rule.min_length.unwrap_or(0)),
                max_length: Some(rule.max_length.unwrap_or(MAX_STRING_ATTRIBUTE)),
                min: None,
                max: None,
                admin_only: false,
            },
            CustomAttributeKind::Number => CustomAttribute {
                name: name.clone(),
                kind: "Number",
                mutable: rule.mutable,
                min_length: None,
                max_length: None,
                min: rule.min,
                max: rule.max,
                admin_only: false,
            },
        })
        .collect();
    custom_attributes.extend(RESERVED_CUSTOM_ATTRIBUTES.iter().map(|name| reserved_attribute(name)));
    let (groups, default_group) = pool_groups(model, kind);
    let groups = groups
        .into_iter()
        .map(|group| Group { name: group.name, description: group.description, precedence: group.precedence })
        .collect();
    Ok(Pool {
        display_name: settings.display_name.clone(),
        self_sign_up: settings.sign_up == SignUpMode::SelfService,
        auto_confirm: settings.auto_confirm,
        mfa: match settings.mfa.mode {
            MfaMode::Off => "OFF",
            MfaMode::Optional => "OPTIONAL",
            MfaMode::Required => "ON",
        },
        mfa_methods: settings
            .mfa
            .methods
            .iter()
            .map(|method| match method {
                MfaMethod::Totp => "SOFTWARE_TOKEN_MFA",
                MfaMethod::Sms => "SMS_MFA",
            })
            .collect(),
        password: Password {
            min_length: password.min_length,
            require_lowercase: password.require_lowercase,
            require_uppercase: password.require_uppercase,
            require_digits: password.require_digits,
            require_symbols: password.require_symbols,
            temporary_password_validity_days: whole(
                key("password.temporary_password_validity"),
                password.temporary_password_validity.0,
                86_400,
                "days",
            )?,
        },
        tokens: Tokens {
            access_minutes: whole(key("tokens.access"), tokens.access.0, 60, "minutes")?,
            id_minutes: whole(key("tokens.id"), tokens.id.0, 60, "minutes")?,
            refresh_minutes: whole(key("tokens.refresh"), tokens.refresh.0, 60, "minutes")?,
            rotate_refresh: tokens.rotate_refresh,
            rotation_grace_seconds: rotation_grace_seconds(
                key("tokens.rotation_grace"),
                tokens.rotation_grace.0,
            )?,
        },
        standard_attributes: settings
            .attributes
            .iter()
            .map(|(name, rule)| StandardAttribute {
                name: name.clone(),
                required: rule.required,
                mutable: rule.mutable,
            })
            .collect(),
        custom_attributes,
        groups,
        default_group,
    })
}

/// The attributes cognigate keeps for authorization. Only administrators write them (the admin API, the
/// console, the triggers), so app clients get no write access to them.
fn reserved_attribute(name: &str) -> CustomAttribute {
    // A role or base type is always a name; a tier list or a team may be cleared.
    let (min_length, max_length) = match name {
        "role" | "base_type" => (1, 64),
        "tier" => (0, 256),
        _ => (0, 64),
    };
    CustomAttribute {
        name: name.to_owned(),
        kind: "String",
        mutable: true,
        min_length: Some(min_length),
        max_length: Some(max_length),
        min: None,
        max: None,
        admin_only: true,
    }
}

/// The API Gateway resource path of a route pattern: a final `**` becomes the greedy `{proxy+}`, `{name}`
/// segments stay as they are.
fn api_gateway_path(pattern: &str) -> String {
    match pattern.strip_suffix("/**") {
        Some(prefix) => format!("{prefix}/{{proxy+}}"),
        None if pattern == "**" => "/{proxy+}".to_owned(),
        None => pattern.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    const SHIPPED: &str = include_str!("../../../cognigate.toml");

    fn load(env: Environment, vars: &[(&str, &str)]) -> Config {
        cognigate_config::load_from_str(SHIPPED, "cognigate.toml", env, vars.iter().copied())
            .unwrap_or_else(|error| panic!("{env}: {error}"))
    }

    fn all(vars: &[(&str, &str)]) -> Vec<(Environment, Config)> {
        Environment::ALL.into_iter().map(|env| (env, load(env, vars))).collect()
    }

    fn document(environments: &[(Environment, Config)]) -> Value {
        serde_json::from_str(&infra_json(environments).unwrap()).unwrap()
    }

    #[test]
    fn the_document_has_every_environment_and_its_keys_in_order() {
        let text = infra_json(&all(&[])).unwrap();
        assert!(text.ends_with("}\n"));
        let top: Vec<&str> = ["\"generatedBy\"", "\"service\"", "\"environments\"", "\"dev\"", "\"staging\""]
            .into_iter()
            .chain(["\"prod\""])
            .collect();
        let positions: Vec<usize> = top.iter().map(|key| text.find(key).unwrap()).collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{positions:?}");
        let pool_keys = [
            "displayName",
            "selfSignUp",
            "autoConfirm",
            "mfa",
            "mfaMethods",
            "password",
            "tokens",
            "standardAttributes",
            "customAttributes",
            "groups",
            "defaultGroup",
        ];
        let value = document(&all(&[]));
        let customer = &value["environments"]["dev"]["pools"]["customer"];
        let keys: Vec<&str> = customer.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, pool_keys);
        assert_eq!(value["generatedBy"], GENERATED_BY);
        assert_eq!(value["service"], "marketplace");
    }

    #[test]
    fn pools_say_what_the_configuration_says_in_cognitos_words() {
        let value = document(&all(&[]));
        let dev = &value["environments"]["dev"]["pools"];
        let customer = &dev["customer"];
        assert_eq!(customer["displayName"], "Customers");
        assert_eq!(customer["selfSignUp"], true);
        assert_eq!(customer["autoConfirm"], false);
        assert_eq!(customer["mfa"], "OPTIONAL");
        assert_eq!(customer["mfaMethods"], serde_json::json!(["SOFTWARE_TOKEN_MFA"]));
        assert_eq!(customer["password"]["minLength"], 10);
        assert_eq!(customer["password"]["requireSymbols"], false);
        assert_eq!(customer["password"]["temporaryPasswordValidityDays"], 7);
        assert_eq!(
            customer["tokens"],
            serde_json::json!({"accessMinutes": 60, "idMinutes": 60, "refreshMinutes": 43200,
                               "rotateRefresh": true, "rotationGraceSeconds": 10})
        );
        let staff = &dev["staff"];
        assert_eq!(staff["selfSignUp"], false);
        assert_eq!(staff["mfa"], "ON");
        assert_eq!(staff["password"]["temporaryPasswordValidityDays"], 1);
        // The prod override of the staff token lifetimes is there, and only in prod.
        assert_eq!(staff["tokens"]["accessMinutes"], 15);
        let prod_staff = &value["environments"]["prod"]["pools"]["staff"];
        assert_eq!(
            prod_staff["tokens"],
            serde_json::json!({"accessMinutes": 10, "idMinutes": 10, "refreshMinutes": 480,
                               "rotateRefresh": true, "rotationGraceSeconds": 10})
        );
        let email = &customer["standardAttributes"][0];
        assert_eq!(email, &serde_json::json!({"name": "email", "required": true, "mutable": true}));
    }

    #[test]
    fn refresh_token_rotation_follows_each_pool_and_environment() {
        let value = document(&all(&[]));
        for env in ["dev", "staging", "prod"] {
            for pool in ["customer", "staff"] {
                let tokens = &value["environments"][env]["pools"][pool]["tokens"];
                let keys: Vec<&str> = tokens.as_object().unwrap().keys().map(String::as_str).collect();
                assert_eq!(
                    keys,
                    ["accessMinutes", "idMinutes", "refreshMinutes", "rotateRefresh", "rotationGraceSeconds"],
                    "{env} {pool}"
                );
                // cognigate.toml leaves both to their defaults: rotation on, a 10-second grace.
                assert_eq!(tokens["rotateRefresh"], true, "{env} {pool}");
                assert_eq!(tokens["rotationGraceSeconds"], 10, "{env} {pool}");
            }
        }
        let mut environments = all(&[]);
        environments[2].1 = load(
            Environment::Prod,
            &[
                ("COGNIGATE_POOLS__STAFF__TOKENS__ROTATE_REFRESH", "false"),
                ("COGNIGATE_POOLS__CUSTOMER__TOKENS__ROTATION_GRACE", "1m"),
            ],
        );
        environments[1].1 =
            load(Environment::Staging, &[("COGNIGATE_POOLS__CUSTOMER__TOKENS__ROTATION_GRACE", "0s")]);
        let value = document(&environments);
        let prod = &value["environments"]["prod"]["pools"];
        assert_eq!(prod["staff"]["tokens"]["rotateRefresh"], false);
        assert_eq!(prod["customer"]["tokens"]["rotateRefresh"], true);
        assert_eq!(prod["customer"]["tokens"]["rotationGraceSeconds"], 60);
        assert_eq!(
            value["environments"]["staging"]["pools"]["customer"]["tokens"]["rotationGraceSeconds"],
            0
        );
        assert_eq!(value["environments"]["dev"]["pools"]["staff"]["tokens"]["rotateRefresh"], true);
    }

    #[test]
    fn rotation_grace_must_be_whole_seconds_within_cognitos_range() {
        let fractional = [("COGNIGATE_POOLS__CUSTOMER__TOKENS__ROTATION_GRACE", "1500ms")];
        let environments: Vec<(Environment, Config)> =
            Environment::ALL.into_iter().map(|env| (env, load(env, &fractional))).collect();
        assert!(matches!(
            infra_json(&environments),
            Err(ExportError::Infra(message))
                if message.contains("pools.customer.tokens.rotation_grace") && message.contains("seconds")
        ));
        // Validation refuses more than 60 seconds when loading; the file keeps Cognito's range regardless.
        let mut environments = all(&[]);
        environments[0].1.pools.staff.tokens.rotation_grace = cognigate_config::HumanDuration::from_secs(61);
        assert!(matches!(
            infra_json(&environments),
            Err(ExportError::Infra(message))
                if message.contains("pools.staff.tokens.rotation_grace") && message.contains("0 to 60")
        ));
    }

    #[test]
    fn custom_attributes_add_the_admin_only_ones() {
        let value = document(&all(&[]));
        let attributes =
            value["environments"]["dev"]["pools"]["customer"]["customAttributes"].as_array().unwrap();
        let display = attributes.iter().find(|a| a["name"] == "display_name").unwrap();
        assert_eq!(
            display,
            &serde_json::json!({"name": "display_name", "type": "String", "mutable": true, "minLength": 2,
                                "maxLength": 60, "adminOnly": false})
        );
        for pool in ["customer", "staff"] {
            let attributes =
                value["environments"]["prod"]["pools"][pool]["customAttributes"].as_array().unwrap();
            for reserved in RESERVED_CUSTOM_ATTRIBUTES {
                let attribute = attributes.iter().find(|a| a["name"] == reserved).unwrap();
                assert_eq!(attribute["adminOnly"], true, "{pool} {reserved}");
                assert_eq!(attribute["type"], "String");
            }
            let configured = attributes.iter().filter(|a| a["adminOnly"] == false).count();
            assert_eq!(configured + RESERVED_CUSTOM_ATTRIBUTES.len(), attributes.len());
        }
        let role = attributes.iter().find(|a| a["name"] == "role").unwrap();
        assert_eq!((role["minLength"].as_u64(), role["maxLength"].as_u64()), (Some(1), Some(64)));
    }

    #[test]
    fn number_attributes_carry_bounds_instead_of_lengths() {
        let source = SHIPPED.replacen(
            "[pools.customer.custom_attributes.vat_number]",
            "[pools.customer.custom_attributes.fleet_size]\ntype = \"number\"\nmin = 1\nmax = 500\n\
             [pools.customer.custom_attributes.vat_number]",
            1,
        );
        let environments: Vec<(Environment, Config)> = Environment::ALL
            .into_iter()
            .map(|env| (env, cognigate_config::load_from_str(&source, "edited", env, []).unwrap()))
            .collect();
        let value = document(&environments);
        let fleet = value["environments"]["staging"]["pools"]["customer"]["customAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "fleet_size")
            .unwrap()
            .clone();
        assert_eq!(
            fleet,
            serde_json::json!({"name": "fleet_size", "type": "Number", "mutable": true, "min": 1, "max": 500,
                               "adminOnly": false})
        );
    }

    #[test]
    fn groups_run_from_the_most_senior_and_new_accounts_join_the_least_privileged() {
        let value = document(&all(&[]));
        let pools = &value["environments"]["dev"]["pools"];
        let names = |pool: &str| -> Vec<(String, u64)> {
            pools[pool]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| (g["name"].as_str().unwrap().to_owned(), g["precedence"].as_u64().unwrap()))
                .collect()
        };
        let owned = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
            pairs.iter().map(|(name, precedence)| ((*name).to_owned(), *precedence)).collect()
        };
        assert_eq!(names("customer"), owned(&[("premium", 10), ("dealer", 20), ("individual", 30)]));
        assert_eq!(
            names("staff"),
            owned(&[("super_admin", 10), ("admin", 20), ("manager", 30), ("team_member", 40)])
        );
        // The same least-privileged roles the service gives an account nobody gave a role.
        assert_eq!(pools["customer"]["defaultGroup"], "individual");
        assert_eq!(pools["staff"]["defaultGroup"], "team_member");
        assert_eq!(pools["customer"]["groups"][1]["description"], "A professional seller");
    }

    #[test]
    fn routes_get_their_api_gateway_paths() {
        assert_eq!(api_gateway_path("/api/staff/moderation/**"), "/api/staff/moderation/{proxy+}");
        assert_eq!(api_gateway_path("/api/listings/{id}/analytics"), "/api/listings/{id}/analytics");
        assert_eq!(api_gateway_path("/api/me"), "/api/me");
        assert_eq!(api_gateway_path("/**"), "/{proxy+}");
        let value = document(&all(&[]));
        let routes = value["environments"]["dev"]["routes"].as_array().unwrap();
        assert_eq!(routes.len(), load(Environment::Dev, &[]).routes.len());
        assert_eq!(
            routes[0],
            serde_json::json!({"method": "GET", "path": "/api/me", "apiGatewayPath": "/api/me",
                               "pool": "customer", "permission": "profile_manage"})
        );
        let settings = routes.iter().find(|r| r["path"] == "/api/staff/settings/**").unwrap();
        assert_eq!(settings["method"], "*");
        assert_eq!(settings["apiGatewayPath"], "/api/staff/settings/{proxy+}");
        assert_eq!(settings["pool"], "staff");
    }

    #[test]
    fn throttling_and_auto_confirm_follow_each_environment() {
        let value = document(&all(&[]));
        assert_eq!(
            value["environments"]["dev"]["throttling"],
            serde_json::json!({"customer": {"ratePerSecond": 100, "burst": 200},
                               "staff": {"ratePerSecond": 20, "burst": 40},
                               "wafRequestsPer5MinutesPerAddress": 2000})
        );
        let mut environments = all(&[]);
        environments[0].1 = load(Environment::Dev, &[("COGNIGATE_POOLS__CUSTOMER__AUTO_CONFIRM", "true")]);
        let value = document(&environments);
        assert_eq!(value["environments"]["dev"]["pools"]["customer"]["autoConfirm"], true);
        assert_eq!(value["environments"]["staging"]["pools"]["customer"]["autoConfirm"], false);
    }

    #[test]
    fn missing_environments_and_inexact_lifetimes_are_errors() {
        let mut environments = all(&[]);
        environments.pop();
        assert!(
            matches!(infra_json(&environments), Err(ExportError::Infra(message)) if message.contains("prod"))
        );
        let odd = [("COGNIGATE_POOLS__STAFF__TOKENS__ACCESS", "15m30s")];
        let environments: Vec<(Environment, Config)> =
            Environment::ALL.into_iter().map(|env| (env, load(env, &odd))).collect();
        assert!(
            matches!(infra_json(&environments), Err(ExportError::Infra(message)) if message.contains("pools.staff.tokens.access"))
        );
        let mut renamed = all(&[]);
        renamed[2].1 = load(Environment::Prod, &[("COGNIGATE_SERVICE__NAME", "other")]);
        assert!(
            matches!(infra_json(&renamed), Err(ExportError::Infra(message)) if message.contains("service.name"))
        );
    }
}
