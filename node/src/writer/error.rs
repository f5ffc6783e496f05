//! [`SubmitError`]: why a submission (or a rotation) was not stored, as the submit API reports it.

use super::SUBMIT_QUEUE_REQUESTS_MAX;

/// Why a checked submission was not stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The queue is full; nothing was stored.
    #[error(
        "the submit queue is full ({SUBMIT_QUEUE_REQUESTS_MAX} requests waiting); retry later"
    )]
    QueueFull,
    /// The node is stopping; nothing was stored.
    #[error("the node is shutting down")]
    Stopped,
    /// The store failed; the record is not acknowledged.
    #[error("the record could not be stored durably: {0}")]
    Storage(String),
    /// The record was appended but the store could not be made durable yet for a reason
    /// that loses nothing (no file descriptor left); it is not acknowledged, and becomes
    /// durable with a later group unless the node stops first.
    #[error(
        "the record was appended but could not be made durable yet ({0}); it is not \
         acknowledged: look for it by the chain's head before submitting it again"
    )]
    NotYetDurable(String),
    /// The data directory's filesystem has less free space than the writer keeps
    /// ([`crate::limits::DISK_FREE_BYTES_MIN`]); nothing was stored, and the node goes on.
    #[error(
        "the disk is nearly full: {free_bytes} bytes free, the node keeps {needed_bytes}; free space and retry"
    )]
    DiskNearlyFull {
        /// Free bytes now.
        free_bytes: u64,
        /// The reserve.
        needed_bytes: u64,
    },
    /// A member peer holds more of this organisation's chain than the node: it fetches the
    /// missing records before it signs again (`signing_gate`); nothing was stored.
    #[error("{0}; retry in a few seconds")]
    SigningPaused(String),
    /// None of the node's keys may sign the chain's next position under the network's
    /// governance state (a key not yet granted, rotated out or revoked); nothing was stored.
    #[error("{0}")]
    KeyNotValid(String),
    /// A key rotation could not be prepared (no key file, no randomness, the new key file
    /// could not be written); nothing was signed.
    #[error("cannot rotate the signing key: {0}")]
    Rotation(String),
    /// A bug: the node made a record that does not verify or does not extend its chain.
    #[error("internal error: {0}")]
    Internal(String),
}
