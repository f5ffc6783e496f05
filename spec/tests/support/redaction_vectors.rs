//! The golden vectors of redaction (FORMAT.md §5.11, §6.1, §18.2.1 `redact`, §27):
//! `redaction.json`.
//!
//! A file of its own so that every earlier file keeps its bytes. The records chain after those
//! of `records-valid.json` and `activities.json` (the donor's seq 0–5, the implementer's seq
//! 0–1), on the network of `genesis.json`. Every expectation is written by hand from the rules
//! of FORMAT.md §27 — never computed by `ChainVerifier` — so that `tests/redaction.rs`, which
//! runs the verifier over the envelopes, fails when a rule changes. Included by
//! `examples/make_vectors.rs` and the tests beside `vector_set.rs` (as `crate::vector_set`) and
//! `activity_vectors.rs` (as `crate::activity_vectors`).

#![allow(dead_code)] // each includer uses a different part

use aidledger_spec::codec;
use aidledger_spec::codec::Codec;
use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::redaction::{RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::withheld::withhold;
use aidledger_spec::{Body, Digest, RecordId, Rejection, SignedRecord};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::activity_vectors::valid_activities;
use crate::vector_set::{
    draft, minute, record_json, sign, valid_records, Fixture, Made, VectorFile, DONOR, IMPLEMENTER,
};

/// The file's name under `spec/vectors/`.
pub const FILE_NAME: &str = "redaction.json";

/// The donor's order's category: `personal-data` (1).
pub const AUTHOR_CATEGORY: RedactionCategory = RedactionCategory::PersonalData;
/// The admins' order's category: `legal-order` (2).
pub const ADMINS_CATEGORY: RedactionCategory = RedactionCategory::LegalOrder;
/// The donor's order's note.
pub const AUTHOR_NOTE: &str = "Names a person who asked for erasure.";
/// The admins' proposal's note.
pub const ADMINS_NOTE: &str = "A court ordered it withheld.";

/// The records the scenarios build on and the ones this file adds.
pub struct Records {
    /// The donor's seq 0–5 (`records-valid.json`, then the activity of `activities.json`).
    pub donor: Vec<Made>,
    /// The implementer's seq 0–1 (the reversal, then its activity record).
    pub implementer: Vec<Made>,
    /// Donor seq 6: its order that its statement (seq 3) be forgotten.
    pub order: Made,
    /// Donor seq 6 in another history: its proposal that the implementer's reversal (seq 0)
    /// be forgotten.
    pub proposal: Made,
    /// Implementer seq 2 after the proposal: its approval, the second of the threshold 2.
    pub approval: Made,
    /// Implementer seq 2 in another history: its order naming the donor's disbursement.
    pub foreign_order: Made,
    /// The `redact` change of [`Records::proposal`].
    pub change: Change,
    /// Donor seq 6 in another history: an order naming its statement at seq 4 (where its
    /// correction is).
    pub misplaced_order: Made,
    /// Donor seq 7 after [`Records::misplaced_order`]: an order naming the statement where it
    /// is.
    pub later_order: Made,
}

/// The donor's statement, the record every author-order scenario withholds.
pub const STATEMENT_SEQ: usize = 3;

fn author_of(made: &Made) -> String {
    SignedRecord::parse(made.bytes.clone())
        .map(|record| record.header.author)
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn make(
    fixture: &Fixture,
    name: &'static str,
    description: &'static str,
    author: &str,
    seq: u64,
    prev: RecordId,
    key: &SigningKey,
    at: u64,
    body: Body,
) -> Made {
    let (id, bytes) = sign(
        &draft(fixture, author, seq, prev, minute(at), body.clone()),
        key,
    );
    Made {
        name,
        description,
        id,
        bytes,
        body,
    }
}

/// Every record of the file.
pub fn records(fixture: &Fixture) -> Records {
    let mut donor = Vec::new();
    let mut implementer = Vec::new();
    for made in valid_records(fixture)
        .into_iter()
        .chain(valid_activities(fixture))
    {
        if author_of(&made) == DONOR {
            donor.push(made);
        } else {
            implementer.push(made);
        }
    }
    let statement = &donor[STATEMENT_SEQ];
    let order = make(
        fixture,
        "redaction-order",
        "Donor seq 6: a redaction (kind 9) of its own statement at seq 3, category personal-data.",
        DONOR,
        6,
        donor[5].id,
        &fixture.donor,
        20,
        Body::Redaction(Redaction {
            records: vec![RedactedRecord {
                seq: STATEMENT_SEQ as u64,
                id: statement.id,
            }],
            category: AUTHOR_CATEGORY,
            note: AUTHOR_NOTE.into(),
        }),
    );
    let change = Change::Redact {
        member: IMPLEMENTER.into(),
        records: vec![RedactedRecord {
            seq: 0,
            id: implementer[0].id,
        }],
        category: ADMINS_CATEGORY,
    };
    let proposal = make(
        fixture,
        "redact-proposal",
        "Donor seq 6 (another history than the order's): an admin's proposal (kind 5, base zero) with the change redact (7): the implementer's reversal at its seq 0, category legal-order.",
        DONOR,
        6,
        donor[5].id,
        &fixture.donor,
        21,
        Body::Proposal(Proposal {
            base: Digest::ZERO,
            change: change.clone(),
            note: ADMINS_NOTE.into(),
        }),
    );
    let approval = make(
        fixture,
        "redact-approval",
        "Implementer seq 2: approves the redact proposal; with the proposer's own approval that is the genesis threshold of 2.",
        IMPLEMENTER,
        2,
        implementer[1].id,
        &fixture.implementer,
        22,
        Body::Approval(Approval {
            proposal: proposal.id,
        }),
    );
    let foreign_order = make(
        fixture,
        "foreign-order",
        "Implementer seq 2: a redaction (kind 9) naming the donor's disbursement (seq 0 and its id): its own chain holds the reversal at seq 0.",
        IMPLEMENTER,
        2,
        implementer[1].id,
        &fixture.implementer,
        23,
        Body::Redaction(Redaction {
            records: vec![RedactedRecord {
                seq: 0,
                id: donor[0].id,
            }],
            category: RedactionCategory::AuthorsRequest,
            note: String::new(),
        }),
    );
    let misplaced_order = make(
        fixture,
        "misplaced-order",
        "Donor seq 6: a redaction naming its statement's id at seq 4, where its correction is: it orders nothing.",
        DONOR,
        6,
        donor[5].id,
        &fixture.donor,
        24,
        Body::Redaction(Redaction {
            records: vec![RedactedRecord {
                seq: 4,
                id: statement.id,
            }],
            category: AUTHOR_CATEGORY,
            note: String::new(),
        }),
    );
    let later_order = make(
        fixture,
        "later-order",
        "Donor seq 7 after the misplaced order: a redaction naming its statement at seq 3.",
        DONOR,
        7,
        misplaced_order.id,
        &fixture.donor,
        25,
        Body::Redaction(Redaction {
            records: vec![RedactedRecord {
                seq: STATEMENT_SEQ as u64,
                id: statement.id,
            }],
            category: AUTHOR_CATEGORY,
            note: String::new(),
        }),
    );
    Records {
        misplaced_order,
        later_order,
        donor,
        implementer,
        order,
        proposal,
        approval,
        foreign_order,
        change,
    }
}

/// The withheld envelope of a record this file signed.
pub fn withheld(made: &Made) -> Vec<u8> {
    withhold(made.bytes.clone()).expect("a record this file signed")
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// One envelope of a scenario, in bundle order.
pub struct Envelope {
    /// What it is.
    pub label: String,
    /// The author its header names.
    pub author: &'static str,
    /// Its position.
    pub seq: u64,
    /// What `is_withheld` must say of the bytes (which verifier path they take).
    pub withheld: bool,
    /// The bytes.
    pub bytes: Vec<u8>,
}

fn full(author: &'static str, seq: u64, made: &Made) -> Envelope {
    Envelope {
        label: format!("{author} seq {seq}: {} (full)", made.name),
        author,
        seq,
        withheld: false,
        bytes: made.bytes.clone(),
    }
}

fn withheld_envelope(author: &'static str, seq: u64, made: &Made) -> Envelope {
    Envelope {
        label: format!("{author} seq {seq}: {} (withheld)", made.name),
        author,
        seq,
        withheld: true,
        bytes: withheld(made),
    }
}

/// A chain's records in order, the one at `withheld_at` (if any) withheld.
fn chain(author: &'static str, records: &[Made], withheld_at: Option<usize>) -> Vec<Envelope> {
    records
        .iter()
        .enumerate()
        .map(|(seq, made)| {
            if Some(seq) == withheld_at {
                withheld_envelope(author, seq as u64, made)
            } else {
                full(author, seq as u64, made)
            }
        })
        .collect()
}

/// A scenario: envelopes in bundle order and the report a verifier must make of them.
pub struct Scenario {
    /// Short name.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The envelopes, in bundle order (FORMAT.md §13.1: governance records first).
    pub envelopes: Vec<Envelope>,
    /// Whether the report is valid.
    pub is_valid: bool,
    /// Every problem, in report order (chains in genesis order, then problems of no chain):
    /// each as `Problem` serialises, without the wording of `malformed`'s `detail`.
    pub problems: Vec<Value>,
    /// Every redacted entry, chain by chain in genesis order, each by `seq`: `author` and the
    /// fields of `RedactedEntry`.
    pub redacted: Vec<Value>,
}

fn problem(
    author: Option<&str>,
    seq: Option<u64>,
    record: Option<RecordId>,
    reason: Value,
) -> Value {
    json!({
        "author": author,
        "seq": seq,
        "record_id": record.map(|id| id.to_hex()),
        "reason": reason,
    })
}

fn by_author(entry_seq: u64, made: &Made, order: &Made, category: RedactionCategory) -> Value {
    let order_record = SignedRecord::parse(order.bytes.clone()).expect("a record this file signed");
    json!({
        "author": DONOR,
        "seq": entry_seq,
        "id": made.id.to_hex(),
        "body_kind": made.body.kind() as u16,
        "order": {
            "order": order.id.to_hex(),
            "by": "author",
            "seq": order_record.header.seq,
            "timestamp_ms": order_record.header.timestamp_ms,
            "category": category.name(),
        },
    })
}

/// The scenarios, in the order of FORMAT.md §27's list.
pub fn scenarios(fixture: &Fixture) -> Vec<Scenario> {
    let records = records(fixture);
    let donor = &records.donor;
    let implementer = &records.implementer;
    let statement = &donor[STATEMENT_SEQ];
    let seq3 = STATEMENT_SEQ as u64;
    let mut with_order = chain(DONOR, donor, Some(STATEMENT_SEQ));
    with_order.push(full(DONOR, 6, &records.order));
    let not_found_of_statement = problem(
        Some(DONOR),
        Some(6),
        Some(records.order.id),
        json!({ "code": "redaction-target-not-found", "seq": seq3, "id": statement.id.to_hex() }),
    );

    let mut cut = chain(DONOR, donor, Some(STATEMENT_SEQ));
    cut.push(full(DONOR, 6, &records.order));
    cut[STATEMENT_SEQ].bytes.pop();
    cut[STATEMENT_SEQ].withheld = false;
    cut[STATEMENT_SEQ].label = format!("{DONOR} seq 3: statement (withheld, cut by one byte)");

    let mut flipped = chain(DONOR, donor, Some(STATEMENT_SEQ));
    flipped.push(full(DONOR, 6, &records.order));
    let last = flipped[STATEMENT_SEQ].bytes.len() - 1;
    flipped[STATEMENT_SEQ].bytes[last] ^= 0x01;
    flipped[STATEMENT_SEQ].label =
        format!("{DONOR} seq 3: statement (withheld, last signature byte xor 01)");

    let mut applied_later = chain(DONOR, donor, None);
    applied_later.push(full(DONOR, 6, &records.order));

    let mut proposal_withheld = vec![withheld_envelope(DONOR, 6, &records.proposal)];
    proposal_withheld.extend(chain(DONOR, donor, None));

    let mut order_withheld = chain(DONOR, donor, None);
    order_withheld.push(withheld_envelope(DONOR, 6, &records.order));

    let mut foreign = chain(DONOR, donor, Some(0));
    foreign.extend(chain(IMPLEMENTER, implementer, None));
    foreign.push(full(IMPLEMENTER, 2, &records.foreign_order));

    let mut admins = vec![
        full(DONOR, 6, &records.proposal),
        full(IMPLEMENTER, 2, &records.approval),
    ];
    admins.extend(chain(DONOR, donor, None));
    admins.extend(chain(IMPLEMENTER, implementer, Some(0)));

    let mut pending = vec![full(DONOR, 6, &records.proposal)];
    pending.extend(chain(DONOR, donor, None));
    pending.extend(chain(IMPLEMENTER, implementer, Some(0)));

    let mut misplaced = chain(DONOR, donor, Some(STATEMENT_SEQ));
    misplaced.push(full(DONOR, 6, &records.misplaced_order));
    misplaced.push(full(DONOR, 7, &records.later_order));

    vec![
        Scenario {
            name: "authors-order-redacts-its-own-record",
            description: "The donor's chain seq 0-5 with its statement (seq 3) withheld, then its order (seq 6) naming it: valid, the statement reported as redacted by the author's order.",
            envelopes: with_order,
            is_valid: true,
            problems: vec![],
            redacted: vec![by_author(seq3, statement, &records.order, AUTHOR_CATEGORY)],
        },
        Scenario {
            name: "withheld-without-order",
            description: "The donor's chain seq 0-5 with its statement withheld and no order: withheld-without-order at seq 3 (a node may not drop a body on its own).",
            envelopes: chain(DONOR, donor, Some(STATEMENT_SEQ)),
            is_valid: false,
            problems: vec![problem(
                Some(DONOR),
                Some(seq3),
                Some(statement.id),
                json!({ "code": "withheld-without-order" }),
            )],
            redacted: vec![],
        },
        Scenario {
            name: "withheld-proposal-is-not-redactable",
            description: "The donor's redact proposal (kind 5, seq 6) withheld, listed first as a governance record by its header's body_kind, then the donor's chain seq 0-5: withheld-not-redactable (body_kind 5) at seq 6. Nothing links at seq 6, and nothing follows it, so there is no gap.",
            envelopes: proposal_withheld,
            is_valid: false,
            problems: vec![problem(
                Some(DONOR),
                Some(6),
                Some(records.proposal.id),
                json!({ "code": "withheld-not-redactable", "body_kind": 5 }),
            )],
            redacted: vec![],
        },
        Scenario {
            name: "withheld-order-is-not-redactable",
            description: "The donor's chain seq 0-5 in full, then its redaction order (kind 9, seq 6) withheld: withheld-not-redactable (body_kind 9) at seq 6. An order says why something is missing; it is never missing itself.",
            envelopes: order_withheld,
            is_valid: false,
            problems: vec![problem(
                Some(DONOR),
                Some(6),
                Some(records.order.id),
                json!({ "code": "withheld-not-redactable", "body_kind": 9 }),
            )],
            redacted: vec![],
        },
        Scenario {
            name: "order-naming-another-members-record",
            description: "The donor's chain seq 0-5 with its disbursement (seq 0) withheld, the implementer's seq 0-1, and the implementer's order (seq 2) naming the donor's disbursement at seq 0: the order covers nothing of the donor's (withheld-without-order at the donor's seq 0), and the implementer's chain holds another record at its seq 0 (redaction-target-not-found at the implementer's seq 2, naming seq 0 and the disbursement's id).",
            envelopes: foreign,
            is_valid: false,
            problems: vec![
                problem(
                    Some(DONOR),
                    Some(0),
                    Some(donor[0].id),
                    json!({ "code": "withheld-without-order" }),
                ),
                problem(
                    Some(IMPLEMENTER),
                    Some(2),
                    Some(records.foreign_order.id),
                    json!({ "code": "redaction-target-not-found", "seq": 0, "id": donor[0].id.to_hex() }),
                ),
            ],
            redacted: vec![],
        },
        Scenario {
            name: "admins-redact-another-members-record",
            description: "The donor's redact proposal (seq 6) and the implementer's approval (seq 2), governance records first; then the donor's chain seq 0-5 and the implementer's seq 0-1 with the reversal (seq 0, a transaction) withheld: the proposal is effective (step 1, approved by both admins, the genesis threshold 2), and the reversal is reported as redacted by the admins. Its amount is unknown to the reader: totals say 'plus 1 redacted transaction'.",
            envelopes: admins,
            is_valid: true,
            problems: vec![],
            redacted: vec![json!({
                "author": IMPLEMENTER,
                "seq": 0,
                "id": implementer[0].id.to_hex(),
                "body_kind": 0,
                "order": {
                    "order": records.proposal.id.to_hex(),
                    "by": "admins",
                    "step": 1,
                    "approved_by": [DONOR, IMPLEMENTER],
                    "category": ADMINS_CATEGORY.name(),
                },
            })],
        },
        Scenario {
            name: "pending-redact-proposal-orders-nothing",
            description: "As admins-redact-another-members-record without the implementer's approval: the proposal has 1 of 2 approvals, pending, not in force; the withheld reversal is withheld-without-order.",
            envelopes: pending,
            is_valid: false,
            problems: vec![problem(
                Some(IMPLEMENTER),
                Some(0),
                Some(implementer[0].id),
                json!({ "code": "withheld-without-order" }),
            )],
            redacted: vec![],
        },
        Scenario {
            name: "cut-withheld-envelope-is-malformed",
            description: "As authors-order-redacts-its-own-record with the withheld statement cut by one byte: it is neither a withheld envelope (not header + 64 bytes) nor a full one (shorter than its header announces): malformed, with no author (problems of no chain come last). The donor's chain stops at seq 2: the order at seq 6 names a position the chain does not hold (redaction-target-not-found at seq 6, judged before gaps), and seq 4-6 wait behind a gap at seq 3 (missing 3 to 3, 3 stranded), since no record of the donor was refused there.",
            envelopes: cut,
            is_valid: false,
            problems: vec![
                not_found_of_statement.clone(),
                problem(
                    Some(DONOR),
                    Some(seq3),
                    None,
                    json!({ "code": "gap", "missing_from": 3, "missing_to": 3, "stranded": 3 }),
                ),
                problem(None, None, None, json!({ "code": "malformed" })),
            ],
            redacted: vec![],
        },
        Scenario {
            name: "withheld-envelope-with-altered-signature",
            description: "As authors-order-redacts-its-own-record with the last byte of the withheld statement's signature xor 01: bad-signature at seq 3 (the header was read: attributed to the donor). The chain stops at seq 2, so the order names a position it does not hold (redaction-target-not-found at seq 6); the hole at seq 3 is a refused record's, so no gap is reported.",
            envelopes: flipped,
            is_valid: false,
            problems: vec![
                problem(
                    Some(DONOR),
                    Some(seq3),
                    Some(statement.id),
                    json!({ "code": "bad-signature" }),
                ),
                not_found_of_statement,
            ],
            redacted: vec![],
        },
        Scenario {
            name: "misplaced-entry-hides-no-order",
            description: "The donor's chain seq 0-5 with its statement withheld, an order (seq 6) naming the statement's id at seq 4, then an order (seq 7) naming it at seq 3: the first names a position that holds another record (redaction-target-not-found at seq 6) and covers nothing; the second covers the statement, which is redacted by it. An entry is a (seq, id) pair: a wrong one never hides a right one.",
            envelopes: misplaced,
            is_valid: false,
            problems: vec![problem(
                Some(DONOR),
                Some(6),
                Some(records.misplaced_order.id),
                json!({ "code": "redaction-target-not-found", "seq": 4, "id": statement.id.to_hex() }),
            )],
            redacted: vec![by_author(seq3, statement, &records.later_order, AUTHOR_CATEGORY)],
        },
        Scenario {
            name: "order-not-yet-applied-is-not-a-fault",
            description: "The donor's chain seq 0-5 in full, the statement's body still there, then its order (seq 6) naming the statement: valid, and nothing is listed as redacted. An order its writer has not applied yet (or a bundle made before it was) is no fault.",
            envelopes: applied_later,
            is_valid: true,
            problems: vec![],
            redacted: vec![],
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// JSON

fn envelope_json(envelope: &Envelope) -> Value {
    json!({
        "label": envelope.label,
        "author": envelope.author,
        "seq": envelope.seq,
        "withheld": envelope.withheld,
        "envelope_hex": hex::encode(&envelope.bytes),
    })
}

fn scenario_json(scenario: &Scenario) -> Value {
    json!({
        "name": scenario.name,
        "description": scenario.description,
        "envelopes": scenario.envelopes.iter().map(envelope_json).collect::<Vec<_>>(),
        "expected": {
            "is_valid": scenario.is_valid,
            "problems": scenario.problems,
            "redacted": scenario.redacted,
        },
    })
}

/// The withheld envelope of `made` beside its full record.
fn withheld_json(made: &Made) -> Value {
    let record = SignedRecord::parse(made.bytes.clone()).expect("a record this file signed");
    let envelope = withheld(made);
    let header_size = record.header_bytes().len();
    json!({
        "name": made.name,
        "description": "The donor's statement (seq 3 of records-valid.json) and its withheld envelope: the header bytes, then the 64 signature bytes, both byte for byte those of the full record; its record id is the full record's.",
        "record_id": made.id.to_hex(),
        "record_hex": hex::encode(&made.bytes),
        "withheld_hex": hex::encode(&envelope),
        "header_hex": hex::encode(record.header_bytes()),
        "signature_hex": hex::encode(record.signature.0),
        "header_size_bytes": header_size,
        "body_size_bytes": record.header.body_size_bytes,
        "withheld_size_bytes": envelope.len(),
    })
}

/// The rejections of rules 25-27 in their stored encoding (FORMAT.md §10, "Encoded
/// rejection"), as `local-formats.json` gives the others.
fn rejections_json(records: &Records) -> Vec<Value> {
    [
        Rejection::WithheldNotRedactable { body_kind: 5 },
        Rejection::WithheldWithoutOrder,
        Rejection::RedactionTargetNotFound {
            seq: STATEMENT_SEQ as u64,
            id: records.donor[STATEMENT_SEQ].id,
        },
    ]
    .iter()
    .map(|rejection| {
        json!({
            "name": rejection.code(),
            "hex": hex::encode(rejection.to_bytes()),
            "rejection": rejection,
        })
    })
    .collect()
}

/// `redaction.json`.
pub fn redaction_file() -> VectorFile {
    let fixture = Fixture::new();
    let records = records(&fixture);
    let mut proposal = record_json(&records.proposal);
    proposal["change_hex"] = json!(hex::encode(codec::encode(&records.change)));
    VectorFile {
        name: FILE_NAME,
        json: json!({
            "description": "Redaction (FORMAT.md §5.11, §6.1, §27) on the network of genesis.json: the donor's redaction order (kind 9) taken apart like records-valid.json; the withheld envelope (header || signature) of the statement it names beside the full record; the admins' redact proposal (kind 5, change 7) with the change's bytes and its approval; the rejections of rules 25-27 in their stored encoding (as local-formats.json). Then scenarios: envelopes in bundle order (chained after records-valid.json and activities.json), `withheld` saying what is_withheld answers (which verifier path they take), and the report expected: whether it is valid, every problem in report order (as Problem serialises; malformed without its detail), every redacted entry (author and RedactedEntry).",
            "order": record_json(&records.order),
            "withheld": withheld_json(&records.donor[STATEMENT_SEQ]),
            "redact_proposal": proposal,
            "redact_approval": record_json(&records.approval),
            "rejections": rejections_json(&records),
            "scenarios": scenarios(&fixture).iter().map(scenario_json).collect::<Vec<_>>(),
        }),
    }
}
