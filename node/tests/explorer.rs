//! The explorer over real loopback HTTP on a store with three organisations' chains: read-only
//! (405), 400 for malformed and 404 for unknown ids (never 500), caching headers and 304s,
//! deep pagination, id prefixes, search, and totals that follow corrections and
//! acknowledgements appended after the fact.

mod common;

use std::sync::Arc;

use aidledger_node::explorer::index::{Listing, LISTING_ENTRIES_MAX};
use aidledger_spec::record::{
    Correction, Party, Replacement, Transaction, TreatyAction, TreatyActionKind, TreatyText,
};
use aidledger_spec::{Body, RecordId, VerifiedRecord};
use aidledger_store::Store;
use common::explorer_server::*;
use common::*;
use serde_json::Value;

/// The explicit links of an activity page (`/api/activity/…`'s `money.links` of kind
/// `acknowledgement`): (acknowledged record id, status text), in the model's key order.
fn acknowledgement_links(server: &Server, activity: &str) -> Vec<(String, String)> {
    let page = server.json(&format!("/api/activity/{activity}"));
    acknowledgement_links_of(&page)
}

fn acknowledgement_links_of(page: &Value) -> Vec<(String, String)> {
    assert_eq!(page["money"]["computed"], true, "{page}");
    page["money"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|link| link["kind"] == "acknowledgement")
        .map(|link| {
            (
                link["key"].as_str().unwrap().to_owned(),
                link["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn disbursement(activity: &str, amount: &str, acknowledges: Option<RecordId>) -> Transaction {
    let Body::Transaction(mut transaction) = transaction("GBP", acknowledges) else {
        unreachable!()
    };
    transaction.activity_id = activity.into();
    transaction.value.amount = amount.into();
    transaction.provider = Some(Party {
        org_ref: DONOR.into(),
        ..Party::default()
    });
    transaction.receiver = Some(Party {
        org_ref: IMPLEMENTER.into(),
        ..Party::default()
    });
    transaction
}

#[test]
fn explorer_serves_pages_and_keeps_totals_exact_as_records_arrive() {
    let (_root, store) = new_store();
    let donor = extend(
        &store,
        DONOR,
        vec![
            Body::Transaction(disbursement("ACT-1", "100.10", None)),
            Body::Transaction(disbursement("ACT-1", "0.20", None)),
            statement("<script>alert(1)</script>"),
        ],
        (0, RecordId::ZERO),
    );
    let server = Server::start(store.clone());

    let org = server.json(&format!("/api/org/{DONOR}"));
    let totals = &org["totals"][0];
    assert_eq!(totals["type_name"], "disbursement");
    assert_eq!(totals["sum"], "100.30");
    assert_eq!(totals["count"], 2);

    // A receipt from another chain acknowledges the first; a correction changes its amount.
    extend(
        &store,
        IMPLEMENTER,
        vec![Body::Transaction(disbursement(
            "ACT-1",
            "100.10",
            Some(donor[0].id()),
        ))],
        (0, RecordId::ZERO),
    );
    let correction = Body::Correction(Correction {
        corrects: donor[0].id(),
        reason: "typo".into(),
        replacement: Some(Replacement::Transaction(disbursement(
            "ACT-1", "101.10", None,
        ))),
    });
    let head = store.head(DONOR).unwrap().unwrap();
    let corrections = extend(&store, DONOR, vec![correction], (head.seq + 1, head.id));
    let org = server.json(&format!("/api/org/{DONOR}"));
    assert_eq!(org["totals"][0]["sum"], "101.30", "{org}");
    // The receipt of 100.10 does not acknowledge the corrected 101.10 in full: the money
    // model's status, on the activity page and on the record page (it used to read
    // "acknowledged 101.10").
    assert_eq!(
        acknowledgement_links(&server, "ACT-1"),
        [(donor[0].id().to_hex(), "short 1.00 GBP".to_owned())]
    );

    let record = server.json(&format!("/api/record/{}", donor[0].id()));
    assert_eq!(record["link"]["text"], "short 1.00 GBP", "{record}");
    assert_eq!(
        record["link"]["provider"][0]["amount"], "101.10",
        "{record}"
    );
    assert_eq!(
        record["link"]["receiver"][0]["amount"], "100.10",
        "{record}"
    );
    assert_eq!(
        record["corrected_by"][0]["id"],
        corrections[0].id().to_hex()
    );
    assert_eq!(record["acknowledged_by"][0]["author"], IMPLEMENTER);
    let changes = server.json(&format!("/api/record/{}", corrections[0].id()))["changes"].clone();
    assert_eq!(changes[0]["field"], "value.amount", "{changes}");
    assert_eq!(changes[0]["before"], "100.10");
    assert_eq!(changes[0]["after"], "101.10");

    // Escaped: the statement's script is text.
    let page = server
        .get(&format!("/record/{}", donor[2].id()))
        .text()
        .unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The page's one script element is its own check in the browser (issue 21), after
    // everything the record says.
    let script = format!(
        "<script src=\"/verify.js\" data-record=\"{}\" defer></script>",
        donor[2].id().to_hex()
    );
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert!(page.contains(&script), "{page}");
}

#[test]
fn explorer_is_read_only_and_answers_bad_input_with_4xx() {
    let (_root, store) = new_store();
    let records = extend(&store, DONOR, vec![statement("one")], (0, RecordId::ZERO));
    let id = records[0].id().to_hex();
    let server = Server::start(store);

    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        for path in [
            "/",
            "/org/GB-GOV-1",
            &format!("/record/{id}"),
            "/api/home",
            "/nope",
        ] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = server
                .http
                .request(method.clone(), format!("{}{path}", server.base))
                .send()
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
        }
    }
    let cases = [
        ("/record/xyz", 400),
        ("/record/00000000", 404),
        (&format!("/record/{}", "a".repeat(65)), 400),
        ("/api/record/zz", 400),
        ("/api/record/0000", 404),
        ("/treaty/abc", 404),
        (&format!("/treaty/{id}"), 404),
        ("/org/NOBODY", 404),
        ("/org/GB-GOV-1?before_seq=x", 400),
        ("/api/org/GB-GOV-1?before_seq=-1", 400),
        ("/activity/UNKNOWN", 404),
        ("/api/activity/UNKNOWN?after=00", 404),
        ("/activity/ACT?after=zz", 400),
        ("/search?q=%FF%FE", 200),
        (&format!("/search?q={}", "a".repeat(2000)), 400),
        ("/no/such/page", 404),
        ("/api/no/such", 404),
    ];
    for (path, status) in cases {
        let response = server.get(path);
        assert_eq!(response.status(), status, "GET {path}");
    }
    // A unique prefix redirects to the full id.
    let response = server.get(&format!("/record/{}", &id[..8]));
    assert_eq!(response.status(), 303, "prefix redirect");
    assert_eq!(response.headers()["location"], format!("/record/{id}"));
}

#[test]
fn record_pages_carry_strong_etags_and_records_are_cached_for_long() {
    let (_root, store) = new_store();
    let records = extend(&store, DONOR, vec![statement("one")], (0, RecordId::ZERO));
    let id = records[0].id().to_hex();
    let server = Server::start(store.clone());

    let raw = server.get(&format!("/api/records/{id}/raw"));
    assert_eq!(raw.headers()["etag"], format!("\"{id}\""));
    assert!(raw.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let page = server.get(&format!("/record/{id}"));
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let again = server
        .http
        .get(format!("{}/record/{id}", server.base))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    // A later record changes what the page shows (its "next" link), so the ETag changes.
    extend(&store, DONOR, vec![statement("two")], (1, records[0].id()));
    let changed = server.get(&format!("/record/{id}"));
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
}

#[test]
fn deep_pages_of_a_chain_are_read_from_their_position() {
    let (_root, store) = new_store();
    let made = chain(DONOR, 120);
    store.append_durable(&made).unwrap();
    let server = Server::start(store);

    let first = server.json(&format!("/api/org/{DONOR}"));
    assert_eq!(first["records"][0]["seq"], 119);
    assert_eq!(first["next_before_seq"], 70);
    let deep = server.json(&format!("/api/org/{DONOR}?before_seq=30"));
    assert_eq!(deep["records"][0]["seq"], 29);
    assert_eq!(deep["records"].as_array().unwrap().len(), 30);
    assert_eq!(deep["next_before_seq"], Value::Null);
    let home = server.json("/api/home");
    assert_eq!(home["record_count"], 120);
    assert_eq!(home["latest"].as_array().unwrap().len(), 20);
    let search = server.json(&format!("/api/search?q={}", &made[5].id().to_hex()[..6]));
    assert!(search["hits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|hit| hit["kind"] == "record" && hit["id"] == made[5].id().to_hex()));
    let html = server
        .get(&format!("/org/{DONOR}?before_seq=30"))
        .text()
        .unwrap();
    assert!(html.contains(&format!("/record/{}", made[29].id())));
    assert!(!html.contains(&format!("/record/{}", made[30].id())));
}

/// A record page says whether its own position and its chain have an equivocation proof,
/// looking up its own chain only: another chain's fork does not mark it.
#[test]
fn record_pages_flag_forks_of_their_own_chain_only() {
    let (_root, store) = new_store();
    let donor = extend(
        &store,
        DONOR,
        vec![statement("donor 0"), statement("donor 1")],
        (0, RecordId::ZERO),
    );
    let implementer = extend(
        &store,
        IMPLEMENTER,
        vec![statement("implementer 0"), statement("implementer 1")],
        (0, RecordId::ZERO),
    );
    let rival = record(
        IMPLEMENTER,
        1,
        implementer[0].id(),
        statement("implementer 1, another version"),
    );
    store.add_proof(&implementer[1], &rival).unwrap();
    let server = Server::start(store.clone());
    let flags = |id: RecordId| {
        let page = server.json(&format!("/api/record/{id}"));
        (
            page["chain"]["forked_here"].as_bool().unwrap(),
            page["chain"]["chain_forked"].as_bool().unwrap(),
        )
    };
    assert_eq!(flags(donor[1].id()), (false, false));
    assert_eq!(flags(implementer[0].id()), (false, true));
    assert_eq!(flags(implementer[1].id()), (true, true));
    let page = server.get(&format!("/record/{}", implementer[1].id()));
    assert!(
        page.text().unwrap().contains("FORKED"),
        "the HTML page flags it"
    );
}

/// An activity's records are indexed as one listing per (organisation, append group), not one
/// key per record. Its pages must still read every record once, each organisation's in chain
/// order, with page cursors that fall inside listings; and the same after the index is rebuilt
/// from the chains (one listing per record).
#[test]
fn activity_pages_read_every_record_once_across_groups_and_a_rebuild() {
    const ACTIVITY: &str = "XM-DAC-41122-PAGED";
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    let mut listed = Vec::new();
    // Groups of 70, 1, 90 and 400 records for the donor (the last more than one listing
    // holds), 60 for the implementer; every third record belongs to another activity, so
    // listings interleave with other keys.
    for (org, sizes) in [
        (DONOR, &[70usize, 1, 90, 400][..]),
        (IMPLEMENTER, &[60][..]),
    ] {
        let mut next = (0, RecordId::ZERO);
        for &size in sizes {
            let mut group = Vec::new();
            for _ in 0..size {
                let activity = if next.0 % 3 == 2 { "OTHER" } else { ACTIVITY };
                let body = Body::Transaction(disbursement(activity, "1.50", None));
                let made = record(org, next.0, next.1, body);
                if activity == ACTIVITY {
                    listed.push((org.to_owned(), next.0, made.id()));
                }
                next = (next.0 + 1, made.id());
                group.push(made);
            }
            store.append_durable(&group).unwrap();
        }
    }
    assert_eq!(walk_activity(&store, ACTIVITY), sorted(&listed));

    // No listing holds more than LISTING_ENTRIES_MAX entries; then an index written by
    // another version is rebuilt from the chains at open.
    drop(store);
    forget_index_version(&dir, |explorer| {
        let largest = explorer
            .scan_prefix("a")
            .map(|entry| {
                let (key, value) = entry.unwrap();
                Listing::decode(&key, &value).unwrap().len()
            })
            .max();
        assert_eq!(largest, Some(LISTING_ENTRIES_MAX));
    });
    // Opened for writing, as a node opens it (a read-only open leaves the index alone).
    let store = open_new_store(&dir);
    assert_eq!(walk_activity(&store, ACTIVITY), sorted(&listed));
}

/// Opens a closed store's sled files, hands `inspect` the explorer tree, and removes the
/// index's version key, so that the next open for writing rebuilds the index from the chains.
fn forget_index_version(dir: &std::path::Path, inspect: impl FnOnce(&sled::Tree)) {
    let db = raw_sled(dir);
    let explorer = db.open_tree("explorer").unwrap();
    inspect(&explorer);
    explorer.remove("v").unwrap();
    db.flush().unwrap();
}

/// Every record of an activity's pages, following `next_after`; checks page sizes on the way.
fn walk_activity(store: &Store, activity: &str) -> Vec<(String, u64, RecordId)> {
    use aidledger_node::explorer::model::{activity_page, ACTIVITY_PAGE_RECORDS};
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = activity_page(store, activity, after.as_deref()).unwrap();
        let full = page.records.len() == ACTIVITY_PAGE_RECORDS;
        assert!(
            full || page.next_after.is_none(),
            "only a full page has a next one"
        );
        for entry in &page.records {
            let record = &entry.record;
            seen.push((record.author.clone(), record.seq, record.id));
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
}

/// The order pages list an activity's records in: by organisation as the index orders it
/// (length-prefixed, so shorter names first), then seq.
fn sorted(listed: &[(String, u64, RecordId)]) -> Vec<(String, u64, RecordId)> {
    let mut sorted = listed.to_vec();
    sorted.sort_by(|a, b| (a.0.len(), &a.0, a.1).cmp(&(b.0.len(), &b.0, b.1)));
    sorted
}

/// A member may store a correction of another member's transaction (the node's policy checks
/// only its own submissions), but it changes no total and does not become the version the
/// totals follow; the record's page still lists it. A withdrawn activity keeps its page.
#[test]
fn a_foreign_correction_changes_no_total_and_a_withdrawn_activity_keeps_its_page() {
    let (_root, store) = new_store();
    let donor = extend(
        &store,
        DONOR,
        vec![Body::Transaction(disbursement("ACT-9", "10.00", None))],
        (0, RecordId::ZERO),
    );
    let foreign = Body::Correction(Correction {
        corrects: donor[0].id(),
        reason: "not yours to correct".into(),
        replacement: Some(Replacement::Transaction(disbursement(
            "PHANTOM-Y",
            "999.00",
            None,
        ))),
    });
    extend(&store, IMPLEMENTER, vec![foreign], (0, RecordId::ZERO));
    let own = Body::Correction(Correction {
        corrects: donor[0].id(),
        reason: "typo".into(),
        replacement: Some(Replacement::Transaction(disbursement(
            "ACT-9", "12.00", None,
        ))),
    });
    extend(&store, DONOR, vec![own], (1, donor[0].id()));
    let server = Server::start(store.clone());

    let org = server.json(&format!("/api/org/{DONOR}"));
    assert_eq!(org["totals"][0]["sum"], "12.00", "{org}");
    assert_eq!(org["totals"][0]["count"], 1, "{org}");
    let activity = server.json("/api/activity/ACT-9");
    assert_eq!(activity["own"]["totals"][0]["sum"], "12.00", "{activity}");
    assert_eq!(server.get("/api/activity/PHANTOM-Y").status(), 404);
    let search = server.json("/api/search?q=PHANTOM");
    assert_eq!(search["hits"], serde_json::json!([]), "{search}");
    let record = server.json(&format!("/api/record/{}", donor[0].id()));
    assert_eq!(
        record["corrected_by"].as_array().unwrap().len(),
        2,
        "{record}"
    );

    // The donor withdraws it: no totals remain, the page lists the records still.
    let withdrawal = Body::Correction(Correction {
        corrects: donor[0].id(),
        reason: "cancelled".into(),
        replacement: None,
    });
    let head = store.head(DONOR).unwrap().unwrap();
    extend(&store, DONOR, vec![withdrawal], (head.seq + 1, head.id));
    let activity = server.json("/api/activity/ACT-9");
    assert_eq!(
        activity["own"]["totals"],
        serde_json::json!([]),
        "{activity}"
    );
    assert_eq!(
        activity["records"].as_array().unwrap().len(),
        2,
        "{activity}"
    );
}

/// The home page's latest records are the newest by claimed time (ties by id) among each
/// chain's newest, whichever chain they are on.
#[test]
fn home_lists_the_latest_records_over_all_chains() {
    let (_root, store) = new_store();
    // Both chains claim the same times (the helper's clock is the seq), so ties are by id.
    let mut made = chain(DONOR, 30);
    made.extend(chain(IMPLEMENTER, 30));
    for org in [DONOR, IMPLEMENTER] {
        let own: Vec<_> = made
            .iter()
            .filter(|record| record.header().author == org)
            .cloned()
            .collect();
        store.append_durable(&own).unwrap();
    }
    let server = Server::start(store);

    let mut expected: Vec<_> = made
        .iter()
        .map(|record| (record.header().timestamp_ms, record.id()))
        .collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1 .0.cmp(&b.1 .0)));
    let expected: Vec<String> = expected[..20].iter().map(|(_, id)| id.to_hex()).collect();
    let home = server.json("/api/home");
    let latest: Vec<String> = home["latest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|summary| summary["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(latest, expected);
}

/// Chains sync independently, so a receipt can be stored before the disbursement it
/// acknowledges: its link reads `unreported` until the disbursement arrives, then `full`, and
/// a correction afterwards changes the status, as if the order had been the usual.
#[test]
fn an_acknowledgement_stored_before_its_transaction_counts_when_the_transaction_arrives() {
    let (_root, store) = new_store();
    let sent = record(
        DONOR,
        0,
        RecordId::ZERO,
        Body::Transaction(disbursement("ACT-E", "10.00", None)),
    );
    let receipt = Body::Transaction(disbursement("ACT-E", "10.00", Some(sent.id())));
    extend(&store, IMPLEMENTER, vec![receipt], (0, RecordId::ZERO));
    let server = Server::start(store.clone());
    let link = |status: &str| vec![(sent.id().to_hex(), status.to_owned())];
    assert_eq!(acknowledgement_links(&server, "ACT-E"), link("unreported"));

    store.append_durable(std::slice::from_ref(&sent)).unwrap();
    assert_eq!(acknowledgement_links(&server, "ACT-E"), link("full"));

    let correction = Body::Correction(Correction {
        corrects: sent.id(),
        reason: "typo".into(),
        replacement: Some(Replacement::Transaction(disbursement(
            "ACT-E", "3.00", None,
        ))),
    });
    extend(&store, DONOR, vec![correction], (1, sent.id()));
    assert_eq!(
        acknowledgement_links(&server, "ACT-E"),
        link("over 7.00 GBP")
    );
}

/// An acknowledgement counts while it stands: when the receiver withdraws its receipt, or
/// corrects it to acknowledge another transaction, the links' statuses and the record
/// pages follow (as `aidledger flow` and `reconcile` do, which read corrected transactions),
/// also for a receipt of a transaction not stored yet; and the rebuilt index agrees.
#[test]
fn a_withdrawn_or_redirected_acknowledgement_stops_counting() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = Arc::new(open_new_store(&dir));
    let tx =
        |amount: &str, acknowledges| Body::Transaction(disbursement("ACT-W", amount, acknowledges));
    let donor = extend(
        &store,
        DONOR,
        vec![tx("10.00", None), tx("4.00", None)],
        (0, RecordId::ZERO),
    );
    let unsent = record(DONOR, 2, donor[1].id(), tx("2.00", None));
    let receipts = vec![
        tx("10.00", Some(donor[0].id())),
        tx("10.00", Some(donor[0].id())),
        tx("2.00", Some(unsent.id())),
    ];
    let receipts = extend(&store, IMPLEMENTER, receipts, (0, RecordId::ZERO));
    let server = Server::start(store.clone());
    let acknowledged = || acknowledgement_links(&server, "ACT-W");
    let links = |expected: &[(RecordId, &str)]| -> Vec<(String, String)> {
        let mut expected: Vec<(String, String)> = expected
            .iter()
            .map(|(id, status)| (id.to_hex(), status.to_string()))
            .collect();
        expected.sort();
        expected
    };
    let acknowledgers = |id: RecordId| -> Vec<String> {
        let page = server.json(&format!("/api/record/{id}"));
        let by = page["acknowledged_by"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        by.iter().map(|summary| summary["id"].to_string()).collect()
    };
    let quoted = |id: RecordId| format!("\"{id}\"");
    // Two receipts of 10.00 for one disbursement of 10.00; a receipt of a record not held.
    assert_eq!(
        acknowledged(),
        links(&[
            (donor[0].id(), "over 10.00 GBP"),
            (unsent.id(), "unreported")
        ])
    );
    assert_eq!(acknowledgers(donor[0].id()).len(), 2);

    let correct = |target: RecordId, replacement: Option<Body>| {
        Body::Correction(Correction {
            corrects: target,
            reason: "receipt revised".into(),
            replacement: replacement.map(|body| match body {
                Body::Transaction(transaction) => Replacement::Transaction(transaction),
                Body::Statement(statement) => Replacement::Statement(statement),
                _ => unreachable!(),
            }),
        })
    };
    let mut next = (3, receipts[2].id());
    let mut revise = |target: RecordId, replacement: Option<Body>| {
        let made = extend(
            &store,
            IMPLEMENTER,
            vec![correct(target, replacement)],
            next,
        );
        next = (next.0 + 1, made[0].id());
    };
    // One of two receipts withdrawn: the other still acknowledges.
    revise(receipts[0].id(), None);
    assert_eq!(
        acknowledged(),
        links(&[(donor[0].id(), "full"), (unsent.id(), "unreported")])
    );
    assert_eq!(acknowledgers(donor[0].id()), [quoted(receipts[1].id())]);
    // The other one now acknowledges the second disbursement instead.
    revise(receipts[1].id(), Some(tx("4.00", Some(donor[1].id()))));
    assert_eq!(
        acknowledged(),
        links(&[(donor[1].id(), "full"), (unsent.id(), "unreported")])
    );
    assert!(acknowledgers(donor[0].id()).is_empty());
    assert_eq!(acknowledgers(donor[1].id()), [quoted(receipts[1].id())]);
    // A receipt of a transaction not stored yet, withdrawn before it arrives.
    revise(receipts[2].id(), None);
    store.append_durable(std::slice::from_ref(&unsent)).unwrap();
    assert_eq!(acknowledged(), links(&[(donor[1].id(), "full")]));
    // A correction that replaces the receipt with a record of another kind is not the
    // receiver's (node policy refuses it; a peer may still send one): nothing changes, as in
    // `aidledger flow`, which ignores it.
    revise(receipts[1].id(), Some(statement("a statement instead")));
    assert_eq!(acknowledged(), links(&[(donor[1].id(), "full")]));
    // Nothing acknowledges any more.
    revise(receipts[1].id(), Some(tx("4.00", None)));
    assert_eq!(acknowledged(), links(&[]));

    let page = |store: &Store| {
        let page = aidledger_node::explorer::model::activity_page(store, "ACT-W", None).unwrap();
        serde_json::to_value(page).unwrap()
    };
    let written = page(&store);
    drop(server);
    drop(store);
    forget_index_version(&dir, |_| {});
    assert_eq!(written, page(&open_new_store(&dir)));
}

/// An index entry that outlived its record (a power loss can keep a small entry and lose a
/// record sled wrote as a blob) names a position the chain then fills with another record:
/// the explorer index must not take that record for the one the entry names (here it would
/// count a receipt as acknowledging itself).
#[test]
fn an_orphan_index_entry_is_not_taken_for_the_record_at_its_position() {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let donor = extend(
        &open_new_store(&dir),
        DONOR,
        vec![statement("first"), statement("second")],
        (0, RecordId::ZERO),
    );
    let lost = record(DONOR, 2, donor[1].id(), statement("lost to a power loss"));
    {
        let db = raw_sled(&dir);
        let key = aidledger_store::chain_key(DONOR, 2).unwrap();
        db.open_tree("index")
            .unwrap()
            .insert(lost.id().0, key)
            .unwrap();
        db.flush().unwrap();
    }
    let store = Arc::new(open_new_store(&dir));
    let receipt = Body::Transaction(disbursement("ACT-O", "5.00", Some(lost.id())));
    extend(&store, DONOR, vec![receipt], (2, donor[1].id()));
    let page = aidledger_node::explorer::model::activity_page(&store, "ACT-O", None).unwrap();
    let page = serde_json::to_value(page).unwrap();
    // The receipt answers a record not held: `unreported`, and nothing on the provider side
    // (taking the record at the entry's position, the receipt would acknowledge itself).
    assert_eq!(
        acknowledgement_links_of(&page),
        [(lost.id().to_hex(), "unreported".to_owned())]
    );
    assert_eq!(
        page["money"]["links"][0]["provider"],
        serde_json::json!([]),
        "{page}"
    );
}

/// The index written by appends, in whatever order records arrived, equals the index rebuilt
/// from the chains: totals, links and listings of an activity with
/// acknowledgements (one stored before its transaction), a foreign correction, an own
/// correction, a withdrawal and a correction of an acknowledged transaction.
#[test]
fn the_index_written_by_appends_equals_the_rebuilt_index() {
    use aidledger_node::explorer::model::activity_page;
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    let tx = |amount: &str| Body::Transaction(disbursement("ACT-R", amount, None));
    let donor = extend(
        &store,
        DONOR,
        vec![tx("10.00"), tx("5.00")],
        (0, RecordId::ZERO),
    );
    let later = record(DONOR, 2, donor[1].id(), tx("7.00"));
    let receipts = [donor[0].id(), later.id()]
        .map(|id| Body::Transaction(disbursement("ACT-R", "1.00", Some(id))));
    let implementer = extend(&store, IMPLEMENTER, receipts.to_vec(), (0, RecordId::ZERO));
    store.append_durable(std::slice::from_ref(&later)).unwrap();
    let correct = |target: RecordId, amount: Option<&str>| {
        Body::Correction(Correction {
            corrects: target,
            reason: "review".into(),
            replacement: amount
                .map(|amount| Replacement::Transaction(disbursement("ACT-R", amount, None))),
        })
    };
    let foreign = Body::Correction(Correction {
        corrects: donor[1].id(),
        reason: "not yours".into(),
        replacement: Some(Replacement::Transaction(disbursement(
            "PHANTOM", "999", None,
        ))),
    });
    extend(&store, IMPLEMENTER, vec![foreign], (2, implementer[1].id()));
    let corrections = vec![
        correct(donor[0].id(), Some("12.00")),
        correct(donor[1].id(), None),
        correct(later.id(), Some("1.00")),
    ];
    extend(&store, DONOR, corrections, (3, later.id()));

    let pages = |store: &Store| {
        ["ACT-R", "PHANTOM"].map(|activity| match activity_page(store, activity, None) {
            Ok(page) => serde_json::to_value(page).unwrap(),
            Err(problem) => Value::String(problem.to_string()),
        })
    };
    let written = pages(&store);
    let mut expected = vec![
        (donor[0].id().to_hex(), "short 11.00 GBP".to_owned()),
        (later.id().to_hex(), "full".to_owned()),
    ];
    expected.sort();
    assert_eq!(acknowledgement_links_of(&written[0]), expected);
    drop(store);
    forget_index_version(&dir, |_| {});
    let rebuilt = pages(&open_new_store(&dir));
    assert_eq!(written, rebuilt);
}

/// What the money views count for an activity, keyed by (side, organisation, type,
/// currency): what its publisher reports (`own`) and what others report about it
/// (`others`), each as (count, exact sum).
type MoneyViews =
    std::collections::BTreeMap<(&'static str, String, u8, String), (u64, rust_decimal::Decimal)>;

/// The explorer's answer: its activity page, read from the incremental index.
fn explorer_money(store: &Store, activity: &str) -> MoneyViews {
    let page = aidledger_node::explorer::model::activity_page(store, activity, None).unwrap();
    let mut views = MoneyViews::new();
    for (side, reported) in [("own", &page.own), ("others", &page.others)] {
        for org in &reported.organisations {
            for total in &org.totals {
                let sum: rust_decimal::Decimal = total.sum.parse().unwrap();
                let key = (
                    side,
                    org.org.clone(),
                    total.transaction_type,
                    total.currency.clone(),
                );
                views.insert(key, (total.count, sum.normalize()));
            }
        }
    }
    views
}

/// The CLI money ledger's answer: `aidledger flow` and `reconcile`'s [`Ledger`], reading the
/// stopped node's data directory (every record verified against the genesis, corrections
/// applied by the shared rules).
///
/// [`Ledger`]: aidledger_cli::money::ledger::Ledger
fn ledger_money(dir: &std::path::Path, activity: &str) -> MoneyViews {
    use aidledger_cli::money::ledger::{Ledger, Window};
    use aidledger_cli::source::Source;
    // Totals do not depend on the window of `unacknowledged`; any date does.
    let window = Window {
        as_of: aidledger_spec::text::Date {
            year: 2025,
            month: 1,
            day: 1,
        },
        days: 90,
    };
    let ledger = Ledger::load(&[Source::DataDir(dir.to_path_buf())], None, window).unwrap();
    assert!(ledger.problems.is_empty(), "{:?}", ledger.problems);
    let mut views = MoneyViews::new();
    for entry in ledger.transactions() {
        let transaction = &entry.transaction;
        if !aidledger_node::explorer::index::activities(transaction).contains(activity) {
            continue;
        }
        let side = if transaction.activity_id == activity {
            "own"
        } else {
            "others"
        };
        let amount: rust_decimal::Decimal = transaction.value.amount.parse().unwrap();
        let key = (
            side,
            entry.author.clone(),
            transaction.transaction_type,
            transaction.value.currency.clone(),
        );
        let slot = views.entry(key).or_insert((0, rust_decimal::Decimal::ZERO));
        slot.0 += 1;
        slot.1 = (slot.1 + amount).normalize();
    }
    views
}

/// A data directory that each step opens as a node would, appends to and closes, so that the
/// CLI can read it between steps as a stopped node's directory.
struct Scenario {
    _root: tempfile::TempDir,
    dir: std::path::PathBuf,
}

impl Scenario {
    fn new() -> Scenario {
        let root = tempfile::tempdir().unwrap();
        let dir = bare_data_dir(root.path());
        drop(open_new_store(&dir));
        Scenario { _root: root, dir }
    }

    /// Appends `body` as `org`'s next record; returns its id.
    fn append(&self, org: &str, body: Body) -> RecordId {
        let store = open_new_store(&self.dir);
        let next = store
            .head(org)
            .unwrap()
            .map_or((0, RecordId::ZERO), |head| (head.seq + 1, head.id));
        extend(&store, org, vec![body], next)[0].id()
    }

    /// Appends a record made earlier.
    fn append_record(&self, record: &VerifiedRecord) {
        let store = open_new_store(&self.dir);
        store.append_durable(std::slice::from_ref(record)).unwrap();
    }

    /// What the explorer's index and the CLI's ledger count for `activity`, asserted equal.
    fn agree(&self, activity: &str, step: &str) -> MoneyViews {
        let explorer = explorer_money(&open_new_store(&self.dir), activity);
        let ledger = ledger_money(&self.dir, activity);
        assert_eq!(explorer, ledger, "after {step}");
        explorer
    }
}

/// The explorer's incremental index and the CLI's money ledger apply one set of correction
/// rules: after each step of the same scenarios (withdrawn and redirected receipts, a receipt
/// of a transaction stored later, a replacement of another kind, own replacements and
/// withdrawals, a withdrawal undone by a later replacement, another member's correction) they
/// count the same totals of what the publisher reports and of what others report.
#[test]
fn the_explorer_index_and_the_cli_ledger_count_corrections_alike() {
    let scenario = Scenario::new();
    let activity = "ACT-S";
    let tx = |amount: &str, acknowledges| {
        Body::Transaction(disbursement(activity, amount, acknowledges))
    };
    let correct = |target: RecordId, replacement: Option<Replacement>| {
        Body::Correction(Correction {
            corrects: target,
            reason: "revised".into(),
            replacement,
        })
    };
    let replaced = |amount: &str, acknowledges| {
        Some(Replacement::Transaction(disbursement(
            activity,
            amount,
            acknowledges,
        )))
    };
    let append = |org: &str, body: Body| scenario.append(org, body);
    let agree = |step: &str| scenario.agree(activity, step);

    let sent = append(DONOR, tx("10.00", None));
    let second = append(DONOR, tx("4.00", None));
    let unsent = record(DONOR, 2, second, tx("2.00", None));
    let receipt = append(IMPLEMENTER, tx("10.00", Some(sent)));
    let other_receipt = append(IMPLEMENTER, tx("10.00", Some(sent)));
    let early_receipt = append(IMPLEMENTER, tx("2.00", Some(unsent.id())));
    let first = agree("the receipts");
    assert!(
        first
            .keys()
            .any(|key| key.0 == "own" && key.1 == IMPLEMENTER),
        "{first:?}"
    );
    append(IMPLEMENTER, correct(receipt, None));
    agree("one of two receipts withdrawn");
    append(
        IMPLEMENTER,
        correct(other_receipt, replaced("4.00", Some(second))),
    );
    agree("a receipt redirected");
    append(IMPLEMENTER, correct(early_receipt, None));
    scenario.append_record(&unsent);
    agree("a receipt withdrawn before its transaction arrived");
    let statement = Replacement::Statement(match statement("instead") {
        Body::Statement(statement) => statement,
        _ => unreachable!(),
    });
    append(IMPLEMENTER, correct(other_receipt, Some(statement)));
    agree("a replacement of another kind");
    append(DONOR, correct(sent, replaced("9.00", None)));
    agree("an own replacement");
    append(DONOR, correct(second, None));
    agree("an acknowledged transaction withdrawn");
    append(DONOR, correct(second, replaced("3.50", None)));
    agree("a withdrawal undone by a later replacement");
    append(IMPLEMENTER, correct(sent, replaced("999.00", None)));
    agree("another member's correction");
    append(IMPLEMENTER, correct(other_receipt, replaced("4.00", None)));
    agree("the last receipt acknowledges nothing");
}

/// An action of `kind` on `treaty` dated `date`.
fn action_of(treaty: RecordId, text: &TreatyText, kind: TreatyActionKind, date: &str) -> Body {
    Body::TreatyAction(TreatyAction {
        treaty,
        text_hash: text.text_hash(),
        action: kind,
        date: aidledger_spec::text::Date::parse(date).unwrap(),
        note: String::new(),
    })
}

/// Issue 19: the treaty page and `/api/treaty/{id}` say whether the treaty is in force, each
/// party's current action, and list a non-party's ratification (stored without the node's
/// policy, as a peer's record would be) apart, without counting it.
#[test]
fn the_treaty_page_says_whether_the_treaty_is_in_force() {
    let (_root, store) = new_store();
    let server = Server::start(store.clone());
    let text = treaty(&[DONOR, IMPLEMENTER], "The parties agree.");
    let donor = extend(
        &store,
        DONOR,
        vec![Body::TreatyText(text.clone())],
        (0, RecordId::ZERO),
    );
    let id = donor[0].id();
    let donor = extend(
        &store,
        DONOR,
        vec![
            action_of(id, &text, TreatyActionKind::Sign, "2024-01-10"),
            action_of(id, &text, TreatyActionKind::Ratify, "2024-03-01"),
        ],
        (1, id),
    );
    let auditor = extend(
        &store,
        AUDITOR,
        vec![action_of(id, &text, TreatyActionKind::Ratify, "2024-02-01")],
        (0, RecordId::ZERO),
    );

    let page = server.json(&format!("/api/treaty/{id}"));
    assert_eq!(page["in_force"]["in_force"], false, "{page}");
    assert_eq!(page["actions_truncated"], false);
    assert_eq!(
        page["in_force"]["waiting_for"],
        serde_json::json!([IMPLEMENTER])
    );
    assert_eq!(page["parties"][0]["org"], DONOR);
    assert_eq!(page["parties"][0]["current"]["action"], "ratify");
    assert_eq!(
        page["parties"][0]["current"]["record"],
        donor[1].id().to_hex()
    );
    assert_eq!(page["parties"][0]["actions"].as_array().unwrap().len(), 2);
    assert_eq!(page["parties"][1]["current"], Value::Null);
    assert_eq!(
        page["non_party_actions"][0]["record"],
        auditor[0].id().to_hex()
    );
    let html = server.get(&format!("/treaty/{id}")).text().unwrap();
    assert!(
        html.contains(&format!(
            "<strong>Not in force:</strong> waiting for Implementer ({IMPLEMENTER}) to ratify or accede"
        )),
        "{html}"
    );
    assert!(html.contains("Actions by organisations that are not parties"));
    // Who recorded it, by name with the id beside it (issue 20: names everywhere).
    assert_eq!(page["author_name"], "Donor", "{page}");
    assert!(
        html.contains(&format!(
            "<dt>Recorded by</dt><dd><a href=\"/org/{DONOR}\">Donor</a> <span class=\"muted mono\">{DONOR}</span></dd>"
        )),
        "{html}"
    );
    // The non-party's own record page says so; a party's action page has no finding.
    let record = server.json(&format!("/api/record/{}", auditor[0].id()));
    let findings = record["findings"].as_array().expect("findings").clone();
    assert_eq!(findings.len(), 1, "{record}");
    assert!(
        findings[0]
            .as_str()
            .unwrap()
            .starts_with("treaty action by a non-party"),
        "{record}"
    );
    let html = server
        .get(&format!("/record/{}", auditor[0].id()))
        .text()
        .unwrap();
    assert!(html.contains("<strong>Finding:</strong> treaty action by a non-party"));
    let party = server.json(&format!("/api/record/{}", donor[1].id()));
    assert_eq!(party["findings"], serde_json::json!([]), "{party}");

    // The implementer accedes: in force since the later of the two dates.
    extend(
        &store,
        IMPLEMENTER,
        vec![action_of(id, &text, TreatyActionKind::Accede, "2024-02-15")],
        (0, RecordId::ZERO),
    );
    let page = server.json(&format!("/api/treaty/{id}"));
    assert_eq!(page["in_force"]["in_force"], true, "{page}");
    assert_eq!(page["in_force"]["since"], "2024-03-01");
    assert_eq!(page["in_force"]["same_text"], true);
    let html = server.get(&format!("/treaty/{id}")).text().unwrap();
    assert!(html.contains("In force since 2024-03-01"), "{html}");

    // The donor retracts its ratification (a correction without replacement): its current
    // action is the signature again, and the treaty waits for it.
    extend(
        &store,
        DONOR,
        vec![Body::Correction(Correction {
            corrects: donor[1].id(),
            reason: "recorded too early".into(),
            replacement: None,
        })],
        (3, donor[1].id()),
    );
    let page = server.json(&format!("/api/treaty/{id}"));
    assert_eq!(
        page["in_force"]["waiting_for"],
        serde_json::json!([DONOR]),
        "{page}"
    );
    assert_eq!(page["parties"][0]["current"]["action"], "sign");
}

/// Over `MONEY_PAGE_RECORDS_MAX` records in an activity's links, the explorer computes no
/// status (a status of a part of a link would be wrong): the activity page says so and points
/// to `aidledger reconcile`, which reads every record, and a transaction's record page points
/// to the activity page; the totals, from the index, are still shown.
#[test]
fn an_activity_over_the_money_bound_says_so_instead_of_a_status() {
    use aidledger_node::explorer::model::{activity_money, record_link};
    use aidledger_node::limits::MONEY_PAGE_RECORDS_MAX;
    let (_root, store) = new_store();
    let mut prev = RecordId::ZERO;
    let mut made = Vec::new();
    for seq in 0..=MONEY_PAGE_RECORDS_MAX as u64 {
        let body = Body::Transaction(disbursement("ACT-BIG", "1.00", None));
        let signed = record(DONOR, seq, prev, body);
        prev = signed.id();
        made.push(signed);
        if made.len() == 1000 {
            store.append_group(&made).unwrap();
            made.clear();
        }
    }
    store.append_durable(&made).unwrap();
    let as_of = date();
    let money = activity_money(&store, "ACT-BIG", as_of).unwrap();
    assert!(!money.computed);
    assert!(money.links.is_empty() && money.findings.is_empty());
    let note = money.note.unwrap();
    assert!(note.contains("aidledger reconcile"), "{note}");
    // A record page reads at most `RECORD_PAGE_LINK_RECORDS_MAX` of an activity's records:
    // it points to the activity's page.
    let (link, note) = record_link(&store, &prev, as_of).unwrap();
    assert!(link.is_none());
    let note = note.unwrap();
    assert!(
        note.contains("activity ACT-BIG") && note.contains("activity's page"),
        "{note}"
    );
    let server = Server::start(store.clone());
    let page = server.json("/api/activity/ACT-BIG");
    assert_eq!(page["money"]["computed"], false, "{}", page["money"]);
    assert_eq!(
        page["own"]["totals"][0]["count"],
        MONEY_PAGE_RECORDS_MAX as u64 + 1
    );
    let html = server.get("/activity/ACT-BIG").text().unwrap();
    assert!(html.contains("aidledger reconcile"));
}

/// Issue 20: every public response carries the security headers — pages, the style sheet, the
/// API, a 404, a refused write, a record's raw bytes — and the pages reference their style
/// sheet, which the policy allows (`style-src 'self'`), instead of an inline style it would
/// refuse.
#[test]
fn every_public_response_carries_the_security_headers() {
    let (_root, store) = new_store();
    let server = Server::start(store.clone());
    let records = extend(
        &store,
        DONOR,
        vec![Body::Transaction(disbursement(
            "GB-1-HEADERS",
            "1.00",
            None,
        ))],
        (0, RecordId::ZERO),
    );
    let id = records[0].id();
    let check = |what: &str, response: reqwest::blocking::Response| {
        let headers = response.headers();
        for (name, value) in aidledger_node::public::SECURITY_HEADERS {
            assert_eq!(
                headers.get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{what}: header {name}"
            );
        }
        response
    };
    let page = check("a page", server.get("/")).text().unwrap();
    assert!(page.contains("<link rel=\"stylesheet\" href=\"/explorer.css\">"));
    assert!(
        !page.contains("<style"),
        "no inline style the policy would refuse"
    );
    let css = check("the style sheet", server.get("/explorer.css"));
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().unwrap().contains("font:16px"));
    check("a record page", server.get(&format!("/record/{id}")));
    check("the API", server.get("/api/network"));
    check("raw bytes", server.get(&format!("/api/records/{id}/raw")));
    assert_eq!(check("a 404", server.get("/nowhere")).status(), 404);
    let refused = server
        .http
        .post(format!("{}/api/network", server.base))
        .send()
        .unwrap();
    assert_eq!(check("a refused write", refused).status(), 405);
    let policy = aidledger_node::public::SECURITY_HEADERS[0].1;
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
    assert!(!policy.contains("unsafe-inline"), "{policy}");
}

/// The part of a record page before its folded technical details: what a person reads.
fn readable_part(page: &str) -> &str {
    let end = page
        .find("<h2>Technical details</h2>")
        .expect("a record page has technical details");
    &page[..end]
}

#[test]
fn record_pages_lead_with_a_headline_and_status_and_say_how_to_cite_and_check() {
    let (_root, store) = new_store();
    let donor = extend(
        &store,
        DONOR,
        vec![
            Body::Transaction(disbursement("ACT-H", "125000.00", None)),
            Body::Transaction(disbursement("ACT-H", "7.00", None)),
        ],
        (0, RecordId::ZERO),
    );
    let fixes = extend(
        &store,
        DONOR,
        vec![
            Body::Correction(Correction {
                corrects: donor[0].id(),
                reason: "typo".into(),
                replacement: Some(Replacement::Transaction(disbursement(
                    "ACT-H",
                    "120000.00",
                    None,
                ))),
            }),
            Body::Correction(Correction {
                corrects: donor[1].id(),
                reason: "entered twice".into(),
                replacement: None,
            }),
        ],
        (2, donor[1].id()),
    );
    let server = Server::start(store.clone());
    let network_id = store.network_id().to_hex();

    // The JSON: a headline by the members' names, the status of a corrected record.
    let corrected = server.json(&format!("/api/record/{}", donor[0].id()));
    assert_eq!(
        corrected["headline"],
        "Donor disbursed GBP 120,000.00 to Implementer on 2024-03-15 (activity ACT-H), \
         as corrected by its author"
    );
    // No receipt answers it, and its date is long past: the link in words.
    assert_eq!(
        corrected["status"],
        "corrected: amount now GBP 120,000.00, was GBP 125,000.00 · never acknowledged"
    );
    assert_eq!(
        corrected["label"],
        "disbursement GBP 125,000.00, 2024-03-15"
    );
    let withdrawn = server.json(&format!("/api/record/{}", donor[1].id()));
    assert_eq!(
        withdrawn["status"],
        "WITHDRAWN by its author (“entered twice”)"
    );
    let correction = server.json(&format!("/api/record/{}", fixes[0].id()));
    assert!(
        correction["headline"]
            .as_str()
            .unwrap()
            .starts_with("Donor corrected its disbursement GBP 125,000.00, 2024-03-15 (record "),
        "{correction}"
    );
    assert_eq!(correction["changed"][0]["what"], "amount");

    // The page: headline first, the current amount with the signed one struck through, the
    // details by human labels; the raw field names only in the technical details.
    let page = server
        .get(&format!("/record/{}", donor[0].id()))
        .text()
        .unwrap();
    let h1 = page.find("<h1>Donor disbursed GBP 120,000.00 to Implementer");
    assert!(h1.is_some(), "{page}");
    assert!(page.contains("amount now <ins>GBP 120,000.00</ins>, was <del>GBP 125,000.00</del>"));
    let readable = readable_part(&page);
    for raw in [
        "org_ref",
        "transaction_type",
        "ms since 1970",
        "value.amount",
    ] {
        assert!(
            !readable.contains(raw),
            "{raw:?} before the technical details"
        );
    }
    assert!(
        page[readable.len()..].contains("org_ref"),
        "the signed fields are kept below"
    );
    // Cite and check: the full id, the network id, the commands with the address used.
    let id = donor[0].id().to_hex();
    let base = &server.base;
    assert!(readable.contains(&format!("{base}/record/{id}")));
    assert!(readable.contains(&format!(
        "aidledger export --node {base} --network-id {network_id} --out ledger.bundle"
    )));
    assert!(readable.contains(&format!(
        "aidledger show {id} --bundle ledger.bundle --network-id {network_id}"
    )));
    assert!(readable.contains(&format!(
        "aidledger proof {id} --node {base} --out record.proof"
    )));
    assert!(readable.contains(&format!(
        "aidledger verify --proof record.proof --network-id {network_id}"
    )));
    let page = server
        .get(&format!("/record/{}", donor[1].id()))
        .text()
        .unwrap();
    assert!(page.contains("<strong class=\"bad\">WITHDRAWN</strong>"));
    assert!(page.contains("<del>GBP 7.00</del> (withdrawn)"));

    // Once an activity record gives the activity a title, the headline names it.
    let activity = aidledger_spec::activity::Activity {
        iati_identifier: "ACT-H".into(),
        reporting_org: DONOR.into(),
        titles: vec![aidledger_spec::activity::Narrative {
            language: "en".into(),
            text: "Shelter in Kenya".into(),
        }],
        descriptions: Vec::new(),
        status: String::new(),
        dates: Vec::new(),
        recipient_countries: Vec::new(),
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
        iati: None,
    };
    extend(
        &store,
        DONOR,
        vec![Body::Activity(activity)],
        (4, fixes[1].id()),
    );
    assert_eq!(
        server.json(&format!("/api/record/{}", donor[0].id()))["headline"],
        "Donor disbursed GBP 120,000.00 to Implementer on 2024-03-15 \
         (activity “Shelter in Kenya”, ACT-H), as corrected by its author"
    );
}
