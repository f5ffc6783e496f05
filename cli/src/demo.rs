//! `aidledger demo`: a network of three organisations (a donor, an implementing partner, an
//! auditor) with a real node each on loopback. It records a commitment, a disbursement, the
//! partner's acknowledging receipt, a multi-MiB treaty text and both parties' ratifications,
//! waits until every node holds every record, verifies each node's store against the network
//! id, prints what happened and where to look, and keeps the network running until Ctrl-C
//! (which the terminal delivers to the nodes too). With `--once` it stops after the checks and
//! exits 0 only if all of them passed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
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
pub fn run(dir: Option<PathBuf>, once: bool, explorer_port: Option<u16>) -> Result<ExitCode> {
    let temporary = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    println!("demo network in {}", dir.display());
    let (genesis_path, network_id) = make_network(&dir, "demo network")?;
    println!("1. genesis of 3 organisations written; network id {network_id}");
    let nodes = start_nodes(&dir, &genesis_path, explorer_port)?;
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
    println!("the network keeps running; press Ctrl-C to stop it");
    loop {
        std::thread::park();
    }
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
    let genesis = network::build_genesis(name, crate::commands::now_ms(), members, None, None)?;
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

fn start_nodes(dir: &Path, genesis: &Path, explorer_port: Option<u16>) -> Result<Vec<DemoNode>> {
    let mut nodes: Vec<DemoNode> = Vec::new();
    for org in [DONOR, PARTNER, AUDITOR] {
        let public_port = if org == DONOR {
            explorer_port.unwrap_or(0)
        } else {
            0
        };
        let bootstrap: Vec<String> = nodes.iter().map(|node| node.bootstrap.clone()).collect();
        nodes.push(start_node(dir, genesis, org, public_port, &bootstrap)?);
    }
    Ok(nodes)
}

fn start_node(
    dir: &Path,
    genesis: &Path,
    org: &'static str,
    public_port: u16,
    bootstrap: &[String],
) -> Result<DemoNode> {
    let binary = std::env::current_exe()?.with_file_name("aidledger-node");
    let data_dir = dir.join("nodes").join(org);
    let log = std::fs::File::create(dir.join(format!("{org}.node.log")))?;
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
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (build it with cargo build --workspace --bins)",
                binary.display()
            )
        })?;
    let pid = child.id();
    let target = wait_for(NODE_START_TIMEOUT, "the node to start", || {
        let endpoints = aidledger_node::Endpoints::read(&data_dir).ok()?;
        (endpoints.pid == pid).then(|| SubmitTarget::from_data_dir(&data_dir).ok())?
    })?;
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
