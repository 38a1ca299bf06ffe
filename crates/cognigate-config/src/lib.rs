//! The `cognigate.toml` model.
//!
//! One file declares everything cognigate does; every other artefact (Cedar policies, exports, docs, the CDK
//! context) is derived from the [`Config`] this crate produces. That is why the rules here are strict: an
//! unknown key, a wrong type or an impossible combination is an error that names the dotted key and says what
//! is wrong, before anything starts.
//!
//! Loading is layered (file → `[environments.<env>]` → `COGNIGATE_*` variables) and pure: the caller hands in
//! the file's text and the environment variables, so tests never touch the process environment.
//! The crate knows nothing of HTTP, storage or Cedar.

mod duration;
mod error;
mod layering;
mod model;
mod secret;
mod validate;

pub use duration::HumanDuration;
pub use error::{ConfigError, Issue, Origin};
pub use layering::{ENV_PREFIX, Environment, RESERVED_ENV_VARS, env_var_for_key};
pub use model::*;
pub use secret::SecretRef;
pub use validate::{
    RESERVED_CUSTOM_ATTRIBUTES, RESERVED_PERMISSION_NAMES, STAFF_PERMISSIONS, STANDARD_ATTRIBUTES,
    SUPER_ADMIN, check_path_pattern,
};

/// Parses, layers and validates a configuration.
///
/// `source` is the text of `cognigate.toml` and `source_name` how to call it in messages; `vars` are the
/// process environment variables (only those starting with `COGNIGATE_` are read).
pub fn load_from_str<'a>(
    source: &str,
    source_name: &str,
    environment: Environment,
    vars: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Config, ConfigError> {
    let layered = layering::layer(source, source_name, environment, vars)?;
    let (config, overrides) = layering::deserialize(layered, source_name)?;
    let mut issues = validate::validate(&config, environment);
    for issue in &mut issues {
        issue.origin = layering::origin_of(&issue.key, &overrides);
    }
    if issues.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid { source_name: source_name.to_owned(), issues })
    }
}

/// Reads `path` and calls [`load_from_str`].
pub fn load_file<'a>(
    path: &std::path::Path,
    environment: Environment,
    vars: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Config, ConfigError> {
    let source = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.display().to_string(),
        message: error.to_string(),
    })?;
    load_from_str(&source, &path.display().to_string(), environment, vars)
}
