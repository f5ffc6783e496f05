//! The signing thread: it takes the waiting messages as one group, assigns seq, prev and
//! timestamp to this node's submissions and signs them (on two threads for a large group),
//! rotates the key on request, and hands signed groups to the append thread. Records from
//! peers take the same thread ([`super::ingest`]), so every append is checked against the head
//! it extends.

use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

use aidledger_spec::governance::{KeyGrant, KeyRotation};
use aidledger_spec::record::record_id_of_header_bytes;
use aidledger_spec::{Body, PublicKey, RecordDraft, VerifiedRecord, Verifier};
use ed25519_dalek::SigningKey;
use tokio::sync::{mpsc, oneshot};

use aidledger_store::datadir;
use aidledger_store::{Head, Store, StoreError};

use super::append::append_signed;
use super::durable::answer_all;
use super::{
    AppendJob, AppendedGroup, Committed, Message, Signer, Submission, SubmitError,
    GROUP_RECORDS_MAX, GROUP_SIZE_BYTES_MAX, PARALLEL_SIGNING_RECORDS_MIN,
};

impl Signer {
    pub(super) fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
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
    pub(super) fn drain_appends(&mut self) {
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
    pub(super) fn process(&mut self, messages: Vec<Message>) {
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
    pub(super) fn pass_on(&self, appended: Option<AppendedGroup>) {
        if let Some(group) = appended {
            let _ = self.appender.send(AppendJob::Appended(group));
        }
    }

    /// Draws a new key, makes it the directory's key file (keeping the old one), and commits
    /// a key rotation signed by the old key; returns what waits for the sync.
    pub(super) fn rotate(
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
    pub(super) fn prepare_rotation(&mut self) -> Result<(Body, PublicKey), SubmitError> {
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
        self.shared_keys.set(self.keys.keys.clone());
        let grant = KeyGrant::prove(&self.store.network_id(), &self.org, &new);
        Ok((Body::KeyRotation(KeyRotation { new_key: grant }), new_key))
    }

    /// Signs a group and has it appended: by the append thread while the next group is signed,
    /// or here for a group with governance records, which change what later records may be.
    /// Returns what waits for the sync (only for a group appended here).
    pub(super) fn commit(&mut self, group: Vec<Submission>) -> Option<AppendedGroup> {
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
            crate::log_line!("aidledger-node: cannot refresh the governance state: {error}");
        }
        Some(group)
    }

    /// Links the group as consecutive records and signs them ([`sign_linked`]). A record that
    /// fails a rule ends the group there: the records after it name it as predecessor.
    #[allow(clippy::type_complexity)]
    pub(super) fn sign_group(
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
        let full_check = linked
            .first()
            .is_some_and(|first| self.full_check.due(datadir::public_key(first.key)));
        let (metadata, verdicts) = sign_linked(linked, &view.verifier, full_check);
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
pub(super) struct Linked<'a> {
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
/// construction (`Verifier::sign_checked`): checking a fresh signature again costs more than
/// making it (ed25519 `verify_strict` ~95 µs, a third of one durable append's latency on these
/// machines), and a bulk import is bound by this thread. When `full_check` is set (the first
/// group signed with each key, then one group in `FULL_CHECK_EVERY_GROUPS`), the group's first
/// record is verified in full all the same, so that a signer that went wrong (a wrong key, a
/// bug in the signing code or the encoder) is caught by this node within a few groups, not
/// first by a peer. Why the others need not be: the bytes signed are the header our own
/// encoder just wrote and every rule but the equation has been checked on them; the key is one
/// the authority grants for the position (checked when it was selected); and ed25519 signing is
/// deterministic, so a fault that corrupts one signature cannot expose the key the way it can
/// with randomised signatures or a message signed twice (this node never signs the same header
/// twice: each names its own seq and predecessor).
#[allow(clippy::type_complexity)]
pub(super) fn sign_linked(
    linked: Vec<Linked<'_>>,
    verifier: &Verifier,
    full_check: bool,
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
    if let (true, Some(Ok(first))) = (full_check, verdicts.first()) {
        let strict = verifier.verify(first.bytes().to_vec());
        verdicts[0] = strict;
    }
    (metadata, verdicts)
}

/// The first message and every message already waiting, within the group's limits; and whether
/// a stop was asked for.
pub(super) fn collect_group(
    first: Message,
    receiver: &mut mpsc::Receiver<Message>,
) -> (Vec<Message>, bool) {
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

/// The timestamp of the chain's head, so that timestamps never go backwards across restarts.
pub(super) fn head_timestamp_ms(store: &Store, head: Option<Head>) -> Result<u64, StoreError> {
    let Some(head) = head else { return Ok(0) };
    let bytes = store
        .get(&head.id)?
        .ok_or_else(|| StoreError::Corrupt(format!("head record {} is not stored", head.id)))?;
    // The header alone: the head may be withheld (redacted by the admins).
    let (header, _): (aidledger_spec::RecordHeader, usize) =
        aidledger_spec::codec::decode_prefix(&bytes)
            .map_err(|error| StoreError::Corrupt(format!("head record: {error}")))?;
    Ok(header.timestamp_ms)
}

pub(super) fn now_ms() -> u64 {
    // A clock before 1970 is a broken clock; 0 keeps the chain's timestamps monotonic anyway.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}
