//! The index's keys: their one-byte tags (the table in the module doc), the keys built
//! with the spec's sortable key builder ([`SortKey`], FORMAT.md §19), and their reader.

use aidledger_spec::sortkey::{SortKeyError, SortKeyReader};

use super::*;

/// Key tags, one byte each (see the module table).
pub(crate) mod tag {
    pub const ORG_TOTAL: u8 = b't';
    pub const ACTIVITY_TOTAL: u8 = b's';
    pub const NAMED_BY_OTHERS: u8 = b'o';
    pub const ACTIVITY_RECORD: u8 = b'a';
    pub const ACKNOWLEDGED_BY: u8 = b'k';
    pub const ACKNOWLEDGED_MARK: u8 = b'K';
    pub const LATEST_CORRECTION: u8 = b'C';
    pub const CORRECTED_MARK: u8 = b'R';
    pub const CORRECTED_BY: u8 = b'c';
    pub const TREATY_ACTION: u8 = b'x';
    pub const SUPERSEDED_BY: u8 = b'u';
    pub const TREATY_TITLE: u8 = b'n';
    pub const ACTIVITY_LATEST: u8 = b'A';
    pub const SEARCH_TERM: u8 = b'S';
}

/// The `k` key: `by` currently acknowledges `acknowledged`.
pub(super) fn acknowledged_by_key(acknowledged: &RecordId, by: &RecordId) -> Vec<u8> {
    SortKey::tagged(tag::ACKNOWLEDGED_BY)
        .id(&acknowledged.0)
        .id(&by.0)
        .into_bytes()
}

/// The `K` key: how many current acknowledgements a record has.
pub(super) fn mark_key(acknowledged: &RecordId) -> Vec<u8> {
    SortKey::tagged(tag::ACKNOWLEDGED_MARK)
        .id(&acknowledged.0)
        .into_bytes()
}

/// Reads the parts of an index key back, through the spec's [`SortKeyReader`] (the reader
/// beside the [`SortKey`] builder that wrote them).
pub(crate) struct KeyReader<'a>(SortKeyReader<'a>);

impl<'a> KeyReader<'a> {
    /// A reader of `bytes`, the parts of a key after the prefix already matched.
    pub(crate) fn new(bytes: &'a [u8]) -> KeyReader<'a> {
        KeyReader(SortKeyReader::new(bytes))
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, StoreError> {
        self.0.u8().map_err(corrupt_key)
    }

    /// A big-endian u64.
    pub(crate) fn u64(&mut self) -> Result<u64, StoreError> {
        self.0.u64().map_err(corrupt_key)
    }

    /// A text after its u16 length.
    pub(crate) fn text(&mut self) -> Result<String, StoreError> {
        self.0.text().map(str::to_owned).map_err(corrupt_key)
    }

    /// A record id's 32 bytes.
    pub(crate) fn id(&mut self) -> Result<RecordId, StoreError> {
        self.0.id().map(aidledger_spec::Digest).map_err(corrupt_key)
    }

    /// Checks that the whole key was read.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        self.0.finish().map_err(corrupt_key)
    }
}

fn corrupt_key(error: SortKeyError) -> StoreError {
    StoreError::Corrupt(format!("an explorer index key does not parse: {error}"))
}
