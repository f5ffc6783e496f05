//! The single writer of the node's chain, with group commit.
//!
//! Submissions wait in a bounded queue. Three threads take them through, so that signing, the
//! sled append and the disk wait of consecutive groups overlap:
//! - the signing thread takes every waiting submission (up to a group's limits), assigns seq,
//!   prev and timestamp, and signs the group on two threads with `Verifier::sign_checked`:
//!   every rule an auditor applies, except the signature equation, which holds by construction
//!   (the group's first record is verified in full all the same);
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

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::governance::{Authority, KeyGrant, KeyRotation};
use aidledger_spec::record::record_id_of_header_bytes;
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{
    Body, PublicKey, RecordDraft, RecordId, Rejection, RuleCheckedRecord, VerifiedRecord, Verifier,
};
use ed25519_dalek::SigningKey;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::governance::Governance;
use crate::limits::{DURABLE_RETRY_DELAY_MS, DURABLE_RETRY_MS_MAX};
use crate::signing_gate::SigningGate;
use aidledger_store::datadir;
use aidledger_store::{AppendError, Head, Store, StoreError};

/// Most submissions waiting for the writer; one more is refused with [`SubmitError::QueueFull`].
pub const SUBMIT_QUEUE_REQUESTS_MAX: usize = 4096;
/// Most records signed and appended as one group: 1,024 was measured no faster on the bulk
/// import, and a smaller group is answered sooner.
pub const GROUP_RECORDS_MAX: usize = 256;
/// Most body bytes in one group, so that a few treaty texts do not make one huge transaction.
pub const GROUP_SIZE_BYTES_MAX: usize = 64 * 1024 * 1024;
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

/// The organisation's signing keys: the first is the directory's `org.key`, the others kept
/// earlier keys. The writer signs with the first one the authority lets sign the next position.
#[derive(Clone)]
pub struct SigningKeys {
    /// The data directory whose `org.key` a rotation replaces (`None`: rotation refused).
    pub dir: Option<PathBuf>,
    /// The keys, preferred first.
    pub keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// One key, no directory (tests and tools).
    pub fn single(key: SigningKey) -> SigningKeys {
        SigningKeys {
            dir: None,
            keys: vec![key],
        }
    }

    /// The first key the authority lets sign `org`'s position `seq`, or why none may.
    pub fn select(
        &self,
        authority: &Authority,
        org: &str,
        seq: u64,
    ) -> Result<&SigningKey, String> {
        let mut first_refusal = None;
        for key in &self.keys {
            match authority.check(org, seq, &datadir::public_key(key)) {
                Ok(()) => return Ok(key),
                Err(rejection) => {
                    first_refusal.get_or_insert(rejection);
                }
            }
        }
        let key = self.keys.first().map_or_else(
            || "(none)".to_owned(),
            |key| datadir::public_key(key).to_string(),
        );
        Err(match first_refusal {
            Some(rejection) => {
                format!("this node's key {key} is not valid for {org} at seq {seq}: {rejection}")
            }
            None => format!("this node has no signing key for {org}"),
        })
    }
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
        let signer = Signer {
            store: store.clone(),
            governance: governance.clone(),
            org: org.clone(),
            keys,
            head,
            last_timestamp_ms,
            failure: failure.clone(),
            appender: append_sender,
            append_failed: append_failed.clone(),
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
        })
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
                        eprintln!(
                            "aidledger-node: removed the retired signing key file {}{key}",
                            datadir::KEY_BACKUP_PREFIX
                        );
                    }
                }
                Err(error) => eprintln!("aidledger-node: warning: {error}"),
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
        // A peer's records wait while the disk is nearly full: range sync offers them again.
        self.check_disk()?;
        let (reply, answer) = oneshot::channel();
        let message = Message::Ingest(Box::new(Ingest {
            records,
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
    head: Option<Head>,
    last_timestamp_ms: u64,
    failure: Failure,
    /// The append thread's queue: a signed group is appended there while the next is signed.
    appender: std_mpsc::SyncSender<AppendJob>,
    /// Set by the append thread when a group could not be appended; our head is then read
    /// again from the store.
    append_failed: Arc<AtomicBool>,
}

impl Signer {
    fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
        while let Some(first) = receiver.blocking_recv() {
            let (messages, stop) = collect_group(first, &mut receiver);
            // A panic (a bug) must not end the thread while submitters wait: the messages it
            // was processing are answered as at shutdown (their replies are dropped), and
            // everything after them is refused with the reason, which `/v1/status` shows.
            let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.process(messages);
            }));
            if processed.is_err() {
                let _ = self
                    .failure
                    .set("the node's writer failed on a bug (a panic); restart the node".into());
            }
            if stop {
                break;
            }
        }
        // Dropping the append queue lets the append and sync threads finish what is queued,
        // then end.
    }

    /// Waits until every group handed to the append thread is appended (or refused); before
    /// anything that reads the store's state of our chain.
    fn drain_appends(&mut self) {
        let (ack, done) = std_mpsc::sync_channel(1);
        if self.appender.send(AppendJob::Barrier(ack)).is_ok() {
            let _ = done.recv();
        }
        if self.append_failed.swap(false, Ordering::SeqCst) {
            // The groups signed after the failed one named it as predecessor and were refused
            // too; the chain goes on from what the store has.
            if let Err(error) = self.follow_store_head() {
                let _ = self.failure.set(format!("{error}; restart the node"));
            }
        }
    }

    /// Commits runs of submissions as groups and ingests in their order of arrival. Every
    /// group goes through the append thread as soon as it exists, so the sync thread answers
    /// and publishes them in chain order (a rotation before the records its new key signs).
    fn process(&mut self, messages: Vec<Message>) {
        let mut group = Vec::new();
        for message in messages {
            match message {
                Message::Submit(submission) => group.push(*submission),
                Message::Ingest(ingest) => {
                    if !group.is_empty() {
                        let appended = self.commit(std::mem::take(&mut group));
                        self.pass_on(appended);
                    }
                    self.drain_appends();
                    let appended = self.ingest(*ingest);
                    self.pass_on(appended);
                }
                Message::Rotate(reply) => {
                    if !group.is_empty() {
                        let appended = self.commit(std::mem::take(&mut group));
                        self.pass_on(appended);
                    }
                    self.drain_appends();
                    let appended = self.rotate(reply);
                    self.pass_on(appended);
                }
                Message::Stop => {}
            }
        }
        if !group.is_empty() {
            let appended = self.commit(group);
            self.pass_on(appended);
        }
    }

    /// Hands a group this thread appended itself to the sync thread, behind the groups queued
    /// before it. A send fails only when the append thread is gone: the dropped replies then
    /// answer Stopped.
    fn pass_on(&self, appended: Option<AppendedGroup>) {
        if let Some(group) = appended {
            let _ = self.appender.send(AppendJob::Appended(group));
        }
    }

    /// Places records from peers; returns what waits for the sync.
    fn ingest(&mut self, ingest: Ingest) -> Option<AppendedGroup> {
        if let Some(failure) = self.failure.get() {
            let _ = ingest
                .reply
                .send(Err(SubmitError::Storage(failure.clone())));
            return None;
        }
        match self.place_all(ingest.records, ingest.proofs) {
            Ok(outcome) => Some(AppendedGroup {
                ingest: Some((ingest.reply, outcome)),
                ..AppendedGroup::default()
            }),
            Err(error) => {
                // None of the records is in a chain; proofs and pending records written
                // before the failure are harmless (each stands on its own).
                stop_if_store_stopped(&self.failure, &error);
                let _ = ingest
                    .reply
                    .send(Err(SubmitError::Storage(error.to_string())));
                None
            }
        }
    }

    fn place_all(
        &mut self,
        records: Vec<RuleCheckedRecord>,
        proofs: Vec<(VerifiedRecord, VerifiedRecord)>,
    ) -> Result<IngestOutcome, AppendError> {
        let mut outcome = IngestOutcome::default();
        for (first, second) in proofs {
            self.store_proof(first.into_rule_checked(), &second, &mut outcome)?;
        }
        outcome.placements = vec![Placement::Unauthorized; records.len()];
        let mut waiting: Vec<(usize, RuleCheckedRecord)> =
            records.into_iter().enumerate().collect();
        // A batch may hold a governance record and records it authorises (a new member's, a
        // rotated key's): after governance records are stored, the refused ones are tried again.
        loop {
            let view = self.governance.current();
            let mut batch = IngestBatch::default();
            let mut refused = Vec::new();
            for (index, record) in waiting {
                // Authority again, under the governance as it stands now.
                match view.verifier.check_authority(record.clone()) {
                    Ok(record) => {
                        outcome.placements[index] = self.place(record, &mut batch, &mut outcome)?;
                    }
                    Err(rejected) => refused.push((index, record, rejected.reason)),
                }
            }
            let authors: Vec<String> = batch.heads.keys().cloned().collect();
            for author in &authors {
                self.promote_pending(author, &mut batch, &mut outcome)?;
            }
            append_or_stop(&self.store, &batch.append)?;
            outcome.stored += batch.append.len() as u64;
            let governance_stored = batch
                .append
                .iter()
                .any(|record| record.body().kind().is_governance());
            if governance_stored {
                self.after_governance()?;
            } else if batch.heads.contains_key(&self.org) {
                // Our own chain came back from peers (a restored directory): follow the store.
                self.follow_store_head()?;
            }
            if !governance_stored || refused.is_empty() {
                let mut held = false;
                for (_, record, reason) in refused {
                    held |= self.hold_refused_governance(&record, &reason)?;
                    outcome.unauthorized.push((record.id(), reason));
                }
                // A governance record at a position now proven contested no longer counts
                // (FORMAT.md 18.6): derive again.
                let contested_governance = outcome.proofs.iter().any(|proof| {
                    [&proof.first, &proof.second].into_iter().any(|bytes| {
                        aidledger_spec::signed::peek_body_kind(bytes)
                            .and_then(aidledger_spec::BodyKind::from_wire)
                            .is_some_and(aidledger_spec::BodyKind::is_governance)
                    })
                });
                if held || contested_governance {
                    self.after_governance()?;
                }
                return Ok(outcome);
            }
            waiting = refused
                .into_iter()
                .map(|(index, record, _)| (index, record))
                .collect();
        }
    }

    /// Keeps a governance record that the authority refuses for good (its key revoked or
    /// rotated out, its author removed, at its position) as revoked evidence: such a record
    /// may still have counted for a step taken before the revocation, so the derivation must
    /// see it on every node whatever the order records arrived in (FORMAT.md 13.1). Returns
    /// whether it was newly kept. A record refused for a state the node may not have reached
    /// yet (an unknown author, a key not yet valid) is not kept: sync fetches it again.
    fn hold_refused_governance(
        &self,
        record: &RuleCheckedRecord,
        reason: &Rejection,
    ) -> Result<bool, StoreError> {
        let final_refusal =
            reason.is_revocation() || matches!(reason, Rejection::KeyRotatedOut { .. });
        if !record.body().kind().is_governance() || !final_refusal {
            return Ok(false);
        }
        self.store.hold_revoked(record, reason)
    }

    /// Refreshes the governance state after governance records were appended; the refresh
    /// may have moved records of our own chain, so the head is read again.
    fn after_governance(&mut self) -> Result<(), StoreError> {
        let refresh = self.governance.refresh()?;
        for rewind in &refresh.rewinds {
            eprintln!(
                "aidledger-node: {} record(s) of {} from seq {} on are no longer valid and are kept as revoked: {}",
                rewind.moved.len(),
                rewind.author,
                rewind.from_seq,
                rewind.reason
            );
        }
        self.follow_store_head()
    }

    /// Takes our chain's head from the store (after peers extended it or a rewind cut it).
    fn follow_store_head(&mut self) -> Result<(), StoreError> {
        self.head = self.store.head(&self.org)?;
        self.last_timestamp_ms = self
            .last_timestamp_ms
            .max(head_timestamp_ms(&self.store, self.head)?);
        Ok(())
    }

    /// Appends, counts as duplicate, proves an equivocation, or holds one record.
    fn place(
        &mut self,
        record: VerifiedRecord,
        batch: &mut IngestBatch,
        outcome: &mut IngestOutcome,
    ) -> Result<Placement, AppendError> {
        let author = record.header().author.clone();
        let seq = record.header().seq;
        let (next_seq, next_prev) = Head::next(batch.head(&self.store, &author)?);
        let placement = if seq < next_seq {
            let in_batch = batch.appended(&author, seq).cloned();
            let duplicate = match &in_batch {
                Some(existing) => existing.id() == record.id(),
                None => self.store.position(&record.id())?.is_some(),
            };
            if duplicate {
                outcome.duplicates += 1;
                Placement::Duplicate
            } else {
                let existing = match in_batch {
                    Some(existing) => existing.into_rule_checked(),
                    None => self.stored_record(&author, seq)?,
                };
                self.store_proof(existing, &record, outcome)?;
                Placement::Equivocation
            }
        } else if seq == next_seq && record.header().prev == next_prev {
            batch.push(record);
            Placement::Stored
        } else if seq == next_seq {
            outcome.detached.push((author, seq));
            Placement::Detached
        } else if self.store.add_pending(&record)? {
            outcome.pending += 1;
            Placement::Pending
        } else {
            outcome.dropped += 1;
            Placement::Dropped
        };
        Ok(placement)
    }

    /// Appends the pending records that now extend `author`'s chain.
    fn promote_pending(
        &mut self,
        author: &str,
        batch: &mut IngestBatch,
        outcome: &mut IngestOutcome,
    ) -> Result<(), AppendError> {
        let view = self.governance.current();
        loop {
            let (next_seq, next_prev) = Head::next(batch.head(&self.store, author)?);
            let mut extended: Option<VerifiedRecord> = None;
            for bytes in self.store.take_pending(author, next_seq)? {
                // Verified when held; verified again because it now enters a chain, under the
                // governance state of now (a record that is no longer authorised is dropped).
                let Ok(record) = view.verifier.verify(bytes) else {
                    continue;
                };
                match &extended {
                    Some(first) => {
                        self.store_proof(RuleCheckedRecord::clone(first), &record, outcome)?
                    }
                    None if record.header().prev == next_prev => extended = Some(record),
                    None => outcome.detached.push((author.to_owned(), next_seq)),
                }
            }
            match extended {
                Some(record) => batch.push(record),
                None => return Ok(()),
            }
        }
    }

    /// Stores the proof of two records at one (author, seq) unless it is already stored.
    fn store_proof(
        &self,
        first: RuleCheckedRecord,
        second: &RuleCheckedRecord,
        outcome: &mut IngestOutcome,
    ) -> Result<(), AppendError> {
        if self.store.has_proof(&first, second)? {
            return Ok(());
        }
        let (first, second) = if first.id() < second.id() {
            (&first, second)
        } else {
            (second, &first)
        };
        self.store.add_proof(first, second)?;
        outcome.proofs.push(EquivocationProof {
            first: first.bytes().to_vec(),
            second: second.bytes().to_vec(),
        });
        Ok(())
    }

    /// A record of the store, verified by the record rules (it was verified in full before it
    /// was stored, and records the governance invalidates have left the chain).
    fn stored_record(&self, author: &str, seq: u64) -> Result<RuleCheckedRecord, AppendError> {
        let bytes = self.store.record_at(author, seq)?.ok_or_else(|| {
            StoreError::Corrupt(format!("{author}'s chain has no record at seq {seq}"))
        })?;
        let view = self.governance.current();
        view.verifier
            .verify_record_rules(bytes)
            .map_err(|rejected| {
                AppendError::Store(StoreError::Corrupt(format!(
                    "stored record {author} seq {seq} does not verify: {}",
                    rejected.reason
                )))
            })
    }

    /// Draws a new key, makes it the directory's key file (keeping the old one), and commits
    /// a key rotation signed by the old key; returns what waits for the sync.
    fn rotate(
        &mut self,
        reply: oneshot::Sender<Result<Committed, SubmitError>>,
    ) -> Option<AppendedGroup> {
        match self.prepare_rotation() {
            Ok((body, new_key)) => self.commit(vec![Submission {
                body_size_bytes: 0,
                body,
                reply,
                new_key: Some(new_key),
            }]),
            Err(error) => {
                let _ = reply.send(Err(error));
                None
            }
        }
    }

    /// The rotation body, once the new key is durably the directory's `org.key`.
    fn prepare_rotation(&mut self) -> Result<(Body, PublicKey), SubmitError> {
        if let Some(failure) = self.failure.get() {
            return Err(SubmitError::Storage(failure.clone()));
        }
        let Some(dir) = self.keys.dir.clone() else {
            return Err(SubmitError::Rotation(
                "this writer has no data directory to keep keys in".into(),
            ));
        };
        let view = self.governance.current();
        let (seq, _) = Head::next(self.head);
        let old = self
            .keys
            .select(view.authority(), &self.org, seq)
            .map_err(SubmitError::KeyNotValid)?
            .clone();
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|error| SubmitError::Rotation(format!("no randomness: {error}")))?;
        let new = SigningKey::from_bytes(&seed);
        // The new key is on disk before anything names it; the old one stays beside it, so
        // after a crash at any point the node finds the key the authority grants.
        datadir::install_signing_key(&dir, &new, &old).map_err(|error| {
            SubmitError::Rotation(format!("cannot write the key files: {error}"))
        })?;
        let new_key = datadir::public_key(&new);
        self.keys
            .keys
            .retain(|key| key.to_bytes() != new.to_bytes());
        self.keys.keys.insert(0, new.clone());
        let grant = KeyGrant::prove(&self.store.network_id(), &self.org, &new);
        Ok((Body::KeyRotation(KeyRotation { new_key: grant }), new_key))
    }

    /// Signs a group and has it appended: by the append thread while the next group is signed,
    /// or here for a group with governance records, which change what later records may be.
    /// Returns what waits for the sync (only for a group appended here).
    fn commit(&mut self, group: Vec<Submission>) -> Option<AppendedGroup> {
        if let Some(failure) = self.failure.get() {
            answer_all(group, &SubmitError::Storage(failure.clone()));
            return None;
        }
        // A governance group is signed and appended here, after everything queued before it:
        // the drain comes first, so that it signs on the store's head.
        let governance = group
            .iter()
            .any(|submission| submission.body.kind().is_governance());
        if governance || self.append_failed.load(Ordering::SeqCst) {
            self.drain_appends();
        }
        let (records, replies) = self.sign_group(group);
        let last = records.last().map(|record| Head {
            seq: record.header().seq,
            id: record.id(),
        })?;
        if !governance {
            self.head = Some(last);
            // A send fails only when the append thread is gone: the dropped replies answer
            // Stopped.
            let _ = self.appender.send(AppendJob::Append { records, replies });
            return None;
        }
        let group = append_signed(&self.store, &self.failure, records, replies)?;
        self.head = Some(last);
        if let Err(error) = self.after_governance() {
            // The records are appended; the governance state is derived again at the next
            // governance record or start. Every later record is still verified in full.
            eprintln!("aidledger-node: cannot refresh the governance state: {error}");
        }
        Some(group)
    }

    /// Links the group as consecutive records and signs them ([`sign_linked`]). A record that
    /// fails a rule ends the group there: the records after it name it as predecessor.
    #[allow(clippy::type_complexity)]
    fn sign_group(
        &mut self,
        group: Vec<Submission>,
    ) -> (
        Vec<VerifiedRecord>,
        Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    ) {
        let view = self.governance.current();
        let (mut seq, mut prev) = Head::next(self.head);
        let mut linked: Vec<Linked<'_>> = Vec::with_capacity(group.len());
        for submission in group {
            let key = match self.keys.select(view.authority(), &self.org, seq) {
                Ok(key) => key,
                Err(problem) => {
                    let _ = submission
                        .reply
                        .send(Err(SubmitError::KeyNotValid(problem)));
                    continue;
                }
            };
            self.last_timestamp_ms = self.last_timestamp_ms.max(now_ms());
            let draft = RecordDraft {
                network_id: self.store.network_id(),
                author: self.org.clone(),
                seq,
                prev,
                timestamp_ms: self.last_timestamp_ms,
                body: submission.body,
            };
            match draft.header(datadir::public_key(key)) {
                Ok((header, body_bytes)) => {
                    let header_bytes = aidledger_spec::codec::encode(&header);
                    let id = record_id_of_header_bytes(&header_bytes);
                    let committed = Committed {
                        id,
                        seq,
                        new_key: submission.new_key,
                    };
                    linked.push(Linked {
                        reply: submission.reply,
                        committed,
                        header_bytes,
                        body_bytes,
                        key,
                    });
                    (seq, prev) = (seq + 1, id);
                }
                Err(error) => {
                    let _ = submission
                        .reply
                        .send(Err(SubmitError::Internal(error.to_string())));
                }
            }
        }
        let (metadata, verdicts) = sign_linked(linked, &view.verifier);
        let mut records = Vec::with_capacity(verdicts.len());
        let mut replies = Vec::with_capacity(verdicts.len());
        let mut broken: Option<String> = None;
        for ((reply, committed), verdict) in metadata.into_iter().zip(verdicts) {
            match (&broken, verdict) {
                (None, Ok(record)) if record.id() == committed.id => {
                    records.push(record);
                    replies.push((reply, committed));
                }
                (None, outcome) => {
                    let problem = match outcome {
                        Ok(record) => format!(
                            "verified id {} differs from signed id {}",
                            record.id(),
                            committed.id
                        ),
                        Err(rejected) => {
                            format!("the node's own record does not verify: {}", rejected.reason)
                        }
                    };
                    let _ = reply.send(Err(SubmitError::Internal(problem.clone())));
                    broken = Some(problem);
                }
                (Some(problem), _) => {
                    let _ = reply.send(Err(SubmitError::Internal(format!(
                        "an earlier record of the group failed: {problem}"
                    ))));
                }
            }
        }
        (records, replies)
    }
}

/// A record of a group with its place in the chain fixed, not yet signed.
struct Linked<'a> {
    reply: oneshot::Sender<Result<Committed, SubmitError>>,
    committed: Committed,
    header_bytes: Vec<u8>,
    body_bytes: Vec<u8>,
    key: &'a SigningKey,
}

/// Signs linked records on two threads (the machines have two cores; signing is a third of a
/// bulk import's CPU); verdicts keep the input order.
///
/// Each record gets every rule of the verifier but the signature equation, which holds by
/// construction (`Verifier::sign_checked`): checking a fresh signature again costs as much as
/// making it, and a bulk import is bound by this thread. The group's first record is verified
/// in full (the signature rule included) all the same, so a signer that went wrong is caught at its first
/// group, not first by a peer.
#[allow(clippy::type_complexity)]
fn sign_linked(
    linked: Vec<Linked<'_>>,
    verifier: &Verifier,
) -> (
    Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    Vec<aidledger_spec::verify::RecordVerdict>,
) {
    let mut metadata = Vec::with_capacity(linked.len());
    let mut parts = Vec::with_capacity(linked.len());
    for record in linked {
        metadata.push((record.reply, record.committed));
        parts.push((record.header_bytes, record.body_bytes, record.key));
    }
    let sign = |(header_bytes, body_bytes, key): (Vec<u8>, Vec<u8>, &SigningKey)| {
        verifier.sign_checked(header_bytes, &body_bytes, key)
    };
    let mut verdicts: Vec<_> = if parts.len() < PARALLEL_SIGNING_RECORDS_MIN {
        parts.into_iter().map(sign).collect()
    } else {
        // Two halves: the second on a helper thread, the first here.
        let second = parts.split_off(parts.len() / 2);
        std::thread::scope(|scope| {
            let helper = scope.spawn(|| second.into_iter().map(sign).collect::<Vec<_>>());
            let mut verdicts: Vec<_> = parts.into_iter().map(sign).collect();
            match helper.join() {
                Ok(part) => verdicts.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            verdicts
        })
    };
    if let Some(Ok(first)) = verdicts.first() {
        let strict = verifier.verify(first.bytes().to_vec());
        verdicts[0] = strict;
    }
    (metadata, verdicts)
}

/// Appends a signed group of this node's records; on failure answers every reply with the
/// error (no record of the group is in the chain) and returns `None`.
fn append_signed(
    store: &Store,
    failure: &Failure,
    records: Vec<VerifiedRecord>,
    replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
) -> Option<AppendedGroup> {
    if let Err(error) = append_or_stop(store, &records) {
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
fn append_or_stop(store: &Store, records: &[VerifiedRecord]) -> Result<(), AppendError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.append_group(records)))
        .unwrap_or(Err(AppendError::Store(StoreError::StoppedUntilReopen)))
}

/// Sets the writer's failure when the store takes no more appends until a restart
/// ([`StoreError::StoppedUntilReopen`]): every later submission is then refused at once with
/// that reason, as after a failed fsync, instead of being signed and refused by the store.
fn stop_if_store_stopped(failure: &Failure, error: &AppendError) {
    if matches!(error, AppendError::Store(StoreError::StoppedUntilReopen)) {
        let _ = failure.set(error.to_string());
    }
}

/// Answers every reply of a group that was not appended with `error`.
fn refuse(
    replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    error: &SubmitError,
) {
    for (reply, _) in replies {
        let _ = reply.send(Err(error.clone()));
    }
}

/// The append thread: appends signed groups and passes every group on to the sync thread, in
/// the order the signing thread queued them.
fn run_append(
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

/// The first message and every message already waiting, within the group's limits; and whether
/// a stop was asked for.
fn collect_group(first: Message, receiver: &mut mpsc::Receiver<Message>) -> (Vec<Message>, bool) {
    let mut group = Vec::new();
    let mut size_bytes = 0;
    let mut next = Some(first);
    while let Some(message) = next.take() {
        match &message {
            Message::Stop => return (group, true),
            Message::Submit(submission) => size_bytes += submission.body_size_bytes,
            Message::Rotate(_) => {}
            Message::Ingest(ingest) => {
                size_bytes += ingest
                    .records
                    .iter()
                    .map(|record| record.bytes().len())
                    .sum::<usize>();
            }
        }
        group.push(message);
        if group.len() < GROUP_RECORDS_MAX && size_bytes < GROUP_SIZE_BYTES_MAX {
            next = receiver.try_recv().ok();
        }
    }
    (group, false)
}

/// The sync thread: one flush and its fsyncs for every appended group waiting, then the answers.
fn run_sync(
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
const HOLD_BEFORE_FSYNC_ENV: &str = "AIDLEDGER_TEST_HOLD_BEFORE_FSYNC_MS";

fn hold_before_fsync() -> Option<Duration> {
    let millis: u64 = std::env::var(HOLD_BEFORE_FSYNC_ENV).ok()?.parse().ok()?;
    eprintln!(
        "aidledger-node: test hook {HOLD_BEFORE_FSYNC_ENV}={millis}: every fsync waits {millis} ms"
    );
    Some(Duration::from_millis(millis))
}

/// Makes the store durable. A sync that stopped short without a failed fsync (no file
/// descriptor left, issue 17) is retried for up to [`DURABLE_RETRY_MS_MAX`], then answered
/// [`SubmitError::NotYetDurable`] without stopping the writer; any other failure stops it.
fn make_durable(store: &Store, failure: &Failure) -> Result<(), SubmitError> {
    let started = std::time::Instant::now();
    loop {
        match store.make_durable() {
            Ok(()) => return Ok(()),
            Err(StoreError::NotYetDurable(reason)) => {
                if started.elapsed() >= Duration::from_millis(DURABLE_RETRY_MS_MAX) {
                    eprintln!("aidledger-node: {reason}; the waiting submissions are answered 503");
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
fn answer_group(
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

/// The heads and appends of one ingest, before they reach the store.
#[derive(Default)]
struct IngestBatch {
    heads: HashMap<String, Option<Head>>,
    append: Vec<VerifiedRecord>,
}

impl IngestBatch {
    fn head(&mut self, store: &Store, author: &str) -> Result<Option<Head>, StoreError> {
        if let Some(head) = self.heads.get(author) {
            return Ok(*head);
        }
        let head = store.head(author)?;
        self.heads.insert(author.to_owned(), head);
        Ok(head)
    }

    fn push(&mut self, record: VerifiedRecord) {
        let head = Head {
            seq: record.header().seq,
            id: record.id(),
        };
        self.heads
            .insert(record.header().author.clone(), Some(head));
        self.append.push(record);
    }

    fn appended(&self, author: &str, seq: u64) -> Option<&VerifiedRecord> {
        self.append
            .iter()
            .find(|record| record.header().seq == seq && record.header().author == author)
    }
}

fn answer_all(group: Vec<Submission>, error: &SubmitError) {
    for submission in group {
        let _ = submission.reply.send(Err(error.clone()));
    }
}

/// The timestamp of the chain's head, so that timestamps never go backwards across restarts.
fn head_timestamp_ms(store: &Store, head: Option<Head>) -> Result<u64, StoreError> {
    let Some(head) = head else { return Ok(0) };
    let bytes = store
        .get(&head.id)?
        .ok_or_else(|| StoreError::Corrupt(format!("head record {} is not stored", head.id)))?;
    let record = SignedRecord::parse(bytes)
        .map_err(|error| StoreError::Corrupt(format!("head record: {error}")))?;
    Ok(record.header.timestamp_ms)
}

fn now_ms() -> u64 {
    // A clock before 1970 is a broken clock; 0 keeps the chain's timestamps monotonic anyway.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}
