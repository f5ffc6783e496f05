//! The node's network settings from a config file and flags: the file is read, a flag wins over
//! it, unknown keys are refused, and the node key is copied into the data directory and checked
//! on later starts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{write_inputs, DONOR};

fn node() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aidledger-node"))
}

/// Reads the node's stdout until its `p2p` line; returns every line read.
fn announced(child: &mut Child) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("stdout line");
        let done = line.starts_with("p2p ");
        lines.push(line);
        if done {
            break;
        }
    }
    lines
}

#[test]
fn reads_a_config_file_and_lets_flags_win() {
    let root = tempfile::tempdir().unwrap();
    let (genesis, key) = write_inputs(root.path(), DONOR);
    let node_key = root.path().join("node.key.input");
    std::fs::write(&node_key, format!("{}\n", "11".repeat(32))).unwrap();
    let data_dir = root.path().join("data");
    let config = serde_json::json!({
        "data_dir": data_dir, "genesis": genesis, "org": DONOR, "key": key, "node_key": node_key,
        "listen": ["/ip4/127.0.0.1/tcp/0"], "bootstrap": [],
    });
    let config_path = root.path().join("node.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut child = node()
        .arg("--config")
        .arg(&config_path)
        .args(["--public-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = announced(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.iter().any(|line| line.starts_with("peer 12D3KooW")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("p2p /ip4/127.0.0.1/tcp/")),
        "{lines:?}"
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("node.key")).unwrap(),
        std::fs::read_to_string(&node_key).unwrap()
    );
    // A different node key on a later start is refused.
    let other_key = root.path().join("other.key");
    std::fs::write(&other_key, format!("{}\n", "22".repeat(32))).unwrap();
    let refused = node()
        .arg("--config")
        .arg(&config_path)
        .arg("--node-key")
        .arg(&other_key)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--node-key"));
}

#[test]
fn refuses_unknown_keys_in_the_config_file() {
    let root = tempfile::tempdir().unwrap();
    let config_path = root.path().join("node.json");
    std::fs::write(&config_path, r#"{"data_dir": "x", "listen_on": []}"#).unwrap();
    let output = node().arg("--config").arg(&config_path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("listen_on"));
}

/// `--witness URL` and `--witness-poll-ms` (issue 21): the node polls the witness, says in a
/// line on stderr when it does not answer (and goes on), and keeps the settings in
/// `config.json` for later starts.
#[test]
fn polls_its_witnesses_and_saves_them() {
    let root = tempfile::tempdir().unwrap();
    let (genesis, key) = write_inputs(root.path(), DONOR);
    let data_dir = root.path().join("data");
    // A port nothing listens on: bound, then let go.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let witness = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let mut child = node()
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--genesis")
        .arg(&genesis)
        .args(["--org", DONOR, "--key"])
        .arg(&key)
        .args(["--witness", &witness, "--witness-poll-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    announced(&mut child);
    let stderr = child.stderr.take().expect("piped stderr");
    let line = BufReader::new(stderr)
        .lines()
        .map(|line| line.expect("stderr line"))
        .find(|line| line.contains("witness"))
        .expect("a line about the witness");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with(&format!(
            "aidledger-node: witness {witness}: no answer from {witness}/api/witness"
        )),
        "{line}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data_dir.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["witness"], serde_json::json!([witness]));
    assert_eq!(saved["witness_poll_ms"], 100);
}
