//! A node that holds back its newest records is caught by `verify --witnessed` (issue 21):
//! with real processes, a network whose donor is its only admin lists one witness (`gov
//! propose set-witnesses`, in force at once), the witness cosigns the donor's checkpoints as
//! its chain grows, and a bundle exported before the last records verifies `--witnessed`
//! against the witness only while the witness has not cosigned more: once it has, the same
//! bundle is INVALID ("the bundle holds back records the organisation has signed for"), and
//! the node's current export is witnessed again. Restarted with `--witness URL`, the node
//! collects the cosignature and its export carries the cosigned checkpoint (bundle version 2).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aidledger_tests::{
    bin_path, path_str, transaction_args, Cli, NodeProcess, TestDir, DONOR, IMPLEMENTER,
};
use serde_json::{json, Value};

/// How long the node and the witness may take to publish and cosign a checkpoint.
const COSIGN_TIMEOUT: Duration = Duration::from_secs(60);

/// The witness process; killed when dropped.
struct Witness(Child);

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `aidledger witness --config` and returns it with its URL (its first line names it).
fn start_witness(config: &std::path::Path) -> (Witness, String) {
    let mut child = Command::new(bin_path("aidledger"))
        .args(["witness", "--config", path_str(config)])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the witness");
    let stdout = child.stdout.take().expect("stdout");
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Read to the end even once nobody listens: a closed pipe would stop the witness.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let witness = Witness(child);
    let deadline = Instant::now() + COSIGN_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line: String = lines
            .recv_timeout(left)
            .expect("the witness names its address");
        if line.contains("listening on http://") {
            let url = line.rsplit(' ').next().expect("an address").to_owned();
            return (witness, url);
        }
    }
}

/// Waits until the witness serves a checkpoint of `size` records.
fn wait_cosigned(witness: &str, size: u64) {
    let deadline = Instant::now() + COSIGN_TIMEOUT;
    let wanted = format!("\n{size}\n");
    loop {
        let answer: Option<Value> = reqwest::blocking::get(format!("{witness}/api/witness"))
            .ok()
            .and_then(|response| response.json().ok());
        let served = answer.as_ref().is_some_and(|answer| {
            answer["checkpoints"].as_array().is_some_and(|notes| {
                notes
                    .iter()
                    .any(|note| note.as_str().is_some_and(|note| note.contains(&wanted)))
            })
        });
        if served {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no cosigned checkpoint of {size}: {answer:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn verify_witnessed_catches_a_bundle_that_holds_back_cosigned_records() {
    let dir = TestDir::new("proof_held_back");
    let cli = Cli::new(dir.path());
    std::fs::create_dir_all(dir.join("keys")).expect("create keys/");
    let mut members = Vec::new();
    for (id, role) in [(DONOR, "donor"), (IMPLEMENTER, "implementer")] {
        let signing = cli
            .run([
                "keygen",
                "--out",
                path_str(&dir.join(format!("keys/{id}.key"))),
            ])
            .assert_exit(0)
            .stdout_hex32();
        let node = cli
            .run([
                "keygen",
                "--out",
                path_str(&dir.join(format!("keys/{id}.node.key"))),
            ])
            .assert_exit(0)
            .stdout_hex32();
        members.push(json!({"id": id, "name": id, "roles": [role],
                            "signing_keys": [signing], "node_keys": [node]}));
    }
    let members_file = dir.write("members.json", json!(members).to_string());
    let genesis = dir.join("genesis.bin");
    // The donor alone is an admin: its proposal takes effect without another's approval.
    let network_id = cli
        .run([
            "network",
            "init",
            "--name",
            "Held-back test network",
            "--members",
            path_str(&members_file),
            "--admins",
            DONOR,
            "--threshold",
            "1",
            "--out",
            path_str(&genesis),
        ])
        .assert_exit(0)
        .stdout_hex32();
    let node = NodeProcess::start_first(
        &dir.join(format!("nodes/{DONOR}")),
        &genesis,
        DONOR,
        &dir.join(format!("keys/{DONOR}.key")),
    );
    let data_dir = path_str(node.data_dir()).to_owned();
    let url = node.public_url();

    let vkey = cli
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
    cli.run([
        "gov",
        "propose",
        "set-witnesses",
        "--witness",
        &vkey,
        "--threshold",
        "1",
        "--data-dir",
        &data_dir,
    ])
    .assert_exit(0);
    let record = |amount: &str| {
        let mut args = vec!["record", "transaction"];
        args.extend(transaction_args(amount));
        args.extend(["--data-dir", &data_dir]);
        cli.run(args).assert_exit(0);
    };
    record("125000.00");
    let config = dir.write(
        "witness.json",
        json!({
            "name": "witness.example.org/w1",
            "key_file": "witness.key",
            "state_dir": "witness-state",
            "network_id": network_id,
            "nodes": [url],
            "listen": "127.0.0.1:0",
            "interval_ms": 200,
        })
        .to_string(),
    );
    let (_witness, witness_url) = start_witness(&config);
    // The proposal and the transaction: two records in the donor's chain.
    wait_cosigned(&witness_url, 2);
    let old = dir.join("old.bundle");
    cli.run([
        "export",
        "--node",
        &url,
        "--network-id",
        &network_id,
        "--out",
        path_str(&old),
    ])
    .assert_exit(0);
    let verify = |bundle: &std::path::Path| {
        cli.run([
            "verify",
            "--bundle",
            path_str(bundle),
            "--network-id",
            &network_id,
            "--witness",
            &witness_url,
            "--witnessed",
        ])
    };
    let output = verify(&old).assert_exit(0);
    assert!(
        output.stdout().contains(&format!(
            "witnessed {DONOR}: at size 2 by 1 of 1 witness(es)"
        )),
        "{}",
        output.describe()
    );

    // The donor signs two more records; the witness cosigns them. The old bundle now holds
    // back records the organisation signed and a witness cosigned.
    record("5000.00");
    record("1.00");
    wait_cosigned(&witness_url, 4);
    let output = verify(&old).assert_exit(1);
    assert!(
        output.stdout().contains(&format!(
            "the bundle holds back records the organisation has signed for: {DONOR} signed a checkpoint of 4 record(s), the source has 2"
        )),
        "{}",
        output.describe()
    );
    assert_eq!(output.stdout().lines().last(), Some("INVALID"));

    // The node's export now holds them: witnessed at 4.
    let new = dir.join("new.bundle");
    cli.run([
        "export",
        "--node",
        &url,
        "--network-id",
        &network_id,
        "--out",
        path_str(&new),
    ])
    .assert_exit(0);
    let output = verify(&new).assert_exit(0);
    assert!(
        output.stdout().contains(&format!(
            "witnessed {DONOR}: at size 4 by 1 of 1 witness(es)"
        )),
        "{}",
        output.describe()
    );

    // The node collects the witness's cosignatures: its export becomes a version 2 bundle
    // carrying the cosigned checkpoint, witnessed with no --witness at all.
    let mut node = node;
    node.terminate();
    node.restart_with(&["--witness", &witness_url, "--witness-poll-ms", "200"]);
    let url = node.public_url();
    aidledger_tests::wait_until(COSIGN_TIMEOUT, "the export to carry the checkpoint", || {
        let (status, bytes) = node.public_get("/api/export");
        status == 200 && bytes.get(8..10) == Some(&[2, 0][..])
    });
    let carried = dir.join("carried.bundle");
    cli.run([
        "export",
        "--node",
        &url,
        "--network-id",
        &network_id,
        "--out",
        path_str(&carried),
    ])
    .assert_exit(0);
    let output = cli
        .run([
            "verify",
            "--bundle",
            path_str(&carried),
            "--network-id",
            &network_id,
            "--witnessed",
        ])
        .assert_exit(0);
    let text = output.stdout();
    assert!(
        text.contains(&format!(
            "checkpoint carried by the source: {DONOR}'s chain holds the signed checkpoint: size 4"
        )) && text.contains(&format!(
            "witnessed {DONOR}: at size 4 by 1 of 1 witness(es)"
        )),
        "{}",
        output.describe()
    );
    drop(node);
}
