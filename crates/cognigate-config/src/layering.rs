//! Layering: the file, then the selected environment's table, then `COGNIGATE_*` variables.
//!
//! Layering works on untyped TOML tables so an override can set any key the file can, and the typed
//! deserialization afterwards judges the result once. Each override remembers where it came from, so an
//! error caused by `COGNIGATE_POOLS__STAFF__MFA__MODE` names that variable rather than the file.

use std::fmt;
use std::str::FromStr;

use crate::error::{ConfigError, Issue, Origin};
use crate::model::Config;

/// Every override variable starts with this.
pub const ENV_PREFIX: &str = "COGNIGATE_";

/// Variables with the prefix that are not configuration keys. `COGNIGATE_SECRET_*` is reserved for secrets.
pub const RESERVED_ENV_VARS: &[(&str, &str)] = &[
    ("COGNIGATE_ENV", "The environment: dev (default), staging or prod."),
    ("COGNIGATE_CONFIG", "The configuration file (default ./cognigate.toml)."),
    ("COGNIGATE_LOG", "Log filter in tracing's syntax, e.g. `info,cognigate=debug`."),
    (
        "COGNIGATE_SECRET_*",
        "Reserved for secrets referenced from the file as { env = \"COGNIGATE_SECRET_...\" }.",
    ),
    ("COGNIGATE_TEST_*", "Reserved for cognigate's own test suite (e.g. COGNIGATE_TEST_POSTGRES_URL)."),
];

const SECRET_PREFIX: &str = "COGNIGATE_SECRET_";
const TEST_PREFIX: &str = "COGNIGATE_TEST_";

/// The deployment environment; selects `[environments.<env>]` and the rules that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Environment {
    #[default]
    Dev,
    Staging,
    Prod,
}

impl Environment {
    pub const ALL: [Environment; 3] = [Environment::Dev, Environment::Staging, Environment::Prod];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Staging => "staging",
            Self::Prod => "prod",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|env| env.as_str() == text)
            .ok_or_else(|| format!("unknown environment `{text}`; expected dev, staging or prod"))
    }
}

/// The environment variable that overrides a dotted key: `store.url` → `COGNIGATE_STORE__URL`.
pub fn env_var_for_key(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.split('.').collect::<Vec<_>>().join("__").to_ascii_uppercase())
}

pub(crate) struct Layered {
    table: toml::Table,
    overrides: Vec<(Vec<String>, Origin)>,
}

pub(crate) fn layer<'a>(
    source: &str,
    source_name: &str,
    environment: Environment,
    vars: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Layered, ConfigError> {
    let mut table: toml::Table = toml::from_str(source).map_err(|error| ConfigError::Syntax {
        source_name: source_name.to_owned(),
        message: error.to_string(),
    })?;
    let mut issues = Vec::new();
    let mut overrides = Vec::new();

    if let Some(environments) = table.remove("environments") {
        match environments {
            toml::Value::Table(environments) => {
                for (name, section) in environments {
                    let key = format!("environments.{name}");
                    let Ok(env) = name.parse::<Environment>() else {
                        issues.push(Issue::new(key, "unknown environment; expected dev, staging or prod"));
                        continue;
                    };
                    let toml::Value::Table(section) = section else {
                        issues.push(Issue::new(key, "must be a table of overrides"));
                        continue;
                    };
                    if env == environment {
                        let origin = Origin::EnvironmentSection(name.clone());
                        merge(&mut table, section, &mut Vec::new(), &origin, &mut overrides);
                    }
                }
            }
            _ => issues.push(Issue::new("environments", "must be a table with dev, staging and prod tables")),
        }
    }

    let mut vars: Vec<(&str, &str)> = vars.into_iter().filter(|(name, _)| is_override(name)).collect();
    vars.sort_unstable();
    for (name, raw) in vars {
        let origin = Origin::EnvVar(name.to_owned());
        let path: Vec<String> = name[ENV_PREFIX.len()..].split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            issues.push(Issue {
                key: name.to_owned(),
                message: "is not a configuration key: segments are separated by exactly two underscores"
                    .to_owned(),
                origin,
            });
            continue;
        }
        match set_path(&mut table, &path, parse_env_value(raw)) {
            Ok(()) => overrides.push((path, origin)),
            Err(message) => issues.push(Issue { key: path.join("."), message, origin }),
        }
    }

    if issues.is_empty() {
        Ok(Layered { table, overrides })
    } else {
        Err(ConfigError::Invalid { source_name: source_name.to_owned(), issues })
    }
}

/// The typed configuration, and for each override the key it set and where it came from.
pub(crate) type Overrides = Vec<(Vec<String>, Origin)>;

pub(crate) fn deserialize(layered: Layered, source_name: &str) -> Result<(Config, Overrides), ConfigError> {
    let Layered { table, overrides } = layered;
    let config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
        let inner = error.inner().to_string().trim_end().to_owned();
        // toml names the key itself (`...\nin `a.b.c``), including map keys that serde_path_to_error can only
        // render as `?`; prefer its path when it gives one.
        let (message, toml_key) = match inner.rsplit_once("\nin `") {
            Some((message, key)) => (message.to_owned(), key.strip_suffix('`').map(str::to_owned)),
            None => (inner.clone(), None),
        };
        let mut key = toml_key.filter(|key| !key.is_empty()).unwrap_or_else(|| error.path().to_string());
        // For an unknown key, both paths stop at the table that holds it; the key itself is the useful part.
        if let Some(unknown) = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next())
        {
            let already_named = key == unknown || key.ends_with(&format!(".{unknown}"));
            if !already_named {
                key = if key.is_empty() || key == "." {
                    unknown.to_owned()
                } else {
                    format!("{key}.{unknown}")
                };
            }
        }
        let message = describe_serde_error(&message);
        let origin = origin_of(&key, &overrides);
        ConfigError::Invalid {
            source_name: source_name.to_owned(),
            issues: vec![Issue { key, message, origin }],
        }
    })?;
    Ok((config, overrides))
}

fn is_override(name: &str) -> bool {
    name.starts_with(ENV_PREFIX)
        && !name.starts_with(SECRET_PREFIX)
        && !name.starts_with(TEST_PREFIX)
        && !RESERVED_ENV_VARS.iter().any(|(reserved, _)| *reserved == name)
}

/// An override's value is read as a TOML value when it is one (`5`, `true`, `["totp"]`), otherwise as text.
fn parse_env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("value = {raw}"))
        .ok()
        .and_then(|mut table| table.remove("value"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("is empty".to_owned());
    };
    let mut current = table;
    for (depth, segment) in parents.iter().enumerate() {
        let entry = current.entry(segment.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(next) => next,
            _ => {
                return Err(format!(
                    "cannot be set: `{}` is a value, not a table",
                    path.get(..=depth).unwrap_or(path).join(".")
                ));
            }
        };
    }
    current.insert(last.clone(), value);
    Ok(())
}

fn merge(
    base: &mut toml::Table,
    overlay: toml::Table,
    path: &mut Vec<String>,
    origin: &Origin,
    overrides: &mut Vec<(Vec<String>, Origin)>,
) {
    for (key, value) in overlay {
        path.push(key.clone());
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(nested)) => {
                merge(existing, nested, path, origin, overrides);
            }
            (_, value) => {
                overrides.push((path.clone(), origin.clone()));
                base.insert(key, value);
            }
        }
        path.pop();
    }
}

/// The origin of the most specific override that covers `key` (or the file).
pub(crate) fn origin_of(key: &str, overrides: &[(Vec<String>, Origin)]) -> Origin {
    let segments: Vec<&str> = key.split(['.', '[']).collect();
    overrides
        .iter()
        .filter(|(path, _)| path.len() <= segments.len() && path.iter().zip(&segments).all(|(a, b)| a == b))
        .max_by_key(|(path, _)| path.len())
        .map_or(Origin::File, |(_, origin)| origin.clone())
}

/// serde's wording, with "field" said the way a configuration file's reader thinks of it.
fn describe_serde_error(message: &str) -> String {
    message.replace("unknown field", "unknown key").replace("missing field", "missing key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_follow_the_keys() {
        assert_eq!(env_var_for_key("store.url"), "COGNIGATE_STORE__URL");
        assert_eq!(env_var_for_key("pools.staff.mfa.mode"), "COGNIGATE_POOLS__STAFF__MFA__MODE");
    }

    #[test]
    fn reserved_and_secret_variables_are_not_overrides() {
        assert!(!is_override("COGNIGATE_ENV"));
        assert!(!is_override("COGNIGATE_SECRET_WEBHOOK"));
        assert!(!is_override("COGNIGATE_TEST_POSTGRES_URL"));
        assert!(!is_override("PATH"));
        assert!(is_override("COGNIGATE_STORE__URL"));
    }

    #[test]
    fn values_are_typed_when_they_parse_as_toml() {
        assert_eq!(parse_env_value("5"), toml::Value::Integer(5));
        assert_eq!(parse_env_value("true"), toml::Value::Boolean(true));
        assert_eq!(parse_env_value("15m"), toml::Value::String("15m".into()));
        assert_eq!(parse_env_value("postgres://x@y/z"), toml::Value::String("postgres://x@y/z".into()));
        assert!(matches!(parse_env_value("[\"totp\", \"sms\"]"), toml::Value::Array(a) if a.len() == 2));
    }
}
