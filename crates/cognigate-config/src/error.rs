//! Configuration errors: each names the dotted key, says what is wrong, and where the value came from.

use std::fmt;

/// Where a configuration value came from, so an error points at the place to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file itself.
    File,
    /// The `[environments.<env>]` table of the file.
    EnvironmentSection(String),
    /// A `COGNIGATE_*` environment variable.
    EnvVar(String),
}

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The dotted key, e.g. `pools.staff.mfa.mode` or `routes[2].permission`.
    pub key: String,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Where the offending value was set.
    pub origin: Origin,
}

impl Issue {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into(), origin: Origin::File }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)?;
        match &self.origin {
            Origin::File => Ok(()),
            Origin::EnvironmentSection(env) => write!(f, " (set in [environments.{env}])"),
            Origin::EnvVar(var) => write!(f, " (set by the environment variable {var})"),
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {message}")]
    Read { path: String, message: String },
    #[error("{source_name} is not valid TOML: {message}")]
    Syntax { source_name: String, message: String },
    #[error("{source_name} is invalid:{}", render_issues(.issues))]
    Invalid { source_name: String, issues: Vec<Issue> },
}

impl ConfigError {
    /// The individual problems (empty for read and syntax errors).
    pub fn issues(&self) -> &[Issue] {
        match self {
            Self::Invalid { issues, .. } => issues,
            Self::Read { .. } | Self::Syntax { .. } => &[],
        }
    }
}

fn render_issues(issues: &[Issue]) -> String {
    issues.iter().map(|issue| format!("\n  - {issue}")).collect()
}
