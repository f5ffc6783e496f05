//! The verifying reader against `spec/vectors/bundles.json`: FORMAT.md 13.1 (the authority is
//! derived once, at the first ordinary record, even when no governance record came before it)
//! and 11–12 (a repeated proof is reported once; an altered record is one problem, not also a
//! gap), through the pipeline and through `aidledger verify`. A control builds the canonical
//! order from the governance vectors' `add-member` scenario.

#[path = "../../spec/tests/support/governance_vectors.rs"]
mod governance_vectors;
#[path = "../../spec/tests/support/signature_edges.rs"]
mod signature_edges;
#[path = "../../spec/tests/support/vector_set.rs"]
mod vector_set;

use aidledger_cli::pipeline::{verify_items, SignatureMode};
use aidledger_spec::bundle::{BundleItem, BundleReader};
use aidledger_spec::chain::Report;
use aidledger_spec::governance::ProposalState;
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, Body, Digest, Genesis, RecordDraft, Verifier};
use ed25519_dalek::SigningKey;
use governance_vectors::{governance_genesis, scenarios, NEWCOMER, OBSERVER, OBSERVER_SEED};

/// The add-member scenario's records, labelled: the donor's proposal, the implementer's two
/// approvals, and the newcomer's first record.
fn add_member_records() -> Vec<(&'static str, Vec<u8>)> {
    scenarios()
        .into_iter()
        .find(|scenario| scenario.name == "add-member")
        .expect("the add-member scenario")
        .entries
        .into_iter()
        .map(|entry| (entry.label, entry.bytes))
        .collect()
}

/// An ordinary record of a genesis member that no scenario record depends on.
fn observer_statement() -> Vec<u8> {
    let draft = RecordDraft {
        network_id: governance_genesis().network_id(),
        author: OBSERVER.into(),
        seq: 0,
        prev: Digest::ZERO,
        timestamp_ms: vector_set::CREATED_MS + 1,
        body: Body::Statement(Statement {
            title: "Observation".into(),
            language: "en".into(),
            text: "Nothing to report.".into(),
        }),
    };
    sign_record(&draft, &SigningKey::from_bytes(&OBSERVER_SEED))
        .expect("sign")
        .1
}

fn verify(records: Vec<Vec<u8>>) -> Report {
    let verifier = Verifier::new(governance_genesis());
    let items = records
        .into_iter()
        .map(|bytes| Ok::<_, std::convert::Infallible>(BundleItem::Record(bytes)));
    match verify_items(&verifier, items, SignatureMode::Batch, |_| {}) {
        Ok(report) => report,
        Err(never) => match never {},
    }
}

fn codes(report: &Report) -> Vec<(Option<String>, &'static str)> {
    report
        .problems()
        .map(|problem| (problem.author.clone(), problem.reason.code()))
        .collect()
}

fn effective_steps(report: &Report) -> usize {
    report
        .governance
        .as_ref()
        .expect("a governance summary")
        .proposals
        .iter()
        .filter(|proposal| matches!(proposal.state, ProposalState::Effective { .. }))
        .count()
}

#[test]
fn governance_first_adds_the_member_for_the_records_after_it() {
    let mut records = vec![observer_statement()];
    let scenario = add_member_records();
    // Canonical order: governance, then ordinary records.
    let (governance, ordinary): (Vec<_>, Vec<_>) = scenario
        .into_iter()
        .partition(|(label, _)| *label != "newcomer-statement");
    let mut canonical: Vec<Vec<u8>> = governance.into_iter().map(|(_, bytes)| bytes).collect();
    canonical.append(&mut records);
    canonical.extend(ordinary.into_iter().map(|(_, bytes)| bytes));
    let report = verify(canonical);
    assert!(report.is_valid(), "{:?}", codes(&report));
    assert!(report
        .chains
        .iter()
        .any(|chain| chain.author == NEWCOMER && chain.length == 1));
    assert_eq!(effective_steps(&report), 1);
}

fn vector_cases() -> Vec<serde_json::Value> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/bundles.json");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("bundles.json")).expect("JSON");
    file["cases"].as_array().expect("cases").clone()
}

fn hex_bytes(value: &serde_json::Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex")).expect("valid hex")
}

#[test]
fn every_bundle_vector_gets_its_problems_in_report_order() {
    for case in vector_cases() {
        let name = case["name"].as_str().expect("a name");
        let bytes = hex_bytes(&case["bundle_hex"]);
        let reader = BundleReader::new(bytes.as_slice()).expect("a bundle");
        let genesis = Genesis::decode(reader.genesis_bytes()).expect("genesis");
        let verifier = Verifier::new(genesis);
        let report = verify_items(&verifier, reader, SignatureMode::Batch, |_| {})
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let got: Vec<serde_json::Value> = report
            .problems()
            .map(|problem| {
                serde_json::json!({
                    "author": problem.author,
                    "seq": problem.seq,
                    "code": problem.reason.code(),
                })
            })
            .collect();
        let expected = &case["expected"];
        assert_eq!(
            serde_json::Value::Array(got),
            expected["problems"],
            "{name}"
        );
        assert_eq!(report.is_valid(), expected["valid"] == true, "{name}");
        assert_eq!(
            serde_json::json!(effective_steps(&report)),
            expected["effective_proposals"],
            "{name}"
        );
    }
}

#[test]
fn verify_prints_one_line_per_problem_of_each_bundle_vector() {
    let dir = tempfile::tempdir().expect("temp dir");
    for case in vector_cases() {
        let name = case["name"].as_str().expect("a name");
        let path = dir.path().join(format!("{name}.bundle"));
        std::fs::write(&path, hex_bytes(&case["bundle_hex"])).expect("write");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .args(["verify", "--bundle"])
            .arg(&path)
            .output()
            .expect("run aidledger");
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let expected = case["expected"]["problems"].as_array().expect("problems");
        // The problem lines: indented, after the `problems  N` line.
        let lines: Vec<&str> = stdout
            .lines()
            .skip_while(|line| !line.starts_with("problems"))
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .collect();
        assert_eq!(
            lines.len(),
            expected.len(),
            "{name}: one line per problem:\n{stdout}"
        );
        for (line, problem) in lines.iter().zip(expected) {
            match problem["author"].as_str() {
                Some(author) => assert!(line.trim_start().starts_with(author), "{name}: {line}"),
                None => assert!(line.trim_start().starts_with("input:"), "{name}: {line}"),
            }
        }
        assert!(
            !stdout.to_lowercase().contains("gap"),
            "{name}: no gap line:\n{stdout}"
        );
    }
}
