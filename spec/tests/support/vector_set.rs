//! The golden vectors of FORMAT.md, built deterministically from fixed seeds and timestamps.
//!
//! Shared by `examples/make_vectors.rs`, which writes them to `spec/vectors/`, and by
//! `tests/vectors.rs`, which builds them again in memory and compares them with the files, so
//! that any change to the encoding, hashing or signing fails a test.
//!
//! The governance vectors live beside this file, in `governance_vectors.rs`, and the signature
//! constructions in `signature_edges.rs`; every includer of this file includes both too (as
//! `governance_vectors` and `signature_edges`, at the crate root).
//!
//! Every `expect` here is on an input this file builds itself (small bodies, valid keys); a
//! failure means the generator is wrong, not the data.

#![allow(dead_code)] // each includer uses a different part

use aidledger_spec::bundle::{BundleWriter, EquivocationProof};
use aidledger_spec::codec;
use aidledger_spec::record::{
    body_hash_of_bytes, record_id_of_header_bytes, Correction, IatiSource, Money, Party,
    Replacement, Statement, TextVersion, Transaction, TreatyAction, TreatyActionKind, TreatyText,
    RECORD_FORMAT_VERSION,
};
use aidledger_spec::signature::{self, signed_message};
use aidledger_spec::text::Date;
use aidledger_spec::{
    domain, AdminRule, Body, Digest, Genesis, Member, RecordDraft, RecordHeader, RecordId, Role,
};
use aidledger_spec::{limits, sign_record, PublicKey, Rejection, SignedRecord};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

/// When the test network was founded (2023-11-14T22:13:20Z).
pub const CREATED_MS: u64 = 1_700_000_000_000;
/// The donor's organisation id.
pub const DONOR: &str = "GB-GOV-1";
/// The implementer's organisation id.
pub const IMPLEMENTER: &str = "XM-DAC-41114";
/// The auditor's organisation id.
pub const AUDITOR: &str = "XI-EXAMPLE-AUDIT";

/// The donor's record-signing key seed.
pub const DONOR_SEED: [u8; 32] = [1u8; 32];
/// The implementer's record-signing key seed.
pub const IMPLEMENTER_SEED: [u8; 32] = [2u8; 32];
/// The auditor's record-signing key seed.
pub const AUDITOR_SEED: [u8; 32] = [3u8; 32];
/// A key of no member.
pub const OUTSIDER_SEED: [u8; 32] = [9u8; 32];
/// Node (libp2p) key seeds of the donor and the implementer; the auditor runs no node.
pub const DONOR_NODE_SEED: [u8; 32] = [0x11u8; 32];
/// See [`DONOR_NODE_SEED`].
pub const IMPLEMENTER_NODE_SEED: [u8; 32] = [0x12u8; 32];

/// One vector file: its name under `spec/vectors/` and its content.
pub struct VectorFile {
    /// File name, such as `genesis.json`.
    pub name: &'static str,
    /// The JSON content.
    pub json: Value,
}

/// The keys and genesis every vector uses.
pub struct Fixture {
    /// The test network's genesis.
    pub genesis: Genesis,
    /// The donor's signing key.
    pub donor: SigningKey,
    /// The implementer's signing key.
    pub implementer: SigningKey,
    /// The auditor's signing key.
    pub auditor: SigningKey,
    /// A key that belongs to no member.
    pub outsider: SigningKey,
}

fn key(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&seed)
}

fn public(seed: [u8; 32]) -> PublicKey {
    signature::public_key_of(&key(seed))
}

impl Fixture {
    /// The fixture.
    pub fn new() -> Fixture {
        Fixture {
            genesis: genesis(),
            donor: key(DONOR_SEED),
            implementer: key(IMPLEMENTER_SEED),
            auditor: key(AUDITOR_SEED),
            outsider: key(OUTSIDER_SEED),
        }
    }

    /// The network id.
    pub fn network_id(&self) -> Digest {
        self.genesis.network_id()
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// The test network: a donor, an implementer and an auditor.
pub fn genesis() -> Genesis {
    let mut genesis = Genesis {
        format_version: 1,
        name: "aidledger test network".into(),
        created_ms: CREATED_MS,
        members: vec![
            Member {
                id: DONOR.into(),
                name: "Foreign, Commonwealth and Development Office".into(),
                roles: vec![Role::Donor],
                signing_keys: vec![public(DONOR_SEED)],
                node_keys: vec![public(DONOR_NODE_SEED)],
            },
            Member {
                id: IMPLEMENTER.into(),
                name: "United Nations Development Programme".into(),
                roles: vec![Role::Implementer, Role::RecipientGovernment],
                signing_keys: vec![public(IMPLEMENTER_SEED)],
                node_keys: vec![public(IMPLEMENTER_NODE_SEED)],
            },
            Member {
                id: AUDITOR.into(),
                name: "Example Audit Office".into(),
                roles: vec![Role::Auditor],
                signing_keys: vec![public(AUDITOR_SEED)],
                node_keys: vec![],
            },
        ],
        admin_rule: AdminRule {
            admins: vec![DONOR.into(), IMPLEMENTER.into()],
            threshold: 2,
        },
    };
    genesis.normalise();
    genesis
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// The donor's disbursement with the large amount.
pub fn disbursement() -> Transaction {
    Transaction {
        activity_id: "GB-GOV-1-300123".into(),
        transaction_type: 3,
        value: Money {
            amount: "1234567890123.123456789012".into(),
            currency: "USD".into(),
        },
        value_date: Date {
            year: 2024,
            month: 3,
            day: 15,
        },
        transaction_date: Date {
            year: 2024,
            month: 3,
            day: 14,
        },
        provider: Some(Party {
            org_ref: DONOR.into(),
            name: "FCDO".into(),
            activity_id: "GB-GOV-1-300123".into(),
        }),
        receiver: Some(Party {
            org_ref: IMPLEMENTER.into(),
            name: "UNDP".into(),
            activity_id: "XM-DAC-41114-PROJECT-00123".into(),
        }),
        description: "First tranche, water and sanitation".into(),
        acknowledges: None,
        iati: Some(IatiSource {
            import_key: Digest([0x42u8; 32]),
            transaction_ref: "TX-2024-001".into(),
            original_value: "1234567890123.123456789012".into(),
        }),
    }
}

/// The implementer's reversal of incoming funds, acknowledging the donor's disbursement.
pub fn reversal(acknowledges: RecordId) -> Transaction {
    Transaction {
        activity_id: "XM-DAC-41114-PROJECT-00123".into(),
        transaction_type: 1,
        value: Money {
            amount: "-250.5".into(),
            currency: "EUR".into(),
        },
        value_date: Date {
            year: 2024,
            month: 2,
            day: 29,
        },
        transaction_date: Date {
            year: 2024,
            month: 3,
            day: 1,
        },
        provider: Some(Party {
            org_ref: DONOR.into(),
            name: String::new(),
            activity_id: String::new(),
        }),
        receiver: None,
        description: "Reversal of an over-reported receipt".into(),
        acknowledges: Some(acknowledges),
        iati: None,
    }
}

/// A treaty text in two languages (the French has non-ASCII characters).
pub fn treaty() -> TreatyText {
    TreatyText {
        title: "Agreement on water data sharing".into(),
        parties: vec![DONOR.into(), IMPLEMENTER.into()],
        versions: vec![
            TextVersion {
                language: "en".into(),
                text: "Article 1. The parties share water data.\n".into(),
            },
            TextVersion {
                language: "fr".into(),
                text: "Article premier. Les parties partagent les données sur l'eau.\n".into(),
            },
        ],
        supersedes: None,
    }
}

/// The donor's signature of the treaty.
pub fn treaty_signature(treaty_id: RecordId, text_hash: Digest) -> TreatyAction {
    TreatyAction {
        treaty: treaty_id,
        text_hash,
        action: TreatyActionKind::Sign,
        date: Date {
            year: 2024,
            month: 4,
            day: 1,
        },
        note: "Signed subject to ratification.".into(),
    }
}

/// An official statement.
pub fn statement() -> Statement {
    Statement {
        title: "Funding round 2024".into(),
        language: "en".into(),
        text: "The 2024 round disburses in two tranches.".into(),
    }
}

/// The correction of the disbursement, with a replacement.
pub fn correction(corrects: RecordId) -> Correction {
    let mut replacement = disbursement();
    replacement.value.amount = "1234567890.123456789012".into();
    replacement.iati = None;
    Correction {
        corrects,
        reason: "Amount keyed with three extra digits".into(),
        replacement: Some(Replacement::Transaction(replacement)),
    }
}

// ---------------------------------------------------------------------------------------------
// Records

/// A signed record and what it was made from.
#[derive(Clone)]
pub struct Made {
    /// Short name.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// The record id.
    pub id: RecordId,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The body.
    pub body: Body,
}

/// The timestamp of the `minute`-th minute after the network's creation.
pub fn minute(minute: u64) -> u64 {
    CREATED_MS + minute * 60_000
}

/// A draft of `author`.
pub fn draft(
    fixture: &Fixture,
    author: &str,
    seq: u64,
    prev: RecordId,
    timestamp_ms: u64,
    body: Body,
) -> RecordDraft {
    RecordDraft {
        network_id: fixture.network_id(),
        author: author.into(),
        seq,
        prev,
        timestamp_ms,
        body,
    }
}

/// Signs a draft.
pub fn sign(draft: &RecordDraft, key: &SigningKey) -> (RecordId, Vec<u8>) {
    sign_record(draft, key).expect("vector bodies are far below the size limit")
}

/// The header `sign_record` would build for `draft`.
pub fn header_of(draft: &RecordDraft, body_bytes: &[u8], key: &SigningKey) -> RecordHeader {
    RecordHeader {
        format_version: RECORD_FORMAT_VERSION,
        network_id: draft.network_id,
        author: draft.author.clone(),
        seq: draft.seq,
        prev: draft.prev,
        timestamp_ms: draft.timestamp_ms,
        signing_key: signature::public_key_of(key),
        body_kind: draft.body.kind() as u16,
        body_size_bytes: u32::try_from(body_bytes.len()).expect("small body"),
        body_hash: body_hash_of_bytes(body_bytes),
    }
}

/// Assembles a record from any header and body bytes, signed by `key` (which need not be the
/// header's key): the way to make records that `sign_record` refuses to make.
pub fn assemble(header: &RecordHeader, body_bytes: &[u8], key: &SigningKey) -> Vec<u8> {
    let mut bytes = codec::encode(header);
    let id = record_id_of_header_bytes(&bytes);
    bytes.extend_from_slice(body_bytes);
    bytes.extend_from_slice(&signature::sign(key, &id).0);
    bytes
}

/// The donor's five records (seq 0 to 4, one of each body kind) and the implementer's first.
pub fn valid_records(fixture: &Fixture) -> Vec<Made> {
    let mut made: Vec<Made> = Vec::new();
    let push =
        |name, description, author: &str, key: &SigningKey, body: Body, made: &mut Vec<Made>| {
            let seq = made
                .iter()
                .filter(|record| record_author(&record.bytes) == author)
                .count() as u64;
            let prev = made
                .iter()
                .rev()
                .find(|record| record_author(&record.bytes) == author)
                .map_or(Digest::ZERO, |record| record.id);
            let (id, bytes) = sign(
                &draft(
                    fixture,
                    author,
                    seq,
                    prev,
                    minute(made.len() as u64 + 1),
                    body.clone(),
                ),
                key,
            );
            made.push(Made {
                name,
                description,
                id,
                bytes,
                body,
            });
            id
        };
    let disbursement_id = push(
        "transaction-disbursement",
        "Donor seq 0: a disbursement of 1234567890123.123456789012 USD with provider, receiver and IATI source.",
        DONOR,
        &fixture.donor,
        Body::Transaction(disbursement()),
        &mut made,
    );
    let treaty_body = treaty();
    let text_hash = treaty_body.text_hash();
    let treaty_id = push(
        "treaty-text",
        "Donor seq 1: a treaty text with two language versions (en, fr).",
        DONOR,
        &fixture.donor,
        Body::TreatyText(treaty_body),
        &mut made,
    );
    push(
        "treaty-action",
        "Donor seq 2: the donor signs the treaty of seq 1, citing its text hash.",
        DONOR,
        &fixture.donor,
        Body::TreatyAction(treaty_signature(treaty_id, text_hash)),
        &mut made,
    );
    push(
        "statement",
        "Donor seq 3: an official statement.",
        DONOR,
        &fixture.donor,
        Body::Statement(statement()),
        &mut made,
    );
    push(
        "correction",
        "Donor seq 4: a correction of seq 0 carrying a replacement transaction.",
        DONOR,
        &fixture.donor,
        Body::Correction(correction(disbursement_id)),
        &mut made,
    );
    push(
        "transaction-reversal",
        "Implementer seq 0: incoming funds of -250.5 EUR (a reversal) acknowledging the donor's seq 0.",
        IMPLEMENTER,
        &fixture.implementer,
        Body::Transaction(reversal(disbursement_id)),
        &mut made,
    );
    made
}

fn record_author(bytes: &[u8]) -> String {
    SignedRecord::parse(bytes.to_vec())
        .map(|record| record.header.author)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// JSON

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A valid record, taken apart: every byte range and every derived value.
pub fn record_json(made: &Made) -> Value {
    let record = SignedRecord::parse(made.bytes.clone()).expect("a record this file signed");
    let header_size = made.bytes.len() - record.header.body_size_bytes as usize - 64;
    let header = &record.header;
    json!({
        "name": made.name,
        "description": made.description,
        "record_hex": hex(&made.bytes),
        "header_hex": hex(&made.bytes[..header_size]),
        "body_hex": hex(record.body_bytes()),
        "signature_hex": hex(&record.signature.0),
        "record_id": made.id.to_hex(),
        "body_hash": record.body_hash().to_hex(),
        "signed_message_hex": hex(&signed_message(&made.id)),
        "header": {
            "format_version": header.format_version,
            "network_id": header.network_id.to_hex(),
            "author": header.author,
            "seq": header.seq,
            "prev": header.prev.to_hex(),
            "timestamp_ms": header.timestamp_ms,
            "signing_key": header.signing_key.to_hex(),
            "body_kind": header.body_kind,
            "body_size_bytes": header.body_size_bytes,
            "body_hash": header.body_hash.to_hex(),
        },
        "body": body_json(&made.body),
    })
}

/// A body as readable JSON (the bytes are in `body_hex`; this is for people).
pub fn body_json(body: &Body) -> Value {
    let value = |body: &Body| -> Value {
        match body {
            Body::Transaction(inner) => json!(inner),
            Body::TreatyText(inner) => {
                let mut value = json!(inner);
                value["text_hash"] = json!(inner.text_hash().to_hex());
                value["versions_encoding_hex"] = json!(hex(&codec::encode(&inner.versions)));
                value["version_hashes"] = inner
                    .versions
                    .iter()
                    .map(|version| json!(version.hash().to_hex()))
                    .collect();
                value
            }
            Body::TreatyAction(inner) => json!(inner),
            Body::Statement(inner) => json!(inner),
            Body::Correction(inner) => json!({
                "corrects": inner.corrects.to_hex(),
                "reason": inner.reason,
                "replacement": inner.replacement.as_ref().map(|replacement| {
                    let replacement = replacement.to_body();
                    json!({ "kind": replacement.kind().name(), "value": body_json(&replacement)["value"] })
                }),
            }),
            Body::Proposal(inner) => json!(inner),
            Body::Approval(inner) => json!(inner),
            Body::KeyRotation(inner) => json!(inner),
            Body::Activity(inner) => json!(inner),
            Body::Redaction(inner) => json!(inner),
        }
    };
    json!({ "kind": body.kind().name(), "kind_number": body.kind() as u16, "value": value(body) })
}

fn genesis_file(fixture: &Fixture) -> Value {
    let bytes = fixture.genesis.encode();
    let keys = [
        (DONOR, "signing", DONOR_SEED),
        (DONOR, "node", DONOR_NODE_SEED),
        (IMPLEMENTER, "signing", IMPLEMENTER_SEED),
        (IMPLEMENTER, "node", IMPLEMENTER_NODE_SEED),
        (AUDITOR, "signing", AUDITOR_SEED),
    ];
    json!({
        "description": "The test network: a donor, an implementer and an auditor. network_id = SHA-256(domain_hex || genesis_hex). Key seeds are the 32-byte ed25519 secret keys (RFC 8032), for reproducing the signatures.",
        "domain_hex": hex(domain::GENESIS.as_bytes()),
        "genesis": fixture.genesis,
        "genesis_hex": hex(&bytes),
        "network_id": fixture.network_id().to_hex(),
        "keys": keys.iter().map(|(member, purpose, seed)| json!({
            "member": member,
            "purpose": purpose,
            "seed_hex": hex(seed),
            "public_key": public(*seed).to_hex(),
        })).collect::<Vec<_>>(),
    })
}

fn valid_records_file(fixture: &Fixture) -> Value {
    json!({
        "description": "Valid records of the test network, one of each body kind. Each verifies alone against genesis.json. record_id = SHA-256(record-id domain || header_hex); body_hash = SHA-256(body domain || body_hex); the signature is ed25519 over signed_message_hex = signature domain || record_id.",
        "domains": {
            "record_id_hex": hex(domain::RECORD_ID.as_bytes()),
            "body_hex": hex(domain::BODY.as_bytes()),
            "signature_hex": hex(domain::SIGNATURE.as_bytes()),
            "text_version_hex": hex(domain::TEXT_VERSION.as_bytes()),
            "treaty_text_hex": hex(domain::TREATY_TEXT.as_bytes()),
        },
        "records": valid_records(fixture).iter().map(record_json).collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// Invalid records

/// An invalid record and the first reason a verifier must give.
pub struct Invalid {
    /// Short name.
    pub name: &'static str,
    /// What is wrong.
    pub description: &'static str,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The expected rejection code.
    pub code: &'static str,
    /// Whether the header can be read (then author and seq are reported).
    pub header_readable: bool,
    /// For invalid-field and invalid-amount: the field named.
    pub field: Option<&'static str>,
}

fn base_draft(fixture: &Fixture) -> RecordDraft {
    draft(
        fixture,
        DONOR,
        0,
        Digest::ZERO,
        minute(1),
        Body::Transaction(disbursement()),
    )
}

/// Signs the base draft after `change` altered its body or header fields.
fn signed_with(fixture: &Fixture, change: impl FnOnce(&mut RecordDraft)) -> Vec<u8> {
    let mut draft = base_draft(fixture);
    change(&mut draft);
    sign(&draft, &fixture.donor).1
}

/// Assembles the base record with a changed header and/or body bytes.
fn assembled_with(
    fixture: &Fixture,
    body_bytes: Vec<u8>,
    change: impl FnOnce(&mut RecordHeader),
    key: &SigningKey,
) -> Vec<u8> {
    let draft = base_draft(fixture);
    let mut header = header_of(&draft, &body_bytes, &fixture.donor);
    change(&mut header);
    assemble(&header, &body_bytes, key)
}

fn position(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
        .expect("needle present")
}

fn transaction_with(change: impl FnOnce(&mut Transaction)) -> Body {
    let mut transaction = disbursement();
    change(&mut transaction);
    Body::Transaction(transaction)
}

/// One invalid record per rejection reason that a single record can have.
pub fn invalid_records(fixture: &Fixture) -> Vec<Invalid> {
    let base = sign(&base_draft(fixture), &fixture.donor).1;
    let header_size = base.len() - codec::encode(&Body::Transaction(disbursement())).len() - 64;
    let statement_bytes = codec::encode(&Body::Statement(statement()));
    let invalid = |name, description, bytes, code, header_readable, field| Invalid {
        name,
        description,
        bytes,
        code,
        header_readable,
        field,
    };
    let cases = vec![
        invalid("malformed-empty", "No bytes at all.", Vec::new(), "malformed", false, None),
        invalid(
            "malformed-truncated-header",
            "The first 40 bytes of a valid record: the author's length prefix is cut.",
            base[..40].to_vec(),
            "malformed",
            false,
            None,
        ),
        invalid(
            "malformed-truncated-signature",
            "A valid record without its last byte.",
            base[..base.len() - 1].to_vec(),
            "malformed",
            false,
            None,
        ),
        invalid(
            "malformed-trailing-bytes",
            "A valid record followed by one zero byte.",
            [base.as_slice(), &[0u8]].concat(),
            "malformed",
            false,
            None,
        ),
        invalid(
            "malformed-author-invalid-utf8",
            "The first byte of the author (offset 42) replaced by 0xff: the header does not decode.",
            {
                let mut bytes = base.clone();
                bytes[42] = 0xff;
                bytes
            },
            "malformed",
            false,
            None,
        ),
        invalid(
            "malformed-author-length-2-pow-60",
            "The author's length prefix (offset 34) claims 2^60 bytes.",
            {
                let mut bytes = base.clone();
                bytes[34..42].copy_from_slice(&(1u64 << 60).to_le_bytes());
                bytes
            },
            "malformed",
            false,
            None,
        ),
        invalid(
            "malformed-body-size-over-limit",
            "A signed header stating a body of BODY_SIZE_BYTES_MAX + 1 bytes.",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |header| header.body_size_bytes = limits::BODY_SIZE_BYTES_MAX as u32 + 1,
                &fixture.donor,
            ),
            "malformed",
            false,
            None,
        ),
        invalid(
            "unsupported-version",
            "A validly signed record whose header says format version 2.",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |header| header.format_version = 2,
                &fixture.donor,
            ),
            "unsupported-version",
            true,
            None,
        ),
        invalid(
            "wrong-network",
            "A validly signed record of network aaaa…aa.",
            signed_with(fixture, |draft| draft.network_id = Digest([0xaa; 32])),
            "wrong-network",
            true,
            None,
        ),
        invalid(
            "invalid-signing-key-small-order",
            "The header names the identity point 01 00…00 as its signing key (the donor's key signed): a small-order key.",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |header| header.signing_key = PublicKey(IDENTITY_POINT),
                &fixture.donor,
            ),
            "invalid-signing-key",
            true,
            None,
        ),
        invalid(
            "invalid-signing-key-torsion",
            "The header names the donor's key plus the point of order 2 as its signing key: not torsion-free.",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |header| header.signing_key = torsioned_key(),
                &fixture.donor,
            ),
            "invalid-signing-key",
            true,
            None,
        ),
        invalid(
            "bad-signature-before-authority-rules",
            "A record by XX-NOT-A-MEMBER whose header names the outsider's key but which the donor's key signed: the signature (rule 5) is checked before the author (rule 12).",
            {
                let mut draft = base_draft(fixture);
                draft.author = "XX-NOT-A-MEMBER".into();
                let body = codec::encode(&draft.body);
                let header = header_of(&draft, &body, &fixture.outsider);
                assemble(&header, &body, &fixture.donor)
            },
            "bad-signature",
            true,
            None,
        ),
        invalid(
            "unknown-author",
            "A record by XX-NOT-A-MEMBER, signed with a key of no member.",
            {
                let mut draft = base_draft(fixture);
                draft.author = "XX-NOT-A-MEMBER".into();
                sign(&draft, &fixture.outsider).1
            },
            "unknown-author",
            true,
            None,
        ),
        invalid(
            "key-not-authors-other-member",
            "A record of the donor signed (validly) with the implementer's key.",
            sign(&base_draft(fixture), &fixture.implementer).1,
            "key-not-authors",
            true,
            None,
        ),
        invalid(
            "key-not-authors-outsider",
            "A record of the donor signed (validly) with a key of no member.",
            sign(&base_draft(fixture), &fixture.outsider).1,
            "key-not-authors",
            true,
            None,
        ),
        invalid(
            "bad-signature-flipped-signature-byte",
            "A valid record with the lowest bit of the signature's s (record byte len-32) flipped.",
            {
                let mut bytes = base.clone();
                let at = bytes.len() - 32;
                bytes[at] ^= 0x01;
                bytes
            },
            "bad-signature",
            true,
            None,
        ),
        invalid(
            "bad-signature-flipped-header-byte",
            "A valid record with the lowest bit of timestamp_ms flipped: the record id changes.",
            {
                let mut bytes = base.clone();
                // author is 8 bytes: timestamp_ms starts at 42 + 8 + 8 + 32.
                bytes[90] ^= 0x01;
                bytes
            },
            "bad-signature",
            true,
            None,
        ),
        invalid(
            "bad-signature-wrong-secret",
            "The header names the donor's key, but the implementer's secret key signed.",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |_| {},
                &fixture.implementer,
            ),
            "bad-signature",
            true,
            None,
        ),
        invalid(
            "bad-signature-small-order-r",
            "A valid header with signature R = the identity point (01 00…00) and s = 0.",
            {
                let mut bytes = base.clone();
                let at = bytes.len() - 64;
                bytes[at..].fill(0);
                bytes[at] = 1;
                bytes
            },
            "bad-signature",
            true,
            None,
        ),
        invalid(
            "body-hash-mismatch",
            "A valid record with one letter of the description changed ('F' of 'First' to 'f').",
            {
                let mut bytes = base.clone();
                let at = position(&bytes, b"First tranche");
                bytes[at] = b'f';
                bytes
            },
            "body-hash-mismatch",
            true,
            None,
        ),
        invalid(
            "body-malformed-unknown-variant",
            "A signed record whose body is 05 00 00 00: body variant 5 does not exist.",
            assembled_with(fixture, vec![5, 0, 0, 0], |header| header.body_kind = 5, &fixture.donor),
            "body-malformed",
            true,
            None,
        ),
        invalid(
            "body-malformed-trailing-byte",
            "A signed record whose body is a valid statement followed by one zero byte.",
            assembled_with(
                fixture,
                [statement_bytes.as_slice(), &[0u8]].concat(),
                |header| header.body_kind = 3,
                &fixture.donor,
            ),
            "body-malformed",
            true,
            None,
        ),
        invalid(
            "body-malformed-invalid-utf8",
            "A signed record whose statement body has 0xff in place of the title's first byte.",
            assembled_with(
                fixture,
                {
                    let mut bytes = statement_bytes.clone();
                    bytes[12] = 0xff; // variant (4) + title length (8)
                    bytes
                },
                |header| header.body_kind = 3,
                &fixture.donor,
            ),
            "body-malformed",
            true,
            None,
        ),
        invalid(
            "body-malformed-option-tag-2",
            "A signed record whose transaction body has 02 as the provider's Option tag.",
            assembled_with(
                fixture,
                {
                    let transaction = disbursement();
                    let mut bytes = codec::encode(&Body::Transaction(transaction.clone()));
                    let at = 4
                        + codec::encode(&transaction.activity_id).len()
                        + 1
                        + codec::encode(&transaction.value).len()
                        + 8;
                    assert_eq!(bytes[at], 1, "the provider's tag");
                    bytes[at] = 2;
                    bytes
                },
                |_| {},
                &fixture.donor,
            ),
            "body-malformed",
            true,
            None,
        ),
        invalid(
            "body-kind-mismatch",
            "A signed record whose header says kind 3 (statement) over a transaction body.",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |header| header.body_kind = 3,
                &fixture.donor,
            ),
            "body-kind-mismatch",
            true,
            None,
        ),
        invalid(
            "invalid-amount-exponent",
            "A transaction of 1e6 USD: exponents are refused.",
            signed_with(fixture, |draft| draft.body = transaction_with(|tx| tx.value.amount = "1e6".into())),
            "invalid-amount",
            true,
            Some("body.value.amount"),
        ),
        invalid(
            "invalid-amount-leading-zero",
            "A transaction of 0250.5 EUR: not canonical.",
            signed_with(fixture, |draft| draft.body = transaction_with(|tx| tx.value.amount = "0250.5".into())),
            "invalid-amount",
            true,
            Some("body.value.amount"),
        ),
        invalid(
            "invalid-amount-29-digits",
            "A transaction of 29 nines: more than 28 significant digits.",
            signed_with(fixture, |draft| draft.body = transaction_with(|tx| tx.value.amount = "9".repeat(29))),
            "invalid-amount",
            true,
            Some("body.value.amount"),
        ),
        invalid(
            "invalid-amount-in-replacement",
            "A correction whose replacement transaction has amount -0 (negative zero).",
            signed_with(fixture, |draft| {
                let mut correction = correction(Digest([0x77; 32]));
                if let Some(Replacement::Transaction(tx)) = &mut correction.replacement {
                    tx.value.amount = "-0".into();
                }
                draft.body = Body::Correction(correction);
            }),
            "invalid-amount",
            true,
            Some("body.replacement.value.amount"),
        ),
        invalid(
            "invalid-amount-before-invalid-field",
            "A first record with a predecessor, an empty activity id and the amount 1,000: the amount rule (9) comes before the field rules (10).",
            signed_with(fixture, |draft| {
                draft.prev = Digest([0x55; 32]);
                draft.body = transaction_with(|tx| {
                    tx.activity_id = String::new();
                    tx.value.amount = "1,000".into();
                });
            }),
            "invalid-amount",
            true,
            Some("body.value.amount"),
        ),
        invalid(
            "invalid-field-date",
            "A transaction whose value date is 2023-02-29.",
            signed_with(fixture, |draft| {
                draft.body = transaction_with(|tx| tx.value_date = Date { year: 2023, month: 2, day: 29 })
            }),
            "invalid-field",
            true,
            Some("body.value_date"),
        ),
        invalid(
            "invalid-field-currency",
            "A transaction in currency \"usd\" (not three capital letters).",
            signed_with(fixture, |draft| draft.body = transaction_with(|tx| tx.value.currency = "usd".into())),
            "invalid-field",
            true,
            Some("body.value.currency"),
        ),
        invalid(
            "invalid-field-transaction-type",
            "A transaction of type 14 (IATI codes are 1 to 13).",
            signed_with(fixture, |draft| draft.body = transaction_with(|tx| tx.transaction_type = 14)),
            "invalid-field",
            true,
            Some("body.transaction_type"),
        ),
        invalid(
            "invalid-field-first-record-with-predecessor",
            "A record at seq 0 whose prev is not all zero.",
            signed_with(fixture, |draft| draft.prev = Digest([0x55; 32])),
            "invalid-field",
            true,
            Some("header.prev"),
        ),
        invalid(
            "invalid-field-treaty-language-twice",
            "A treaty text with two versions in language en.",
            signed_with(fixture, |draft| {
                let mut treaty = treaty();
                treaty.versions[1].language = "en".into();
                draft.body = Body::TreatyText(treaty);
            }),
            "invalid-field",
            true,
            Some("body.versions"),
        ),
    ];
    // The truncated header must really be cut inside the header.
    assert!(header_size > 40);
    cases
}

fn invalid_records_file(fixture: &Fixture) -> Value {
    let cases: Vec<Value> = invalid_records(fixture)
        .iter()
        .map(|case| {
            let header = if case.header_readable {
                SignedRecord::parse(case.bytes.clone())
                    .ok()
                    .map(|record| record.header)
            } else {
                None
            };
            let mut value = json!({
                "name": case.name,
                "description": case.description,
                "record_hex": hex(&case.bytes),
                "expected": {
                    "code": case.code,
                    "author": header.as_ref().map(|header| header.author.clone()),
                    "seq": header.as_ref().map(|header| header.seq),
                },
            });
            if let Some(field) = case.field {
                value["expected"]["field"] = json!(field);
            }
            value
        })
        .collect();
    json!({
        "description": "Records that each break one rule, verified alone against genesis.json. expected.code is the first reason (FORMAT.md, \"Rejection reasons\"); author and seq are null when the header cannot be read.",
        "cases": cases,
    })
}

// ---------------------------------------------------------------------------------------------
// Chains and proofs

/// A chain case: records and proofs given in this order, and the problems expected.
pub struct ChainCase {
    /// Short name.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// Records' wire bytes, in the order given to the verifier.
    pub records: Vec<Vec<u8>>,
    /// Equivocation proofs, after the records.
    pub proofs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Expected problems as (author, seq, code), in the order reported (chains in genesis order,
    /// then unattributed).
    pub problems: Vec<(Option<&'static str>, Option<u64>, &'static str)>,
    /// Expected length of the donor's chain.
    pub donor_length: u64,
    /// Expected fork point of the donor's chain.
    pub donor_forked_at: Option<u64>,
}

/// The donor's records 0 to 2, and a second record 0 (one minute later).
pub fn donor_chain(fixture: &Fixture) -> (Vec<Vec<u8>>, Vec<u8>) {
    let records: Vec<Vec<u8>> = valid_records(fixture)
        .into_iter()
        .take(3)
        .map(|made| made.bytes)
        .collect();
    let mut other = base_draft(fixture);
    other.timestamp_ms = minute(1) + 1;
    (records, sign(&other, &fixture.donor).1)
}

/// The chain cases.
pub fn chain_cases(fixture: &Fixture) -> Vec<ChainCase> {
    let (chain, equivocating) = donor_chain(fixture);
    let records = |indexes: &[usize]| {
        indexes
            .iter()
            .map(|index| chain[*index].clone())
            .collect::<Vec<_>>()
    };
    let wrong_predecessor = sign(
        &draft(
            fixture,
            DONOR,
            1,
            Digest([0x99; 32]),
            minute(2),
            Body::Statement(statement()),
        ),
        &fixture.donor,
    )
    .1;
    let case =
        |name, description, records, proofs, problems, donor_length, donor_forked_at| ChainCase {
            name,
            description,
            records,
            proofs,
            problems,
            donor_length,
            donor_forked_at,
        };
    let mut altered = chain[1].clone();
    let last_body_byte = altered.len() - 65;
    altered[last_body_byte] ^= 0x01;
    vec![
        case(
            "reports-a-repeated-proof-once",
            "The donor's records 0, 1, 2 and the same equivocation proof (record 0 and another record 0) twice: one equivocation (FORMAT.md 12).",
            records(&[0, 1, 2]),
            vec![(chain[0].clone(), equivocating.clone()), (chain[0].clone(), equivocating.clone())],
            vec![(Some(DONOR), Some(0), "equivocation")],
            3,
            Some(0),
        ),
        case(
            "reports-an-altered-body-once",
            "The donor's records 0, 1, 2 with one bit of record 1's body flipped: one body-hash-mismatch at seq 1 and no gap there (the record is present, altered); record 2 stays unlinked.",
            vec![chain[0].clone(), altered, chain[2].clone()],
            vec![],
            vec![(Some(DONOR), Some(1), "body-hash-mismatch")],
            1,
            None,
        ),
        case(
            "accepts-chain-of-three",
            "The donor's records 0, 1, 2 in order.",
            records(&[0, 1, 2]),
            vec![],
            vec![],
            3,
            None,
        ),
        case(
            "accepts-chain-out-of-order",
            "The donor's records 2, 0, 1: a record waits for its predecessor, then links.",
            records(&[2, 0, 1]),
            vec![],
            vec![],
            3,
            None,
        ),
        case(
            "rejects-gap",
            "The donor's records 0 and 2: seq 1 is missing; reported at the end as a gap at seq 1.",
            records(&[0, 2]),
            vec![],
            vec![(Some(DONOR), Some(1), "gap")],
            1,
            None,
        ),
        case(
            "rejects-wrong-predecessor",
            "The donor's record 0, then a record 1 whose prev is 99…99.",
            vec![chain[0].clone(), wrong_predecessor],
            vec![],
            vec![(Some(DONOR), Some(1), "wrong-predecessor")],
            1,
            None,
        ),
        case(
            "rejects-duplicate",
            "The donor's record 0 twice.",
            records(&[0, 0]),
            vec![],
            vec![(Some(DONOR), Some(0), "duplicate")],
            1,
            None,
        ),
        case(
            "reports-equivocation",
            "The donor's record 0, then another validly signed record 0: the chain is forked at 0.",
            vec![chain[0].clone(), equivocating.clone()],
            vec![],
            vec![(Some(DONOR), Some(0), "equivocation")],
            1,
            Some(0),
        ),
        case(
            "reports-equivocation-from-proof",
            "The donor's records 0 to 2 and a proof pairing record 0 with another record 0.",
            records(&[0, 1, 2]),
            vec![(chain[0].clone(), equivocating.clone())],
            vec![(Some(DONOR), Some(0), "equivocation")],
            3,
            Some(0),
        ),
        case(
            "rejects-proof-citing-one-record-twice",
            "A proof whose two sides are the same record: invalid-proof, attributed to no chain.",
            records(&[0]),
            vec![(chain[0].clone(), chain[0].clone())],
            vec![(None, None, "invalid-proof")],
            1,
            None,
        ),
        case(
            "rejects-proof-of-different-positions",
            "A proof pairing the donor's records 0 and 1: not one position.",
            records(&[0, 1]),
            vec![(chain[0].clone(), chain[1].clone())],
            vec![(None, None, "invalid-proof")],
            2,
            None,
        ),
    ]
}

fn chains_file(fixture: &Fixture) -> Value {
    let cases: Vec<Value> = chain_cases(fixture)
        .iter()
        .map(|case| {
            json!({
                "name": case.name,
                "description": case.description,
                "records_hex": case.records.iter().map(|bytes| hex(bytes)).collect::<Vec<_>>(),
                "proofs": case.proofs.iter().map(|(first, second)| json!({
                    "first_hex": hex(first),
                    "second_hex": hex(second),
                })).collect::<Vec<_>>(),
                "expected": {
                    "problems": case.problems.iter().map(|(author, seq, code)| json!({
                        "author": author,
                        "seq": seq,
                        "code": code,
                    })).collect::<Vec<_>>(),
                    "donor_chain_length": case.donor_length,
                    "donor_forked_at": case.donor_forked_at,
                },
            })
        })
        .collect();
    json!({
        "description": "Chain rules: each case gives records (then proofs) to a fresh chain verifier of genesis.json; expected.problems lists (author, seq, code) in report order: chains in genesis order, each in the order found (gaps last), then problems attributed to no chain.",
        "cases": cases,
    })
}

// ---------------------------------------------------------------------------------------------
// Genesis rejections

/// An invalid genesis and the expected code.
pub struct InvalidGenesis {
    /// Short name.
    pub name: &'static str,
    /// What is wrong.
    pub description: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `malformed`, `unsupported-version` or `invalid-field`.
    pub code: &'static str,
}

/// The identity point, a small-order key.
pub const IDENTITY_POINT: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
};

/// The donor's key plus the point of order 2, (0, -1): a key with a torsion component.
pub fn torsioned_key() -> PublicKey {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    let order_two = CompressedEdwardsY(minus_one)
        .decompress()
        .expect("(0, -1) is on the curve");
    let donor = CompressedEdwardsY(public(DONOR_SEED).0)
        .decompress()
        .expect("a valid key");
    PublicKey((donor + order_two).compress().to_bytes())
}

/// Genesis documents that must be refused.
pub fn invalid_geneses() -> Vec<InvalidGenesis> {
    let with = |change: &dyn Fn(&mut Genesis)| {
        let mut genesis = genesis();
        change(&mut genesis);
        genesis.encode()
    };
    let case = |name, description, bytes, code| InvalidGenesis {
        name,
        description,
        bytes,
        code,
    };
    vec![
        case(
            "small-order-signing-key",
            "The auditor's signing key is the identity point 01 00…00, a small-order key.",
            with(&|genesis| genesis.members[1].signing_keys = vec![PublicKey(IDENTITY_POINT)]),
            "invalid-field",
        ),
        case(
            "torsioned-signing-key",
            "The auditor's signing key is the donor's key plus the point of order 2: not torsion-free.",
            with(&|genesis| genesis.members[1].signing_keys = vec![torsioned_key()]),
            "invalid-field",
        ),
        case(
            "key-of-two-members",
            "The auditor lists the donor's signing key.",
            with(&|genesis| genesis.members[1].signing_keys = vec![public(DONOR_SEED)]),
            "invalid-field",
        ),
        case(
            "members-not-ascending",
            "The members are not sorted by id.",
            with(&|genesis| genesis.members.swap(0, 2)),
            "invalid-field",
        ),
        case("unsupported-version", "format_version 2.", with(&|genesis| genesis.format_version = 2), "unsupported-version"),
        case("trailing-bytes", "A valid genesis followed by one zero byte.", [genesis().encode(), vec![0]].concat(), "malformed"),
        case(
            "role-variant-5",
            "The donor's role is variant 5, which does not exist.",
            {
                let bytes = genesis().encode();
                let roles_at = position(&bytes, b"Development Office") + "Development Office".len();
                let mut bytes = bytes;
                // roles: u64 count 1, then the u32 variant index.
                bytes[roles_at + 8] = 5;
                bytes
            },
            "malformed",
        ),
    ]
}

fn invalid_geneses_file() -> Value {
    json!({
        "description": "Genesis documents a verifier must refuse (Genesis::decode). code is malformed, unsupported-version or invalid-field.",
        "cases": invalid_geneses().iter().map(|case| json!({
            "name": case.name,
            "description": case.description,
            "genesis_hex": hex(&case.bytes),
            "expected": { "code": case.code },
        })).collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// Bundle

/// A bundle of the test network: the donor's records 0 to 2 and one equivocation proof.
pub fn bundle_bytes(fixture: &Fixture) -> Vec<u8> {
    let (chain, equivocating) = donor_chain(fixture);
    let write = || -> std::io::Result<Vec<u8>> {
        let mut writer = BundleWriter::new(Vec::new(), &fixture.genesis.encode())?;
        for record in &chain {
            writer.record(record)?;
        }
        writer.proof(&EquivocationProof {
            first: chain[0].clone(),
            second: equivocating.clone(),
        })?;
        writer.finish()
    };
    write().expect("writing to a Vec cannot fail")
}

fn bundle_file(fixture: &Fixture) -> Value {
    let bytes = bundle_bytes(fixture);
    let end_frame_bytes = 1 + 8 + 16;
    json!({
        "description": "A bundle: magic, version, genesis frame, the donor's records 0 to 2, one equivocation proof (record 0 and another record 0), end frame (records 3, proofs 1). bundle_truncated_hex is the same bundle without its end frame: a reader must report it as truncated.",
        "bundle_hex": hex(&bytes),
        "expected": { "records": 3, "proofs": 1 },
        "bundle_truncated_hex": hex(&bytes[..bytes.len() - end_frame_bytes]),
    })
}

/// A bundle judged as a whole (FORMAT.md 11 to 13.1), with the problems expected in report
/// order.
pub struct BundleCase {
    /// Short name.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The bundle's bytes.
    pub bytes: Vec<u8>,
    /// Expected problems as (author, seq, code).
    pub problems: Vec<(Option<&'static str>, Option<u64>, &'static str)>,
    /// Proposals in effect in the report's governance summary (derived from every governance
    /// record read).
    pub effective_proposals: usize,
}

fn bundle_of(genesis: &Genesis, proofs: &[(Vec<u8>, Vec<u8>)], records: &[Vec<u8>]) -> Vec<u8> {
    let write = || -> std::io::Result<Vec<u8>> {
        let mut writer = BundleWriter::new(Vec::new(), &genesis.encode())?;
        for (first, second) in proofs {
            writer.proof(&EquivocationProof {
                first: first.clone(),
                second: second.clone(),
            })?;
        }
        for record in records {
            writer.record(record)?;
        }
        writer.finish()
    };
    write().expect("writing to a Vec cannot fail")
}

/// The bundles of `bundles.json`.
pub fn bundle_cases(fixture: &Fixture) -> Vec<BundleCase> {
    use crate::governance_vectors::{
        governance_genesis, scenarios, NEWCOMER, OBSERVER, OBSERVER_SEED,
    };
    let governance = governance_genesis();
    let observer_statement = {
        let draft = RecordDraft {
            network_id: governance.network_id(),
            author: OBSERVER.into(),
            seq: 0,
            prev: Digest::ZERO,
            timestamp_ms: minute(1),
            body: Body::Statement(statement()),
        };
        sign(&draft, &key(OBSERVER_SEED)).1
    };
    let add_member = scenarios()
        .into_iter()
        .find(|scenario| scenario.name == "add-member")
        .expect("the add-member scenario");
    let mut late_governance = vec![observer_statement];
    late_governance.extend(add_member.entries.into_iter().map(|entry| entry.bytes));

    let (chain, equivocating) = donor_chain(fixture);
    let mut altered = chain[1].clone();
    let last_body_byte = altered.len() - 65;
    altered[last_body_byte] ^= 0x01;
    let proof = (chain[0].clone(), equivocating);
    vec![
        BundleCase {
            name: "governance-after-the-first-ordinary-record",
            description: "governance.json's network. The observer's statement (ordinary) comes first, then the add-member scenario: the donor's proposal to add the newcomer, the implementer's two approvals, the newcomer's statement. No governance record came before the first ordinary record, so the authority is the genesis' from there on (13.1): the governance records are out of order (reported once) and the newcomer is not a member for its statement (unknown-author). The governance summary still counts the proposal as effective.",
            bytes: bundle_of(&governance, &[], &late_governance),
            problems: vec![
                (None, None, "governance-out-of-order"),
                (Some(NEWCOMER), Some(0), "unknown-author"),
            ],
            effective_proposals: 1,
        },
        BundleCase {
            name: "repeated-proof-and-altered-body",
            description: "genesis.json's network. The same equivocation proof twice (the donor's record 0 and another record 0), then the donor's records 0, 1 with one bit of its body flipped, 2. One body-hash-mismatch at seq 1 (no gap there: the record is present, altered) and one equivocation (the repeated proof is not reported again, 12).",
            bytes: bundle_of(
                &fixture.genesis,
                &[proof.clone(), proof],
                &[chain[0].clone(), altered, chain[2].clone()],
            ),
            problems: vec![
                (Some(DONOR), Some(1), "body-hash-mismatch"),
                (Some(DONOR), Some(0), "equivocation"),
            ],
            effective_proposals: 0,
        },
    ]
}

fn bundles_file(fixture: &Fixture) -> Value {
    let cases: Vec<Value> = bundle_cases(fixture)
        .iter()
        .map(|case| {
            let problems: Vec<Value> = case
                .problems
                .iter()
                .map(|(author, seq, code)| json!({ "author": author, "seq": seq, "code": code }))
                .collect();
            json!({
                "name": case.name,
                "description": case.description,
                "bundle_hex": hex(&case.bytes),
                "expected": {
                    "valid": case.problems.is_empty(),
                    "problems": problems,
                    "effective_proposals": case.effective_proposals,
                },
            })
        })
        .collect();
    json!({
        "description": "Bundles a verifier judges as a whole: expected.problems in report order (chains in genesis order, then chains of added members, then problems attributed to no chain), and the number of proposals in effect in the governance summary.",
        "cases": cases,
    })
}

/// A record whose verdict turns on the signature rule (FORMAT.md §7.1).
pub struct SignatureCase {
    /// Short name.
    pub name: &'static str,
    /// What the signature is.
    pub description: &'static str,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// `None` if the record is valid, else the expected rejection code.
    pub code: Option<&'static str>,
}

/// A point encoding with y ≥ p (so not canonical) of a point that is not of small order. (No
/// y = p + 2 … p + 18 gives a torsion-free point, so a key written this way is also refused for
/// its torsion; the encoding is checked first.)
pub fn non_canonical_large_order_point() -> [u8; 32] {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    (2..=18)
        .map(crate::signature_edges::non_canonical_y)
        .find(|bytes| {
            CompressedEdwardsY(*bytes)
                .decompress()
                .is_some_and(|point| !point.is_small_order())
        })
        .expect("some y = p + 2 … p + 18 is a point of large order")
}

/// One record, the donor's disbursement at seq 0, signed in every way the rule must decide.
/// The record id does not cover the signature, so every case has the same id.
pub fn signature_cases(fixture: &Fixture) -> Vec<SignatureCase> {
    use crate::signature_edges::{
        non_canonical_y, sign_with_fixed_r, sign_with_torsion_nonce, sign_with_wrong_challenge,
        torsion_point, with_s_plus_multiple_of_order, with_signature,
    };
    let base = sign(&base_draft(fixture), &fixture.donor).1;
    let id = SignedRecord::parse(base.clone())
        .expect("the base record parses")
        .id;
    let donor = &fixture.donor;
    let signed = |signature| with_signature(&base, &signature);
    let case = |name, description, bytes, code| SignatureCase {
        name,
        description,
        bytes,
        code,
    };
    let valid_signature = signature::sign(donor, &id);
    let order_eight = torsion_point(8).compress().to_bytes();
    vec![
        case("valid-ordinary", "An ordinary deterministic Ed25519 signature (RFC 8032).", base.clone(), None),
        case(
            "valid-r-with-torsion-of-order-2",
            "R = [r]B + T with T of order 2, s = r + k·a, k hashed over R's bytes. The cofactored equation holds; the cofactorless one does not. Only the key's holder can make it; every verifier must accept it, singly or in any batch.",
            signed(sign_with_torsion_nonce(donor, &id, 2, 2)),
            None,
        ),
        case(
            "valid-r-with-torsion-of-order-4",
            "As above with T of order 4.",
            signed(sign_with_torsion_nonce(donor, &id, 4, 4)),
            None,
        ),
        case(
            "valid-r-with-torsion-of-order-8",
            "As above with T of order 8.",
            signed(sign_with_torsion_nonce(donor, &id, 8, 8)),
            None,
        ),
        case(
            "bad-signature-r-with-torsion-wrong-challenge",
            "R = [r]B + T (order 2), but k hashed over [r]B's bytes: neither equation holds.",
            signed(sign_with_wrong_challenge(donor, &id, 2, 2)),
            Some("bad-signature"),
        ),
        case(
            "bad-signature-s-plus-order",
            "The valid signature with s replaced by s + ℓ (the same value modulo ℓ): s is not canonical.",
            signed(with_s_plus_multiple_of_order(&valid_signature, 1)),
            Some("bad-signature"),
        ),
        case(
            "bad-signature-s-plus-twice-order",
            "The valid signature with s replaced by s + 2ℓ: s is not canonical.",
            signed(with_s_plus_multiple_of_order(&valid_signature, 2)),
            Some("bad-signature"),
        ),
        case(
            "bad-signature-r-identity",
            "R = the identity (01 00…00) and s = k·a: the cofactored equation holds, but R is of small order.",
            signed(sign_with_fixed_r(donor, &id, IDENTITY_POINT)),
            Some("bad-signature"),
        ),
        case(
            "bad-signature-r-of-order-8",
            "R = a point of order 8 and s = k·a: the cofactored equation holds, but R is of small order.",
            signed(sign_with_fixed_r(donor, &id, order_eight)),
            Some("bad-signature"),
        ),
        case(
            "bad-signature-r-identity-non-canonical",
            "R = y = p + 1 (the identity written with y ≥ p) and s = k·a: not a canonical encoding.",
            signed(sign_with_fixed_r(donor, &id, non_canonical_y(1))),
            Some("bad-signature"),
        ),
        case(
            "bad-signature-r-non-canonical",
            "R = a point of large order written with y ≥ p, s = k·a: not a canonical encoding.",
            signed(sign_with_fixed_r(donor, &id, non_canonical_large_order_point())),
            Some("bad-signature"),
        ),
        case(
            "invalid-signing-key-non-canonical",
            "The header names, as its signing key, a point of large order written with y ≥ p: not a canonical encoding (rule 4, before any signature check).",
            assembled_with(
                fixture,
                codec::encode(&Body::Transaction(disbursement())),
                |header| header.signing_key = PublicKey(non_canonical_large_order_point()),
                donor,
            ),
            Some("invalid-signing-key"),
        ),
    ]
}

fn signatures_file(fixture: &Fixture) -> Value {
    let cases: Vec<Value> = signature_cases(fixture)
        .iter()
        .map(|case| {
            json!({
                "name": case.name,
                "description": case.description,
                "record_hex": hex(&case.bytes),
                "expected": match case.code {
                    None => json!({ "valid": true }),
                    Some(code) => json!({ "valid": false, "code": code }),
                },
            })
        })
        .collect();
    json!({
        "description": "One record (the donor's disbursement at seq 0 of genesis.json's network) signed in every way the signature rule (FORMAT.md 7.1) must decide. Every verifier must give expected for each case alone, and the same verdicts for the cases in any batch or grouping.",
        "cases": cases,
    })
}

/// `local-formats.json`: the bytes of the formats that are exchanged or stored but never hashed
/// or signed (FORMAT.md §17.2, §19, §20), each with what it holds, and inputs each decoder
/// must refuse.
pub fn local_formats_file() -> Value {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::sortkey::SortKey;
    use aidledger_spec::submit::encode_batch;
    use aidledger_spec::sync::{encode_frame, SyncRequest, SyncResponse, WireHead};

    let id = |byte: u8| [byte; 32];
    let sortable_keys = vec![
        json!({
            "name": "records key of (org, 258)",
            "parts": [{"short_str": "org"}, {"u64": 258}],
            "hex": hex::encode(SortKey::new().short_str("org").expect("short").u64(258).into_bytes()),
        }),
        json!({
            "name": "pending key of (GB-GOV-1, 7) and a record id",
            "parts": [{"short_str": DONOR}, {"u64": 7}, {"id": hex::encode(id(0xab))}],
            "hex": hex::encode(
                SortKey::new().short_str(DONOR).expect("short").u64(7).id(&id(0xab)).into_bytes()
            ),
        }),
        json!({
            "name": "explorer flow key (tag f)",
            "parts": [{"u8": 0x66}, {"text": "act"}, {"text": "p"}, {"text": "r"}, {"u8": 3}, {"text": "EUR"}],
            "hex": hex::encode(
                SortKey::tagged(b'f').text("act").text("p").text("r").u8(3).text("EUR").into_bytes()
            ),
        }),
        json!({
            "name": "explorer correction key (tag c): target, seq, id",
            "parts": [{"u8": 0x63}, {"id": hex::encode(id(1))}, {"u64": 1_000_000}, {"id": hex::encode(id(2))}],
            "hex": hex::encode(
                SortKey::tagged(b'c').id(&id(1)).u64(1_000_000).id(&id(2)).into_bytes()
            ),
        }),
    ];
    let batches: Vec<Value> = [
        ("one empty body", vec![Vec::new()]),
        ("two bodies", vec![vec![1u8, 2, 3], vec![0xff]]),
        (
            "a statement body",
            vec![codec::encode(&Body::Statement(statement()))],
        ),
    ]
    .into_iter()
    .map(|(name, bodies)| {
        json!({
            "name": name,
            "bodies_hex": bodies.iter().map(hex::encode).collect::<Vec<_>>(),
            "hex": hex::encode(encode_batch(&bodies)),
        })
    })
    .collect();
    let frame = |bytes: Option<Vec<u8>>| hex::encode(bytes.expect("a small frame"));
    let requests = vec![
        json!({"name": "Heads", "frame_hex": frame(encode_frame(&SyncRequest::Heads))}),
        json!({
            "name": "Range { author: GB-GOV-1, from_seq: 7, limit: 100 }",
            "author": DONOR, "from_seq": 7, "limit": 100,
            "frame_hex": frame(encode_frame(&SyncRequest::Range {
                author: DONOR.into(),
                from_seq: 7,
                limit: 100,
            })),
        }),
        json!({"name": "Proofs", "frame_hex": frame(encode_frame(&SyncRequest::Proofs))}),
    ];
    let proof = EquivocationProof {
        first: vec![1, 2],
        second: vec![3],
    };
    let responses = vec![
        json!({
            "name": "Heads: one head, 2 proofs",
            "heads": [{"author": DONOR, "seq": 5, "id": hex::encode(id(0x11))}],
            "proofs": 2,
            "frame_hex": frame(encode_frame(&SyncResponse::Heads {
                heads: vec![WireHead { author: DONOR.into(), seq: 5, id: id(0x11) }],
                proofs: 2,
            })),
        }),
        json!({
            "name": "Records: two envelopes (shortened to a few bytes here)",
            "records_hex": ["aabb", "cc"],
            "frame_hex": frame(encode_frame(&SyncResponse::Records(vec![vec![0xaa, 0xbb], vec![0xcc]]))),
        }),
        json!({
            "name": "Proofs: one proof",
            "proofs": [{"first_hex": "0102", "second_hex": "03"}],
            "frame_hex": frame(encode_frame(&SyncResponse::Proofs(vec![proof.clone()]))),
        }),
        json!({"name": "Unavailable", "frame_hex": frame(encode_frame(&SyncResponse::Unavailable))}),
    ];
    let mut over_records = SyncResponse::Records(Vec::new()).to_bytes();
    over_records[4..12].copy_from_slice(&1025u64.to_le_bytes());
    let mut over_author = Vec::new();
    over_author.extend_from_slice(&1u32.to_le_bytes());
    over_author.extend_from_slice(&129u64.to_le_bytes());
    over_author.extend_from_slice(&[b'a'; 129]);
    over_author.extend_from_slice(&[0; 16]);
    let rejections: Vec<Value> = [
        Rejection::KeyRevoked {
            author: DONOR.into(),
            key: PublicKey([0x22; 32]),
            from_seq: 3,
            by: Digest(id(0x33)),
        },
        Rejection::MemberRemoved {
            author: DONOR.into(),
            from_seq: 0,
            by: Digest(id(0x44)),
        },
        Rejection::BadSignature,
        Rejection::InvalidField {
            field: "prev".into(),
            problem: "a first record has no predecessor".into(),
        },
        Rejection::TooManyGovernanceRecords { limit: 100_000 },
    ]
    .into_iter()
    .map(|rejection| {
        json!({
            "name": rejection.code(),
            "rejection": rejection,
            "hex": hex::encode(rejection.to_bytes()),
        })
    })
    .collect();
    let refused = vec![
        json!({"format": "submit batch", "why": "no body", "hex": hex::encode(encode_batch::<Vec<u8>>(&[]))}),
        json!({"format": "submit batch", "why": "1025 bodies", "hex": hex::encode(1025u64.to_le_bytes())}),
        json!({"format": "submit batch", "why": "the big-endian u32 framing before issue 18", "hex": "000000010000000107"}),
        json!({"format": "submit batch", "why": "a trailing byte", "hex": "0100000000000000000000000000000000"}),
        json!({"format": "sync response", "why": "1025 records", "hex": hex::encode(over_records)}),
        json!({"format": "sync response", "why": "unknown variant 4", "hex": "04000000"}),
        json!({"format": "sync request", "why": "an author of 129 bytes", "hex": hex::encode(over_author)}),
        json!({"format": "rejection", "why": "tag 0: rules are numbered from 1", "hex": "00000000"}),
        json!({"format": "rejection", "why": "tag 25: no such rule", "hex": "19000000"}),
        json!({"format": "rejection", "why": "bad-signature with a trailing byte", "hex": "0500000000"}),
    ];
    json!({
        "description": "Formats that are exchanged or stored but never hashed or signed. sortable_keys: store keys (FORMAT.md 19), each the concatenation of its parts (u8/u64 big endian, short_str with a u8 length, text with a u16 big-endian length, id raw). submit_batches: the request body of POST /v1/records/batch (20). sync_requests and sync_responses: range sync frames, a u32 little-endian length then the message (17.2). rejections: a Rejection in its stored encoding (10, \"Encoded rejection\"): the rule's number as a u32 little-endian tag, then its fields in the layout of 2; rejection is the JSON the CLI prints for it. refused: inputs the named decoder must refuse (sync entries are messages without the frame prefix).",
        "sortable_keys": sortable_keys,
        "submit_batches": batches,
        "sync_requests": requests,
        "sync_responses": responses,
        "rejections": rejections,
        "refused": refused,
    })
}

/// Every vector file, in the order they are written.
pub fn all() -> Vec<VectorFile> {
    let fixture = Fixture::new();
    vec![
        VectorFile {
            name: "genesis.json",
            json: genesis_file(&fixture),
        },
        VectorFile {
            name: "genesis-invalid.json",
            json: invalid_geneses_file(),
        },
        VectorFile {
            name: "records-valid.json",
            json: valid_records_file(&fixture),
        },
        VectorFile {
            name: "records-invalid.json",
            json: invalid_records_file(&fixture),
        },
        VectorFile {
            name: "chains.json",
            json: chains_file(&fixture),
        },
        VectorFile {
            name: "bundle.json",
            json: bundle_file(&fixture),
        },
        VectorFile {
            name: "governance.json",
            json: crate::governance_vectors::governance_file(),
        },
        VectorFile {
            name: "signatures.json",
            json: signatures_file(&fixture),
        },
        VectorFile {
            name: "bundles.json",
            json: bundles_file(&fixture),
        },
        VectorFile {
            name: "local-formats.json",
            json: local_formats_file(),
        },
    ]
}

/// A file's text as written: pretty JSON and a final newline.
pub fn render(file: &VectorFile) -> String {
    let mut text = serde_json::to_string_pretty(&file.json).expect("JSON values always serialise");
    text.push('\n');
    text
}
