//! A treaty's standing and the treaty findings as `show` and `provenance` print them. The rules
//! (current action, in force, non-parties) are `aidledger_view::treaty`'s; this only words them.

use aidledger_spec::verify::VerifiedRecord;
use aidledger_view::treaty::{ActionState, NonPartyAction, TreatyRecords, TreatyStanding};
use serde_json::{json, Value};

/// Gathers the treaty records of a source while it streams past (every record may be handed
/// in; all but treaty texts, actions and corrections are dropped at once).
pub fn observe(records: &mut TreatyRecords, record: &VerifiedRecord) {
    let header = record.header();
    records.add(record.id(), &header.author, header.seq, record.body());
}

/// The standing as text lines: whether it is in force, each party's current action and
/// history, and the actions by non-parties.
pub fn standing_text(standing: &TreatyStanding) -> String {
    let in_force = &standing.in_force;
    let mut out = format!("standing  {}\n", in_force.line);
    out.push_str(&format!(
        "          every party ratified the same text: {}\n",
        if in_force.same_text { "yes" } else { "no" }
    ));
    for party in &standing.parties {
        match &party.current {
            Some(current) => out.push_str(&format!(
                "party     {}: {}\n",
                party.org,
                action_words(current)
            )),
            None => out.push_str(&format!("party     {}: no action recorded\n", party.org)),
        }
        for action in &party.actions {
            out.push_str(&format!(
                "action    {} {}\n",
                action.org,
                action_words(action)
            ));
        }
    }
    for action in &standing.non_party_actions {
        out.push_str(&format!(
            "FINDING   treaty action by a non-party: {} is not a party; {} (it does not count)\n",
            action.org,
            action_words(action)
        ));
    }
    out
}

/// One action in words: kind, date, which text, record, and what corrected it.
fn action_words(action: &ActionState) -> String {
    let text = if action.on_this_text {
        "on this exact text".to_owned()
    } else {
        format!(
            "on ANOTHER text (treaty {}, text hash {})",
            action.treaty, action.text_hash
        )
    };
    let mut words = format!(
        "{} {} {text}, record {}",
        action.action.name(),
        action.date,
        action.record
    );
    if let Some(correction) = action.corrected_by {
        words.push_str(&format!(", as corrected by {correction}"));
    }
    if let Some(correction) = action.retracted_by {
        words.push_str(&format!(
            ", RETRACTED by its author's correction {correction} (does not count)"
        ));
    }
    if !action.note.is_empty() {
        words.push_str(&format!(", note: {}", action.note));
    }
    words
}

/// The standing as JSON: the view's fields (`in_force.line` is the line for people).
pub fn standing_json(standing: &TreatyStanding) -> Value {
    json!(standing)
}

/// A finding as text (`FINDING   …`).
pub fn finding_text(finding: &NonPartyAction) -> String {
    format!("FINDING   {}\n", finding.line())
}

/// A finding as JSON, the shape `verify --json` lists.
pub fn finding_json(finding: &NonPartyAction) -> Value {
    json!({
        "kind": "treaty-action-by-non-party",
        "text": finding.line(),
        "record_id": finding.record,
        "author": finding.author,
        "seq": finding.seq,
        "treaty": finding.treaty,
        "parties": finding.parties,
        "action": finding.action,
        "corrects": finding.corrects,
    })
}
