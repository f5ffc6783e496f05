//! `verify`, `export` and `provenance`: the whole source judged (every signature, hash and
//! chain link), copied into a bundle for offline checks, or traced around one record.

use std::path::Path;
use std::process::ExitCode;

use aidledger_cli::audit::{audit, audit_json, audit_text};
use aidledger_cli::checked::network_line;
use aidledger_cli::compose;
use aidledger_cli::export::export_bundle;
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::provenance::{provenance_json, provenance_text, trace};
use aidledger_cli::source::Source;
use anyhow::Result;

use crate::args::NetworkArgs;
use crate::reading::{not_found, refuse};

/// `export` copies without verifying, so it states the network on standard error (standard
/// output stays empty) and leaves the verdict to `verify`.
pub(crate) fn export(source: &Source, out: &Path, network: &NetworkArgs) -> Result<ExitCode> {
    let genesis = export_bundle(source, out, network.pinned())?;
    let line = network_line(
        genesis.network_id(),
        &genesis.name,
        network.pinned().is_some(),
    );
    eprintln!(
        "{line}\nexported network {} to {}",
        genesis.network_id(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// How `verify` checks and what fails it.
pub(crate) struct Checks {
    /// Every signature on its own (`--strict`).
    pub(crate) strict: bool,
    /// Findings exit 1 (`--fail-on-findings`).
    pub(crate) fail_on_findings: bool,
}

pub(crate) fn verify(
    source: &Source,
    network: &NetworkArgs,
    json: bool,
    checks: Checks,
) -> Result<ExitCode> {
    let mode = if checks.strict {
        SignatureMode::Strict
    } else {
        SignatureMode::Batch
    };
    let audit = audit(source, network.pinned(), mode)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&audit_json(&audit))?);
    } else {
        print!("{}", audit_text(&audit));
    }
    let findings_fail = checks.fail_on_findings && !audit.findings().is_empty();
    Ok(if audit.is_valid() && !findings_fail {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn provenance(
    id: &str,
    source: &Source,
    network: &NetworkArgs,
    json: bool,
) -> Result<ExitCode> {
    let target = compose::record_id("RECORD_ID", id)?;
    let found = match trace(source, target, network.pinned()) {
        Ok(found) => found,
        Err(error) => return refuse(error, network, json),
    };
    if found.record.is_none() {
        return not_found(
            &found.standing,
            &format!("no valid record {target} in this source"),
            json,
        );
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&provenance_json(&found))?
        );
    } else {
        print!("{}", provenance_text(&found, target));
    }
    Ok(if found.is_sound() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
