//! The `cognito` identity provider: [`IdentityProvider`](cognigate_provider::IdentityProvider) over AWS
//! Cognito, or any Cognito-compatible endpoint (cognigate's own wire protocol, moto, cognito-local), through
//! the official AWS SDK for Rust.
//!
//! It exists so that a pool moves between the embedded engine and real Cognito by configuration alone: the
//! service talks to the trait, and this crate translates each call into one Cognito operation (two for
//! [`check`](cognigate_provider::IdentityProvider::check)), computing `SECRET_HASH` when the app client has a
//! secret and mapping every failure to the product's stable error codes in one place (`errors.rs`).
//!
//! Connecting ([`CognitoProvider::connect`]) loads the standard AWS credential chain (environment keys,
//! SSO and shared profiles, web identity / IRSA, the ECS task role, the EC2 instance profile). When an
//! endpoint override is configured and that chain finds no credentials at all, the provider signs with
//! fixed placeholder credentials instead: emulators accept any signature, and this keeps a developer machine
//! without AWS credentials working against one. Real Cognito refuses such a signature, which surfaces as
//! `PROVIDER_UNAVAILABLE`. (Off AWS, set `AWS_EC2_METADATA_DISABLED=true` so the chain does not probe the
//! instance-metadata address before giving up.)
//!
//! Requests fail fast rather than hang: at most two attempts (standard retry), 5 s to connect and 15 s for a
//! whole operation.

mod convert;
mod errors;
mod provider;
mod settings;

pub use provider::CognitoProvider;
pub use settings::CognitoSettings;
