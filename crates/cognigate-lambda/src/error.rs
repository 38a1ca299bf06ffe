//! The two kinds of failure a Lambda of cognigate has: its cold start cannot build what it needs (a
//! configuration or deployment mistake, reported once, loudly), or a trigger refuses or fails an event
//! (the message is what Cognito shows the person). The authorizer has no per-request error at all: every
//! request it cannot judge is denied.

use cognigate_config::PoolKind;

/// Building a Lambda's state at cold start failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `COGNIGATE_ENV` names no environment.
    #[error("COGNIGATE_ENV: {0}")]
    Environment(String),
    /// The configuration file cannot be read or is invalid.
    #[error(transparent)]
    Config(#[from] cognigate_config::ConfigError),
    /// The Cedar schema or policies cannot be built from the configuration.
    #[error("the authorization policies cannot be built: {0}")]
    Policy(#[from] cognigate_policy::PolicyError),
    /// A pool's token verifier cannot be built.
    #[error("the {pool} pool's token verifier cannot be built: {source}")]
    Verifier {
        pool: PoolKind,
        #[source]
        source: cognigate_token::ConfigError,
    },
    /// The HTTP client for JWKS fetches cannot be built.
    #[error("the JWKS client cannot be built: {0}")]
    Jwks(#[from] cognigate_token::JwksError),
    /// A custom attribute's pattern does not compile (validation normally catches this first).
    #[error(transparent)]
    Pattern(#[from] cognigate_domain::sign_up::PatternError),
}

/// A Cognito trigger refused or could not handle an event. Cognito fails the operation and shows the
/// message (`PreSignUp failed with error <message>.`), so messages name what is wrong without echoing
/// secrets.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The event is valid but refused by a rule (a sign-up with a missing or malformed attribute).
    #[error("{0}")]
    Refused(String),
    /// A `triggerSource` this function does not handle: the pool is wired to the wrong function.
    #[error(
        "unsupported trigger source `{0}`: this function handles PreSignUp, PostConfirmation, PreTokenGeneration (V2_0) and PostAuthentication"
    )]
    UnsupportedTrigger(String),
    /// The event does not have the documented shape of its trigger.
    #[error("the {trigger} event is malformed: {message}")]
    Malformed { trigger: &'static str, message: String },
    /// The event comes from a user pool this installation's configuration does not name.
    #[error("user pool `{0}` is not one of this installation's pools (pools.*.cognito.user_pool_id)")]
    UnknownPool(String),
    /// The identity provider refused or failed a call the trigger needs.
    #[error("the identity provider failed: {0}")]
    Provider(#[from] cognigate_provider::ProviderError),
    /// A configuration the trigger needs at run time is missing.
    #[error("{0}")]
    Misconfigured(String),
}
