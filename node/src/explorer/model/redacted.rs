//! A redacted record as the explorer shows it (FORMAT.md §27): its header, its signature's
//! standing and the order that withheld its content — never the content, which this node no
//! longer holds.

use aidledger_spec::signed::SignedRecord;
use aidledger_spec::withheld::is_withheld;
use aidledger_spec::{BodyKind, RecordId};
use aidledger_store::{StoreError, StoreReader};
use serde::Serialize;

use super::{HeldRecord, Problem, Summary};

/// Who ordered a redaction, and why, as the explorer says it.
#[derive(Clone, Debug, Serialize)]
pub struct RedactionView {
    /// The order: the author's `redaction` record, or the admins' `redact` proposal.
    pub order: RecordId,
    /// `author` or `admins`.
    pub by: &'static str,
    /// The category's name (`safety-of-persons`, …).
    pub category: &'static str,
    /// The category in words.
    pub category_words: &'static str,
    /// The order record's claimed time, milliseconds since the Unix epoch.
    pub ordered_at_ms: u64,
}

/// The page of a redacted record.
#[derive(Clone, Debug, Serialize)]
pub struct RedactedPage {
    /// The record id (unchanged by the redaction).
    pub id: RecordId,
    /// Always true: the JSON says so in so many words.
    pub redacted: bool,
    /// The kind the header names.
    pub kind: &'static str,
    /// The author.
    pub author: String,
    /// The author's name in the genesis (empty for a member added since).
    pub author_name: String,
    /// Its position in the author's chain.
    pub seq: u64,
    /// The author's claimed time of the record.
    pub timestamp_ms: u64,
    /// The key that signed it.
    pub signing_key: String,
    /// The order that withheld its content, when this node knows it.
    pub redaction: Option<RedactionView>,
}

/// The page of `id` when this node holds it withheld; `None` when it holds the whole record.
pub fn redacted_page(store: &StoreReader, id: &RecordId) -> Result<Option<RedactedPage>, Problem> {
    let Some(bytes) = store.get(id)? else {
        return Ok(None);
    };
    withheld_page(store, id, bytes)
}

/// [`redacted_page`] of a record already read.
pub(crate) fn redacted_page_of(
    store: &StoreReader,
    held: &HeldRecord,
) -> Result<Option<RedactedPage>, Problem> {
    if !is_withheld(&held.bytes) {
        return Ok(None);
    }
    withheld_page(store, &held.id, held.bytes.clone())
}

fn withheld_page(
    store: &StoreReader,
    id: &RecordId,
    bytes: Vec<u8>,
) -> Result<Option<RedactedPage>, Problem> {
    if !is_withheld(&bytes) {
        return Ok(None);
    }
    let record = parse(bytes)?;
    let header = &record.header;
    Ok(Some(RedactedPage {
        id: record.id,
        redacted: true,
        kind: BodyKind::wire_name(header.body_kind),
        author: header.author.clone(),
        author_name: store
            .genesis()
            .member(&header.author)
            .map_or(String::new(), |member| member.name.clone()),
        seq: header.seq,
        timestamp_ms: header.timestamp_ms,
        signing_key: header.signing_key.to_hex(),
        redaction: redaction_view(store, id)?,
    }))
}

/// The summary of a withheld record in lists: its kind and that its content was redacted.
pub(super) fn redacted_summary(store: &StoreReader, bytes: Vec<u8>) -> Result<Summary, StoreError> {
    let record = parse(bytes)?;
    let header = &record.header;
    let kind = BodyKind::wire_name(header.body_kind);
    let why = match redaction_view(store, &record.id)? {
        Some(view) => format!("content withheld: redacted for {}", view.category_words),
        None => "content withheld: redacted".to_owned(),
    };
    Ok(Summary {
        id: record.id,
        author: header.author.clone(),
        seq: header.seq,
        timestamp_ms: header.timestamp_ms,
        kind,
        summary: why.clone(),
        label: format!("redacted {kind} ({why})"),
    })
}

fn redaction_view(store: &StoreReader, id: &RecordId) -> Result<Option<RedactionView>, StoreError> {
    Ok(store.redaction(id)?.map(|mark| RedactionView {
        order: mark.order,
        by: if mark.by_admins { "admins" } else { "author" },
        category: mark.category.name(),
        category_words: mark.category.words(),
        ordered_at_ms: mark.ordered_at_ms,
    }))
}

fn parse(bytes: Vec<u8>) -> Result<SignedRecord, StoreError> {
    SignedRecord::parse_withheld(bytes)
        .map_err(|error| StoreError::Corrupt(format!("a withheld record does not parse: {error}")))
}
