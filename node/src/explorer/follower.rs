//! The index follower: a thread that indexes the records an append group of more than
//! `INDEX_INLINE_GROUP_RECORDS_MAX` records left without their explorer entries (a range
//! sync, a batch submission; `store::follow` says what stays true meanwhile).
//!
//! It waits for quiet chains, so that a fresh node's sync runs at the speed of the chains and
//! the index is built after it: every [`INDEX_FOLLOW_POLL_MS`] it looks whether the record
//! count moved since its last look; when it did not, it indexes chunk after chunk of
//! [`INDEX_FOLLOW_CHUNK_RECORDS`] records until the index is current or records arrive again.
//! When the chains never go quiet, it indexes one chunk every [`INDEX_FOLLOW_WAIT_MS_MAX`]
//! all the same. Each chunk is one store transaction under the append lock.
//!
//! Each poll it also applies the redaction orders that came into force (`crate::redactor`): a
//! redaction clears the index for this thread to build again, so the two never race.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aidledger_store::{Store, StoreError};

use crate::governance::Governance;
use crate::redactor::Redactor;

use crate::limits::{INDEX_FOLLOW_CHUNK_RECORDS, INDEX_FOLLOW_POLL_MS, INDEX_FOLLOW_WAIT_MS_MAX};

/// Starts the follower of `store`'s index; it ends when `stop`'s sender sends or is dropped.
pub fn spawn(
    store: Arc<Store>,
    governance: Arc<Governance>,
    stop: Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("aidledger-index".into())
        .spawn(move || follow(&store, &governance, &stop))
}

fn follow(store: &Store, governance: &Governance, stop: &Receiver<()>) {
    let mut redactor = Redactor::default();
    let poll = Duration::from_millis(INDEX_FOLLOW_POLL_MS);
    let wait_max = Duration::from_millis(INDEX_FOLLOW_WAIT_MS_MAX);
    let mut last_count = store.record_count().unwrap_or(0);
    let mut last_indexed = Instant::now();
    loop {
        match stop.recv_timeout(poll) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Err(error) = redactor.round(store, governance.current().authority()) {
            // What was applied stays applied (each group is a transaction); the next round
            // tries the rest again.
            crate::log_line!("aidledger-node: a redaction order could not be applied yet: {error}");
        }
        let count = store.record_count().unwrap_or(last_count);
        let quiet = count == last_count;
        last_count = count;
        if !quiet && last_indexed.elapsed() < wait_max {
            continue;
        }
        match index_while_quiet(store, stop, &mut last_count, quiet) {
            Ok(Follow::Go) => last_indexed = Instant::now(),
            Ok(Follow::Stop) => return,
            Err(StoreError::StoppedUntilReopen) => {
                crate::log_line!("aidledger-node: the index follower stops: the store takes no writes until the node restarts");
                return;
            }
            Err(error) => {
                // Nothing was indexed by the failed chunk (one transaction); try again later.
                crate::log_line!(
                    "aidledger-node: the index follower could not index a chunk: {error}"
                );
                last_indexed = Instant::now();
            }
        }
    }
}

/// What the follower does after a round of chunks.
enum Follow {
    Go,
    Stop,
}

/// Indexes chunks until the index is current, records arrive again (the count moved), or a
/// stop is asked for; only one chunk when the chains were not quiet to begin with.
fn index_while_quiet(
    store: &Store,
    stop: &Receiver<()>,
    last_count: &mut u64,
    quiet: bool,
) -> Result<Follow, StoreError> {
    loop {
        if store.index_deferred(INDEX_FOLLOW_CHUNK_RECORDS)? == 0 || !quiet {
            return Ok(Follow::Go);
        }
        match stop.try_recv() {
            Err(TryRecvError::Empty) => {}
            Ok(()) | Err(TryRecvError::Disconnected) => return Ok(Follow::Stop),
        }
        let count = store.record_count()?;
        if count != *last_count {
            *last_count = count;
            return Ok(Follow::Go);
        }
    }
}
