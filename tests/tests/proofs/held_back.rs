//! A node that holds back its newest records is caught by `verify --witnessed` (issue 21):
//! with real processes, a network whose donor is its only admin lists one witness (`gov
//! propose set-witnesses`, in force at once), the witness cosigns the donor's checkpoints as
//! its chain grows, and a bundle exported before the last records verifies `--witnessed`
//! against the witness only while the witness has not cosigned more: once it has, the same
//! bundle is INVALID ("the bundle holds back records the organisation has signed for"), and
//! the node's current export is witnessed again. Restarted with `--witness URL`, the node
//! collects the cosignature and its export carries the cosigned checkpoint (bundle version 2).

use aidledger_tests::witness::{witness_config, witness_key, WitnessProcess, WITNESS_TIMEOUT};
use aidledger_tests::{path_str, transaction_args, Cli, NodeProcess, TestDir, DONOR, IMPLEMENTER};
use serde_json::json;

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

    let key_file = dir.join("witness.key");
    let vkey = witness_key(&cli, "witness.example.org/w1", &key_file);
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
    let config = witness_config(
        dir.path(),
        "witness.example.org/w1",
        &key_file,
        &network_id,
        std::slice::from_ref(&url),
        "127.0.0.1:0",
    );
    let witness = WitnessProcess::start(&config);
    let witness_url = witness.url.clone();
    // The proposal and the transaction: two records in the donor's chain.
    witness.wait_cosigned(DONOR, 2);
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
    witness.wait_cosigned(DONOR, 4);
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
    aidledger_tests::wait_until(
        WITNESS_TIMEOUT,
        "the export to carry the checkpoint",
        || {
            let (status, bytes) = node.public_get("/api/export");
            status == 200 && bytes.get(8..10) == Some(&[2, 0][..])
        },
    );
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
