//! A tree held in memory: every complete subtree's hash by level.

use super::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root, GenerateError, MerkleError,
    NodeSource, LEVELS_MAX,
};
use crate::ids::{Digest, RecordId};

/// A tree held in memory, every complete subtree's hash by level: what tests, and tools that
/// hold a chain's ids, generate proofs from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Digest>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// The tree of a chain's record ids, in `seq` order.
    pub fn of_record_ids<'a>(ids: impl IntoIterator<Item = &'a RecordId>) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for id in ids {
            tree.push(leaf_hash(id));
        }
        tree
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Appends a leaf hash, completing its parents.
    pub fn push(&mut self, leaf: Digest) {
        let mut hash = leaf;
        for level in 0.. {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            if nodes.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &hash);
        }
    }

    fn check_size(&self, size: u64) -> Result<(), MerkleError> {
        if size > self.size() {
            return Err(MerkleError::SizeBeyondTree {
                size,
                available: self.size(),
            });
        }
        Ok(())
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Digest, MerkleError> {
        self.check_size(size)?;
        root(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of its first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Digest>, MerkleError> {
        self.check_size(size)?;
        inclusion_proof(self, index, size).map_err(GenerateError::into_merkle)
    }

    /// The consistency proof between the trees of its first `old_size` and `new_size` leaves.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Digest>, MerkleError> {
        self.check_size(new_size)?;
        consistency_proof(self, old_size, new_size).map_err(GenerateError::into_merkle)
    }
}

impl GenerateError<MerkleError> {
    fn into_merkle(self) -> MerkleError {
        match self {
            GenerateError::Request(error) | GenerateError::Source(error) => error,
        }
    }
}

impl NodeSource for MemoryTree {
    type Error = MerkleError;

    fn node(&self, level: u8, index: u64) -> Result<Digest, MerkleError> {
        self.levels
            .get(usize::from(level))
            .and_then(|nodes| nodes.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(MerkleError::SizeBeyondTree {
                size: index.saturating_add(1) << level.min(LEVELS_MAX - 1),
                available: self.size(),
            })
    }
}
