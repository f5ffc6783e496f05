//! The governance commands on a bundle, offline, with the real binary: `gov status`, and how
//! `verify`, `provenance`, `show` and `log` treat a record signed with a revoked key; and
//! `key grant` writing a grant file. The bundle is made here: a revocation with a replacement
//! key approved by two of three admins, a pending proposal, and the member's chain continued
//! with the new key at the revoked position.

use std::path::{Path, PathBuf};
use std::process::Command;

use aidledger_cli::governance::grant::GrantFile;
use aidledger_cli::network::build_genesis;
use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{Genesis, Member, Role};
use aidledger_spec::governance::{Approval, Change, KeyGrant, Proposal};
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, Body, PublicKey, RecordDraft, RecordId};
use ed25519_dalek::SigningKey;

const DONOR: &str = "GB-GOV-1";
const IMPLEMENTER: &str = "DK-CVR-20699310";
const AUDITOR: &str = "XM-AUDIT-1";

fn key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32])
}

fn public(byte: u8) -> PublicKey {
    PublicKey(key(byte).verifying_key().to_bytes())
}

fn member(id: &str, role: Role, key_byte: u8) -> Member {
    Member {
        id: id.into(),
        name: format!("{id} name"),
        roles: vec![role],
        signing_keys: vec![public(key_byte)],
        node_keys: vec![],
    }
}

/// The output of one run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn aidledger(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(args)
        .env_remove("AIDLEDGER_DATA_DIR")
        .output()
        .expect("run aidledger");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A network's records, signed in chain order per author.
struct Chains {
    genesis: Genesis,
    heads: std::collections::HashMap<String, (u64, RecordId)>,
}

impl Chains {
    fn sign(&mut self, author: &str, key_byte: u8, body: Body) -> (RecordId, Vec<u8>) {
        let (seq, prev) = match self.heads.get(author) {
            Some((seq, id)) => (seq + 1, *id),
            None => (0, RecordId::ZERO),
        };
        self.sign_at(author, seq, prev, key_byte, body)
    }

    fn sign_at(
        &mut self,
        author: &str,
        seq: u64,
        prev: RecordId,
        key_byte: u8,
        body: Body,
    ) -> (RecordId, Vec<u8>) {
        let draft = RecordDraft {
            network_id: self.genesis.network_id(),
            author: author.into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + seq,
            body,
        };
        let (id, bytes) = sign_record(&draft, &key(key_byte)).expect("signs");
        self.heads.insert(author.into(), (seq, id));
        (id, bytes)
    }
}

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Field report".into(),
        language: "en".into(),
        text: text.into(),
    })
}

/// Ids of the records of interest in the bundle.
struct Story {
    bundle: PathBuf,
    genesis: PathBuf,
    network_id: String,
    revocation: RecordId,
    pending: RecordId,
    earlier: RecordId,
    false_statement: RecordId,
    renewed: RecordId,
}

fn story(dir: &Path) -> Story {
    story_with(dir, false)
}

/// A network of a donor, an implementer and an auditor (keys 1, 2, 3), all admins, 2 of 3.
fn three_admins(name: &str) -> Genesis {
    let genesis = build_genesis(
        name,
        1_700_000_000_000,
        vec![
            member(DONOR, Role::Donor, 1),
            member(IMPLEMENTER, Role::Implementer, 2),
            member(AUDITOR, Role::Auditor, 3),
        ],
        None,
        None,
    )
    .expect("genesis");
    assert_eq!(genesis.admin_rule.threshold, 2);
    genesis
}

/// The story; with `thief_fork`, the bundle also holds an equivocation proof of two records the
/// thief signed with the revoked key at seq 7 (after the revocation point).
fn story_with(dir: &Path, thief_fork: bool) -> Story {
    let genesis = three_admins("governance test");
    let network_id = genesis.network_id();
    let mut chains = Chains {
        genesis: genesis.clone(),
        heads: Default::default(),
    };
    let (_, b0) = chains.sign(IMPLEMENTER, 2, statement("water point 0 handed over"));
    let (earlier, b1) = chains.sign(IMPLEMENTER, 2, statement("water point 1 handed over"));
    let (false_statement, b2) = chains.sign(IMPLEMENTER, 2, statement("The donor never paid."));
    let replacement = KeyGrant::prove(&network_id, IMPLEMENTER, &key(4));
    let (revocation, a0) = chains.sign(
        DONOR,
        1,
        Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change: Change::RevokeKey {
                member: IMPLEMENTER.into(),
                key: public(2),
                from_seq: 2,
                replacement: Some(replacement),
            },
            note: "the implementer's account was hijacked".into(),
        }),
    );
    let (_, c0) = chains.sign(
        AUDITOR,
        3,
        Body::Approval(Approval {
            proposal: revocation,
        }),
    );
    let (pending, a1) = chains.sign(
        DONOR,
        1,
        Body::Proposal(Proposal {
            base: revocation,
            change: Change::SetRoles {
                member: AUDITOR.into(),
                roles: vec![Role::Auditor, Role::Observer],
            },
            note: String::new(),
        }),
    );
    let (renewed, b2_new) = chains.sign_at(
        IMPLEMENTER,
        2,
        earlier,
        4,
        statement("The first tranche was paid on time."),
    );
    let bundle = dir.join("network.bundle");
    let file = std::fs::File::create(&bundle).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle");
    // Bundle order: governance records, the chains, the records held as revoked.
    for record in [&a0, &a1, &c0, &b0, &b1, &b2_new, &b2] {
        writer.record(record).expect("write");
    }
    if thief_fork {
        let (_, first) = chains.sign_at(IMPLEMENTER, 7, earlier, 2, statement("lie one"));
        let (_, second) = chains.sign_at(IMPLEMENTER, 7, earlier, 2, statement("lie two"));
        writer
            .proof(&aidledger_spec::bundle::EquivocationProof { first, second })
            .expect("write the proof");
    }
    writer.finish().expect("finish");
    let genesis_path = dir.join("genesis.bin");
    std::fs::write(&genesis_path, genesis.encode()).expect("write the genesis");
    Story {
        bundle,
        genesis: genesis_path,
        network_id: network_id.to_hex(),
        revocation,
        pending,
        earlier,
        false_statement,
        renewed,
    }
}

fn line_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.lines().find(|line| line.contains(needle))
}

/// A bundle whose proof (first, as nodes export) shows the implementer's seq 0 signed twice:
/// once an approval a thief made with the implementer's key, once its real record. The approval
/// counts for neither side, so the proposal stays pending (FORMAT.md 18.6).
#[test]
fn an_approval_at_a_contested_position_does_not_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let genesis = three_admins("contested test");
    let mut chains = Chains {
        genesis: genesis.clone(),
        heads: Default::default(),
    };
    let (proposal, p0) = chains.sign(
        DONOR,
        1,
        Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change: Change::SetRoles {
                member: AUDITOR.into(),
                roles: vec![Role::Observer],
            },
            note: String::new(),
        }),
    );
    let (_, thief) = chains.sign_at(
        IMPLEMENTER,
        0,
        RecordId::ZERO,
        2,
        Body::Approval(Approval { proposal }),
    );
    let (_, real) = chains.sign_at(IMPLEMENTER, 0, RecordId::ZERO, 2, statement("ours"));
    let bundle = dir.path().join("contested.bundle");
    let file = std::fs::File::create(&bundle).expect("create the bundle");
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle");
    writer
        .proof(&aidledger_spec::bundle::EquivocationProof {
            first: thief.clone(),
            second: real,
        })
        .expect("proof");
    for record in [&p0, &thief] {
        writer.record(record).expect("write");
    }
    writer.finish().expect("finish");
    let bundle = bundle.display().to_string();
    let run = aidledger(&["gov", "status", "--bundle", &bundle, "--json"]);
    let value: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.describe()));
    let text = value.to_string();
    assert!(
        text.contains("\"state\":\"pending\""),
        "the proposal stays pending: {}",
        run.describe()
    );
    assert!(
        !text.contains("\"state\":\"effective\""),
        "{}",
        run.describe()
    );
    // The fork itself is reported: the implementer's key signed two records at seq 0.
    let verify = aidledger(&["verify", "--bundle", &bundle]);
    assert_eq!(verify.code, Some(1), "{}", verify.describe());
    assert!(
        verify.stdout.contains("FORKED at seq 0"),
        "{}",
        verify.describe()
    );
}

#[test]
fn gov_status_shows_members_key_spans_steps_and_pending_proposals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let story = story(dir.path());
    let bundle = story.bundle.display().to_string();
    let run = aidledger(&["gov", "status", "--bundle", &bundle]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let revocation =
        line_with(&run.stdout, &format!("{} by {DONOR}", story.revocation)).unwrap_or_default();
    assert!(
        revocation.contains("effective (step 1)"),
        "{}",
        run.describe()
    );
    let pending =
        line_with(&run.stdout, &format!("{} by {DONOR}", story.pending)).unwrap_or_default();
    assert!(pending.contains("pending 1 of 2"), "{}", run.describe());
    let old_key = line_with(&run.stdout, &format!("key {}", public(2))).unwrap_or_default();
    assert!(
        old_key.contains("seq 0–1") && old_key.contains("revoked from 2"),
        "{}",
        run.describe()
    );
    let new_key = line_with(&run.stdout, &format!("key {}", public(4))).unwrap_or_default();
    assert!(
        new_key.contains("seq 2–") && new_key.contains("replacement"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("2 of 3 must approve"),
        "{}",
        run.describe()
    );

    let json = aidledger(&["gov", "status", "--bundle", &bundle, "--json"]);
    assert_eq!(json.code, Some(0), "{}", json.describe());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["pending"], 1);
    assert_eq!(value["tip"], story.revocation.to_hex());
    assert_eq!(value["proposals"].as_array().map(Vec::len), Some(2));

    let pinned = aidledger(&[
        "gov",
        "status",
        "--bundle",
        &bundle,
        "--network-id",
        &"00".repeat(32),
    ]);
    assert_eq!(pinned.code, Some(1), "{}", pinned.describe());
}

#[test]
fn verify_lists_the_revoked_record_apart_and_stays_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let story = story(dir.path());
    let bundle = story.bundle.display().to_string();
    let run = aidledger(&[
        "verify",
        "--bundle",
        &bundle,
        "--network-id",
        &story.network_id,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let line = line_with(&run.stdout, &story.false_statement.to_hex()).unwrap_or_default();
    assert!(
        line.contains(&format!(
            "signed with key {} after its revocation from seq 2",
            public(2)
        )),
        "{}",
        run.describe()
    );
    assert!(run.stdout.contains("revoked   1 record(s) not valid"));
    assert!(run.stdout.contains("do not make the verdict INVALID"));
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with("governance 1 effective step(s), 1 pending proposal(s)")),
        "{}",
        run.describe()
    );
    assert!(run.stdout.lines().any(|line| line == "VALID"));

    let json = aidledger(&["verify", "--bundle", &bundle, "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["valid"], true);
    assert_eq!(
        value["revoked"][0]["record_id"],
        story.false_statement.to_hex()
    );
    assert_eq!(value["revoked"][0]["code"], "key-revoked");
    assert_eq!(value["governance_summary"]["pending_proposals"], 1);
}

#[test]
fn a_proof_of_two_records_signed_after_the_revocation_point_is_listed_as_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let story = story_with(dir.path(), true);
    let bundle = story.bundle.display().to_string();
    let json = aidledger(&["verify", "--bundle", &bundle, "--json"]);
    assert_eq!(json.code, Some(0), "{}", json.describe());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["valid"], true, "{}", json.stdout);
    let revoked = value["revoked"].as_array().expect("a revoked list");
    assert_eq!(revoked.len(), 2, "{}", json.stdout);
    assert!(revoked
        .iter()
        .any(|entry| entry["seq"] == 7 && entry["code"] == "key-revoked"));
}

#[test]
fn provenance_says_a_record_after_the_revocation_point_is_not_valid_and_shows_key_spans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let story = story(dir.path());
    let bundle = story.bundle.display().to_string();
    let run = aidledger(&[
        "provenance",
        &story.false_statement.to_hex(),
        "--bundle",
        &bundle,
    ]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stdout.contains("NOT VALID")
            && run.stdout.contains("after the revocation point")
            && run.stdout.contains(&story.revocation.to_hex()),
        "{}",
        run.describe()
    );
    for id in [story.earlier, story.renewed] {
        let run = aidledger(&["provenance", &id.to_hex(), "--bundle", &bundle]);
        assert_eq!(run.code, Some(0), "{}", run.describe());
        assert!(
            !run.stdout.to_lowercase().contains("not valid"),
            "{}",
            run.describe()
        );
        assert!(
            line_with(&run.stdout, &format!("  key {}", public(4)))
                .is_some_and(|line| line.contains("seq 2– (replacement")),
            "{}",
            run.describe()
        );
    }
    let proposal = aidledger(&["provenance", &story.pending.to_hex(), "--bundle", &bundle]);
    assert!(
        proposal.stdout.contains("pending 1 of 2"),
        "{}",
        proposal.describe()
    );
    let revocation = aidledger(&[
        "provenance",
        &story.revocation.to_hex(),
        "--bundle",
        &bundle,
    ]);
    assert!(
        revocation
            .stdout
            .contains(&format!("approval {AUDITOR} seq 0"))
            && revocation.stdout.contains("effective (step 1)"),
        "{}",
        revocation.describe()
    );
    let json = aidledger(&[
        "provenance",
        &story.false_statement.to_hex(),
        "--bundle",
        &bundle,
        "--json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["valid"], false);
    assert_eq!(value["revoked"]["code"], "key-revoked");
}

#[test]
fn show_and_log_mark_the_revoked_record_and_read_the_rotated_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let story = story(dir.path());
    let bundle = story.bundle.display().to_string();
    let run = aidledger(&["show", &story.false_statement.to_hex(), "--bundle", &bundle]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stdout.contains("NOT VALID"), "{}", run.describe());
    let run = aidledger(&["show", &story.renewed.to_hex(), "--bundle", &bundle]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let run = aidledger(&["show", &story.revocation.to_hex(), "--bundle", &bundle]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("change    revoke-key") && run.stdout.contains("from seq  2"),
        "{}",
        run.describe()
    );
    let run = aidledger(&["log", IMPLEMENTER, "--bundle", &bundle]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("NOT VALID"), "{}", run.describe());
    assert!(
        run.stdout.contains(&story.renewed.to_hex()),
        "{}",
        run.describe()
    );
}

#[test]
fn key_grant_writes_a_grant_for_the_genesis_network_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let story = story(dir.path());
    let key_file = dir.path().join("new.key");
    let made = aidledger(&["keygen", "--out", &key_file.display().to_string()]);
    assert_eq!(made.code, Some(0), "{}", made.describe());
    let new_key = made.stdout.trim().to_owned();
    let out = dir.path().join("replacement.grant");
    let args = [
        "key",
        "grant",
        "--key",
        &key_file.display().to_string(),
        "--member",
        IMPLEMENTER,
        "--genesis",
        &story.genesis.display().to_string(),
        "--out",
        &out.display().to_string(),
    ];
    let run = aidledger(&args);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let grant = GrantFile::read(&out).expect("a grant file");
    assert_eq!(grant.key.to_hex(), new_key);
    assert_eq!(grant.network_id.to_hex(), story.network_id);
    grant
        .check(&grant.network_id, IMPLEMENTER)
        .expect("the proof verifies");
    let again = aidledger(&args);
    assert_eq!(again.code, Some(2), "{}", again.describe());

    let to_stdout = aidledger(&[
        "key",
        "grant",
        "--key",
        &key_file.display().to_string(),
        "--member",
        IMPLEMENTER,
        "--network-id",
        &story.network_id,
    ]);
    assert_eq!(to_stdout.code, Some(0), "{}", to_stdout.describe());
    let printed: GrantFile = serde_json::from_str(&to_stdout.stdout).expect("a grant");
    assert_eq!(printed, grant);

    let no_network = aidledger(&[
        "key",
        "grant",
        "--key",
        &key_file.display().to_string(),
        "--member",
        IMPLEMENTER,
    ]);
    assert_eq!(no_network.code, Some(2), "{}", no_network.describe());
}

#[test]
fn gov_propose_takes_its_common_flags_after_the_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-node");
    let run = aidledger(&[
        "gov",
        "propose",
        "remove-member",
        "--member",
        IMPLEMENTER,
        "--note",
        "left the programme",
        "--data-dir",
        &missing.display().to_string(),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains("endpoints.json"),
        "the flags parsed and the node was looked for: {}",
        run.describe()
    );
    let run = aidledger(&["gov", "approve", "not-hex", "--data-dir", "x"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
}

/// A witness policy set by two of three admins: `gov status` names it (k of n, each witness's
/// vkey to copy), and before it took effect says there is none.
#[test]
fn gov_status_shows_the_witness_policy_in_force() {
    use aidledger_spec::governance::WitnessEntry;
    use aidledger_spec::note::{KeyType, VerifierKey};

    let dir = tempfile::tempdir().expect("temp dir");
    let genesis = three_admins("witness policy");
    let mut chains = Chains {
        genesis: genesis.clone(),
        heads: Default::default(),
    };
    let witnesses: Vec<WitnessEntry> = [
        ("witness.example.org/w1", 21),
        ("witness.example.org/w2", 22),
    ]
    .iter()
    .map(|(name, byte)| WitnessEntry {
        name: (*name).into(),
        key: public(*byte),
    })
    .collect();
    let vkeys: Vec<String> = witnesses
        .iter()
        .map(|entry| {
            VerifierKey::new(&entry.name, KeyType::Cosignature, entry.key)
                .expect("vkey")
                .to_vkey()
        })
        .collect();
    let (proposal, p0) = chains.sign(
        DONOR,
        1,
        Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change: Change::SetWitnesses {
                witnesses,
                threshold: 1,
            },
            note: String::new(),
        }),
    );
    let (_, a0) = chains.sign(AUDITOR, 3, Body::Approval(Approval { proposal }));
    let write = |name: &str, records: &[&Vec<u8>]| {
        let path = dir.path().join(name);
        let file = std::fs::File::create(&path).expect("create the bundle");
        let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle");
        for record in records {
            writer.record(record).expect("write");
        }
        writer.finish().expect("finish");
        path.display().to_string()
    };

    let pending = write("pending.bundle", &[&p0]);
    let run = aidledger(&["gov", "status", "--bundle", &pending]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("witnesses none (no witness policy)"),
        "{}",
        run.describe()
    );

    let effective = write("effective.bundle", &[&p0, &a0]);
    let run = aidledger(&["gov", "status", "--bundle", &effective]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout
            .contains("witnesses 1 of 2 must cosign a checkpoint"),
        "{}",
        run.describe()
    );
    for vkey in &vkeys {
        assert!(
            run.stdout.contains(&format!("  witness {vkey}")),
            "{}",
            run.describe()
        );
    }
    let step = line_with(&run.stdout, "1. ").unwrap_or_default();
    assert!(
        step.contains("witness policy 1 of 2: witness.example.org/w1, witness.example.org/w2"),
        "{}",
        run.describe()
    );
}
