//! Reliability of real node processes on loopback: `kill -9` under load, a full disk, and a
//! peer paused for a minute. The figures of the README's "Reliability" section.
//!
//! Run (release binaries first; the bench runs them, it does not build them):
//! `cargo build --release --bins && cargo bench -p aidledger-tests --bench reliability`
//!
//! Environment (defaults in brackets):
//! - `RELIABILITY_PARTS` [`kill,disk,pause`]: which parts to run.
//! - `RELIABILITY_ROUNDS` [30]: kill -9 rounds.
//! - `RELIABILITY_CLIENTS` [4]: submitting threads in the kill -9 part (one of them sends the
//!   1 MiB statements and the key rotations).
//! - `RELIABILITY_PAUSE_SECS` [60]: how long the peer is stopped in the pause part.
//! - `RELIABILITY_DISK_MIB` [256]: size of the small filesystem of the disk-full part (more
//!   than the node's free-space reserve, `DISK_FREE_BYTES_MIN`, 128 MiB, which it never uses).
//! - `RELIABILITY_DISK_FS` [`ext4`]: `ext4` (an image on a loop device; tmpfs if that cannot be
//!   mounted) or `tmpfs`. Root is needed to mount; without it the part is skipped and says why.
//! - `AIDLEDGER_TEST_SEED`: repeat a run's random choices (kill moments); printed at start.
//! - `AIDLEDGER_KEEP_TEST_DIRS`: keep the temporary directories (logs of every node start).
//!
//! Every check that fails is printed and makes the bench exit 1 after its summary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use aidledger_process::{wait_for_polling, ChildGuard, Signal};
use aidledger_spec::record::Statement;
use aidledger_spec::{codec, Body};
use aidledger_tests::network::{first_start_args, free_port};
use aidledger_tests::{
    bin_dir, path_str, test_seed, Cli, Endpoints, Rng, TestDir, DONOR, IMPLEMENTER,
};
use serde_json::Value;

/// How long a node may take to start (write `endpoints.json`) or to exit after SIGTERM.
const NODE_WAIT: Duration = Duration::from_secs(60);
/// How long two nodes may take to converge before the bench calls it a failure.
const CONVERGE_WAIT: Duration = Duration::from_secs(120);
/// The size of the big statements: 1 MiB of text.
const BIG_TEXT_BYTES: usize = 1024 * 1024;
/// The mixed client's pause between its big statements and rotations.
const MIXED_PAUSE: Duration = Duration::from_millis(150);
/// Every how many operations of the mixed client one is a key rotation (the rest are 1 MiB).
const ROTATION_EVERY: u64 = 4;
/// A kill lands this long after the round's node came up: uniform in the range.
const KILL_AFTER_MS: (u64, u64) = (300, 3_000);
/// The steady writer of the pause part: records per second.
const PAUSE_WRITE_RATE: u64 = 50;
/// Space taken by a ballast file on the small filesystem, freed after the disk is full.
const BALLAST_BYTES: usize = 8 * 1024 * 1024;
/// The disk-full part gives up filling after this long.
const FILL_WAIT: Duration = Duration::from_secs(180);

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let parts = std::env::var("RELIABILITY_PARTS").unwrap_or_else(|_| "kill,disk,pause".into());
    let rounds = env_u64("RELIABILITY_ROUNDS", 30);
    let clients = env_u64("RELIABILITY_CLIENTS", 4).max(2) as usize;
    let pause = Duration::from_secs(env_u64("RELIABILITY_PAUSE_SECS", 60));
    let disk_mib = env_u64("RELIABILITY_DISK_MIB", 256);
    for binary in ["aidledger-node", "aidledger"] {
        let path = bin_dir().join(binary);
        if !path.is_file() {
            eprintln!(
                "reliability: {} is missing: run `cargo build --release --bins` first",
                path.display()
            );
            std::process::exit(2);
        }
    }
    let seed = test_seed();
    println!(
        "reliability: {} cores, binaries in {}, seed {seed}",
        thread::available_parallelism().map_or(0, |n| n.get()),
        bin_dir().display()
    );
    let mut report = Report::default();
    let started = Instant::now();
    if parts.contains("kill") {
        kill_rounds(&mut report, rounds, clients, seed);
    }
    if parts.contains("disk") {
        let tmpfs_only = std::env::var("RELIABILITY_DISK_FS").is_ok_and(|fs| fs == "tmpfs");
        disk_full(&mut report, disk_mib, tmpfs_only);
    }
    if parts.contains("pause") {
        paused_peer(&mut report, pause);
    }
    println!("\n== summary ({:.0?} in all) ==", started.elapsed());
    for line in &report.lines {
        println!("{line}");
    }
    if report.failures.is_empty() {
        println!("all checks passed");
    } else {
        println!("{} FAILED CHECKS:", report.failures.len());
        for failure in &report.failures {
            println!("  FAILED: {failure}");
        }
        std::process::exit(1);
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
        Err(_) => default,
    }
}

#[derive(Default)]
struct Report {
    lines: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    fn line(&mut self, line: String) {
        println!("{line}");
        self.lines.push(line);
    }

    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            let what = what.into();
            println!("FAILED: {what}");
            self.failures.push(what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Network set-up and node processes.

/// Keys, members and genesis for the donor and the implementer in `dir`.
fn make_network(dir: &TestDir, cli: &Cli) -> PathBuf {
    fs::create_dir_all(dir.join("keys")).expect("create keys/");
    let keygen = |name: &str| {
        cli.run([
            "keygen",
            "--out",
            path_str(&dir.join(format!("keys/{name}"))),
        ])
        .assert_exit(0)
        .stdout_hex32()
    };
    let members: Vec<Value> = [(DONOR, "donor"), (IMPLEMENTER, "implementer")]
        .iter()
        .map(|(org, role)| {
            serde_json::json!({
                "id": org, "name": format!("{org} office"), "roles": [role],
                "signing_keys": [keygen(&format!("{org}.key"))],
                "node_keys": [keygen(&format!("{org}.node.key"))],
            })
        })
        .collect();
    let members_file = dir.write(
        "members.json",
        serde_json::to_vec_pretty(&members).expect("JSON"),
    );
    let genesis = dir.join("genesis.bin");
    cli.run([
        "network",
        "init",
        "--name",
        "Reliability",
        "--members",
        path_str(&members_file),
        "--out",
        path_str(&genesis),
    ])
    .assert_exit(0);
    genesis
}

/// A network in a new test directory with the donor's node (the writer) and the implementer's
/// (its peer), each bootstrapping to the other; neither started.
fn writer_and_peer(name: &str) -> (TestDir, Cli, Node, Node) {
    let dir = TestDir::new(name);
    let cli = Cli::new(dir.path());
    let genesis = make_network(&dir, &cli);
    let mut writer = Node::new(&dir, &genesis, DONOR, dir.join("nodes/writer"));
    let mut peer = Node::new(&dir, &genesis, IMPLEMENTER, dir.join("nodes/peer"));
    writer.bootstrap(&peer);
    peer.bootstrap(&writer);
    (dir, cli, writer, peer)
}

/// An `aidledger-node` process: the first start gets the full arguments, later starts only
/// `--data-dir` (the saved config keeps `--listen` and `--bootstrap`; a rotated key lives in the
/// data directory). Killed when dropped.
struct Node {
    name: String,
    data_dir: PathBuf,
    logs: PathBuf,
    first_args: Vec<String>,
    p2p_port: u16,
    starts: u32,
    child: Option<ChildGuard>,
    endpoints: Option<Endpoints>,
    http: reqwest::blocking::Client,
}

impl Node {
    fn new(dir: &TestDir, genesis: &Path, org: &str, data_dir: PathBuf) -> Node {
        let p2p_port = free_port();
        let first_args = first_start_args(dir, genesis, org, p2p_port);
        let logs = dir.join("logs");
        fs::create_dir_all(&logs).expect("create logs/");
        Node {
            name: org.to_string(),
            data_dir,
            logs,
            first_args,
            p2p_port,
            starts: 0,
            child: None,
            endpoints: None,
            http: http_client(),
        }
    }

    fn bootstrap(&mut self, other: &Node) {
        self.first_args.extend([
            "--bootstrap".into(),
            format!("/ip4/127.0.0.1/tcp/{}", other.p2p_port),
        ]);
    }

    /// Starts the process; returns how long it took to write its endpoints.
    fn start(&mut self) -> Duration {
        assert!(self.child.is_none(), "{} is already running", self.name);
        self.starts += 1;
        let log = |stream: &str| {
            let path = self
                .logs
                .join(format!("{}.{}.{stream}", self.name, self.starts));
            fs::File::create(path).expect("create a node log")
        };
        let mut command = Command::new(bin_dir().join("aidledger-node"));
        command.arg("--data-dir").arg(&self.data_dir);
        if self.starts == 1 {
            command.args(&self.first_args);
        }
        command
            .stdin(Stdio::null())
            .stdout(log("stdout"))
            .stderr(log("stderr"));
        let started = Instant::now();
        let mut child = ChildGuard::new(command.spawn().expect("start aidledger-node"));
        let pid = child.id();
        let endpoints = wait_for_polling(NODE_WAIT, "the node to start", START_POLL_PAUSE, || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{} exited during start-up ({status}): {}",
                    self.name,
                    self.stderr()
                );
            }
            Endpoints::read(&self.data_dir).filter(|endpoints| endpoints.pid == pid)
        });
        // On a panic the guard kills the child.
        let endpoints = endpoints
            .unwrap_or_else(|_| panic!("{} did not start within {NODE_WAIT:?}", self.name));
        self.endpoints = Some(endpoints);
        self.child = Some(child);
        started.elapsed()
    }

    fn stderr(&self) -> String {
        let path = self
            .logs
            .join(format!("{}.{}.stderr", self.name, self.starts));
        fs::read_to_string(path).unwrap_or_default()
    }

    fn signal(&mut self, signal: Signal) {
        let child = self.child.as_mut().expect("the node is running");
        child.signal(signal).expect("signal the node");
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
        }
        self.endpoints = None;
    }

    /// SIGTERM, and the exit status (`None`: still running after [`NODE_WAIT`], then killed).
    fn terminate(&mut self) -> Option<ExitStatus> {
        self.terminate_within(NODE_WAIT)
    }

    /// SIGTERM, and the exit status (`None`: still running after `wait`, then killed).
    fn terminate_within(&mut self, wait: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        self.endpoints = None;
        child.terminate(wait).ok().flatten()
    }

    fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    fn endpoints(&self) -> &Endpoints {
        self.endpoints.as_ref().expect("the node is running")
    }

    fn token(&self) -> String {
        fs::read_to_string(self.data_dir.join("submit.token"))
            .expect("read submit.token")
            .trim()
            .to_string()
    }

    /// `GET /api/status` (public), `None` when it does not answer.
    fn public_status(&self) -> Option<Value> {
        let url = format!("{}/api/status", self.endpoints.as_ref()?.public);
        self.http.get(url).send().ok()?.json().ok()
    }

    /// `GET /v1/status` (submit API), `None` when it does not answer.
    fn submit_status(&self) -> Option<Value> {
        let url = format!("{}/v1/status", self.endpoints.as_ref()?.submit);
        self.http
            .get(url)
            .bearer_auth(self.token())
            .send()
            .ok()?
            .json()
            .ok()
    }

    /// The head seq of `org`'s chain as this node holds it (`None`: no answer or no chain).
    fn head_seq(&self, org: &str) -> Option<u64> {
        let status = self.public_status()?;
        status["heads"]
            .as_array()?
            .iter()
            .find(|head| head["org"] == org)?["seq"]
            .as_u64()
    }

    /// Heads as (org, seq, id), sorted; empty when the node does not answer.
    fn heads(&self) -> Vec<(String, u64, String)> {
        let Some(status) = self.public_status() else {
            return Vec::new();
        };
        let mut heads: Vec<_> = status["heads"]
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
            .collect();
        heads.sort();
        heads
    }

    /// Whether the node holds record `id` (`HEAD /api/records/{id}`).
    fn has_record(&self, id: &str) -> bool {
        let url = format!("{}/api/records/{id}", self.endpoints().public);
        // A lookup may meet a busy node: retry a few times before calling the record absent.
        (0..3).any(|attempt| {
            if attempt > 0 {
                thread::sleep(Duration::from_millis(100));
            }
            self.http
                .head(&url)
                .send()
                .is_ok_and(|response| response.status().is_success())
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // SIGKILL ends a stopped process too; SIGCONT first all the same, so that a failed
            // run never leaves a stopped node behind.
            let _ = child.signal(Signal::CONT);
        }
        self.kill9();
    }
}

/// Every request of the bench gives up after this long (a 1 MiB submit takes milliseconds).
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("HTTP client")
}

fn statement(tag: &str, text_bytes: usize) -> Vec<u8> {
    let mut text = format!("{tag} ");
    while text.len() < text_bytes {
        text.push_str("reliability bench filler text; ");
    }
    text.truncate(text_bytes.max(tag.len()));
    codec::encode(&Body::Statement(Statement {
        title: "reliability".into(),
        language: "en".into(),
        text,
    }))
}

/// How finely the bench polls what it times (a catch-up, a convergence): the shared wait
/// helper's default step (up to 50 ms) would blur the figures.
const MEASURE_POLL_PAUSE: Duration = Duration::from_millis(5);
/// How often a starting node is checked (its start time is one of the figures).
const START_POLL_PAUSE: Duration = Duration::from_millis(2);

/// Polls `probe` finely until it yields a value; `None` after `timeout`.
fn wait_for<T>(timeout: Duration, what: &str, probe: impl FnMut() -> Option<T>) -> Option<T> {
    wait_for_polling(timeout, what, MEASURE_POLL_PAUSE, probe).ok()
}

/// Waits until `a` and `b` report identical, non-empty heads.
fn converge(a: &Node, b: &Node, timeout: Duration) -> Option<Vec<(String, u64, String)>> {
    wait_for(timeout, "the same heads on both nodes", || {
        let heads = a.heads();
        (!heads.is_empty() && heads == b.heads()).then_some(heads)
    })
}

/// `aidledger verify --data-dir DIR --json` of a stopped node: (valid, records, problems).
fn verify_data_dir(cli: &Cli, data_dir: &Path) -> (bool, u64, String) {
    let output = cli.run(["verify", "--data-dir", path_str(data_dir), "--json"]);
    let Ok(report) = serde_json::from_str::<Value>(output.stdout()) else {
        return (false, 0, output.describe());
    };
    let records = ["records", "record_count", "records_checked"]
        .iter()
        .find_map(|key| report[*key].as_u64())
        .unwrap_or(0);
    (
        report["valid"] == Value::Bool(true) && output.code() == Some(0),
        records,
        format!("exit {:?}, problems {}", output.code(), report["problems"]),
    )
}

// ---------------------------------------------------------------------------------------------
// Part 1: kill -9 under load.

#[derive(Clone, Copy, Debug, PartialEq)]
enum AckKind {
    Small,
    Big,
    Rotation,
}

struct Ack {
    id: String,
    kind: AckKind,
}

#[derive(Clone)]
struct Target {
    submit: String,
    token: String,
}

#[derive(Default)]
struct Load {
    target: RwLock<Option<Target>>,
    acks: Mutex<Vec<Ack>>,
    stop: AtomicBool,
    in_flight: AtomicUsize,
    unavailable: AtomicU64,
    failed_in_flight: AtomicU64,
    refused: AtomicU64,
    refusals: Mutex<Vec<String>>,
}

impl Load {
    /// One client: small statements, or (`mixed`) 1 MiB statements and key rotations.
    fn client(&self, index: usize, mixed: bool) {
        let http = http_client();
        let mut operation = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            let target = self.target.read().expect("target lock").clone();
            let Some(target) = target else {
                thread::sleep(Duration::from_millis(5));
                continue;
            };
            operation += 1;
            let kind = match (mixed, operation % ROTATION_EVERY) {
                (false, _) => AckKind::Small,
                (true, 0) => AckKind::Rotation,
                (true, _) => AckKind::Big,
            };
            let request = match kind {
                AckKind::Rotation => http.post(format!("{}/v1/key/rotate", target.submit)),
                AckKind::Small | AckKind::Big => {
                    let text_bytes = if kind == AckKind::Big {
                        BIG_TEXT_BYTES
                    } else {
                        300
                    };
                    http.post(format!("{}/v1/records", target.submit))
                        .header("content-type", "application/octet-stream")
                        .body(statement(
                            &format!("client {index} op {operation}"),
                            text_bytes,
                        ))
                }
            };
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let answer = request
                .bearer_auth(&target.token)
                .send()
                .and_then(|response| {
                    let status = response.status().as_u16();
                    response.text().map(|text| (status, text))
                });
            match answer {
                Ok((200, text)) => {
                    let id = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|value| value["id"].as_str().map(str::to_string));
                    match id {
                        Some(id) => self.acks.lock().expect("acks lock").push(Ack { id, kind }),
                        None => self.refuse(format!("200 without an id: {text}")),
                    }
                }
                Ok((401 | 503, _)) => {
                    self.unavailable.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(20));
                }
                Ok((status, text)) => {
                    self.refuse(format!("{status}: {text}"));
                    thread::sleep(Duration::from_millis(20));
                }
                Err(_) => {
                    self.failed_in_flight.fetch_add(1, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(5));
                }
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if mixed {
                thread::sleep(MIXED_PAUSE);
            }
        }
    }

    fn refuse(&self, message: String) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let mut refusals = self.refusals.lock().expect("refusals lock");
        if refusals.len() < 5 {
            refusals.push(message);
        }
    }
}

fn kill_rounds(report: &mut Report, rounds: u64, clients: usize, seed: u64) {
    println!(
        "\n== kill -9 under load: {rounds} rounds, {clients} clients (1 of them: 1 MiB statements and key rotations) =="
    );
    let (_dir, cli, mut writer, mut peer) = writer_and_peer("reliability-kill");
    peer.start();
    let load = Arc::new(Load::default());
    let threads: Vec<_> = (0..clients)
        .map(|index| {
            let load = Arc::clone(&load);
            thread::spawn(move || load.client(index, index == 0))
        })
        .collect();
    let mut rng = Rng::new(seed);
    let mut checked = 0usize;
    let mut missing_after_restarts = 0usize;
    let mut restart_times = Vec::new();
    let started = Instant::now();
    for round in 1..=rounds {
        restart_times.push(writer.start());
        // Every record acknowledged before this start must be on the node now.
        let acks_before: Vec<String> = {
            let acks = load.acks.lock().expect("acks lock");
            acks[checked..].iter().map(|ack| ack.id.clone()).collect()
        };
        let missing: Vec<&String> = acks_before
            .iter()
            .filter(|id| !writer.has_record(id))
            .collect();
        missing_after_restarts += missing.len();
        report.check(
            missing.is_empty(),
            format!(
                "kill round {round}: {} acknowledged records missing after the restart, e.g. {:?}",
                missing.len(),
                missing.first()
            ),
        );
        checked += acks_before.len();
        *load.target.write().expect("target lock") = Some(Target {
            submit: writer.endpoints().submit.clone(),
            token: writer.token(),
        });
        let kill_after = KILL_AFTER_MS.0 + rng.below(KILL_AFTER_MS.1 - KILL_AFTER_MS.0);
        thread::sleep(Duration::from_millis(kill_after));
        writer.kill9();
        *load.target.write().expect("target lock") = None;
        // Wait for the requests that were in flight at the kill to come back (they fail).
        wait_for(
            Duration::from_secs(35),
            "the requests in flight to end",
            || (load.in_flight.load(Ordering::SeqCst) == 0).then_some(()),
        );
        let total = load.acks.lock().expect("acks lock").len();
        println!(
            "round {round:>3}: killed after {kill_after:>4} ms; {:>6} acknowledged in the round, {total:>7} in all",
            total - checked
        );
    }
    load.stop.store(true, Ordering::SeqCst);
    for thread in threads {
        thread.join().expect("client thread");
    }
    // The last round's acknowledgements, and every one again on both nodes at the end.
    writer.start();
    let acks: Vec<(String, AckKind)> = load
        .acks
        .lock()
        .expect("acks lock")
        .iter()
        .map(|ack| (ack.id.clone(), ack.kind))
        .collect();
    let load_time = started.elapsed();
    let heads = converge(&writer, &peer, CONVERGE_WAIT);
    report.check(
        heads.is_some(),
        "kill: the peer did not reach the writer's heads",
    );
    let check_started = Instant::now();
    let missing_last = acks[checked..]
        .iter()
        .filter(|(id, _)| !writer.has_record(id))
        .count();
    missing_after_restarts += missing_last;
    report.check(
        missing_last == 0,
        format!(
            "kill: {missing_last} acknowledged records of the last round missing after the restart"
        ),
    );
    let missing_writer = acks.iter().filter(|(id, _)| !writer.has_record(id)).count();
    let missing_peer = acks.iter().filter(|(id, _)| !peer.has_record(id)).count();
    let lost = missing_after_restarts.max(missing_writer);
    report.check(
        missing_writer == 0,
        format!("kill: {missing_writer} acknowledged records missing on the writer at the end"),
    );
    report.check(
        missing_peer == 0,
        format!("kill: {missing_peer} acknowledged records missing on the peer at the end"),
    );
    let forks: Vec<String> = [&writer, &peer]
        .iter()
        .filter_map(|node| node.public_status())
        .map(|status| status["forks"].to_string())
        .collect();
    let no_forks = forks.len() == 2 && forks.iter().all(|forks| forks == "[]");
    report.check(no_forks, format!("kill: forks reported: {forks:?}"));
    let writer_records = writer.submit_status().and_then(|s| s["records"].as_u64());
    let writer_exit = writer.terminate();
    let peer_exit = peer.terminate();
    report.check(
        writer_exit.is_some_and(|status| status.success())
            && peer_exit.is_some_and(|status| status.success()),
        format!("kill: SIGTERM at the end: writer {writer_exit:?}, peer {peer_exit:?}"),
    );
    let (writer_valid, _, writer_problems) = verify_data_dir(&cli, &writer.data_dir);
    let (peer_valid, _, peer_problems) = verify_data_dir(&cli, &peer.data_dir);
    report.check(
        writer_valid,
        format!("kill: verify of the writer's data dir: {writer_problems}"),
    );
    report.check(
        peer_valid,
        format!("kill: verify of the peer's data dir: {peer_problems}"),
    );
    let count = |kind: AckKind| acks.iter().filter(|(_, k)| *k == kind).count();
    restart_times.sort_unstable();
    let restart_median = restart_times[restart_times.len() / 2];
    let restart_max = restart_times.last().copied().unwrap_or_default();
    let refusals = load.refusals.lock().expect("refusals lock").clone();
    report.check(
        refusals.is_empty(),
        format!("kill: submits refused: {refusals:?}"),
    );
    report.line(format!(
        "kill -9: {rounds} rounds in {load_time:.0?}, {} acknowledged records ({} small statements, {} of 1 MiB, {} key rotations); lost: {lost} (missing after a restart: {missing_after_restarts}; at the end, on the writer: {missing_writer}, on the peer: {missing_peer})",
        acks.len(),
        count(AckKind::Small),
        count(AckKind::Big),
        count(AckKind::Rotation),
    ));
    report.line(format!(
        "kill -9: requests cut by the kills: {}, answered 503/401 while restarting: {}, refused otherwise: {}; restart to endpoints: median {restart_median:.0?}, max {restart_max:.0?}",
        load.failed_in_flight.load(Ordering::Relaxed),
        load.unavailable.load(Ordering::Relaxed),
        load.refused.load(Ordering::Relaxed),
    ));
    report.line(format!(
        "kill -9: writer holds {} records; peer converged to the same heads: {}; forks: none = {no_forks}; verify --data-dir: writer {}, peer {}; final presence check of every ack on both nodes took {:.1?}",
        writer_records.map_or("?".into(), |n| n.to_string()),
        heads.is_some(),
        if writer_valid { "VALID" } else { "INVALID" },
        if peer_valid { "VALID" } else { "INVALID" },
        check_started.elapsed(),
    ));
}

// ---------------------------------------------------------------------------------------------
// Part 2: a full disk.

/// A filesystem mounted for the bench, unmounted when dropped (also on a panic).
struct Mount {
    point: PathBuf,
}

impl Drop for Mount {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.point)
            .status()
            .is_ok_and(|status| status.success());
        if !unmounted {
            let _ = Command::new("umount").arg("-l").arg(&self.point).status();
        }
    }
}

/// Mounts a `size_mib` ext4 image (loop device), or else a tmpfs of that size, at `point`.
fn mount_small_fs(
    dir: &TestDir,
    point: &Path,
    size_mib: u64,
    tmpfs_only: bool,
) -> Result<(Mount, String), String> {
    fs::create_dir_all(point).map_err(|error| format!("create the mount point: {error}"))?;
    let run = |program: &str, args: &[&str]| -> Result<(), String> {
        let output = Command::new(program)
            .args(args)
            .output()
            .map_err(|error| format!("{program}: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    };
    let image = dir.join("small.img");
    let image_str = path_str(&image);
    let point_str = path_str(point);
    let ext4 = if tmpfs_only {
        Err("RELIABILITY_DISK_FS=tmpfs".to_string())
    } else {
        fs::File::create(&image)
            .and_then(|file| file.set_len(size_mib * 1024 * 1024))
            .map_err(|error| format!("create the image: {error}"))
            .and_then(|()| run("mkfs.ext4", &["-q", "-F", image_str]))
            .and_then(|()| run("mount", &["-o", "loop", image_str, point_str]))
    };
    match ext4 {
        Ok(()) => Ok((
            Mount {
                point: point.to_path_buf(),
            },
            format!("ext4 on a loop device, {size_mib} MiB"),
        )),
        Err(ext4_error) => {
            let size = format!("size={size_mib}m");
            run("mount", &["-t", "tmpfs", "-o", &size, "tmpfs", point_str])
                .map(|()| {
                    (
                        Mount {
                            point: point.to_path_buf(),
                        },
                        format!("tmpfs, {size_mib} MiB (not ext4: {ext4_error})"),
                    )
                })
                .map_err(|tmpfs_error| format!("{ext4_error}; {tmpfs_error}"))
        }
    }
}

fn disk_full(report: &mut Report, size_mib: u64, tmpfs_only: bool) {
    println!("\n== disk full ==");
    let dir = TestDir::new("reliability-disk");
    let cli = Cli::new(dir.path());
    let genesis = make_network(&dir, &cli);
    let point = dir.join("small");
    let (mount, filesystem) = match mount_small_fs(&dir, &point, size_mib, tmpfs_only) {
        Ok(mounted) => mounted,
        Err(reason) => {
            report.line(format!(
                "disk full: SKIPPED, no small filesystem could be mounted: {reason}"
            ));
            return;
        }
    };
    println!("disk full: data directory on {filesystem}");
    let ballast = point.join("ballast");
    fs::write(&ballast, vec![0x5a; BALLAST_BYTES]).expect("write the ballast file");
    fs::File::open(&ballast)
        .and_then(|file| file.sync_all())
        .expect("fsync the ballast file");
    let mut node = Node::new(&dir, &genesis, DONOR, point.join("node"));
    node.start();
    let load = Arc::new(Load::default());
    *load.target.write().expect("target lock") = Some(Target {
        submit: node.endpoints().submit.clone(),
        token: node.token(),
    });
    let threads: Vec<_> = (0..3)
        .map(|index| {
            let load = Arc::clone(&load);
            thread::spawn(move || load.client(index, index == 0))
        })
        .collect();
    let fill_started = Instant::now();
    // Full: the node says it stopped taking records, or has answered only errors for 5 s.
    let mut last_acks = (0, Instant::now());
    let mut stopped_status = None;
    let mut answering = true;
    while fill_started.elapsed() < FILL_WAIT {
        thread::sleep(Duration::from_millis(100));
        if !node.is_running() {
            break;
        }
        let acks = load.acks.lock().expect("acks lock").len();
        if acks != last_acks.0 {
            last_acks = (acks, Instant::now());
        }
        let status = node.submit_status();
        if status.is_none() {
            // No answer within HTTP_TIMEOUT from a running node: it hangs.
            answering = false;
            break;
        }
        if status
            .as_ref()
            .is_some_and(|status| status["accepting_records"] == Value::Bool(false))
        {
            stopped_status = status;
            break;
        }
        if last_acks.1.elapsed() > Duration::from_secs(5) && acks > 0 {
            stopped_status = status;
            break;
        }
    }
    let fill_time = fill_started.elapsed();
    // A few more tries against the full disk, then stop the clients.
    thread::sleep(Duration::from_secs(2));
    load.stop.store(true, Ordering::SeqCst);
    for thread in threads {
        thread.join().expect("client thread");
    }
    let running = node.is_running();
    answering = answering && running && node.submit_status().is_some();
    let acks: Vec<(String, AckKind)> = load
        .acks
        .lock()
        .expect("acks lock")
        .iter()
        .map(|ack| (ack.id.clone(), ack.kind))
        .collect();
    let refusals = load.refusals.lock().expect("refusals lock").clone();
    let disk_free = Command::new("df")
        .arg("-k")
        .arg(&point)
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default();
    println!("disk full: df after filling:\n{disk_free}");
    println!(
        "disk full: {} acknowledged in {fill_time:.1?}; refused: {} (first: {refusals:?}); node running: {running}, answering: {answering}",
        acks.len(),
        load.refused.load(Ordering::Relaxed)
    );
    println!(
        "disk full: /v1/status: {}",
        stopped_status.clone().unwrap_or(Value::Null)
    );
    report.check(
        running,
        "disk full: the node process died while the disk was full",
    );
    report.check(
        answering,
        format!(
            "disk full: the node stopped answering its APIs (no answer to GET /v1/status within {HTTP_TIMEOUT:?})"
        ),
    );
    // The node keeps a free-space reserve: it refuses new records (507, "the disk is nearly
    // full") and goes on, rather than letting sled meet the full disk.
    let stopped = stopped_status
        .as_ref()
        .is_some_and(|status| status["accepting_records"] == Value::Bool(false));
    let refused_for_space = refusals
        .iter()
        .any(|refusal| refusal.contains("507") || refusal.contains("nearly full"));
    report.check(
        refused_for_space && !stopped,
        format!(
            "disk full: the node did not refuse new records for the free-space reserve and go on (stopped: {stopped}, refusals: {refusals:?})"
        ),
    );
    let writer_failure = stopped_status
        .as_ref()
        .map(|status| status["writer_failure"].to_string())
        .unwrap_or_default();
    // Still full: one more submit is refused with an answer, not a hang.
    let refused_now = answering && {
        let answer = http_client()
            .post(format!("{}/v1/records", node.endpoints().submit))
            .bearer_auth(node.token())
            .header("content-type", "application/octet-stream")
            .body(statement("after full", 300))
            .send();
        match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                println!(
                    "disk full: a submit on the full disk: {status} {}",
                    response.text().unwrap_or_default()
                );
                status != 200
            }
            Err(error) => {
                println!("disk full: a submit on the full disk failed: {error}");
                false
            }
        }
    };
    report.check(
        refused_now,
        "disk full: a submit on the full disk was not refused cleanly",
    );
    let missing_full = answering.then(|| {
        let missing: Vec<&(String, AckKind)> =
            acks.iter().filter(|(id, _)| !node.has_record(id)).collect();
        for (id, kind) in missing.iter().take(3) {
            let answer = node
                .http
                .get(format!("{}/api/records/{id}", node.endpoints().public))
                .send()
                .map(|response| {
                    let status = response.status().as_u16();
                    let text = response.text().unwrap_or_default();
                    format!("{status} {}", text.chars().take(300).collect::<String>())
                });
            println!(
                "disk full: acknowledged {kind:?} record {id} not readable while full: {answer:?}"
            );
        }
        missing.len()
    });
    report.check(
        missing_full.is_none_or(|missing| missing == 0),
        format!("disk full: {missing_full:?} acknowledged records not readable on the full node"),
    );
    // Free space, stop, restart: everything acknowledged is there and the node writes again.
    fs::remove_file(&ballast).expect("remove the ballast file");
    let full_exit = node.terminate_within(Duration::from_secs(20));
    println!("disk full: SIGTERM of the stopped node: {full_exit:?}");
    // INTERFACES: exit 1 after a storage failure; a node that never exits needs a kill -9.
    report.check(
        full_exit.is_some(),
        "disk full: the stopped node did not exit within 20 s of SIGTERM (killed with SIGKILL)",
    );
    let restart_time = node.start();
    let missing_after = acks.iter().filter(|(id, _)| !node.has_record(id)).count();
    report.check(
        missing_after == 0,
        format!("disk full: {missing_after} acknowledged records missing after the restart"),
    );
    let again = node
        .http
        .post(format!("{}/v1/records", node.endpoints().submit))
        .bearer_auth(node.token())
        .header("content-type", "application/octet-stream")
        .body(statement("after space was freed", 300))
        .send()
        .map(|response| response.status().as_u16());
    report.check(
        matches!(again, Ok(200)),
        format!("disk full: a submit after freeing space and restarting: {again:?}"),
    );
    let clean_exit = node.terminate();
    report.check(
        clean_exit.is_some_and(|status| status.success()),
        format!("disk full: SIGTERM after the restart: {clean_exit:?}"),
    );
    let (valid, _, problems) = verify_data_dir(&cli, &node.data_dir);
    report.check(valid, format!("disk full: verify --data-dir: {problems}"));
    report.line(format!(
        "disk full ({filesystem}): filled in {fill_time:.1?} with {} acknowledged records; writer stopped: {stopped} ({writer_failure}); process alive: {running}, APIs answering: {answering}; acknowledged records missing: {} while full, {missing_after} after freeing {} MiB and restarting (in {restart_time:.0?}); SIGTERM while stopped: {}; a new submit after the restart: {again:?}; verify --data-dir: {}",
        acks.len(),
        missing_full.map_or("not checkable".into(), |missing| missing.to_string()),
        BALLAST_BYTES / (1024 * 1024),
        full_exit.map_or("no exit within 20 s, killed".into(), |status| status.to_string()),
        if valid { "VALID" } else { "INVALID" },
    ));
    drop(node);
    drop(mount);
}

// ---------------------------------------------------------------------------------------------
// Part 3: a peer paused (SIGSTOP) and a peer stopped (SIGTERM), then resumed.

fn paused_peer(report: &mut Report, pause: Duration) {
    println!("\n== catch-up after a pause of {pause:?} ==");
    let (_dir, _cli, mut writer, mut peer) = writer_and_peer("reliability-pause");
    writer.start();
    peer.start();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let steady = {
        let (submit, token) = (writer.endpoints().submit.clone(), writer.token());
        let (stop, written) = (Arc::clone(&stop), Arc::clone(&written));
        thread::spawn(move || {
            let http = http_client();
            let period = Duration::from_micros(1_000_000 / PAUSE_WRITE_RATE);
            let mut next = Instant::now();
            let mut index = 0u64;
            while !stop.load(Ordering::SeqCst) {
                index += 1;
                let ok = http
                    .post(format!("{submit}/v1/records"))
                    .bearer_auth(&token)
                    .header("content-type", "application/octet-stream")
                    .body(statement(&format!("steady {index}"), 300))
                    .send()
                    .is_ok_and(|response| response.status().is_success());
                if ok {
                    written.fetch_add(1, Ordering::Relaxed);
                }
                next += period;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    thread::sleep(wait);
                }
            }
        })
    };
    thread::sleep(Duration::from_secs(3));
    let warm = converge(&writer, &peer, CONVERGE_WAIT);
    report.check(
        warm.is_some(),
        "pause: the nodes did not converge before the pause",
    );
    for how in ["SIGSTOP/SIGCONT", "SIGTERM/restart"] {
        let before = peer.head_seq(DONOR).unwrap_or(0);
        if how.starts_with("SIGSTOP") {
            peer.signal(Signal::STOP);
        } else {
            let exit = peer.terminate();
            report.check(
                exit.is_some_and(|status| status.success()),
                format!("pause: SIGTERM of the peer: {exit:?}"),
            );
        }
        let written_before = written.load(Ordering::Relaxed);
        thread::sleep(pause);
        let target = writer.head_seq(DONOR).unwrap_or(0);
        let resumed = Instant::now();
        let start_time = if how.starts_with("SIGSTOP") {
            peer.signal(Signal::CONT);
            None
        } else {
            Some(peer.start())
        };
        let reached = wait_for(CONVERGE_WAIT, "the peer to reach the writer's head", || {
            (peer.head_seq(DONOR)? >= target).then(|| resumed.elapsed())
        });
        let equal = converge(&writer, &peer, CONVERGE_WAIT).map(|_| resumed.elapsed());
        report.check(
            reached.is_some() && equal.is_some(),
            format!("pause ({how}): the peer did not catch up within {CONVERGE_WAIT:?}"),
        );
        report.line(format!(
            "pause ({how}, {pause:?}, writer at {PAUSE_WRITE_RATE} records/s): {} records written meanwhile, peer {} behind at resume; it held the writer's head of the resume moment {} after resuming{}, and the same heads as the live writer {} after",
            written.load(Ordering::Relaxed) - written_before,
            target.saturating_sub(before),
            reached.map_or("never".into(), |t| format!("{t:.2?}")),
            start_time.map_or(String::new(), |t| format!(" (of which {t:.2?} to start)")),
            equal.map_or("never".into(), |t| format!("{t:.2?}")),
        ));
    }
    stop.store(true, Ordering::SeqCst);
    steady.join().expect("steady writer");
    let forks: Vec<String> = [&writer, &peer]
        .iter()
        .filter_map(|node| node.public_status())
        .map(|status| status["forks"].to_string())
        .collect();
    report.check(
        forks.len() == 2 && forks.iter().all(|forks| forks == "[]"),
        format!("pause: forks reported: {forks:?}"),
    );
    writer.terminate();
    peer.terminate();
}
