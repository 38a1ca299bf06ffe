//! The embedded identity engine: Cognito's user-pool semantics, owned by us.
//!
//! The engine is what makes "no AWS account needed" true: pools, app clients, users, sign-up and
//! confirmation codes, the password and refresh flows, challenges, groups, and RS256 tokens with Cognito's
//! claim sets. It is written to be faithful to Cognito *and* safer than the free emulators (see
//! `shared/notes/emulators.md`): passwords are argon2id hashes, codes are single-use and expire, disabled users
//! get nothing, user existence is hidden when the client asks, SECRET_HASH and allowed flows are enforced,
//! refresh tokens are bound to their client.
//!
//! Storage is a port ([`store::Store`]); `cognigate-store` implements it on SQLite and PostgreSQL. Time and
//! randomness are inputs ([`clock::Clock`], [`clock::Entropy`]) so tests drive expiry without sleeping.

pub mod api;
pub mod clock;
mod codes;
mod engine;
pub mod error;
pub mod model;
mod ops;
pub mod password;
pub mod seal;
pub mod store;
pub mod triggers;
pub mod wire;

pub use engine::{Engine, EngineParts, open_outbox_message, secret_hash};
pub use error::EngineError;
pub use ops::{KNOWN_FLOWS, MessageAction, MfaPreference, NewClient, NewPool, parse_filter, totp};
