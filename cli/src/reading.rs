//! How a command that reads a source ends: a source refused as invalid data is reported (text
//! or JSON) with exit 1, an invalid source's verdict line is printed beside the output, and a
//! record that is not in the valid part of the source is told apart from an invalid source.

use std::process::ExitCode;

use aidledger_cli::checked::{
    read_checked, refusal_json, refusal_text, CheckError, Checked, Standing,
};
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::source::Source;
use anyhow::{bail, Result};

use crate::args::NetworkArgs;

/// Reads `source` through the one verifying reader. A source refused as invalid data (another
/// network, bytes damaged before its genesis) is reported here, text or JSON, and comes back as
/// `Err(exit 1)`; a source that could not be read is an error (exit 2).
pub(crate) fn read_or_refuse(
    source: &Source,
    network: &NetworkArgs,
    json: bool,
    observe: impl FnMut(&aidledger_spec::VerifiedRecord),
) -> Result<std::result::Result<Checked, ExitCode>> {
    match read_checked(source, network.pinned(), SignatureMode::Batch, observe) {
        Ok(checked) => Ok(Ok(checked)),
        Err(error) => Ok(Err(refuse(error, network, json)?)),
    }
}

/// Prints why a source was refused as invalid data and returns exit 1; any other error is
/// passed on (exit 2).
pub(crate) fn refuse(error: CheckError, network: &NetworkArgs, json: bool) -> Result<ExitCode> {
    let printed = if json {
        refusal_json(&error, network.pinned())
            .map(|value| serde_json::to_string_pretty(&value))
            .transpose()?
            .map(|text| text + "\n")
    } else {
        refusal_text(&error)
    };
    match printed {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::from(1))
        }
        None => Err(error.into()),
    }
}

/// Ends a reading command: says why the source is invalid, if it is (on standard output for
/// text, on standard error beside JSON, whose `source_valid` says it), and gives the exit code.
pub(crate) fn verdict(standing: &Standing, json: bool) -> ExitCode {
    match standing.invalid_line() {
        None => ExitCode::SUCCESS,
        Some(line) => {
            if json {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            ExitCode::from(1)
        }
    }
}

/// A record the command looked for is not in the valid part of the source. If the source is
/// invalid, that is the verdict (exit 1, stated with the network line); otherwise the record
/// is simply not there (exit 2).
pub(crate) fn not_found(standing: &Standing, problem: &str, json: bool) -> Result<ExitCode> {
    if standing.is_valid() {
        bail!("{problem}");
    }
    if json {
        let mut value = serde_json::json!({ "valid": false, "problem": problem });
        standing.add_to_json(&mut value);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}\n{problem}", standing.first_line());
    }
    Ok(verdict(standing, json))
}
