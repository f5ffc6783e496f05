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
use crate::cosigned::{self, ChainWitness, SplitVerdict};
use crate::freshness::{self, ChainIds, CheckpointInput, Freshness};
use crate::governance::view;
use crate::pipeline::SignatureMode;
use crate::redacted::{self, OrderFacts};
use crate::source::Source;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::splitview::SplitViewProof;

/// The outcome of `verify`.
pub enum Audit {
    /// The source was read (to its end, or to damage in its bytes) and judged, with the
    /// findings among its valid records, what each checkpoint showed (the label of where it
    /// came from beside it) and the split views and witnessing. Boxed: the report is large and
    /// the refusal small.
    Checked(
        Box<Checked>,
        Findings,
        Vec<(String, Freshness)>,
        Box<Witnessing>,
        OrderFacts,
    ),
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

/// What `verify` is given beside the source.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// Checkpoint notes the source must hold (`--checkpoint` files).
    pub checkpoints: Vec<CheckpointInput>,
    /// Checkpoint notes witnesses served (`--witness`): those of this network must be held
    /// too; a witness's notes of other networks are not about this source and are left out.
    pub witness_checkpoints: Vec<CheckpointInput>,
    /// Split-view proofs witnesses served, with where they came from.
    pub split_views: Vec<(String, SplitViewProof)>,
    /// `--witnessed`: every non-empty chain must be covered by a checkpoint that meets the
    /// governance's witness policy.
    pub require_witnessed: bool,
}

/// The split views and witnessing of a source (FORMAT.md §13.3).
#[derive(Clone, Debug)]
pub struct Witnessing {
    /// Each split-view proof, carried or served, and what it showed.
    pub split_views: Vec<(String, SplitVerdict)>,
    /// The governance's witness policy, if it set one.
    pub policy: Option<WitnessPolicy>,
    /// How each non-empty chain is witnessed (empty without a policy).
    pub chains: Vec<ChainWitness>,
    /// Whether every chain had to be witnessed (`--witnessed`).
    pub required: bool,
}

impl Witnessing {
    /// Whether the source passes: no proven split view, no carried proof that proves nothing
    /// (a witness's bad proof says nothing of the source) and, when required, a policy and
    /// every chain witnessed.
    pub fn holds(&self) -> bool {
        self.split_views
            .iter()
            .all(|(label, verdict)| !verdict.fails_source(label == cosigned::CARRIED))
            && (!self.required
                || (self.policy.is_some()
                    && self.chains.iter().all(|chain| chain.witnessed.is_some())))
    }

    /// `--witnessed` was asked of a source whose governance sets no witness policy: nothing
    /// can be witnessed, which is a question the auditor must answer, not a verdict (exit 2).
    pub fn policy_missing(&self) -> bool {
        self.required && self.policy.is_none()
    }
}

impl Audit {
    /// Whether the source is valid for the auditor.
    pub fn is_valid(&self) -> bool {
        match self {
            Audit::Checked(checked, _, fresh, witnessing, _) => {
                checked.standing.is_valid()
                    && fresh.iter().all(|(_, judged)| judged.holds())
                    && witnessing.holds()
            }
            Audit::Refused { .. } => false,
        }
    }

    /// The witnessing, when the source was read.
    pub fn witnessing(&self) -> Option<&Witnessing> {
        match self {
            Audit::Checked(_, _, _, witnessing, _) => Some(witnessing),
            Audit::Refused { .. } => None,
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
            Audit::Checked(_, findings, ..) => findings.clone(),
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
    audit_fresh(source, pinned, mode, &Evidence::default())
}

/// [`audit`], and the evidence judged against the source: each checkpoint note given, served
/// by a witness or carried by the source must be held by it ([`crate::freshness`]), each
/// split-view proof carried or served is checked ([`crate::cosigned`]), and each chain's
/// witnessing is reported (required with `--witnessed`).
pub fn audit_fresh(
    source: &Source,
    pinned: Option<NetworkId>,
    mode: SignatureMode,
    evidence: &Evidence,
) -> Result<Audit, CheckError> {
    // Treaty records are few and the rest is dropped at once, so this costs the stream little.
    let mut treaties = TreatyRecords::for_findings();
    // The chains to collect are not known before a bundle's checkpoints (after its records)
    // are read; from a source that may carry some, every chain is collected (~60 MB a
    // million records), else only those the evidence names.
    let mut ids = if source.may_carry_witnessed() {
        ChainIds::every_chain()
    } else {
        let named = evidence
            .checkpoints
            .iter()
            .chain(&evidence.witness_checkpoints);
        let mut orgs = freshness::organisations(named);
        orgs.extend(
            evidence
                .split_views
                .iter()
                .filter_map(|(_, proof)| cosigned::split_view_org(proof)),
        );
        ChainIds::new(orgs)
    };
    let mut orders = OrderFacts::default();
    let observe = |record: &VerifiedRecord| {
        crate::treaty::observe(&mut treaties, record);
        ids.observe(record);
        orders.observe(record);
    };
    let checked = match read_checked(source, pinned, mode, observe) {
        Ok(checked) => checked,
        Err(error) if error.is_invalid_data() => return Ok(Audit::Refused { pinned, error }),
        Err(error) => return Err(error),
    };
    ids.add_redacted(&checked.report);
    let findings = Findings {
        non_party_actions: treaties.non_party_findings(),
    };
    let network = checked.genesis.network_id();
    let inputs: Vec<CheckpointInput> = evidence
        .checkpoints
        .iter()
        .cloned()
        .chain(
            checked
                .carried
                .checkpoints
                .iter()
                .map(|text| CheckpointInput {
                    label: cosigned::CARRIED.into(),
                    text: text.clone(),
                }),
        )
        .chain(
            evidence
                .witness_checkpoints
                .iter()
                .filter(|input| freshness::network_of(&input.text) == Some(network))
                .cloned(),
        )
        .collect();
    let judged = freshness::judge(&checked, &ids, &inputs);
    let split_views: Vec<(String, SplitViewProof)> = checked
        .carried
        .split_views
        .iter()
        .map(|proof| (cosigned::CARRIED.to_owned(), proof.clone()))
        .chain(evidence.split_views.iter().cloned())
        .collect();
    let policy = checked.derivation().authority.witness_policy();
    let witnessing = Witnessing {
        split_views: cosigned::judge_split_views(&checked, &ids, &split_views),
        chains: policy
            .as_ref()
            .map(|policy| cosigned::chain_witnesses(&checked, &inputs, &judged, policy))
            .unwrap_or_default(),
        policy,
        required: evidence.require_witnessed,
    };
    let fresh = judged
        .into_iter()
        .zip(&inputs)
        .map(|(judged, input)| (input.label.clone(), judged))
        .collect();
    Ok(Audit::Checked(
        Box::new(checked),
        findings,
        fresh,
        Box::new(witnessing),
        orders,
    ))
}

/// The audit as text for people.
pub fn audit_text(audit: &Audit) -> String {
    let (checked, findings, fresh, witnessing, orders) = match audit {
        Audit::Checked(checked, findings, fresh, witnessing, orders) => {
            (checked, findings, fresh, witnessing, orders)
        }
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
    for chain in report
        .chains
        .iter()
        .filter(|chain| !chain.redacted.is_empty())
    {
        out.push_str(&format!("redacted  {}\n", redacted::chain_line(chain)));
        for entry in &chain.redacted {
            out.push_str(&format!(
                "  {}\n",
                redacted::entry_line(&chain.author, entry, orders)
            ));
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
    for (label, verdict) in &witnessing.split_views {
        out.push_str(&verdict.line(label));
        out.push('\n');
    }
    match &witnessing.policy {
        Some(policy) => {
            for chain in &witnessing.chains {
                out.push_str(&chain.line(policy));
                out.push('\n');
            }
        }
        None => out.push_str(
            "witnessed no chain: the governance sets no witness policy (FORMAT.md §24)\n",
        ),
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
    let (checked, findings, fresh, witnessing, orders) = match audit {
        Audit::Checked(checked, findings, fresh, witnessing, orders) => {
            (checked, findings, fresh, witnessing, orders)
        }
        Audit::Refused { pinned, error } => {
            let mut value = refusal_json(error, *pinned).unwrap_or_default();
            value["network_id_pinned"] = json!(pinned.is_some());
            value["report"] = serde_json::Value::Null;
            value["findings"] = json!([]);
            value["redacted"] = json!([]);
            value["checkpoints"] = json!([]);
            value["split_views"] = json!([]);
            value["witnessed"] = serde_json::Value::Null;
            return value;
        }
    };
    let report = &checked.report;
    let mut value = json!({
        "valid": audit.is_valid(),
        "network_id_pinned": checked.standing.pinned,
        "network_id_matches": true,
        "revoked": revoked_json(report),
        "redacted": redacted::report_json(report, orders),
        "governance_summary": report.governance.as_ref().map(|derivation| json!({
            "steps": derivation.authority.steps().len(),
            "tip": derivation.authority.tip(),
            "pending_proposals": view::pending_count(derivation),
            "findings": derivation.findings.len(),
        })),
        "findings": findings_json(findings),
        "checkpoints": fresh.iter().map(|(label, judged)| judged.json(label)).collect::<Vec<_>>(),
        "split_views": witnessing.split_views.iter().map(|(label, verdict)| verdict.json(label)).collect::<Vec<_>>(),
        "witnessed": witnessing.policy.as_ref().map(|policy| json!({
            "witnesses": policy.witnesses().len(),
            "threshold": policy.threshold(),
            "required": witnessing.required,
            "chains": witnessing.chains.iter().map(|chain| chain.json(policy)).collect::<Vec<_>>(),
        })),
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
/// `(unreadable record): reason`; each with the rule's code in brackets.
fn problem_line(problem: &Problem) -> String {
    let line = match (problem.author.as_deref(), problem.seq) {
        (Some(author), Some(seq)) => format!("{author} seq {seq}: {}", problem.reason),
        (Some(author), None) => format!("{author}: {}", problem.reason),
        (None, None) if problem.record_id.is_none() => format!("input: {}", problem.reason),
        (None, _) => format!("(unreadable record): {}", problem.reason),
    };
    format!("{line} ({})", problem.reason.code())
}
