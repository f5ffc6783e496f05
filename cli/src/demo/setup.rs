//! What every demo shares: the three organisations and their genesis, the demo's directory,
//! its node processes (stopped on SIGINT or SIGTERM and whenever the demo ends), and waiting
//! for a node to start, to connect and to hold a record.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use aidledger_cli::source::http_client;
use aidledger_cli::submit::SubmitTarget;
use aidledger_cli::{keys, network};
use aidledger_process::{stop_all, wait_for, ChildGuard};
use aidledger_spec::genesis::{Member, Role};
use aidledger_spec::record::{TreatyAction, TreatyActionKind};
use aidledger_spec::{Body, Digest, NetworkId, RecordId};
use anyhow::{bail, Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long a node may take to start.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the nodes may take to stop after SIGTERM before they are killed.
const NODE_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of a node's log quoted when it could not start.
const LOG_TAIL_LINES: usize = 5;
/// How long the nodes may take to connect, and a record to reach every node.
pub(crate) const REPLICATION_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) const DONOR: &str = "GB-GOV-1";
pub(crate) const PARTNER: &str = "DK-CVR-20699310";
pub(crate) const AUDITOR: &str = "XM-AUDIT-1";
/// The organisations of the demo network, the donor first.
pub(crate) const ORGANISATIONS: [&str; 3] = [DONOR, PARTNER, AUDITOR];
/// The bundle the single-node tour exports into the demo's directory.
pub(crate) const BUNDLE_FILE: &str = "network.bundle";

/// A running demo node: its organisation and where to reach it. The process itself is held by
/// [`NodeProcesses`].
pub(crate) struct DemoNode {
    pub(crate) org: &'static str,
    pub(crate) target: SubmitTarget,
    pub(crate) public: String,
    pub(crate) bootstrap: String,
}

/// The demo's node processes. They are stopped with SIGTERM (then killed) on SIGINT or
/// SIGTERM to the demo, which then exits; and killed when this value is dropped, so that a
/// demo that fails or ends leaves nothing behind.
pub(crate) struct NodeProcesses(Arc<Mutex<Vec<ChildGuard>>>);

impl NodeProcesses {
    /// Starts the thread that waits for SIGINT and SIGTERM; call before the first node starts,
    /// so that no node is ever left without it.
    pub(crate) fn stopped_on_signal() -> Result<NodeProcesses> {
        let processes = Arc::new(Mutex::new(Vec::new()));
        let mut signals =
            Signals::new([SIGINT, SIGTERM]).context("cannot handle SIGINT and SIGTERM")?;
        let stopper = processes.clone();
        std::thread::Builder::new()
            .name("demo-stopper".into())
            .spawn(move || {
                let Some(received) = signals.forever().next() else {
                    return;
                };
                let name = if received == SIGTERM {
                    "SIGTERM"
                } else {
                    "SIGINT"
                };
                let mut children = lock(&stopper);
                let stopped = stop_all(&mut children, NODE_STOP_TIMEOUT);
                eprintln!(
                    "demo: {name}: stopped {stopped} of {} nodes",
                    children.len()
                );
                std::process::exit(if stopped == children.len() { 0 } else { 2 });
            })
            .context("cannot start the demo's signal thread")?;
        Ok(NodeProcesses(processes))
    }

    /// Holds `child`; returns its index for [`NodeProcesses::ended`].
    fn add(&self, child: ChildGuard) -> usize {
        let mut children = lock(&self.0);
        children.push(child);
        children.len() - 1
    }

    /// How process `index` ended, if it has.
    fn ended(&self, index: usize) -> Option<std::process::ExitStatus> {
        lock(&self.0)
            .get_mut(index)
            .and_then(|child| child.try_wait().ok().flatten())
    }
}

impl NodeProcesses {
    /// Stops every node (SIGTERM, then SIGKILL after a timeout); returns how many ended on
    /// SIGTERM.
    pub(crate) fn stop(&self) -> usize {
        let mut children = lock(&self.0);
        let stopped = stop_all(&mut children, NODE_STOP_TIMEOUT);
        children.clear();
        stopped
    }
}

impl Drop for NodeProcesses {
    fn drop(&mut self) {
        // The guards kill and reap their children.
        lock(&self.0).clear();
    }
}

/// The list of processes, also after a thread panicked while holding it (the guards in it are
/// still the ones to stop).
fn lock(processes: &Mutex<Vec<ChildGuard>>) -> MutexGuard<'_, Vec<ChildGuard>> {
    processes.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The demo's own files in its directory: what `--fresh` deletes and what marks a directory
/// as holding a demo network already.
fn demo_entries() -> Vec<String> {
    let mut entries = vec![
        "genesis.bin".to_owned(),
        "nodes".to_owned(),
        BUNDLE_FILE.to_owned(),
    ];
    for org in ORGANISATIONS {
        for suffix in ["key", "node.key", "node.log"] {
            entries.push(format!("{org}.{suffix}"));
        }
    }
    entries
}

/// Creates `dir`, or refuses one that holds a demo network already (its keys would be
/// overwritten and its nodes' directories belong to another genesis), unless `fresh`: then
/// only the demo's own files are deleted, never anything else in the directory.
pub(crate) fn prepare_dir(dir: &Path, fresh: bool) -> Result<()> {
    let present: Vec<String> = demo_entries()
        .into_iter()
        .filter(|entry| dir.join(entry).symlink_metadata().is_ok())
        .collect();
    if !present.is_empty() && !fresh {
        bail!(
            "{} already holds a demo network ({}); run with --fresh to delete it and start a new one, or choose another --dir",
            dir.display(),
            present.join(", ")
        );
    }
    for entry in present {
        let path = dir.join(entry);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("--fresh: cannot delete {}", path.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes keys for the donor, the partner and the auditor (signing and node keys, `ID.key` and
/// `ID.node.key` in `dir`) and their genesis; returns its path and the network id.
pub(crate) fn make_network(dir: &Path, name: &str) -> Result<(PathBuf, NetworkId)> {
    let members = vec![
        member(
            dir,
            DONOR,
            "Foreign, Commonwealth and Development Office",
            Role::Donor,
        )?,
        member(dir, PARTNER, "Danish Refugee Council", Role::Implementer)?,
        member(dir, AUDITOR, "Independent Audit Office", Role::Auditor)?,
    ];
    let genesis = network::build_genesis(name, crate::setup::now_ms(), members, None, None)?;
    let path = dir.join("genesis.bin");
    std::fs::write(&path, genesis.encode())?;
    Ok((path, genesis.network_id()))
}

fn member(dir: &Path, id: &str, name: &str, role: Role) -> Result<Member> {
    let signing_key = keys::generate_key_file(&dir.join(format!("{id}.key")))?;
    let node_key = keys::generate_key_file(&dir.join(format!("{id}.node.key")))?;
    Ok(Member {
        id: id.into(),
        name: name.into(),
        roles: vec![role],
        signing_keys: vec![signing_key],
        node_keys: vec![node_key],
    })
}

/// Where and how one demo node starts.
pub(crate) struct NodeStart<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) genesis: &'a Path,
    pub(crate) org: &'static str,
    /// The public API's port (0: any free port).
    pub(crate) public_port: u16,
    /// The p2p addresses of the nodes started before it.
    pub(crate) bootstrap: &'a [String],
}

/// Starts `org`'s node on loopback (data in `DIR/nodes/ORG`, output in `DIR/ORG.node.log`)
/// and waits until it serves.
pub(crate) fn start_node(start: NodeStart<'_>, processes: &NodeProcesses) -> Result<DemoNode> {
    let NodeStart {
        dir,
        genesis,
        org,
        public_port,
        bootstrap,
    } = start;
    let binary = std::env::current_exe()?.with_file_name("aidledger-node");
    let data_dir = dir.join("nodes").join(org);
    let log_path = dir.join(format!("{org}.node.log"));
    let log = std::fs::File::create(&log_path)?;
    let mut command = Command::new(&binary);
    command
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--genesis")
        .arg(genesis)
        .args(["--org", org, "--key"])
        .arg(dir.join(format!("{org}.key")))
        .arg("--node-key")
        .arg(dir.join(format!("{org}.node.key")))
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--public-addr"])
        .arg(format!("127.0.0.1:{public_port}"));
    for peer in bootstrap {
        command.args(["--bootstrap", peer]);
    }
    let child = command
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (build it with cargo build --workspace --bins)",
                binary.display()
            )
        })?;
    let pid = child.id();
    let index = processes.add(ChildGuard::new(child));
    let mut exited = None;
    let started = wait_for(NODE_START_TIMEOUT, "the node to start", || {
        if let Some(status) = processes.ended(index) {
            exited = Some(status);
            return Some(None);
        }
        let endpoints = aidledger_store::Endpoints::read(&data_dir).ok()?;
        (endpoints.pid == pid).then(|| SubmitTarget::from_data_dir(&data_dir).ok().map(Some))?
    });
    let target = match (started, exited) {
        (Ok(Some(target)), _) => target,
        (_, Some(status)) => bail!(
            "{org}'s node exited ({status}) instead of starting: {}",
            log_tail(&log_path)
        ),
        (Err(error), None) => {
            return Err(
                anyhow::Error::new(error).context(format!("{org}'s node: {}", log_tail(&log_path)))
            );
        }
        (Ok(None), None) => bail!("{org}'s node did not start"),
    };
    let public = target.public_url.clone().unwrap_or_default();
    let status = crate::status::fetch(&public)?;
    let addr = status["listen"][0]
        .as_str()
        .context("the node reports no p2p address")?;
    let peer = status["peer_id"]
        .as_str()
        .context("the node reports no peer id")?;
    Ok(DemoNode {
        org,
        target,
        public,
        bootstrap: format!("{addr}/p2p/{peer}"),
    })
}

/// The last lines of a node's log, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join(" / ");
    if tail.is_empty() {
        format!("its log {} is empty", path.display())
    } else {
        tail
    }
}

/// Waits until every node is connected to every other.
pub(crate) fn wait_connected(nodes: &[DemoNode]) -> Result<()> {
    wait_for(REPLICATION_TIMEOUT, "the nodes to connect", || {
        nodes
            .iter()
            .all(|node| {
                crate::status::fetch(&node.public)
                    .ok()
                    .and_then(|status| status["peers"].as_array().map(Vec::len))
                    == Some(nodes.len() - 1)
            })
            .then_some(())
    })?;
    Ok(())
}

/// Waits until record `id` is on `node`.
pub(crate) fn wait_for_record(node: &DemoNode, id: RecordId) -> Result<()> {
    let url = format!("{}/api/records/{id}", node.public);
    wait_for(
        REPLICATION_TIMEOUT,
        &format!("record {id} to reach {}", node.org),
        || {
            let response = http_client().get(&url).send().ok()?;
            response.status().is_success().then_some(())
        },
    )?;
    Ok(())
}

/// The ratification both tours record: `treaty` at `text_hash`, dated 2024-03-01.
pub(super) fn ratification(treaty: RecordId, text_hash: Digest) -> Result<Body> {
    Ok(Body::TreatyAction(TreatyAction {
        treaty,
        text_hash,
        action: TreatyActionKind::Ratify,
        date: aidledger_cli::compose::date("date", "2024-03-01")?,
        note: String::new(),
    }))
}
