//! The node's store: every organisation's chain in sled, with an id index, the heads, the
//! equivocation proofs and a little metadata.
//!
//! Trees and their keys (all integers big endian, so that sled's byte order is chain order):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `records` | author length (u8), author bytes, seq (u64) | the record's wire bytes |
//! | `index` | record id (32 bytes) | the `records` key |
//! | `heads` | author bytes | seq (u64), record id (32 bytes) |
//! | `proofs` | `records` key, first id, second id | the encoded `EquivocationProof` |
//! | `pending` | `records` key, record id | wire bytes of a verified record waiting for its predecessor |
//! | `meta` | name | `network_id` (32 bytes), `record_count` (u64) |
//! | the index's (the node's: `explorer`) | the [`AppendIndex`]'s own | e.g. the explorer's totals and reverse references (`node/src/explorer/index.rs`) |
//! | `governance` | `records` key | empty: the chain records that are governance records (kinds 5–7) |
//! | `revoked` | `records` key, record id | [`RevokedRecord`] encoding: why, then the wire bytes |
//! | `revoked_index` | record id (32 bytes) | the `revoked` key |
//!
//! An append refuses a record that does not extend its author's head, and moves the heads in
//! one sled transaction with `meta`, `governance` and the tree of the store's [`AppendIndex`]. The records of chains that
//! already have a head, and their `index` entries, are written just before that transaction
//! (one insert each, after the head check, under the store's chain-writer lock, so that
//! nothing at or below a head is ever overwritten): inside it, sled reads every key before it
//! writes it, and these two are most of the keys an import writes (BENCHMARKS.md). A record
//! above its chain's head is not part of the store: every read of the chains (by id, by
//! position, by range, whole-store scans) stops at the heads; if the transaction fails, the
//! append removes what it wrote ahead; after a crash between the two, [`Store::open_with_lock`]
//! removes every record above a head. If what was written ahead cannot be removed (sled
//! failed, or a writer panicked while holding the lock), the store moves no head until it is
//! opened again ([`StoreError::StoppedUntilReopen`]).
//!
//! A read takes a record, then its head; a record at or below its head changes only when
//! positions are freed (a revocation, or a failed append's removal), and the store counts
//! those: a read by id or position that saw the count change reads again, and a scan starts
//! again where it stands, or ends with [`StoreError::ChainChanged`] if the record it returned
//! last was moved out (`store::scan`).
//!
//! [`Store::revoke_from`] is the only way records leave a chain: when the network's governance
//! revokes a key or removes a member from a position on, the records from there on move in one
//! transaction to `revoked` (kept as evidence, still readable by id with [`Store::get`]; see
//! [`Store::revocation`]) and the head goes back, so that the organisation can continue its
//! chain at that position. Appends are not durable until
//! [`Store::make_durable`] (see `node/DURABILITY.md`); the node's writer calls it once per group.
//!
//! `pending` holds records received from peers ahead of a gap in their chain, at most
//! [`PENDING_RECORDS_MAX`] records and [`PENDING_SIZE_BYTES_MAX`] bytes; they are not part of
//! any chain (nor of `record_count`, exports or heads) until the gap is filled.

use std::collections::HashMap;
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use aidledger_spec::bundle::{BundleItem, EquivocationProof};
use aidledger_spec::genesis::GenesisError;
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{
    codec, BodyKind, Genesis, NetworkId, RecordId, Rejection, RuleCheckedRecord, VerifiedRecord,
};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};

use crate::datadir::{DirLock, LockError, GENESIS_FILE, STORE_DIR};
use crate::durable::DurableFiles;
use crate::index::{AppendIndex, IndexTrees, IndexedRecord};
use crate::limits::{INDEX_REBUILD_GROUP_RECORDS, SLED_LOCK_RETRY, SLED_LOCK_WAIT};
pub use crate::limits::{PENDING_RECORDS_MAX, PENDING_SIZE_BYTES_MAX, STORE_CACHE_BYTES};

mod recovery;
mod scan;
pub use recovery::{DiscardedTail, StartState, TAIL_CHECK_RECORDS};
use scan::{Direction, Rewinds};

const TREE_RECORDS: &str = "records";
const TREE_INDEX: &str = "index";
const TREE_HEADS: &str = "heads";
const TREE_PROOFS: &str = "proofs";
const TREE_META: &str = "meta";
const TREE_PENDING: &str = "pending";
const TREE_GOVERNANCE: &str = "governance";
const TREE_REVOKED: &str = "revoked";
const TREE_REVOKED_INDEX: &str = "revoked_index";
const META_NETWORK_ID: &[u8] = b"network_id";
const META_RECORD_COUNT: &[u8] = b"record_count";
/// Present once the `governance` tree indexes every stored governance record (stores made
/// before it existed are indexed once at open).
const META_GOVERNANCE_INDEXED: &[u8] = b"governance_indexed";
const ID_BYTES: usize = 32;
const SEQ_BYTES: usize = 8;
const HEAD_VALUE_BYTES: usize = SEQ_BYTES + ID_BYTES;

/// Whether [`Store::open_with_lock`] may create the sled database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// The store must exist (readers of a stopped node's directory).
    Existing,
    /// Create the store if it does not exist (the node).
    CreateIfMissing,
}

/// Why a data directory's store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The data directory does not exist.
    #[error("data directory {0} does not exist")]
    MissingDir(PathBuf),
    /// The directory is locked by a running node, or the lock failed.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// `genesis.bin` is missing.
    #[error("{0} does not exist: this is not an initialised node directory")]
    MissingGenesis(PathBuf),
    /// `genesis.bin` could not be read.
    #[error("cannot read {path}: {source}")]
    ReadGenesis {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `genesis.bin` is not a valid genesis.
    #[error("{path} is corrupt: {source}")]
    CorruptGenesis {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: GenesisError,
    },
    /// `store/` is missing.
    #[error("{0} does not exist: the node never started in this directory")]
    MissingStore(PathBuf),
    /// sled refused to open the database.
    #[error("cannot open the store {path}: {detail}")]
    Sled {
        /// The store directory.
        path: PathBuf,
        /// What sled said (or the message of its panic on a corrupted file).
        detail: String,
    },
    /// The store belongs to another network than `genesis.bin`.
    #[error("the store {path} belongs to network {found}, but genesis.bin is network {expected}")]
    WrongNetwork {
        /// The store directory.
        path: PathBuf,
        /// The genesis' network.
        expected: NetworkId,
        /// The store's network.
        found: String,
    },
    /// Reading the store failed after it opened.
    #[error("the store {path} is unusable: {source}")]
    Store {
        /// The store directory.
        path: PathBuf,
        /// The failure.
        source: StoreError,
    },
}

/// A failure while reading or writing an open store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sled failed (I/O, or a checksum it found wrong).
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// An fsync or directory listing failed.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes in the store are not what this module writes.
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
    /// Making the store durable stopped short for a reason that loses nothing (a file or
    /// directory could not be opened or listed: no descriptor left); no fsync failed, and a
    /// later `make_durable` covers what this one did not.
    #[error("the store could not be made durable yet ({0}); nothing was lost")]
    NotYetDurable(String),
    /// A writer of the chains (an append or a revocation) failed partway or panicked, and
    /// records written ahead of their heads may be left: the store moves no head until it is
    /// opened again, which removes them (see the module doc).
    #[error(
        "a write to the chains failed partway and may have left records above their chains' \
         heads; the store takes no more appends or revocations until the node restarts, \
         which removes them"
    )]
    StoppedUntilReopen,
    /// A scan found that a chain it was reading changed under it: a revocation rewound the
    /// chain at or below the record it returned last, so what it would return next might not
    /// link to what it returned.
    #[error(
        "{author}'s chain changed at seq {seq} while it was being read (a revocation rewound \
         it); read it again"
    )]
    ChainChanged {
        /// The chain.
        author: String,
        /// The seq of the record the scan returned last.
        seq: u64,
    },
}

/// Why an append was refused: no record of the group is in a chain (what it wrote ahead of its
/// heads was removed, or is removed at the next open: see [`StoreError::StoppedUntilReopen`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The record belongs to another network.
    #[error("record {id} belongs to network {found}, not to this store's network")]
    WrongNetwork {
        /// The record.
        id: RecordId,
        /// Its network.
        found: NetworkId,
    },
    /// The author id cannot be a key (longer than 255 bytes).
    #[error("author id of record {id} is too long to store")]
    AuthorTooLong {
        /// The record.
        id: RecordId,
    },
    /// The record's seq is not the head's seq + 1 (or 0 for an empty chain).
    #[error("record {id} of {author} has seq {seq}, but the chain's next seq is {expected_seq}")]
    NotNext {
        /// The record.
        id: RecordId,
        /// Its author.
        author: String,
        /// Its seq.
        seq: u64,
        /// The seq that would extend the chain.
        expected_seq: u64,
    },
    /// The record's prev is not the head's id (or not zero for seq 0).
    #[error(
        "the record of {author} at seq {seq} names predecessor {found}, but the head is {expected}"
    )]
    WrongPredecessor {
        /// Its author.
        author: String,
        /// Its seq.
        seq: u64,
        /// The head's id (zero for an empty chain).
        expected: RecordId,
        /// The predecessor the record names.
        found: RecordId,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// A data directory's store. Reads may run on any thread; appends should come from one writer
/// (the node's), because each append is checked against the head it read.
pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    index: sled::Tree,
    heads: sled::Tree,
    proofs: sled::Tree,
    meta: sled::Tree,
    pending: sled::Tree,
    /// The tree of [`Store::append_index`].
    index_tree: sled::Tree,
    governance: sled::Tree,
    revoked: sled::Tree,
    revoked_index: sled::Tree,
    pending_records: AtomicU64,
    pending_size_bytes: AtomicU64,
    /// The index written inside the appends' transactions (see [`AppendIndex`]).
    append_index: Box<dyn AppendIndex>,
    /// Held by whatever moves heads ([`Store::append_group`], [`Store::revoke_from`]): an
    /// append writes records above the heads before its transaction moves them, which is safe
    /// only while nothing else moves those heads.
    chain_writer: Mutex<()>,
    /// Set once records may be left above the heads (an append could not remove what it wrote
    /// ahead, or sled failed inside a transaction that moves heads); a poisoned chain-writer
    /// lock counts the same, since a panic may have struck between the write-ahead and the
    /// transaction. Then appends and revocations are refused until the store is opened again,
    /// which removes those records: another record at their positions would leave their index
    /// entries naming it. Anyone may read it without the lock ([`Store::is_stopped`]).
    stopped: AtomicBool,
    /// How many times positions of a chain were freed (a revocation lowered a head, a failed
    /// append removed what it wrote ahead), counted under the chain-writer lock once each is
    /// done: reads start again when it changed under them (`store::scan`).
    rewinds: Rewinds,
    /// See [`Store::set_fault_after_write_ahead`]; never set by the node.
    fault_after_write_ahead: OnceLock<fn() -> Result<(), StoreError>>,
    /// Each chain's head as of the last completed fsync: what peers may be served
    /// (`store::recovery`).
    durable_heads: recovery::DurableHeads,
    /// What a node's open found about the last run (`store::recovery`).
    start_state: OnceLock<StartState>,
    genesis: Genesis,
    genesis_bytes: Vec<u8>,
    network_id: NetworkId,
    durable: DurableFiles,
    /// The sled directory (`DIR/store`), for the free-space check.
    path: PathBuf,
    // Dropped last: the lock outlives the database handle.
    _lock: DirLock,
}

impl Store {
    /// Opens the store of a stopped node's data directory (it must exist), taking its lock;
    /// appends write `index` too.
    pub fn open(data_dir: &Path, index: impl AppendIndex + 'static) -> Result<Store, OpenError> {
        if !data_dir.is_dir() {
            return Err(OpenError::MissingDir(data_dir.to_path_buf()));
        }
        let lock = DirLock::acquire(data_dir)?;
        Store::open_with_lock(data_dir, lock, OpenMode::Existing, index)
    }

    /// Opens (or creates) the store of a data directory whose lock the caller holds; appends
    /// write `index` too, and a node's open ([`OpenMode::CreateIfMissing`]) rebuilds it if it
    /// is not current.
    pub fn open_with_lock(
        data_dir: &Path,
        lock: DirLock,
        mode: OpenMode,
        index: impl AppendIndex + 'static,
    ) -> Result<Store, OpenError> {
        let (genesis, genesis_bytes) = read_genesis(data_dir)?;
        let network_id = genesis.network_id();
        let path = data_dir.join(STORE_DIR);
        if mode == OpenMode::Existing && !path.is_dir() {
            return Err(OpenError::MissingStore(path));
        }
        // sled recovers a log it cannot read as an empty database; a store that existed must
        // therefore still hold its network id, or it was corrupted.
        let existed = path.join("db").is_file();
        let db = open_sled(&path)?;
        let store_error = |source: StoreError| OpenError::Store {
            path: path.clone(),
            source,
        };
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|error| store_error(error.into()))
        };
        let store = Store {
            records: tree(TREE_RECORDS)?,
            index: tree(TREE_INDEX)?,
            heads: tree(TREE_HEADS)?,
            proofs: tree(TREE_PROOFS)?,
            meta: tree(TREE_META)?,
            pending: tree(TREE_PENDING)?,
            index_tree: tree(index.tree_name())?,
            governance: tree(TREE_GOVERNANCE)?,
            revoked: tree(TREE_REVOKED)?,
            revoked_index: tree(TREE_REVOKED_INDEX)?,
            pending_records: AtomicU64::new(0),
            pending_size_bytes: AtomicU64::new(0),
            append_index: Box::new(index),
            chain_writer: Mutex::new(()),
            stopped: AtomicBool::new(false),
            rewinds: Rewinds::default(),
            fault_after_write_ahead: OnceLock::new(),
            durable_heads: recovery::DurableHeads::default(),
            start_state: OnceLock::new(),
            durable: DurableFiles::open(&path).map_err(|error| store_error(error.into()))?,
            path: path.clone(),
            db,
            genesis,
            genesis_bytes,
            network_id,
            _lock: lock,
        };
        store.check_network(&path, existed)?;
        // Every open, a reader's too: what an append wrote ahead of a transaction that a crash
        // stopped is not part of the store, and an export or a verification must not see it.
        store.drop_records_above_heads().map_err(store_error)?;
        store.count_pending().map_err(store_error)?;
        // Only the node brings the append index and the governance index up to date; a reader
        // of a stopped node's directory leaves them as they are.
        if mode == OpenMode::CreateIfMissing {
            store.update_index().map_err(store_error)?;
            store.update_governance_index().map_err(store_error)?;
            // Last: it may discard tails a crash left incomplete, and its fsync starts the
            // durable heads that peers are served from.
            store.begin_running().map_err(store_error)?;
        }
        Ok(store)
    }

    /// Records the network id in a new store, or checks it in an existing one.
    fn check_network(&self, path: &Path, existed: bool) -> Result<(), OpenError> {
        let store_error = |source: StoreError| OpenError::Store {
            path: path.to_path_buf(),
            source,
        };
        match self.meta.get(META_NETWORK_ID).map_err(|error| store_error(error.into()))? {
            Some(found) if found.as_ref() == self.network_id.0 => Ok(()),
            Some(found) => Err(OpenError::WrongNetwork {
                path: path.to_path_buf(),
                expected: self.network_id,
                found: hex::encode(found),
            }),
            None if !existed && self.records.is_empty() => {
                self.meta.insert(META_NETWORK_ID, &self.network_id.0).map_err(|error| store_error(error.into()))?;
                self.make_durable().map_err(store_error)
            }
            None => Err(store_error(StoreError::Corrupt(
                "the store has lost its network id: its files are corrupted or truncated \
                 (only if the node crashed during its very first start is removing the store/ directory safe)"
                    .into(),
            ))),
        }
    }

    /// The network's genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The genesis' canonical bytes, as in `genesis.bin`.
    pub fn genesis_bytes(&self) -> &[u8] {
        &self.genesis_bytes
    }

    /// The network id.
    pub fn network_id(&self) -> NetworkId {
        self.network_id
    }

    /// A record's wire bytes by id.
    /// Revoked records are found too (see [`Store::revocation`] to tell them apart).
    ///
    /// Like every read of the chains, it sees nothing above a chain's head (see the module
    /// doc): a record an append wrote ahead is not found until its transaction commits.
    pub fn get(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(found) = self.find_in_chain(id)? {
            return Ok(Some(found.bytes));
        }
        Ok(self.revocation(id)?.map(|revoked| revoked.bytes))
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
        self.rewinds.read_unrewound(|| {
            let Some(key) = self.index.get(id.0)? else {
                return Ok(None);
            };
            let Some(bytes) = self.records.get(&key)? else {
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
        head_in(&self.heads, author)
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
    /// newest first, up to the chain's head (as [`Store::chain_range`]). A range query: it
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
            self.records.clone(),
            self.heads.clone(),
            self.rewinds.clone(),
            (Bound::Unbounded, Bound::Unbounded),
            Direction::Forward,
        )
    }

    /// The records from key `start` to key `end` (both included) that lie within their
    /// chain's head, read lazily. A scan can be paused for as long as its reader likes (an
    /// export, a peer's range sync): it starts again where it stands when positions were freed
    /// meanwhile, and ends with [`StoreError::ChainChanged`] rather than return records that do
    /// not link (`store::scan`).
    fn chain_scan(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        direction: Direction,
    ) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
        scan::chain_scan(
            self.records.clone(),
            self.heads.clone(),
            self.rewinds.clone(),
            (Bound::Included(start.into()), Bound::Included(end.into())),
            direction,
        )
    }

    /// Every head, as (author, head), in author byte order.
    pub fn heads(
        &self,
    ) -> impl Iterator<Item = Result<(String, Head), StoreError>> + Send + 'static {
        self.heads.iter().map(|entry| {
            let (key, value) = entry?;
            let author = String::from_utf8(key.to_vec())
                .map_err(|_| StoreError::Corrupt("a head's author is not UTF-8".into()))?;
            Ok((author, parse_head(&value)?))
        })
    }

    /// Every stored equivocation proof.
    pub fn proofs(
        &self,
    ) -> impl Iterator<Item = Result<EquivocationProof, StoreError>> + Send + 'static {
        self.proofs.iter().map(|entry| {
            let (_, value) = entry?;
            codec::decode_exact(&value)
                .map_err(|error| StoreError::Corrupt(format!("an equivocation proof: {error}")))
        })
    }

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
        if self.index.contains_key(id.0)? || self.revoked_index.contains_key(id.0)? {
            return Ok(false);
        }
        let header = record.header();
        let Some(mut key) = chain_key(&header.author, header.seq) else {
            return Ok(false);
        };
        key.extend_from_slice(&id.0);
        let value = RevocationNote::of(reason).encode(record.bytes());
        let trees = (&self.revoked, &self.revoked_index);
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

    /// Drops every stored equivocation proof that `keep` refuses; returns how many. Used after
    /// a governance change: a proof one of whose records the authority now rejects (a thief's
    /// records after a revocation) no longer proves that the member signed twice. Durable after
    /// [`Store::make_durable`].
    pub fn retain_proofs(
        &self,
        mut keep: impl FnMut(&EquivocationProof) -> bool,
    ) -> Result<usize, StoreError> {
        let mut dropped = 0;
        for entry in self.proofs.iter() {
            let (key, value) = entry?;
            let proof: EquivocationProof = codec::decode_exact(&value)
                .map_err(|error| StoreError::Corrupt(format!("an equivocation proof: {error}")))?;
            if !keep(&proof) {
                self.proofs.remove(&key)?;
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    /// How many records are stored (kept as a counter: O(1)).
    pub fn record_count(&self) -> Result<u64, StoreError> {
        match self.meta.get(META_RECORD_COUNT)? {
            Some(value) => parse_u64(&value, "the record count"),
            None => Ok(0),
        }
    }

    /// Appends one record atomically (not yet durable: see [`Store::make_durable`]).
    pub fn append(&self, record: &VerifiedRecord) -> Result<(), AppendError> {
        self.append_group(std::slice::from_ref(record))
    }

    /// Appends records: all of them or none. Each must extend its author's head as it stands
    /// after the records before it in `records`. The heads move in one sled transaction; the
    /// records of chains that have a head are written just before it (see the module doc).
    /// Not yet durable: call [`Store::make_durable`] before acknowledging.
    pub fn append_group(&self, records: &[VerifiedRecord]) -> Result<(), AppendError> {
        let mut prepared = records
            .iter()
            .map(|record| self.prepare(record))
            .collect::<Result<Vec<_>, _>>()?;
        let _chain_writer = self.lock_chains()?;
        check_chains(self, &mut prepared)?;
        let error = match self.write_ahead(&prepared) {
            Ok(()) => match self.fault_then_commit_group(&prepared) {
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
        self.rewinds.count();
        Err(error)
    }

    /// For tests of what an append leaves when it stops between its write-ahead and its
    /// transaction: from now on, every append of this store calls `fault` there. A panicking
    /// `fault` stands for a crash of the append at that point; an error, for a transaction
    /// refused (as a corrupt index would make it), which the append then answers with. At most
    /// once per open store (a second call panics rather than keep the first fault quietly);
    /// the node never sets it.
    #[doc(hidden)]
    pub fn set_fault_after_write_ahead(&self, fault: fn() -> Result<(), StoreError>) {
        assert!(
            self.fault_after_write_ahead.set(fault).is_ok(),
            "a fault is already set after this store's write-ahead"
        );
    }

    fn fault_then_commit_group(
        &self,
        prepared: &[Prepared<'_>],
    ) -> Result<(), TransactionError<AppendError>> {
        if let Some(fault) = self.fault_after_write_ahead.get() {
            fault().map_err(|error| TransactionError::Abort(AppendError::Store(error)))?;
        }
        self.commit_group(prepared)
    }

    /// Whether the store has stopped taking appends and revocations until it is opened again
    /// ([`StoreError::StoppedUntilReopen`]): what a node's status reports, without waiting for
    /// an append in progress.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst) || self.chain_writer.is_poisoned()
    }

    /// Stops the store: nothing moves a head until it is opened again. Called with the
    /// chain-writer lock held.
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Takes the lock of whatever moves heads. Refused once an append may have left records
    /// above the heads: after it could not remove them, or after a panic while the lock was
    /// held (which poisons it, and might have struck between the write-ahead and the
    /// transaction).
    fn lock_chains(&self) -> Result<MutexGuard<'_, ()>, StoreError> {
        let guard = self.chain_writer.lock().unwrap_or_else(|poisoned| {
            self.stop();
            poisoned.into_inner()
        });
        if self.stopped.load(Ordering::SeqCst) {
            return Err(StoreError::StoppedUntilReopen);
        }
        Ok(guard)
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
            // after it survives): reads by id check the bytes' id ([`Store::get`]), and the
            // open removes every record above a head.
            self.records
                .insert(entry.key.as_slice(), entry.record.bytes())
                .map_err(StoreError::from)?;
            self.index
                .insert(entry.record.id().0, entry.key.as_slice())
                .map_err(StoreError::from)?;
        }
        Ok(())
    }

    /// Undoes [`Self::write_ahead`] after the transaction failed.
    fn remove_written_ahead(&self, prepared: &[Prepared<'_>]) -> Result<(), StoreError> {
        for entry in prepared.iter().filter(|entry| entry.written_ahead) {
            self.index.remove(entry.record.id().0)?;
            self.records.remove(entry.key.as_slice())?;
        }
        Ok(())
    }

    /// The transaction of [`Self::append_group`]: moves the heads, writes what was not written
    /// ahead, the append index, the governance index and the record count.
    fn commit_group(&self, prepared: &[Prepared<'_>]) -> Result<(), TransactionError<AppendError>> {
        let trees = (
            &self.records,
            &self.index,
            &self.heads,
            &self.meta,
            &self.index_tree,
            &self.governance,
        );
        trees.transaction(|(records, index, heads, meta, index_tree, governance)| {
            let indexer = self.append_index.group(IndexTrees {
                own: index_tree,
                ids: index,
                records,
            });
            for entry in prepared {
                check_extends(heads, entry)?;
                if !entry.written_ahead {
                    records.insert(entry.key.as_slice(), entry.record.bytes())?;
                    index.insert(&entry.record.id().0, entry.key.as_slice())?;
                }
                if entry.record.body().kind().is_governance() {
                    governance.insert(entry.key.as_slice(), &[][..])?;
                }
                indexer.append(entry.record)?;
                heads.insert(
                    entry.record.header().author.as_bytes(),
                    &head_value(entry)[..],
                )?;
            }
            indexer.finish()?;
            let count = match meta.get(META_RECORD_COUNT)? {
                Some(value) => parse_u64(&value, "the record count").map_err(abort)?,
                None => 0,
            };
            meta.insert(
                META_RECORD_COUNT,
                &(count + prepared.len() as u64).to_be_bytes(),
            )?;
            Ok(())
        })
    }

    /// Removes every record above its chain's head, with its index entry: what an append wrote
    /// ahead of a transaction that a crash kept from committing (or from reaching the disk).
    /// Chains without a head have nothing written ahead. Returns how many were removed.
    fn drop_records_above_heads(&self) -> Result<usize, StoreError> {
        let mut dropped = 0;
        for head in self.heads() {
            let (author, head) = head?;
            let above = head
                .seq
                .checked_add(1)
                .and_then(|next| Some((chain_key(&author, next)?, chain_key(&author, u64::MAX)?)));
            let Some((start, end)) = above else {
                continue;
            };
            for entry in self.records.range(start..=end) {
                let (key, bytes) = entry?;
                // The index entry goes first, as in `remove_written_ahead`: a crash in between
                // leaves the record, which the next open finds again. Bytes whose header does
                // not parse (a write cut short) have no id to look for; an entry naming them
                // is harmless, since reads by id check the bytes they find.
                if let Ok(id) = aidledger_spec::signed::record_id_of_bytes(&bytes) {
                    self.index.remove(id.0)?;
                }
                self.records.remove(key)?;
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    /// Appends a group and makes it durable: what the node does before acknowledging.
    pub fn append_durable(&self, records: &[VerifiedRecord]) -> Result<(), AppendError> {
        self.append_group(records)?;
        Ok(self.make_durable()?)
    }

    /// Stores an equivocation proof (two records of one author at one seq, as
    /// `Verifier::verify_equivocation` returns them; the record rules suffice, since a proof
    /// shows that the key signed both, whatever the governance now says of it). Durable after [`Store::make_durable`].
    pub fn add_proof(
        &self,
        first: &RuleCheckedRecord,
        second: &RuleCheckedRecord,
    ) -> Result<(), AppendError> {
        let header = first.header();
        let mut key = chain_key(&header.author, header.seq)
            .ok_or(AppendError::AuthorTooLong { id: first.id() })?;
        key.extend_from_slice(&first.id().0);
        key.extend_from_slice(&second.id().0);
        let proof = EquivocationProof {
            first: first.bytes().to_vec(),
            second: second.bytes().to_vec(),
        };
        self.proofs
            .insert(key, codec::encode(&proof))
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// Makes every completed append durable: sled's flush, then the fsyncs it does not make.
    /// The heads read before the flush become the durable heads ([`Store::durable_head`]).
    pub fn make_durable(&self) -> Result<(), StoreError> {
        let (heads, freeings) = self.durable_snapshot()?;
        self.db.flush()?;
        self.durable.sync_after_flush()?;
        self.note_durable(heads, freeings);
        Ok(())
    }

    /// The wire bytes of `author`'s record at `seq` in its stored chain.
    pub fn record_at(&self, author: &str, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(key) = chain_key(author, seq) else {
            return Ok(None);
        };
        // The record first, then the head, again if positions were freed meanwhile: a record
        // seen below the head was committed.
        self.rewinds.read_unrewound(|| {
            let Some(bytes) = self.records.get(&key)? else {
                return Ok(None);
            };
            Ok(self.is_within_head(author, seq)?.then(|| bytes.to_vec()))
        })
    }

    /// Whether a proof of these two records (in either order) is stored.
    pub fn has_proof(
        &self,
        first: &RuleCheckedRecord,
        second: &RuleCheckedRecord,
    ) -> Result<bool, StoreError> {
        let header = first.header();
        let Some(prefix) = chain_key(&header.author, header.seq) else {
            return Ok(false);
        };
        for (a, b) in [(first.id(), second.id()), (second.id(), first.id())] {
            let mut key = prefix.clone();
            key.extend_from_slice(&a.0);
            key.extend_from_slice(&b.0);
            if self.proofs.contains_key(key)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// How many equivocation proofs are stored.
    pub fn proof_count(&self) -> u64 {
        self.proofs.len() as u64
    }

    /// Whether `author`'s chain has an equivocation proof at `seq`, and whether it has one
    /// anywhere: two prefix lookups, however many proofs are stored (a record page asks).
    pub fn fork_at(&self, author: &str, seq: u64) -> Result<(bool, bool), StoreError> {
        let Some(at) = chain_key(author, seq) else {
            return Ok((false, false));
        };
        let chain_prefix = &at[..at.len() - SEQ_BYTES];
        let anywhere = self
            .proofs
            .scan_prefix(chain_prefix)
            .next()
            .transpose()?
            .is_some();
        let here = anywhere && self.proofs.scan_prefix(&at).next().transpose()?.is_some();
        Ok((here, anywhere))
    }

    /// The (author, seq) of every stored proof, each once, in key order: the forked chains and
    /// where they fork.
    pub fn forks(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut forks: Vec<(String, u64)> = Vec::new();
        for entry in self.proofs.iter() {
            let (key, _) = entry?;
            let prefix_bytes = key
                .len()
                .checked_sub(2 * ID_BYTES)
                .ok_or_else(|| StoreError::Corrupt("a proof key is shorter than two ids".into()))?;
            let fork = parse_chain_key(&key[..prefix_bytes])?;
            if forks.last() != Some(&fork) {
                forks.push(fork);
            }
        }
        Ok(forks)
    }

    /// Holds a verified record that arrived before its predecessor. Returns `false` (and holds
    /// nothing) when [`PENDING_RECORDS_MAX`] or [`PENDING_SIZE_BYTES_MAX`] would be passed.
    /// Durable after [`Store::make_durable`].
    pub fn add_pending(&self, record: &VerifiedRecord) -> Result<bool, AppendError> {
        let header = record.header();
        let mut key = chain_key(&header.author, header.seq)
            .ok_or(AppendError::AuthorTooLong { id: record.id() })?;
        key.extend_from_slice(&record.id().0);
        let size_bytes = record.bytes().len() as u64;
        let full = self.pending_records.load(Ordering::Relaxed) >= PENDING_RECORDS_MAX
            || self.pending_size_bytes.load(Ordering::Relaxed) + size_bytes
                > PENDING_SIZE_BYTES_MAX;
        if full {
            return Ok(false);
        }
        let previous = self
            .pending
            .insert(key, record.bytes())
            .map_err(StoreError::from)?;
        if previous.is_none() {
            self.pending_records.fetch_add(1, Ordering::Relaxed);
            self.pending_size_bytes
                .fetch_add(size_bytes, Ordering::Relaxed);
        }
        Ok(true)
    }

    /// Removes every pending record of `author` at or below `seq` and returns the wire bytes
    /// of those exactly at `seq` (more than one if the author equivocated).
    pub fn take_pending(&self, author: &str, seq: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let (Some(start), Some(end)) = (
            chain_key(author, 0),
            chain_key(author, seq.saturating_add(1)),
        ) else {
            return Ok(Vec::new());
        };
        let mut taken = Vec::new();
        for entry in self.pending.range(start..end) {
            let (key, value) = entry?;
            if self.pending.remove(&key)?.is_some() {
                self.pending_records.fetch_sub(1, Ordering::Relaxed);
                self.pending_size_bytes
                    .fetch_sub(value.len() as u64, Ordering::Relaxed);
            }
            let prefix_bytes = key.len().saturating_sub(ID_BYTES);
            if parse_chain_key(&key[..prefix_bytes])?.1 == seq {
                taken.push(value.to_vec());
            }
        }
        Ok(taken)
    }

    /// How many records wait for a predecessor.
    pub fn pending_count(&self) -> u64 {
        self.pending_records.load(Ordering::Relaxed)
    }

    /// The tree of the store's [`AppendIndex`], for its readers (written inside appends, and
    /// rebuilt at a node's open or after a revocation).
    pub fn index_tree(&self) -> &sled::Tree {
        &self.index_tree
    }

    /// Up to `limit` stored record ids from `start` on, in byte order (id prefix search).
    pub fn ids_from(&self, start: &RecordId, limit: usize) -> Result<Vec<RecordId>, StoreError> {
        let mut ids = Vec::new();
        for entry in self.index.range(start.0..) {
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

    /// Builds the append index from the chains when it was written by an older version (or
    /// never): once, at the node's start, before the writer runs.
    fn update_index(&self) -> Result<(), StoreError> {
        if self.append_index.is_current(&self.index_tree)? {
            return Ok(());
        }
        self.rebuild_index()
    }

    /// Builds the append index from the chains. Clearing removes its version mark first, so a
    /// crash midway leaves an index that the next open rebuilds.
    fn rebuild_index(&self) -> Result<(), StoreError> {
        self.index_tree.clear()?;
        let mut group = Vec::with_capacity(INDEX_REBUILD_GROUP_RECORDS);
        for entry in self.records.iter() {
            let (key, bytes) = entry?;
            let (author, seq) = parse_chain_key(&key)?;
            let corrupt = |error| StoreError::Corrupt(format!("a stored record: {error}"));
            let record = SignedRecord::parse(bytes.to_vec()).map_err(corrupt)?;
            let body = codec::decode_exact(record.body_bytes()).map_err(corrupt)?;
            group.push((author, seq, record.id, body));
            if group.len() == INDEX_REBUILD_GROUP_RECORDS {
                self.index_group(&group)?;
                group.clear();
            }
        }
        self.index_group(&group)?;
        self.append_index.mark_current(&self.index_tree)?;
        self.make_durable()
    }

    /// Indexes stored records in one transaction, as an append of them would have.
    fn index_group(
        &self,
        group: &[(String, u64, RecordId, aidledger_spec::Body)],
    ) -> Result<(), StoreError> {
        let trees = (&self.records, &self.index, &self.index_tree);
        let outcome = trees.transaction(|(records, index, index_tree)| {
            let indexer = self.append_index.group(IndexTrees {
                own: index_tree,
                ids: index,
                records,
            });
            for (author, seq, id, body) in group {
                indexer.index(&IndexedRecord {
                    author,
                    seq: *seq,
                    id: *id,
                    body,
                })?;
            }
            indexer.finish()
        });
        outcome.map_err(|error| match error {
            TransactionError::Abort(AppendError::Store(error)) => error,
            TransactionError::Abort(error) => StoreError::Corrupt(error.to_string()),
            TransactionError::Storage(error) => error.into(),
        })
    }

    /// Indexes the governance records of a store written before the `governance` tree existed:
    /// once, at the node's start, before the writer runs.
    fn update_governance_index(&self) -> Result<(), StoreError> {
        if self.meta.contains_key(META_GOVERNANCE_INDEXED)? {
            return Ok(());
        }
        for entry in self.records.iter() {
            let (key, bytes) = entry?;
            if is_governance_bytes(&bytes) {
                self.governance.insert(key, &[][..])?;
            }
        }
        self.meta.insert(META_GOVERNANCE_INDEXED, &[][..])?;
        self.make_durable()
    }

    /// Every governance record (kinds 5–7) in the chains, in `records` key order (chain by
    /// chain, each in seq order), read from the `governance` index without scanning the chains.
    pub fn governance_records(
        &self,
    ) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
        scan::governance_scan(
            self.governance.clone(),
            self.records.clone(),
            self.heads.clone(),
            self.rewinds.clone(),
        )
    }

    /// Every record, in the order a bundle lists them (FORMAT.md, "Bundle order"): the
    /// equivocation proofs, then governance records (chain by chain, each in seq order, then the
    /// revoked ones), then the other records chain by chain, then the other records held as
    /// revoked. Read lazily.
    /// `export::write_bundle` writes this; the CLI's data-directory source reads it.
    pub fn bundle_items(
        &self,
    ) -> impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static {
        self.bundle_items_up_to(None)
    }

    /// As [`Store::bundle_items`], each chain only up to its durable head as it stands now
    /// (`store::recovery`): what a running node exports, so that no auditor is handed a record
    /// that a power loss could still take and the node then sign again differently.
    pub fn durable_bundle_items(
        &self,
    ) -> Result<impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static, StoreError>
    {
        Ok(self.bundle_items_up_to(Some(self.durable_seqs()?)))
    }

    /// Bundle items; with `up_to`, a chain's records only up to the seq it gives (none for a
    /// chain it does not name).
    fn bundle_items_up_to(
        &self,
        up_to: Option<HashMap<String, u64>>,
    ) -> impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static {
        let keep = move |record: &StoredRecord| {
            up_to.as_ref().is_none_or(|up_to| {
                up_to
                    .get(&record.author)
                    .is_some_and(|seq| record.seq <= *seq)
            })
        };
        let keep_ordinary = keep.clone();
        let governance = self
            .governance_records()
            .filter_map(move |record| match record {
                Ok(record) if !keep(&record) => None,
                record => Some(record.map(|record| BundleItem::Record(record.bytes))),
            });
        // Revoked governance records still count for the steps they made (FORMAT.md 13.1),
        // so they are listed with the governance records.
        let revoked_governance = self.revoked_records_where(true);
        let ordinary = self.iter_records().filter_map(move |record| match record {
            Ok(record) if is_governance_bytes(&record.bytes) || !keep_ordinary(&record) => None,
            Ok(record) => Some(Ok(BundleItem::Record(record.bytes))),
            Err(error) => Some(Err(error)),
        });
        let revoked_ordinary = self.revoked_records_where(false);
        // Proofs first: a verifier must know which positions are contested before it derives
        // the authority from the governance records (FORMAT.md 13.1, 18.6).
        let proofs = self.proofs().map(|proof| proof.map(BundleItem::Proof));
        proofs
            .chain(governance)
            .chain(revoked_governance)
            .chain(ordinary)
            .chain(revoked_ordinary)
    }

    /// The revoked records that are (or are not) governance records, as bundle items.
    fn revoked_records_where(
        &self,
        governance: bool,
    ) -> impl Iterator<Item = Result<BundleItem, StoreError>> + Send + 'static {
        self.revoked_records()
            .filter_map(move |record| match record {
                Ok(record) if is_governance_bytes(&record.bytes) == governance => {
                    Some(Ok(BundleItem::Record(record.bytes)))
                }
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            })
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
        for entry in self.records.range(start..=end) {
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
            &self.records,
            &self.index,
            &self.heads,
            &self.meta,
            &self.governance,
            &self.revoked,
            &self.revoked_index,
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
                self.rewinds.count();
                error.into()
            }
        })?;
        // Before the lock is released, so before any append can write ahead at the positions
        // this revocation freed.
        self.rewinds.count();
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

    /// A revoked record by id: its bytes and why it left its chain. `None` for a record that
    /// is in a chain or not stored.
    pub fn revocation(&self, id: &RecordId) -> Result<Option<RevokedRecord>, StoreError> {
        let Some(key) = self.revoked_index.get(id.0)? else {
            return Ok(None);
        };
        let value = self.revoked.get(&key)?.ok_or_else(|| {
            StoreError::Corrupt(format!("the revoked index names {id}, which is not stored"))
        })?;
        RevokedRecord::decode(&key, &value).map(Some)
    }

    /// Every record held as revoked, in `revoked` key order (chain by chain, seq, id).
    pub fn revoked_records(
        &self,
    ) -> impl Iterator<Item = Result<RevokedRecord, StoreError>> + Send + 'static {
        self.revoked.iter().map(|entry| {
            let (key, value) = entry?;
            RevokedRecord::decode(&key, &value)
        })
    }

    /// How many records are held as revoked.
    pub fn revoked_count(&self) -> u64 {
        self.revoked.len() as u64
    }

    /// Drops the pending records of `author` at `from_seq` or later.
    fn drop_pending_from(&self, author: &str, from_seq: u64) -> Result<(), StoreError> {
        let (Some(start), Some(end)) = (chain_key(author, from_seq), chain_key(author, u64::MAX))
        else {
            return Ok(());
        };
        let mut end = end;
        end.extend_from_slice(&[0xff; ID_BYTES]);
        for entry in self.pending.range(start..=end) {
            let (key, value) = entry?;
            if self.pending.remove(&key)?.is_some() {
                self.pending_records.fetch_sub(1, Ordering::Relaxed);
                self.pending_size_bytes
                    .fetch_sub(value.len() as u64, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Drops the proofs of `author` from `from_seq` on that name one of `ids`.
    fn drop_proofs_naming(
        &self,
        author: &str,
        from_seq: u64,
        ids: &[RecordId],
    ) -> Result<(), StoreError> {
        let (Some(start), Some(end)) = (chain_key(author, from_seq), chain_key(author, u64::MAX))
        else {
            return Ok(());
        };
        let mut end = end;
        end.extend_from_slice(&[0xff; 2 * ID_BYTES]);
        for entry in self.proofs.range(start..=end) {
            let (key, _) = entry?;
            let Some(ids_at) = key.len().checked_sub(2 * ID_BYTES) else {
                continue;
            };
            let names_moved = key[ids_at..]
                .chunks(ID_BYTES)
                .any(|id| ids.iter().any(|moved| moved.0 == id));
            if names_moved {
                self.proofs.remove(&key)?;
            }
        }
        Ok(())
    }

    /// Sets the pending counters from the tree (at open; the tree is bounded, so this is quick).
    fn count_pending(&self) -> Result<(), StoreError> {
        let (mut records, mut size_bytes) = (0, 0);
        for entry in self.pending.iter() {
            let (_, value) = entry?;
            records += 1;
            size_bytes += value.len() as u64;
        }
        self.pending_records.store(records, Ordering::Relaxed);
        self.pending_size_bytes.store(size_bytes, Ordering::Relaxed);
        Ok(())
    }

    fn prepare<'a>(&self, record: &'a VerifiedRecord) -> Result<Prepared<'a>, AppendError> {
        let header = record.header();
        if header.network_id != self.network_id {
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
        })
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

/// The body kind of a record's wire bytes, read without decoding.
fn peek_kind(bytes: &[u8]) -> Option<BodyKind> {
    aidledger_spec::signed::peek_body_kind(bytes).and_then(BodyKind::from_wire)
}

/// Whether wire bytes are a governance record (kinds 5–7).
fn is_governance_bytes(bytes: &[u8]) -> bool {
    peek_kind(bytes).is_some_and(BodyKind::is_governance)
}

/// A record to append with its `records` key.
struct Prepared<'a> {
    key: Vec<u8>,
    record: &'a VerifiedRecord,
    /// Whether [`Store::write_ahead`] wrote the record and its index entry.
    written_ahead: bool,
}

type TxResult<T> = Result<T, ConflictableTransactionError<AppendError>>;

fn abort(error: StoreError) -> ConflictableTransactionError<AppendError> {
    ConflictableTransactionError::Abort(AppendError::Store(error))
}

/// Checks that every record extends its chain as the group leaves it, before anything is
/// written, and marks the records to write ahead of the transaction: those of chains that
/// already have a head. A chain's first group goes through the transaction alone, so that
/// every record written ahead lies above an existing head, where
/// [`Store::drop_records_above_heads`] finds it.
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

fn head_value(entry: &Prepared<'_>) -> [u8; HEAD_VALUE_BYTES] {
    head_bytes(Head {
        seq: entry.record.header().seq,
        id: entry.record.id(),
    })
}

/// A head's value in the `heads` tree: seq (big endian), then the record id.
fn head_bytes(head: Head) -> [u8; HEAD_VALUE_BYTES] {
    let mut value = [0u8; HEAD_VALUE_BYTES];
    value[..SEQ_BYTES].copy_from_slice(&head.seq.to_be_bytes());
    value[SEQ_BYTES..].copy_from_slice(&head.id.0);
    value
}

/// `author`'s head as the `heads` tree holds it now.
fn head_in(heads: &sled::Tree, author: &str) -> Result<Option<Head>, StoreError> {
    match heads.get(author.as_bytes())? {
        Some(value) => parse_head(&value).map(Some),
        None => Ok(None),
    }
}

fn parse_head(value: &[u8]) -> Result<Head, StoreError> {
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

fn parse_u64(value: &[u8], what: &str) -> Result<u64, StoreError> {
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
fn record_id(bytes: &[u8]) -> Result<RecordId, StoreError> {
    let bytes: [u8; ID_BYTES] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a stored record id is not 32 bytes".into()))?;
    Ok(aidledger_spec::Digest(bytes))
}

/// Reads a `records` key back into (author, seq).
fn parse_chain_key(key: &[u8]) -> Result<(String, u64), StoreError> {
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

fn read_genesis(data_dir: &Path) -> Result<(Genesis, Vec<u8>), OpenError> {
    let path = data_dir.join(GENESIS_FILE);
    let bytes = std::fs::read(&path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => OpenError::MissingGenesis(path.clone()),
        _ => OpenError::ReadGenesis {
            path: path.clone(),
            source,
        },
    })?;
    let genesis =
        Genesis::decode(&bytes).map_err(|source| OpenError::CorruptGenesis { path, source })?;
    Ok((genesis, bytes))
}

/// Whether sled could not open because its file lock is held (sled 0.34 reports it only as an
/// I/O error with this message).
fn is_sled_lock_error(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Opens sled, waiting up to [`SLED_LOCK_WAIT`] for its file lock. sled 0.34 panics on some
/// corrupted files instead of returning an error; the panic is caught here so that a
/// corrupted store is an error a person can act on.
fn open_sled(path: &Path) -> Result<sled::Db, OpenError> {
    let started = Instant::now();
    let outcome = loop {
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(STORE_CACHE_BYTES);
        match catch_unwind(AssertUnwindSafe(|| config.open())) {
            Ok(Err(error)) if is_sled_lock_error(&error) && started.elapsed() < SLED_LOCK_WAIT => {
                std::thread::sleep(SLED_LOCK_RETRY);
            }
            outcome => break outcome,
        }
    };
    let detail = match outcome {
        Ok(Ok(db)) => return Ok(db),
        Ok(Err(error)) => error.to_string(),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            format!("sled panicked while recovering the database (is it corrupt?): {message}")
        }
    };
    Err(OpenError::Sled {
        path: path.to_path_buf(),
        detail,
    })
}
