//! Everything cognigate derives from its configuration for people and tools.
//!
//! `cognigate export` writes [`export`]'s artefacts (roles.json, policies.yaml, the Cedar policy set and
//! schema, the permissions matrix); `cognigate docs` writes [`docs`]'s pages under `docs/`; `cognigate infra`
//! writes [`infra_json`] to `infra/cognigate.json` for the CDK app and Terraform. All are pure
//! functions of the configuration, so their output is stable: the same file gives the same bytes, which is
//! what lets CI fail when the committed docs fall behind the configuration.

mod flows;
mod infra;
mod markdown;
mod reference;
mod roles;

use cognigate_config::{Config, Environment};
use cognigate_policy::Authorizer;

pub use flows::flows_page;
pub use infra::{GENERATED_BY, infra_json};
pub use reference::{ConfigKey, config_keys};

/// A generated file: where it goes (relative to the output directory) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artefact {
    pub path: String,
    pub contents: String,
}

impl Artefact {
    fn new(path: &str, contents: String) -> Self {
        Self { path: path.to_owned(), contents }
    }
}

/// Why an artefact could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot serialize {what}: {message}")]
    Serialize { what: &'static str, message: String },
    /// The configuration cannot be said in the infrastructure file's terms.
    #[error("cannot write infra/cognigate.json: {0}")]
    Infra(String),
}

/// The machine-readable and human-readable exports of the access model.
pub fn export(config: &Config, authorizer: &Authorizer) -> Result<Vec<Artefact>, ExportError> {
    Ok(vec![
        Artefact::new("roles.json", roles::roles_json(config, authorizer)?),
        Artefact::new("policies.yaml", roles::policies_yaml(config, authorizer)?),
        Artefact::new("cognigate.cedar", authorizer.policy_text().to_owned()),
        Artefact::new("cognigate.cedarschema", authorizer.schema_text().to_owned()),
        Artefact::new("permissions.md", markdown::permissions_page(authorizer)),
    ])
}

/// The pages of `docs/`. `environments` holds the configuration as loaded for each environment (for the
/// per-environment tables); the first is the one the other pages describe (the auth flows are drawn from it).
pub fn docs(environments: &[(Environment, Config)], authorizer: &Authorizer) -> Vec<Artefact> {
    let mut pages = vec![
        Artefact::new("README.md", markdown::docs_index()),
        Artefact::new("permissions.md", markdown::permissions_page(authorizer)),
        Artefact::new("roles.md", markdown::roles_page(authorizer)),
        Artefact::new("environment.md", markdown::environment_page()),
        Artefact::new("configuration.md", markdown::configuration_page(environments)),
    ];
    if let Some((environment, config)) = environments.first() {
        pages.push(Artefact::new("flows.md", flows::flows_page(*environment, config)));
    }
    pages
}
