//! `aidledger`: the command line of aidledger. This file parses arguments and maps errors to
//! exit codes (0 success, 1 data found invalid, 2 could not run); the work is in the library.

mod commands;
mod walkthrough;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
