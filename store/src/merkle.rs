//! Every chain's Merkle tree (FORMAT.md §22 and "Store formats"): the hash of each complete
//! subtree of 16 leaves or more, kept in the `merkle` tree by (author, level, index) and
//! written in the same sled transaction that moves the chain's head; the subtrees below that
//! level are hashed from the record ids of their block of 16, read with one range read. So the
//! root at any size, inclusion and consistency proofs are a few point reads and at most a
//! block or two of records, never a scan, and an append writes one node for every 8 records.
//!
//! The nodes a group completes are computed before its transaction (under the chain-writer
//! lock, from the group's records and the stored records and nodes at or below the heads) and
//! written inside it, with each chain's *tree head* (`merkle` key author ‖ `ff`: the head the
//! tree was last written to). A revocation that rewinds a chain from `p` moves the nodes that
//! cover positions from `p` on, and the leaf hashes of the revoked records, into
//! `merkle_rewound` under a new epoch and records the old tree's size, root, `p` and the
//! governance record in `merkle_rewinds`, in its transaction: the tree never shrinks silently,
//! and the old tree's proofs can still be made ([`StoreReader::rewound_inclusion_proof`]).
//! A tail discarded at open (never durable, so never served) has its nodes removed. A store
//! whose tree head is not its head (made before the tree, or written by an older version) has
//! the trees built from the chains at open.

use std::cell::RefCell;
use std::collections::HashMap;

use aidledger_spec::merkle::{self, ConsistencyProof, InclusionProof, MerkleError, NodeSource};
use aidledger_spec::{Digest, RecordId};

use crate::keys::{chain_key, head_bytes, parse_chain_key};
use crate::limits::{MERKLE_BLOCK_LEVELS, MERKLE_BUILD_BATCH_NODES};
use crate::merkle_keys::{
    node_key, rewind_key, rewound_key, tree_head_key, MerkleRewind, Plan, RewindPlan,
};
use crate::{Head, StoreError, StoreReader};

/// Leaves in a block: the subtrees below [`MERKLE_BLOCK_LEVELS`] are hashed from them.
const BLOCK_LEAVES: u64 = 1 << MERKLE_BLOCK_LEVELS;

fn missing(author: &str, level: u8, index: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "{author}'s Merkle tree has no node at level {level}, index {index}"
    ))
}

pub(crate) fn too_long(author: &str) -> StoreError {
    StoreError::Corrupt(format!("author {author:?} is too long to be a key"))
}

fn parse_hash(value: &[u8]) -> Result<Digest, StoreError> {
    <[u8; 32]>::try_from(value)
        .map(Digest)
        .map_err(|_| StoreError::Corrupt("a Merkle node is not 32 bytes".into()))
}

/// The hash of a complete subtree over `leaves` (a power of two of them).
fn perfect_hash(leaves: &[Digest]) -> Digest {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => merkle::node_hash(left, right),
                [single] => *single,
                _ => merkle::empty_root(),
            })
            .collect();
    }
    level.first().copied().unwrap_or_else(merkle::empty_root)
}

/// `author`'s tree as stored: nodes from [`MERKLE_BLOCK_LEVELS`] up in `merkle`, leaves from
/// the records. With `epochs` not empty, the tree as it was before the first of them: a node
/// or leaf a rewind replaced is under that rewind's epoch, and one it kept is where it is now
/// or under the first later rewind that replaced it.
struct StoredTree<'a> {
    reader: &'a StoreReader,
    author: &'a str,
    epochs: std::ops::Range<u64>,
    /// Leaf hashes read so far, by seq: a proof reads one or two blocks.
    leaves: RefCell<HashMap<u64, Digest>>,
}

impl<'a> StoredTree<'a> {
    fn new(reader: &'a StoreReader, author: &'a str, epochs: std::ops::Range<u64>) -> Self {
        StoredTree {
            reader,
            author,
            epochs,
            leaves: RefCell::new(HashMap::new()),
        }
    }

    /// A node kept under one of the epochs, if one replaced it.
    fn rewound(&self, level: u8, index: u64) -> Result<Option<Digest>, StoreError> {
        for epoch in self.epochs.clone() {
            let key = rewound_key(self.author, epoch, level, index)
                .ok_or_else(|| too_long(self.author))?;
            if let Some(value) = self.reader.inner.merkle_rewound.get(key)? {
                return Ok(Some(parse_hash(&value)?));
            }
        }
        Ok(None)
    }

    /// The leaf hashes of positions `start..end`, all at or below the chain's head.
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Digest>, StoreError> {
        let mut missing_from = None;
        for seq in start..end {
            if !self.leaves.borrow().contains_key(&seq) {
                if let Some(leaf) = self.rewound(0, seq)? {
                    self.leaves.borrow_mut().insert(seq, leaf);
                } else if missing_from.is_none() {
                    missing_from = Some(seq);
                }
            }
        }
        if let Some(from) = missing_from {
            self.read_records(from, end)?;
        }
        let known = self.leaves.borrow();
        (start..end)
            .map(|seq| {
                known
                    .get(&seq)
                    .copied()
                    .ok_or_else(|| missing(self.author, 0, seq))
            })
            .collect()
    }

    /// Reads the ids of the records at `start..end` (one range read) into the leaves not
    /// known yet.
    fn read_records(&self, start: u64, end: u64) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (
            chain_key(self.author, start),
            chain_key(self.author, end - 1),
        ) else {
            return Err(too_long(self.author));
        };
        let mut known = self.leaves.borrow_mut();
        for entry in self.reader.inner.records.range(first..=last) {
            let (key, bytes) = entry?;
            let (_, seq) = parse_chain_key(&key)?;
            let id = aidledger_spec::signed::record_id_of_bytes(&bytes).map_err(|error| {
                StoreError::Corrupt(format!("{}'s record at {seq}: {error}", self.author))
            })?;
            known.entry(seq).or_insert_with(|| merkle::leaf_hash(&id));
        }
        Ok(())
    }
}

impl NodeSource for StoredTree<'_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Digest, StoreError> {
        if level < MERKLE_BLOCK_LEVELS {
            let start = index << level;
            return Ok(perfect_hash(&self.leaves(start, start + (1 << level))?));
        }
        if let Some(node) = self.rewound(level, index)? {
            return Ok(node);
        }
        let key = node_key(self.author, level, index).ok_or_else(|| too_long(self.author))?;
        match self.reader.inner.merkle.get(key)? {
            Some(value) => parse_hash(&value),
            None => Err(missing(self.author, level, index)),
        }
    }
}

/// The stored nodes a chain's tree of `size` leaves has that cover a position at `from` or
/// later: what a rewind to `from` replaces. About (size − from) / 8 + log₂ size of them.
pub(crate) fn nodes_from(from: u64, size: u64) -> impl Iterator<Item = (u8, u64)> {
    (MERKLE_BLOCK_LEVELS..merkle::LEVELS_MAX).flat_map(move |level| {
        let first = from.checked_shr(u32::from(level)).unwrap_or(0);
        let end = size.checked_shr(u32::from(level)).unwrap_or(0);
        (first..end).map(move |index| (level, index))
    })
}

/// Computes the nodes of one chain a group of appends completes, leaf by leaf.
struct ChainGrowth<'a> {
    tree: StoredTree<'a>,
    /// Nodes computed in this group, not stored yet.
    new_nodes: HashMap<(u8, u64), Digest>,
}

impl ChainGrowth<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Digest, StoreError> {
        match self.new_nodes.get(&(level, index)) {
            Some(node) => Ok(*node),
            None => self.tree.node(level, index),
        }
    }

    /// The record at `seq` with id `id` joins the tree: when it ends a block, the block's
    /// node and every parent it completes.
    fn push(&mut self, seq: u64, id: &RecordId, plan: &mut Plan) -> Result<(), StoreError> {
        self.tree
            .leaves
            .borrow_mut()
            .insert(seq, merkle::leaf_hash(id));
        if !(seq + 1).is_multiple_of(BLOCK_LEAVES) {
            return Ok(());
        }
        let mut index = seq >> MERKLE_BLOCK_LEVELS;
        let mut level = MERKLE_BLOCK_LEVELS;
        let start = index << level;
        let mut hash = perfect_hash(&self.tree.leaves(start, seq + 1)?);
        loop {
            self.new_nodes.insert((level, index), hash);
            let key = node_key(self.tree.author, level, index)
                .ok_or_else(|| too_long(self.tree.author))?;
            plan.push((key, hash.0.to_vec()));
            if index & 1 == 0 {
                return Ok(());
            }
            hash = merkle::node_hash(&self.node(level, index - 1)?, &hash);
            level += 1;
            index >>= 1;
        }
    }
}

impl StoreReader {
    /// What an append transaction writes into `merkle` for `records` (author, seq, id, in
    /// group order; each extends its chain): the nodes they complete and each chain's tree
    /// head. Under the chain-writer lock, before the transaction.
    pub(crate) fn plan_appends<'a>(
        &self,
        records: impl Iterator<Item = (&'a str, u64, RecordId)>,
    ) -> Result<Plan, StoreError> {
        let mut plan = Plan::new();
        let mut chains: HashMap<&str, ChainGrowth<'_>> = HashMap::new();
        let mut last: HashMap<&str, Head> = HashMap::new();
        for (author, seq, id) in records {
            let chain = chains.entry(author).or_insert_with(|| ChainGrowth {
                tree: StoredTree::new(self, author, 0..0),
                new_nodes: HashMap::new(),
            });
            chain.push(seq, &id, &mut plan)?;
            last.insert(author, Head { seq, id });
        }
        for (author, head) in last {
            let key = tree_head_key(author).ok_or_else(|| too_long(author))?;
            plan.push((key, head_bytes(head)));
        }
        Ok(plan)
    }

    /// How many records `author`'s chain holds: the size of its tree now. A node that
    /// publishes a tree (a checkpoint) takes the size of the durable head instead
    /// ([`StoreReader::durable_head`]), so that it never signs a tree a crash could undo.
    pub fn chain_size(&self, author: &str) -> Result<u64, StoreError> {
        Ok(self.head(author)?.map_or(0, |head| head.seq + 1))
    }

    /// Runs `read` over `author`'s current tree, refusing a tree larger than the chain, again
    /// if a revocation rewound a chain meanwhile (nodes and records may have moved under it).
    fn read_tree<T>(
        &self,
        author: &str,
        size: u64,
        read: impl Fn(&StoredTree<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.rewinds.read_unrewound(|| {
            let available = self.chain_size(author)?;
            if size > available {
                return Err(MerkleError::SizeBeyondTree { size, available }.into());
            }
            read(&StoredTree::new(self, author, 0..0))
        })
    }

    /// The root of `author`'s tree of `size` records (FORMAT.md §22.2).
    pub fn merkle_root(&self, author: &str, size: u64) -> Result<Digest, StoreError> {
        self.read_tree(author, size, |tree| merkle::root(tree, size))
    }

    /// The inclusion proof of `author`'s record at `seq` in the tree of `size` (§22.3).
    pub fn inclusion_proof(
        &self,
        author: &str,
        seq: u64,
        size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.read_tree(author, size, |tree| inclusion(tree, seq, size))
    }

    /// The consistency proof of `author`'s tree from `old_size` to `new_size` (§22.3).
    pub fn consistency_proof(
        &self,
        author: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.read_tree(author, new_size, |tree| {
            consistency(tree, old_size, new_size)
        })
    }

    /// Every rewind of `author`'s tree, oldest first.
    pub fn merkle_rewinds(&self, author: &str) -> Result<Vec<MerkleRewind>, StoreError> {
        crate::merkle_keys::rewinds_of(&self.inner.merkle_rewinds, author)
    }

    /// Reads `author`'s tree as it was before rewind `epoch`, of at most its size.
    fn read_rewound<T>(
        &self,
        author: &str,
        epoch: u64,
        size: u64,
        read: impl Fn(&StoredTree<'_>) -> Result<T, StoreError>,
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
            read(&StoredTree::new(self, author, epoch..rewinds.len() as u64))
        })
    }

    /// The root of `author`'s tree of `size` records as it was before rewind `epoch`.
    pub fn rewound_root(&self, author: &str, epoch: u64, size: u64) -> Result<Digest, StoreError> {
        self.read_rewound(author, epoch, size, |tree| merkle::root(tree, size))
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
        self.read_rewound(author, epoch, size, |tree| inclusion(tree, seq, size))
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
        self.read_rewound(author, epoch, new_size, |tree| {
            consistency(tree, old_size, new_size)
        })
    }

    /// What a revocation of `author`'s chain (now `size` long) from `from_seq` writes for the
    /// tree: the next epoch's rewind, the nodes it replaces, the revoked records' leaves
    /// (`revoked`: their ids from `from_seq` on) and the tree head `new_head`. Under the
    /// chain-writer lock.
    pub(crate) fn plan_rewind(
        &self,
        author: &str,
        (from_seq, size): (u64, u64),
        revoked: &[RecordId],
        new_head: Option<Head>,
        by: Option<RecordId>,
    ) -> Result<RewindPlan, StoreError> {
        let tree = StoredTree::new(self, author, 0..0);
        let epoch = self.merkle_rewinds(author)?.len() as u64;
        let rewind = MerkleRewind {
            epoch,
            from_seq,
            size,
            root: merkle::root(&tree, size)?,
            by,
        };
        let mut plan = RewindPlan::default();
        for (level, index) in nodes_from(from_seq, size) {
            let node = tree.node(level, index)?;
            let (Some(key), Some(old_key)) = (
                node_key(author, level, index),
                rewound_key(author, epoch, level, index),
            ) else {
                return Err(too_long(author));
            };
            plan.removed.push(key);
            plan.kept.push((old_key, node));
        }
        for (seq, id) in (from_seq..).zip(revoked) {
            let old_key = rewound_key(author, epoch, 0, seq).ok_or_else(|| too_long(author))?;
            plan.kept.push((old_key, merkle::leaf_hash(id)));
        }
        plan.rewind = Some((
            rewind_key(author, epoch).ok_or_else(|| too_long(author))?,
            rewind.value(),
        ));
        plan.tree_head = self.tree_head_write(author, new_head)?;
        Ok(plan)
    }

    /// What a discarded tail of `author` (from `from_seq`, in a chain `size` long) removes
    /// from the tree: its nodes, unkept, and the tree head goes back to `new_head`.
    pub(crate) fn plan_discard(
        &self,
        author: &str,
        (from_seq, size): (u64, u64),
        new_head: Option<Head>,
    ) -> Result<RewindPlan, StoreError> {
        let mut plan = RewindPlan::default();
        for (level, index) in nodes_from(from_seq, size) {
            plan.removed
                .push(node_key(author, level, index).ok_or_else(|| too_long(author))?);
        }
        plan.tree_head = self.tree_head_write(author, new_head)?;
        Ok(plan)
    }

    fn tree_head_write(
        &self,
        author: &str,
        head: Option<Head>,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), StoreError> {
        let key = tree_head_key(author).ok_or_else(|| too_long(author))?;
        Ok((key, head.map(head_bytes)))
    }

    /// Builds every chain's tree if a chain's tree head is not its head (a store made before
    /// the trees, one an older version appended to or revoked in, or a build a crash
    /// interrupted): at open, before anything appends. One point read a chain otherwise.
    pub(crate) fn build_merkle_if_missing(&self) -> Result<(), StoreError> {
        if self.trees_reach_the_heads()? {
            return Ok(());
        }
        self.inner.merkle.clear()?;
        for head in self.heads() {
            let (author, head) = head?;
            self.build_chain_tree(&author, head)?;
        }
        self.flush_durable()
    }

    /// Whether each chain's tree head is its head. (A tree head left for a chain an older
    /// version revoked whole does no harm: nodes above a head are never read, and appends
    /// write each node again as they complete it.)
    fn trees_reach_the_heads(&self) -> Result<bool, StoreError> {
        for head in self.heads() {
            let (author, head) = head?;
            let key = tree_head_key(&author).ok_or_else(|| too_long(&author))?;
            if self.inner.merkle.get(key)?.as_deref() != Some(&head_bytes(head)[..]) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Writes the tree of `author`'s chain up to `head`, reading its ids in seq order.
    fn build_chain_tree(&self, author: &str, head: Head) -> Result<(), StoreError> {
        let mut growth = ChainGrowth {
            tree: StoredTree::new(self, author, 0..0),
            new_nodes: HashMap::new(),
        };
        let mut plan = Plan::new();
        for entry in self.chain_range(author, 0) {
            let (seq, bytes) = entry?;
            if seq > head.seq {
                break;
            }
            let id = aidledger_spec::signed::record_id_of_bytes(&bytes).map_err(|error| {
                StoreError::Corrupt(format!("{author}'s record at {seq}: {error}"))
            })?;
            growth.push(seq, &id, &mut plan)?;
            // Only the block's leaves and the left siblings are read again.
            if (seq + 1).is_multiple_of(BLOCK_LEAVES) {
                growth.tree.leaves.borrow_mut().clear();
            }
            if plan.len() >= MERKLE_BUILD_BATCH_NODES {
                self.apply_plan(std::mem::take(&mut plan))?;
                // Stored now: the left siblings still to come are read back from the tree.
                growth.new_nodes.clear();
            }
        }
        plan.push((
            tree_head_key(author).ok_or_else(|| too_long(author))?,
            head_bytes(head),
        ));
        self.apply_plan(plan)
    }

    fn apply_plan(&self, plan: Plan) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, value) in plan {
            batch.insert(key, value);
        }
        Ok(self.inner.merkle.apply_batch(batch)?)
    }
}

fn inclusion(tree: &StoredTree<'_>, seq: u64, size: u64) -> Result<InclusionProof, StoreError> {
    Ok(InclusionProof {
        leaf_index: seq,
        tree_size: size,
        path: merkle::inclusion_proof(tree, seq, size).map_err(from_generate)?,
    })
}

fn consistency(
    tree: &StoredTree<'_>,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, StoreError> {
    Ok(ConsistencyProof {
        old_size,
        new_size,
        path: merkle::consistency_proof(tree, old_size, new_size).map_err(from_generate)?,
    })
}

fn from_generate(error: merkle::GenerateError<StoreError>) -> StoreError {
    match error {
        merkle::GenerateError::Request(error) => error.into(),
        merkle::GenerateError::Source(error) => error,
    }
}
