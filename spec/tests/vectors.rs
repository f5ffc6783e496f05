//! Data-driven tests over `spec/vectors/`: the code reproduces every vector byte for byte, and
//! judges every invalid vector with exactly the expected first reason.
//!
//! The vector files are what another implementation tests against, so these tests read them as
//! such an implementation would (hex in, verdicts out), and separately rebuild them in memory
//! (`support/vector_set.rs`) so that any change to the encoding fails here first.

#[path = "support/activity_vectors.rs"]
mod activity_vectors;
#[path = "support/bundle_v2_vectors.rs"]
mod bundle_v2_vectors;
#[path = "support/checkpoint_vectors.rs"]
mod checkpoint_vectors;
#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[path = "support/merkle_vectors.rs"]
mod merkle_vectors;
#[path = "support/packet_redacted_vectors.rs"]
mod packet_redacted_vectors;
#[path = "support/packet_vectors.rs"]
mod packet_vectors;
#[path = "support/redaction_vectors.rs"]
mod redaction_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/split_view_vectors.rs"]
mod split_view_vectors;
#[path = "support/vector_set.rs"]
mod vector_set;

use std::path::PathBuf;

use aidledger_spec::bundle::{BundleError, BundleItem, BundleReader};
use aidledger_spec::chain::ChainVerifier;
use aidledger_spec::genesis::GenesisError;
use aidledger_spec::governance::{self, GovernanceRecord, ProposalStatus};
use aidledger_spec::signature::signed_message;
use aidledger_spec::verify::RejectedRecord;
use aidledger_spec::{domain, Body, Genesis, Rejection, Verifier};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("a hex string")).expect("valid hex")
}

fn sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

fn verifier() -> Verifier {
    let genesis = Genesis::decode(&bytes(&load("genesis.json")["genesis_hex"]))
        .expect("the vector genesis is valid");
    Verifier::new(genesis)
}

fn cases(file: &str) -> Vec<Value> {
    load(file)["cases"]
        .as_array()
        .expect("a cases array")
        .clone()
}

fn field_of(reason: &Rejection) -> Option<&str> {
    match reason {
        Rejection::InvalidAmount { field, .. } | Rejection::InvalidField { field, .. } => {
            Some(field)
        }
        _ => None,
    }
}

/// Verifies one record vector and compares the verdict with `expected`.
#[track_caller]
fn check(verifier: &Verifier, name: &str, input: &[u8], expected: &Value) {
    let verdict = verifier.verify(input.to_vec());
    let Err(rejected) = verdict else {
        panic!("{name}: accepted, expected {}", expected["code"]);
    };
    let got = serde_json::json!({
        "code": rejected.reason.code(),
        "author": rejected.author,
        "seq": rejected.seq,
    });
    let want = serde_json::json!({ "code": expected["code"], "author": expected["author"], "seq": expected["seq"] });
    assert_eq!(got, want, "{name}: {}", rejected.reason);
    if let Some(field) = expected.get("field") {
        assert_eq!(
            field_of(&rejected.reason),
            field.as_str(),
            "{name}: {}",
            rejected.reason
        );
    }
}

/// Runs every invalid-record case whose name starts with `prefix`.
fn check_invalid_records(prefix: &str) {
    let verifier = verifier();
    let matching: Vec<Value> = cases("records-invalid.json")
        .into_iter()
        .filter(|case| {
            case["name"]
                .as_str()
                .is_some_and(|name| name.starts_with(prefix))
        })
        .collect();
    assert!(!matching.is_empty(), "no vector named {prefix}*");
    for case in matching {
        let name = case["name"].as_str().unwrap_or_default();
        check(
            &verifier,
            name,
            &bytes(&case["record_hex"]),
            &case["expected"],
        );
    }
}

fn check_chain(name: &str) {
    let verifier = verifier();
    let case = cases("chains.json")
        .into_iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no chain vector {name}"));
    let mut chain = ChainVerifier::new(verifier.genesis());
    for record in case["records_hex"].as_array().expect("records") {
        chain.add(verifier.verify(bytes(record)));
    }
    for proof in case["proofs"].as_array().expect("proofs") {
        chain.add_proof(
            verifier.verify_equivocation(bytes(&proof["first_hex"]), bytes(&proof["second_hex"])),
        );
    }
    let report = chain.finish();
    let got: Vec<Value> = report
        .problems()
        .map(|problem| serde_json::json!({ "author": problem.author, "seq": problem.seq, "code": problem.reason.code() }))
        .collect();
    let expected = &case["expected"];
    assert_eq!(Value::Array(got), expected["problems"], "{name}: problems");
    let donor = report
        .chains
        .iter()
        .find(|chain| chain.author == vector_set::DONOR)
        .expect("the donor's chain");
    assert_eq!(
        serde_json::json!(donor.length),
        expected["donor_chain_length"],
        "{name}: length"
    );
    assert_eq!(
        serde_json::json!(donor.forked_at),
        expected["donor_forked_at"],
        "{name}: fork"
    );
    assert_eq!(
        report.is_valid(),
        expected["problems"].as_array().is_some_and(Vec::is_empty),
        "{name}: is_valid"
    );
}

fn genesis_code(error: &GenesisError) -> &'static str {
    match error {
        GenesisError::Malformed(_) => "malformed",
        GenesisError::UnsupportedVersion(_) => "unsupported-version",
        GenesisError::Field(_) => "invalid-field",
        _ => "unknown",
    }
}

fn check_invalid_genesis(name: &str) {
    let case = cases("genesis-invalid.json")
        .into_iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no genesis vector {name}"));
    match Genesis::decode(&bytes(&case["genesis_hex"])) {
        Ok(_) => panic!("{name}: accepted"),
        Err(error) => assert_eq!(
            genesis_code(&error),
            case["expected"]["code"],
            "{name}: {error}"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The files are what the code produces.

#[test]
fn vector_files_match_the_code() {
    for file in vector_set::all().into_iter().chain([
        activity_vectors::activities_file(),
        merkle_vectors::merkle_file(),
        checkpoint_vectors::checkpoints_file(),
        split_view_vectors::split_views_file(),
        packet_vectors::packet_file(),
        bundle_v2_vectors::bundle_v2_file(),
        redaction_vectors::redaction_file(),
        packet_redacted_vectors::packet_redacted_file(),
    ]) {
        let path = vectors_dir().join(file.name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == vector_set::render(&file),
            "{} differs from what the code produces: the encoding changed. If that is intended, run \
             `cargo run -p aidledger-spec --example make_vectors` and review the diff.",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Genesis

#[test]
fn genesis_bytes_give_the_network_id() {
    let file = load("genesis.json");
    let genesis_bytes = bytes(&file["genesis_hex"]);
    assert_eq!(file["domain_hex"], hex::encode(domain::GENESIS));
    assert_eq!(
        sha256(&[domain::GENESIS.as_bytes(), &genesis_bytes]),
        file["network_id"]
    );
    let genesis = Genesis::decode(&genesis_bytes).expect("valid");
    assert_eq!(
        genesis.encode(),
        genesis_bytes,
        "decode then encode is the identity"
    );
    assert_eq!(genesis.network_id().to_hex(), file["network_id"]);
    assert_eq!(genesis.members.len(), 3);
}

#[test]
fn genesis_keys_come_from_the_listed_seeds() {
    let file = load("genesis.json");
    for entry in file["keys"].as_array().expect("keys") {
        let seed: [u8; 32] = bytes(&entry["seed_hex"]).try_into().expect("32 bytes");
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        assert_eq!(hex::encode(public.to_bytes()), entry["public_key"]);
    }
}

#[test]
fn refuses_small_order_signing_key_at_genesis() {
    check_invalid_genesis("small-order-signing-key");
}

#[test]
fn refuses_torsioned_signing_key_at_genesis() {
    check_invalid_genesis("torsioned-signing-key");
}

#[test]
fn refuses_key_of_two_members() {
    check_invalid_genesis("key-of-two-members");
}

#[test]
fn refuses_unsorted_members() {
    check_invalid_genesis("members-not-ascending");
}

#[test]
fn refuses_unsupported_genesis_version() {
    check_invalid_genesis("unsupported-version");
}

#[test]
fn refuses_genesis_with_trailing_bytes() {
    check_invalid_genesis("trailing-bytes");
}

#[test]
fn refuses_genesis_with_unknown_role() {
    check_invalid_genesis("role-variant-5");
}

#[test]
fn every_genesis_vector_has_a_test() {
    let tested = [
        "small-order-signing-key",
        "torsioned-signing-key",
        "key-of-two-members",
        "members-not-ascending",
        "unsupported-version",
        "trailing-bytes",
        "role-variant-5",
    ];
    for case in cases("genesis-invalid.json") {
        assert!(
            tested.contains(&case["name"].as_str().unwrap_or_default()),
            "untested: {}",
            case["name"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Valid records

#[test]
fn accepts_every_valid_record() {
    let verifier = verifier();
    let records = load("records-valid.json")["records"]
        .as_array()
        .expect("records")
        .clone();
    assert_eq!(records.len(), 6);
    for record in records {
        let name = &record["name"];
        let verified = verifier
            .verify(bytes(&record["record_hex"]))
            .unwrap_or_else(|rejected| panic!("{name}: {}", rejected.reason));
        assert_eq!(verified.id().to_hex(), record["record_id"], "{name}");
        assert_eq!(
            verified.header().body_kind,
            record["body"]["kind_number"],
            "{name}"
        );
    }
}

#[test]
fn records_hash_and_sign_as_documented() {
    let file = load("records-valid.json");
    let network_id = load("genesis.json")["network_id"].clone();
    let mut kinds = Vec::new();
    for record in file["records"].as_array().expect("records") {
        let name = &record["name"];
        let (header, body, signature) = (
            bytes(&record["header_hex"]),
            bytes(&record["body_hex"]),
            bytes(&record["signature_hex"]),
        );
        // The envelope is header ‖ body ‖ signature.
        assert_eq!(
            [header.as_slice(), &body, &signature].concat(),
            bytes(&record["record_hex"]),
            "{name}"
        );
        assert_eq!(
            sha256(&[domain::RECORD_ID.as_bytes(), &header]),
            record["record_id"],
            "{name}"
        );
        assert_eq!(
            sha256(&[domain::BODY.as_bytes(), &body]),
            record["body_hash"],
            "{name}"
        );
        // Header fields at the offsets FORMAT.md gives.
        let author_len = u64::from_le_bytes(header[34..42].try_into().expect("8 bytes")) as usize;
        let after_author = 42 + author_len;
        assert_eq!(header.len(), 160 + author_len, "{name}: header size");
        assert_eq!(u16::from_le_bytes([header[0], header[1]]), 1);
        assert_eq!(hex::encode(&header[2..34]), network_id, "{name}");
        let body_size = u32::from_le_bytes(
            header[after_author + 82..after_author + 86]
                .try_into()
                .expect("4 bytes"),
        );
        assert_eq!(body_size as usize, body.len(), "{name}");
        assert_eq!(
            hex::encode(&header[after_author + 86..]),
            record["body_hash"],
            "{name}"
        );
        let body_kind = u16::from_le_bytes([header[after_author + 80], header[after_author + 81]]);
        assert_eq!(
            u32::from(body_kind),
            u32::from_le_bytes(body[..4].try_into().expect("4 bytes")),
            "{name}"
        );
        kinds.push(body_kind);
        // The signed message is the signature domain ‖ record id, verified by plain ed25519.
        let id: [u8; 32] = bytes(&record["record_id"]).try_into().expect("32 bytes");
        let message = signed_message(&aidledger_spec::Digest(id));
        assert_eq!(hex::encode(message), record["signed_message_hex"], "{name}");
        assert_eq!(message[..23], *domain::SIGNATURE.as_bytes());
        let key_bytes: [u8; 32] = header[after_author + 48..after_author + 80]
            .try_into()
            .expect("32 bytes");
        let key = VerifyingKey::from_bytes(&key_bytes).expect("a valid key");
        let signature = Signature::from_slice(&signature).expect("64 bytes");
        key.verify_strict(&message, &signature)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
    }
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds, [0, 1, 2, 3, 4], "one record of each body kind");
}

#[test]
fn treaty_text_hashes_bind_every_version() {
    let file = load("records-valid.json");
    let records = file["records"].as_array().expect("records");
    let treaty = records
        .iter()
        .find(|record| record["name"] == "treaty-text")
        .expect("a treaty");
    let value = &treaty["body"]["value"];
    let encoding = bytes(&value["versions_encoding_hex"]);
    assert_eq!(
        sha256(&[domain::TREATY_TEXT.as_bytes(), &encoding]),
        value["text_hash"]
    );
    for (version, hash) in value["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .zip(value["version_hashes"].as_array().expect("hashes"))
    {
        let text = version["text"].as_str().expect("text");
        assert_eq!(
            sha256(&[domain::TEXT_VERSION.as_bytes(), text.as_bytes()]),
            *hash
        );
    }
    // The treaty action cites exactly that hash.
    let action = records
        .iter()
        .find(|record| record["name"] == "treaty-action")
        .expect("an action");
    assert_eq!(action["body"]["value"]["text_hash"], value["text_hash"]);
    assert_eq!(action["body"]["value"]["treaty"], treaty["record_id"]);
}

#[test]
fn amounts_are_kept_as_written() {
    let file = load("records-valid.json");
    let amounts: Vec<&str> = file["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|record| record["body"]["kind"] == "transaction")
        .map(|record| {
            record["body"]["value"]["value"]["amount"]
                .as_str()
                .expect("an amount")
        })
        .collect();
    assert_eq!(amounts, ["1234567890123.123456789012", "-250.5"]);
}

// ---------------------------------------------------------------------------------------------
// Invalid records, in the order of the rules

#[test]
fn rejects_malformed_record() {
    check_invalid_records("malformed-");
}

#[test]
fn rejects_unsupported_version() {
    check_invalid_records("unsupported-version");
}

#[test]
fn rejects_wrong_network() {
    check_invalid_records("wrong-network");
}

#[test]
fn rejects_invalid_signing_key() {
    check_invalid_records("invalid-signing-key-");
}

#[test]
fn rejects_unknown_author() {
    check_invalid_records("unknown-author");
}

#[test]
fn rejects_key_not_the_authors() {
    check_invalid_records("key-not-authors-");
}

#[test]
fn rejects_bad_signature() {
    check_invalid_records("bad-signature-");
}

#[test]
fn rejects_body_hash_mismatch() {
    check_invalid_records("body-hash-mismatch");
}

#[test]
fn rejects_malformed_body() {
    check_invalid_records("body-malformed-");
}

#[test]
fn rejects_body_kind_mismatch() {
    check_invalid_records("body-kind-mismatch");
}

#[test]
fn rejects_invalid_amount() {
    check_invalid_records("invalid-amount-");
}

#[test]
fn rejects_invalid_field() {
    check_invalid_records("invalid-field-");
}

#[test]
fn every_invalid_record_vector_is_judged_by_its_code() {
    // Every case is also run by the test of its reason; this one proves none is left out.
    let verifier = verifier();
    let all = cases("records-invalid.json");
    assert!(all.len() >= 30);
    for case in all {
        let name = case["name"].as_str().unwrap_or_default();
        assert!(
            name.starts_with(case["expected"]["code"].as_str().unwrap_or("?")),
            "{name}: named after its code"
        );
        check(
            &verifier,
            name,
            &bytes(&case["record_hex"]),
            &case["expected"],
        );
    }
}

#[test]
fn batch_verification_agrees_with_single_on_every_vector() {
    let verifier = verifier();
    let mut inputs: Vec<Vec<u8>> = cases("records-invalid.json")
        .iter()
        .map(|case| bytes(&case["record_hex"]))
        .collect();
    for record in load("records-valid.json")["records"]
        .as_array()
        .expect("records")
    {
        inputs.push(bytes(&record["record_hex"]));
    }
    let single: Vec<_> = inputs
        .iter()
        .map(|input| verifier.verify(input.clone()).map(|record| record.id()))
        .collect();
    let batch: Vec<_> = verifier
        .verify_batch(inputs)
        .into_iter()
        .map(|verdict| verdict.map(|record| record.id()))
        .collect();
    assert_eq!(single, batch);
}

// ---------------------------------------------------------------------------------------------
// Chains and proofs

#[test]
fn accepts_chain_of_three() {
    check_chain("accepts-chain-of-three");
}

#[test]
fn reports_a_repeated_proof_once() {
    check_chain("reports-a-repeated-proof-once");
}

#[test]
fn reports_an_altered_body_once_not_also_as_a_gap() {
    check_chain("reports-an-altered-body-once");
}

#[test]
fn accepts_chain_given_out_of_order() {
    check_chain("accepts-chain-out-of-order");
}

#[test]
fn rejects_gap() {
    check_chain("rejects-gap");
}

#[test]
fn rejects_wrong_predecessor() {
    check_chain("rejects-wrong-predecessor");
}

#[test]
fn rejects_duplicate() {
    check_chain("rejects-duplicate");
}

#[test]
fn reports_equivocation_as_fork() {
    check_chain("reports-equivocation");
}

#[test]
fn reports_equivocation_from_proof() {
    check_chain("reports-equivocation-from-proof");
}

#[test]
fn rejects_proof_citing_one_record_twice() {
    check_chain("rejects-proof-citing-one-record-twice");
}

#[test]
fn rejects_proof_of_different_positions() {
    check_chain("rejects-proof-of-different-positions");
}

#[test]
fn every_chain_vector_has_a_test() {
    let tested = [
        "accepts-chain-of-three",
        "accepts-chain-out-of-order",
        "rejects-gap",
        "rejects-wrong-predecessor",
        "rejects-duplicate",
        "reports-equivocation",
        "reports-equivocation-from-proof",
        "rejects-proof-citing-one-record-twice",
        "rejects-proof-of-different-positions",
        "reports-a-repeated-proof-once",
        "reports-an-altered-body-once",
    ];
    for case in cases("chains.json") {
        assert!(
            tested.contains(&case["name"].as_str().unwrap_or_default()),
            "untested: {}",
            case["name"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Bundle

#[test]
fn reads_bundle_vector() {
    let file = load("bundle.json");
    let bundle = bytes(&file["bundle_hex"]);
    assert_eq!(&bundle[..10], b"AIDLBNDL\x01\x00");
    let mut reader = BundleReader::new(bundle.as_slice()).expect("a bundle");
    assert_eq!(
        hex::encode(reader.genesis_bytes()),
        load("genesis.json")["genesis_hex"].as_str().expect("hex")
    );
    let (mut records, mut proofs) = (0, 0);
    while let Some(item) = reader.next_item().expect("a complete bundle") {
        match item {
            BundleItem::Record(_) => records += 1,
            BundleItem::Proof(_) => proofs += 1,
            other => panic!("a version 1 bundle holds only records and proofs: {other:?}"),
        }
    }
    assert_eq!(
        (records, proofs),
        (
            file["expected"]["records"].as_u64().expect("n"),
            file["expected"]["proofs"].as_u64().expect("n")
        )
    );
}

#[test]
fn reports_bundle_without_end_frame_as_truncated() {
    let bundle = bytes(&load("bundle.json")["bundle_truncated_hex"]);
    let mut reader = BundleReader::new(bundle.as_slice()).expect("the start is intact");
    let error = loop {
        match reader.next_item() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a truncated bundle read as complete"),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(error, BundleError::Truncated { offset, .. } if offset == bundle.len() as u64),
        "{error}"
    );
}

#[test]
fn reads_bundle_v2_vector() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::splitview::SplitViewProof;
    let file = load("bundle-v2.json");
    let bundle = bytes(&file["bundle_hex"]);
    assert_eq!(&bundle[..10], b"AIDLBNDL\x02\x00");
    // The frames lie where the file says, in bundle order (FORMAT.md 13.1).
    let kinds: Vec<(String, usize)> = file["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .map(|frame| {
            (
                frame["kind"].as_str().expect("kind").to_owned(),
                frame["offset"].as_u64().expect("offset") as usize,
            )
        })
        .collect();
    let order: Vec<&str> = kinds.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(order, ["01", "03", "05", "02", "02", "02", "04", "ff"]);
    for (kind, offset) in &kinds {
        assert_eq!(hex::encode([bundle[*offset]]), *kind, "frame at {offset}");
    }
    let mut reader = BundleReader::new(bundle.as_slice()).expect("a bundle");
    assert_eq!(reader.version(), 2);
    assert_eq!(
        hex::encode(reader.genesis_bytes()),
        load("genesis.json")["genesis_hex"].as_str().expect("hex")
    );
    let mut seen = [0u64; 4];
    while let Some(item) = reader.next_item().expect("a complete bundle") {
        match item {
            BundleItem::Record(_) => seen[0] += 1,
            BundleItem::Proof(_) => seen[1] += 1,
            BundleItem::Checkpoint(note) => {
                seen[2] += 1;
                assert_eq!(note, file["checkpoint"].as_str().expect("the note"));
            }
            BundleItem::SplitView(proof) => {
                seen[3] += 1;
                let expected = bytes(&file["split_view_hex"]);
                assert_eq!(proof.to_bytes(), expected);
                assert_eq!(
                    SplitViewProof::from_bytes(&expected).expect("decodes"),
                    proof
                );
            }
        }
    }
    let expected = &file["expected"];
    let want = ["records", "proofs", "checkpoints", "split_views"]
        .map(|name| expected[name].as_u64().expect("a count"));
    assert_eq!(seen, want);
    // The end frame holds the four counts.
    let end = &bundle[bundle.len() - 32..];
    let counts: Vec<u64> = end
        .chunks(8)
        .map(|chunk| u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
        .collect();
    assert_eq!(counts, want);
}

#[test]
fn reads_bundle_v2_vector_split_view_and_checkpoint_as_a_verifier_would() {
    use aidledger_spec::checkpoint::SignedCheckpoint;
    use aidledger_spec::codec::Codec;
    use aidledger_spec::splitview::SplitViewProof;
    use aidledger_spec::PublicKey;
    let file = load("bundle-v2.json");
    let fixture = vector_set::Fixture::new();
    let donor = PublicKey(fixture.donor.verifying_key().to_bytes());
    let proof = SplitViewProof::from_bytes(&bytes(&file["split_view_hex"])).expect("decodes");
    let view = proof.check(&[donor]).expect("a split view");
    assert_eq!(
        (view.org.as_str(), view.first.size, view.second.size),
        (vector_set::DONOR, 2, 3)
    );
    let note = file["checkpoint"].as_str().expect("the note");
    let opened = SignedCheckpoint::open(note, &fixture.network_id(), vector_set::DONOR, &[donor])
        .expect("the donor's checkpoint");
    assert_eq!(opened.checkpoint.size, 3);
}

#[test]
fn reports_bundle_v2_without_end_frame_as_truncated() {
    let bundle = bytes(&load("bundle-v2.json")["bundle_truncated_hex"]);
    let mut reader = BundleReader::new(bundle.as_slice()).expect("the start is intact");
    let error = loop {
        match reader.next_item() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a truncated bundle read as complete"),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(error, BundleError::Truncated { offset, .. } if offset == bundle.len() as u64),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// Governance (governance.json)

fn governance_genesis() -> Genesis {
    Genesis::decode(&bytes(&load("governance.json")["genesis_hex"]))
        .expect("the governance genesis is valid")
}

fn governance_entries(section: &str) -> Vec<Value> {
    load("governance.json")[section]
        .as_array()
        .unwrap_or_else(|| panic!("governance.json has no {section}"))
        .clone()
}

fn without(mut value: Value, keys: &[&str]) -> Value {
    if let Some(object) = value.as_object_mut() {
        for key in keys {
            object.remove(*key);
        }
    }
    value
}

fn verdict_code(verdict: &Result<aidledger_spec::VerifiedRecord, Box<RejectedRecord>>) -> String {
    match verdict {
        Ok(_) => "valid".into(),
        Err(rejected) => rejected.reason.code().into(),
    }
}

/// The governance records among a scenario's records, read by the record rules alone.
fn scenario_governance_records(verifier: &Verifier, scenario: &Value) -> Vec<GovernanceRecord> {
    scenario["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|record| {
            let verified = verifier
                .verify_record_rules(bytes(&record["record_hex"]))
                .unwrap_or_else(|rejected| panic!("{}: {}", record["label"], rejected.reason));
            GovernanceRecord::from_verified(&verified)
        })
        .collect()
}

fn scenario(name: &str) -> Value {
    governance_entries("scenarios")
        .into_iter()
        .find(|scenario| scenario["name"] == name)
        .unwrap_or_else(|| panic!("no governance scenario {name}"))
}

/// What `derive` made of the proposals, in the shape of `expected.proposals`.
fn proposal_json(status: &ProposalStatus) -> Value {
    let mut value = serde_json::json!({
        "id": status.id.to_hex(),
        "proposer": status.proposer,
        "approved_by": status.approved_by,
    });
    let state = without(
        serde_json::to_value(&status.state).expect("serialises"),
        &["reason"],
    );
    for (key, field) in state.as_object().expect("an object") {
        value[key] = field.clone();
    }
    value
}

/// Runs a scenario: derives the authority from its governance records, judges every record
/// under it, runs the records in bundle order through the chain rules, and compares all of it
/// with the scenario's expectations.
fn check_scenario(name: &str) {
    let scenario = scenario(name);
    let genesis = governance_genesis();
    let genesis_verifier = Verifier::new(genesis.clone());
    let governance = scenario_governance_records(&genesis_verifier, &scenario);
    let derivation = governance::derive(&genesis, &governance);
    let expected = &scenario["expected"];
    let labels_removed = |value: &Value| -> Vec<Value> {
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|item| without(item.clone(), &["label"]))
            .collect()
    };

    // Effective proposals, in order; each builds on the one before.
    let steps: Vec<Value> = derivation
        .authority
        .steps()
        .iter()
        .map(|step| {
            serde_json::json!({
                "proposal": step.proposal.to_hex(),
                "change": step.change.name(),
                "approved_by": step.approved_by,
            })
        })
        .collect();
    assert_eq!(steps, labels_removed(&expected["steps"]), "{name}: steps");
    let mut base = aidledger_spec::Digest::ZERO;
    for step in derivation.authority.steps() {
        let status = derivation
            .proposals
            .iter()
            .find(|status| status.id == step.proposal)
            .expect("an effective proposal has a status");
        assert_eq!(
            status.proposal.base, base,
            "{name}: a step builds on the tip"
        );
        base = step.proposal;
    }
    assert_eq!(derivation.authority.tip(), base, "{name}: tip");

    // The witness policy in force (FORMAT.md §24): absent in the scenario means none.
    let policy = derivation.authority.witness_policy().map(|policy| {
        serde_json::json!({
            "threshold": policy.threshold(),
            "witnesses": policy.witnesses().iter().map(|key| key.to_vkey()).collect::<Vec<_>>(),
        })
    });
    assert_eq!(
        policy,
        expected.get("witness_policy").cloned(),
        "{name}: witness policy"
    );

    // Every proposal's state, by record id.
    let proposals: Vec<Value> = derivation.proposals.iter().map(proposal_json).collect();
    assert_eq!(
        proposals,
        labels_removed(&expected["proposals"]),
        "{name}: proposals"
    );

    // Records without effect.
    let mut findings: Vec<Value> = derivation
        .findings
        .iter()
        .map(|finding| {
            serde_json::json!({
                "record": finding.record.to_hex(),
                "author": finding.author,
                "seq": finding.seq,
            })
        })
        .collect();
    findings.sort_by(|a, b| a["record"].as_str().cmp(&b["record"].as_str()));
    findings.dedup();
    assert_eq!(
        findings,
        labels_removed(&expected["findings"]),
        "{name}: findings {:?}",
        derivation.findings
    );

    // Every record under the derived authority, singly and in a batch.
    let verifier = Verifier::with_authority(genesis.clone(), derivation.authority.clone());
    let records = scenario["records"].as_array().expect("records");
    let inputs: Vec<Vec<u8>> = records
        .iter()
        .map(|record| bytes(&record["record_hex"]))
        .collect();
    let batch = verifier.verify_batch(inputs.clone());
    for ((record, input), batch_verdict) in records.iter().zip(&inputs).zip(&batch) {
        let verdict = verifier.verify(input.clone());
        assert_eq!(
            verdict_code(&verdict),
            record["expected_verdict"],
            "{name}: {}",
            record["label"]
        );
        assert_eq!(
            verdict_code(batch_verdict),
            record["expected_verdict"],
            "{name}: {} in a batch",
            record["label"]
        );
    }

    // Authority checks of (author, seq, key).
    for check in expected["checks"].as_array().expect("checks") {
        let key: [u8; 32] = bytes(&check["key"]).try_into().expect("32 bytes");
        let author = check["author"].as_str().expect("author");
        let seq = check["seq"].as_u64().expect("seq");
        let got = match derivation
            .authority
            .check(author, seq, &aidledger_spec::PublicKey(key))
        {
            Ok(()) => "valid".to_owned(),
            Err(reason) => reason.code().to_owned(),
        };
        assert_eq!(
            got, check["expected"],
            "{name}: {author} seq {seq} key {}",
            check["key_name"]
        );
    }

    // The records in bundle order (governance records first, by author and seq) through the
    // chain rules: revoked records are kept apart and do not make the report invalid.
    let mut ordered: Vec<&Value> = records.iter().collect();
    ordered.sort_by_key(|record| {
        let governance = matches!(
            record["kind"].as_str(),
            Some("proposal" | "approval" | "key-rotation")
        );
        (
            !governance,
            record["author"].as_str().unwrap_or_default().to_owned(),
            record["seq"].as_u64(),
        )
    });
    let mut chains = ChainVerifier::new(&genesis);
    for record in ordered {
        chains.add(verifier.verify(bytes(&record["record_hex"])));
    }
    let report = chains.finish_with_governance(derivation);
    let problems: Vec<String> = report
        .problems()
        .map(|problem| problem.reason.to_string())
        .collect();
    assert_eq!(
        report.is_valid(),
        expected["report"]["is_valid"],
        "{name}: is_valid {problems:?}"
    );
    let mut revoked: Vec<String> = report
        .chains
        .iter()
        .flat_map(|chain| &chain.revoked)
        .map(|problem| {
            problem
                .record_id
                .expect("a revoked record has an id")
                .to_hex()
        })
        .collect();
    revoked.sort();
    let mut expected_revoked: Vec<String> = expected["report"]["revoked"]
        .as_array()
        .expect("revoked")
        .iter()
        .map(|label| {
            records
                .iter()
                .find(|record| record["label"] == *label)
                .and_then(|record| record["record_id"].as_str())
                .expect("a record of the scenario")
                .to_owned()
        })
        .collect();
    expected_revoked.sort();
    assert_eq!(revoked, expected_revoked, "{name}: revoked");
}

#[test]
fn accepts_every_valid_governance_record() {
    let verifier = Verifier::new(governance_genesis());
    let network_id = verifier.network_id();
    let records = governance_entries("valid");
    let mut kinds = Vec::new();
    let mut changes = Vec::new();
    for record in &records {
        let name = &record["name"];
        let verified = verifier
            .verify(bytes(&record["record_hex"]))
            .unwrap_or_else(|rejected| panic!("{name}: {}", rejected.reason));
        assert_eq!(verified.id().to_hex(), record["record_id"], "{name}");
        let (header, body) = (bytes(&record["header_hex"]), bytes(&record["body_hex"]));
        assert_eq!(
            [header.as_slice(), &body, &bytes(&record["signature_hex"])].concat(),
            bytes(&record["record_hex"]),
            "{name}"
        );
        assert_eq!(
            sha256(&[domain::RECORD_ID.as_bytes(), &header]),
            record["record_id"],
            "{name}"
        );
        let kind = u32::from_le_bytes(body[..4].try_into().expect("4 bytes"));
        assert_eq!(u64::from(kind), record["body"]["kind_number"], "{name}");
        kinds.push(kind);
        if kind == 5 {
            // kind (4 bytes) ‖ base (32 bytes) ‖ the change's u32 variant index.
            let change = u32::from_le_bytes(body[36..40].try_into().expect("4 bytes"));
            changes.push(change);
            let Body::Proposal(proposal) = verified.body() else {
                panic!("{name}: kind 5 is a proposal");
            };
            assert_eq!(proposal.change.name(), record["change"], "{name}");
        }
        // The proof of possession, checked as another implementation would: SHA-256 of the
        // documented input, then ed25519 verify_strict by the new key.
        if let Some(grant) = record.get("key_grant") {
            let input = bytes(&grant["possession_message_input_hex"]);
            let member = grant["member"].as_str().expect("member");
            let key: [u8; 32] = bytes(&grant["key"]).try_into().expect("32 bytes");
            assert_eq!(
                input,
                [
                    governance::POSSESSION_DOMAIN.as_bytes(),
                    &network_id.0,
                    &key,
                    member.as_bytes()
                ]
                .concat(),
                "{name}"
            );
            let message = sha256(&[&input]);
            assert_eq!(message, grant["possession_message"], "{name}");
            let proof = Signature::from_slice(&bytes(&grant["proof_of_possession"])).expect("64");
            VerifyingKey::from_bytes(&key)
                .expect("a valid key")
                .verify_strict(&bytes(&grant["possession_message"]), &proof)
                .unwrap_or_else(|error| panic!("{name}: {error}"));
        }
    }
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds, [5, 6, 7], "one record of each governance kind");
    changes.sort_unstable();
    assert_eq!(
        changes,
        [0, 1, 2, 3, 4, 5, 6],
        "one proposal of each change"
    );
}

#[test]
fn rejects_invalid_governance_records() {
    let verifier = Verifier::new(governance_genesis());
    let cases = governance_entries("invalid");
    assert!(cases
        .iter()
        .any(|case| case["expected"]["code"] == "invalid-proof-of-possession"));
    for case in cases {
        let name = case["name"].as_str().unwrap_or_default();
        assert!(
            name.starts_with(case["expected"]["code"].as_str().unwrap_or("?")),
            "{name}: named after its code"
        );
        check(
            &verifier,
            name,
            &bytes(&case["record_hex"]),
            &case["expected"],
        );
        // The record rules alone give the same first reason, but for authority rules.
        let record_rules = verifier.verify_record_rules(bytes(&case["record_hex"]));
        if case["expected"]["code"] != "key-not-authors" {
            assert_eq!(
                record_rules.err().map(|rejected| rejected.reason.code()),
                case["expected"]["code"].as_str(),
                "{name}: record rules"
            );
        }
    }
}

#[test]
fn rejects_rotation_without_proof_of_possession() {
    let verifier = Verifier::new(governance_genesis());
    let case = governance_entries("invalid")
        .into_iter()
        .find(|case| case["name"] == "invalid-proof-of-possession-rotation-proved-by-old-key")
        .expect("the vector");
    check(
        &verifier,
        "rotation",
        &bytes(&case["record_hex"]),
        &case["expected"],
    );
}

#[test]
fn below_threshold_changes_nothing() {
    check_scenario("below-threshold-changes-nothing");
}

#[test]
fn double_approval_counts_once() {
    check_scenario("double-approval-counts-once");
}

#[test]
fn adds_member_and_accepts_its_records() {
    check_scenario("add-member");
}

#[test]
fn proposal_on_old_base_is_stale() {
    check_scenario("stale-base");
}

#[test]
fn removed_member_records_are_revoked_and_admins_cannot_be_removed() {
    check_scenario("remove-member");
}

#[test]
fn removes_admin_after_the_admin_rule_drops_it() {
    check_scenario("admin-rule-then-removal");
}

#[test]
fn accepts_rotated_key() {
    check_scenario("rotation");
}

#[test]
fn revokes_stolen_key_and_accepts_replacement() {
    check_scenario("revocation-with-replacement");
}

#[test]
fn smallest_proposal_id_wins_on_one_tip() {
    check_scenario("same-tip-smallest-id-wins");
}

#[test]
fn witness_policy_takes_effect_with_the_admin_threshold() {
    check_scenario("set-witnesses");
}

#[test]
fn every_governance_scenario_has_a_test() {
    let tested = [
        "below-threshold-changes-nothing",
        "double-approval-counts-once",
        "add-member",
        "stale-base",
        "remove-member",
        "admin-rule-then-removal",
        "rotation",
        "revocation-with-replacement",
        "same-tip-smallest-id-wins",
        "set-witnesses",
    ];
    for scenario in governance_entries("scenarios") {
        assert!(
            tested.contains(&scenario["name"].as_str().unwrap_or_default()),
            "untested: {}",
            scenario["name"]
        );
    }
}

/// Calls `visit` with every permutation of `items` (Heap's algorithm).
fn permutations<T: Clone>(items: &mut [T], visit: &mut dyn FnMut(&[T])) {
    fn heap<T>(k: usize, items: &mut [T], visit: &mut dyn FnMut(&[T])) {
        if k <= 1 {
            visit(items);
            return;
        }
        for i in 0..k - 1 {
            heap(k - 1, items, visit);
            let j = if k % 2 == 0 { i } else { 0 };
            items.swap(j, k - 1);
        }
        heap(k - 1, items, visit);
    }
    let len = items.len();
    heap(len, items, visit);
}

#[test]
fn derivation_does_not_depend_on_record_order() {
    let genesis = governance_genesis();
    let verifier = Verifier::new(genesis.clone());
    for scenario in governance_entries("scenarios") {
        let name = &scenario["name"];
        let mut records = scenario_governance_records(&verifier, &scenario);
        let reference = governance::derive(&genesis, &records);
        let reference_json = serde_json::to_value(&reference).expect("serialises");
        let compare = |shuffled: &[GovernanceRecord]| {
            let derivation = governance::derive(&genesis, shuffled);
            assert_eq!(derivation.authority, reference.authority, "{name}");
            assert_eq!(
                serde_json::to_value(&derivation).expect("serialises"),
                reference_json,
                "{name}"
            );
        };
        assert!(records.len() <= 7, "{name}: all permutations stay cheap");
        let mut count = 0;
        permutations(&mut records, &mut |permutation| {
            count += 1;
            compare(permutation);
        });
        assert_eq!(count, (1..=records.len()).product::<usize>(), "{name}");
        // Every record given twice changes nothing either.
        let doubled: Vec<GovernanceRecord> = records
            .iter()
            .chain(records.iter().rev())
            .cloned()
            .collect();
        compare(&doubled);
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures (FORMAT.md 7.1): one verdict alone and in every batch

/// The cases of `signatures.json`: name, record bytes, `None` if valid else the code.
fn signature_vector_cases() -> Vec<(String, Vec<u8>, Option<String>)> {
    cases("signatures.json")
        .iter()
        .map(|case| {
            let expected = &case["expected"];
            let code = match expected["valid"].as_bool() {
                Some(true) => None,
                _ => Some(expected["code"].as_str().expect("a code").to_owned()),
            };
            let name = case["name"].as_str().expect("a name").to_owned();
            (name, bytes(&case["record_hex"]), code)
        })
        .collect()
}

fn rejection_code(verdict: aidledger_spec::verify::RecordVerdict) -> Option<String> {
    verdict
        .err()
        .map(|rejected| rejected.reason.code().to_owned())
}

#[test]
fn every_signature_vector_gets_its_verdict_alone() {
    let verifier = verifier();
    let cases = signature_vector_cases();
    assert!(cases.len() >= 12, "the signature vectors are all there");
    for (name, input, expected) in &cases {
        assert_eq!(
            &rejection_code(verifier.verify(input.clone())),
            expected,
            "{name}"
        );
        let batch = verifier.verify_batch(vec![input.clone()]).remove(0);
        assert_eq!(
            &rejection_code(batch),
            expected,
            "{name}, in a batch of one"
        );
    }
}

#[test]
fn signature_vectors_get_the_same_verdicts_in_every_grouping() {
    let verifier = verifier();
    let cases = signature_vector_cases();
    let valid: Vec<Vec<u8>> = load("records-valid.json")["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|record| bytes(&record["record_hex"]))
        .collect();
    // Every case between valid records, in order and reversed, cut into batches of every size:
    // each cut gives other batch weights, so a rule that depended on them would show here.
    let mut inputs: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    for (index, (_, input, expected)) in cases.iter().enumerate() {
        inputs.push((valid[index % valid.len()].clone(), None));
        inputs.push((input.clone(), expected.clone()));
    }
    for order in [false, true] {
        if order {
            inputs.reverse();
        }
        for size in 1..=inputs.len() {
            for group in inputs.chunks(size) {
                let records = group.iter().map(|(input, _)| input.clone()).collect();
                let got: Vec<Option<String>> = verifier
                    .verify_batch(records)
                    .into_iter()
                    .map(rejection_code)
                    .collect();
                let expected: Vec<Option<String>> =
                    group.iter().map(|(_, code)| code.clone()).collect();
                assert_eq!(got, expected, "batches of {size}, reversed: {order}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Local formats (FORMAT.md 17.2, 19, 20)

#[test]
fn sortable_keys_are_their_parts_in_order() {
    use aidledger_spec::sortkey::SortKeyReader;
    let file = load("local-formats.json");
    for case in file["sortable_keys"].as_array().expect("keys") {
        let key = bytes(&case["hex"]);
        let mut reader = SortKeyReader::new(&key);
        for part in case["parts"].as_array().expect("parts") {
            let (kind, value) = part
                .as_object()
                .expect("one part")
                .iter()
                .next()
                .expect("a part");
            match kind.as_str() {
                "u8" => assert_eq!(u64::from(reader.u8().unwrap()), value.as_u64().unwrap()),
                "u64" => assert_eq!(reader.u64().unwrap(), value.as_u64().unwrap()),
                "short_str" => assert_eq!(reader.short_str().unwrap(), value.as_str().unwrap()),
                "text" => assert_eq!(reader.text().unwrap(), value.as_str().unwrap()),
                "id" => assert_eq!(reader.id().unwrap().to_vec(), bytes(value)),
                other => panic!("{}: unknown part {other}", case["name"]),
            }
        }
        reader.finish().unwrap();
    }
}

#[test]
fn submit_batches_hold_their_bodies() {
    use aidledger_spec::submit::{decode_batch, encode_batch};
    let file = load("local-formats.json");
    for case in file["submit_batches"].as_array().expect("batches") {
        let bodies: Vec<Vec<u8>> = case["bodies_hex"]
            .as_array()
            .expect("bodies")
            .iter()
            .map(bytes)
            .collect();
        let batch = bytes(&case["hex"]);
        assert_eq!(decode_batch(&batch).unwrap(), bodies, "{}", case["name"]);
        assert_eq!(encode_batch(&bodies), batch, "{}", case["name"]);
    }
}

#[test]
fn sync_frames_hold_their_messages() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::sync::{SyncRequest, SyncResponse, WireHead};
    let file = load("local-formats.json");
    let message = |case: &Value| {
        let frame = bytes(&case["frame_hex"]);
        let length = u32::from_le_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(length, frame.len() - 4, "{}", case["name"]);
        frame[4..].to_vec()
    };
    for case in file["sync_requests"].as_array().expect("requests") {
        let decoded = SyncRequest::from_bytes(&message(case)).unwrap();
        let expected = match case["name"].as_str().unwrap() {
            "Heads" => SyncRequest::Heads,
            "Proofs" => SyncRequest::Proofs,
            _ => SyncRequest::Range {
                author: case["author"].as_str().unwrap().into(),
                from_seq: case["from_seq"].as_u64().unwrap(),
                limit: case["limit"].as_u64().unwrap(),
            },
        };
        assert_eq!(decoded, expected);
    }
    for case in file["sync_responses"].as_array().expect("responses") {
        let decoded = SyncResponse::from_bytes(&message(case)).unwrap();
        let expected = if let Some(heads) = case["heads"].as_array() {
            SyncResponse::Heads {
                heads: heads
                    .iter()
                    .map(|head| WireHead {
                        author: head["author"].as_str().unwrap().into(),
                        seq: head["seq"].as_u64().unwrap(),
                        id: bytes(&head["id"]).try_into().unwrap(),
                    })
                    .collect(),
                proofs: case["proofs"].as_u64().unwrap(),
            }
        } else if let Some(records) = case["records_hex"].as_array() {
            SyncResponse::Records(records.iter().map(bytes).collect())
        } else if let Some(proofs) = case["proofs"].as_array() {
            SyncResponse::Proofs(
                proofs
                    .iter()
                    .map(|proof| aidledger_spec::bundle::EquivocationProof {
                        first: bytes(&proof["first_hex"]),
                        second: bytes(&proof["second_hex"]),
                    })
                    .collect(),
            )
        } else {
            SyncResponse::Unavailable
        };
        assert_eq!(decoded, expected, "{}", case["name"]);
    }
}

#[test]
fn rejections_read_back_from_their_stored_encoding() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::Rejection;
    let file = load("local-formats.json");
    let cases = file["rejections"].as_array().expect("rejections");
    assert!(!cases.is_empty());
    for case in cases {
        let encoded = bytes(&case["hex"]);
        let rejection = Rejection::from_bytes(&encoded).unwrap();
        assert_eq!(rejection.code(), case["name"].as_str().unwrap());
        assert_eq!(serde_json::to_value(&rejection).unwrap(), case["rejection"]);
        assert_eq!(rejection.to_bytes(), encoded, "{}", case["name"]);
    }
}

#[test]
fn refused_local_inputs_are_refused() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::submit::decode_batch;
    use aidledger_spec::sync::{SyncRequest, SyncResponse};
    let file = load("local-formats.json");
    for case in file["refused"].as_array().expect("refused") {
        let input = bytes(&case["hex"]);
        let refused = match case["format"].as_str().unwrap() {
            "submit batch" => decode_batch(&input).is_err(),
            "sync request" => SyncRequest::from_bytes(&input).is_err(),
            "sync response" => SyncResponse::from_bytes(&input).is_err(),
            "rejection" => aidledger_spec::Rejection::from_bytes(&input).is_err(),
            other => panic!("unknown format {other}"),
        };
        assert!(refused, "{} ({}) was accepted", case["why"], case["format"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Activity records (kind 8)

#[test]
fn accepts_activity_records_and_decodes_their_fields() {
    let verifier = verifier();
    let file = load("activities.json");
    let records = file["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    let domains = load("records-valid.json")["domains"].clone();
    for record in records {
        let name = &record["name"];
        let verified = verifier
            .verify(bytes(&record["record_hex"]))
            .unwrap_or_else(|rejected| panic!("{name}: {}", rejected.reason));
        assert_eq!(verified.id().to_hex(), record["record_id"], "{name}");
        assert_eq!(verified.header().body_kind, 8, "{name}");
        assert_eq!(record["body"]["kind"], "activity", "{name}");
        // The ids are computed as for every other kind.
        assert_eq!(
            sha256(&[
                &bytes(&domains["record_id_hex"]),
                &bytes(&record["header_hex"])
            ]),
            record["record_id"],
            "{name}"
        );
        assert_eq!(
            sha256(&[&bytes(&domains["body_hex"]), &bytes(&record["body_hex"])]),
            record["body_hash"],
            "{name}"
        );
        let Body::Activity(activity) = verified.body() else {
            panic!("{name}: not an activity");
        };
        assert_eq!(
            serde_json::to_value(activity).expect("serialisable"),
            record["body"]["value"],
            "{name}"
        );
    }
    let Body::Activity(full) = verifier
        .verify(bytes(&records[0]["record_hex"]))
        .expect("valid")
        .body()
        .clone()
    else {
        panic!("an activity")
    };
    assert_eq!(full.title_in("tr"), Some("Gaziantep su projesi"));
    assert_eq!(full.recipient_countries[0].code, "TR");
    assert_eq!(full.sectors[0].percentage, "62.5");
}

#[test]
fn activity_records_chain_after_the_valid_records() {
    let verifier = verifier();
    let mut chain = ChainVerifier::new(verifier.genesis());
    for record in load("records-valid.json")["records"]
        .as_array()
        .expect("records")
        .iter()
        .chain(
            load("activities.json")["records"]
                .as_array()
                .expect("records"),
        )
    {
        chain.add(verifier.verify(bytes(&record["record_hex"])));
    }
    let report = chain.finish();
    assert_eq!(report.problems().count(), 0);
    assert!(report.is_valid());
    let length = |author: &str| {
        report
            .chains
            .iter()
            .find(|chain| chain.author == author)
            .map(|chain| chain.length)
    };
    assert_eq!(length(vector_set::DONOR), Some(6));
    assert_eq!(length(vector_set::IMPLEMENTER), Some(2));
}

#[test]
fn rejects_invalid_activity_fields_naming_the_field() {
    let verifier = verifier();
    let invalid = load("activities.json")["invalid"]
        .as_array()
        .expect("invalid")
        .clone();
    assert_eq!(invalid.len(), 4);
    for case in invalid {
        let name = case["name"].as_str().unwrap_or_default();
        check(
            &verifier,
            name,
            &bytes(&case["record_hex"]),
            &case["expected"],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Merkle trees (§22)

fn digest(value: &Value) -> aidledger_spec::Digest {
    aidledger_spec::Digest::from_hex(value.as_str().expect("a hex string")).expect("a digest")
}

fn digests(value: &Value) -> Vec<aidledger_spec::Digest> {
    value
        .as_array()
        .expect("an array of hashes")
        .iter()
        .map(digest)
        .collect()
}

/// MTH of RFC 9162 over hex leaf hashes, with nothing from the crate: SHA-256(01 ‖ l ‖ r).
fn independent_root(leaves: &[Vec<u8>]) -> Vec<u8> {
    match leaves.len() {
        0 => hex::decode(sha256(&[])).expect("hex"),
        1 => leaves[0].clone(),
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let left = independent_root(&leaves[..k]);
            let right = independent_root(&leaves[k..]);
            hex::decode(sha256(&[&[0x01], &left, &right])).expect("hex")
        }
    }
}

#[test]
fn merkle_vectors_hash_record_ids_into_the_roots_and_their_proofs_verify() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::merkle::{self, ConsistencyProof, InclusionProof};

    let file = load("merkle.json");
    assert_eq!(file["empty_root"], sha256(&[]));
    let mut leaves = Vec::new();
    for (seq, leaf) in file["leaves"]
        .as_array()
        .expect("leaves")
        .iter()
        .enumerate()
    {
        assert_eq!(leaf["seq"], seq);
        let id = bytes(&leaf["record_id"]);
        assert_eq!(leaf["leaf_hash"], sha256(&[&[0x00], &id]), "leaf {seq}");
        leaves.push(bytes(&leaf["leaf_hash"]));
    }
    for root in file["roots"].as_array().expect("roots") {
        let size = root["tree_size"].as_u64().expect("a size") as usize;
        assert_eq!(bytes(&root["root"]), independent_root(&leaves[..size]));
    }
    for case in file["inclusion"].as_array().expect("inclusion proofs") {
        let (index, size) = (case["leaf_index"].as_u64(), case["tree_size"].as_u64());
        let (index, size) = (index.expect("an index"), size.expect("a size"));
        let root = digest(&case["root"]);
        assert_eq!(root.0.to_vec(), independent_root(&leaves[..size as usize]));
        let leaf = aidledger_spec::Digest(leaves[index as usize].clone().try_into().expect("32"));
        let proof = InclusionProof::from_bytes(&bytes(&case["encoded_hex"])).expect("decodes");
        assert_eq!(proof.leaf_index, index);
        assert_eq!(proof.tree_size, size);
        assert_eq!(proof.path, digests(&case["path"]));
        assert_eq!(
            proof.verify(&leaf, &root),
            Ok(()),
            "inclusion {index} in {size}"
        );
        let mut wrong = proof.clone();
        wrong.leaf_index ^= 1;
        assert!(wrong.verify(&leaf, &root).is_err(), "{index} in {size}");
    }
    for case in file["consistency"].as_array().expect("consistency proofs") {
        let old_size = case["old_size"].as_u64().expect("a size");
        let new_size = case["new_size"].as_u64().expect("a size");
        let (old_root, new_root) = (digest(&case["old_root"]), digest(&case["new_root"]));
        assert_eq!(
            old_root.0.to_vec(),
            independent_root(&leaves[..old_size as usize])
        );
        assert_eq!(
            new_root.0.to_vec(),
            independent_root(&leaves[..new_size as usize])
        );
        let proof = ConsistencyProof::from_bytes(&bytes(&case["encoded_hex"])).expect("decodes");
        assert_eq!((proof.old_size, proof.new_size), (old_size, new_size));
        assert_eq!(proof.path, digests(&case["path"]));
        assert_eq!(
            merkle::verify_consistency(old_size, new_size, &old_root, &new_root, &proof.path),
            Ok(()),
            "consistency {old_size} to {new_size}"
        );
        assert!(proof.verify(&new_root, &old_root).is_err() || old_root == new_root);
    }
}
// Checkpoints, cosignatures (FORMAT.md §23-§24)

mod checkpoints {
    use aidledger_spec::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
    use aidledger_spec::cosignature::{self, PolicyError, WitnessPolicy};
    use aidledger_spec::note::{key_id, KeyType, Note, NoteError, VerifierKey};
    use aidledger_spec::{Digest, NetworkId, PublicKey};
    use ed25519_dalek::SigningKey;
    use serde_json::Value;
    use sha2::{Digest as _, Sha256};

    fn file() -> Value {
        super::load("checkpoints.json")
    }

    fn text(value: &Value) -> &str {
        value.as_str().expect("a string")
    }

    fn vkeys(value: &Value) -> Vec<VerifierKey> {
        value
            .as_array()
            .expect("a list of vkeys")
            .iter()
            .map(|vkey| VerifierKey::parse(text(vkey)).expect("a valid vkey"))
            .collect()
    }

    #[test]
    fn the_examples_of_others_verify_as_expected() {
        for example in file()["examples"].as_array().expect("examples") {
            let name = text(&example["name"]);
            let keys = vkeys(&example["vkeys"]);
            for key in &keys {
                // The vkey's id is the derived one: SHA-256(name ‖ 0a ‖ type ‖ key)[:4].
                assert_eq!(
                    key.key_id(),
                    key_id(key.name(), key.key_type(), key.public_key())
                );
            }
            let note = Note::parse(text(&example["note"])).expect(name);
            assert_eq!(note.to_text(), text(&example["note"]), "{name}");
            let expected = &example["expected"];
            match note.verify(&keys) {
                Ok(verified) => {
                    let names: Vec<String> = verified
                        .iter()
                        .map(|done| {
                            let key = &keys[done.key_index];
                            format!("{}+{:08x}", key.name(), key.key_id())
                        })
                        .collect();
                    let wanted: Vec<String> = expected["verified"]
                        .as_array()
                        .expect(name)
                        .iter()
                        .map(|v| text(v).to_owned())
                        .collect();
                    assert_eq!(names, wanted, "{name}");
                    if let Some(times) = expected["timestamps"].as_array() {
                        let found: Vec<Option<u64>> =
                            verified.iter().map(|d| d.timestamp).collect();
                        let wanted: Vec<Option<u64>> = times.iter().map(Value::as_u64).collect();
                        assert_eq!(found, wanted, "{name}");
                    }
                }
                Err(error) => {
                    assert_eq!(expected["error"], "no-trusted-signature", "{name}: {error}");
                    assert_eq!(error, NoteError::NoTrustedSignature);
                }
            }
            if let Some(checkpoint) = expected.get("checkpoint") {
                let parsed = Checkpoint::parse(&note.text).expect(name);
                assert_eq!(parsed.origin, text(&checkpoint["origin"]));
                assert_eq!(Some(parsed.size), checkpoint["size"].as_u64());
                assert_eq!(parsed.root.to_hex(), text(&checkpoint["root_hex"]));
            }
            if let Some(lines) = expected["lines"].as_array() {
                for (line, wanted) in note.signatures.iter().zip(lines) {
                    assert_eq!(line.name, text(&wanted["name"]));
                    assert_eq!(format!("{:08x}", line.key_id), text(&wanted["key_id"]));
                    if let Some(time) = wanted["timestamp"].as_u64() {
                        assert_eq!(line.signature[..8], time.to_be_bytes());
                        assert_eq!(
                            cosignature::signed_message(&note.text, time),
                            text(&expected["cosigned_message"]).as_bytes()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_donor_checkpoint_is_what_the_file_says() {
        let file = file();
        let vector = &file["checkpoint"];
        let network = NetworkId::from_hex(text(&vector["network_id"])).expect("hex");
        assert_eq!(network, super::verifier().genesis().network_id());
        let seed: [u8; 32] = super::bytes(&vector["org_seed_hex"])
            .try_into()
            .expect("32");
        let key = SigningKey::from_bytes(&seed);
        let public = PublicKey(key.verifying_key().to_bytes());
        let origin = text(&vector["origin"]);
        assert_eq!(
            origin,
            format!("aidledger/{}/{}", network.to_hex(), text(&vector["org"]))
        );
        let org_vkey = VerifierKey::parse(text(&vector["org_vkey"])).expect("vkey");
        assert_eq!(org_vkey.name(), origin);
        assert_eq!(org_vkey.key_type(), KeyType::Ed25519);
        assert_eq!(*org_vkey.public_key(), public);
        // A one-leaf tree's root is the leaf hash of the donor's seq 0 record.
        let leaf = super::bytes(&vector["leaf_record_id"]);
        let root = Sha256::new()
            .chain_update([0u8])
            .chain_update(&leaf)
            .finalize();
        assert_eq!(hex::encode(root), text(&vector["root_hex"]));
        let checkpoint = Checkpoint::new(&network, text(&vector["org"]), 1, Digest(root.into()));
        assert_eq!(checkpoint.text(), text(&vector["text"]));
        assert_eq!(
            checkpoint.sign(&key).expect("signs").to_text(),
            text(&vector["note"])
        );
        let opened = SignedCheckpoint::open(
            text(&vector["note"]),
            &network,
            text(&vector["org"]),
            &[public],
        )
        .expect("opens");
        assert_eq!(opened.checkpoint, checkpoint);

        for case in file["invalid"].as_array().expect("invalid") {
            let found = SignedCheckpoint::open(
                text(&case["note"]),
                &network,
                text(&vector["org"]),
                &[public],
            );
            let code = match found {
                Err(CheckpointError::WrongOrigin { .. }) => "wrong-origin",
                Err(CheckpointError::Note(NoteError::BadSignature { .. })) => "bad-signature",
                Err(CheckpointError::NotSignedByOrganisation) => "not-signed-by-organisation",
                other => panic!("{}: {other:?}", case["name"]),
            };
            assert_eq!(code, case["expected"], "{}", case["name"]);
        }
    }

    #[test]
    fn the_cosigned_notes_meet_the_policy_or_not_as_the_file_says() {
        let file = file();
        let witnesses: Vec<VerifierKey> = file["witnesses"]
            .as_array()
            .expect("witnesses")
            .iter()
            .map(|witness| {
                let seed: [u8; 32] = super::bytes(&witness["seed_hex"]).try_into().expect("32");
                let public = PublicKey(SigningKey::from_bytes(&seed).verifying_key().to_bytes());
                let vkey = VerifierKey::parse(text(&witness["vkey"])).expect("vkey");
                assert_eq!(vkey.name(), text(&witness["name"]));
                assert_eq!(vkey.key_type(), KeyType::Cosignature);
                assert_eq!(*vkey.public_key(), public);
                vkey
            })
            .collect();
        let threshold = file["policy"]["threshold"].as_u64().expect("threshold") as usize;
        let policy = WitnessPolicy::new(witnesses, threshold).expect("policy");
        for case in file["cosigned"].as_array().expect("cosigned") {
            let note = Note::parse(text(&case["note"])).expect("parses");
            let expected = &case["expected"];
            match policy.check(&note) {
                Ok(cosigned) => {
                    assert_eq!(expected["policy_met"], true, "{}", case["name"]);
                    let found: Vec<(usize, u64)> =
                        cosigned.iter().map(|c| (c.witness, c.timestamp)).collect();
                    let wanted: Vec<(usize, u64)> = expected["cosigned"]
                        .as_array()
                        .expect("cosigned")
                        .iter()
                        .map(|pair| {
                            (
                                pair[0].as_u64().expect("index") as usize,
                                pair[1].as_u64().expect("time"),
                            )
                        })
                        .collect();
                    assert_eq!(found, wanted);
                    for (message, (_, time)) in case["cosigned_messages"]
                        .as_array()
                        .expect("messages")
                        .iter()
                        .zip(&found)
                    {
                        assert_eq!(
                            cosignature::signed_message(&note.text, *time),
                            text(message).as_bytes()
                        );
                    }
                }
                Err(PolicyError::NotEnough { valid, .. }) => {
                    assert_eq!(expected["error"], "not-enough", "{}", case["name"]);
                    assert_eq!(Some(valid as u64), expected["valid"].as_u64());
                }
                Err(PolicyError::Note(NoteError::BadSignature { .. })) => {
                    assert_eq!(expected["error"], "bad-signature", "{}", case["name"]);
                }
                Err(other) => panic!("{}: {other}", case["name"]),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Split-view proofs (FORMAT.md §25)

#[test]
fn split_view_vectors_decode_and_check_as_the_file_says() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::merkle::MemoryTree;
    use aidledger_spec::splitview::{SplitViewError, SplitViewProof};
    use aidledger_spec::{Digest, PublicKey};

    let file = load("split-views.json");
    let leaves = |key: &str| -> Vec<Digest> {
        file[key]
            .as_array()
            .expect("leaves")
            .iter()
            .map(|id| Digest::from_hex(id.as_str().expect("hex")).expect("an id"))
            .collect()
    };
    let (truth, fork) = (leaves("true_leaves"), leaves("forked_leaves"));
    assert_eq!(truth.len(), fork.len());
    assert_eq!(
        truth.iter().zip(&fork).filter(|(a, b)| a != b).count(),
        1,
        "the fork differs in one record"
    );
    let (truth, fork) = (
        MemoryTree::of_record_ids(&truth),
        MemoryTree::of_record_ids(&fork),
    );
    for case in file["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("a name");
        let proof = SplitViewProof::from_bytes(&bytes(&case["proof_hex"])).expect(name);
        assert_eq!(
            proof.first,
            case["first"].as_str().expect("a note"),
            "{name}"
        );
        assert_eq!(
            proof.second,
            case["second"].as_str().expect("a note"),
            "{name}"
        );
        let keys: Vec<PublicKey> = case["org_public_keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| PublicKey::from_hex(key.as_str().expect("hex")).expect("a key"))
            .collect();
        let verdict = match proof.check(&keys) {
            Ok(split) => {
                assert_eq!(split.first.origin, split.second.origin);
                // The smaller (or first) checkpoint is of the fork, the other of the truth.
                assert_eq!(Ok(split.first.root), fork.root(split.first.size), "{name}");
                assert_eq!(
                    Ok(split.second.root),
                    truth.root(split.second.size),
                    "{name}"
                );
                assert_eq!(
                    split.network.to_hex(),
                    file["network_id"].as_str().expect("hex")
                );
                "split"
            }
            Err(SplitViewError::Consistent) => "consistent",
            Err(SplitViewError::Proof(_)) => "proof",
            Err(SplitViewError::Sizes { .. }) => "sizes",
            Err(SplitViewError::First(_)) => "first",
            Err(SplitViewError::Second(_)) => "second",
            Err(SplitViewError::DifferentOrigins) => "different-origins",
            Err(other) => panic!("{name}: {other}"),
        };
        assert_eq!(verdict, case["expected"], "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Proof packets (FORMAT.md §26)

fn packet_policy(file: &serde_json::Value) -> aidledger_spec::cosignature::WitnessPolicy {
    let vkeys = file["witness_vkeys"]
        .as_array()
        .expect("witness vkeys")
        .iter()
        .map(|vkey| {
            aidledger_spec::note::VerifierKey::parse(vkey.as_str().expect("a vkey text"))
                .expect("a vkey")
        })
        .collect();
    let threshold = file["threshold"].as_u64().expect("a threshold") as usize;
    aidledger_spec::cosignature::WitnessPolicy::new(vkeys, threshold).expect("a policy")
}

#[test]
fn the_proof_packet_vector_verifies_and_its_bin_is_its_bytes() {
    use aidledger_spec::packet::{verify_packet, ProofPacket, Witnessing};
    let file = load(packet_vectors::FILE_NAME);
    let packet_bytes = bytes(&file["packet_hex"]);
    let on_disk = std::fs::read(vectors_dir().join(packet_vectors::BIN_NAME)).unwrap_or_default();
    assert_eq!(
        on_disk, packet_bytes,
        "proof-packet.bin is not the packet of proof-packet.json: run make_vectors"
    );
    let network =
        aidledger_spec::NetworkId::from_hex(file["network_id"].as_str().unwrap()).unwrap();
    let verdict =
        verify_packet(&packet_bytes, &network, Some(&packet_policy(&file))).expect("valid");
    let expected = &file["expected"];
    assert_eq!(verdict.record.to_hex(), expected["record"]);
    assert_eq!(verdict.author, expected["author"]);
    assert_eq!(verdict.seq, expected["seq"]);
    assert_eq!(verdict.kind, expected["kind"]);
    assert_eq!(verdict.size, expected["size"]);
    assert_eq!(verdict.root.to_hex(), expected["root"]);
    let Witnessing::Met {
        cosigned,
        threshold,
    } = verdict.witnessing
    else {
        panic!("a policy was given");
    };
    assert_eq!(threshold, 2);
    let names: Vec<&str> = cosigned
        .iter()
        .map(|done| {
            file["witness_vkeys"][done.witness]
                .as_str()
                .unwrap()
                .split('+')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(serde_json::json!(names), expected["cosigned_by"]);
    let packet = ProofPacket::from_packet_bytes(&packet_bytes).unwrap();
    assert_eq!(
        packet.to_packet_bytes(),
        packet_bytes,
        "decode then encode is the identity"
    );
    assert_eq!(packet.tlog_proof_text(), file["tlog_proof"]);
    assert!(packet_bytes.starts_with(b"AIDLPKT1"));
}

#[test]
fn every_refused_proof_packet_vector_fails_its_check() {
    use aidledger_spec::packet::verify_packet;
    let file = load(packet_vectors::FILE_NAME);
    let network =
        aidledger_spec::NetworkId::from_hex(file["network_id"].as_str().unwrap()).unwrap();
    let cases = file["refused"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let error = verify_packet(
            &bytes(&case["packet_hex"]),
            &network,
            Some(&packet_policy(&file)),
        )
        .expect_err("a refused packet");
        assert_eq!(error.name(), case["error"], "{}: {error}", case["name"]);
    }
}
