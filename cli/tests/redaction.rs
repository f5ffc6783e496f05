//! Redacted records through the real binary: bundles holding withheld envelopes (a record's
//! header and signature, its body forgotten) are verified, and `verify`, `provenance`, `show`,
//! `log` and the money views say what was redacted, by whom, when and why; a withheld body
//! without an order in force, and an order naming what its author's chain does not hold, are
//! problems with their rule codes. `record redaction`'s bad flags are refused with the reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use aidledger_cli::network::build_genesis;
use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{Genesis, Member, Role};
use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::record::{Money, Party, Statement, Transaction};
use aidledger_spec::redaction::{RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::text::Date;
use aidledger_spec::withheld::withhold;
use aidledger_spec::{sign_record, Body, PublicKey, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::Value;

const DONOR: &str = "GB-GOV-1";
const IMPLEMENTER: &str = "DK-CVR-20699310";
const AUDITOR: &str = "XM-AUDIT-1";
/// Words that the redacted records said: no output may show them.
const SECRET: &str = "Ahmad Karimi in Herat";

fn key_of(author: &str) -> SigningKey {
    let byte = match author {
        DONOR => 1,
        IMPLEMENTER => 2,
        _ => 3,
    };
    SigningKey::from_bytes(&[byte; 32])
}

fn member(id: &str, role: Role) -> Member {
    Member {
        id: id.into(),
        name: format!("{id} name"),
        roles: vec![role],
        signing_keys: vec![PublicKey(key_of(id).verifying_key().to_bytes())],
        node_keys: vec![],
    }
}

/// A network of a donor, an implementer and an auditor, all admins, 2 of 3.
fn genesis() -> Genesis {
    build_genesis(
        "redaction test",
        1_700_000_000_000,
        vec![
            member(DONOR, Role::Donor),
            member(IMPLEMENTER, Role::Implementer),
            member(AUDITOR, Role::Auditor),
        ],
        None,
        None,
    )
    .expect("genesis")
}

/// Records signed in chain order per author, written to a bundle in the order they are
/// pushed (governance records first, as a canonical bundle has them).
struct Network {
    genesis: Genesis,
    heads: std::collections::HashMap<String, (u64, RecordId)>,
    records: Vec<Vec<u8>>,
}

impl Network {
    fn new() -> Network {
        Network {
            genesis: genesis(),
            heads: Default::default(),
            records: Vec::new(),
        }
    }

    /// Signs the next record of `author`; returns its position and id and its bytes (not yet
    /// in the bundle).
    fn sign(&mut self, author: &str, body: Body) -> (RedactedRecord, Vec<u8>) {
        let (seq, prev) = match self.heads.get(author) {
            Some((seq, id)) => (seq + 1, *id),
            None => (0, RecordId::ZERO),
        };
        let draft = RecordDraft {
            network_id: self.genesis.network_id(),
            author: author.into(),
            seq,
            prev,
            // A day apart per position, so that an order's date is told apart.
            timestamp_ms: 1_700_000_000_000 + seq * 86_400_000,
            body,
        };
        let (id, bytes) = sign_record(&draft, &key_of(author)).expect("signs");
        self.heads.insert(author.into(), (seq, id));
        (RedactedRecord { seq, id }, bytes)
    }

    /// Signs and keeps the record.
    fn add(&mut self, author: &str, body: Body) -> RedactedRecord {
        let (named, bytes) = self.sign(author, body);
        self.records.push(bytes);
        named
    }

    /// Signs the record and keeps only its withheld envelope (its body forgotten).
    fn add_withheld(&mut self, author: &str, body: Body) -> RedactedRecord {
        let (named, bytes) = self.sign(author, body);
        self.records.push(withhold(bytes).expect("a record"));
        named
    }

    fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("network.bundle");
        let file = std::fs::File::create(&path).expect("create the bundle");
        let mut writer = BundleWriter::new(file, &self.genesis.encode()).expect("bundle");
        for record in &self.records {
            writer.record(record).expect("write");
        }
        writer.finish().expect("finish");
        let bytes = std::fs::read(&path).expect("read the bundle");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "the bundle holds no redacted words"
        );
        path
    }
}

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    })
}

fn order(records: Vec<RedactedRecord>, category: RedactionCategory) -> Body {
    Body::Redaction(Redaction {
        records,
        category,
        note: "names a partner's staff member".into(),
    })
}

fn date() -> Date {
    Date {
        year: 2024,
        month: 3,
        day: 1,
    }
}

fn transaction(activity: &str, kind: u8, amount: &str) -> Transaction {
    Transaction {
        activity_id: activity.into(),
        transaction_type: kind,
        value: Money {
            amount: amount.into(),
            currency: "GBP".into(),
        },
        value_date: date(),
        transaction_date: date(),
        provider: None,
        receiver: None,
        description: String::new(),
        acknowledges: None,
        iati: None,
    }
}

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.into(),
        name: String::new(),
        activity_id: activity.into(),
    })
}

/// The output of one run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|_| panic!("JSON:\n{}", self.describe()))
    }
}

fn aidledger(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(args)
        .env_remove("AIDLEDGER_DATA_DIR")
        .env_remove("AIDLEDGER_NETWORK_ID")
        .output()
        .expect("run aidledger");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "no output shows the redacted words:\n{}",
        run.describe()
    );
    run
}

fn on_bundle(command: &[&str], bundle: &Path) -> Run {
    let mut args = command.to_vec();
    let path = bundle.display().to_string();
    args.extend(["--bundle", &path]);
    aidledger(&args)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("aidledger-redaction-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The donor's statement naming a person, redacted by the donor's own order two records later.
struct AuthorsRedaction {
    bundle: PathBuf,
    redacted: RedactedRecord,
    order: RedactedRecord,
}

fn authors_redaction(dir: &Path) -> AuthorsRedaction {
    let mut network = Network::new();
    let redacted = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    network.add(DONOR, statement("Quarterly report"));
    let order = network.add(
        DONOR,
        order(vec![redacted], RedactionCategory::SafetyOfPersons),
    );
    AuthorsRedaction {
        bundle: network.write(dir),
        redacted,
        order,
    }
}

#[test]
fn verify_lists_a_record_redacted_by_its_author_and_exits_0() {
    let dir = temp_dir("author");
    let story = authors_redaction(&dir);
    let run = on_bundle(&["verify"], &story.bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains(
            "redacted  GB-GOV-1: 1 record redacted (content withheld under an order in force)"
        ),
        "{}",
        run.describe()
    );
    let line = format!(
        "  GB-GOV-1 seq 0 {} (statement): redacted by its author (redaction order {} at seq 2) \
         for the safety of persons, ordered 2023-11-16 22:13:20 UTC",
        story.redacted.id, story.order.id
    );
    assert!(run.stdout.contains(&line), "{line}\n{}", run.describe());
    assert!(run.stdout.ends_with("VALID\n"), "{}", run.describe());

    let json = on_bundle(&["verify", "--json"], &story.bundle).json();
    assert_eq!(json["valid"], true);
    let listed = json["redacted"].as_array().expect("a list");
    assert_eq!(listed.len(), 1, "{json:#}");
    let entry = &listed[0];
    assert_eq!(entry["author"], DONOR);
    assert_eq!(entry["seq"], 0);
    assert_eq!(entry["record_id"], story.redacted.id.to_hex());
    assert_eq!(entry["kind"], "statement");
    assert_eq!(entry["order"]["by"], "author");
    assert_eq!(entry["order"]["order"], story.order.id.to_hex());
    assert_eq!(entry["order"]["order_seq"], 2);
    assert_eq!(entry["order"]["category"], "safety-of-persons");
    assert_eq!(entry["order"]["timestamp_ms"], 1_700_172_800_000u64);
}

#[test]
fn provenance_show_and_log_say_who_redacted_a_record_when_and_why() {
    let dir = temp_dir("provenance");
    let story = authors_redaction(&dir);
    let id = story.redacted.id.to_hex();
    let run = on_bundle(&["provenance", &id], &story.bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    for expected in [
        "kind      statement: REDACTED, content withheld".to_owned(),
        format!(
            "redacted  by its author (redaction order {} at seq 2)",
            story.order.id
        ),
        "why       the safety of persons (safety-of-persons)".to_owned(),
        "when      2023-11-16 22:13:20 UTC".to_owned(),
        format!("order     {}", story.order.id),
        "note      names a partner's staff member".to_owned(),
        "verified  the signature over the record's id".to_owned(),
        "chain     intact from seq 0 to this record".to_owned(),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected}\n{}",
            run.describe()
        );
    }
    let json = on_bundle(&["provenance", &id, "--json"], &story.bundle).json();
    assert_eq!(json["sound"], true);
    assert_eq!(json["valid"], true);
    assert_eq!(json["record"]["content_withheld"], true);
    assert_eq!(json["redacted"]["by"], "author");

    let show = on_bundle(&["show", &id], &story.bundle);
    assert_eq!(show.code, Some(0), "{}", show.describe());
    assert!(
        show.stdout
            .contains("status    content withheld: redacted by its author"),
        "{}",
        show.describe()
    );
    assert!(
        show.stdout.contains("(content withheld)"),
        "{}",
        show.describe()
    );

    let log = on_bundle(&["log", DONOR], &story.bundle);
    assert_eq!(log.code, Some(0), "{}", log.describe());
    assert!(
        log.stdout.contains(&format!(
            "{id}  statement: content withheld, redacted by its author"
        )),
        "{}",
        log.describe()
    );
}

#[test]
fn a_withheld_record_without_an_order_is_a_problem_and_exits_1() {
    let dir = temp_dir("no-order");
    let mut network = Network::new();
    let withheld = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    network.add(DONOR, statement("Quarterly report"));
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stdout.contains(
            "  GB-GOV-1 seq 0: the body is withheld, but no redaction order in force names this \
             record (withheld-without-order)"
        ),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("redacted  "), "{}", run.describe());
    let json = on_bundle(&["verify", "--json"], &bundle).json();
    assert_eq!(json["valid"], false);
    let chain = json["report"]["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .find(|chain| chain["author"] == DONOR)
        .expect("the donor's chain");
    let problems = &chain["problems"];
    assert_eq!(
        problems[0]["reason"]["code"], "withheld-without-order",
        "{json:#}"
    );
    assert_eq!(problems[0]["record_id"], withheld.id.to_hex());
    // `show` does not pass it off as a valid record, nor as a missing one.
    let show = on_bundle(&["show", &withheld.id.to_hex()], &bundle);
    assert_eq!(show.code, Some(1), "{}", show.describe());
    assert!(
        show.stdout.contains("(withheld-without-order)"),
        "{}",
        show.describe()
    );
}

#[test]
fn an_order_naming_another_members_record_is_a_problem_and_covers_nothing() {
    let dir = temp_dir("other-member");
    let mut network = Network::new();
    let withheld = network.add_withheld(DONOR, statement(&format!("We pay {SECRET}.")));
    // The implementer orders the donor's record redacted: only the donor, or the admins, may.
    let foreign = network.add(
        IMPLEMENTER,
        order(vec![withheld], RedactionCategory::LegalOrder),
    );
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let target_line = format!(
        "  {IMPLEMENTER} seq 0: the redaction order names record {} at seq 0, which its author's \
         chain does not hold there (redaction-target-not-found)",
        withheld.id
    );
    assert!(run.stdout.contains(&target_line), "{}", run.describe());
    assert!(
        run.stdout.contains("GB-GOV-1 seq 0: the body is withheld")
            && run.stdout.contains("(withheld-without-order)"),
        "{}",
        run.describe()
    );
    let json = on_bundle(&["verify", "--json"], &bundle).json();
    let codes: Vec<(String, String)> = json["report"]["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .flat_map(|chain| chain["problems"].as_array().cloned().unwrap_or_default())
        .map(|problem| {
            (
                problem["record_id"].as_str().unwrap_or("").to_owned(),
                problem["reason"]["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        codes.contains(&(foreign.id.to_hex(), "redaction-target-not-found".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(withheld.id.to_hex(), "withheld-without-order".into())),
        "{codes:?}"
    );
    assert_eq!(json["redacted"], serde_json::json!([]));
}

#[test]
fn the_admins_redact_another_members_record_and_verify_names_the_approvers() {
    let dir = temp_dir("admins");
    let mut network = Network::new();
    // The implementer's record is signed first (its id is named by the proposal) but written
    // after the governance records, as a canonical bundle orders them.
    let (redacted, bytes) = network.sign(IMPLEMENTER, statement(&format!("Paid {SECRET}.")));
    let proposal = network.add(
        DONOR,
        Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change: Change::Redact {
                member: IMPLEMENTER.into(),
                records: vec![redacted],
                category: RedactionCategory::LegalOrder,
            },
            note: "court order 2024/17".into(),
        }),
    );
    network.add(
        AUDITOR,
        Body::Approval(Approval {
            proposal: proposal.id,
        }),
    );
    network.records.push(withhold(bytes).expect("a record"));
    let bundle = network.write(&dir);
    let run = on_bundle(&["verify"], &bundle);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let line = format!(
        "  {IMPLEMENTER} seq 0 {} (statement): redacted by the admins (proposal {}, governance \
         step 1, approved by {DONOR}, {AUDITOR}) for a legal order, ordered 2023-11-14 22:13:20 UTC",
        redacted.id, proposal.id
    );
    assert!(run.stdout.contains(&line), "{line}\n{}", run.describe());
    let provenance = on_bundle(&["provenance", &redacted.id.to_hex()], &bundle);
    assert_eq!(provenance.code, Some(0), "{}", provenance.describe());
    assert!(
        provenance.stdout.contains(&format!(
            "redacted  by the admins (proposal {}, governance step 1, approved by",
            proposal.id
        )) && provenance.stdout.contains("note      court order 2024/17"),
        "{}",
        provenance.describe()
    );
}

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
