//! The decision corpus: every cell of the default matrix, allow and deny, generated from the matrix; every
//! admin operation for every staff role; and the hand-written cases of `tests/cases/rules.toml` for the rules
//! that are not a matrix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod corpus;
mod validation;
