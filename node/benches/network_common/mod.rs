//! Shared pieces of the network benches: a genesis of member nodes with fixed keys, node
//! processes (the release `aidledger-node` binary), status polling and peak memory.

#![allow(dead_code)]

pub mod source;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::{Genesis, PublicKey};
use ed25519_dalek::SigningKey;
use serde_json::Value;

/// The member organisations of the bench networks.
pub const ORGS: [&str; 4] = ["AA-ORG-1", "BB-ORG-2", "CC-ORG-3", "DD-ORG-4"];

/// The signing key of member `index`.
pub fn signing_key(index: usize) -> SigningKey {
    SigningKey::from_bytes(&[index as u8 + 1; 32])
}

/// The transport key of member `index`.
pub fn node_key(index: usize) -> SigningKey {
    SigningKey::from_bytes(&[index as u8 + 101; 32])
}

fn public(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// A genesis of [`ORGS`], each with one signing key and one node key.
pub fn genesis() -> Genesis {
    let members = ORGS
        .iter()
        .enumerate()
        .map(|(index, id)| Member {
            id: (*id).into(),
            name: format!("Member {index}"),
            roles: vec![Role::Donor],
            signing_keys: vec![public(&signing_key(index))],
            node_keys: vec![public(&node_key(index))],
        })
        .collect();
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "network benchmark".into(),
        created_ms: 1,
        members,
        admin_rule: AdminRule {
            admins: ORGS.iter().map(|id| (*id).into()).collect(),
            threshold: 1,
        },
    };
    genesis.normalise();
    genesis
}

/// Writes the genesis and the key files of member `index` into `dir`.
pub fn write_files(dir: &Path, genesis: &Genesis, index: usize) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).expect("create the bench directory");
    let genesis_path = dir.join("genesis.input");
    std::fs::write(&genesis_path, genesis.encode()).expect("write the genesis");
    let key = dir.join(format!("org{index}.key"));
    let node = dir.join(format!("node{index}.key"));
    std::fs::write(
        &key,
        format!("{}\n", hex::encode(signing_key(index).to_bytes())),
    )
    .expect("key");
    std::fs::write(
        &node,
        format!("{}\n", hex::encode(node_key(index).to_bytes())),
    )
    .expect("key");
    owner_only(&key);
    owner_only(&node);
    (genesis_path, key, node)
}

/// Makes a key file readable by its owner only (the node refuses others' access).
pub fn owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

/// A node process, killed when dropped.
pub struct NodeProcess {
    pub child: Child,
    pub public: String,
    pub submit: String,
    pub token: String,
    pub p2p: String,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `aidledger-node` binary the benches start: `AIDLEDGER_BENCH_NODE` if set (to compare
/// two builds with the same bench binary, runs alternating), else the one cargo built.
pub fn node_binary() -> PathBuf {
    std::env::var_os("AIDLEDGER_BENCH_NODE").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_aidledger-node")),
        PathBuf::from,
    )
}

/// Starts the node of member `index` in `root/node{index}` and waits for it.
pub fn start_node(
    root: &Path,
    genesis: &Genesis,
    index: usize,
    bootstrap: &[String],
) -> NodeProcess {
    start_node_with(root, genesis, index, bootstrap, &[])
}

/// [`start_node`] with more flags for the node (`--store-cache-mib N`).
pub fn start_node_with(
    root: &Path,
    genesis: &Genesis,
    index: usize,
    bootstrap: &[String],
    flags: &[String],
) -> NodeProcess {
    let (genesis_path, key, node) = write_files(root, genesis, index);
    let data_dir = root.join(format!("node{index}"));
    let mut command = Command::new(node_binary());
    command
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--genesis")
        .arg(&genesis_path)
        .args(["--org", ORGS[index], "--key"])
        .arg(&key)
        .arg("--node-key")
        .arg(&node)
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"]);
    for peer in bootstrap {
        command.args(["--bootstrap", peer]);
    }
    command.args(flags);
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start aidledger-node");
    let pid = child.id();
    let endpoints = wait(Duration::from_secs(120), || {
        let text = std::fs::read_to_string(data_dir.join("endpoints.json")).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        (value["pid"].as_u64()? == u64::from(pid)).then_some(value)
    });
    let public = endpoints["public"].as_str().expect("public").to_string();
    let token = std::fs::read_to_string(data_dir.join("submit.token")).expect("token");
    let status = status(&public).expect("status");
    let p2p = format!(
        "{}/p2p/{}",
        status["listen"][0].as_str().expect("listen"),
        status["peer_id"].as_str().expect("peer id")
    );
    NodeProcess {
        child,
        submit: endpoints["submit"].as_str().expect("submit").to_string(),
        public,
        token: token.trim().to_string(),
        p2p,
    }
}

/// Polls until `probe` gives a value (panics after `timeout`).
pub fn wait<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET /api/status`.
pub fn status(public: &str) -> Option<Value> {
    reqwest::blocking::get(format!("{public}/api/status"))
        .ok()?
        .json()
        .ok()
}

/// The peak resident memory of a process, in MiB (`VmHWM`).
pub fn peak_rss_mib(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
