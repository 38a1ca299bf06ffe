//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use cognigate_config::Environment;

/// Authentication and authorization for customers and staff, on AWS Cognito or its own embedded engine.
#[derive(Debug, Parser)]
#[command(name = "cognigate", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "COGNIGATE_CONFIG", default_value = "cognigate.toml")]
    pub config: PathBuf,

    /// The environment: dev, staging or prod (selects [environments.<env>] and its rules).
    #[arg(long, global = true, env = "COGNIGATE_ENV", value_parser = parse_environment)]
    pub env: Option<Environment>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service for the selected environment.
    Serve(ServeArgs),
    /// Run the service locally on the embedded defaults (always the dev environment).
    Dev(ServeArgs),
    /// Check or show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write roles.json, policies.yaml, the Cedar policy set and schema, and the permissions matrix.
    Export(ExportArgs),
    /// Write the generated documentation pages (or check that they are current).
    Docs(DocsArgs),
    /// Write infra/cognigate.json, what the CDK app and Terraform read for every environment (or check
    /// that the file is current).
    Infra(InfraArgs),
    /// Show the messages the embedded engine would have emailed (codes, invitations), newest first.
    Outbox(OutboxArgs),
    /// Reconcile the user mirror with the identity providers: create missing rows, correct drifted
    /// fields, remove rows whose identity is gone; report what changed.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Report the drift without repairing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Only messages to this address.
    #[arg(long)]
    pub to: Option<String>,
    /// At most this many messages.
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Print the messages as a JSON array (for scripts and tests).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen on this address instead of service.listen (port 0 picks a free port).
    #[arg(long)]
    pub listen: Option<String>,
    /// `dev` only: do not create the first super_admin and the demo accounts in an empty installation.
    #[arg(long)]
    pub no_seed: bool,
    /// `dev` only: create the first super_admin but no demo teams, staff or customers.
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and its policies; every environment unless --env is given.
    Check,
    /// Print the effective configuration of the selected environment as TOML.
    Show,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The directory to write into.
    #[arg(long, default_value = "export")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// The directory to write into.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Write nothing; fail if a generated page differs from what is on disk.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct InfraArgs {
    /// The file to write.
    #[arg(long, default_value = "infra/cognigate.json")]
    pub out: PathBuf,
    /// Write nothing; fail if the file differs from what the configuration gives.
    #[arg(long)]
    pub check: bool,
}

fn parse_environment(text: &str) -> Result<Environment, String> {
    text.parse()
}
