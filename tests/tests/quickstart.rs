//! The README's "Quickstart: two organisations on one machine", run as written: every ```sh
//! block between `<!-- quickstart:begin -->` and `<!-- quickstart:end -->`, joined in order and
//! run with `sh -e` in a fresh directory, with the freshly built binaries first on the `PATH`.
//! Nothing in the text is replaced: the test picks free ports through the variables the README
//! reads (`FCDO_P2P=${FCDO_P2P:-4101}` …), and waits where the README waits (its bounded
//! `retry`). Then it checks what the commands printed and left behind: the receipt acknowledging
//! the donor's disbursement, both nodes connected, `verify` VALID against the network id, the
//! implementer's node back on the same port after a restart with only `--data-dir` and connected
//! again, and both nodes stopped cleanly by the README's last block.
//!
//! The script runs in its own process group, which the test kills (SIGKILL) when it ends, pass
//! or fail, so no node the README started outlives the test.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use aidledger_tests::{bin_dir, is_hex32, test_seed, Rng, TestDir};

const BEGIN: &str = "<!-- quickstart:begin -->";
const END: &str = "<!-- quickstart:end -->";
/// The README's waits are bounded at 30 s each (five of them); the commands take seconds.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);
const DONOR: &str = "GB-GOV-1";
const IMPLEMENTER: &str = "DK-CVR-20699310";

/// The shell commands of the quickstart: the ```sh blocks between the markers, in order.
fn quickstart_blocks(readme: &str) -> Vec<String> {
    assert_eq!(readme.matches(BEGIN).count(), 1, "one {BEGIN} in README.md");
    assert_eq!(readme.matches(END).count(), 1, "one {END} in README.md");
    let start = readme.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = readme.find(END).expect("end marker");
    assert!(start < end, "{BEGIN} must come before {END}");
    let mut blocks = Vec::new();
    let mut block: Option<String> = None;
    for line in readme[start..end].lines() {
        match (&mut block, line.trim_end()) {
            (None, "```sh") => block = Some(String::new()),
            (None, fence) if fence.starts_with("```") => {
                panic!("a fenced block other than ```sh inside the quickstart: {fence:?}")
            }
            (Some(_), "```") => blocks.push(block.take().expect("an open block")),
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(
        block.is_none(),
        "a ```sh block of the quickstart is not closed"
    );
    blocks
}

/// The script's commands with backslash continuations joined, one command line each.
fn command_lines(script: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    lines
}

/// Distinct loopback ports below the usual ephemeral range (so that no outgoing connection of
/// another test takes one in the meantime), each free when chosen.
fn free_ports(count: usize) -> Vec<u16> {
    let mut rng = Rng::new(test_seed());
    let mut held = Vec::new();
    while held.len() < count {
        let port = 20_000 + u16::try_from(rng.below(12_000)).expect("below 12,000");
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            held.push((port, listener));
        }
    }
    held.into_iter().map(|(port, _)| port).collect()
}

/// The shell running the script, in a process group of its own that holds every node the
/// script starts in the background; the whole group is killed when this is dropped.
struct Script {
    child: Child,
    group: libc::pid_t,
}

impl Script {
    fn start(mut command: Command) -> Script {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command.spawn().expect("start sh");
        let group = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
        Script { child, group }
    }

    /// Waits for the shell's exit code; `None` after `timeout`.
    fn wait(&mut self, timeout: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for sh") {
                return Some(status.code());
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether any process of the group is still alive.
    fn group_alive(&self) -> bool {
        // SAFETY: signal 0 to our own process group checks existence only.
        #[allow(unsafe_code)]
        let result = unsafe { libc::kill(-self.group, 0) };
        result == 0
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        // SAFETY: SIGKILL to the process group this test created; its leader (the shell) is
        // our child, so the group id stays ours while any member lives.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(-self.group, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value after `prefix` on the line that starts with it.
#[track_caller]
fn line_value<'a>(text: &'a str, prefix: &str, context: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}\n{context}"))
        .trim()
}

/// Each `aidledger status` output in `stdout`, from its `node of` line to its `forks` line.
fn status_sections(stdout: &str) -> Vec<String> {
    let mut sections = Vec::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if line.starts_with("node of ") {
            current = Some(String::new());
        }
        if let Some(section) = &mut current {
            section.push_str(line);
            section.push('\n');
            if line.starts_with("forks") || line.starts_with("FORKED") {
                sections.push(current.take().expect("an open section"));
            }
        }
    }
    sections
}

/// The peer lines of a status section (`  ORG PEER-ID score … rejected …`).
fn peer_lines(section: &str) -> Vec<&str> {
    section
        .split("\npeers: ")
        .nth(1)
        .and_then(|rest| rest.split("\nheads:").next())
        .map(|peers| peers.lines().skip(1).collect())
        .unwrap_or_default()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| format!("(cannot read {path:?}: {error})"))
}

#[test]
fn the_readme_quickstart_runs_as_written() {
    let started = Instant::now();
    let readme_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = fs::read_to_string(&readme_path).expect("read README.md");
    let blocks = quickstart_blocks(&readme);
    assert!(
        blocks.len() >= 5,
        "expected the quickstart's blocks, found {}",
        blocks.len()
    );
    let script = blocks.concat();

    // The restart really is with only --data-dir, and the first starts name their addresses.
    let node_starts: Vec<Vec<&str>> = command_lines(&script)
        .iter()
        .filter(|line| line.trim_start().starts_with("aidledger-node "))
        .map(|line| {
            line.split_whitespace()
                .filter(|word| word.starts_with("--"))
                .map(|word| match word {
                    "--data-dir" => "--data-dir",
                    "--listen" => "--listen",
                    "--bootstrap" => "--bootstrap",
                    _ => "other",
                })
                .collect()
        })
        .collect();
    assert_eq!(node_starts.len(), 3, "two first starts and a restart");
    assert!(node_starts[0].contains(&"--listen"));
    assert!(node_starts[1].contains(&"--bootstrap"));
    assert_eq!(node_starts[2], vec!["--data-dir"], "the restart's flags");

    let dir = TestDir::new("quickstart");
    let script_path = dir.write("quickstart.sh", &script);
    let ports = free_ports(4);
    let (fcdo_p2p, fcdo_web, drc_p2p, drc_web) = (ports[0], ports[1], ports[2], ports[3]);
    let mut path = vec![bin_dir()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let stdout_path = dir.join("quickstart.stdout");
    let stderr_path = dir.join("quickstart.stderr");
    let mut command = Command::new("sh");
    command
        .arg("-e")
        .arg(&script_path)
        .current_dir(dir.path())
        .env(
            "PATH",
            std::env::join_paths(path).expect("a PATH of UTF-8 directories"),
        )
        .env_remove("AIDLEDGER_DATA_DIR")
        .env_remove("AIDLEDGER_NETWORK_ID")
        .env("NO_COLOR", "1")
        .env("FCDO_P2P", fcdo_p2p.to_string())
        .env("FCDO_WEB", fcdo_web.to_string())
        .env("DRC_P2P", drc_p2p.to_string())
        .env("DRC_WEB", drc_web.to_string())
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).expect("create the script's stdout"))
        .stderr(fs::File::create(&stderr_path).expect("create the script's stderr"));
    let mut shell = Script::start(command);
    let code = shell.wait(SCRIPT_TIMEOUT);

    let work = dir.join("quickstart");
    let fcdo_log = read(&work.join("fcdo.log"));
    let drc_log = read(&work.join("drc.log"));
    let stdout = read(&stdout_path);
    let context = format!(
        "ports: FCDO_P2P={fcdo_p2p} FCDO_WEB={fcdo_web} DRC_P2P={drc_p2p} DRC_WEB={drc_web}\n\
         --- script stdout ---\n{stdout}\n--- script stderr ---\n{}\n\
         --- fcdo.log ---\n{fcdo_log}\n--- drc.log ---\n{drc_log}",
        read(&stderr_path)
    );
    match code {
        None => panic!("the quickstart still ran after {SCRIPT_TIMEOUT:?}\n{context}"),
        Some(code) => assert_eq!(
            code,
            Some(0),
            "the quickstart did not run to its end with exit 0\n{context}"
        ),
    }
    // The README's last block stopped both nodes: nothing of the script is left running.
    assert!(
        !shell.group_alive(),
        "a process the quickstart started still runs after its last block\n{context}"
    );

    let network_id = line_value(&stdout, "network id: ", &context);
    let paid = line_value(&stdout, "disbursement: ", &context);
    let received = line_value(&stdout, "receipt: ", &context);
    for id in [network_id, paid, received] {
        assert!(is_hex32(id), "{id:?} is not an id\n{context}");
    }
    assert_ne!(paid, received);

    // members.json names every key keygen printed, node keys included.
    let members: serde_json::Value =
        serde_json::from_str(&read(&work.join("members.json"))).expect("members.json is JSON");
    for member in members.as_array().expect("a list of members") {
        for field in ["signing_keys", "node_keys"] {
            let keys = member[field].as_array().expect("a list of keys");
            assert!(
                keys.len() == 1 && keys[0].as_str().is_some_and(is_hex32),
                "{member}"
            );
        }
    }

    // The donor's node sees its disbursement acknowledged by the implementer's receipt.
    let acknowledged = stdout
        .lines()
        .find(|line| line.starts_with("acknowledged by "))
        .unwrap_or_else(|| panic!("provenance printed no acknowledgement\n{context}"));
    assert!(
        acknowledged.starts_with(&format!(
            "acknowledged by {IMPLEMENTER} seq 0: incoming-funds"
        )) && acknowledged.ends_with(&format!("({received})"))
            && acknowledged.contains(&format!("acknowledges {paid}")),
        "{acknowledged}\n{context}"
    );

    // verify against the network id: both records, VALID.
    assert!(
        stdout.contains(&format!(
            "network   {network_id} (Quickstart network), pinned: the genesis matches"
        )) && stdout.contains("records   2 read, 2 valid")
            && stdout.lines().any(|line| line == "VALID"),
        "verify did not say VALID for both records\n{context}"
    );

    // status: the donor, then the implementer before and after its restart, each with the
    // other organisation as its one peer.
    let sections = status_sections(&stdout);
    assert_eq!(sections.len(), 3, "three status outputs\n{context}");
    let (donor, before, after) = (&sections[0], &sections[1], &sections[2]);
    let expect_peer = |section: &str, own: &str, peer: &str, listen: u16| {
        assert!(
            section.starts_with(&format!("node of {own} (peer ")),
            "{section}"
        );
        assert!(
            section.contains(&format!("\nlistening on /ip4/127.0.0.1/tcp/{listen}\n")),
            "{section}"
        );
        let peers = peer_lines(section);
        assert!(
            peers.len() == 1 && peers[0].starts_with(&format!("  {peer} 12D3KooW")),
            "expected {peer} as the one peer\n{section}\n{context}"
        );
        assert!(section.contains("\nforks: none\n"), "{section}");
    };
    expect_peer(donor, DONOR, IMPLEMENTER, fcdo_p2p);
    expect_peer(before, IMPLEMENTER, DONOR, drc_p2p);
    expect_peer(after, IMPLEMENTER, DONOR, drc_p2p);
    for section in [before, after] {
        for head in [
            format!("  {DONOR} seq 0 id {paid}\n"),
            format!("  {IMPLEMENTER} seq 0 id {received}\n"),
        ] {
            assert!(section.contains(&head), "no {head:?} in\n{section}");
        }
    }
    // The same node (its key kept in the data directory) on the same port after the restart.
    assert_eq!(before.lines().next(), after.lines().next());

    // Its first start saved the addresses; the restart read them back.
    let saved: serde_json::Value =
        serde_json::from_str(&read(&work.join("drc-node/config.json"))).expect("config.json");
    assert_eq!(
        saved["listen"],
        serde_json::json!([format!("/ip4/127.0.0.1/tcp/{drc_p2p}")])
    );
    assert_eq!(
        saved["bootstrap"],
        serde_json::json!([format!("/ip4/127.0.0.1/tcp/{fcdo_p2p}")])
    );
    assert_eq!(saved["public_addr"], format!("127.0.0.1:{drc_web}"));
    // Both starts of the implementer's node, in its log: the same p2p port and public URL, and
    // a clean stop after each.
    for line in [
        format!("p2p /ip4/127.0.0.1/tcp/{drc_p2p}\n"),
        format!("public http://127.0.0.1:{drc_web}\n"),
        format!("stopped {IMPLEMENTER} on SIGTERM (exit 0, clean)\n"),
    ] {
        assert_eq!(
            drc_log.matches(&line).count(),
            2,
            "{line:?} twice in drc.log\n{context}"
        );
    }
    assert!(
        fcdo_log.contains(&format!("stopped {DONOR} on SIGTERM (exit 0, clean)\n")),
        "{context}"
    );
    eprintln!("the quickstart ran in {:?}", started.elapsed());
}
