//! Opening a data directory's store: the lock, `genesis.bin`, sled and its trees, and what an
//! open repairs or brings up to date before anything reads (records an interrupted append
//! left above the heads, the pending counters; at a node's open, the append index and the
//! governance index, then the crash recovery of `recovery`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use aidledger_spec::genesis::GenesisError;
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{codec, Genesis, NetworkId, RecordId};
use sled::transaction::{TransactionError, Transactional, TransactionalTree};

use crate::datadir::{DirLock, LockError, GENESIS_FILE, STORE_DIR};
use crate::durable::DurableFiles;
use crate::index::{AppendIndex, IndexResult, IndexTrees, IndexedRecord};
use crate::keys::{
    chain_key, index_generation, index_tree_name, is_governance_bytes, parse_chain_key,
    META_GOVERNANCE_INDEXED, META_NETWORK_ID,
};
use crate::limits::{
    INDEX_REBUILD_GROUP_RECORDS, SLED_LOCK_RETRY, SLED_LOCK_WAIT, STORE_CACHE_BYTES,
};
use crate::reader::{Inner, StoreReader};
use crate::recovery::DurableHeads;
use crate::scan::Rewinds;
use crate::{AppendError, Store, StoreError};

impl Store {
    /// Opens the store of a stopped node's data directory (it must exist), taking its lock, to
    /// write it; appends write `index` too. To read only, [`StoreReader::open`].
    pub fn open(data_dir: &Path, index: impl AppendIndex + 'static) -> Result<Store, OpenError> {
        let lock = lock_dir(data_dir)?;
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
        Store::open_with_cache(data_dir, lock, mode, index, STORE_CACHE_BYTES)
    }

    /// [`Store::open_with_lock`] with a page cache of `cache_bytes` instead of
    /// [`STORE_CACHE_BYTES`] (the node's `--store-cache-mib`, which checks it against
    /// [`crate::STORE_CACHE_BYTES_MIN`] and [`crate::STORE_CACHE_BYTES_MAX`]).
    pub fn open_with_cache(
        data_dir: &Path,
        lock: DirLock,
        mode: OpenMode,
        index: impl AppendIndex + 'static,
        cache_bytes: u64,
    ) -> Result<Store, OpenError> {
        let tree_name = index.tree_name();
        if mode == OpenMode::CreateIfMissing {
            // Before sled opens it for the node: a redaction's forgotten bodies leave the
            // disk here (`store::compact`).
            crate::compact::compact_if_due(&data_dir.join(STORE_DIR), tree_name, cache_bytes)?;
        }
        let reader = StoreReader::open_inner(data_dir, lock, mode, Some(tree_name), cache_bytes)?;
        let path = data_dir.join(STORE_DIR);
        let store_error = |source: StoreError| OpenError::Store {
            path: path.clone(),
            source,
        };
        // The tree the reader opened, shared.
        let Some(index_tree) = reader.inner.index_tree.clone() else {
            return Err(store_error(StoreError::Corrupt(
                "the store was opened without its index".into(),
            )));
        };
        let store = Store {
            reader,
            append_index: Box::new(index),
            index_tree,
        };
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
}

impl StoreReader {
    /// Opens the store of a stopped node's data directory (it must exist) to read it, taking
    /// its lock: what the CLI does. No append index is opened, so
    /// [`StoreReader::index_tree`] is empty.
    pub fn open(data_dir: &Path) -> Result<StoreReader, OpenError> {
        let lock = lock_dir(data_dir)?;
        StoreReader::open_inner(data_dir, lock, OpenMode::Existing, None, STORE_CACHE_BYTES)
    }

    /// Opens sled and its trees (the index's tree too if `index_tree` names one), and repairs
    /// what every open repairs, a reader's too.
    fn open_inner(
        data_dir: &Path,
        lock: DirLock,
        mode: OpenMode,
        index_tree: Option<&str>,
        cache_bytes: u64,
    ) -> Result<StoreReader, OpenError> {
        let (genesis, genesis_bytes) = read_genesis(data_dir)?;
        let network_id = genesis.network_id();
        let path = data_dir.join(STORE_DIR);
        if mode == OpenMode::Existing && !path.is_dir() {
            return Err(OpenError::MissingStore(path));
        }
        // sled recovers a log it cannot read as an empty database; a store that existed must
        // therefore still hold its network id, or it was corrupted.
        let existed = path.join("db").is_file();
        let db = open_sled(&path, cache_bytes)?;
        let store_error = |source: StoreError| OpenError::Store {
            path: path.clone(),
            source,
        };
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|error| store_error(error.into()))
        };
        let meta = tree(TREE_META)?;
        // The index's tree of the generation `meta` names (a redaction moves it on).
        let index_tree = match index_tree {
            Some(name) => {
                let generation = index_generation(&meta).map_err(store_error)?;
                Some(Arc::new(RwLock::new(tree(&index_tree_name(
                    name, generation,
                ))?)))
            }
            None => None,
        };
        let inner = Inner {
            records: tree(TREE_RECORDS)?,
            index: tree(TREE_INDEX)?,
            heads: tree(TREE_HEADS)?,
            proofs: tree(TREE_PROOFS)?,
            meta,
            pending: tree(TREE_PENDING)?,
            index_tree,
            governance: tree(TREE_GOVERNANCE)?,
            revoked: tree(TREE_REVOKED)?,
            revoked_index: tree(TREE_REVOKED_INDEX)?,
            merkle: tree(TREE_MERKLE)?,
            merkle_rewinds: tree(TREE_MERKLE_REWINDS)?,
            merkle_rewound: tree(TREE_MERKLE_REWOUND)?,
            checkpoints: tree(TREE_CHECKPOINTS)?,
            split_views: tree(TREE_SPLIT_VIEWS)?,
            redacted: tree(TREE_REDACTED)?,
            orders: tree(TREE_ORDERS)?,
            redactions_known: AtomicBool::new(false),
            pending_records: AtomicU64::new(0),
            pending_size_bytes: AtomicU64::new(0),
            chain_writer: Mutex::new(()),
            index_rebuild: Mutex::new(()),
            stopped: AtomicBool::new(false),
            rewinds: Rewinds::default(),
            changes: AtomicU64::new(0),
            fault_after_write_ahead: OnceLock::new(),
            durable_heads: DurableHeads::default(),
            start_state: OnceLock::new(),
            durable: DurableFiles::open(&path).map_err(|error| store_error(error.into()))?,
            path: path.clone(),
            db,
            cache_bytes,
            genesis,
            genesis_bytes,
            network_id,
            _lock: lock,
        };
        let reader = StoreReader {
            inner: Arc::new(inner),
        };
        reader.check_network(&path, existed)?;
        // The migration comes first: a head of an older format would be misread.
        reader.migrate_store_format().map_err(store_error)?;
        // Every open, a reader's too: what an append wrote ahead of a transaction that a crash
        // stopped is not part of the store, and an export or a verification must not see it.
        reader.drop_records_above_heads().map_err(store_error)?;
        // After that, so that the tree is built over the chains as they stand.
        reader.build_merkle_if_missing().map_err(store_error)?;
        reader.count_pending().map_err(store_error)?;
        reader
            .inner
            .redactions_known
            .store(!reader.inner.redacted.is_empty(), Ordering::SeqCst);
        Ok(reader)
    }
}

/// Takes the lock of a stopped node's data directory, which must exist.
fn lock_dir(data_dir: &Path) -> Result<DirLock, OpenError> {
    if !data_dir.is_dir() {
        return Err(OpenError::MissingDir(data_dir.to_path_buf()));
    }
    Ok(DirLock::acquire(data_dir)?)
}

impl StoreReader {
    /// Records the network id in a new store, or checks it in an existing one.
    fn check_network(&self, path: &Path, existed: bool) -> Result<(), OpenError> {
        let store_error = |source: StoreError| OpenError::Store {
            path: path.to_path_buf(),
            source,
        };
        match self.inner.meta.get(META_NETWORK_ID).map_err(|error| store_error(error.into()))? {
            Some(found) if found.as_ref() == self.inner.network_id.0 => Ok(()),
            Some(found) => Err(OpenError::WrongNetwork {
                path: path.to_path_buf(),
                expected: self.inner.network_id,
                found: hex::encode(found),
            }),
            None if !existed && self.inner.records.is_empty() => {
                self.inner.meta.insert(META_NETWORK_ID, &self.inner.network_id.0).map_err(|error| store_error(error.into()))?;
                self.flush_durable().map_err(store_error)
            }
            None => Err(store_error(StoreError::Corrupt(
                "the store has lost its network id: its files are corrupted or truncated \
                 (only if the node crashed during its very first start is removing the store/ directory safe)"
                    .into(),
            ))),
        }
    }

    /// Removes every record above its chain's head, with its index entry: what an append wrote
    /// ahead of a transaction that a crash kept from committing (or from reaching the disk).
    /// Chains without a head have nothing written ahead. Returns how many were removed.
    pub(crate) fn drop_records_above_heads(&self) -> Result<usize, StoreError> {
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
            for entry in self.inner.records.range(start..=end) {
                let (key, bytes) = entry?;
                // The index entry goes first, as in `remove_written_ahead`: a crash in between
                // leaves the record, which the next open finds again. Bytes whose header does
                // not parse (a write cut short) have no id to look for; an entry naming them
                // is harmless, since reads by id check the bytes they find.
                if let Ok(id) = aidledger_spec::signed::record_id_of_bytes(&bytes) {
                    self.inner.index.remove(id.0)?;
                }
                self.inner.records.remove(key)?;
                dropped += 1;
            }
        }
        Ok(dropped)
    }
}

impl Store {
    /// Builds the append index from the chains when it was written by an older version (or
    /// never): once, at the node's start, before the writer runs.
    fn update_index(&self) -> Result<(), StoreError> {
        if self.append_index.is_current(&self.own_index_tree())? {
            return Ok(());
        }
        self.rebuild_index()
    }

    /// Builds the append index from the chains. Clearing removes its version mark first, so a
    /// crash midway leaves an index that the next open rebuilds.
    pub(crate) fn rebuild_index(&self) -> Result<(), StoreError> {
        let _rebuild = self.lock_index_rebuild();
        self.own_index_tree().clear()?;
        let mut group = Vec::with_capacity(INDEX_REBUILD_GROUP_RECORDS);
        for entry in self.inner.records.iter() {
            let (key, bytes) = entry?;
            let (author, seq) = parse_chain_key(&key)?;
            group.extend(to_index(author, seq, bytes.to_vec())?);
            if group.len() == INDEX_REBUILD_GROUP_RECORDS {
                self.index_group(&group, |_| Ok(()))?;
                group.clear();
            }
        }
        self.index_group(&group, |_| Ok(()))?;
        // Every stored record is indexed now: no chain is behind.
        self.clear_index_marks()?;
        self.append_index.mark_current(&self.own_index_tree())?;
        self.make_durable()
    }

    /// Indexes stored records (each as [`to_index`] reads it) in one transaction, as an append
    /// of them would have, with whatever `also` writes in `meta` in the same transaction.
    pub(crate) fn index_group(
        &self,
        group: &[(String, u64, RecordId, aidledger_spec::Body)],
        also: impl Fn(&TransactionalTree) -> IndexResult,
    ) -> Result<(), StoreError> {
        let index_tree = self.own_index_tree();
        let trees = (
            &self.inner.records,
            &self.inner.index,
            &index_tree,
            &self.inner.meta,
        );
        let outcome = trees.transaction(|(records, index, index_tree, meta)| {
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
            indexer.finish()?;
            also(meta)
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
        if self.inner.meta.contains_key(META_GOVERNANCE_INDEXED)? {
            return Ok(());
        }
        for entry in self.inner.records.iter() {
            let (key, bytes) = entry?;
            if is_governance_bytes(&bytes) {
                self.inner.governance.insert(key, &[][..])?;
            }
        }
        self.inner.meta.insert(META_GOVERNANCE_INDEXED, &[][..])?;
        self.make_durable()
    }
}

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
pub(crate) fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db, OpenError> {
    let started = Instant::now();
    let outcome = loop {
        let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
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

const TREE_RECORDS: &str = "records";
const TREE_INDEX: &str = "index";
const TREE_HEADS: &str = "heads";
const TREE_PROOFS: &str = "proofs";
const TREE_META: &str = "meta";
const TREE_PENDING: &str = "pending";
const TREE_GOVERNANCE: &str = "governance";
const TREE_REVOKED: &str = "revoked";
const TREE_REVOKED_INDEX: &str = "revoked_index";
const TREE_MERKLE: &str = "merkle";
const TREE_MERKLE_REWINDS: &str = "merkle_rewinds";
const TREE_MERKLE_REWOUND: &str = "merkle_rewound";
const TREE_CHECKPOINTS: &str = "checkpoints";
const TREE_SPLIT_VIEWS: &str = "split_views";
const TREE_REDACTED: &str = "redacted";
const TREE_ORDERS: &str = "orders";

/// A stored record at (author, seq) as [`Store::index_group`] takes it: its id and decoded
/// body; `None` for a withheld record (redacted: there is no body to index).
pub(crate) fn to_index(
    author: String,
    seq: u64,
    bytes: Vec<u8>,
) -> Result<Option<(String, u64, RecordId, aidledger_spec::Body)>, StoreError> {
    if aidledger_spec::withheld::is_withheld(&bytes) {
        return Ok(None);
    }
    let corrupt = |error| StoreError::Corrupt(format!("a stored record: {error}"));
    let record = SignedRecord::parse(bytes).map_err(corrupt)?;
    let body = codec::decode_exact(record.body_bytes()).map_err(corrupt)?;
    Ok(Some((author, seq, record.id, body)))
}
