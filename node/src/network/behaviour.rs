//! The libp2p stack of a node: TCP + noise + yamux, a members-only allow list, gossipsub with
//! manual validation and peer scoring, and the sync request-response protocol.

use std::time::Duration;

use aidledger_spec::limits::RECORD_SIZE_BYTES_MAX;
use aidledger_spec::NetworkId;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{allow_block_list, connection_limits, noise, tcp, yamux, PeerId, Swarm};
use sha2::{Digest as _, Sha256};

use super::wire::{SyncCodec, SYNC_PROTOCOL};
use super::NetworkError;
use crate::limits::{
    P2P_ESTABLISHED_MAX, P2P_ESTABLISHED_PER_PEER_MAX, P2P_PENDING_INCOMING_MAX,
    P2P_PENDING_OUTGOING_MAX,
};

/// Largest gossip message: one record of the largest allowed size, or a proof of two.
pub const GOSSIP_SIZE_BYTES_MAX: usize = 2 * RECORD_SIZE_BYTES_MAX + 1024;
/// How long a sync request may take before it fails.
pub const SYNC_REQUEST_TIMEOUT_MS: u64 = 60_000;
/// Most sync streams open at once on one connection.
pub const SYNC_STREAMS_MAX: usize = 16;
/// How long an idle connection stays open (members keep theirs: heads are exchanged often).
pub const IDLE_CONNECTION_TIMEOUT_MS: u64 = 60_000;
/// Gossipsub's heartbeat.
pub const GOSSIP_HEARTBEAT_MS: u64 = 500;
/// Penalty per invalid message (squared count × weight): one invalid message puts the sender
/// below the graylist threshold, after which its gossip is ignored until the penalty decays.
pub const INVALID_MESSAGE_WEIGHT: f64 = -100.0;

/// The gossip topics of one network.
#[derive(Clone)]
pub struct Topics {
    /// New records: the message is the record's wire bytes.
    pub records: IdentTopic,
    /// Equivocation proofs: the message is an encoded `EquivocationProof`.
    pub proofs: IdentTopic,
    /// Cosigned checkpoints and split-view proofs: an encoded `WitnessedMessage`.
    pub witnessed: IdentTopic,
}

impl Topics {
    /// `aidledger/<network id hex>/records/1`, `…/proofs/1` and `…/witnessed/1`.
    pub fn new(network_id: NetworkId) -> Topics {
        Topics {
            records: IdentTopic::new(format!("aidledger/{network_id}/records/1")),
            proofs: IdentTopic::new(format!("aidledger/{network_id}/proofs/1")),
            witnessed: IdentTopic::new(format!("aidledger/{network_id}/witnessed/1")),
        }
    }
}

/// The node's network behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Bounds connections (pending incoming and outgoing, established per peer and in all),
    /// so that half-open or idle TCP connections cannot take every file descriptor (issue 17):
    /// one over a bound is closed at once.
    pub limits: connection_limits::Behaviour,
    /// Refuses every connection of a peer that is not a member node (checked once noise has
    /// authenticated the peer id, before any protocol runs).
    pub members_only: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    /// Gossip of new records and proofs.
    pub gossip: gossipsub::Behaviour,
    /// Range sync.
    pub sync: request_response::Behaviour<SyncCodec>,
}

/// Builds the swarm of `keypair`, allowing only `members`.
pub fn build_swarm(
    keypair: Keypair,
    topics: &Topics,
    members: impl IntoIterator<Item = PeerId>,
) -> Result<Swarm<Behaviour>, NetworkError> {
    let mut members_only = allow_block_list::Behaviour::default();
    for peer in members {
        members_only.allow_peer(peer);
    }
    let gossip = gossip_behaviour(topics)?;
    let sync = request_response::Behaviour::with_codec(
        SyncCodec,
        [(SYNC_PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(Duration::from_millis(SYNC_REQUEST_TIMEOUT_MS))
            .with_max_concurrent_streams(SYNC_STREAMS_MAX),
    );
    let behaviour = Behaviour {
        limits: connection_limits::Behaviour::new(connection_limits()),
        members_only,
        gossip,
        sync,
    };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|error| NetworkError::Transport(error.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|error| NetworkError::Transport(error.to_string()))?
        .with_swarm_config(|config| {
            config.with_idle_connection_timeout(Duration::from_millis(IDLE_CONNECTION_TIMEOUT_MS))
        })
        .build();
    Ok(swarm)
}

/// The bounds of [`crate::limits`] as libp2p's connection limits.
fn connection_limits() -> connection_limits::ConnectionLimits {
    connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(P2P_PENDING_INCOMING_MAX))
        .with_max_pending_outgoing(Some(P2P_PENDING_OUTGOING_MAX))
        .with_max_established_per_peer(Some(P2P_ESTABLISHED_PER_PEER_MAX))
        .with_max_established(Some(P2P_ESTABLISHED_MAX))
}

/// Anonymous gossipsub (records are signed already; see ledger.md §8), message id = SHA-256 of
/// the data, manual validation, and peer scoring that punishes invalid messages.
fn gossip_behaviour(topics: &Topics) -> Result<gossipsub::Behaviour, NetworkError> {
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::None)
        .validate_messages()
        .message_id_fn(|message| gossipsub::MessageId::from(Sha256::digest(&message.data).to_vec()))
        .max_transmit_size(GOSSIP_SIZE_BYTES_MAX)
        .heartbeat_interval(Duration::from_millis(GOSSIP_HEARTBEAT_MS))
        .heartbeat_initial_delay(Duration::from_millis(100))
        .build()
        .map_err(|error| NetworkError::Gossip(error.to_string()))?;
    let mut gossip = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config)
        .map_err(|error| NetworkError::Gossip(error.to_string()))?;
    let mut params = gossipsub::PeerScoreParams {
        // gossipsub's default penalises more than 10 peers behind one IP address (-5 × surplus²:
        // -605 for 21 nodes on loopback or behind one NAT). Only member node keys connect here,
        // so an address says nothing about Sybils; the score counts invalid messages only.
        ip_colocation_factor_weight: 0.0,
        ..gossipsub::PeerScoreParams::default()
    };
    for topic in [&topics.records, &topics.proofs, &topics.witnessed] {
        params.topics.insert(topic.hash(), topic_score());
    }
    gossip
        .with_peer_score(params, gossipsub::PeerScoreThresholds::default())
        .map_err(NetworkError::Gossip)?;
    for topic in [&topics.records, &topics.proofs, &topics.witnessed] {
        gossip
            .subscribe(topic)
            .map_err(|error| NetworkError::Gossip(error.to_string()))?;
    }
    Ok(gossip)
}

/// Scores only what matters in a small permissioned network: invalid messages. Quiet members
/// are normal (an organisation may record nothing for weeks), so delivery rates are not scored.
fn topic_score() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: INVALID_MESSAGE_WEIGHT,
        invalid_message_deliveries_decay: 0.99,
        ..gossipsub::TopicScoreParams::default()
    }
}
