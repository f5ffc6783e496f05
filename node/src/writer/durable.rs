//! The sync thread: one flush and its fsyncs for every appended group waiting, and only then
//! the answers to their submitters; a failed fsync stops the writer until a restart.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::limits::{DURABLE_RETRY_DELAY_MS, DURABLE_RETRY_MS_MAX};
use aidledger_store::{Store, StoreError};

use super::{
    AppendedGroup, CommittedRecord, Failure, Submission, SubmitError, SYNC_QUEUE_GROUPS_MAX,
};

/// The sync thread: one flush and its fsyncs for every appended group waiting, then the answers.
pub(super) fn run_sync(
    store: &Store,
    failure: &Failure,
    receiver: &std_mpsc::Receiver<AppendedGroup>,
    published: &broadcast::Sender<CommittedRecord>,
) {
    let hold = hold_before_fsync();
    while let Ok(first) = receiver.recv() {
        let mut groups = vec![first];
        groups.extend(receiver.try_iter().take(SYNC_QUEUE_GROUPS_MAX));
        if let Some(hold) = hold {
            std::thread::sleep(hold);
        }
        let outcome = match failure.get() {
            Some(failure) => Err(SubmitError::Storage(failure.clone())),
            None => make_durable(store, failure),
        };
        for group in groups {
            answer_group(group, &outcome, published);
        }
    }
}

/// A test hook (`AIDLEDGER_TEST_HOLD_BEFORE_FSYNC_MS`): the sync thread waits this long before
/// each flush, so that a test can act while records are committed and not yet durable (a power
/// loss in that window: `tests/tests/recovery.rs`). Unset in production; it only delays.
pub(super) const HOLD_BEFORE_FSYNC_ENV: &str = "AIDLEDGER_TEST_HOLD_BEFORE_FSYNC_MS";

pub(super) fn hold_before_fsync() -> Option<Duration> {
    let millis: u64 = std::env::var(HOLD_BEFORE_FSYNC_ENV).ok()?.parse().ok()?;
    crate::log_line!(
        "aidledger-node: test hook {HOLD_BEFORE_FSYNC_ENV}={millis}: every fsync waits {millis} ms"
    );
    Some(Duration::from_millis(millis))
}

/// Makes the store durable. A sync that stopped short without a failed fsync (no file
/// descriptor left, issue 17) is retried for up to [`DURABLE_RETRY_MS_MAX`], then answered
/// [`SubmitError::NotYetDurable`] without stopping the writer; any other failure stops it.
pub(super) fn make_durable(store: &Store, failure: &Failure) -> Result<(), SubmitError> {
    let started = std::time::Instant::now();
    loop {
        match store.make_durable() {
            Ok(()) => return Ok(()),
            Err(StoreError::NotYetDurable(reason)) => {
                if started.elapsed() >= Duration::from_millis(DURABLE_RETRY_MS_MAX) {
                    crate::log_line!(
                        "aidledger-node: {reason}; the waiting submissions are answered 503"
                    );
                    return Err(SubmitError::NotYetDurable(reason));
                }
                std::thread::sleep(Duration::from_millis(DURABLE_RETRY_DELAY_MS));
            }
            Err(error) => {
                let message = format!("{error}; restart the node");
                let _ = failure.set(message.clone());
                return Err(SubmitError::Storage(message));
            }
        }
    }
}

/// Answers a group once its fate on disk is known, and publishes its records if durable.
pub(super) fn answer_group(
    group: AppendedGroup,
    outcome: &Result<(), SubmitError>,
    published: &broadcast::Sender<CommittedRecord>,
) {
    for (reply, committed) in group.replies {
        let _ = reply.send(outcome.clone().map(|()| committed));
    }
    if let Some((reply, ingested)) = group.ingest {
        let _ = reply.send(outcome.clone().map(|()| ingested));
    }
    if outcome.is_ok() {
        for record in group.published {
            // No subscriber (no network) is fine: the records are stored.
            let _ = published.send(record);
        }
    }
}

pub(super) fn answer_all(group: Vec<Submission>, error: &SubmitError) {
    for submission in group {
        let _ = submission.reply.send(Err(error.clone()));
    }
}
