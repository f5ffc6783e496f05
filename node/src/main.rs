//! The `aidledger-node` daemon: flags, signals and exit codes over the `aidledger_node` library.
//!
//! Exit codes (docs/INTERFACES.md): 0 after a clean shutdown on SIGINT or SIGTERM; 1 when the
//! node stops after a storage failure (the writer had stopped taking records, or the final
//! flush failed: stderr says which; acknowledged records were durable when acknowledged); 2 when
//! it could not start (configuration, data directory, an address in use: one line on stderr).
//!
//! Settings come from flags, an optional JSON config file (`--config FILE`, keys named like the
//! flags with underscores) and the data directory's `config.json`, in that order of precedence.
//! The node saves the network and address settings it was started with in `DIR/config.json`, so
//! that a restart with only `--data-dir` listens on the same ports and dials the same peers.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aidledger_node::{NetworkOptions, NodeConfig, RunningNode};
use anyhow::Context;
use clap::Parser;
use libp2p::Multiaddr;
use tokio::signal::unix::{signal, SignalKind};

/// glibc's malloc spent ~18 % of the node's CPU in an import profile (sled allocates and frees
/// a node version per write); mimalloc takes most of that back. Its settings are in
/// `aidledger_node::process_memory`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code when the node could not start: bad configuration, an unusable data directory, an
/// address in use, no runtime.
const EXIT_CONFIG: u8 = 2;
/// Exit code when the node stopped after a storage failure.
const EXIT_STORAGE: u8 = 1;
/// The data directory's own settings file (docs/INTERFACES.md).
const SAVED_CONFIG_FILE: &str = "config.json";
/// The process umask: every file and directory the node (and sled) creates is its user's only.
const UMASK: rustix::fs::Mode = rustix::fs::Mode::from_bits_truncate(0o077);

/// Most bytes of a config file.
const CONFIG_SIZE_BYTES_MAX: u64 = 1024 * 1024;

/// Runs an aidledger node: stores the organisation's signed chain, replicates every member's
/// chain with the other member nodes, and serves them.
#[derive(Debug, Parser)]
#[command(
    name = "aidledger-node",
    version,
    after_help = "Exit codes: 0 clean shutdown (SIGINT or SIGTERM); 1 stopped after a storage \
failure (the writer had stopped taking records, or the final flush failed); 2 could not start \
(configuration, data directory, an address already in use)."
)]
struct Args {
    /// A JSON config file: {"data_dir","genesis","org","key","node_key","submit_addr",
    /// "public_addr","listen":[…],"bootstrap":[…],"witness":[…],"witness_poll_ms",
    /// "store_cache_mib"}; flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The node's data directory (here or in the config file).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The network's genesis file (first start; later starts check it matches).
    #[arg(long, value_name = "FILE")]
    genesis: Option<PathBuf>,
    /// The organisation this node signs for (first start).
    #[arg(long, value_name = "ORG")]
    org: Option<String>,
    /// The organisation's signing key file, hex of the 32-byte seed (first start).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The node's transport (libp2p) key file, same format as --key (first start; copied into
    /// DIR/node.key). Its public key must be in the genesis' node_keys for members to accept it.
    #[arg(long, value_name = "FILE")]
    node_key: Option<PathBuf>,
    /// Address of the submit API; must be loopback [default: 127.0.0.1:0].
    #[arg(long, value_name = "ADDR")]
    submit_addr: Option<SocketAddr>,
    /// Address of the public, read-only API [default: 127.0.0.1:0].
    #[arg(long, value_name = "ADDR")]
    public_addr: Option<SocketAddr>,
    /// Where to listen for peers, a multiaddr such as /ip4/0.0.0.0/tcp/4100 (repeatable)
    /// [default: /ip4/127.0.0.1/tcp/0].
    #[arg(long, value_name = "MULTIADDR")]
    listen: Vec<Multiaddr>,
    /// A peer to dial and keep redialling, e.g. /ip4/10.0.0.2/tcp/4100 (repeatable).
    #[arg(long, value_name = "MULTIADDR")]
    bootstrap: Vec<Multiaddr>,
    /// Keep the files of signing keys that can sign nothing any more (org.key.<hex> after a
    /// rotation or revocation); by default they are removed once the rotation is durable.
    #[arg(long)]
    keep_retired_keys: bool,
    /// A witness to collect cosigned checkpoints and split-view proofs from, its base URL
    /// (GET URL/api/witness) (repeatable).
    #[arg(long, value_name = "URL")]
    witness: Vec<String>,
    /// Milliseconds between two polls of the witnesses [default: 5000].
    #[arg(long, value_name = "MS")]
    witness_poll_ms: Option<u64>,
    /// The store's page cache in MiB, 16 to 65536 [default: 256]. Less memory for a small
    /// machine: a fresh node syncing 1,000,000 records peaked at 246–264 MiB with 16, 293–302
    /// with 32 and 674–684 with the default, 10–15 % slower (BENCHMARKS.md). A compaction after
    /// a redaction opens the store twice, so it may take twice this.
    #[arg(long, value_name = "MIB")]
    store_cache_mib: Option<u64>,
}

/// The config file's settings; each is optional. `DIR/config.json` holds the same keys, those
/// that [`ConfigFile::to_save`] keeps.
#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    genesis: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    submit_addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_addr: Option<SocketAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    listen: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bootstrap: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    keep_retired_keys: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    witness: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    witness_poll_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_cache_mib: Option<u64>,
}

impl ConfigFile {
    /// `self` where it says something, `under` elsewhere.
    fn over(self, under: ConfigFile) -> ConfigFile {
        let list = |top: Vec<String>, below: Vec<String>| if top.is_empty() { below } else { top };
        ConfigFile {
            data_dir: self.data_dir.or(under.data_dir),
            genesis: self.genesis.or(under.genesis),
            org: self.org.or(under.org),
            key: self.key.or(under.key),
            node_key: self.node_key.or(under.node_key),
            submit_addr: self.submit_addr.or(under.submit_addr),
            public_addr: self.public_addr.or(under.public_addr),
            listen: list(self.listen, under.listen),
            bootstrap: list(self.bootstrap, under.bootstrap),
            keep_retired_keys: self.keep_retired_keys || under.keep_retired_keys,
            witness: list(self.witness, under.witness),
            witness_poll_ms: self.witness_poll_ms.or(under.witness_poll_ms),
            store_cache_mib: self.store_cache_mib.or(under.store_cache_mib),
        }
    }

    /// What a later start with only `--data-dir` must keep: where the node listens, whom it
    /// dials, how it treats retired keys, and its store's cache. Files named at the first start
    /// are copied into the directory, so their paths are not kept.
    fn to_save(&self) -> ConfigFile {
        ConfigFile {
            submit_addr: self.submit_addr,
            public_addr: self.public_addr,
            listen: self.listen.clone(),
            bootstrap: self.bootstrap.clone(),
            keep_retired_keys: self.keep_retired_keys,
            witness: self.witness.clone(),
            witness_poll_ms: self.witness_poll_ms,
            store_cache_mib: self.store_cache_mib,
            ..ConfigFile::default()
        }
    }

    /// The flags as config settings.
    fn from_flags(args: &Args) -> ConfigFile {
        let addrs = |addrs: &[Multiaddr]| addrs.iter().map(ToString::to_string).collect();
        ConfigFile {
            data_dir: args.data_dir.clone(),
            genesis: args.genesis.clone(),
            org: args.org.clone(),
            key: args.key.clone(),
            node_key: args.node_key.clone(),
            submit_addr: args.submit_addr,
            public_addr: args.public_addr,
            listen: addrs(&args.listen),
            bootstrap: addrs(&args.bootstrap),
            keep_retired_keys: args.keep_retired_keys,
            witness: args.witness.clone(),
            witness_poll_ms: args.witness_poll_ms,
            store_cache_mib: args.store_cache_mib,
        }
    }
}

/// Lays the flags over the config file (if any), and both over the data directory's saved
/// settings; returns the node's settings and what to save once it has started.
fn settings(args: Args) -> anyhow::Result<(NodeConfig, NetworkOptions, ConfigFile)> {
    let given = match &args.config {
        Some(path) => ConfigFile::from_flags(&args).over(read_config(path)?),
        None => ConfigFile::from_flags(&args),
    };
    let data_dir = given.data_dir.clone().context(
        "say where the data directory is: --data-dir DIR, or data_dir in the config file",
    )?;
    let saved_path = data_dir.join(SAVED_CONFIG_FILE);
    let file = if saved_path.is_file() {
        given.over(read_config(&saved_path)?)
    } else {
        given
    };
    let save = file.to_save();
    let addrs = |file: Vec<String>, what: &str| {
        file.iter()
            .map(|text| {
                text.parse::<Multiaddr>().with_context(|| {
                    format!("{what} {text:?} in the config file is not a multiaddr")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()
    };
    let loopback_any = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = NodeConfig {
        data_dir,
        genesis: file.genesis,
        org: file.org,
        key: file.key,
        submit_addr: file.submit_addr.unwrap_or(loopback_any),
        public_addr: file.public_addr.unwrap_or(loopback_any),
        store_cache_mib: file.store_cache_mib,
    };
    let network = NetworkOptions {
        node_key: file.node_key,
        listen: addrs(file.listen, "listen")?,
        bootstrap: addrs(file.bootstrap, "bootstrap")?,
        keep_retired_keys: file.keep_retired_keys,
        witnesses: file.witness,
        witness_poll_ms: file.witness_poll_ms,
    };
    Ok((config, network, save))
}

/// Writes `DIR/config.json` (mode 0600, atomically) when it would change.
fn save_config(data_dir: &Path, save: &ConfigFile) -> anyhow::Result<()> {
    let path = data_dir.join(SAVED_CONFIG_FILE);
    let mut text = serde_json::to_string_pretty(save).context("cannot encode the settings")?;
    text.push('\n');
    if std::fs::read_to_string(&path).is_ok_and(|held| held == text) {
        return Ok(());
    }
    aidledger_store::datadir::write_file_atomically(
        &path,
        text.as_bytes(),
        aidledger_store::datadir::PRIVATE_FILE_MODE,
    )
    .with_context(|| format!("cannot save the settings in {}", path.display()))
}

fn read_config(path: &Path) -> anyhow::Result<ConfigFile> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    let mut text = String::new();
    file.take(CONFIG_SIZE_BYTES_MAX)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("the config file {} is not valid", path.display()))
}

fn main() -> ExitCode {
    aidledger_node::process_memory::configure();
    // Set before any thread exists, so every file is created under it.
    rustix::process::umask(UMASK);
    // clap exits with 2 on bad arguments, as the contract wants.
    let args = Args::parse();
    let runtime = match aidledger_node::node::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            aidledger_node::log_line!("aidledger-node: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    // Signals are registered before starting, so that a signal during startup is not lost.
    let signals = match Signals::register() {
        Ok(signals) => signals,
        Err(error) => {
            aidledger_node::log_line!("aidledger-node: {error:#}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let (config, network, save) = match settings(args) {
        Ok(settings) => settings,
        Err(error) => {
            aidledger_node::log_line!("aidledger-node: {error:#}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let data_dir = config.data_dir.clone();
    let node = match aidledger_node::start_with_network(config, network).await {
        Ok(node) => node,
        Err(error) => {
            aidledger_node::log_line!("aidledger-node: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Saved only once the node has started with them: a typo in a flag is not remembered.
    if let Err(error) = save_config(&data_dir, &save) {
        aidledger_node::log_line!("aidledger-node: warning: {error:#}");
    }
    serve_until_signal(node, signals).await
}

async fn serve_until_signal(node: RunningNode, mut signals: Signals) -> ExitCode {
    // A parent that closed our stdout does not stop the node: stderr still says why.
    if let Err(error) = announce(&node) {
        aidledger_node::log_line!(
            "aidledger-node: cannot write the start-up lines to stdout: {error}"
        );
    }
    let signal = signals.wait().await;
    let failure = node.writer_failure();
    let org = node.org().to_owned();
    let shutdown = node.shutdown().await;
    let code = match (&failure, shutdown) {
        (_, Err(error)) => {
            aidledger_node::log_line!("aidledger-node: shutdown failed: {error}");
            EXIT_STORAGE
        }
        (Some(failure), Ok(())) => {
            aidledger_node::log_line!(
                "aidledger-node: the node had stopped taking records: {failure}"
            );
            EXIT_STORAGE
        }
        (None, Ok(())) => 0,
    };
    // The pipe may be gone (a parent that ended first); the exit code says it all anyway.
    let _ = writeln!(
        std::io::stdout(),
        "stopped {org} on {signal} (exit {code}{})",
        if code == 0 {
            ", clean"
        } else {
            ", after a storage failure"
        }
    );
    ExitCode::from(code)
}

/// Prints what an operator needs to check and reach the node: the organisation, the network
/// id, the node key (as `node_keys` must list it), the signing key, the submit and public URLs,
/// the peer id and one `p2p MULTIADDR` line per listen address, and the explorer; flushed at
/// once so that a parent reading a pipe sees them. Every line starts with its name.
fn announce(node: &RunningNode) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "organisation {}", node.org())?;
    writeln!(stdout, "network {}", node.network_id())?;
    writeln!(stdout, "node-key {}", node.node_key())?;
    match node.signing_key() {
        Some(key) => writeln!(stdout, "signing-key {key}")?,
        None => writeln!(
            stdout,
            "signing-key none (no key may sign the next record yet)"
        )?,
    }
    writeln!(stdout, "submit {}", node.submit_url())?;
    writeln!(stdout, "public {}", node.public_url())?;
    writeln!(stdout, "peer {}", node.peer_id())?;
    for addr in node.p2p_addrs() {
        writeln!(stdout, "p2p {addr}")?;
    }
    writeln!(stdout, "explorer {}/", node.public_url())?;
    stdout.flush()
}

struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> anyhow::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    /// Waits for SIGINT or SIGTERM; returns its name.
    async fn wait(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
