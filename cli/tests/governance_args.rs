//! `gov propose CHANGE …` flags become the right change, and key grant files round-trip and
//! are checked: the library functions the `aidledger gov` and `aidledger key` commands call.

use std::path::Path;

use aidledger_cli::governance::compose::{
    compose_change, proposal_body, ProposeChange, ProposeContext,
};
use aidledger_cli::governance::grant::GrantFile;
use aidledger_cli::governance::GovError;
use aidledger_spec::genesis::{AdminRule, Role};
use aidledger_spec::governance::Change;
use aidledger_spec::redaction::{RedactedRecord, RedactionCategory};
use aidledger_spec::{Body, NetworkId, PublicKey, RecordId};
use clap::Parser;
use ed25519_dalek::SigningKey;

#[derive(Parser)]
struct Propose {
    #[command(subcommand)]
    change: ProposeChange,
}

/// A node that answers from fixed values, and counts what it was asked.
struct FakeNode {
    network_id: NetworkId,
    next_seq: u64,
    asked_next_seq: Vec<String>,
}

impl FakeNode {
    fn new() -> FakeNode {
        FakeNode {
            network_id: NetworkId::from_hex(&"ab".repeat(32)).expect("hex"),
            next_seq: 7,
            asked_next_seq: Vec::new(),
        }
    }
}

impl ProposeContext for FakeNode {
    fn network_id(&mut self) -> Result<NetworkId, GovError> {
        Ok(self.network_id)
    }
    fn next_seq(&mut self, member: &str) -> Result<u64, GovError> {
        self.asked_next_seq.push(member.to_owned());
        Ok(self.next_seq)
    }
}

fn key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32])
}

fn public(byte: u8) -> PublicKey {
    PublicKey(key(byte).verifying_key().to_bytes())
}

fn hex_of(byte: u8) -> String {
    public(byte).to_hex()
}

fn compose(args: &[&str], node: &mut FakeNode) -> Result<Change, GovError> {
    let mut all = vec!["propose"];
    all.extend_from_slice(args);
    let parsed = Propose::try_parse_from(all).unwrap_or_else(|error| panic!("{error}"));
    compose_change(&parsed.change, node)
}

#[test]
fn add_member_sorts_roles_and_keys_and_drops_repeats() {
    let (low, high) = if public(1) < public(2) {
        (public(1), public(2))
    } else {
        (public(2), public(1))
    };
    let change = compose(
        &[
            "add-member",
            "--id",
            "NL-KVK-41150535",
            "--name",
            "Dutch Water Works",
            "--role",
            "observer,implementer",
            "--role",
            "implementer",
            "--signing-key",
            &high.to_hex(),
            "--signing-key",
            &low.to_hex(),
            "--node-key",
            &hex_of(3),
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    let Change::AddMember { member } = &change else {
        panic!("not add-member: {change:?}");
    };
    assert_eq!(member.id, "NL-KVK-41150535");
    assert_eq!(member.name, "Dutch Water Works");
    assert_eq!(member.roles, vec![Role::Implementer, Role::Observer]);
    assert_eq!(member.signing_keys, vec![low, high]);
    assert_eq!(member.node_keys, vec![public(3)]);
    proposal_body(RecordId::ZERO, change, "welcome".into()).expect("passes the field rules");
}

#[test]
fn add_member_needs_a_role_and_a_signing_key() {
    let missing_key = Propose::try_parse_from([
        "propose",
        "add-member",
        "--id",
        "X-1",
        "--name",
        "X",
        "--role",
        "donor",
    ]);
    assert!(missing_key.is_err());
    let missing_role = Propose::try_parse_from([
        "propose",
        "add-member",
        "--id",
        "X-1",
        "--name",
        "X",
        "--signing-key",
        &hex_of(1),
    ]);
    assert!(missing_role.is_err());
}

#[test]
fn rejects_an_unknown_role_and_a_short_key() {
    let error = compose(
        &["set-roles", "--member", "GB-GOV-1", "--role", "banker"],
        &mut FakeNode::new(),
    )
    .expect_err("banker is not a role");
    assert!(error.to_string().contains("--role"), "{error}");
    let error = compose(
        &[
            "revoke-key",
            "--member",
            "GB-GOV-1",
            "--key",
            "abcd",
            "--from-seq",
            "3",
        ],
        &mut FakeNode::new(),
    )
    .expect_err("a short key");
    assert!(error.to_string().contains("--key"), "{error}");
}

#[test]
fn remove_member_defaults_from_seq_to_one_past_the_head_the_node_sees() {
    let mut node = FakeNode::new();
    let change = compose(&["remove-member", "--member", "NL-KVK-1"], &mut node).expect("composes");
    assert_eq!(
        change,
        Change::RemoveMember {
            member: "NL-KVK-1".into(),
            from_seq: 7
        }
    );
    assert_eq!(node.asked_next_seq, vec!["NL-KVK-1".to_owned()]);

    let mut node = FakeNode::new();
    let change = compose(
        &["remove-member", "--member", "NL-KVK-1", "--from-seq", "2"],
        &mut node,
    )
    .expect("composes");
    assert_eq!(
        change,
        Change::RemoveMember {
            member: "NL-KVK-1".into(),
            from_seq: 2
        }
    );
    assert!(
        node.asked_next_seq.is_empty(),
        "an explicit seq asks nothing"
    );
}

#[test]
fn set_roles_and_set_node_keys() {
    let change = compose(
        &[
            "set-roles",
            "--member",
            "GB-GOV-1",
            "--role",
            "auditor",
            "--role",
            "donor",
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    assert_eq!(
        change,
        Change::SetRoles {
            member: "GB-GOV-1".into(),
            roles: vec![Role::Donor, Role::Auditor]
        }
    );
    let change = compose(
        &[
            "set-node-keys",
            "--member",
            "GB-GOV-1",
            "--node-key",
            &hex_of(4),
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    assert_eq!(
        change,
        Change::SetNodeKeys {
            member: "GB-GOV-1".into(),
            node_keys: vec![public(4)]
        }
    );
    let change = compose(
        &["set-node-keys", "--member", "GB-GOV-1", "--none"],
        &mut FakeNode::new(),
    )
    .expect("composes");
    assert_eq!(
        change,
        Change::SetNodeKeys {
            member: "GB-GOV-1".into(),
            node_keys: vec![]
        }
    );
    assert!(
        Propose::try_parse_from(["propose", "set-node-keys", "--member", "GB-GOV-1"]).is_err(),
        "set-node-keys without keys must say --none"
    );
}

#[test]
fn set_admin_rule_sorts_admins_and_the_body_checks_the_threshold() {
    let change = compose(
        &[
            "set-admin-rule",
            "--admin",
            "XM-AUDIT-1,GB-GOV-1",
            "--admin",
            "DK-CVR-1",
            "--threshold",
            "2",
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    assert_eq!(
        change,
        Change::SetAdminRule {
            rule: AdminRule {
                admins: vec!["DK-CVR-1".into(), "GB-GOV-1".into(), "XM-AUDIT-1".into()],
                threshold: 2
            }
        }
    );
    let too_high = compose(
        &["set-admin-rule", "--admin", "GB-GOV-1", "--threshold", "2"],
        &mut FakeNode::new(),
    )
    .expect("composes");
    let error = proposal_body(RecordId::ZERO, too_high, String::new())
        .expect_err("2 of 1 admins breaks the field rules");
    assert!(error.to_string().contains("threshold"), "{error}");
}

/// The vkey (type cosignature) of a witness named `name` with the key of seed `seed`.
fn witness_vkey(name: &str, seed: u8) -> String {
    aidledger_spec::note::VerifierKey::new(
        name,
        aidledger_spec::note::KeyType::Cosignature,
        aidledger_spec::signature::public_key_of(&key(seed)),
    )
    .expect("a vkey")
    .to_vkey()
}

#[test]
fn set_witnesses_sorts_by_name_and_refuses_other_key_types() {
    let (w1, w2) = (
        witness_vkey("witness.example.org/w1", 21),
        witness_vkey("witness.example.org/w2", 22),
    );
    let change = compose(
        &[
            "set-witnesses",
            "--witness",
            &w2,
            "--witness",
            &w1,
            "--threshold",
            "2",
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    let Change::SetWitnesses {
        witnesses,
        threshold,
    } = &change
    else {
        panic!("{change:?}");
    };
    assert_eq!(*threshold, 2);
    let names: Vec<&str> = witnesses.iter().map(|entry| entry.name.as_str()).collect();
    assert_eq!(names, ["witness.example.org/w1", "witness.example.org/w2"]);
    assert_eq!(
        witnesses[0].key,
        aidledger_spec::signature::public_key_of(&key(21))
    );
    proposal_body(RecordId::ZERO, change, String::new()).expect("passes the field rules");

    // No policy: no witnesses and threshold 0.
    let none = compose(&["set-witnesses", "--none"], &mut FakeNode::new()).expect("composes");
    assert_eq!(
        none,
        Change::SetWitnesses {
            witnesses: vec![],
            threshold: 0
        }
    );
    assert!(Propose::try_parse_from(["propose", "set-witnesses", "--threshold", "1"]).is_err());

    // A record-signing (type 01) vkey is not a witness key.
    let signing = aidledger_spec::note::VerifierKey::new(
        "witness.example.org/w1",
        aidledger_spec::note::KeyType::Ed25519,
        aidledger_spec::signature::public_key_of(&key(21)),
    )
    .expect("a vkey")
    .to_vkey();
    let error = compose(
        &["set-witnesses", "--witness", &signing, "--threshold", "1"],
        &mut FakeNode::new(),
    )
    .expect_err("type 01 refused");
    assert!(error.to_string().contains("type 04"), "{error}");
    let error = compose(
        &[
            "set-witnesses",
            "--witness",
            "not-a-vkey",
            "--threshold",
            "1",
        ],
        &mut FakeNode::new(),
    )
    .expect_err("garbage refused");
    assert!(error.to_string().contains("--witness"), "{error}");

    // Over the witnesses: the field rules refuse it.
    let over = compose(
        &["set-witnesses", "--witness", &w1, "--threshold", "2"],
        &mut FakeNode::new(),
    )
    .expect("composes");
    let error = proposal_body(RecordId::ZERO, over, String::new())
        .expect_err("2 of 1 witnesses breaks the field rules");
    assert!(
        error.to_string().contains("body.change.threshold"),
        "{error}"
    );
}

fn write_grant(dir: &Path, grant: &GrantFile) -> String {
    let path = dir.join("replacement.grant");
    std::fs::write(&path, grant.to_text()).expect("write the grant");
    path.display().to_string()
}

#[test]
fn revoke_key_with_a_replacement_grant_for_this_member_and_network() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut node = FakeNode::new();
    let grant = GrantFile::prove(node.network_id, "DK-CVR-20699310", &key(9));
    let path = write_grant(dir.path(), &grant);
    let change = compose(
        &[
            "revoke-key",
            "--member",
            "DK-CVR-20699310",
            "--key",
            &hex_of(5),
            "--from-seq",
            "2",
            "--replacement-grant",
            &path,
        ],
        &mut node,
    )
    .expect("composes");
    let Change::RevokeKey {
        member,
        key: revoked,
        from_seq,
        replacement: Some(replacement),
    } = &change
    else {
        panic!("not a revocation with a replacement: {change:?}");
    };
    assert_eq!(member, "DK-CVR-20699310");
    assert_eq!(*revoked, public(5));
    assert_eq!(*from_seq, 2);
    assert_eq!(replacement.key, public(9));
    replacement
        .verify(&node.network_id, "DK-CVR-20699310")
        .expect("the proof verifies");
    let body = proposal_body(RecordId::ZERO, change, String::new()).expect("field rules");
    assert!(matches!(body, Body::Proposal(_)));

    let without = compose(
        &[
            "revoke-key",
            "--member",
            "DK-CVR-20699310",
            "--key",
            &hex_of(5),
            "--from-seq",
            "0",
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    assert!(matches!(
        without,
        Change::RevokeKey {
            replacement: None,
            from_seq: 0,
            ..
        }
    ));
}

#[test]
fn revoke_key_refuses_a_grant_for_another_member_network_or_with_a_bad_proof() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = FakeNode::new();
    let args = |path: &str| {
        vec![
            "revoke-key".to_owned(),
            "--member".into(),
            "DK-CVR-20699310".into(),
            "--key".into(),
            hex_of(5),
            "--from-seq".into(),
            "2".into(),
            "--replacement-grant".into(),
            path.to_owned(),
        ]
    };
    let run = |grant: &GrantFile| {
        let path = write_grant(dir.path(), grant);
        let args = args(&path);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        compose(&args, &mut FakeNode::new()).expect_err("refused")
    };
    let other_member = GrantFile::prove(node.network_id, "GB-GOV-1", &key(9));
    assert!(run(&other_member).to_string().contains("GB-GOV-1"));
    let other_network = GrantFile::prove(NetworkId::ZERO, "DK-CVR-20699310", &key(9));
    assert!(run(&other_network).to_string().contains("network"));
    let mut forged = GrantFile::prove(node.network_id, "DK-CVR-20699310", &key(9));
    forged.key = public(10);
    assert!(run(&forged).to_string().contains("proof of possession"));

    std::fs::write(dir.path().join("junk.grant"), "{\"key\": 1}").expect("write");
    let junk = dir.path().join("junk.grant").display().to_string();
    let args = args(&junk);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = compose(&args, &mut FakeNode::new()).expect_err("not a grant");
    assert!(error.to_string().contains("not a key grant"), "{error}");
}

#[test]
fn a_grant_file_round_trips_as_json_with_hex_fields() {
    let network_id = NetworkId::from_hex(&"cd".repeat(32)).expect("hex");
    let grant = GrantFile::prove(network_id, "GB-GOV-1", &key(11));
    let value: serde_json::Value = serde_json::from_str(&grant.to_text()).expect("JSON");
    assert_eq!(value["network_id"], "cd".repeat(32));
    assert_eq!(value["member"], "GB-GOV-1");
    assert_eq!(value["key"], hex_of(11));
    assert_eq!(
        value["proof_of_possession"].as_str().map(str::len),
        Some(128)
    );
    let back: GrantFile = serde_json::from_value(value).expect("reads back");
    assert_eq!(back, grant);
    back.check(&network_id, "GB-GOV-1").expect("verifies");
}

#[test]
fn redact_names_records_by_seq_and_id_sorted_with_a_category() {
    let (first, second) = ("ab".repeat(32), "cd".repeat(32));
    let change = compose(
        &[
            "redact",
            "--member",
            "DK-CVR-20699310",
            "--record",
            &format!("9:{second}"),
            "--record",
            &format!("2:{first}"),
            "--category",
            "legal-order",
        ],
        &mut FakeNode::new(),
    )
    .expect("composes");
    let id = |hex: &str| RecordId::from_hex(hex).expect("hex");
    assert_eq!(
        change,
        Change::Redact {
            member: "DK-CVR-20699310".into(),
            records: vec![
                RedactedRecord {
                    seq: 2,
                    id: id(&first)
                },
                RedactedRecord {
                    seq: 9,
                    id: id(&second)
                },
            ],
            category: RedactionCategory::LegalOrder,
        }
    );
}

#[test]
fn redact_refuses_an_unknown_category_a_position_named_twice_and_an_id_it_cannot_place() {
    let id = "ab".repeat(32);
    let other = "cd".repeat(32);
    let redact = |records: &[String], category: &str| {
        let mut args = vec!["redact", "--member", "DK-1", "--category", category];
        for record in records {
            args.extend(["--record", record.as_str()]);
        }
        compose(&args, &mut FakeNode::new())
            .expect_err("refused")
            .to_string()
    };
    let error = redact(&[format!("1:{id}")], "court");
    assert!(
        error.starts_with("--category: \"court\" is not a redaction category; use one of safety-of-persons, personal-data, legal-order, authors-request"),
        "{error}"
    );
    let error = redact(&[format!("1:{id}"), format!("1:{other}")], "legal-order");
    assert!(error.contains("seq 1 is named with two ids"), "{error}");
    // Without a node to ask, an id alone cannot be placed in the member's chain.
    let error = redact(std::slice::from_ref(&id), "legal-order");
    assert!(
        error.contains("give") && error.contains("as SEQ:ID"),
        "{error}"
    );
}
