//! The `aidledger-node` daemon: flags, signals and exit codes over the `aidledger_node` library.
//!
//! Exit codes: 0 after a clean shutdown on SIGINT or SIGTERM; 2 when the configuration or the
//! data directory is unusable (one line on stderr names the problem); 1 when a shutdown fails.
//!
//! Settings come from flags and from an optional JSON config file (`--config FILE`, keys named
//! like the flags with underscores); a flag given on the command line wins over the file.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use aidledger_node::{NetworkOptions, NodeConfig, RunningNode};
use anyhow::Context;
use clap::Parser;
use libp2p::Multiaddr;
use tokio::signal::unix::{signal, SignalKind};

/// glibc's malloc spent ~18 % of the node's CPU in an import profile (sled allocates and frees
/// a node version per write); mimalloc takes most of that back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for bad configuration or an unusable data directory.
const EXIT_CONFIG: u8 = 2;
/// Exit code for a failed shutdown.
const EXIT_FAILURE: u8 = 1;

/// Most bytes of a config file.
const CONFIG_SIZE_BYTES_MAX: u64 = 1024 * 1024;

/// Runs an aidledger node: stores the organisation's signed chain, replicates every member's
/// chain with the other member nodes, and serves them.
#[derive(Debug, Parser)]
#[command(name = "aidledger-node", version)]
struct Args {
    /// A JSON config file: {"data_dir","genesis","org","key","node_key","submit_addr",
    /// "public_addr","listen":[…],"bootstrap":[…]}; flags override it.
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
}

/// The config file's settings; each is optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    genesis: Option<PathBuf>,
    org: Option<String>,
    key: Option<PathBuf>,
    node_key: Option<PathBuf>,
    submit_addr: Option<SocketAddr>,
    public_addr: Option<SocketAddr>,
    #[serde(default)]
    listen: Vec<String>,
    #[serde(default)]
    bootstrap: Vec<String>,
}

/// Reads the config file (if any) and lays the flags over it.
fn settings(args: Args) -> anyhow::Result<(NodeConfig, NetworkOptions)> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => ConfigFile::default(),
    };
    let addrs = |flags: Vec<Multiaddr>, file: Vec<String>, what: &str| {
        if !flags.is_empty() {
            return Ok(flags);
        }
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
        data_dir: args.data_dir.or(file.data_dir).context(
            "say where the data directory is: --data-dir DIR, or data_dir in the config file",
        )?,
        genesis: args.genesis.or(file.genesis),
        org: args.org.or(file.org),
        key: args.key.or(file.key),
        submit_addr: args
            .submit_addr
            .or(file.submit_addr)
            .unwrap_or(loopback_any),
        public_addr: args
            .public_addr
            .or(file.public_addr)
            .unwrap_or(loopback_any),
    };
    let network = NetworkOptions {
        node_key: args.node_key.or(file.node_key),
        listen: addrs(args.listen, file.listen, "listen")?,
        bootstrap: addrs(args.bootstrap, file.bootstrap, "bootstrap")?,
    };
    Ok((config, network))
}

fn read_config(path: &std::path::Path) -> anyhow::Result<ConfigFile> {
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
    // clap exits with 2 on bad arguments, as the contract wants.
    let args = Args::parse();
    let runtime = match aidledger_node::node::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("aidledger-node: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    // Signals are registered before starting, so that a signal during startup is not lost.
    let signals = match Signals::register() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("aidledger-node: {error:#}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let (config, network) = match settings(args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("aidledger-node: {error:#}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let node = match aidledger_node::start_with_network(config, network).await {
        Ok(node) => node,
        Err(error) => {
            eprintln!("aidledger-node: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match serve_until_signal(node, signals).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("aidledger-node: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn serve_until_signal(node: RunningNode, mut signals: Signals) -> anyhow::Result<()> {
    announce(&node).context("cannot write the endpoints to stdout")?;
    signals.wait().await;
    node.shutdown().await.context("shutdown failed")
}

/// Prints `submit URL`, `public URL`, `peer ID` and a `p2p MULTIADDR` line per listen address,
/// flushed at once so that a parent reading a pipe sees them.
fn announce(node: &RunningNode) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "submit {}", node.submit_url())?;
    writeln!(stdout, "public {}", node.public_url())?;
    writeln!(stdout, "peer {}", node.peer_id())?;
    for addr in node.p2p_addrs() {
        writeln!(stdout, "p2p {addr}")?;
    }
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

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
