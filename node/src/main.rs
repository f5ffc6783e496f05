//! The `aidledger-node` daemon: flags, signals and exit codes over the `aidledger_node` library.
//!
//! Exit codes: 0 after a clean shutdown on SIGINT or SIGTERM; 2 when the configuration or the
//! data directory is unusable (one line on stderr names the problem); 1 when a shutdown fails.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use aidledger_node::{NodeConfig, RunningNode};
use anyhow::Context;
use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};

/// Exit code for bad configuration or an unusable data directory.
const EXIT_CONFIG: u8 = 2;
/// Exit code for a failed shutdown.
const EXIT_FAILURE: u8 = 1;

/// Runs an aidledger node: stores the organisation's signed chain and serves it.
#[derive(Debug, Parser)]
#[command(name = "aidledger-node", version)]
struct Args {
    /// The node's data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The network's genesis file (first start; later starts check it matches).
    #[arg(long, value_name = "FILE")]
    genesis: Option<PathBuf>,
    /// The organisation this node signs for (first start).
    #[arg(long, value_name = "ORG")]
    org: Option<String>,
    /// The organisation's signing key file, hex of the 32-byte seed (first start).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Address of the submit API; must be loopback.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    submit_addr: SocketAddr,
    /// Address of the public, read-only API.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    public_addr: SocketAddr,
}

fn main() -> ExitCode {
    // clap exits with 2 on bad arguments, as the contract wants.
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
    let config = NodeConfig {
        data_dir: args.data_dir,
        genesis: args.genesis,
        org: args.org,
        key: args.key,
        submit_addr: args.submit_addr,
        public_addr: args.public_addr,
    };
    let node = match aidledger_node::start(config).await {
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

/// Prints `submit URL` and `public URL`, flushed at once so that a parent reading a pipe sees them.
fn announce(node: &RunningNode) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "submit {}", node.submit_url())?;
    writeln!(stdout, "public {}", node.public_url())?;
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
