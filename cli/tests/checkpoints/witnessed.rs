//! `aidledger verify` of bundles that carry cosigned checkpoints and split views (bundle
//! version 2, FORMAT.md §13.3), and `verify --witnessed` / `--witness URL` (issue 21): on the
//! governance test network, whose `set-witnesses` scenario puts 2 of (w1, w2) in force, with
//! three statements appended to the donor's chain. Checkpoints are signed with the members'
//! keys and cosigned with the witnesses' keys of the vectors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::cosignature;
use aidledger_spec::merkle::MemoryTree;
use aidledger_spec::record::Statement;
use aidledger_spec::splitview::{SplitEvidence, SplitViewProof};
use aidledger_spec::{Body, Digest, Genesis, NetworkId, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;
use serde_json::json;

use crate::governance_vectors::{
    governance_genesis, scenarios, OBSERVER, OBSERVER_SEED, WITNESSES,
};
use crate::mirror_views::serve;
use crate::vector_set::{
    self, AUDITOR, AUDITOR_SEED, CREATED_MS, DONOR, DONOR_SEED, IMPLEMENTER, IMPLEMENTER_SEED,
    OUTSIDER_SEED,
};

/// Statements appended to the donor's chain after its governance records.
const STATEMENTS: u64 = 3;
/// The time the witnesses cosign at (POSIX seconds).
const COSIGNED_AT: u64 = 1_700_000_100;

fn seed_of(org: &str) -> [u8; 32] {
    match org {
        DONOR => DONOR_SEED,
        IMPLEMENTER => IMPLEMENTER_SEED,
        AUDITOR => AUDITOR_SEED,
        OBSERVER => OBSERVER_SEED,
        other => panic!("no seed for {other}"),
    }
}

/// The network: every record in bundle order (governance records, then the donor's
/// statements) and each chain's record ids in seq order.
struct Net {
    genesis: Genesis,
    records: Vec<Vec<u8>>,
    chains: BTreeMap<String, Vec<RecordId>>,
}

fn net() -> Net {
    let genesis = governance_genesis();
    let scenario = scenarios()
        .into_iter()
        .find(|scenario| scenario.name == "set-witnesses")
        .expect("the set-witnesses scenario");
    let mut records = Vec::new();
    let mut chains: BTreeMap<String, Vec<RecordId>> = BTreeMap::new();
    for entry in &scenario.entries {
        records.push(entry.bytes.clone());
        chains
            .entry(entry.author.into())
            .or_default()
            .push(entry.id);
    }
    let donor = chains.entry(DONOR.into()).or_default();
    for _ in 0..STATEMENTS {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: DONOR.into(),
            seq: donor.len() as u64,
            prev: donor.last().copied().unwrap_or(Digest::ZERO),
            timestamp_ms: CREATED_MS + 3_600_000 + donor.len() as u64,
            body: Body::Statement(Statement {
                title: format!("Statement {}", donor.len()),
                language: "en".into(),
                text: "Funds were disbursed as planned.".into(),
            }),
        };
        let (id, bytes) = vector_set::sign(&draft, &SigningKey::from_bytes(&DONOR_SEED));
        donor.push(id);
        records.push(bytes);
    }
    Net {
        genesis,
        records,
        chains,
    }
}

impl Net {
    fn network(&self) -> NetworkId {
        self.genesis.network_id()
    }

    /// `org`'s checkpoint of the tree over `ids`, signed with `seed` and cosigned by the
    /// witnesses at `witnesses`.
    fn note_over(
        &self,
        org: &str,
        ids: &[RecordId],
        seed: [u8; 32],
        witnesses: &[usize],
    ) -> String {
        let size = ids.len() as u64;
        let root = MemoryTree::of_record_ids(ids).root(size).expect("root");
        let mut note = Checkpoint::new(&self.network(), org, size, root)
            .sign(&SigningKey::from_bytes(&seed))
            .expect("signs");
        for index in witnesses {
            let (name, witness_seed) = WITNESSES[*index];
            let line = cosignature::sign(
                &note.text,
                name,
                &SigningKey::from_bytes(&witness_seed),
                COSIGNED_AT,
            )
            .expect("cosigns");
            note.signatures.push(line);
        }
        note.to_text()
    }

    /// `org`'s checkpoint of its whole chain, cosigned by `witnesses`.
    fn note(&self, org: &str, witnesses: &[usize]) -> String {
        self.note_over(org, &self.chains[org], seed_of(org), witnesses)
    }

    /// Every chain's checkpoint, cosigned by both witnesses.
    fn cosigned_notes(&self) -> Vec<String> {
        self.chains
            .keys()
            .map(|org| self.note(org, &[0, 1]))
            .collect()
    }

    /// A bundle of the records but the last `held_back` (the donor's statements come last),
    /// carrying `checkpoints` and `split_views` (version 2 when there are any).
    fn bundle(
        &self,
        path: &Path,
        held_back: usize,
        checkpoints: &[String],
        split_views: &[SplitViewProof],
    ) {
        let file = std::fs::File::create(path).expect("create the bundle");
        let genesis = self.genesis.encode();
        let mut writer = if checkpoints.is_empty() && split_views.is_empty() {
            BundleWriter::new(file, &genesis)
        } else {
            BundleWriter::new_v2(file, &genesis)
        }
        .expect("bundle header");
        for proof in split_views {
            writer.split_view(proof).expect("write a split view");
        }
        for bytes in &self.records[..self.records.len() - held_back] {
            writer.record(bytes).expect("write a record");
        }
        for note in checkpoints {
            writer.checkpoint(note).expect("write a checkpoint");
        }
        writer.finish().expect("finish the bundle");
    }

    /// The donor's checkpoint of a fork of its chain at the same size (last record replaced).
    fn forked_donor_note(&self, seed: [u8; 32]) -> String {
        let mut fork = self.chains[DONOR].clone();
        let last = fork.len() - 1;
        fork[last] = Digest([0xfe; 32]);
        self.note_over(DONOR, &fork, seed, &[])
    }
}

fn verify(net: &Net, bundle: &Path, extra: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .arg("verify")
        .arg("--bundle")
        .arg(bundle)
        .arg("--network-id")
        .arg(net.network().to_string())
        .args(extra)
        .output()
        .expect("run aidledger")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn a_bundle_carrying_cosigned_checkpoints_is_witnessed() {
    let net = net();
    let (_dir, dir) = temp();
    let bundle = dir.join("witnessed.bundle");
    net.bundle(&bundle, 0, &net.cosigned_notes(), &[]);

    for extra in [&[][..], &["--witnessed"]] {
        let output = verify(&net, &bundle, extra);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{extra:?}\n{text}");
        assert_eq!(text.lines().last(), Some("VALID"), "{text}");
        for (org, ids) in &net.chains {
            let line = format!(
                "witnessed {org}: at size {} by 2 of 2 witness(es) (2 needed)",
                ids.len()
            );
            assert!(text.lines().any(|found| found == line), "{line}\n{text}");
            assert!(
                text.lines().any(
                    |found| found.starts_with("checkpoint carried by the source:")
                        && found.contains(&format!("{org}'s chain holds the signed checkpoint"))
                ),
                "{org}\n{text}"
            );
        }
    }
    let output = verify(&net, &bundle, &["--witnessed", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["valid"], json!(true));
    assert_eq!(value["witnessed"]["threshold"], json!(2));
    assert_eq!(value["witnessed"]["required"], json!(true));
    let chains = value["witnessed"]["chains"].as_array().expect("chains");
    assert_eq!(chains.len(), net.chains.len());
    assert!(chains
        .iter()
        .all(|chain| chain["witnessed"] == json!(true) && chain["cosigned_by"] == json!(2)));

    // `aidledger export` of a version 2 bundle keeps it, byte for byte.
    let copy = dir.join("copy.bundle");
    let exported = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .arg("export")
        .arg("--bundle")
        .arg(&bundle)
        .arg("--out")
        .arg(&copy)
        .output()
        .expect("run aidledger");
    assert_eq!(exported.status.code(), Some(0), "{exported:?}");
    assert_eq!(
        std::fs::read(&copy).expect("the copy"),
        std::fs::read(&bundle).expect("the bundle")
    );
}

#[test]
fn a_chain_short_of_the_policy_is_not_witnessed_and_witnessed_then_fails() {
    let net = net();
    let (_dir, dir) = temp();
    let bundle = dir.join("one-witness.bundle");
    // The donor's checkpoint carries w1's cosignature only: 1 of the 2 needed.
    let notes: Vec<String> = net
        .chains
        .keys()
        .map(|org| net.note(org, if org == DONOR { &[0] } else { &[0, 1] }))
        .collect();
    net.bundle(&bundle, 0, &notes, &[]);
    let output = verify(&net, &bundle, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "witnessed {DONOR}: NOT witnessed: no checkpoint of its chain that this source holds carries the cosignatures of 2 of the 2 witness(es)"
        )),
        "{text}"
    );
    let output = verify(&net, &bundle, &["--witnessed"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().last(), Some("INVALID"), "{text}");
    // A chain with no checkpoint at all is not witnessed either.
    let bare = dir.join("bare.bundle");
    net.bundle(&bare, 0, &[], &[]);
    let output = verify(&net, &bare, &["--witnessed"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("witnessed {AUDITOR}: NOT witnessed")),
        "{text}"
    );
}

#[test]
fn witnessed_catches_a_bundle_that_holds_back_records_a_witness_cosigned() {
    let net = net();
    let (_dir, dir) = temp();
    // The bundle leaves out the donor's newest statement and carries no checkpoint.
    let bundle = dir.join("held-back.bundle");
    net.bundle(&bundle, 1, &[], &[]);
    // A witness serving the cosigned checkpoints, and one of another network (left out).
    let mut notes = net.cosigned_notes();
    let other = vector_set::genesis().network_id();
    let foreign_root = MemoryTree::of_record_ids(&[Digest([7; 32])])
        .root(1)
        .expect("root");
    notes.push(
        Checkpoint::new(&other, DONOR, 1, foreign_root)
            .sign(&SigningKey::from_bytes(&DONOR_SEED))
            .expect("signs")
            .to_text(),
    );
    let answer = json!({
        "witness": "witness.example.org/w1+00000000+AA==",
        "checkpoints": notes,
        "split_views": [],
    });
    let witness = serve(BTreeMap::from([(
        "/api/witness".to_owned(),
        (200, answer.to_string().into_bytes()),
    )]));

    let held = net.chains[DONOR].len();
    for extra in [
        &["--witness", &witness][..],
        &["--witness", &witness, "--witnessed"],
    ] {
        let output = verify(&net, &bundle, extra);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{extra:?}\n{text}");
        assert!(
            text.lines()
                .any(|line| line.contains(&format!("witness {witness}"))
                    && line
                        .contains("the bundle holds back records the organisation has signed for")
                    && line.contains(&format!(
                        "{DONOR} signed a checkpoint of {held} record(s), the source has {}",
                        held - 1
                    ))),
            "{text}"
        );
        // The other network's note was not judged.
        assert_eq!(
            text.lines()
                .filter(|line| line.starts_with("checkpoint witness"))
                .count(),
            net.chains.len(),
            "{text}"
        );
    }
    // The whole bundle holds them: valid and witnessed.
    let whole = dir.join("whole.bundle");
    net.bundle(&whole, 0, &[], &[]);
    let output = verify(&net, &whole, &["--witness", &witness, "--witnessed"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // A witness that cannot be reached, or answers garbage: could not run.
    let garbage = serve(BTreeMap::from([(
        "/api/witness".to_owned(),
        (200, b"not json".to_vec()),
    )]));
    for url in [garbage.as_str(), "http://127.0.0.1:9"] {
        let output = verify(&net, &whole, &["--witness", url]);
        assert_eq!(output.status.code(), Some(2), "{url}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(&format!("witness {url}")),
            "{output:?}"
        );
    }
}

#[test]
fn witnessed_without_a_witness_policy_cannot_run() {
    let net = net();
    let (_dir, dir) = temp();
    // The network of genesis.json: no set-witnesses change ever took effect.
    let genesis = vector_set::genesis();
    let bundle = dir.join("no-policy.bundle");
    let file = std::fs::File::create(&bundle).expect("create");
    BundleWriter::new(file, &genesis.encode())
        .expect("header")
        .finish()
        .expect("finish");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(["verify", "--witnessed", "--network-id"])
        .arg(genesis.network_id().to_string())
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .expect("run aidledger");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("sets no witness policy"), "{error}");
    // Without --witnessed the same bundle verifies and says so.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(["verify", "--network-id"])
        .arg(genesis.network_id().to_string())
        .arg("--bundle")
        .arg(&bundle)
        .output()
        .expect("run aidledger");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("witnessed no chain: the governance sets no witness policy"));
    drop(net);
}

#[test]
fn a_carried_split_view_makes_the_bundle_invalid() {
    let net = net();
    let (_dir, dir) = temp();
    let truth = net.note(DONOR, &[]);
    let proven = SplitViewProof {
        first: net.forked_donor_note(DONOR_SEED),
        second: truth.clone(),
        evidence: SplitEvidence::SameSize,
    };
    let bundle = dir.join("split.bundle");
    net.bundle(&bundle, 0, &[], &[proven]);
    let output = verify(&net, &bundle, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let size = net.chains[DONOR].len();
    assert!(
        text.lines().any(
            |line| line.starts_with("split view (carried by the source): ")
                && line.contains(&format!(
                    "{DONOR} SIGNED TWO HISTORIES of its chain: size {size} root"
                ))
        ),
        "{text}"
    );
    let output = verify(&net, &bundle, &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["valid"], json!(false));
    assert_eq!(value["split_views"][0]["verdict"], json!("split view"));
    assert_eq!(value["split_views"][0]["org"], json!(DONOR));

    // Notes the donor did not sign prove nothing: carried, the bundle is invalid for it.
    let unproven = SplitViewProof {
        first: net.forked_donor_note(OUTSIDER_SEED),
        second: truth,
        evidence: SplitEvidence::SameSize,
    };
    let bundle = dir.join("unproven.bundle");
    net.bundle(&bundle, 0, &[], std::slice::from_ref(&unproven));
    let output = verify(&net, &bundle, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "split view (carried by the source): FAILS: a split-view proof against {DONOR} that proves nothing: first checkpoint"
        )),
        "{text}"
    );
    // Served by a witness, the same proof is reported and says nothing of the bundle.
    use aidledger_spec::codec::Codec;
    let answer = json!({
        "witness": "witness.example.org/w1+00000000+AA==",
        "checkpoints": [],
        "split_views": [hex::encode(unproven.to_bytes())],
    });
    let witness = serve(BTreeMap::from([(
        "/api/witness".to_owned(),
        (200, answer.to_string().into_bytes()),
    )]));
    let whole = dir.join("whole.bundle");
    net.bundle(&whole, 0, &[], &[]);
    let output = verify(&net, &whole, &["--witness", &witness]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("split view (witness {witness}")) && text.contains("proves nothing"),
        "{text}"
    );
}

/// The proof packet of the donor's first statement in its checkpoint cosigned by `witnesses`,
/// carrying every governance record (the set-witnesses scenario: 2 of (w1, w2) in force).
fn packet(net: &Net, witnesses: &[usize]) -> Vec<u8> {
    use aidledger_spec::merkle::InclusionProof;
    use aidledger_spec::packet::ProofPacket;
    let chain = &net.chains[DONOR];
    let seq = chain.len() - STATEMENTS as usize;
    let size = chain.len() as u64;
    ProofPacket {
        genesis: net.genesis.encode(),
        governance: net.records[..net.records.len() - STATEMENTS as usize].to_vec(),
        record: net.records[net.records.len() - STATEMENTS as usize].clone(),
        inclusion: InclusionProof {
            leaf_index: seq as u64,
            tree_size: size,
            path: MemoryTree::of_record_ids(chain)
                .inclusion_proof(seq as u64, size)
                .expect("a proof"),
        },
        checkpoint: net.note(DONOR, witnesses),
        order: None,
    }
    .to_packet_bytes()
}

#[test]
fn a_proof_packet_is_judged_against_its_governance_s_witness_policy() {
    let net = net();
    let (_dir, dir) = temp();
    let run = |name: &str, witnesses: &[usize], extra: &[&str]| -> (Output, String) {
        let file = dir.join(name);
        std::fs::write(&file, packet(&net, witnesses)).expect("write the packet");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .arg("verify")
            .arg("--proof")
            .arg(&file)
            .arg("--network-id")
            .arg(net.network().to_string())
            .args(extra)
            .output()
            .expect("run aidledger");
        let text = stdout(&output);
        (output, text)
    };
    let (output, text) = run("both.proof", &[0, 1], &[]);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("witnessed: cosigned by 2 of the 2 witness(es) of the witness policy in the packet's governance (2 needed)"),
        "{text}"
    );
    let (output, _) = run("both-json.proof", &[0, 1], &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["witnessed"], json!(true));
    assert_eq!(value["witness_policy"], json!("governance"));
    assert_eq!(value["cosigned_by"], json!(2));

    // One cosignature of the two needed: the checkpoint does not meet the witness policy of
    // the packet's own governance, which the packet is held to (exit 1, as with --witness-key).
    let (output, text) = run("one.proof", &[0], &[]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("INVALID proof packet")
            && text.contains("(check: not-witnessed)")
            && text.contains(
                "the packet's governance sets the witness policy its checkpoint must meet"
            ),
        "{text}"
    );
    let (output, _) = run("one-json.proof", &[0], &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["valid"], json!(false));
    assert_eq!(value["check"], json!("not-witnessed"));
    assert_eq!(value["witness_policy"], json!("governance"));

    // The reader's own witness keys take the place of the governance's policy.
    let w1 = crate::governance_vectors::witness_vkey(0);
    let (output, text) = run(
        "given.proof",
        &[0],
        &["--witness-key", &w1, "--witnesses-needed", "1"],
    );
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("witnessed: cosigned by 1 of the 1 witness(es) given (1 needed)"),
        "{text}"
    );
}

#[test]
fn a_split_view_across_a_revocation_the_bundle_shows_is_explained() {
    use crate::governance_vectors::REPLACEMENT_SEED;
    use aidledger_spec::signed::peek_body_kind;
    use aidledger_spec::BodyKind;
    // A thief signs the implementer's seq 2 and 3; the admins revoke its key from seq 2 and
    // the implementer continues at seq 2 with a replacement key.
    let scenario = scenarios()
        .into_iter()
        .find(|scenario| scenario.name == "revocation-with-replacement")
        .expect("the revocation scenario");
    let genesis = governance_genesis();
    let network = genesis.network_id();
    let id_of = |label: &str| {
        scenario
            .entries
            .iter()
            .find(|entry| entry.label == label)
            .unwrap_or_else(|| panic!("no entry {label}"))
            .id
    };
    let old = [
        id_of("implementer-0"),
        id_of("implementer-1"),
        id_of("thief-2"),
    ];
    let new = [
        id_of("implementer-0"),
        id_of("implementer-1"),
        id_of("implementer-continues-2"),
    ];
    let note = |ids: &[RecordId], seed: [u8; 32]| {
        let root = MemoryTree::of_record_ids(ids).root(3).expect("root");
        Checkpoint::new(&network, IMPLEMENTER, 3, root)
            .sign(&SigningKey::from_bytes(&seed))
            .expect("signs")
            .to_text()
    };
    let (_dir, dir) = temp();
    let write = |name: &str, proof: SplitViewProof| -> PathBuf {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).expect("create");
        let mut writer = BundleWriter::new_v2(file, &genesis.encode()).expect("header");
        writer.split_view(&proof).expect("split view");
        let governance = |entry: &&crate::governance_vectors::Entry| {
            peek_body_kind(&entry.bytes)
                .and_then(BodyKind::from_wire)
                .is_some_and(BodyKind::is_governance)
        };
        for entry in scenario.entries.iter().filter(governance) {
            writer.record(&entry.bytes).expect("record");
        }
        for entry in scenario.entries.iter().filter(|entry| !governance(entry)) {
            writer.record(&entry.bytes).expect("record");
        }
        writer.finish().expect("finish");
        path
    };
    let run = |bundle: &Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .args(["verify", "--network-id", &network.to_string(), "--bundle"])
            .arg(bundle)
            .output()
            .expect("run aidledger");
        let text = stdout(&output);
        (output.status.code(), text)
    };
    // The old history (signed with the revoked key) and the new one (the replacement key).
    let explained = write(
        "explained.bundle",
        SplitViewProof {
            first: note(&old, IMPLEMENTER_SEED),
            second: note(&new, REPLACEMENT_SEED),
            evidence: SplitEvidence::SameSize,
        },
    );
    let (code, text) = run(&explained);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "split view (carried by the source): {IMPLEMENTER}'s two checkpoints differ after seq 2, from which the governance revoked its chain; both are histories this source shows, so it is explained (not a split view)"
        )),
        "{text}"
    );
    // A first checkpoint of a history the bundle does not show is not explained by it.
    let unshown = [old[0], old[1], Digest([0xfe; 32])];
    let proven = write(
        "proven.bundle",
        SplitViewProof {
            first: note(&unshown, IMPLEMENTER_SEED),
            second: note(&new, REPLACEMENT_SEED),
            evidence: SplitEvidence::SameSize,
        },
    );
    let (code, text) = run(&proven);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{IMPLEMENTER} SIGNED TWO HISTORIES")),
        "{text}"
    );
}
