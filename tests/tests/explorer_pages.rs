//! Every page type of the explorer in a real browser, at a laptop's and a phone's width (issue
//! 20): one node with records of every body kind (an imported IATI activity, transactions, a
//! correction, a withdrawal, a statement, a treaty in two languages and its signature, a
//! governance proposal and its approval, a key rotation), every page type, "Is this genuine?"
//! with a signed and a changed text included, and for each page at 1280 and 360 px:
//!
//! - the document is never wider than the window (`scrollWidth <= innerWidth`);
//! - axe-core, injected through the DevTools protocol (the pages' Content-Security-Policy
//!   would refuse a `<script>`), finds no `serious` or `critical` accessibility violation;
//! - the page reported no Content-Security-Policy violation;
//! - a full-page screenshot is kept in `target/test-artifacts/pages/`.
//!
//! axe-core is pinned by `tests/browser/package-lock.json`; the test installs it with
//! `npm ci --prefix tests/browser` when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use aidledger_node::ExplorerIndex;
use aidledger_spec::governance::{Approval, KeyGrant, KeyRotation};
use aidledger_spec::record::{Money, Party, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{sign_record, Body, Genesis, RecordDraft, RecordId, Verifier};
use aidledger_store::Store;
use aidledger_tests::browser::Browser;
use aidledger_tests::{path_str, Network, AUDITOR, DONOR, IMPLEMENTER};
use ed25519_dalek::SigningKey;
use serde_json::Value;

const ACTIVITY: &str = "GB-GOV-1-301150-200";
const ACTIVITY_TITLE: &str = "Clean water for displaced families";
const STATEMENT_TEXT: &str = "The first tranche for water points was paid on 2 November 2026.";
/// The widths every page is checked at: a laptop and a small phone.
const WIDTHS: [u32; 2] = [1280, 360];
const WINDOW_HEIGHT: u32 = 900;
/// The axe-core impacts that fail the test.
const FAILING_IMPACTS: [&str; 2] = ["serious", "critical"];

/// The pinned axe-core, installed by `npm ci` from the lock file when missing.
fn axe_source() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let script = dir.join("node_modules/axe-core/axe.min.js");
    if !script.is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .unwrap_or_else(|error| {
                panic!(
                    "this test needs axe-core from npm, and npm could not run ({error}): \
                     install Node.js and npm (`apt-get install -y npm`), then run \
                     `npm ci --prefix tests/browser`"
                )
            });
        assert!(
            status.success(),
            "`npm ci --prefix {}` failed",
            dir.display()
        );
    }
    std::fs::read_to_string(&script)
        .unwrap_or_else(|error| panic!("read {}: {error}", script.display()))
}

fn read_key(path: &Path) -> SigningKey {
    let text = std::fs::read_to_string(path).expect("read a key file");
    let seed: [u8; 32] = hex::decode(text.trim())
        .expect("a key file is hex")
        .try_into()
        .expect("a key is 32 bytes");
    SigningKey::from_bytes(&seed)
}

/// The donor's records, through its node and the CLI.
struct Recorded {
    corrected: String,
    correction: String,
    withdrawn: String,
    withdrawal: String,
    statement: String,
    treaty: String,
    treaty_action: String,
    proposal: String,
    /// A statement its author redacted (FORMAT.md §27), and the order.
    redacted: String,
    redaction: String,
}

fn disbursement<'a>(amount: &'a str, description: &'a str) -> Vec<&'a str> {
    vec![
        "--activity",
        ACTIVITY,
        "--type",
        "disbursement",
        "--amount",
        amount,
        "--currency",
        "GBP",
        "--value-date",
        "2026-11-02",
        "--provider-org",
        DONOR,
        "--receiver-org",
        IMPLEMENTER,
        "--receiver-name",
        "Local NGO Water Partners",
        "--description",
        description,
    ]
}

fn record_donor_data(network: &Network) -> Recorded {
    let data_dir = network.data_dir_arg();
    let xml = format!(
        "<iati-activities version=\"2.03\"><iati-activity default-currency=\"GBP\">\
<iati-identifier>{ACTIVITY}</iati-identifier><reporting-org ref=\"{DONOR}\"><narrative>Foreign Office</narrative></reporting-org>\
<title><narrative xml:lang=\"en\">{ACTIVITY_TITLE}</narrative></title>\
<description type=\"1\"><narrative>Water points and sanitation in camps for displaced families.</narrative></description>\
<activity-status code=\"2\"/><recipient-country code=\"SO\" percentage=\"100\"/>\
<transaction><transaction-type code=\"2\"/><transaction-date iso-date=\"2026-10-01\"/><value value-date=\"2026-10-01\">1000000.00</value>\
<receiver-org ref=\"{IMPLEMENTER}\"><narrative>Aid Implementer A/S</narrative></receiver-org></transaction>\
</iati-activity></iati-activities>"
    );
    let file = network.dir.write("activity.xml", xml);
    network
        .cli
        .run(["iati", "import", path_str(&file), "--data-dir", &data_dir])
        .assert_exit(0)
        .assert_no_panic();
    network.record(
        "transaction",
        &disbursement("125000.00", "First tranche for water points"),
    );
    let corrected = network.record(
        "transaction",
        &disbursement("250000.00", "Second tranche for water points"),
    );
    let withdrawn = network.record("transaction", &disbursement("1.50", "Recorded by mistake"));
    let correction = network
        .cli
        .run([
            "record",
            "correction",
            "--corrects",
            &corrected,
            "--reason",
            "The tranche was 240,000, not 250,000",
            "--amount",
            "240000.00",
            "--data-dir",
            &data_dir,
        ])
        .assert_exit(0)
        .stdout_hex32();
    let withdrawal = network
        .cli
        .run([
            "record",
            "correction",
            "--corrects",
            &withdrawn,
            "--reason",
            "Recorded twice",
            "--data-dir",
            &data_dir,
        ])
        .assert_exit(0)
        .stdout_hex32();
    let statement = network.record(
        "statement",
        &["--title", "Funding update", "--text", STATEMENT_TEXT],
    );
    // A statement that named a partner at risk, redacted by its author (by id alone: the CLI
    // finds its seq on the node).
    let redacted = network.record(
        "statement",
        &["--title", "Partner list", "--text", "Names withheld here."],
    );
    let redaction = network.record(
        "redaction",
        &[
            "--record",
            &redacted,
            "--category",
            "safety-of-persons",
            "--note",
            "The list named partners whose safety is at risk.",
        ],
    );
    let english = network.dir.write(
        "treaty-en.txt",
        "Article 1. The parties cooperate on clean water.\nArticle 2. Funds are reported openly.",
    );
    let french = network.dir.write(
        "treaty-fr.txt",
        "Article 1. Les parties coopèrent pour l'eau potable.\nArticle 2. Les fonds sont publiés.",
    );
    let english_arg = format!("en={}", path_str(&english));
    let french_arg = format!("fr={}", path_str(&french));
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
            &english_arg,
            "--text",
            &french_arg,
        ],
    );
    let treaty_action = network
        .cli
        .run([
            "record",
            "treaty-action",
            "--treaty",
            &treaty,
            "--action",
            "sign",
            "--date",
            "2026-11-03",
            "--data-dir",
            &data_dir,
        ])
        .assert_exit(0)
        .stdout_hex32();
    let proposal = network
        .cli
        .run([
            "gov",
            "propose",
            "--note",
            "The implementer also funds partners",
            "--data-dir",
            &data_dir,
            "set-roles",
            "--member",
            IMPLEMENTER,
            "--role",
            "implementer,donor",
        ])
        .assert_exit(0)
        .stdout_hex32();
    Recorded {
        corrected,
        correction,
        withdrawn,
        withdrawal,
        statement,
        treaty,
        treaty_action,
        proposal,
        redacted,
        redaction,
    }
}

/// Records of the other members, appended to the donor's stopped store as replication would:
/// the implementer's receipt and its approval of the proposal; the auditor's key rotation.
/// Returns the ids of the approval and the rotation.
fn append_other_members(network: &mut Network, recorded: &Recorded) -> (String, String) {
    network.node.terminate();
    let store =
        Store::open(&network.data_dir(), ExplorerIndex).expect("open the stopped node's store");
    let genesis: Genesis = store.genesis().clone();
    let verifier = Verifier::new(genesis.clone());
    let date = Date {
        year: 2026,
        month: 11,
        day: 4,
    };
    let receipt = Body::Transaction(Transaction {
        activity_id: format!("{IMPLEMENTER}-WASH"),
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
            activity_id: format!("{IMPLEMENTER}-WASH"),
        }),
        description: "Received the second tranche".into(),
        acknowledges: Some(RecordId::from_hex(&recorded.corrected).expect("an id")),
        iati: None,
    });
    let approval = Body::Approval(Approval {
        proposal: RecordId::from_hex(&recorded.proposal).expect("an id"),
    });
    let new_auditor_key = SigningKey::from_bytes(&[42; 32]);
    let rotation = Body::KeyRotation(KeyRotation {
        new_key: KeyGrant::prove(&genesis.network_id(), AUDITOR, &new_auditor_key),
    });
    let mut ids = Vec::new();
    let chains = [
        (IMPLEMENTER, 1, vec![receipt, approval]),
        (AUDITOR, 2, vec![rotation]),
    ];
    for (author, organisation, bodies) in chains {
        let key = read_key(&network.organisations[organisation].key_file);
        let mut prev = RecordId::ZERO;
        for (seq, body) in bodies.into_iter().enumerate() {
            let draft = RecordDraft {
                network_id: genesis.network_id(),
                author: author.into(),
                seq: seq as u64,
                prev,
                timestamp_ms: 1_793_700_000_000 + seq as u64,
                body,
            };
            let (_, bytes) = sign_record(&draft, &key).expect("sign");
            let record = verifier.verify(bytes).expect("verify");
            prev = record.id();
            ids.push(record.id().to_hex());
            store.append_durable(&[record]).expect("append");
        }
    }
    drop(store);
    network.node.restart();
    (ids[1].clone(), ids[2].clone())
}

/// The id of the first record of an organisation's JSON page whose kind is `kind` and whose
/// summary mentions `needle`.
fn record_id_in(org: &Value, kind: &str, needle: &str) -> Option<String> {
    org["records"].as_array()?.iter().find_map(|record| {
        let summary = record["summary"].as_str()?;
        (record["kind"].as_str()? == kind && summary.contains(needle))
            .then(|| record["id"].as_str().map(str::to_owned))?
    })
}

/// One page to check: a name for its screenshot, its path, and a text it must show (so that a
/// broken page, or an error page where a record was expected, fails here too).
struct PageCheck {
    name: String,
    path: String,
    shows: String,
    /// For the "Is this genuine?" answers: the text pasted into the page's form and submitted
    /// (its script sends the fingerprints), and whether to then send the text itself for the
    /// nearest signed statement and the differences.
    genuine: Option<(String, bool)>,
}

fn page(name: &str, path: impl Into<String>, shows: impl Into<String>) -> PageCheck {
    PageCheck {
        name: name.into(),
        path: path.into(),
        shows: shows.into(),
        genuine: None,
    }
}

/// Submits `text` on the open "Is this genuine?" page, as a reader would; with `resend`, then
/// sends the text itself for the nearest signed statement.
fn ask_genuine(browser: &Browser, text: &str, resend: bool) {
    let literal = serde_json::to_string(text).expect("a JSON string");
    browser.eval(&format!(
        "document.getElementById('genuine-text').value = {literal}; true"
    ));
    browser.click("#genuine-form button[type=submit]");
    if resend {
        browser.click("#genuine-resend-button");
    }
}

/// Script: the elements that stick out of the viewport, for the failure message.
const OVERFLOWING: &str = "JSON.stringify(Array.from(document.querySelectorAll('body *')).filter(function (e) { return e.getBoundingClientRect().right > window.innerWidth + 1; }).slice(0, 8).map(function (e) { return e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' right=' + Math.round(e.getBoundingClientRect().right) + ': ' + (e.textContent || '').trim().slice(0, 60); }))";

/// Script: runs axe-core (WCAG 2 A and AA rules and best practices) and returns the violations.
const AXE_RUN: &str = "axe.run(document, { resultTypes: ['violations'] }).then(function (results) { return JSON.stringify(results.violations.map(function (v) { return { id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' ') + ' ' + n.html.slice(0, 160); }) }; })); })";

/// Checks the page open in `browser`; returns the failures found (empty when all is well).
fn check_page(browser: &Browser, axe: &str, check: &PageCheck, width: u32) -> Vec<String> {
    let mut failures = Vec::new();
    let what = format!("{} at {width} px ({})", check.name, check.path);
    let text = browser.visible_text();
    if !text.contains(&check.shows) {
        failures.push(format!(
            "{what}: does not show {:?}; it shows:\n{text}",
            check.shows
        ));
    }
    let scroll_width = browser
        .eval("document.documentElement.scrollWidth")
        .as_u64();
    let inner_width = browser.eval("window.innerWidth").as_u64();
    if scroll_width.is_none() || scroll_width > inner_width {
        failures.push(format!(
            "{what}: the document is {scroll_width:?} px wide in a {inner_width:?} px window; sticking out: {}",
            browser.eval_string(OVERFLOWING)
        ));
    }
    if browser.eval("typeof axe").as_str() != Some("object") {
        browser.run_script(axe);
    }
    let violations = browser.run_script(AXE_RUN);
    let violations: Vec<Value> =
        serde_json::from_str(violations.as_str().unwrap_or("[]")).expect("axe's JSON");
    for violation in &violations {
        let impact = violation["impact"].as_str().unwrap_or("");
        if FAILING_IMPACTS.contains(&impact) {
            failures.push(format!(
                "{what}: axe {impact} violation {}: {}\n    {}",
                violation["id"],
                violation["help"],
                violation["nodes"]
                    .as_array()
                    .map(|nodes| nodes
                        .iter()
                        .map(|node| node.as_str().unwrap_or("").to_string())
                        .collect::<Vec<_>>()
                        .join("\n    "))
                    .unwrap_or_default()
            ));
        }
    }
    let csp = browser.csp_violations();
    if !csp.is_empty() {
        failures.push(format!(
            "{what}: Content-Security-Policy violations: {csp:?}"
        ));
    }
    failures
}

#[test]
fn every_page_type_fits_a_phone_passes_axe_and_obeys_its_policy() {
    let axe = axe_source();
    let mut network = Network::start("explorer-pages");
    let recorded = record_donor_data(&network);
    let (approval, rotation) = append_other_members(&mut network, &recorded);
    let base = network.node.public_url();

    // The imported activity's records: found through the JSON API, as a reader's tool would.
    let (status, body) = network.node.public_get(&format!("/api/org/{DONOR}"));
    assert_eq!(status, 200);
    let org: Value = serde_json::from_slice(&body).expect("the organisation's JSON");
    let activity_record =
        record_id_in(&org, "activity", "").unwrap_or_else(|| panic!("no activity record in {org}"));
    let commitment = record_id_in(&org, "transaction", "commitment")
        .unwrap_or_else(|| panic!("no imported commitment in {org}"));

    let short = |id: &str| id[..12].to_string();
    let mut pages = vec![
        page("home", "/", "Test Aid Network"),
        page("organisation", format!("/org/{DONOR}"), "Foreign Office"),
        page("activity", format!("/activity/{ACTIVITY}"), ACTIVITY_TITLE),
        page(
            "treaty",
            format!("/treaty/{}", recorded.treaty),
            "Water Cooperation Agreement",
        ),
        page("search", "/search?q=water", ACTIVITY_TITLE),
        page("governance", "/governance", "Proposals"),
        page(
            "not-found",
            format!("/record/{}", "ab".repeat(32)),
            "Not found",
        ),
    ];
    let records = [
        ("record-activity", &activity_record),
        ("record-commitment", &commitment),
        ("record-corrected", &recorded.corrected),
        ("record-correction", &recorded.correction),
        ("record-withdrawn", &recorded.withdrawn),
        ("record-withdrawal", &recorded.withdrawal),
        ("record-statement", &recorded.statement),
        ("record-treaty-text", &recorded.treaty),
        ("record-treaty-action", &recorded.treaty_action),
        ("record-proposal", &recorded.proposal),
        ("record-approval", &approval),
        ("record-key-rotation", &rotation),
    ];
    for (name, id) in records {
        pages.push(page(name, format!("/record/{id}"), short(id)));
    }
    pages.push(page(
        "record-redacted",
        format!("/record/{}", recorded.redacted),
        "REDACTED",
    ));
    pages.push(page(
        "record-redaction-order",
        format!("/record/{}", recorded.redaction),
        "the safety of persons",
    ));
    // "Is this genuine?": the form, a signed text found, and a changed one not found with the
    // nearest signed statement and the differences.
    pages.push(page("genuine", "/genuine", "genuine"));
    let mut signed = page("genuine-signed", "/genuine", "Exactly this text was signed");
    signed.genuine = Some((STATEMENT_TEXT.to_owned(), false));
    pages.push(signed);
    let mut forged = page(
        "genuine-not-signed",
        "/genuine",
        "The nearest signed statement",
    );
    forged.genuine = Some((STATEMENT_TEXT.replace("paid", "withheld"), true));
    pages.push(forged);

    let browser = Browser::launch("pages");
    let mut failures = Vec::new();
    for width in WIDTHS {
        for (number, check) in pages.iter().enumerate() {
            browser.set_viewport(width, WINDOW_HEIGHT);
            browser.goto(&format!("{base}{}", check.path));
            if let Some((text, resend)) = &check.genuine {
                ask_genuine(&browser, text, *resend);
            }
            failures.extend(check_page(&browser, &axe, check, width));
            browser.screenshot(&format!("{number:02}-{}-{width}", check.name));
        }
    }
    let shots: PathBuf = aidledger_tests::browser::artifacts_dir("pages");
    assert!(
        failures.is_empty(),
        "{} problem(s) (screenshots in {}):\n{}",
        failures.len(),
        shots.display(),
        failures.join("\n")
    );
}
