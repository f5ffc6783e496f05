//! What an operator meets: retired signing keys removed once a rotation is durable (kept with
//! `--keep-retired-keys`), key files others can read refused, a private data directory under
//! any umask, the node's start-up lines, clear refusals from the CLI (a text over the body
//! limit, an unknown field in members.json, an `--out` naming a file of another kind), a closed
//! pipe, a demo that SIGTERM stops whole, and the store's cache setting.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use aidledger_tests::{
    assert_starts_refused, bin_path, node_command, path_str, run_with_timeout, saved_settings,
    wait_for, wait_until, Cli, Endpoints, Network, NodeProcess, TestDir, COMMAND_TIMEOUT,
    IMPLEMENTER, NODE_EXIT_TIMEOUT, NODE_START_TIMEOUT,
};

/// The kept earlier keys of a data directory (`org.key.<hex>`).
fn retired_key_files(data_dir: &Path) -> Vec<String> {
    fs::read_dir(data_dir)
        .expect("read the data directory")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.starts_with("org.key.") && !name.ends_with(".tmp"))
        .collect()
}

fn rotate(network: &Network) -> String {
    let output = network
        .cli
        .run([
            "key",
            "rotate",
            "--json",
            "--data-dir",
            &network.data_dir_arg(),
        ])
        .assert_exit(0)
        .assert_no_panic();
    output.json()["new_key"]
        .as_str()
        .expect("the rotation's new key")
        .to_owned()
}

#[test]
fn a_retired_key_file_is_removed_after_the_rotation_unless_kept() {
    let mut network = Network::start("ops_retired_keys");
    let data_dir = network.data_dir();
    // endpoints.json is written before the start-up lines are printed.
    wait_until(NODE_START_TIMEOUT, "the start-up lines", || {
        network.node.stdout_log().contains("explorer ")
    });
    let log = network.node.stdout_log();
    for line in [
        "organisation GB-GOV-1",
        "network ",
        "node-key ",
        "signing-key ",
        "explorer http://127.0.0.1:",
    ] {
        assert!(log.contains(line), "start-up lines lack {line:?}:\n{log}");
    }
    let first_key = network.organisations[0].public_key.clone();
    assert!(log.contains(&format!("signing-key {first_key}")), "{log}");

    // Kept with the flag (here from the saved settings, as a restart with only --data-dir reads them).
    network.node.terminate();
    assert!(
        network.node.logs().contains("stopped GB-GOV-1 on SIGTERM"),
        "{}",
        network.node.logs()
    );
    fs::write(
        data_dir.join("config.json"),
        r#"{"keep_retired_keys":true}"#,
    )
    .expect("write config.json");
    network.node.restart();
    rotate(&network);
    assert_eq!(
        retired_key_files(&data_dir),
        vec![format!("org.key.{first_key}")]
    );

    // Without it, the start removes what can sign nothing any more...
    network.node.terminate();
    fs::write(data_dir.join("config.json"), "{}").expect("write config.json");
    network.node.restart();
    assert_eq!(retired_key_files(&data_dir), Vec::<String>::new());
    assert!(
        network
            .node
            .logs()
            .contains("removed the retired signing key"),
        "{}",
        network.node.logs()
    );

    // ...and a rotation removes the key it retired once it is durable.
    let second_key = rotate(&network);
    assert_eq!(retired_key_files(&data_dir), Vec::<String>::new());
    network.record_transaction("10.00");
    let (code, body) = network.node.public_get("/api/status");
    assert_eq!(code, 200);
    let status: serde_json::Value = serde_json::from_slice(&body).expect("status JSON");
    assert_eq!(
        status["signing_key"].as_str(),
        Some(second_key.as_str()),
        "{status}"
    );
}

#[test]
fn the_store_cache_is_bounded_set_by_flag_or_file_and_kept_for_restarts() {
    let mut network = Network::start("ops_store_cache");
    let data_dir = network.data_dir();
    network.record_transaction("10.00");
    assert_eq!(network.node.status()["store_cache_mib"], 256);
    network.node.terminate();
    let before = saved_settings(&data_dir);

    // Outside its bounds, from the flag or a config file: refused with the bounds named, and
    // nothing saved.
    let bad_file = data_dir.with_file_name("ops_store_cache_bad.json");
    fs::write(&bad_file, r#"{"store_cache_mib": 8}"#).expect("write a config file");
    let refusals: [(Vec<&str>, String); 4] = [
        (vec!["--store-cache-mib", "15"], bounds_named(15)),
        (vec!["--store-cache-mib", "65537"], bounds_named(65_537)),
        (
            vec!["--store-cache-mib", "lots"],
            "invalid value 'lots' for '--store-cache-mib <MIB>'".to_owned(),
        ),
        (vec!["--config", path_str(&bad_file)], bounds_named(8)),
    ];
    assert_starts_refused(&data_dir, refusals);
    assert_eq!(saved_settings(&data_dir), before);

    // Set by the flag, saved, and kept by a restart with only --data-dir.
    network.node.restart_with(&["--store-cache-mib", "32"]);
    assert_eq!(network.node.status()["store_cache_mib"], 32);
    assert_eq!(network.node.record_count(), 1);
    network.node.terminate();
    assert_eq!(saved_settings(&data_dir)["store_cache_mib"], 32);
    network.node.restart();
    assert_eq!(network.node.status()["store_cache_mib"], 32);
    network.node.terminate();

    // A config file's value wins over the saved one, and a flag over both; the winner is saved.
    let file = data_dir.with_file_name("ops_store_cache.json");
    fs::write(&file, r#"{"store_cache_mib": 48}"#).expect("write a config file");
    network.node.restart_with(&["--config", path_str(&file)]);
    assert_eq!(network.node.status()["store_cache_mib"], 48);
    network.node.terminate();
    network
        .node
        .restart_with(&["--config", path_str(&file), "--store-cache-mib", "64"]);
    assert_eq!(network.node.status()["store_cache_mib"], 64);
    assert_eq!(network.node.record_count(), 1);
    network.node.terminate();
    assert_eq!(saved_settings(&data_dir)["store_cache_mib"], 64);
}

/// What a node says of a store cache of `mib` outside its bounds.
fn bounds_named(mib: u64) -> String {
    format!(
        "the store's cache (--store-cache-mib, or store_cache_mib in a config file) is {mib} MiB: \
         it must be between 16 and 65536 MiB"
    )
}

#[test]
fn a_key_file_that_others_may_read_is_refused() {
    let mut network = Network::start("ops_key_mode");
    let data_dir = network.data_dir();
    network.node.terminate();
    let key = data_dir.join("org.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    let output = NodeProcess::run_expecting_refusal(&data_dir, Vec::<&str>::new())
        .assert_exit(2)
        .assert_no_panic();
    assert!(
        output.stderr().contains("mode 0644"),
        "{}",
        output.describe()
    );
    assert!(
        output
            .stderr()
            .contains(&format!("chmod 600 {}", key.display())),
        "{}",
        output.describe()
    );
    // Nothing was changed behind the operator's back.
    let mode = fs::metadata(&key)
        .expect("stat org.key")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644);

    // The key file given to a first start is the user's: an exposed one is named with what to
    // do, and the directory's copy is private.
    let exposed = network.dir.join("exposed.key");
    fs::copy(network.dir.join("keys/GB-GOV-1.key"), &exposed).expect("copy the key");
    fs::set_permissions(&exposed, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    let second_dir = network.dir.join("nodes/second");
    let mut second = NodeProcess::start_first(
        &second_dir,
        &network.dir.join("genesis.bin"),
        "GB-GOV-1",
        &exposed,
    );
    let logs = second.logs();
    assert!(
        logs.contains(&format!(
            "warning: --key {} has mode 0644: group or others may read it",
            exposed.display()
        )),
        "{logs}"
    );
    let copy_mode = fs::metadata(second_dir.join("org.key"))
        .expect("stat the copy")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(copy_mode, 0o600);
    second.terminate();
}

/// Every path under `dir` (itself included) with its permission bits.
fn modes_under(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = vec![(
        dir.to_path_buf(),
        fs::metadata(dir).expect("stat").permissions().mode() & 0o777,
    )];
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(modes_under(&path));
        } else {
            found.push((
                path.clone(),
                fs::metadata(&path).expect("stat").permissions().mode() & 0o777,
            ));
        }
    }
    found
}

#[test]
fn under_umask_000_the_data_dir_and_every_file_are_private() {
    let network = Network::start("ops_umask");
    let implementer = &network.organisations[1];
    let data_dir = network.dir.join("nodes/umask-node");
    // The node sets its own umask; the shell gives it the worst one first.
    let mut command = Command::new("sh");
    command
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(bin_path("aidledger-node"))
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--genesis")
        .arg(&network.genesis)
        .args(["--org", IMPLEMENTER, "--key"])
        .arg(&implementer.key_file)
        .args([
            "--submit-addr",
            "127.0.0.1:0",
            "--public-addr",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("start the node under umask 000");
    let pid = child.id();
    wait_until(NODE_START_TIMEOUT, "the node to start", || {
        Endpoints::read(&data_dir).is_some_and(|endpoints| endpoints.pid == pid)
    });
    let modes = modes_under(&data_dir);
    // SIGTERM, then wait: the node's own files stay as they were made.
    // SAFETY: kill(2) on our own child, not yet waited for.
    #[allow(unsafe_code)]
    let killed = unsafe { libc::kill(libc::pid_t::try_from(pid).expect("pid"), libc::SIGTERM) };
    assert_eq!(killed, 0);
    let status = wait_for(NODE_EXIT_TIMEOUT, "the node to stop", || {
        child.try_wait().expect("wait")
    });
    assert_eq!(status.code(), Some(0));
    for name in [
        "node.lock",
        "submit.token",
        "org.key",
        "node.key",
        "genesis.bin",
        "endpoints.json",
    ] {
        assert!(
            modes.iter().any(|(path, _)| path.ends_with(name)),
            "no {name} in {modes:?}"
        );
    }
    assert!(
        modes.iter().any(|(path, _)| path.ends_with("store")),
        "{modes:?}"
    );
    for (path, mode) in &modes {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*mode, expected, "{} has mode {mode:o}", path.display());
    }
}

#[test]
fn the_cli_refuses_clearly_and_survives_a_closed_pipe() {
    let network = Network::start("ops_cli");
    // A sparse file of 17 MiB: over the body limit, refused before it is read.
    let big = network.dir.join("big.txt");
    fs::File::create(&big)
        .and_then(|file| file.set_len(17 * 1024 * 1024))
        .expect("make a sparse file");
    let data_dir = network.data_dir_arg();
    let args = [
        "record",
        "statement",
        "--title",
        "Too long",
        "--language",
        "en",
        "--text-file",
        path_str(&big),
        "--data-dir",
        &data_dir,
    ];
    let output = network.cli.run(args).assert_exit(2).assert_no_panic();
    assert!(
        output.stderr().contains("16777216 bytes (16 MiB)"),
        "{}",
        output.describe()
    );
    assert_eq!(network.node.record_count(), 0);

    // `node_key` for `node_keys`: refused, naming the field and the member.
    let members = network.dir.write(
        "typo-members.json",
        format!(
            r#"[{{"id":"GB-GOV-1","name":"FCDO","roles":["donor"],"signing_keys":["{}"],"node_key":[]}}]"#,
            network.organisations[0].public_key
        ),
    );
    let genesis = network.dir.join("typo-genesis.bin");
    let output = network
        .cli
        .run([
            "network",
            "init",
            "--name",
            "N",
            "--members",
            path_str(&members),
            "--out",
            path_str(&genesis),
        ])
        .assert_exit(2)
        .assert_no_panic();
    assert!(
        output
            .stderr()
            .contains(r#"member GB-GOV-1: unknown field "node_key""#),
        "{}",
        output.describe()
    );
    assert!(!genesis.exists());

    // `export --out` over a file that is not a bundle (a key given by mistake): refused, the
    // key kept; over an earlier bundle (the explorer's commands run again): written.
    let key_file = network.dir.join("keys/GB-GOV-1.key");
    let key_text = fs::read(&key_file).expect("read the key file");
    let url = network.node.public_url();
    let output = network
        .cli
        .run(["export", "--out", path_str(&key_file), "--node", &url])
        .assert_exit(2)
        .assert_no_panic();
    assert!(
        output.stderr().contains(&format!(
            "{} exists and is not a bundle: refusing to overwrite it",
            key_file.display()
        )),
        "{}",
        output.describe()
    );
    assert_eq!(fs::read(&key_file).expect("read the key file"), key_text);
    let bundle = network.dir.join("again.bundle");
    for _ in 0..2 {
        network
            .cli
            .run(["export", "--out", path_str(&bundle), "--node", &url])
            .assert_exit(0)
            .assert_no_panic();
    }
    assert!(fs::read(&bundle)
        .expect("the bundle")
        .starts_with(b"AIDLBNDL"));

    // The directory of a running node: refused, pointing at the node's API.
    let output = network
        .cli
        .run([
            "verify",
            "--data-dir",
            &network.data_dir_arg(),
            "--network-id",
            &network.network_id,
        ])
        .assert_no_panic();
    assert_ne!(output.code(), Some(0), "{}", output.describe());
    assert!(
        output.stderr().contains(
            "is in use by a running node (its node.lock is locked); read it through the node \
             instead: --node URL"
        ),
        "{}",
        output.describe()
    );

    // `status --json | head -1`: one line, no message.
    let script = format!(
        "\"$0\" status --json --node {} | head -1",
        network.node.public_url()
    );
    let mut command = Command::new("sh");
    command.args(["-c", &script]).arg(bin_path("aidledger"));
    let output = run_with_timeout(command, COMMAND_TIMEOUT).assert_exit(0);
    assert_eq!(output.stdout(), "{\n", "{}", output.describe());
    assert_eq!(output.stderr(), "", "{}", output.describe());
}

#[test]
fn a_node_whose_output_nobody_reads_keeps_running_and_stops_cleanly() {
    let mut network = Network::start("ops_closed_output");
    let data_dir = network.data_dir();
    network.node.terminate();
    // Both streams into pipes whose readers are gone at once, as `aidledger-node … 2>&1 | head
    // -2` leaves them: its start-up lines fail, and so does saying so on stderr (which ended
    // the node with a panic, exit 101, before).
    let mut command = node_command(&data_dir);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start the node");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let mut child = aidledger_process::ChildGuard::new(child);
    let pid = child.id();
    let endpoints = wait_for(NODE_START_TIMEOUT, "the node's endpoints.json", || {
        Endpoints::read(&data_dir).filter(|endpoints| endpoints.pid == pid)
    });
    let status = reqwest::blocking::get(format!("{}/api/status", endpoints.public))
        .expect("GET /api/status");
    assert_eq!(status.status().as_u16(), 200);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        child.try_wait().expect("look at the node"),
        None,
        "the node ended"
    );
    let ended = child
        .terminate(NODE_EXIT_TIMEOUT)
        .expect("signal the node")
        .expect("the node ends on SIGTERM");
    assert_eq!(ended.code(), Some(0), "{ended}");
}

#[test]
fn a_start_refused_for_an_address_in_use_can_be_run_again_and_is_no_crash() {
    let mut network = Network::start("ops_address_in_use");
    let data_dir = network.data_dir();
    network.record_transaction("10.00");
    network.node.terminate();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let taken_addr = taken.local_addr().expect("its address").to_string();
    let refused = |dir: &Path, first_start: &[&str]| {
        let mut command = Command::new(bin_path("aidledger-node"));
        command.arg("--data-dir").arg(dir).args(first_start).args([
            "--submit-addr",
            "127.0.0.1:0",
            "--public-addr",
            &taken_addr,
        ]);
        let output = run_with_timeout(command, NODE_EXIT_TIMEOUT)
            .assert_exit(2)
            .assert_no_panic();
        assert!(
            output
                .stderr()
                .contains(&format!("address {taken_addr} is already in use")),
            "{}",
            output.describe()
        );
    };

    // A first start refused part-way: run again with the same flags (and a free address), it
    // goes on from there, and no crash is reported.
    let fresh = network.dir.join("nodes/fresh");
    let genesis = network.dir.join("genesis.bin");
    let key = network.dir.join("keys/GB-GOV-1.key");
    let first_start = [
        "--genesis",
        path_str(&genesis),
        "--org",
        "GB-GOV-1",
        "--key",
        path_str(&key),
    ];
    refused(&fresh, &first_start);
    let mut again = NodeProcess::start_first(&fresh, &genesis, "GB-GOV-1", &key);
    let logs = again.logs();
    assert!(!logs.contains("did not shut down cleanly"), "{logs}");
    assert_eq!(again.record_count(), 0);
    again.terminate();

    // A later start: the directory as it was, and the next start is not taken for a crash.
    refused(&data_dir, &[]);
    network.node.restart();
    let logs = network.node.logs();
    assert!(!logs.contains("did not shut down cleanly"), "{logs}");
    assert_eq!(network.node.record_count(), 1);
}

/// Whether a process with `pid` exists (a zombie counts: it has not been reaped).
fn process_exists(pid: u32) -> bool {
    // SAFETY: signal 0 checks existence and permission only; nothing is delivered.
    #[allow(unsafe_code)]
    let result = unsafe { libc::kill(libc::pid_t::try_from(pid).expect("pid"), 0) };
    result == 0
}

#[test]
fn sigterm_stops_the_demo_and_every_node_and_a_used_dir_is_refused() {
    let dir = TestDir::new("ops_demo");
    let demo_dir = dir.join("demo");
    let stdout_path = dir.join("demo.stdout");
    let mut demo = Cli::new(dir.path())
        .command(["demo", "--dir", path_str(&demo_dir)])
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).expect("create the demo's stdout"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start the demo");
    let running = Duration::from_secs(240);
    wait_until(running, "the demo to pass its checks", || {
        if let Ok(Some(status)) = demo.try_wait() {
            panic!(
                "the demo exited with {status}: {}",
                fs::read_to_string(&stdout_path).unwrap_or_default()
            );
        }
        fs::read_to_string(&stdout_path)
            .is_ok_and(|text| text.contains("the network keeps running"))
    });
    let pids: Vec<u32> = ["GB-GOV-1", "DK-CVR-20699310", "XM-AUDIT-1"]
        .iter()
        .map(|org| {
            Endpoints::read(&demo_dir.join("nodes").join(org))
                .expect("a node's endpoints")
                .pid
        })
        .collect();
    assert!(pids.iter().all(|pid| process_exists(*pid)));
    for org in ["GB-GOV-1", "DK-CVR-20699310", "XM-AUDIT-1"] {
        let log = fs::read_to_string(demo_dir.join(format!("{org}.node.log"))).expect("a node log");
        assert!(log.contains(&format!("organisation {org}")), "{log}");
    }
    // SAFETY: kill(2) on our own child, not yet waited for.
    #[allow(unsafe_code)]
    let killed = unsafe {
        libc::kill(
            libc::pid_t::try_from(demo.id()).expect("pid"),
            libc::SIGTERM,
        )
    };
    assert_eq!(killed, 0);
    let status = wait_for(NODE_EXIT_TIMEOUT, "the demo to stop", || {
        demo.try_wait().expect("wait")
    });
    assert_eq!(status.code(), Some(0));
    for pid in &pids {
        assert!(
            !process_exists(*pid),
            "node {pid} still runs after the demo stopped"
        );
    }
    let log = fs::read_to_string(demo_dir.join("GB-GOV-1.node.log")).expect("the donor's log");
    assert!(
        log.contains("stopped GB-GOV-1 on SIGTERM (exit 0, clean)"),
        "{log}"
    );

    let output = Cli::new(dir.path())
        .run(["demo", "--once", "--dir", path_str(&demo_dir)])
        .assert_exit(2)
        .assert_no_panic();
    assert!(
        output.stderr().contains("already holds a demo network"),
        "{}",
        output.describe()
    );
    assert!(output.stderr().contains("--fresh"), "{}", output.describe());
}
