//! Handing verified records and proofs to the writer (off the event loop), and what follows an
//! ingest: proofs published, fork probes sent, fetches continued or abandoned.

use aidledger_spec::codec;
use libp2p::PeerId;

use super::{Requested, Service};
use crate::network::tasks::{self, Completion, IngestFailure};
use crate::network::wire::{SyncRequest, SyncResponse};
use crate::writer::IngestOutcome;

impl Service {
    pub(super) fn on_ingested(
        &mut self,
        author: Option<String>,
        peer: PeerId,
        outcome: Result<IngestOutcome, IngestFailure>,
    ) {
        match outcome {
            Ok(outcome) => {
                self.after_ingest(peer, &outcome);
                if let Some(author) = author {
                    // A record that did not attach (a fork), or that the authority refused
                    // at placement (the state changed since it was verified), ends the fetch;
                    // a governance change asks for heads again.
                    let complete = outcome.detached.is_empty() && outcome.unauthorized.is_empty();
                    let actions = self.syncer.on_ingested(&author, complete);
                    self.perform(actions);
                }
            }
            Err(IngestFailure::Invalid(reason)) => {
                if let Some(author) = author {
                    self.syncer.abandon(&author);
                }
                self.penalise(peer, &format!("sync: {reason}"));
            }
            Err(IngestFailure::Local(reason)) => {
                crate::log_line!("aidledger-node: cannot store records from a peer: {reason}");
                if let Some(author) = author {
                    self.syncer.abandon(&author);
                }
            }
        }
    }

    /// Publishes new proofs; asks `peer` for what a record that did not attach forked from.
    pub(super) fn after_ingest(&mut self, peer: PeerId, outcome: &IngestOutcome) {
        for proof in &outcome.proofs {
            let header = aidledger_spec::signed::SignedRecord::parse(proof.first.clone())
                .map(|record| (record.header.author, record.header.seq));
            if let Ok((author, seq)) = header {
                crate::log_line!("aidledger-node: equivocation: {author} signed two records at seq {seq}; proof stored");
            }
            let topic = self.topics.proofs.clone();
            let _ = self
                .swarm
                .behaviour_mut()
                .gossip
                .publish(topic, codec::encode(proof));
        }
        for (author, seq) in &outcome.detached {
            // Our record at seq - 1 differs from the one this record names: fetch theirs, which
            // proves the fork.
            let request = SyncRequest::Range {
                author: author.clone(),
                from_seq: seq.saturating_sub(1),
                limit: 1,
            };
            self.request(peer, request, Requested::Probe);
        }
        if outcome.pending > 0 {
            self.request(peer, SyncRequest::Heads, Requested::Heads);
        }
    }

    pub(super) fn spawn_ingest(
        &self,
        author: Option<String>,
        peer: PeerId,
        records: Vec<aidledger_spec::withheld::ChainRecord>,
        proofs: Vec<(
            aidledger_spec::VerifiedRecord,
            aidledger_spec::VerifiedRecord,
        )>,
    ) {
        let writer = self.writer.clone();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let outcome = writer
                .ingest_chain(records, proofs)
                .await
                .map_err(|error| IngestFailure::Local(error.to_string()));
            let done = Completion::Ingested {
                author,
                peer,
                outcome,
            };
            let _ = completions.send(done).await;
        });
    }

    /// Verifies unsolicited sync data (proofs, a fork probe) and ingests it.
    pub(super) fn spawn_check_and_ingest(&self, peer: PeerId, response: SyncResponse) {
        let (view, writer) = (self.view(), self.writer.clone());
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let checked = tokio::task::spawn_blocking(move || match response {
                SyncResponse::Proofs(proofs) => {
                    tasks::verify_proofs(&view.verifier, proofs).map(|pairs| (Vec::new(), pairs))
                }
                SyncResponse::Records(records) => tasks::verify_loose(&view.verifier, records)
                    .map(|records| (records, Vec::new())),
                _ => Ok((Vec::new(), Vec::new())),
            })
            .await
            .unwrap_or_else(|error| Err(error.to_string()));
            let outcome = match checked {
                Ok((records, proofs)) => writer
                    .ingest(records, proofs)
                    .await
                    .map_err(|error| IngestFailure::Local(error.to_string())),
                Err(reason) => Err(IngestFailure::Invalid(reason)),
            };
            let done = Completion::Ingested {
                author: None,
                peer,
                outcome,
            };
            let _ = completions.send(done).await;
        });
    }
}
