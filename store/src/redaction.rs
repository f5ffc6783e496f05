//! Forgetting bodies (FORMAT.md §27 and "Store formats"): a redaction order in force makes the
//! store keep a record as its withheld envelope (header ‖ signature), remember which order
//! covers it in `redacted`, and leave the explorer index to be built again without it.
//!
//! What stays: the record's id, its place in the chain, its Merkle leaf and its signature, so
//! every proof and every verifier still accepts the chain. What goes: the body bytes, from the
//! `records` tree at once and from sled's files at the next open ([`crate::compact`]), and the
//! index entries made from them (the index is cleared and the index follower builds it again,
//! chain by chain, without blocking appends: `store::follow`).
//!
//! An order can name a record the store does not hold yet (an admins' order about a chain
//! still syncing): `redacted` remembers it, and an append of that record keeps it withheld
//! (a lagging peer's copy of the body is dropped on arrival, `store::append`).

use std::sync::atomic::Ordering;

use aidledger_spec::codec::{Codec, DecodeError, Reader};
use aidledger_spec::redaction::{RedactedRecord, RedactionCategory};
use aidledger_spec::signed::record_id_of_bytes;
use aidledger_spec::withheld::{is_withheld, withhold};
use aidledger_spec::RecordId;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use crate::keys::{
    chain_key, count_bytes, index_behind_key, index_generation, index_tree_name, parse_chain_key,
    META_COMPACTION_DUE, META_INDEX_GENERATION,
};
use crate::limits::REDACT_GROUP_RECORDS;
use crate::reader::StoreReader;
use crate::{Store, StoreError};

/// The order that covers a redacted record, as `redacted` keeps it: the order's record id (a
/// `redaction` record, or the admins' `redact` proposal), its category, who made it and the
/// time the order's record claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedactionMark {
    /// The order's record id.
    pub order: RecordId,
    /// Why.
    pub category: RedactionCategory,
    /// Whether the admins ordered it (a `redact` proposal) rather than the record's author.
    pub by_admins: bool,
    /// The order record's `timestamp_ms`.
    pub ordered_at_ms: u64,
}

/// `redacted`'s value: order id (32 bytes), category (`u32`, its wire number), by admins
/// (`u8`, 0 or 1), ordered at (`u64`); FORMAT.md "Store formats".
impl Codec for RedactionMark {
    fn write(&self, out: &mut Vec<u8>) {
        self.order.0.write(out);
        let category = RedactionCategory::ALL
            .iter()
            .position(|known| *known == self.category)
            .unwrap_or_default() as u32;
        category.write(out);
        out.push(u8::from(self.by_admins));
        self.ordered_at_ms.write(out);
    }

    fn read(reader: &mut Reader<'_>) -> Result<RedactionMark, DecodeError> {
        let order = aidledger_spec::Digest(reader.array("a redaction's order")?);
        let index = reader.u32("a redaction's category")?;
        let category = RedactionCategory::ALL.get(index as usize).copied().ok_or(
            DecodeError::UnknownVariant {
                what: "a redaction category",
                index,
            },
        )?;
        let by_admins = match reader.array::<1>("a redaction's author flag")? {
            [0] => false,
            [1] => true,
            [other] => {
                return Err(DecodeError::Malformed(format!(
                    "a redaction's author flag is {other}, not 0 or 1"
                )))
            }
        };
        let ordered_at_ms = reader.u64("a redaction's time")?;
        Ok(RedactionMark {
            order,
            category,
            by_admins,
            ordered_at_ms,
        })
    }
}

/// Whether the record in `bytes` is of a kind whose body may be withheld (FORMAT.md §6.1),
/// read from its header.
fn redactable(bytes: &[u8]) -> bool {
    aidledger_spec::signed::peek_body_kind(bytes)
        .and_then(aidledger_spec::BodyKind::from_wire)
        .is_some_and(aidledger_spec::BodyKind::is_redactable)
}

/// A record of a chain held withheld, and the order that covers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedactedInChain {
    /// Its position.
    pub seq: u64,
    /// Its id.
    pub id: RecordId,
    /// The body kind its header states.
    pub body_kind: u16,
    /// The order.
    pub mark: RedactionMark,
}

/// The prefix of every `records` key of `author`'s chain.
fn chain_prefix(author: &str) -> Option<Vec<u8>> {
    Some(
        aidledger_spec::sortkey::SortKey::new()
            .short_str(author)
            .ok()?
            .into_bytes(),
    )
}

/// What one order did to the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Redacted {
    /// Records whose bodies were forgotten now.
    pub withheld_now: u64,
    /// Records already withheld.
    pub already: u64,
    /// Records the store does not hold (yet): kept withheld when they arrive.
    pub awaited: u64,
}

/// `redacted`'s key: the record's `records` key (author, seq), then its id; `None` for an
/// author over the key's bound.
pub(crate) fn redacted_key(author: &str, seq: u64, id: &RecordId) -> Option<Vec<u8>> {
    let mut key = chain_key(author, seq)?;
    key.extend_from_slice(&id.0);
    Some(key)
}

impl StoreReader {
    /// The order that covers record `id`, if its body is (to be) withheld.
    pub fn redaction(&self, id: &RecordId) -> Result<Option<RedactionMark>, StoreError> {
        let Some((author, seq)) = self.position(id)? else {
            return Ok(None);
        };
        let Some(key) = redacted_key(&author, seq, id) else {
            return Ok(None);
        };
        match self.inner.redacted.get(key)? {
            Some(value) => Ok(Some(RedactionMark::from_bytes(&value).map_err(
                |error| StoreError::Corrupt(format!("a redaction mark: {error}")),
            )?)),
            None => Ok(None),
        }
    }

    /// The records of `author`'s chain held withheld under an order, by seq: what money views
    /// count as "plus N redacted" (bounded by the orders: each names at most 16,384 records).
    pub fn redacted_in_chain(&self, author: &str) -> Result<Vec<RedactedInChain>, StoreError> {
        let Some(prefix) = chain_prefix(author) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in self.inner.redacted.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let Some(split) = key.len().checked_sub(32) else {
                return Err(StoreError::Corrupt("a redaction key is too short".into()));
            };
            let (_, seq) = parse_chain_key(&key[..split])?;
            let id =
                aidledger_spec::Digest(key[split..].try_into().map_err(|_| {
                    StoreError::Corrupt("a redaction key's id is not 32 bytes".into())
                })?);
            let Some(bytes) = self.record_at(author, seq)? else {
                continue;
            };
            if !is_withheld(&bytes) || record_id_of_bytes(&bytes).ok() != Some(id) {
                continue;
            }
            let mark = RedactionMark::from_bytes(&value)
                .map_err(|error| StoreError::Corrupt(format!("a redaction mark: {error}")))?;
            found.push(RedactedInChain {
                seq,
                id,
                body_kind: aidledger_spec::signed::peek_body_kind(&bytes).unwrap_or(u16::MAX),
                mark,
            });
        }
        Ok(found)
    }

    /// How many records orders named (withheld now, or awaited).
    pub fn redacted_count(&self) -> u64 {
        self.inner.redacted.len() as u64
    }

    /// Where the chains' redaction orders (kind 9) are: (author, seq), by author then seq.
    pub fn order_positions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut positions = Vec::new();
        for entry in self.inner.orders.iter() {
            let (key, _) = entry?;
            let (author, seq) = parse_chain_key(&key)?;
            positions.push((author, seq));
        }
        Ok(positions)
    }

    /// Whether sled's files may still hold bytes of forgotten bodies: a redaction happened
    /// since the last compaction ([`crate::compact`] runs at the next open of a node's store).
    pub fn compaction_due(&self) -> Result<bool, StoreError> {
        Ok(self.inner.meta.contains_key(META_COMPACTION_DUE)?)
    }
}

impl Store {
    /// Applies an order: `author`'s records in `records` are kept withheld from now on, with
    /// `mark`. Works in transactions of [`REDACT_GROUP_RECORDS`] records, each under the lock
    /// of appends (so an append waits for one group at most, never for the whole order), and
    /// is idempotent: the node applies every order again at its start. A named position that
    /// holds another record is left alone (the order names nothing there; verifiers report
    /// it). The index still holds what a forgotten body said until [`Store::index_again`]
    /// clears it: the node calls that first, when [`Store::holds_whole`] says an order will
    /// forget something.
    pub fn redact(
        &self,
        author: &str,
        records: &[RedactedRecord],
        mark: &RedactionMark,
    ) -> Result<Redacted, StoreError> {
        let mut outcome = Redacted::default();
        let mark_bytes = mark.to_bytes();
        // Before any mark is written: appends look marks up only once this is set.
        self.inner.redactions_known.store(true, Ordering::SeqCst);
        for group in records.chunks(REDACT_GROUP_RECORDS) {
            let done = {
                let _chain_writer = self.lock_chains()?;
                self.redact_group(author, group, &mark_bytes)?
            };
            outcome.withheld_now += done.withheld_now;
            outcome.already += done.already;
            outcome.awaited += done.awaited;
            // Each group made durable on its own, outside the lock: an append's own flush
            // then never carries more than one group's rewrites (BENCHMARKS.md, issue 23).
            if done.withheld_now > 0 {
                self.make_durable()?;
            }
        }
        self.inner
            .redactions_known
            .store(!self.inner.redacted.is_empty(), Ordering::SeqCst);
        Ok(outcome)
    }

    /// Whether an order would forget a body now: one of `records` is held whole at its
    /// position, and may be withheld. The node then clears the index first ([`Store::index_again`]), so that no
    /// reader finds a forgotten record's words in the index once its body is gone.
    pub fn holds_whole(
        &self,
        author: &str,
        records: &[RedactedRecord],
    ) -> Result<bool, StoreError> {
        for named in records {
            if let Some(bytes) = self.record_at(author, named.seq)? {
                if !is_withheld(&bytes)
                    && record_id_of_bytes(&bytes).ok() == Some(named.id)
                    && redactable(&bytes)
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn redact_group(
        &self,
        author: &str,
        group: &[RedactedRecord],
        mark_bytes: &[u8],
    ) -> Result<Redacted, StoreError> {
        let trees = (
            &self.inner.records,
            &self.inner.redacted,
            &self.inner.meta,
            &self.inner.pending,
        );
        let result = trees.transaction(|(records, redacted, meta, pending)| {
            let mut outcome = Redacted::default();
            for named in group {
                let (Some(key), Some(mark_key)) = (
                    chain_key(author, named.seq),
                    redacted_key(author, named.seq, &named.id),
                ) else {
                    continue;
                };
                // A copy held ahead of a gap goes: it comes again, withheld, in its place.
                // (`pending` keys are the same: `records` key, then the id.)
                pending.remove(mark_key.as_slice())?;
                let Some(bytes) = records.get(&key)? else {
                    // Not here yet: the record is kept withheld when it arrives, if it is
                    // this one (its author, its seq, its id).
                    if redacted.get(&mark_key)?.is_none() {
                        redacted.insert(mark_key, mark_bytes)?;
                    }
                    outcome.awaited += 1;
                    continue;
                };
                if record_id_of_bytes(&bytes).ok() != Some(named.id) || !redactable(&bytes) {
                    // The position holds another record, or one whose body may never be
                    // withheld (a governance record, an order: rule 25): nothing to do here.
                    continue;
                }
                // The first order applied stays the record's (the admins' come first).
                if redacted.get(&mark_key)?.is_none() {
                    redacted.insert(mark_key, mark_bytes)?;
                }
                if is_withheld(&bytes) {
                    outcome.already += 1;
                    continue;
                }
                let withheld = withhold(bytes.to_vec()).map_err(|error| {
                    ConflictableTransactionError::Abort(StoreError::Corrupt(format!(
                        "a stored record: {error}"
                    )))
                })?;
                records.insert(key, withheld)?;
                outcome.withheld_now += 1;
            }
            if outcome.withheld_now > 0 {
                meta.insert(META_COMPACTION_DUE, &[][..])?;
            }
            Ok(outcome)
        });
        result.map_err(|error| match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(error) => error.into(),
        })
    }

    /// Starts the index again: a fresh, empty tree of the next generation becomes the index,
    /// and every chain is marked behind from its first record, so that the index follower
    /// builds it from the chains as they now stand (withheld records have no body to index).
    /// Under the lock of appends, and quick whatever the index's size: the marks and the
    /// generation are one `meta` batch, written before the tree is swapped in; a crash before
    /// the batch leaves the old generation in force (the fresh tree, unnamed, is emptied when
    /// a later redaction takes its name). The old tree is no longer read or written; readers
    /// that took it before the swap finish with it, and the compaction of the next start
    /// leaves it out (`store::compact`), so its words leave the disk with the bodies'.
    pub fn index_again(&self) -> Result<(), StoreError> {
        let _chain_writer = self.lock_chains()?;
        let _rebuild = self.lock_index_rebuild();
        let generation = index_generation(&self.inner.meta)? + 1;
        let name = index_tree_name(self.append_index.tree_name(), generation);
        let fresh = self.inner.db.open_tree(name)?;
        fresh.clear()?;
        self.append_index.mark_current(&fresh)?;
        let mut meta = sled::Batch::default();
        for entry in self.inner.heads.iter() {
            let (author, _) = entry?;
            let author = std::str::from_utf8(&author)
                .map_err(|_| StoreError::Corrupt("a head's author is not UTF-8".into()))?;
            meta.insert(index_behind_key(author), count_bytes(0));
        }
        meta.insert(META_INDEX_GENERATION, count_bytes(generation));
        self.inner.meta.apply_batch(meta)?;
        self.replace_index_tree(fresh);
        Ok(())
    }
}
