//! The store's format version (`meta` key `store_format`) and the migration of older formats
//! at open: the readers of the values older formats wrote, kept only for that.

use aidledger_spec::codec::Codec;
use aidledger_spec::{Digest, RecordId};
use sled::transaction::{TransactionError, Transactional};

use crate::keys::{
    count_bytes, head_bytes, ID_BYTES, META_RECORD_COUNT, META_STORE_FORMAT, SEQ_BYTES,
};
use crate::revocation::RevocationNote;
use crate::{Head, StoreError, StoreReader};

/// The store format this code writes (`meta` key `store_format`, a `u32` little endian):
/// 2 since revocation notes are [`RevocationNote`]s in the layout of FORMAT.md §2; 3 since the
/// `heads` values and the `record_count` counter are too (format 2 wrote their integers big
/// endian, [`format2_head`]). A store without the key is format 1 (its notes in the big-endian
/// layout of [`legacy_note`]). Older formats are migrated at open.
pub(crate) const STORE_FORMAT: u32 = 3;

/// Reads a `revoked` value of store format 1: code length (u8), code, `by` (32 bytes, zero
/// for none), text length (u32 big endian), text, then the record's bytes. That format's
/// writer put only UTF-8 there (a `&'static str` code, a rendered error), so bytes that are
/// not UTF-8 are corruption, not something to repair by guessing.
fn legacy_note(value: &[u8]) -> Option<(RevocationNote, &[u8])> {
    let (&code_len, rest) = value.split_first()?;
    let (code, rest) = rest.split_at_checked(usize::from(code_len))?;
    let (by, rest) = rest.split_at_checked(ID_BYTES)?;
    let (text_len, rest) = rest.split_first_chunk::<4>()?;
    let text_len = usize::try_from(u32::from_be_bytes(*text_len)).ok()?;
    let (text, bytes) = rest.split_at_checked(text_len)?;
    let by = Digest(by.try_into().ok()?);
    let note = RevocationNote::Legacy {
        code: std::str::from_utf8(code).ok()?.to_owned(),
        by: (by != RecordId::ZERO).then_some(by),
        text: std::str::from_utf8(text).ok()?.to_owned(),
    };
    Some((note, bytes))
}

/// A `heads` value of store formats 1 and 2: seq (`u64` big endian), then the record id.
fn format2_head(value: &[u8]) -> Option<Head> {
    let (seq, id) = value.split_first_chunk::<SEQ_BYTES>()?;
    let id: [u8; ID_BYTES] = id.try_into().ok()?;
    Some(Head {
        seq: u64::from_be_bytes(*seq),
        id: Digest(id),
    })
}

/// The `record_count` value of store formats 1 and 2: a `u64` big endian.
fn format2_count(value: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(value.try_into().ok()?))
}

impl StoreReader {
    /// Brings a store of an older format to [`STORE_FORMAT`] at open (a reader's open too, as
    /// it repairs what a crash left), before anything reads a head: the notes of format 1
    /// become legacy notes, the heads and record count of formats 1 and 2 are rewritten
    /// little endian, all of them and the format key in one transaction, so a crash leaves
    /// either format whole. Refuses a store of a newer format, whose values this code would
    /// misread.
    pub(crate) fn migrate_store_format(&self) -> Result<(), StoreError> {
        let format = match self.inner.meta.get(META_STORE_FORMAT)? {
            Some(value) => u32::from_bytes(&value).map_err(|error| {
                StoreError::Corrupt(format!("the store format key does not parse: {error}"))
            })?,
            None => 1,
        };
        if format == STORE_FORMAT {
            return Ok(());
        }
        if format > STORE_FORMAT {
            return Err(StoreError::Corrupt(format!(
                "the store is of format {format}, written by a newer version of aidledger; \
                 this version reads format {STORE_FORMAT} and older"
            )));
        }
        let mut migrated = Vec::new();
        if format < 2 {
            for entry in self.inner.revoked.iter() {
                let (key, value) = entry?;
                let (note, bytes) = legacy_note(&value).ok_or_else(|| {
                    StoreError::Corrupt(
                        "a revoked record entry of store format 1 does not parse".into(),
                    )
                })?;
                migrated.push((key, note.encode(bytes)));
            }
        }
        // format < 3 here: heads and the record count are big endian.
        let mut migrated_heads = Vec::new();
        for entry in self.inner.heads.iter() {
            let (author, value) = entry?;
            let head = format2_head(&value).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the head of {} of store format {format} does not parse",
                    String::from_utf8_lossy(&author)
                ))
            })?;
            migrated_heads.push((author, head_bytes(head)));
        }
        let record_count = match self.inner.meta.get(META_RECORD_COUNT)? {
            Some(value) => Some(format2_count(&value).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the record count of store format {format} does not parse"
                ))
            })?),
            None => None,
        };
        let trees = (&self.inner.revoked, &self.inner.heads, &self.inner.meta);
        let outcome = trees.transaction(|(revoked, heads, meta)| {
            for (key, value) in &migrated {
                revoked.insert(key, value.as_slice())?;
            }
            for (author, value) in &migrated_heads {
                heads.insert(author, value.as_slice())?;
            }
            if let Some(count) = record_count {
                meta.insert(META_RECORD_COUNT, count_bytes(count))?;
            }
            meta.insert(META_STORE_FORMAT, STORE_FORMAT.to_bytes())?;
            Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
        });
        outcome.map_err(|error| match error {
            TransactionError::Abort(()) => StoreError::Corrupt("migrating the store".into()),
            TransactionError::Storage(error) => error.into(),
        })?;
        self.flush_durable()
    }
}
