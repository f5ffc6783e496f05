//! The Merkle tree of a chain (FORMAT.md §22): RFC 9162 §2.1's tree over the chain's record
//! ids in `seq` order, its root at any size, inclusion and consistency proofs, and their
//! verification.
//!
//! Generation reads the hashes of complete ("perfect") subtrees through [`NodeSource`], so the
//! store answers from the nodes it keeps (O(log n) point reads a proof, no scan) and tests from
//! a [`MemoryTree`]. Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step (the
//! `fn`/`sn` bit algorithms), after checking the proof's length against the length the sizes
//! call for, so that a wrong length is named as such. Nothing here panics on hostile input:
//! sizes and indices are `u64`s from anywhere, and every combination is answered with a value
//! or a [`MerkleError`].

use sha2::{Digest as _, Sha256};

use crate::ids::{Digest, RecordId};

mod encoding;
mod memory;
mod verify;

pub use encoding::{ConsistencyProof, InclusionProof};
pub use memory::MemoryTree;
pub use verify::{verify_consistency, verify_inclusion};

/// The byte before a leaf's input in its hash (RFC 9162 §2.1.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// The byte before two children's hashes in an interior node's hash (RFC 9162 §2.1.1).
pub const NODE_PREFIX: u8 = 0x01;
/// Levels a tree of `u64` size can have above its leaves: a node's level is below this.
pub const LEVELS_MAX: u8 = 64;

/// The hash of a leaf of a chain's tree: SHA-256(0x00 ‖ record id).
pub fn leaf_hash(record_id: &RecordId) -> Digest {
    leaf_hash_bytes(&record_id.0)
}

/// The hash of a leaf whose input is any bytes: SHA-256(0x00 ‖ input). A chain's leaves are
/// record ids ([`leaf_hash`]); this form is for other trees and the RFC 6962 reference tree.
pub fn leaf_hash_bytes(input: &[u8]) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(input);
    Digest(hasher.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Digest(hasher.finalize().into())
}

/// The root of the empty tree: SHA-256 of no bytes (RFC 9162 §2.1.1).
pub fn empty_root() -> Digest {
    Digest(Sha256::digest([]).into())
}

/// Why a proof was refused, or why one cannot be made for the sizes asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// An inclusion proof's leaf is not in the tree.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof's old tree is larger than its new one.
    #[error("the old tree size {old_size} is larger than the new tree size {new_size}")]
    SizesReversed {
        /// The old tree's size.
        old_size: u64,
        /// The new tree's size.
        new_size: u64,
    },
    /// A consistency proof from the empty tree: every tree extends it, and RFC 9162 defines
    /// no proof for it.
    #[error("no consistency proof starts from the empty tree")]
    EmptyOldTree,
    /// A tree a proof or root was asked of is larger than the tree the source holds.
    #[error("tree size {size} is larger than the {available} leaves held")]
    SizeBeyondTree {
        /// The size asked for.
        size: u64,
        /// The leaves the source holds.
        available: u64,
    },
    /// The proof has more or fewer hashes than its sizes call for.
    #[error("the proof has {got} hashes where its sizes call for {expected}")]
    WrongProofLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes the sizes call for.
        expected: usize,
    },
    /// An inclusion proof leads to another root than the one given.
    #[error("the proof leads to root {computed}, not to the given root {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: Digest,
        /// The root given.
        expected: Digest,
    },
    /// A consistency proof does not lead to the old tree's root: the old tree is not a prefix.
    #[error("the proof leads to old root {computed}, not to the given old root {expected}")]
    OldRootMismatch {
        /// The old root the proof leads to.
        computed: Digest,
        /// The old root given.
        expected: Digest,
    },
    /// A consistency proof does not lead to the new tree's root.
    #[error("the proof leads to new root {computed}, not to the given new root {expected}")]
    NewRootMismatch {
        /// The new root the proof leads to.
        computed: Digest,
        /// The new root given.
        expected: Digest,
    },
}

/// Why a root or proof could not be made: the request, or the source of the hashes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError<E> {
    /// The sizes or index asked for admit no proof.
    #[error(transparent)]
    Request(#[from] MerkleError),
    /// The source could not give a subtree's hash.
    #[error("a subtree hash could not be read: {0}")]
    Source(E),
}

/// Where generation reads subtree hashes from: the hash of the complete subtree at `level`
/// (0 for leaves) and `index` (counted from 0 on its level), which covers the leaves
/// `index·2^level .. (index+1)·2^level`. Generation asks only for subtrees that lie wholly
/// within the tree size it was given.
pub trait NodeSource {
    /// Why a hash could not be read.
    type Error;

    /// The hash of the complete subtree at (`level`, `index`).
    fn node(&self, level: u8, index: u64) -> Result<Digest, Self::Error>;
}

/// Bits needed to write `value` (0 for 0).
fn bit_length(value: u64) -> u32 {
    u64::BITS - value.leading_zeros()
}

/// `value >> shift`, 0 when every bit is shifted out (a shift of 64 or more).
fn shifted(value: u64, shift: u32) -> u64 {
    value.checked_shr(shift).unwrap_or(0)
}

/// The level as the `u8` of [`NodeSource::node`]; every level of a `u64` tree fits.
fn level_u8(level: u32) -> u8 {
    u8::try_from(level).unwrap_or(u8::MAX)
}

/// How many hashes an inclusion proof of the subtree at (`level`, `index`) in a tree of `size`
/// leaves has: `inner` siblings below the level where its path and the last leaf's path
/// meet, then one left sibling for each right turn above. Requires the subtree in the tree.
fn path_shape(level: u32, index: u64, size: u64) -> (u32, u32) {
    let last = shifted(size.saturating_sub(1), level);
    let inner = bit_length(index ^ last);
    let border = shifted(index, inner).count_ones();
    (inner, border)
}

/// Hashes an inclusion proof of a leaf at `index` in a tree of `size` has (RFC 9162 §2.1.3.1).
pub fn inclusion_proof_length(index: u64, size: u64) -> Result<usize, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (inner, border) = path_shape(0, index, size);
    Ok((inner + border) as usize)
}

/// Hashes a consistency proof from `old_size` to `new_size` has (RFC 9162 §2.1.4.1).
pub fn consistency_proof_length(old_size: u64, new_size: u64) -> Result<usize, MerkleError> {
    check_consistency_sizes(old_size, new_size)?;
    if old_size == new_size {
        return Ok(0);
    }
    let (level, index) = old_tree_seed(old_size);
    let (inner, border) = path_shape(level, index, new_size);
    // The seed (the old tree's last complete subtree) leads the proof unless it is the whole
    // old tree, whose root the verifier already holds.
    Ok((inner + border) as usize + usize::from(index != 0))
}

fn check_consistency_sizes(old_size: u64, new_size: u64) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::SizesReversed { old_size, new_size });
    }
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    Ok(())
}

/// The largest complete subtree that ends the old tree: its level and index.
fn old_tree_seed(old_size: u64) -> (u32, u64) {
    let level = old_size.trailing_zeros();
    (level, shifted(old_size - 1, level))
}

/// The hash of the leaves `start..end` (`start < end`, `start` a multiple of a power of two
/// at least `end - start`): the complete subtrees that cover them, left to right, folded from
/// the right as RFC 9162's MTH does. At most 64 reads.
fn range_hash<S: NodeSource>(source: &S, start: u64, end: u64) -> Result<Digest, S::Error> {
    let mut parts = Vec::new();
    let mut position = start;
    let width = end - start;
    for level in (0..u64::BITS).rev() {
        if shifted(width, level) & 1 == 1 {
            parts.push(source.node(level_u8(level), shifted(position, level))?);
            position += 1u64 << level;
        }
    }
    let mut parts = parts.into_iter().rev();
    let mut hash = parts.next().unwrap_or_else(empty_root);
    for left in parts {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

/// The root of the tree of the first `size` leaves (MTH(D[0:size]), RFC 9162 §2.1.1).
pub fn root<S: NodeSource>(source: &S, size: u64) -> Result<Digest, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(source, 0, size)
}

/// The inclusion path of the complete subtree at (`level`, `index`) in a tree of `size`:
/// siblings from the bottom up.
fn path<S: NodeSource>(
    source: &S,
    level: u32,
    index: u64,
    size: u64,
) -> Result<Vec<Digest>, S::Error> {
    let (inner, border) = path_shape(level, index, size);
    let mut proof = Vec::with_capacity((inner + border) as usize);
    for step in 0..inner {
        let sibling = shifted(index, step) ^ 1;
        let at = level + step;
        if step + 1 == inner {
            // Where the paths to this subtree and to the last leaf meet, the sibling on the
            // right holds the last leaf and may be incomplete: the hash of its leaves.
            proof.push(range_hash(source, sibling << at, size)?);
        } else {
            proof.push(source.node(level_u8(at), sibling)?);
        }
    }
    for step in inner..u64::BITS - level {
        let ancestor = shifted(index, step);
        if ancestor & 1 == 1 {
            proof.push(source.node(level_u8(level + step), ancestor ^ 1)?);
        }
    }
    Ok(proof)
}

/// The inclusion proof of the leaf at `index` in the tree of `size` (PATH, RFC 9162 §2.1.3.1).
pub fn inclusion_proof<S: NodeSource>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Digest>, GenerateError<S::Error>> {
    inclusion_proof_length(index, size)?;
    path(source, 0, index, size).map_err(GenerateError::Source)
}

/// The consistency proof from the tree of `old_size` to the tree of `new_size` (PROOF,
/// RFC 9162 §2.1.4.1). Equal sizes have the empty proof.
pub fn consistency_proof<S: NodeSource>(
    source: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Digest>, GenerateError<S::Error>> {
    if consistency_proof_length(old_size, new_size)? == 0 {
        return Ok(Vec::new());
    }
    let (level, index) = old_tree_seed(old_size);
    let mut proof = Vec::new();
    if index != 0 {
        proof.push(
            source
                .node(level_u8(level), index)
                .map_err(GenerateError::Source)?,
        );
    }
    proof.extend(path(source, level, index, new_size).map_err(GenerateError::Source)?);
    Ok(proof)
}

/// The nodes that become complete when a leaf is appended to a tree of `size` leaves: the
/// leaf itself, then each parent it completes, as (level, index, hash). `source` gives the
/// left siblings, complete subtrees of the tree before the leaf. 1 + (trailing ones of `size`)
/// nodes; 2 a leaf on average.
pub fn completed_nodes<S: NodeSource>(
    source: &S,
    size: u64,
    leaf: Digest,
) -> Result<Vec<(u8, u64, Digest)>, S::Error> {
    let mut nodes = vec![(0, size, leaf)];
    let mut hash = leaf;
    let mut index = size;
    let mut level = 0u8;
    while index & 1 == 1 {
        let left = source.node(level, index - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        index >>= 1;
        nodes.push((level, index, hash));
    }
    Ok(nodes)
}
