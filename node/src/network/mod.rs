//! Replication between member nodes over libp2p (TCP + noise + yamux).
//!
//! - Gossip: every node publishes its new records on the network's records topic; receivers
//!   verify each message under the current governance state before it is accepted or
//!   forwarded, reject invalid ones (gossipsub then scores the sender down), and ignore
//!   duplicates. Equivocation proofs travel on a second topic and are checked the same way.
//! - Range sync ([`sync`], [`wire`]): on connect and every `SYNC_INTERVAL_MS` (1 s), peers
//!   exchange heads (of every chain they hold: genesis members and members added later); a
//!   node that is behind pulls the missing ranges in bounded batches, verifies them and
//!   ingests them through the single writer.
//! - Membership follows the governance state live ([`Governance`]): only the peer ids of the
//!   current members' node keys (`Authority::allowed_node_keys`) may connect; when a member is
//!   removed its nodes are disconnected and refused, when one is added its nodes may connect.
//! - A record that breaks only an authority rule (unknown author, key not yet valid, member
//!   removed, key revoked, …) is neither stored nor held against its sender: one of the two
//!   nodes may not have applied a governance record yet. After every change of the state the
//!   node asks its peers for their heads again and fetches what it refused before.
//!
//! **Architecture Invariant:** nothing received from a peer reaches the store without being
//! verified by `aidledger_spec::Verifier` (the governance state's current one) and placed by
//! the writer.

pub mod addrs;
pub mod behaviour;
pub mod identity;
pub mod probe;
mod service;
pub mod status;
pub mod sync;
pub mod tasks;
pub mod wire;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::behaviour::Topics;
use self::service::{Service, ServiceParts};
use self::status::{NetworkStatus, SharedStatus};
use crate::checkpoints::Checkpoints;
use crate::governance::Governance;
use crate::witnessed::Witnessed;
use crate::writer::Writer;
use aidledger_store::Store;

/// How long starting the listeners may take.
pub const LISTEN_TIMEOUT_MS: u64 = 10_000;
/// Most listen addresses and most bootstrap peers.
pub const ADDRESSES_MAX: usize = 64;

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The transport could not be built.
    #[error("cannot build the libp2p transport: {0}")]
    Transport(String),
    /// Gossipsub refused its configuration.
    #[error("cannot configure gossip: {0}")]
    Gossip(String),
    /// A listen address could not be used.
    #[error("cannot listen on {addr}: {detail}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// What libp2p said.
        detail: String,
    },
    /// A bootstrap peer's address is not one the node can dial.
    #[error(
        "the bootstrap peer {addr} (--bootstrap, or bootstrap in a config file or the data \
         directory's config.json) cannot be dialled: {detail}; a peer is {}",
        addrs::TCP_FORMS
    )]
    Bootstrap {
        /// The address.
        addr: Multiaddr,
        /// Why not.
        detail: String,
    },
    /// Too many addresses.
    #[error("at most {ADDRESSES_MAX} listen addresses and {ADDRESSES_MAX} bootstrap peers")]
    TooManyAddresses,
}

/// How the node takes part in the network.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// The node's transport identity.
    pub keypair: Keypair,
    /// Where to listen (`/ip4/…/tcp/…`).
    pub listen: Vec<Multiaddr>,
    /// Peers to dial and to keep redialling while disconnected.
    pub bootstrap: Vec<Multiaddr>,
}

/// The running network task.
pub struct NetworkHandle {
    peer_id: PeerId,
    listen: Vec<Multiaddr>,
    status: SharedStatus,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl NetworkHandle {
    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The addresses it listens on (ports resolved).
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen
    }

    /// The status snapshot.
    pub fn status(&self) -> SharedStatus {
        self.status.clone()
    }

    /// Stops the network task and waits for it.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts the network: listeners bound (ports known) before it returns. Records are verified
/// under the current state of the writer's governance ([`Writer::governance`], the node's one
/// instance), and the peers let in follow that state.
pub async fn start(
    config: NetworkConfig,
    store: Arc<Store>,
    writer: Arc<Writer>,
) -> Result<NetworkHandle, NetworkError> {
    let witnessed = Arc::new(Witnessed::new(store.clone(), writer.governance().clone()));
    let checkpoints = Arc::new(Checkpoints::new(
        store.reader(),
        writer.org().to_owned(),
        writer.clone(),
    ));
    start_with_witnessed(config, store, writer, witnessed, checkpoints).await
}

/// [`start`], gossiping and syncing cosigned checkpoints and split-view proofs through the
/// node's `witnessed` collector (the one its witness poller and HTTP routes share), and
/// gossiping the node's own organisation's checkpoint from `checkpoints` (the publisher its
/// HTTP routes share) whenever its chain has grown.
pub async fn start_with_witnessed(
    config: NetworkConfig,
    store: Arc<Store>,
    writer: Arc<Writer>,
    witnessed: Arc<Witnessed>,
    checkpoints: Arc<Checkpoints>,
) -> Result<NetworkHandle, NetworkError> {
    let governance: Arc<Governance> = writer.governance().clone();
    let topics = Topics::new(store.network_id());
    let members = identity::allowed_peers(&governance.current().derivation.authority);
    let peer_id = config.keypair.public().to_peer_id();
    if !members.contains_key(&peer_id) {
        // A member being added (or whose node key is being replaced) dials the members anyway:
        // they let it in once they have applied the change.
        let why = if identity::member_peers(store.genesis()).contains_key(&peer_id) {
            "was listed in the genesis' node_keys but the governance has removed it"
        } else {
            "is not among the genesis' node_keys, and the governance has not added it (yet)"
        };
        crate::log_line!(
            "aidledger-node: warning: this node's key (peer id {peer_id}) {why}; members refuse its connections until they apply a change that lists it (the node keeps dialling its bootstrap peers)"
        );
    }
    let mut swarm = behaviour::build_swarm(config.keypair, &topics, members.keys().copied())?;
    // Checked again just before the listeners are bound (see `addrs::check_listen`).
    addrs::check(&config.listen, &config.bootstrap)?;
    let mut listeners = HashSet::new();
    for addr in &config.listen {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|error| listen_error(addr.clone(), format!("{error:?}")))?;
        listeners.insert(id);
    }
    let listen = wait_for_listeners(&mut swarm, listeners).await?;
    let status = SharedStatus::new(std::sync::RwLock::new(NetworkStatus {
        peer_id: peer_id.to_string(),
        listen: listen.iter().map(ToString::to_string).collect(),
        ..NetworkStatus::default()
    }));
    let service = Service::new(ServiceParts {
        swarm,
        store,
        writer,
        governance,
        topics,
        members,
        peer_id,
        bootstrap: config.bootstrap,
        status: status.clone(),
        witnessed,
        checkpoints,
    });
    let (shutdown, shutdown_receiver) = watch::channel(false);
    let task = tokio::spawn(service.run(shutdown_receiver));
    Ok(NetworkHandle {
        peer_id,
        listen,
        status,
        shutdown,
        task,
    })
}

/// A listen address that could not be used, in words an operator acts on: libp2p reports a
/// port in use as a nested debug rendering of the OS error.
fn listen_error(addr: Multiaddr, detail: String) -> NetworkError {
    let in_use = [
        "AddrInUse",
        "Address already in use",
        "Address in use",
        "os error 98",
    ]
    .iter()
    .any(|sign| detail.contains(sign));
    let detail = if in_use {
        "the address is already in use (another node, or another program; choose another port with --listen)".to_owned()
    } else {
        detail
    };
    NetworkError::Listen { addr, detail }
}

/// Drives the swarm until every listener reported an address.
async fn wait_for_listeners(
    swarm: &mut libp2p::Swarm<behaviour::Behaviour>,
    mut waiting: HashSet<libp2p::core::transport::ListenerId>,
) -> Result<Vec<Multiaddr>, NetworkError> {
    let mut listen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(LISTEN_TIMEOUT_MS);
    while !waiting.is_empty() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some()).await;
        match event {
            Ok(SwarmEvent::NewListenAddr {
                listener_id,
                address,
            }) => {
                waiting.remove(&listener_id);
                listen.push(address);
            }
            Ok(SwarmEvent::ListenerClosed {
                addresses, reason, ..
            }) => {
                return Err(listen_error(
                    addresses.first().cloned().unwrap_or(Multiaddr::empty()),
                    format!("{reason:?}"),
                ))
            }
            Ok(_) => {}
            Err(_) => {
                return Err(NetworkError::Listen {
                    addr: Multiaddr::empty(),
                    detail: "no address reported in time".into(),
                })
            }
        }
    }
    Ok(listen)
}
