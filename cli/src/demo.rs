//! `aidledger demo`: a network of three organisations (a donor, an implementing partner, an
//! auditor) with a real node each on loopback. It records a commitment, a disbursement, the
//! partner's acknowledging receipt, a multi-MiB treaty text and both parties' ratifications,
//! waits until every node holds every record, verifies each node's store against the network
//! id, prints what happened and where to look, and keeps the network running until SIGINT
//! (Ctrl-C) or SIGTERM, either of which stops every node before the demo exits. With `--once`
//! it stops after the checks and exits 0 only if all of them passed. Each node's output goes to
//! `DIR/ORG.node.log`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aidledger_cli::audit::audit;
use aidledger_cli::compose::{self, TransactionArgs};
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::source::{http_client, Source};
use aidledger_cli::submit::SubmitTarget;
use aidledger_cli::{keys, network};
use aidledger_spec::genesis::{Member, Role};
use aidledger_spec::record::{TextVersion, TreatyAction, TreatyActionKind, TreatyText};
use aidledger_spec::{Body, NetworkId, RecordId};
use anyhow::{bail, Context, Result};

/// How long a node may take to start.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the nodes may take to stop after SIGTERM before they are killed.
const NODE_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of a node's log quoted when it could not start.
const LOG_TAIL_LINES: usize = 5;
/// How long the nodes may take to connect, and a record to reach every node.
const REPLICATION_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a condition is checked while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Size of the demo's treaty text: several MiB, to show that large records replicate.
const TREATY_TEXT_BYTES: usize = 3 * 1024 * 1024;

pub(crate) const DONOR: &str = "GB-GOV-1";
pub(crate) const PARTNER: &str = "DK-CVR-20699310";
const AUDITOR: &str = "XM-AUDIT-1";

/// A node process, killed when dropped so that a failing demo leaves nothing behind.
struct DemoNode {
    org: &'static str,
    child: Child,
    target: SubmitTarget,
    public: String,
    bootstrap: String,
}

impl Drop for DemoNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the demo.
pub fn run(
    dir: Option<PathBuf>,
    fresh: bool,
    once: bool,
    explorer_port: Option<u16>,
) -> Result<ExitCode> {
    // First, before any thread exists, so that every thread inherits the blocked signals and
    // only the stopper receives them.
    let pids = stop_nodes_on_signal()?;
    let temporary = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temporary.path().to_path_buf());
    prepare_dir(&dir, fresh)?;
    println!("demo network in {}", dir.display());
    let (genesis_path, network_id) = make_network(&dir, "demo network")?;
    println!("1. genesis of 3 organisations written; network id {network_id}");
    let nodes = start_nodes(&dir, &genesis_path, explorer_port, &pids)?;
    wait_connected(&nodes)?;
    println!("2. three nodes on loopback, each connected to the two others:");
    for node in &nodes {
        println!(
            "   {:<16} public {}  p2p {}",
            node.org, node.public, node.bootstrap
        );
    }
    let expected = record_story(&nodes)?;
    wait_replicated(&nodes, &expected)?;
    println!("7. every record is on every node");
    let passed = verify_all(&nodes, network_id)?;
    let explorer = &nodes[0].public;
    println!("explorer and public API: {explorer}/  (status: aidledger status --node {explorer})");
    println!("verify yourself: aidledger verify --node {explorer} --network-id {network_id}");
    if !passed {
        bail!("a node's store did not verify");
    }
    println!("ALL CHECKS PASSED");
    if once {
        return Ok(ExitCode::SUCCESS);
    }
    println!("the network keeps running; press Ctrl-C (or send SIGTERM) to stop it and its nodes");
    loop {
        std::thread::park();
    }
}

/// The demo's own files in its directory: what `--fresh` deletes and what marks a directory
/// as holding a demo network already.
fn demo_entries() -> Vec<String> {
    let mut entries = vec!["genesis.bin".to_owned(), "nodes".to_owned()];
    for org in [DONOR, PARTNER, AUDITOR] {
        for suffix in ["key", "node.key", "node.log"] {
            entries.push(format!("{org}.{suffix}"));
        }
    }
    entries
}

/// Creates `dir`, or refuses one that holds a demo network already (its keys would be
/// overwritten and its nodes' directories belong to another genesis), unless `fresh`: then
/// only the demo's own files are deleted, never anything else in the directory.
fn prepare_dir(dir: &Path, fresh: bool) -> Result<()> {
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

/// The pids of the running demo nodes, for the stopper.
type NodePids = Arc<Mutex<Vec<u32>>>;

/// Blocks SIGINT and SIGTERM in this thread (and so in every thread started after it) and
/// starts a thread that waits for either: it stops every node registered in the returned list
/// and ends the demo. Without it, SIGTERM would end the demo and leave its nodes running.
fn stop_nodes_on_signal() -> Result<NodePids> {
    let pids = NodePids::default();
    let signals = termination_signals();
    // SAFETY: `signals` is an initialised sigset_t; pthread_sigmask only changes this thread's
    // mask. Children get an empty mask again (std resets it before exec).
    #[allow(unsafe_code)]
    let blocked = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &signals, std::ptr::null_mut()) };
    if blocked != 0 {
        bail!("cannot block SIGINT and SIGTERM: error {blocked}");
    }
    let stopper_pids = pids.clone();
    std::thread::Builder::new()
        .name("demo-stopper".into())
        .spawn(move || {
            let mut received: libc::c_int = 0;
            // SAFETY: both pointers are valid; sigwait only writes `received`.
            #[allow(unsafe_code)]
            let waited = unsafe { libc::sigwait(&signals, &mut received) };
            let name = if received == libc::SIGTERM {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            let pids = stopper_pids
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let stopped = stop_nodes(&pids);
            if waited == 0 {
                eprintln!("demo: {name}: stopped {stopped} of {} nodes", pids.len());
            }
            std::process::exit(if stopped == pids.len() { 0 } else { 2 });
        })
        .context("cannot start the demo's signal thread")?;
    Ok(pids)
}

/// The demo blocks SIGINT and SIGTERM in every thread (the stopper waits for them), and a
/// child inherits the mask: the node must get them again, or it could not stop on SIGTERM.
fn unblock_termination_signals_in_child(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let signals = termination_signals();
    // SAFETY: between fork and exec only pthread_sigmask runs, which is async-signal-safe, on
    // a set initialised before the fork.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            match libc::pthread_sigmask(libc::SIG_UNBLOCK, &signals, std::ptr::null_mut()) {
                0 => Ok(()),
                error => Err(std::io::Error::from_raw_os_error(error)),
            }
        });
    }
}

fn termination_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset reads it; both only write the
    // set they are given.
    #[allow(unsafe_code)]
    unsafe {
        let mut signals: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut signals);
        libc::sigaddset(&mut signals, libc::SIGINT);
        libc::sigaddset(&mut signals, libc::SIGTERM);
        signals
    }
}

/// Sends SIGTERM to every node, waits for each to end (reaping it), and kills those still
/// running after [`NODE_STOP_TIMEOUT`]; returns how many ended on SIGTERM.
fn stop_nodes(pids: &[u32]) -> usize {
    let pids: Vec<libc::pid_t> = pids
        .iter()
        .filter_map(|pid| libc::pid_t::try_from(*pid).ok())
        .collect();
    for pid in &pids {
        // SAFETY: kill only sends a signal; the pid is our own child, not yet reaped.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(*pid, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + NODE_STOP_TIMEOUT;
    let mut running = pids.clone();
    while !running.is_empty() && Instant::now() < deadline {
        // SAFETY: waitpid with WNOHANG on our own children; a null status pointer is allowed.
        #[allow(unsafe_code)]
        running
            .retain(|pid| unsafe { libc::waitpid(*pid, std::ptr::null_mut(), libc::WNOHANG) } == 0);
        std::thread::sleep(POLL_INTERVAL);
    }
    for pid in &running {
        // SAFETY: as above; the child did not end on SIGTERM in time.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(*pid, libc::SIGKILL);
            libc::waitpid(*pid, std::ptr::null_mut(), 0);
        }
    }
    pids.len() - running.len()
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

fn start_nodes(
    dir: &Path,
    genesis: &Path,
    explorer_port: Option<u16>,
    pids: &NodePids,
) -> Result<Vec<DemoNode>> {
    let mut nodes: Vec<DemoNode> = Vec::new();
    for org in [DONOR, PARTNER, AUDITOR] {
        let public_port = if org == DONOR {
            explorer_port.unwrap_or(0)
        } else {
            0
        };
        let bootstrap: Vec<String> = nodes.iter().map(|node| node.bootstrap.clone()).collect();
        nodes.push(start_node(
            dir,
            genesis,
            org,
            public_port,
            &bootstrap,
            pids,
        )?);
    }
    Ok(nodes)
}

fn start_node(
    dir: &Path,
    genesis: &Path,
    org: &'static str,
    public_port: u16,
    bootstrap: &[String],
    pids: &NodePids,
) -> Result<DemoNode> {
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
    unblock_termination_signals_in_child(&mut command);
    let mut child = command
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
    pids.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(pid);
    let mut exited = None;
    let started = wait_for(NODE_START_TIMEOUT, "the node to start", || {
        if let Ok(Some(status)) = child.try_wait() {
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
            let _ = child.kill();
            return Err(error.context(format!("{org}'s node: {}", log_tail(&log_path))));
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
        child,
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

/// Waits until `probe` gives a value, or fails after `timeout`.
fn wait_for<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn wait_connected(nodes: &[DemoNode]) -> Result<()> {
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
    })
}

/// Waits until record `id` is on `node`.
fn wait_for_record(node: &DemoNode, id: RecordId) -> Result<()> {
    let url = format!("{}/api/records/{id}", node.public);
    wait_for(
        REPLICATION_TIMEOUT,
        &format!("record {id} to reach {}", node.org),
        || {
            let response = http_client().get(&url).send().ok()?;
            response.status().is_success().then_some(())
        },
    )
}

fn submit(node: &DemoNode, body: Body) -> Result<RecordId> {
    Ok(node.target.submit(&body)?.0)
}

/// Records the story; returns every record id.
fn record_story(nodes: &[DemoNode]) -> Result<Vec<RecordId>> {
    let (donor, partner) = (&nodes[0], &nodes[1]);
    let commitment = submit(
        donor,
        transaction("outgoing-commitment", "2000000", DONOR, PARTNER, None)?,
    )?;
    let disbursement = submit(
        donor,
        transaction("disbursement", "400000.00", DONOR, PARTNER, None)?,
    )?;
    println!("3. {DONOR} recorded a commitment {commitment} and a disbursement {disbursement}");
    wait_for_record(partner, disbursement)?;
    let receipt = submit(
        partner,
        transaction(
            "incoming-funds",
            "400000.00",
            DONOR,
            PARTNER,
            Some(disbursement.to_string()),
        )?,
    )?;
    println!("4. {PARTNER}'s node received the disbursement by gossip; the partner recorded its receipt {receipt}, acknowledging it");
    let treaty = TreatyText {
        title: "Agreement on humanitarian cooperation".into(),
        parties: vec![DONOR.into(), PARTNER.into()],
        versions: vec![TextVersion {
            language: "en".into(),
            text: treaty_text(),
        }],
        supersedes: None,
    };
    let text_hash = treaty.text_hash();
    let treaty_id = submit(donor, Body::TreatyText(treaty))?;
    println!(
        "5. {DONOR} recorded a treaty text of {} MiB: {treaty_id} (text hash {text_hash})",
        TREATY_TEXT_BYTES / (1024 * 1024)
    );
    wait_for_record(partner, treaty_id)?;
    let mut ratifications = Vec::new();
    for node in [donor, partner] {
        let action = TreatyAction {
            treaty: treaty_id,
            text_hash,
            action: TreatyActionKind::Ratify,
            date: compose::date("date", "2024-03-01")?,
            note: String::new(),
        };
        ratifications.push(submit(node, Body::TreatyAction(action))?);
    }
    println!(
        "6. both parties ratified the exact text: {} ({DONOR}), {} ({PARTNER})",
        ratifications[0], ratifications[1]
    );
    let mut ids = vec![commitment, disbursement, receipt, treaty_id];
    ids.extend(ratifications);
    Ok(ids)
}

fn wait_replicated(nodes: &[DemoNode], ids: &[RecordId]) -> Result<()> {
    for node in nodes {
        for id in ids {
            wait_for_record(node, *id)?;
        }
    }
    Ok(())
}

fn verify_all(nodes: &[DemoNode], network_id: NetworkId) -> Result<bool> {
    let mut passed = true;
    for node in nodes {
        let result = audit(
            &Source::Node(node.public.clone()),
            Some(network_id),
            SignatureMode::Batch,
        )?;
        let verdict = if result.is_valid() {
            "VALID"
        } else {
            "INVALID"
        };
        let records = result.report().map_or(0, |report| report.records_seen);
        println!(
            "8. verify --node {} ({}): {records} records, {verdict}",
            node.public, node.org
        );
        passed &= result.is_valid();
    }
    Ok(passed)
}

fn transaction(
    kind: &str,
    amount: &str,
    provider: &str,
    receiver: &str,
    acknowledges: Option<String>,
) -> Result<Body> {
    let args = TransactionArgs {
        activity: "GB-GOV-1-301150-117".into(),
        transaction_type: kind.into(),
        amount: amount.into(),
        currency: "GBP".into(),
        value_date: "2024-02-20".into(),
        date: None,
        provider: compose::party(
            Some(provider.into()),
            None,
            Some("GB-GOV-1-301150-117".into()),
        ),
        receiver: compose::party(
            Some(receiver.into()),
            Some("Danish Refugee Council".into()),
            None,
        ),
        description: "Emergency water and sanitation".into(),
        acknowledges,
    };
    Ok(Body::Transaction(compose::transaction(args)?))
}

/// A long treaty text of [`TREATY_TEXT_BYTES`] bytes.
fn treaty_text() -> String {
    let mut text = String::with_capacity(TREATY_TEXT_BYTES + 128);
    let mut article = 1;
    while text.len() < TREATY_TEXT_BYTES {
        text.push_str(&format!(
            "Article {article}. The parties shall cooperate in good faith to deliver humanitarian aid, and shall report every disbursement.\n"
        ));
        article += 1;
    }
    text
}
