//! JSON views of records for the public API: header fields, the wire bytes in hex, and the
//! decoded body. Amounts stay strings, exactly as signed.

use aidledger_spec::codec;
use aidledger_spec::ids::lower_hex;
use aidledger_spec::record::{transaction_type_name, Correction, Replacement};
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{Body, PublicKey, RecordId};
use serde_json::{json, Value};

use aidledger_store::StoreError;

/// A record as the public API shows it.
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
    /// The record's wire bytes, hex.
    pub bytes_hex: String,
    /// The decoded body.
    pub body: Value,
}

impl RecordView {
    /// The view of stored wire bytes (records in the store were verified when appended).
    pub fn from_bytes(bytes: &[u8]) -> Result<RecordView, StoreError> {
        let corrupt =
            |error| StoreError::Corrupt(format!("a stored record does not decode: {error}"));
        let record = SignedRecord::parse(bytes.to_vec()).map_err(corrupt)?;
        let body: Body = codec::decode_exact(record.body_bytes()).map_err(corrupt)?;
        Ok(RecordView::of(&record, &body))
    }

    /// The view of a record already parsed, and its decoded body.
    pub fn of(record: &SignedRecord, body: &Body) -> RecordView {
        let header = &record.header;
        RecordView {
            id: record.id,
            author: header.author.clone(),
            seq: header.seq,
            prev: header.prev,
            timestamp_ms: header.timestamp_ms,
            signing_key: header.signing_key,
            kind: body.kind().name(),
            bytes_hex: lower_hex(&record.bytes),
            body: body_json(body),
        }
    }
}

/// The decoded fields of a body as JSON; derived values (a transaction type's name, a treaty's
/// text hash) are added beside the signed fields.
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
            insert(&mut value, "text_hash", json!(treaty.text_hash()));
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
    }
}

fn correction_json(correction: &Correction) -> Value {
    let replacement = correction
        .replacement
        .as_ref()
        .map(|replacement: &Replacement| {
            let body = replacement.to_body();
            let mut value = body_json(&body);
            insert(&mut value, "kind", json!(body.kind().name()));
            value
        });
    json!({ "corrects": correction.corrects, "reason": correction.reason, "replacement": replacement })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    // The spec's body structs have only string keys and serializable fields, for which
    // serde_json cannot fail; Null would show a bug without hiding the rest of the record.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn insert(value: &mut Value, key: &str, field: Value) {
    if let Value::Object(map) = value {
        map.insert(key.to_owned(), field);
    }
}
