//! The domain rules every part of cognigate shares, with no I/O and no heavy dependencies.
//!
//! - [`access`]: the role and permission model resolved from the configuration (inheritance, tiers, ranks),
//!   and the permissions matrix derived from it.
//! - [`authz`]: the vocabulary of an authorization request (who, what, on what, in which circumstances) and
//!   its answer. The Cedar engine in `cognigate-policy` decides; everything else builds requests with these
//!   types so the HTTP API, the console, gateway mode and the Lambda authorizer ask the same question.
//! - [`claims`]: the role, tier, team, permission and onboarding claims a token carries
//!   (pre-token-generation), and the one way to read them back.
//! - [`email`]: the one form an email address (every pool's username) takes before it is stored or compared.
//! - [`errors`]: the stable error codes clients branch on, and the one mapping from Cognito's exceptions.
//! - [`lockout`]: the doubling delay after repeated failures, for the engine and the auth API alike.
//! - [`onboarding`]: the states an account passes between sign-up and full use, and what each allows.
//! - [`routes`]: the protected route table (gateway mode and the Lambda authorizer find a route the same way).
//! - [`sign_up`]: who may sign up with which attributes (PreSignUp), in the engine and the Lambda alike.

pub mod access;
pub mod authz;
pub mod claims;
pub mod email;
pub mod errors;
pub mod lockout;
pub mod onboarding;
pub mod routes;
pub mod sign_up;

pub use cognigate_config::PoolKind;
