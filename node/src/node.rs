//! The node's life: prepare the data directory, open the store, start the writer, the network
//! and both HTTP listeners, publish `endpoints.json`, and shut down cleanly.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aidledger_spec::Genesis;
use ed25519_dalek::SigningKey;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::governance::Governance;
use crate::network::{self, NetworkConfig, NetworkError, NetworkHandle};
use crate::writer::{SigningKeys, Writer};
use crate::{http, limits, public, submit};
use aidledger_store::datadir::{
    self, DirLock, Endpoints, KeyFileError, LockError, ENDPOINTS_FILE, GENESIS_FILE, KEY_FILE,
    PRIVATE_FILE_MODE, TOKEN_FILE,
};
use aidledger_store::{OpenError, OpenMode, Store, StoreError};

/// How long a shutdown waits for open HTTP requests (an export, a slow client) before it
/// stops serving them; queued submissions are still committed after this.
pub const SHUTDOWN_GRACE_MS: u64 = 10_000;
/// Bytes of randomness in the submit token.
pub const TOKEN_BYTES: usize = 32;
/// Mode of `genesis.bin`, `org.id` and `endpoints.json`: no secrets, but the node writes every
/// file 0600 (docs/INTERFACES.md), so that a umask never decides who reads the directory.
const PUBLIC_FILE_MODE: u32 = PRIVATE_FILE_MODE;
/// The node's transport key in the data directory (same format as `org.key`).
pub const NODE_KEY_FILE: &str = "node.key";
/// Where a node listens for peers when no address is given.
pub const DEFAULT_LISTEN: &str = "/ip4/127.0.0.1/tcp/0";

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

/// A started node.
pub struct RunningNode {
    data_dir: PathBuf,
    node_key: aidledger_spec::PublicKey,
    org: String,
    token: String,
    endpoints: Endpoints,
    store: Arc<Store>,
    governance: Arc<Governance>,
    writer: Arc<Writer>,
    network: NetworkHandle,
    shutdown: watch::Sender<bool>,
    servers: Vec<JoinHandle<io::Result<()>>>,
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

/// Starts a node with the default network options: everything up to both listeners serving
/// and `endpoints.json` written.
pub async fn start(config: NodeConfig) -> Result<RunningNode, StartError> {
    start_with_network(config, NetworkOptions::default()).await
}

/// Starts a node that joins the network as `options` say.
pub async fn start_with_network(
    config: NodeConfig,
    options: NetworkOptions,
) -> Result<RunningNode, StartError> {
    if !config.submit_addr.ip().is_loopback() {
        return Err(StartError::Config(format!(
            "--submit-addr {} is not a loopback address: the submit API must not be reachable from other machines",
            config.submit_addr
        )));
    }
    // Before any descriptor is needed: idle clients must not starve the store's sync (issue 17).
    limits::raise_open_files_limit().map_err(|source| StartError::Io {
        what: "read the open-files limit (RLIMIT_NOFILE)".into(),
        source,
    })?;
    let (dir, submit_addr, public_addr) = (
        config.data_dir.clone(),
        config.submit_addr,
        config.public_addr,
    );
    // Opening the store reads and may recover the whole sled log: not work for an async thread.
    let node_key_path = options.node_key.clone();
    let keep_retired_keys = options.keep_retired_keys;
    let (opened, node_key) = tokio::task::spawn_blocking(move || {
        let opened = open_data_dir(&config, keep_retired_keys)?;
        let node_key = node_key(&config.data_dir, node_key_path.as_deref())?;
        Ok::<_, StartError>((opened, node_key))
    })
    .await
    .map_err(|error| StartError::Config(format!("startup failed: {error}")))??;
    let listen = if options.listen.is_empty() {
        vec![DEFAULT_LISTEN
            .parse()
            .map_err(|error| StartError::Config(format!("{DEFAULT_LISTEN}: {error}")))?]
    } else {
        options.listen
    };
    let network = NetworkConfig {
        keypair: network::identity::keypair(&node_key),
        listen,
        bootstrap: options.bootstrap,
    };
    let node_key = datadir::public_key(&node_key);
    serve(dir, opened, (network, node_key), (submit_addr, public_addr)).await
}

/// The directory's transport key: copied in from `given` on first use, checked against it
/// later, or made new when there is none.
fn node_key(dir: &Path, given: Option<&Path>) -> Result<SigningKey, StartError> {
    let path = dir.join(NODE_KEY_FILE);
    if path.exists() {
        let held = datadir::read_private_key_file(&path)?;
        if let Some(given) = given {
            if datadir::read_key_file(given)?.to_bytes() != held.to_bytes() {
                return Err(StartError::Config(format!(
                    "--node-key {} differs from the node key {} already holds",
                    given.display(),
                    dir.display()
                )));
            }
        }
        return Ok(held);
    }
    let key = match given {
        Some(given) => datadir::read_key_file(given)?,
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|error| StartError::Io {
                what: "draw a random node key".into(),
                source: io::Error::other(error.to_string()),
            })?;
            SigningKey::from_bytes(&seed)
        }
    };
    write(
        &path,
        datadir::key_file_text(&key).as_bytes(),
        PRIVATE_FILE_MODE,
    )?;
    Ok(key)
}

/// A data directory opened for a node: its store, governance state, organisation and keys.
struct Opened {
    store: Arc<Store>,
    governance: Arc<Governance>,
    org: String,
    keys: Vec<SigningKey>,
    keep_retired_keys: bool,
}

/// Locks the directory, copies or checks the genesis, organisation and key, opens the store
/// and derives the governance state.
fn open_data_dir(config: &NodeConfig, keep_retired_keys: bool) -> Result<Opened, StartError> {
    let dir = &config.data_dir;
    let first_start = !dir.join(GENESIS_FILE).exists();
    if first_start {
        if config.genesis.is_none() || config.org.is_none() || config.key.is_none() {
            return Err(StartError::Config(format!(
                "{} is not an initialised node directory: the first start needs --genesis, --org and --key",
                dir.display()
            )));
        }
        datadir::create_private_dir(dir).map_err(|source| StartError::Io {
            what: format!("create {}", dir.display()),
            source,
        })?;
    } else if !dir.is_dir() {
        return Err(StartError::Config(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let lock = DirLock::acquire(dir)?;
    if first_start {
        initialise(config)?;
    } else {
        check_genesis_flag(config)?;
    }
    // sled would create store/ under the umask; it holds every record, so it is made 0700.
    let store_dir = dir.join(datadir::STORE_DIR);
    datadir::create_private_dir(&store_dir).map_err(|source| StartError::Io {
        what: format!("create {}", store_dir.display()),
        source,
    })?;
    // The store first: it checks genesis.bin, the most telling problem of a damaged directory.
    let store = Arc::new(Store::open_with_lock(
        dir,
        lock,
        OpenMode::CreateIfMissing,
        crate::ExplorerIndex,
    )?);
    report_start_state(store.start_state());
    let governance = Arc::new(Governance::load(store.clone()).map_err(StartError::Governance)?);
    let view = governance.current();
    let authority = view.authority();
    let held = datadir::read_private_key_file(&dir.join(KEY_FILE))?;
    let held_public = datadir::public_key(&held);
    let org = match datadir::read_org_file(dir).map_err(|source| StartError::Io {
        what: format!("read {}", dir.join(datadir::ORG_FILE).display()),
        source,
    })? {
        Some(org) => org,
        // A directory made before org.id existed: its key names its organisation.
        None => {
            let org = authority.key_owner(&held_public).ok_or_else(|| {
                StartError::Config(format!(
                    "the key in {} is not a signing key of any member",
                    dir.join(KEY_FILE).display()
                ))
            })?;
            datadir::write_org_file(dir, org).map_err(|source| StartError::Io {
                what: format!("write {}", dir.join(datadir::ORG_FILE).display()),
                source,
            })?;
            org.to_owned()
        }
    };
    if let Some(wanted) = &config.org {
        if *wanted != org {
            return Err(StartError::Config(format!(
                "--org {wanted} does not match {}: its key is {org}'s",
                dir.display()
            )));
        }
    }
    if let Some(key_path) = &config.key {
        let given = datadir::read_key_file(key_path)?;
        let given_public = datadir::public_key(&given);
        let already_held = datadir::read_signing_keys(dir)?
            .iter()
            .any(|key| datadir::public_key(key) == given_public);
        if !already_held {
            // Another member's key is a mistake; a key of nobody (yet) or of this member is a
            // replacement (after a revocation): it becomes org.key, the old one is kept.
            if let Some(owner) = authority
                .key_owner(&given_public)
                .filter(|owner| *owner != org)
            {
                return Err(StartError::Config(format!(
                    "--key {} differs from the key {} already holds (and is {owner}'s)",
                    key_path.display(),
                    dir.display()
                )));
            }
            datadir::install_signing_key(dir, &given, &held).map_err(|source| StartError::Io {
                what: format!("install --key {} as {}", key_path.display(), KEY_FILE),
                source,
            })?;
            eprintln!(
                "aidledger-node: --key {} is now {}'s key in {}; the old key {held_public} is kept as {}{held_public}",
                key_path.display(),
                org,
                dir.display(),
                datadir::KEY_BACKUP_PREFIX
            );
        }
    }
    if !keep_retired_keys {
        remove_retired_keys(dir, &store, authority, &org)?;
    }
    let keys = datadir::read_signing_keys(dir)?;
    drop(view);
    Ok(Opened {
        store,
        governance,
        org,
        keys,
        keep_retired_keys,
    })
}

/// Removes the files of keys that can sign nothing from the chain's next position on: left by
/// a node stopped between a rotation and its removal, or by a version that kept every key.
fn remove_retired_keys(
    dir: &Path,
    store: &Store,
    authority: &aidledger_spec::governance::Authority,
    org: &str,
) -> Result<(), StartError> {
    let head = store
        .head(org)
        .map_err(|error| StartError::Config(format!("cannot read {org}'s head: {error}")))?;
    let (next_seq, _) = aidledger_store::Head::next(head);
    let removed = datadir::remove_retired_keys(dir, authority, org, next_seq)
        .map_err(|error| StartError::Config(error.to_string()))?;
    for key in removed {
        eprintln!("aidledger-node: removed the retired signing key {key} ({}{key}): it can sign no position of {org}'s chain from seq {next_seq} on", datadir::KEY_BACKUP_PREFIX);
    }
    Ok(())
}

/// Says on stderr what the open found about the last run: an unclean end, and any chain tail
/// discarded because a record below its head did not survive it.
fn report_start_state(state: &aidledger_store::StartState) {
    if !state.unclean {
        return;
    }
    eprintln!(
        "aidledger-node: the last run did not shut down cleanly; checked the last {} records of every chain",
        aidledger_store::limits::TAIL_CHECK_RECORDS
    );
    for tail in &state.discarded {
        eprintln!(
            "aidledger-node: {} seq {} did not survive (a record lost with its blob file); its chain goes back from seq {} to seq {}: those records were never durable, so never acknowledged nor served to peers",
            tail.author,
            tail.from_seq,
            tail.old_head_seq,
            tail.from_seq as i128 - 1
        );
    }
}

/// First start: checks the genesis, org and key, then copies the key and (last, because its
/// presence marks an initialised directory) the genesis into the directory.
fn initialise(config: &NodeConfig) -> Result<(), StartError> {
    let (Some(genesis_path), Some(org), Some(key_path)) =
        (&config.genesis, &config.org, &config.key)
    else {
        return Err(StartError::Config(
            "the first start needs --genesis, --org and --key".into(),
        ));
    };
    let genesis_bytes = std::fs::read(genesis_path).map_err(|source| StartError::Io {
        what: format!("read {}", genesis_path.display()),
        source,
    })?;
    let genesis = Genesis::decode(&genesis_bytes).map_err(|error| {
        StartError::Config(format!(
            "{} is not a valid genesis: {error}",
            genesis_path.display()
        ))
    })?;
    let key = datadir::read_key_file(key_path)?;
    aidledger_spec::text::check_org_id("--org", org)
        .map_err(|error| StartError::Config(error.to_string()))?;
    // A key that the genesis does not list is allowed: the organisation may be a member added
    // by governance, or continue with a replacement key; the node signs once the network's
    // authority grants the key. Another member's key is always a mistake.
    let public = datadir::public_key(&key);
    if let Some(owner) = owner_of_key(&genesis, &key).filter(|owner| owner != org) {
        return Err(StartError::Config(match genesis.member(org) {
            Some(_) => format!(
                "the key in {} ({public}) is not one of {org}'s signing keys in the genesis: it is {owner}'s",
                key_path.display(),
            ),
            None => format!(
                "--org {org} is not a member of the network {:?} in its genesis, and the key in {} is {owner}'s",
                genesis.name,
                key_path.display(),
            ),
        }));
    }
    let dir = &config.data_dir;
    write(
        &dir.join(KEY_FILE),
        datadir::key_file_text(&key).as_bytes(),
        PRIVATE_FILE_MODE,
    )?;
    write(
        &dir.join(datadir::ORG_FILE),
        format!("{org}\n").as_bytes(),
        PUBLIC_FILE_MODE,
    )?;
    write(&dir.join(GENESIS_FILE), &genesis_bytes, PUBLIC_FILE_MODE)?;
    Ok(())
}

/// Later starts: a genesis given again must match the directory's.
fn check_genesis_flag(config: &NodeConfig) -> Result<(), StartError> {
    let dir = &config.data_dir;
    if let Some(genesis_path) = &config.genesis {
        let given = std::fs::read(genesis_path).map_err(|source| StartError::Io {
            what: format!("read {}", genesis_path.display()),
            source,
        })?;
        let held = std::fs::read(dir.join(GENESIS_FILE)).map_err(|source| StartError::Io {
            what: format!("read {}", dir.join(GENESIS_FILE).display()),
            source,
        })?;
        if given != held {
            return Err(StartError::Config(format!(
                "--genesis {} differs from the genesis {} already holds",
                genesis_path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// The member whose signing keys include `key`.
fn owner_of_key(genesis: &Genesis, key: &SigningKey) -> Option<String> {
    let public_key = datadir::public_key(key);
    genesis
        .members
        .iter()
        .find(|member| member.signing_keys.contains(&public_key))
        .map(|member| member.id.clone())
}

fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StartError> {
    datadir::write_file_atomically(path, bytes, mode).map_err(|source| StartError::Io {
        what: format!("write {}", path.display()),
        source,
    })
}

/// A fresh token: [`TOKEN_BYTES`] random bytes, hex.
fn new_token() -> Result<String, StartError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| StartError::Io {
        what: "draw a random token".into(),
        source: io::Error::other(error.to_string()),
    })?;
    Ok(hex::encode(bytes))
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| match source.kind() {
            io::ErrorKind::AddrInUse => StartError::AddressInUse { addr },
            _ => StartError::Bind { addr, source },
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, local))
}

async fn serve(
    dir: PathBuf,
    opened: Opened,
    (network, node_key): (NetworkConfig, aidledger_spec::PublicKey),
    (submit_addr, public_addr): (SocketAddr, SocketAddr),
) -> Result<RunningNode, StartError> {
    let Opened {
        store,
        governance,
        org,
        keys,
        keep_retired_keys,
    } = opened;
    let token = new_token()?;
    write(
        &dir.join(TOKEN_FILE),
        format!("{token}\n").as_bytes(),
        PRIVATE_FILE_MODE,
    )?;
    let keys = SigningKeys {
        dir: Some(dir.clone()),
        keys,
    };
    let writer = Writer::start(store.clone(), governance.clone(), org.clone(), keys)
        .map_err(StartError::Writer)?;
    let writer = Arc::new(if keep_retired_keys {
        writer
    } else {
        writer.removing_retired_keys(dir.clone())
    });
    let network = network::start(network, store.clone(), writer.clone()).await?;
    let (submit_listener, submit_local) = bind(submit_addr).await?;
    let (public_listener, public_local) = bind(public_addr).await?;
    let endpoints = Endpoints {
        submit: format!("http://{submit_local}"),
        public: format!("http://{public_local}"),
        pid: std::process::id(),
    };
    let endpoints_json = serde_json::to_vec(&endpoints).map_err(|error| StartError::Io {
        what: "encode endpoints.json".into(),
        source: io::Error::other(error),
    })?;
    write(&dir.join(ENDPOINTS_FILE), &endpoints_json, PUBLIC_FILE_MODE)?;
    let submit_state = Arc::new(submit::SubmitState {
        store: store.clone(),
        governance: governance.clone(),
        writer: writer.clone(),
        org: org.clone(),
        token: token.clone(),
        pool: submit::SubmitState::pool().map_err(|source| StartError::Io {
            what: "start the submit API's threads".into(),
            source,
        })?,
    });
    let (shutdown, shutdown_receiver) = watch::channel(false);
    let servers = vec![
        http::spawn(
            submit_listener,
            submit::router(submit_state),
            limits::SUBMIT_CONNECTIONS_MAX,
            shutdown_receiver.clone(),
        ),
        http::spawn(
            public_listener,
            network::status::router(store.clone(), writer.clone(), org.clone(), network.status())
                .merge(public::router_with_governance(
                    store.clone(),
                    governance.clone(),
                )),
            limits::PUBLIC_CONNECTIONS_MAX,
            shutdown_receiver,
        ),
    ];
    Ok(RunningNode {
        data_dir: dir,
        node_key,
        org,
        token,
        endpoints,
        store,
        governance,
        writer,
        network,
        shutdown,
        servers,
    })
}

/// Scheduler ticks between two polls of the I/O driver while tasks are ready (tokio's default
/// is 61). The node's tasks (pages, submissions, network events) each finish in well under a
/// millisecond, the case for which tokio's documentation advises a larger interval: fewer
/// `epoll` round trips under load. Measured on the explorer bench (BENCHMARKS.md): record page
/// p99 9.3–11.7 ms against 10.9–13.6 ms with the default, at higher throughput.
pub const RUNTIME_EVENT_INTERVAL_TICKS: u32 = 250;

/// The multi-threaded runtime the daemon runs on (a worker per core).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(limits::BLOCKING_THREADS_MAX)
        .event_interval(RUNTIME_EVENT_INTERVAL_TICKS)
        .enable_all()
        .build()
}
