//! `aidledger checkpoint check --old FILE --new FILE --bundle B --proof FILE` offline (issue 21,
//! consistency over time): a newer checkpoint of the same chain is proved to extend an older
//! one; the same checkpoint twice is the same; a checkpoint of a forked chain (same size and
//! another root, or a larger tree whose proof leads from another root) becomes a split-view
//! proof that is written and checks offline (exit 1); a proof that proves nothing, a note the
//! organisation did not sign and a missing network id are refused with their exit codes.

use crate::vector_set;

use std::path::{Path, PathBuf};
use std::process::Output;

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::codec::Codec;
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::record::Statement;
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{sign_record, Body, Digest, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use vector_set::{genesis, CREATED_MS, DONOR, DONOR_SEED, IMPLEMENTER_SEED};

/// The donor's chain of `count` statements; from seq `fork_from` on the titles say `fork`.
fn donor_chain(count: u64, fork_from: u64, fork: &str) -> Vec<(RecordId, Vec<u8>)> {
    let mut prev = Digest::ZERO;
    let mut chain = Vec::new();
    for seq in 0..count {
        let title = if seq >= fork_from {
            format!("Statement {seq} {fork}")
        } else {
            format!("Statement {seq}")
        };
        let draft = RecordDraft {
            network_id: genesis().network_id(),
            author: DONOR.into(),
            seq,
            prev,
            timestamp_ms: CREATED_MS + 1 + seq,
            body: Body::Statement(Statement {
                title,
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

struct Scene {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    bundle: PathBuf,
    tree: MemoryTree,
    forked: MemoryTree,
}

/// A bundle of the donor's eight records (the keys' source), its tree, and a fork's tree
/// that shares only its first two records.
fn scene() -> Scene {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    let chain = donor_chain(8, 8, "");
    let bundle = path.join("ledger.bundle");
    let file = std::fs::File::create(&bundle).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis().encode()).expect("bundle header");
    for (_, bytes) in &chain {
        writer.record(bytes).expect("write a record");
    }
    writer.finish().expect("finish the bundle");
    let ids: Vec<RecordId> = chain.iter().map(|(id, _)| *id).collect();
    let forked: Vec<RecordId> = donor_chain(8, 2, "(forked)")
        .iter()
        .map(|(id, _)| *id)
        .collect();
    Scene {
        _dir: dir,
        dir: path,
        bundle,
        tree: MemoryTree::of_record_ids(&ids),
        forked: MemoryTree::of_record_ids(&forked),
    }
}

impl Scene {
    /// The checkpoint of `tree` at `size`, signed with `seed`, written to `name`.
    fn checkpoint(&self, name: &str, tree: &MemoryTree, size: u64, seed: [u8; 32]) -> PathBuf {
        let root = tree.root(size).expect("root");
        let note = Checkpoint::new(&genesis().network_id(), DONOR, size, root)
            .sign(&SigningKey::from_bytes(&seed))
            .expect("sign");
        let path = self.dir.join(name);
        std::fs::write(&path, note.to_text()).expect("write the checkpoint");
        path
    }

    /// A proof file of `hashes`.
    fn proof(&self, name: &str, hashes: &[Digest]) -> PathBuf {
        let text: Vec<String> = hashes.iter().map(Digest::to_hex).collect();
        let path = self.dir.join(name);
        std::fs::write(&path, text.join("\n") + "\n").expect("write the proof");
        path
    }

    fn check(&self, old: &Path, new: &Path, proof: Option<&Path>, out: Option<&Path>) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"));
        command
            .args(["checkpoint", "check", "--old"])
            .arg(old)
            .arg("--new")
            .arg(new)
            .arg("--bundle")
            .arg(&self.bundle)
            .arg("--network-id")
            .arg(genesis().network_id().to_string());
        if let Some(proof) = proof {
            command.arg("--proof").arg(proof);
        }
        if let Some(out) = out {
            command.arg("--split-view-out").arg(out);
        }
        command.output().expect("run aidledger")
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn donor_key() -> aidledger_spec::PublicKey {
    aidledger_spec::PublicKey(
        SigningKey::from_bytes(&DONOR_SEED)
            .verifying_key()
            .to_bytes(),
    )
}

#[test]
fn a_newer_checkpoint_of_the_same_chain_extends_the_older() {
    let scene = scene();
    for (m, n) in [(3, 8), (1, 5), (4, 7), (5, 6)] {
        let old = scene.checkpoint("old.checkpoint", &scene.tree, m, DONOR_SEED);
        let new = scene.checkpoint("new.checkpoint", &scene.tree, n, DONOR_SEED);
        let hashes = scene.tree.consistency_proof(m, n).expect("proof");
        let proof = scene.proof("proof.txt", &hashes);
        let output = scene.check(&old, &new, Some(&proof), None);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{m}->{n}:\n{text}");
        assert!(
            text.contains(&format!(
                "CONSISTENT {DONOR}'s checkpoint of {n} record(s) extends the one of {m}"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "consistency proof of {} hash(es) verified",
                hashes.len()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("signed by key {}", donor_key())),
            "{text}"
        );

        // The same proof with one hash changed proves nothing: exit 2, never "consistent".
        if let Some(first) = hashes.first() {
            let mut bad = hashes.clone();
            bad[0] = Digest([first.0[0] ^ 1; 32]);
            let proof = scene.proof("bad.txt", &bad);
            let output = scene.check(&old, &new, Some(&proof), None);
            assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
            assert!(stdout(&output).contains("UNKNOWN   could not check"));
        }
    }

    let same = scene.checkpoint("same.checkpoint", &scene.tree, 6, DONOR_SEED);
    let output = scene.check(&same, &same, None, None);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("SAME      both are"));
}

#[test]
fn checkpoints_of_two_histories_become_a_split_view_proof() {
    let scene = scene();
    // Same size, different roots.
    let ours = scene.checkpoint("ours.checkpoint", &scene.tree, 5, DONOR_SEED);
    let theirs = scene.checkpoint("theirs.checkpoint", &scene.forked, 5, DONOR_SEED);
    let out = scene.dir.join("same-size.split");
    let output = scene.check(&ours, &theirs, None, Some(&out));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("SPLIT VIEW {DONOR} signed two histories")),
        "{text}"
    );
    let proof =
        SplitViewProof::from_bytes(&std::fs::read(&out).expect("written")).expect("decodes");
    assert_eq!(proof.evidence, SplitEvidence::SameSize);
    let view = proof
        .check(&[donor_key()])
        .expect("the proof checks offline");
    assert_eq!(view.org, DONOR);

    // Sizes 3 < 8: the fork's own consistency proof leads from its root at 3, not ours.
    let old = scene.checkpoint("old.checkpoint", &scene.tree, 3, DONOR_SEED);
    let new = scene.checkpoint("new.checkpoint", &scene.forked, 8, DONOR_SEED);
    let hashes = scene.forked.consistency_proof(3, 8).expect("proof");
    let proof_file = scene.proof("fork.txt", &hashes);
    let out = scene.dir.join("prefix.split");
    let output = scene.check(&old, &new, Some(&proof_file), Some(&out));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("SPLIT VIEW"), "{text}");
    assert!(text.contains(&format!(
        "wrote     the split-view proof to {}",
        out.display()
    )));
    let proof =
        SplitViewProof::from_bytes(&std::fs::read(&out).expect("written")).expect("decodes");
    let SplitEvidence::Prefix { prefix_root, .. } = &proof.evidence else {
        panic!("a prefix split view: {:?}", proof.evidence);
    };
    assert_eq!(*prefix_root, scene.forked.root(3).expect("root"));
    proof
        .check(&[donor_key()])
        .expect("the proof checks offline");

    // The --old checkpoint may be the larger one: the check is by size.
    let output = scene.check(&new, &old, Some(&proof_file), None);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("the --old checkpoint is the larger"));
}

#[test]
fn notes_the_organisation_did_not_sign_and_missing_inputs_are_refused() {
    let scene = scene();
    let forged = scene.checkpoint("forged.checkpoint", &scene.tree, 4, IMPLEMENTER_SEED);
    let good = scene.checkpoint("good.checkpoint", &scene.tree, 4, DONOR_SEED);
    let output = scene.check(&good, &forged, None, None);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("not a checkpoint of this network signed by its organisation"),
        "{text}"
    );

    // Different sizes and no proof: could not check.
    let larger = scene.checkpoint("larger.checkpoint", &scene.tree, 6, DONOR_SEED);
    let output = scene.check(&good, &larger, None, None);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(["checkpoint", "check", "--old"])
        .arg(&good)
        .arg("--new")
        .arg(&larger)
        .arg("--bundle")
        .arg(&scene.bundle)
        .env_remove("AIDLEDGER_NETWORK_ID")
        .output()
        .expect("run aidledger");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--network-id"));
}
