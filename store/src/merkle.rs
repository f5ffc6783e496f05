//! Every chain's Merkle tree (FORMAT.md §22 and "Store formats"): the hash of each complete
//! subtree, kept in the `merkle` tree by (author, level, index) and written in the same sled
//! transaction that moves the chain's head, so that the root at any size, inclusion and
//! consistency proofs are a few point reads (about 2 log₂ n), never a scan.
//!
//! An append writes the nodes its record completes: the leaf, then each parent whose right
//! child it completes (2 a record on average, `merkle::completed_nodes`). A revocation that
//! rewinds a chain from `p` moves the nodes that cover positions from `p` on into
//! `merkle_rewound` under a new epoch and records the old tree's size, root, `p` and the
//! governance record in `merkle_rewinds`, in its own transaction: the tree never shrinks
//! silently, and the old tree's proofs can still be made ([`StoreReader::rewound_inclusion_proof`]).
//! A tail discarded at open (never durable, so never served) has its nodes removed. A store
//! without the tree (made before it) has it built from the chains at open.

use aidledger_spec::codec::{Codec, DecodeError, Reader};
use aidledger_spec::merkle::{
    self, completed_nodes, ConsistencyProof, InclusionProof, MerkleError, NodeSource,
};
use aidledger_spec::sortkey::SortKey;
use aidledger_spec::{Digest, RecordId};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::keys::record_id;
use crate::limits::MERKLE_BUILD_BATCH_NODES;
use crate::{AppendError, StoreError, StoreReader};

/// Present in `meta` once `merkle` holds every chain's tree (a store made before the tree
/// existed has it built at open).
pub(crate) const META_MERKLE_BUILT: &[u8] = b"merkle_built";

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

/// The `merkle_rewinds` key of a chain's rewind: author, epoch (`u64`, from 0).
fn rewind_key(author: &str, epoch: u64) -> Option<Vec<u8>> {
    Some(
        SortKey::new()
            .short_str(author)
            .ok()?
            .u64(epoch)
            .into_bytes(),
    )
}

/// The `merkle_rewound` key of a node a rewind replaced: author, epoch, level, index.
fn rewound_key(author: &str, epoch: u64, level: u8, index: u64) -> Option<Vec<u8>> {
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

fn parse_hash(value: &[u8]) -> Result<Digest, StoreError> {
    record_id(value).map_err(|_| StoreError::Corrupt("a Merkle node is not 32 bytes".into()))
}

fn missing(author: &str, level: u8, index: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "{author}'s Merkle tree has no node at level {level}, index {index}"
    ))
}

fn too_long(author: &str) -> StoreError {
    StoreError::Corrupt(format!("author {author:?} is too long to be a key"))
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
    fn value(&self) -> Vec<u8> {
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

/// The nodes of `author`'s current tree.
struct Nodes<'a> {
    tree: &'a sled::Tree,
    author: &'a str,
}

impl NodeSource for Nodes<'_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Digest, StoreError> {
        let key = node_key(self.author, level, index).ok_or_else(|| too_long(self.author))?;
        match self.tree.get(key)? {
            Some(value) => parse_hash(&value),
            None => Err(missing(self.author, level, index)),
        }
    }
}

/// The nodes of `author`'s tree as it was just before rewind `epoch`: a node the rewind
/// replaced is under that epoch; one it kept is where it is now, or under the first later
/// rewind that replaced it.
struct RewoundNodes<'a> {
    reader: &'a StoreReader,
    author: &'a str,
    epochs: std::ops::Range<u64>,
}

impl NodeSource for RewoundNodes<'_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Digest, StoreError> {
        for epoch in self.epochs.clone() {
            let key = rewound_key(self.author, epoch, level, index)
                .ok_or_else(|| too_long(self.author))?;
            if let Some(value) = self.reader.inner.merkle_rewound.get(key)? {
                return parse_hash(&value);
            }
        }
        Nodes {
            tree: &self.reader.inner.merkle,
            author: self.author,
        }
        .node(level, index)
    }
}

/// The nodes of `author`'s tree inside an append's transaction (which sees its own writes).
pub(crate) struct TxNodes<'a> {
    pub(crate) tree: &'a TransactionalTree,
    pub(crate) author: &'a str,
}

impl NodeSource for TxNodes<'_> {
    type Error = ConflictableTransactionError<AppendError>;

    fn node(&self, level: u8, index: u64) -> Result<Digest, Self::Error> {
        let abort = |error| ConflictableTransactionError::Abort(AppendError::Store(error));
        let key =
            node_key(self.author, level, index).ok_or_else(|| abort(too_long(self.author)))?;
        match self.tree.get(key)? {
            Some(value) => parse_hash(&value).map_err(abort),
            None => Err(abort(missing(self.author, level, index))),
        }
    }
}

/// Writes, inside an append's transaction, the nodes that the record at `seq` (its id `id`)
/// completes in `author`'s tree, whose size before it is `seq`.
pub(crate) fn append_nodes(
    tree: &TransactionalTree,
    author: &str,
    seq: u64,
    id: &RecordId,
) -> Result<(), ConflictableTransactionError<AppendError>> {
    let source = TxNodes { tree, author };
    for (level, index, hash) in completed_nodes(&source, seq, merkle::leaf_hash(id))? {
        let key = node_key(author, level, index).ok_or_else(|| {
            ConflictableTransactionError::Abort(AppendError::Store(too_long(author)))
        })?;
        tree.insert(key, &hash.0[..])?;
    }
    Ok(())
}

/// The complete subtrees of a tree of `size` leaves that cover a position at `from` or later:
/// what a rewind to `from` replaces. About 2 (size − from) + log₂ size of them.
pub(crate) fn nodes_from(from: u64, size: u64) -> impl Iterator<Item = (u8, u64)> {
    (0..merkle::LEVELS_MAX).flat_map(move |level| {
        let first = from.checked_shr(u32::from(level)).unwrap_or(0);
        let end = size.checked_shr(u32::from(level)).unwrap_or(0);
        (first..end).map(move |index| (level, index))
    })
}

/// What a revocation's transaction writes for the tree (see [`StoreReader::plan_rewind`]).
pub(crate) struct RewindPlan {
    pub(crate) rewind_key: Vec<u8>,
    pub(crate) rewind_value: Vec<u8>,
    /// (`merkle` key, `merkle_rewound` key, hash) of each node replaced.
    pub(crate) moved: Vec<(Vec<u8>, Vec<u8>, Digest)>,
}

impl RewindPlan {
    /// Its writes, inside the revocation's transaction.
    pub(crate) fn apply<E>(
        &self,
        merkle: &TransactionalTree,
        rewinds: &TransactionalTree,
        rewound: &TransactionalTree,
    ) -> Result<(), ConflictableTransactionError<E>> {
        for (key, old_key, hash) in &self.moved {
            merkle.remove(key.as_slice())?;
            rewound.insert(old_key.as_slice(), &hash.0[..])?;
        }
        rewinds.insert(self.rewind_key.as_slice(), self.rewind_value.as_slice())?;
        Ok(())
    }
}

impl StoreReader {
    /// How many records `author`'s chain holds: the size of its tree now. A node that
    /// publishes a tree (a checkpoint) takes the size of the durable head instead
    /// ([`StoreReader::durable_head`]), so that it never signs a tree a crash could undo.
    pub fn chain_size(&self, author: &str) -> Result<u64, StoreError> {
        Ok(self.head(author)?.map_or(0, |head| head.seq + 1))
    }

    /// Runs `read` over `author`'s current nodes, refusing a tree larger than the chain, again
    /// if a revocation rewound a chain meanwhile (its nodes may have moved under the read).
    fn read_tree<T>(
        &self,
        author: &str,
        size: u64,
        read: impl Fn(&Nodes<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.rewinds.read_unrewound(|| {
            let available = self.chain_size(author)?;
            if size > available {
                return Err(MerkleError::SizeBeyondTree { size, available }.into());
            }
            read(&Nodes {
                tree: &self.inner.merkle,
                author,
            })
        })
    }

    /// The root of `author`'s tree of `size` records (FORMAT.md §22.2).
    pub fn merkle_root(&self, author: &str, size: u64) -> Result<Digest, StoreError> {
        self.read_tree(author, size, |nodes| merkle::root(nodes, size))
    }

    /// The inclusion proof of `author`'s record at `seq` in the tree of `size` (§22.3).
    pub fn inclusion_proof(
        &self,
        author: &str,
        seq: u64,
        size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.read_tree(author, size, |nodes| {
            Ok(InclusionProof {
                leaf_index: seq,
                tree_size: size,
                path: merkle::inclusion_proof(nodes, seq, size).map_err(from_generate)?,
            })
        })
    }

    /// The consistency proof of `author`'s tree from `old_size` to `new_size` (§22.3).
    pub fn consistency_proof(
        &self,
        author: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.read_tree(author, new_size, |nodes| {
            Ok(ConsistencyProof {
                old_size,
                new_size,
                path: merkle::consistency_proof(nodes, old_size, new_size)
                    .map_err(from_generate)?,
            })
        })
    }

    /// Every rewind of `author`'s tree, oldest first.
    pub fn merkle_rewinds(&self, author: &str) -> Result<Vec<MerkleRewind>, StoreError> {
        let prefix = SortKey::new()
            .short_str(author)
            .map_err(|_| too_long(author))?
            .into_bytes();
        let mut rewinds = Vec::new();
        for entry in self.inner.merkle_rewinds.scan_prefix(&prefix) {
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

    /// Reads the tree of `author` as it was before rewind `epoch`, of at most its size.
    fn read_rewound<T>(
        &self,
        author: &str,
        epoch: u64,
        size: u64,
        read: impl Fn(&RewoundNodes<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.rewinds.read_unrewound(|| {
            let rewinds = self.merkle_rewinds(author)?;
            let rewind = rewinds
                .iter()
                .find(|rewind| rewind.epoch == epoch)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("{author}'s tree has no rewind {epoch}"))
                })?;
            if size > rewind.size {
                return Err(MerkleError::SizeBeyondTree {
                    size,
                    available: rewind.size,
                }
                .into());
            }
            read(&RewoundNodes {
                reader: self,
                author,
                epochs: epoch..rewinds.len() as u64,
            })
        })
    }

    /// The root of `author`'s tree of `size` records as it was before rewind `epoch`.
    pub fn rewound_root(&self, author: &str, epoch: u64, size: u64) -> Result<Digest, StoreError> {
        self.read_rewound(author, epoch, size, |nodes| merkle::root(nodes, size))
    }

    /// An inclusion proof in `author`'s tree as it was before rewind `epoch`: what shows that
    /// a revoked record was in the tree an old checkpoint signed.
    pub fn rewound_inclusion_proof(
        &self,
        author: &str,
        epoch: u64,
        seq: u64,
        size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.read_rewound(author, epoch, size, |nodes| {
            Ok(InclusionProof {
                leaf_index: seq,
                tree_size: size,
                path: merkle::inclusion_proof(nodes, seq, size).map_err(from_generate)?,
            })
        })
    }

    /// A consistency proof in `author`'s tree as it was before rewind `epoch` (from its
    /// `from_seq`: the proof that the old and the new tree agree up to there).
    pub fn rewound_consistency_proof(
        &self,
        author: &str,
        epoch: u64,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.read_rewound(author, epoch, new_size, |nodes| {
            Ok(ConsistencyProof {
                old_size,
                new_size,
                path: merkle::consistency_proof(nodes, old_size, new_size)
                    .map_err(from_generate)?,
            })
        })
    }

    /// What a revocation of `author`'s chain (now `size` long) from `from_seq` writes for the
    /// tree: the next epoch's rewind and the nodes it replaces. Under the chain-writer lock.
    pub(crate) fn plan_rewind(
        &self,
        author: &str,
        from_seq: u64,
        size: u64,
        by: Option<RecordId>,
    ) -> Result<RewindPlan, StoreError> {
        let nodes = Nodes {
            tree: &self.inner.merkle,
            author,
        };
        let epoch = self.merkle_rewinds(author)?.len() as u64;
        let rewind = MerkleRewind {
            epoch,
            from_seq,
            size,
            root: merkle::root(&nodes, size)?,
            by,
        };
        let mut moved = Vec::new();
        for (level, index) in nodes_from(from_seq, size) {
            let hash = nodes.node(level, index)?;
            let (Some(key), Some(old_key)) = (
                node_key(author, level, index),
                rewound_key(author, epoch, level, index),
            ) else {
                return Err(too_long(author));
            };
            moved.push((key, old_key, hash));
        }
        Ok(RewindPlan {
            rewind_key: rewind_key(author, epoch).ok_or_else(|| too_long(author))?,
            rewind_value: rewind.value(),
            moved,
        })
    }

    /// The `merkle` keys of `author`'s nodes that cover a position at `from_seq` or later in
    /// a tree of `size`: what a discarded tail removes.
    pub(crate) fn node_keys_from(
        &self,
        author: &str,
        from_seq: u64,
        size: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        nodes_from(from_seq, size)
            .map(|(level, index)| node_key(author, level, index).ok_or_else(|| too_long(author)))
            .collect()
    }

    /// Builds every chain's tree if the store has none yet (a store made before it existed,
    /// or a build a crash interrupted) or if a chain's head is not the last leaf of its tree
    /// (an older version appended to the store, writing no nodes): at open, before anything
    /// appends. One point read a chain when the trees are current.
    pub(crate) fn build_merkle_if_missing(&self) -> Result<(), StoreError> {
        if self.inner.meta.contains_key(META_MERKLE_BUILT)? && self.trees_reach_the_heads()? {
            return Ok(());
        }
        self.inner.meta.remove(META_MERKLE_BUILT)?;
        self.inner.merkle.clear()?;
        for head in self.heads() {
            let (author, head) = head?;
            self.build_chain_tree(&author, head.seq + 1)?;
        }
        self.inner.meta.insert(META_MERKLE_BUILT, &[][..])?;
        self.flush_durable()
    }

    /// Whether each chain's head is the last leaf of its tree. (A revocation by an older
    /// version leaves nodes above the head, which no read reaches: sizes past the chain are
    /// refused, and appends write those positions' nodes again.)
    fn trees_reach_the_heads(&self) -> Result<bool, StoreError> {
        for head in self.heads() {
            let (author, head) = head?;
            let nodes = Nodes {
                tree: &self.inner.merkle,
                author: &author,
            };
            match nodes.node(0, head.seq) {
                Ok(leaf) if leaf == merkle::leaf_hash(&head.id) => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Writes the tree of `author`'s first `size` records, reading their ids in seq order.
    fn build_chain_tree(&self, author: &str, size: u64) -> Result<(), StoreError> {
        let mut frontier = Frontier::default();
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for entry in self.chain_range(author, 0) {
            let (seq, bytes) = entry?;
            if seq >= size {
                break;
            }
            let id = aidledger_spec::signed::record_id_of_bytes(&bytes).map_err(|error| {
                StoreError::Corrupt(format!("{author}'s record at {seq}: {error}"))
            })?;
            let nodes = completed_nodes(&frontier, seq, merkle::leaf_hash(&id))?;
            for (level, index, hash) in nodes {
                frontier.set(level, index, hash);
                let key = node_key(author, level, index).ok_or_else(|| too_long(author))?;
                batch.insert(key, &hash.0[..]);
                in_batch += 1;
            }
            if in_batch >= MERKLE_BUILD_BATCH_NODES {
                self.inner.merkle.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        self.inner.merkle.apply_batch(batch)?;
        Ok(())
    }
}

/// The last complete node of each level, while a tree is built left to right: the left
/// siblings `completed_nodes` asks for.
#[derive(Default)]
struct Frontier {
    last: Vec<(u64, Digest)>,
}

impl Frontier {
    fn set(&mut self, level: u8, index: u64, hash: Digest) {
        let level = usize::from(level);
        if self.last.len() <= level {
            self.last.resize(level + 1, (0, Digest::ZERO));
        }
        self.last[level] = (index, hash);
    }
}

impl NodeSource for Frontier {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Digest, StoreError> {
        match self.last.get(usize::from(level)) {
            Some(&(at, hash)) if at == index => Ok(hash),
            _ => Err(StoreError::Corrupt(format!(
                "building a Merkle tree needed node {level}/{index} out of order"
            ))),
        }
    }
}

fn from_generate(error: merkle::GenerateError<StoreError>) -> StoreError {
    match error {
        merkle::GenerateError::Request(error) => error.into(),
        merkle::GenerateError::Source(error) => error,
    }
}
