//! Redacted records as the reading commands show them (FORMAT.md §27): a record whose body is
//! withheld under an order in force is valid, and `verify`, `provenance`, `show` and the money
//! views say so, with who ordered it, when, why, and by which order; never as missing or
//! invalid. The verdict itself is the spec's (`ChainReport::redacted`); this module only
//! gathers what the verdict does not carry (the orders' dates and notes) and words it.

use std::collections::HashMap;

use aidledger_spec::chain::{ChainReport, Report};
use aidledger_spec::governance::Change;
use aidledger_spec::redaction::{Order, OrderedBy, RedactedEntry};
use aidledger_spec::verify::{VerifiedRecord, Verifier};
use aidledger_spec::withheld::{is_withheld, WithheldRecord};
use aidledger_spec::{Body, BodyKind, RecordHeader, RecordId};
use aidledger_view::format::utc_time;
use serde_json::{json, Value};

/// What the records say of the orders, gathered while the source streams past: each `redact`
/// proposal's time and note, each `redaction` record's note. Orders are rare, so this stays
/// small whatever the size of the source.
#[derive(Clone, Debug, Default)]
pub struct OrderFacts {
    /// Order id → (its author's claimed time, its note).
    orders: HashMap<RecordId, (u64, String)>,
}

impl OrderFacts {
    /// Notes `record` when it is an order: a `redaction` record or a `redact` proposal.
    pub fn observe(&mut self, record: &VerifiedRecord) {
        let note = match record.body() {
            Body::Redaction(redaction) => &redaction.note,
            Body::Proposal(proposal) if matches!(proposal.change, Change::Redact { .. }) => {
                &proposal.note
            }
            _ => return,
        };
        self.orders
            .insert(record.id(), (record.header().timestamp_ms, note.clone()));
    }

    /// When the order was made: an author's order's `timestamp_ms`, or the admins' proposal's
    /// (the author's claimed time, as every record's).
    pub fn timestamp_ms(&self, order: &Order) -> Option<u64> {
        match order.by {
            OrderedBy::Author { timestamp_ms, .. } => Some(timestamp_ms),
            OrderedBy::Admins { .. } => self.orders.get(&order.order).map(|(time, _)| *time),
        }
    }

    /// The order's note, when its record was read.
    pub fn note(&self, order: &Order) -> Option<&str> {
        self.orders.get(&order.order).map(|(_, note)| note.as_str())
    }
}

/// The name of a header's body kind (`transaction`, `statement`, …).
pub fn kind_name(body_kind: u16) -> String {
    BodyKind::from_wire(body_kind).map_or_else(
        || format!("kind {body_kind}"),
        |kind| kind.name().to_owned(),
    )
}

/// Who ordered it, in words: `its author (order ID at seq S)` or `the admins (proposal ID,
/// governance step N, approved by A, B)`.
pub fn ordered_by_text(order: &Order) -> String {
    match &order.by {
        OrderedBy::Author { seq, .. } => {
            format!("its author (redaction order {} at seq {seq})", order.order)
        }
        OrderedBy::Admins { step, approved_by } => format!(
            "the admins (proposal {}, governance step {step}, approved by {})",
            order.order,
            approved_by.join(", ")
        ),
    }
}

/// `redacted by … for the safety of persons, ordered 2026-11-02 14:30:22 UTC`.
pub fn order_text(order: &Order, facts: &OrderFacts) -> String {
    let when = facts
        .timestamp_ms(order)
        .map_or(String::new(), |ms| format!(", ordered {}", utc_time(ms)));
    format!(
        "redacted by {} for {}{when}",
        ordered_by_text(order),
        order.category.words()
    )
}

/// One redacted record as a line of `verify`: `ORG seq S ID (KIND): redacted by …`.
pub fn entry_line(author: &str, entry: &RedactedEntry, facts: &OrderFacts) -> String {
    format!(
        "{author} seq {} {} ({}): {}",
        entry.seq,
        entry.id,
        kind_name(entry.body_kind),
        order_text(&entry.order, facts)
    )
}

/// A chain's redacted records, as the heading line of `verify`'s list.
pub fn chain_line(chain: &ChainReport) -> String {
    let count = chain.redacted.len();
    format!(
        "{}: {count} record{} redacted (content withheld under an order in force)",
        chain.author,
        if count == 1 { "" } else { "s" }
    )
}

/// The order as JSON: `{order, by: "author"|"admins", seq|step, approved_by, category,
/// category_text, timestamp_ms, time, note}`.
pub fn order_json(order: &Order, facts: &OrderFacts) -> Value {
    let mut value = json!({
        "order": order.order,
        "category": order.category.name(),
        "category_text": order.category.words(),
        "ordered_by_text": ordered_by_text(order),
        "timestamp_ms": facts.timestamp_ms(order),
        "time": facts.timestamp_ms(order).map(utc_time),
        "note": facts.note(order),
    });
    match &order.by {
        OrderedBy::Author { seq, .. } => {
            value["by"] = json!("author");
            value["order_seq"] = json!(seq);
        }
        OrderedBy::Admins { step, approved_by } => {
            value["by"] = json!("admins");
            value["step"] = json!(step);
            value["approved_by"] = json!(approved_by);
        }
    }
    value
}

/// One redacted record as JSON.
pub fn entry_json(author: &str, entry: &RedactedEntry, facts: &OrderFacts) -> Value {
    json!({
        "author": author,
        "seq": entry.seq,
        "record_id": entry.id,
        "kind": kind_name(entry.body_kind),
        "order": order_json(&entry.order, facts),
        "text": entry_line(author, entry, facts),
    })
}

/// Every redacted record of the report as JSON, chain by chain.
pub fn report_json(report: &Report, facts: &OrderFacts) -> Vec<Value> {
    report
        .chains
        .iter()
        .flat_map(|chain| {
            chain
                .redacted
                .iter()
                .map(|entry| entry_json(&chain.author, entry, facts))
        })
        .collect()
}

/// The chain and the entry of a redacted record, if `id` is one.
pub fn find<'a>(report: &'a Report, id: &RecordId) -> Option<(&'a ChainReport, &'a RedactedEntry)> {
    report.chains.iter().find_map(|chain| {
        chain
            .redacted
            .iter()
            .find(|entry| entry.id == *id)
            .map(|entry| (chain, entry))
    })
}

/// How many redacted records of the report have this body kind.
pub fn count_of_kind(report: &Report, kind: BodyKind) -> u64 {
    report
        .chains
        .iter()
        .flat_map(|chain| &chain.redacted)
        .filter(|entry| entry.body_kind == kind as u16)
        .count() as u64
}

/// `plus 2 redacted transactions (amounts withheld)`, or nothing for none.
pub fn plus_transactions_text(count: u64) -> Option<String> {
    (count > 0).then(|| {
        format!(
            "plus {count} redacted transaction{} (amount{} withheld: unknown to the reader)",
            if count == 1 { "" } else { "s" },
            if count == 1 { "" } else { "s" }
        )
    })
}

/// A withheld record's header as JSON: what stays known of a redacted record.
pub fn header_json(id: RecordId, header: &RecordHeader) -> Value {
    json!({
        "id": id,
        "author": header.author,
        "seq": header.seq,
        "prev": header.prev,
        "timestamp_ms": header.timestamp_ms,
        "time": utc_time(header.timestamp_ms),
        "signing_key": header.signing_key,
        "kind": kind_name(header.body_kind),
        "body_size_bytes": header.body_size_bytes,
        "body_hash": header.body_hash,
        "content": Value::Null,
        "content_withheld": true,
    })
}

/// A withheld record's header as the indented lines of `show`.
pub fn header_text(id: RecordId, header: &RecordHeader, author_name: &str) -> String {
    format!(
        "  id        {id}\n  kind      {}\n  author    {} ({author_name})\n  seq       {}\n  prev      {}\n  time      {} (the author's claim)\n  key       {}\n  body      {} bytes, hash {} (content withheld)\n",
        kind_name(header.body_kind),
        header.author,
        header.seq,
        header.prev,
        utc_time(header.timestamp_ms),
        header.signing_key,
        header.body_size_bytes,
        header.body_hash,
    )
}

/// Reads `bytes` as a withheld envelope and checks every rule it can be judged by under
/// `verifier` (the source's governance): `None` when they are not a withheld envelope or do
/// not verify (the source's report says why).
pub fn verify_withheld(verifier: &Verifier, bytes: Vec<u8>) -> Option<WithheldRecord> {
    if !is_withheld(&bytes) {
        return None;
    }
    verifier.verify_withheld(bytes).ok()
}
