//! `aidledger demo`: a network of three organisations (a donor, an implementing partner, an
//! auditor) with a real node each on loopback. It records a commitment, a disbursement, the
//! partner's acknowledging receipt, a multi-MiB treaty text and both parties' ratifications
//! (and shows the auditor's node refusing a ratification by the auditor, not a party), waits until every node holds every record, verifies each node's store against the network
//! id, prints what happened and where to look, and keeps the network running until SIGINT
//! (Ctrl-C) or SIGTERM, either of which stops every node before the demo exits. With `--once`
//! it stops after the checks and exits 0 only if all of them passed. Each node's output goes to
//! `DIR/ORG.node.log`. With `--single-node` it runs the single-node tour instead ([`tour`]).

mod setup;
mod tour;

use std::path::PathBuf;
use std::process::ExitCode;

use aidledger_cli::audit::audit;
use aidledger_cli::compose::{self, TransactionArgs};
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitError;
use aidledger_spec::record::{TextVersion, TreatyText};
use aidledger_spec::{Body, NetworkId, RecordId};
use anyhow::{bail, Result};

use self::setup::{
    make_network, prepare_dir, start_node, wait_connected, wait_for_record, DemoNode,
    NodeProcesses, NodeStart, AUDITOR, DONOR, ORGANISATIONS, PARTNER,
};

/// Size of the demo's treaty text: several MiB, to show that large records replicate.
const TREATY_TEXT_BYTES: usize = 3 * 1024 * 1024;

/// What `demo` was asked for.
pub(crate) struct DemoOptions {
    /// The working directory (default: a new temporary directory).
    pub(crate) dir: Option<PathBuf>,
    /// Delete a demo network already in `dir` first.
    pub(crate) fresh: bool,
    /// Stop after the checks.
    pub(crate) once: bool,
    /// The donor node's public port.
    pub(crate) explorer_port: Option<u16>,
    /// The single-node tour instead of the three-node network.
    pub(crate) single_node: bool,
}

/// Runs the demo, or the single-node tour.
pub(crate) fn run(options: DemoOptions) -> Result<ExitCode> {
    let temporary = tempfile::tempdir()?;
    // Before any node starts, so that none runs without the thread that stops it on a signal;
    // after the temporary directory, so that the nodes stop before it is removed.
    let processes = NodeProcesses::stopped_on_signal()?;
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| temporary.path().to_path_buf());
    prepare_dir(&dir, options.fresh)?;
    if options.single_node {
        let kept = options.dir.is_some();
        return tour::run(&dir, kept, options.explorer_port, &processes);
    }
    println!("demo network in {}", dir.display());
    let (genesis_path, network_id) = make_network(&dir, "demo network")?;
    println!("1. genesis of 3 organisations written; network id {network_id}");
    let nodes = start_nodes(&dir, &genesis_path, options.explorer_port, &processes)?;
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
    if !passed {
        bail!("a node's store did not verify");
    }
    println!("ALL CHECKS PASSED");
    if options.once {
        // The nodes stop with the demo: what stays is their directories, if kept.
        if options.dir.is_some() {
            let data_dir = dir.join("nodes").join(DONOR);
            println!(
                "the nodes stop now (--once); verify one yourself: aidledger verify --data-dir {} --network-id {network_id}",
                data_dir.display()
            );
        } else {
            println!("the nodes stop now (--once) and the temporary directory is removed; pass --dir to keep it");
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("explorer and public API: {explorer}/  (status: aidledger status --node {explorer})");
    println!("verify yourself: aidledger verify --node {explorer} --network-id {network_id}");
    println!("the network keeps running; press Ctrl-C (or send SIGTERM) to stop it and its nodes");
    loop {
        std::thread::park();
    }
}

/// Starts the three nodes, each bootstrapping from those before it; the donor's public API on
/// `explorer_port` if given.
fn start_nodes(
    dir: &std::path::Path,
    genesis: &std::path::Path,
    explorer_port: Option<u16>,
    processes: &NodeProcesses,
) -> Result<Vec<DemoNode>> {
    let mut nodes: Vec<DemoNode> = Vec::new();
    for org in ORGANISATIONS {
        let public_port = if org == DONOR {
            explorer_port.unwrap_or(0)
        } else {
            0
        };
        let bootstrap: Vec<String> = nodes.iter().map(|node| node.bootstrap.clone()).collect();
        let start = NodeStart {
            dir,
            genesis,
            org,
            public_port,
            bootstrap: &bootstrap,
        };
        nodes.push(start_node(start, processes)?);
    }
    Ok(nodes)
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
        ratifications.push(submit(node, setup::ratification(treaty_id, text_hash)?)?);
    }
    println!(
        "6. both parties ratified the exact text: {} ({DONOR}), {} ({PARTNER})",
        ratifications[0], ratifications[1]
    );
    // The auditor is a member but not a party: its own node, once it holds the treaty,
    // refuses its ratification for that reason.
    wait_for_record(&nodes[2], treaty_id)?;
    match nodes[2]
        .target
        .submit(&setup::ratification(treaty_id, text_hash)?)
    {
        Err(SubmitError::Refused { message, .. }) if message.contains("is not a party") => {
            println!("   {AUDITOR} tried to ratify it too; its node refused: {message}")
        }
        Ok(_) => bail!("{AUDITOR}'s node accepted a ratification by a non-party"),
        Err(error) => return Err(error.into()),
    }
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
    for (index, node) in nodes.iter().enumerate() {
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
        let step = if index == 0 { "8." } else { "  " };
        println!(
            "{step} verify --node {} ({}): {records} records, {verdict}",
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
