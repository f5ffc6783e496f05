//! The byte layout of the store's keys and small values (the table is in the crate doc and in
//! FORMAT.md, "Store formats"). Keys are built and read with the protocol's sortable key
//! builder (`aidledger_spec::sortkey`, FORMAT.md §19; integers big endian, so that sled's byte
//! order is chain order); the bytes are those the store always wrote. Values (heads, counters)
//! are in the layout of FORMAT.md §2 through the spec's `Codec` (little endian; store format
//! 3, see `format::STORE_FORMAT`).

use aidledger_spec::codec::{Codec, DecodeError, Reader};
use aidledger_spec::sortkey::{SortKey, SortKeyReader};
use aidledger_spec::{BodyKind, RecordId};

use crate::{Head, StoreError};

pub(crate) const META_NETWORK_ID: &[u8] = b"network_id";
pub(crate) const META_RECORD_COUNT: &[u8] = b"record_count";
/// Present once the `governance` tree indexes every stored governance record (stores made
/// before it existed are indexed once at open).
pub(crate) const META_GOVERNANCE_INDEXED: &[u8] = b"governance_indexed";
/// The store format (see `format::STORE_FORMAT`); absent in a store of format 1.
pub(crate) const META_STORE_FORMAT: &[u8] = b"store_format";
/// Prefix of a chain's deferred-index mark, `index_behind` ‖ `0x00` ‖ author (UTF-8): the
/// first seq of the chain that the store's [`crate::AppendIndex`] has not indexed yet
/// (`u64`); absent when the index covers the chain up to its head (`store::follow`).
pub(crate) const META_INDEX_BEHIND_PREFIX: &[u8] = b"index_behind\0";

/// Present while sled's files may hold bytes of a body a redaction forgot: set in the
/// redaction's transaction, removed by the compaction at the next open (`store::compact`).
pub(crate) const META_COMPACTION_DUE: &[u8] = b"compaction_due";

/// The generation of the append index's tree (`u64`; absent: 0): a redaction starts the index
/// again in a fresh tree of the next generation (`store::redaction`), whose name is
/// [`index_tree_name`].
pub(crate) const META_INDEX_GENERATION: &[u8] = b"index_generation";

/// The name of the append index's tree of `generation`: its own name for 0, then
/// `name.generation` (`explorer.1`, …).
pub(crate) fn index_tree_name(name: &str, generation: u64) -> String {
    if generation == 0 {
        name.to_owned()
    } else {
        format!("{name}.{generation}")
    }
}

/// The index generation `meta` names.
pub(crate) fn index_generation(meta: &sled::Tree) -> Result<u64, StoreError> {
    match meta.get(META_INDEX_GENERATION)? {
        Some(value) => parse_u64(&value, "the index generation"),
        None => Ok(0),
    }
}

/// The `meta` key of `author`'s deferred-index mark.
pub(crate) fn index_behind_key(author: &str) -> Vec<u8> {
    [META_INDEX_BEHIND_PREFIX, author.as_bytes()].concat()
}

pub(crate) const ID_BYTES: usize = 32;
pub(crate) const SEQ_BYTES: usize = 8;

/// A head's value in the `heads` tree: seq (`u64`), then the record id (32 bytes).
impl Codec for Head {
    fn write(&self, out: &mut Vec<u8>) {
        self.seq.write(out);
        self.id.0.write(out);
    }

    fn read(reader: &mut Reader<'_>) -> Result<Head, DecodeError> {
        let seq = reader.u64("a head's seq")?;
        let id = aidledger_spec::Digest(reader.array("a head's record id")?);
        Ok(Head { seq, id })
    }
}

/// A head's value in the `heads` tree.
pub(crate) fn head_bytes(head: Head) -> Vec<u8> {
    head.to_bytes()
}

/// A counter's value in `meta` (`record_count`).
pub(crate) fn count_bytes(count: u64) -> Vec<u8> {
    count.to_bytes()
}

/// `author`'s head as the `heads` tree holds it now.
pub(crate) fn head_in(heads: &sled::Tree, author: &str) -> Result<Option<Head>, StoreError> {
    match heads.get(author.as_bytes())? {
        Some(value) => parse_head(&value).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn parse_head(value: &[u8]) -> Result<Head, StoreError> {
    Head::from_bytes(value)
        .map_err(|error| StoreError::Corrupt(format!("a head does not parse: {error}")))
}

pub(crate) fn parse_u64(value: &[u8], what: &str) -> Result<u64, StoreError> {
    u64::from_bytes(value)
        .map_err(|error| StoreError::Corrupt(format!("{what} does not parse: {error}")))
}

/// The `records` key of (author, seq): the author as a short string (its length in one byte,
/// then its bytes), then the seq; `None` for an author too long to be a key (over 255 bytes).
pub fn chain_key(author: &str, seq: u64) -> Option<Vec<u8>> {
    Some(SortKey::new().short_str(author).ok()?.u64(seq).into_bytes())
}

/// The key of a record at a position followed by record ids: `pending` and `revoked` keys
/// (one id), `proofs` keys (two); `None` for an author too long to be a key.
pub(crate) fn position_key(author: &str, seq: u64, ids: &[&RecordId]) -> Option<Vec<u8>> {
    let key = SortKey::new().short_str(author).ok()?.u64(seq);
    Some(ids.iter().fold(key, |key, id| key.id(&id.0)).into_bytes())
}

/// A record id from 32 stored bytes (an index key, the end of a `revoked` key).
pub(crate) fn record_id(bytes: &[u8]) -> Result<RecordId, StoreError> {
    let bytes: [u8; ID_BYTES] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a stored record id is not 32 bytes".into()))?;
    Ok(aidledger_spec::Digest(bytes))
}

/// Reads a `records` key back into (author, seq).
pub(crate) fn parse_chain_key(key: &[u8]) -> Result<(String, u64), StoreError> {
    let corrupt = || {
        StoreError::Corrupt(format!(
            "a record key of {} bytes does not parse",
            key.len()
        ))
    };
    let mut reader = SortKeyReader::new(key);
    let author = reader.short_str().map_err(|_| corrupt())?.to_owned();
    let seq = reader.u64().map_err(|_| corrupt())?;
    reader.finish().map_err(|_| corrupt())?;
    Ok((author, seq))
}

/// The body kind of a record's wire bytes, read without decoding.
pub(crate) fn peek_kind(bytes: &[u8]) -> Option<BodyKind> {
    aidledger_spec::signed::peek_body_kind(bytes).and_then(BodyKind::from_wire)
}

/// Whether wire bytes are a governance record (kinds 5–7).
pub(crate) fn is_governance_bytes(bytes: &[u8]) -> bool {
    peek_kind(bytes).is_some_and(BodyKind::is_governance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_records_key_is_the_bytes_the_store_always_wrote() {
        // FORMAT.md §19's example: author `org` at seq 258.
        let key = chain_key("org", 258).expect("a short author");
        assert_eq!(key, [3, b'o', b'r', b'g', 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(
            parse_chain_key(&key).expect("parses"),
            ("org".to_owned(), 258)
        );
        // The layout before the key builder: length byte, author, seq big endian.
        let author = "a".repeat(255);
        let mut old = vec![255u8];
        old.extend_from_slice(author.as_bytes());
        old.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(chain_key(&author, u64::MAX), Some(old));
        assert_eq!(chain_key(&"a".repeat(256), 0), None);
    }

    #[test]
    fn a_position_key_is_the_records_key_then_the_ids() {
        let (first, second) = (
            aidledger_spec::Digest([1; 32]),
            aidledger_spec::Digest([2; 32]),
        );
        let mut expected = chain_key("org", 7).expect("a short author");
        expected.extend_from_slice(&first.0);
        expected.extend_from_slice(&second.0);
        assert_eq!(position_key("org", 7, &[&first, &second]), Some(expected));
    }

    #[test]
    fn a_records_key_with_bytes_left_or_missing_is_corrupt() {
        let key = chain_key("org", 1).expect("a short author");
        assert!(parse_chain_key(&key[..key.len() - 1]).is_err());
        let mut longer = key.clone();
        longer.push(0);
        assert!(parse_chain_key(&longer).is_err());
    }
}
