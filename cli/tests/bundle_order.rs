//! The verifying reader follows FORMAT.md 13.1 when governance records come after ordinary
//! ones: the authority is derived once, at the first ordinary record, even when no governance
//! record came before it; later governance records are reported (`governance-out-of-order`)
//! and change nothing for the records after them. Records come from the spec's governance
//! vectors (the `add-member` scenario).

#[path = "../../spec/tests/support/governance_vectors.rs"]
mod governance_vectors;
#[path = "../../spec/tests/support/signature_edges.rs"]
mod signature_edges;
#[path = "../../spec/tests/support/vector_set.rs"]
mod vector_set;

use aidledger_cli::pipeline::{verify_items, SignatureMode};
use aidledger_spec::bundle::BundleItem;
use aidledger_spec::chain::Report;
use aidledger_spec::governance::ProposalState;
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, Body, Digest, RecordDraft, Verifier};
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

#[test]
fn governance_after_the_first_ordinary_record_changes_nothing_after_it() {
    // No governance record before the first ordinary one: the authority is the genesis', and
    // the add-member records that follow do not make the newcomer a member for its record.
    let mut records = vec![observer_statement()];
    records.extend(add_member_records().into_iter().map(|(_, bytes)| bytes));
    let report = verify(records);
    let problems = codes(&report);
    assert!(!report.is_valid());
    assert!(
        problems.contains(&(None, "governance-out-of-order")),
        "{problems:?}"
    );
    assert!(
        problems.contains(&(Some(NEWCOMER.to_owned()), "unknown-author")),
        "the newcomer's record is judged under the genesis authority: {problems:?}"
    );
    assert!(
        !report
            .chains
            .iter()
            .any(|chain| chain.author == NEWCOMER && chain.length > 0),
        "the newcomer's chain must not be linked"
    );
    // The governance summary is derived from every governance record read (13.1).
    assert_eq!(effective_steps(&report), 1);
}
