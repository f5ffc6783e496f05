//! The governance state for people (text) and machines (JSON): members with the positions each
//! of their keys may sign, the admin rule, the effective steps, every proposal and what became
//! of it, governance records without effect, and records the governance declared invalid.

use aidledger_spec::chain::Problem;
use aidledger_spec::genesis::Role;
use aidledger_spec::governance::{
    Authority, Change, Derivation, KeyEndReason, KeySpan, MemberState, ProposalState,
};
use aidledger_spec::{Genesis, Rejection};
use serde_json::{json, Value};

/// The proposals that wait for approvals.
pub fn pending_count(derivation: &Derivation) -> usize {
    derivation
        .proposals
        .iter()
        .filter(|status| matches!(status.state, ProposalState::Pending { .. }))
        .count()
}

/// One line on the governance as a whole, for `verify`.
pub fn summary_line(derivation: &Derivation) -> String {
    let authority = &derivation.authority;
    let rule = authority.admin_rule();
    format!(
        "{} effective step(s), {} pending proposal(s), {} governance finding(s); admin rule {} of {}",
        authority.steps().len(),
        pending_count(derivation),
        derivation.findings.len(),
        rule.threshold,
        rule.admins.len()
    )
}

/// A proposal's state in words: `effective (step 2)`, `pending 1 of 2`, `stale: …`.
pub fn state_text(state: &ProposalState) -> String {
    match state {
        ProposalState::Effective { step } => format!("effective (step {step})"),
        ProposalState::Pending {
            approvals,
            threshold,
        } => format!("pending {approvals} of {threshold}"),
        ProposalState::Stale => {
            "stale: it builds on a state that is no longer the tip; it can never take effect"
                .to_owned()
        }
        ProposalState::Inapplicable { reason } => format!("inapplicable: {reason}"),
        ProposalState::Refused { reason } => format!("refused: {reason}"),
    }
}

/// Which positions a key may sign and why it stops: `key K: seq 0–4 (revoked from 5 by
/// proposal P)`, `key K2: seq 5– (replacement, proposal P)`.
pub fn key_span_line(span: &KeySpan, authority: &Authority) -> String {
    let range = match span.end {
        Some(end) if end.from_seq <= span.from_seq => "no seq".to_owned(),
        Some(end) => format!("seq {}–{}", span.from_seq, end.from_seq - 1),
        None => format!("seq {}–", span.from_seq),
    };
    let mut notes = Vec::new();
    if let Some(by) = span.introduced_by {
        let step = authority.steps().iter().find(|step| step.proposal == by);
        notes.push(match step.map(|step| &step.change) {
            Some(Change::RevokeKey { .. }) => format!("replacement, proposal {by}"),
            Some(_) => format!("added by proposal {by}"),
            None => format!("rotated in by record {by}"),
        });
    }
    if let Some(end) = span.end {
        notes.push(match end.reason {
            KeyEndReason::Revoked => {
                format!("revoked from {} by proposal {}", end.from_seq, end.by)
            }
            KeyEndReason::Rotated => {
                format!("rotated out from {} by record {}", end.from_seq, end.by)
            }
        });
    }
    if notes.is_empty() {
        format!("key {}: {range}", span.key)
    } else {
        format!("key {}: {range} ({})", span.key, notes.join("; "))
    }
}

fn role_names(roles: &[Role]) -> String {
    let names: Vec<&str> = roles.iter().map(|role| role.name()).collect();
    if names.is_empty() {
        "no roles".to_owned()
    } else {
        names.join(", ")
    }
}

fn member_text(member: &MemberState, authority: &Authority, out: &mut String) {
    let admin = if authority.is_admin(&member.id) {
        ", admin"
    } else {
        ""
    };
    out.push_str(&format!(
        "  {} ({}): {}{admin}\n",
        member.id,
        member.name,
        role_names(&member.roles)
    ));
    if let Some(by) = member.added_by {
        out.push_str(&format!("    added by proposal {by}\n"));
    }
    if let Some(removal) = member.removed {
        out.push_str(&format!(
            "    REMOVED from seq {} on (proposal {}); its nodes are refused\n",
            removal.from_seq, removal.by
        ));
    }
    for span in &member.keys {
        out.push_str(&format!("    {}\n", key_span_line(span, authority)));
    }
    if member.node_keys.is_empty() {
        out.push_str("    node keys: none\n");
    }
    for key in &member.node_keys {
        out.push_str(&format!("    node key {key}\n"));
    }
}

/// `gov status` as text, after the line naming the network (which the caller prints, with
/// whether it was pinned).
pub fn status_text(derivation: &Derivation) -> String {
    let authority = &derivation.authority;
    let rule = authority.admin_rule();
    let mut out = format!(
        "admins    {} of {} must approve: {}\ntip       {}\n",
        rule.threshold,
        rule.admins.len(),
        rule.admins.join(", "),
        authority.tip()
    );
    // The witness policy readers hold checkpoints to (FORMAT.md §24), as vkeys to copy.
    match authority.witness_policy() {
        Some(policy) => {
            out.push_str(&format!(
                "witnesses {} of {} must cosign a checkpoint\n",
                policy.threshold(),
                policy.witnesses().len()
            ));
            for witness in policy.witnesses() {
                out.push_str(&format!("  witness {}\n", witness.to_vkey()));
            }
        }
        None => out.push_str("witnesses none (no witness policy)\n"),
    }
    out.push_str("members\n");
    for member in authority.members() {
        member_text(member, authority, &mut out);
    }
    out.push_str(&format!(
        "steps     {} effective\n",
        authority.steps().len()
    ));
    for (index, step) in authority.steps().iter().enumerate() {
        out.push_str(&format!(
            "  {}. {}: {} (approved by {})\n",
            index + 1,
            step.proposal,
            step.change.summary(),
            step.approved_by.join(", ")
        ));
    }
    out.push_str(&format!(
        "proposals {} ({} pending)\n",
        derivation.proposals.len(),
        pending_count(derivation)
    ));
    for status in &derivation.proposals {
        out.push_str(&format!(
            "  {} by {} seq {}: {} (approved by {}): {}\n",
            status.id,
            status.proposer,
            status.seq,
            state_text(&status.state),
            status.approved_by.join(", "),
            status.proposal.change.summary()
        ));
        if !status.proposal.note.is_empty() {
            out.push_str(&format!("    note: {}\n", status.proposal.note));
        }
    }
    if derivation.findings.is_empty() {
        out.push_str("findings  none\n");
    } else {
        out.push_str(&format!(
            "findings  {} governance record(s) without effect\n",
            derivation.findings.len()
        ));
    }
    for finding in &derivation.findings {
        out.push_str(&format!(
            "  {} seq {} {}: {}\n",
            finding.author, finding.seq, finding.record, finding.problem
        ));
    }
    out
}

/// `gov status` as JSON: the derivation, with the network, the tip and the pending count.
pub fn status_json(genesis: &Genesis, derivation: &Derivation) -> Value {
    let mut value = json!(derivation);
    value["network_id"] = json!(genesis.network_id());
    value["network_name"] = json!(genesis.name);
    value["tip"] = json!(derivation.authority.tip());
    value["pending"] = json!(pending_count(derivation));
    value
}

/// A record the governance declared invalid, in one line:
/// `ORG seq S ID: signed with key K after its revocation from seq N (proposal P)`.
pub fn revoked_line(problem: &Problem) -> String {
    let author = problem.author.as_deref().unwrap_or("(unknown author)");
    let seq = problem.seq.map_or("?".to_owned(), |seq| seq.to_string());
    let id = problem
        .record_id
        .map_or(String::new(), |id| format!(" {id}"));
    format!(
        "{author} seq {seq}{id}: {}",
        revocation_text(&problem.reason)
    )
}

/// Why a revoked record is not valid, without the record's own place.
pub fn revocation_text(reason: &Rejection) -> String {
    match reason {
        Rejection::KeyRevoked {
            key, from_seq, by, ..
        } => format!(
            "signed with key {key} after its revocation from seq {from_seq} (proposal {by})"
        ),
        Rejection::MemberRemoved {
            author,
            from_seq,
            by,
        } => {
            format!("{author} was removed from the network from seq {from_seq} on (proposal {by})")
        }
        other => other.to_string(),
    }
}
