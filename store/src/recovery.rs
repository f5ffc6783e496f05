//! What the store does about a crash it did not see: the durable heads (the part of each
//! chain that is on disk, the only part peers may be served), the running mark that tells an
//! unclean start, and the check of each chain's tail after one.
//!
//! Why: records are readable once their sled transaction commits, before the group's fsync.
//! A record served to a peer in that window and then lost with the machine's power would be
//! signed again at the same position after the restart, and the peer would hold a valid
//! equivocation proof against an honest organisation, forever. So peers are served durable
//! records only ([`StoreReader::durable_head`]), and after an unclean start every chain's tail is
//! checked for records that did not survive (a record above sled's blob threshold can be lost
//! below a head that survived: node/DURABILITY.md); such a tail was never durable, so never
//! served nor acknowledged, and it is discarded.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use aidledger_spec::RecordId;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use crate::keys::{
    chain_key, count_bytes, head_bytes, parse_chain_key, parse_u64, META_RECORD_COUNT,
};
use crate::{Head, Store, StoreError, StoreReader};

use crate::limits::TAIL_CHECK_RECORDS;

/// The `meta` key present while a node has the store open: found at open, the last run did not
/// end with [`Store::close_cleanly`].
const META_RUNNING: &[u8] = b"running";

/// The heads as they were just before the last completed fsync, and how many freeings of
/// positions had been counted then.
#[derive(Default)]
pub(crate) struct DurableHeads(Mutex<HashMap<String, Head>>);

impl DurableHeads {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Head>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a snapshot that an fsync made durable. If positions were freed since it was taken
    /// (`clean` is false), no head may rise: a freed position may hold a new record that the
    /// fsync did not cover.
    fn set(&self, snapshot: HashMap<String, Head>, clean: bool) {
        let mut heads = self.lock();
        if clean {
            *heads = snapshot;
            return;
        }
        heads.retain(|author, head| match snapshot.get(author) {
            Some(durable) if durable.seq < head.seq => {
                *head = *durable;
                true
            }
            Some(_) => true,
            None => false,
        });
    }

    /// A chain's positions from `from_seq` on were freed: none of them is durable any more.
    fn lower(&self, author: &str, from_seq: u64) {
        let mut heads = self.lock();
        if heads.get(author).is_some_and(|head| head.seq >= from_seq) {
            heads.remove(author);
        }
    }

    fn get(&self, author: &str) -> Option<Head> {
        self.lock().get(author).copied()
    }
}

/// A chain tail that an unclean start found incomplete and discarded.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiscardedTail {
    /// The chain's author.
    pub author: String,
    /// The first position missing.
    pub from_seq: u64,
    /// The head before the repair.
    pub old_head_seq: u64,
}

/// What the open found about the last run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StartState {
    /// The last run did not close the store (crash, kill, power loss).
    pub unclean: bool,
    /// Tails discarded because a record below their head did not survive.
    pub discarded: Vec<DiscardedTail>,
}

impl StoreReader {
    /// The head of `author`'s chain as far as it is durable: the records a peer may be served.
    /// `None` until a first fsync covered the chain (a node's open makes one).
    pub fn durable_head(&self, author: &str) -> Result<Option<Head>, StoreError> {
        Ok(self.durable_part(author, self.head(author)?))
    }

    /// The lower of `author`'s `current` head and the head the last fsync covered.
    fn durable_part(&self, author: &str, current: Option<Head>) -> Option<Head> {
        let (durable, current) = (self.inner.durable_heads.get(author)?, current?);
        Some(if current.seq <= durable.seq {
            current
        } else {
            durable
        })
    }

    /// Every chain's durable seq now: the seq of [`StoreReader::durable_head`] by author.
    pub(crate) fn durable_seqs(&self) -> Result<HashMap<String, u64>, StoreError> {
        let mut seqs = HashMap::new();
        for head in self.heads() {
            let (author, head) = head?;
            if let Some(durable) = self.durable_part(&author, Some(head)) {
                seqs.insert(author, durable.seq);
            }
        }
        Ok(seqs)
    }

    /// Bytes an unprivileged writer may still use on the store's filesystem (`statvfs`).
    pub fn free_bytes(&self) -> Result<u64, StoreError> {
        let stats = rustix::fs::statvfs(&self.inner.path).map_err(std::io::Error::from)?;
        Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
    }

    /// What the open found about the last run (a node's open; a reader's reports a clean one).
    pub fn start_state(&self) -> &StartState {
        self.inner.start_state.get_or_init(StartState::default)
    }

    /// The snapshot of every head taken before a flush, made durable by it.
    pub(crate) fn durable_snapshot(&self) -> Result<(HashMap<String, Head>, u64), StoreError> {
        let freeings = self.inner.rewinds.now();
        let heads = self
            .heads()
            .collect::<Result<HashMap<String, Head>, StoreError>>()?;
        Ok((heads, freeings))
    }

    /// After the fsync that made `snapshot` durable.
    pub(crate) fn note_durable(&self, snapshot: HashMap<String, Head>, freeings: u64) {
        self.inner
            .durable_heads
            .set(snapshot, self.inner.rewinds.now() == freeings);
    }
}

impl Store {
    /// Flushes, fsyncs and records that the node closed the store: the next open is clean.
    pub fn close_cleanly(&self) -> Result<(), StoreError> {
        self.make_durable()?;
        self.inner.meta.remove(META_RUNNING)?;
        self.make_durable()
    }

    /// After positions of `author` from `from_seq` on were freed.
    pub(crate) fn note_freed(&self, author: &str, from_seq: u64) {
        self.inner.durable_heads.lower(author, from_seq);
    }

    /// At a node's open: reads and sets the running mark, and after an unclean start discards
    /// every chain tail in which a record did not survive; then makes it all durable.
    pub(crate) fn begin_running(&self) -> Result<(), StoreError> {
        let unclean = self.inner.meta.contains_key(META_RUNNING)?;
        let mut discarded = Vec::new();
        if unclean {
            let heads = self
                .heads()
                .collect::<Result<Vec<(String, Head)>, StoreError>>()?;
            for (author, head) in heads {
                if let Some(from_seq) = self.first_missing_in_tail(&author, head)? {
                    self.discard_tail(&author, from_seq, head)?;
                    discarded.push(DiscardedTail {
                        author,
                        from_seq,
                        old_head_seq: head.seq,
                    });
                }
            }
            if !discarded.is_empty() {
                self.rebuild_index()?;
            }
        }
        self.inner.meta.insert(META_RUNNING, &[][..])?;
        self.make_durable()?;
        let _ = self
            .inner
            .start_state
            .set(StartState { unclean, discarded });
        Ok(())
    }

    /// The first position of the last [`TAIL_CHECK_RECORDS`] up to `head` whose record is
    /// missing or does not parse.
    fn first_missing_in_tail(&self, author: &str, head: Head) -> Result<Option<u64>, StoreError> {
        let from = head.seq.saturating_sub(TAIL_CHECK_RECORDS - 1);
        let (Some(start), Some(end)) = (chain_key(author, from), chain_key(author, head.seq))
        else {
            return Ok(None);
        };
        let mut expected = from;
        for entry in self.inner.records.range(start..=end) {
            let (key, bytes) = entry?;
            let (_, seq) = parse_chain_key(&key)?;
            if seq != expected || aidledger_spec::signed::record_id_of_bytes(&bytes).is_err() {
                return Ok(Some(expected));
            }
            expected += 1;
        }
        Ok((expected <= head.seq).then_some(expected))
    }

    /// Removes `author`'s records from `from_seq` to `head` (those that survived), their index
    /// and governance entries, and moves the head back. Only at open, before any writer: the
    /// tail was never durable, so never acknowledged nor served.
    fn discard_tail(&self, author: &str, from_seq: u64, head: Head) -> Result<(), StoreError> {
        let (Some(start), Some(end)) = (chain_key(author, from_seq), chain_key(author, head.seq))
        else {
            return Ok(());
        };
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut ids: Vec<RecordId> = Vec::new();
        for entry in self.inner.records.range(start.clone()..=end.clone()) {
            let (key, bytes) = entry?;
            if let Ok(id) = aidledger_spec::signed::record_id_of_bytes(&bytes) {
                ids.push(id);
            }
            keys.push(key.to_vec());
        }
        // The lost records' ids are unknown: their index entries are found by the key they
        // name (a whole scan of the index, on this rare path only).
        let mut index_keys: Vec<Vec<u8>> = Vec::new();
        for entry in self.inner.index.iter() {
            let (id, key) = entry?;
            if key.as_ref() >= start.as_slice() && key.as_ref() <= end.as_slice() {
                index_keys.push(id.to_vec());
            }
        }
        let new_head = self.head_before(author, from_seq)?;
        let positions = head.seq - from_seq + 1;
        // The tail's tree nodes go with it, unkept: a tail that was never durable was never
        // in a published tree (FORMAT.md, "Store formats").
        let merkle_plan = self.plan_discard(author, (from_seq, head.seq + 1), new_head)?;
        let trees = (
            &self.inner.records,
            &self.inner.index,
            &self.inner.heads,
            &self.inner.meta,
            &self.inner.governance,
            &self.inner.merkle,
        );
        let outcome = trees.transaction(|(records, index, heads, meta, governance, merkle)| {
            merkle_plan.apply_tree_head(merkle)?;
            for key in &keys {
                records.remove(key.as_slice())?;
                governance.remove(key.as_slice())?;
            }
            for id in &index_keys {
                index.remove(id.as_slice())?;
            }
            match new_head {
                Some(head) => heads.insert(author.as_bytes(), &head_bytes(head)[..])?,
                None => heads.remove(author.as_bytes())?,
            };
            let count = match meta.get(META_RECORD_COUNT)? {
                Some(value) => parse_u64(&value, "the record count")
                    .map_err(ConflictableTransactionError::Abort)?,
                None => 0,
            };
            meta.insert(
                META_RECORD_COUNT,
                count_bytes(count.saturating_sub(positions)),
            )?;
            Ok(())
        });
        outcome.map_err(|error| match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(error) => error.into(),
        })?;
        self.inner.rewinds.count();
        self.note_freed(author, from_seq);
        self.drop_pending_from(author, from_seq)?;
        self.drop_proofs_naming(author, from_seq, &ids)
    }
}
