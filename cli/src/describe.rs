//! How records are shown to people (text) and machines (JSON): the CLI's names for the one
//! record view of `aidledger-view`, which the node's API and explorer use too.

use aidledger_spec::verify::RuleCheckedRecord;
use aidledger_spec::Body;
use aidledger_view::record_text::IdLength;
use serde_json::Value;

pub use aidledger_view::record_text::INLINE_TEXT_CHARS_MAX;

/// A one-line summary of a record's body, ids in full (to copy into another command).
pub fn summary(body: &Body) -> String {
    aidledger_view::summary(body, IdLength::Full)
}

/// The record's header and body as JSON; amounts stay exact strings.
pub fn record_json(record: &RuleCheckedRecord) -> Value {
    aidledger_view::RecordView::of(
        record.id(),
        record.header(),
        record.body(),
        record.bytes().len(),
    )
    .to_json()
}

/// The body as JSON.
pub fn body_json(body: &Body) -> Value {
    aidledger_view::body_json(body)
}

/// The record as indented text lines for `show`.
pub fn record_text(record: &RuleCheckedRecord, author_name: &str) -> String {
    aidledger_view::record_text(record, author_name)
}
