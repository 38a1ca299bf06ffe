//! The engine end to end on a real SQLite file: every flow's success path and its Cognito errors, and each
//! defect of the free emulators (shared/notes/emulators.md) as a regression test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod fixture;

mod audit;
mod auth;
mod defects;
mod mfa;
mod tokens;
mod users;
