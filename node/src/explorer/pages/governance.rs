//! The governance page: the admin rule, members' keys and the positions each may sign, and
//! proposals.

use super::*;

/// How a key span reads: "seq 0–4 (revoked from 5 by proposal …)".
pub fn key_span_text(span: &KeySpan) -> String {
    let range = match span.end {
        Some(end) if end.from_seq > span.from_seq => {
            format!("seq {}–{}", span.from_seq, end.from_seq - 1)
        }
        Some(_) => "no position".to_owned(),
        None => format!("seq {} on", span.from_seq),
    };
    let end = span.end.map_or(String::new(), |end| {
        let why = match end.reason {
            KeyEndReason::Rotated => "rotated out",
            KeyEndReason::Revoked => "REVOKED",
        };
        format!(
            "; {why} from seq {} by {}",
            end.from_seq,
            model::short(&end.by)
        )
    });
    format!("{range}{end}")
}

/// The governance page: admin rule, members with their keys, effective changes, proposals.
pub fn governance(derivation: &Derivation, network_name: &str) -> String {
    let authority = &derivation.authority;
    let mut html = Html::page("Governance", network_name);
    let rule = authority.admin_rule();
    html.raw("<h1>Governance</h1><dl>")
        .field(
            "Admin rule",
            &format!(
                "{} of {}: {}",
                rule.threshold,
                rule.admins.len(),
                rule.admins.join(", ")
            ),
        )
        .field("Changes in effect", &authority.steps().len().to_string())
        .raw("</dl><h2>Members and signing keys</h2>");
    let keys = crate::explorer::table::keys(derivation);
    table::table(&mut html, &keys, &csv::href("/governance", &[], keys.name));
    html.raw("<h2>Proposals</h2>");
    if derivation.proposals.is_empty() {
        html.raw("<p class=\"muted\">No proposals.</p>");
    } else {
        let proposals = crate::explorer::table::proposals(derivation);
        table::table(
            &mut html,
            &proposals,
            &csv::href("/governance", &[], proposals.name),
        );
    }
    if !derivation.findings.is_empty() {
        html.raw("<h2>Governance records without effect</h2><ul>");
        for finding in &derivation.findings {
            html.raw("<li>")
                .code_link(
                    &record_href(&finding.record),
                    &model::short(&finding.record),
                )
                .raw(" ")
                .text(&format!(
                    "{} seq {}: {}",
                    finding.author, finding.seq, finding.problem
                ))
                .raw("</li>");
        }
        html.raw("</ul>");
    }
    html.finish()
}

/// A proposal's state in words.
pub fn proposal_state_text(state: &ProposalState) -> String {
    match state {
        ProposalState::Effective { step } => format!("effective (change {step})"),
        ProposalState::Pending {
            approvals,
            threshold,
        } => format!("pending: {approvals} of {threshold} approvals"),
        ProposalState::Stale => "stale: another change took effect first".to_owned(),
        ProposalState::Inapplicable { reason } => format!("inapplicable: {reason}"),
        ProposalState::Refused { reason } => format!("refused: {reason}"),
    }
}
