//! The append thread: signed groups appended to the store in the order they were signed (all of
//! a group or none), then handed to the sync thread; a failed append answers its group.

use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;

use aidledger_spec::VerifiedRecord;
use tokio::sync::oneshot;

use aidledger_store::{AppendError, Store, StoreError};

use crate::limits::INDEX_INLINE_GROUP_RECORDS_MAX;

use super::{
    AppendFlags, AppendJob, AppendedGroup, Committed, CommittedRecord, Failure, SubmitError,
};

/// Appends a signed group of this node's records; on failure answers every reply with the
/// error (no record of the group is in the chain) and returns `None`.
pub(super) fn append_signed(
    store: &Store,
    failure: &Failure,
    records: Vec<VerifiedRecord>,
    replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
) -> Option<AppendedGroup> {
    if let Err(error) = append_group_or_stop(store, &records) {
        stop_if_store_stopped(failure, &error);
        refuse(replies, &SubmitError::Storage(error.to_string()));
        return None;
    }
    let published = records
        .into_iter()
        .map(|record| CommittedRecord::new(record.into_bytes()))
        .collect();
    Some(AppendedGroup {
        replies,
        published,
        ..AppendedGroup::default()
    })
}

/// Appends a group. A panic inside the append (a bug) must not end the writer's thread: the
/// store refuses appends from then on (its lock is poisoned), which is the error returned, and
/// the caller's [`stop_if_store_stopped`] makes the writer say so to every submitter.
pub(super) fn append_or_stop(store: &Store, records: &[VerifiedRecord]) -> Result<(), AppendError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.append_group(records)))
        .unwrap_or(Err(AppendError::Store(StoreError::StoppedUntilReopen)))
}

/// Appends a group as [`append_or_stop`] does; a group of more than
/// [`INDEX_INLINE_GROUP_RECORDS_MAX`] records (our own or peers') leaves its explorer index
/// entries to the index follower (`explorer::follower`): a fresh node's range sync and a batch
/// submission then append at the speed of the chains, not of the index.
pub(super) fn append_group_or_stop(
    store: &Store,
    records: &[VerifiedRecord],
) -> Result<(), AppendError> {
    if records.len() <= INDEX_INLINE_GROUP_RECORDS_MAX {
        return append_or_stop(store, records);
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.append_group_deferring_index(records)
    }))
    .unwrap_or(Err(AppendError::Store(StoreError::StoppedUntilReopen)))
}

/// Sets the writer's failure when the store takes no more appends until a restart
/// ([`StoreError::StoppedUntilReopen`]): every later submission is then refused at once with
/// that reason, as after a failed fsync, instead of being signed and refused by the store.
pub(super) fn stop_if_store_stopped(failure: &Failure, error: &AppendError) {
    if matches!(error, AppendError::Store(StoreError::StoppedUntilReopen)) {
        let _ = failure.set(error.to_string());
    }
}

/// Answers every reply of a group that was not appended with `error`.
pub(super) fn refuse(
    replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    error: &SubmitError,
) {
    for (reply, _) in replies {
        let _ = reply.send(Err(error.clone()));
    }
}

/// The append thread: appends signed groups and passes every group on to the sync thread, in
/// the order the signing thread queued them.
pub(super) fn run_append(
    store: &Store,
    jobs: &std_mpsc::Receiver<AppendJob>,
    sync: &std_mpsc::SyncSender<AppendedGroup>,
    append: &AppendFlags,
) {
    while let Ok(job) = jobs.recv() {
        let group = match job {
            AppendJob::Append { replies, .. } if append.failure.get().is_some() => {
                // The store may have lost writes: nothing more is appended until a restart.
                let failure = append.failure.get().cloned().unwrap_or_default();
                refuse(replies, &SubmitError::Storage(failure));
                continue;
            }
            AppendJob::Append { records, replies } => {
                match append_signed(store, &append.failure, records, replies) {
                    Some(group) => group,
                    None => {
                        append.failed.store(true, Ordering::SeqCst);
                        continue;
                    }
                }
            }
            AppendJob::Appended(group) => group,
            AppendJob::Barrier(ack) => {
                let _ = ack.send(());
                continue;
            }
        };
        if sync.send(group).is_err() {
            return; // the sync thread is gone; dropping the replies answers Stopped
        }
    }
    // Dropping `sync` lets the sync thread make the last groups durable, then end.
}
