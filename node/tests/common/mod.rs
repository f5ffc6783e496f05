//! Shared test helpers: a small network with fixed keys, bodies of every kind, signed records,
//! an in-process node with its own runtime, and waiting for a condition with a deadline.
#![allow(dead_code)]

pub mod explorer_server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aidledger_node::{ExplorerIndex, NodeConfig, RunningNode};
use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::{
    Money, Statement, TextVersion, Transaction, TreatyAction, TreatyActionKind, TreatyText,
};
use aidledger_spec::text::Date;
use aidledger_spec::{
    codec, sign_record, Body, Genesis, PublicKey, RecordDraft, RecordId, VerifiedRecord, Verifier,
};
use aidledger_store::Store;
use ed25519_dalek::SigningKey;

/// The member organisations of the test network.
pub const DONOR: &str = "GB-GOV-1";
pub const IMPLEMENTER: &str = "XM-DAC-41122";
pub const AUDITOR: &str = "XI-IATI-AUD";

pub fn key_of(org: &str) -> SigningKey {
    let seed = match org {
        DONOR => 1u8,
        IMPLEMENTER => 2,
        _ => 3,
    };
    SigningKey::from_bytes(&[seed.wrapping_mul(37).wrapping_add(11); 32])
}

/// The test network's genesis (built once: key checks are slow in debug builds).
pub fn genesis() -> Genesis {
    static GENESIS: std::sync::OnceLock<Genesis> = std::sync::OnceLock::new();
    GENESIS.get_or_init(build_genesis).clone()
}

/// A verifier of the test network (built once).
pub fn verifier() -> &'static Verifier {
    static VERIFIER: std::sync::OnceLock<Verifier> = std::sync::OnceLock::new();
    VERIFIER.get_or_init(|| Verifier::new(genesis()))
}

fn build_genesis() -> Genesis {
    let member = |id: &str, name: &str, role: Role| Member {
        id: id.into(),
        name: name.into(),
        roles: vec![role],
        signing_keys: vec![PublicKey(key_of(id).verifying_key().to_bytes())],
        node_keys: vec![],
    };
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "test network".into(),
        created_ms: 1_700_000_000_000,
        members: vec![
            member(DONOR, "Donor", Role::Donor),
            member(IMPLEMENTER, "Implementer", Role::Implementer),
            member(AUDITOR, "Auditor", Role::Auditor),
        ],
        admin_rule: AdminRule {
            admins: vec![DONOR.into(), IMPLEMENTER.into()],
            threshold: 2,
        },
    };
    genesis.normalise();
    genesis.check().expect("test genesis is valid");
    genesis
}

/// Writes `genesis.bin` and a key file for `org` into `dir` (outside any data directory).
pub fn write_inputs(dir: &Path, org: &str) -> (PathBuf, PathBuf) {
    let genesis_path = dir.join("input-genesis.bin");
    std::fs::write(&genesis_path, genesis().encode()).unwrap();
    let key_path = dir.join(format!("{org}.key"));
    std::fs::write(
        &key_path,
        format!("{}\n", hex::encode(key_of(org).to_bytes())),
    )
    .unwrap();
    (genesis_path, key_path)
}

/// A data directory with `genesis.bin` only, ready for [`Store::open_with_lock`].
pub fn bare_data_dir(root: &Path) -> PathBuf {
    let dir = root.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("genesis.bin"), genesis().encode()).unwrap();
    dir
}

pub fn open_new_store(dir: &Path) -> Store {
    let lock = aidledger_store::DirLock::acquire(dir).unwrap();
    Store::open_with_lock(
        dir,
        lock,
        aidledger_store::OpenMode::CreateIfMissing,
        ExplorerIndex,
    )
    .unwrap()
}

pub fn date() -> Date {
    Date {
        year: 2024,
        month: 3,
        day: 15,
    }
}

pub fn transaction(currency: &str, acknowledges: Option<RecordId>) -> Body {
    Body::Transaction(Transaction {
        activity_id: "GB-GOV-1-300123".into(),
        transaction_type: 3,
        value: Money {
            amount: "125000.50".into(),
            currency: currency.into(),
        },
        value_date: date(),
        transaction_date: date(),
        provider: None,
        receiver: None,
        description: "first tranche".into(),
        acknowledges,
        iati: None,
    })
}

pub fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "statement".into(),
        language: "en".into(),
        text: text.into(),
    })
}

pub fn treaty(parties: &[&str], text: &str) -> TreatyText {
    TreatyText {
        title: "Agreement".into(),
        parties: parties.iter().map(|party| party.to_string()).collect(),
        versions: vec![TextVersion {
            language: "en".into(),
            text: text.into(),
        }],
        supersedes: None,
    }
}

pub fn treaty_action(treaty: RecordId, text_hash: aidledger_spec::Digest) -> Body {
    Body::TreatyAction(TreatyAction {
        treaty,
        text_hash,
        action: TreatyActionKind::Sign,
        date: date(),
        note: String::new(),
    })
}

/// A verified record of `org` at (seq, prev).
pub fn record(org: &str, seq: u64, prev: RecordId, body: Body) -> VerifiedRecord {
    let draft = RecordDraft {
        network_id: genesis().network_id(),
        author: org.into(),
        seq,
        prev,
        timestamp_ms: 1_700_000_000_000 + seq,
        body,
    };
    let (_, bytes) = sign_record(&draft, &key_of(org)).unwrap();
    verifier().verify(bytes).unwrap()
}

/// A chain of `length` statements of `org`.
pub fn chain(org: &str, length: u64) -> Vec<VerifiedRecord> {
    let mut prev = RecordId::ZERO;
    (0..length)
        .map(|seq| {
            let made = record(org, seq, prev, statement(&format!("{org} statement {seq}")));
            prev = made.id();
            made
        })
        .collect()
}

/// Verifies every record and proof of a store with the spec's chain verifier.
pub fn verify_store(store: &Store) -> aidledger_spec::chain::Report {
    let verifier = verifier();
    let mut chains = aidledger_spec::chain::ChainVerifier::new(store.genesis());
    for stored in store.iter_records() {
        let bytes = stored.unwrap().bytes;
        if aidledger_spec::withheld::is_withheld(&bytes) {
            chains.add_withheld(verifier.verify_withheld(bytes));
        } else {
            chains.add(verifier.verify(bytes));
        }
    }
    chains.finish()
}

pub fn encode(body: &Body) -> Vec<u8> {
    codec::encode(body)
}

/// Waits for `condition` to hold, failing the test after `timeout`: [`aidledger_process::wait_until`]
/// as a test assertion.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, condition: impl FnMut() -> bool) {
    if let Err(timed_out) = aidledger_process::wait_until(timeout, what, condition) {
        panic!("{timed_out}");
    }
}

/// A node running in this process on its own runtime, driven by blocking HTTP from the test.
pub struct TestNode {
    pub runtime: tokio::runtime::Runtime,
    pub node: Option<RunningNode>,
    pub data_dir: PathBuf,
    pub http: reqwest::blocking::Client,
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

impl TestNode {
    /// Starts a node of `org` in `root/data`, initialising it on first start.
    pub fn start(root: &Path, org: &str) -> TestNode {
        TestNode::start_with_network(root, org, aidledger_node::NetworkOptions::default())
    }

    /// [`TestNode::start`] with network options (witnesses to poll, peers).
    pub fn start_with_network(
        root: &Path,
        org: &str,
        options: aidledger_node::NetworkOptions,
    ) -> TestNode {
        let (genesis_path, key_path) = write_inputs(root, org);
        let config = NodeConfig {
            data_dir: root.join("data"),
            genesis: Some(genesis_path),
            org: Some(org.into()),
            key: Some(key_path),
            submit_addr: loopback(),
            public_addr: loopback(),
            store_cache_mib: None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let node = runtime
            .block_on(aidledger_node::start_with_network(config, options))
            .unwrap();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        TestNode {
            runtime,
            node: Some(node),
            data_dir: root.join("data"),
            http,
        }
    }

    pub fn node(&self) -> &RunningNode {
        self.node.as_ref().unwrap()
    }

    pub fn submit_raw(&self, bytes: Vec<u8>) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/v1/records", self.node().submit_url()))
            .bearer_auth(self.node().token())
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(serde_json::Value::Null))
    }

    /// Submits a body that must be accepted; returns (id, seq).
    pub fn submit(&self, body: &Body) -> (RecordId, u64) {
        let (status, json) = self.submit_raw(encode(body));
        assert_eq!(status, 200, "submit refused: {json}");
        (
            RecordId::from_hex(json["id"].as_str().unwrap()).unwrap(),
            json["seq"].as_u64().unwrap(),
        )
    }

    pub fn status(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/v1/status", self.node().submit_url()))
            .bearer_auth(self.node().token())
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// `/v1/status` without what changes whatever the node does (the disk's free space, which
    /// other programs change): what a refused request must leave as it was.
    pub fn store_status(&self) -> serde_json::Value {
        let mut status = self.status();
        if let Some(fields) = status.as_object_mut() {
            fields.remove("disk");
        }
        status
    }

    pub fn public_get(&self, path: &str) -> reqwest::blocking::Response {
        self.http
            .get(format!("{}{path}", self.node().public_url()))
            .send()
            .unwrap()
    }

    pub fn stop(&mut self) {
        if let Some(node) = self.node.take() {
            self.runtime.block_on(node.shutdown()).unwrap();
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let _ = self.runtime.block_on(node.shutdown());
        }
    }
}

/// Opens a closed store's sled files directly, as a crash or a damaged file leaves them. sled
/// lets go of its file lock only when its background tasks have let go of a closed store, a
/// moment after the store is dropped: wait for it, as `Store::open` does.
pub fn raw_sled(dir: &Path) -> sled::Db {
    let path = dir.join(aidledger_store::datadir::STORE_DIR);
    let started = Instant::now();
    loop {
        match sled::open(&path) {
            Ok(db) => return db,
            Err(error)
                if error.to_string().contains("could not acquire lock")
                    && started.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("open {}: {error}", path.display()),
        }
    }
}

/// A fault for `Store::set_fault_after_write_ahead` that stands for a crash of the append
/// between its write-ahead and its transaction.
pub fn panic_always() -> Result<(), aidledger_store::StoreError> {
    panic!("an injected fault between the write-ahead and the head transaction");
}
