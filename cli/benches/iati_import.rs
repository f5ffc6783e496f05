//! IATI import throughput end to end: the real `aidledger iati import` (release) into a real
//! `aidledger-node` (release, built by this bench), every record signed and durably stored
//! before the import ends. Prints MB/s of XML and transactions/s.
//!
//! The input is real data made bigger: the FCDO file of the shared data set
//! (`../shared/data/iati/covid19-dportal/fcdo_GB-GOV-1.xml`, ~1.5 KB of XML per transaction)
//! repeated with `-copyN` appended to every activity id, so that every transaction is new.
//! `AIDLEDGER_BENCH_IATI_MB` sets the size (default 100 MB). Files and node data live under
//! target/aidledger-bench/. `AIDLEDGER_BENCH_NODE=FILE` runs that `aidledger-node` binary
//! instead of building one (to compare two builds in alternating runs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Default size of the generated XML.
const DEFAULT_MB: u64 = 100;
/// How long the node may take to write its endpoints file.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(30);
const ORG: &str = "GB-GOV-1";

fn main() {
    let megabytes: u64 = std::env::var("AIDLEDGER_BENCH_IATI_MB")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_MB);
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = workspace.join("target/aidledger-bench/iati");
    let _ = std::fs::remove_dir_all(dir.join("run"));
    std::fs::create_dir_all(dir.join("run")).expect("bench directory");
    let xml = ensure_xml(&workspace, &dir, megabytes);
    let node_bin = match std::env::var_os("AIDLEDGER_BENCH_NODE") {
        Some(path) => PathBuf::from(path),
        None => build_node(&workspace),
    };
    let run = dir.join("run");
    let genesis = make_genesis(&run);
    let mut node = start_node(&node_bin, &run, &genesis);
    let size = std::fs::metadata(&xml).map(|meta| meta.len()).unwrap_or(0);
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(["iati", "import"])
        .arg(&xml)
        .arg("--data-dir")
        .arg(run.join("node"))
        .arg("--json")
        .output()
        .expect("run aidledger iati import");
    let seconds = started.elapsed().as_secs_f64();
    let _ = node.kill();
    let _ = node.wait();
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let recorded = report["files"][0]["recorded"].as_u64().unwrap_or(0);
    println!(
        "iati import: {:.1} MB, {recorded} transactions in {seconds:.2} s: {:.1} MB/s, {:.0} transactions/s (signed, durably stored)",
        size as f64 / 1e6,
        size as f64 / 1e6 / seconds,
        recorded as f64 / seconds
    );
}

/// The generated XML, made once per size.
fn ensure_xml(workspace: &Path, dir: &Path, megabytes: u64) -> PathBuf {
    let path = dir.join(format!("fcdo-x-{megabytes}MB.xml"));
    if path.exists() {
        return path;
    }
    let source = workspace.join("../shared/data/iati/covid19-dportal/fcdo_GB-GOV-1.xml");
    let text = std::fs::read_to_string(&source).expect("read the FCDO file of the shared data");
    let start = text.find("<iati-activity ").expect("an activity");
    let end = text.rfind("</iati-activities>").expect("the root's end");
    let activities = &text[start..end];
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\">\n",
    );
    let mut copy = 0;
    while (out.len() as u64) < megabytes * 1_000_000 {
        let suffix = format!("-copy{copy}</iati-identifier>");
        out.push_str(&activities.replace("</iati-identifier>", &suffix));
        copy += 1;
    }
    out.push_str("</iati-activities>\n");
    std::fs::write(&path, out).expect("write the bench XML");
    path
}

/// Builds the node binary in release (the bench profile builds only this package's bins).
fn build_node(workspace: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "aidledger-node",
            "--bin",
            "aidledger-node",
        ])
        .current_dir(workspace)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building aidledger-node failed");
    // Where cargo put it: CARGO_TARGET_DIR when set, else the workspace's target/.
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("release/aidledger-node")
}

fn make_genesis(run: &Path) -> PathBuf {
    let cli = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .args(args)
            .current_dir(run)
            .output()
            .expect("run aidledger");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let key = cli(&["keygen", "--out", "org.key"]);
    let node_key = cli(&["keygen", "--out", "node.key"]);
    let members = serde_json::json!([{
        "id": ORG, "name": "FCDO", "roles": ["donor"],
        "signing_keys": [key], "node_keys": [node_key],
    }]);
    std::fs::write(run.join("members.json"), members.to_string()).expect("members");
    cli(&[
        "network",
        "init",
        "--name",
        "bench",
        "--members",
        "members.json",
        "--out",
        "genesis.bin",
    ]);
    run.join("genesis.bin")
}

fn start_node(bin: &Path, run: &Path, genesis: &Path) -> Child {
    let child = Command::new(bin)
        .arg("--data-dir")
        .arg(run.join("node"))
        .arg("--genesis")
        .arg(genesis)
        .args(["--org", ORG, "--key"])
        .arg(run.join("org.key"))
        .args([
            "--submit-addr",
            "127.0.0.1:0",
            "--public-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aidledger-node");
    let deadline = Instant::now() + NODE_START_TIMEOUT;
    while !run.join("node/endpoints.json").exists() {
        assert!(Instant::now() < deadline, "the node did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}
