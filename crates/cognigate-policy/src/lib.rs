//! Authorization with Cedar, the language behind Amazon Verified Permissions.
//!
//! The configuration's roles, tiers and permissions become a Cedar schema and one `permit` per role or tier
//! ([`generate`]); the rules that are not a matrix are hand-written `forbid`s in `policies/rules.cedar`.
//! Both are validated against the schema when an [`Authorizer`] is built, so a policy that names an unknown
//! attribute or action stops start-up instead of silently never matching.
//!
//! [`Authorizer::authorize`] is the one decision function. It is synchronous and does no I/O: the caller
//! supplies every fact (roles, teams, counts) in the request, which is what lets the same function run in
//! the HTTP service, the console, gateway mode and the API Gateway Lambda authorizer.

mod authorizer;
pub mod catalogue;
pub mod generate;

pub use authorizer::{Authorizer, PolicyError};

/// The hand-written policies, shipped inside the binary.
pub const RULES: &str = include_str!("../policies/rules.cedar");

/// The Cedar namespace of every cognigate entity type and action.
pub const NAMESPACE: &str = "Cognigate";
