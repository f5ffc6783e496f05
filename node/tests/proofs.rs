//! The proof routes of the public API (issue 21) over a real node and store: the node's own
//! organisation's checkpoint verifies with the organisation's genesis key, every inclusion and
//! consistency proof served verifies with the spec's RFC 9162 algorithms against the roots of a
//! tree built here from the chain's record ids, and every error case answers as documented.
//! The checkpoint publisher signs once per tree, and again after a revocation changed the tree
//! at the same size. A redacted record's packet shows the order that covers it (`redacted`).

mod common;
// The collector of cosigned checkpoints and split-view proofs (a module: one test binary).
#[path = "proofs/witnessed.rs"]
mod witnessed;
// Proof packets of redacted records, assembled from the node's answers.
#[path = "proofs/redacted.rs"]
mod redacted;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aidledger_node::checkpoints::{CheckpointError, CheckpointKeys, Checkpoints};
use aidledger_node::proofs::CHECKPOINT_CONTENT_TYPE;
use aidledger_spec::checkpoint::SignedCheckpoint;
use aidledger_spec::merkle::{self, MemoryTree};
use aidledger_spec::{Digest, PublicKey, RecordId, Rejection};
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::Value;

/// The organisation's signing keys as the genesis names them: what a verifier trusts.
fn genesis_keys(org: &str) -> Vec<PublicKey> {
    genesis().member(org).unwrap().signing_keys.clone()
}

fn digests(json: &Value) -> Vec<Digest> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|hash| Digest::from_hex(hash.as_str().unwrap()).unwrap())
        .collect()
}

/// GETs `path`, expects `status`, and returns the JSON error message.
#[track_caller]
fn error_of(node: &TestNode, path: &str, status: u16) -> String {
    let response = node.public_get(path);
    assert_eq!(response.status().as_u16(), status, "{path}");
    let json: Value = response.json().unwrap();
    json["error"].as_str().unwrap().to_owned()
}

/// Checks `/api/proof/{id}` of every record of `ids` (one chain of `org`, in seq order) at
/// `size` with `checkpoint` as served: the proof leads to the root of the tree built here.
#[track_caller]
fn check_proofs(node: &TestNode, org: &str, ids: &[RecordId], checkpoint: Option<&str>) {
    let tree = MemoryTree::of_record_ids(ids);
    let size = ids.len() as u64;
    for (index, id) in ids.iter().enumerate() {
        let json: Value = node.public_get(&format!("/api/proof/{id}")).json().unwrap();
        assert_eq!(json["record"], id.to_hex());
        assert_eq!(json["org"], org);
        assert_eq!(json["index"], index as u64);
        assert_eq!(json["size"], size);
        let root = Digest::from_hex(json["root"].as_str().unwrap()).unwrap();
        assert_eq!(root, tree.root(size).unwrap());
        assert_eq!(json["checkpoint"].as_str(), checkpoint);
        let path = digests(&json["inclusion"]);
        merkle::verify_inclusion(&merkle::leaf_hash(id), index as u64, size, &path, &root).unwrap();
        // The same proof for another record or index does not verify.
        let other = ids[(index + 1) % ids.len()];
        if ids.len() > 1 {
            assert!(merkle::verify_inclusion(
                &merkle::leaf_hash(&other),
                index as u64,
                size,
                &path,
                &root
            )
            .is_err());
        }
    }
}

#[test]
fn the_checkpoint_and_proofs_of_the_nodes_own_chain_verify() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let network = genesis().network_id();

    // An empty chain has no checkpoint, and no record has a proof.
    let empty = error_of(&node, &format!("/checkpoint/{DONOR}"), 404);
    assert!(empty.contains("no durable record yet"), "{empty}");

    let ids: Vec<RecordId> = (0..7)
        .map(|n| node.submit(&statement(&format!("statement {n}"))).0)
        .collect();

    let response = node.public_get(&format!("/checkpoint/{DONOR}"));
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        CHECKPOINT_CONTENT_TYPE
    );
    let note = response.text().unwrap();
    let signed = SignedCheckpoint::open(&note, &network, DONOR, &genesis_keys(DONOR)).unwrap();
    assert_eq!(signed.checkpoint.size, 7);
    assert_eq!(
        signed.checkpoint.root,
        MemoryTree::of_record_ids(&ids).root(7).unwrap()
    );
    assert_eq!(
        signed.signed_by,
        PublicKey(key_of(DONOR).verifying_key().to_bytes())
    );
    // Another organisation's keys do not open it, nor does another organisation's origin.
    assert!(SignedCheckpoint::open(&note, &network, DONOR, &genesis_keys(IMPLEMENTER)).is_err());
    assert!(SignedCheckpoint::open(&note, &network, IMPLEMENTER, &genesis_keys(DONOR)).is_err());
    // Asked again, the same note (kept, not signed again: see the publisher's test below).
    assert_eq!(
        node.public_get(&format!("/checkpoint/{DONOR}"))
            .text()
            .unwrap(),
        note
    );

    check_proofs(&node, DONOR, &ids, Some(&note));

    // The checkpoint follows the chain.
    let mut ids = ids;
    ids.push(node.submit(&statement("one more")).0);
    let grown = node
        .public_get(&format!("/checkpoint/{DONOR}"))
        .text()
        .unwrap();
    let signed = SignedCheckpoint::open(&grown, &network, DONOR, &genesis_keys(DONOR)).unwrap();
    assert_eq!(signed.checkpoint.size, 8);
    check_proofs(&node, DONOR, &ids, Some(&grown));

    // Any other size from index + 1 to the chain's size, with no checkpoint.
    let tree = MemoryTree::of_record_ids(&ids);
    for (index, id) in ids.iter().enumerate() {
        for size in index as u64 + 1..=8 {
            let json: Value = node
                .public_get(&format!("/api/proof/{id}?size={size}"))
                .json()
                .unwrap();
            assert_eq!(json["size"], size);
            assert_eq!(json["index"], index as u64);
            assert!(json["checkpoint"].is_null());
            let root = Digest::from_hex(json["root"].as_str().unwrap()).unwrap();
            assert_eq!(root, tree.root(size).unwrap());
            let path = digests(&json["inclusion"]);
            merkle::verify_inclusion(&merkle::leaf_hash(id), index as u64, size, &path, &root)
                .unwrap();
        }
        for size in [0, index as u64, 9, u64::MAX] {
            let message = error_of(&node, &format!("/api/proof/{id}?size={size}"), 400);
            assert!(
                message.contains(&format!("size {size} is not between")),
                "{message}"
            );
        }
    }
    error_of(&node, &format!("/api/proof/{}?size=ten", ids[0]), 400);
    error_of(&node, &format!("/api/proof/{}?size=-1", ids[0]), 400);

    // Consistency between every pair of sizes.
    for from in 1..=8u64 {
        for to in from..=8u64 {
            let json: Value = node
                .public_get(&format!("/api/consistency/{DONOR}?from={from}&to={to}"))
                .json()
                .unwrap();
            assert_eq!(json["org"], DONOR);
            assert_eq!(json["from"], from);
            assert_eq!(json["to"], to);
            let proof = digests(&json["proof"]);
            let (old_root, new_root) = (tree.root(from).unwrap(), tree.root(to).unwrap());
            // Both roots come with the proof.
            assert_eq!(json["from_root"], old_root.to_hex());
            assert_eq!(json["to_root"], new_root.to_hex());
            merkle::verify_consistency(from, to, &old_root, &new_root, &proof).unwrap();
            if from < to {
                // Not a proof of another old tree.
                let other = tree.root(to - 1).unwrap();
                if other != old_root {
                    assert!(
                        merkle::verify_consistency(from, to, &other, &new_root, &proof).is_err()
                    );
                }
            }
        }
    }
}

#[test]
fn the_proof_routes_refuse_what_they_cannot_answer() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let (id, _) = node.submit(&statement("one"));

    // Only the node's own organisation's checkpoint, and those it collected from witnesses or
    // peers (issue 21, node/src/witnessed/): none here.
    for org in [IMPLEMENTER, "NOT-A-MEMBER"] {
        let message = error_of(&node, &format!("/checkpoint/{org}"), 404);
        assert_eq!(
            message,
            format!(
                "this node publishes only its own organisation's checkpoint, {DONOR}; it holds \
                 no cosigned checkpoint of {org} from witnesses or peers"
            )
        );
    }

    // Unknown and malformed record ids.
    let unknown = RecordId::from_hex(&"07".repeat(32)).unwrap();
    let message = error_of(&node, &format!("/api/proof/{unknown}"), 404);
    assert_eq!(message, format!("record {unknown} not found"));
    let message = error_of(&node, "/api/proof/not-hex", 400);
    assert!(message.contains("malformed record id"), "{message}");

    // Consistency: sizes out of 1 ..= the chain's size, missing or malformed parameters, and
    // organisations that are not members.
    for query in ["from=0&to=1", "from=2&to=1", "from=1&to=2", "from=2&to=2"] {
        let message = error_of(&node, &format!("/api/consistency/{DONOR}?{query}"), 400);
        assert!(message.contains("is not 1 <= from <= to <= 1"), "{message}");
    }
    for query in ["", "from=1", "to=1", "from=a&to=1"] {
        error_of(&node, &format!("/api/consistency/{DONOR}?{query}"), 400);
    }
    let message = error_of(&node, "/api/consistency/NOT-A-MEMBER?from=1&to=1", 404);
    assert!(message.contains("not a member"), "{message}");
    // A member with an empty chain: no size to prove.
    error_of(
        &node,
        &format!("/api/consistency/{AUDITOR}?from=1&to=1"),
        400,
    );

    // The routes are read-only like the rest of the public API.
    let posted = node
        .http
        .post(format!("{}/api/proof/{id}", node.node().public_url()))
        .send()
        .unwrap();
    assert_eq!(posted.status().as_u16(), 405);
}

#[test]
fn another_organisations_records_are_proved_at_its_chains_size_and_revoked_ones_are_not() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    node.submit(&statement("the donor's own"));
    let records = chain(IMPLEMENTER, 5);
    node.node().store().append_durable(&records).unwrap();
    let ids: Vec<RecordId> = records.iter().map(|record| record.id()).collect();

    // No checkpoint of a chain the node does not sign: the proof is at the chain's size.
    check_proofs(&node, IMPLEMENTER, &ids, None);
    let json: Value = node
        .public_get(&format!("/api/consistency/{IMPLEMENTER}?from=2&to=5"))
        .json()
        .unwrap();
    let tree = MemoryTree::of_record_ids(&ids);
    assert_eq!(json["from_root"], tree.root(2).unwrap().to_hex());
    assert_eq!(json["to_root"], tree.root(5).unwrap().to_hex());
    merkle::verify_consistency(
        2,
        5,
        &tree.root(2).unwrap(),
        &tree.root(5).unwrap(),
        &digests(&json["proof"]),
    )
    .unwrap();

    // Records moved out of their chain by a revocation: 404, saying so.
    let moved = node
        .node()
        .store()
        .revoke_from(IMPLEMENTER, 3, &Rejection::BadSignature)
        .unwrap();
    assert_eq!(moved, ids[3..].to_vec());
    for id in &ids[3..] {
        let message = error_of(&node, &format!("/api/proof/{id}"), 404);
        assert!(
            message.contains(&format!("record {id} was revoked")),
            "{message}"
        );
    }
    // The records before the revocation are proved in the rewound tree.
    check_proofs(&node, IMPLEMENTER, &ids[..3], None);
    let message = error_of(&node, &format!("/api/proof/{}?size=4", ids[0]), 400);
    assert!(message.contains("and 3 (the size of"), "{message}");
}

/// Keys that count their use: one signature per checkpoint.
struct CountingKeys {
    key: SigningKey,
    used: AtomicUsize,
}

impl CheckpointKeys for CountingKeys {
    fn checkpoint_key(&self, _seq: u64) -> Result<SigningKey, String> {
        self.used.fetch_add(1, Ordering::SeqCst);
        Ok(self.key.clone())
    }
}

#[test]
fn the_publisher_signs_once_per_tree_and_again_after_a_revocation_at_the_same_size() {
    let root = tempfile::tempdir().unwrap();
    let store = open_new_store(&bare_data_dir(root.path()));
    let keys = Arc::new(CountingKeys {
        key: key_of(DONOR),
        used: AtomicUsize::new(0),
    });
    let checkpoints = Checkpoints::new(store.reader(), DONOR.into(), keys.clone());
    assert!(matches!(
        checkpoints.latest(),
        Err(CheckpointError::EmptyChain { .. })
    ));

    let first = chain(DONOR, 4);
    store.append_durable(&first).unwrap();
    let published = checkpoints.latest().unwrap();
    assert_eq!(published.size, 4);
    for _ in 0..3 {
        assert_eq!(checkpoints.latest().unwrap(), published);
    }
    assert_eq!(keys.used.load(Ordering::SeqCst), 1);

    // Appended but not yet durable: the checkpoint stays at the durable size.
    let mut prev = first[3].id();
    let extra = record(DONOR, 4, prev, statement("not yet durable"));
    store.append(&extra).unwrap();
    assert_eq!(checkpoints.latest().unwrap().size, 4);
    store.make_durable().unwrap();
    assert_eq!(checkpoints.latest().unwrap().size, 5);
    assert_eq!(keys.used.load(Ordering::SeqCst), 2);

    // A revocation from seq 2, then other records to the same size: a new tree, a new note.
    store
        .revoke_from(DONOR, 2, &Rejection::BadSignature)
        .unwrap();
    store.make_durable().unwrap();
    assert_eq!(checkpoints.latest().unwrap().size, 2);
    prev = first[1].id();
    let mut replacement = Vec::new();
    for seq in 2..5 {
        let made = record(DONOR, seq, prev, statement(&format!("replacement {seq}")));
        prev = made.id();
        replacement.push(made);
    }
    store.append_durable(&replacement).unwrap();
    let after = checkpoints.latest().unwrap();
    assert_eq!(after.size, 5);
    assert_ne!(after.root, published.root);
    let ids: Vec<RecordId> = first[..2]
        .iter()
        .chain(&replacement)
        .map(|record| record.id())
        .collect();
    assert_eq!(after.root, MemoryTree::of_record_ids(&ids).root(5).unwrap());
    let signed = SignedCheckpoint::open(
        &after.note,
        &genesis().network_id(),
        DONOR,
        &genesis_keys(DONOR),
    )
    .unwrap();
    assert_eq!(signed.checkpoint.root, after.root);
    assert_eq!(keys.used.load(Ordering::SeqCst), 4);
}

#[test]
fn a_checkpoint_after_a_key_rotation_is_signed_with_the_key_granted_at_its_last_position() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let network = genesis().network_id();
    let checkpoint = || {
        node.public_get(&format!("/checkpoint/{DONOR}"))
            .text()
            .unwrap()
    };
    node.submit(&statement("before the rotation"));
    let response = node
        .http
        .post(format!("{}/v1/key/rotate", node.node().submit_url()))
        .bearer_auth(node.node().token())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["seq"], 1);
    let new_key = PublicKey::from_hex(answer["new_key"].as_str().unwrap()).unwrap();

    // The rotation record is the old key's last position: the tree ending there is the old
    // key's to sign.
    let at_rotation = checkpoint();
    let signed =
        SignedCheckpoint::open(&at_rotation, &network, DONOR, &genesis_keys(DONOR)).unwrap();
    assert_eq!(signed.checkpoint.size, 2);
    assert!(SignedCheckpoint::open(&at_rotation, &network, DONOR, &[new_key]).is_err());

    // From the next record on, the new key signs; the genesis key no longer opens it.
    let (id, seq) = node.submit(&statement("after the rotation"));
    assert_eq!(seq, 2);
    let after = checkpoint();
    let signed = SignedCheckpoint::open(&after, &network, DONOR, &[new_key]).unwrap();
    assert_eq!(signed.checkpoint.size, 3);
    assert_eq!(signed.signed_by, new_key);
    assert!(SignedCheckpoint::open(&after, &network, DONOR, &genesis_keys(DONOR)).is_err());
    let json: Value = node.public_get(&format!("/api/proof/{id}")).json().unwrap();
    assert_eq!(json["checkpoint"].as_str(), Some(after.as_str()));
    let path = digests(&json["inclusion"]);
    merkle::verify_inclusion(
        &merkle::leaf_hash(&id),
        2,
        3,
        &path,
        &signed.checkpoint.root,
    )
    .unwrap();
}
