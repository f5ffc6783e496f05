//! One-record proof packets (FORMAT.md §26) beyond the vectors: every record of the vector chain
//! at every size verifies; a key revoked before the record's position, or before the
//! checkpoint's size, is refused under the governance the packet carries; a wrong network, a
//! witness policy not met, a cut or a changed byte are refused; hostile bytes never panic.

#[allow(dead_code)]
#[path = "support/checkpoint_vectors.rs"]
mod checkpoint_vectors;
#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[allow(dead_code)]
#[path = "support/packet_vectors.rs"]
mod packet_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/vector_set.rs"]
mod vector_set;

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::cosignature::WitnessPolicy;
use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::merkle::{InclusionProof, MemoryTree};
use aidledger_spec::packet::{verify_packet, PacketError, ProofPacket, Witnessing};
use aidledger_spec::{Body, Digest, RecordId, Rejection};
use proptest::prelude::*;

use packet_vectors::{donor_chain, packet, witness_vkey, CHAIN_SIZE};
use vector_set::{draft, minute, sign, statement, Fixture, DONOR, IMPLEMENTER};

fn policy(threshold: usize) -> WitnessPolicy {
    WitnessPolicy::new((0..3).map(witness_vkey).collect(), threshold).unwrap()
}

#[test]
fn every_record_of_the_chain_verifies_at_every_size() {
    let fixture = Fixture::new();
    let chain = donor_chain(&fixture);
    let ids: Vec<RecordId> = chain.iter().map(|(id, _)| *id).collect();
    let tree = MemoryTree::of_record_ids(&ids);
    for size in 1..=CHAIN_SIZE {
        let note = Checkpoint::new(&fixture.network_id(), DONOR, size, tree.root(size).unwrap())
            .sign(&fixture.donor)
            .unwrap()
            .to_text();
        for seq in 0..size {
            let packet = ProofPacket {
                genesis: fixture.genesis.encode(),
                governance: Vec::new(),
                record: chain[seq as usize].1.clone(),
                inclusion: InclusionProof {
                    leaf_index: seq,
                    tree_size: size,
                    path: tree.inclusion_proof(seq, size).unwrap(),
                },
                checkpoint: note.clone(),
                order: None,
            };
            let verdict = verify_packet(&packet.to_packet_bytes(), &fixture.network_id(), None)
                .unwrap_or_else(|error| panic!("seq {seq} of {size}: {error}"));
            assert_eq!((verdict.seq, verdict.size), (seq, size));
            assert_eq!(verdict.record, ids[seq as usize]);
            assert_eq!(
                verdict.witnessing,
                Witnessing::NotChecked { signature_lines: 1 }
            );
        }
    }
}

#[test]
fn another_network_is_refused() {
    let fixture = Fixture::new();
    let bytes = packet(&fixture, 0, &[0, 1]).to_packet_bytes();
    let other = Digest([7; 32]);
    assert!(matches!(
        verify_packet(&bytes, &other, None),
        Err(PacketError::WrongNetwork { expected, .. }) if expected == other
    ));
}

#[test]
fn a_witness_policy_not_met_is_refused_and_one_met_names_its_witnesses() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let one = packet(&fixture, 0, &[0]).to_packet_bytes();
    assert!(matches!(
        verify_packet(&one, &network, Some(&policy(2))),
        Err(PacketError::NotWitnessed(_))
    ));
    let verdict = verify_packet(&one, &network, Some(&policy(1))).unwrap();
    let Witnessing::Met {
        cosigned,
        threshold,
    } = verdict.witnessing
    else {
        panic!("a policy was given");
    };
    assert_eq!((cosigned.len(), cosigned[0].witness, threshold), (1, 0, 1));
    // Without a policy the same packet is valid and says it was not checked.
    assert_eq!(
        verify_packet(&one, &network, None).unwrap().witnessing,
        Witnessing::NotChecked { signature_lines: 2 }
    );
}

#[test]
fn a_checkpoint_of_another_organisation_or_size_is_refused() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let good = packet(&fixture, 0, &[]);
    let mut other_org = good.clone();
    other_org.checkpoint = Checkpoint::new(&network, IMPLEMENTER, CHAIN_SIZE, Digest([1; 32]))
        .sign(&fixture.implementer)
        .unwrap()
        .to_text();
    assert!(matches!(
        verify_packet(&other_org.to_packet_bytes(), &network, None),
        Err(PacketError::Checkpoint(_))
    ));
    let mut other_size = good.clone();
    other_size.inclusion.tree_size = CHAIN_SIZE + 1;
    assert!(matches!(
        verify_packet(&other_size.to_packet_bytes(), &network, None),
        Err(PacketError::WrongSize { proof, checkpoint }) if proof == CHAIN_SIZE + 1 && checkpoint == CHAIN_SIZE
    ));
    let mut signed_by_another = good;
    signed_by_another.checkpoint = Checkpoint::new(&network, DONOR, CHAIN_SIZE, Digest([1; 32]))
        .sign(&fixture.outsider)
        .unwrap()
        .to_text();
    assert!(matches!(
        verify_packet(&signed_by_another.to_packet_bytes(), &network, None),
        Err(PacketError::Checkpoint(_))
    ));
}

/// The implementer's chain after the admins revoked its key from seq 1: seq 0 approves the
/// donor's revocation (signed before the revocation's position), seq 1 is a statement signed
/// with the revoked key. Returns the governance records and the implementer's two records.
/// A chain's records: id and wire bytes, in seq order.
type Chain = Vec<(RecordId, Vec<u8>)>;

fn revoked_implementer(fixture: &Fixture) -> (Vec<Vec<u8>>, Chain) {
    let donor = donor_chain(fixture);
    let (donor_head, _) = donor[donor.len() - 1];
    let proposal = Body::Proposal(Proposal {
        base: Digest::ZERO,
        change: Change::RevokeKey {
            member: IMPLEMENTER.into(),
            key: aidledger_spec::signature::public_key_of(&fixture.implementer),
            from_seq: 1,
            replacement: None,
        },
        note: "The implementer's key leaked.".into(),
    });
    let (proposal_id, proposal_bytes) = sign(
        &draft(fixture, DONOR, CHAIN_SIZE, donor_head, minute(10), proposal),
        &fixture.donor,
    );
    let approval = Body::Approval(Approval {
        proposal: proposal_id,
    });
    let (approval_id, approval_bytes) = sign(
        &draft(fixture, IMPLEMENTER, 0, Digest::ZERO, minute(11), approval),
        &fixture.implementer,
    );
    let (statement_id, statement_bytes) = sign(
        &draft(
            fixture,
            IMPLEMENTER,
            1,
            approval_id,
            minute(12),
            Body::Statement(statement()),
        ),
        &fixture.implementer,
    );
    (
        vec![proposal_bytes, approval_bytes.clone()],
        vec![
            (approval_id, approval_bytes),
            (statement_id, statement_bytes),
        ],
    )
}

fn implementer_packet(fixture: &Fixture, seq: u64, governance: Vec<Vec<u8>>) -> ProofPacket {
    let (_, chain) = revoked_implementer(fixture);
    let ids: Vec<RecordId> = chain.iter().map(|(id, _)| *id).collect();
    let tree = MemoryTree::of_record_ids(&ids);
    ProofPacket {
        genesis: fixture.genesis.encode(),
        governance,
        record: chain[seq as usize].1.clone(),
        inclusion: InclusionProof {
            leaf_index: seq,
            tree_size: 2,
            path: tree.inclusion_proof(seq, 2).unwrap(),
        },
        checkpoint: Checkpoint::new(&fixture.network_id(), IMPLEMENTER, 2, tree.root(2).unwrap())
            .sign(&fixture.implementer)
            .unwrap()
            .to_text(),
        order: None,
    }
}

#[test]
fn a_key_revoked_before_the_position_is_refused_under_the_governance_carried() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let (governance, _) = revoked_implementer(&fixture);
    // Without the governance records the packet cannot know of the revocation: valid, and
    // the verdict says it was judged under none.
    let blind = implementer_packet(&fixture, 1, Vec::new());
    assert_eq!(
        verify_packet(&blind.to_packet_bytes(), &network, None)
            .unwrap()
            .governance_records,
        0
    );
    let packet = implementer_packet(&fixture, 1, governance.clone());
    let error = verify_packet(&packet.to_packet_bytes(), &network, None).unwrap_err();
    assert!(
        matches!(
            error,
            PacketError::NotAuthorised(Rejection::KeyRevoked { from_seq: 1, .. })
        ),
        "{error}"
    );
    // Seq 0 was signed before the revocation, but the checkpoint at size 2 is signed by the
    // key revoked from seq 1: no key of the organisation could sign it.
    let packet = implementer_packet(&fixture, 0, governance);
    let error = verify_packet(&packet.to_packet_bytes(), &network, None).unwrap_err();
    assert!(matches!(error, PacketError::Checkpoint(_)), "{error}");
}

#[test]
fn a_governance_list_with_a_bad_or_ordinary_record_is_refused() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let (mut governance, _) = revoked_implementer(&fixture);
    *governance[1].last_mut().unwrap() ^= 1;
    let packet = implementer_packet(&fixture, 0, governance);
    assert!(matches!(
        verify_packet(&packet.to_packet_bytes(), &network, None),
        Err(PacketError::Governance {
            index: 1,
            reason: Rejection::BadSignature
        })
    ));
    let mut ordinary = packet.clone();
    ordinary.governance = vec![donor_chain(&fixture)[0].1.clone()];
    assert!(matches!(
        verify_packet(&ordinary.to_packet_bytes(), &network, None),
        Err(PacketError::NotGovernance { index: 0 })
    ));
}

#[test]
fn every_cut_and_every_changed_byte_is_refused() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let bytes = packet(&fixture, 2, &[0, 1]).to_packet_bytes();
    verify_packet(&bytes, &network, Some(&policy(2))).unwrap();
    for cut in 0..bytes.len() {
        assert!(
            verify_packet(&bytes[..cut], &network, None).is_err(),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        verify_packet(&longer, &network, None),
        Err(PacketError::Decode(_))
    ));
    // Every byte but those of the cosignatures' base64 (a witness line that fails refuses
    // only under a policy) and of free text whose change keeps it valid must be refused; with
    // the policy, every single changed byte is.
    for position in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[position] ^= 0x01;
        assert!(
            verify_packet(&changed, &network, Some(&policy(2))).is_err(),
            "byte {position} changed and still valid"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let fixture = Fixture::new();
        let mut input = b"AIDLPKT1".to_vec();
        input.extend_from_slice(&bytes);
        let _ = verify_packet(&input, &fixture.network_id(), None);
        let _ = verify_packet(&bytes, &fixture.network_id(), None);
    }

    #[test]
    fn a_changed_byte_of_a_valid_packet_never_panics(position in any::<prop::sample::Index>(), value in any::<u8>()) {
        let fixture = Fixture::new();
        let mut bytes = packet(&fixture, 1, &[0]).to_packet_bytes();
        let index = position.index(bytes.len());
        bytes[index] = value;
        let _ = verify_packet(&bytes, &fixture.network_id(), Some(&policy(1)));
    }
}
