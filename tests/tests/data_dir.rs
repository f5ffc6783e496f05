//! A missing or corrupt data directory is reported as an error a person can act on, by the CLI
//! and by the node, and never as a panic.

use std::fs;
use std::path::{Path, PathBuf};

use aidledger_tests::{path_str, Cli, Network, NodeProcess, Rng, TestDir};

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            fs::read_dir(&dir).unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn corrupt_or_missing_data_dir() {
    // A directory that does not exist.
    let empty = TestDir::new("missing-dir");
    let missing = empty.join("does-not-exist");
    let output = Cli::new(empty.path()).run(["verify", "--data-dir", path_str(&missing)]);
    output
        .assert_exit(2)
        .assert_no_panic()
        .assert_stderr_nonempty()
        .assert_mentions_any(&[
            path_str(&missing),
            "does-not-exist",
            "no such",
            "not found",
            "does not exist",
            "missing",
        ]);

    // A real data directory whose store files are overwritten with garbage.
    let mut network = Network::start("corrupt-store");
    network.record_transaction("10");
    network.record_transaction("20");
    network.node.terminate();
    let data_dir = network.data_dir();
    let store_files = files_under(&data_dir.join("store"));
    assert!(
        !store_files.is_empty(),
        "the node wrote its store under {}",
        data_dir.join("store").display()
    );
    let mut rng = Rng::new(0x5eed);
    for file in &store_files {
        let size_bytes = fs::metadata(file)
            .map(|metadata| metadata.len())
            .unwrap_or(0)
            .max(4096);
        let garbage: Vec<u8> = (0..size_bytes).map(|_| rng.next_u64() as u8).collect();
        fs::write(file, garbage)
            .unwrap_or_else(|error| panic!("overwrite {}: {error}", file.display()));
    }

    let output = network
        .cli
        .run(["verify", "--data-dir", &network.data_dir_arg()]);
    output
        .assert_exit_in(&[2, 1])
        .assert_no_panic()
        .assert_stderr_nonempty();

    let refused = NodeProcess::run_expecting_refusal(&data_dir, std::iter::empty::<&str>());
    refused
        .assert_exit(2)
        .assert_no_panic()
        .assert_stderr_nonempty();
}

/// Only the store's data files are garbage and its `conf` is intact, as when a disk loses the
/// database but not the small config file. Opening it as an empty store would silently drop
/// every record, report an empty chain as VALID, and let the node sign a second seq 0 (a fork
/// of its own chain). The contract says: a corrupt data dir is refused with exit 2.
#[test]
fn corrupt_store_data_is_not_taken_for_an_empty_chain() {
    let mut network = Network::start("corrupt-store-data");
    network.record_transaction("10");
    network.record_transaction("20");
    network.node.terminate();
    let data_dir = network.data_dir();
    let mut rng = Rng::new(0xdead);
    let mut overwritten = 0;
    for file in files_under(&data_dir.join("store")) {
        if file.file_name().is_some_and(|name| name == "conf") {
            continue;
        }
        let size_bytes = fs::metadata(&file)
            .map(|metadata| metadata.len())
            .unwrap_or(0);
        let garbage: Vec<u8> = (0..size_bytes).map(|_| rng.next_u64() as u8).collect();
        fs::write(&file, garbage)
            .unwrap_or_else(|error| panic!("overwrite {}: {error}", file.display()));
        overwritten += 1;
    }
    assert!(overwritten > 0, "the store has data files besides conf");

    let output = network
        .cli
        .run(["verify", "--data-dir", &network.data_dir_arg()]);
    let output = output.assert_no_panic();
    assert!(
        matches!(output.code(), Some(1 | 2))
            && !output.stdout().lines().any(|line| line.trim() == "VALID"),
        "a store whose records were lost must not verify as VALID\n{}",
        output.describe()
    );
    let refused = NodeProcess::run_expecting_refusal(&data_dir, std::iter::empty::<&str>());
    refused
        .assert_exit(2)
        .assert_no_panic()
        .assert_stderr_nonempty();
}

#[test]
fn node_refuses_a_key_that_is_not_the_organisations() {
    let network = Network::start("wrong-key");
    // The implementer's key does not sign for the donor.
    let other = network.dir.join("nodes/other");
    let implementer_key = &network.organisations[1].key_file;
    let refused = NodeProcess::run_expecting_refusal(
        &other,
        [
            "--genesis",
            path_str(&network.genesis),
            "--org",
            aidledger_tests::DONOR,
            "--key",
            path_str(implementer_key),
        ],
    );
    refused
        .assert_exit(2)
        .assert_no_panic()
        .assert_stderr_nonempty()
        .assert_mentions_any(&["key"]);
}

/// A libp2p listen port that another program holds is refused at start with words an operator
/// acts on (issue 17), not libp2p's nested rendering of the OS error.
#[test]
fn a_p2p_port_in_use_is_named_at_start() {
    let mut network = Network::start("p2p-port-in-use");
    network.node.terminate();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = holder.local_addr().expect("its address").port();
    let refused = NodeProcess::run_expecting_refusal(
        &network.data_dir(),
        ["--listen", &format!("/ip4/127.0.0.1/tcp/{port}")],
    );
    let refused = refused.assert_exit(2).assert_no_panic();
    let stderr = refused.stderr();
    assert!(
        stderr.contains("already in use")
            && stderr.contains("choose another port with --listen")
            && stderr.contains(&port.to_string())
            && !stderr.contains("kind:"),
        "{stderr}"
    );
    drop(holder);
}
