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
use aidledger_cli::text_provenance::{text_provenance_json, text_provenance_text, trace_text};
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

/// The text `provenance --text-file FILE` (or `--text -`, standard input when `file` is
/// `None`) looks for; it must be UTF-8.
pub(crate) fn read_text(file: Option<&Path>) -> Result<String> {
    use anyhow::Context as _;
    use std::io::Read as _;
    let bytes = match file {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading the text from standard input")?;
            bytes
        }
    };
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the text is not UTF-8"))
}

/// `provenance --text-file/--text -`: exit 0 when a record signed the text and the source
/// verifies, 1 when the source does not verify, 2 when no record signs it.
pub(crate) fn text_provenance(
    text: &str,
    org: Option<&str>,
    source: &Source,
    network: &NetworkArgs,
    json: bool,
) -> Result<ExitCode> {
    let found = match trace_text(source, text, org, network.pinned()) {
        Ok(found) => found,
        Err(error) => return refuse(error, network, json),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&text_provenance_json(&found))?
        );
    } else {
        print!("{}", text_provenance_text(&found));
    }
    Ok(if !found.standing.is_valid() {
        ExitCode::from(1)
    } else if found.is_signed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
