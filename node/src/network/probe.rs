//! A bare network peer for tests and diagnostics: it speaks the node's protocols but has no
//! store and no rules, so a test can make it send what a misbehaving member (or a stranger)
//! would send — raw gossip, forged proofs, sync requests — and see what it gets back.
//! It runs on its own runtime and is driven through a blocking API.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use aidledger_spec::Genesis;
use ed25519_dalek::SigningKey;
use futures_util::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::mpsc;

use super::behaviour::{build_swarm, Behaviour, BehaviourEvent, Topics};
use super::identity;
use super::wire::{SyncRequest, SyncResponse};
use super::NetworkError;

/// Most commands waiting for the probe's task.
pub const PROBE_COMMANDS_MAX: usize = 64;

/// What the probe has seen.
#[derive(Clone, Debug, Default)]
pub struct ProbeState {
    /// Peers with an open connection.
    pub connected: HashSet<PeerId>,
    /// Peers that subscribed to the records topic.
    pub subscribed: HashSet<PeerId>,
    /// Connections that were established at some point.
    pub connections_established: u64,
    /// Gossip messages received (their data).
    pub received: Vec<Vec<u8>>,
    /// Sync responses received.
    pub responses: Vec<SyncResponse>,
    /// Dial, connection and request failures.
    pub errors: Vec<String>,
}

enum Command {
    Dial(Multiaddr),
    PublishRecord(Vec<u8>),
    PublishProof(Vec<u8>),
    Request(PeerId, SyncRequest),
}

/// A running probe; stops when dropped.
pub struct Probe {
    peer_id: PeerId,
    commands: mpsc::Sender<Command>,
    state: Arc<Mutex<ProbeState>>,
    // Dropped last: ends the task.
    _runtime: tokio::runtime::Runtime,
}

impl Probe {
    /// Starts a probe with transport key `key` in the network of `genesis`.
    pub fn start(key: &SigningKey, genesis: &Genesis) -> Result<Probe, NetworkError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|error| NetworkError::Transport(error.to_string()))?;
        let keypair = identity::keypair(key);
        let peer_id = keypair.public().to_peer_id();
        let topics = Topics::new(genesis.network_id());
        let members = identity::member_peers(genesis).into_keys();
        let swarm = {
            let _guard = runtime.enter();
            build_swarm(keypair, &topics, members)?
        };
        let (commands, receiver) = mpsc::channel(PROBE_COMMANDS_MAX);
        let state = Arc::new(Mutex::new(ProbeState::default()));
        runtime.spawn(run(swarm, topics, receiver, state.clone()));
        Ok(Probe {
            peer_id,
            commands,
            state,
            _runtime: runtime,
        })
    }

    /// The probe's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Dials an address.
    pub fn dial(&self, addr: Multiaddr) {
        self.send(Command::Dial(addr));
    }

    /// Dials an address given as text (`/ip4/127.0.0.1/tcp/PORT`).
    pub fn dial_str(&self, addr: &str) -> Result<(), String> {
        let addr = addr
            .parse::<Multiaddr>()
            .map_err(|error| error.to_string())?;
        self.dial(addr);
        Ok(())
    }

    /// Publishes bytes on the records topic.
    pub fn publish_record(&self, bytes: Vec<u8>) {
        self.send(Command::PublishRecord(bytes));
    }

    /// Publishes bytes on the proofs topic.
    pub fn publish_proof(&self, bytes: Vec<u8>) {
        self.send(Command::PublishProof(bytes));
    }

    /// Sends a sync request; its response (if any) appears in [`ProbeState::responses`].
    pub fn request(&self, peer: PeerId, request: SyncRequest) {
        self.send(Command::Request(peer, request));
    }

    /// A copy of what the probe has seen.
    pub fn state(&self) -> ProbeState {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn send(&self, command: Command) {
        // The task ends only with the probe.
        let _ = self.commands.try_send(command);
    }
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    topics: Topics,
    mut commands: mpsc::Receiver<Command>,
    state: Arc<Mutex<ProbeState>>,
) {
    loop {
        tokio::select! {
            event = swarm.select_next_some() => on_event(&mut swarm, event, &state),
            command = commands.recv() => {
                let Some(command) = command else { return };
                let outcome = match command {
                    Command::Dial(addr) => swarm.dial(addr).map_err(|error| error.to_string()),
                    Command::PublishRecord(bytes) => swarm.behaviour_mut().gossip
                        .publish(topics.records.clone(), bytes).map(|_| ()).map_err(|error| error.to_string()),
                    Command::PublishProof(bytes) => swarm.behaviour_mut().gossip
                        .publish(topics.proofs.clone(), bytes).map(|_| ()).map_err(|error| error.to_string()),
                    Command::Request(peer, request) => {
                        swarm.behaviour_mut().sync.send_request(&peer, request);
                        Ok(())
                    }
                };
                if let Err(error) = outcome {
                    lock(&state).errors.push(error);
                }
            }
        }
    }
}

fn lock(state: &Mutex<ProbeState>) -> std::sync::MutexGuard<'_, ProbeState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn on_event(
    swarm: &mut Swarm<Behaviour>,
    event: SwarmEvent<BehaviourEvent>,
    state: &Mutex<ProbeState>,
) {
    match event {
        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
            let mut state = lock(state);
            state.connected.insert(peer_id);
            state.connections_established += 1;
        }
        SwarmEvent::ConnectionClosed {
            peer_id,
            num_established: 0,
            ..
        } => {
            lock(state).connected.remove(&peer_id);
        }
        SwarmEvent::OutgoingConnectionError { error, .. } => {
            lock(state).errors.push(error.to_string());
        }
        SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Subscribed {
            peer_id,
            ..
        })) => {
            lock(state).subscribed.insert(peer_id);
        }
        SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        })) => {
            lock(state).received.push(message.data);
            let _ = swarm
                .behaviour_mut()
                .gossip
                .report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    MessageAcceptance::Ignore,
                );
        }
        SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
            message: request_response::Message::Response { response, .. },
            ..
        })) => lock(state).responses.push(response),
        SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::OutboundFailure {
            error,
            ..
        })) => lock(state).errors.push(error.to_string()),
        _ => {}
    }
}
