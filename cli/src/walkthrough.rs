//! `aidledger walkthrough`: a scripted single-node tour that exercises the real node process
//! and every record kind, then exports and verifies. It exits 0 only if every check passed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use aidledger_cli::audit::{audit, audit_text};
use aidledger_cli::compose::{self, TransactionArgs};
use aidledger_cli::export::export_bundle;
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitTarget;
use aidledger_spec::record::{
    Correction, Statement, TextVersion, TreatyAction, TreatyActionKind, TreatyText,
};
use aidledger_spec::{Body, RecordId};
use anyhow::{bail, Context, Result};

/// How long the node may take to start.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed when dropped, so a failing walkthrough leaves no node behind.
struct NodeGuard(Child);

impl Drop for NodeGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the walkthrough in `dir` or a temporary directory.
pub fn run(dir: Option<PathBuf>) -> Result<ExitCode> {
    let temporary = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    println!("walkthrough in {}", dir.display());

    let (donor, partner) = (crate::demo::DONOR, crate::demo::PARTNER);
    let (genesis_path, network_id) = crate::demo::make_network(&dir, "walkthrough network")?;
    println!("1. network of 3 organisations created; network id {network_id}");

    let data_dir = dir.join("donor-node");
    let node = start_node(
        &data_dir,
        &genesis_path,
        donor,
        &dir.join(format!("{donor}.key")),
    )?;
    let target = wait_for_node(&data_dir)?;
    println!(
        "2. {donor}'s node is running: submit {} / public {}",
        target.url,
        target.public_url.clone().unwrap_or_default()
    );

    let commitment = submit(
        &target,
        Body::Transaction(compose::transaction(transaction(
            "outgoing-commitment",
            "2000000",
            partner,
        ))?),
    )?;
    let disbursement = submit(
        &target,
        Body::Transaction(compose::transaction(transaction(
            "disbursement",
            "400000.00",
            partner,
        ))?),
    )?;
    println!("3. recorded a commitment {commitment} and a disbursement {disbursement}");
    let treaty = TreatyText {
        title: "Agreement on humanitarian cooperation".into(),
        parties: vec![donor.into(), partner.into()],
        versions: vec![
            TextVersion {
                language: "en".into(),
                text: "Article 1. The parties shall cooperate.".into(),
            },
            TextVersion {
                language: "fr".into(),
                text: "Article 1. Les parties coopèrent.".into(),
            },
        ],
        supersedes: None,
    };
    let text_hash = treaty.text_hash();
    let treaty_id = submit(&target, Body::TreatyText(treaty))?;
    let action = TreatyAction {
        treaty: treaty_id,
        text_hash,
        action: TreatyActionKind::Ratify,
        date: compose::date("date", "2024-03-01")?,
        note: String::new(),
    };
    let ratification = submit(&target, Body::TreatyAction(action))?;
    println!("4. recorded a treaty text {treaty_id} (text hash {text_hash}) and its ratification {ratification}");
    let statement = Statement {
        title: "Funding update".into(),
        language: "en".into(),
        text: "The first tranche was paid.".into(),
    };
    let statement_id = submit(&target, Body::Statement(statement))?;
    let correction = Correction {
        corrects: disbursement,
        reason: "value date was mistyped".into(),
        replacement: None,
    };
    let correction_id = submit(&target, Body::Correction(correction))?;
    println!("5. recorded a statement {statement_id} and a correction {correction_id}");

    let bundle = dir.join("network.bundle");
    let public = Source::Node(target.public_url.clone().unwrap_or_default());
    export_bundle(&public, &bundle, Some(network_id))?;
    println!("6. exported the node's store to {}", bundle.display());
    drop(node);

    let result = audit(
        &Source::Bundle(bundle.clone()),
        Some(network_id),
        SignatureMode::Batch,
    )?;
    println!("7. verified the bundle offline against network id {network_id}:");
    print!("{}", audit_text(&result));
    if !result.is_valid() {
        bail!("the walkthrough's own bundle did not verify");
    }
    println!(
        "try: aidledger verify --bundle {} --network-id {network_id}",
        bundle.display()
    );
    if dir.starts_with(temporary.path()) {
        println!("(the temporary directory is removed now; pass --dir to keep it)");
    }
    Ok(ExitCode::SUCCESS)
}

fn transaction(kind: &str, amount: &str, receiver: &str) -> TransactionArgs {
    TransactionArgs {
        activity: "GB-GOV-1-301150-117".into(),
        transaction_type: kind.into(),
        amount: amount.into(),
        currency: "GBP".into(),
        value_date: "2020-06-22".into(),
        date: None,
        provider: compose::party(
            Some("GB-GOV-1".into()),
            None,
            Some("GB-GOV-1-301150-117".into()),
        ),
        receiver: compose::party(
            Some(receiver.into()),
            Some("Danish Refugee Council".into()),
            None,
        ),
        description: "H2H COVID-19 response".into(),
        acknowledges: None,
    }
}

fn submit(target: &SubmitTarget, body: Body) -> Result<RecordId> {
    Ok(target.submit(&body)?.0)
}

fn start_node(data_dir: &Path, genesis: &Path, org: &str, key: &Path) -> Result<NodeGuard> {
    let binary = std::env::current_exe()?.with_file_name("aidledger-node");
    let child = Command::new(&binary)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--genesis")
        .arg(genesis)
        .arg("--org")
        .arg(org)
        .arg("--key")
        .arg(key)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (build it with cargo build --workspace --bins)",
                binary.display()
            )
        })?;
    Ok(NodeGuard(child))
}

fn wait_for_node(data_dir: &Path) -> Result<SubmitTarget> {
    let deadline = Instant::now() + NODE_START_TIMEOUT;
    loop {
        if let Ok(target) = SubmitTarget::from_data_dir(data_dir) {
            return Ok(target);
        }
        if Instant::now() > deadline {
            bail!("the node did not start within {NODE_START_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
