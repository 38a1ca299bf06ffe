//! References to secrets. The file may say where a secret is, never what it is.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where to find a secret: an environment variable, a file, or an AWS Secrets Manager secret.
///
/// A plain string in a secret's place is rejected, so a secret pasted into `cognigate.toml` never starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "RawSecretRef", rename_all = "snake_case")]
#[schemars(with = "SecretRefSchema")]
pub enum SecretRef {
    /// The value of this environment variable.
    Env(String),
    /// The contents of this file (trailing newline removed), e.g. a mounted Kubernetes or Docker secret.
    File(String),
    /// The `SecretString` of this AWS Secrets Manager secret (name or ARN).
    AwsSecretsManager(String),
}

impl SecretRef {
    /// Says where the secret comes from, for documentation and status pages; never the secret itself.
    pub fn describe(&self) -> String {
        match self {
            Self::Env(name) => format!("environment variable {name}"),
            Self::File(path) => format!("file {path}"),
            Self::AwsSecretsManager(id) => format!("AWS Secrets Manager secret {id}"),
        }
    }
}

/// A reference to a secret: exactly one of `env`, `file` or `aws_secrets_manager`.
#[derive(JsonSchema)]
#[allow(dead_code, reason = "only describes the accepted shape for the JSON schema")]
struct SecretRefSchema {
    /// An environment variable holding the secret.
    env: Option<String>,
    /// A file holding the secret.
    file: Option<String>,
    /// An AWS Secrets Manager secret name or ARN.
    aws_secrets_manager: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSecretRef {
    Plain(#[expect(dead_code, reason = "only its presence matters: it is refused")] String),
    Reference { env: Option<String>, file: Option<String>, aws_secrets_manager: Option<String> },
}

impl TryFrom<RawSecretRef> for SecretRef {
    type Error = String;

    fn try_from(raw: RawSecretRef) -> Result<Self, Self::Error> {
        const HOW: &str =
            "write { env = \"VAR\" }, { file = \"/path\" } or { aws_secrets_manager = \"name\" }";
        match raw {
            RawSecretRef::Plain(_) => {
                Err(format!("secrets are never written in the configuration file; {HOW}"))
            }
            RawSecretRef::Reference { env, file, aws_secrets_manager } => {
                match (env, file, aws_secrets_manager) {
                    (Some(name), None, None) if !name.trim().is_empty() => Ok(Self::Env(name)),
                    (None, Some(path), None) if !path.trim().is_empty() => Ok(Self::File(path)),
                    (None, None, Some(id)) if !id.trim().is_empty() => Ok(Self::AwsSecretsManager(id)),
                    _ => Err(format!("a secret reference names exactly one non-empty source; {HOW}")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_kind_of_reference() {
        let env: SecretRef =
            toml::from_str::<toml::Table>("s = { env = \"X\" }").unwrap()["s"].clone().try_into().unwrap();
        assert_eq!(env, SecretRef::Env("X".into()));
        assert_eq!(env.describe(), "environment variable X");
    }

    #[test]
    fn refuses_a_plain_secret_and_ambiguous_references() {
        for text in ["s = \"hunter2\"", "s = { env = \"A\", file = \"/b\" }", "s = { env = \"\" }", "s = {}"]
        {
            let table: toml::Table = toml::from_str(text).unwrap();
            let error = table["s"].clone().try_into::<SecretRef>().unwrap_err().to_string();
            assert!(error.contains("write { env"), "{text}: {error}");
            assert!(!error.contains("hunter2"), "the rejected secret must not be echoed: {error}");
        }
    }
}
