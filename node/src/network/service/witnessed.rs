//! Cosigned checkpoints and split-view proofs between member nodes (issue 21): what this node
//! newly stores is published on the witnessed gossip topic (FORMAT.md §17.1); what arrives
//! there, or in answer to the sync request `Witnessed` (§17.2, asked of every peer every
//! [`WITNESSED_SYNC_TICKS`] sync rounds so that a node that missed the gossip catches up), is
//! handed to the node's [`Witnessed`](crate::witnessed::Witnessed), which checks it before
//! anything is kept.

use aidledger_spec::codec::Codec as _;
use aidledger_spec::witnessed::{
    WitnessedMessage, WitnessedSet, WITNESSED_ANSWER_BYTES_MAX, WITNESSED_CHECKPOINTS_MAX,
    WITNESSED_SPLIT_VIEWS_MAX,
};
use std::sync::Arc;

use libp2p::gossipsub::{MessageAcceptance, MessageId, PublishError};
use libp2p::PeerId;
use tokio::sync::broadcast;

use super::{Requested, Service};
use crate::checkpoints::{Checkpoints, Published};
use crate::network::tasks::Completion;
use crate::network::wire::{SyncRequest, SyncResponse};
use crate::witnessed::{Accepted, Learned, Witnessed, WitnessedError};
use aidledger_spec::splitview::SplitViewProof;
use aidledger_store::{StoreError, StoreReader};

/// Sync rounds (`SYNC_INTERVAL_MS` each) between two `Witnessed` requests to each peer: the
/// answer holds every organisation's note, so it is asked less often than heads; gossip
/// carries what is new at once.
pub const WITNESSED_SYNC_TICKS: u64 = 5;

impl Service {
    /// Publishes what this node newly stored. A lagging receiver missed some; peers get them
    /// by sync.
    pub(super) fn on_learned(&mut self, learned: Result<Learned, broadcast::error::RecvError>) {
        let Ok(learned) = learned else {
            return;
        };
        let message = match learned {
            Learned::Checkpoint(note) => WitnessedMessage::Checkpoint(note),
            Learned::SplitView(bytes) => match SplitViewProof::from_bytes(&bytes) {
                Ok(proof) => WitnessedMessage::SplitView(proof),
                Err(_) => return,
            },
        };
        let topic = self.topics.witnessed.clone();
        // No peers, or the same message published before: nothing to do.
        let _ = self
            .swarm
            .behaviour_mut()
            .gossip
            .publish(topic, message.to_bytes());
    }

    /// A message of the witnessed topic: checked off the event loop, then reported.
    pub(super) fn on_witnessed_gossip(&mut self, id: MessageId, source: PeerId, data: Vec<u8>) {
        let witnessed = self.witnessed.clone();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            let (acceptance, reason) =
                tokio::task::spawn_blocking(move || judge_gossip(&witnessed, &data))
                    .await
                    .unwrap_or_else(|error| (MessageAcceptance::Ignore, Some(error.to_string())));
            let done = Completion::Reported {
                message_id: id,
                source,
                acceptance,
                reason,
            };
            let _ = completions.send(done).await;
        });
    }

    /// Every [`WITNESSED_SYNC_TICKS`] rounds, asks each peer for what it collected; every
    /// round, makes what gossip brought durable (one fsync a second at most) and looks whether
    /// the node's own checkpoint is new.
    pub(super) fn ask_witnessed(&mut self) {
        self.check_own_checkpoint();
        if self.witnessed.is_dirty() {
            let witnessed = self.witnessed.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(error) = witnessed.flush() {
                    crate::log_line!(
                        "aidledger-node: what peers showed is not durable yet: {error}"
                    );
                }
            });
        }
        self.ticks += 1;
        if self.ticks % WITNESSED_SYNC_TICKS != 1 {
            return;
        }
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            self.request(peer, SyncRequest::Witnessed, Requested::Witnessed);
        }
    }

    /// Reads (and, for a new tree size, signs: at most once a size) the node's own
    /// organisation's checkpoint off the event loop; one such task at a time, so at most one a
    /// sync round.
    fn check_own_checkpoint(&mut self) {
        if self.own_pending {
            return;
        }
        self.own_pending = true;
        let checkpoints = self.checkpoints.clone();
        let completions = self.completions.0.clone();
        tokio::spawn(async move {
            // An empty chain has nothing to publish; a checkpoint no key of the node may sign
            // is refused with its reason at `/checkpoint/{org}` already, so it is not logged
            // here every second.
            let published = tokio::task::spawn_blocking(move || checkpoints.latest().ok())
                .await
                .ok()
                .flatten();
            let _ = completions.send(Completion::OwnCheckpoint(published)).await;
        });
    }

    /// Publishes the node's own organisation's checkpoint on the witnessed topic when its
    /// tree is not the one published last: the note alone, with no cosignature (peers compare
    /// it with what they hold, FORMAT.md §17.1). Without peers it is published again at the
    /// next round.
    pub(super) fn on_own_checkpoint(&mut self, published: Option<Arc<Published>>) {
        self.own_pending = false;
        let Some(published) = published else {
            return;
        };
        let tree = (published.size, published.root);
        if self.own_published == Some(tree) {
            return;
        }
        let message = WitnessedMessage::Checkpoint(published.note.clone());
        let topic = self.topics.witnessed.clone();
        match self
            .swarm
            .behaviour_mut()
            .gossip
            .publish(topic, message.to_bytes())
        {
            Ok(_) | Err(PublishError::Duplicate) => self.own_published = Some(tree),
            // No peer to send it to yet (or a full queue): the next round tries again.
            Err(_) => {}
        }
    }

    /// A peer's answer to `Witnessed`: each note and proof checked and kept, off the loop.
    pub(super) fn on_witnessed_set(&mut self, peer: PeerId, set: WitnessedSet) {
        let witnessed = self.witnessed.clone();
        tokio::spawn(async move {
            let _ = tokio::task::spawn_blocking(move || {
                for note in &set.checkpoints {
                    if let Err(error) = witnessed.accept_checkpoint(note) {
                        log_refused(&peer, "a checkpoint", &error);
                    }
                }
                for proof in &set.split_views {
                    let bytes = proof.to_bytes();
                    if witnessed.store().has_split_view(&bytes).unwrap_or(false) {
                        continue;
                    }
                    if let Err(error) = witnessed.accept_split_view(&bytes) {
                        log_refused(&peer, "a split-view proof", &error);
                    }
                }
                if let Err(error) = witnessed.flush() {
                    crate::log_line!(
                        "aidledger-node: what peers showed is not durable yet: {error}"
                    );
                }
            })
            .await;
        });
    }
}

fn log_refused(peer: &PeerId, what: &str, error: &WitnessedError) {
    crate::log_line!("aidledger-node: peer {peer} sent {what} this node refused: {error}");
}

/// What gossipsub is told of a witnessed message: accepted (forwarded) when it was new here,
/// rejected when it does not decode (no node forwards such bytes), ignored otherwise: known,
/// not judged yet, or refused here, which may be this node's governance state being behind
/// the sender's (a key granted by a rotation it has not received yet), as records failing
/// only the authority rules are ignored, not rejected.
fn judge_gossip(witnessed: &Witnessed, data: &[u8]) -> (MessageAcceptance, Option<String>) {
    let message = match WitnessedMessage::from_bytes(data) {
        Ok(message) => message,
        Err(error) => return (MessageAcceptance::Reject, Some(error.to_string())),
    };
    let judged =
        match message {
            WitnessedMessage::Checkpoint(note) => {
                witnessed
                    .accept_checkpoint(&note)
                    .map(|accepted| match accepted {
                        // An organisation's own note (not cosigned) found consistent is
                        // forwarded too, so that every node can compare it with what it holds.
                        Accepted::Stored
                        | Accepted::Merged(_)
                        | Accepted::SplitView(true)
                        | Accepted::NotCosigned => MessageAcceptance::Accept,
                        _ => MessageAcceptance::Ignore,
                    })
            }
            WitnessedMessage::SplitView(proof) => witnessed
                .accept_split_view(&proof.to_bytes())
                .map(|(_, new)| {
                    if new {
                        MessageAcceptance::Accept
                    } else {
                        MessageAcceptance::Ignore
                    }
                }),
        };
    match judged {
        Ok(acceptance) => (acceptance, None),
        Err(error) => (MessageAcceptance::Ignore, Some(error.to_string())),
    }
}

/// The answer to `Witnessed`: the node's own organisation's checkpoint (so that a peer whose
/// replica was behind when the gossip came, or that connected later, can still compare it),
/// then every stored cosigned checkpoint and split-view proof, within the answer's bounds (at
/// least one of each when there is one). Blocking.
pub(super) fn read_witnessed(store: &StoreReader, checkpoints: &Checkpoints) -> SyncResponse {
    // An empty chain, or one no key of the node may sign, has no note of its own to add.
    let own = checkpoints
        .latest()
        .ok()
        .map(|published| published.note.clone());
    match witnessed_set(store, own) {
        Ok(set) => SyncResponse::Witnessed(set),
        Err(_) => SyncResponse::Unavailable,
    }
}

fn witnessed_set(store: &StoreReader, own: Option<String>) -> Result<WitnessedSet, StoreError> {
    let mut set = WitnessedSet::default();
    let mut bytes = 0;
    if let Some(note) = own {
        bytes += note.len();
        set.checkpoints.push(note);
    }
    for note in store.cosigned_checkpoints()? {
        if set.checkpoints.contains(&note) {
            continue;
        }
        if set.checkpoints.len() >= WITNESSED_CHECKPOINTS_MAX
            || (!set.checkpoints.is_empty() && bytes + note.len() > WITNESSED_ANSWER_BYTES_MAX)
        {
            break;
        }
        bytes += note.len();
        set.checkpoints.push(note);
    }
    for proof in store.split_views()? {
        if set.split_views.len() >= WITNESSED_SPLIT_VIEWS_MAX
            || (!set.split_views.is_empty() && bytes + proof.len() > WITNESSED_ANSWER_BYTES_MAX)
        {
            break;
        }
        bytes += proof.len();
        let proof = SplitViewProof::from_bytes(&proof)
            .map_err(|error| StoreError::Corrupt(format!("a split-view proof: {error}")))?;
        set.split_views.push(proof);
    }
    Ok(set)
}
