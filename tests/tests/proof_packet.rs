//! One-record proof packets with the real `aidledger` binary: `verify --proof` on the golden
//! packet of `spec/vectors/` offline (valid, witnessed or not, and refused for a flipped byte,
//! another network or a witness policy it does not meet, with the exit codes of `verify`).

use std::path::PathBuf;

use aidledger_tests::{path_str, Cli, TestDir};
use serde_json::Value;

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
