//! `aidledger demo --single-node` (formerly `aidledger walkthrough`, still accepted): a scripted
//! tour of one real node that records one record of each kind, exports the node's store and
//! verifies the bundle offline. It exits 0 only if every check passed. It shares the demo's
//! set-up: the same organisations, directory, node start and signal handling.

use std::path::Path;
use std::process::ExitCode;

use aidledger_cli::audit::{audit, audit_text};
use aidledger_cli::compose::{self, TransactionArgs};
use aidledger_cli::export::export_bundle;
use aidledger_cli::pipeline::SignatureMode;
use aidledger_cli::source::Source;
use aidledger_cli::submit::SubmitTarget;
use aidledger_spec::record::{Correction, Statement, TextVersion, TreatyText};
use aidledger_spec::{Body, RecordId};
use anyhow::{bail, Result};

use super::setup::{
    make_network, start_node, NodeProcesses, NodeStart, BUNDLE_FILE, DONOR, PARTNER,
};

/// Runs the tour in `dir`; `kept` says whether `dir` outlives it (given with `--dir`).
pub(crate) fn run(
    dir: &Path,
    kept: bool,
    public_port: Option<u16>,
    processes: &NodeProcesses,
) -> Result<ExitCode> {
    println!("walkthrough in {}", dir.display());
    let (genesis, network_id) = make_network(dir, "walkthrough network")?;
    println!("1. network of 3 organisations created; network id {network_id}");
    let start = NodeStart {
        dir,
        genesis: &genesis,
        org: DONOR,
        public_port: public_port.unwrap_or(0),
        bootstrap: &[],
    };
    let target = start_node(start, processes)?.target;
    println!(
        "2. {DONOR}'s node is running: submit {} / public {}",
        target.url,
        target.public_url.clone().unwrap_or_default()
    );
    record_every_kind(&target)?;
    let bundle = dir.join(BUNDLE_FILE);
    let public = Source::Node(target.public_url.clone().unwrap_or_default());
    export_bundle(&public, &bundle, Some(network_id))?;
    println!("6. exported the node's store to {}", bundle.display());
    processes.stop();

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
    if !kept {
        println!("(the temporary directory is removed now; pass --dir to keep it)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Steps 3 to 5: two transactions, a treaty text in two languages and its ratification, a
/// statement and a correction.
fn record_every_kind(target: &SubmitTarget) -> Result<()> {
    let commitment = submit(target, transaction("outgoing-commitment", "2000000")?)?;
    let disbursement = submit(target, transaction("disbursement", "400000.00")?)?;
    println!("3. recorded a commitment {commitment} and a disbursement {disbursement}");
    let treaty = TreatyText {
        title: "Agreement on humanitarian cooperation".into(),
        parties: vec![DONOR.into(), PARTNER.into()],
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
    let treaty_id = submit(target, Body::TreatyText(treaty))?;
    let ratification = submit(target, super::setup::ratification(treaty_id, text_hash)?)?;
    println!("4. recorded a treaty text {treaty_id} (text hash {text_hash}) and its ratification {ratification}");
    let statement = Statement {
        title: "Funding update".into(),
        language: "en".into(),
        text: "The first tranche was paid.".into(),
    };
    let statement_id = submit(target, Body::Statement(statement))?;
    let correction = Correction {
        corrects: disbursement,
        reason: "value date was mistyped".into(),
        replacement: None,
    };
    let correction_id = submit(target, Body::Correction(correction))?;
    println!("5. recorded a statement {statement_id} and a correction {correction_id}");
    Ok(())
}

/// A transaction from the donor to the partner.
fn transaction(kind: &str, amount: &str) -> Result<Body> {
    let args = TransactionArgs {
        activity: "GB-GOV-1-301150-117".into(),
        transaction_type: kind.into(),
        amount: amount.into(),
        currency: "GBP".into(),
        value_date: "2020-06-22".into(),
        date: None,
        provider: compose::party(Some(DONOR.into()), None, Some("GB-GOV-1-301150-117".into())),
        receiver: compose::party(
            Some(PARTNER.into()),
            Some("Danish Refugee Council".into()),
            None,
        ),
        description: "H2H COVID-19 response".into(),
        acknowledges: None,
    };
    Ok(Body::Transaction(compose::transaction(args)?))
}

fn submit(target: &SubmitTarget, body: Body) -> Result<RecordId> {
    Ok(target.submit(&body)?.0)
}
