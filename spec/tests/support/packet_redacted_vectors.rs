//! The golden vectors of proof packets of redacted records (FORMAT.md §26.3, §27):
//! `proof-packet-redacted.json`.
//!
//! A file of its own so that `proof-packet.json` and `proof-packet.bin` keep their bytes. The
//! records are those of `redaction.json` (`redaction_vectors.rs`): the donor's chain seq 0–5
//! and its order at seq 6 naming its statement (seq 3); the admins' `redact` proposal (donor
//! seq 6 in another history) and the implementer's approval (its seq 2) naming the
//! implementer's reversal (seq 0). Each packet carries a withheld envelope; the checkpoint is
//! signed by the record's author over the chain the record is in. Every expectation is written
//! by hand from FORMAT.md §26.2, never computed by `verify_packet`, so that `tests/packet.rs`
//! and `tests/vectors.rs` fail when a rule changes. Included by `examples/make_vectors.rs` and
//! the tests beside `vector_set.rs`, `activity_vectors.rs` and `redaction_vectors.rs`.

#![allow(dead_code)] // each includer uses a different part

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::merkle::{InclusionProof, MemoryTree};
use aidledger_spec::packet::ProofPacket;
use aidledger_spec::{RecordId, SignedRecord};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::redaction_vectors::{
    records, withheld, Records, ADMINS_CATEGORY, AUTHOR_CATEGORY, STATEMENT_SEQ,
};
use crate::vector_set::{Fixture, Made, VectorFile, DONOR, IMPLEMENTER};

/// The file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "proof-packet-redacted.json";

/// One packet of the file and what `verify_packet` must say of it (no witness policy).
pub struct Case {
    /// Short name.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The packet.
    pub packet: ProofPacket,
    /// The verdict of a valid packet (as `expected` in the file), or `None`.
    pub expected: Option<Value>,
    /// The failure's name (`PacketError::name`) of an invalid one.
    pub error: Option<&'static str>,
}

/// The packet of `record` (at `seq` of `author`'s chain `chain`), the checkpoint at the chain's
/// size signed with `key`.
#[allow(clippy::too_many_arguments)]
pub fn chain_packet(
    fixture: &Fixture,
    author: &str,
    key: &SigningKey,
    chain: &[&Made],
    seq: u64,
    record: Vec<u8>,
    governance: Vec<Vec<u8>>,
    order: Option<Vec<u8>>,
) -> ProofPacket {
    let ids: Vec<RecordId> = chain.iter().map(|made| made.id).collect();
    let size = ids.len() as u64;
    let tree = MemoryTree::of_record_ids(&ids);
    let root = tree.root(size).expect("a chain of records");
    ProofPacket {
        genesis: fixture.genesis.encode(),
        governance,
        record,
        inclusion: InclusionProof {
            leaf_index: seq,
            tree_size: size,
            path: tree
                .inclusion_proof(seq, size)
                .expect("an index in the tree"),
        },
        checkpoint: Checkpoint::new(&fixture.network_id(), author, size, root)
            .sign(key)
            .expect("the vector checkpoint signs")
            .to_text(),
        order,
    }
}

/// The donor's chain seq 0–5, then `last` at seq 6.
fn donor_chain<'a>(records: &'a Records, last: &'a Made) -> Vec<&'a Made> {
    records.donor.iter().chain([last]).collect()
}

fn timestamp_ms(made: &Made) -> u64 {
    SignedRecord::parse(made.bytes.clone())
        .expect("a record this file signed")
        .header
        .timestamp_ms
}

/// The cases, valid first.
pub fn cases(fixture: &Fixture) -> Vec<Case> {
    let records = records(fixture);
    let statement = &records.donor[STATEMENT_SEQ];
    let seq3 = STATEMENT_SEQ as u64;
    let with_order = donor_chain(&records, &records.order);
    let by_author = chain_packet(
        fixture,
        DONOR,
        &fixture.donor,
        &with_order,
        seq3,
        withheld(statement),
        Vec::new(),
        Some(records.order.bytes.clone()),
    );
    let implementer_chain: Vec<&Made> = records
        .implementer
        .iter()
        .chain([&records.approval])
        .collect();
    let by_admins = chain_packet(
        fixture,
        IMPLEMENTER,
        &fixture.implementer,
        &implementer_chain,
        0,
        withheld(&records.implementer[0]),
        vec![
            records.proposal.bytes.clone(),
            records.approval.bytes.clone(),
        ],
        None,
    );
    let mut no_order = by_author.clone();
    no_order.order = None;
    let mut pending = by_admins.clone();
    pending.governance.truncate(1);
    let foreign = chain_packet(
        fixture,
        DONOR,
        &fixture.donor,
        &with_order,
        0,
        withheld(&records.donor[0]),
        Vec::new(),
        Some(records.foreign_order.bytes.clone()),
    );
    let misplaced = chain_packet(
        fixture,
        DONOR,
        &fixture.donor,
        &donor_chain(&records, &records.misplaced_order),
        seq3,
        withheld(statement),
        Vec::new(),
        Some(records.misplaced_order.bytes.clone()),
    );
    let mut whole_with_order = by_author.clone();
    whole_with_order.record = statement.bytes.clone();
    let mut not_an_order = by_author.clone();
    not_an_order.order = Some(records.donor[5].bytes.clone());

    vec![
        Case {
            name: "redacted-by-its-author",
            description: "Version 2: the donor's statement (seq 3) withheld, in the donor's chain of 7 (seq 0-5 and its order at seq 6), the order carried: valid, redacted by the author's order at seq 6, personal-data.",
            packet: by_author,
            expected: Some(json!({
                "version": 2,
                "record": statement.id.to_hex(),
                "author": DONOR,
                "seq": seq3,
                "kind": "statement",
                "size": 7,
                "governance_records": 0,
                "redacted": {
                    "order": records.order.id.to_hex(),
                    "by": "author",
                    "seq": 6,
                    "timestamp_ms": timestamp_ms(&records.order),
                    "category": AUTHOR_CATEGORY.name(),
                },
            })),
            error: None,
        },
        Case {
            name: "redacted-by-the-admins",
            description: "Version 1: the implementer's reversal (seq 0) withheld, in the implementer's chain of 3 (seq 0-1 and its approval at seq 2); the governance carried is the donor's redact proposal and the implementer's approval (threshold 2 with the proposer's own): valid, redacted by the admins at step 1, legal-order.",
            packet: by_admins,
            expected: Some(json!({
                "version": 1,
                "record": records.implementer[0].id.to_hex(),
                "author": IMPLEMENTER,
                "seq": 0,
                "kind": "transaction",
                "size": 3,
                "governance_records": 2,
                "redacted": {
                    "order": records.proposal.id.to_hex(),
                    "by": "admins",
                    "step": 1,
                    "approved_by": [DONOR, IMPLEMENTER],
                    "category": ADMINS_CATEGORY.name(),
                },
            })),
            error: None,
        },
        Case {
            name: "withheld-without-order",
            description: "The first packet without its order (so version 1): no order the packet shows covers the statement.",
            packet: no_order,
            expected: None,
            error: Some("not-redacted"),
        },
        Case {
            name: "admins-order-pending",
            description: "The second packet with the proposal and without the approval: the proposal is not effective, so no order covers the reversal.",
            packet: pending,
            expected: None,
            error: Some("not-redacted"),
        },
        Case {
            name: "order-of-another-author",
            description: "The donor's disbursement (seq 0) withheld, carrying the implementer's order (its seq 2) that names it: an author orders only its own records.",
            packet: foreign,
            expected: None,
            error: Some("not-redacted"),
        },
        Case {
            name: "order-naming-another-seq",
            description: "The donor's statement (seq 3) withheld, carrying the donor's order at seq 6 (another history) that names the statement's id at seq 4: it covers nothing.",
            packet: misplaced,
            expected: None,
            error: Some("not-redacted"),
        },
        Case {
            name: "whole-record-with-order",
            description: "The first packet with the statement whole: a whole record carries no order.",
            packet: whole_with_order,
            expected: None,
            error: Some("unexpected-order"),
        },
        Case {
            name: "order-not-a-redaction",
            description: "The first packet carrying the donor's seq 5 (an activity) as its order.",
            packet: not_an_order,
            expected: None,
            error: Some("not-an-order"),
        },
    ]
}

/// The file.
pub fn packet_redacted_file() -> VectorFile {
    let fixture = Fixture::new();
    let cases: Vec<Value> = cases(&fixture)
        .into_iter()
        .map(|case| {
            let mut json = json!({
                "name": case.name,
                "description": case.description,
                "packet_hex": hex::encode(case.packet.to_packet_bytes()),
            });
            match (case.expected, case.error) {
                (Some(expected), _) => json["expected"] = expected,
                (None, error) => json["error"] = json!(error),
            }
            json
        })
        .collect();
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "Proof packets (FORMAT.md §26) of records whose body was redacted (§27), on the network of genesis.json, built from the records of redaction.json. Each packet carries the record's withheld envelope (§6.1); the checkpoint is signed by the record's author over the chain it is in, with no cosignatures. `expected` is what verify_packet finds with the network id and no witness policy (version, record, author, seq, kind, checkpoint size, governance records carried, and the order that covers the record as redaction.json writes orders); `error` is the name of the first check that fails (§26.2).",
            "network_id": fixture.network_id().to_hex(),
            "packets": cases,
        }),
    }
}
