//! The pictures of the money in a real browser: headless Chromium at 1280 and 360 px opens an
//! activity page and an organisation page whose links are short, unacknowledged and in two
//! currencies, and checks that the flow diagram shown has one `<path>` per flow, that the
//! table under it holds the same numbers, that the shortfall is marked in the picture, and that
//! the page does not overflow a phone. Screenshots go to `target/test-artifacts/pictures/`.

use std::path::Path;

use aidledger_node::ExplorerIndex;
use aidledger_spec::record::{Money, Party, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, Genesis, RecordDraft, RecordId, Verifier};
use aidledger_store::Store;
use aidledger_tests::browser::Browser;
use aidledger_tests::{Network, DONOR, IMPLEMENTER};
use ed25519_dalek::SigningKey;
use serde_json::Value;

const ACTIVITY: &str = "GB-GOV-1-PICTURES";
const IMPLEMENTER_ACTIVITY: &str = "DK-CVR-20699310-PICTURES";
const LOCAL: &str = "XM-LOCAL-WATER";

fn disbursement<'a>(
    amount: &'a str,
    currency: &'a str,
    to: &'a str,
    name: &'a str,
) -> Vec<&'a str> {
    vec![
        "--activity",
        ACTIVITY,
        "--type",
        "disbursement",
        "--amount",
        amount,
        "--currency",
        currency,
        "--value-date",
        "2024-03-01",
        "--provider-org",
        DONOR,
        "--receiver-org",
        to,
        "--receiver-name",
        name,
        "--description",
        "Tranche",
    ]
}

fn read_key(path: &Path) -> SigningKey {
    let text = std::fs::read_to_string(path).expect("read a key file");
    let seed: [u8; 32] = hex::decode(text.trim())
        .expect("a key file is hex")
        .try_into()
        .expect("a key is 32 bytes");
    SigningKey::from_bytes(&seed)
}

fn transaction(kind: u8, amount: &str, provider: Party, receiver: Party) -> Body {
    let date = Date {
        year: 2024,
        month: 4,
        day: 2,
    };
    Body::Transaction(Transaction {
        activity_id: IMPLEMENTER_ACTIVITY.into(),
        transaction_type: kind,
        value: Money {
            amount: amount.into(),
            currency: "GBP".into(),
        },
        value_date: date,
        transaction_date: date,
        provider: Some(provider),
        receiver: Some(receiver),
        description: String::new(),
        acknowledges: None,
        iati: None,
    })
}

/// The implementer's chain, appended to the donor's stopped node as replication would: a
/// receipt of GBP 240,000.00 for the donor's GBP 250,000.00 (short 10,000.00) and a
/// disbursement on to a local organisation that never acknowledged it.
fn append_implementer_records(network: &mut Network, acknowledged: &str) {
    network.node.terminate();
    let store =
        Store::open(&network.data_dir(), ExplorerIndex).expect("open the stopped node's store");
    let genesis: Genesis = store.genesis().clone();
    let verifier = Verifier::new(genesis.clone());
    let key = read_key(&network.organisations[1].key_file);
    let party = |org: &str, name: &str, activity: &str| Party {
        org_ref: org.into(),
        name: name.into(),
        activity_id: activity.into(),
    };
    let mut receipt = transaction(
        1,
        "240000.00",
        party(DONOR, "", ACTIVITY),
        party(IMPLEMENTER, "", IMPLEMENTER_ACTIVITY),
    );
    if let Body::Transaction(receipt) = &mut receipt {
        receipt.acknowledges = Some(RecordId::from_hex(acknowledged).expect("a record id"));
    }
    let onward = transaction(
        3,
        "100000.00",
        party(IMPLEMENTER, "", IMPLEMENTER_ACTIVITY),
        party(LOCAL, "Local Water Association", ""),
    );
    let mut prev = RecordId::ZERO;
    for (seq, body) in [receipt, onward].into_iter().enumerate() {
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

/// Per flow picture shown: its currency's title, the `<path>`s of the drawing shown (the other
/// is hidden by the style sheet), their tooltips, the picture's text, and the table's rows.
const PICTURES: &str = r#"JSON.stringify(Array.from(document.querySelectorAll('figure.chart')).filter(f => f.querySelector('svg.flow')).map(f => {
  const shown = Array.from(f.querySelectorAll('svg.flow')).filter(s => s.getBoundingClientRect().width > 0);
  const svg = shown[0];
  const table = f.nextElementSibling.querySelector('table');
  return {
    shown: shown.length,
    kind: svg.classList.contains('wide') ? 'wide' : 'narrow',
    width: svg.getBoundingClientRect().width,
    title: svg.querySelector('title').textContent,
    paths: svg.querySelectorAll('path').length,
    tips: Array.from(svg.querySelectorAll('path > title')).map(t => t.textContent),
    text: Array.from(svg.querySelectorAll('text')).map(t => t.textContent).join(' | '),
    rows: Array.from(table.querySelectorAll('tbody tr.flow')).map(r => Array.from(r.cells).map(c => c.innerText.trim()))
  };
}))"#;

fn pictures(browser: &Browser) -> Vec<Value> {
    let text = browser.eval_string(PICTURES);
    serde_json::from_str(&text).expect("the pictures as JSON")
}

#[track_caller]
fn check_page(browser: &Browser, width: u32, page: &str) -> Vec<Value> {
    let shown = pictures(browser);
    assert!(
        !shown.is_empty(),
        "{page} at {width} px shows a flow picture"
    );
    for picture in &shown {
        assert_eq!(
            picture["shown"], 1,
            "one drawing of each picture is shown: {picture}"
        );
        let expected = if width <= 640 { "narrow" } else { "wide" };
        assert_eq!(picture["kind"], expected, "{picture}");
        let rows = picture["rows"].as_array().expect("rows");
        assert_eq!(
            picture["paths"].as_u64(),
            Some(rows.len() as u64),
            "one path per flow, one row per flow: {picture}"
        );
        // The same numbers: each flow's sent and received amounts are in its path's tooltip.
        let tips = picture["tips"].as_array().expect("tips");
        for (row, tip) in rows.iter().zip(tips) {
            let tip = tip.as_str().unwrap_or_default();
            for cell in [&row[2], &row[3]] {
                let amount = cell.as_str().unwrap_or_default();
                assert!(
                    tip.contains(amount),
                    "{amount} of the table in the picture: {tip}"
                );
            }
        }
        assert!(picture["width"].as_f64().unwrap_or(0.0) <= f64::from(width));
    }
    assert!(
        browser
            .eval("document.documentElement.scrollWidth")
            .as_u64()
            .is_some_and(|scroll| scroll <= u64::from(width)),
        "{page} fits {width} px"
    );
    shown
}

#[test]
fn pictures_of_the_money_show_every_flow_with_its_numbers_at_1280_and_360() {
    let mut network = Network::start("pictures");
    let short = network.record(
        "transaction",
        &disbursement("250000.00", "GBP", IMPLEMENTER, "Aid Implementer A/S"),
    );
    network.record(
        "transaction",
        &disbursement("5000", "EUR", LOCAL, "Local Water Association"),
    );
    append_implementer_records(&mut network, &short);
    let base = network.node.public_url();
    let browser = Browser::launch("pictures");
    for width in [1280, 360] {
        browser.set_viewport(width, 1000);
        browser.goto(&format!("{base}/activity/{ACTIVITY}"));
        let shown = check_page(&browser, width, "the activity page");
        // One picture per currency, never added.
        let titles: Vec<&str> = shown
            .iter()
            .map(|picture| picture["title"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            titles,
            [
                format!("Flow of EUR in activity {ACTIVITY}"),
                format!("Flow of GBP in activity {ACTIVITY}")
            ]
        );
        let gbp = &shown[1];
        assert_eq!(gbp["rows"][0][2], "GBP 250,000.00");
        assert_eq!(gbp["rows"][0][3], "GBP 240,000.00");
        // The shortfall is marked and labelled in the picture and said in the table.
        let text = gbp["text"].as_str().unwrap_or_default();
        assert!(text.contains("short GBP 10,000.00"), "{text}");
        assert!(
            gbp["rows"][0][4]
                .as_str()
                .is_some_and(|status| status.contains("short GBP 10,000.00")),
            "{gbp}"
        );
        assert!(shown[0]["text"]
            .as_str()
            .is_some_and(|text| text.contains("not acknowledged EUR 5,000")));
        browser.screenshot(&format!("activity-{width}"));

        // The implementer's page: what it received and passed on, three columns.
        browser.set_viewport(width, 1000);
        browser.goto(&format!("{base}/org/{IMPLEMENTER}"));
        let shown = check_page(&browser, width, "the organisation page");
        let rows = shown[0]["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 2, "{shown:?}");
        let text = shown[0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("Local Water"), "named in the picture: {text}");
        assert!(text.contains("not acknowledged GBP 100,000.00"), "{text}");
        browser.screenshot(&format!("org-{width}"));
    }
}
