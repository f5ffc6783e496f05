//! Redaction end to end, with real node processes on loopback (issue 23, "What must be
//! shown"): the donor redacts its own statement naming a partner at risk; the admins (two of
//! three) redact the implementer's transaction naming a person; a member that is neither the
//! author nor backed by the admins is refused. Afterwards no node's data directory holds the
//! redacted words (the raw files, read after the compaction of each node's next start), the
//! explorer and the API show the records as redacted with the reason, search finds nothing,
//! an export verifies and lists them as redacted, and the node that was offline during both
//! redactions forgets the bodies when it catches up.

use std::path::Path;

use aidledger_spec::governance::{Change, Proposal};
use aidledger_spec::record::{Money, Party, Statement, Transaction};
use aidledger_spec::redaction::{RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::text::Date;
use aidledger_spec::{codec, Body, RecordId};
use aidledger_tests::network::{Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::{path_str, wait_until, IMPLEMENTER};
use serde_json::Value;

/// Index of each genesis member's node in [`Mesh::nodes`].
const DONOR_NODE: usize = 0;
const IMPLEMENTER_NODE: usize = 1;
const AUDITOR_NODE: usize = 2;

/// Words that must leave every node: a partner's name in the donor's statement, a person's
/// name in the implementer's transaction. Unusual enough to appear nowhere else.
const PARTNER_NAME: &str = "Zarghuna Qasimiwal";
const PERSON_NAME: &str = "Khalidyar Wardakzai";

fn statement(title: &str, text: &str) -> Body {
    Body::Statement(Statement {
        title: title.into(),
        language: "en".into(),
        text: text.into(),
    })
}

fn payment_to_a_person() -> Body {
    let date = Date {
        year: 2026,
        month: 11,
        day: 2,
    };
    Body::Transaction(Transaction {
        activity_id: format!("{IMPLEMENTER}-CASH"),
        transaction_type: 4,
        value: Money {
            amount: "1250.00".into(),
            currency: "EUR".into(),
        },
        value_date: date,
        transaction_date: date,
        provider: None,
        receiver: Some(Party {
            org_ref: String::new(),
            name: PERSON_NAME.into(),
            activity_id: String::new(),
        }),
        description: format!("Cash transfer to {PERSON_NAME}, field interpreter"),
        acknowledges: None,
        iati: None,
    })
}

/// Posts `body` to `node`'s submit API and expects it recorded; returns (id, seq).
#[track_caller]
fn record(node: &MeshNode, body: &Body) -> (RecordId, u64) {
    let (status, answer) = node.post_body(codec::encode(body));
    assert_eq!(status, 200, "{} refused a record: {answer}", node.org);
    let id = answer["id"].as_str().expect("the answer has an id");
    let seq = answer["seq"].as_u64().expect("the answer has a seq");
    (RecordId::from_hex(id).expect("hex id"), seq)
}

/// The record's JSON on `node`'s public API, when it holds it.
fn record_json(node: &MeshNode, id: &RecordId) -> Option<Value> {
    node.get_json(&format!("/api/records/{}", id.to_hex()))
}

/// Whether `node` holds record `id` withheld (its content redacted).
fn is_redacted_on(node: &MeshNode, id: &RecordId) -> bool {
    record_json(node, id).is_some_and(|record| record["body"]["redacted"] == true)
}

#[track_caller]
fn wait_redacted(nodes: &[&MeshNode], id: &RecordId, what: &str) {
    for node in nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{what} ({id}) to be redacted on {}", node.org),
            || is_redacted_on(node, id),
        );
    }
}

/// The governance tip of `node`: the last effective proposal, or zeros.
fn tip(node: &MeshNode) -> RecordId {
    let governance = node.governance().expect("the governance state");
    governance["authority"]["steps"]
        .as_array()
        .and_then(|steps| steps.last())
        .and_then(|step| step["proposal"].as_str())
        .map_or(RecordId::ZERO, |id| RecordId::from_hex(id).expect("hex"))
}

/// The hits of a search on `node`'s explorer.
fn search_hits(node: &MeshNode, words: &str) -> usize {
    let query = words.replace(' ', "+");
    let results = node
        .get_json(&format!("/api/search?q={query}"))
        .expect("search results");
    results["hits"].as_array().map_or(0, Vec::len)
}

/// Waits until `node`'s explorer index covers every stored record.
#[track_caller]
fn wait_index_current(node: &MeshNode) {
    wait_until(
        REPLICATION_TIMEOUT,
        &format!("the index of {} to be current", node.org),
        || {
            node.get_json("/api/status")
                .is_some_and(|status| status["index_behind"] == 0)
        },
    );
}

/// Every file under `dir` that contains `needle`, byte for byte.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).expect("read a data directory");
    for entry in entries {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn redacted_content_leaves_every_node_and_every_chain_still_verifies() {
    let mut mesh = Mesh::start("redaction", false);
    mesh.wait_connected(&[DONOR_NODE, IMPLEMENTER_NODE, AUDITOR_NODE], 2);
    let donor = &mesh.nodes[DONOR_NODE];
    let implementer = &mesh.nodes[IMPLEMENTER_NODE];

    let (kept, _) = record(
        donor,
        &statement("Programme update", "Wells in three villages."),
    );
    let (at_risk, at_risk_seq) = record(
        donor,
        &statement(
            &format!("Our partner {PARTNER_NAME}"),
            &format!("Our partner {PARTNER_NAME} runs the girls' school."),
        ),
    );
    let (payment, payment_seq) = record(implementer, &payment_to_a_person());
    mesh.wait_converged(&[DONOR_NODE, IMPLEMENTER_NODE, AUDITOR_NODE]);
    // The auditor's node goes offline: it will learn of both redactions when it returns.
    mesh.nodes[AUDITOR_NODE].terminate();
    let donor = &mesh.nodes[DONOR_NODE];
    let implementer = &mesh.nodes[IMPLEMENTER_NODE];
    wait_index_current(donor);
    assert!(
        search_hits(donor, PARTNER_NAME) > 0,
        "the name is found before the redaction"
    );

    // A member that is neither the author nor backed by the admins is refused.
    let not_its_own = Body::Redaction(Redaction {
        records: vec![RedactedRecord {
            seq: at_risk_seq,
            id: at_risk,
        }],
        category: RedactionCategory::AuthorsRequest,
        note: "Not ours to remove.".into(),
    });
    let (status, answer) = implementer.post_body(codec::encode(&not_its_own));
    assert_eq!(
        status, 400,
        "another member's order must be refused: {answer}"
    );
    let refusal = answer.to_string();
    assert!(
        refusal.contains("redaction order names records of its author's own chain"),
        "the refusal names the problem: {refusal}"
    );

    // The donor redacts its own statement.
    let (order, _) = record(
        donor,
        &Body::Redaction(Redaction {
            records: vec![RedactedRecord {
                seq: at_risk_seq,
                id: at_risk,
            }],
            category: RedactionCategory::SafetyOfPersons,
            note: "The statement names a partner whose safety is at risk.".into(),
        }),
    );

    // The admins redact the implementer's transaction: the donor proposes, the implementer
    // approves (two of three).
    let proposal = Body::Proposal(Proposal {
        base: tip(donor),
        change: Change::Redact {
            member: IMPLEMENTER.into(),
            records: vec![RedactedRecord {
                seq: payment_seq,
                id: payment,
            }],
            category: RedactionCategory::PersonalData,
        },
        note: "A person asked for the erasure of their personal data (GDPR art. 17).".into(),
    });
    let (proposal_id, _) = record(donor, &proposal);
    wait_until(
        REPLICATION_TIMEOUT,
        "the implementer to hold the proposal",
        || implementer.has_record(&proposal_id.to_hex()),
    );
    mesh.cli
        .run([
            "gov",
            "approve",
            &proposal_id.to_hex(),
            "--data-dir",
            path_str(&implementer.data_dir),
        ])
        .assert_exit(0)
        .assert_no_panic();

    wait_redacted(&[donor, implementer], &at_risk, "the donor's statement");
    wait_redacted(
        &[donor, implementer],
        &payment,
        "the implementer's transaction",
    );
    assert!(
        !is_redacted_on(donor, &kept),
        "a record no order names keeps its content"
    );

    // An IATI import into a chain with redacted records would record a redacted transaction
    // again if the file still held it: it is refused until the operator says the files are
    // clear of them.
    let iati_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/iati/flattener-fixtures/fcdo-activity.xml");
    let import_into = |data_dir: &Path, extra: &[&str]| {
        let mut args = vec![
            "iati",
            "import",
            path_str(&iati_file),
            "--data-dir",
            path_str(data_dir),
        ];
        args.extend_from_slice(extra);
        mesh.cli.run(args).assert_no_panic()
    };
    let import = |extra: &[&str]| import_into(&implementer.data_dir, extra);
    // The donor's chain has a redacted statement only: no IATI key is hidden there.
    let donor_import = import_into(&donor.data_dir, &[]);
    assert!(
        !donor_import.mentions("redacted record"),
        "{}",
        donor_import.describe()
    );
    let refused = import(&[]).assert_exit(2);
    assert!(
        refused.mentions("redacted record") && refused.mentions("--despite-redactions"),
        "{}",
        refused.describe()
    );
    let allowed = import(&["--despite-redactions"]);
    assert!(
        !allowed.mentions("--despite-redactions"),
        "{}",
        allowed.describe()
    );

    // The explorer says so, with the reason, and never the content.
    for node in [donor, implementer] {
        let page = aidledger_tests::network::http()
            .get(format!("{}/record/{}", node.public_url(), at_risk.to_hex()))
            .send()
            .expect("the record page")
            .text()
            .expect("text");
        assert!(page.contains("REDACTED"), "{}: {page}", node.org);
        assert!(
            page.contains("the safety of persons"),
            "{}: {page}",
            node.org
        );
        assert!(
            !page.contains(PARTNER_NAME),
            "{}: the page shows the name",
            node.org
        );
        let json = node
            .get_json(&format!("/api/record/{}", payment.to_hex()))
            .expect("the record's JSON");
        assert_eq!(json["redacted"], true, "{json}");
        assert_eq!(json["redaction"]["category"], "personal-data", "{json}");
        assert_eq!(json["redaction"]["by"], "admins", "{json}");
        assert_eq!(json["redaction"]["order"], proposal_id.to_hex(), "{json}");
        wait_index_current(node);
        assert_eq!(
            search_hits(node, PARTNER_NAME),
            0,
            "{}: search finds the name",
            node.org
        );
        assert_eq!(
            search_hits(node, PERSON_NAME),
            0,
            "{}: search finds the name",
            node.org
        );
        assert!(
            search_hits(node, "Programme update") > 0,
            "{}: the rest is still found",
            node.org
        );
    }
    let org = donor
        .get_json(&format!("/api/org/{IMPLEMENTER}"))
        .expect("the implementer's page");
    assert_eq!(
        org["redacted_transactions"], 1,
        "money says plus 1 redacted"
    );
    let status = donor.status().expect("status");
    assert_eq!(status["compaction_due"], true, "{status}");
    let order_page = donor
        .get_json(&format!("/api/record/{}", order.to_hex()))
        .expect("the order's page");
    assert_eq!(order_page["record"]["kind"], "redaction", "{order_page}");

    // The auditor's node comes back and catches up: it forgets the bodies too.
    mesh.nodes[AUDITOR_NODE].start();
    let auditor = &mesh.nodes[AUDITOR_NODE];
    wait_redacted(&[auditor], &at_risk, "the donor's statement");
    wait_redacted(&[auditor], &payment, "the implementer's transaction");
    mesh.wait_converged(&[DONOR_NODE, IMPLEMENTER_NODE, AUDITOR_NODE]);

    // A node that must sync the chains from nothing (its store lost) takes the withheld
    // records from its peers as they are: header and signature, no body.
    mesh.nodes[AUDITOR_NODE].terminate();
    std::fs::remove_dir_all(mesh.nodes[AUDITOR_NODE].data_dir.join("store"))
        .expect("drop the store");
    mesh.nodes[AUDITOR_NODE].start();
    mesh.wait_converged(&[DONOR_NODE, IMPLEMENTER_NODE, AUDITOR_NODE]);
    let auditor = &mesh.nodes[AUDITOR_NODE];
    assert!(
        is_redacted_on(auditor, &at_risk),
        "a fresh store holds the statement withheld"
    );
    assert!(
        is_redacted_on(auditor, &payment),
        "a fresh store holds the payment withheld"
    );
    assert!(auditor.has_record(&kept.to_hex()), "and the rest whole");

    // Each node's next start compacts its store: then no file holds the words.
    for index in [DONOR_NODE, IMPLEMENTER_NODE, AUDITOR_NODE] {
        mesh.nodes[index].terminate();
        mesh.nodes[index].start();
        let node = &mesh.nodes[index];
        wait_until(REPLICATION_TIMEOUT, "the node to answer", || {
            node.status().is_some()
        });
        for name in [PARTNER_NAME, PERSON_NAME] {
            let found = files_containing(&node.data_dir, name);
            assert!(
                found.is_empty(),
                "{}: {name} is still in {found:?}",
                node.org
            );
        }
        assert_eq!(node.status().expect("status")["compaction_due"], false);
        assert!(
            is_redacted_on(node, &at_risk),
            "{}: redacted after a restart",
            node.org
        );
    }

    // An export verifies, and lists both records as redacted.
    let bundle = mesh.dir.join("after-redaction.bundle");
    mesh.cli
        .run([
            "export",
            "--out",
            path_str(&bundle),
            "--node",
            &mesh.nodes[AUDITOR_NODE].public_url(),
        ])
        .assert_exit(0);
    let verified = mesh
        .cli
        .run(["verify", "--bundle", path_str(&bundle), "--json"])
        .assert_exit(0)
        .assert_no_panic();
    let report = verified.json();
    let text = report.to_string();
    for id in [&at_risk, &payment] {
        assert!(text.contains(&id.to_hex()), "the report lists {id}: {text}");
    }
    assert!(text.contains("redacted"), "{text}");
    for name in [PARTNER_NAME, PERSON_NAME] {
        let bytes = std::fs::read(&bundle).expect("the bundle");
        assert!(
            !bytes
                .windows(name.len())
                .any(|window| window == name.as_bytes()),
            "the export carries {name}"
        );
    }
}
