//! Scans of the chains that stay true while appends and revocations go on beside them.
//!
//! A sled iterator copies each leaf it reaches and serves the following keys from that copy,
//! so a scan its reader pauses (an export to a slow client, a peer's range sync) can return
//! records that were removed since. What a chain holds at or below its head changes only
//! when positions are freed: a revocation lowers a head, or a failed append removes what it
//! wrote ahead. The store counts those events ([`Rewinds`]), each after it is done and before
//! anything can be written at the freed positions. A scan reads an entry, checks it against
//! the heads, then reads the count: unchanged since the scan (re)started means the entry was
//! in its chain when read (or, in the instant between a revocation's commit and its count,
//! just before that revocation); changed means it may come from a stale copy, and the scan
//! starts again at that key with fresh leaves and heads. If the record the scan returned last is no
//! longer the one at its position, the records before and after it would not link, and the
//! scan ends with [`StoreError::ChainChanged`].

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sled::IVec;

use crate::keys::{head_in, is_governance_bytes, parse_chain_key};
use crate::{StoreError, StoredRecord};

/// How many times positions of a chain were freed (see the module doc).
#[derive(Clone, Default)]
pub(crate) struct Rewinds(Arc<AtomicU64>);

impl Rewinds {
    /// Counts a freeing: called once it is done, while the chain-writer lock is still held.
    pub(crate) fn count(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Runs `read` (which reads a record, then its head) until no position was freed while it
    /// ran: a record read before a freeing and a head read after it may not belong together.
    pub(crate) fn read_unrewound<T>(
        &self,
        mut read: impl FnMut() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        loop {
            let before = self.now();
            let value = read()?;
            if self.now() == before {
                return Ok(value);
            }
        }
    }
}

/// Which way a scan runs.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Forward,
    Backward,
}

/// A range of one sled tree, read lazily, that can start again at a key.
struct Range {
    tree: sled::Tree,
    start: Bound<IVec>,
    end: Bound<IVec>,
    direction: Direction,
    iter: sled::Iter,
}

impl Range {
    fn new(tree: sled::Tree, start: Bound<IVec>, end: Bound<IVec>, direction: Direction) -> Range {
        let iter = tree.range((start.clone(), end.clone()));
        Range {
            tree,
            start,
            end,
            direction,
            iter,
        }
    }

    fn next(&mut self) -> Option<sled::Result<(IVec, IVec)>> {
        match self.direction {
            Direction::Forward => self.iter.next(),
            Direction::Backward => self.iter.next_back(),
        }
    }

    /// Starts again at `key`, which is read again.
    fn restart_at(&mut self, key: &IVec) {
        match self.direction {
            Direction::Forward => self.start = Bound::Included(key.clone()),
            Direction::Backward => self.end = Bound::Included(key.clone()),
        }
        self.iter = self.tree.range((self.start.clone(), self.end.clone()));
    }
}

/// The heads a scan checks its entries against, one read per chain, and the count of freed
/// positions they were read under.
struct Freshness {
    rewinds: Rewinds,
    heads: sled::Tree,
    /// The count when the scan last (re)started.
    seen: u64,
    /// The chain last asked about and its head's seq.
    head: Option<(String, Option<u64>)>,
}

impl Freshness {
    /// Call before the scan's iterator is made.
    fn new(rewinds: Rewinds, heads: sled::Tree) -> Freshness {
        Freshness {
            seen: rewinds.now(),
            rewinds,
            heads,
            head: None,
        }
    }

    /// Whether `author`'s chain reaches `seq` (asked after the entry at `seq` was read).
    ///
    /// The head is read once per chain, so it may be older than the entry. That is sound while
    /// heads only rise (a record at or below a head it once had stays); a revocation lowers a
    /// head just before it is counted, so in that short window the cached head may be higher
    /// than the chain, and an entry read fresh may be missing below it: such an entry is
    /// skipped, not returned, and a caller that would call it corrupt asks
    /// [`Self::admits_now`] first.
    fn admits(&mut self, author: &str, seq: u64) -> Result<bool, StoreError> {
        let cached = self
            .head
            .as_ref()
            .filter(|(current, _)| current == author)
            .map(|(_, head_seq)| *head_seq);
        let head_seq = match cached {
            Some(head_seq) => head_seq,
            None => {
                let head_seq = self.head_seq_now(author)?;
                self.head = Some((author.to_owned(), head_seq));
                head_seq
            }
        };
        Ok(head_seq.is_some_and(|head_seq| seq <= head_seq))
    }

    /// Whether `author`'s chain reaches `seq`, read from the heads now (and cached).
    fn admits_now(&mut self, author: &str, seq: u64) -> Result<bool, StoreError> {
        self.head = None;
        self.admits(author, seq)
    }

    fn head_seq_now(&self, author: &str) -> Result<Option<u64>, StoreError> {
        Ok(head_in(&self.heads, author)?.map(|head| head.seq))
    }

    /// Asked after an entry was read and checked: whether positions were freed since the scan
    /// (re)started. If so the entry may be stale; the heads are forgotten and the count taken
    /// as the new start, so the caller must start its iterator again after this.
    fn rewound(&mut self) -> bool {
        let now = self.rewinds.now();
        if now == self.seen {
            return false;
        }
        self.seen = now;
        self.head = None;
        true
    }
}

/// What a scan does with one entry of its range.
enum Step {
    /// Return this record.
    Return(StoredRecord),
    /// Not part of the chains (above its head, or not a governance record).
    Skip,
    /// Positions were freed: read again from this entry on.
    Restart,
}

/// The kind of entries a [`Scan`] reads.
trait Entries {
    /// Reads one entry: it must check it against the heads, then ask
    /// [`Freshness::rewound`], and answer [`Step::Restart`] if so.
    fn take(
        &mut self,
        freshness: &mut Freshness,
        key: &IVec,
        value: IVec,
    ) -> Result<Step, StoreError>;
}

/// A lazy scan of a range of one tree whose entries stand for records of the chains.
struct Scan<E> {
    range: Range,
    freshness: Freshness,
    entries: E,
    finished: bool,
}

impl<E: Entries> Iterator for Scan<E> {
    type Item = Result<StoredRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            let step = match self.range.next()? {
                Ok((key, value)) => self
                    .entries
                    .take(&mut self.freshness, &key, value)
                    .map(|step| (step, key)),
                Err(error) => Err(error.into()),
            };
            match step {
                Ok((Step::Return(record), _)) => return Some(Ok(record)),
                Ok((Step::Skip, _)) => {}
                Ok((Step::Restart, key)) => self.range.restart_at(&key),
                Err(error) => {
                    // What follows an error cannot be trusted to link to what came before.
                    self.finished = true;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}

/// The records of `records` within their chain's head, each one in its chain when read, and
/// consecutive records of a chain that link (see the module doc).
pub(crate) fn chain_scan(
    records: sled::Tree,
    heads: sled::Tree,
    rewinds: Rewinds,
    (start, end): (Bound<IVec>, Bound<IVec>),
    direction: Direction,
) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
    let freshness = Freshness::new(rewinds, heads);
    Scan {
        range: Range::new(records.clone(), start, end, direction),
        freshness,
        entries: ChainEntries {
            records,
            last: None,
        },
        finished: false,
    }
}

/// The governance records the `governance` index names, within their chain's head, each one
/// in its chain when read.
pub(crate) fn governance_scan(
    governance: sled::Tree,
    records: sled::Tree,
    heads: sled::Tree,
    rewinds: Rewinds,
) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + Send + 'static {
    let freshness = Freshness::new(rewinds, heads);
    let everything = (Bound::Unbounded, Bound::Unbounded);
    Scan {
        range: Range::new(governance, everything.0, everything.1, Direction::Forward),
        freshness,
        entries: GovernanceEntries { records },
        finished: false,
    }
}

/// Entries of `records`: the records themselves.
struct ChainEntries {
    records: sled::Tree,
    /// The record returned last.
    last: Option<Returned>,
}

/// The record a chain scan returned last (kept as sled's shared buffers, not copied).
struct Returned {
    key: IVec,
    bytes: IVec,
}

impl Entries for ChainEntries {
    fn take(
        &mut self,
        freshness: &mut Freshness,
        key: &IVec,
        bytes: IVec,
    ) -> Result<Step, StoreError> {
        let (author, seq) = parse_chain_key(key)?;
        let within = freshness.admits(&author, seq)?;
        if freshness.rewound() {
            self.check_last_unchanged(freshness)?;
            return Ok(Step::Restart);
        }
        if !within {
            return Ok(Step::Skip);
        }
        let record = StoredRecord {
            author,
            seq,
            bytes: bytes.to_vec(),
        };
        self.last = Some(Returned {
            key: key.clone(),
            bytes,
        });
        Ok(Step::Return(record))
    }
}

impl ChainEntries {
    /// After positions were freed: the record returned last must still be in its chain, or
    /// what the scan returns next would not link to it.
    fn check_last_unchanged(&self, freshness: &mut Freshness) -> Result<(), StoreError> {
        let Some(last) = &self.last else {
            return Ok(());
        };
        let (author, seq) = parse_chain_key(&last.key)?;
        let now = self.records.get(&last.key)?;
        let within = freshness.admits(&author, seq)?;
        if within && now.as_ref() == Some(&last.bytes) {
            return Ok(());
        }
        Err(StoreError::ChainChanged { author, seq })
    }
}

/// Entries of the `governance` index: `records` keys.
struct GovernanceEntries {
    records: sled::Tree,
}

impl Entries for GovernanceEntries {
    fn take(&mut self, freshness: &mut Freshness, key: &IVec, _: IVec) -> Result<Step, StoreError> {
        let (author, seq) = parse_chain_key(key)?;
        let bytes = self.records.get(key)?;
        let within = freshness.admits(&author, seq)?;
        if freshness.rewound() {
            return Ok(Step::Restart);
        }
        match bytes {
            Some(bytes) if within && is_governance_bytes(&bytes) => {
                Ok(Step::Return(StoredRecord {
                    author,
                    seq,
                    bytes: bytes.to_vec(),
                }))
            }
            Some(_) => Ok(Step::Skip),
            // Missing within a cached head: a revocation may have just lowered it (see
            // `Freshness::admits`); only the head as it is now can tell corruption from that.
            None if within && freshness.admits_now(&author, seq)? => Err(StoreError::Corrupt(
                format!("the governance index names {author} seq {seq}, which is not stored"),
            )),
            None => Ok(Step::Skip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::chain_key;

    const AUTHOR: &str = "GB-GOV-1";

    fn head_value(seq: u64) -> Vec<u8> {
        crate::keys::head_bytes(crate::Head {
            seq,
            id: aidledger_spec::Digest([7u8; 32]),
        })
    }

    /// A revocation lowers a head a moment before the store counts it; a governance scan
    /// whose cached head is from before, and which finds the record gone, must not call the
    /// store corrupt (an export would end on a false alarm), but must while the head still
    /// covers the missing record.
    #[test]
    fn a_record_missing_under_a_stale_cached_head_is_skipped_not_corrupt() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let (records, heads) = (db.open_tree("r").unwrap(), db.open_tree("h").unwrap());
        let mut freshness = Freshness::new(Rewinds::default(), heads.clone());
        let mut entries = GovernanceEntries { records };
        let key: IVec = chain_key(AUTHOR, 1).unwrap().into();
        heads.insert(AUTHOR, head_value(3)).unwrap();
        assert!(freshness.admits(AUTHOR, 0).unwrap());
        heads.insert(AUTHOR, head_value(0)).unwrap();
        let step = entries.take(&mut freshness, &key, IVec::default());
        assert!(matches!(step, Ok(Step::Skip)), "{:?}", step.err());
        heads.insert(AUTHOR, head_value(3)).unwrap();
        let mut freshness = Freshness::new(Rewinds::default(), heads);
        let step = entries.take(&mut freshness, &key, IVec::default());
        assert!(
            matches!(step, Err(StoreError::Corrupt(_))),
            "{:?}",
            step.err()
        );
    }
}
