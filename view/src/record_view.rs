//! A record as JSON: its header fields and its decoded body, with values derived from the
//! signed fields (a transaction type's name, a treaty's text and version hashes, a proposal's
//! summary) beside them. Amounts stay strings, exactly as signed.

use aidledger_spec::record::{transaction_type_name, Correction};
use aidledger_spec::{Body, PublicKey, RecordHeader, RecordId};
use serde_json::{json, Value};

/// A record as the API and the CLI show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordView {
    /// Record id, hex.
    pub id: RecordId,
    /// Author organisation.
    pub author: String,
    /// Position in the author's chain.
    pub seq: u64,
    /// Predecessor id, hex (zeros for seq 0).
    pub prev: RecordId,
    /// The author's claimed time, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The signing key, hex.
    pub signing_key: PublicKey,
    /// The body kind's name (`transaction`, `treaty-text`, …).
    pub kind: &'static str,
    /// The size of the record's wire bytes.
    pub size_bytes: usize,
    /// The decoded body ([`body_json`]).
    pub body: Value,
}

impl RecordView {
    /// The view of a record: its id, header, decoded body and the size of its wire bytes.
    pub fn of(id: RecordId, header: &RecordHeader, body: &Body, size_bytes: usize) -> RecordView {
        Self::with_body(id, header, size_bytes, body.kind().name(), body_json(body))
    }

    /// The view of a withheld record (FORMAT.md §6.1): its header, and `body` stating that
    /// its content was redacted; what it said is no longer held anywhere.
    pub fn of_withheld(id: RecordId, header: &RecordHeader, size_bytes: usize) -> RecordView {
        let body = json!({ "redacted": true, "body_size_bytes": header.body_size_bytes });
        let kind = aidledger_spec::BodyKind::wire_name(header.body_kind);
        Self::with_body(id, header, size_bytes, kind, body)
    }

    fn with_body(
        id: RecordId,
        header: &RecordHeader,
        size_bytes: usize,
        kind: &'static str,
        body: Value,
    ) -> RecordView {
        RecordView {
            id,
            author: header.author.clone(),
            seq: header.seq,
            prev: header.prev,
            timestamp_ms: header.timestamp_ms,
            signing_key: header.signing_key,
            kind,
            size_bytes,
            body,
        }
    }

    /// The view as a JSON value.
    pub fn to_json(&self) -> Value {
        to_json(self)
    }
}

/// The decoded fields of a body as JSON; derived values are added beside the signed fields.
pub fn body_json(body: &Body) -> Value {
    match body {
        Body::Transaction(transaction) => {
            let mut value = to_json(transaction);
            insert(
                &mut value,
                "transaction_type_name",
                json!(transaction_type_name(transaction.transaction_type)),
            );
            value
        }
        Body::TreatyText(treaty) => {
            let mut value = to_json(treaty);
            insert(&mut value, "text_hash", to_json(&treaty.text_hash()));
            let version_hashes: Vec<_> = treaty
                .versions
                .iter()
                .map(|version| version.hash())
                .collect();
            insert(&mut value, "version_hashes", to_json(&version_hashes));
            value
        }
        Body::TreatyAction(action) => to_json(action),
        Body::Statement(statement) => to_json(statement),
        Body::Correction(correction) => correction_json(correction),
        Body::Proposal(proposal) => {
            let mut value = to_json(proposal);
            insert(&mut value, "summary", json!(proposal.change.summary()));
            value
        }
        Body::Approval(approval) => to_json(approval),
        Body::KeyRotation(rotation) => to_json(rotation),
        Body::Redaction(redaction) => to_json(redaction),
        Body::Activity(activity) => {
            let mut value = to_json(activity);
            insert(
                &mut value,
                "names",
                crate::activity_text::activity_names(activity),
            );
            value
        }
    }
}

/// `{"corrects", "reason", "replacement"}`, the replacement nested as `{"kind", "body"}` (the
/// shape of a record's own kind and body; null for a withdrawal).
fn correction_json(correction: &Correction) -> Value {
    let replacement = correction.replacement.as_ref().map(|replacement| {
        let body = replacement.to_body();
        json!({ "kind": body.kind().name(), "body": body_json(&body) })
    });
    json!({
        "corrects": to_json(&correction.corrects),
        "reason": correction.reason,
        "replacement": replacement,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    // The spec's types have only string keys and serializable fields, for which serde_json
    // cannot fail; Null would show a bug without hiding the rest of the record.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn insert(value: &mut Value, key: &str, field: Value) {
    if let Value::Object(map) = value {
        map.insert(key.to_owned(), field);
    }
}
