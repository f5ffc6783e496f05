//! The read-only handle of a store, [`StoreReader`], and the reads of the chains: by id, by
//! position, by range, heads and whole-store scans, each bounded by the heads (see the crate
//! doc). What the explorer, the public API and the CLI get: the type has no method that writes.

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use aidledger_spec::{Genesis, NetworkId, RecordId};

use crate::datadir::DirLock;
use crate::durable::DurableFiles;
use crate::index::IndexTree;
use crate::keys::{
    chain_key, head_in, parse_chain_key, parse_head, parse_u64, record_id, META_RECORD_COUNT,
};
use crate::recovery::{self, StartState};
use crate::scan::{self, Direction, Rewinds};
use crate::StoreError;

/// A data directory's store, read only: cheap to clone (the clones share one open store,
/// which stays open while any of them lives). From [`crate::Store::reader`] in a node, or
/// [`StoreReader::open`] for a stopped node's directory.
#[derive(Clone)]
pub struct StoreReader {
    pub(crate) inner: Arc<Inner>,
}

/// What the handles of one open store share.
pub(crate) struct Inner {
    pub(crate) db: sled::Db,
    /// The bound given to sled's page cache at open.
    pub(crate) cache_bytes: u64,
    pub(crate) records: sled::Tree,
    pub(crate) index: sled::Tree,
    pub(crate) heads: sled::Tree,
    pub(crate) proofs: sled::Tree,
    pub(crate) meta: sled::Tree,
    pub(crate) pending: sled::Tree,
    /// The tree of the store's [`AppendIndex`](crate::AppendIndex), if it was opened with one.
    /// Replaced by a fresh tree of the next generation when a redaction starts the index
    /// again (`store::redaction`); readers take the current one per request.
    pub(crate) index_tree: Option<Arc<RwLock<sled::Tree>>>,
    pub(crate) governance: sled::Tree,
    pub(crate) revoked: sled::Tree,
    pub(crate) revoked_index: sled::Tree,
    /// Every chain's Merkle tree: (author, level, index) → hash (`merkle`).
    pub(crate) merkle: sled::Tree,
    /// The trees revocations replaced: (author, epoch) → size, root, from, by.
    pub(crate) merkle_rewinds: sled::Tree,
    /// The nodes those revocations replaced: (author, epoch, level, index) → hash.
    pub(crate) merkle_rewound: sled::Tree,
    /// Per organisation its latest cosigned checkpoint note (`checkpoints`, `witnessed`).
    pub(crate) checkpoints: sled::Tree,
    /// Split-view proofs by the SHA-256 of their bytes (`split_views`, `witnessed`).
    pub(crate) split_views: sled::Tree,
    /// The `records` keys of the chains' redaction orders (kind 9), written with them.
    pub(crate) orders: sled::Tree,
    /// Record id → the redaction order that covers it (`redaction`).
    pub(crate) redacted: sled::Tree,
    /// Whether `redacted` has an entry: appends look a record up there only then.
    pub(crate) redactions_known: AtomicBool,
    pub(crate) pending_records: AtomicU64,
    pub(crate) pending_size_bytes: AtomicU64,
    /// Held by whatever moves heads ([`crate::Store::append_group`],
    /// [`crate::Store::revoke_from`]): an append writes records above the heads before its
    /// transaction moves them, which is safe only while nothing else moves those heads.
    pub(crate) chain_writer: Mutex<()>,
    /// Held while the index tree is cleared or rebuilt (a redaction's clear runs without the
    /// chain-writer lock; a revocation's rebuild under it): one at a time. Taken after the
    /// chain-writer lock, never before it.
    pub(crate) index_rebuild: Mutex<()>,
    /// Set once records may be left above the heads (an append could not remove what it wrote
    /// ahead, or sled failed inside a transaction that moves heads); a poisoned chain-writer
    /// lock counts the same, since a panic may have struck between the write-ahead and the
    /// transaction. Then appends and revocations are refused until the store is opened again,
    /// which removes those records: another record at their positions would leave their index
    /// entries naming it. Anyone may read it without the lock ([`StoreReader::is_stopped`]).
    pub(crate) stopped: AtomicBool,
    /// How many times positions of a chain were freed (a revocation lowered a head, a failed
    /// append removed what it wrote ahead), counted under the chain-writer lock once each is
    /// done: reads start again when it changed under them (`scan`).
    pub(crate) rewinds: Rewinds,
    /// How many writes readers can see were completed since the store was opened: bumped once
    /// each is committed (the chain-writer lock's release, and the writes made without it:
    /// pending records, held revoked records, fork proofs, checkpoints, split views). A reader
    /// that keeps what it derived from the store (the explorer's response cache) keeps it
    /// only while this has not moved ([`StoreReader::changes`]).
    pub(crate) changes: AtomicU64,
    /// See [`crate::Store::set_fault_after_write_ahead`]; never set by the node.
    pub(crate) fault_after_write_ahead: OnceLock<fn() -> Result<(), StoreError>>,
    /// Each chain's head as of the last completed fsync: what peers may be served
    /// (`recovery`).
    pub(crate) durable_heads: recovery::DurableHeads,
    /// What a node's open found about the last run (`recovery`).
    pub(crate) start_state: OnceLock<StartState>,
    pub(crate) genesis: Genesis,
    pub(crate) genesis_bytes: Vec<u8>,
    pub(crate) network_id: NetworkId,
    pub(crate) durable: DurableFiles,
    /// The sled directory (`DIR/store`), for the free-space check.
    pub(crate) path: PathBuf,
    // Dropped last: the lock outlives the database handle.
    pub(crate) _lock: DirLock,
}

impl StoreReader {
    /// The count of completed writes that readers can see (see `Inner::changes`): equal
    /// counts read before and after a computation mean nothing it read has changed since the
    /// first read. It only grows while the store is open.
    pub fn changes(&self) -> u64 {
        self.inner.changes.load(Ordering::Acquire)
    }

    /// Counts one completed write (after its commit, so that a reader who sees the new count
    /// also sees the write).
    pub(crate) fn note_change(&self) {
        self.inner.changes.fetch_add(1, Ordering::Release);
    }

    /// The network's genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.inner.genesis
    }

    /// The genesis' canonical bytes, as in `genesis.bin`.
    pub fn genesis_bytes(&self) -> &[u8] {
        &self.inner.genesis_bytes
    }

    /// The network id.
    pub fn network_id(&self) -> NetworkId {
        self.inner.network_id
    }

    /// The bound of sled's page cache this store was opened with, in bytes.
    pub fn cache_bytes(&self) -> u64 {
        self.inner.cache_bytes
    }

    /// A record's wire bytes by id.
    /// Revoked records are found too (see [`StoreReader::revocation`] to tell them apart).
    ///
    /// Like every read of the chains, it sees nothing above a chain's head (see the module
    /// doc): a record an append wrote ahead is not found until its transaction commits.
    pub fn get(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(found) = self.find_in_chain(id)? {
            return Ok(Some(found.bytes));
        }
        Ok(self.revocation(id)?.map(|revoked| revoked.bytes))
    }

    /// A record of a chain by id, with its author and seq; revoked records are not found
    /// (the money views count only records of the chains, as a verifier of a bundle does).
    pub fn get_in_chain(
        &self,
        id: &RecordId,
    ) -> Result<Option<(String, u64, Vec<u8>)>, StoreError> {
        Ok(self
            .find_in_chain(id)?
            .map(|found| (found.author, found.seq, found.bytes)))
    }

    /// Where a record is: (author, seq). Nothing above a chain's head is found.
    pub fn position(&self, id: &RecordId) -> Result<Option<(String, u64)>, StoreError> {
        Ok(self
            .find_in_chain(id)?
            .map(|found| (found.author, found.seq)))
    }

    /// The record `id` names in a chain, read through the index. The index entry is trusted
    /// only as far as the bytes it leads to carry that id (read from their header) and lie
    /// within their chain's head: an entry can outlive its record or name a position that
    /// another record took (a failed append's write-ahead, a revocation between the reads, or
    /// a power loss that kept the entry but not a record sled wrote as a blob; see the module
    /// doc). The record is read before the head, and read again if positions were freed
    /// meanwhile, so a record seen below the head was committed.
    fn find_in_chain(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        self.inner.rewinds.read_unrewound(|| {
            let Some(key) = self.inner.index.get(id.0)? else {
                return Ok(None);
            };
            let Some(bytes) = self.inner.records.get(&key)? else {
                return Ok(None);
            };
            if aidledger_spec::signed::record_id_of_bytes(&bytes).ok() != Some(*id) {
                return Ok(None);
            }
            let (author, seq) = parse_chain_key(&key)?;
            if !self.is_within_head(&author, seq)? {
                return Ok(None);
            }
            Ok(Some(StoredRecord {
                author,
                seq,
                bytes: bytes.to_vec(),
            }))
        })
    }

    /// Whether `author`'s chain reaches `seq`: the bound of every read of the chains, since an
    /// append writes records above the heads just before its transaction moves them.
    fn is_within_head(&self, author: &str, seq: u64) -> Result<bool, StoreError> {
        Ok(self.head(author)?.is_some_and(|head| seq <= head.seq))
    }

    /// The head of an author's chain; `None` when the chain is empty.
    pub fn head(&self, author: &str) -> Result<Option<Head>, StoreError> {
        head_in(&self.inner.heads, author)
    }

    /// The records of `author` from `from_seq` on, in chain order, read lazily. Only up to the
    /// chain's head: an append in progress may have written records above it (see the module
    /// doc), which are not part of the store until its transaction commits, and must not reach
    /// a peer before then.
    pub fn chain_range(
        &self,
        author: &str,
        from_seq: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + Send + 'static {
        let (head, error) = self.head_or_error(author);
        let range = head
            .filter(|head| from_seq <= head.seq)
            .and_then(|head| chain_key(author, from_seq).zip(chain_key(author, head.seq)));
        let records = range
            .map(|(start, end)| self.chain_scan(start, end, Direction::Forward))
            .into_iter()
            .flatten();
        error
            .into_iter()
            .map(Err)
            .chain(records.map(|record| record.map(|record| (record.seq, record.bytes))))
    }

    /// At most `limit` records of `author` with seq below `before_seq` (all when `None`),
    /// newest first, up to the chain's head (as [`StoreReader::chain_range`]). A range query: it
    /// never reads the records it skips.
    pub fn chain_newest_first(
        &self,
        author: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + Send + 'static {
        let (head, error) = self.head_or_error(author);
        let last = head.and_then(|head| match before_seq {
            Some(before) => before.checked_sub(1).map(|last| last.min(head.seq)),
            None => Some(head.seq),
        });
        let range = last.and_then(|last| chain_key(author, 0).zip(chain_key(author, last)));
        let records = range
            .map(|(start, end)| self.chain_scan(start, end, Direction::Backward))
            .into_iter()
            .flatten();
        error.into_iter().map(Err).chain(
            records
                .take(limit)
                .map(|record| record.map(|record| (record.seq, record.bytes))),
        )
    }

    /// The head, or the error reading it, for the iterators above.
    fn head_or_error(&self, author: &str) -> (Option<Head>, Option<StoreError>) {
        match self.head(author) {
            Ok(head) => (head, None),
            Err(error) => (None, Some(error)),
        }
    }

    /// Every record, chain by chain (chains in key order: by author length, then bytes), each
    /// chain in seq order, up to each chain's head; read lazily, so a store of any size streams.
    pub fn iter_records(
        &self,
    ) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
        scan::chain_scan(
            self.inner.records.clone(),
            self.inner.heads.clone(),
            self.inner.rewinds.clone(),
            (Bound::Unbounded, Bound::Unbounded),
            Direction::Forward,
        )
    }

    /// The records from key `start` to key `end` (both included) that lie within their
    /// chain's head, read lazily. A scan can be paused for as long as its reader likes (an
    /// export, a peer's range sync): it starts again where it stands when positions were freed
    /// meanwhile, and ends with [`StoreError::ChainChanged`] rather than return records that do
    /// not link (`store::scan`).
    pub(crate) fn chain_scan(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        direction: Direction,
    ) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
        scan::chain_scan(
            self.inner.records.clone(),
            self.inner.heads.clone(),
            self.inner.rewinds.clone(),
            (Bound::Included(start.into()), Bound::Included(end.into())),
            direction,
        )
    }

    /// Every head, as (author, head), in author byte order.
    pub fn heads(
        &self,
    ) -> impl Iterator<Item = Result<(String, Head), StoreError>> + Send + 'static {
        self.inner.heads.iter().map(|entry| {
            let (key, value) = entry?;
            let author = String::from_utf8(key.to_vec())
                .map_err(|_| StoreError::Corrupt("a head's author is not UTF-8".into()))?;
            Ok((author, parse_head(&value)?))
        })
    }

    /// How many records are stored (kept as a counter: O(1)).
    pub fn record_count(&self) -> Result<u64, StoreError> {
        match self.inner.meta.get(META_RECORD_COUNT)? {
            Some(value) => parse_u64(&value, "the record count"),
            None => Ok(0),
        }
    }

    /// The head `author`'s chain goes back to when it is cut at `from_seq` (by a revocation or
    /// a tail repair): the stored record at `from_seq - 1`, or none when the chain is cut whole.
    pub(crate) fn head_before(
        &self,
        author: &str,
        from_seq: u64,
    ) -> Result<Option<Head>, StoreError> {
        let Some(seq) = from_seq.checked_sub(1) else {
            return Ok(None);
        };
        let bytes = self.record_at(author, seq)?.ok_or_else(|| {
            StoreError::Corrupt(format!("{author}'s chain has no record at seq {seq}"))
        })?;
        let id = aidledger_spec::signed::record_id_of_bytes(&bytes)
            .map_err(|error| StoreError::Corrupt(format!("a stored record: {error}")))?;
        Ok(Some(Head { seq, id }))
    }

    /// The wire bytes of `author`'s record at `seq` in its stored chain.
    pub fn record_at(&self, author: &str, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(key) = chain_key(author, seq) else {
            return Ok(None);
        };
        // The record first, then the head, again if positions were freed meanwhile: a record
        // seen below the head was committed.
        self.inner.rewinds.read_unrewound(|| {
            let Some(bytes) = self.inner.records.get(&key)? else {
                return Ok(None);
            };
            Ok(self.is_within_head(author, seq)?.then(|| bytes.to_vec()))
        })
    }

    /// Whether the store has stopped taking appends and revocations until it is opened again
    /// ([`StoreError::StoppedUntilReopen`]): what a node's status reports, without waiting for
    /// an append in progress.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst) || self.inner.chain_writer.is_poisoned()
    }

    /// The tree of the store's [`AppendIndex`](crate::AppendIndex), read only (written inside
    /// appends, and rebuilt at a node's open or after a revocation); an empty tree for a store
    /// opened without an index ([`StoreReader::open`]).
    pub fn index_tree(&self) -> IndexTree<'_> {
        IndexTree::new(self.inner.index_tree.as_ref().map(|tree| {
            tree.read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone()
        }))
    }

    /// Flushes and fsyncs (the body of [`crate::Store::make_durable`]; also used at open).
    pub(crate) fn flush_durable(&self) -> Result<(), StoreError> {
        let (heads, freeings) = self.durable_snapshot()?;
        self.inner.db.flush()?;
        self.inner.durable.sync_after_flush()?;
        self.note_durable(heads, freeings);
        Ok(())
    }

    /// Up to `limit` stored record ids from `start` on, in byte order (id prefix search).
    pub fn ids_from(&self, start: &RecordId, limit: usize) -> Result<Vec<RecordId>, StoreError> {
        let mut ids = Vec::new();
        for entry in self.inner.index.range(start.0..) {
            if ids.len() == limit {
                break;
            }
            let id = record_id(&entry?.0)?;
            if self.find_in_chain(&id)?.is_some() {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Every governance record (kinds 5–7) in the chains, in `records` key order (chain by
    /// chain, each in seq order), read from the `governance` index without scanning the chains.
    pub fn governance_records(
        &self,
    ) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
        scan::governance_scan(
            self.inner.governance.clone(),
            self.inner.records.clone(),
            self.inner.heads.clone(),
            self.inner.rewinds.clone(),
        )
    }
}

/// The last record of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Head {
    /// Its sequence number.
    pub seq: u64,
    /// Its id.
    pub id: RecordId,
}

impl Head {
    /// The seq and prev that the next record of this chain must carry.
    pub fn next(head: Option<Head>) -> (u64, RecordId) {
        match head {
            Some(head) => (head.seq + 1, head.id),
            None => (0, RecordId::ZERO),
        }
    }
}

/// A record as stored, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// The author.
    pub author: String,
    /// Its sequence number.
    pub seq: u64,
    /// Its wire bytes.
    pub bytes: Vec<u8>,
}
