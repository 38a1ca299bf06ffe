//! Who may sign up to a pool, with which attributes: the PreSignUp rule, run by the embedded engine
//! in-process and by the PreSignUp Lambda on AWS.
//!
//! Cognito checks the schema (types, declared attributes, its own length limits); this adds the rules only
//! `cognigate.toml` knows: required standard attributes, each custom attribute's length, pattern and numeric
//! range, and that `custom:role`, `custom:base_type`, `custom:tier` and `custom:team` are written by
//! administrators only. An administrator's `AdminCreateUser` may set them, but only to values the pool
//! knows. Auto-confirmation (and marking the email verified) happens only where the pool's `auto_confirm` is
//! on, which validation allows in dev alone; the rule checks the environment again rather than trust that.

use std::collections::{BTreeMap, HashMap};

use cognigate_config::{
    CustomAttribute, CustomAttributeKind, Environment, PoolConfig, PoolKind, RESERVED_CUSTOM_ATTRIBUTES,
    SignUpMode,
};
use regex::Regex;

use crate::access::AccessModel;

/// A custom attribute's pattern does not compile (configuration validation normally catches this first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pools.{pool}.custom_attributes.{attribute}.pattern: {message}")]
pub struct PatternError {
    pub pool: PoolKind,
    pub attribute: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpSource {
    /// The person, through `SignUp` (the auth API's register, or the hosted UI).
    SelfService,
    /// An administrator, through `AdminCreateUser` (the admin API's invitations).
    Administrator,
    /// A federated identity provider's first sign-in.
    ExternalProvider,
}

/// A pool's custom attribute rules, with their patterns compiled once per cold start.
#[derive(Debug)]
pub struct AttributeRules {
    pool: PoolKind,
    custom: BTreeMap<String, (CustomAttribute, Option<Regex>)>,
}

impl AttributeRules {
    /// Compiles `settings`' custom attribute patterns (anchored: the whole value must match).
    ///
    /// # Errors
    /// [`StartError::Pattern`] for a pattern that does not compile.
    pub fn new(pool: PoolKind, settings: &PoolConfig) -> Result<Self, PatternError> {
        let mut custom = BTreeMap::new();
        for (name, rule) in &settings.custom_attributes {
            let pattern = rule
                .pattern
                .as_deref()
                .map(|pattern| Regex::new(&format!("^(?:{pattern})$")))
                .transpose()
                .map_err(|error| PatternError {
                    pool,
                    attribute: name.clone(),
                    message: error.to_string(),
                })?;
            custom.insert(name.clone(), (rule.clone(), pattern));
        }
        Ok(Self { pool, custom })
    }

    fn check_value(&self, name: &str, value: &str) -> Result<(), String> {
        let Some((rule, pattern)) = self.custom.get(name) else {
            return Err(format!("custom:{name} is not an attribute of the {} pool", self.pool));
        };
        match rule.kind {
            CustomAttributeKind::Number => {
                let number: i64 =
                    value.trim().parse().map_err(|_| format!("custom:{name} must be a whole number"))?;
                if rule.min.is_some_and(|min| number < min) || rule.max.is_some_and(|max| number > max) {
                    return Err(format!(
                        "custom:{name} must be between {} and {}",
                        rule.min.map_or_else(|| "any".to_owned(), |min| min.to_string()),
                        rule.max.map_or_else(|| "any".to_owned(), |max| max.to_string())
                    ));
                }
            }
            CustomAttributeKind::String => {
                let length = u32::try_from(value.chars().count()).unwrap_or(u32::MAX);
                let min = rule.min_length.unwrap_or(0);
                let max = rule.max_length.unwrap_or(2048);
                if length < min || length > max {
                    return Err(format!("custom:{name} must be {min} to {max} characters long"));
                }
                if pattern.as_ref().is_some_and(|pattern| !pattern.is_match(value)) {
                    return Err(format!("custom:{name} does not have the required format"));
                }
            }
        }
        Ok(())
    }
}

/// What the sign-up gets when it is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignUpDecision {
    pub auto_confirm: bool,
    pub auto_verify_email: bool,
}

/// Judges a sign-up to `pool`: `Err` carries the sentence Cognito shows.
pub fn check_sign_up(
    pool: PoolKind,
    settings: &PoolConfig,
    rules: &AttributeRules,
    model: &AccessModel,
    environment: Environment,
    source: SignUpSource,
    attributes: &HashMap<String, String>,
) -> Result<SignUpDecision, String> {
    if source == SignUpSource::SelfService && settings.sign_up == SignUpMode::AdminOnly {
        return Err(format!("accounts of the {pool} pool are created by invitation only"));
    }
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort();
    for name in names {
        let value = attributes.get(name).map(String::as_str).unwrap_or_default();
        if let Some(custom) = name.strip_prefix("custom:") {
            if RESERVED_CUSTOM_ATTRIBUTES.contains(&custom) {
                if source != SignUpSource::Administrator {
                    return Err(format!(
                        "{name} is set by administrators only and cannot be chosen at sign-up"
                    ));
                }
                check_reserved(pool, model, custom, value)?;
            } else {
                rules.check_value(custom, value)?;
            }
        } else if name == "email" && !value.contains('@') {
            return Err("email is not an email address".to_owned());
        }
    }
    for (name, rule) in &settings.attributes {
        let given = attributes.get(name).is_some_and(|value| !value.trim().is_empty());
        if rule.required && !given {
            return Err(format!("{name} is required"));
        }
    }
    let auto_confirm =
        settings.auto_confirm && environment == Environment::Dev && source == SignUpSource::SelfService;
    Ok(SignUpDecision {
        auto_confirm,
        auto_verify_email: auto_confirm && attributes.get("email").is_some_and(|email| !email.is_empty()),
    })
}

/// An administrator may set the authorization attributes, to values the pool knows.
fn check_reserved(pool: PoolKind, model: &AccessModel, name: &str, value: &str) -> Result<(), String> {
    let access = model.pool(pool);
    let known = |role: &str| access.roles.contains_key(role);
    let ok = match (name, pool) {
        ("role", PoolKind::Staff) | ("base_type", PoolKind::Customer) => known(value),
        ("role", PoolKind::Customer) | ("base_type", PoolKind::Staff) => false,
        ("tier", _) => {
            value.split(',').map(str::trim).filter(|t| !t.is_empty()).all(|t| access.tiers.contains_key(t))
        }
        _ => true,
    };
    if ok { Ok(()) } else { Err(format!("custom:{name} `{value}` is not a {name} of the {pool} pool")) }
}

#[cfg(test)]
mod tests {
    use cognigate_config::Config;

    use super::*;

    const SHIPPED: &str = include_str!("../../../cognigate.toml");

    fn config(vars: &[(&str, &str)]) -> Config {
        cognigate_config::load_from_str(SHIPPED, "cognigate.toml", Environment::Dev, vars.iter().copied())
            .unwrap()
    }

    fn attributes(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn check(
        config: &Config,
        pool: PoolKind,
        source: SignUpSource,
        pairs: &[(&str, &str)],
    ) -> Result<SignUpDecision, String> {
        let settings = config.pools.get(pool);
        let rules = AttributeRules::new(pool, settings).unwrap();
        let model = AccessModel::from_config(config);
        check_sign_up(pool, settings, &rules, &model, Environment::Dev, source, &attributes(pairs))
    }

    #[test]
    fn a_plain_customer_sign_up_passes_without_auto_confirmation() {
        let config = config(&[]);
        let decision =
            check(&config, PoolKind::Customer, SignUpSource::SelfService, &[("email", "a@example.com")])
                .unwrap();
        assert_eq!(decision, SignUpDecision::default());
    }

    #[test]
    fn custom_attributes_follow_their_rules() {
        let config = config(&[]);
        let sign_up = |pairs: &[(&str, &str)]| {
            let mut all = vec![("email", "a@example.com")];
            all.extend_from_slice(pairs);
            check(&config, PoolKind::Customer, SignUpSource::SelfService, &all)
        };
        assert!(sign_up(&[("custom:display_name", "Ann"), ("custom:vat_number", "DE123456789")]).is_ok());
        for (pairs, words) in [
            (&[("custom:display_name", "A")][..], "2 to 60 characters"),
            (&[("custom:display_name", "<script>")][..], "required format"),
            (&[("custom:vat_number", "de123")][..], "required format"),
            (&[("custom:shoe_size", "44")][..], "not an attribute of the customer pool"),
            (&[("email", "not-an-address")][..], "not an email address"),
        ] {
            let error = sign_up(pairs).unwrap_err();
            assert!(error.contains(words), "{pairs:?}: {error}");
        }
    }

    #[test]
    fn authorization_attributes_are_for_administrators_and_known_values() {
        let config = config(&[]);
        for name in ["custom:role", "custom:base_type", "custom:tier", "custom:team"] {
            let error = check(
                &config,
                PoolKind::Customer,
                SignUpSource::SelfService,
                &[("email", "a@b.c"), (name, "dealer")],
            )
            .unwrap_err();
            assert!(error.contains(name) && error.contains("administrators"), "{error}");
            assert!(
                check(
                    &config,
                    PoolKind::Customer,
                    SignUpSource::ExternalProvider,
                    &[("email", "a@b.c"), (name, "x")]
                )
                .is_err()
            );
        }
        let staff = [("email", "s@b.c"), ("given_name", "S"), ("family_name", "T")];
        let invite = |extra: (&'static str, &'static str)| {
            let mut pairs = staff.to_vec();
            pairs.push(extra);
            check(&config, PoolKind::Staff, SignUpSource::Administrator, &pairs)
        };
        assert!(invite(("custom:role", "manager")).is_ok());
        assert!(invite(("custom:team", "north")).is_ok());
        assert!(invite(("custom:role", "emperor")).unwrap_err().contains("not a role of the staff pool"));
        assert!(invite(("custom:base_type", "dealer")).is_err(), "staff have no base type");
        let customer =
            |pairs: &[(&str, &str)]| check(&config, PoolKind::Customer, SignUpSource::Administrator, pairs);
        assert!(
            customer(&[("email", "c@b.c"), ("custom:base_type", "dealer"), ("custom:tier", "premium")])
                .is_ok()
        );
        assert!(customer(&[("email", "c@b.c"), ("custom:tier", "gold")]).is_err());
    }

    #[test]
    fn required_attributes_and_invitation_only_pools() {
        let config = config(&[]);
        let error = check(
            &config,
            PoolKind::Staff,
            SignUpSource::Administrator,
            &[("email", "s@b.c"), ("given_name", "S")],
        )
        .unwrap_err();
        assert_eq!(error, "family_name is required");
        let error =
            check(&config, PoolKind::Customer, SignUpSource::SelfService, &[("email", " ")]).unwrap_err();
        assert!(error.contains("email"), "{error}");
        let error = check(
            &config,
            PoolKind::Staff,
            SignUpSource::SelfService,
            &[("email", "s@b.c"), ("given_name", "S"), ("family_name", "T")],
        )
        .unwrap_err();
        assert!(error.contains("invitation only"), "{error}");
    }

    #[test]
    fn auto_confirmation_only_where_configured_in_dev_and_for_self_service() {
        let on = config(&[("COGNIGATE_POOLS__CUSTOMER__AUTO_CONFIRM", "true")]);
        let pairs = [("email", "a@example.com")];
        let decision = check(&on, PoolKind::Customer, SignUpSource::SelfService, &pairs).unwrap();
        assert_eq!(decision, SignUpDecision { auto_confirm: true, auto_verify_email: true });
        let admin = check(&on, PoolKind::Customer, SignUpSource::Administrator, &pairs).unwrap();
        assert_eq!(admin, SignUpDecision::default());
        let settings = &on.pools.customer;
        let rules = AttributeRules::new(PoolKind::Customer, settings).unwrap();
        let model = AccessModel::from_config(&on);
        for environment in [Environment::Staging, Environment::Prod] {
            let decision = check_sign_up(
                PoolKind::Customer,
                settings,
                &rules,
                &model,
                environment,
                SignUpSource::SelfService,
                &attributes(&pairs),
            )
            .unwrap();
            assert!(!decision.auto_confirm, "{environment}: never outside dev, whatever the file says");
        }
    }
}
