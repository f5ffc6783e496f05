//! The network task: one event loop that owns the swarm. It validates gossip (through
//! [`tasks`]), answers and drives range sync (through [`Syncer`]), keeps connections to the
//! bootstrap peers, publishes this node's new records, and updates the status snapshot.
//!
//! It follows the governance state live: records are verified under the current state, and
//! when the state changes the allow list is rebuilt from `Authority::allowed_node_keys` (the
//! nodes of removed members are disconnected and refused from then on, those of new members
//! let in), fetches under the old state are dropped, and heads are asked again from every
//! peer so that chains refused before are fetched again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aidledger_spec::codec;
use futures_util::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{broadcast, mpsc, watch};

use super::behaviour::{Behaviour, BehaviourEvent, Topics};
use super::identity;
use super::status::{PeerStatus, SharedStatus};
use super::sync::{Action, Syncer};
use super::tasks::{self, Completion, IngestFailure, RangeVerdict};
use super::wire::{SyncRequest, SyncResponse, WireHead, HEADS_MAX};
use crate::governance::{Governance, GovernanceView};
use crate::writer::{CommittedRecord, IngestOutcome, Writer};
use aidledger_store::{Head, Store, StoreError};

/// How often heads are exchanged with every peer and lost bootstrap connections redialled.
pub const SYNC_INTERVAL_MS: u64 = 1000;
/// Most gossip messages being validated or waiting to be; more are ignored (range sync repairs).
pub const GOSSIP_VALIDATIONS_MAX: usize = 4096;
/// Most gossiped records verified (one signature batch) and ingested together.
pub const GOSSIP_BATCH_RECORDS_MAX: usize = aidledger_spec::signature::BATCH_SIZE_MAX;
/// Most finished tasks waiting for the event loop.
pub const COMPLETIONS_MAX: usize = 1024;
/// How long a peer that sent invalid sync data is refused.
pub const PENALTY_MS: u64 = 30_000;
/// How long a bootstrap address whose peer this node refused (not a member node) is left
/// alone before it is dialled again; a governance change ends the wait.
pub const DENIED_REDIAL_MS: u64 = 30_000;
/// Refused connections are logged at most once in this interval (they are all counted).
pub const REFUSED_LOG_INTERVAL_MS: u64 = 10_000;

/// What an outbound sync request was for.
pub(super) enum Requested {
    Heads,
    Range { author: String, from_seq: u64 },
    Probe,
    Proofs,
}

pub(super) struct Service {
    pub swarm: Swarm<Behaviour>,
    pub store: Arc<Store>,
    pub writer: Arc<Writer>,
    pub governance: Arc<Governance>,
    /// Tells of every new governance state.
    pub changes: watch::Receiver<Arc<GovernanceView>>,
    /// Whether `changes` can still report (false once its sender is gone).
    pub changes_open: bool,
    pub topics: Topics,
    /// The peers let in now (current members' node keys) and their organisations.
    pub members: HashMap<PeerId, String>,
    pub peer_id: PeerId,
    pub bootstrap: Vec<Multiaddr>,
    pub status: SharedStatus,
    pub committed: broadcast::Receiver<CommittedRecord>,
    /// Bootstrap address → the connection dialled to it (live or being dialled).
    pub dialled: HashMap<Multiaddr, ConnectionId>,
    pub syncer: Syncer,
    pub requests: HashMap<OutboundRequestId, Requested>,
    pub completions: (mpsc::Sender<Completion>, mpsc::Receiver<Completion>),
    pub gossip_validations: usize,
    /// Gossiped records waiting for the batch being validated.
    pub gossip_queue: Vec<(gossipsub::MessageId, PeerId, Vec<u8>)>,
    /// Whether a batch of gossiped records is being validated.
    pub gossip_batch_running: bool,
    pub rejected: HashMap<PeerId, u64>,
    pub penalised: HashMap<PeerId, Instant>,
    /// (peer, chain) → the seq of a record from that peer the authority refused. The chain is
    /// not fetched from that peer again while this node's next seq of it is that one, until
    /// the governance state changes.
    pub refused: HashMap<(PeerId, String), u64>,
    /// Bootstrap addresses whose peer this node refused, and until when they are left alone.
    pub denied_bootstrap: HashMap<Multiaddr, Instant>,
    /// When a refused connection was last logged, and how many were refused since.
    pub refused_log: (Option<Instant>, u64),
}

impl Service {
    pub(super) fn new(parts: ServiceParts) -> Service {
        let mut changes = parts.governance.subscribe();
        // `members` was built from the current state; only later states are news.
        changes.mark_unchanged();
        Service {
            swarm: parts.swarm,
            store: parts.store,
            writer: parts.writer.clone(),
            governance: parts.governance,
            changes,
            changes_open: true,
            topics: parts.topics,
            members: parts.members,
            peer_id: parts.peer_id,
            bootstrap: parts.bootstrap,
            status: parts.status,
            committed: parts.writer.committed_records(),
            dialled: HashMap::new(),
            syncer: Syncer::default(),
            requests: HashMap::new(),
            completions: mpsc::channel(COMPLETIONS_MAX),
            gossip_validations: 0,
            gossip_queue: Vec::new(),
            gossip_batch_running: false,
            rejected: HashMap::new(),
            penalised: HashMap::new(),
            refused: HashMap::new(),
            denied_bootstrap: HashMap::new(),
            refused_log: (None, 0),
        }
    }

    /// The governance state records are verified under now.
    fn view(&self) -> Arc<GovernanceView> {
        self.governance.current()
    }

    /// Runs until `shutdown` turns true.
    pub(super) async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(SYNC_INTERVAL_MS));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(done) = self.completions.1.recv() => self.on_completion(done),
                committed = self.committed.recv() => self.on_committed(committed),
                changed = self.changes.changed(), if self.changes_open => match changed {
                    Ok(()) => self.on_governance_change(),
                    // The governance state is gone only when the node stops.
                    Err(_) => self.changes_open = false,
                },
                _ = tick.tick() => self.on_tick(),
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .penalised
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            self.penalised.remove(&peer);
            if self.members.contains_key(&peer) {
                self.swarm.behaviour_mut().members_only.allow_peer(peer);
            }
        }
        self.denied_bootstrap.retain(|_, until| *until > now);
        for addr in self.bootstrap.clone() {
            if !self.dialled.contains_key(&addr) && !self.denied_bootstrap.contains_key(&addr) {
                let opts = DialOpts::unknown_peer_id().address(addr.clone()).build();
                let id = opts.connection_id();
                if self.swarm.dial(opts).is_ok() {
                    self.dialled.insert(addr, id);
                }
            }
        }
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            self.request(peer, SyncRequest::Heads, Requested::Heads);
        }
        self.refresh_status();
    }

    /// The governance state changed: let in the nodes of current members only (disconnecting
    /// the others), drop fetches made under the old state, and ask every peer for its heads so
    /// that chains the old state refused are fetched again.
    fn on_governance_change(&mut self) {
        let view = self.changes.borrow_and_update().clone();
        let allowed = identity::allowed_peers(&view.derivation.authority);
        let gone: Vec<(PeerId, String)> = self
            .members
            .iter()
            .filter(|(peer, _)| !allowed.contains_key(peer))
            .map(|(peer, org)| (*peer, org.clone()))
            .collect();
        for (peer, org) in gone {
            eprintln!(
                "aidledger-node: peer {peer} ({org}) is no longer a member node: disconnected and refused from now on"
            );
            // Closes every connection to it and refuses new ones.
            self.swarm.behaviour_mut().members_only.disallow_peer(peer);
            self.syncer.peer_gone(&peer);
            self.penalised.remove(&peer);
            self.refused
                .retain(|(refused_peer, _), _| *refused_peer != peer);
        }
        for (peer, org) in &allowed {
            if !self.members.contains_key(peer) {
                eprintln!(
                    "aidledger-node: peer {peer} ({org}) is now a member node and may connect"
                );
            }
            if !self.penalised.contains_key(peer) {
                self.swarm.behaviour_mut().members_only.allow_peer(*peer);
            }
        }
        let was_member = self.members.contains_key(&self.peer_id);
        let is_member = allowed.contains_key(&self.peer_id);
        if was_member != is_member {
            let now = if is_member {
                "is now among the members' node keys: members accept its connections"
            } else {
                "is no longer among the members' node keys: members refuse its connections"
            };
            eprintln!("aidledger-node: this node (peer id {}) {now}", self.peer_id);
        }
        self.members = allowed;
        self.syncer.abandon_all();
        self.refused.clear();
        self.denied_bootstrap.clear();
        let peers: Vec<PeerId> = self
            .swarm
            .connected_peers()
            .filter(|peer| self.members.contains_key(peer))
            .copied()
            .collect();
        for peer in peers {
            self.request(peer, SyncRequest::Heads, Requested::Heads);
        }
        self.refresh_status();
    }

    fn on_committed(&mut self, committed: Result<CommittedRecord, broadcast::error::RecvError>) {
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

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => {
                self.request(peer_id, SyncRequest::Heads, Requested::Heads);
                self.request(peer_id, SyncRequest::Proofs, Requested::Proofs);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.dialled.retain(|_, id| *id != connection_id);
                if num_established == 0 {
                    self.syncer.peer_gone(&peer_id);
                    self.refused
                        .retain(|(refused_peer, _), _| *refused_peer != peer_id);
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                let denied = matches!(error, libp2p::swarm::DialError::Denied { .. });
                let until = Instant::now() + Duration::from_millis(DENIED_REDIAL_MS);
                let denied_bootstrap = &mut self.denied_bootstrap;
                self.dialled.retain(|addr, id| {
                    if *id == connection_id && denied {
                        // The peer there is not a member node: do not redial every tick.
                        denied_bootstrap.insert(addr.clone(), until);
                    }
                    *id != connection_id
                });
                if denied {
                    self.count_refused("outgoing", &error.to_string());
                }
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                if matches!(error, libp2p::swarm::ListenError::Denied { .. }) {
                    self.count_refused("incoming", &error.to_string());
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                self.write_status(|status| status.listen.push(address.to_string()));
            }
            _ => {}
        }
    }

    fn count_refused(&mut self, direction: &str, error: &str) {
        let now = Instant::now();
        let (last, since) = &mut self.refused_log;
        let quiet = last.is_some_and(|last| {
            now.duration_since(last) < Duration::from_millis(REFUSED_LOG_INTERVAL_MS)
        });
        if quiet {
            *since += 1;
        } else {
            let more = match *since {
                0 => String::new(),
                count => format!(" ({count} more refused since the last report)"),
            };
            eprintln!("aidledger-node: refused an {direction} connection: {error}{more}");
            *last = Some(now);
            *since = 0;
        }
        self.write_status(|status| status.refused_connections += 1);
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
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

    fn report(&mut self, id: &gossipsub::MessageId, source: &PeerId, verdict: MessageAcceptance) {
        // `false` means the message left the cache meanwhile; nothing more to do.
        let _ = self
            .swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(id, source, verdict);
    }

    fn on_gossip_batch(
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

    fn on_completion(&mut self, done: Completion) {
        match done {
            Completion::GossipBatch { verdicts, outcome } => {
                self.on_gossip_batch(verdicts, outcome)
            }
            Completion::Gossip {
                message_id,
                source,
                acceptance,
                detail,
            } => {
                self.gossip_validations = self.gossip_validations.saturating_sub(1);
                if matches!(acceptance, MessageAcceptance::Reject) {
                    let reason = detail.as_ref().err().cloned().unwrap_or_default();
                    self.note_rejected(source, &format!("gossip: {reason}"));
                }
                self.report(&message_id, &source, acceptance);
                if let Ok(outcome) = detail {
                    self.after_ingest(source, &outcome);
                }
            }
            Completion::Serve { channel, response } => {
                // The requester may have gone; nothing to do then.
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            Completion::Verified {
                author,
                peer,
                from_seq,
                records,
            } => match records {
                Ok(RangeVerdict {
                    records,
                    refused: None,
                }) => {
                    let actions = self.syncer.on_verified(&author, from_seq, records);
                    self.perform(actions);
                }
                Ok(RangeVerdict {
                    records,
                    refused: Some(reason),
                }) => {
                    let refused_seq = from_seq + records.len() as u64;
                    self.note_refused(peer, &author, refused_seq, &reason);
                    let actions = self.syncer.on_refused(&author, from_seq, records);
                    self.perform(actions);
                }
                Err(reason) => {
                    self.syncer.abandon(&author);
                    self.penalise(peer, &format!("sync: {reason}"));
                }
            },
            Completion::Ingested {
                author,
                peer,
                outcome,
            } => self.on_ingested(author, peer, outcome),
        }
    }

    fn on_ingested(
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
                eprintln!("aidledger-node: cannot store records from a peer: {reason}");
                if let Some(author) = author {
                    self.syncer.abandon(&author);
                }
            }
        }
    }

    /// Publishes new proofs; asks `peer` for what a record that did not attach forked from.
    fn after_ingest(&mut self, peer: PeerId, outcome: &IngestOutcome) {
        for proof in &outcome.proofs {
            let header = aidledger_spec::signed::SignedRecord::parse(proof.first.clone())
                .map(|record| (record.header.author, record.header.seq));
            if let Ok((author, seq)) = header {
                eprintln!("aidledger-node: equivocation: {author} signed two records at seq {seq}; proof stored");
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

    /// A record from `peer` that the authority refuses: not stored, not held against the peer
    /// (one of the two governance states may be behind). The chain is not fetched from it
    /// again until something changes.
    fn note_refused(&mut self, peer: PeerId, author: &str, seq: u64, reason: &str) {
        let previous = self.refused.insert((peer, author.to_owned()), seq);
        if previous != Some(seq) {
            let org = self.members.get(&peer).cloned().unwrap_or_default();
            eprintln!(
                "aidledger-node: not storing {author}'s chain from seq {seq} (from {peer}, {org}) under the current governance state: {reason}"
            );
        }
    }

    fn note_rejected(&mut self, peer: PeerId, reason: &str) {
        let org = self.members.get(&peer).cloned().unwrap_or_default();
        eprintln!("aidledger-node: rejected data from {peer} ({org}): {reason}");
        *self.rejected.entry(peer).or_default() += 1;
        self.write_status(|status| status.rejected_messages += 1);
    }

    /// Invalid sync data: count it, and refuse the peer for [`PENALTY_MS`].
    fn penalise(&mut self, peer: PeerId, reason: &str) {
        self.note_rejected(peer, reason);
        self.syncer.peer_gone(&peer);
        self.swarm.behaviour_mut().members_only.disallow_peer(peer);
        self.penalised
            .insert(peer, Instant::now() + Duration::from_millis(PENALTY_MS));
    }

    pub(super) fn request(&mut self, peer: PeerId, request: SyncRequest, requested: Requested) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.requests.insert(id, requested);
    }

    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Request { peer, request } => {
                    let requested = match &request {
                        SyncRequest::Range {
                            author, from_seq, ..
                        } => Requested::Range {
                            author: author.clone(),
                            from_seq: *from_seq,
                        },
                        SyncRequest::Heads => Requested::Heads,
                        SyncRequest::Proofs => Requested::Proofs,
                    };
                    self.request(peer, request, requested);
                }
                Action::Verify {
                    author,
                    peer,
                    from_seq,
                    records,
                } => self.spawn_verify(author, peer, from_seq, records),
                Action::Ingest {
                    author,
                    peer,
                    records,
                } => self.spawn_ingest(Some(author), peer, records, Vec::new()),
            }
        }
    }

    fn spawn_verify(&self, author: String, peer: PeerId, from_seq: u64, records: Vec<Vec<u8>>) {
        let view = self.view();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let checked = author.clone();
            let verified = tokio::task::spawn_blocking(move || {
                tasks::verify_range(&view.verifier, &checked, from_seq, records)
            })
            .await
            .unwrap_or_else(|error| Err(error.to_string()));
            let done = Completion::Verified {
                author,
                peer,
                from_seq,
                records: verified,
            };
            let _ = completions.send(done).await;
        });
    }

    fn spawn_ingest(
        &self,
        author: Option<String>,
        peer: PeerId,
        records: Vec<aidledger_spec::VerifiedRecord>,
        proofs: Vec<(
            aidledger_spec::VerifiedRecord,
            aidledger_spec::VerifiedRecord,
        )>,
    ) {
        let writer = self.writer.clone();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let outcome = writer
                .ingest(records, proofs)
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
    fn spawn_check_and_ingest(&self, peer: PeerId, response: SyncResponse) {
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

    fn on_sync(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.serve(request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => self.on_response(peer, request_id, response),
            },
            request_response::Event::OutboundFailure { request_id, .. } => {
                if let Some(Requested::Range { author, .. }) = self.requests.remove(&request_id) {
                    self.syncer.abandon(&author);
                }
            }
            _ => {}
        }
    }

    fn serve(
        &mut self,
        request: SyncRequest,
        channel: request_response::ResponseChannel<SyncResponse>,
    ) {
        let store = self.store.clone();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let response = tokio::task::spawn_blocking(move || match request {
                SyncRequest::Heads => read_heads(&store),
                SyncRequest::Range {
                    author,
                    from_seq,
                    limit,
                } => tasks::read_range(&store, &author, from_seq, limit),
                SyncRequest::Proofs => tasks::read_proofs(&store),
            })
            .await
            .unwrap_or(SyncResponse::Unavailable);
            let _ = completions
                .send(Completion::Serve { channel, response })
                .await;
        });
    }

    fn on_response(&mut self, peer: PeerId, id: OutboundRequestId, response: SyncResponse) {
        let Some(requested) = self.requests.remove(&id) else {
            return;
        };
        match (requested, response) {
            (Requested::Heads, SyncResponse::Heads { heads, proofs }) => {
                if heads.len() > HEADS_MAX {
                    return self.penalise(peer, "sync: too many heads");
                }
                let forked: HashSet<String> = self
                    .store
                    .forks()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(author, _)| author)
                    .collect();
                let store = self.store.clone();
                let local = |author: &str| store.head(author).ok().flatten();
                // Chains this peer sent a refused record of, while nothing changed since.
                let mut skip = forked;
                skip.extend(heads.iter().filter_map(|head| {
                    let refused_seq = self.refused.get(&(peer, head.author.clone()))?;
                    let (next_seq, _) = Head::next(local(&head.author));
                    (next_seq == *refused_seq).then(|| head.author.clone())
                }));
                // Signing waits while a member peer holds more of this node's own chain
                // (`signing_gate`).
                let own = self.writer.org();
                let peer_own = heads
                    .iter()
                    .find(|head| head.author == own)
                    .map(|head| head.seq);
                self.writer
                    .signing_gate()
                    .note_peer_head(&peer.to_string(), peer_own);
                let actions = self.syncer.on_heads(peer, &heads, local, &skip);
                self.perform(actions);
                if proofs > self.store.proof_count() {
                    self.request(peer, SyncRequest::Proofs, Requested::Proofs);
                }
            }
            (Requested::Range { author, from_seq }, SyncResponse::Records(records)) => {
                let actions = self.syncer.on_records(&author, from_seq, records);
                self.perform(actions);
            }
            (Requested::Range { author, .. }, _) => self.syncer.abandon(&author),
            (Requested::Probe, response @ SyncResponse::Records(_))
            | (Requested::Proofs, response @ SyncResponse::Proofs(_)) => {
                self.spawn_check_and_ingest(peer, response);
            }
            (_, SyncResponse::Unavailable) => {}
            (_, _) => self.penalise(peer, "sync: a response of the wrong kind"),
        }
    }

    fn write_status(&self, change: impl FnOnce(&mut super::status::NetworkStatus)) {
        let mut status = self
            .status
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut status);
    }

    fn refresh_status(&mut self) {
        let gossip = &self.swarm.behaviour().gossip;
        let peers: Vec<PeerStatus> = self
            .swarm
            .connected_peers()
            .map(|peer| PeerStatus {
                peer_id: peer.to_string(),
                org: self.members.get(peer).cloned().unwrap_or_default(),
                score: gossip.peer_score(peer),
                rejected: self.rejected.get(peer).copied().unwrap_or(0),
                heads: self
                    .syncer
                    .peer_heads()
                    .get(peer)
                    .map(|heads| heads.iter().map(|(a, s)| (a.clone(), *s)).collect())
                    .unwrap_or_default(),
            })
            .collect();
        let syncing = self.syncer.fetching();
        self.write_status(|status| {
            status.peers = peers;
            status.syncing_chains = syncing;
        });
    }
}

/// Everything a [`Service`] is made of.
pub(super) struct ServiceParts {
    pub swarm: Swarm<Behaviour>,
    pub store: Arc<Store>,
    pub writer: Arc<Writer>,
    pub governance: Arc<Governance>,
    pub topics: Topics,
    /// The peers let in under the current governance state.
    pub members: HashMap<PeerId, String>,
    /// This node's peer id.
    pub peer_id: PeerId,
    pub bootstrap: Vec<Multiaddr>,
    pub status: SharedStatus,
}

/// This node's heads as peers may fetch them: durable only (see `tasks::read_range`).
fn read_heads(store: &Store) -> SyncResponse {
    let durable =
        |entry: Result<(String, Head), StoreError>| -> Result<Option<WireHead>, StoreError> {
            let (author, _) = entry?;
            Ok(store.durable_head(&author)?.map(|head| WireHead {
                author,
                seq: head.seq,
                id: head.id.0,
            }))
        };
    let heads: Result<Vec<WireHead>, _> = store
        .heads()
        .take(HEADS_MAX)
        .filter_map(|entry| durable(entry).transpose())
        .collect();
    match heads {
        Ok(heads) => SyncResponse::Heads {
            heads,
            proofs: store.proof_count(),
        },
        Err(_) => SyncResponse::Unavailable,
    }
}
