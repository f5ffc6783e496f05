//! The single writer of the node's chain, with group commit.
//!
//! Submissions wait in a bounded queue. Three threads take them through, so that signing, the
//! sled append and the disk wait of consecutive groups overlap:
//! - the signing thread takes every waiting submission (up to a group's limits), assigns seq,
//!   prev and timestamp, and signs the group on two threads with `Verifier::sign_checked`:
//!   every rule an auditor applies, except the signature equation, which holds by construction
//!   (the first group signed with each key, and one group in [`FULL_CHECK_EVERY_GROUPS`],
//!   has its first record verified in full all the same; `signer::sign_linked` says why);
//! - the append thread appends each signed group, in order: all of it or none (see
//!   [`Store::append_group`]);
//! - the sync thread makes everything appended so far durable with one flush and its fsyncs,
//!   and only then answers every submission of those groups.
//!
//! A group that could not be appended is answered with the error; the groups signed after it
//! named it as predecessor and are refused by the store's head check, and the signing thread
//! then continues from the store's head.
//!
//! Records received from peers take the same path ([`Writer::ingest`]): they were verified by
//! the network layer, and the signing thread places them (append, duplicate, equivocation proof,
//! or held as pending until their predecessor arrives) serialized with the local appends, so
//! that every append is checked against the head it extends; it first waits for the append
//! thread to finish what it was given, as before anything that reads our chain in the store.
//!
//! Governance (issue 7): every record is judged under the node's current governance state
//! (`Governance::current`). The signing thread signs with whichever of the organisation's
//! keys the authority lets sign the chain's next position, and refuses to sign when none may.
//! Records from peers that break only an authority rule (a key or member this node does not
//! know yet, a revoked key) are not stored and are reported apart ([`Placement::Unauthorized`]):
//! they are not the peer's fault. After any governance record is appended, the signing thread
//! refreshes the governance state, which may move records out of their chains
//! (`Store::revoke_from`), before it takes the next message; a group with governance records
//! is appended by the signing thread itself, after the append thread is drained.
//!
//! If making the store durable fails, what is on disk is unknown (an fsync error may have
//! dropped dirty pages), so the writer refuses every later submission until the node restarts
//! and sled recovers from what is really on disk.

mod append;
mod durable;
mod error;
mod ingest;
mod keys;
mod signer;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::withheld::{ChainRecord, WithheldRecord};
use aidledger_spec::{Body, PublicKey, RecordId, Rejection, RuleCheckedRecord, VerifiedRecord};
use ed25519_dalek::SigningKey;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::governance::Governance;
use crate::signing_gate::SigningGate;
use aidledger_store::datadir;
use aidledger_store::{Head, Store, StoreError};

use self::append::run_append;
use self::durable::run_sync;
pub use self::error::SubmitError;
use self::keys::SharedKeys;
pub use self::keys::SigningKeys;
use self::signer::head_timestamp_ms;

/// Most submissions waiting for the writer; one more is refused with [`SubmitError::QueueFull`].
pub const SUBMIT_QUEUE_REQUESTS_MAX: usize = 4096;
/// Most records signed and appended as one group: 1,024 was measured no faster on the bulk
/// import, and a smaller group is answered sooner.
pub const GROUP_RECORDS_MAX: usize = 256;
/// Most body bytes in one group, so that a few treaty texts do not make one huge transaction.
pub const GROUP_SIZE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// One group of this node's records in this many has its first record's signature verified
/// again after signing (`signer::sign_linked` says why the others need not be).
pub const FULL_CHECK_EVERY_GROUPS: u64 = 64;
/// Below this many records a group is signed on the writer's thread alone: starting a helper
/// costs more than it saves.
const PARALLEL_SIGNING_RECORDS_MIN: usize = 32;
/// Most signed groups waiting for the append thread: enough to sign one while another is
/// appended, few enough that a failed append refuses little after it.
const APPEND_QUEUE_GROUPS_MAX: usize = 2;
/// Most appended groups waiting for the sync thread.
pub const SYNC_QUEUE_GROUPS_MAX: usize = 4;
/// Most of this node's committed records waiting to be published to peers; a subscriber that
/// falls further behind misses records, which range sync then repairs.
pub const COMMITTED_QUEUE_RECORDS_MAX: usize = 4096;

/// What became of records received from peers ([`Writer::ingest`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Records appended to their chains (including pending records they unblocked).
    pub stored: u64,
    /// Records already stored.
    pub duplicates: u64,
    /// Records held until their predecessor arrives.
    pub pending: u64,
    /// Records ahead of a gap that could not be held (the pending tree is full).
    pub dropped: u64,
    /// (author, seq) of records that are next in their chain but name another predecessor than
    /// the stored head: the author forked before `seq`.
    pub detached: Vec<(String, u64)>,
    /// Equivocation proofs stored by this call (found, or given and new).
    pub proofs: Vec<EquivocationProof>,
    /// Records not stored because they break an authority rule under this node's governance
    /// state (id, rule): not the sender's fault, it may know governance records this node
    /// does not (or not know one this node has).
    pub unauthorized: Vec<(RecordId, Rejection)>,
    /// What became of each given record, in the order given.
    pub placements: Vec<Placement>,
}

/// What became of one record given to [`Writer::ingest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Appended to its chain.
    Stored,
    /// Already stored.
    Duplicate,
    /// Another record is stored at its (author, seq): an equivocation proof was stored.
    Equivocation,
    /// Held until its predecessor arrives.
    Pending,
    /// Ahead of a gap, and the pending tree is full.
    Dropped,
    /// Next in its chain but naming another predecessor than the stored head.
    Detached,
    /// Not stored: it breaks an authority rule under this node's governance state (see
    /// [`IngestOutcome::unauthorized`]). Not the sender's fault.
    Unauthorized,
}

/// A committed record of this node, as published to peers.
pub type CommittedRecord = std::sync::Arc<Vec<u8>>;

/// What an acknowledged submission became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The record id.
    pub id: RecordId,
    /// Its seq in the organisation's chain.
    pub seq: u64,
    /// For a key rotation: the key the node signs with from the next record on.
    pub new_key: Option<PublicKey>,
}

struct Submission {
    body: Body,
    body_size_bytes: usize,
    reply: oneshot::Sender<Result<Committed, SubmitError>>,
    /// Set for a key rotation: the new key, reported in the answer.
    new_key: Option<PublicKey>,
}

/// Records (by the record rules) and proofs from peers.
struct Ingest {
    records: Vec<RuleCheckedRecord>,
    /// Withheld records (FORMAT.md §6.1), placed after `records`, in chain order.
    withheld: Vec<WithheldRecord>,
    proofs: Vec<(VerifiedRecord, VerifiedRecord)>,
    reply: oneshot::Sender<Result<IngestOutcome, SubmitError>>,
}

enum Message {
    /// Boxed: a body is hundreds of bytes, and the queue holds thousands of messages.
    Submit(Box<Submission>),
    Ingest(Box<Ingest>),
    /// Replace the signing key by a new one (`POST /v1/key/rotate`).
    Rotate(oneshot::Sender<Result<Committed, SubmitError>>),
    Stop,
}

type IngestReply = (
    oneshot::Sender<Result<IngestOutcome, SubmitError>>,
    IngestOutcome,
);

/// A group appended to the store, waiting to be made durable before it is acknowledged.
#[derive(Default)]
struct AppendedGroup {
    replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    ingest: Option<IngestReply>,
    /// This node's new records, published once durable.
    published: Vec<CommittedRecord>,
}

/// What the signing thread hands the append thread, which does it in order.
enum AppendJob {
    /// A signed group of this node's records: append it, then hand it to the sync thread.
    Append {
        records: Vec<VerifiedRecord>,
        replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    },
    /// A group the signing thread appended itself (ingests, governance): for the sync thread.
    Appended(AppendedGroup),
    /// Answered once every job before it is done.
    Barrier(std_mpsc::SyncSender<()>),
}

/// The first storage failure; once set, nothing more is acknowledged.
type Failure = Arc<OnceLock<String>>;

/// What the append thread reads and sets about failures.
struct AppendFlags {
    /// The writer's storage failure: once set, queued groups are refused, not appended.
    failure: Failure,
    /// Set when a group could not be appended (the signing thread then follows the store).
    failed: Arc<AtomicBool>,
}

/// The handle of the writer threads.
pub struct Writer {
    governance: Arc<Governance>,
    store: Arc<Store>,
    failure: Failure,
    sender: mpsc::Sender<Message>,
    committed: broadcast::Sender<CommittedRecord>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The data directory whose retired key files a durable rotation removes (`None`: kept).
    retired_key_dir: Option<PathBuf>,
    /// The organisation whose chain this writer signs.
    org: String,
    /// Member peers' view of this chain: signing waits while one holds more of it
    /// (`signing_gate`).
    gate: Arc<SigningGate>,
    /// Free bytes the store's filesystem must keep before a record is taken.
    disk_free_bytes_min: u64,
    /// The signing thread's keys as of its last rotation, for checkpoints
    /// ([`Writer::checkpoint_key`]).
    shared_keys: SharedKeys,
}

impl Writer {
    /// Starts the writer of `org`'s chain, signing with `keys` under `governance`.
    pub fn start(
        store: Arc<Store>,
        governance: Arc<Governance>,
        org: String,
        keys: SigningKeys,
    ) -> Result<Writer, StoreError> {
        let head = store.head(&org)?;
        let last_timestamp_ms = head_timestamp_ms(&store, head)?;
        let (sender, receiver) = mpsc::channel(SUBMIT_QUEUE_REQUESTS_MAX);
        let (append_sender, append_receiver) = std_mpsc::sync_channel(APPEND_QUEUE_GROUPS_MAX);
        let (sync_sender, sync_receiver) = std_mpsc::sync_channel(SYNC_QUEUE_GROUPS_MAX);
        let failure = Failure::default();
        let append_failed = Arc::new(AtomicBool::new(false));
        let (committed, _) = broadcast::channel(COMMITTED_QUEUE_RECORDS_MAX);
        let published = committed.clone();
        let shared_keys = SharedKeys::new(keys.keys.clone());
        let signer = Signer {
            store: store.clone(),
            governance: governance.clone(),
            org: org.clone(),
            keys,
            shared_keys: shared_keys.clone(),
            head,
            last_timestamp_ms,
            failure: failure.clone(),
            appender: append_sender,
            append_failed: append_failed.clone(),
            full_check: FullCheck::default(),
        };
        let sign_thread = std::thread::Builder::new()
            .name("aidledger-sign".into())
            .spawn(move || signer.run(receiver))?;
        let append_store = store.clone();
        let append_failure = failure.clone();
        let append_thread = std::thread::Builder::new()
            .name("aidledger-append".into())
            .spawn(move || {
                let flags = AppendFlags {
                    failure: append_failure,
                    failed: append_failed,
                };
                run_append(&append_store, &append_receiver, &sync_sender, &flags)
            })?;
        let sync_failure = failure.clone();
        let sync_store = store.clone();
        let sync_thread = std::thread::Builder::new()
            .name("aidledger-sync".into())
            .spawn(move || run_sync(&sync_store, &sync_failure, &sync_receiver, &published))?;
        Ok(Writer {
            governance,
            store,
            failure,
            sender,
            committed,
            threads: Mutex::new(vec![sign_thread, append_thread, sync_thread]),
            retired_key_dir: None,
            org,
            gate: Arc::default(),
            disk_free_bytes_min: crate::limits::DISK_FREE_BYTES_MIN,
            shared_keys,
        })
    }

    /// The organisation key that may sign a checkpoint of the chain at `seq + 1` records: the
    /// first of the node's keys the current authority lets sign position `seq` (FORMAT.md
    /// §23.3), or why none may.
    pub fn checkpoint_key(&self, seq: u64) -> Result<SigningKey, String> {
        let keys = SigningKeys {
            dir: None,
            keys: self.shared_keys.get(),
        };
        keys.select(self.governance.current().authority(), &self.org, seq)
            .cloned()
    }

    /// Has every durable key rotation remove the files of the keys it retired from `dir`
    /// (`datadir::remove_keys_retired_by`); without this they are kept.
    pub fn removing_retired_keys(mut self, dir: PathBuf) -> Writer {
        self.retired_key_dir = Some(dir);
        self
    }

    /// The organisation whose chain this writer signs.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// Member peers' view of this chain (see `signing_gate`).
    pub fn signing_gate(&self) -> &Arc<SigningGate> {
        &self.gate
    }

    /// `Err` while a member peer holds more of this chain than the store (`signing_gate`).
    pub fn signing_paused(&self) -> Result<(), String> {
        let local = self
            .store
            .head(&self.org)
            .map_err(|error| error.to_string())?
            .map(|head| head.seq);
        self.gate.check(local)
    }

    /// Whether a new record of this chain may be signed now: room on the disk, and no member
    /// peer holding more of the chain.
    fn check_may_sign(&self) -> Result<(), SubmitError> {
        self.check_disk()?;
        self.signing_paused().map_err(SubmitError::SigningPaused)
    }

    /// Refuses new records while the store's filesystem is below the free-space reserve.
    fn check_disk(&self) -> Result<(), SubmitError> {
        let free_bytes = self
            .store
            .free_bytes()
            .map_err(|error| SubmitError::Storage(error.to_string()))?;
        if free_bytes < self.disk_free_bytes_min {
            return Err(SubmitError::DiskNearlyFull {
                free_bytes,
                needed_bytes: self.disk_free_bytes_min,
            });
        }
        Ok(())
    }

    /// Keeps `bytes` free on the store's filesystem instead of
    /// [`crate::limits::DISK_FREE_BYTES_MIN`] (for tests of the refusal).
    pub fn with_disk_free_bytes_min(mut self, bytes: u64) -> Writer {
        self.disk_free_bytes_min = bytes;
        self
    }

    /// The governance state the writer judges records under (the network's too).
    pub fn governance(&self) -> &Arc<Governance> {
        &self.governance
    }

    /// Why the writer refuses every submission and ingest until the node restarts (a failed
    /// fsync, a store stopped after a failed append or revocation, a thread of the writer
    /// ended by a bug), or `None` while it takes records.
    pub fn failure(&self) -> Option<String> {
        if let Some(failure) = self.failure.get() {
            return Some(failure.clone());
        }
        // The store can stop without a submission having met it yet (a failed revocation, or
        // an append whose sled error is not itself the stop).
        if self.store.is_stopped() {
            return Some(StoreError::StoppedUntilReopen.to_string());
        }
        let threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        threads.iter().any(JoinHandle::is_finished).then(|| {
            "the node's writer has stopped (a thread of it ended); restart the node".into()
        })
    }

    /// Queues a checked body and waits until its record is durable.
    pub async fn submit(
        &self,
        body: Body,
        body_size_bytes: usize,
    ) -> Result<Committed, SubmitError> {
        self.check_may_sign()?;
        let (reply, answer) = oneshot::channel();
        let message = Message::Submit(Box::new(Submission {
            body,
            body_size_bytes,
            reply,
            new_key: None,
        }));
        self.sender.try_send(message).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
        })?;
        answer.await.unwrap_or(Err(SubmitError::Stopped))
    }

    /// Replaces the signing key: a new key is drawn, written as the directory's `org.key`
    /// (the old one kept as `org.key.<hex>`), and a key rotation record signed by the old key
    /// is appended; records after it are signed by the new key. Waits until it is durable.
    pub async fn rotate_key(&self) -> Result<Committed, SubmitError> {
        self.check_may_sign()?;
        let (reply, answer) = oneshot::channel();
        self.sender
            .try_send(Message::Rotate(reply))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
            })?;
        let committed = answer.await.unwrap_or(Err(SubmitError::Stopped))?;
        // Only now, with the rotation durable, may the old key go: before, a crash could leave
        // a chain whose next position only the old key may sign. A failed removal is logged,
        // not an error: the rotation stands, and the next start removes the file again. A few
        // file operations, rare: done here rather than on the blocking pool.
        if let (Some(dir), Some(new_key)) = (&self.retired_key_dir, committed.new_key) {
            let view = self.governance.current();
            match datadir::remove_keys_retired_by(dir, view.authority(), &new_key, committed.seq) {
                Ok(removed) => {
                    for key in removed {
                        crate::log_line!(
                            "aidledger-node: removed the retired signing key file {}{key}",
                            datadir::KEY_BACKUP_PREFIX
                        );
                    }
                }
                Err(error) => crate::log_line!("aidledger-node: warning: {error}"),
            }
        }
        Ok(committed)
    }

    /// Places records and equivocation proofs received from peers, serialized with local
    /// appends, and waits until what was stored is durable. Waits for room in the queue
    /// (back-pressure on the network) instead of refusing. The records need only have passed
    /// the record rules: the writer checks their authority itself, under the governance as it
    /// stands when they are placed, and only what passes is appended.
    pub async fn ingest<R: Into<RuleCheckedRecord>>(
        &self,
        records: Vec<R>,
        proofs: Vec<(VerifiedRecord, VerifiedRecord)>,
    ) -> Result<IngestOutcome, SubmitError> {
        let records = records.into_iter().map(Into::into).collect();
        self.ingest_parts(records, Vec::new(), proofs).await
    }

    /// [`Writer::ingest`] of a range that may hold withheld records (their bodies redacted):
    /// each is appended when it extends its chain, after the whole records of the call, and
    /// the whole records held behind it follow (`Placement`s of withheld records come last).
    pub async fn ingest_chain(
        &self,
        records: Vec<ChainRecord>,
        proofs: Vec<(VerifiedRecord, VerifiedRecord)>,
    ) -> Result<IngestOutcome, SubmitError> {
        let (mut whole, mut withheld) = (Vec::new(), Vec::new());
        for record in records {
            match record {
                ChainRecord::Full(record) => whole.push(record.into_rule_checked()),
                ChainRecord::Withheld(record) => withheld.push(record),
            }
        }
        self.ingest_parts(whole, withheld, proofs).await
    }

    async fn ingest_parts(
        &self,
        records: Vec<RuleCheckedRecord>,
        withheld: Vec<WithheldRecord>,
        proofs: Vec<(VerifiedRecord, VerifiedRecord)>,
    ) -> Result<IngestOutcome, SubmitError> {
        // A peer's records wait while the disk is nearly full: range sync offers them again.
        self.check_disk()?;
        let (reply, answer) = oneshot::channel();
        let message = Message::Ingest(Box::new(Ingest {
            records,
            withheld,
            proofs,
            reply,
        }));
        self.sender
            .send(message)
            .await
            .map_err(|_| SubmitError::Stopped)?;
        answer.await.unwrap_or(Err(SubmitError::Stopped))
    }

    /// This node's own records, each once it is durable, for publishing to peers.
    pub fn committed_records(&self) -> broadcast::Receiver<CommittedRecord> {
        self.committed.subscribe()
    }

    /// Lets the writer finish every queued submission, make it durable, and stop.
    pub async fn stop(&self) {
        // An error means the threads already ended.
        let _ = self.sender.send(Message::Stop).await;
        let threads = std::mem::take(
            &mut *self
                .threads
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let joined = tokio::task::spawn_blocking(move || {
            for thread in threads {
                // A panicked writer thread has already dropped its replies (answered as Stopped).
                let _ = thread.join();
            }
        });
        let _ = joined.await;
    }
}

/// The signing thread's state.
struct Signer {
    store: Arc<Store>,
    governance: Arc<Governance>,
    org: String,
    keys: SigningKeys,
    /// Where a rotation publishes the new key list (for [`Writer::checkpoint_key`]).
    shared_keys: SharedKeys,
    head: Option<Head>,
    last_timestamp_ms: u64,
    failure: Failure,
    /// The append thread's queue: a signed group is appended there while the next is signed.
    appender: std_mpsc::SyncSender<AppendJob>,
    /// Set by the append thread when a group could not be appended; our head is then read
    /// again from the store.
    append_failed: Arc<AtomicBool>,
    /// When a group's first record was last verified in full (`signer::sign_linked`).
    full_check: FullCheck,
}

/// Which of this node's groups get their first record verified in full, the signature
/// equation included: the first group signed with each key, then one group in
/// [`FULL_CHECK_EVERY_GROUPS`].
#[derive(Default)]
struct FullCheck {
    /// The key of the last group checked in full.
    key: Option<PublicKey>,
    /// Groups signed since then.
    groups_since: u64,
}

impl FullCheck {
    /// Whether the group about to be signed with `key` is checked in full; counts it.
    fn due(&mut self, key: PublicKey) -> bool {
        let due = self.key != Some(key) || self.groups_since + 1 >= FULL_CHECK_EVERY_GROUPS;
        if due {
            *self = FullCheck {
                key: Some(key),
                groups_since: 0,
            };
        } else {
            self.groups_since += 1;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_checked_in_full_for_each_new_key_and_once_in_every_interval() {
        let (first, second) = (PublicKey([1; 32]), PublicKey([2; 32]));
        let mut check = FullCheck::default();
        let due: Vec<bool> = (0..2 * FULL_CHECK_EVERY_GROUPS)
            .map(|_| check.due(first))
            .collect();
        let checked: Vec<usize> = (0..due.len()).filter(|&group| due[group]).collect();
        let every = FULL_CHECK_EVERY_GROUPS as usize;
        assert_eq!(checked, [0, every]);
        assert!(check.due(second), "a new key is checked at its first group");
        assert!(!check.due(second));
        assert!(check.due(first), "and so is a key used again after another");
    }
}
