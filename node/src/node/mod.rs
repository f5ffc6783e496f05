//! The node's life: prepare the data directory, open the store, start the writer, the network
//! and both HTTP listeners, publish `endpoints.json`, and shut down cleanly.
//!
//! This file holds the start and the runtime; `config` what a node is started with and its
//! errors, `data_dir` the directory's preparation and the store's opening, `serve` the
//! listeners and services that make a [`RunningNode`], and `running` the running node and its
//! shutdown.

use self::data_dir::{node_key, open_data_dir};
use self::serve::serve;
use crate::limits;
use crate::network::{self, NetworkConfig};
use aidledger_store::datadir::{self, PRIVATE_FILE_MODE};

mod config;
mod data_dir;
mod running;
mod serve;

pub use config::{NetworkOptions, NodeConfig, ShutdownError, StartError};
pub use running::RunningNode;

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
    // Before anything is made or locked: a wrong address leaves the directory as it was (the
    // listen ports are probed once the directory is locked: `serve`).
    let listen = if options.listen.is_empty() {
        vec![DEFAULT_LISTEN
            .parse()
            .map_err(|error| StartError::Config(format!("{DEFAULT_LISTEN}: {error}")))?]
    } else {
        options.listen
    };
    network::addrs::check_forms(&listen, &options.bootstrap)?;
    for witness in &options.witnesses {
        crate::witnessed::poll::check_witness_url(witness).map_err(|why| {
            StartError::Config(format!(
                "the witness {witness:?} (--witness, or witness in a config file or the data \
                 directory's config.json) {why}: a witness is {}",
                crate::witnessed::poll::WITNESS_URL_FORM
            ))
        })?;
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
    let witnesses = serve::WitnessPolling {
        witnesses: options.witnesses.clone(),
        interval: std::time::Duration::from_millis(
            options
                .witness_poll_ms
                .unwrap_or(crate::witnessed::poll::WITNESS_POLL_INTERVAL_MS),
        ),
    };
    // A first start refused part-way leaves what it wrote (never removed: a path that did not
    // exist a moment ago may be another start's by now); run again with the same flags, it
    // goes on from there (`genesis.bin`, written last, says whether it got that far).
    let (opened, node_key) = tokio::task::spawn_blocking(move || {
        let opened = open_data_dir(&config, keep_retired_keys)?;
        let node_key = node_key(&config.data_dir, node_key_path.as_deref())?;
        Ok::<_, StartError>((opened, node_key))
    })
    .await
    .map_err(|error| StartError::Config(format!("startup failed: {error}")))??;
    let network = NetworkConfig {
        keypair: network::identity::keypair(&node_key),
        listen,
        bootstrap: options.bootstrap,
    };
    let node_key = datadir::public_key(&node_key);
    serve(
        dir,
        opened,
        (network, node_key),
        (submit_addr, public_addr),
        witnesses,
    )
    .await
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
