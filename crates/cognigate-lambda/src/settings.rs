//! The configuration a Lambda runs with, read once per cold start: `cognigate.toml` packaged next to
//! `bootstrap` (or `COGNIGATE_CONFIG`), the environment from `COGNIGATE_ENV`, and the function's
//! `COGNIGATE_*` variables laid over it through the same loader as the server, so the deployment tells the
//! Lambdas the pool ids and regions exactly as it would tell `cognigate serve`.
//!
//! The variables are an argument, never read here, so tests load a configuration without touching the
//! process environment.

use std::path::PathBuf;

use cognigate_config::{Config, Environment};

use crate::error::StartError;

/// Where the configuration file is in a Lambda package (`/var/task` is the unpacked deployment zip).
pub const DEFAULT_CONFIG_PATH: &str = "/var/task/cognigate.toml";

/// The configuration file and environment a Lambda was told to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaSettings {
    pub config_path: PathBuf,
    pub environment: Environment,
}

impl LambdaSettings {
    /// `COGNIGATE_CONFIG` (default [`DEFAULT_CONFIG_PATH`]) and `COGNIGATE_ENV` (default `dev`, as for the
    /// server) from `vars`.
    ///
    /// # Errors
    /// [`StartError::Environment`] when `COGNIGATE_ENV` names no environment.
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, StartError> {
        let mut config_path = PathBuf::from(DEFAULT_CONFIG_PATH);
        let mut environment = Environment::default();
        for (name, value) in vars {
            match name {
                "COGNIGATE_CONFIG" if !value.is_empty() => config_path = PathBuf::from(value),
                "COGNIGATE_ENV" => environment = value.parse().map_err(StartError::Environment)?,
                _ => {}
            }
        }
        Ok(Self { config_path, environment })
    }
}

/// Loads the configuration for `vars` (the process's environment variables, as name/value pairs).
///
/// # Errors
/// [`StartError::Environment`] or [`StartError::Config`].
pub fn load_config(vars: &[(String, String)]) -> Result<(Config, Environment), StartError> {
    let pairs = || vars.iter().map(|(name, value)| (name.as_str(), value.as_str()));
    let settings = LambdaSettings::from_vars(pairs())?;
    let config = cognigate_config::load_file(&settings.config_path, settings.environment, pairs())?;
    Ok((config, settings.environment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_to_the_packaged_file_and_dev() {
        let settings = LambdaSettings::from_vars([]).unwrap();
        assert_eq!(settings.config_path, PathBuf::from("/var/task/cognigate.toml"));
        assert_eq!(settings.environment, Environment::Dev);
        assert!(matches!(
            LambdaSettings::from_vars([("COGNIGATE_ENV", "qa")]),
            Err(StartError::Environment(_))
        ));
    }

    #[test]
    fn loads_the_file_with_the_functions_variables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../cognigate.toml");
        let vars = owned(&[
            ("COGNIGATE_CONFIG", path),
            ("COGNIGATE_ENV", "prod"),
            ("COGNIGATE_POOLS__CUSTOMER__COGNITO__USER_POOL_ID", "eu-west-1_Other1"),
            ("PATH", "/usr/bin"),
        ]);
        let (config, environment) = load_config(&vars).unwrap();
        assert_eq!(environment, Environment::Prod);
        let cognito = config.pools.customer.cognito.as_ref().unwrap();
        assert_eq!(cognito.user_pool_id, "eu-west-1_Other1");
        let missing = owned(&[("COGNIGATE_CONFIG", "/nonexistent/cognigate.toml")]);
        assert!(matches!(load_config(&missing), Err(StartError::Config(_))));
    }
}
