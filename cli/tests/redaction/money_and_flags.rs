//! The money views count a redacted transaction; `record redaction` refuses bad flags.

use aidledger_spec::record::Transaction;
use aidledger_spec::redaction::RedactionCategory;
use aidledger_spec::Body;

use crate::support::*;

#[test]
fn money_views_count_a_redacted_transaction_instead_of_dropping_it() {
    let dir = temp_dir("money");
    let mut network = Network::new();
    let disbursement = network.add_withheld(
        DONOR,
        Body::Transaction(Transaction {
            receiver: party(IMPLEMENTER, ""),
            description: format!("to {SECRET}"),
            ..transaction("GB-GOV-1-A", 3, "5000.00")
        }),
    );
    network.add(
        DONOR,
        Body::Transaction(Transaction {
            receiver: party(IMPLEMENTER, ""),
            ..transaction("GB-GOV-1-A", 3, "1250.50")
        }),
    );
    network.add(
        DONOR,
        order(vec![disbursement], RedactionCategory::SafetyOfPersons),
    );
    network.add(
        IMPLEMENTER,
        Body::Transaction(Transaction {
            provider: party(DONOR, "GB-GOV-1-A"),
            acknowledges: Some(disbursement.id),
            ..transaction("DK-1-B", 1, "5000.00")
        }),
    );
    let bundle = network.write(&dir);
    let window = ["--as-of", "2024-03-02"];

    let reconcile = on_bundle(&[&["reconcile"][..], &window].concat(), &bundle);
    assert_eq!(reconcile.code, Some(0), "{}", reconcile.describe());
    assert!(
        reconcile.stdout.contains(
            "redacted: plus 1 redacted transaction (amount withheld: unknown to the reader); in \
             no link's sums"
        ),
        "{}",
        reconcile.describe()
    );
    // The receipt's link is keyed on the redacted disbursement: redacted, not a finding that
    // the disbursement is missing ("unreported … not held").
    assert!(
        reconcile.stdout.contains(&format!(
            "[acknowledgement {id}] redacted [disbursement]: record {id}: redacted, its amount \
             withheld → {IMPLEMENTER} reports 5000.00 GBP (1 record)",
            id = disbursement.id
        )),
        "{}",
        reconcile.describe()
    );
    assert!(
        reconcile
            .stdout
            .contains("statuses: redacted 1, unacknowledged-pending 1")
            && reconcile.stdout.contains("findings (0)")
            && !reconcile.stdout.contains("not held"),
        "{}",
        reconcile.describe()
    );
    let json = on_bundle(&[&["reconcile", "--json"][..], &window].concat(), &bundle).json();
    assert_eq!(json["redacted_transactions"], 1, "{json:#}");
    // The links list and the CSV say `redacted` too, not the model's status reckoned
    // without the withheld amount.
    let redacted_links: Vec<&serde_json::Value> = json["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter(|link| link["redacted"] == true)
        .collect();
    assert_eq!(redacted_links.len(), 1, "{json:#}");
    assert_eq!(redacted_links[0]["status"], "redacted", "{json:#}");
    let csv = on_bundle(&[&["reconcile", "--csv"][..], &window].concat(), &bundle);
    assert!(
        csv.stdout.lines().any(|line| line.starts_with("redacted,")),
        "{}",
        csv.describe()
    );

    let flow = on_bundle(&[&["flow", "GB-GOV-1-A"][..], &window].concat(), &bundle);
    assert_eq!(flow.code, Some(0), "{}", flow.describe());
    // The visible disbursement keeps its exact amount; the redacted one is counted beside it.
    assert!(
        flow.stdout.contains("disbursement 1250.50 GBP ×1"),
        "{}",
        flow.describe()
    );
    assert!(
        flow.stdout
            .contains("in this ledger: plus 1 redacted transaction (amount withheld"),
        "{}",
        flow.describe()
    );
    let json = on_bundle(
        &[&["flow", "GB-GOV-1-A", "--json"][..], &window].concat(),
        &bundle,
    )
    .json();
    assert_eq!(json["redacted_transactions"], 1, "{json:#}");
}

#[test]
fn record_redaction_refuses_an_unknown_category_and_a_malformed_record() {
    let dir = temp_dir("args");
    let token = dir.join("token");
    std::fs::write(&token, "t").expect("token");
    let token = token.display().to_string();
    let id = "ab".repeat(32);
    let target = ["--submit", "http://127.0.0.1:9", "--token-file", &token];
    let run = |record: &str, category: &str| {
        let mut args = vec![
            "record",
            "redaction",
            "--record",
            record,
            "--category",
            category,
            "--note",
            "n",
        ];
        args.extend(target);
        aidledger(&args)
    };
    let bad_category = run(&format!("3:{id}"), "because");
    assert_eq!(bad_category.code, Some(2), "{}", bad_category.describe());
    assert!(
        bad_category.stderr.contains(
            "--category: \"because\" is not a redaction category; use one of safety-of-persons, \
             personal-data, legal-order, authors-request"
        ),
        "{}",
        bad_category.describe()
    );
    let bad_seq = run(&format!("three:{id}"), "personal-data");
    assert_eq!(bad_seq.code, Some(2), "{}", bad_seq.describe());
    assert!(
        bad_seq
            .stderr
            .contains("the sequence number \"three\" before the colon is not a whole number"),
        "{}",
        bad_seq.describe()
    );
    let bad_id = run("3:abc", "personal-data");
    assert!(
        bad_id.code == Some(2)
            && bad_id
                .stderr
                .contains("--record: \"3:abc\": the id after the colon"),
        "{}",
        bad_id.describe()
    );
    let neither = run("yesterday's", "personal-data");
    assert!(
        neither.code == Some(2) && neither.stderr.contains("is not SEQ:ID"),
        "{}",
        neither.describe()
    );
}
