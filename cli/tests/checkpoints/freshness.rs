//! `aidledger verify --bundle B --checkpoint FILE…` (issue 21, freshness): a bundle holding
//! every record of a signed checkpoint verifies; a bundle short of it ("holds back"), one whose
//! first records have another root ("history differs"), a note not signed by the
//! organisation's key and a note of another network each exit 1 and say why, in text and
//! JSON. Bundles and checkpoints are made with the spec's signing functions.

use crate::vector_set;

use std::path::{Path, PathBuf};
use std::process::Output;

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, Body, Digest, NetworkId, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use vector_set::{genesis, CREATED_MS, DONOR, DONOR_SEED, IMPLEMENTER_SEED};

/// The donor's chain of `count` statements, each (id, bytes).
fn donor_chain(count: u64) -> Vec<(RecordId, Vec<u8>)> {
    let mut prev = Digest::ZERO;
    let mut chain = Vec::new();
    for seq in 0..count {
        let draft = RecordDraft {
            network_id: genesis().network_id(),
            author: DONOR.into(),
            seq,
            prev,
            timestamp_ms: CREATED_MS + 1 + seq,
            body: Body::Statement(Statement {
                title: format!("Statement {seq}"),
                language: "en".into(),
                text: "Funds were disbursed as planned.".into(),
            }),
        };
        let (id, bytes) = sign_record(&draft, &SigningKey::from_bytes(&DONOR_SEED)).expect("sign");
        prev = id;
        chain.push((id, bytes));
    }
    chain
}

fn write_bundle(path: &Path, records: &[(RecordId, Vec<u8>)]) {
    let file = std::fs::File::create(path).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis().encode()).expect("bundle header");
    for (_, bytes) in records {
        writer.record(bytes).expect("write a record");
    }
    writer.finish().expect("finish the bundle");
}

/// The checkpoint note of the tree over `ids`, signed with `seed`, written to `path`.
fn write_checkpoint(
    path: &Path,
    network: &NetworkId,
    ids: &[RecordId],
    seed: [u8; 32],
) -> (u64, Digest) {
    let size = ids.len() as u64;
    let root = MemoryTree::of_record_ids(ids).root(size).expect("root");
    let note = Checkpoint::new(network, DONOR, size, root)
        .sign(&SigningKey::from_bytes(&seed))
        .expect("sign the checkpoint");
    std::fs::write(path, note.to_text()).expect("write the checkpoint");
    (size, root)
}

fn verify(bundle: &Path, checkpoints: &[&PathBuf], json: bool) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"));
    command
        .arg("verify")
        .arg("--bundle")
        .arg(bundle)
        .arg("--network-id")
        .arg(genesis().network_id().to_string());
    for checkpoint in checkpoints {
        command.arg("--checkpoint").arg(checkpoint);
    }
    if json {
        command.arg("--json");
    }
    command.output().expect("run aidledger")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

struct Scene {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    chain: Vec<(RecordId, Vec<u8>)>,
    full: PathBuf,
}

/// A bundle of the donor's five records.
fn scene() -> Scene {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    let chain = donor_chain(5);
    let full = path.join("full.bundle");
    write_bundle(&full, &chain);
    Scene {
        _dir: dir,
        dir: path,
        chain,
        full,
    }
}

fn ids(chain: &[(RecordId, Vec<u8>)]) -> Vec<RecordId> {
    chain.iter().map(|(id, _)| *id).collect()
}

#[test]
fn a_bundle_holding_the_signed_checkpoints_verifies() {
    let scene = scene();
    let network = genesis().network_id();
    let all = scene.dir.join("all.checkpoint");
    let (size, root) = write_checkpoint(&all, &network, &ids(&scene.chain), DONOR_SEED);
    let older = scene.dir.join("older.checkpoint");
    write_checkpoint(&older, &network, &ids(&scene.chain[..2]), DONOR_SEED);

    let output = verify(&scene.full, &[&all, &older], false);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().last(), Some("VALID"), "{text}");
    let line = text
        .lines()
        .find(|line| line.contains("all.checkpoint"))
        .unwrap_or_else(|| panic!("no line for the checkpoint:\n{text}"));
    assert!(line.contains("holds the signed checkpoint"), "{line}");
    assert!(line.contains(&format!("size {size}")), "{line}");
    assert!(line.contains(&root.to_hex()), "{line}");
    assert!(line.contains(DONOR), "{line}");
    assert!(
        text.lines()
            .any(|line| line.contains("older.checkpoint") && line.contains("size 2")),
        "{text}"
    );

    let output = verify(&scene.full, &[&all], true);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(value["valid"], true);
    assert_eq!(value["checkpoints"][0]["holds"], true);
    assert_eq!(value["checkpoints"][0]["size"], size);
    assert_eq!(value["checkpoints"][0]["root"], root.to_hex());
}

#[test]
fn a_bundle_short_of_a_signed_checkpoint_holds_back_records() {
    let scene = scene();
    let network = genesis().network_id();
    let all = scene.dir.join("all.checkpoint");
    write_checkpoint(&all, &network, &ids(&scene.chain), DONOR_SEED);
    let short = scene.dir.join("short.bundle");
    write_bundle(&short, &scene.chain[..3]);

    // Without the checkpoint the shorter bundle is VALID: that is the gap it closes.
    let plain = verify(&short, &[], false);
    assert_eq!(plain.status.code(), Some(0), "{}", stdout(&plain));

    let output = verify(&short, &[&all], false);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().last(), Some("INVALID"), "{text}");
    let line = text
        .lines()
        .find(|line| line.contains("all.checkpoint"))
        .unwrap_or_else(|| panic!("no line for the checkpoint:\n{text}"));
    assert!(
        line.contains("FAILS: the bundle holds back records the organisation has signed for"),
        "{line}"
    );
    assert!(line.contains(DONOR), "{line}");
    assert!(
        line.contains("checkpoint of 5 record(s), the source has 3"),
        "{line}"
    );

    let output = verify(&short, &[&all], true);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(value["valid"], false);
    assert_eq!(value["checkpoints"][0]["failure"], "held back");
    assert_eq!(value["checkpoints"][0]["source_chain"], 3);
}

#[test]
fn a_bundle_with_another_history_differs_from_the_signed_checkpoint() {
    let scene = scene();
    let network = genesis().network_id();
    // The organisation signed a tree whose third record is not the bundle's.
    let mut signed = ids(&scene.chain[..3]);
    signed[2] = Digest([7u8; 32]);
    let other = scene.dir.join("other.checkpoint");
    let (_, root) = write_checkpoint(&other, &network, &signed, DONOR_SEED);
    let bundle_root = MemoryTree::of_record_ids(&ids(&scene.chain[..3]))
        .root(3)
        .expect("root");

    let output = verify(&scene.full, &[&other], false);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().last(), Some("INVALID"), "{text}");
    let line = text
        .lines()
        .find(|line| line.contains("other.checkpoint"))
        .unwrap_or_else(|| panic!("no line for the checkpoint:\n{text}"));
    assert!(
        line.contains("FAILS: the bundle's history differs from the signed checkpoint"),
        "{line}"
    );
    for part in [DONOR, "size 3", &root.to_hex(), &bundle_root.to_hex()] {
        assert!(line.contains(part), "the line names {part}: {line}");
    }
}

#[test]
fn a_note_the_organisation_did_not_sign_or_of_another_network_fails() {
    let scene = scene();
    let network = genesis().network_id();
    let forged = scene.dir.join("forged.checkpoint");
    write_checkpoint(&forged, &network, &ids(&scene.chain), IMPLEMENTER_SEED);
    let foreign = scene.dir.join("foreign.checkpoint");
    write_checkpoint(&foreign, &Digest([5u8; 32]), &ids(&scene.chain), DONOR_SEED);
    let garbage = scene.dir.join("garbage.checkpoint");
    std::fs::write(&garbage, b"not a note\xff").expect("write");

    for path in [&forged, &foreign, &garbage] {
        let output = verify(&scene.full, &[path], false);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert_eq!(text.lines().last(), Some("INVALID"), "{text}");
        assert!(
            text.lines()
                .any(|line| line.contains(&path.display().to_string())
                    && line.contains(
                        "FAILS: not a checkpoint of this network signed by its organisation"
                    )),
            "{text}"
        );
    }

    let missing = scene.dir.join("missing.checkpoint");
    let output = verify(&scene.full, &[&missing], false);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a missing file could not be checked"
    );
}
