//! The error types of this crate, in one place so that callers (the HTTP edge, the Lambda authorizer, the
//! engine) can map them to responses and audit events without string matching. No variant carries key
//! material, and none echoes attacker-controlled token text: reasons are static strings.

use thiserror::Error;

/// Creating, importing or exporting a [`crate::SigningKey`] failed.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The random generator or the RSA key generation failed.
    #[error("RSA key generation failed")]
    Generate,
    /// The PKCS#8 document is not a usable RSA private key.
    #[error("the private key was rejected: {0}")]
    Rejected(&'static str),
    /// The RSA modulus is smaller than 2048 bits.
    #[error("the RSA key is smaller than 2048 bits")]
    TooSmall,
    /// Serialising the private key failed.
    #[error("the private key could not be exported")]
    Export,
    /// The key id is empty, longer than 128 characters or contains control characters.
    #[error("invalid key id: {0}")]
    InvalidKid(&'static str),
}

/// Signing a token failed.
#[derive(Debug, Error)]
pub enum SignError {
    /// The claims could not be serialised to JSON.
    #[error("the claims could not be serialised: {0}")]
    Claims(#[from] serde_json::Error),
    /// The claims did not serialise to a JSON object.
    #[error("the claims must serialise to a JSON object")]
    NotAnObject,
    /// The RSA signature operation failed.
    #[error("the RSA signature failed")]
    Crypto,
}

/// Fetching or reading a JWKS failed.
#[derive(Debug, Error)]
pub enum JwksError {
    /// The HTTP request failed (connection, TLS, timeout).
    #[error("JWKS request failed: {0}")]
    Request(#[source] reqwest::Error),
    /// The endpoint answered with a status other than 200.
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body exceeded the size limit.
    #[error("JWKS body exceeds {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not a JWKS document.
    #[error("JWKS body is not a valid key set: {0}")]
    Json(#[source] serde_json::Error),
    /// The set holds more keys than a pool ever publishes.
    #[error("JWKS holds {count} keys, more than the limit of {limit}")]
    TooManyKeys {
        /// Keys in the set.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The source has no key set for this issuer.
    #[error("no key set is known for this issuer")]
    UnknownIssuer,
    /// Another source-specific failure.
    #[error("JWKS source failed: {0}")]
    Other(String),
}

/// The verifier's configuration is unusable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// No audience was configured: every token would be rejected.
    #[error("at least one audience is required")]
    NoAudiences,
    /// An audience has an empty issuer.
    #[error("an audience has an empty issuer")]
    EmptyIssuer,
    /// An audience accepts no client id.
    #[error("the {token_use} audience of {issuer} lists no client id")]
    NoClientIds {
        /// The issuer.
        issuer: String,
        /// `access` or `id`.
        token_use: &'static str,
    },
    /// Two audiences have the same issuer and token use.
    #[error("the {token_use} audience of {issuer} is configured twice")]
    DuplicateAudience {
        /// The issuer.
        issuer: String,
        /// `access` or `id`.
        token_use: &'static str,
    },
    /// A numeric option is outside its allowed range.
    #[error("option {option} is out of range: {reason}")]
    Option {
        /// The option's name.
        option: &'static str,
        /// The allowed range.
        reason: &'static str,
    },
}

/// Why a token was rejected. Every variant maps to 401; the variants exist for audit events and metrics.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The token is longer than the configured limit; nothing was decoded.
    #[error("token is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The token is not a compact JWS with a JSON header and payload (parts, base64url, JSON, `crit`).
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is not RS256, or the key's `alg`/`kty`/`use` does not allow RS256.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The `iss` claim is not a configured issuer.
    #[error("unknown issuer")]
    UnknownIssuer,
    /// No key with this `kid` in the issuer's JWKS, even after the allowed refetch.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify with the issuer's key.
    #[error("bad signature")]
    BadSignature,
    /// A claim is missing or has the wrong type or value.
    #[error("invalid claim {claim}: {reason}")]
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `exp` (plus leeway) has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` or `iat` lies in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// The issuer is configured, but not for this `token_use` (an ID token where an access token is
    /// expected, or the reverse).
    #[error("wrong token_use")]
    WrongTokenUse,
    /// `client_id` (access) or `aud` (ID) is not an accepted app client.
    #[error("wrong client")]
    WrongClient,
    /// The revocation check refused the token.
    #[error("token revoked")]
    Revoked,
    /// The issuer's JWKS could not be fetched while the token's key was unknown.
    #[error(transparent)]
    Jwks(#[from] JwksError),
}
