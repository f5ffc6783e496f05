//! The byte layout of the store's keys and small values (all integers big endian, so that
//! sled's byte order is chain order; the table is in the crate doc).

use aidledger_spec::{BodyKind, RecordId};

use crate::{Head, StoreError};

pub(crate) const META_NETWORK_ID: &[u8] = b"network_id";
pub(crate) const META_RECORD_COUNT: &[u8] = b"record_count";
/// Present once the `governance` tree indexes every stored governance record (stores made
/// before it existed are indexed once at open).
pub(crate) const META_GOVERNANCE_INDEXED: &[u8] = b"governance_indexed";

pub(crate) const ID_BYTES: usize = 32;
pub(crate) const SEQ_BYTES: usize = 8;
pub(crate) const HEAD_VALUE_BYTES: usize = SEQ_BYTES + ID_BYTES;

/// A head's value in the `heads` tree: seq (big endian), then the record id.
pub(crate) fn head_bytes(head: Head) -> [u8; HEAD_VALUE_BYTES] {
    let mut value = [0u8; HEAD_VALUE_BYTES];
    value[..SEQ_BYTES].copy_from_slice(&head.seq.to_be_bytes());
    value[SEQ_BYTES..].copy_from_slice(&head.id.0);
    value
}

/// `author`'s head as the `heads` tree holds it now.
pub(crate) fn head_in(heads: &sled::Tree, author: &str) -> Result<Option<Head>, StoreError> {
    match heads.get(author.as_bytes())? {
        Some(value) => parse_head(&value).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn parse_head(value: &[u8]) -> Result<Head, StoreError> {
    if value.len() != HEAD_VALUE_BYTES {
        return Err(StoreError::Corrupt(format!(
            "a head is {} bytes, not {HEAD_VALUE_BYTES}",
            value.len()
        )));
    }
    let seq = parse_u64(&value[..SEQ_BYTES], "a head's seq")?;
    let mut id = [0u8; ID_BYTES];
    id.copy_from_slice(&value[SEQ_BYTES..]);
    Ok(Head {
        seq,
        id: aidledger_spec::Digest(id),
    })
}

pub(crate) fn parse_u64(value: &[u8], what: &str) -> Result<u64, StoreError> {
    let bytes: [u8; SEQ_BYTES] = value.try_into().map_err(|_| {
        StoreError::Corrupt(format!("{what} is {} bytes, not {SEQ_BYTES}", value.len()))
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// The `records` key of (author, seq); `None` for an author too long to be a key.
pub fn chain_key(author: &str, seq: u64) -> Option<Vec<u8>> {
    let length = u8::try_from(author.len()).ok()?;
    let mut key = Vec::with_capacity(1 + author.len() + SEQ_BYTES);
    key.push(length);
    key.extend_from_slice(author.as_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    Some(key)
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
    let (&length, rest) = key.split_first().ok_or_else(corrupt)?;
    let length = usize::from(length);
    if rest.len() != length + SEQ_BYTES {
        return Err(corrupt());
    }
    let author = std::str::from_utf8(&rest[..length])
        .map_err(|_| corrupt())?
        .to_owned();
    Ok((author, parse_u64(&rest[length..], "a record key's seq")?))
}

/// The body kind of a record's wire bytes, read without decoding.
pub(crate) fn peek_kind(bytes: &[u8]) -> Option<BodyKind> {
    aidledger_spec::signed::peek_body_kind(bytes).and_then(BodyKind::from_wire)
}

/// Whether wire bytes are a governance record (kinds 5–7).
pub(crate) fn is_governance_bytes(bytes: &[u8]) -> bool {
    peek_kind(bytes).is_some_and(BodyKind::is_governance)
}
