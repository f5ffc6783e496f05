//! The network task: one event loop that owns the swarm. It validates gossip (through
//! [`tasks`]), answers and drives range sync (through [`Syncer`]), keeps connections to the
//! bootstrap peers, publishes this node's new records, and updates the status snapshot.
//!
//! It follows the governance state live: records are verified under the current state, and
//! when the state changes the allow list is rebuilt from `Authority::allowed_node_keys` (the
//! nodes of removed members are disconnected and refused from then on, those of new members
//! let in), fetches under the old state are dropped, and heads are asked again from every
//! peer so that chains refused before are fetched again.
//!
//! This file holds the service's state and its event loop, which hands each event to the file
//! for what it concerns: `peers` (connections, the allow list, penalties), `gossip`,
//! `range_sync` (serving and driving range sync) and `ingest` (handing verified data to the
//! writer and what follows).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response::OutboundRequestId;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{broadcast, mpsc, watch};

use super::behaviour::{Behaviour, Topics};
use super::status::{PeerStatus, SharedStatus};
use super::sync::Syncer;
use super::tasks::{Completion, RangeVerdict};
use crate::checkpoints::Checkpoints;
use crate::governance::{Governance, GovernanceView};
use crate::witnessed::{Learned, Witnessed};
use crate::writer::{CommittedRecord, Writer};
use aidledger_store::Store;

mod gossip;
mod ingest;
mod peers;
mod range_sync;
mod witnessed;

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
    Witnessed,
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
    /// The node's collector of cosigned checkpoints and split-view proofs.
    pub witnessed: Arc<Witnessed>,
    /// What it newly stored, to gossip.
    pub learned: broadcast::Receiver<Learned>,
    /// Sync rounds so far (`Witnessed` is asked every few).
    pub ticks: u64,
    /// The publisher of the node's own organisation's checkpoint (shared with the HTTP
    /// routes, so that one tree size is signed once).
    pub checkpoints: Arc<Checkpoints>,
    /// The size and root of the own checkpoint last published on the witnessed topic.
    pub own_published: Option<(u64, aidledger_spec::Digest)>,
    /// Whether the own checkpoint is being read or signed (one such task at a time).
    pub own_pending: bool,
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
            learned: parts.witnessed.learned(),
            witnessed: parts.witnessed,
            ticks: 0,
            checkpoints: parts.checkpoints,
            own_published: None,
            own_pending: false,
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
                learned = self.learned.recv() => self.on_learned(learned),
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
            Completion::Reported {
                message_id,
                source,
                acceptance,
                reason,
            } => {
                self.gossip_validations = self.gossip_validations.saturating_sub(1);
                if matches!(acceptance, MessageAcceptance::Reject) {
                    self.note_rejected(source, &format!("gossip: {}", reason.unwrap_or_default()));
                }
                self.report(&message_id, &source, acceptance);
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
            Completion::OwnCheckpoint(published) => self.on_own_checkpoint(published),
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
    pub witnessed: Arc<Witnessed>,
    pub checkpoints: Arc<Checkpoints>,
}
