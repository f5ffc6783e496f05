//! What a node is started with ([`NodeConfig`], [`NetworkOptions`]), and why a start or a
//! shutdown fails ([`StartError`], [`ShutdownError`]).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::limits::{STORE_CACHE_BYTES, STORE_CACHE_BYTES_MAX, STORE_CACHE_BYTES_MIN};
use crate::network::NetworkError;
use aidledger_store::datadir::{KeyFileError, LockError};
use aidledger_store::{OpenError, StoreError};

/// How a node takes part in the network (beside [`NodeConfig`], so that single-node callers
/// keep their configuration).
#[derive(Clone, Debug, Default)]
pub struct NetworkOptions {
    /// The transport key file to copy in (first start), or to check against. Without one, the
    /// directory's `node.key` is used, or a new one is made (not listed in any genesis).
    pub node_key: Option<PathBuf>,
    /// Where to listen for peers; empty means [`DEFAULT_LISTEN`].
    pub listen: Vec<libp2p::Multiaddr>,
    /// Peers to dial and keep redialling.
    pub bootstrap: Vec<libp2p::Multiaddr>,
    /// Keep the files of signing keys that can sign nothing any more (`org.key.<hex>` of a
    /// rotated-out or revoked key); by default they are removed at start and after a rotation.
    pub keep_retired_keys: bool,
    /// Witnesses to collect cosigned checkpoints and split-view proofs from (base URLs).
    pub witnesses: Vec<String>,
    /// Milliseconds between two polls of the witnesses (`None`: `WITNESS_POLL_INTERVAL_MS`).
    pub witness_poll_ms: Option<u64>,
}

/// How to run a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The genesis file to copy in (first start), or to check against.
    pub genesis: Option<PathBuf>,
    /// The organisation (first start), or to check against.
    pub org: Option<String>,
    /// The key file to copy in (first start), or to check against.
    pub key: Option<PathBuf>,
    /// Where the submit API listens; must be a loopback address.
    pub submit_addr: SocketAddr,
    /// Where the public API listens.
    pub public_addr: SocketAddr,
    /// The bound of the store's page cache in MiB (`None`: `STORE_CACHE_BYTES`, 256 MiB); at
    /// least `STORE_CACHE_BYTES_MIN` and at most `STORE_CACHE_BYTES_MAX`.
    pub store_cache_mib: Option<u64>,
}

impl NodeConfig {
    /// The store's page cache in bytes, checked against its bounds.
    pub fn store_cache_bytes(&self) -> Result<u64, StartError> {
        let Some(mib) = self.store_cache_mib else {
            return Ok(STORE_CACHE_BYTES);
        };
        let (min, max) = (STORE_CACHE_BYTES_MIN >> 20, STORE_CACHE_BYTES_MAX >> 20);
        if (min..=max).contains(&mib) {
            Ok(mib << 20)
        } else {
            // The value may come from the flag, a config file or the saved config.json.
            Err(StartError::Config(format!(
                "the store's cache (--store-cache-mib, or store_cache_mib in a config file) is \
                 {mib} MiB: it must be between {min} and {max} MiB"
            )))
        }
    }
}

/// Why a node could not start. Each is a problem of configuration or of the data directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The flags do not make sense together or do not match the data directory.
    #[error("{0}")]
    Config(String),
    /// The data directory is locked or cannot be locked.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The store could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A key file could not be read.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// A file of the data directory could not be written.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the OS said.
        source: io::Error,
    },
    /// Another process listens on the address.
    #[error(
        "address {addr} is already in use (another node, or another program; choose another port)"
    )]
    AddressInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The writer could not start.
    #[error("cannot start the writer: {0}")]
    Writer(StoreError),
    /// The governance state could not be derived from the store, or applied to it.
    #[error("cannot derive the governance state: {0}")]
    Governance(StoreError),
    /// The network could not start.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// Why a shutdown was not clean.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// The final flush failed: the last acknowledged records were synced when acknowledged,
    /// but the store's state after them is unknown.
    #[error("the final flush of the store failed: {0}")]
    Store(#[from] StoreError),
    /// `endpoints.json` could not be removed.
    #[error("cannot remove {path}: {source}")]
    Endpoints {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}
