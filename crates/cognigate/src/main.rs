//! The `cognigate` command: parses the command line, loads the configuration, and hands over to the
//! libraries. Nothing here decides anything; it wires and reports.

#![allow(clippy::print_stdout, reason = "a command-line tool reports on standard output")]

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    commands::init_tracing(&cli);
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
