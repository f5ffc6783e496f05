//! The explorer in a real browser: headless Chromium walks home → organisation → record →
//! activity → treaty on a network with data from two organisations, checks the text a person
//! sees, proves that a record's `<script>` shows as text and never runs, and keeps a screenshot
//! of every page in `target/test-artifacts/explorer/`.

use std::path::Path;

use aidledger_node::ExplorerIndex;
use aidledger_spec::record::{Money, Party, Transaction, TreatyAction, TreatyActionKind};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, Genesis, RecordDraft, RecordId, Verifier};
use aidledger_store::Store;
use aidledger_tests::browser::Browser;
use aidledger_tests::{path_str, Network, DONOR, IMPLEMENTER};
use ed25519_dalek::SigningKey;

const ACTIVITY: &str = "GB-GOV-1-300123";
const IMPLEMENTER_ACTIVITY: &str = "DK-CVR-20699310-WASH";
const XSS: &str = "<script>alert(1)</script>";

/// What the donor recorded through its node.
struct DonorRecords {
    disbursement: String,
    xss: String,
    treaty: String,
    correction: String,
}

fn transaction_args<'a>(kind: &'a str, amount: &'a str, description: &'a str) -> Vec<&'a str> {
    vec![
        "--activity",
        ACTIVITY,
        "--type",
        kind,
        "--amount",
        amount,
        "--currency",
        "GBP",
        "--value-date",
        "2024-03-01",
        "--provider-org",
        DONOR,
        "--receiver-org",
        IMPLEMENTER,
        "--description",
        description,
    ]
}

fn record_donor_data(network: &Network) -> DonorRecords {
    network.record(
        "transaction",
        &transaction_args(
            "outgoing-commitment",
            "1000000",
            "Commitment for water points",
        ),
    );
    let disbursement = network.record(
        "transaction",
        &transaction_args(
            "disbursement",
            "250000.00",
            "First tranche for water points",
        ),
    );
    let xss = network.record(
        "transaction",
        &transaction_args("disbursement", "1.50", XSS),
    );
    let text = network.dir.write(
        "treaty-en.txt",
        "Article 1. The parties cooperate on clean water.\nArticle 2. Funds are reported openly.",
    );
    let text_arg = format!("en={}", path_str(&text));
    let treaty = network.record(
        "treaty",
        &[
            "--title",
            "Water Cooperation Agreement",
            "--party",
            DONOR,
            "--party",
            IMPLEMENTER,
            "--text",
            &text_arg,
        ],
    );
    let data_dir = network.data_dir_arg();
    let action = network.cli.run([
        "record",
        "treaty-action",
        "--treaty",
        &treaty,
        "--action",
        "sign",
        "--date",
        "2024-04-02",
        "--data-dir",
        &data_dir,
    ]);
    action.assert_exit(0);
    let correction = network.cli.run([
        "record",
        "correction",
        "--corrects",
        &disbursement,
        "--reason",
        "The tranche was 240,000, not 250,000",
        "--amount",
        "240000.00",
        "--data-dir",
        &data_dir,
    ]);
    let correction = correction.assert_exit(0).stdout_hex32();
    DonorRecords {
        disbursement,
        xss,
        treaty,
        correction,
    }
}

fn read_key(path: &Path) -> SigningKey {
    let text = std::fs::read_to_string(path).expect("read a key file");
    let seed: [u8; 32] = hex::decode(text.trim())
        .expect("a key file is hex")
        .try_into()
        .expect("a key is 32 bytes");
    SigningKey::from_bytes(&seed)
}

/// Appends the implementer's chain to the donor's stopped node, as replication will: a receipt
/// acknowledging the disbursement and a signature of the treaty.
fn append_implementer_records(network: &mut Network, donor: &DonorRecords) {
    network.node.terminate();
    let store =
        Store::open(&network.data_dir(), ExplorerIndex).expect("open the stopped node's store");
    let genesis: Genesis = store.genesis().clone();
    let verifier = Verifier::new(genesis.clone());
    let key = read_key(&network.organisations[1].key_file);
    let treaty_id = RecordId::from_hex(&donor.treaty).expect("treaty id");
    let treaty_bytes = store
        .get(&treaty_id)
        .unwrap()
        .expect("the treaty is stored");
    let treaty = verifier.verify(treaty_bytes).expect("the treaty verifies");
    let Body::TreatyText(text) = treaty.body() else {
        panic!("not a treaty")
    };
    let date = Date {
        year: 2024,
        month: 3,
        day: 5,
    };
    let receipt = Body::Transaction(Transaction {
        activity_id: IMPLEMENTER_ACTIVITY.into(),
        transaction_type: 1,
        value: Money {
            amount: "240000.00".into(),
            currency: "GBP".into(),
        },
        value_date: date,
        transaction_date: date,
        provider: Some(Party {
            org_ref: DONOR.into(),
            name: "Foreign Office".into(),
            activity_id: ACTIVITY.into(),
        }),
        receiver: Some(Party {
            org_ref: IMPLEMENTER.into(),
            name: String::new(),
            activity_id: IMPLEMENTER_ACTIVITY.into(),
        }),
        description: "Received the first tranche".into(),
        acknowledges: Some(RecordId::from_hex(&donor.disbursement).unwrap()),
        iati: None,
    });
    let sign = Body::TreatyAction(TreatyAction {
        treaty: treaty_id,
        text_hash: text.text_hash(),
        action: TreatyActionKind::Sign,
        date,
        note: "Signed in Copenhagen".into(),
    });
    let mut prev = RecordId::ZERO;
    for (seq, body) in [receipt, sign].into_iter().enumerate() {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: IMPLEMENTER.into(),
            seq: seq as u64,
            prev,
            timestamp_ms: 1_720_000_000_000 + seq as u64,
            body,
        };
        let (_, bytes) = sign_record(&draft, &key).expect("sign");
        let record = verifier.verify(bytes).expect("verify");
        prev = record.id();
        store.append_durable(&[record]).expect("append");
    }
    drop(store);
    network.node.restart();
}

#[track_caller]
fn assert_shows(browser: &Browser, page: &str, needles: &[&str]) {
    let text = browser.visible_text();
    for needle in needles {
        assert!(
            text.contains(needle),
            "the {page} page should show {needle:?}; it shows:\n{text}"
        );
    }
}

#[test]
fn a_browser_walks_the_explorer_and_no_record_text_runs_as_script() {
    let mut network = Network::start("explorer-browser");
    let donor = record_donor_data(&network);
    append_implementer_records(&mut network, &donor);
    let base = network.node.public_url();
    let browser = Browser::launch("explorer");

    browser.goto(&format!("{base}/"));
    // The Content-Security-Policy allows styles from this origin only: the style sheet must
    // load and apply (the header's bottom border comes from it), so the page obeys the policy.
    assert_eq!(
        browser.eval_string("getComputedStyle(document.querySelector('header')).borderBottomStyle"),
        "solid",
        "the style sheet did not apply under the Content-Security-Policy"
    );
    assert_shows(
        &browser,
        "home",
        &[
            "Test Aid Network",
            &network.network_id,
            "Foreign Office",
            "Aid Implementer A/S",
            "donor",
            "no chain is forked",
            "Latest records",
        ],
    );
    browser.screenshot("1-home");

    browser.click(&format!("a[href='/org/{DONOR}']"));
    assert_shows(
        &browser,
        "organisation",
        &[
            "Foreign Office",
            "What this organisation reports",
            "What others report about this organisation",
            // Types in words, amounts grouped (issue 20).
            "outgoing commitment",
            "1,000,000",
            // 240000.00 (corrected from 250000.00) + 1.50
            "240,001.50",
            "Chain, newest first",
            &network.organisations[0].public_key,
        ],
    );
    browser.screenshot("2-organisation");

    browser.click(&format!("a[href='/record/{}']", donor.disbursement));
    assert_shows(
        &browser,
        "record",
        &[
            // The headline and the status line lead (issue 20); the chain and the bytes are
            // folded under the technical details.
            // The headline speaks of the record as it stands: corrected (issue 20).
            "Foreign Office disbursed GBP 240,000.00 to Aid Implementer A/S on 2024-03-01",
            "as corrected by its author",
            "amount now GBP 240,000.00, was GBP 250,000.00",
            "First tranche for water points",
            "Acknowledged by",
            "Corrected by",
            "Technical details",
            "Cite this record",
        ],
    );
    browser.screenshot("3-record");

    browser.click(&format!("a[href='/activity/{ACTIVITY}']"));
    assert_shows(
        &browser,
        "activity",
        &[
            ACTIVITY,
            // Findings lead; the publisher's totals and others' are two tables.
            "Findings",
            "Links",
            "What this publisher reports",
            "What others report about this activity",
            IMPLEMENTER,
            "incoming-funds",
            // The 240,000.00 receipt answers the disbursement corrected to 240,000.00.
            "full",
        ],
    );
    browser.screenshot("4-activity");

    browser.goto(&format!("{base}/search?q=water+cooperation"));
    assert_shows(
        &browser,
        "search",
        &["treaty title:", "Water Cooperation Agreement"],
    );
    browser.click(&format!("a[href='/treaty/{}']", donor.treaty));
    assert_shows(
        &browser,
        "treaty",
        &[
            "Water Cooperation Agreement",
            "Text hash",
            "Article 1. The parties cooperate on clean water.",
            "Signed in Copenhagen",
            DONOR,
            IMPLEMENTER,
        ],
    );
    browser.screenshot("5-treaty");

    browser.goto(&format!("{base}/record/{}", &donor.correction[..10]));
    assert_shows(
        &browser,
        "correction",
        &[
            // What it changes in words, not by the field's path (issue 20).
            "Foreign Office corrected its disbursement GBP 250,000.00, 2024-03-01",
            "This correction changes",
            "amount",
            "GBP 250,000.00",
            "GBP 240,000.00",
        ],
    );
    browser.screenshot("6-correction");

    browser.goto(&format!("{base}/record/{}", donor.xss));
    assert_shows(&browser, "hostile record", &[XSS]);
    assert_eq!(
        browser.alerts(),
        Vec::<String>::new(),
        "a record's script ran"
    );
    // The page's one script element is its own check in the browser (`/verify.js`, issue 21),
    // not the record's.
    assert_eq!(
        browser.script_count(),
        1,
        "the page holds another script element"
    );
    assert_eq!(
        browser.eval_string("new URL(document.scripts[0].src).pathname"),
        "/verify.js"
    );
    browser.screenshot("7-escaped-script");
}

/// The record pages for people (issue 20), at 1280 and 360 pixels: a disbursement's page leads
/// with its headline and, corrected, shows the current amount with the signed one inside
/// `<del>`; a withdrawn record says WITHDRAWN; the "Check it yourself" commands, run as the
/// page writes them, verify the record offline and print its headline. Screenshots in
/// `target/test-artifacts/record-pages/`.
#[test]
fn record_pages_lead_with_what_happened_and_their_commands_check_it() {
    let network = Network::start("record-pages");
    let donor = record_donor_data(&network);
    let withdrawn = network.record(
        "transaction",
        &transaction_args("disbursement", "5000.00", "Entered twice"),
    );
    network.record(
        "correction",
        &["--corrects", &withdrawn, "--reason", "Entered twice"],
    );
    let base = network.node.public_url();
    let browser = Browser::launch("record-pages");
    let headline = "Foreign Office disbursed GBP 240,000.00 to Aid Implementer A/S on 2024-03-01 \
         (activity GB-GOV-1-300123), as corrected by its author";

    for width in [1280, 360] {
        browser.set_viewport(width, 900);
        browser.goto(&format!("{base}/record/{}", donor.disbursement));
        assert_eq!(
            browser.eval_string("document.querySelector('h1').innerText"),
            headline
        );
        assert_eq!(
            browser.eval_string("document.querySelector('main p ins').innerText"),
            "GBP 240,000.00",
            "the corrected amount leads"
        );
        assert_eq!(
            browser.eval_string("document.querySelector('main p del').innerText"),
            "GBP 250,000.00",
            "the signed amount is struck through"
        );
        assert_eq!(
            browser
                .eval("document.documentElement.scrollWidth")
                .as_u64(),
            Some(u64::from(width)),
            "the record page fits {width} px"
        );
        browser.screenshot(&format!("disbursement-{width}"));

        browser.set_viewport(width, 900);
        browser.goto(&format!("{base}/record/{withdrawn}"));
        assert_eq!(
            browser.eval_string("document.querySelector('main strong.bad').innerText"),
            "WITHDRAWN"
        );
        assert_shows(
            &browser,
            "withdrawn record",
            &["WITHDRAWN by its author: “Entered twice”", "(withdrawn)"],
        );
        browser.screenshot(&format!("withdrawn-{width}"));
    }

    // "Check it yourself": the page's commands, run as written, verify the record offline.
    browser.goto(&format!("{base}/record/{}", donor.disbursement));
    let commands = browser.eval_string("document.getElementById('check-commands').innerText");
    let commands: Vec<Vec<&str>> = commands
        .lines()
        .map(|line| line.split_whitespace().skip(1).collect())
        .collect();
    assert_eq!(commands.len(), 2, "two commands: {commands:?}");
    assert_eq!(commands[0][..2], ["export", "--node"]);
    assert!(commands[0].contains(&network.network_id.as_str()));
    network.cli.run(&commands[0]).assert_exit(0);
    let shown = network.cli.run(&commands[1]).assert_exit(0);
    let lines: Vec<&str> = shown.stdout().lines().collect();
    assert!(
        lines[0].contains(&network.network_id) && !lines[0].contains("NOT pinned"),
        "the bundle is read against the pinned network id: {}",
        shown.describe()
    );
    assert_eq!(
        lines.get(1).copied(),
        Some(headline),
        "{}",
        shown.describe()
    );
    // No receipt names it in this network: the money link says so, in the CLI as on the page.
    let status = "corrected: amount now GBP 240,000.00, was GBP 250,000.00 · never acknowledged";
    assert_eq!(
        lines.get(2).copied(),
        Some(format!("status    {status}").as_str()),
        "{}",
        shown.describe()
    );
    let page: serde_json::Value =
        reqwest::blocking::get(format!("{base}/api/record/{}", donor.disbursement))
            .and_then(reqwest::blocking::Response::json)
            .expect("the record's JSON");
    assert_eq!(
        page["status"],
        status,
        "the page's status line and `show`'s agree: {page}\n{}",
        shown.describe()
    );
}
