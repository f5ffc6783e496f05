//! One-record proof packets with the real binaries: `aidledger proof` against a running node
//! for a disbursement, then `verify --proof` offline (the node stopped): valid, and refused
//! for one flipped byte, a wrong index, a wrong network id and a key revoked before the
//! record's position; and `verify --proof` on the golden packet of `spec/vectors/` (witnessed
//! or not, a policy it does not meet, bad input), with the exit codes of `verify`.

use std::path::PathBuf;
use std::time::Duration;

use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::packet::ProofPacket;
use aidledger_spec::{sign_record, Body, Digest, Genesis, NetworkId, RecordDraft, RecordId};
use aidledger_tests::{
    path_str, read_key_seed, wait_for, Cli, Network, TestDir, AUDITOR, DONOR, IMPLEMENTER,
};
use ed25519_dalek::SigningKey;
use serde_json::Value;

/// How long a durable record may take to be in the node's published checkpoint.
const CHECKPOINT_TIMEOUT: Duration = Duration::from_secs(60);

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

/// The vector packet's file, its network id and its witnesses' vkeys.
fn vector_packet() -> (PathBuf, String, Vec<String>) {
    let json: Value = serde_json::from_slice(
        &std::fs::read(vectors().join("proof-packet.json")).expect("the packet vector"),
    )
    .expect("JSON");
    let vkeys = json["witness_vkeys"]
        .as_array()
        .expect("vkeys")
        .iter()
        .map(|vkey| vkey.as_str().expect("text").to_owned())
        .collect();
    (
        vectors().join("proof-packet.bin"),
        json["network_id"].as_str().expect("hex").to_owned(),
        vkeys,
    )
}

#[test]
fn the_vector_packet_verifies_offline_and_says_what_it_checked() {
    let dir = TestDir::new("proof_packet_vector");
    let cli = Cli::new(dir.path());
    let (file, network, vkeys) = vector_packet();
    let file = path_str(&file);

    let plain = cli
        .run(["verify", "--proof", file, "--network-id", &network])
        .assert_exit(0)
        .assert_no_panic();
    let text = plain.stdout();
    assert!(text.contains("VALID: record 9c44fe96"), "{text}");
    assert!(text.contains("transaction of GB-GOV-1"), "{text}");
    assert!(text.contains("position 0"), "{text}");
    assert!(text.contains("checkpoint of 5 record(s)"), "{text}");
    assert!(text.contains("NOT witnessed"), "{text}");

    let mut witnessed = vec!["verify", "--proof", file, "--network-id", &network];
    for vkey in &vkeys {
        witnessed.extend(["--witness-key", vkey.as_str()]);
    }
    let mut two_of_three = witnessed.clone();
    two_of_three.extend(["--witnesses-needed", "2"]);
    let output = cli.run(&two_of_three).assert_exit(0);
    assert!(
        output.stdout().contains("witnessed: cosigned by 2 of the 3 witness(es) given (2 needed): witness-1.example.org, witness-2.example.org"),
        "{}",
        output.stdout()
    );
    // All three needed by default: only two cosigned.
    let output = cli.run(&witnessed).assert_exit(1);
    assert!(
        output.stdout().contains("INVALID") && output.stdout().contains("not-witnessed"),
        "{}",
        output.stdout()
    );

    let json = cli
        .run([
            "verify",
            "--proof",
            file,
            "--network-id",
            &network,
            "--json",
        ])
        .assert_exit(0);
    let report: Value = serde_json::from_str(json.stdout()).expect("JSON");
    assert_eq!(report["valid"], true);
    assert_eq!(report["seq"], 0);
    assert_eq!(report["size"], 5);
    assert_eq!(report["witnessed"], false);
}

#[test]
fn a_flipped_byte_another_network_or_bad_input_is_refused_with_verifys_exit_codes() {
    let dir = TestDir::new("proof_packet_refused");
    let cli = Cli::new(dir.path());
    let (file, network, _) = vector_packet();
    let mut bytes = std::fs::read(&file).expect("the packet");
    // The middle of the packet is in the record (after the magic, a 526-byte genesis and the
    // counts; before the proof and the note), so its id, and so its signature, no longer agree.
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let flipped = dir.write("flipped.aidlproof", &bytes);
    let output = cli
        .run([
            "verify",
            "--proof",
            path_str(&flipped),
            "--network-id",
            &network,
        ])
        .assert_exit(1)
        .assert_no_panic();
    assert!(
        output.stdout().contains("INVALID proof packet"),
        "{}",
        output.stdout()
    );

    let other = "ab".repeat(32);
    let output = cli
        .run(["verify", "--proof", path_str(&file), "--network-id", &other])
        .assert_exit(1);
    assert!(
        output.stdout().contains("wrong-network") && output.stdout().contains(&network),
        "{}",
        output.stdout()
    );

    // Could not run: no network id, no file, a witness key that is not one.
    let output = cli
        .run(["verify", "--proof", path_str(&file)])
        .assert_exit(2);
    assert!(
        output.stderr().contains("--network-id"),
        "{}",
        output.stderr()
    );
    cli.run([
        "verify",
        "--proof",
        path_str(&dir.join("missing.aidlproof")),
        "--network-id",
        &network,
    ])
    .assert_exit(2)
    .assert_stderr_nonempty();
    cli.run([
        "verify",
        "--proof",
        path_str(&file),
        "--network-id",
        &network,
        "--witness-key",
        "not-a-vkey",
    ])
    .assert_exit(2)
    .assert_stderr_nonempty();
    // --proof with a source is a usage error.
    cli.run([
        "verify",
        "--proof",
        path_str(&file),
        "--network-id",
        &network,
        "--bundle",
        path_str(&file),
    ])
    .assert_exit(2);
}

/// The governance records by which the implementer proposes, and the auditor approves (two of
/// the three admins, the fixture's majority), to revoke the donor's key from `from_seq` on:
/// each the first record of its author's chain, signed with its key file.
fn revocation_of_donor_key(network: &Network, from_seq: u64) -> Vec<Vec<u8>> {
    let genesis = Genesis::decode(&std::fs::read(&network.genesis).expect("genesis.bin"))
        .expect("the fixture's genesis");
    let network_id: NetworkId = genesis.network_id();
    let key_of = |index: usize| {
        SigningKey::from_bytes(&read_key_seed(&network.organisations[index].key_file))
    };
    let donor_key = aidledger_spec::PublicKey::from_hex(&network.organisations[0].public_key)
        .expect("the donor's public key");
    let draft = |author: &str, body: Body| RecordDraft {
        network_id,
        author: author.into(),
        seq: 0,
        prev: Digest::ZERO,
        timestamp_ms: genesis.created_ms + 60_000,
        body,
    };
    let proposal = Body::Proposal(Proposal {
        base: Digest::ZERO,
        change: Change::RevokeKey {
            member: DONOR.into(),
            key: donor_key,
            from_seq,
            replacement: None,
        },
        note: "The donor's key leaked.".into(),
    });
    let (proposal_id, proposal_bytes): (RecordId, Vec<u8>) =
        sign_record(&draft(IMPLEMENTER, proposal), &key_of(1)).expect("sign the proposal");
    let approval = Body::Approval(Approval {
        proposal: proposal_id,
    });
    let (_, approval_bytes) =
        sign_record(&draft(AUDITOR, approval), &key_of(2)).expect("sign the approval");
    vec![proposal_bytes, approval_bytes]
}

#[test]
fn a_disbursements_packet_from_a_node_verifies_offline_and_each_forgery_is_refused() {
    let mut network = Network::start("proof_packet_node");
    let id = network.record_transaction("125000.00");
    // A second record, so that the first one's checkpoint covers a position after it.
    let second = network.record_transaction("5000.00");
    let url = network.node.public_url();
    let out = network.dir.join("disbursement.aidlproof");
    let out_arg = path_str(&out).to_owned();
    let proof_of = |record: &str, file: &str| {
        network
            .cli
            .run(["proof", record, "--node", &url, "--out", file])
    };
    // A record is in a checkpoint once it is durable (503 until then: exit 2).
    let scratch = network.dir.join("second.aidlproof");
    wait_for(
        CHECKPOINT_TIMEOUT,
        "the second record in a checkpoint",
        || (proof_of(&second, path_str(&scratch)).code() == Some(0)).then_some(()),
    );
    let written = proof_of(&id, &out_arg).assert_exit(0);
    assert!(
        written.stdout().contains("wrote") && written.stdout().contains(&network.network_id),
        "{}",
        written.stdout()
    );
    // Unknown record: could not run.
    network
        .cli
        .run(["proof", &"ab".repeat(32), "--node", &url, "--out", &out_arg])
        .assert_exit(2)
        .assert_stderr_nonempty();
    // Offline from here on.
    network.node.kill9();

    let verify = |file: &str, network_id: &str| {
        network
            .cli
            .run(["verify", "--proof", file, "--network-id", network_id])
            .assert_no_panic()
    };
    let valid = verify(&out_arg, &network.network_id).assert_exit(0);
    let text = valid.stdout();
    assert!(
        text.contains(&format!(
            "VALID: record {id} is a genuine transaction of {DONOR}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&network.organisations[0].public_key),
        "{text}"
    );
    assert!(text.contains("NOT witnessed"), "{text}");

    let bytes = std::fs::read(&out).expect("the packet");
    let packet = ProofPacket::from_packet_bytes(&bytes).expect("a packet");
    let record_at = bytes
        .windows(packet.record.len())
        .position(|window| window == packet.record.as_slice())
        .expect("the record's bytes are in the packet");

    // One flipped byte of the record.
    let mut flipped = bytes.clone();
    flipped[record_at + packet.record.len() / 2] ^= 0x01;
    let file = network.dir.write("flipped.aidlproof", &flipped);
    let output = verify(path_str(&file), &network.network_id).assert_exit(1);
    assert!(
        output.stdout().contains("INVALID proof packet"),
        "{}",
        output.stdout()
    );

    // A wrong index: the proof said to be of the next position.
    let mut wrong_index = packet.clone();
    wrong_index.inclusion.leaf_index += 1;
    let file = network
        .dir
        .write("wrong-index.aidlproof", wrong_index.to_packet_bytes());
    let output = verify(path_str(&file), &network.network_id).assert_exit(1);
    assert!(
        output.stdout().contains("(check: wrong-index)"),
        "{}",
        output.stdout()
    );

    // A wrong network id: the one the reader trusts is not the packet's.
    let output = verify(&out_arg, &"cd".repeat(32)).assert_exit(1);
    assert!(
        output.stdout().contains("(check: wrong-network)"),
        "{}",
        output.stdout()
    );

    // A key revoked before the position: the same packet under governance records that revoke
    // the donor's key from the record's seq on.
    let seq = packet.inclusion.leaf_index;
    let mut revoked = packet.clone();
    revoked.governance = revocation_of_donor_key(&network, seq);
    let file = network
        .dir
        .write("revoked.aidlproof", revoked.to_packet_bytes());
    let output = verify(path_str(&file), &network.network_id).assert_exit(1);
    assert!(
        output.stdout().contains("(check: not-authorised)") && output.stdout().contains("revoked"),
        "{}",
        output.stdout()
    );
    // Revoked from the next position on: the record was signed in time, but the checkpoint
    // (of both records) was signed with the key after it could no longer sign its last one.
    let mut later = packet;
    later.governance = revocation_of_donor_key(&network, seq + 1);
    let file = network
        .dir
        .write("later.aidlproof", later.to_packet_bytes());
    let size = later.inclusion.tree_size;
    assert!(
        size > seq + 1,
        "the checkpoint covers the second record too"
    );
    let output = verify(path_str(&file), &network.network_id).assert_exit(1);
    assert!(
        output.stdout().contains("(check: checkpoint)"),
        "{}",
        output.stdout()
    );
}
