//! Gossip: this node's new records published, and gossiped records and proofs validated (records
//! in batches, group commit) before gossipsub is told to accept, ignore or reject them.

use std::collections::HashSet;

use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::PeerId;
use tokio::sync::broadcast;

use super::{Service, GOSSIP_BATCH_RECORDS_MAX, GOSSIP_VALIDATIONS_MAX};
use crate::network::tasks::{self, Completion};
use crate::writer::{CommittedRecord, IngestOutcome};

impl Service {
    pub(super) fn on_committed(
        &mut self,
        committed: Result<CommittedRecord, broadcast::error::RecvError>,
    ) {
        // A lagging receiver missed records; peers fetch them by range sync.
        if let Ok(record) = committed {
            let topic = self.topics.records.clone();
            // No peers yet is normal; they will sync.
            let _ = self
                .swarm
                .behaviour_mut()
                .gossip
                .publish(topic, record.as_ref().clone());
        }
    }

    pub(super) fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        let is_records = message.topic == self.topics.records.hash();
        let is_proofs = message.topic == self.topics.proofs.hash();
        if message.topic == self.topics.witnessed.hash() {
            if self.gossip_validations >= GOSSIP_VALIDATIONS_MAX {
                self.report(&message_id, &propagation_source, MessageAcceptance::Ignore);
                return;
            }
            self.gossip_validations += 1;
            return self.on_witnessed_gossip(message_id, propagation_source, message.data);
        }
        if !(is_records || is_proofs) || self.gossip_validations >= GOSSIP_VALIDATIONS_MAX {
            let acceptance = if is_records || is_proofs {
                MessageAcceptance::Ignore
            } else {
                MessageAcceptance::Reject
            };
            self.report(&message_id, &propagation_source, acceptance);
            return;
        }
        self.gossip_validations += 1;
        if is_records {
            self.gossip_queue
                .push((message_id, propagation_source, message.data));
            if !self.gossip_batch_running {
                self.validate_gossip_batch();
            }
            return;
        }
        let (view, writer) = (self.view(), self.writer.clone());
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let (acceptance, detail) = tasks::validate_proof(view, writer, message.data).await;
            let done = Completion::Gossip {
                message_id,
                source: propagation_source,
                acceptance,
                detail,
            };
            // The loop is gone only when the node stops.
            let _ = completions.send(done).await;
        });
    }

    /// Validates the waiting gossiped records as one batch (group commit: while a batch runs,
    /// the next one gathers).
    fn validate_gossip_batch(&mut self) {
        let take = self.gossip_queue.len().min(GOSSIP_BATCH_RECORDS_MAX);
        if take == 0 {
            return;
        }
        let batch: Vec<_> = self.gossip_queue.drain(..take).collect();
        self.gossip_batch_running = true;
        let (view, writer) = (self.view(), self.writer.clone());
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let (sources, data): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .map(|(id, source, data)| ((id, source), data))
                .unzip();
            let (verdicts, outcome) = tasks::validate_records(view, writer, data).await;
            let verdicts = sources
                .into_iter()
                .zip(verdicts)
                .map(|((id, source), verdict)| (id, source, verdict))
                .collect();
            let _ = completions
                .send(Completion::GossipBatch { verdicts, outcome })
                .await;
        });
    }

    pub(super) fn report(
        &mut self,
        id: &gossipsub::MessageId,
        source: &PeerId,
        verdict: MessageAcceptance,
    ) {
        // `false` means the message left the cache meanwhile; nothing more to do.
        let _ = self
            .swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(id, source, verdict);
    }

    pub(super) fn on_gossip_batch(
        &mut self,
        verdicts: Vec<(gossipsub::MessageId, PeerId, tasks::Verdict)>,
        outcome: Option<IngestOutcome>,
    ) {
        self.gossip_batch_running = false;
        self.gossip_validations = self.gossip_validations.saturating_sub(verdicts.len());
        let mut sources = HashSet::new();
        for (id, source, (acceptance, reason)) in verdicts {
            if matches!(acceptance, MessageAcceptance::Reject) {
                self.note_rejected(source, &format!("gossip: {}", reason.unwrap_or_default()));
            }
            self.report(&id, &source, acceptance);
            sources.insert(source);
        }
        if let Some(outcome) = outcome {
            // Proofs, probes and heads requests go to one of the senders.
            if let Some(source) = sources.into_iter().next() {
                self.after_ingest(source, &outcome);
            }
        }
        self.validate_gossip_batch();
    }
}
