//! The governance vectors of FORMAT.md ("Governance"), built deterministically: records of
//! kinds 5–7 (one of each change), invalid ones, and scenarios with the derivation they must
//! give, written to `spec/vectors/governance.json`.
//!
//! Every expectation here is written by hand from the rules of FORMAT.md — never computed by
//! `governance::derive` — so that `tests/vectors.rs`, which runs the derivation and the verifier
//! over the records, fails when a rule changes. Where the rule depends on record ids (several
//! proposals on one tip), the generator compares the ids itself, as the rule says.

#![allow(dead_code)] // each includer uses a different part

use std::collections::BTreeMap;

use aidledger_spec::governance::{
    possession_message, Approval, Change, KeyGrant, KeyRotation, Proposal, WitnessEntry,
    POSSESSION_DOMAIN,
};
use aidledger_spec::record::Statement;
use aidledger_spec::signature;
use aidledger_spec::{
    codec, AdminRule, Body, Digest, Genesis, Member, PublicKey, RecordDraft, RecordId, Role,
    SignedRecord,
};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::vector_set::{
    self, assemble, header_of, sign, Made, AUDITOR, AUDITOR_SEED, CREATED_MS, DONOR,
    DONOR_NODE_SEED, DONOR_SEED, IMPLEMENTER, IMPLEMENTER_NODE_SEED, IMPLEMENTER_SEED,
    OUTSIDER_SEED,
};

/// A member that is not an admin.
pub const OBSERVER: &str = "XI-EXAMPLE-OBSERVER";
/// An organisation that proposals add.
pub const NEWCOMER: &str = "XI-EXAMPLE-NEWCOMER";

/// The observer's genesis signing key seed.
pub const OBSERVER_SEED: [u8; 32] = [4u8; 32];
/// The newcomer's signing key seed.
pub const NEWCOMER_SEED: [u8; 32] = [5u8; 32];
/// The key the observer rotates to.
pub const ROTATED_SEED: [u8; 32] = [6u8; 32];
/// The key that replaces the implementer's revoked key.
pub const REPLACEMENT_SEED: [u8; 32] = [7u8; 32];
/// The key a thief holding the implementer's key rotates to.
pub const THIEF_SEED: [u8; 32] = [8u8; 32];
/// A node key the set-node-keys proposals name.
pub const NEW_NODE_SEED: [u8; 32] = [0x13u8; 32];
/// The witnesses `set-witnesses` names: (key name, seed of its cosignature key).
pub const WITNESSES: [(&str, [u8; 32]); 2] = [
    ("witness.example.org/w1", [0x21u8; 32]),
    ("witness.example.org/w2", [0x22u8; 32]),
];

fn key(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&seed)
}

fn public(seed: [u8; 32]) -> PublicKey {
    signature::public_key_of(&key(seed))
}

/// Every key of the governance vectors, by name.
const KEYS: [(&str, &str, [u8; 32]); 10] = [
    ("donor", DONOR, DONOR_SEED),
    ("implementer", IMPLEMENTER, IMPLEMENTER_SEED),
    ("auditor", AUDITOR, AUDITOR_SEED),
    ("observer", OBSERVER, OBSERVER_SEED),
    ("newcomer", NEWCOMER, NEWCOMER_SEED),
    ("observer-rotated", OBSERVER, ROTATED_SEED),
    ("implementer-replacement", IMPLEMENTER, REPLACEMENT_SEED),
    ("thief-rotated", IMPLEMENTER, THIEF_SEED),
    ("outsider", "", OUTSIDER_SEED),
    ("new-node", OBSERVER, NEW_NODE_SEED),
];

/// The public key of a key name of [`KEYS`].
pub fn named_key(name: &str) -> PublicKey {
    let (_, _, seed) = KEYS
        .iter()
        .find(|(key_name, _, _)| *key_name == name)
        .expect("a key of KEYS");
    public(*seed)
}

/// The governance test network: the donor, implementer and auditor of `genesis.json`, all three
/// admins with a threshold of 2, and an observer that is not an admin.
pub fn governance_genesis() -> Genesis {
    let mut genesis = vector_set::genesis();
    genesis.name = "aidledger governance test network".into();
    genesis.members.push(Member {
        id: OBSERVER.into(),
        name: "Example Observer".into(),
        roles: vec![Role::Observer],
        signing_keys: vec![public(OBSERVER_SEED)],
        node_keys: vec![],
    });
    genesis.admin_rule = AdminRule {
        admins: vec![DONOR.into(), AUDITOR.into(), IMPLEMENTER.into()],
        threshold: 2,
    };
    genesis.normalise();
    genesis
}

fn network_id() -> Digest {
    governance_genesis().network_id()
}

/// The member a proposal adds.
pub fn newcomer() -> Member {
    Member {
        id: NEWCOMER.into(),
        name: "Example Newcomer".into(),
        roles: vec![Role::Implementer],
        signing_keys: vec![public(NEWCOMER_SEED)],
        node_keys: vec![],
    }
}

fn proposal(base: RecordId, change: Change, note: &str) -> Body {
    Body::Proposal(Proposal {
        base,
        change,
        note: note.into(),
    })
}

fn approval(proposal: RecordId) -> Body {
    Body::Approval(Approval { proposal })
}

fn rotation(member: &str, seed: [u8; 32]) -> Body {
    Body::KeyRotation(KeyRotation {
        new_key: KeyGrant::prove(&network_id(), member, &key(seed)),
    })
}

fn statement(text: &str) -> Body {
    Body::Statement(Statement {
        title: "Governance vector".into(),
        language: "en".into(),
        text: text.into(),
    })
}

/// The witnesses of [`WITNESSES`] at `indices`, in that order.
pub fn witness_entries(indices: &[usize]) -> Vec<WitnessEntry> {
    indices
        .iter()
        .map(|index| WitnessEntry {
            name: WITNESSES[*index].0.into(),
            key: public(WITNESSES[*index].1),
        })
        .collect()
}

/// The vkey (C2SP, type cosignature) of the witness of [`WITNESSES`] at `index`.
pub fn witness_vkey(index: usize) -> String {
    witness_entries(&[index])[0]
        .verifier_key()
        .expect("a valid witness key")
        .to_vkey()
}

fn add_newcomer() -> Change {
    Change::AddMember { member: newcomer() }
}

fn revoke_implementer_key(from_seq: u64) -> Change {
    Change::RevokeKey {
        member: IMPLEMENTER.into(),
        key: public(IMPLEMENTER_SEED),
        from_seq,
        replacement: Some(KeyGrant::prove(
            &network_id(),
            IMPLEMENTER,
            &key(REPLACEMENT_SEED),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Chains of records

/// One record of a scenario.
#[derive(Clone)]
pub struct Entry {
    /// Short name, unique in its scenario.
    pub label: &'static str,
    /// The record id.
    pub id: RecordId,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The body.
    pub body: Body,
    /// The author.
    pub author: &'static str,
    /// Its position.
    pub seq: u64,
}

/// Signs records chain by chain: each author's next record follows its last one.
struct Chains {
    entries: Vec<Entry>,
    heads: BTreeMap<&'static str, (u64, RecordId)>,
}

impl Chains {
    fn new() -> Chains {
        Chains {
            entries: Vec::new(),
            heads: BTreeMap::new(),
        }
    }

    /// Appends a record to `author`'s chain, signed with the key of `seed`.
    fn push(
        &mut self,
        label: &'static str,
        author: &'static str,
        seed: [u8; 32],
        body: Body,
    ) -> RecordId {
        let (seq, prev) = self.heads.get(author).copied().unwrap_or((0, Digest::ZERO));
        let id = self.push_at(label, author, seq, prev, seed, body);
        self.heads.insert(author, (seq + 1, id));
        id
    }

    /// Signs a record at `seq` after `prev` without moving the chain's head: a branch.
    fn push_at(
        &mut self,
        label: &'static str,
        author: &'static str,
        seq: u64,
        prev: RecordId,
        seed: [u8; 32],
        body: Body,
    ) -> RecordId {
        let draft = RecordDraft {
            network_id: network_id(),
            author: author.into(),
            seq,
            prev,
            timestamp_ms: CREATED_MS + (self.entries.len() as u64 + 1) * 60_000,
            body: body.clone(),
        };
        let (id, bytes) = sign(&draft, &key(seed));
        self.entries.push(Entry {
            label,
            id,
            bytes,
            body,
            author,
            seq,
        });
        id
    }

    fn id(&self, label: &str) -> RecordId {
        self.entries
            .iter()
            .find(|entry| entry.label == label)
            .expect("a label of this scenario")
            .id
    }
}

// ---------------------------------------------------------------------------------------------
// Valid and invalid records

/// One valid record of each governance kind and of each change: the donor's chain 0 to 6, then
/// the implementer's approval and the observer's rotation. Each verifies alone against the
/// governance genesis (record and authority rules).
pub fn valid_records() -> Vec<Made> {
    let mut chains = Chains::new();
    let add = chains.push(
        "proposal-add-member",
        DONOR,
        DONOR_SEED,
        proposal(Digest::ZERO, add_newcomer(), "Welcome the newcomer."),
    );
    let changes: [(&'static str, Change); 5] = [
        (
            "proposal-remove-member",
            Change::RemoveMember {
                member: OBSERVER.into(),
                from_seq: 7,
            },
        ),
        (
            "proposal-set-roles",
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Auditor, Role::Observer],
            },
        ),
        (
            "proposal-set-node-keys",
            Change::SetNodeKeys {
                member: OBSERVER.into(),
                node_keys: vec![public(NEW_NODE_SEED)],
            },
        ),
        ("proposal-revoke-key", revoke_implementer_key(3)),
        (
            "proposal-set-admin-rule",
            Change::SetAdminRule {
                rule: AdminRule {
                    admins: vec![DONOR.into(), AUDITOR.into(), IMPLEMENTER.into()],
                    threshold: 3,
                },
            },
        ),
    ];
    for (label, change) in changes {
        chains.push(label, DONOR, DONOR_SEED, proposal(add, change, ""));
    }
    chains.push("approval", IMPLEMENTER, IMPLEMENTER_SEED, approval(add));
    chains.push(
        "statement",
        OBSERVER,
        OBSERVER_SEED,
        statement("Before the rotation."),
    );
    chains.push(
        "key-rotation",
        OBSERVER,
        OBSERVER_SEED,
        rotation(OBSERVER, ROTATED_SEED),
    );
    // Added with change 6, after the others so that their bytes (timestamps follow the order
    // records are signed in) stay as they were.
    chains.push(
        "proposal-set-witnesses",
        DONOR,
        DONOR_SEED,
        proposal(
            add,
            Change::SetWitnesses {
                witnesses: witness_entries(&[0, 1]),
                threshold: 1,
            },
            "",
        ),
    );
    chains
        .entries
        .into_iter()
        .filter(|entry| entry.label != "statement")
        .map(|entry| Made {
            name: entry.label,
            description: description_of(entry.label),
            id: entry.id,
            bytes: entry.bytes,
            body: entry.body,
        })
        .collect()
}

fn description_of(label: &str) -> &'static str {
    match label {
        "proposal-add-member" => "Donor seq 0: proposes (base zero, the genesis) to add XI-EXAMPLE-NEWCOMER; change variant 0.",
        "proposal-remove-member" => "Donor seq 1: proposes to remove the observer from its seq 7 on; change variant 1. Its base is the add-member proposal.",
        "proposal-set-roles" => "Donor seq 2: proposes the observer's roles auditor and observer; change variant 2.",
        "proposal-set-node-keys" => "Donor seq 3: proposes one node key for the observer; change variant 3.",
        "proposal-revoke-key" => "Donor seq 4: proposes to revoke the implementer's key from its seq 3 on, replaced by the key of seed 07…07 with its proof of possession; change variant 4.",
        "proposal-set-admin-rule" => "Donor seq 5: proposes the admin rule 3 of GB-GOV-1, XI-EXAMPLE-AUDIT, XM-DAC-41114 (note empty); change variant 5.",
        "approval" => "Implementer seq 0: approves the donor's add-member proposal.",
        "proposal-set-witnesses" => "Donor seq 6: proposes the witness policy 1 of witness.example.org/w1 and witness.example.org/w2 (cosignature keys of seeds 21…21 and 22…22); change variant 6.",
        "key-rotation" => "Observer seq 1 (seq 0, a statement, is not listed): rotates to the key of seed 06…06, signed by its genesis key, proved by the new key.",
        _ => "",
    }
}

/// A governance record that breaks a rule, with the expected first reason.
pub struct InvalidGovernance {
    /// Short name.
    pub name: &'static str,
    /// What is wrong.
    pub description: &'static str,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The expected code.
    pub code: &'static str,
    /// For invalid-field: the field named.
    pub field: Option<&'static str>,
}

fn donor_record(body: Body) -> Vec<u8> {
    let mut chains = Chains::new();
    chains.push("record", DONOR, DONOR_SEED, body);
    chains.entries.remove(0).bytes
}

/// Governance records every verifier must refuse.
pub fn invalid_records() -> Vec<InvalidGovernance> {
    let network_id = network_id();
    let observer_rotation = |grant: KeyGrant| {
        let mut chains = Chains::new();
        chains.push(
            "record",
            OBSERVER,
            OBSERVER_SEED,
            Body::KeyRotation(KeyRotation { new_key: grant }),
        );
        chains.entries.remove(0).bytes
    };
    let proved_by = |member: &str, prover: [u8; 32], named: [u8; 32]| KeyGrant {
        key: public(named),
        proof_of_possession: signature_over(
            &key(prover),
            &possession_message(&network_id, member, &public(named)).0,
        ),
    };
    let revoke_with = |grant: KeyGrant| {
        donor_record(proposal(
            Digest::ZERO,
            Change::RevokeKey {
                member: IMPLEMENTER.into(),
                key: public(IMPLEMENTER_SEED),
                from_seq: 3,
                replacement: Some(grant),
            },
            "",
        ))
    };
    let case = |name, description, bytes, code, field| InvalidGovernance {
        name,
        description,
        bytes,
        code,
        field,
    };
    vec![
        case(
            "invalid-proof-of-possession-rotation-proved-by-old-key",
            "The observer rotates to the key of seed 06…06, but the proof is signed by its old key.",
            observer_rotation(proved_by(OBSERVER, OBSERVER_SEED, ROTATED_SEED)),
            "invalid-proof-of-possession",
            None,
        ),
        case(
            "invalid-proof-of-possession-rotation-zero-proof",
            "The observer rotates to the key of seed 06…06 with 64 zero bytes as its proof.",
            observer_rotation(KeyGrant {
                key: public(ROTATED_SEED),
                proof_of_possession: aidledger_spec::SignatureBytes([0u8; 64]),
            }),
            "invalid-proof-of-possession",
            None,
        ),
        case(
            "invalid-proof-of-possession-rotation-for-another-member",
            "The observer rotates to a key whose proof was made for the donor: the proof binds the member id.",
            observer_rotation(KeyGrant::prove(&network_id, DONOR, &key(ROTATED_SEED))),
            "invalid-proof-of-possession",
            None,
        ),
        case(
            "invalid-proof-of-possession-rotation-small-order-key",
            "The observer rotates to the identity point 01 00…00, a small-order key.",
            observer_rotation(KeyGrant {
                key: PublicKey(vector_set::IDENTITY_POINT),
                proof_of_possession: aidledger_spec::SignatureBytes([0u8; 64]),
            }),
            "invalid-proof-of-possession",
            None,
        ),
        case(
            "invalid-proof-of-possession-rotation-torsioned-key",
            "The observer rotates to the key of seed 06…06 plus a point of order 2 (a mixed-order key), with a proof made from seed 06…06's secret that satisfies the cofactored equation: keys with a torsion component are refused.",
            observer_rotation({
                let named = crate::signature_edges::torsioned_public_key(&key(ROTATED_SEED), 2);
                let message = possession_message(&network_id, OBSERVER, &PublicKey(named));
                KeyGrant {
                    key: PublicKey(named),
                    proof_of_possession: crate::signature_edges::sign_message_as(
                        &key(ROTATED_SEED),
                        &named,
                        &message.0,
                    ),
                }
            }),
            "invalid-proof-of-possession",
            None,
        ),
        case(
            "invalid-proof-of-possession-revoke-key-replacement-wrong-prover",
            "A revoke-key proposal whose replacement (seed 07…07) is proved by the thief's key (seed 08…08).",
            revoke_with(proved_by(IMPLEMENTER, THIEF_SEED, REPLACEMENT_SEED)),
            "invalid-proof-of-possession",
            None,
        ),
        case(
            "invalid-field-admin-rule-threshold-zero",
            "A set-admin-rule proposal with threshold 0.",
            donor_record(proposal(
                Digest::ZERO,
                Change::SetAdminRule {
                    rule: AdminRule {
                        admins: vec![DONOR.into()],
                        threshold: 0,
                    },
                },
                "",
            )),
            "invalid-field",
            Some("body.change.rule.threshold"),
        ),
        case(
            "invalid-field-admins-not-ascending",
            "A set-admin-rule proposal whose admins are not in ascending order.",
            donor_record(proposal(
                Digest::ZERO,
                Change::SetAdminRule {
                    rule: AdminRule {
                        admins: vec![IMPLEMENTER.into(), DONOR.into()],
                        threshold: 1,
                    },
                },
                "",
            )),
            "invalid-field",
            Some("body.change.rule.admins"),
        ),
        case(
            "invalid-field-add-member-without-keys",
            "An add-member proposal whose member has no signing key.",
            donor_record(proposal(
                Digest::ZERO,
                Change::AddMember {
                    member: Member {
                        signing_keys: vec![],
                        ..newcomer()
                    },
                },
                "",
            )),
            "invalid-field",
            Some("body.change.member.signing_keys"),
        ),
        case(
            "body-malformed-change-variant-6",
            "A proposal whose change has the variant index 6 (set-witnesses) followed by the fields of remove-member: the witness count is 19 and the first name's length (8 bytes of the member id) is far over any bound.",
            {
                let body = codec::encode(&proposal(
                    Digest::ZERO,
                    Change::RemoveMember {
                        member: OBSERVER.into(),
                        from_seq: 1,
                    },
                    "",
                ));
                let mut body = body;
                // kind (4) + base (32), then the change's u32 variant index.
                body[36] = 6;
                let draft = RecordDraft {
                    network_id,
                    author: DONOR.into(),
                    seq: 0,
                    prev: Digest::ZERO,
                    timestamp_ms: CREATED_MS + 60_000,
                    body: approval(Digest::ZERO),
                };
                let mut header = header_of(&draft, &body, &key(DONOR_SEED));
                header.body_kind = 5;
                assemble(&header, &body, &key(DONOR_SEED))
            },
            "body-malformed",
            None,
        ),
        case(
            "key-not-authors-approval-by-newcomer-key",
            "An approval in the donor's chain signed by the newcomer's key, which the genesis does not list.",
            {
                let draft = RecordDraft {
                    network_id,
                    author: DONOR.into(),
                    seq: 0,
                    prev: Digest::ZERO,
                    timestamp_ms: CREATED_MS + 60_000,
                    body: approval(Digest::ZERO),
                };
                sign(&draft, &key(NEWCOMER_SEED)).1
            },
            "key-not-authors",
            None,
        ),
        case(
            "body-malformed-change-variant-7",
            "A proposal whose change has the variant index 7, which does not exist.",
            {
                let mut body = codec::encode(&proposal(
                    Digest::ZERO,
                    Change::SetWitnesses {
                        witnesses: vec![],
                        threshold: 0,
                    },
                    "",
                ));
                // kind (4) + base (32), then the change's u32 variant index.
                body[36] = 7;
                let draft = RecordDraft {
                    network_id,
                    author: DONOR.into(),
                    seq: 0,
                    prev: Digest::ZERO,
                    timestamp_ms: CREATED_MS + 60_000,
                    body: approval(Digest::ZERO),
                };
                let mut header = header_of(&draft, &body, &key(DONOR_SEED));
                header.body_kind = 5;
                assemble(&header, &body, &key(DONOR_SEED))
            },
            "body-malformed",
            None,
        ),
        case(
            "invalid-field-witnesses-not-ascending",
            "set-witnesses lists witness.example.org/w2 before witness.example.org/w1: names must be strictly ascending.",
            set_witnesses(witness_entries(&[1, 0]), 1),
            "invalid-field",
            Some("body.change.witnesses.name"),
        ),
        case(
            "invalid-field-witness-name-with-space",
            "set-witnesses names a witness \"witness example\": a key name holds no space.",
            set_witnesses(
                vec![WitnessEntry {
                    name: "witness example".into(),
                    key: public(WITNESSES[0].1),
                }],
                1,
            ),
            "invalid-field",
            Some("body.change.witnesses.name"),
        ),
        case(
            "invalid-field-witness-key-twice",
            "set-witnesses lists one key under two names: one witness would count twice.",
            set_witnesses(
                vec![
                    WitnessEntry {
                        name: WITNESSES[0].0.into(),
                        key: public(WITNESSES[0].1),
                    },
                    WitnessEntry {
                        name: WITNESSES[1].0.into(),
                        key: public(WITNESSES[0].1),
                    },
                ],
                1,
            ),
            "invalid-field",
            Some("body.change.witnesses.key"),
        ),
        case(
            "invalid-field-witness-key-small-order",
            "set-witnesses names a witness whose key is the identity point (small order).",
            set_witnesses(
                vec![WitnessEntry {
                    name: WITNESSES[0].0.into(),
                    key: PublicKey({
                        let mut identity = [0u8; 32];
                        identity[0] = 1;
                        identity
                    }),
                }],
                1,
            ),
            "invalid-field",
            Some("body.change.witnesses.key"),
        ),
        case(
            "invalid-field-witness-threshold-zero",
            "set-witnesses lists two witnesses with the threshold 0 (0 only with no witnesses).",
            set_witnesses(witness_entries(&[0, 1]), 0),
            "invalid-field",
            Some("body.change.threshold"),
        ),
        case(
            "invalid-field-witness-threshold-over",
            "set-witnesses lists two witnesses with the threshold 3.",
            set_witnesses(witness_entries(&[0, 1]), 3),
            "invalid-field",
            Some("body.change.threshold"),
        ),
        case(
            "invalid-field-no-witnesses-threshold-one",
            "set-witnesses lists no witness with the threshold 1.",
            set_witnesses(vec![], 1),
            "invalid-field",
            Some("body.change.threshold"),
        ),
    ]
}

/// The donor's proposal (seq 0, on the genesis) of a `set-witnesses` change.
fn set_witnesses(witnesses: Vec<WitnessEntry>, threshold: u16) -> Vec<u8> {
    donor_record(proposal(
        Digest::ZERO,
        Change::SetWitnesses {
            witnesses,
            threshold,
        },
        "",
    ))
}

fn signature_over(key: &SigningKey, message: &[u8]) -> aidledger_spec::SignatureBytes {
    use ed25519_dalek::Signer as _;
    aidledger_spec::SignatureBytes(key.sign(message).to_bytes())
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// A proposal's expected state.
#[derive(Clone, Copy)]
pub enum State {
    /// Effective as this step (1-based).
    Effective(usize),
    /// Pending with this many approvals (of 2).
    Pending(usize),
    /// Stale.
    Stale,
    /// Inapplicable.
    Inapplicable,
    /// Refused.
    Refused,
}

/// A scenario: records, and what the derivation and the verifier make of them.
pub struct Scenario {
    /// Short name.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The records, each author's in chain order.
    pub entries: Vec<Entry>,
    /// Effective proposals in order: (label, approved_by).
    pub steps: Vec<(&'static str, Vec<&'static str>)>,
    /// Every proposal's state: (label, state, approved_by).
    pub proposals: Vec<(&'static str, State, Vec<&'static str>)>,
    /// Records without effect (labels).
    pub findings: Vec<&'static str>,
    /// Each record's verdict under the derived authority, by label; records not listed are valid.
    pub verdicts: Vec<(&'static str, &'static str)>,
    /// Authority checks: (author, seq, key name, expected code or "valid").
    pub checks: Vec<(&'static str, u64, &'static str, &'static str)>,
    /// The witness policy in force at the end: (indices into [`WITNESSES`], threshold).
    pub witness_policy: Option<(Vec<usize>, u16)>,
}

fn scenario(name: &'static str, description: &'static str, chains: Chains) -> Scenario {
    Scenario {
        name,
        description,
        entries: chains.entries,
        steps: vec![],
        proposals: vec![],
        findings: vec![],
        verdicts: vec![],
        checks: vec![],
        witness_policy: None,
    }
}

/// The governance scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        below_threshold(),
        double_approval(),
        add_member(),
        stale_base(),
        remove_member(),
        admin_rule_then_removal(),
        rotation_scenario(),
        revocation(),
        same_tip(),
        witness_policy(),
    ]
}

fn witness_policy() -> Scenario {
    let mut chains = Chains::new();
    let first = chains.push(
        "donor-proposes-one-witness",
        DONOR,
        DONOR_SEED,
        proposal(
            Digest::ZERO,
            Change::SetWitnesses {
                witnesses: witness_entries(&[0]),
                threshold: 1,
            },
            "",
        ),
    );
    chains.push(
        "implementer-approves-one",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(first),
    );
    let second = chains.push(
        "auditor-proposes-two-witnesses",
        AUDITOR,
        AUDITOR_SEED,
        proposal(
            first,
            Change::SetWitnesses {
                witnesses: witness_entries(&[0, 1]),
                threshold: 2,
            },
            "",
        ),
    );
    chains.push(
        "observer-approves-two",
        OBSERVER,
        OBSERVER_SEED,
        approval(second),
    );
    chains.push("donor-approves-two", DONOR, DONOR_SEED, approval(second));
    let third = chains.push(
        "auditor-proposes-none",
        AUDITOR,
        AUDITOR_SEED,
        proposal(
            second,
            Change::SetWitnesses {
                witnesses: vec![],
                threshold: 0,
            },
            "",
        ),
    );
    chains.push(
        "observer-approves-none",
        OBSERVER,
        OBSERVER_SEED,
        approval(third),
    );
    Scenario {
        steps: vec![
            ("donor-proposes-one-witness", vec![DONOR, IMPLEMENTER]),
            ("auditor-proposes-two-witnesses", vec![DONOR, AUDITOR]),
        ],
        proposals: vec![
            (
                "donor-proposes-one-witness",
                State::Effective(1),
                vec![DONOR, IMPLEMENTER],
            ),
            (
                "auditor-proposes-two-witnesses",
                State::Effective(2),
                vec![DONOR, AUDITOR],
            ),
            ("auditor-proposes-none", State::Pending(1), vec![AUDITOR]),
        ],
        findings: vec!["observer-approves-two", "observer-approves-none"],
        witness_policy: Some((vec![0, 1], 2)),
        ..scenario(
            "set-witnesses",
            "The donor proposes the witness policy 1 of (w1), the implementer approves: effective. The auditor proposes 2 of (w1, w2) on it; the observer's approval does not count (not an admin, a finding), the donor's does: effective. The auditor's proposal to remove the policy (no witnesses, threshold 0) has only the observer's approval besides its own: pending, so the policy in force is 2 of (w1, w2).",
            chains,
        )
    }
}

fn below_threshold() -> Scenario {
    let mut chains = Chains::new();
    let add = chains.push(
        "donor-proposes-add",
        DONOR,
        DONOR_SEED,
        proposal(Digest::ZERO, add_newcomer(), ""),
    );
    chains.push("observer-approves", OBSERVER, OBSERVER_SEED, approval(add));
    chains.push(
        "observer-proposes",
        OBSERVER,
        OBSERVER_SEED,
        proposal(
            Digest::ZERO,
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Donor],
            },
            "",
        ),
    );
    Scenario {
        proposals: vec![
            ("donor-proposes-add", State::Pending(1), vec![DONOR]),
            ("observer-proposes", State::Refused, vec![]),
        ],
        findings: vec!["observer-approves"],
        checks: vec![
            (NEWCOMER, 0, "newcomer", "unknown-author"),
            (OBSERVER, 2, "observer", "valid"),
        ],
        ..scenario(
            "below-threshold-changes-nothing",
            "The donor proposes to add the newcomer; only the observer, not an admin, approves (a finding, no effect): 1 of 2, pending, nothing changes and the newcomer is unknown. The observer's own proposal is refused: it is not an admin.",
            chains,
        )
    }
}

fn double_approval() -> Scenario {
    let mut chains = Chains::new();
    let add = chains.push(
        "donor-proposes-add",
        DONOR,
        DONOR_SEED,
        proposal(Digest::ZERO, add_newcomer(), ""),
    );
    chains.push("donor-approves", DONOR, DONOR_SEED, approval(add));
    chains.push("donor-approves-again", DONOR, DONOR_SEED, approval(add));
    Scenario {
        proposals: vec![("donor-proposes-add", State::Pending(1), vec![DONOR])],
        findings: vec!["donor-approves", "donor-approves-again"],
        checks: vec![(NEWCOMER, 0, "newcomer", "unknown-author")],
        ..scenario(
            "double-approval-counts-once",
            "The donor proposes and then approves its own proposal twice: one admin counts once (the proposal already counts as the proposer's approval), so 1 of 2, pending; both approvals are findings.",
            chains,
        )
    }
}

fn add_member() -> Scenario {
    let mut chains = Chains::new();
    let add = chains.push(
        "donor-proposes-add",
        DONOR,
        DONOR_SEED,
        proposal(Digest::ZERO, add_newcomer(), ""),
    );
    chains.push(
        "implementer-approves",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(add),
    );
    chains.push(
        "implementer-approves-again",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(add),
    );
    chains.push(
        "newcomer-statement",
        NEWCOMER,
        NEWCOMER_SEED,
        statement("Our first record."),
    );
    Scenario {
        steps: vec![("donor-proposes-add", vec![DONOR, IMPLEMENTER])],
        proposals: vec![(
            "donor-proposes-add",
            State::Effective(1),
            vec![DONOR, IMPLEMENTER],
        )],
        findings: vec!["implementer-approves-again"],
        checks: vec![
            (NEWCOMER, 0, "newcomer", "valid"),
            (NEWCOMER, 5, "newcomer", "valid"),
            (NEWCOMER, 0, "outsider", "key-not-authors"),
        ],
        ..scenario(
            "add-member",
            "The donor proposes to add the newcomer, the implementer approves (twice: the second is a finding): 2 of 2, effective as step 1. The newcomer's record at seq 0 is valid.",
            chains,
        )
    }
}

fn stale_base() -> Scenario {
    let mut chains = Chains::new();
    let add = chains.push(
        "donor-proposes-add",
        DONOR,
        DONOR_SEED,
        proposal(Digest::ZERO, add_newcomer(), ""),
    );
    chains.push(
        "implementer-approves",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(add),
    );
    chains.push(
        "auditor-proposes-on-genesis",
        AUDITOR,
        AUDITOR_SEED,
        proposal(
            Digest::ZERO,
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Auditor],
            },
            "",
        ),
    );
    let unknown_base = chains.push(
        "auditor-proposes-on-unknown-base",
        AUDITOR,
        AUDITOR_SEED,
        proposal(
            Digest([0x77; 32]),
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Donor],
            },
            "",
        ),
    );
    chains.push(
        "donor-approves-unknown-base",
        DONOR,
        DONOR_SEED,
        approval(unknown_base),
    );
    chains.push(
        "implementer-proposes-node-keys",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        proposal(
            add,
            Change::SetNodeKeys {
                member: NEWCOMER.into(),
                node_keys: vec![public(NEW_NODE_SEED)],
            },
            "",
        ),
    );
    Scenario {
        steps: vec![("donor-proposes-add", vec![DONOR, IMPLEMENTER])],
        proposals: vec![
            (
                "donor-proposes-add",
                State::Effective(1),
                vec![DONOR, IMPLEMENTER],
            ),
            ("auditor-proposes-on-genesis", State::Stale, vec![AUDITOR]),
            (
                "auditor-proposes-on-unknown-base",
                State::Stale,
                vec![DONOR, AUDITOR],
            ),
            (
                "implementer-proposes-node-keys",
                State::Pending(1),
                vec![IMPLEMENTER],
            ),
        ],
        ..scenario(
            "stale-base",
            "The add-member proposal takes effect (step 1). The auditor's proposal on the genesis (base zero), made without approvals, is stale, not pending: its base is no longer the tip. Its proposal on a base that was never a tip (77…77) is stale although the donor approved it (2 of 2). The implementer's proposal on the new tip is pending.",
            chains,
        )
    }
}

fn remove_member() -> Scenario {
    let mut chains = Chains::new();
    for label in ["observer-0", "observer-1", "observer-2"] {
        chains.push(label, OBSERVER, OBSERVER_SEED, statement(label));
    }
    let remove = chains.push(
        "donor-proposes-removal",
        DONOR,
        DONOR_SEED,
        proposal(
            Digest::ZERO,
            Change::RemoveMember {
                member: OBSERVER.into(),
                from_seq: 2,
            },
            "",
        ),
    );
    chains.push("auditor-approves", AUDITOR, AUDITOR_SEED, approval(remove));
    let admin = chains.push(
        "implementer-proposes-removing-admin",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        proposal(
            remove,
            Change::RemoveMember {
                member: AUDITOR.into(),
                from_seq: 0,
            },
            "",
        ),
    );
    chains.push(
        "donor-approves-removing-admin",
        DONOR,
        DONOR_SEED,
        approval(admin),
    );
    Scenario {
        steps: vec![("donor-proposes-removal", vec![DONOR, AUDITOR])],
        proposals: vec![
            (
                "donor-proposes-removal",
                State::Effective(1),
                vec![DONOR, AUDITOR],
            ),
            (
                "implementer-proposes-removing-admin",
                State::Inapplicable,
                vec![DONOR, IMPLEMENTER],
            ),
        ],
        verdicts: vec![("observer-2", "member-removed")],
        checks: vec![
            (OBSERVER, 1, "observer", "valid"),
            (OBSERVER, 2, "observer", "member-removed"),
            (OBSERVER, 9, "observer", "member-removed"),
            (AUDITOR, 0, "auditor", "valid"),
        ],
        ..scenario(
            "remove-member",
            "The observer is removed from its seq 2 on (step 1): its records 0 and 1 stay valid, record 2 is member-removed (kept apart, the report stays valid). Removing the auditor, an admin, reaches 2 of 2 but is inapplicable: an admin cannot be removed before the admin rule drops it.",
            chains,
        )
    }
}

fn admin_rule_then_removal() -> Scenario {
    let mut chains = Chains::new();
    let rule = chains.push(
        "auditor-proposes-rule",
        AUDITOR,
        AUDITOR_SEED,
        proposal(
            Digest::ZERO,
            Change::SetAdminRule {
                rule: AdminRule {
                    admins: vec![DONOR.into(), IMPLEMENTER.into()],
                    threshold: 2,
                },
            },
            "",
        ),
    );
    chains.push(
        "implementer-approves-rule",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(rule),
    );
    let remove = chains.push(
        "donor-proposes-removal",
        DONOR,
        DONOR_SEED,
        proposal(
            rule,
            Change::RemoveMember {
                member: AUDITOR.into(),
                from_seq: 1,
            },
            "",
        ),
    );
    chains.push(
        "implementer-approves-removal",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(remove),
    );
    chains.push(
        "auditor-statement",
        AUDITOR,
        AUDITOR_SEED,
        statement("After removal."),
    );
    Scenario {
        steps: vec![
            ("auditor-proposes-rule", vec![AUDITOR, IMPLEMENTER]),
            ("donor-proposes-removal", vec![DONOR, IMPLEMENTER]),
        ],
        proposals: vec![
            (
                "auditor-proposes-rule",
                State::Effective(1),
                vec![AUDITOR, IMPLEMENTER],
            ),
            (
                "donor-proposes-removal",
                State::Effective(2),
                vec![DONOR, IMPLEMENTER],
            ),
        ],
        verdicts: vec![("auditor-statement", "member-removed")],
        checks: vec![
            (AUDITOR, 0, "auditor", "valid"),
            (AUDITOR, 1, "auditor", "member-removed"),
        ],
        ..scenario(
            "admin-rule-then-removal",
            "The auditor proposes the admin rule 2 of (donor, implementer) and the implementer approves (step 1); then the auditor, no longer an admin, is removed from its seq 1 on (step 2). Its proposal at seq 0 stays valid.",
            chains,
        )
    }
}

fn rotation_scenario() -> Scenario {
    let mut chains = Chains::new();
    chains.push("observer-0", OBSERVER, OBSERVER_SEED, statement("Old key."));
    chains.push(
        "observer-rotates",
        OBSERVER,
        OBSERVER_SEED,
        rotation(OBSERVER, ROTATED_SEED),
    );
    chains.push("observer-2", OBSERVER, ROTATED_SEED, statement("New key."));
    Scenario {
        checks: vec![
            (OBSERVER, 1, "observer", "valid"),
            (OBSERVER, 2, "observer", "key-rotated-out"),
            (OBSERVER, 1, "observer-rotated", "key-not-yet-valid"),
            (OBSERVER, 2, "observer-rotated", "valid"),
            (OBSERVER, 9, "observer-rotated", "valid"),
        ],
        ..scenario(
            "rotation",
            "The observer rotates at its seq 1 (signed by its genesis key): the new key signs from seq 2 on, the old key is rotated out from seq 2, and the new key is not yet valid at seq 1.",
            chains,
        )
    }
}

fn revocation() -> Scenario {
    let mut chains = Chains::new();
    chains.push(
        "implementer-0",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        statement("Ours."),
    );
    let before = chains.push(
        "implementer-1",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        statement("Ours too."),
    );
    let stolen = chains.push_at(
        "thief-2",
        IMPLEMENTER,
        2,
        before,
        IMPLEMENTER_SEED,
        statement("A false statement."),
    );
    chains.push_at(
        "thief-rotates-3",
        IMPLEMENTER,
        3,
        stolen,
        IMPLEMENTER_SEED,
        rotation(IMPLEMENTER, THIEF_SEED),
    );
    let revoke = chains.push(
        "donor-proposes-revocation",
        DONOR,
        DONOR_SEED,
        proposal(Digest::ZERO, revoke_implementer_key(2), ""),
    );
    chains.push("auditor-approves", AUDITOR, AUDITOR_SEED, approval(revoke));
    chains.push_at(
        "implementer-continues-2",
        IMPLEMENTER,
        2,
        before,
        REPLACEMENT_SEED,
        statement("Ours again, with the replacement key."),
    );
    Scenario {
        steps: vec![("donor-proposes-revocation", vec![DONOR, AUDITOR])],
        proposals: vec![(
            "donor-proposes-revocation",
            State::Effective(1),
            vec![DONOR, AUDITOR],
        )],
        findings: vec!["thief-rotates-3"],
        verdicts: vec![("thief-2", "key-revoked"), ("thief-rotates-3", "key-revoked")],
        checks: vec![
            (IMPLEMENTER, 1, "implementer", "valid"),
            (IMPLEMENTER, 2, "implementer", "key-revoked"),
            (IMPLEMENTER, 2, "implementer-replacement", "valid"),
            (IMPLEMENTER, 1, "implementer-replacement", "key-not-yet-valid"),
            (IMPLEMENTER, 4, "thief-rotated", "key-revoked"),
            (IMPLEMENTER, 3, "thief-rotated", "key-not-yet-valid"),
        ],
        ..scenario(
            "revocation-with-replacement",
            "A thief holding the implementer's key signs a false statement at seq 2 and rotates to its own key at seq 3. The admins revoke the key from seq 2 on with a replacement: the thief's records are key-revoked (kept apart, the report stays valid), its rotation has no effect (a finding) and the key it names is revoked by the same proposal from the position after the rotation (records the thief signs with it are key-revoked, not a stranger's), records 0 and 1 stay valid, and the implementer continues at seq 2 (after its record 1) with the replacement key.",
            chains,
        )
    }
}

fn same_tip() -> Scenario {
    let mut chains = Chains::new();
    let first = chains.push(
        "donor-proposes-roles",
        DONOR,
        DONOR_SEED,
        proposal(
            Digest::ZERO,
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Auditor],
            },
            "",
        ),
    );
    let second = chains.push(
        "auditor-proposes-roles",
        AUDITOR,
        AUDITOR_SEED,
        proposal(
            Digest::ZERO,
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Donor],
            },
            "",
        ),
    );
    chains.push(
        "implementer-approves-donor",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(first),
    );
    chains.push(
        "implementer-approves-auditor",
        IMPLEMENTER,
        IMPLEMENTER_SEED,
        approval(second),
    );
    // The rule: of the proposals on one tip that reach the threshold, the smallest record id
    // (as 32 bytes) takes effect; the other no longer builds on the tip.
    let (winner, winner_by, loser, loser_by) = if first < second {
        (
            "donor-proposes-roles",
            DONOR,
            "auditor-proposes-roles",
            AUDITOR,
        )
    } else {
        (
            "auditor-proposes-roles",
            AUDITOR,
            "donor-proposes-roles",
            DONOR,
        )
    };
    let by = |proposer: &'static str| {
        let mut admins = vec![proposer, IMPLEMENTER];
        admins.sort_unstable();
        admins
    };
    Scenario {
        steps: vec![(winner, by(winner_by))],
        proposals: vec![
            (winner, State::Effective(1), by(winner_by)),
            (loser, State::Stale, by(loser_by)),
        ],
        ..scenario(
            "same-tip-smallest-id-wins",
            "The donor and the auditor each propose a change on the genesis, and the implementer approves both: both reach 2 of 2 on the same tip. The one with the smaller record id takes effect; the other becomes stale.",
            chains,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn state_json(state: State) -> Value {
    match state {
        State::Effective(step) => json!({ "state": "effective", "step": step }),
        State::Pending(approvals) => {
            json!({ "state": "pending", "approvals": approvals, "threshold": 2 })
        }
        State::Stale => json!({ "state": "stale" }),
        State::Inapplicable => json!({ "state": "inapplicable" }),
        State::Refused => json!({ "state": "refused" }),
    }
}

fn scenario_json(scenario: &Scenario) -> Value {
    let entry = |label: &str| {
        scenario
            .entries
            .iter()
            .find(|entry| entry.label == label)
            .unwrap_or_else(|| panic!("{}: no record {label}", scenario.name))
    };
    let verdict = |label: &str| {
        scenario
            .verdicts
            .iter()
            .find(|(name, _)| *name == label)
            .map_or("valid", |(_, code)| code)
    };
    let records: Vec<Value> = scenario
        .entries
        .iter()
        .map(|entry| {
            json!({
                "label": entry.label,
                "author": entry.author,
                "seq": entry.seq,
                "kind": entry.body.kind().name(),
                "record_id": entry.id.to_hex(),
                "record_hex": hex(&entry.bytes),
                "expected_verdict": verdict(entry.label),
            })
        })
        .collect();
    let steps: Vec<Value> = scenario
        .steps
        .iter()
        .map(|(label, approved_by)| {
            let entry = entry(label);
            let Body::Proposal(proposal) = &entry.body else {
                panic!("{label} is not a proposal");
            };
            json!({
                "proposal": entry.id.to_hex(),
                "label": label,
                "change": proposal.change.name(),
                "approved_by": approved_by,
            })
        })
        .collect();
    let mut proposals: Vec<(RecordId, Value)> = scenario
        .proposals
        .iter()
        .map(|(label, state, approved_by)| {
            let entry = entry(label);
            let mut value = json!({
                "id": entry.id.to_hex(),
                "label": label,
                "proposer": entry.author,
                "approved_by": approved_by,
            });
            for (name, field) in state_json(*state).as_object().expect("an object") {
                value[name] = field.clone();
            }
            (entry.id, value)
        })
        .collect();
    proposals.sort_by_key(|(id, _)| *id);
    let mut findings: Vec<(RecordId, Value)> = scenario
        .findings
        .iter()
        .map(|label| {
            let entry = entry(label);
            (
                entry.id,
                json!({ "record": entry.id.to_hex(), "label": label, "author": entry.author, "seq": entry.seq }),
            )
        })
        .collect();
    findings.sort_by_key(|(id, _)| *id);
    let revoked: Vec<&str> = scenario
        .verdicts
        .iter()
        .filter(|(_, code)| matches!(*code, "key-revoked" | "member-removed"))
        .map(|(label, _)| *label)
        .collect();
    let mut value = json!({
        "name": scenario.name,
        "description": scenario.description,
        "records": records,
        "expected": {
            "steps": steps,
            "proposals": proposals.into_iter().map(|(_, value)| value).collect::<Vec<_>>(),
            "findings": findings.into_iter().map(|(_, value)| value).collect::<Vec<_>>(),
            "checks": scenario.checks.iter().map(|(author, seq, key, code)| json!({
                "author": author,
                "seq": seq,
                "key_name": key,
                "key": named_key(key).to_hex(),
                "expected": code,
            })).collect::<Vec<_>>(),
            "report": {
                "is_valid": scenario.verdicts.iter().all(|(label, _)| revoked.contains(label)),
                "revoked": revoked,
            },
        },
    });
    // Only scenarios with a policy carry the key, so the older scenarios read as they did.
    if let Some((indices, threshold)) = &scenario.witness_policy {
        value["expected"]["witness_policy"] = json!({
            "threshold": threshold,
            "witnesses": indices.iter().map(|index| witness_vkey(*index)).collect::<Vec<_>>(),
        });
    }
    value
}

fn grant_json(network_id: &Digest, member: &str, grant: &KeyGrant) -> Value {
    let message = possession_message(network_id, member, &grant.key);
    json!({
        "member": member,
        "key": grant.key.to_hex(),
        "possession_message_input_hex": hex(
            &[
                POSSESSION_DOMAIN.as_bytes(),
                &network_id.0,
                &grant.key.0,
                member.as_bytes(),
            ]
            .concat()
        ),
        "possession_message": message.to_hex(),
        "proof_of_possession": hex(&grant.proof_of_possession.0),
    })
}

fn valid_record_json(made: &Made) -> Value {
    let record = SignedRecord::parse(made.bytes.clone()).expect("a record this file signed");
    let header_size = made.bytes.len() - record.header.body_size_bytes as usize - 64;
    let grant = match &made.body {
        Body::KeyRotation(rotation) => Some((record.header.author.clone(), &rotation.new_key)),
        Body::Proposal(proposal) => proposal
            .change
            .key_grant()
            .map(|(member, grant)| (member.to_owned(), grant)),
        _ => None,
    };
    let mut value = json!({
        "name": made.name,
        "description": made.description,
        "record_hex": hex(&made.bytes),
        "header_hex": hex(&made.bytes[..header_size]),
        "body_hex": hex(record.body_bytes()),
        "signature_hex": hex(&record.signature.0),
        "record_id": made.id.to_hex(),
        "author": record.header.author,
        "seq": record.header.seq,
        "body": vector_set::body_json(&made.body),
    });
    if let Body::Proposal(proposal) = &made.body {
        value["change"] = json!(proposal.change.name());
    }
    if let Some((member, grant)) = grant {
        value["key_grant"] = grant_json(&record.header.network_id, &member, grant);
    }
    value
}

/// `governance.json`.
pub fn governance_file() -> Value {
    let genesis = governance_genesis();
    let keys: Vec<Value> = KEYS
        .iter()
        .map(|(name, member, seed)| {
            json!({
                "name": name,
                "member": member,
                "seed_hex": hex(seed),
                "public_key": public(*seed).to_hex(),
            })
        })
        .collect();
    let node_keys = [DONOR_NODE_SEED, IMPLEMENTER_NODE_SEED];
    json!({
        "description": "Governance (FORMAT.md, \"Governance\"). genesis: the test network of genesis.json with a fourth member, the observer (not an admin), and the admin rule 2 of (donor, auditor, implementer). valid: one record of each governance kind and each change, each valid alone against this genesis. invalid: records a verifier refuses, with the first reason. scenarios: records given together; derive the authority from the governance records among them (kinds 5-7), then judge every record under it: expected.steps (effective proposals in order), expected.proposals (every proposal by record id, its state), expected.findings (governance records without effect, by record id), each record's expected_verdict (valid or a code), expected.checks (author, seq, key) -> valid or a code, and expected.report (records in bundle order through the chain rules: whether the report is valid, which records are kept apart as revoked).",
        "genesis": genesis,
        "genesis_hex": hex(&genesis.encode()),
        "network_id": genesis.network_id().to_hex(),
        "node_key_seeds_hex": node_keys.iter().map(|seed| hex(seed)).collect::<Vec<_>>(),
        "possession_domain_hex": hex(POSSESSION_DOMAIN.as_bytes()),
        "keys": keys,
        "valid": valid_records().iter().map(valid_record_json).collect::<Vec<_>>(),
        "invalid": invalid_records().iter().map(|case| {
            let header = SignedRecord::parse(case.bytes.clone()).ok().map(|record| record.header);
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
        }).collect::<Vec<_>>(),
        "scenarios": scenarios().iter().map(scenario_json).collect::<Vec<_>>(),
    })
}
