//! `verify`: an auditor's check of a whole source, trusting nothing but the network id.

use aidledger_spec::chain::{Problem, Report};
use aidledger_spec::genesis::Genesis;
use aidledger_spec::verify::Verifier;
use aidledger_spec::NetworkId;
use serde_json::json;

use crate::governance::view;
use crate::pipeline::{verify_items, SignatureMode};
use crate::source::{Source, SourceError};

/// The outcome of `verify`.
pub struct Audit {
    /// The genesis found in the source.
    pub genesis: Genesis,
    /// The network id the auditor pinned, if any.
    pub pinned: Option<NetworkId>,
    /// The chain report (absent when the pinned id did not match: nothing else is meaningful then).
    pub report: Option<Report>,
}

impl Audit {
    /// Whether the source is valid for the auditor.
    pub fn is_valid(&self) -> bool {
        self.network_matches() && self.report.as_ref().is_some_and(Report::is_valid)
    }

    fn network_matches(&self) -> bool {
        self.pinned
            .is_none_or(|pinned| pinned == self.genesis.network_id())
    }
}

/// Verifies every record and proof of `source`.
pub fn audit(
    source: &Source,
    pinned: Option<NetworkId>,
    mode: SignatureMode,
) -> Result<Audit, SourceError> {
    let (genesis, items) = source.open()?;
    if pinned.is_some_and(|pinned| pinned != genesis.network_id()) {
        return Ok(Audit {
            genesis,
            pinned,
            report: None,
        });
    }
    let verifier = Verifier::new(genesis.clone());
    let report = verify_items(&verifier, items, mode, |_| {})?;
    Ok(Audit {
        genesis,
        pinned,
        report: Some(report),
    })
}

/// The audit as text for people.
pub fn audit_text(audit: &Audit) -> String {
    let network_id = audit.genesis.network_id();
    let mut out = format!("network   {network_id} ({})\n", audit.genesis.name);
    match audit.pinned {
        Some(pinned) if pinned != network_id => {
            out.push_str(&format!("network id mismatch: expected {pinned}, the source's genesis is {network_id}\nINVALID\n"));
            return out;
        }
        Some(_) => out.push_str("pinned    yes: the genesis matches the network id you gave\n"),
        None => out.push_str("pinned    no: trusting the genesis found in the source (pass --network-id to pin it)\n"),
    }
    let Some(report) = &audit.report else {
        return out;
    };
    out.push_str(&format!(
        "records   {} read, {} valid; {} equivocation proof(s)\n",
        report.records_seen, report.records_valid, report.proofs_seen
    ));
    for chain in &report.chains {
        let head = chain.head.map_or("empty".to_owned(), |(seq, id)| {
            format!("head seq {seq} {id}")
        });
        let fork = chain
            .forked_at
            .map_or(String::new(), |seq| format!("  FORKED at seq {seq}"));
        out.push_str(&format!(
            "chain     {}: {} record(s), {head}{fork}\n",
            chain.author, chain.length
        ));
    }
    let problems: Vec<_> = report.problems().collect();
    if !problems.is_empty() {
        out.push_str(&format!("problems  {}\n", problems.len()));
        for problem in problems {
            let author = problem.author.as_deref().unwrap_or("(unknown author)");
            let seq = problem.seq.map_or("?".to_owned(), |seq| seq.to_string());
            out.push_str(&format!("  {author} seq {seq}: {}\n", problem.reason));
        }
    }
    let revoked: Vec<&Problem> = report
        .chains
        .iter()
        .flat_map(|chain| &chain.revoked)
        .collect();
    let revoked_not_kept: u64 = report
        .chains
        .iter()
        .map(|chain| chain.revoked_not_kept)
        .sum();
    if !revoked.is_empty() {
        out.push_str(&format!(
            "revoked   {} record(s) not valid: the network's governance revoked the key that signed them or removed their author (they do not make the verdict INVALID)\n",
            revoked.len() as u64 + revoked_not_kept
        ));
        for problem in &revoked {
            out.push_str(&format!("  {}\n", view::revoked_line(problem)));
        }
        if revoked_not_kept > 0 {
            out.push_str(&format!("  … and {revoked_not_kept} more\n"));
        }
    }
    if let Some(derivation) = &report.governance {
        out.push_str(&format!("governance {}\n", view::summary_line(derivation)));
    }
    out.push_str(if audit.is_valid() {
        "VALID\n"
    } else {
        "INVALID\n"
    });
    out
}

/// The audit as JSON for machines.
pub fn audit_json(audit: &Audit) -> serde_json::Value {
    json!({
        "valid": audit.is_valid(),
        "network_id": audit.genesis.network_id(),
        "network_name": audit.genesis.name,
        "network_id_pinned": audit.pinned.is_some(),
        "network_id_matches": audit.network_matches(),
        "revoked": audit.report.as_ref().map(revoked_json).unwrap_or_default(),
        "governance_summary": audit.report.as_ref().and_then(|report| report.governance.as_ref()).map(|derivation| json!({
            "steps": derivation.authority.steps().len(),
            "tip": derivation.authority.tip(),
            "pending_proposals": view::pending_count(derivation),
            "findings": derivation.findings.len(),
        })),
        "report": audit.report,
    })
}

/// Records the governance declared invalid, each with the reason in words: they are listed
/// apart from problems and do not make the report invalid.
fn revoked_json(report: &Report) -> Vec<serde_json::Value> {
    report
        .chains
        .iter()
        .flat_map(|chain| &chain.revoked)
        .map(|problem| {
            json!({
                "author": problem.author,
                "seq": problem.seq,
                "record_id": problem.record_id,
                "code": problem.reason.code(),
                "reason": problem.reason,
                "text": view::revocation_text(&problem.reason),
            })
        })
        .collect()
}
