//! Revocations: the only way records leave a chain. When the network's governance revokes a
//! key or removes a member from a position on, the records from there on move in one
//! transaction to `revoked` (kept as evidence, still readable by id), and the head goes back so
//! that the organisation can continue its chain at that position. Records the authority
//! refuses for good before they entered a chain are held there too.

use aidledger_spec::codec::{write_bytes, write_variant, Codec, DecodeError, Reader};
use aidledger_spec::limits::RECORD_SIZE_BYTES_MAX;
use aidledger_spec::signed::record_id_of_bytes;
use aidledger_spec::{Digest, RecordId, Rejection, RuleCheckedRecord};
use sled::transaction::{TransactionError, Transactional};

use crate::append::abort;
use crate::keys::{
    chain_key, count_bytes, head_bytes, parse_chain_key, parse_u64, peek_kind, position_key,
    record_id, ID_BYTES, META_RECORD_COUNT,
};
use crate::{AppendError, Store, StoreError, StoreReader};

impl StoreReader {
    /// A revoked record by id: its bytes and why it left its chain. `None` for a record that
    /// is in a chain or not stored.
    pub fn revocation(&self, id: &RecordId) -> Result<Option<RevokedRecord>, StoreError> {
        let Some(key) = self.inner.revoked_index.get(id.0)? else {
            return Ok(None);
        };
        let value = self.inner.revoked.get(&key)?.ok_or_else(|| {
            StoreError::Corrupt(format!("the revoked index names {id}, which is not stored"))
        })?;
        RevokedRecord::decode(&key, &value).map(Some)
    }

    /// Every record held as revoked, in `revoked` key order (chain by chain, seq, id).
    pub fn revoked_records(
        &self,
    ) -> impl Iterator<Item = Result<RevokedRecord, StoreError>> + Send + 'static {
        self.inner.revoked.iter().map(|entry| {
            let (key, value) = entry?;
            RevokedRecord::decode(&key, &value)
        })
    }

    /// How many records are held as revoked.
    pub fn revoked_count(&self) -> u64 {
        self.inner.revoked.len() as u64
    }
}

impl Store {
    /// Keeps a record that the authority refuses for good (it never entered a chain here) in the
    /// `revoked` tree as evidence, readable by id; returns false when the store already holds
    /// it (in a chain or as revoked). Durable after [`Store::make_durable`].
    pub fn hold_revoked(
        &self,
        record: &RuleCheckedRecord,
        reason: &Rejection,
    ) -> Result<bool, StoreError> {
        let id = record.id();
        // Without the chain-writer lock: an index entry an append wrote ahead makes this answer
        // "already held" for a record the append is storing; if that append then fails, the
        // record is neither in the chain nor held as revoked, and a peer offers it again.
        if self.inner.index.contains_key(id.0)? || self.inner.revoked_index.contains_key(id.0)? {
            return Ok(false);
        }
        let header = record.header();
        let Some(key) = position_key(&header.author, header.seq, &[&id]) else {
            return Ok(false);
        };
        let value = RevocationNote::of(reason).encode(record.bytes());
        let trees = (&self.inner.revoked, &self.inner.revoked_index);
        let outcome = trees.transaction(|(revoked, revoked_index)| {
            revoked.insert(key.as_slice(), value.as_slice())?;
            revoked_index.insert(&id.0[..], key.as_slice())?;
            Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
        });
        outcome.map_err(|error| match error {
            TransactionError::Abort(()) => StoreError::Corrupt("holding a revoked record".into()),
            TransactionError::Storage(error) => error.into(),
        })?;
        self.note_change();
        Ok(true)
    }

    /// Moves every record of `author`'s chain at `from_seq` or later out of the chain into the
    /// `revoked` tree, with `reason` (the rule the governance state now applies to the first of
    /// them), and sets the head back to `from_seq - 1`. One transaction: the chain, the id
    /// index, the head, the record count and the governance index change together. Then the
    /// pending records of the chain from `from_seq` on and the equivocation proofs that name a
    /// moved record are dropped, and the append index is rebuilt if a moved record can be in it.
    /// Returns the ids moved, in seq order. Durable after [`Store::make_durable`].
    pub fn revoke_from(
        &self,
        author: &str,
        from_seq: u64,
        reason: &Rejection,
    ) -> Result<Vec<RecordId>, StoreError> {
        let _chain_writer = self.lock_chains()?;
        // Only up to the head: nothing above it is part of the chain (see the module doc). With
        // the lock taken nothing is above a head, so this bound is a safeguard.
        let Some(head) = self.head(author)?.filter(|head| from_seq <= head.seq) else {
            return Ok(Vec::new());
        };
        let (Some(start), Some(end)) = (chain_key(author, from_seq), chain_key(author, head.seq))
        else {
            return Ok(Vec::new());
        };
        let mut moved: Vec<(Vec<u8>, RecordId, Vec<u8>)> = Vec::new();
        for entry in self.inner.records.range(start..=end) {
            let (key, bytes) = entry?;
            // From the header alone: a record may be withheld (redacted).
            let id = record_id_of_bytes(&bytes)
                .map_err(|error| StoreError::Corrupt(format!("a stored record: {error}")))?;
            moved.push((key.to_vec(), id, bytes.to_vec()));
        }
        if moved.is_empty() {
            return Ok(Vec::new());
        }
        let new_head = self.head_before(author, from_seq)?;
        let note = RevocationNote::of(reason);
        // The tree of the chain as it stands is kept, under a new epoch (FORMAT.md §22.5).
        let revoked: Vec<RecordId> = moved.iter().map(|(_, id, _)| *id).collect();
        let rewind = self.plan_rewind(
            author,
            (from_seq, head.seq + 1),
            &revoked,
            new_head,
            governance_record(reason),
        )?;
        let trees = (
            &self.inner.records,
            &self.inner.index,
            &self.inner.heads,
            &self.inner.meta,
            &self.inner.governance,
            &self.inner.revoked,
            &self.inner.revoked_index,
            &self.inner.merkle,
            &self.inner.merkle_rewinds,
            &self.inner.merkle_rewound,
            &self.inner.orders,
        );
        let outcome = trees.transaction(
            |(
                records,
                index,
                heads,
                meta,
                governance,
                revoked,
                revoked_index,
                merkle,
                merkle_rewinds,
                merkle_rewound,
                orders,
            )| {
                rewind.apply(merkle, merkle_rewinds, merkle_rewound)?;
                for (key, id, bytes) in &moved {
                    records.remove(key.as_slice())?;
                    index.remove(&id.0[..])?;
                    governance.remove(key.as_slice())?;
                    // A revoked order orders nothing more; what it withheld stays withheld
                    // (the bytes are gone), and verifiers report those records (§27).
                    orders.remove(key.as_slice())?;
                    let mut revoked_key = key.clone();
                    revoked_key.extend_from_slice(&id.0);
                    revoked.insert(revoked_key.as_slice(), note.encode(bytes))?;
                    revoked_index.insert(&id.0[..], revoked_key)?;
                }
                match new_head {
                    Some(head) => {
                        heads.insert(author.as_bytes(), &head_bytes(head)[..])?;
                    }
                    None => {
                        heads.remove(author.as_bytes())?;
                    }
                }
                let count = match meta.get(META_RECORD_COUNT)? {
                    Some(value) => parse_u64(&value, "the record count").map_err(abort)?,
                    None => 0,
                };
                let count = count.saturating_sub(moved.len() as u64);
                meta.insert(META_RECORD_COUNT, count_bytes(count))?;
                Ok(())
            },
        );
        outcome.map_err(|error| match error {
            TransactionError::Abort(AppendError::Store(error)) => error,
            TransactionError::Abort(error) => StoreError::Corrupt(error.to_string()),
            TransactionError::Storage(error) => {
                // sled failed, perhaps while applying the transaction: whether the head went
                // back is unknown until sled recovers at the next open, so nothing may be
                // written at those positions before then, and scans must read the heads again.
                self.stop();
                self.inner.rewinds.count();
                error.into()
            }
        })?;
        // Before the lock is released, so before any append can write ahead at the positions
        // this revocation freed.
        self.inner.rewinds.count();
        self.note_freed(author, from_seq);
        let ids: Vec<RecordId> = moved.iter().map(|(_, id, _)| *id).collect();
        self.drop_pending_from(author, from_seq)?;
        self.drop_proofs_naming(author, from_seq, &ids)?;
        // A chain whose index is behind may have its mark above the new head: the rebuild
        // indexes what is left and removes the mark.
        let indexed = self.is_index_behind(author)?
            || moved.iter().any(|(_, _, bytes)| {
                peek_kind(bytes).is_some_and(|kind| self.append_index.indexes(kind))
            });
        if indexed {
            self.rebuild_index()?;
        }
        Ok(ids)
    }
}

/// A record the network's governance took out of its chain, kept as evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedRecord {
    /// The author.
    pub author: String,
    /// The position it held.
    pub seq: u64,
    /// The record id.
    pub id: RecordId,
    /// The rule's code (`key-revoked`, `member-removed`, … as `Rejection::code`), for the
    /// first record moved; the records after it moved with it.
    pub code: String,
    /// Why, for people.
    pub reason: String,
    /// The governance record that made it invalid (the revoking or removing proposal), if the
    /// rule names one.
    pub by: Option<RecordId>,
    /// The rejection itself; `None` for a record revoked before store format 2, whose note
    /// kept only the code, `by` and the text.
    pub rejection: Option<Rejection>,
    /// The wire bytes.
    pub bytes: Vec<u8>,
}

impl RevokedRecord {
    /// Reads a `revoked` entry: key (`records` key, id), value ([`RevocationNote`], bytes).
    fn decode(key: &[u8], value: &[u8]) -> Result<RevokedRecord, StoreError> {
        let corrupt = || StoreError::Corrupt("a revoked record entry does not parse".into());
        let id_at = key.len().checked_sub(ID_BYTES).ok_or_else(corrupt)?;
        let (author, seq) = parse_chain_key(&key[..id_at])?;
        let id = record_id(&key[id_at..])?;
        let (note, bytes) = RevocationNote::decode(value).map_err(|error| {
            StoreError::Corrupt(format!("a revoked record entry does not parse: {error}"))
        })?;
        let (code, reason, by, rejection) = match note {
            RevocationNote::Typed(rejection) => (
                rejection.code().to_owned(),
                rejection.to_string(),
                governance_record(&rejection),
                Some(rejection),
            ),
            RevocationNote::Legacy { code, by, text } => (code, text, by, None),
        };
        Ok(RevokedRecord {
            author,
            seq,
            id,
            code,
            reason,
            by,
            rejection,
            bytes,
        })
    }
}

/// The governance record a rejection names as the one that made the record invalid.
fn governance_record(rejection: &Rejection) -> Option<RecordId> {
    match rejection {
        Rejection::KeyRevoked { by, .. }
        | Rejection::MemberRemoved { by, .. }
        | Rejection::KeyRotatedOut { by, .. } => Some(*by),
        _ => None,
    }
}

/// Longest code a format 1 note could hold (its length was one byte).
const LEGACY_CODE_BYTES_MAX: usize = u8::MAX as usize;
/// Longest text a format 1 note could hold (its length was a `u32`). The reader checks a
/// length against the bytes present before taking them, so this bound reserves nothing.
const LEGACY_TEXT_BYTES_MAX: usize = u32::MAX as usize;

/// Why records were revoked, stored before their bytes in a `revoked` value (FORMAT.md,
/// "Store formats"): a `u32` variant tag, its fields, then the record's wire bytes as a byte
/// string, in the layout of §2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RevocationNote {
    /// A note of store format 1, migrated: all that format kept (the rule's code, the
    /// governance record it names, the rejection's text for people).
    Legacy {
        code: String,
        by: Option<RecordId>,
        text: String,
    },
    /// The rejection the revocation applied: what every revocation writes.
    Typed(Rejection),
}

mod variant {
    pub const LEGACY: u32 = 0;
    pub const TYPED: u32 = 1;
}

impl RevocationNote {
    /// The note of a revocation for `rejection`: typed, unless a text of the rejection is over
    /// the bound its decoder checks (no verifier makes one: each quotes at most one record),
    /// which would make the note unreadable; then the legacy note keeps its code, `by` and
    /// whole text rather than cutting a field.
    fn of(rejection: &Rejection) -> RevocationNote {
        if Rejection::from_bytes(&rejection.to_bytes()).as_ref() == Ok(rejection) {
            return RevocationNote::Typed(rejection.clone());
        }
        RevocationNote::Legacy {
            code: rejection.code().to_owned(),
            by: governance_record(rejection),
            text: rejection.to_string(),
        }
    }

    /// The `revoked` value: the note, then the record's bytes.
    pub(crate) fn encode(&self, bytes: &[u8]) -> Vec<u8> {
        let mut value = self.to_bytes();
        write_bytes(&mut value, bytes);
        value
    }

    /// Reads a `revoked` value: the note and the record's bytes, nothing after them.
    fn decode(value: &[u8]) -> Result<(RevocationNote, Vec<u8>), DecodeError> {
        let mut reader = Reader::new(value);
        let note = RevocationNote::read(&mut reader)?;
        let bytes = reader
            .bytes::<RECORD_SIZE_BYTES_MAX>("a revoked record's bytes")?
            .to_vec();
        reader.finish()?;
        Ok((note, bytes))
    }
}

impl Codec for RevocationNote {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            RevocationNote::Legacy { code, by, text } => {
                write_variant(out, variant::LEGACY);
                write_bytes(out, code.as_bytes());
                // An Option of §2: a tag byte, then the value if there is one.
                match by {
                    Some(by) => {
                        out.push(1);
                        by.0.write(out);
                    }
                    None => out.push(0),
                }
                write_bytes(out, text.as_bytes());
            }
            RevocationNote::Typed(rejection) => {
                write_variant(out, variant::TYPED);
                rejection.write(out);
            }
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<RevocationNote, DecodeError> {
        match reader.variant("a revocation note")? {
            variant::LEGACY => {
                let code = reader
                    .text::<LEGACY_CODE_BYTES_MAX>("a legacy note's code")?
                    .to_owned();
                let by = match reader.array::<1>("a legacy note's by tag")? {
                    [0] => None,
                    [1] => Some(Digest(reader.array("a legacy note's by")?)),
                    [tag] => {
                        return Err(DecodeError::Malformed(format!(
                            "a legacy note's by has Option tag {tag}"
                        )))
                    }
                };
                let text = reader
                    .text::<LEGACY_TEXT_BYTES_MAX>("a legacy note's text")?
                    .to_owned();
                Ok(RevocationNote::Legacy { code, by, text })
            }
            variant::TYPED => Ok(RevocationNote::Typed(Rejection::read(reader)?)),
            index => Err(DecodeError::UnknownVariant {
                what: "a revocation note",
                index,
            }),
        }
    }
}
