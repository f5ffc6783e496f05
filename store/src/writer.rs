//! The writing handle of a store, [`Store`]: what the node's writer thread, its ingest of
//! peers' records and its governance hold. Everything a [`StoreReader`] reads, it reads too
//! (it dereferences to one); the writes are in the files named for what they write (`append`,
//! `revocation`, `proofs`, `pending`) and its opening in `open`.

use std::cell::Cell;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard, RwLock};

use crate::index::AppendIndex;
use crate::reader::StoreReader;
use crate::StoreError;

/// A data directory's store, opened to write. Reads may run on any thread; appends should come
/// from one writer (the node's), because each append is checked against the head it read.
/// Hand [`Store::reader`] (a read-only handle) to whatever only reads.
pub struct Store {
    pub(crate) reader: StoreReader,
    /// The index written inside the appends' transactions (see [`AppendIndex`]).
    pub(crate) append_index: Box<dyn AppendIndex>,
    /// Its tree, shared with the reader ([`StoreReader::index_tree`]).
    pub(crate) index_tree: Arc<RwLock<sled::Tree>>,
}

impl Deref for Store {
    type Target = StoreReader;

    fn deref(&self) -> &StoreReader {
        &self.reader
    }
}

impl Store {
    /// A read-only handle on the same store, for what must not write (the public API, the
    /// explorer): cheap to clone, and it keeps the store open as long as it lives.
    pub fn reader(&self) -> StoreReader {
        self.reader.clone()
    }

    /// Makes every completed append durable: sled's flush, then the fsyncs it does not make.
    /// The heads read before the flush become the durable heads ([`StoreReader::durable_head`]).
    pub fn make_durable(&self) -> Result<(), StoreError> {
        self.flush_durable()
    }

    /// For tests of what an append leaves when it stops between its write-ahead and its
    /// transaction: from now on, every append of this store calls `fault` there. A panicking
    /// `fault` stands for a crash of the append at that point; an error, for a transaction
    /// refused (as a corrupt index would make it), which the append then answers with. At most
    /// once per open store (a second call panics rather than keep the first fault quietly);
    /// the node never sets it.
    #[doc(hidden)]
    pub fn set_fault_after_write_ahead(&self, fault: fn() -> Result<(), StoreError>) {
        assert!(
            self.inner.fault_after_write_ahead.set(fault).is_ok(),
            "a fault is already set after this store's write-ahead"
        );
    }

    /// Stops the store: nothing moves a head until it is opened again. Called with the
    /// chain-writer lock held.
    pub(crate) fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
    }

    /// The append index's tree as it stands (the reader's [`StoreReader::index_tree`]): a
    /// redaction may replace it by a fresh one, so it is taken for each use.
    pub(crate) fn own_index_tree(&self) -> sled::Tree {
        self.index_tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Makes `fresh` the append index's tree (a redaction's new generation).
    pub(crate) fn replace_index_tree(&self, fresh: sled::Tree) {
        *self
            .index_tree
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
    }

    /// The lock of whatever clears the index tree (see `Inner::index_rebuild`).
    pub(crate) fn lock_index_rebuild(&self) -> MutexGuard<'_, ()> {
        self.inner
            .index_rebuild
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the lock of whatever moves heads. Refused once an append may have left records
    /// above the heads: after it could not remove them, or after a panic while the lock was
    /// held (which poisons it, and might have struck between the write-ahead and the
    /// transaction).
    /// Its release counts a change ([`StoreReader::changes`]): everything written under it
    /// is committed by then.
    pub(crate) fn lock_chains(&self) -> Result<ChainWriterGuard<'_>, StoreError> {
        let guard = self.inner.chain_writer.lock().unwrap_or_else(|poisoned| {
            self.stop();
            poisoned.into_inner()
        });
        if self.inner.stopped.load(Ordering::SeqCst) {
            return Err(StoreError::StoppedUntilReopen);
        }
        Ok(ChainWriterGuard {
            reader: &self.reader,
            wrote_nothing: Cell::new(false),
            _guard: guard,
        })
    }
}

/// The chain-writer lock, held: released, it counts one change of the store, unless its
/// holder said it wrote nothing (counting is the default: a change counted that was none
/// costs a reader's cache a rendering, one not counted would serve an old page).
pub(crate) struct ChainWriterGuard<'a> {
    reader: &'a StoreReader,
    wrote_nothing: Cell<bool>,
    _guard: MutexGuard<'a, ()>,
}

impl ChainWriterGuard<'_> {
    /// Says that nothing was written under the lock (the index follower's idle pass, every
    /// `INDEX_FOLLOW_POLL_MS` on a quiet node; an empty append group): no change is counted.
    pub(crate) fn wrote_nothing(&self) {
        self.wrote_nothing.set(true);
    }
}

impl Drop for ChainWriterGuard<'_> {
    fn drop(&mut self) {
        // Before the lock itself is released (fields drop after this): a writer that takes
        // the lock next sees its own change counted after this one.
        if !self.wrote_nothing.get() {
            self.reader.note_change();
        }
    }
}
