//! A witness against a real node process (issue 21): `aidledger witness key` makes its key,
//! `gov propose set-witnesses` lists it through the donor's node (a record the node accepts and
//! `gov status` reads back), and `aidledger witness --config` cosigns the donor's published
//! checkpoint, then a larger one once the node's consistency proof verified; each cosigned note
//! opens with the donor's key from the genesis and carries a cosignature the witness's vkey
//! verifies. And a node that shows the witness another history is caught: the witness's
//! split-view proof reaches the node (`--witness`) and `verify` of the node exits 1. The other
//! refusals are cli/tests/checkpoints/witness.rs (stand-in nodes).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aidledger_spec::checkpoint::{Checkpoint, SignedCheckpoint};
use aidledger_spec::codec::Codec;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::note::{Note, VerifierKey};
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{signature, Digest, NetworkId};
use aidledger_tests::network::free_port;
use aidledger_tests::{bin_path, path_str, read_key_seed, wait_for, Network, DONOR};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

/// How long the node and the witness may take to publish and cosign a checkpoint.
const COSIGN_TIMEOUT: Duration = Duration::from_secs(60);

/// The witness process; killed when dropped.
struct Witness {
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
}

impl Witness {
    fn start(config: &std::path::Path) -> (Witness, String) {
        let mut child = Command::new(bin_path("aidledger"))
            .args(["witness", "--config", path_str(config)])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the witness");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut witness = Witness {
            child,
            lines,
            log: Vec::new(),
        };
        let line = witness.wait_line(|line| line.contains("listening on http://"));
        let url = line.rsplit(' ').next().expect("an address").to_owned();
        (witness, url)
    }

    fn wait_line(&mut self, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + COSIGN_TIMEOUT;
        loop {
            if let Some(line) = self.log.iter().find(|line| matches(line)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.log.push(line),
                Err(_) => panic!("the witness never logged it; log:\n{}", self.log.join("\n")),
            }
        }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The donor's checkpoint the witness serves, once it is of `size` records: opened with the
/// donor's key, its cosignature checked by the witness's vkey.
fn cosigned(url: &str, size: u64, network: &NetworkId, donor: &SigningKey, vkey: &str) -> String {
    let policy =
        WitnessPolicy::new(vec![VerifierKey::parse(vkey).expect("vkey")], 1).expect("policy");
    let deadline = Instant::now() + COSIGN_TIMEOUT;
    loop {
        let answer: Value = reqwest::blocking::get(format!("{url}/api/witness"))
            .expect("GET /api/witness")
            .json()
            .expect("JSON");
        assert_eq!(answer["witness"], vkey);
        assert_eq!(answer["split_views"], json!([]));
        if let Some(note) = answer["checkpoints"]
            .as_array()
            .and_then(|notes| notes.first())
            .and_then(Value::as_str)
        {
            let signed =
                SignedCheckpoint::open(note, network, DONOR, &[signature::public_key_of(donor)])
                    .expect("the donor signed it");
            let cosignatures = policy
                .check(&Note::parse(note).expect("a note"))
                .expect("the witness cosigned it");
            assert_eq!(cosignatures.len(), 1);
            if signed.checkpoint.size == size {
                return note.to_owned();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no cosigned checkpoint of {size}: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_witness_cosigns_a_real_nodes_checkpoints_as_its_chain_grows() {
    let network = Network::start("proof_witness");
    let dir = &network.dir;
    let vkey = network
        .cli
        .run([
            "witness",
            "key",
            "--name",
            "witness.example.org/w1",
            "--out",
            path_str(&dir.join("witness.key")),
        ])
        .assert_exit(0)
        .stdout_line();
    assert!(vkey.starts_with("witness.example.org/w1+"), "{vkey}");

    // The admins list it: a proposal the node accepts (pending: 1 of the 2 approvals needed).
    let proposal = network
        .cli
        .run([
            "gov",
            "propose",
            "set-witnesses",
            "--witness",
            &vkey,
            "--threshold",
            "1",
            "--data-dir",
            &network.data_dir_arg(),
        ])
        .assert_exit(0)
        .stdout_hex32();
    let url = network.node.public_url();
    let status = network
        .cli
        .run(["gov", "status", "--node", &url, "--json"])
        .assert_exit(0)
        .json();
    let text = status.to_string();
    assert!(
        text.contains(&proposal) && text.contains("set-witnesses"),
        "{text}"
    );

    network.record_transaction("125000.00");
    network.record_transaction("5000.00");
    let config = dir.write(
        "witness.json",
        json!({
            "name": "witness.example.org/w1",
            "key_file": "witness.key",
            "state_dir": "witness-state",
            "network_id": network.network_id,
            "nodes": [url],
            "listen": "127.0.0.1:0",
            "interval_ms": 200,
        })
        .to_string(),
    );
    let (mut witness, witness_url) = Witness::start(&config);
    let network_id = NetworkId::from_hex(&network.network_id).expect("hex");
    let donor = SigningKey::from_bytes(&read_key_seed(&network.organisations[0].key_file));
    // The proposal is the donor's first record: three records in its chain.
    cosigned(&witness_url, 3, &network_id, &donor, &vkey);
    witness.wait_line(|line| line.starts_with("cosigned") && line.contains("the first"));

    network.record_transaction("1.00");
    network.record_transaction("2.00");
    cosigned(&witness_url, 5, &network_id, &donor, &vkey);
    // Extended from whatever size it cosigned last (3, or 4 if it saw that one).
    let line = witness.wait_line(|line| line.contains("at 5 records"));
    assert!(
        line.starts_with("cosigned") && line.contains("consistency proof verified"),
        "{line}"
    );
    assert!(
        !witness.log.iter().any(|line| line.starts_with("refused")),
        "{}",
        witness.log.join("\n")
    );
}

/// A proxy in front of `node`'s public API that forwards every request, but answers
/// `/checkpoint/{DONOR}` with `forged` once it is set: a node showing the witness another
/// history than the one it shows everyone else.
fn forking_proxy(node: String, forged: Arc<Mutex<Option<String>>>) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        for mut stream in listener.incoming().map_while(Result::ok) {
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
            let forged_note = forged.lock().expect("forged").clone();
            let (status, body) = match forged_note {
                Some(note) if path == format!("/checkpoint/{DONOR}") => (200, note.into_bytes()),
                _ => match client.get(format!("{node}{path}")).send() {
                    Ok(response) => (
                        response.status().as_u16(),
                        response
                            .bytes()
                            .map(|bytes| bytes.to_vec())
                            .unwrap_or_default(),
                    ),
                    Err(_) => (502, Vec::new()),
                },
            };
            let mut answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            answer.extend_from_slice(&body);
            let _ = stream.write_all(&answer);
        }
    });
    url
}

/// The split view with real processes: the donor's node shows the witness (through a
/// proxy) a checkpoint of the size the witness cosigned with another root, signed with the
/// donor's key. The witness refuses it and serves the split-view proof; the node, restarted
/// with `--witness`, collects it and lists it, and `verify` of the node says the donor signed
/// two histories (exit 1).
#[test]
fn a_node_showing_a_witness_another_history_is_caught_by_a_split_view() {
    let mut network = Network::start("proof_witness_fork");
    let dir = &network.dir;
    network
        .cli
        .run([
            "witness",
            "key",
            "--name",
            "witness.example.org/w1",
            "--out",
            path_str(&dir.join("witness.key")),
        ])
        .assert_exit(0);
    network.record_transaction("125000.00");
    network.record_transaction("5000.00");
    let forged: Arc<Mutex<Option<String>>> = Arc::default();
    let proxy = forking_proxy(network.node.public_url(), Arc::clone(&forged));
    let listen = format!("127.0.0.1:{}", free_port());
    let config = dir.write(
        "witness.json",
        json!({
            "name": "witness.example.org/w1",
            "key_file": "witness.key",
            "state_dir": "witness-state",
            "network_id": network.network_id,
            "nodes": [proxy],
            "listen": listen,
            "interval_ms": 200,
        })
        .to_string(),
    );
    let (mut witness, witness_url) = Witness::start(&config);
    let vkey = witness
        .wait_line(|line| line.starts_with("witness key "))
        .trim_start_matches("witness key ")
        .to_owned();
    let network_id = NetworkId::from_hex(&network.network_id).expect("hex");
    let donor = SigningKey::from_bytes(&read_key_seed(&network.organisations[0].key_file));
    cosigned(&witness_url, 2, &network_id, &donor, &vkey);

    // Another history of two records, signed with the donor's key, shown to the witness only.
    let note = Checkpoint::new(&network_id, DONOR, 2, Digest([0x77; 32]))
        .sign(&donor)
        .expect("sign")
        .to_text();
    *forged.lock().expect("forged") = Some(note);
    let split = wait_for(COSIGN_TIMEOUT, "the witness's split view", || {
        let answer: Value = reqwest::blocking::get(format!("{witness_url}/api/witness"))
            .ok()?
            .json()
            .ok()?;
        answer["split_views"]
            .as_array()
            .and_then(|views| views.first())
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let proof = SplitViewProof::from_bytes(&hex::decode(&split).expect("hex")).expect("decodes");
    assert_eq!(proof.evidence, SplitEvidence::SameSize);
    proof
        .check(&[signature::public_key_of(&donor)])
        .expect("it checks offline with the donor's key");
    witness.wait_line(|line| line.starts_with("refused") && line.contains("at 2 records"));

    // The node collects it from the witness and lists it; verify says the donor signed two
    // histories.
    network.node.terminate();
    network
        .node
        .restart_with(&["--witness", &witness_url, "--witness-poll-ms", "200"]);
    let url = network.node.public_url();
    wait_for(COSIGN_TIMEOUT, "the node's split view", || {
        let listed: Value = reqwest::blocking::get(format!("{url}/api/split-views"))
            .ok()?
            .json()
            .ok()?;
        let views = listed["split_views"].as_array()?;
        (views.len() == 1 && views[0].to_string().contains(DONOR)).then_some(())
    });
    let output = network
        .cli
        .run([
            "verify",
            "--node",
            &url,
            "--network-id",
            &network.network_id,
        ])
        .assert_no_panic()
        .assert_exit(1);
    assert!(
        output.stdout().contains("SIGNED TWO HISTORIES"),
        "{}",
        output.stdout()
    );
}
