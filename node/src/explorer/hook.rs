//! The explorer's index as the store's [`AppendIndex`]: the store writes it inside its append
//! transactions and rebuilds it from the chains, through the functions of [`super::index`].

use aidledger_spec::{BodyKind, VerifiedRecord};
use aidledger_store::index::{IndexResult, IndexTrees, IndexedRecord};
use aidledger_store::{AppendIndex, GroupIndexer, StoreError};

use super::index::{self, AppendTrees};

/// The name of the explorer's sled tree in a node's store.
pub const EXPLORER_TREE: &str = "explorer";

/// The explorer's index, handed to the store when a node (or a test) opens it to write.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplorerIndex;

impl AppendIndex for ExplorerIndex {
    fn tree_name(&self) -> &'static str {
        EXPLORER_TREE
    }

    fn group<'a>(&self, trees: IndexTrees<'a>) -> Box<dyn GroupIndexer + 'a> {
        Box::new(ExplorerGroup(AppendTrees::new(
            trees.own,
            trees.ids,
            trees.records,
        )))
    }

    fn is_current(&self, tree: &sled::Tree) -> Result<bool, StoreError> {
        index::is_current(tree)
    }

    fn mark_current(&self, tree: &sled::Tree) -> Result<(), StoreError> {
        index::mark_current(tree)
    }

    fn mark_stale(&self, tree: &sled::Tree) -> Result<(), StoreError> {
        index::mark_stale(tree)
    }

    /// Every record but governance records is indexed (statements for their texts: "Is this
    /// genuine?", and their titles' search terms).
    fn indexes(&self, kind: BodyKind) -> bool {
        !kind.is_governance()
    }
}

/// One transaction's explorer writes: [`AppendTrees`] keeps the totals it touched in memory.
struct ExplorerGroup<'a>(AppendTrees<'a>);

impl GroupIndexer for ExplorerGroup<'_> {
    fn append(&self, record: &VerifiedRecord) -> IndexResult {
        index::on_append(&self.0, record)
    }

    fn index(&self, record: &IndexedRecord<'_>) -> IndexResult {
        index::index_record(&self.0, record.author, record.seq, record.id, record.body)
    }

    fn finish(&self) -> IndexResult {
        self.0.finish()
    }
}
