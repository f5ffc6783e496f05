//! One signature verdict on every node (FORMAT.md 7.1, issue 16): records whose R carries a
//! torsion component of order 2, 4 or 8, mixed with ordinary records and with forgeries of the
//! same headers, go through a node's gossip validation (`validate_records`) and range sync
//! check (`verify_range`) in different batch groupings, and two nodes end with the same
//! stored records, equal to what single verification says.
//!
//! Under the cofactorless batch equation these records passed a batch about half the time,
//! depending on the batch's other records, so two nodes that grouped them differently kept
//! different chains.

mod common;
#[path = "../../spec/tests/support/signature_edges.rs"]
mod signature_edges;

use std::path::PathBuf;
use std::sync::Arc;

use aidledger_node::governance::Governance;
use aidledger_node::network::tasks::{validate_records, verify_range};
use aidledger_node::writer::{SigningKeys, Writer};
use aidledger_spec::{sign_record, Genesis, RecordDraft, RecordId, Verifier};
use aidledger_store::Store;
use common::{genesis, key_of, open_new_store, statement, DONOR, IMPLEMENTER};
use ed25519_dalek::SigningKey;
use libp2p::gossipsub::MessageAcceptance;
use serde_json::Value;

/// A chain of `length` statements of the implementer: every third record signed with a nonce
/// point R = [r]B + T (T of order 2, 4, 8 in turn), the others ordinarily. Returns the valid
/// records and, for each torsion record, a forgery of the same header (k hashed over another R).
fn mixed_chain(length: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let key = key_of(IMPLEMENTER);
    let (mut valid, mut forged) = (Vec::new(), Vec::new());
    let mut prev = RecordId::ZERO;
    for seq in 0..length {
        let draft = RecordDraft {
            network_id: genesis().network_id(),
            author: IMPLEMENTER.into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + seq,
            body: statement(&format!("report {seq}")),
        };
        let (id, bytes) = sign_record(&draft, &key).expect("sign");
        prev = id;
        if seq % 3 == 0 {
            let order = [2, 4, 8][(seq / 3 % 3) as usize];
            let good = signature_edges::sign_with_torsion_nonce(&key, &id, seq, order);
            let bad = signature_edges::sign_with_wrong_challenge(&key, &id, seq, order);
            forged.push(signature_edges::with_signature(&bytes, &bad));
            valid.push(signature_edges::with_signature(&bytes, &good));
        } else {
            valid.push(bytes);
        }
    }
    (valid, forged)
}

struct Node {
    runtime: tokio::runtime::Runtime,
    store: Arc<Store>,
    governance: Governance,
    writer: Arc<Writer>,
    _dir: tempfile::TempDir,
}

impl Node {
    /// A node of the tests' common network, the donor's.
    fn new() -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = common::bare_data_dir(dir.path());
        Node::open(dir, data, DONOR, key_of(DONOR))
    }

    /// A node of the network of `spec/vectors/genesis.json`, the auditor's (the vectors'
    /// records are the donor's).
    fn of_vector_network() -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        std::fs::write(data.join("genesis.bin"), vector_genesis().encode()).expect("genesis");
        Node::open(
            dir,
            data,
            "XI-EXAMPLE-AUDIT",
            SigningKey::from_bytes(&[3u8; 32]),
        )
    }

    fn open(dir: tempfile::TempDir, data: PathBuf, org: &str, key: SigningKey) -> Node {
        let store = Arc::new(open_new_store(&data));
        let governance = Governance::load(store.clone()).expect("governance");
        let writer = Arc::new(
            Writer::start(
                store.clone(),
                Arc::new(Governance::load(store.clone()).expect("governance")),
                org.into(),
                SigningKeys::single(key),
            )
            .expect("writer"),
        );
        Node {
            runtime: tokio::runtime::Runtime::new().expect("runtime"),
            store,
            governance,
            writer,
            _dir: dir,
        }
    }

    /// Gossip validation of one group of messages, as the network task runs it; returns the
    /// acceptance of each.
    fn gossip(&self, group: Vec<Vec<u8>>) -> Vec<MessageAcceptance> {
        let view = self.governance.current();
        let (verdicts, _) =
            self.runtime
                .block_on(validate_records(view, self.writer.clone(), group));
        verdicts
            .into_iter()
            .map(|(acceptance, _)| acceptance)
            .collect()
    }

    /// The stored records of the implementer's chain, bytes in seq order.
    fn implementer_chain(&self) -> Vec<Vec<u8>> {
        self.chain(IMPLEMENTER)
    }

    /// The stored records of `org`'s chain, bytes in seq order.
    fn chain(&self, org: &str) -> Vec<Vec<u8>> {
        let head = self
            .store
            .head(org)
            .expect("head")
            .map_or(0, |head| head.seq + 1);
        (0..head)
            .map(|seq| {
                self.store
                    .record_at(org, seq)
                    .expect("read")
                    .expect("a record below the head")
            })
            .collect()
    }
}

fn single_verdicts(records: &[Vec<u8>]) -> Vec<bool> {
    let verifier = Verifier::new(genesis());
    records
        .iter()
        .map(|bytes| verifier.verify(bytes.clone()).is_ok())
        .collect()
}

#[test]
fn two_nodes_batching_differently_store_the_same_chains() {
    for length in [1u64, 5, 300] {
        let (valid, forged) = mixed_chain(length);
        assert!(
            single_verdicts(&valid).iter().all(|ok| *ok),
            "torsion R is valid alone"
        );
        assert!(
            !single_verdicts(&forged).iter().any(|ok| *ok),
            "forgeries are refused alone"
        );

        // Node A: everything in one gossip round, each forgery just before its valid twin.
        let first = Node::new();
        let mut all = forged.clone();
        all.extend(valid.iter().cloned());
        let acceptances = first.gossip(all);
        let (refused, accepted) = acceptances.split_at(forged.len());
        assert!(
            refused.iter().all(|a| *a == MessageAcceptance::Reject),
            "{refused:?}"
        );
        assert!(
            accepted.iter().all(|a| *a == MessageAcceptance::Accept),
            "{accepted:?}"
        );

        // Node B: the chain backwards, in groups of 7, forgeries mixed into other groups.
        let second = Node::new();
        let mut backwards: Vec<Vec<u8>> = valid.iter().rev().cloned().collect();
        for (index, forgery) in forged.iter().enumerate() {
            backwards.insert((index * 5) % (backwards.len() + 1), forgery.clone());
        }
        for group in backwards.chunks(7) {
            second.gossip(group.to_vec());
        }

        assert_eq!(
            first.implementer_chain(),
            valid,
            "node A, chain of {length}"
        );
        assert_eq!(
            second.implementer_chain(),
            valid,
            "node B, chain of {length}"
        );
    }
}

#[test]
fn range_sync_accepts_torsion_r_in_every_cut_and_refuses_a_forgery() {
    let verifier = Verifier::new(genesis());
    let (valid, forged) = mixed_chain(300);
    for size in [1usize, 2, 3, 7, 64, 256, 300] {
        let mut from = 0u64;
        for part in valid.chunks(size) {
            let verdict = verify_range(&verifier, IMPLEMENTER, from, part.to_vec())
                .unwrap_or_else(|error| panic!("cut {size} at {from}: {error}"));
            assert_eq!(verdict.records.len(), part.len());
            assert!(verdict.refused.is_none());
            from += part.len() as u64;
        }
    }
    // A forgery at seq 3 fails a range that holds it, whatever the cut.
    for size in [4usize, 9, 300] {
        let mut range = valid[..size].to_vec();
        range[3] = forged[1].clone();
        let verdict = verify_range(&verifier, IMPLEMENTER, 0, range);
        assert!(
            verdict
                .as_ref()
                .is_err_and(|error| error.contains("bad signature")),
            "cut {size}: {verdict:?}",
            verdict = verdict.map(|verdict| verdict.records.len())
        );
    }
}

fn vector_file(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../spec/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("a vector file")).expect("JSON")
}

fn hex_field(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex")).expect("valid hex")
}

fn vector_genesis() -> Genesis {
    Genesis::decode(&hex_field(&vector_file("genesis.json")["genesis_hex"])).expect("genesis")
}

#[test]
fn a_node_stores_each_signature_vector_exactly_when_it_is_valid() {
    let cases = vector_file("signatures.json")["cases"]
        .as_array()
        .expect("cases")
        .clone();
    assert!(cases.len() >= 12);
    for case in &cases {
        let name = case["name"].as_str().expect("a name");
        let bytes = hex_field(&case["record_hex"]);
        let valid = case["expected"]["valid"].as_bool() == Some(true);
        let node = Node::of_vector_network();
        let acceptance = node.gossip(vec![bytes.clone()]);
        let expected = if valid {
            MessageAcceptance::Accept
        } else {
            MessageAcceptance::Reject
        };
        assert_eq!(acceptance, vec![expected], "{name}");
        let stored = node.chain("GB-GOV-1");
        assert_eq!(stored, if valid { vec![bytes] } else { vec![] }, "{name}");
    }
}
