//! Data-driven tests of redaction over `spec/vectors/redaction.json` (FORMAT.md §5.11, §6.1,
//! §27): the order and the withheld envelope are the bytes the file says, and every scenario's
//! envelopes, read as a verifier in another language would read them (hex in, report out),
//! give exactly the expected problems and redacted records. The file itself is checked against
//! the code by `tests/vectors.rs` (`vector_files_match_the_code`).
//!
//! The verifier here is the one FORMAT.md §27 describes: each envelope takes the withheld path
//! when `is_withheld` says so, the full path otherwise; the authority is derived from the full
//! governance records first (§13.1, §18.6), and the withheld records are judged against the
//! orders in force once every envelope is read.

#[allow(dead_code)] // only the valid activities are used here
#[path = "support/activity_vectors.rs"]
mod activity_vectors;
#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[path = "support/redaction_vectors.rs"]
mod redaction_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/vector_set.rs"]
mod vector_set;

use std::path::PathBuf;
use std::sync::OnceLock;

use aidledger_spec::bundle::{BundleItem, BundleReader, BundleWriter};
use aidledger_spec::chain::{ChainVerifier, Report};
use aidledger_spec::governance::{self, Change, GovernanceRecord};
use aidledger_spec::record::record_id_of_header_bytes;
use aidledger_spec::redaction::{RedactedRecord, RedactionCategory};
use aidledger_spec::withheld::{is_withheld, withhold};
use aidledger_spec::{codec, Body, BodyKind, Genesis, Rejection, Verifier};
use proptest::prelude::*;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// `redaction.json`, read once.
fn file() -> &'static Value {
    static FILE: OnceLock<Value> = OnceLock::new();
    FILE.get_or_init(|| load(redaction_vectors::FILE_NAME))
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("a hex string")).expect("valid hex")
}

fn genesis() -> Genesis {
    Genesis::decode(&bytes(&load("genesis.json")["genesis_hex"]))
        .expect("the vector genesis is valid")
}

/// Judges envelopes in bundle order: the authority from the full governance records among
/// them, each envelope by the path `is_withheld` picks, the report with the orders in force.
fn judge(genesis: &Genesis, envelopes: &[Vec<u8>]) -> Report {
    let by_genesis = Verifier::new(genesis.clone());
    let governance: Vec<GovernanceRecord> = envelopes
        .iter()
        .filter(|envelope| !is_withheld(envelope))
        .filter_map(|envelope| by_genesis.verify_record_rules(envelope.clone()).ok())
        .filter_map(|record| GovernanceRecord::from_verified(&record))
        .collect();
    let derivation = governance::derive(genesis, &governance);
    let verifier = Verifier::with_authority(genesis.clone(), derivation.authority.clone());
    let mut chains = ChainVerifier::new(genesis);
    for envelope in envelopes {
        if is_withheld(envelope) {
            chains.add_withheld(verifier.verify_withheld(envelope.clone()));
        } else {
            chains.add(verifier.verify(envelope.clone()));
        }
    }
    chains.finish_with_governance(derivation)
}

fn scenario(name: &str) -> &'static Value {
    file()["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .find(|scenario| scenario["name"] == name)
        .unwrap_or_else(|| panic!("no redaction scenario {name}"))
}

fn envelopes(scenario: &Value) -> Vec<Vec<u8>> {
    scenario["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .map(|envelope| bytes(&envelope["envelope_hex"]))
        .collect()
}

/// The report's problems as the file writes them: as `Problem` serialises, without the
/// wording of a decoder (`malformed`'s `detail`), which is not part of the format.
fn problems_json(report: &Report) -> Vec<Value> {
    report
        .problems()
        .map(|problem| {
            let mut value = serde_json::to_value(problem).expect("a problem serialises");
            if value["reason"]["code"] == "malformed" {
                value["reason"]
                    .as_object_mut()
                    .expect("a reason is an object")
                    .remove("detail");
            }
            value
        })
        .collect()
}

/// The report's redacted records, chain by chain: `author` and the entry's fields.
fn redacted_json(report: &Report) -> Vec<Value> {
    report
        .chains
        .iter()
        .flat_map(|chain| {
            chain.redacted.iter().map(|entry| {
                let mut value = serde_json::to_value(entry).expect("an entry serialises");
                value["author"] = Value::from(chain.author.clone());
                value
            })
        })
        .collect()
}

/// Runs one scenario of the file and compares the report with its expectations.
fn check_scenario(name: &str) {
    let scenario = scenario(name);
    for envelope in scenario["envelopes"].as_array().expect("envelopes") {
        assert_eq!(
            Value::from(is_withheld(&bytes(&envelope["envelope_hex"]))),
            envelope["withheld"],
            "{name}: is_withheld of {}",
            envelope["label"]
        );
    }
    let report = judge(&genesis(), &envelopes(scenario));
    let expected = &scenario["expected"];
    assert_eq!(
        problems_json(&report),
        expected["problems"].as_array().expect("problems").clone(),
        "{name}: problems"
    );
    assert_eq!(
        redacted_json(&report),
        expected["redacted"].as_array().expect("redacted").clone(),
        "{name}: redacted"
    );
    assert_eq!(
        Value::from(report.is_valid()),
        expected["is_valid"],
        "{name}: is_valid"
    );
}

// ---------------------------------------------------------------------------------------------
// The scenarios

#[test]
fn an_authors_order_redacts_its_own_withheld_record() {
    check_scenario("authors-order-redacts-its-own-record");
}

#[test]
fn a_withheld_record_without_an_order_makes_the_report_invalid() {
    check_scenario("withheld-without-order");
}

#[test]
fn a_withheld_proposal_is_not_redactable() {
    check_scenario("withheld-proposal-is-not-redactable");
}

#[test]
fn a_withheld_order_is_not_redactable() {
    check_scenario("withheld-order-is-not-redactable");
}

#[test]
fn an_authors_order_cannot_redact_another_members_record() {
    check_scenario("order-naming-another-members-record");
}

#[test]
fn admins_redact_another_members_record_by_an_effective_proposal() {
    check_scenario("admins-redact-another-members-record");
}

#[test]
fn a_redact_proposal_below_the_threshold_orders_nothing() {
    check_scenario("pending-redact-proposal-orders-nothing");
}

#[test]
fn a_cut_withheld_envelope_is_malformed() {
    check_scenario("cut-withheld-envelope-is-malformed");
}

#[test]
fn a_withheld_envelope_with_an_altered_signature_is_refused() {
    check_scenario("withheld-envelope-with-altered-signature");
}

#[test]
fn an_entry_naming_a_wrong_position_hides_no_other_order() {
    check_scenario("misplaced-entry-hides-no-order");
}

#[test]
fn an_order_its_writer_has_not_applied_yet_is_not_a_fault() {
    check_scenario("order-not-yet-applied-is-not-a-fault");
}

#[test]
fn every_redaction_scenario_has_a_test() {
    let tested = [
        "authors-order-redacts-its-own-record",
        "withheld-without-order",
        "withheld-proposal-is-not-redactable",
        "withheld-order-is-not-redactable",
        "order-naming-another-members-record",
        "admins-redact-another-members-record",
        "pending-redact-proposal-orders-nothing",
        "cut-withheld-envelope-is-malformed",
        "withheld-envelope-with-altered-signature",
        "misplaced-entry-hides-no-order",
        "order-not-yet-applied-is-not-a-fault",
    ];
    let names: Vec<&str> = file()["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|scenario| scenario["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, tested);
}

#[test]
fn withheld_envelopes_travel_in_ordinary_record_frames() {
    let genesis = genesis();
    for scenario in file()["scenarios"].as_array().expect("scenarios") {
        let envelopes = envelopes(scenario);
        let mut writer =
            BundleWriter::new(Vec::new(), &genesis.encode()).expect("writing to a Vec");
        for envelope in &envelopes {
            writer.record(envelope).expect("writing to a Vec");
        }
        let bundle = writer.finish().expect("writing to a Vec");
        let mut reader = BundleReader::new(bundle.as_slice()).expect("a bundle just written");
        let mut read = Vec::new();
        while let Some(item) = reader.next_item().expect("a bundle just written") {
            match item {
                BundleItem::Record(record) => read.push(record),
                _ => panic!("{}: only record frames were written", scenario["name"]),
            }
        }
        assert_eq!(read, envelopes, "{}", scenario["name"]);
    }
}

// ---------------------------------------------------------------------------------------------
// The bytes of the order, the withheld envelope and the change

#[test]
fn the_order_is_a_valid_kind_9_record_naming_the_statement() {
    let order = &file()["order"];
    let verified = Verifier::new(genesis())
        .verify(bytes(&order["record_hex"]))
        .expect("the order is valid alone");
    assert_eq!(verified.id().to_hex(), order["record_id"]);
    assert_eq!(verified.header().body_kind, BodyKind::Redaction as u16);
    let Body::Redaction(redaction) = verified.body() else {
        panic!("the order's body is a redaction");
    };
    let statement = &load("records-valid.json")["records"][3];
    assert_eq!(statement["name"], "statement");
    assert_eq!(
        redaction.records,
        vec![RedactedRecord {
            seq: 3,
            id: aidledger_spec::Digest::from_hex(statement["record_id"].as_str().expect("id"))
                .expect("an id"),
        }]
    );
    assert_eq!(redaction.category, RedactionCategory::PersonalData);
    // The body's bytes: kind 9, one record (seq, id), category 1, the note.
    let body = bytes(&order["body_hex"]);
    let mut expected = 9u32.to_le_bytes().to_vec();
    expected.extend_from_slice(&1u64.to_le_bytes());
    expected.extend_from_slice(&3u64.to_le_bytes());
    expected.extend_from_slice(&bytes(&statement["record_id"]));
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&(redaction.note.len() as u64).to_le_bytes());
    expected.extend_from_slice(redaction.note.as_bytes());
    assert_eq!(body, expected);
}

#[test]
fn a_withheld_envelope_is_the_full_records_header_then_its_signature() {
    let withheld = &file()["withheld"];
    let full = bytes(&withheld["record_hex"]);
    let envelope = bytes(&withheld["withheld_hex"]);
    let header = bytes(&withheld["header_hex"]);
    let signature = bytes(&withheld["signature_hex"]);
    assert_eq!(envelope, [header.as_slice(), signature.as_slice()].concat());
    assert!(full.starts_with(&header) && full.ends_with(&signature));
    assert_eq!(signature.len(), 64);
    assert_eq!(
        envelope.len(),
        withheld["header_size_bytes"].as_u64().expect("a size") as usize + 64
    );
    assert_eq!(
        full.len(),
        envelope.len() + withheld["body_size_bytes"].as_u64().expect("a size") as usize
    );
    assert_eq!(
        record_id_of_header_bytes(&header).to_hex(),
        withheld["record_id"]
    );
    assert!(is_withheld(&envelope) && !is_withheld(&full));
    assert_eq!(withhold(full).expect("a record"), envelope);
    let verified = Verifier::new(genesis())
        .verify_withheld(envelope)
        .expect("the withheld statement verifies");
    assert_eq!(verified.id().to_hex(), withheld["record_id"]);
}

#[test]
fn the_redact_change_is_the_proposals_change_and_takes_effect_with_its_approval() {
    let proposal = &file()["redact_proposal"];
    let verifier = Verifier::new(genesis());
    let verified = verifier
        .verify(bytes(&proposal["record_hex"]))
        .expect("the proposal is valid alone");
    let Body::Proposal(body) = verified.body() else {
        panic!("a proposal");
    };
    let Change::Redact {
        member,
        records,
        category,
    } = &body.change
    else {
        panic!("a redact change");
    };
    let reversal = &load("records-valid.json")["records"][5];
    assert_eq!(reversal["name"], "transaction-reversal");
    assert_eq!(member, vector_set::IMPLEMENTER);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].seq, 0);
    assert_eq!(records[0].id.to_hex(), reversal["record_id"]);
    assert_eq!(*category, RedactionCategory::LegalOrder);
    // The change's bytes: variant 7, the member, the records, the category; in the body after
    // the kind (4 bytes) and the base (32 bytes).
    let change = bytes(&proposal["change_hex"]);
    assert_eq!(codec::encode(&body.change), change);
    assert_eq!(&change[..4], &7u32.to_le_bytes());
    let body_bytes = bytes(&proposal["body_hex"]);
    assert_eq!(&body_bytes[36..36 + change.len()], change.as_slice());
    // With the approval, the admins' threshold: one step, the redact change.
    let genesis = genesis();
    let governance: Vec<GovernanceRecord> =
        [&file()["redact_proposal"], &file()["redact_approval"]]
            .iter()
            .map(|record| {
                let checked = verifier
                    .verify_record_rules(bytes(&record["record_hex"]))
                    .expect("valid");
                GovernanceRecord::from_verified(&checked).expect("a governance record")
            })
            .collect();
    let derivation = governance::derive(&genesis, &governance);
    let steps = derivation.authority.steps();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].proposal.to_hex(), proposal["record_id"]);
    assert_eq!(steps[0].change.name(), "redact");
}

#[test]
fn rules_25_to_27_read_back_from_their_stored_encoding() {
    use aidledger_spec::codec::Codec;
    let cases = file()["rejections"].as_array().expect("rejections");
    let numbers: Vec<u32> = cases
        .iter()
        .map(|case| {
            let encoded = bytes(&case["hex"]);
            let rejection = Rejection::from_bytes(&encoded).expect("an encoded rejection");
            assert_eq!(rejection.code(), case["name"]);
            assert_eq!(
                serde_json::to_value(&rejection).expect("serialises"),
                case["rejection"]
            );
            assert_eq!(rejection.to_bytes(), encoded, "{}", case["name"]);
            u32::from_le_bytes(encoded[..4].try_into().expect("a tag"))
        })
        .collect();
    assert_eq!(numbers, [25, 26, 27]);
}

// ---------------------------------------------------------------------------------------------
// Every valid record, withheld

/// Every valid record of the vectors, named, and whether it is of `governance.json`'s network
/// (else of `genesis.json`'s): `records-valid.json`, `activities.json`, this file's records and
/// `governance.json`'s.
fn every_valid_record() -> Vec<(bool, String, Vec<u8>)> {
    let mut found = Vec::new();
    for (file, list) in [
        ("records-valid.json", "records"),
        ("activities.json", "records"),
        ("governance.json", "valid"),
    ] {
        for record in load(file)[list]
            .as_array()
            .unwrap_or_else(|| panic!("{file} lists {list}"))
        {
            found.push((
                file == "governance.json",
                format!("{file} {}", record["name"]),
                bytes(&record["record_hex"]),
            ));
        }
    }
    for key in ["order", "redact_proposal", "redact_approval"] {
        found.push((
            false,
            format!("redaction.json {key}"),
            bytes(&file()[key]["record_hex"]),
        ));
    }
    found
}

#[test]
fn every_valid_records_withheld_envelope_keeps_its_id_or_is_not_redactable() {
    let by_genesis = Verifier::new(genesis());
    let by_governance_genesis = Verifier::new(
        Genesis::decode(&bytes(&load("governance.json")["genesis_hex"]))
            .expect("the governance genesis is valid"),
    );
    let mut kinds_seen = std::collections::BTreeSet::new();
    for (governance_network, name, full) in every_valid_record() {
        let verifier = if governance_network {
            &by_governance_genesis
        } else {
            &by_genesis
        };
        let record = verifier.verify(full.clone()).unwrap_or_else(|rejected| {
            panic!("{name}: a valid record is refused: {}", rejected.reason)
        });
        let envelope = withhold(full.clone()).expect("a record");
        assert!(is_withheld(&envelope), "{name}");
        assert!(!is_withheld(&full), "{name}");
        let kind = record.header().body_kind;
        kinds_seen.insert(kind);
        match verifier.verify_withheld(envelope.clone()) {
            Ok(withheld) => {
                assert!(
                    BodyKind::from_wire(kind).is_some_and(BodyKind::is_redactable),
                    "{name}: kind {kind} withheld and accepted"
                );
                assert_eq!(withheld.id(), record.id(), "{name}");
                assert_eq!(withheld.header(), record.header(), "{name}");
                assert_eq!(withheld.bytes(), envelope.as_slice(), "{name}");
            }
            Err(rejected) => {
                assert_eq!(
                    rejected.reason,
                    Rejection::WithheldNotRedactable { body_kind: kind },
                    "{name}"
                );
                assert_eq!(rejected.id, Some(record.id()), "{name}");
            }
        }
        // The full path never takes a withheld envelope, nor the withheld path a full one.
        let refused = verifier
            .verify(envelope)
            .expect_err("a withheld envelope is not a full record");
        assert_eq!(refused.reason.code(), "malformed", "{name}");
        let refused = verifier
            .verify_withheld(full)
            .expect_err("a full record is not a withheld envelope");
        assert_eq!(refused.reason.code(), "malformed", "{name}");
    }
    // Every kind of version 1 was withheld once: 0-4, 8 accepted; 5-7, 9 refused.
    assert_eq!(
        kinds_seen.into_iter().collect::<Vec<_>>(),
        (0..=9).collect::<Vec<u16>>()
    );
}

proptest! {
    /// A withheld envelope with any one byte changed is refused by both paths: every header
    /// byte is covered by the id the signature signs, the signature's bytes by the signature
    /// rule, and a changed length by rule 1.
    #[test]
    fn a_withheld_envelope_with_any_byte_changed_is_refused(
        at in any::<prop::sample::Index>(),
        mask in 1u8..,
    ) {
        let verifier = Verifier::new(genesis());
        let mut envelope = bytes(&file()["withheld"]["withheld_hex"]);
        let at = at.index(envelope.len());
        envelope[at] ^= mask;
        prop_assert!(verifier.verify_withheld(envelope.clone()).is_err());
        prop_assert!(verifier.verify(envelope).is_err());
    }

    /// A withheld envelope cut or lengthened is never read as a withheld record.
    #[test]
    fn a_withheld_envelope_of_another_length_is_refused(
        cut in 1usize..64,
        extra in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let verifier = Verifier::new(genesis());
        let envelope = bytes(&file()["withheld"]["withheld_hex"]);
        let shorter = envelope[..envelope.len() - cut].to_vec();
        let longer = [envelope.as_slice(), extra.as_slice()].concat();
        for changed in [shorter, longer] {
            prop_assert!(!is_withheld(&changed));
            let refused = verifier.verify_withheld(changed).map(|_| ()).map_err(|rejected| rejected.reason.code());
            prop_assert_eq!(refused, Err("malformed"));
        }
    }
}
