//! The money commands (`reconcile`, `flow`, `provenance`) on a bundle made here, offline,
//! with the real binary: every status of issue 19's cases in text, CSV and JSON, and
//! `--fail-on`'s exit code.
//!
//! The bundle: GB-1 pays DK-1 125000.00 GBP acknowledged by a 120000.00 receipt; a 400000.00
//! disbursement corrected to 400000.50 against a 400000.00 receipt; XM-1 pays 1425000 EUR to
//! DK-1, which reports 43 incoming funds naming XM-1's activity; 100.00 EUR acknowledged in
//! USD; a withdrawn disbursement whose receipt stands; a commitment partly disbursed; a
//! disbursement GB-1 reports as paid by another organisation. DK-1's chain is written first,
//! so its receipts come before their targets.

use std::path::{Path, PathBuf};
use std::process::Command;

use aidledger_cli::network::build_genesis;
use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{Genesis, Member, Role};
use aidledger_spec::record::{Correction, Money, Party, Replacement, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, PublicKey, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::Value;

const DONOR: &str = "GB-1";
const RECEIVER: &str = "DK-1";
const OTHER_DONOR: &str = "XM-1";

fn key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32])
}

fn member(id: &str, role: Role, key_byte: u8) -> Member {
    Member {
        id: id.into(),
        name: format!("{id} name"),
        roles: vec![role],
        signing_keys: vec![PublicKey(key(key_byte).verifying_key().to_bytes())],
        node_keys: vec![],
    }
}

fn key_of(author: &str) -> u8 {
    match author {
        DONOR => 1,
        RECEIVER => 2,
        _ => 3,
    }
}

/// Signs records in chain order per author.
struct Chains {
    genesis: Genesis,
    heads: std::collections::HashMap<String, (u64, RecordId)>,
    records: Vec<(String, Vec<u8>)>,
}

impl Chains {
    /// No record yet, on a network of `members`.
    fn new(members: Vec<Member>) -> Chains {
        let genesis =
            build_genesis("money test", 1_700_000_000_000, members, None, None).expect("genesis");
        Chains {
            genesis,
            heads: Default::default(),
            records: Vec::new(),
        }
    }

    fn sign(&mut self, author: &str, body: Body) -> RecordId {
        let (seq, prev) = match self.heads.get(author) {
            Some((seq, id)) => (seq + 1, *id),
            None => (0, RecordId::ZERO),
        };
        let draft = RecordDraft {
            network_id: self.genesis.network_id(),
            author: author.into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + seq,
            body,
        };
        let (id, bytes) = sign_record(&draft, &key(key_of(author))).expect("signs");
        self.heads.insert(author.into(), (seq, id));
        self.records.push((author.to_owned(), bytes));
        id
    }
}

fn date() -> Date {
    Date {
        year: 2024,
        month: 3,
        day: 1,
    }
}

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.into(),
        name: String::new(),
        activity_id: activity.into(),
    })
}

fn tx(activity: &str, kind: u8, amount: &str, currency: &str) -> Transaction {
    Transaction {
        activity_id: activity.into(),
        transaction_type: kind,
        value: Money {
            amount: amount.into(),
            currency: currency.into(),
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

fn paid(amount: &str, currency: &str) -> Transaction {
    Transaction {
        receiver: party(RECEIVER, ""),
        ..tx("GB-1-A", 3, amount, currency)
    }
}

fn received(amount: &str, currency: &str, target: RecordId) -> Transaction {
    Transaction {
        provider: party(DONOR, "GB-1-A"),
        acknowledges: Some(target),
        ..tx("DK-1-B", 1, amount, currency)
    }
}

/// The records of interest.
struct Story {
    bundle: PathBuf,
    short: RecordId,
    short_receipt: RecordId,
    corrected: RecordId,
    nl: RecordId,
    nl_receipts: Vec<RecordId>,
}

/// DK-1's receipts name GB-1's record ids, which are known only after GB-1 signs: GB-1's
/// chain is signed first, but DK-1's records are written to the bundle first.
fn story(dir: &Path) -> Story {
    let mut chains = Chains::new(vec![
        member(DONOR, Role::Donor, 1),
        member(RECEIVER, Role::Implementer, 2),
        member(OTHER_DONOR, Role::Donor, 3),
    ]);
    let genesis = chains.genesis.clone();
    let body = |transaction| Body::Transaction(transaction);
    let short = chains.sign(DONOR, body(paid("125000.00", "GBP")));
    let corrected = chains.sign(DONOR, body(paid("400000.00", "GBP")));
    let euro = chains.sign(DONOR, body(paid("100.00", "EUR")));
    let gone = chains.sign(DONOR, body(paid("10.00", "GBP")));
    chains.sign(
        DONOR,
        Body::Correction(Correction {
            corrects: corrected,
            reason: "the amount sent".into(),
            replacement: Some(Replacement::Transaction(paid("400000.50", "GBP"))),
        }),
    );
    chains.sign(
        DONOR,
        Body::Correction(Correction {
            corrects: gone,
            reason: "never sent".into(),
            replacement: None,
        }),
    );
    let committed = Transaction {
        receiver: party(RECEIVER, ""),
        ..tx("GB-1-C", 2, "1000.00", "GBP")
    };
    chains.sign(DONOR, body(committed));
    let tranche = chains.sign(
        DONOR,
        body(Transaction {
            receiver: party(RECEIVER, ""),
            ..tx("GB-1-C", 3, "600.00", "GBP")
        }),
    );
    chains.sign(
        DONOR,
        body(Transaction {
            provider: party("US-1", ""),
            ..tx("GB-1-P", 3, "77.00", "USD")
        }),
    );
    let nl = chains.sign(
        OTHER_DONOR,
        body(Transaction {
            receiver: party(RECEIVER, ""),
            ..tx("XM-1-NL", 3, "1425000", "EUR")
        }),
    );
    let short_receipt = chains.sign(RECEIVER, body(received("120000.00", "GBP", short)));
    chains.sign(RECEIVER, body(received("400000.00", "GBP", corrected)));
    chains.sign(RECEIVER, body(received("110.00", "USD", euro)));
    chains.sign(RECEIVER, body(received("10.00", "GBP", gone)));
    chains.sign(
        RECEIVER,
        body(Transaction {
            provider: party(DONOR, "GB-1-C"),
            acknowledges: Some(tranche),
            ..tx("DK-1-C", 1, "600.00", "GBP")
        }),
    );
    let mut nl_receipts = Vec::new();
    for number in 0..43 {
        // 42 × 30000.00 + 3860.00 = 1263860.00: 161140.00 short of 1425000.
        let amount = if number == 42 { "3860.00" } else { "30000.00" };
        nl_receipts.push(chains.sign(
            RECEIVER,
            body(Transaction {
                provider: party(OTHER_DONOR, "XM-1-NL"),
                ..tx("DK-1-NL", 1, amount, "EUR")
            }),
        ));
    }
    let bundle = dir.join("money.bundle");
    let file = std::fs::File::create(&bundle).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle");
    let (receipts, payments): (Vec<_>, Vec<_>) = chains
        .records
        .iter()
        .partition(|(author, _)| author == RECEIVER);
    for (_, record) in receipts.into_iter().chain(payments) {
        writer.record(record).expect("write");
    }
    writer.finish().expect("finish");
    Story {
        bundle,
        short,
        short_receipt,
        corrected,
        nl,
        nl_receipts,
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn aidledger(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(args)
        .env_remove("AIDLEDGER_DATA_DIR")
        .output()
        .expect("run aidledger");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn reconcile(story: &Story, extra: &[&str]) -> Run {
    let bundle = story.bundle.display().to_string();
    let mut args = vec!["reconcile", "--bundle", &bundle, "--as-of", "2025-01-01"];
    args.extend_from_slice(extra);
    aidledger(&args)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aidledger-money-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn reconcile_text_leads_with_the_shortfalls_and_lists_every_receipt() {
    let dir = temp_dir("text");
    let story = story(&dir);
    let run = reconcile(&story, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    let findings = out.find("findings (").expect("a findings section");
    let links = out.find("links (").expect("a links section");
    let first_finding = out[findings..]
        .lines()
        .nth(1)
        .expect("a first finding")
        .to_owned();
    assert!(first_finding.contains("short"), "{first_finding}");
    for expected in [
        "short 5000.00 GBP",
        "short 0.50 GBP",
        "short 161140.00 EUR",
        "currency-differs (provider 100.00 EUR, receiver 110.00 USD)",
        "withdrawn",
        "provider-differs",
        "partly-disbursed (remaining 400.00 GBP)",
    ] {
        assert!(
            out[findings..links].contains(expected),
            "{expected}:\n{out}"
        );
    }
    // Shortfalls before the currency mismatch, the withdrawal and provider-differs.
    let at = |text: &str| out[findings..].find(text).expect(text);
    assert!(at("short 161140.00 EUR") < at("currency-differs"));
    assert!(at("currency-differs") < at("withdrawn"));
    assert!(at("withdrawn") < at("provider-differs"));
    for receipt in &story.nl_receipts {
        assert!(out[findings..links].contains(&receipt.to_hex()), "{out}");
    }
    assert!(out.contains(&story.short.to_hex()) && out.contains(&story.short_receipt.to_hex()));
    let _ = std::fs::remove_dir_all(dir);
}

/// A CSV line's fields (RFC 4180 quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn reconcile_csv_has_one_row_per_link_with_both_sides_amounts_and_difference() {
    let dir = temp_dir("csv");
    let story = story(&dir);
    let run = reconcile(&story, &["--csv"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let mut lines = run.stdout.lines();
    let header = csv_fields(lines.next().expect("a header"));
    let column = |name: &str| header.iter().position(|field| field == name).expect(name);
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert!(rows.iter().all(|row| row.len() == header.len()));
    let row_of = |record: RecordId| {
        rows.iter()
            .find(|row| row[column("provider_records")].contains(&record.to_hex()))
            .unwrap_or_else(|| panic!("no row for {record}"))
    };
    let short = row_of(story.short);
    assert_eq!(short[column("status")], "short");
    assert_eq!(short[column("status_text")], "short 5000.00 GBP");
    assert_eq!(short[column("provider_amount")], "125000.00");
    assert_eq!(short[column("receiver_amount")], "120000.00");
    assert_eq!(short[column("currency")], "GBP");
    assert_eq!(short[column("difference")], "-5000.00");
    assert_eq!(
        short[column("receiver_records")],
        story.short_receipt.to_hex()
    );
    assert_eq!(
        row_of(story.corrected)[column("status_text")],
        "short 0.50 GBP"
    );
    let nl = row_of(story.nl);
    assert_eq!(nl[column("status_text")], "short 161140.00 EUR");
    assert_eq!(nl[column("kind")], "activity");
    assert_eq!(nl[column("receiver_records")].split(' ').count(), 43);
    assert_eq!(nl[column("receiver_amount")], "1263860.00");
    let euro = rows
        .iter()
        .find(|row| row[column("status")] == "currency-differs")
        .expect("a currency-differs row");
    assert_eq!(
        euro[column("status_text")],
        "currency-differs (provider 100.00 EUR, receiver 110.00 USD)"
    );
    assert_eq!(euro[column("currency")], "EUR;USD");
    assert!(rows.iter().any(|row| row[column("status")] == "withdrawn"));
    // The network line goes to stderr, so the CSV stays plain.
    assert!(run.stderr.contains("network"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn reconcile_json_carries_the_same_findings_with_amounts_as_strings() {
    let dir = temp_dir("json");
    let story = story(&dir);
    let run = reconcile(&story, &["--json"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let value: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(value["as_of"], "2025-01-01");
    assert_eq!(value["window_days"], 90);
    let findings = value["findings"].as_array().expect("findings");
    let names: Vec<&str> = findings
        .iter()
        .map(|finding| finding["finding"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..3], ["short", "short", "short"], "{names:?}");
    let short = findings
        .iter()
        .find(|finding| finding["target"] == story.short.to_hex())
        .expect("the 125000.00 link");
    assert_eq!(
        short["shortfall"],
        serde_json::json!([{"currency": "GBP", "amount": "5000.00"}])
    );
    assert_eq!(short["text"], "short 5000.00 GBP");
    let nl = findings
        .iter()
        .find(|finding| finding["provider_activity"] == "XM-1-NL")
        .expect("the NL link");
    assert_eq!(nl["receiver_records"].as_array().unwrap().len(), 43);
    // The link itself, under `links`, carries the 43 transactions.
    let link = value["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["key"] == nl["key"])
        .expect("the NL link under links");
    assert_eq!(link["receiver"].as_array().unwrap().len(), 43);
    assert_eq!(link["receiver"][0]["amount"], "30000.00");
    assert_eq!(nl["shortfall"][0]["amount"], "161140.00");
    let commitment = findings
        .iter()
        .find(|finding| finding["finding"] == "partly-disbursed")
        .expect("the commitment question");
    assert_eq!(commitment["remaining"], "400.00");
    assert!(names.contains(&"provider-differs"), "{names:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fail_on_exits_1_only_when_a_named_finding_occurs() {
    let dir = temp_dir("fail-on");
    let story = story(&dir);
    let run = reconcile(&story, &["--fail-on", "short,unacknowledged"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("short"), "{}", run.stderr);
    let run = reconcile(&story, &["--csv", "--fail-on", "over"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = reconcile(&story, &["--fail-on", "shortish"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("shortish"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn flow_and_provenance_say_the_link_status_from_the_model() {
    let dir = temp_dir("flow");
    let story = story(&dir);
    let bundle = story.bundle.display().to_string();
    let run = aidledger(&[
        "flow",
        "GB-1-A",
        "--bundle",
        &bundle,
        "--as-of",
        "2025-01-01",
    ]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("short 5000.00 GBP"), "{}", run.stdout);
    assert!(run.stdout.contains("short 0.50 GBP"), "{}", run.stdout);
    assert!(
        !run.stdout
            .contains("every provider transaction is acknowledged"),
        "{}",
        run.stdout
    );
    let run = aidledger(&["flow", "XM-1-NL", "--bundle", &bundle, "--json"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let value: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let edge = &value["paid_to"][0];
    assert_eq!(edge["links"][0]["status_text"], "short 161140.00 EUR");
    assert_eq!(edge["transactions"].as_array().unwrap().len(), 44);
    // Paid by another organisation, receiver not named: still a flow, labelled.
    let run = aidledger(&["flow", "GB-1-P", "--bundle", &bundle]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("provider-differs"), "{}", run.stdout);
    let run = aidledger(&[
        "provenance",
        &story.short_receipt.to_hex(),
        "--bundle",
        &bundle,
    ]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "money     link [acknowledgement {}]: short 5000.00 GBP",
            story.short.to_hex()
        )),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_receipt_acknowledging_a_disbursement_is_on_its_edge_whatever_provider_it_names() {
    let dir = temp_dir("flow-ack");
    let mut chains = Chains::new(vec![
        member(DONOR, Role::Donor, 1),
        member(RECEIVER, Role::Implementer, 2),
    ]);
    let genesis = chains.genesis.clone();
    let sent = chains.sign(
        DONOR,
        Body::Transaction(Transaction {
            receiver: party(RECEIVER, ""),
            ..tx("GB-1-D", 3, "50.00", "GBP")
        }),
    );
    // The receipt names the donor but not its activity.
    chains.sign(
        RECEIVER,
        Body::Transaction(Transaction {
            provider: party(DONOR, ""),
            acknowledges: Some(sent),
            ..tx("DK-1-D", 1, "50.00", "GBP")
        }),
    );
    let bundle = dir.join("ack.bundle");
    let file = std::fs::File::create(&bundle).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle");
    for (_, record) in &chains.records {
        writer.record(record).expect("write");
    }
    writer.finish().expect("finish");
    let bundle = bundle.display().to_string();
    let run = aidledger(&["flow", "GB-1-D", "--bundle", &bundle, "--json"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let value: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let edges = value["paid_to"].as_array().expect("paid_to");
    assert_eq!(edges.len(), 1, "{value}");
    assert_eq!(
        edges[0]["receiver_reported_text"], "incoming-funds 50.00 GBP ×1",
        "{value}"
    );
    assert_eq!(
        edges[0]["provider_reported_text"], "disbursement 50.00 GBP ×1",
        "{value}"
    );
    assert_eq!(
        edges[0]["to_activities"],
        serde_json::json!(["DK-1-D"]),
        "{value}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
