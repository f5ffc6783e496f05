//! `verify`, `export` and `provenance`: the whole source judged (every signature, hash and
//! chain link), copied into a bundle for offline checks, or traced around one record.

use std::path::Path;
use std::process::ExitCode;

use aidledger_cli::audit::{audit_fresh, audit_json, audit_text, Evidence};
use aidledger_cli::checked::network_line;
use aidledger_cli::compose;
use aidledger_cli::cosigned::fetch_witness;
use aidledger_cli::export::export_bundle;
use aidledger_cli::freshness::CheckpointInput;
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
    /// Checkpoint note files the source must hold (`--checkpoint`).
    pub(crate) checkpoints: Vec<std::path::PathBuf>,
    /// Witnesses whose cosigned checkpoints the source must hold (`--witness`).
    pub(crate) witnesses: Vec<String>,
    /// Every chain must be witnessed (`--witnessed`).
    pub(crate) witnessed: bool,
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
    let mut evidence = Evidence {
        checkpoints: checks
            .checkpoints
            .iter()
            .map(|path| read_checkpoint_file(path))
            .collect::<Result<Vec<_>>>()?,
        require_witnessed: checks.witnessed,
        ..Evidence::default()
    };
    for url in &checks.witnesses {
        let (checkpoints, split_views) = fetch_witness(url)?;
        evidence.witness_checkpoints.extend(checkpoints);
        evidence.split_views.extend(split_views);
    }
    let audit = audit_fresh(source, network.pinned(), mode, &evidence)?;
    if audit
        .witnessing()
        .is_some_and(|witnessing| witnessing.policy_missing())
    {
        anyhow::bail!(
            "--witnessed: the source's governance sets no witness policy (no set-witnesses \
             change took effect), so no checkpoint can be witnessed; verify without --witnessed, \
             or give the checkpoints to hold with --checkpoint or --witness"
        );
    }
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
    if found.record.is_none() && found.redacted.is_none() {
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

/// `verify --proof FILE`: one record's proof packet, offline. Exit 0 valid, 1 refused (with
/// the first check that failed), 2 when it could not run (no file, no --network-id, a bad
/// witness key).
pub(crate) fn verify_proof(
    file: &Path,
    network: &NetworkArgs,
    witness_keys: &[String],
    witnesses_needed: Option<usize>,
    json: bool,
) -> Result<ExitCode> {
    use aidledger_cli::packet::{governance_witness_policy, verdict_text, PolicySource};
    use aidledger_spec::cosignature::WitnessPolicy;
    use aidledger_spec::note::VerifierKey;
    use aidledger_spec::packet::{verify_packet, PacketError, Witnessing};
    use anyhow::{bail, Context as _};

    let Some(expected) = network.pinned() else {
        bail!(
            "--proof needs --network-id: a packet carries its own genesis, so it is checked \
             against the network you trust"
        );
    };
    let policy = if witness_keys.is_empty() {
        None
    } else {
        let keys = witness_keys
            .iter()
            .map(|vkey| VerifierKey::parse(vkey).with_context(|| format!("--witness-key {vkey:?}")))
            .collect::<Result<Vec<_>>>()?;
        let needed = witnesses_needed.unwrap_or(keys.len());
        Some(WitnessPolicy::new(keys, needed).context("the witness keys")?)
    };
    let bytes = read_packet_file(file)?;
    // Without --witness-key, the witness policy in force under the packet's own governance
    // (if it sets one) is required: the network declared that its checkpoints count when those
    // witnesses cosigned them (FORMAT.md §24, §26).
    let (policy, source) = match policy {
        Some(policy) => (Some(policy), PolicySource::Given),
        None => match governance_witness_policy(&bytes) {
            Some(policy) => (Some(policy), PolicySource::Governance),
            None => (None, PolicySource::None),
        },
    };
    let outcome = verify_packet(&bytes, &expected, policy.as_ref());
    if json {
        let value = match &outcome {
            Ok(verdict) => serde_json::json!({
                "valid": true,
                "network_id": verdict.network.to_hex(),
                "record": verdict.record.to_hex(),
                "author": verdict.author,
                "seq": verdict.seq,
                "kind": verdict.kind,
                "signing_key": verdict.signing_key.to_hex(),
                "size": verdict.size,
                "root": verdict.root.to_hex(),
                "checkpoint_key": verdict.checkpoint_key.to_hex(),
                "governance_records": verdict.governance_records,
                "redacted": verdict.redacted,
                "witnessed": matches!(verdict.witnessing, Witnessing::Met { .. }),
                "witness_policy": source.name(),
                "cosigned_by": match &verdict.witnessing {
                    Witnessing::Met { cosigned, .. } => Some(cosigned.len()),
                    Witnessing::NotChecked { .. } => None,
                },
            }),
            Err(error) => serde_json::json!({
                "valid": false,
                "network_id": expected.to_hex(),
                "check": error.name(),
                "error": error.to_string(),
                "witness_policy": source.name(),
            }),
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    match outcome {
        Ok(verdict) => {
            if !json {
                print!("{}", verdict_text(&verdict, policy.as_ref(), source));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            if !json {
                println!(
                    "network {expected} (pinned)\nINVALID proof packet {}: {error} (check: {})",
                    file.display(),
                    error.name()
                );
                if let (PacketError::NotWitnessed(_), PolicySource::Governance) = (&error, source) {
                    println!(
                        "  the packet's governance sets the witness policy its checkpoint must \
                         meet; a packet made before the witnesses cosigned that checkpoint is \
                         not witnessed yet: make it again with `aidledger proof` once they have"
                    );
                }
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// Says on stderr when a packet's checkpoint does not yet meet the witness policy of the
/// governance it carries: `verify --proof` refuses it until the witnesses have cosigned.
fn warn_if_not_witnessed(bytes: &[u8], network: &aidledger_spec::NetworkId) {
    use aidledger_cli::packet::governance_witness_policy;
    use aidledger_spec::packet::{verify_packet, PacketError};
    let Some(policy) = governance_witness_policy(bytes) else {
        return;
    };
    if let Err(PacketError::NotWitnessed(why)) = verify_packet(bytes, network, Some(&policy)) {
        eprintln!(
            "warning: the checkpoint in this packet is not witnessed yet ({why}); the network's \
             witness policy needs {} of {} witnesses, so `verify --proof` refuses the packet \
             until they have cosigned: make it again then",
            policy.threshold(),
            policy.witnesses().len()
        );
    }
}

/// Reads a checkpoint note file, at most one byte over the note limit (a longer note is
/// refused by the note's own check); bytes that are not UTF-8 are shown replaced, and the note
/// then fails to open.
fn read_checkpoint_file(path: &Path) -> Result<CheckpointInput> {
    use aidledger_spec::limits::NOTE_BYTES_MAX;
    use anyhow::Context as _;
    use std::io::Read as _;
    let opened =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    opened
        .take(NOTE_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(CheckpointInput {
        label: path.display().to_string(),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Reads a packet file, refusing one over the packet limit before reading it all.
fn read_packet_file(file: &Path) -> Result<Vec<u8>> {
    use aidledger_spec::limits::PROOF_PACKET_BYTES_MAX;
    use anyhow::Context as _;
    use std::io::Read as _;
    let opened =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut bytes = Vec::new();
    opened
        .take(PROOF_PACKET_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", file.display()))?;
    Ok(bytes)
}

/// `proof RECORD_ID --node URL --out FILE`: assembles the packet from the node, checks it
/// against the network of the genesis it carries (the reader checks it again against the
/// network they trust) and writes it.
pub(crate) fn proof(id: &str, node: &str, out: &Path) -> Result<ExitCode> {
    use aidledger_cli::packet::fetch_packet;
    use aidledger_spec::packet::verify_packet;
    use aidledger_spec::Genesis;
    use anyhow::Context as _;

    let record = compose::record_id("RECORD_ID", id)?;
    aidledger_cli::out_file::check_packet_replaceable(out)?;
    let packet = fetch_packet(node, &record)?;
    let network = Genesis::decode(&packet.genesis)
        .map(|genesis| genesis.network_id())
        .context("the node's genesis does not decode")?;
    let bytes = packet.to_packet_bytes();
    match verify_packet(&bytes, &network, None) {
        Ok(verdict) => {
            std::fs::write(out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "wrote {} ({} bytes): {} {} at seq {} of {}'s chain, in its checkpoint of {} \
                 record(s), with {} governance record(s)\ncheck it offline: aidledger verify \
                 --proof {} --network-id {network}",
                out.display(),
                bytes.len(),
                verdict.kind,
                verdict.record,
                verdict.seq,
                verdict.author,
                verdict.size,
                verdict.governance_records,
                out.display(),
            );
            if let Some(text) = aidledger_cli::packet::redaction_text(&verdict) {
                print!("{text}");
            }
            warn_if_not_witnessed(&bytes, &network);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!(
                "INVALID: the packet node {node} serves for {record} does not verify: {error} \
                 (check: {}); not written",
                error.name()
            );
            Ok(ExitCode::from(1))
        }
    }
}
