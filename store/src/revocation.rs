//! Revocations: the only way records leave a chain. When the network's governance revokes a
//! key or removes a member from a position on, the records from there on move in one
//! transaction to `revoked` (kept as evidence, still readable by id), and the head goes back so
//! that the organisation can continue its chain at that position. Records the authority
//! refuses for good before they entered a chain are held there too.

use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{RecordId, Rejection, RuleCheckedRecord};
use sled::transaction::{TransactionError, Transactional};

use crate::append::abort;
use crate::keys::{
    chain_key, head_bytes, parse_chain_key, parse_u64, peek_kind, position_key, record_id,
    ID_BYTES, META_RECORD_COUNT,
};
use crate::{AppendError, Head, Store, StoreError, StoreReader};

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
            let record = SignedRecord::parse(bytes.to_vec())
                .map_err(|error| StoreError::Corrupt(format!("a stored record: {error}")))?;
            moved.push((key.to_vec(), record.id, bytes.to_vec()));
        }
        if moved.is_empty() {
            return Ok(Vec::new());
        }
        let new_head = match from_seq.checked_sub(1) {
            Some(seq) => {
                let bytes = self.record_at(author, seq)?.ok_or_else(|| {
                    StoreError::Corrupt(format!("{author}'s chain has no record at seq {seq}"))
                })?;
                let record = SignedRecord::parse(bytes)
                    .map_err(|error| StoreError::Corrupt(format!("a stored record: {error}")))?;
                Some(Head { seq, id: record.id })
            }
            None => None,
        };
        let note = RevocationNote::of(reason);
        let trees = (
            &self.inner.records,
            &self.inner.index,
            &self.inner.heads,
            &self.inner.meta,
            &self.inner.governance,
            &self.inner.revoked,
            &self.inner.revoked_index,
        );
        let outcome = trees.transaction(
            |(records, index, heads, meta, governance, revoked, revoked_index)| {
                for (key, id, bytes) in &moved {
                    records.remove(key.as_slice())?;
                    index.remove(&id.0[..])?;
                    governance.remove(key.as_slice())?;
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
                meta.insert(META_RECORD_COUNT, &count.to_be_bytes())?;
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
        let indexed = moved.iter().any(|(_, _, bytes)| {
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
        let (note, bytes) = RevocationNote::decode(value).ok_or_else(corrupt)?;
        Ok(RevokedRecord {
            author,
            seq,
            id,
            code: note.code,
            reason: note.reason,
            by: note.by,
            bytes: bytes.to_vec(),
        })
    }
}

/// Why records were revoked, as stored before their bytes in a `revoked` value: code length
/// (u8), code, `by` (32 bytes, zero for none), reason length (u32), reason.
struct RevocationNote {
    code: String,
    reason: String,
    by: Option<RecordId>,
}

impl RevocationNote {
    fn of(rejection: &Rejection) -> RevocationNote {
        let by = match rejection {
            Rejection::KeyRevoked { by, .. }
            | Rejection::MemberRemoved { by, .. }
            | Rejection::KeyRotatedOut { by, .. } => Some(*by),
            _ => None,
        };
        RevocationNote {
            code: rejection.code().to_owned(),
            reason: rejection.to_string(),
            by,
        }
    }

    fn encode(&self, bytes: &[u8]) -> Vec<u8> {
        // Codes are short kebab-case names; reasons are one line. Both fit their prefixes.
        let code = &self.code.as_bytes()[..self.code.len().min(usize::from(u8::MAX))];
        let reason = self.reason.as_bytes();
        let reason = &reason[..reason.len().min(u32::MAX as usize)];
        let mut value =
            Vec::with_capacity(1 + code.len() + ID_BYTES + 4 + reason.len() + bytes.len());
        value.push(code.len() as u8);
        value.extend_from_slice(code);
        value.extend_from_slice(&self.by.unwrap_or(RecordId::ZERO).0);
        value.extend_from_slice(&(reason.len() as u32).to_be_bytes());
        value.extend_from_slice(reason);
        value.extend_from_slice(bytes);
        value
    }

    fn decode(value: &[u8]) -> Option<(RevocationNote, &[u8])> {
        let (&code_len, rest) = value.split_first()?;
        let (code, rest) = rest.split_at_checked(usize::from(code_len))?;
        let (by, rest) = rest.split_at_checked(ID_BYTES)?;
        let (reason_len, rest) = rest.split_first_chunk::<4>()?;
        let (reason, bytes) = rest.split_at_checked(u32::from_be_bytes(*reason_len) as usize)?;
        let by = aidledger_spec::Digest(by.try_into().ok()?);
        let note = RevocationNote {
            code: String::from_utf8_lossy(code).into_owned(),
            reason: String::from_utf8_lossy(reason).into_owned(),
            by: (by != RecordId::ZERO).then_some(by),
        };
        Some((note, bytes))
    }
}
