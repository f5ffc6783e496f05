//! Batches of bodies to the node's `POST /v1/records/batch` (FORMAT.md §20), several in flight
//! on their own threads, each answered with its record ids in request order.

use std::sync::mpsc;
use std::thread;

use aidledger_spec::submit::{encode_batch, BATCH_RECORDS_MAX};
use aidledger_spec::{codec, Body, RecordId};

use super::{ImportError, Pending, BATCHES_IN_FLIGHT, BATCH_BYTES_TARGET, BATCH_TIMEOUT};
use crate::submit::SubmitTarget;

/// Bodies (encoded) and what to remember about each until the node answers.
#[derive(Default)]
pub(super) struct Batch {
    bodies: Vec<Vec<u8>>,
    pending: Vec<Pending>,
    bytes: usize,
}

impl Batch {
    /// Adds a body; returns the batch when it is full.
    pub(super) fn push(&mut self, body: Body, pending: Pending) -> Option<Batch> {
        let bytes = codec::encode(&body);
        self.bytes += bytes.len();
        self.bodies.push(bytes);
        self.pending.push(pending);
        (self.bodies.len() >= BATCH_RECORDS_MAX || self.bytes >= BATCH_BYTES_TARGET)
            .then(|| std::mem::take(self))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }
}

/// The node's answer to one batch: the record ids in request order.
type BatchResult = Result<Vec<RecordId>, ImportError>;
/// One batch request and where to send its answer.
type BatchJob = (Vec<u8>, mpsc::Sender<BatchResult>);

/// Threads that post batches, at most [`BATCHES_IN_FLIGHT`] at once.
pub(super) struct BatchSender {
    jobs: mpsc::SyncSender<BatchJob>,
}

/// The answer to one batch, later.
pub(super) struct Receipt {
    pending: Vec<Pending>,
    answer: mpsc::Receiver<BatchResult>,
}

impl Receipt {
    pub(super) fn wait(self) -> Result<Vec<(Pending, RecordId)>, ImportError> {
        let ids = self
            .answer
            .recv()
            .map_err(|_| ImportError::Node("the batch sender stopped".to_owned()))??;
        if ids.len() != self.pending.len() {
            return Err(ImportError::Node(format!(
                "the node answered {} ids for {} records",
                ids.len(),
                self.pending.len()
            )));
        }
        Ok(self.pending.into_iter().zip(ids).collect())
    }
}

impl BatchSender {
    pub(super) fn start(target: &SubmitTarget) -> BatchSender {
        let (jobs, queue) = mpsc::sync_channel::<BatchJob>(BATCHES_IN_FLIGHT);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for _ in 0..BATCHES_IN_FLIGHT {
            let queue = queue.clone();
            let target = target.clone();
            thread::spawn(move || loop {
                // A poisoned lock means another sender panicked; the job channel still works.
                let job = queue
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .recv();
                let Ok((request, reply)) = job else { return };
                let _ = reply.send(post_batch(&target, request));
            });
        }
        BatchSender { jobs }
    }

    pub(super) fn send(&self, batch: Batch) -> Result<Receipt, ImportError> {
        let (reply, answer) = mpsc::channel();
        self.jobs
            .send((encode_batch(&batch.bodies), reply))
            .map_err(|_| ImportError::Node("the batch sender stopped".to_owned()))?;
        Ok(Receipt {
            pending: batch.pending,
            answer,
        })
    }
}

#[derive(serde::Deserialize)]
struct BatchAnswer {
    records: Vec<BatchRecord>,
}

#[derive(serde::Deserialize)]
struct BatchRecord {
    id: RecordId,
}

fn post_batch(target: &SubmitTarget, request: Vec<u8>) -> Result<Vec<RecordId>, ImportError> {
    let url = format!("{}/v1/records/batch", target.url.trim_end_matches('/'));
    let response = reqwest::blocking::Client::builder()
        .timeout(BATCH_TIMEOUT)
        .build()
        .and_then(|client| {
            client
                .post(&url)
                .bearer_auth(&target.token)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(request)
                .send()
        })
        .map_err(|error| ImportError::Node(format!("cannot reach {url}: {error}")))?;
    let status = response.status();
    let text = response
        .text()
        .map_err(|error| ImportError::Node(format!("{url}: {error}")))?;
    if !status.is_success() {
        return Err(ImportError::Node(format!(
            "the node refused a batch ({status}): {text}"
        )));
    }
    let answer: BatchAnswer = serde_json::from_str(&text)
        .map_err(|error| ImportError::Node(format!("unreadable batch answer: {error}")))?;
    Ok(answer.records.into_iter().map(|record| record.id).collect())
}
