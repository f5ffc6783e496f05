//! `aidledger witness` against stand-in nodes (HTTP servers answering the public API's routes
//! from trees held in the test, changed while the witness runs): it cosigns the first
//! checkpoint it sees, cosigns a larger one after the node's consistency proof verified,
//! refuses a forged checkpoint of the same size and one of another history (keeping split-view
//! proofs that check offline), keeps its state across a restart (still refusing, the size it
//! cosigned unchanged), and refuses a garbage node, an unreachable one and a node of another
//! network without stopping. The real-node case is tests/tests/proofs/witness.rs.

use crate::{governance_vectors, vector_set};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::checkpoint::{Checkpoint, SignedCheckpoint};
use aidledger_spec::codec::Codec;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::note::{KeyType, Note, VerifierKey};
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{signature, Digest, Genesis, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use vector_set::{genesis, DONOR, DONOR_SEED};

/// How long the witness may take to reach a state.
const WAIT: Duration = Duration::from_secs(30);
/// The witness's name in these tests.
const NAME: &str = "witness.example.org/w1";

type Routes = Arc<Mutex<BTreeMap<String, (u16, Vec<u8>)>>>;

/// A stand-in node answering each request's path (with its query) from `routes`, which the
/// test may change while it runs.
fn serve(routes: Routes) -> String {
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
                .lock()
                .expect("routes")
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

fn export_of(genesis: &Genesis) -> Vec<u8> {
    let mut bundle = Vec::new();
    BundleWriter::new(&mut bundle, &genesis.encode())
        .expect("bundle header")
        .finish()
        .expect("finish");
    bundle
}

/// The donor's checkpoint note of the tree of `chain` at `size`, signed with its key.
fn note_of(chain: &[RecordId], size: u64) -> String {
    let tree = MemoryTree::of_record_ids(chain);
    Checkpoint::new(
        &genesis().network_id(),
        DONOR,
        size,
        tree.root(size).expect("root"),
    )
    .sign(&SigningKey::from_bytes(&DONOR_SEED))
    .expect("sign")
    .to_text()
}

/// A node of the donor's chain `chain` (its export, consistency proofs between every two
/// sizes with both roots), publishing the checkpoint `published`.
fn node_routes(chain: &[RecordId], published: &str) -> BTreeMap<String, (u16, Vec<u8>)> {
    let tree = MemoryTree::of_record_ids(chain);
    let mut routes = BTreeMap::new();
    routes.insert("/api/export".to_owned(), (200, export_of(&genesis())));
    routes.insert(
        format!("/checkpoint/{DONOR}"),
        (200, published.as_bytes().to_vec()),
    );
    let size = chain.len() as u64;
    for to in 1..=size {
        for from in 1..=to {
            let proof: Vec<String> = tree
                .consistency_proof(from, to)
                .expect("proof")
                .iter()
                .map(Digest::to_hex)
                .collect();
            let answer = json!({
                "org": DONOR, "from": from, "to": to, "proof": proof,
                "from_root": tree.root(from).expect("root").to_hex(),
                "to_root": tree.root(to).expect("root").to_hex(),
            });
            routes.insert(
                format!("/api/consistency/{DONOR}?from={from}&to={to}"),
                (200, answer.to_string().into_bytes()),
            );
        }
    }
    routes
}

/// A running witness process: its stdout lines, its URL; killed when dropped.
struct WitnessProcess {
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
    url: String,
}

impl WitnessProcess {
    fn start(config: &Path) -> WitnessProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .arg("witness")
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the witness");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = WitnessProcess {
            child,
            lines,
            log: Vec::new(),
            url: String::new(),
        };
        let line = process.wait_line("listening on", |line| line.contains("listening on"));
        process.url = line
            .rsplit(' ')
            .next()
            .expect("an address")
            .trim()
            .to_owned();
        process
    }

    /// Waits for a line of the log matching `matches` (lines seen before count too).
    fn wait_line(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.log.iter().find(|line| matches(line)) {
            return line.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("no log line {what} in time; log:\n{}", self.log.join("\n"))
                }
            }
        }
    }

    fn answer(&self) -> Value {
        reqwest::blocking::get(format!("{}/api/witness", self.url))
            .expect("GET /api/witness")
            .json()
            .expect("JSON")
    }

    /// Waits until `/api/witness` satisfies `ready`.
    fn wait_answer(&mut self, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let answer = self.answer();
            if ready(&answer) {
                return answer;
            }
            while let Ok(line) = self.lines.try_recv() {
                self.log.push(line);
            }
            assert!(
                Instant::now() < deadline,
                "/api/witness never showed {what}: {answer}\nlog:\n{}",
                self.log.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes the witness's key with the CLI and writes its config; returns (config path, vkey).
fn set_up(dir: &Path, nodes: &[&str]) -> (std::path::PathBuf, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(["witness", "key", "--name", NAME, "--out"])
        .arg(dir.join("witness.key"))
        .output()
        .expect("run aidledger witness key");
    assert!(output.status.success(), "{output:?}");
    let vkey = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let key = VerifierKey::parse(&vkey).expect("a vkey");
    assert_eq!(key.key_type(), KeyType::Cosignature);
    assert_eq!(key.name(), NAME);
    let config = json!({
        "name": NAME,
        "key_file": "witness.key",
        "state_dir": "state",
        "network_id": genesis().network_id().to_hex(),
        "nodes": nodes,
        "listen": "127.0.0.1:0",
        "interval_ms": 100,
    });
    let path = dir.join("witness.json");
    std::fs::write(&path, config.to_string()).expect("write the config");
    (path, vkey)
}

/// The cosigned checkpoints of `answer`, opened with the donor's key, each with the witness's
/// cosignature checked by a 1-of-1 policy.
fn cosigned(answer: &Value, vkey: &str) -> Vec<SignedCheckpoint> {
    let policy =
        WitnessPolicy::new(vec![VerifierKey::parse(vkey).expect("vkey")], 1).expect("policy");
    let donor_key = signature::public_key_of(&SigningKey::from_bytes(&DONOR_SEED));
    answer["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .map(|note| {
            let text = note.as_str().expect("a note");
            let signed = SignedCheckpoint::open(text, &genesis().network_id(), DONOR, &[donor_key])
                .expect("the organisation's signature");
            policy
                .check(&Note::parse(text).expect("a note"))
                .expect("the witness's cosignature");
            // The organisation's line and the witness's: nothing else.
            assert_eq!(signed.note.signatures.len(), 2, "{text}");
            signed
        })
        .collect()
}

fn split_views(answer: &Value) -> Vec<SplitViewProof> {
    let donor_key = signature::public_key_of(&SigningKey::from_bytes(&DONOR_SEED));
    answer["split_views"]
        .as_array()
        .expect("split_views")
        .iter()
        .map(|hex| {
            let proof =
                SplitViewProof::from_bytes(&hex::decode(hex.as_str().expect("hex")).expect("hex"))
                    .expect("a split-view proof");
            proof.check(&[donor_key]).expect("it checks offline");
            proof
        })
        .collect()
}

fn size_is(size: u64, vkey: &str) -> impl Fn(&Value) -> bool + '_ {
    move |answer: &Value| {
        answer["checkpoints"]
            .as_array()
            .is_some_and(|notes| notes.len() == 1)
            && cosigned(answer, vkey)[0].checkpoint.size == size
    }
}

#[test]
fn witness_cosigns_extensions_refuses_split_views_and_keeps_its_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let chain = ids(0x10, 8);
    let routes: Routes = Arc::new(Mutex::new(node_routes(&chain, &note_of(&chain, 3))));
    let node = serve(routes.clone());
    let (config, vkey) = set_up(dir.path(), &[&node]);
    let mut witness = WitnessProcess::start(&config);
    assert_eq!(witness.answer()["witness"], vkey.as_str());

    // The first checkpoint of the origin is cosigned.
    let answer = witness.wait_answer("the checkpoint of 3 cosigned", size_is(3, &vkey));
    assert_eq!(
        cosigned(&answer, &vkey)[0].checkpoint.root,
        MemoryTree::of_record_ids(&chain).root(3).unwrap()
    );
    witness.wait_line("cosigned the first", |line| {
        line.starts_with("cosigned") && line.contains("at 3 records") && line.contains("the first")
    });

    // A larger one, after the node's consistency proof from 3 verified.
    routes.lock().unwrap().insert(
        format!("/checkpoint/{DONOR}"),
        (200, note_of(&chain, 6).into_bytes()),
    );
    witness.wait_answer("the checkpoint of 6 cosigned", size_is(6, &vkey));
    witness.wait_line("cosigned 6", |line| {
        line.contains("at 6 records") && line.contains("extends the 3 cosigned")
    });

    // A forged checkpoint of the same size (another history the organisation signed): refused,
    // and a SameSize split-view proof served.
    let other = ids(0x70, 8);
    routes.lock().unwrap().insert(
        format!("/checkpoint/{DONOR}"),
        (200, note_of(&other, 6).into_bytes()),
    );
    let answer = witness.wait_answer("a split view", |answer| {
        answer["split_views"]
            .as_array()
            .is_some_and(|views| views.len() == 1)
    });
    assert_eq!(split_views(&answer)[0].evidence, SplitEvidence::SameSize);
    assert_eq!(
        cosigned(&answer, &vkey)[0].checkpoint.size,
        6,
        "still the one cosigned"
    );
    witness.wait_line("refused", |line| {
        line.starts_with("refused") && line.contains("a checkpoint of 6 records with root")
    });

    // A larger checkpoint of another history, whose node proves its tree had another root at
    // 6: refused, and a Prefix split-view proof.
    routes
        .lock()
        .unwrap()
        .extend(node_routes(&other, &note_of(&other, 8)));
    let answer = witness.wait_answer("a second split view", |answer| {
        answer["split_views"]
            .as_array()
            .is_some_and(|views| views.len() == 2)
    });
    assert!(split_views(&answer)
        .iter()
        .any(|proof| matches!(proof.evidence, SplitEvidence::Prefix { .. })));
    assert_eq!(cosigned(&answer, &vkey)[0].checkpoint.size, 6);
    let cosigned_before = answer["checkpoints"].clone();

    // Restarted with the same state: it serves what it cosigned and the proofs at once, and
    // refuses the conflicting checkpoint again.
    drop(witness);
    let mut witness = WitnessProcess::start(&config);
    let answer = witness.answer();
    assert_eq!(answer["checkpoints"], cosigned_before);
    assert_eq!(split_views(&answer).len(), 2);
    witness.wait_line("refused after the restart", |line| {
        line.starts_with("refused") && line.contains("at 8 records")
    });
    let answer = witness.answer();
    assert_eq!(
        answer["checkpoints"], cosigned_before,
        "the size cosigned is unchanged"
    );
    assert_eq!(split_views(&answer).len(), 2, "a proof is kept once");

    // An older checkpoint of the first history is refused too (it is not the largest), without
    // a split view: it is consistent.
    routes
        .lock()
        .unwrap()
        .extend(node_routes(&chain, &note_of(&chain, 4)));
    witness.wait_line("refused an older one", |line| {
        line.contains("at 4 records") && line.contains("older than the checkpoint of 6")
    });
    assert_eq!(split_views(&witness.answer()).len(), 2);
}

#[test]
fn witness_refuses_garbage_and_other_networks_and_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let chain = ids(0x20, 4);
    let good = serve(Arc::new(Mutex::new(node_routes(
        &chain,
        &note_of(&chain, 4),
    ))));
    let garbage = serve(Arc::new(Mutex::new(BTreeMap::from([(
        "/api/export".to_owned(),
        (200, b"this is not a bundle".to_vec()),
    )]))));
    let mut foreign_routes = node_routes(&chain, &note_of(&chain, 4));
    foreign_routes.insert(
        "/api/export".to_owned(),
        (200, export_of(&governance_vectors::governance_genesis())),
    );
    let foreign = serve(Arc::new(Mutex::new(foreign_routes)));
    let bad_note = serve(Arc::new(Mutex::new(node_routes(
        &chain,
        "not a checkpoint\n",
    ))));
    // A node nobody answers at (a port just freed).
    let unreachable = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let (config, vkey) = set_up(
        dir.path(),
        &[&garbage, &unreachable, &foreign, &bad_note, &good],
    );
    let mut witness = WitnessProcess::start(&config);
    witness.wait_answer("the good node's checkpoint cosigned", size_is(4, &vkey));
    witness.wait_line("the garbage node refused", |line| {
        line.starts_with("refused")
            && line.contains(&garbage)
            && line.contains("organisations' keys")
    });
    witness.wait_line("the unreachable node refused", |line| {
        line.starts_with("refused") && line.contains(&unreachable) && line.contains("cannot reach")
    });
    let line = witness.wait_line("the foreign node refused", |line| {
        line.starts_with("refused") && line.contains(&foreign)
    });
    assert!(line.contains("not of the network you trust"), "{line}");
    witness.wait_line("the bad note refused", |line| {
        line.starts_with("refused")
            && line.contains(&bad_note)
            && line.contains("not one this network's organisation signed")
    });
    // Still running and serving after every refusal, and nothing taken for a split view.
    assert!(witness.child.try_wait().expect("the process").is_none());
    let answer = witness.answer();
    assert_eq!(answer["split_views"], json!([]));
    assert_eq!(answer["checkpoints"].as_array().map(Vec::len), Some(1));
}
