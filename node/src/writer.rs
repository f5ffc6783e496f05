//! The single writer of the node's chain, with group commit.
//!
//! Submissions wait in a bounded queue. The signing thread takes every waiting submission (up
//! to a group's limits), assigns seq, prev and timestamp, signs, verifies the signed records
//! with the network's `Verifier` (both sides of the write are checked: what we sign is what any
//! auditor will accept), and appends the group in one sled transaction. The sync thread then
//! makes everything appended so far durable with one flush and its fsyncs, and only then
//! answers every submission of those groups. While one group is being synced the next one is
//! signed, so the CPU work and the disk wait overlap.
//!
//! If making the store durable fails, what is on disk is unknown (an fsync error may have
//! dropped dirty pages), so the writer refuses every later submission until the node restarts
//! and sled recovers from what is really on disk.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{sign_record, Body, RecordDraft, RecordId, VerifiedRecord, Verifier};
use ed25519_dalek::SigningKey;
use tokio::sync::{mpsc, oneshot};

use crate::store::{Head, Store, StoreError};

/// Most submissions waiting for the writer; one more is refused with [`SubmitError::QueueFull`].
pub const SUBMIT_QUEUE_REQUESTS_MAX: usize = 4096;
/// Most records signed and appended as one group (the spec's signature batch size).
pub const GROUP_RECORDS_MAX: usize = aidledger_spec::signature::BATCH_SIZE_MAX;
/// Most body bytes in one group, so that a few treaty texts do not make one huge transaction.
pub const GROUP_SIZE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Most appended groups waiting for the sync thread.
pub const SYNC_QUEUE_GROUPS_MAX: usize = 4;

/// What an acknowledged submission became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The record id.
    pub id: RecordId,
    /// Its seq in the organisation's chain.
    pub seq: u64,
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
    /// A bug: the node made a record that does not verify or does not extend its chain.
    #[error("internal error: {0}")]
    Internal(String),
}

struct Submission {
    body: Body,
    body_size_bytes: usize,
    reply: oneshot::Sender<Result<Committed, SubmitError>>,
}

enum Message {
    /// Boxed: a body is hundreds of bytes, and the queue holds thousands of messages.
    Submit(Box<Submission>),
    Stop,
}

/// A group appended to the store, waiting to be made durable before it is acknowledged.
struct AppendedGroup {
    replies: Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
}

/// The first storage failure; once set, nothing more is acknowledged.
type Failure = Arc<OnceLock<String>>;

/// The handle of the writer threads.
pub struct Writer {
    sender: mpsc::Sender<Message>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer of `org`'s chain, signing with `key`.
    pub fn start(store: Arc<Store>, org: String, key: SigningKey) -> Result<Writer, StoreError> {
        let head = store.head(&org)?;
        let last_timestamp_ms = head_timestamp_ms(&store, head)?;
        let (sender, receiver) = mpsc::channel(SUBMIT_QUEUE_REQUESTS_MAX);
        let (sync_sender, sync_receiver) = std_mpsc::sync_channel(SYNC_QUEUE_GROUPS_MAX);
        let failure = Failure::default();
        let verifier = Verifier::new(store.genesis().clone());
        let signer = Signer {
            store: store.clone(),
            org,
            key,
            verifier,
            head,
            last_timestamp_ms,
            failure: failure.clone(),
        };
        let sign_thread = std::thread::Builder::new()
            .name("aidledger-sign".into())
            .spawn(move || signer.run(receiver, sync_sender))?;
        let sync_thread = std::thread::Builder::new()
            .name("aidledger-sync".into())
            .spawn(move || run_sync(&store, &failure, &sync_receiver))?;
        Ok(Writer {
            sender,
            threads: Mutex::new(vec![sign_thread, sync_thread]),
        })
    }

    /// Queues a checked body and waits until its record is durable.
    pub async fn submit(
        &self,
        body: Body,
        body_size_bytes: usize,
    ) -> Result<Committed, SubmitError> {
        let (reply, answer) = oneshot::channel();
        let message = Message::Submit(Box::new(Submission {
            body,
            body_size_bytes,
            reply,
        }));
        self.sender.try_send(message).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => SubmitError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
        })?;
        answer.await.unwrap_or(Err(SubmitError::Stopped))
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
    org: String,
    key: SigningKey,
    verifier: Verifier,
    head: Option<Head>,
    last_timestamp_ms: u64,
    failure: Failure,
}

impl Signer {
    fn run(
        mut self,
        mut receiver: mpsc::Receiver<Message>,
        sync: std_mpsc::SyncSender<AppendedGroup>,
    ) {
        while let Some(first) = receiver.blocking_recv() {
            let (group, stop) = collect_group(first, &mut receiver);
            if !group.is_empty() {
                if let Some(appended) = self.commit(group) {
                    if sync.send(appended).is_err() {
                        break; // the sync thread is gone; dropping the replies answers Stopped
                    }
                }
            }
            if stop {
                break;
            }
        }
        // Dropping `sync` lets the sync thread drain what is appended, then end.
    }

    /// Signs, verifies and appends a group; returns what waits for the sync.
    fn commit(&mut self, group: Vec<Submission>) -> Option<AppendedGroup> {
        if let Some(failure) = self.failure.get() {
            answer_all(group, &SubmitError::Storage(failure.clone()));
            return None;
        }
        let (records, mut replies) = self.sign_and_verify(group);
        if records.is_empty() {
            return None;
        }
        if let Err(error) = self.store.append_group(&records) {
            let error = SubmitError::Storage(error.to_string());
            for (reply, _) in replies.drain(..) {
                let _ = reply.send(Err(error.clone()));
            }
            // Nothing of the group was written; the head stays where the store has it.
            return None;
        }
        self.head = records.last().map(|record| Head {
            seq: record.header().seq,
            id: record.id(),
        });
        Some(AppendedGroup { replies })
    }

    /// Signs the group as consecutive records, then verifies them as a batch. A record that
    /// does not verify ends the group there: the records after it name it as predecessor.
    #[allow(clippy::type_complexity)]
    fn sign_and_verify(
        &mut self,
        group: Vec<Submission>,
    ) -> (
        Vec<VerifiedRecord>,
        Vec<(oneshot::Sender<Result<Committed, SubmitError>>, Committed)>,
    ) {
        let (mut seq, mut prev) = Head::next(self.head);
        let mut signed = Vec::with_capacity(group.len());
        for submission in group {
            self.last_timestamp_ms = self.last_timestamp_ms.max(now_ms());
            let draft = RecordDraft {
                network_id: self.store.network_id(),
                author: self.org.clone(),
                seq,
                prev,
                timestamp_ms: self.last_timestamp_ms,
                body: submission.body,
            };
            match sign_record(&draft, &self.key) {
                Ok((id, bytes)) => {
                    signed.push((submission.reply, Committed { id, seq }, bytes));
                    (seq, prev) = (seq + 1, id);
                }
                Err(error) => {
                    let _ = submission
                        .reply
                        .send(Err(SubmitError::Internal(error.to_string())));
                }
            }
        }
        let (metadata, bytes): (Vec<_>, Vec<_>) = signed
            .into_iter()
            .map(|(reply, committed, bytes)| ((reply, committed), bytes))
            .unzip();
        let verdicts = self.verifier.verify_batch(bytes);
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

/// The first message and every message already waiting, within the group's limits; and whether
/// a stop was asked for.
fn collect_group(
    first: Message,
    receiver: &mut mpsc::Receiver<Message>,
) -> (Vec<Submission>, bool) {
    let mut group = Vec::new();
    let mut size_bytes = 0;
    let mut next = Some(first);
    while let Some(message) = next.take() {
        match message {
            Message::Stop => return (group, true),
            Message::Submit(submission) => {
                size_bytes += submission.body_size_bytes;
                group.push(*submission);
            }
        }
        if group.len() < GROUP_RECORDS_MAX && size_bytes < GROUP_SIZE_BYTES_MAX {
            next = receiver.try_recv().ok();
        }
    }
    (group, false)
}

/// The sync thread: one flush and its fsyncs for every appended group waiting, then the answers.
fn run_sync(store: &Store, failure: &Failure, receiver: &std_mpsc::Receiver<AppendedGroup>) {
    while let Ok(first) = receiver.recv() {
        let mut groups = vec![first];
        groups.extend(receiver.try_iter().take(SYNC_QUEUE_GROUPS_MAX));
        let outcome = match failure.get() {
            Some(failure) => Err(failure.clone()),
            None => store.make_durable().map_err(|error| {
                let message = format!("{error}; restart the node");
                let _ = failure.set(message.clone());
                message
            }),
        };
        for (reply, committed) in groups.into_iter().flat_map(|group| group.replies) {
            let _ = reply.send(
                outcome
                    .clone()
                    .map(|()| committed)
                    .map_err(SubmitError::Storage),
            );
        }
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
