//! How an index that lives beside the chains hooks into the store: [`AppendIndex`].
//!
//! An index kept in a sled tree of its own (the node's explorer totals and reverse
//! references) must be exactly as current as the chains, so the store writes it inside the
//! transaction that appends the records, rebuilds it from the chains when it is not current
//! (at a node's open, after a revocation or a discarded tail moved a record it holds out of
//! its chain), and never otherwise. The store only knows this trait: what an index holds and
//! how it reads records is its own business.

use aidledger_spec::{Body, BodyKind, RecordId, VerifiedRecord};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::{AppendError, StoreError};

/// What an index's writes inside a store transaction return: an abort carries the
/// [`AppendError`] the append (or rebuild) then fails with.
pub type IndexResult = Result<(), ConflictableTransactionError<AppendError>>;

/// The trees an index is given inside one store transaction.
pub struct IndexTrees<'a> {
    /// The index's own tree ([`AppendIndex::tree_name`]).
    pub own: &'a TransactionalTree,
    /// The store's `index` tree (record id → `records` key), to look up records stored
    /// earlier, in this transaction or before. Read it only: the store writes it.
    pub ids: &'a TransactionalTree,
    /// The store's `records` tree, likewise read only.
    pub records: &'a TransactionalTree,
}

/// A stored record as an index sees it when it is rebuilt.
pub struct IndexedRecord<'a> {
    /// The author.
    pub author: &'a str,
    /// Its position.
    pub seq: u64,
    /// Its id.
    pub id: RecordId,
    /// Its decoded body.
    pub body: &'a Body,
}

/// One transaction's worth of indexing: records one by one, then [`GroupIndexer::finish`].
pub trait GroupIndexer {
    /// Indexes a record being appended, after its chain entries are written in this
    /// transaction. By default as [`GroupIndexer::index`] of its parts.
    fn append(&self, record: &VerifiedRecord) -> IndexResult {
        let header = record.header();
        self.index(&IndexedRecord {
            author: &header.author,
            seq: header.seq,
            id: record.id(),
            body: record.body(),
        })
    }

    /// Indexes a stored record (a rebuild, which reads records that were verified when they
    /// were appended).
    fn index(&self, record: &IndexedRecord<'_>) -> IndexResult;

    /// Writes what the indexer kept in memory for the transaction; once, after its last record.
    fn finish(&self) -> IndexResult;
}

/// An index written inside the store's transactions (see the module doc). A store opened to
/// write takes one; a [`crate::Store`] never appends without its index.
pub trait AppendIndex: Send + Sync {
    /// The name of the sled tree the index keeps. The store opens it, hands it to the index
    /// inside its transactions and to readers ([`crate::StoreReader::index_tree`]).
    fn tree_name(&self) -> &'static str;

    /// Starts indexing one transaction's records in `trees`.
    fn group<'a>(&self, trees: IndexTrees<'a>) -> Box<dyn GroupIndexer + 'a>;

    /// Whether `tree` was written by this index's current format; one that is not is rebuilt
    /// from the chains at a node's open.
    fn is_current(&self, tree: &sled::Tree) -> Result<bool, StoreError>;

    /// Marks `tree` current, after a rebuild.
    fn mark_current(&self, tree: &sled::Tree) -> Result<(), StoreError>;

    /// Removes the mark of [`AppendIndex::mark_current`]: before the tree is cleared in more
    /// than one step, so that a crash midway leaves an index the next open rebuilds.
    fn mark_stale(&self, tree: &sled::Tree) -> Result<(), StoreError>;

    /// Whether records of this kind can be in the index: when one leaves its chain (a
    /// revocation, a discarded tail), the index is rebuilt.
    fn indexes(&self, kind: BodyKind) -> bool;
}

/// Read access to the tree of a store's index, as a [`crate::StoreReader`] gives it: sled's
/// reads and nothing that writes. Empty when the store was opened without an index.
#[derive(Clone)]
pub struct IndexTree<'a>(Option<sled::Tree>, std::marker::PhantomData<&'a ()>);

impl IndexTree<'_> {
    pub(crate) fn new<'a>(tree: Option<sled::Tree>) -> IndexTree<'a> {
        IndexTree(tree, std::marker::PhantomData)
    }

    /// The value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<sled::IVec>> {
        match &self.0 {
            Some(tree) => tree.get(key),
            None => Ok(None),
        }
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> sled::Result<bool> {
        match &self.0 {
            Some(tree) => tree.contains_key(key),
            None => Ok(false),
        }
    }

    /// The entries whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> IndexIter {
        IndexIter(self.0.as_ref().map(|tree| tree.scan_prefix(prefix)))
    }

    /// The entries in `range`, in key order (either way: [`DoubleEndedIterator`]).
    pub fn range<K: AsRef<[u8]>, R: std::ops::RangeBounds<K>>(&self, range: R) -> IndexIter {
        IndexIter(self.0.as_ref().map(|tree| tree.range(range)))
    }
}

/// Entries of an [`IndexTree`], read lazily.
pub struct IndexIter(Option<sled::Iter>);

impl Iterator for IndexIter {
    type Item = sled::Result<(sled::IVec, sled::IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next()
    }
}

impl DoubleEndedIterator for IndexIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.as_mut()?.next_back()
    }
}
