//! A started node ([`RunningNode`]): what callers read of it, and its clean shutdown.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{ShutdownError, SHUTDOWN_GRACE_MS};
use crate::governance::Governance;
use crate::network::NetworkHandle;
use crate::witnessed::Witnessed;
use crate::writer::Writer;
use aidledger_store::datadir::{self, Endpoints, ENDPOINTS_FILE};
use aidledger_store::{Store, StoreError};

/// A thread of the node that ends when its sender sends or is dropped.
pub(super) type StoppableThread = (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>);

/// A started node.
pub struct RunningNode {
    pub(super) data_dir: PathBuf,
    pub(super) node_key: aidledger_spec::PublicKey,
    pub(super) org: String,
    pub(super) token: String,
    pub(super) endpoints: Endpoints,
    pub(super) store: Arc<Store>,
    pub(super) governance: Arc<Governance>,
    pub(super) writer: Arc<Writer>,
    pub(super) network: NetworkHandle,
    pub(super) witnessed: Arc<Witnessed>,
    /// The poller of witnesses: dropping the sender stops it.
    pub(super) witness_poll: Option<StoppableThread>,
    /// The explorer index's follower (`explorer::follower`): dropping the sender stops it.
    pub(super) index_follower: StoppableThread,
    pub(super) shutdown: watch::Sender<bool>,
    pub(super) servers: Vec<JoinHandle<io::Result<()>>>,
}

impl RunningNode {
    /// The submit API's base URL.
    pub fn submit_url(&self) -> &str {
        &self.endpoints.submit
    }

    /// The public API's base URL.
    pub fn public_url(&self) -> &str {
        &self.endpoints.public
    }

    /// The store (for in-process callers such as tests).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The bearer token of the submit API.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The node's organisation.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The node's libp2p peer id.
    pub fn peer_id(&self) -> libp2p::PeerId {
        self.network.peer_id()
    }

    /// The node's collector of cosigned checkpoints and split-view proofs.
    pub fn witnessed(&self) -> &Arc<Witnessed> {
        &self.witnessed
    }

    /// The node's governance state.
    pub fn governance(&self) -> &Arc<Governance> {
        &self.governance
    }

    /// Where the node listens for peers.
    pub fn p2p_addrs(&self) -> &[libp2p::Multiaddr] {
        self.network.listen_addrs()
    }

    /// The public key of the node's transport key (`DIR/node.key`), as `node_keys` lists it.
    pub fn node_key(&self) -> aidledger_spec::PublicKey {
        self.node_key
    }

    /// The key the network's authority lets sign this organisation's next record: the one
    /// the node signs with, if it holds it (`None`: no key may, e.g. a removed member).
    pub fn signing_key(&self) -> Option<aidledger_spec::PublicKey> {
        let head = self.store.head(&self.org).ok()?;
        let (next_seq, _) = aidledger_store::Head::next(head);
        let view = self.governance.current();
        crate::network::status::signing_key(view.authority(), &self.org, next_seq)
    }

    /// The network id (the hash of the genesis).
    pub fn network_id(&self) -> aidledger_spec::NetworkId {
        self.store.network_id()
    }

    /// Why the writer has stopped taking records (a storage failure), or `None`.
    pub fn writer_failure(&self) -> Option<String> {
        self.writer.failure()
    }

    /// Stops serving, commits every queued submission, flushes, removes `endpoints.json` and
    /// releases the data directory's lock.
    pub async fn shutdown(self) -> Result<(), ShutdownError> {
        // Receivers may all be gone if the servers already ended; that is the goal anyway.
        let _ = self.shutdown.send(true);
        self.network.stop().await;
        if let Some((stop, thread)) = self.witness_poll {
            drop(stop);
            // A round in progress ends within its requests' timeout.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        // A chunk in progress ends with its transaction (a few tens of milliseconds).
        let (stop, thread) = self.index_follower;
        drop(stop);
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        let grace = Duration::from_millis(SHUTDOWN_GRACE_MS);
        for server in self.servers {
            let abort = server.abort_handle();
            if tokio::time::timeout(grace, server).await.is_err() {
                abort.abort();
            }
        }
        self.writer.stop().await;
        let store = self.store.clone();
        // Marks the store closed: the next start is a clean one (`store::recovery`).
        let flushed = tokio::task::spawn_blocking(move || store.close_cleanly()).await;
        flushed.map_err(|error| StoreError::Io(io::Error::other(error)))??;
        let path = self.data_dir.join(ENDPOINTS_FILE);
        std::fs::remove_file(&path)
            .and_then(|()| datadir::sync_parent_dir(&path))
            .map_err(|source| ShutdownError::Endpoints { path, source })?;
        Ok(())
    }
}
