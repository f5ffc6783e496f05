//! An index that follows the chains instead of being written in their appends: the store's side
//! of it.
//!
//! Indexing a record costs several times its append (a statement writes a dozen explorer keys,
//! each a read and a write inside the transaction; BENCHMARKS.md, issue 22), so a fresh node
//! syncing a million records from its peers spent most of its time indexing. An append of a
//! large group may therefore leave its indexing to later
//! ([`Store::append_group_deferring_index`]): it writes no index entries but a mark in `meta`,
//! in its transaction, saying from which seq on the chain is not indexed
//! ([`crate::keys::index_behind_key`]). [`Store::index_deferred`] then indexes the next records of a
//! chain that is behind, in chain order, in one transaction with the mark's move (or its
//! removal at the head), under the lock of whatever moves heads.
//!
//! What stays true: for each chain the index covers a prefix of it (the records below the
//! mark, or all of it without one); no record is indexed twice or out of its chain's order,
//! because the mark moves with the entries and an append to a chain that is behind indexes
//! nothing of it; a crash leaves a mark and entries that agree. What changes: a reader of the
//! index can find a stored record missing from it for as long as its chain is behind, which
//! [`StoreReader::index_behind_records`] says (the node shows it on its status and explorer
//! pages). A rebuild of the index (at open, after a revocation or a discarded tail) indexes
//! every stored record and removes the marks.

use crate::keys::{count_bytes, index_behind_key, parse_u64, META_INDEX_BEHIND_PREFIX};
use crate::open::to_index;
use crate::reader::StoreReader;
use crate::{Head, Store, StoreError};

/// A chain whose index is behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexBehind {
    /// The chain's author.
    pub author: String,
    /// The first seq of the chain not indexed yet.
    pub from_seq: u64,
    /// The chain's head (`None`: the chain is empty now, after a revocation).
    pub head: Option<Head>,
}

impl IndexBehind {
    /// How many of the chain's records are not indexed yet.
    pub fn records(&self) -> u64 {
        self.head
            .map_or(0, |head| (head.seq + 1).saturating_sub(self.from_seq))
    }
}

impl StoreReader {
    /// The chains whose index is behind, by author.
    pub fn index_behind(&self) -> Result<Vec<IndexBehind>, StoreError> {
        let mut behind = Vec::new();
        for entry in self.inner.meta.scan_prefix(META_INDEX_BEHIND_PREFIX) {
            let (key, value) = entry?;
            let author = std::str::from_utf8(&key[META_INDEX_BEHIND_PREFIX.len()..])
                .map_err(|_| StoreError::Corrupt("an index mark's author is not UTF-8".into()))?
                .to_string();
            let from_seq = parse_u64(&value, "an index mark")?;
            let head = self.head(&author)?;
            behind.push(IndexBehind {
                author,
                from_seq,
                head,
            });
        }
        Ok(behind)
    }

    /// How many stored records the index does not cover yet (0 when it is current).
    pub fn index_behind_records(&self) -> Result<u64, StoreError> {
        Ok(self.index_behind()?.iter().map(IndexBehind::records).sum())
    }
}

impl Store {
    /// Indexes up to `max_records` records of the first chain whose index is behind, in one
    /// transaction that also moves its mark (removes it at the head). Returns how many records
    /// it indexed: 0 when the index is current. Holds the lock of appends while it runs, so
    /// `max_records` bounds how long an append waits for it.
    pub fn index_deferred(&self, max_records: u64) -> Result<u64, StoreError> {
        let chain_writer = self.lock_chains()?;
        let Some(behind) = self.index_behind()?.into_iter().next() else {
            chain_writer.wrote_nothing();
            return Ok(0);
        };
        let key = index_behind_key(&behind.author);
        let last = match behind.head {
            Some(head) if behind.from_seq <= head.seq => {
                head.seq.min(behind.from_seq + max_records.max(1) - 1)
            }
            // Nothing left to index (the chain was cut below the mark): the mark goes.
            _ => {
                self.inner.meta.remove(key)?;
                return Ok(0);
            }
        };
        let mut group = Vec::new();
        for entry in self.chain_range(&behind.author, behind.from_seq) {
            let (seq, bytes) = entry?;
            if seq > last {
                break;
            }
            group.extend(to_index(behind.author.clone(), seq, bytes)?);
        }
        let at_head = behind.head.is_some_and(|head| head.seq == last);
        self.index_group(&group, |meta| {
            if at_head {
                meta.remove(key.as_slice())?;
            } else {
                meta.insert(key.as_slice(), count_bytes(last + 1))?;
            }
            Ok(())
        })?;
        // Positions covered, withheld records (nothing to index) included.
        Ok(last + 1 - behind.from_seq)
    }

    /// Removes every chain's mark: after a rebuild indexed every stored record.
    pub(crate) fn clear_index_marks(&self) -> Result<(), StoreError> {
        for entry in self.inner.meta.scan_prefix(META_INDEX_BEHIND_PREFIX) {
            let (key, _) = entry?;
            self.inner.meta.remove(key)?;
        }
        Ok(())
    }

    /// Whether `author`'s index is behind (the follower has records of its chain to index).
    pub fn is_index_behind(&self, author: &str) -> Result<bool, StoreError> {
        Ok(self.inner.meta.contains_key(index_behind_key(author))?)
    }
}
