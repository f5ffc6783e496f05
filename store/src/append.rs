//! Appends: each record must extend its author's head. The records of chains that already
//! have a head are written ahead of the transaction that moves the heads (see the crate doc
//! for why and what a crash leaves), and the append index is written inside it.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use aidledger_spec::withheld::{withhold, WithheldRecord};
use aidledger_spec::{BodyKind, RecordHeader, RecordId, VerifiedRecord};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};

use crate::index::IndexTrees;
use crate::keys::{
    chain_key, count_bytes, head_bytes, index_behind_key, parse_head, parse_u64, META_RECORD_COUNT,
};
use crate::merkle_keys::{apply_plan, Plan};
use crate::{AppendError, Head, Store, StoreError};

impl Store {
    /// Appends one record atomically (not yet durable: see [`Store::make_durable`]).
    pub fn append(&self, record: &VerifiedRecord) -> Result<(), AppendError> {
        self.append_group(std::slice::from_ref(record))
    }

    /// Appends records: all of them or none. Each must extend its author's head as it stands
    /// after the records before it in `records`. The heads move in one sled transaction; the
    /// records of chains that have a head are written just before it (see the module doc).
    /// Not yet durable: call [`Store::make_durable`] before acknowledging.
    pub fn append_group(&self, records: &[VerifiedRecord]) -> Result<(), AppendError> {
        self.append_group_with(records, IndexTiming::InTransaction)
    }

    /// Appends records as [`Store::append_group`] does, but leaves their indexing by the
    /// store's [`crate::AppendIndex`] to [`Store::index_deferred`] (see `store::follow`): for
    /// a large group (a range sync's batch, a batch submission), whose index entries would
    /// cost far more than the append itself.
    pub fn append_group_deferring_index(
        &self,
        records: &[VerifiedRecord],
    ) -> Result<(), AppendError> {
        self.append_group_with(records, IndexTiming::Deferred)
    }

    /// Appends a withheld record (FORMAT.md §6.1) from a peer: it must extend its author's
    /// head like any record; it has no body, so nothing of it is indexed.
    pub fn append_withheld(&self, record: &WithheldRecord) -> Result<(), AppendError> {
        self.append_entries(vec![Entry::Withheld(record)], IndexTiming::InTransaction)
    }

    fn append_group_with(
        &self,
        records: &[VerifiedRecord],
        timing: IndexTiming,
    ) -> Result<(), AppendError> {
        self.append_entries(records.iter().map(Entry::Full).collect(), timing)
    }

    fn append_entries(
        &self,
        entries: Vec<Entry<'_>>,
        timing: IndexTiming,
    ) -> Result<(), AppendError> {
        let mut prepared = entries
            .into_iter()
            .map(|record| self.prepare(record))
            .collect::<Result<Vec<_>, _>>()?;
        let chain_writer = self.lock_chains()?;
        if prepared.is_empty() {
            // Nothing to write (a peer's batch held only records stored already); the lock
            // still says whether the store takes appends.
            chain_writer.wrote_nothing();
            return Ok(());
        }
        check_chains(self, &mut prepared)?;
        // Under the lock, which a redaction's groups take too: a mark is written either
        // before this look (and seen) or after the append (and applies to what it stored).
        for entry in &mut prepared {
            if let Entry::Full(record) = entry.record {
                entry.withheld = self.withheld_on_arrival(record)?;
            }
        }
        // The tree's nodes, from the stored records and nodes at or below the heads (stable
        // under the lock) and the group's own.
        let merkle = self.plan_appends(prepared.iter().map(|entry| {
            let header = entry.record.header();
            (header.author.as_str(), header.seq, entry.record.id())
        }))?;
        let error = match self.write_ahead(&prepared) {
            Ok(()) => match self.fault_then_commit_group(&prepared, &merkle, timing) {
                Ok(()) => return Ok(()),
                // Refused inside the transaction: it wrote nothing.
                Err(TransactionError::Abort(error)) => error,
                // sled failed, perhaps while applying the transaction: whether any head moved
                // over the records written ahead is unknown until sled recovers at the next open.
                Err(TransactionError::Storage(error)) => {
                    self.stop();
                    return Err(AppendError::Store(error.into()));
                }
            },
            Err(error) => error,
        };
        if self.remove_written_ahead(&prepared).is_err() {
            // The append's own error is the one to report; the flag stops the appends.
            self.stop();
        }
        // Before the lock is released: a read that saw a record written ahead must not take
        // the record that a later append puts at its position for it (`store::scan`).
        self.inner.rewinds.count();
        Err(error)
    }

    /// Appends a group and makes it durable: what the node does before acknowledging.
    pub fn append_durable(&self, records: &[VerifiedRecord]) -> Result<(), AppendError> {
        self.append_group(records)?;
        Ok(self.make_durable()?)
    }

    fn fault_then_commit_group(
        &self,
        prepared: &[Prepared<'_>],
        merkle: &Plan,
        timing: IndexTiming,
    ) -> Result<(), TransactionError<AppendError>> {
        if let Some(fault) = self.inner.fault_after_write_ahead.get() {
            fault().map_err(|error| TransactionError::Abort(AppendError::Store(error)))?;
        }
        self.commit_group(prepared, merkle, timing)
    }

    /// Writes the records that [`check_chains`] marked, and their index entries.
    ///
    /// Plain inserts, not `sled::Batch`es: applying a batch takes sled's global write lock,
    /// which waits for every flush in progress, so each batch would make the append wait for
    /// the sync thread's flush of the previous group (16 concurrent submitters lost a third of
    /// their throughput that way; BENCHMARKS.md, durable appends). The write-ahead need not be
    /// atomic: whatever part of it a crash leaves lies above the heads and is removed at open.
    fn write_ahead(&self, prepared: &[Prepared<'_>]) -> Result<(), AppendError> {
        for entry in prepared.iter().filter(|entry| entry.written_ahead) {
            // The record first, so that a reader who finds the entry finds the record. After a
            // crash either may be missing (sled keeps a record over its blob threshold in a
            // file of its own, which can be lost on power loss while the small entry written
            // after it survives): reads by id check the bytes' id ([`StoreReader::get`]), and the
            // open removes every record above a head.
            self.inner
                .records
                .insert(entry.key.as_slice(), entry.stored_bytes())
                .map_err(StoreError::from)?;
            self.inner
                .index
                .insert(entry.record.id().0, entry.key.as_slice())
                .map_err(StoreError::from)?;
        }
        Ok(())
    }

    /// Undoes [`Self::write_ahead`] after the transaction failed.
    fn remove_written_ahead(&self, prepared: &[Prepared<'_>]) -> Result<(), StoreError> {
        for entry in prepared.iter().filter(|entry| entry.written_ahead) {
            self.inner.index.remove(entry.record.id().0)?;
            self.inner.records.remove(entry.key.as_slice())?;
        }
        Ok(())
    }

    /// The transaction of [`Self::append_group`]: moves the heads, writes what was not written
    /// ahead, the append index, the governance index, the record count and the Merkle trees'
    /// nodes and tree heads (`merkle`, computed before it). A chain whose index is behind, or
    /// every chain of a group whose indexing is deferred, gets no index entries here but a
    /// deferred-index mark (`store::follow`), in the same transaction.
    fn commit_group(
        &self,
        prepared: &[Prepared<'_>],
        merkle_plan: &Plan,
        timing: IndexTiming,
    ) -> Result<(), TransactionError<AppendError>> {
        let index_tree = self.own_index_tree();
        let trees = (
            &self.inner.records,
            &self.inner.index,
            &self.inner.heads,
            &self.inner.meta,
            &index_tree,
            &self.inner.governance,
            &self.inner.merkle,
            &self.inner.orders,
        );
        trees.transaction(
            |(records, index, heads, meta, index_tree, governance, merkle, orders)| {
                let indexer = self.append_index.group(IndexTrees {
                    own: index_tree,
                    ids: index,
                    records,
                });
                // Per author: whether its records are left to the index follower.
                let mut deferred: HashMap<&str, bool> = HashMap::new();
                for entry in prepared {
                    check_extends(heads, entry)?;
                    if !entry.written_ahead {
                        records.insert(entry.key.as_slice(), entry.stored_bytes())?;
                        index.insert(&entry.record.id().0, entry.key.as_slice())?;
                    }
                    let kind = BodyKind::from_wire(entry.record.header().body_kind);
                    if kind.is_some_and(BodyKind::is_governance) {
                        governance.insert(entry.key.as_slice(), &[][..])?;
                    }
                    if kind == Some(BodyKind::Redaction) {
                        orders.insert(entry.key.as_slice(), &[][..])?;
                    }
                    let author = entry.record.header().author.as_str();
                    let defer = match deferred.get(author) {
                        Some(defer) => *defer,
                        None => {
                            let defer = defer_index(meta, entry, timing)?;
                            deferred.insert(author, defer);
                            defer
                        }
                    };
                    // A withheld record has no body to index (`store::redaction`).
                    if let (false, None, Entry::Full(record)) =
                        (defer, &entry.withheld, entry.record)
                    {
                        indexer.append(record)?;
                    }
                    heads.insert(
                        entry.record.header().author.as_bytes(),
                        &head_value(entry)[..],
                    )?;
                }
                indexer.finish()?;
                apply_plan(merkle_plan, merkle)?;
                let count = match meta.get(META_RECORD_COUNT)? {
                    Some(value) => parse_u64(&value, "the record count").map_err(abort)?,
                    None => 0,
                };
                meta.insert(
                    META_RECORD_COUNT,
                    count_bytes(count + prepared.len() as u64),
                )?;
                Ok(())
            },
        )
    }

    fn prepare<'a>(&self, record: Entry<'a>) -> Result<Prepared<'a>, AppendError> {
        let header = record.header();
        if header.network_id != self.inner.network_id {
            return Err(AppendError::WrongNetwork {
                id: record.id(),
                found: header.network_id,
            });
        }
        let key = chain_key(&header.author, header.seq)
            .ok_or(AppendError::AuthorTooLong { id: record.id() })?;
        Ok(Prepared {
            key,
            record,
            written_ahead: false,
            withheld: None,
        })
    }

    /// The withheld envelope to store instead of `record` when an order in force names it (a
    /// lagging peer's copy of a body the network forgot): the body is dropped on arrival.
    fn withheld_on_arrival(&self, record: &VerifiedRecord) -> Result<Option<Vec<u8>>, AppendError> {
        let header = record.header();
        let key = crate::redaction::redacted_key(&header.author, header.seq, &record.id());
        let named = match key {
            Some(key) if self.inner.redactions_known.load(Ordering::SeqCst) => self
                .inner
                .redacted
                .contains_key(key)
                .map_err(StoreError::from)?,
            _ => false,
        };
        if !named {
            return Ok(None);
        }
        let withheld = withhold(record.bytes().to_vec())
            .map_err(|error| StoreError::Corrupt(format!("a verified record: {error}")))?;
        Ok(Some(withheld))
    }
}

/// When an append's records are indexed by the store's [`crate::AppendIndex`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IndexTiming {
    /// In the append's transaction, unless the chain's index is behind.
    InTransaction,
    /// Later, by [`Store::index_deferred`].
    Deferred,
}

/// Whether the index entries of `entry`'s chain are left to the follower in this append: when
/// the chain is behind already (its records must be indexed in chain order), or when the
/// append defers them, which marks the chain behind from this record on.
fn defer_index(
    meta: &TransactionalTree,
    entry: &Prepared<'_>,
    timing: IndexTiming,
) -> TxResult<bool> {
    let header = entry.record.header();
    let key = index_behind_key(&header.author);
    if meta.get(&key)?.is_some() {
        return Ok(true);
    }
    if timing == IndexTiming::Deferred {
        meta.insert(key, count_bytes(header.seq))?;
        return Ok(true);
    }
    Ok(false)
}

/// A record to append: whole, or withheld (FORMAT.md §6.1).
#[derive(Clone, Copy)]
enum Entry<'a> {
    Full(&'a VerifiedRecord),
    Withheld(&'a WithheldRecord),
}

impl Entry<'_> {
    fn header(&self) -> &RecordHeader {
        match self {
            Entry::Full(record) => record.header(),
            Entry::Withheld(record) => record.header(),
        }
    }

    fn id(&self) -> RecordId {
        match self {
            Entry::Full(record) => record.id(),
            Entry::Withheld(record) => record.id(),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Entry::Full(record) => record.bytes(),
            Entry::Withheld(record) => record.bytes(),
        }
    }
}

/// A record to append with its `records` key.
struct Prepared<'a> {
    key: Vec<u8>,
    record: Entry<'a>,
    /// Whether [`Store::write_ahead`] wrote the record and its index entry.
    written_ahead: bool,
    /// The withheld envelope stored instead of the record, when an order names it.
    withheld: Option<Vec<u8>>,
}

impl Prepared<'_> {
    /// The bytes the `records` tree keeps.
    fn stored_bytes(&self) -> &[u8] {
        self.withheld.as_deref().unwrap_or(self.record.bytes())
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<AppendError>>;

pub(crate) fn abort(error: StoreError) -> ConflictableTransactionError<AppendError> {
    ConflictableTransactionError::Abort(AppendError::Store(error))
}

/// Checks that every record extends its chain as the group leaves it, before anything is
/// written, and marks the records to write ahead of the transaction: those of chains that
/// already have a head. A chain's first group goes through the transaction alone, so that
/// every record written ahead lies above an existing head, where
/// [`StoreReader::drop_records_above_heads`] finds it.
fn check_chains(store: &Store, prepared: &mut [Prepared<'_>]) -> Result<(), AppendError> {
    // Per author: whether it had a head when the group began, and its head so far.
    let mut chains: HashMap<&str, (bool, Option<Head>)> = HashMap::new();
    for entry in prepared.iter_mut() {
        let header = entry.record.header();
        let (had_head, head) = match chains.get(header.author.as_str()) {
            Some(chain) => *chain,
            None => {
                let head = store.head(&header.author)?;
                (head.is_some(), head)
            }
        };
        check_next(head, entry)?;
        let head = Head {
            seq: header.seq,
            id: entry.record.id(),
        };
        chains.insert(header.author.as_str(), (had_head, Some(head)));
        entry.written_ahead = had_head;
    }
    Ok(())
}

/// Refuses a record that is not the next one of its chain (inside the transaction, so that the
/// head read is the head written).
fn check_extends(heads: &TransactionalTree, entry: &Prepared<'_>) -> TxResult<()> {
    let head = match heads.get(entry.record.header().author.as_bytes())? {
        Some(value) => Some(parse_head(&value).map_err(abort)?),
        None => None,
    };
    check_next(head, entry).map_err(ConflictableTransactionError::Abort)
}

/// Refuses a record that is not the next one after `head`.
fn check_next(head: Option<Head>, entry: &Prepared<'_>) -> Result<(), AppendError> {
    let header = entry.record.header();
    let (expected_seq, expected_prev) = Head::next(head);
    if header.seq != expected_seq {
        return Err(AppendError::NotNext {
            id: entry.record.id(),
            author: header.author.clone(),
            seq: header.seq,
            expected_seq,
        });
    }
    if header.prev != expected_prev {
        return Err(AppendError::WrongPredecessor {
            author: header.author.clone(),
            seq: header.seq,
            expected: expected_prev,
            found: header.prev,
        });
    }
    Ok(())
}

fn head_value(entry: &Prepared<'_>) -> Vec<u8> {
    head_bytes(Head {
        seq: entry.record.header().seq,
        id: entry.record.id(),
    })
}
