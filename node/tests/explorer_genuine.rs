//! "Is this genuine?" over real loopback HTTP on a real store: a signed statement's exact text
//! and its normalised variants find their record, a treaty text's language version finds its
//! treaty, a withdrawal is reported, a text with one word changed is not signed and shows its
//! nearest statement with the difference, the named organisation is honoured, bad input is
//! 400/413, and the index rebuilt from the chains answers as the one written at append.

mod common;

use std::sync::Arc;

use aidledger_spec::record::{Correction, Replacement, Statement, TextVersion};
use aidledger_spec::{Body, RecordId, VerifiedRecord};
use aidledger_store::Store;
use aidledger_view::genuine::Fingerprints;
use common::explorer_server::*;
use common::*;
use serde_json::Value;

const FLOUR: &str = "We delivered 40 tonnes of wheat flour to the warehouse in Gaza City.\n\
No payment was diverted to any armed group.";
const BUDGET: &str = "Our budget for 2027 is published in full on our website.";
const TREATY_FR: &str = "Les parties conviennent de partager les données des livraisons.";
const RECEIPT: &str = "We received the flour in good order.";
const RECEIPT_CORRECTED: &str = "We received the flour; two pallets were damaged.";

impl Server {
    fn api(&self, text: &str, org: Option<&str>) -> Value {
        let prints = Fingerprints::of(text);
        let mut path = format!(
            "/api/genuine?sha256={}&normalised={}",
            prints.exact.to_hex(),
            prints.normalised.to_hex()
        );
        if let Some(org) = org {
            path.push_str(&format!("&org={org}"));
        }
        let response = self.get(&path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().unwrap()
    }

    fn post(&self, text: &str, org: &str) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}/genuine", self.base))
            .form(&[("text", text), ("org", org)])
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
    }
}

fn titled(title: &str, text: &str) -> Body {
    Body::Statement(Statement {
        title: title.into(),
        language: "en".into(),
        text: text.into(),
    })
}

/// The network's records: the donor's two statements (the second withdrawn later) and a
/// treaty text in English and French, the implementer's statement.
fn populate(store: &Store) -> (Vec<VerifiedRecord>, Vec<VerifiedRecord>) {
    let mut agreement = treaty(
        &[DONOR, IMPLEMENTER],
        "The parties agree to share delivery data.",
    );
    agreement.versions.push(TextVersion {
        language: "fr".into(),
        text: TREATY_FR.into(),
    });
    let donor = extend(
        store,
        DONOR,
        vec![
            titled("Flour deliveries", FLOUR),
            titled("Budget", BUDGET),
            Body::TreatyText(agreement),
        ],
        (0, RecordId::ZERO),
    );
    let withdrawal = Body::Correction(Correction {
        corrects: donor[1].id(),
        reason: "published too early".into(),
        replacement: None,
    });
    let donor_more = extend(store, DONOR, vec![withdrawal], (3, donor[2].id()));
    let mut implementer = extend(
        store,
        IMPLEMENTER,
        vec![titled("Receipt", RECEIPT)],
        (0, RecordId::ZERO),
    );
    let corrected = Body::Correction(Correction {
        corrects: implementer[0].id(),
        reason: "damage found on unpacking".into(),
        replacement: Some(Replacement::Statement(Statement {
            title: "Receipt".into(),
            language: "en".into(),
            text: RECEIPT_CORRECTED.into(),
        })),
    });
    let next = (1, implementer[0].id());
    implementer.extend(extend(store, IMPLEMENTER, vec![corrected], next));
    let mut all = donor;
    all.extend(donor_more);
    (all, implementer)
}

#[test]
fn signed_texts_are_found_by_their_fingerprints_and_others_by_their_nearest_statement() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = Arc::new(open_new_store(&dir));
    let (donor, implementer) = populate(&store);
    let server = Server::start(store.clone());

    // The exact text.
    let exact = server.api(FLOUR, None);
    let matches = exact["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{exact}");
    assert_eq!(matches[0]["record"]["id"], donor[0].id().to_hex());
    assert_eq!(matches[0]["exact"], true);
    assert_eq!(matches[0]["author"]["id"], DONOR);
    assert_eq!(matches[0]["title"], "Flour deliveries");
    assert_eq!(matches[0]["later"].as_array().unwrap().len(), 0);

    // Other line endings and trailing spaces: the normalised form matches, not the bytes.
    let variant = format!("  {}  \r\n\r\n", FLOUR.replace('\n', " \t\r\n"));
    let normalised = server.api(&variant, None);
    assert_eq!(
        normalised["matches"][0]["record"]["id"],
        donor[0].id().to_hex()
    );
    assert_eq!(normalised["matches"][0]["exact"], false, "{normalised}");

    // A withdrawn statement is still found, and said to be withdrawn.
    let budget = server.api(BUDGET, None);
    assert_eq!(
        budget["matches"][0]["later"][0]["kind"], "withdrawn",
        "{budget}"
    );
    assert_eq!(
        budget["matches"][0]["later"][0]["record"]["id"],
        donor[3].id().to_hex()
    );

    // A statement its author corrected: the old text says so, the new one is found in the
    // correction.
    let old = server.api(RECEIPT, None);
    assert_eq!(old["matches"][0]["later"][0]["kind"], "corrected", "{old}");
    assert_eq!(
        old["matches"][0]["later"][0]["record"]["id"],
        implementer[1].id().to_hex()
    );
    let new = server.api(RECEIPT_CORRECTED, None);
    assert_eq!(
        new["matches"][0]["record"]["id"],
        implementer[1].id().to_hex()
    );
    assert_eq!(new["matches"][0]["what"], "statement in a correction");

    // A treaty text's French version.
    let french = server.api(TREATY_FR, None);
    assert_eq!(french["matches"][0]["record"]["id"], donor[2].id().to_hex());
    assert_eq!(french["matches"][0]["language"], "fr");
    assert_eq!(french["matches"][0]["what"], "treaty text");

    // Named as the implementer's: signed, but not by it.
    let claimed = server.api(FLOUR, Some(IMPLEMENTER));
    assert_eq!(claimed["org"]["id"], IMPLEMENTER);
    assert_eq!(claimed["matches"][0]["author"]["id"], DONOR);

    // One word changed: not signed; by the fingerprints alone no nearest statement.
    let forged = FLOUR.replace("No payment", "Some payment");
    let hashes_only = server.api(&forged, None);
    assert_eq!(hashes_only["matches"].as_array().unwrap().len(), 0);
    assert!(hashes_only["nearest"].is_null());
    let page = server
        .get(&format!(
            "/genuine?sha256={}&normalised={}",
            Fingerprints::of(&forged).exact.to_hex(),
            Fingerprints::of(&forged).normalised.to_hex()
        ))
        .text()
        .unwrap();
    assert!(page.contains("Not signed."));
    assert!(
        page.contains("id=\"genuine-resend\""),
        "offers to send the text"
    );
    assert!(page.contains("<script src=\"/genuine.js\" defer></script>"));

    // The form without JavaScript sends the text: the nearest statement and the difference.
    let (status, page) = server.post(&forged, DONOR);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Not signed."));
    assert!(page.contains("The nearest signed statement of this organisation"));
    assert!(page.contains(&format!("/record/{}", donor[0].id().to_hex())));
    assert!(page.contains("<del>No</del><ins>Some</ins>"), "{page}");
    // The exact text sent by the form is found (a form sends CR LF: the normalised form).
    let (status, page) = server.post(&FLOUR.replace('\n', "\r\n"), "");
    assert_eq!(status, 200);
    assert!(page.contains("Signed."), "{page}");
    assert!(page.contains(&format!("/record/{}", donor[0].id().to_hex())));
    // Named as the implementer's: its own statement that shares a word is the nearest.
    let (_, page) = server.post(&forged, IMPLEMENTER);
    assert!(page.contains("The nearest signed statement of this organisation"));
    assert!(page.contains(&format!("/record/{}", implementer[0].id().to_hex())));
    // Named as the auditor's, which signed nothing: anyone's nearest.
    let (_, page) = server.post(&forged, AUDITOR);
    assert!(
        page.contains("<h2>The nearest signed statement</h2>"),
        "{page}"
    );
    assert!(page.contains(&format!("/record/{}", donor[0].id().to_hex())));

    // Bad input: 400 and 413, never 500; other paths still refuse POST.
    let only_one = format!("/genuine?sha256={}", "0".repeat(64));
    for (path, status) in [
        ("/genuine?sha256=abc&normalised=abc", 400),
        (only_one.as_str(), 400),
        ("/api/genuine", 400),
        ("/genuine", 200),
        ("/genuine.js", 200),
    ] {
        assert_eq!(server.get(path).status(), status, "GET {path}");
    }
    let unknown_org = format!(
        "/api/genuine?sha256={0}&normalised={0}&org=NOBODY",
        "0".repeat(64)
    );
    assert_eq!(server.get(&unknown_org).status(), 400);
    assert_eq!(server.post("  \n", "").0, 400);
    let huge = "x".repeat(aidledger_node::explorer::model::GENUINE_TEXT_BYTES_MAX + 1);
    let (status, page) = server.post(&huge, "");
    assert_eq!(status, 413);
    assert!(page.contains("Text too long") && page.contains("longer than"));
    let refused = server
        .http
        .post(format!("{}/search", server.base))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 405);

    // The index rebuilt from the chains answers alike.
    let before: Vec<Value> = [FLOUR, BUDGET, TREATY_FR, &variant]
        .iter()
        .map(|text| server.api(text, None))
        .collect();
    drop(server);
    drop(store);
    let db = raw_sled(&dir);
    db.open_tree("explorer").unwrap().remove("v").unwrap();
    db.flush().unwrap();
    drop(db);
    let store = Arc::new(open_new_store(&dir));
    let server = Server::start(store);
    let after: Vec<Value> = [FLOUR, BUDGET, TREATY_FR, &variant]
        .iter()
        .map(|text| server.api(text, None))
        .collect();
    assert_eq!(before, after);
    let (_, page) = server.post(&forged, DONOR);
    assert!(page.contains("<del>No</del><ins>Some</ins>"));
}
