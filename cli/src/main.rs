//! `aidledger`: the command line of aidledger. This file parses arguments and maps errors to
//! exit codes (0 success, 1 data found invalid, 2 could not run); the work is in the library.
//! Commands that read a source report invalid data themselves; an error that still carries it
//! (a lookup that met damaged bytes, an export of a damaged bundle) exits 1 here too.

mod commands;
mod demo;
mod gov;
mod status;
mod walkthrough;

use std::process::ExitCode;

use clap::Parser;

/// The import and the verifier allocate per XML element and per record; mimalloc is faster at
/// that than glibc's malloc (the node uses it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    aidledger_os::end_quietly_on_closed_pipe();
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", describe_error(&error));
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// 1 when the error, or one of its causes, says the data was read and is invalid (damaged
/// bundle bytes, a source from another network): such data must not pass for an
/// infrastructure problem that a retry would fix. 2 for everything else: could not run.
fn exit_code_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(aidledger_cli::checked::is_invalid_data) {
        1
    } else {
        2
    }
}

/// The error and its causes on one line, leaving out a cause whose text the message above it
/// already holds (our error types often quote their cause).
fn describe_error(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}
