//! Hostile and property tests of governance: governance bodies made of arbitrary bytes never
//! panic the verifier, and `governance::derive` never panics on arbitrary sets of well-formed
//! governance records, gives the same derivation whatever their order, and keeps its
//! invariants (steps build on each other, a key names one member).
//!
//! The scenarios with expected outcomes are data (`vectors/governance.json`, run by
//! `tests/vectors.rs`); this file looks for inputs nobody wrote down.

#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/vector_set.rs"]
mod vector_set;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use aidledger_spec::chain::ChainVerifier;
use aidledger_spec::governance::{
    self, Act, Approval, Change, Derivation, GovernanceRecord, KeyGrant, KeyRotation, Proposal,
    WitnessEntry,
};
use aidledger_spec::signature;
use aidledger_spec::{
    codec, AdminRule, Body, Digest, Genesis, Member, PublicKey, RecordDraft, Role, Verifier,
};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use governance_vectors::{governance_genesis, NEWCOMER, OBSERVER};
use vector_set::{AUDITOR, DONOR, IMPLEMENTER};

/// Authors the generated records name: the genesis members, a member proposals add, and an
/// organisation nobody knows.
const AUTHORS: [&str; 6] = [DONOR, AUDITOR, IMPLEMENTER, OBSERVER, NEWCOMER, "XI-NOBODY"];

/// Seeds of the keys the generated records use: the members' genesis keys and fresh ones.
const KEY_SEEDS: [u8; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];

struct Pool {
    genesis: Genesis,
    verifier: Verifier,
    keys: Vec<SigningKey>,
    publics: Vec<PublicKey>,
    /// Valid governance bodies of every kind and change, to mutate.
    bodies: Vec<Vec<u8>>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let genesis = governance_genesis();
        let keys: Vec<SigningKey> = KEY_SEEDS
            .iter()
            .map(|seed| SigningKey::from_bytes(&[*seed; 32]))
            .collect();
        Pool {
            verifier: Verifier::new(genesis.clone()),
            genesis,
            publics: keys.iter().map(signature::public_key_of).collect(),
            keys,
            bodies: governance_vectors::valid_records()
                .iter()
                .map(|made| codec::encode(&made.body))
                .collect(),
        }
    })
}

/// A record of the donor at `seq` whose header announces `body_kind` and carries `body` as
/// given, signed by the donor's key: it passes every check before the body's.
fn donor_record_with_body(seq: u64, body_kind: u16, body: &[u8]) -> Vec<u8> {
    let pool = pool();
    let draft = RecordDraft {
        network_id: pool.genesis.network_id(),
        author: DONOR.into(),
        seq,
        prev: if seq == 0 {
            Digest::ZERO
        } else {
            Digest([1; 32])
        },
        timestamp_ms: vector_set::CREATED_MS,
        body: Body::Approval(Approval {
            proposal: Digest::ZERO,
        }),
    };
    let mut header = vector_set::header_of(&draft, body, &pool.keys[0]);
    header.body_kind = body_kind;
    vector_set::assemble(&header, body, &pool.keys[0])
}

/// Body bytes that start like a governance body: a kind 5, 6 or 7 and arbitrary bytes, or a
/// valid governance body with bytes flipped, cut or added.
fn governance_body_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tail = proptest::collection::vec(any::<u8>(), 0..300);
    let flips = proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 0..4);
    prop_oneof![
        (5u32..=7, tail.clone())
            .prop_map(|(kind, tail)| [kind.to_le_bytes().as_slice(), &tail].concat()),
        (
            any::<prop::sample::Index>(),
            flips,
            proptest::option::of(any::<prop::sample::Index>()),
            tail
        )
            .prop_map(|(which, flips, cut, tail)| {
                let bodies = &pool().bodies;
                let mut body = bodies[which.index(bodies.len())].clone();
                for (at, mask) in flips {
                    let at = at.index(body.len());
                    body[at] ^= mask;
                }
                if let Some(cut) = cut {
                    body.truncate(cut.index(body.len() + 1));
                    body.extend_from_slice(&tail[..tail.len().min(8)]);
                }
                body
            }),
    ]
}

// ---------------------------------------------------------------------------------------------
// Arbitrary well-formed governance records

/// What one generated record says, by indexes into the pools.
#[derive(Clone, Debug)]
enum ActSpec {
    Propose {
        base: Option<usize>,
        change: ChangeSpec,
    },
    Approve {
        proposal: usize,
    },
    Rotate {
        key: usize,
    },
}

#[derive(Clone, Debug)]
enum ChangeSpec {
    Add {
        member: usize,
        keys: BTreeSet<usize>,
    },
    Remove {
        member: usize,
        from_seq: u64,
    },
    Roles {
        member: usize,
        roles: BTreeSet<u8>,
    },
    NodeKeys {
        member: usize,
        keys: BTreeSet<usize>,
    },
    Revoke {
        member: usize,
        key: usize,
        from_seq: u64,
        replacement: Option<usize>,
    },
    AdminRule {
        admins: BTreeSet<usize>,
        threshold: u16,
    },
    Witnesses {
        witnesses: BTreeSet<usize>,
        threshold: u16,
    },
}

fn seq() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..6,
        1 => Just(u64::MAX - 1),
        1 => Just(u64::MAX),
    ]
}

fn change_spec() -> impl Strategy<Value = ChangeSpec> {
    let member = 0..AUTHORS.len();
    let key = 0..KEY_SEEDS.len();
    let keys = proptest::collection::btree_set(key.clone(), 1..3);
    prop_oneof![
        (member.clone(), keys.clone()).prop_map(|(member, keys)| ChangeSpec::Add { member, keys }),
        (member.clone(), seq())
            .prop_map(|(member, from_seq)| ChangeSpec::Remove { member, from_seq }),
        (
            member.clone(),
            proptest::collection::btree_set(0u8..5, 0..3)
        )
            .prop_map(|(member, roles)| ChangeSpec::Roles { member, roles }),
        (member.clone(), keys).prop_map(|(member, keys)| ChangeSpec::NodeKeys { member, keys }),
        (
            member.clone(),
            key.clone(),
            seq(),
            proptest::option::of(key)
        )
            .prop_map(|(member, key, from_seq, replacement)| ChangeSpec::Revoke {
                member,
                key,
                from_seq,
                replacement
            }),
        (proptest::collection::btree_set(member, 1..4), 0u16..4)
            .prop_map(|(admins, threshold)| ChangeSpec::AdminRule { admins, threshold }),
        (
            proptest::collection::btree_set(0..KEY_SEEDS.len(), 0..3),
            0u16..4
        )
            .prop_map(|(witnesses, threshold)| ChangeSpec::Witnesses {
                witnesses,
                threshold
            }),
    ]
}

fn act_spec() -> impl Strategy<Value = ActSpec> {
    prop_oneof![
        3 => (proptest::option::of(0usize..16), change_spec())
            .prop_map(|(base, change)| ActSpec::Propose { base, change }),
        6 => (0usize..16).prop_map(|proposal| ActSpec::Approve { proposal }),
        1 => (0..KEY_SEEDS.len()).prop_map(|key| ActSpec::Rotate { key }),
    ]
}

/// (author, seq, signing key, act), by indexes.
type RecordSpec = (usize, u64, usize, ActSpec);

/// The index in [`KEY_SEEDS`] of each author's genesis key (the newcomer's is the one the
/// generated add-member proposals usually grant; the unknown organisation gets the outsider's).
const OWN_KEY: [usize; 6] = [0, 2, 1, 3, 4, 8];

fn record_specs() -> impl Strategy<Value = Vec<RecordSpec>> {
    // Mostly the author's own key, so that proposals and approvals count often enough for
    // proposals to take effect; sometimes any key.
    let key = prop_oneof![3 => Just(None), 1 => (0..KEY_SEEDS.len()).prop_map(Some)];
    // Mostly admins, so that approvals count.
    let author = prop_oneof![4 => 0..3usize, 1 => 3..AUTHORS.len()];
    proptest::collection::vec((author, seq(), key, act_spec()), 0..16).prop_map(|specs| {
        specs
            .into_iter()
            .map(|(author, seq, key, act)| (author, seq, key.unwrap_or(OWN_KEY[author]), act))
            .collect()
    })
}

fn role(index: u8) -> Role {
    [
        Role::Donor,
        Role::Implementer,
        Role::RecipientGovernment,
        Role::Auditor,
        Role::Observer,
    ][usize::from(index) % 5]
}

/// A key grant with a real proof of possession, as the record rules demand.
fn grant(member: &str, key: usize) -> KeyGrant {
    let pool = pool();
    KeyGrant::prove(&pool.genesis.network_id(), member, &pool.keys[key])
}

fn change(spec: &ChangeSpec) -> Change {
    let publics = &pool().publics;
    match spec {
        ChangeSpec::Add { member, keys } => Change::AddMember {
            member: Member {
                id: AUTHORS[*member].into(),
                name: "Generated".into(),
                roles: vec![],
                signing_keys: keys.iter().map(|key| publics[*key]).collect(),
                node_keys: vec![],
            },
        },
        ChangeSpec::Remove { member, from_seq } => Change::RemoveMember {
            member: AUTHORS[*member].into(),
            from_seq: *from_seq,
        },
        ChangeSpec::Roles { member, roles } => Change::SetRoles {
            member: AUTHORS[*member].into(),
            roles: roles.iter().map(|index| role(*index)).collect(),
        },
        ChangeSpec::NodeKeys { member, keys } => Change::SetNodeKeys {
            member: AUTHORS[*member].into(),
            node_keys: keys.iter().map(|key| publics[*key]).collect(),
        },
        ChangeSpec::Revoke {
            member,
            key,
            from_seq,
            replacement,
        } => Change::RevokeKey {
            member: AUTHORS[*member].into(),
            key: publics[*key],
            from_seq: *from_seq,
            replacement: replacement.map(|replacement| grant(AUTHORS[*member], replacement)),
        },
        ChangeSpec::AdminRule { admins, threshold } => {
            let mut admins: Vec<String> =
                admins.iter().map(|index| AUTHORS[*index].into()).collect();
            admins.sort();
            admin_rule_change(admins, *threshold)
        }
        ChangeSpec::Witnesses {
            witnesses,
            threshold,
        } => witnesses_change(witnesses, *threshold),
    }
}

/// A set-witnesses change naming the pool's keys as witnesses `w<index>` (names ascend with
/// the indexes); the record rules want a threshold of 1 to n (0 with none), so it is brought
/// into that range.
fn witnesses_change(witnesses: &BTreeSet<usize>, threshold: u16) -> Change {
    let publics = &pool().publics;
    let count = u16::try_from(witnesses.len()).unwrap_or(u16::MAX);
    Change::SetWitnesses {
        witnesses: witnesses
            .iter()
            .map(|index| WitnessEntry {
                name: format!("witness.example.org/w{index}"),
                key: publics[*index],
            })
            .collect(),
        threshold: threshold.clamp(count.min(1), count),
    }
}

/// A set-admin-rule change; the record rules refuse a threshold outside 1 to the number of
/// admins, so the threshold is brought into that range.
fn admin_rule_change(admins: Vec<String>, threshold: u16) -> Change {
    let threshold = threshold.clamp(1, u16::try_from(admins.len()).unwrap_or(1));
    Change::SetAdminRule {
        rule: AdminRule { admins, threshold },
    }
}

/// Governance records from specs: record `i` has the id 00…0i+1, so proposals and approvals
/// can name each other (and sometimes records that are not proposals).
fn records(specs: &[RecordSpec]) -> Vec<GovernanceRecord> {
    let id = |index: usize| {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&(index as u64 + 1).to_be_bytes());
        Digest(bytes)
    };
    let publics = &pool().publics;
    // Bases and approvals name the n-th proposal (or, when there is none, any record), so that
    // proposals build on each other and collect approvals often.
    let proposals: Vec<usize> = specs
        .iter()
        .enumerate()
        .filter(|(_, spec)| matches!(spec.3, ActSpec::Propose { .. }))
        .map(|(index, _)| index)
        .collect();
    let named = |n: usize| match proposals.len() {
        0 => id(n % specs.len()),
        count => id(proposals[n % count]),
    };
    specs
        .iter()
        .enumerate()
        .map(|(index, (author, seq, key, act))| {
            let act = match act {
                ActSpec::Propose { base, change: spec } => Act::Propose(Proposal {
                    // Half the named bases are the proposal generated just before this one,
                    // so that sequences of several steps arise.
                    base: match base {
                        None => Digest::ZERO,
                        Some(n) if n % 2 == 0 => proposals
                            .iter()
                            .rev()
                            .find(|earlier| **earlier < index)
                            .map_or(Digest::ZERO, |earlier| id(*earlier)),
                        Some(n) => named(*n),
                    },
                    change: change(spec),
                    note: String::new(),
                }),
                ActSpec::Approve { proposal } => Act::Approve(Approval {
                    proposal: named(*proposal),
                }),
                ActSpec::Rotate { key } => Act::Rotate(KeyRotation {
                    new_key: grant(AUTHORS[*author], *key),
                }),
            };
            GovernanceRecord {
                id: id(index),
                author: AUTHORS[*author].into(),
                seq: *seq,
                signing_key: publics[*key],
                act,
            }
        })
        .collect()
}

/// The invariants every derivation keeps, whatever its input.
fn check_invariants(
    records: &[GovernanceRecord],
    derivation: &Derivation,
) -> Result<(), TestCaseError> {
    let authority = &derivation.authority;
    // Steps build on each other from the genesis, and each is a proposal of the input.
    let mut base = Digest::ZERO;
    for step in authority.steps() {
        let proposal = records
            .iter()
            .find_map(|record| match &record.act {
                Act::Propose(proposal) if record.id == step.proposal => Some(proposal),
                _ => None,
            })
            .ok_or_else(|| TestCaseError::fail("a step that is no proposal"))?;
        prop_assert_eq!(proposal.base, base);
        prop_assert!(!step.approved_by.is_empty());
        base = step.proposal;
    }
    prop_assert_eq!(authority.tip(), base);
    // A key names one member, and appears once among that member's keys.
    for member in authority.members() {
        let mut seen = BTreeSet::new();
        for span in &member.keys {
            prop_assert!(
                seen.insert(span.key),
                "{} lists {} twice",
                member.id,
                span.key
            );
            prop_assert_eq!(authority.key_owner(&span.key), Some(member.id.as_str()));
            if let Some(end) = span.end {
                // An end is never before the start, or the key would look "not yet valid"
                // where it was in fact ended.
                prop_assert!(
                    end.from_seq >= span.from_seq
                        || end.reason == governance::KeyEndReason::Revoked,
                    "{}: key {} from {} ends at {}",
                    member.id,
                    span.key,
                    span.from_seq,
                    end.from_seq
                );
            }
        }
    }
    // Every admin is a current member; the threshold is reachable.
    let rule = authority.admin_rule();
    prop_assert!(rule.threshold >= 1 && usize::from(rule.threshold) <= rule.admins.len());
    for admin in &rule.admins {
        prop_assert!(
            authority.is_admin(admin),
            "{} is not a current member",
            admin
        );
    }
    // Every proposal has one status.
    let proposals = records
        .iter()
        .filter(|record| matches!(record.act, Act::Propose(_)))
        .map(|record| record.id)
        .collect::<BTreeSet<_>>();
    prop_assert_eq!(
        derivation
            .proposals
            .iter()
            .map(|status| status.id)
            .collect::<BTreeSet<_>>(),
        proposals
    );
    // The authority rules answer for any position and key without panicking.
    for author in AUTHORS {
        for seq in [0, 1, 5, u64::MAX - 1, u64::MAX] {
            for key in &pool().publics {
                let _ = authority.check(author, seq, key);
            }
        }
    }
    Ok(())
}

fn summary(derivation: &Derivation) -> serde_json::Value {
    serde_json::to_value(derivation).expect("a derivation serialises")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn derive_never_panics_and_ignores_record_order(
        specs in record_specs(),
        rotate_by in any::<prop::sample::Index>(),
    ) {
        let pool = pool();
        let records = records(&specs);
        let derivation = governance::derive(&pool.genesis, &records);
        check_invariants(&records, &derivation)?;
        let reference = summary(&derivation);
        let mut reversed = records.clone();
        reversed.reverse();
        let mut rotated = records.clone();
        if !rotated.is_empty() {
            let by = rotate_by.index(rotated.len());
            rotated.rotate_left(by);
        }
        let doubled: Vec<GovernanceRecord> = records.iter().chain(&records).cloned().collect();
        for other in [reversed, rotated, doubled] {
            let again = governance::derive(&pool.genesis, &other);
            prop_assert_eq!(&again.authority, &derivation.authority);
            prop_assert_eq!(summary(&again), reference.clone());
        }
        // A verifier under the derived authority works.
        let _ = Verifier::with_authority(pool.genesis.clone(), derivation.authority);
    }
}

proptest! {
    // Each case signs and verifies a record (a few ms in a debug build).
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn governance_bodies_of_arbitrary_bytes_never_panic_the_verifier(
        body in governance_body_bytes(),
        kind in 5u16..=7,
        seq in seq(),
    ) {
        let pool = pool();
        let bytes = donor_record_with_body(seq, kind, &body);
        let single = pool.verifier.verify(bytes.clone());
        let batch = pool.verifier.verify_batch(vec![bytes.clone()]).remove(0);
        prop_assert_eq!(
            single.as_ref().map(|record| record.id()).map_err(|rejected| rejected.reason.clone()),
            batch.as_ref().map(|record| record.id()).map_err(|rejected| rejected.reason.clone())
        );
        if let Ok(record) = pool.verifier.verify_record_rules(bytes) {
            // What passed the record rules feeds the derivation, alone and with the chain rules.
            let governance: Vec<GovernanceRecord> =
                GovernanceRecord::from_verified(&record).into_iter().collect();
            let derivation = governance::derive(&pool.genesis, &governance);
            check_invariants(&governance, &derivation)?;
            let mut chains = ChainVerifier::new(&pool.genesis);
            let verifier = Verifier::with_authority(pool.genesis.clone(), derivation.authority.clone());
            chains.add(verifier.check_authority(record));
            let _ = chains.finish_with_governance(derivation);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Edge cases found by reading the rules

/// A rotation at the last position a chain can have: no position follows it, so it cannot
/// take effect (and must not wrap around to position 0, which would end the old key from the
/// start of the chain and let the new key sign the whole chain again).
#[test]
fn rotation_at_the_last_position_has_no_effect() {
    let pool = pool();
    let observer_key = pool.publics[3];
    let rotation = GovernanceRecord {
        id: Digest([1; 32]),
        author: OBSERVER.into(),
        seq: u64::MAX,
        signing_key: observer_key,
        act: Act::Rotate(KeyRotation {
            new_key: grant(OBSERVER, 5),
        }),
    };
    let derivation = governance::derive(&pool.genesis, &[rotation]);
    let authority = &derivation.authority;
    assert_eq!(authority.check(OBSERVER, 0, &observer_key), Ok(()));
    assert_eq!(authority.check(OBSERVER, u64::MAX, &observer_key), Ok(()));
    assert!(authority.check(OBSERVER, 0, &pool.publics[5]).is_err());
    assert_eq!(derivation.findings.len(), 1, "{:?}", derivation.findings);
}

/// An equivocation proof one of whose records was signed with a revoked key proves nothing
/// about valid records: it is refused as invalid-proof, naming the revocation.
#[test]
fn proof_with_a_revoked_record_is_refused() {
    let pool = pool();
    let scenario = governance_vectors::scenarios()
        .into_iter()
        .find(|scenario| scenario.name == "revocation-with-replacement")
        .expect("the scenario");
    let governance: Vec<GovernanceRecord> = scenario
        .entries
        .iter()
        .filter_map(|entry| {
            let record = pool
                .verifier
                .verify_record_rules(entry.bytes.clone())
                .ok()?;
            GovernanceRecord::from_verified(&record)
        })
        .collect();
    let derivation = governance::derive(&pool.genesis, &governance);
    let verifier = Verifier::with_authority(pool.genesis.clone(), derivation.authority);
    let thief = scenario
        .entries
        .iter()
        .find(|entry| entry.label == "thief-2")
        .expect("thief");
    let ours = scenario
        .entries
        .iter()
        .find(|entry| entry.label == "implementer-continues-2")
        .expect("ours");
    let error = verifier
        .verify_equivocation(thief.bytes.clone(), ours.bytes.clone())
        .expect_err("a revoked record proves no fork");
    assert_eq!(error.code(), "invalid-proof");
    assert!(error.to_string().contains("revocation"), "{error}");
}

/// A governance record made directly (no signature: `derive` reads records that passed the
/// record rules), with the id 00…0n.
fn record(n: u8, author: &str, seq: u64, key: usize, act: Act) -> GovernanceRecord {
    let mut id = [0u8; 32];
    id[31] = n;
    GovernanceRecord {
        id: Digest(id),
        author: author.into(),
        seq,
        signing_key: pool().publics[key],
        act,
    }
}

fn propose(base: Digest, change: Change) -> Act {
    Act::Propose(Proposal {
        base,
        change,
        note: String::new(),
    })
}

fn approve(proposal: &GovernanceRecord) -> Act {
    Act::Approve(Approval {
        proposal: proposal.id,
    })
}

/// Key indexes into the pool: donor 0, implementer 1, auditor 2, observer 3, then fresh keys.
const DONOR_KEY: usize = 0;
const IMPLEMENTER_KEY: usize = 1;
const AUDITOR_KEY: usize = 2;
const OBSERVER_KEY: usize = 3;

fn revoke(member: &str, key: usize, from_seq: u64, replacement: Option<usize>) -> Change {
    Change::RevokeKey {
        member: member.into(),
        key: pool().publics[key],
        from_seq,
        replacement: replacement.map(|replacement| grant(member, replacement)),
    }
}

#[test]
fn approval_by_a_revoked_admin_key_after_the_revocation_point_does_not_count() {
    let revocation = record(
        1,
        DONOR,
        0,
        DONOR_KEY,
        propose(
            Digest::ZERO,
            revoke(IMPLEMENTER, IMPLEMENTER_KEY, 3, Some(6)),
        ),
    );
    let approval = record(2, AUDITOR, 0, AUDITOR_KEY, approve(&revocation));
    let next = record(
        3,
        DONOR,
        1,
        DONOR_KEY,
        propose(
            revocation.id,
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Auditor],
            },
        ),
    );
    // The thief, holding the implementer's revoked key, approves at seq 5.
    let thief = record(4, IMPLEMENTER, 5, IMPLEMENTER_KEY, approve(&next));
    // The implementer, with its replacement key, may approve from seq 3 on.
    let derivation = governance::derive(
        &pool().genesis,
        &[
            revocation.clone(),
            approval.clone(),
            next.clone(),
            thief.clone(),
        ],
    );
    assert_eq!(derivation.authority.steps().len(), 1);
    let status = derivation
        .proposals
        .iter()
        .find(|status| status.id == next.id)
        .expect("status");
    assert_eq!(status.approved_by, vec![DONOR.to_owned()]);
    assert!(derivation
        .findings
        .iter()
        .any(|finding| finding.record == thief.id));
    let replaced = record(5, IMPLEMENTER, 3, 6, approve(&next));
    let records = [revocation, approval, next, thief, replaced];
    let derivation = governance::derive(&pool().genesis, &records);
    assert_eq!(
        derivation.authority.steps().len(),
        2,
        "the replacement key's approval counts"
    );
}

#[test]
fn a_key_is_revoked_once_and_a_rotated_to_key_can_be_revoked() {
    // The thief rotates the observer's key at seq 2 to a key of its own (index 7), before
    // anyone notices; the admins then revoke both the stolen key and the thief's key from 2.
    let rotation = record(
        1,
        OBSERVER,
        2,
        OBSERVER_KEY,
        Act::Rotate(KeyRotation {
            new_key: grant(OBSERVER, 7),
        }),
    );
    let first = record(
        2,
        DONOR,
        0,
        DONOR_KEY,
        propose(Digest::ZERO, revoke(OBSERVER, OBSERVER_KEY, 2, None)),
    );
    let first_approval = record(3, AUDITOR, 0, AUDITOR_KEY, approve(&first));
    let again = record(
        4,
        DONOR,
        1,
        DONOR_KEY,
        propose(first.id, revoke(OBSERVER, OBSERVER_KEY, 1, None)),
    );
    let again_approval = record(5, AUDITOR, 1, AUDITOR_KEY, approve(&again));
    let records = vec![
        rotation.clone(),
        first.clone(),
        first_approval,
        again.clone(),
        again_approval,
    ];
    let derivation = governance::derive(&pool().genesis, &records);
    // Revoked from 2, the rotation at 2 has no effect: the thief's key never signs.
    let authority = &derivation.authority;
    assert_eq!(authority.steps().len(), 1);
    assert!(authority.check(OBSERVER, 3, &pool().publics[7]).is_err());
    assert_eq!(
        authority.check(OBSERVER, 1, &pool().publics[OBSERVER_KEY]),
        Ok(())
    );
    assert_eq!(
        authority
            .check(OBSERVER, 2, &pool().publics[OBSERVER_KEY])
            .err()
            .map(|reason| reason.code()),
        Some("key-revoked")
    );
    let status = derivation
        .proposals
        .iter()
        .find(|status| status.id == again.id)
        .expect("status");
    assert!(
        matches!(status.state, governance::ProposalState::Inapplicable { .. }),
        "{:?}",
        status.state
    );
    assert!(derivation
        .findings
        .iter()
        .any(|finding| finding.record == rotation.id));

    // Revoked only from 3, the rotation at 2 took effect first; the thief's key can then be
    // revoked in its own right.
    let late = record(
        2,
        DONOR,
        0,
        DONOR_KEY,
        propose(Digest::ZERO, revoke(OBSERVER, OBSERVER_KEY, 3, None)),
    );
    let late_approval = record(3, AUDITOR, 0, AUDITOR_KEY, approve(&late));
    let thief_key = record(
        4,
        DONOR,
        1,
        DONOR_KEY,
        propose(late.id, revoke(OBSERVER, 7, 3, Some(8))),
    );
    let thief_key_approval = record(5, AUDITOR, 1, AUDITOR_KEY, approve(&thief_key));
    let derivation = governance::derive(
        &pool().genesis,
        &[rotation, late, late_approval, thief_key, thief_key_approval],
    );
    let authority = &derivation.authority;
    assert_eq!(authority.steps().len(), 2);
    assert_eq!(
        authority
            .check(OBSERVER, 3, &pool().publics[7])
            .err()
            .map(|reason| reason.code()),
        Some("key-revoked")
    );
    assert_eq!(authority.check(OBSERVER, 3, &pool().publics[8]), Ok(()));
    // Rotated out and revoked from the same position: the revocation is what is reported.
    assert_eq!(
        authority
            .check(OBSERVER, 3, &pool().publics[OBSERVER_KEY])
            .err()
            .map(|reason| reason.code()),
        Some("key-revoked")
    );
}

/// Why a verifier derives from every governance record that passes the record rules, revoked
/// ones included (FORMAT.md 13.1): a thief's approval, signed before anyone knew the key was
/// stolen, made a step effective; the revocation that followed builds on that step. Leaving
/// the revoked approval out would make the step pending, the revocation stale, and the stolen
/// key valid again.
#[test]
fn revoked_approvals_still_count_for_the_steps_they_made() {
    let roles = record(
        1,
        DONOR,
        0,
        DONOR_KEY,
        propose(
            Digest::ZERO,
            Change::SetRoles {
                member: OBSERVER.into(),
                roles: vec![Role::Auditor],
            },
        ),
    );
    let thief = record(2, IMPLEMENTER, 5, IMPLEMENTER_KEY, approve(&roles));
    let revocation = record(
        3,
        DONOR,
        1,
        DONOR_KEY,
        propose(roles.id, revoke(IMPLEMENTER, IMPLEMENTER_KEY, 5, Some(6))),
    );
    let approval = record(4, AUDITOR, 0, AUDITOR_KEY, approve(&revocation));
    let all = [
        roles.clone(),
        thief.clone(),
        revocation.clone(),
        approval.clone(),
    ];
    let derivation = governance::derive(&pool().genesis, &all);
    let steps: Vec<Digest> = derivation
        .authority
        .steps()
        .iter()
        .map(|step| step.proposal)
        .collect();
    assert_eq!(steps, [roles.id, revocation.id]);
    assert_eq!(
        derivation
            .authority
            .check(IMPLEMENTER, 5, &pool().publics[IMPLEMENTER_KEY])
            .err()
            .map(|reason| reason.code()),
        Some("key-revoked"),
        "the approval is revoked in the end"
    );
    let without_revoked = governance::derive(&pool().genesis, &[roles, revocation, approval]);
    assert!(without_revoked.authority.steps().is_empty());
    assert_eq!(
        without_revoked
            .authority
            .check(IMPLEMENTER, 5, &pool().publics[IMPLEMENTER_KEY]),
        Ok(()),
        "without the revoked approval the revocation never takes effect"
    );
}

#[test]
fn witness_policy_is_set_replaced_and_removed_with_the_admin_threshold() {
    let witnesses: BTreeSet<usize> = [5, 6].into_iter().collect();
    let set = record(
        1,
        DONOR,
        0,
        DONOR_KEY,
        propose(Digest::ZERO, witnesses_change(&witnesses, 2)),
    );
    // Below the threshold (the proposer alone): no policy.
    let derivation = governance::derive(&pool().genesis, std::slice::from_ref(&set));
    assert_eq!(derivation.authority.witness_policy(), None);
    let approval = record(2, AUDITOR, 0, AUDITOR_KEY, approve(&set));
    let derivation = governance::derive(&pool().genesis, &[set.clone(), approval.clone()]);
    let policy = derivation
        .authority
        .witness_policy()
        .expect("a policy took effect");
    assert_eq!(policy.threshold(), 2);
    let names: Vec<&str> = policy.witnesses().iter().map(|key| key.name()).collect();
    assert_eq!(names, ["witness.example.org/w5", "witness.example.org/w6"]);
    assert!(policy
        .witnesses()
        .iter()
        .all(|key| key.key_type() == aidledger_spec::note::KeyType::Cosignature));

    // An empty list with threshold 0 removes the policy.
    let clear = record(
        3,
        DONOR,
        1,
        DONOR_KEY,
        propose(set.id, witnesses_change(&BTreeSet::new(), 0)),
    );
    let cleared = record(4, IMPLEMENTER, 0, IMPLEMENTER_KEY, approve(&clear));
    let derivation = governance::derive(&pool().genesis, &[set, approval, clear, cleared]);
    assert_eq!(derivation.authority.steps().len(), 2);
    assert_eq!(derivation.authority.witness_policy(), None);
}

#[test]
fn a_witness_list_that_makes_no_policy_never_applies() {
    // `derive` reads records that passed the record rules; given one that did not (a
    // threshold over the list), the change is inapplicable and no policy is set.
    let bad = record(
        1,
        DONOR,
        0,
        DONOR_KEY,
        propose(
            Digest::ZERO,
            Change::SetWitnesses {
                witnesses: vec![WitnessEntry {
                    name: "witness.example.org/w5".into(),
                    key: pool().publics[5],
                }],
                threshold: 2,
            },
        ),
    );
    let approval = record(2, AUDITOR, 0, AUDITOR_KEY, approve(&bad));
    let derivation = governance::derive(&pool().genesis, &[bad.clone(), approval]);
    assert!(derivation.authority.steps().is_empty());
    assert_eq!(derivation.authority.witness_policy(), None);
    let status = derivation
        .proposals
        .iter()
        .find(|status| status.id == bad.id)
        .expect("status");
    assert!(
        matches!(status.state, governance::ProposalState::Inapplicable { .. }),
        "{:?}",
        status.state
    );
}
