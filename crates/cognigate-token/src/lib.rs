//! Tokens for both pools, in Cognito's exact shape: the embedded engine mints them with a [`SigningKey`]
//! and [`sign`]; the HTTP service and the Lambda authorizer check them with one [`Verifier`], whether they
//! come from real Cognito or from the engine. The verifier is the security boundary of every request, so
//! it accepts RS256 only, reads keys only from the configured issuers' JWKS, checks `token_use` and the app
//! client, and consults a [`RevocationCheck`]; its two caches (parsed keys per issuer and `kid`, verified
//! tokens by SHA-256) keep a repeated token at a hash and a map lookup.

mod cache;
mod claims;
mod clock;
mod compact;
mod error;
mod jwks;
mod key;
mod revocation;
mod verify;

pub use claims::{AccessClaims, COGNITO_ADMIN_SCOPE, IdClaims, TokenUse, new_token_id};
pub use clock::{Clock, FixedClock, SystemClock};
pub use compact::sign;
pub use error::{ConfigError, JwksError, KeyError, SignError, VerifyError};
pub use jwks::{DEFAULT_JWKS_TIMEOUT, DEFAULT_MAX_JWKS_BYTES, HttpJwksSource, JwksSource, StaticJwksSource};
pub use key::{Jwk, JwkSet, MAX_KID_LEN, SigningKey};
pub use revocation::{NoRevocation, Revocation, RevocationCheck, RevocationList};
pub use verify::{
    Audience, MAX_KEYS_PER_SET, VerifiedToken, Verifier, VerifierBuilder, VerifierOptions, VerifierStats,
};
