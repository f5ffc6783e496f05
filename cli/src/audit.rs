//! `verify`: an auditor's check of a whole source, trusting nothing but the network id.
//!
//! Besides the verdict it reports **findings**: valid records (signatures and chains hold, so
//! they do not make the verdict INVALID) that a node's policy would have refused, such as a
//! treaty action by an organisation that is not a party (`aidledger_view::treaty`). A bundle
//! made without a node can hold them. They change the exit code only with
//! `--fail-on-findings`.

use aidledger_spec::chain::{Problem, Report};
use aidledger_spec::verify::VerifiedRecord;
use aidledger_spec::NetworkId;
use aidledger_view::treaty::{NonPartyAction, TreatyRecords};
use serde_json::json;

use crate::checked::{read_checked, refusal_json, refusal_text, CheckError, Checked};
use crate::freshness::{self, ChainIds, CheckpointInput, Freshness};
use crate::governance::view;
use crate::pipeline::SignatureMode;
use crate::source::Source;

/// The outcome of `verify`.
pub enum Audit {
    /// The source was read (to its end, or to damage in its bytes) and judged, with the
    /// findings among its valid records and what each checkpoint given showed (the file's
    /// label beside it). Boxed: the report is large and the refusal small.
    Checked(Box<Checked>, Findings, Vec<(String, Freshness)>),
    /// The source was refused before any record: another network, or bytes damaged before the
    /// genesis was known. Only errors that mean invalid data land here.
    Refused {
        /// The network id the auditor pinned, if any.
        pinned: Option<NetworkId>,
        /// Why.
        error: CheckError,
    },
}

/// Valid records a node's policy would have refused (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Treaty actions (or corrections carrying one) by organisations that are not parties of
    /// the acted-upon text.
    pub non_party_actions: Vec<NonPartyAction>,
}

impl Findings {
    /// How many findings there are.
    pub fn len(&self) -> usize {
        self.non_party_actions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.non_party_actions.is_empty()
    }
}

impl Audit {
    /// Whether the source is valid for the auditor.
    pub fn is_valid(&self) -> bool {
        match self {
            Audit::Checked(checked, _, fresh) => {
                checked.standing.is_valid() && fresh.iter().all(|(_, judged)| judged.holds())
            }
            Audit::Refused { .. } => false,
        }
    }

    /// The chain report, when the source was read.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Audit::Checked(checked, ..) => Some(&checked.report),
            Audit::Refused { .. } => None,
        }
    }

    /// The findings among the valid records (none when the source was refused).
    pub fn findings(&self) -> Findings {
        match self {
            Audit::Checked(_, findings, _) => findings.clone(),
            Audit::Refused { .. } => Findings::default(),
        }
    }
}

/// Verifies every record and proof of `source`. `Err` only when the source could not be read
/// (exit 2); invalid data of every kind is in the [`Audit`].
pub fn audit(
    source: &Source,
    pinned: Option<NetworkId>,
    mode: SignatureMode,
) -> Result<Audit, CheckError> {
    audit_fresh(source, pinned, mode, &[])
}

/// [`audit`], and each checkpoint note of `checkpoints` judged against the source
/// ([`crate::freshness`]): a checkpoint the source does not hold makes it invalid.
pub fn audit_fresh(
    source: &Source,
    pinned: Option<NetworkId>,
    mode: SignatureMode,
    checkpoints: &[CheckpointInput],
) -> Result<Audit, CheckError> {
    // Treaty records are few and the rest is dropped at once, so this costs the stream little.
    let mut treaties = TreatyRecords::for_findings();
    let mut ids = ChainIds::new(freshness::organisations(checkpoints));
    let observe = |record: &VerifiedRecord| {
        crate::treaty::observe(&mut treaties, record);
        ids.observe(record);
    };
    match read_checked(source, pinned, mode, observe) {
        Ok(checked) => {
            let findings = Findings {
                non_party_actions: treaties.non_party_findings(),
            };
            let fresh = freshness::judge(&checked, &ids, checkpoints)
                .into_iter()
                .zip(checkpoints)
                .map(|(judged, input)| (input.label.clone(), judged))
                .collect();
            Ok(Audit::Checked(Box::new(checked), findings, fresh))
        }
        Err(error) if error.is_invalid_data() => Ok(Audit::Refused { pinned, error }),
        Err(error) => Err(error),
    }
}

/// The audit as text for people.
pub fn audit_text(audit: &Audit) -> String {
    let (checked, findings, fresh) = match audit {
        Audit::Checked(checked, findings, fresh) => (checked, findings, fresh),
        Audit::Refused { error, .. } => {
            return format!("{}INVALID\n", refusal_text(error).unwrap_or_default())
        }
    };
    let mut out = format!("{}\n", checked.standing.first_line());
    let report = &checked.report;
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
            out.push_str(&format!("  {}\n", problem_line(problem)));
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
    if !findings.is_empty() {
        out.push_str(&format!(
            "findings  {}: valid records that a node's policy refuses (they do not make the verdict INVALID)\n",
            findings.len()
        ));
        for finding in &findings.non_party_actions {
            out.push_str(&format!("  {}\n", finding.line()));
        }
    }
    if let Some(damage) = &checked.standing.damage {
        out.push_str(&format!("damaged   {damage}\n"));
    }
    for (label, judged) in fresh {
        out.push_str(&judged.line(label));
        out.push('\n');
    }
    out.push_str(if audit.is_valid() {
        "VALID\n"
    } else {
        "INVALID\n"
    });
    out
}

/// The audit as JSON for machines. `framing_error` is `{offset, rule, problem}` when the
/// source's bytes break the bundle format (null otherwise); `pinned` says whether the network id
/// was pinned.
pub fn audit_json(audit: &Audit) -> serde_json::Value {
    let (checked, findings, fresh) = match audit {
        Audit::Checked(checked, findings, fresh) => (checked, findings, fresh),
        Audit::Refused { pinned, error } => {
            let mut value = refusal_json(error, *pinned).unwrap_or_default();
            value["network_id_pinned"] = json!(pinned.is_some());
            value["report"] = serde_json::Value::Null;
            value["findings"] = json!([]);
            value["checkpoints"] = json!([]);
            return value;
        }
    };
    let report = &checked.report;
    let mut value = json!({
        "valid": audit.is_valid(),
        "network_id_pinned": checked.standing.pinned,
        "network_id_matches": true,
        "revoked": revoked_json(report),
        "governance_summary": report.governance.as_ref().map(|derivation| json!({
            "steps": derivation.authority.steps().len(),
            "tip": derivation.authority.tip(),
            "pending_proposals": view::pending_count(derivation),
            "findings": derivation.findings.len(),
        })),
        "findings": findings_json(findings),
        "checkpoints": fresh.iter().map(|(label, judged)| judged.json(label)).collect::<Vec<_>>(),
        "report": report,
    });
    checked.standing.add_to_json(&mut value);
    value
}

/// Each finding as `{kind, text, record_id, author, seq, treaty, parties, action, corrects}`.
fn findings_json(findings: &Findings) -> Vec<serde_json::Value> {
    findings
        .non_party_actions
        .iter()
        .map(crate::treaty::finding_json)
        .collect()
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

/// One problem as a line: `ORG seq S: reason`; a problem of the input as a whole (no author, no
/// position) as `input: reason`; a record whose header could not be read as
/// `(unreadable record): reason`.
fn problem_line(problem: &Problem) -> String {
    match (problem.author.as_deref(), problem.seq) {
        (Some(author), Some(seq)) => format!("{author} seq {seq}: {}", problem.reason),
        (Some(author), None) => format!("{author}: {}", problem.reason),
        (None, None) if problem.record_id.is_none() => format!("input: {}", problem.reason),
        (None, _) => format!("(unreadable record): {}", problem.reason),
    }
}
