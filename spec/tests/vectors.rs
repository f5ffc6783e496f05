//! Data-driven tests over `spec/vectors/`: the code reproduces every vector byte for byte, and
//! judges every invalid vector with exactly the expected first reason.
//!
//! The vector files are what another implementation tests against, so these tests read them as
//! such an implementation would (hex in, verdicts out), and separately rebuild them in memory
//! (`support/vector_set.rs`) so that any change to the encoding fails here first.

#[path = "support/vector_set.rs"]
mod vector_set;

use std::path::PathBuf;

use aidledger_spec::bundle::{BundleError, BundleItem, BundleReader};
use aidledger_spec::chain::ChainVerifier;
use aidledger_spec::genesis::GenesisError;
use aidledger_spec::signature::signed_message;
use aidledger_spec::{domain, Genesis, Rejection, Verifier};
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
    for file in vector_set::all() {
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
