//! Search in a real browser, at 1280 and 360 px: a receiver's name, a word of an activity's
//! title and a statement's title each find their record, the page says which field matched,
//! the page fits a phone, and the hit leads to the record. Screenshots in
//! `target/test-artifacts/search/`.

use std::path::Path;

use aidledger_node::ExplorerIndex;
use aidledger_spec::activity::{Activity, Narrative};
use aidledger_spec::record::{Money, Party, Statement, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, RecordDraft, RecordId, Verifier};
use aidledger_store::Store;
use aidledger_tests::browser::Browser;
use aidledger_tests::{Network, IMPLEMENTER};
use ed25519_dalek::SigningKey;

const ACTIVITY: &str = "DK-CVR-20699310-301150-200";

fn read_key(path: &Path) -> SigningKey {
    let text = std::fs::read_to_string(path).expect("read a key file");
    let seed: [u8; 32] = hex::decode(text.trim())
        .expect("a key file is hex")
        .try_into()
        .expect("a key is 32 bytes");
    SigningKey::from_bytes(&seed)
}

/// The implementer's records, appended to the stopped node's store as replication would:
/// a payment to Local NGO Network, the activity's record, a statement. Returns their ids.
fn append_records(network: &mut Network) -> Vec<RecordId> {
    network.node.terminate();
    let store =
        Store::open(&network.data_dir(), ExplorerIndex).expect("open the stopped node's store");
    let genesis = store.genesis().clone();
    let verifier = Verifier::new(genesis.clone());
    let key = read_key(&network.organisations[1].key_file);
    let date = Date {
        year: 2026,
        month: 11,
        day: 2,
    };
    let payment = Body::Transaction(Transaction {
        activity_id: ACTIVITY.into(),
        transaction_type: 3,
        value: Money {
            amount: "125000.00".into(),
            currency: "GBP".into(),
        },
        value_date: date,
        transaction_date: date,
        provider: Some(Party {
            org_ref: IMPLEMENTER.into(),
            ..Party::default()
        }),
        receiver: Some(Party {
            org_ref: "XM-LNGO-7".into(),
            name: "Local NGO Network".into(),
            activity_id: String::new(),
        }),
        description: "Water points".into(),
        acknowledges: None,
        iati: None,
    });
    let activity = Body::Activity(Activity {
        iati_identifier: ACTIVITY.into(),
        reporting_org: IMPLEMENTER.into(),
        titles: vec![Narrative {
            language: "en".into(),
            text: "Clean water for Gaziantep".into(),
        }],
        descriptions: Vec::new(),
        status: "2".into(),
        dates: Vec::new(),
        recipient_countries: Vec::new(),
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
        iati: None,
    });
    let statement = Body::Statement(Statement {
        title: "Funding for water points".into(),
        language: "en".into(),
        text: "We fund water points in Gaziantep.".into(),
    });
    let mut prev = RecordId::ZERO;
    let mut ids = Vec::new();
    for (seq, body) in [payment, activity, statement].into_iter().enumerate() {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: IMPLEMENTER.into(),
            seq: seq as u64,
            prev,
            timestamp_ms: 1_796_000_000_000 + seq as u64,
            body,
        };
        let (_, bytes) = sign_record(&draft, &key).expect("sign");
        let record = verifier.verify(bytes).expect("verify");
        prev = record.id();
        ids.push(record.id());
        store.append_durable(&[record]).expect("append");
    }
    drop(store);
    network.node.restart();
    ids
}

#[test]
fn search_finds_a_receiver_a_title_word_and_a_statement_in_a_browser() {
    let mut network = Network::start("search-browser");
    let ids = append_records(&mut network);
    let (payment, statement) = (ids[0].to_hex(), ids[2].to_hex());
    let base = network.node.public_url();
    let browser = Browser::launch("search");

    // (query, what the page must say, the link the hit leads to, screenshot name)
    let searches = [
        (
            "Local+NGO",
            "receiver name: Local NGO Network",
            format!("/record/{payment}"),
            "receiver-name",
        ),
        (
            "gaziantep",
            "activity title: Clean water for Gaziantep",
            format!("/activity/{ACTIVITY}"),
            "activity-title",
        ),
        (
            "Funding",
            "statement title: Funding for water points",
            format!("/record/{statement}"),
            "statement-title",
        ),
    ];
    for width in [1280u32, 360] {
        for (query, shown, href, name) in &searches {
            browser.set_viewport(width, 900);
            browser.goto(&format!("{base}/search?q={query}"));
            let text = browser.visible_text();
            assert!(
                text.contains(shown),
                "searching {query} at {width} px should show {shown:?}; it shows:\n{text}"
            );
            assert_eq!(
                browser.eval(&format!(
                    "document.querySelectorAll(\"ol.hits a[href='{href}']\").length"
                )),
                serde_json::json!(1),
                "searching {query}: one hit leads to {href}"
            );
            assert!(
                browser
                    .eval("document.documentElement.scrollWidth")
                    .as_u64()
                    .is_some_and(|scroll| scroll <= u64::from(width)),
                "the search page fits {width} px"
            );
            browser.screenshot(&format!("{name}-{width}"));
        }
    }
    // The receiver's hit leads to the record that names it.
    browser.goto(&format!("{base}/search?q=Local+NGO"));
    browser.click(&format!("ol.hits a[href='/record/{payment}']"));
    let text = browser.visible_text();
    assert!(text.contains("Local NGO Network"), "{text}");
    assert!(browser.url().ends_with(&payment), "{}", browser.url());
}
