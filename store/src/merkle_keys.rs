//! The keys and values of the Merkle trees' sled trees (FORMAT.md, "Store formats"), and what
//! a transaction writes into them: an append's nodes and tree heads ([`Plan`]), a revocation's
//! or a discarded tail's changes ([`RewindPlan`]).

use aidledger_spec::codec::{Codec, DecodeError, Reader};
use aidledger_spec::sortkey::SortKey;
use aidledger_spec::{Digest, RecordId};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::StoreError;

/// The level byte of a chain's tree head key: no node has it (levels are below 64).
const TREE_HEAD_LEVEL: u8 = u8::MAX;

/// The `merkle` key of a complete subtree: author (short string), level (`u8`), index (`u64`),
/// big endian (FORMAT.md §19). `None` for an author too long to be a key.
pub(crate) fn node_key(author: &str, level: u8, index: u64) -> Option<Vec<u8>> {
    Some(
        SortKey::new()
            .short_str(author)
            .ok()?
            .u8(level)
            .u64(index)
            .into_bytes(),
    )
}

/// The `merkle` key of a chain's tree head: author, then `ff`.
pub(crate) fn tree_head_key(author: &str) -> Option<Vec<u8>> {
    Some(
        SortKey::new()
            .short_str(author)
            .ok()?
            .u8(TREE_HEAD_LEVEL)
            .into_bytes(),
    )
}

/// The `merkle_rewinds` key of a chain's rewind: author, epoch (`u64`, from 0).
pub(crate) fn rewind_key(author: &str, epoch: u64) -> Option<Vec<u8>> {
    Some(
        SortKey::new()
            .short_str(author)
            .ok()?
            .u64(epoch)
            .into_bytes(),
    )
}

/// The `merkle_rewound` key of a node or leaf a rewind replaced: author, epoch, level, index.
pub(crate) fn rewound_key(author: &str, epoch: u64, level: u8, index: u64) -> Option<Vec<u8>> {
    Some(
        SortKey::new()
            .short_str(author)
            .ok()?
            .u64(epoch)
            .u8(level)
            .u64(index)
            .into_bytes(),
    )
}

/// A rewind of a chain's tree by a revocation: the tree that was, kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MerkleRewind {
    /// The chain's rewinds counted from 0, in the order they happened.
    pub epoch: u64,
    /// The first position revoked: the trees before and after agree up to this size.
    pub from_seq: u64,
    /// The size of the tree the revocation replaced (the chain's length before it).
    pub size: u64,
    /// That tree's root.
    pub root: Digest,
    /// The governance record the revocation applied (`by` of its rejection), if it names one.
    pub by: Option<RecordId>,
}

/// A `merkle_rewinds` value: `from_seq` (`u64`), `size` (`u64`), `root` (32 bytes), `by`
/// (an `Option` of §2: `00`, or `01` and 32 bytes).
impl MerkleRewind {
    pub(crate) fn value(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.from_seq.write(&mut out);
        self.size.write(&mut out);
        self.root.write(&mut out);
        match self.by {
            Some(by) => {
                out.push(1);
                by.write(&mut out);
            }
            None => out.push(0),
        }
        out
    }

    fn read(epoch: u64, value: &[u8]) -> Result<MerkleRewind, StoreError> {
        let parse = || -> Result<MerkleRewind, DecodeError> {
            let mut reader = Reader::new(value);
            let from_seq = reader.u64("a rewind's from_seq")?;
            let size = reader.u64("a rewind's size")?;
            let root = Digest::read(&mut reader)?;
            let by = match reader.array::<1>("a rewind's by tag")? {
                [0] => None,
                [1] => Some(Digest::read(&mut reader)?),
                [tag] => {
                    return Err(DecodeError::Malformed(format!(
                        "a rewind's by has Option tag {tag}"
                    )))
                }
            };
            reader.finish()?;
            Ok(MerkleRewind {
                epoch,
                from_seq,
                size,
                root,
                by,
            })
        };
        parse().map_err(|error| StoreError::Corrupt(format!("a Merkle rewind: {error}")))
    }
}

/// Every rewind of `author`'s tree in `tree` (`merkle_rewinds`), oldest first.
pub(crate) fn rewinds_of(tree: &sled::Tree, author: &str) -> Result<Vec<MerkleRewind>, StoreError> {
    let prefix = SortKey::new()
        .short_str(author)
        .map_err(|_| crate::merkle::too_long(author))?
        .into_bytes();
    let mut rewinds = Vec::new();
    for entry in tree.scan_prefix(&prefix) {
        let (key, value) = entry?;
        let epoch = key
            .get(prefix.len()..)
            .and_then(|rest| <[u8; 8]>::try_from(rest).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| StoreError::Corrupt("a Merkle rewind key does not parse".into()))?;
        rewinds.push(MerkleRewind::read(epoch, &value)?);
    }
    Ok(rewinds)
}

/// What an append writes into `merkle`: (key, value) pairs, nodes and tree heads.
pub(crate) type Plan = Vec<(Vec<u8>, Vec<u8>)>;

/// Writes an append's [`Plan`] inside its transaction.
pub(crate) fn apply_plan<E>(
    plan: &Plan,
    merkle: &TransactionalTree,
) -> Result<(), ConflictableTransactionError<E>> {
    for (key, value) in plan {
        merkle.insert(key.as_slice(), value.as_slice())?;
    }
    Ok(())
}

/// What a revocation (or a discarded tail) changes in the trees, in its transaction.
#[derive(Default)]
pub(crate) struct RewindPlan {
    /// `merkle` keys of the nodes replaced.
    pub(crate) removed: Vec<Vec<u8>>,
    /// `merkle_rewound` entries: the nodes replaced and the revoked leaves, kept.
    pub(crate) kept: Vec<(Vec<u8>, Digest)>,
    /// The `merkle_rewinds` entry.
    pub(crate) rewind: Option<(Vec<u8>, Vec<u8>)>,
    /// The chain's tree head: its key, and its new value (`None`: the chain has no head).
    pub(crate) tree_head: (Vec<u8>, Option<Vec<u8>>),
}

impl RewindPlan {
    /// Its writes, inside the transaction.
    pub(crate) fn apply<E>(
        &self,
        merkle: &TransactionalTree,
        rewinds: &TransactionalTree,
        rewound: &TransactionalTree,
    ) -> Result<(), ConflictableTransactionError<E>> {
        for (key, hash) in &self.kept {
            rewound.insert(key.as_slice(), &hash.0[..])?;
        }
        if let Some((key, value)) = &self.rewind {
            rewinds.insert(key.as_slice(), value.as_slice())?;
        }
        self.apply_tree_head(merkle)
    }

    /// Its `merkle` writes alone: the nodes removed and the tree head (all a discarded tail
    /// writes, keeping nothing).
    pub(crate) fn apply_tree_head<E>(
        &self,
        merkle: &TransactionalTree,
    ) -> Result<(), ConflictableTransactionError<E>> {
        for key in &self.removed {
            merkle.remove(key.as_slice())?;
        }
        let (key, value) = &self.tree_head;
        match value {
            Some(value) => merkle.insert(key.as_slice(), value.as_slice())?,
            None => merkle.remove(key.as_slice())?,
        };
        Ok(())
    }
}
