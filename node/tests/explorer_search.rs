//! Explorer search over real loopback HTTP: every kind of term (a receiver's name and an
//! unknown organisation's id, activity ids by their beginning and any segment, titles, descriptions and places of
//! activity records, statement and treaty titles, record id prefixes), several words, the
//! ranking, the pages of results, what a correction does to a name, and the same results after
//! the index is rebuilt from the chains.

mod common;

use std::sync::Arc;

use aidledger_spec::activity::{Activity, ActivityDescription, Narrative, RecipientCountry};
use aidledger_spec::record::{Correction, Party, Replacement, Statement, Transaction};
use aidledger_spec::{Body, RecordId};
use aidledger_store::Store;
use common::explorer_server::*;
use common::*;
use serde_json::Value;

const ACTIVITY: &str = "GB-GOV-1-301150-200";
const OTHER_ACTIVITY: &str = "GB-GOV-1-400777-1";

impl Server {
    /// `/api/search?q=…&page=…`.
    fn search(&self, query: &str, page: usize) -> Value {
        let path = format!("/api/search?q={}&page={page}", encode_query(query));
        let response = self.get(&path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().unwrap()
    }

    /// The first page's hits as (kind, id, field, matched).
    fn hits(&self, query: &str) -> Vec<(String, String, String, String)> {
        let results = self.search(query, 1);
        results["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| {
                let text = |name: &str| hit[name].as_str().unwrap_or_default().to_owned();
                (text("kind"), text("id"), text("field"), text("matched"))
            })
            .collect()
    }
}

fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn party(org_ref: &str, name: &str) -> Option<Party> {
    Some(Party {
        org_ref: org_ref.into(),
        name: name.into(),
        activity_id: String::new(),
    })
}

fn paying(activity: &str, receiver: Option<Party>) -> Body {
    let Body::Transaction(mut transaction) = transaction("GBP", None) else {
        unreachable!()
    };
    transaction.activity_id = activity.into();
    transaction.provider = party(DONOR, "Foreign Office");
    transaction.receiver = receiver;
    Body::Transaction(transaction)
}

fn activity_record(identifier: &str, title: &str, description: &str, country: &str) -> Body {
    Body::Activity(Activity {
        iati_identifier: identifier.into(),
        reporting_org: DONOR.into(),
        titles: vec![Narrative {
            language: "en".into(),
            text: title.into(),
        }],
        descriptions: vec![ActivityDescription {
            type_code: "1".into(),
            language: "en".into(),
            text: description.into(),
        }],
        status: "2".into(),
        dates: Vec::new(),
        recipient_countries: vec![RecipientCountry {
            code: country.into(),
            percentage: String::new(),
        }],
        recipient_regions: Vec::new(),
        sectors: Vec::new(),
        participating_orgs: Vec::new(),
        iati: None,
    })
}

struct Fixture {
    _root: tempfile::TempDir,
    dir: std::path::PathBuf,
    store: Arc<Store>,
    payment: RecordId,
    statement: RecordId,
    treaty: RecordId,
}

/// The donor pays Local NGO Network (no member) for an activity described by an activity
/// record, states "Funding for water points", and records a treaty; the implementer pays
/// Waterworks Ltd for another activity whose description mentions water.
fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = Arc::new(open_new_store(&dir));
    let made = append(
        &store,
        DONOR,
        vec![
            paying(ACTIVITY, party("XM-LNGO-7", "Local NGO Network")),
            activity_record(
                ACTIVITY,
                "Clean water for Gaziantep — Göç ve uyum",
                "Boreholes and pipes for camps in southern Türkiye",
                "TR",
            ),
            Body::Statement(Statement {
                title: "Funding for water points 2026".into(),
                language: "en".into(),
                text: "We fund water points.".into(),
            }),
        ],
    );
    let mut treaty = treaty(&[DONOR, IMPLEMENTER], "Article 1.");
    treaty.title = "Water Cooperation Agreement".into();
    let treaty = append(&store, DONOR, vec![Body::TreatyText(treaty)]);
    append(
        &store,
        IMPLEMENTER,
        vec![
            paying(OTHER_ACTIVITY, party("XM-WW-1", "Waterworks Ltd")),
            activity_record(
                OTHER_ACTIVITY,
                "Sanitation in Kigoma",
                "Latrines, hand washing and water storage",
                "TZ",
            ),
        ],
    );
    Fixture {
        _root: root,
        dir,
        store,
        payment: made[0].id(),
        statement: made[2].id(),
        treaty: treaty[0].id(),
    }
}

fn hit(kind: &str, id: &str, field: &str, matched: &str) -> (String, String, String, String) {
    (kind.into(), id.into(), field.into(), matched.into())
}

#[test]
fn search_finds_every_kind_of_term_and_says_which_field_matched() {
    let fixture = fixture();
    let server = Server::start(fixture.store.clone());

    // A receiver's name (not a member), by one word, two words, any case.
    let receiver = hit(
        "organisation",
        "XM-LNGO-7",
        "receiver name",
        "Local NGO Network",
    );
    assert_eq!(server.hits("Local NGO"), std::slice::from_ref(&receiver));
    assert_eq!(server.hits("network LOCAL"), [receiver]);
    let results = server.search("local ngo", 1);
    let record = &results["hits"][0]["record"];
    assert_eq!(record["id"], fixture.payment.to_hex(), "{results}");
    assert_eq!(
        record["label"], "disbursement GBP 125,000.50, 2024-03-15",
        "{results}"
    );
    assert_eq!(record["author_name"], "Donor", "{results}");
    // Every word must match: no record names a local cooperation.
    assert_eq!(server.hits("local cooperation"), []);
    // An unknown organisation's id, whole and by a part inside it.
    let by_id = hit("organisation", "XM-LNGO-7", "receiver id", "XM-LNGO-7");
    assert_eq!(server.hits("XM-LNGO-7"), std::slice::from_ref(&by_id));
    assert_eq!(server.hits("lngo"), [by_id]);
    // An activity id by its beginning and by a part inside it.
    let activity = |matched: &str, field: &str| hit("activity", ACTIVITY, field, matched);
    assert_eq!(
        server.hits("301150-200"),
        [activity(ACTIVITY, "activity id")]
    );
    assert_eq!(server.hits("301150"), [activity(ACTIVITY, "activity id")]);
    assert_eq!(
        server.hits("gov-1-301150"),
        [activity(ACTIVITY, "activity id")]
    );
    // A part that begins inside a segment is not found (index/search.rs: the suffixes kept
    // begin at segments).
    assert_eq!(server.hits("1150-200"), []);
    assert_eq!(
        server.hits("gb-gov-1-3011"),
        [activity(ACTIVITY, "activity id")]
    );
    // An activity record's title (Unicode words, any case), description and place.
    let title = "Clean water for Gaziantep — Göç ve uyum";
    assert_eq!(
        server.hits("gaziantep"),
        [activity(title, "activity title")]
    );
    assert_eq!(server.hits("GÖÇ"), [activity(title, "activity title")]);
    assert_eq!(
        server.hits("boreholes"),
        [activity("", "activity description")]
    );
    assert_eq!(
        server.hits("türkiye"),
        [activity("", "activity description")]
    );
    assert_eq!(
        server.hits("TR"),
        [activity("TR", "recipient country or region")]
    );
    let results = server.search("gaziantep", 1);
    assert_eq!(results["hits"][0]["title"], title, "{results}");
    // Words of two fields of one activity.
    assert_eq!(
        server.hits("301150 boreholes"),
        [activity("", "activity description")],
        "the best of its matches is shown"
    );
    // Statement and treaty titles.
    assert_eq!(
        server.hits("Funding"),
        [hit(
            "statement",
            &fixture.statement.to_hex(),
            "statement title",
            "Funding for water points 2026"
        )]
    );
    assert_eq!(
        server.hits("cooperation agreement"),
        [hit(
            "treaty",
            &fixture.treaty.to_hex(),
            "treaty title",
            "Water Cooperation Agreement"
        )]
    );
    // A record id by its first digits.
    let prefix = &fixture.payment.to_hex()[..10];
    let found = server.hits(prefix);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].0.as_str(),
            found[0].1.as_str(),
            found[0].2.as_str()
        ),
        ("record", fixture.payment.to_hex().as_str(), "record id")
    );
    // A member by its name.
    assert_eq!(
        server.hits("implementer"),
        [hit("member", IMPLEMENTER, "member name", "Implementer")]
    );

    // The page shows the same: the field, the name with its id beside it, the record.
    let html = server.get("/search?q=Local+NGO").text().unwrap_or_default();
    for shown in [
        "receiver name:",
        "<mark>Local NGO Network</mark>",
        "XM-LNGO-7",
        &format!("/record/{}", fixture.payment.to_hex()),
        "disbursement GBP 125,000.50, 2024-03-15",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    let html = server.get("/search?q=nothing-like-this").text().unwrap();
    assert!(html.contains("Nothing matches"), "{html}");
}

/// Whole words before word beginnings before parts of ids; names and titles before
/// descriptions; a member before others of the same score.
#[test]
fn search_ranks_whole_words_titles_and_members_first() {
    let fixture = fixture();
    append(
        &fixture.store,
        IMPLEMENTER,
        vec![paying(
            OTHER_ACTIVITY,
            party("XM-DONORS-UNITED", "Donor Trust"),
        )],
    );
    let server = Server::start(fixture.store.clone());

    let ranked: Vec<(String, String)> = server
        .hits("water")
        .into_iter()
        .map(|(kind, _, field, _)| (kind, field))
        .collect();
    let expected = [
        // Whole word in a title: the activity, the statement and the treaty (by kind).
        ("activity", "activity title"),
        ("statement", "statement title"),
        ("treaty", "treaty title"),
        // A word's beginning in a name.
        ("organisation", "receiver name"),
        // A whole word in a description only.
        ("activity", "activity description"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(kind, field)| (kind.to_string(), field.to_string()))
        .collect();
    assert_eq!(ranked, expected);
    let scores: Vec<u64> = server.search("water", 1)["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["score"].as_u64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );

    // "donor": the member Donor and the receiver Donor Trust both by a whole word of their
    // names: the member first.
    let donor = server.hits("donor");
    assert_eq!(donor[0], hit("member", DONOR, "member name", "Donor"));
    assert_eq!(
        donor[1],
        hit(
            "organisation",
            "XM-DONORS-UNITED",
            "receiver name",
            "Donor Trust"
        )
    );
    // A part inside an id ranks below its beginning, which ranks below the whole id.
    let score = |query: &str| {
        let results = server.search(query, 1);
        assert_eq!(results["total"], 1, "{results}");
        assert_eq!(results["hits"][0]["id"], OTHER_ACTIVITY, "{results}");
        results["hits"][0]["score"].as_u64().unwrap()
    };
    assert_eq!(score("400777"), 2);
    assert_eq!(score("gb-gov-1-400777"), 4);
    assert_eq!(score(OTHER_ACTIVITY), 6);
}

#[test]
fn search_results_come_in_pages() {
    let (_root, store) = {
        let root = tempfile::tempdir().unwrap();
        let store = Arc::new(open_new_store(&bare_data_dir(root.path())));
        (root, store)
    };
    let receivers = (0..45)
        .map(|n| {
            paying(
                ACTIVITY,
                party(&format!("XM-P-{n:02}"), &format!("Partner {n}")),
            )
        })
        .collect();
    append(&store, DONOR, receivers);
    let server = Server::start(store);

    let first = server.search("partner", 1);
    assert_eq!(first["total"], 45, "{first}");
    assert_eq!(first["pages"], 3, "{first}");
    assert_eq!(first["page_size"], 20, "{first}");
    assert_eq!(first["hits"].as_array().unwrap().len(), 20);
    let last = server.search("partner", 3);
    assert_eq!(last["hits"].as_array().unwrap().len(), 5);
    let ids: std::collections::BTreeSet<String> = (1..=3)
        .flat_map(|page| {
            server.search("partner", page)["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hit| hit["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ids.len(), 45, "every hit once over the pages");
    assert_eq!(
        server.search("partner", 4)["hits"],
        serde_json::json!([]),
        "past the last page"
    );
    assert_eq!(server.get("/api/search?q=partner&page=0").status(), 400);
    assert_eq!(server.get("/api/search?q=partner&page=x").status(), 400);
    let html = server.get("/search?q=partner&page=2").text().unwrap();
    assert!(html.contains("page 2 of 3"), "{html}");
    assert!(html.contains("/search?q=partner&amp;page=1"), "{html}");
    assert!(html.contains("/search?q=partner&amp;page=3"), "{html}");
    assert!(html.contains("<ol class=\"hits\" start=\"21\">"), "{html}");
}

/// A name corrected by the transaction's own author: the new name is found (pointing at the
/// original record, whose page shows the current version), the old one is not. A withdrawn
/// transaction's names are not found; another member's correction changes nothing.
#[test]
fn a_corrected_name_is_found_as_it_is_now_and_not_as_it_was() {
    let fixture = fixture();
    let store = &fixture.store;
    let made = append(
        store,
        DONOR,
        vec![
            paying(ACTIVITY, party("XM-TYPO", "Locl Helpers")),
            paying(ACTIVITY, party("XM-GONE", "Vanished Partners")),
        ],
    );
    let Body::Transaction(original) = made[0].body().clone() else {
        unreachable!()
    };
    let corrected = Transaction {
        receiver: party("XM-TYPO", "Local Helpers"),
        ..original
    };
    let correct = |target: RecordId, replacement: Option<Transaction>| {
        Body::Correction(Correction {
            corrects: target,
            reason: "review".into(),
            replacement: replacement.map(Replacement::Transaction),
        })
    };
    let Body::Transaction(phantom) = paying(ACTIVITY, party("XM-PHANTOM", "Phantom Org")) else {
        unreachable!()
    };
    append(
        store,
        IMPLEMENTER,
        vec![correct(made[1].id(), Some(phantom))],
    );
    append(
        store,
        DONOR,
        vec![
            correct(made[0].id(), Some(corrected)),
            correct(made[1].id(), None),
        ],
    );
    let server = Server::start(store.clone());

    assert_eq!(server.hits("locl"), [], "the old name is not found");
    let now = server.search("local helpers", 1);
    assert_eq!(now["total"], 1, "{now}");
    assert_eq!(now["hits"][0]["matched"], "Local Helpers", "{now}");
    assert_eq!(
        now["hits"][0]["record"]["id"],
        made[0].id().to_hex(),
        "{now}"
    );
    // The id of the corrected receiver stays found, through the current version.
    assert_eq!(server.search("XM-TYPO", 1)["total"], 1);
    assert_eq!(
        server.hits("vanished"),
        [],
        "a withdrawn transaction's names"
    );
    assert_eq!(server.hits("XM-GONE"), []);
    assert_eq!(server.hits("phantom"), [], "another member's correction");

    // A later transaction naming the old name again makes it current.
    let again = append(
        store,
        DONOR,
        vec![paying(ACTIVITY, party("XM-TYPO", "Locl Helpers"))],
    );
    let found = server.search("locl", 1);
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["record"]["id"], again[0].id().to_hex());

    // A new activity record supersedes the old title's words.
    append(
        store,
        DONOR,
        vec![activity_record(
            ACTIVITY,
            "Kigoma water supply",
            "Tanks",
            "TZ",
        )],
    );
    assert_eq!(server.hits("gaziantep"), []);
    assert_eq!(
        server.search("kigoma", 1)["total"],
        2,
        "both activities now"
    );
}

/// The index rebuilt from the chains finds the same as the one written by the appends.
#[test]
fn the_rebuilt_index_finds_what_the_appended_one_found() {
    let fixture = fixture();
    let queries = [
        "local ngo",
        "xm-lngo-7",
        "301150-200",
        "gaziantep",
        "boreholes",
        "tr",
        "funding",
        "water",
        "donor",
    ];
    let answers = |store: Arc<Store>| {
        let server = Server::start(store);
        queries.map(|query| server.search(query, 1))
    };
    let written = answers(fixture.store.clone());
    let dir = fixture.dir.clone();
    drop(fixture.store);
    let db = raw_sled(&dir);
    let explorer = db.open_tree("explorer").unwrap();
    let terms = explorer.scan_prefix(b"S").count();
    assert!(terms > 50, "{terms} search terms");
    explorer.remove("v").unwrap();
    db.flush().unwrap();
    drop(explorer);
    drop(db);
    let rebuilt = answers(Arc::new(open_new_store(&dir)));
    assert_eq!(written, rebuilt);
}

/// `count` records of `org` from its first, cycling through a payment, an activity record and a
/// statement with words of its own.
fn mixed_chain(org: &str, count: u64) -> Vec<aidledger_spec::VerifiedRecord> {
    let mut prev = RecordId::ZERO;
    (0..count)
        .map(|seq| {
            let body = match seq % 3 {
                0 => paying(ACTIVITY, party("XM-LNGO-7", "Local NGO Network")),
                1 => activity_record(
                    &format!("{ACTIVITY}-{seq}"),
                    &format!("Water points phase {seq}"),
                    "Boreholes and pipes",
                    "TR",
                ),
                _ => Body::Statement(Statement {
                    title: format!("Field report {seq}"),
                    language: "en".into(),
                    text: format!("Distribution {seq}: forty households received water kits."),
                }),
            };
            let made = record(org, seq, prev, body);
            prev = made.id();
            made
        })
        .collect()
}

fn explorer_tree(store: &Store) -> Vec<(sled::IVec, sled::IVec)> {
    store
        .index_tree()
        .range::<&[u8], _>(..)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Peers' records appended without their index entries (a node's range sync of a large batch)
/// are in the index once the follower has caught up, exactly as if they had been indexed at
/// their append; an append to a chain whose index is behind does not index ahead of it, and a
/// chain whose index is current is indexed at its append meanwhile.
#[test]
fn an_index_left_to_the_follower_catches_up_to_the_index_written_at_append() {
    let donor = mixed_chain(DONOR, 300);
    // Statements only: a party named in both chains would be found through whichever of its
    // records the index met first, which the order of chains decides (as in a rebuild).
    let implementer = chain(IMPLEMENTER, 40);
    let root = tempfile::tempdir().unwrap();
    let at_append = open_new_store(&bare_data_dir(&root.path().join("a")));
    for group in [&donor[..256], &donor[256..], &implementer[..]] {
        at_append.append_group(group).unwrap();
    }
    assert_eq!(at_append.index_behind_records().unwrap(), 0);

    let followed = open_new_store(&bare_data_dir(&root.path().join("b")));
    followed
        .append_group_deferring_index(&donor[..256])
        .unwrap();
    // The donor's chain is behind: this append leaves its records to the follower too.
    followed.append_group(&donor[256..]).unwrap();
    followed.append_group(&implementer).unwrap();
    assert_eq!(followed.index_behind_records().unwrap(), 300);
    let behind = followed.index_behind().unwrap();
    assert_eq!(behind.len(), 1, "{behind:?}");
    assert_eq!((behind[0].author.as_str(), behind[0].from_seq), (DONOR, 0));
    assert_ne!(explorer_tree(&followed), explorer_tree(&at_append));

    let mut chunks = Vec::new();
    loop {
        match followed.index_deferred(256).unwrap() {
            0 => break,
            indexed => chunks.push(indexed),
        }
    }
    assert_eq!(chunks, [256, 44]);
    assert_eq!(followed.index_behind_records().unwrap(), 0);
    assert!(followed.index_behind().unwrap().is_empty());
    let (followed, at_append) = (explorer_tree(&followed), explorer_tree(&at_append));
    let only = |a: &[(sled::IVec, sled::IVec)], b: &[(sled::IVec, sled::IVec)]| {
        a.iter()
            .filter(|entry| !b.contains(entry))
            .map(|(key, _)| String::from_utf8_lossy(key).into_owned())
            .take(5)
            .collect::<Vec<_>>()
    };
    assert!(
        followed == at_append,
        "only after the follower: {:?}; only at append: {:?}",
        only(&followed, &at_append),
        only(&at_append, &followed)
    );
}

/// A revocation in a chain whose index is behind rebuilds the index from what the chains
/// hold: the mark goes, and the index is the one of the records left.
#[test]
fn a_revocation_in_a_chain_behind_rebuilds_the_index_and_clears_its_mark() {
    let donor = mixed_chain(DONOR, 300);
    let root = tempfile::tempdir().unwrap();
    let followed = open_new_store(&bare_data_dir(&root.path().join("a")));
    followed.append_group(&donor[..100]).unwrap();
    followed
        .append_group_deferring_index(&donor[100..])
        .unwrap();
    assert_eq!(followed.index_behind_records().unwrap(), 200);
    followed
        .revoke_from(DONOR, 150, &aidledger_spec::Rejection::BadSignature)
        .unwrap();
    assert!(followed.index_behind().unwrap().is_empty());
    assert_eq!(followed.index_behind_records().unwrap(), 0);

    let rebuilt = open_new_store(&bare_data_dir(&root.path().join("b")));
    rebuilt.append_group(&donor[..150]).unwrap();
    // The rebuild indexes the 150 records left in one group, as this single append does.
    assert!(
        explorer_tree(&followed) == explorer_tree(&rebuilt),
        "the rebuilt index is the index of the records left"
    );
}
