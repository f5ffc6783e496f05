//! A member's node that misbehaves, driven by the test through a bare libp2p peer (the node
//! library's `Probe`, holding a transport key the genesis lists for the auditor): invalid
//! records and forged proofs are refused and nothing invalid is stored; a forged second record
//! at an existing seq becomes an equivocation proof on every node.

use std::time::{SystemTime, UNIX_EPOCH};

use aidledger_node::network::probe::Probe;
use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::record::Statement;
use aidledger_spec::{codec, sign_record, Body, Genesis, RecordDraft, RecordId, SignedRecord};
use aidledger_tests::network::{Mesh, MeshNode, REPLICATION_TIMEOUT};
use aidledger_tests::{wait_for, wait_until, AUDITOR, DONOR};
use ed25519_dalek::SigningKey;
use serde_json::Value;

fn key(path: &std::path::Path) -> SigningKey {
    SigningKey::from_bytes(&aidledger_tests::read_key_seed(path))
}

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Signs a record of `author` at (seq, prev) with `key`; returns its id and bytes.
fn signed(
    genesis: &Genesis,
    author: &str,
    seq: u64,
    prev: RecordId,
    text: &str,
    key: &SigningKey,
) -> (RecordId, Vec<u8>) {
    let draft = RecordDraft {
        network_id: genesis.network_id(),
        author: author.into(),
        seq,
        prev,
        timestamp_ms: now_ms(),
        body: statement(text),
    };
    sign_record(&draft, key).expect("sign")
}

/// The id of `org`'s record at `seq`, from the node's public API.
fn record_id_at(node: &MeshNode, org: &str, seq: u64) -> RecordId {
    let url = format!("{}/api/orgs/{org}/records?limit=1000", node.public_url());
    let page: Value = reqwest::blocking::get(url)
        .expect("GET records")
        .json()
        .expect("JSON");
    let record = page["records"]
        .as_array()
        .and_then(|records| {
            records
                .iter()
                .find(|record| record["seq"].as_u64() == Some(seq))
        })
        .unwrap_or_else(|| panic!("{org} seq {seq} not on {}: {page}", node.org));
    RecordId::from_hex(record["id"].as_str().expect("id")).expect("hex id")
}

fn record_bytes(node: &MeshNode, id: RecordId) -> Vec<u8> {
    let url = format!("{}/api/records/{id}/raw", node.public_url());
    reqwest::blocking::get(url)
        .expect("GET raw")
        .bytes()
        .expect("bytes")
        .to_vec()
}

/// A started mesh where the donor recorded `count` statements everywhere, and a probe with the
/// auditor's second transport key connected to node `target`.
fn mesh_with_probe(name: &str, count: usize, target: usize) -> (Mesh, Genesis, Probe) {
    let mesh = Mesh::start(name, false);
    mesh.wait_connected(&[0, 1, 2], 2);
    for index in 0..count {
        let (status, answer) =
            mesh.nodes[0].post_body(codec::encode(&statement(&format!("report {index}"))));
        assert_eq!(status, 200, "{answer}");
    }
    mesh.wait_converged(&[0, 1, 2]);
    let genesis =
        Genesis::decode(&std::fs::read(&mesh.genesis).expect("genesis")).expect("genesis");
    let probe = Probe::start(&key(&mesh.key_file("probe.node.key")), &genesis).expect("probe");
    probe
        .dial_str(&format!(
            "/ip4/127.0.0.1/tcp/{}",
            mesh.nodes[target].p2p_port
        ))
        .expect("dial");
    wait_until(
        REPLICATION_TIMEOUT,
        "the node to subscribe towards the probe",
        || !probe.state().subscribed.is_empty(),
    );
    (mesh, genesis, probe)
}

#[test]
fn invalid_records_and_forged_proofs_from_a_member_are_refused_and_never_stored() {
    let (mesh, genesis, probe) = mesh_with_probe("net_adversary", 2, 0);
    let donor_key = key(&mesh.key_file(&format!("{DONOR}.key")));
    let auditor_key = key(&mesh.key_file(&format!("{AUDITOR}.key")));
    let head_id = record_id_at(&mesh.nodes[0], DONOR, 1);
    // A next donor record whose signature is broken.
    let (bad_signature_id, mut bad_signature) =
        signed(&genesis, DONOR, 2, head_id, "forged", &donor_key);
    let last = bad_signature.len() - 1;
    bad_signature[last] ^= 0x01;
    // A donor record signed with the auditor's key: in another member's name.
    let (other_name_id, other_name) = signed(
        &genesis,
        DONOR,
        2,
        head_id,
        "in another's name",
        &auditor_key,
    );
    // Forged proofs: one record cited twice, and a record beside its unsigned variant.
    let stored = record_bytes(&mesh.nodes[0], head_id);
    let mut unsigned = stored.clone();
    let stored_last = unsigned.len() - 1;
    unsigned[stored_last] ^= 0x01;
    let twice = EquivocationProof {
        first: stored.clone(),
        second: stored.clone(),
    };
    let variant = EquivocationProof {
        first: stored,
        second: unsigned,
    };
    probe.publish_record(bad_signature);
    probe.publish_record(other_name);
    probe.publish_proof(codec::encode(&twice));
    probe.publish_proof(codec::encode(&variant));
    let probe_id = probe.peer_id().to_string();
    let donor = &mesh.nodes[0];
    let rejected = wait_for(
        REPLICATION_TIMEOUT,
        "the donor to reject all four messages",
        || {
            let status = donor.status()?;
            let peer = status["peers"]
                .as_array()?
                .iter()
                .find(|peer| peer["peer_id"] == probe_id.as_str())?
                .clone();
            (peer["rejected"].as_u64()? >= 4).then_some(peer)
        },
    );
    assert!(
        rejected["score"].as_f64().is_some_and(|score| score < 0.0),
        "the probe is not penalised: {rejected}"
    );
    for node in &mesh.nodes {
        assert!(
            !node.has_record(&bad_signature_id.to_string()),
            "{} stored a badly signed record",
            node.org
        );
        assert!(
            !node.has_record(&other_name_id.to_string()),
            "{} stored a record in another's name",
            node.org
        );
        let status = node.status().expect("status");
        assert_eq!(status["records"], 2, "{}: {status}", node.org);
        assert_eq!(status["pending"], 0, "{}: {status}", node.org);
        assert_eq!(
            status["forks"],
            Value::Array(vec![]),
            "{}: {status}",
            node.org
        );
    }
}

#[test]
fn a_forged_second_record_at_a_seq_becomes_a_proof_on_every_node() {
    let (mesh, genesis, probe) = mesh_with_probe("net_equivocation", 3, 1);
    let donor_key = key(&mesh.key_file(&format!("{DONOR}.key")));
    let first_id = record_id_at(&mesh.nodes[1], DONOR, 0);
    let (_, forged) = signed(
        &genesis,
        DONOR,
        1,
        first_id,
        "a different second record",
        &donor_key,
    );
    assert!(SignedRecord::parse(forged.clone()).is_ok());
    probe.publish_record(forged);
    for node in &mesh.nodes {
        wait_until(
            REPLICATION_TIMEOUT,
            &format!("{} to hold the proof", node.org),
            || {
                node.status().is_some_and(|status| {
                    status["forks"] == serde_json::json!([{"org": DONOR, "seq": 1}])
                })
            },
        );
    }
    for node in &mesh.nodes {
        let url = node.public_url();
        let verify = mesh.cli.run(["verify", "--node", &url]).assert_exit(1);
        assert!(
            verify.stdout().contains(&format!("{DONOR} seq 1")),
            "verify on {} does not name the fork:\n{}",
            node.org,
            verify.describe()
        );
        mesh.cli.run(["status", "--node", &url]).assert_exit(1);
    }
    let after_fork = record_id_at(&mesh.nodes[0], DONOR, 2).to_string();
    let provenance = mesh
        .cli
        .run([
            "provenance",
            &after_fork,
            "--node",
            &mesh.nodes[0].public_url(),
        ])
        .assert_exit(1);
    assert!(
        provenance.stdout().contains("seq 1: equivocation"),
        "{}",
        provenance.describe()
    );
}
