//! cognigate on AWS Lambda: the API Gateway REQUEST authorizer and the Cognito triggers of both pools.
//!
//! Nothing here is a second implementation of a rule. The authorizer matches routes with the domain's
//! [`RouteTable`](cognigate_domain::routes::RouteTable) (the one gateway mode uses), verifies tokens with
//! `cognigate-token`'s `Verifier` and decides with the one Cedar `Authorizer::authorize`; the triggers
//! compute claims with `cognigate_domain::claims::identity_claims` (which the embedded engine runs
//! in-process), mirror rows with the auth service's rule and audit events with its `Auditor`. What this
//! crate adds is the translation between Lambda events and those calls, and the decisions only a Lambda
//! has to make: what to do with input it cannot judge (deny), and what to build once per cold start.
//!
//! The binaries (`cognigate-authorizer`, `cognigate-triggers`) only load the configuration
//! ([`settings`]), build the state and hand events to [`authorizer::authorize_value`] and
//! [`triggers::handle`], which tests call directly.

pub mod authorizer;
pub mod error;
pub mod settings;
pub mod triggers;

pub use error::{StartError, TriggerError};

/// JSON log lines on standard output (CloudWatch keeps each as one event), filtered by `COGNIGATE_LOG`
/// (default `info`). Audit events come out as lines with target `audit`.
pub fn init_logging(filter: Option<&str>) {
    let filter = filter
        .and_then(|directives| tracing_subscriber::EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_current_span(false)
        .with_span_list(false)
        .init();
}
