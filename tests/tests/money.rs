//! Money that does not arrive is a finding, said the same way by every tool (issue 19): real
//! node processes of three organisations, the donor's disbursements and the implementer's
//! receipts recorded on each one's own node and gossiped, then `reconcile` (text, CSV, JSON),
//! `flow`, the explorer's activity and record pages and its JSON API asked about the same
//! links.

use aidledger_spec::record::{Correction, Money, Party, Replacement, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{codec, Body, RecordId};
use aidledger_tests::network::{Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::{wait_until, Output, DONOR, IMPLEMENTER};
use serde_json::Value;

const DISBURSEMENT: u8 = 3;
const INCOMING_FUNDS: u8 = 1;

/// The mesh's node indexes of the two organisations that move money here.
const DONOR_NODE: usize = 0;
const IMPLEMENTER_NODE: usize = 1;

fn date(year: u16, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.into(),
        name: String::new(),
        activity_id: activity.into(),
    })
}

/// The donor's disbursement in `activity` to the implementer.
fn disbursement(activity: &str, amount: &str, currency: &str) -> Transaction {
    Transaction {
        activity_id: activity.into(),
        transaction_type: DISBURSEMENT,
        value: Money {
            amount: amount.into(),
            currency: currency.into(),
        },
        value_date: date(2026, 3, 1),
        transaction_date: date(2026, 3, 1),
        provider: party(DONOR, ""),
        receiver: party(IMPLEMENTER, ""),
        description: "tranche".into(),
        acknowledges: None,
        iati: None,
    }
}

/// The implementer's incoming funds from the donor's `provider_activity`, acknowledging
/// `acknowledges` when given.
fn receipt(
    provider_activity: &str,
    amount: &str,
    currency: &str,
    acknowledges: Option<&str>,
) -> Transaction {
    Transaction {
        activity_id: format!("{IMPLEMENTER}-{provider_activity}"),
        transaction_type: INCOMING_FUNDS,
        value: Money {
            amount: amount.into(),
            currency: currency.into(),
        },
        value_date: date(2026, 3, 10),
        transaction_date: date(2026, 3, 10),
        provider: party(DONOR, provider_activity),
        receiver: party(IMPLEMENTER, ""),
        description: "received".into(),
        acknowledges: acknowledges.map(|id| RecordId::from_hex(id).expect("record id")),
        iati: None,
    }
}

/// Submits `body` on `node` and returns the new record's id.
#[track_caller]
fn post(node: &MeshNode, body: Body) -> String {
    let (status, answer) = node.post_body(codec::encode(&body));
    assert_eq!(status, 200, "{} refused a record: {answer}", node.org);
    answer["id"]
        .as_str()
        .expect("the answer names the id")
        .to_owned()
}

/// Waits until every node of the mesh holds every record of `ids`.
#[track_caller]
fn wait_everywhere(mesh: &Mesh, ids: &[&str]) {
    for node in &mesh.nodes {
        for id in ids {
            wait_until(
                REPLICATION_TIMEOUT,
                &format!("{id} on {}", node.org),
                || node.has_record(id),
            );
        }
    }
}

/// Runs `aidledger ARGS… --node URL --network-id ID` against the auditor's node (it signs
/// none of these records: it only received them).
#[track_caller]
fn read(mesh: &Mesh, args: &[&str]) -> Output {
    let url = mesh.nodes[2].public_url();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--node", &url, "--network-id", &mesh.network_id]);
    mesh.cli.run(all).assert_no_panic()
}

fn get_text(url: &str) -> String {
    let response = reqwest::blocking::get(url).expect("GET");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.text().expect("body")
}

fn get_json(url: &str) -> Value {
    serde_json::from_str(&get_text(url)).expect("JSON")
}

/// The JSON objects anywhere in `value` for which `wanted` holds.
fn objects_where<'a>(
    value: &'a Value,
    wanted: &dyn Fn(&Value) -> bool,
    found: &mut Vec<&'a Value>,
) {
    if wanted(value) {
        found.push(value);
    }
    match value {
        Value::Object(map) => map
            .values()
            .for_each(|inner| objects_where(inner, wanted, found)),
        Value::Array(items) => items
            .iter()
            .for_each(|inner| objects_where(inner, wanted, found)),
        _ => {}
    }
}

/// Whether `value` mentions the string `needle` anywhere (keys excluded).
fn mentions(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(text) => text == needle,
        Value::Object(map) => map.values().any(|inner| mentions(inner, needle)),
        Value::Array(items) => items.iter().any(|inner| mentions(inner, needle)),
        _ => false,
    }
}

/// One history and what every tool must say about its link.
struct Case {
    /// What the case is, for failure messages.
    name: &'static str,
    /// The donor's activity.
    activity: &'static str,
    /// The donor's disbursement.
    disbursement: String,
    /// The implementer's receipts.
    receipts: Vec<String>,
    /// The status's name (`short`, `currency-differs`, …).
    status: &'static str,
    /// The status as text, e.g. `short 5000.00 GBP`.
    text: &'static str,
    /// The status in a record's status line for people (`aidledger show`, the record page).
    words: &'static str,
}

/// Records the four histories of the issue and returns what each must read.
fn record_cases(mesh: &Mesh) -> Vec<Case> {
    let donor = &mesh.nodes[DONOR_NODE];
    let implementer = &mesh.nodes[IMPLEMENTER_NODE];
    let mut cases = Vec::new();

    // 125,000.00 GBP paid, 120,000.00 acknowledged.
    let paid = post(
        donor,
        Body::Transaction(disbursement("GB-1-SHORT", "125000.00", "GBP")),
    );
    wait_everywhere(mesh, &[&paid]);
    let got = post(
        implementer,
        Body::Transaction(receipt("GB-1-SHORT", "120000.00", "GBP", Some(&paid))),
    );
    cases.push(Case {
        name: "125000.00 acknowledged by 120000.00",
        activity: "GB-1-SHORT",
        disbursement: paid,
        receipts: vec![got],
        status: "short",
        text: "short 5000.00 GBP",
        words: "short by GBP 5,000.00",
    });

    // 400,000.00 paid and acknowledged in full, then the donor corrects its amount upwards.
    let paid = post(
        donor,
        Body::Transaction(disbursement("GB-1-CORRECTED", "400000.00", "GBP")),
    );
    wait_everywhere(mesh, &[&paid]);
    let got = post(
        implementer,
        Body::Transaction(receipt("GB-1-CORRECTED", "400000.00", "GBP", Some(&paid))),
    );
    let correction = post(
        donor,
        Body::Correction(Correction {
            corrects: RecordId::from_hex(&paid).expect("record id"),
            reason: "the bank's fee was paid by us".into(),
            replacement: Some(Replacement::Transaction(disbursement(
                "GB-1-CORRECTED",
                "400000.50",
                "GBP",
            ))),
        }),
    );
    wait_everywhere(mesh, &[&correction]);
    cases.push(Case {
        name: "corrected to 400000.50 against 400000.00",
        activity: "GB-1-CORRECTED",
        disbursement: paid,
        receipts: vec![got],
        status: "short",
        text: "short 0.50 GBP",
        words: "short by GBP 0.50",
    });

    // One disbursement of 1,425,000.00 EUR, 43 receipts naming its activity, 1,293,860.00 in all.
    let paid = post(
        donor,
        Body::Transaction(disbursement("GB-1-MANY", "1425000.00", "EUR")),
    );
    let receipts: Vec<String> = (0..43)
        .map(|index| {
            let amount = if index == 0 { "33860.00" } else { "30000.00" };
            post(
                implementer,
                Body::Transaction(receipt("GB-1-MANY", amount, "EUR", None)),
            )
        })
        .collect();
    cases.push(Case {
        name: "one disbursement, 43 receipts summing to less",
        activity: "GB-1-MANY",
        disbursement: paid,
        receipts,
        status: "short",
        text: "short 131140.00 EUR",
        words: "short by EUR 131,140.00",
    });

    // Paid in EUR, acknowledged in USD: never converted.
    let paid = post(
        donor,
        Body::Transaction(disbursement("GB-1-CURRENCY", "1000.00", "EUR")),
    );
    wait_everywhere(mesh, &[&paid]);
    let got = post(
        implementer,
        Body::Transaction(receipt("GB-1-CURRENCY", "1100.00", "USD", Some(&paid))),
    );
    cases.push(Case {
        name: "EUR acknowledged in USD",
        activity: "GB-1-CURRENCY",
        disbursement: paid,
        receipts: vec![got],
        status: "currency-differs",
        text: "currency-differs (provider 1000.00 EUR, receiver 1100.00 USD)",
        words: "acknowledged in another currency (provided EUR 1,000.00, received USD 1,100.00)",
    });

    let every: Vec<&str> = cases
        .iter()
        .flat_map(|case| std::iter::once(&case.disbursement).chain(&case.receipts))
        .map(String::as_str)
        .collect();
    wait_everywhere(mesh, &every);
    cases
}

/// The links in `value` (reconcile's JSON or the explorer's API) whose provider side holds
/// `record`.
fn links_of<'a>(value: &'a Value, record: &str) -> Vec<&'a Value> {
    let mut found = Vec::new();
    let has_provider_record = |candidate: &Value| {
        candidate.get("status").is_some_and(Value::is_string)
            && candidate
                .get("provider")
                .and_then(Value::as_array)
                .is_some_and(|side| side.iter().any(|entry| mentions(entry, record)))
    };
    objects_where(value, &has_provider_record, &mut found);
    found
}

/// Asserts that the JSON `value` holds exactly one kind of link for `case`, with its status,
/// its text and every receipt.
#[track_caller]
fn assert_json_link(value: &Value, case: &Case, source: &str) {
    let links = links_of(value, &case.disbursement);
    assert!(
        !links.is_empty(),
        "{source}: no link of {} ({})\n{value:#}",
        case.disbursement,
        case.name
    );
    for link in links {
        assert_eq!(
            link["status"], case.status,
            "{source}: {}\n{link:#}",
            case.name
        );
        assert_eq!(link["text"], case.text, "{source}: {}\n{link:#}", case.name);
        for receipt in &case.receipts {
            assert!(
                link["receiver"]
                    .as_array()
                    .is_some_and(|side| side.iter().any(|entry| mentions(entry, receipt))),
                "{source}: receipt {receipt} missing from the link ({})\n{link:#}",
                case.name
            );
        }
    }
}

/// The CSV row of `case`'s link: the one naming its disbursement.
#[track_caller]
fn assert_csv_row(csv: &str, case: &Case) {
    let rows: Vec<&str> = csv
        .lines()
        .filter(|line| line.contains(case.disbursement.as_str()))
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "one CSV row per link ({}):\n{csv}",
        case.name
    );
    let row = rows[0];
    assert!(
        row.split(',').any(|field| field == case.status),
        "CSV status {} ({}): {row}",
        case.status,
        case.name
    );
    for receipt in &case.receipts {
        assert!(
            row.contains(receipt.as_str()),
            "CSV row lacks {receipt}: {row}"
        );
    }
    if case.status == "short" {
        let amount = case.text.split(' ').nth(1).expect("short AMOUNT CUR");
        assert!(
            row.split(',')
                .any(|field| field.trim_start_matches('-') == amount),
            "CSV difference {amount} ({}): {row}",
            case.name
        );
    }
}

#[test]
fn every_tool_reads_the_same_shortfalls_and_currency_mismatches() {
    let mesh = Mesh::start("money_findings", false);
    mesh.wait_connected(&[0, 1, 2], 2);
    let cases = record_cases(&mesh);

    let text = read(&mesh, &["reconcile"]).assert_exit(0);
    let csv = read(&mesh, &["reconcile", "--csv"]).assert_exit(0);
    let json = read(&mesh, &["reconcile", "--json"]).assert_exit(0).json();
    let explorer = mesh.nodes[2].public_url();
    for case in &cases {
        assert!(
            text.stdout().contains(case.text),
            "reconcile's text lacks {:?} ({}):\n{}",
            case.text,
            case.name,
            text.stdout()
        );
        assert_csv_row(csv.stdout(), case);
        assert_json_link(&json, case, "reconcile --json");

        // `show` of the disbursement: its status line says what became of the money.
        let shown = read(&mesh, &["show", &case.disbursement]).assert_exit(0);
        let status_line = shown
            .stdout()
            .lines()
            .find(|line| line.starts_with("status "))
            .unwrap_or_default()
            .to_owned();
        assert!(
            status_line.ends_with(&format!(" · {}", case.words)),
            "show {} ({}): {status_line:?}\n{}",
            case.disbursement,
            case.name,
            shown.stdout()
        );
        // The time in words beside the signed milliseconds, and no field shown empty.
        let timestamp = shown
            .stdout()
            .lines()
            .find(|line| line.starts_with("timestamp "))
            .unwrap_or_default()
            .to_owned();
        assert!(
            timestamp.contains(" UTC (") && timestamp.ends_with(" ms)"),
            "{timestamp:?}\n{}",
            shown.stdout()
        );
        let parties = shown
            .stdout()
            .lines()
            .filter(|line| line.starts_with("provider ") || line.starts_with("receiver "));
        for line in parties {
            // The label is padded to its column; what follows has no gap and no loose end.
            let named = line.get(10..).unwrap_or_default();
            assert!(
                !named.is_empty()
                    && named.trim() == named
                    && !named.contains("  ")
                    && !named.ends_with(" activity"),
                "an empty field in {line:?}\n{}",
                shown.stdout()
            );
        }

        let flow = read(&mesh, &["flow", case.activity]).assert_exit(0);
        assert!(
            flow.stdout().contains(case.text),
            "flow {} lacks {:?}:\n{}",
            case.activity,
            case.text,
            flow.stdout()
        );

        let api = get_json(&format!("{explorer}/api/activity/{}", case.activity));
        assert_json_link(&api, case, "/api/activity");
        for page in [
            format!("{explorer}/activity/{}", case.activity),
            format!("{explorer}/record/{}", case.disbursement),
        ] {
            // Pages are for people: their amounts are grouped (issue 20), the same digits.
            let grouped = aidledger_view::format::group_numbers(case.text);
            let html = get_text(&page);
            assert!(
                html.contains(&grouped),
                "{page} lacks {grouped:?} ({})",
                case.name
            );
        }
    }

    // Findings lead: every shortfall is under the findings heading, before the list of links.
    let stdout = text.stdout();
    let findings = stdout.find("findings (4), shortfalls first:");
    let links = stdout.find("links (4):");
    let first_short = stdout.find("short 5000.00 GBP");
    assert!(
        findings.is_some() && findings < first_short && first_short < links,
        "reconcile must lead with its four findings, shortfalls first:\n{stdout}"
    );
    // A pipeline can stop on a shortfall.
    read(&mesh, &["reconcile", "--fail-on", "short"]).assert_exit(1);
    read(&mesh, &["reconcile", "--fail-on", "over"]).assert_exit(0);
}
