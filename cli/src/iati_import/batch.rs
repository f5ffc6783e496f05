//! Batches of bodies to the node's `POST /v1/records/batch` (FORMAT.md §20), several in flight
//! on their own threads, each answered with its record ids in request order.

use std::sync::mpsc;
use std::thread;

use aidledger_spec::submit::{encode_batch, BATCH_RECORDS_MAX};
use aidledger_spec::{codec, Body, RecordId};

use super::{ImportError, Pending, BATCHES_IN_FLIGHT, BATCH_BYTES_TARGET};
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
/// One batch request, its number of bodies, and where to send its answer.
type BatchJob = (Vec<u8>, usize, mpsc::Sender<BatchResult>);

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
        // As many ids as bodies: `SubmitTarget::post_encoded_batch` checks it.
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
                let Ok((request, count, reply)) = job else {
                    return;
                };
                let _ = reply.send(post_batch(&target, request, count));
            });
        }
        BatchSender { jobs }
    }

    pub(super) fn send(&self, batch: Batch) -> Result<Receipt, ImportError> {
        let (reply, answer) = mpsc::channel();
        self.jobs
            .send((encode_batch(&batch.bodies), batch.bodies.len(), reply))
            .map_err(|_| ImportError::Node("the batch sender stopped".to_owned()))?;
        Ok(Receipt {
            pending: batch.pending,
            answer,
        })
    }
}

/// Posts one encoded batch through the submit API's client (`SubmitTarget::post_encoded_batch`).
fn post_batch(
    target: &SubmitTarget,
    request: Vec<u8>,
    count: usize,
) -> Result<Vec<RecordId>, ImportError> {
    let records = target
        .post_encoded_batch(request, count)
        .map_err(|error| ImportError::Node(format!("a batch of {count} records: {error}")))?;
    Ok(records.into_iter().map(|(id, _)| id).collect())
}
