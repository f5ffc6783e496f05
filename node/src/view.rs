//! Records as the public API shows them: the one record view of `aidledger-view` (header
//! fields, decoded body, derived values) and, beside it, the wire bytes in hex, which only the
//! node serves. Amounts stay strings, exactly as signed.

use std::ops::Deref;

use aidledger_spec::codec;
use aidledger_spec::ids::lower_hex;
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::Body;

use aidledger_store::StoreError;

pub use aidledger_view::body_json;

/// A record as the public API shows it: the shared view, and the record's bytes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RecordView {
    /// The shared view (its fields appear at the top level of the JSON).
    #[serde(flatten)]
    pub view: aidledger_view::RecordView,
    /// The record's wire bytes, hex.
    pub bytes_hex: String,
}

/// The API's view reads as the shared view: pages use its fields directly.
impl Deref for RecordView {
    type Target = aidledger_view::RecordView;

    fn deref(&self) -> &aidledger_view::RecordView {
        &self.view
    }
}

impl RecordView {
    /// The view of stored wire bytes (records in the store were verified when appended).
    pub fn from_bytes(bytes: &[u8]) -> Result<RecordView, StoreError> {
        let corrupt =
            |error| StoreError::Corrupt(format!("a stored record does not decode: {error}"));
        if aidledger_spec::withheld::is_withheld(bytes) {
            let record = SignedRecord::parse_withheld(bytes.to_vec()).map_err(corrupt)?;
            return Ok(RecordView {
                view: aidledger_view::RecordView::of_withheld(
                    record.id,
                    &record.header,
                    record.bytes.len(),
                ),
                bytes_hex: lower_hex(&record.bytes),
            });
        }
        let record = SignedRecord::parse(bytes.to_vec()).map_err(corrupt)?;
        let body: Body = codec::decode_exact(record.body_bytes()).map_err(corrupt)?;
        Ok(RecordView::of(&record, &body))
    }

    /// The view of a record already parsed, and its decoded body.
    pub fn of(record: &SignedRecord, body: &Body) -> RecordView {
        RecordView {
            view: aidledger_view::RecordView::of(
                record.id,
                &record.header,
                body,
                record.bytes.len(),
            ),
            bytes_hex: lower_hex(&record.bytes),
        }
    }
}
