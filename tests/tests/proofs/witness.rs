//! A witness against a real node process (issue 21): `aidledger witness key` makes its key,
//! `gov propose set-witnesses` lists it through the donor's node (a record the node accepts and
//! `gov status` reads back), and `aidledger witness --config` cosigns the donor's published
//! checkpoint, then a larger one once the node's consistency proof verified; each cosigned note
//! opens with the donor's key from the genesis and carries a cosignature the witness's vkey
//! verifies. The refusals are cli/tests/checkpoints/witness.rs (stand-in nodes); a split view
//! shown to a witness by a real node, and where it travels, is `witnesses`.

use aidledger_spec::checkpoint::SignedCheckpoint;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::note::{Note, VerifierKey};
use aidledger_spec::{signature, NetworkId};
use aidledger_tests::witness::{witness_config, witness_key, WitnessProcess};
use aidledger_tests::{read_key_seed, Network, DONOR};
use ed25519_dalek::SigningKey;
use serde_json::json;

/// The donor's checkpoint of `size` records the witness serves: opened with the donor's key,
/// its one cosignature checked by the witness's vkey, and no split view.
fn cosigned(
    witness: &WitnessProcess,
    size: u64,
    network: &NetworkId,
    donor: &SigningKey,
    vkey: &str,
) {
    let note = witness.wait_cosigned(DONOR, size);
    let answer = witness.answer().expect("the witness answers");
    assert_eq!(answer["witness"], vkey);
    assert_eq!(answer["split_views"], json!([]));
    let signed = SignedCheckpoint::open(&note, network, DONOR, &[signature::public_key_of(donor)])
        .expect("the donor signed it");
    assert_eq!(signed.checkpoint.size, size, "{note}");
    let policy =
        WitnessPolicy::new(vec![VerifierKey::parse(vkey).expect("vkey")], 1).expect("policy");
    let cosignatures = policy
        .check(&Note::parse(&note).expect("a note"))
        .expect("the witness cosigned it");
    assert_eq!(cosignatures.len(), 1);
}

#[test]
fn a_witness_cosigns_a_real_nodes_checkpoints_as_its_chain_grows() {
    let network = Network::start("proof_witness");
    let dir = &network.dir;
    let key_file = dir.join("witness.key");
    let vkey = witness_key(&network.cli, "witness.example.org/w1", &key_file);

    // The admins list it: a proposal the node accepts (pending: 1 of the 2 approvals needed).
    let proposal = network
        .cli
        .run([
            "gov",
            "propose",
            "set-witnesses",
            "--witness",
            &vkey,
            "--threshold",
            "1",
            "--data-dir",
            &network.data_dir_arg(),
        ])
        .assert_exit(0)
        .stdout_hex32();
    let url = network.node.public_url();
    let status = network
        .cli
        .run(["gov", "status", "--node", &url, "--json"])
        .assert_exit(0)
        .json();
    let text = status.to_string();
    assert!(
        text.contains(&proposal) && text.contains("set-witnesses"),
        "{text}"
    );

    network.record_transaction("125000.00");
    network.record_transaction("5000.00");
    let config = witness_config(
        dir.path(),
        "witness.example.org/w1",
        &key_file,
        &network.network_id,
        &[url],
        "127.0.0.1:0",
    );
    let mut witness = WitnessProcess::start(&config);
    let network_id = NetworkId::from_hex(&network.network_id).expect("hex");
    let donor = SigningKey::from_bytes(&read_key_seed(&network.organisations[0].key_file));
    // The proposal is the donor's first record: three records in its chain.
    cosigned(&witness, 3, &network_id, &donor, &vkey);
    witness.wait_line(|line| line.starts_with("cosigned") && line.contains("the first"));

    network.record_transaction("1.00");
    network.record_transaction("2.00");
    cosigned(&witness, 5, &network_id, &donor, &vkey);
    // Extended from whatever size it cosigned last (3, or 4 if it saw that one).
    let line = witness.wait_line(|line| line.contains("at 5 records"));
    assert!(
        line.starts_with("cosigned") && line.contains("consistency proof verified"),
        "{line}"
    );
    let log = witness.read_log();
    assert!(
        !log.lines().any(|line| line.starts_with("refused")),
        "{log}"
    );
}
