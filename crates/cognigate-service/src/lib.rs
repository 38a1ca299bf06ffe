//! The auth service: what `/auth/customer/*` and `/auth/staff/*` do, without HTTP.
//!
//! An [`auth::AuthService`] per pool runs the flows over that pool's identity provider and verifier, and
//! keeps the user mirror, onboarding, lockout, rate limits and the audit log in step; the webhook, `sync`
//! and the metrics serve both pools. Storage and counters are ports ([`ports`], [`limits`]) so SQLite,
//! PostgreSQL, Redis or a test's failing double can stand behind them. Transports (`cognigate-http`, the
//! console) only translate. [`admin::AdminService`] is the one admin system over both pools, behind the
//! admin API and the console alike.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod mfa;
pub mod ports;
pub mod sync;
pub mod totp;
pub mod triggers;
pub mod webhook;

pub use error::{ServiceError, ServiceResult};
