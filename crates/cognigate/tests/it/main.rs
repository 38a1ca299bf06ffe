//! The `cognigate` binary as a user runs it: checking configurations, exporting, generating docs, serving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

mod admin;
mod audit;
mod auth;
mod cli;
mod corpus;
mod fixtures;
mod infra;
mod serve;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where cognigate.toml and docs/ live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The binary under test, run from the repository root with no COGNIGATE_* variables inherited.
pub fn cognigate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cognigate"));
    command.current_dir(repo_root());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("COGNIGATE_")) {
        command.env_remove(name);
    }
    command
}

pub fn run(command: &mut Command) -> (bool, String, String) {
    let Output { status, stdout, stderr } = command.output().unwrap();
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}
