//! Harness for multi-node tests: a network of three organisations whose nodes run as real
//! processes on loopback, each with a transport key listed in the genesis, optionally wired
//! through TCP proxies that the test can cut and heal to make partitions.
//!
//! Layout in the test directory: `keys/ORG.key` (signing), `keys/ORG.node.key` (transport),
//! `keys/probe.node.key` (a second transport key of the auditor, for a test-driven peer),
//! `genesis.bin`, `nodes/ORG/` (data directories) and their logs beside them.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use aidledger_process::ChildGuard;
use serde_json::Value;

use crate::{
    bin_path, path_str, wait_for, Cli, Endpoints, TestDir, AUDITOR, DONOR, IMPLEMENTER,
    NODE_START_TIMEOUT,
};

/// The organisations, in node order.
pub const ORGS: [&str; 3] = [DONOR, IMPLEMENTER, AUDITOR];
/// How long replication may take in a test before it fails.
pub const REPLICATION_TIMEOUT: Duration = Duration::from_secs(60);

/// First port handed out by [`free_port`]: below Linux's ephemeral range (32768–60999), so a
/// port the OS gives to some other socket (port 0 binds, outgoing connections) never collides
/// with one a node was told to bind.
const TEST_PORT_FIRST: u16 = 20_000;
/// Ports in the test range; each test process starts at an offset from its pid so that
/// concurrent test processes rarely meet.
const TEST_PORT_SPAN: u16 = 12_000;

/// A free loopback TCP port for a node to bind later. Ports come from a counter in this process
/// (no two calls return the same port) in a range the OS does not assign on its own, and each
/// is checked to be bindable now; a bind-and-release of port 0 raced with the tests' other
/// sockets, and the node then could not bind its port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % u32::from(TEST_PORT_SPAN)) as u16;
    for _ in 0..TEST_PORT_SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % TEST_PORT_SPAN;
        let port = TEST_PORT_FIRST + offset;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no free loopback port in {TEST_PORT_FIRST}..{}",
        TEST_PORT_FIRST + TEST_PORT_SPAN
    );
}

/// A TCP proxy in the test process: forwards connections to `target` while enabled; `cut`
/// closes every forwarded connection and refuses new ones until `heal`.
pub struct Proxy {
    port: u16,
    enabled: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Starts a proxy on a free loopback port towards `target`.
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let enabled = Arc::new(AtomicBool::new(true));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let (accept_enabled, accept_streams) = (enabled.clone(), streams.clone());
        thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { continue };
                if !accept_enabled.load(Ordering::SeqCst) {
                    let _ = inbound.shutdown(Shutdown::Both);
                    continue;
                }
                if let Ok(outbound) = TcpStream::connect(target) {
                    forward(inbound, outbound, &accept_streams);
                }
            }
        });
        Proxy {
            port,
            enabled,
            streams,
        }
    }

    /// The proxy's listening port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        for stream in self.streams.lock().expect("proxy streams").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Forwards connections again.
    pub fn heal(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }
}

fn forward(inbound: TcpStream, outbound: TcpStream, streams: &Mutex<Vec<TcpStream>>) {
    let pairs = [
        (inbound.try_clone(), outbound.try_clone()),
        (outbound.try_clone(), inbound.try_clone()),
    ];
    {
        let mut held = streams.lock().expect("proxy streams");
        held.extend(inbound.try_clone());
        held.extend(outbound.try_clone());
    }
    for pair in pairs {
        if let (Ok(mut from), Ok(mut to)) = pair {
            thread::spawn(move || {
                let _ = copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Both);
                let _ = from.shutdown(Shutdown::Both);
            });
        }
    }
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) -> io::Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = from.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        to.write_all(&buffer[..read])?;
    }
}

/// One member node process of a [`Mesh`].
pub struct MeshNode {
    /// The organisation.
    pub org: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its p2p listen port (kept across restarts).
    pub p2p_port: u16,
    args: Vec<String>,
    /// Environment variables of the next starts (test hooks).
    env: Vec<(String, String)>,
    child: Option<ChildGuard>,
    endpoints: Option<Endpoints>,
    starts: u32,
}

impl MeshNode {
    /// A node (not started) with `args` after `--data-dir DIR`, logs beside `data_dir`.
    pub fn new(org: &str, data_dir: PathBuf, args: Vec<String>) -> MeshNode {
        MeshNode {
            org: org.to_string(),
            data_dir,
            p2p_port: 0,
            args,
            env: Vec::new(),
            child: None,
            endpoints: None,
            starts: 0,
        }
    }

    /// Starts (or restarts) the process and waits for its endpoints.
    #[track_caller]
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.org);
        self.starts += 1;
        let log = |stream: &str| {
            let name = format!("{}.{}.{stream}", self.org, self.starts);
            self.data_dir.with_file_name(name)
        };
        std::fs::create_dir_all(self.data_dir.parent().expect("nodes/")).expect("create nodes/");
        let mut command = Command::new(bin_path("aidledger-node"));
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.args)
            .envs(
                self.env
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log("stdout")).expect("stdout log"))
            .stderr(std::fs::File::create(log("stderr")).expect("stderr log"));
        let child = command.spawn().expect("start aidledger-node");
        let pid = child.id();
        // Kept in `self` while waiting, so that Drop kills it if the wait fails.
        self.child = Some(ChildGuard::new(child));
        let data_dir = self.data_dir.clone();
        let stderr_log = log("stderr");
        let org = self.org.clone();
        let child = self.child.as_mut().expect("just set");
        let endpoints = wait_for(
            NODE_START_TIMEOUT,
            "the node to write endpoints.json",
            || {
                // A node that exits during start-up will never write its endpoints: say why now.
                if let Ok(Some(status)) = child.try_wait() {
                    let stderr = std::fs::read_to_string(&stderr_log).unwrap_or_default();
                    panic!("{org} exited during start-up ({status}): {stderr}");
                }
                Endpoints::read(&data_dir).filter(|endpoints| endpoints.pid == pid)
            },
        );
        self.endpoints = Some(endpoints);
    }

    /// Sets (`Some`) or removes (`None`) an environment variable for the next starts.
    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(name, _)| name != key);
        if let Some(value) = value {
            self.env.push((key.to_owned(), value.to_owned()));
        }
    }

    /// Kills the process with SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
        }
        self.endpoints = None;
    }

    /// The public API's base URL.
    #[track_caller]
    pub fn public_url(&self) -> String {
        self.endpoints
            .as_ref()
            .expect("node not running")
            .public
            .clone()
    }

    /// The submit API's base URL.
    #[track_caller]
    pub fn submit_url(&self) -> String {
        self.endpoints
            .as_ref()
            .expect("node not running")
            .submit
            .clone()
    }

    /// The submit token of the current run.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("submit.token"))
            .expect("read submit.token")
            .trim()
            .to_string()
    }

    /// `GET {public}{path}` as JSON, or `None` if the node does not answer with JSON.
    pub fn get_json(&self, path: &str) -> Option<Value> {
        let url = format!("{}{path}", self.endpoints.as_ref()?.public);
        http().get(url).send().ok()?.json().ok()
    }

    /// `GET /api/status`, or `None` if the node does not answer.
    pub fn status(&self) -> Option<Value> {
        let url = format!("{}/api/status", self.endpoints.as_ref()?.public);
        let response = http().get(url).send().ok()?;
        response.json().ok()
    }

    /// Heads as org → (seq, id); empty if the node does not answer.
    pub fn heads(&self) -> Vec<(String, u64, String)> {
        let Some(status) = self.status() else {
            return Vec::new();
        };
        status["heads"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|head| {
                (
                    head["org"].as_str().unwrap_or_default().to_string(),
                    head["seq"].as_u64().unwrap_or_default(),
                    head["id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// How many records the node holds.
    pub fn record_count(&self) -> u64 {
        self.status()
            .and_then(|status| status["records"].as_u64())
            .unwrap_or(0)
    }

    /// Whether the node holds record `id`.
    pub fn has_record(&self, id: &str) -> bool {
        let Some(endpoints) = &self.endpoints else {
            return false;
        };
        let url = format!("{}/api/records/{id}", endpoints.public);
        http()
            .get(url)
            .send()
            .is_ok_and(|response| response.status().is_success())
    }

    /// POSTs an encoded body to the submit API; returns the HTTP status and the answer.
    pub fn post_body(&self, body: Vec<u8>) -> (u16, Value) {
        let response = http()
            .post(format!("{}/v1/records", self.submit_url()))
            .bearer_auth(self.token())
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .expect("POST /v1/records");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// The latest run's stderr.
    pub fn stderr(&self) -> String {
        let name = format!("{}.{}.stderr", self.org, self.starts);
        std::fs::read_to_string(self.data_dir.with_file_name(name)).unwrap_or_default()
    }

    /// `GET /api/governance` (the node's derivation: authority, proposals, findings), or `None`
    /// if the node does not answer it.
    pub fn governance(&self) -> Option<Value> {
        let url = format!("{}/api/governance", self.endpoints.as_ref()?.public);
        let response = http().get(url).send().ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().ok()
    }

    /// The state of proposal `id` in this node's governance (`"pending"`, `"effective"`, …),
    /// `None` while the node does not know the proposal.
    pub fn proposal_state(&self, id: &str) -> Option<String> {
        let governance = self.governance()?;
        let proposal = governance["proposals"]
            .as_array()?
            .iter()
            .find(|proposal| proposal["id"] == id)?;
        Some(proposal["state"]["state"].as_str()?.to_string())
    }

    /// The peer ids of the node's connected peers, `None` if the node does not answer.
    pub fn peer_ids(&self) -> Option<Vec<String>> {
        let status = self.status()?;
        Some(
            status["peers"]
                .as_array()?
                .iter()
                .filter_map(|peer| peer["peer_id"].as_str().map(str::to_string))
                .collect(),
        )
    }

    /// Replaces the value after `flag` in the start arguments (for example `--key` when a
    /// restart hands the node a new key), or appends `flag value` if the flag is absent.
    pub fn set_arg(&mut self, flag: &str, value: &str) {
        match self.args.iter().position(|arg| arg == flag) {
            Some(at) if at + 1 < self.args.len() => self.args[at + 1] = value.to_string(),
            _ => self.args.extend([flag.to_string(), value.to_string()]),
        }
    }

    /// Appends `flag value` to the start arguments, beside any of the same flag (for a
    /// repeatable flag such as `--witness`).
    pub fn add_arg(&mut self, flag: &str, value: &str) {
        self.args.extend([flag.to_string(), value.to_string()]);
    }

    /// Sends SIGTERM and waits (at most [`NODE_START_TIMEOUT`]) for the process to exit.
    #[track_caller]
    pub fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        self.endpoints = None;
        let exited = child
            .terminate(NODE_START_TIMEOUT)
            .expect("signal and wait for the node")
            .unwrap_or_else(|| {
                panic!(
                    "timed out after {NODE_START_TIMEOUT:?} waiting for {} to exit after SIGTERM",
                    self.org
                )
            });
        assert!(
            exited.success(),
            "{} exited with {exited} after SIGTERM: {}",
            self.org,
            self.stderr()
        );
    }
}

impl Drop for MeshNode {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The HTTP client of the harness (30 s timeout).
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Three member nodes, fully meshed (directly, or through one proxy per direction).
pub struct Mesh {
    /// The nodes, in [`ORGS`] order; declared first so they die before the directory goes.
    pub nodes: Vec<MeshNode>,
    /// `proxies[i][j]`: the proxy node `i` dials node `j` through (`None` on the diagonal or
    /// without proxies).
    pub proxies: Vec<Vec<Option<Proxy>>>,
    /// The genesis file.
    pub genesis: PathBuf,
    /// The network id, hex.
    pub network_id: String,
    /// The CLI.
    pub cli: Cli,
    /// The test directory.
    pub dir: TestDir,
}

impl Mesh {
    /// Keys, genesis, and three started nodes; with `proxied`, every dial between nodes goes
    /// through a [`Proxy`].
    #[track_caller]
    pub fn start(test_name: &str, proxied: bool) -> Mesh {
        let dir = TestDir::new(test_name);
        let cli = Cli::new(dir.path());
        let genesis = make_genesis(&dir, &cli);
        let network_id = cli
            .run([
                "network",
                "init",
                "--name",
                "Mesh",
                "--members",
                path_str(&dir.join("members.json")),
                "--out",
                path_str(&genesis),
            ])
            .assert_exit(0)
            .stdout_hex32();
        let ports: Vec<u16> = ORGS.iter().map(|_| free_port()).collect();
        let proxies: Vec<Vec<Option<Proxy>>> = (0..ORGS.len())
            .map(|from| {
                (0..ORGS.len())
                    .map(|to| {
                        (proxied && from != to)
                            .then(|| Proxy::start(SocketAddr::from(([127, 0, 0, 1], ports[to]))))
                    })
                    .collect()
            })
            .collect();
        let mut nodes = Vec::new();
        for (index, org) in ORGS.iter().enumerate() {
            let mut args = first_start_args(&dir, &genesis, org, ports[index]);
            for (to, port) in ports.iter().enumerate().filter(|(to, _)| *to != index) {
                let port = proxies[index][to].as_ref().map_or(*port, Proxy::port);
                args.extend(["--bootstrap".into(), format!("/ip4/127.0.0.1/tcp/{port}")]);
            }
            nodes.push(MeshNode {
                org: org.to_string(),
                data_dir: dir.join(format!("nodes/{org}")),
                p2p_port: ports[index],
                args,
                env: Vec::new(),
                child: None,
                endpoints: None,
                starts: 0,
            });
        }
        for node in &mut nodes {
            node.start();
        }
        Mesh {
            nodes,
            proxies,
            genesis,
            network_id,
            cli,
            dir,
        }
    }

    /// Waits until every running node is connected to `peers` others.
    #[track_caller]
    pub fn wait_connected(&self, running: &[usize], peers: usize) {
        for index in running {
            let node = &self.nodes[*index];
            wait_for(
                REPLICATION_TIMEOUT,
                &format!("{} to have {peers} peers", node.org),
                || {
                    let status = node.status()?;
                    (status["peers"].as_array()?.len() == peers).then_some(())
                },
            );
        }
    }

    /// Waits until the nodes `which` report identical heads, and returns them.
    #[track_caller]
    pub fn wait_converged(&self, which: &[usize]) -> Vec<(String, u64, String)> {
        wait_for(
            REPLICATION_TIMEOUT,
            "the nodes to converge to identical heads",
            || {
                let first = self.nodes[which[0]].heads();
                let same = which
                    .iter()
                    .all(|index| self.nodes[*index].heads() == first);
                (same && !first.is_empty()).then_some(first)
            },
        )
    }

    /// Cuts (or heals) every proxied link between group `a` and group `b`.
    pub fn set_partition(&self, a: &[usize], b: &[usize], cut: bool) {
        for (from, to) in a.iter().flat_map(|x| b.iter().map(move |y| (*x, *y))) {
            for proxy in [&self.proxies[from][to], &self.proxies[to][from]]
                .into_iter()
                .flatten()
            {
                if cut {
                    proxy.cut();
                } else {
                    proxy.heal();
                }
            }
        }
    }

    /// A signing or transport key file of the test directory (`ORG.key`, `ORG.node.key`,
    /// `probe.node.key`).
    pub fn key_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("keys/{name}"))
    }

    /// Writes a new key to `keys/NAME` with `aidledger keygen` and returns its public key.
    #[track_caller]
    pub fn keygen(&self, name: &str) -> String {
        self.cli
            .run(["keygen", "--out", path_str(&self.key_file(name))])
            .assert_exit(0)
            .stdout_hex32()
    }

    /// A node (not started) for `org` with the keys `keys/ORG.key` and `keys/ORG.node.key`,
    /// listening on a free port and dialling every node of the mesh: the node of an
    /// organisation that joins after the genesis (or tries to).
    pub fn joining_node(&self, org: &str) -> MeshNode {
        let port = free_port();
        let mut args = first_start_args(&self.dir, &self.genesis, org, port);
        for node in &self.nodes {
            args.extend([
                "--bootstrap".into(),
                format!("/ip4/127.0.0.1/tcp/{}", node.p2p_port),
            ]);
        }
        let mut node = MeshNode::new(org, self.dir.join(format!("nodes/{org}")), args);
        node.p2p_port = port;
        node
    }
}

/// The first start's arguments of `org`'s node in a test directory laid out as [`Mesh`] lays it
/// out (`keys/ORG.key`, `keys/ORG.node.key`), listening for peers on `port`.
pub fn first_start_args(dir: &TestDir, genesis: &Path, org: &str, port: u16) -> Vec<String> {
    vec![
        "--genesis".into(),
        path_str(genesis).into(),
        "--org".into(),
        org.into(),
        "--key".into(),
        path_str(&dir.join(format!("keys/{org}.key"))).into(),
        "--node-key".into(),
        path_str(&dir.join(format!("keys/{org}.node.key"))).into(),
        "--listen".into(),
        format!("/ip4/127.0.0.1/tcp/{port}"),
    ]
}

/// Makes the keys and `members.json`; the auditor gets a second transport key for probes.
fn make_genesis(dir: &TestDir, cli: &Cli) -> PathBuf {
    std::fs::create_dir_all(dir.join("keys")).expect("create keys/");
    let keygen = |name: &str| {
        cli.run([
            "keygen",
            "--out",
            path_str(&dir.join(format!("keys/{name}"))),
        ])
        .assert_exit(0)
        .stdout_hex32()
    };
    let probe_key = keygen("probe.node.key");
    let roles = ["donor", "implementer", "auditor"];
    let members: Vec<Value> = ORGS
        .iter()
        .zip(roles)
        .map(|(org, role)| {
            let mut node_keys = vec![keygen(&format!("{org}.node.key"))];
            if *org == AUDITOR {
                node_keys.push(probe_key.clone());
                node_keys.sort();
            }
            serde_json::json!({
                "id": org, "name": format!("{org} office"), "roles": [role],
                "signing_keys": [keygen(&format!("{org}.key"))], "node_keys": node_keys,
            })
        })
        .collect();
    dir.write(
        "members.json",
        serde_json::to_vec_pretty(&members).expect("JSON"),
    );
    dir.join("genesis.bin")
}
