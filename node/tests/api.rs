//! The node's HTTP APIs over real loopback sockets: submits and their refusals, the token, the
//! body limit, the read-only public API, pagination, export, and concurrent submits.

mod common;

use aidledger_node::{ExplorerIndex, NodeConfig};
use aidledger_spec::bundle::{BundleItem, BundleReader};
use aidledger_spec::limits::BODY_SIZE_BYTES_MAX;
use aidledger_spec::record::{Correction, Replacement};
use aidledger_spec::{Body, RecordId};
use aidledger_store::datadir::{Endpoints, ENDPOINTS_FILE, TOKEN_FILE};
use aidledger_store::Store;
use common::*;
use serde_json::Value;

/// Submits `body`, expects a 400 naming `problem`, and checks that nothing was stored.
#[track_caller]
fn assert_refused(node: &TestNode, bytes: Vec<u8>, problem: &str) {
    let before = node.store_status();
    let (status, json) = node.submit_raw(bytes);
    assert_eq!(status, 400, "{json}");
    let message = json["error"].as_str().unwrap();
    assert!(
        message.contains(problem),
        "error {message:?} should name {problem:?}"
    );
    assert_eq!(
        node.store_status(),
        before,
        "a refused submit changed the store"
    );
}

#[test]
fn submitted_records_are_signed_stored_and_served() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let (id, seq) = node.submit(&transaction("GBP", None));
    assert_eq!(seq, 0);
    let (second, seq) = node.submit(&statement("hello"));
    assert_eq!(seq, 1);

    let status = node.status();
    assert_eq!(status["org"], DONOR);
    assert_eq!(status["records"], 2);
    assert_eq!(status["head"]["seq"], 1);
    assert_eq!(status["head"]["id"], second.to_hex());
    assert_eq!(status["network_id"], genesis().network_id().to_hex());

    let view: Value = node
        .public_get(&format!("/api/records/{id}"))
        .json()
        .unwrap();
    assert_eq!(view["id"], id.to_hex());
    assert_eq!(view["author"], DONOR);
    assert_eq!(view["seq"], 0);
    assert_eq!(view["prev"], RecordId::ZERO.to_hex());
    assert_eq!(view["kind"], "transaction");
    assert_eq!(view["body"]["value"]["amount"], "125000.50");
    assert_eq!(view["body"]["value"]["currency"], "GBP");
    assert_eq!(view["body"]["transaction_type_name"], "disbursement");
    assert_eq!(
        view["signing_key"],
        hex::encode(key_of(DONOR).verifying_key().to_bytes())
    );

    let raw = node
        .public_get(&format!("/api/records/{id}/raw"))
        .bytes()
        .unwrap()
        .to_vec();
    assert_eq!(hex::encode(&raw), view["bytes_hex"].as_str().unwrap());
    let verified = verifier().verify(raw).unwrap();
    assert_eq!(verified.id(), id);

    let genesis_bytes = node.public_get("/api/genesis.bin").bytes().unwrap();
    assert_eq!(genesis_bytes.as_ref(), genesis().encode().as_slice());
    let network: Value = node.public_get("/api/network").json().unwrap();
    assert_eq!(network["name"], "test network");
    let donor_chain = network["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|chain| chain["org"] == DONOR)
        .unwrap();
    assert_eq!(donor_chain["length"], 2);
    assert_eq!(network["members"].as_array().unwrap().len(), 3);

    assert_eq!(node.public_get("/api/records/zz").status(), 400);
    assert_eq!(
        node.public_get(&format!("/api/records/{}", "ab".repeat(32)))
            .status(),
        404
    );
}

#[test]
fn each_policy_problem_is_named_and_nothing_is_stored() {
    let root = tempfile::tempdir().unwrap();
    // Put a record of another organisation in the store, as replication would.
    let mut node = TestNode::start(root.path(), DONOR);
    node.stop();
    let other = record(
        IMPLEMENTER,
        0,
        RecordId::ZERO,
        statement("implementer's own"),
    );
    {
        let store = Store::open(&root.path().join("data"), ExplorerIndex).unwrap();
        store.append_durable(std::slice::from_ref(&other)).unwrap();
    }
    let node = TestNode::start(root.path(), DONOR);
    let treaty_text = treaty(&[DONOR, IMPLEMENTER], "The parties agree.");
    let (treaty_id, _) = node.submit(&Body::TreatyText(treaty_text.clone()));
    let (statement_id, _) = node.submit(&statement("on the record"));
    let missing = aidledger_spec::Digest([0xab; 32]);

    assert_refused(&node, b"\x09garbage".to_vec(), "malformed record body");
    let mut trailing = encode(&statement("x"));
    trailing.push(0);
    assert_refused(&node, trailing, "trailing");
    let mut empty_activity = transaction("GBP", None);
    if let Body::Transaction(transaction) = &mut empty_activity {
        transaction.activity_id.clear();
    }
    assert_refused(&node, encode(&empty_activity), "activity_id");
    assert_refused(
        &node,
        encode(&transaction("GBX", None)),
        "unknown currency code \"GBX\"",
    );
    assert_refused(
        &node,
        encode(&Body::TreatyText(treaty(&[DONOR, "XX"], "text"))),
        "treaty party \"XX\" is not a member of the network",
    );
    assert_refused(
        &node,
        encode(&transaction("GBP", Some(missing))),
        &format!("acknowledged record {missing} not found"),
    );
    assert_refused(
        &node,
        encode(&transaction("GBP", Some(statement_id))),
        &format!("acknowledged record {statement_id} is a statement, not a transaction"),
    );
    let correction = |corrects, replacement| {
        Body::Correction(Correction {
            corrects,
            reason: "typo".into(),
            replacement,
        })
    };
    assert_refused(
        &node,
        encode(&correction(missing, None)),
        &format!("corrected record {missing} not found"),
    );
    assert_refused(
        &node,
        encode(&correction(other.id(), None)),
        &format!("belongs to {IMPLEMENTER}"),
    );
    let wrong_kind = correction(
        statement_id,
        Some(Replacement::Transaction(match transaction("GBP", None) {
            Body::Transaction(transaction) => transaction,
            _ => unreachable!(),
        })),
    );
    assert_refused(
        &node,
        encode(&wrong_kind),
        "is a statement, not a transaction",
    );
    assert_refused(
        &node,
        encode(&treaty_action(treaty_id, aidledger_spec::Digest([1; 32]))),
        "text hash",
    );
    assert_refused(
        &node,
        encode(&treaty_action(statement_id, treaty_text.text_hash())),
        &format!("treaty record {statement_id} is a statement"),
    );
    assert_refused(
        &node,
        encode(&treaty_action(missing, treaty_text.text_hash())),
        &format!("treaty record {missing} not found"),
    );

    // The same references, right, are accepted.
    node.submit(&treaty_action(treaty_id, treaty_text.text_hash()));
    node.submit(&correction(statement_id, None));
    let (payment, _) = node.submit(&transaction("EUR", None));
    node.submit(&transaction("EUR", Some(payment)));
}

/// Issue 19: a node accepted a "ratify" from an organisation that is not a party. A treaty
/// action, and a correction whose replacement is one, by a non-party is refused naming the
/// organisation and the treaty; the same action by a party goes through.
#[test]
fn a_treaty_action_by_a_non_party_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    // Both are members; the donor is a party only of the first.
    let ours = treaty(&[DONOR, IMPLEMENTER], "We agree.");
    let theirs = treaty(&[IMPLEMENTER, AUDITOR], "They agree.");
    let (ours_id, _) = node.submit(&Body::TreatyText(ours.clone()));
    let (theirs_id, _) = node.submit(&Body::TreatyText(theirs.clone()));
    let mut ratify = treaty_action(theirs_id, theirs.text_hash());
    if let Body::TreatyAction(action) = &mut ratify {
        action.action = aidledger_spec::record::TreatyActionKind::Ratify;
    }
    assert_refused(
        &node,
        encode(&ratify),
        &format!(
            "{DONOR} is not a party to treaty {theirs_id} (its parties: {IMPLEMENTER}, {AUDITOR})"
        ),
    );

    // An action of the donor's on its own treaty, corrected to act on the other one.
    let (own_action, _) = node.submit(&treaty_action(ours_id, ours.text_hash()));
    let Body::TreatyAction(moved) = treaty_action(theirs_id, theirs.text_hash()) else {
        unreachable!()
    };
    let correction = Body::Correction(Correction {
        corrects: own_action,
        reason: "wrong treaty".into(),
        replacement: Some(Replacement::TreatyAction(moved)),
    });
    assert_refused(
        &node,
        encode(&correction),
        &format!("{DONOR} is not a party to treaty {theirs_id}"),
    );
    // A correction that stays on a treaty the donor is a party of is accepted.
    let Body::TreatyAction(mut redated) = treaty_action(ours_id, ours.text_hash()) else {
        unreachable!()
    };
    redated.note = "date confirmed".into();
    node.submit(&Body::Correction(Correction {
        corrects: own_action,
        reason: "note".into(),
        replacement: Some(Replacement::TreatyAction(redated)),
    }));
}

#[test]
fn the_submit_api_needs_the_token() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let url = format!("{}/v1/records", node.node().submit_url());
    let body = encode(&statement("x"));
    let missing = node.http.post(&url).body(body.clone()).send().unwrap();
    assert_eq!(missing.status(), 401);
    let json: Value = missing.json().unwrap();
    assert!(json["error"]
        .as_str()
        .unwrap()
        .contains("missing bearer token"));
    let wrong = node
        .http
        .post(&url)
        .bearer_auth("0".repeat(64))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let status = node
        .http
        .get(format!("{}/v1/status", node.node().submit_url()))
        .send()
        .unwrap();
    assert_eq!(status.status(), 401);
    assert_eq!(node.status()["records"], 0);
    assert_eq!(node.status()["store_cache_mib"], 256);

    let token_path = node.data_dir.join(TOKEN_FILE);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(&token_path).unwrap().trim(),
        node.node().token()
    );
}

#[test]
fn status_says_when_the_writer_has_stopped() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    node.submit(&statement("before"));
    let public_status = || -> Value { node.public_get("/api/status").json().unwrap() };
    let status = node.status();
    assert_eq!(status["accepting_records"], true, "{status}");
    assert_eq!(status["writer_failure"], Value::Null, "{status}");
    assert_eq!(public_status()["accepting_records"], true);

    node.node()
        .store()
        .set_fault_after_write_ahead(panic_always);
    let (code, json) = node.submit_raw(encode(&statement("during")));
    assert_eq!(code, 500, "{json}");

    let status = node.status();
    assert_eq!(status["accepting_records"], false, "{status}");
    let reason = status["writer_failure"].as_str().unwrap_or_default();
    assert!(reason.contains("until the node restarts"), "{status}");
    assert_eq!(status["records"], 1, "{status}");
    let public = public_status();
    assert_eq!(public["accepting_records"], false, "{public}");
    assert!(
        public.get("writer_failure").is_none(),
        "the public status keeps the reason to the operator: {public}"
    );
}

/// The store can stop without any submission meeting it (here a peer's append, made on the
/// store directly, panics between its write-ahead and its transaction): the status says so
/// at once, not only after the next submit is refused.
#[test]
fn status_says_when_the_store_stopped_outside_a_submission() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let store = node.node().store();
    store.set_fault_after_write_ahead(panic_always);
    let peer = chain(IMPLEMENTER, 1);
    let panicked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.append_group(&peer)));
    assert!(panicked.is_err());
    let status = node.status();
    assert_eq!(status["accepting_records"], false, "{status}");
    let reason = status["writer_failure"].as_str().unwrap_or_default();
    assert!(reason.contains("until the node restarts"), "{status}");
    let public: Value = node.public_get("/api/status").json().unwrap();
    assert_eq!(public["accepting_records"], false, "{public}");
}

#[test]
fn bodies_over_the_limit_get_413_and_large_treaties_fit() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let (status, json) = node.submit_raw(vec![0u8; BODY_SIZE_BYTES_MAX + 1]);
    assert_eq!(status, 413, "{json}");
    assert!(json["error"].as_str().unwrap().contains("limit"));
    assert_eq!(node.status()["records"], 0);
    // A 5 MiB treaty text: far over axum's default 2 MB limit.
    let text = "Article 1. The parties agree. ".repeat(5 * 1024 * 1024 / 30);
    let (id, _) = node.submit(&Body::TreatyText(treaty(&[DONOR], &text)));
    let raw = node
        .public_get(&format!("/api/records/{id}/raw"))
        .bytes()
        .unwrap()
        .to_vec();
    assert!(raw.len() > 5_000_000);
    assert!(verifier().verify(raw).is_ok());
}

#[test]
fn the_public_api_is_read_only() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let base = node.node().public_url().to_string();
    for (method, path) in [
        (reqwest::Method::POST, "/api/network"),
        (reqwest::Method::PUT, "/api/records/00"),
        (reqwest::Method::DELETE, "/api/export"),
        (reqwest::Method::PATCH, "/api/unknown"),
        (reqwest::Method::POST, "/v1/records"),
    ] {
        let response = node
            .http
            .request(method.clone(), format!("{base}{path}"))
            .body("x")
            .send()
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], "GET, HEAD");
    }
    let head = node
        .http
        .head(format!("{base}/api/network"))
        .send()
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(node.public_get("/api/unknown").status(), 404);
}

#[test]
fn pages_run_newest_first_without_gaps() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let ids: Vec<RecordId> = (0..120)
        .map(|index| node.submit(&statement(&format!("statement {index}"))).0)
        .collect();
    let mut seen = Vec::new();
    let mut query = String::from("limit=50");
    loop {
        let page: Value = node
            .public_get(&format!("/api/orgs/{DONOR}/records?{query}"))
            .json()
            .unwrap();
        assert_eq!(page["org"], DONOR);
        for record in page["records"].as_array().unwrap() {
            seen.push((
                record["seq"].as_u64().unwrap(),
                record["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_before_seq"].as_u64() {
            Some(before) => query = format!("before_seq={before}&limit=50"),
            None => break,
        }
    }
    let expected: Vec<(u64, String)> = ids
        .iter()
        .enumerate()
        .rev()
        .map(|(seq, id)| (seq as u64, id.to_hex()))
        .collect();
    assert_eq!(seen, expected);
    let default_page: Value = node
        .public_get(&format!("/api/orgs/{DONOR}/records"))
        .json()
        .unwrap();
    assert_eq!(default_page["records"].as_array().unwrap().len(), 50);
    assert_eq!(default_page["next_before_seq"], 70);
    assert_eq!(
        node.public_get(&format!("/api/orgs/{DONOR}/records?limit=1001"))
            .status(),
        400
    );
    assert_eq!(
        node.public_get(&format!("/api/orgs/{DONOR}/records?before_seq=x"))
            .status(),
        400
    );
    assert_eq!(node.public_get("/api/orgs/XX-NOBODY/records").status(), 404);
    let empty: Value = node
        .public_get(&format!("/api/orgs/{AUDITOR}/records"))
        .json()
        .unwrap();
    assert_eq!(empty["records"].as_array().unwrap().len(), 0);
    assert_eq!(empty["next_before_seq"], Value::Null);
}

#[test]
fn concurrent_submits_get_distinct_seqs_and_are_all_stored() {
    const CLIENTS: usize = 8;
    const PER_CLIENT: usize = 25;
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let results: Vec<(RecordId, u64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let node = &node;
                scope.spawn(move || {
                    (0..PER_CLIENT)
                        .map(|index| {
                            node.submit(&statement(&format!("client {client} record {index}")))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    let mut seqs: Vec<u64> = results.iter().map(|(_, seq)| *seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..(CLIENTS * PER_CLIENT) as u64).collect::<Vec<_>>());

    // The export holds every acknowledged record and verifies as one unbroken chain.
    let bundle = node.public_get("/api/export").bytes().unwrap().to_vec();
    let mut reader = BundleReader::new(bundle.as_slice()).unwrap();
    assert_eq!(reader.genesis_bytes(), genesis().encode().as_slice());
    let mut chains = aidledger_spec::chain::ChainVerifier::new(&genesis());
    let mut exported = std::collections::HashSet::new();
    while let Some(item) = reader.next_item().unwrap() {
        let BundleItem::Record(bytes) = item else {
            panic!("no proofs expected")
        };
        let verdict = verifier().verify(bytes);
        exported.insert(verdict.as_ref().unwrap().id());
        chains.add(verdict);
    }
    let report = chains.finish();
    assert!(report.is_valid(), "{report:?}");
    assert!(results.iter().all(|(id, _)| exported.contains(id)));
    assert_eq!(exported.len(), CLIENTS * PER_CLIENT);
}

#[test]
fn endpoints_are_published_while_running_and_removed_on_shutdown() {
    let root = tempfile::tempdir().unwrap();
    let mut node = TestNode::start(root.path(), DONOR);
    let endpoints = Endpoints::read(&node.data_dir).unwrap();
    assert_eq!(endpoints.submit, node.node().submit_url());
    assert_eq!(endpoints.public, node.node().public_url());
    assert_eq!(endpoints.pid, std::process::id());
    assert_eq!(
        aidledger_store::datadir::read_token(&node.data_dir).unwrap(),
        node.node().token()
    );
    // The directory is in use while the node runs.
    let error = Store::open(&node.data_dir, ExplorerIndex).err().unwrap();
    assert!(
        error.to_string().contains("in use by a running node"),
        "{error}"
    );
    node.submit(&statement("before shutdown"));
    node.stop();
    assert!(!node.data_dir.join(ENDPOINTS_FILE).exists());
    let store = Store::open(&node.data_dir, ExplorerIndex).unwrap();
    assert_eq!(store.record_count().unwrap(), 1);
}

#[test]
fn bad_configuration_is_refused_with_a_named_problem() {
    let root = tempfile::tempdir().unwrap();
    let (genesis_path, key_path) = write_inputs(root.path(), IMPLEMENTER);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = NodeConfig {
        data_dir: root.path().join("data"),
        genesis: Some(genesis_path.clone()),
        org: Some(DONOR.into()),
        key: Some(key_path.clone()),
        submit_addr: loopback(),
        public_addr: loopback(),
        store_cache_mib: None,
    };
    let start = |config: NodeConfig| {
        runtime
            .block_on(aidledger_node::start(config))
            .err()
            .unwrap()
            .to_string()
    };
    // A store cache outside its bounds is refused before the directory is made.
    for mib in [0, 15, 65_537, u64::MAX] {
        let refused = start(NodeConfig {
            store_cache_mib: Some(mib),
            ..config.clone()
        });
        assert!(
            refused.contains(&format!(
                "the store's cache (--store-cache-mib, or store_cache_mib in a config file) is \
                 {mib} MiB: it must be between 16 and 65536 MiB"
            )),
            "{refused}"
        );
        assert!(!config.data_dir.exists());
    }
    assert!(start(config.clone()).contains("is not one of GB-GOV-1's signing keys"));
    assert!(start(NodeConfig {
        org: Some("XX".into()),
        ..config.clone()
    })
    .contains("--org XX is not a member"));
    assert!(start(NodeConfig {
        genesis: None,
        ..config.clone()
    })
    .contains("first start needs --genesis, --org and --key"));
    let public_submit = NodeConfig {
        submit_addr: "0.0.0.0:0".parse().unwrap(),
        ..config.clone()
    };
    assert!(start(public_submit).contains("not a loopback address"));
    let good = NodeConfig {
        org: Some(IMPLEMENTER.into()),
        ..config.clone()
    };
    let running = runtime
        .block_on(aidledger_node::start(good.clone()))
        .unwrap();
    assert!(start(good.clone()).contains("in use by a running node"));
    runtime.block_on(running.shutdown()).unwrap();
    let (_, donor_key) = write_inputs(root.path(), DONOR);
    assert!(start(NodeConfig {
        key: Some(donor_key),
        ..good.clone()
    })
    .contains("differs from the key"));
    // A later start needs only the directory; the store's cache may be set at any start.
    let later = NodeConfig {
        genesis: None,
        org: None,
        key: None,
        store_cache_mib: Some(16),
        ..good
    };
    let running = runtime
        .block_on(aidledger_node::start(later.clone()))
        .unwrap();
    assert_eq!(running.org(), IMPLEMENTER);
    // What the store was opened with (sled's own setting cannot be read back).
    assert_eq!(running.store().cache_bytes(), 16 * 1024 * 1024);
    runtime.block_on(running.shutdown()).unwrap();
    // The largest cache is taken too: sled reserves nothing up front.
    let largest = NodeConfig {
        store_cache_mib: Some(65_536),
        ..later
    };
    let running = runtime.block_on(aidledger_node::start(largest)).unwrap();
    assert_eq!(running.store().cache_bytes(), 65_536 * 1024 * 1024);
    runtime.block_on(running.shutdown()).unwrap();
}
