//! `aidledger mirror-check` against two small stand-in nodes (HTTP servers answering the
//! public API's routes from trees held in the test), for the histories real nodes of one
//! network do not produce: a node whose tree of the donor's chain is not the signed history
//! (DIFFERS, exit 1), two published checkpoints of one size with different roots (a split view,
//! its proof written and checked offline, exit 1), and a node behind on the same history
//! (exit 0). The real-node agreement is tests/tests/proofs/mirror.rs.

use crate::vector_set;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{Digest, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::json;
use vector_set::{genesis, DONOR, DONOR_SEED};

/// A stand-in node: each request's path (with its query) answered from a fixed table.
pub(crate) fn serve(routes: BTreeMap<String, (u16, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (status, body) = routes
                .get(&path)
                .cloned()
                .unwrap_or((404, b"not found".to_vec()));
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

fn ids(tag: u8, count: u8) -> Vec<RecordId> {
    (0..count).map(|index| Digest([tag ^ index; 32])).collect()
}

/// The routes of a node holding the donor's chain `chain`, publishing the donor's checkpoint
/// at `published` records when given.
fn node(chain: &[RecordId], published: Option<u64>) -> BTreeMap<String, (u16, Vec<u8>)> {
    let tree = MemoryTree::of_record_ids(chain);
    let mut bundle = Vec::new();
    BundleWriter::new(&mut bundle, &genesis().encode())
        .expect("bundle header")
        .finish()
        .expect("finish");
    let mut routes = BTreeMap::new();
    routes.insert("/api/export".to_owned(), (200, bundle));
    if let Some(size) = published {
        let note = Checkpoint::new(
            &genesis().network_id(),
            DONOR,
            size,
            tree.root(size).expect("root"),
        )
        .sign(&SigningKey::from_bytes(&DONOR_SEED))
        .expect("sign");
        routes.insert(
            format!("/checkpoint/{DONOR}"),
            (200, note.to_text().into_bytes()),
        );
    }
    let size = chain.len() as u64;
    let record = |seq: u64| json!({"records": [{"id": chain[seq as usize].to_hex(), "seq": seq}]});
    routes.insert(
        format!("/api/orgs/{DONOR}/records?limit=1"),
        (200, record(size - 1).to_string().into_bytes()),
    );
    for at in 1..=size {
        routes.insert(
            format!("/api/orgs/{DONOR}/records?limit=1&before_seq={at}"),
            (200, record(at - 1).to_string().into_bytes()),
        );
        let root = tree.root(at).expect("root").to_hex();
        routes.insert(
            format!("/api/proof/{}?size={at}", chain[at as usize - 1].to_hex()),
            (
                200,
                json!({"size": at, "root": root}).to_string().into_bytes(),
            ),
        );
        for from in 1..at {
            let proof: Vec<String> = tree
                .consistency_proof(from, at)
                .expect("proof")
                .iter()
                .map(Digest::to_hex)
                .collect();
            routes.insert(
                format!("/api/consistency/{DONOR}?from={from}&to={at}"),
                (
                    200,
                    json!({"org": DONOR, "from": from, "to": at, "proof": proof})
                        .to_string()
                        .into_bytes(),
                ),
            );
        }
    }
    routes
}

fn mirror_check(a: &str, b: &str, out: Option<&std::path::Path>) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"));
    command
        .args(["mirror-check", a, b, "--network-id"])
        .arg(genesis().network_id().to_string());
    if let Some(out) = out {
        command.arg("--split-view-out").arg(out);
    }
    command.output().expect("run aidledger")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn donor_line(text: &str) -> String {
    text.lines()
        .find(|line| line.starts_with(DONOR))
        .unwrap_or_else(|| panic!("no line for {DONOR}:\n{text}"))
        .to_owned()
}

#[test]
fn a_node_behind_on_the_same_history_agrees() {
    let chain = ids(0x10, 9);
    let a = serve(node(&chain, Some(9)));
    let b = serve(node(&chain[..5], None));
    let output = mirror_check(&a, &b, None);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        donor_line(&text).contains(
            "same history, B behind: A publishes its checkpoint of 9 record(s); B holds the first 5"
        ),
        "{text}"
    );
    assert!(text.contains("SAME HISTORY"), "{text}");
}

#[test]
fn a_node_whose_tree_is_not_the_signed_history_differs() {
    let chain = ids(0x10, 9);
    let mut other = chain.clone();
    other[3] = Digest([0xee; 32]);
    for held in [9, 12, 6] {
        let mut served = other.clone();
        served.resize(held, Digest([0xdd; 32]));
        let a = serve(node(&chain, Some(9)));
        let b = serve(node(&served, None));
        let output = mirror_check(&a, &b, None);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "B holds {held}:\n{text}");
        let line = donor_line(&text);
        assert!(
            line.contains("DIFFERS: A publishes its checkpoint of 9"),
            "{line}"
        );
        assert!(line.contains(&format!("B holds {held}")), "{line}");
        assert!(text.contains("TWO HISTORIES"), "{text}");
    }
}

#[test]
fn two_published_checkpoints_that_cannot_both_be_true_are_a_split_view() {
    let chain = ids(0x10, 6);
    let mut forked = chain.clone();
    forked[5] = Digest([0xee; 32]);
    let a = serve(node(&chain, Some(6)));
    let b = serve(node(&forked, Some(6)));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("split.proof");
    let output = mirror_check(&a, &b, Some(&out));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(donor_line(&text).contains("SPLIT VIEW"), "{text}");
    let proof =
        SplitViewProof::from_bytes(&std::fs::read(&out).expect("written")).expect("decodes");
    assert_eq!(proof.evidence, SplitEvidence::SameSize);
    let key = aidledger_spec::PublicKey(
        SigningKey::from_bytes(&DONOR_SEED)
            .verifying_key()
            .to_bytes(),
    );
    assert_eq!(proof.check(&[key]).expect("checks offline").org, DONOR);

    // Sizes 3 and 6: the larger node's consistency proof leads from another root at 3.
    let a = serve(node(&chain[..3], Some(3)));
    let mut early_fork = chain.clone();
    early_fork[1] = Digest([0xcc; 32]);
    let b = serve(node(&early_fork, Some(6)));
    let output = mirror_check(&a, &b, Some(&out));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let proof =
        SplitViewProof::from_bytes(&std::fs::read(&out).expect("written")).expect("decodes");
    assert!(
        matches!(proof.evidence, SplitEvidence::Prefix { .. }),
        "{:?}",
        proof.evidence
    );
    proof.check(&[key]).expect("checks offline");
}
