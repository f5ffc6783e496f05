//! A proof packet of a record its author redacted (FORMAT.md §26.3, §27), from a real node: the
//! author submits a statement and then its order that the statement be forgotten; once the node
//! has applied the order, `/api/proof/{id}` names the order, the packet assembled from the
//! node's answers (as `aidledger proof` does) is version 2 with the order, and `verify_packet`
//! finds it valid and redacted by the author, for the reason the order gives. A record left
//! whole still makes a version 1 packet that says nothing of redaction. A record the admins
//! redacted (a real sled store, `Store::redact` with the mark of an effective `redact`
//! proposal) makes a version 1 packet whose governance records carry the order.

use std::time::Duration;

use aidledger_cli::packet::{fetch_packet, genesis_and_governance};
use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::governance::{Approval, Change, Proposal};
use aidledger_spec::merkle::InclusionProof;
use aidledger_spec::packet::{verify_packet, ProofPacket, MAGIC};
use aidledger_spec::redaction::{OrderedBy, RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::withheld::is_withheld;
use aidledger_spec::{Body, Digest};
use aidledger_store::RedactionMark;
use serde_json::Value;

use super::common::*;

#[test]
fn a_packet_of_a_record_its_author_redacted_verifies_and_says_who_and_why() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let (redacted, seq) = node.submit(&statement("Partner Zarghuna Qasimiwal"));
    let (whole, _) = node.submit(&statement("Wells in three villages"));
    let (order, order_seq) = node.submit(&Body::Redaction(Redaction {
        records: vec![RedactedRecord { seq, id: redacted }],
        category: RedactionCategory::SafetyOfPersons,
        note: "Names a partner at risk.".into(),
    }));
    let raw = |id: &aidledger_spec::RecordId| {
        node.public_get(&format!("/api/records/{}/raw", id.to_hex()))
            .bytes()
            .unwrap()
            .to_vec()
    };
    wait_until(
        Duration::from_secs(60),
        "the node applies the order",
        || is_withheld(&raw(&redacted)),
    );

    // The proof route names the order that covers the record; a whole record has none.
    let proof: Value = node
        .public_get(&format!("/api/proof/{}", redacted.to_hex()))
        .json()
        .unwrap();
    assert_eq!(proof["redaction"]["order"], order.to_hex(), "{proof}");
    assert_eq!(proof["redaction"]["by"], "author");
    assert_eq!(proof["redaction"]["category"], "safety-of-persons");
    let proof: Value = node
        .public_get(&format!("/api/proof/{}", whole.to_hex()))
        .json()
        .unwrap();
    assert!(proof["redaction"].is_null(), "{proof}");

    let network = genesis().network_id();
    let packet = fetch_packet(node.node().public_url(), &redacted).unwrap();
    assert_eq!(packet.version(), 2);
    assert!(is_withheld(&packet.record), "the node serves no body");
    assert_eq!(packet.order.as_deref(), Some(raw(&order).as_slice()));
    let verdict = verify_packet(&packet.to_packet_bytes(), &network, None).unwrap();
    assert_eq!((verdict.record, verdict.seq), (redacted, seq));
    assert_eq!(
        (verdict.author.as_str(), verdict.kind),
        (DONOR, "statement")
    );
    let by = verdict.redacted.expect("the verdict says redacted");
    assert_eq!(by.order, order);
    assert!(
        matches!(by.by, OrderedBy::Author { seq, .. } if seq == order_seq),
        "{by:?}"
    );
    assert_eq!(by.category, RedactionCategory::SafetyOfPersons);
    // Without the order, no packet of the withheld record is valid.
    let mut bare = packet.clone();
    bare.order = None;
    assert_eq!(
        verify_packet(&bare.to_packet_bytes(), &network, None)
            .unwrap_err()
            .name(),
        "not-redacted"
    );

    let packet = fetch_packet(node.node().public_url(), &whole).unwrap();
    let bytes = packet.to_packet_bytes();
    assert!(
        bytes.starts_with(&MAGIC),
        "a whole record's packet is version 1"
    );
    let verdict = verify_packet(&bytes, &network, None).unwrap();
    assert_eq!(verdict.redacted, None);
}

#[test]
fn a_packet_of_a_record_the_admins_redacted_carries_their_order_among_its_governance() {
    let (_dir, store) = explorer_server::new_store();
    let implementer = explorer_server::append(
        &store,
        IMPLEMENTER,
        vec![
            statement("Paid to Zarghuna Qasimiwal"),
            statement("Wells in three villages"),
        ],
    );
    let named = RedactedRecord {
        seq: 0,
        id: implementer[0].id(),
    };
    // The donor proposes, the implementer approves: the admin threshold of 2.
    let proposal = explorer_server::append(
        &store,
        DONOR,
        vec![Body::Proposal(Proposal {
            base: Digest::ZERO,
            change: Change::Redact {
                member: IMPLEMENTER.into(),
                records: vec![named],
                category: RedactionCategory::LegalOrder,
            },
            note: "A court ordered it withheld.".into(),
        })],
    )
    .remove(0);
    explorer_server::append(
        &store,
        IMPLEMENTER,
        vec![Body::Approval(Approval {
            proposal: proposal.id(),
        })],
    );
    store.index_again().unwrap();
    let mark = RedactionMark {
        order: proposal.id(),
        category: RedactionCategory::LegalOrder,
        by_admins: true,
        ordered_at_ms: proposal.header().timestamp_ms,
    };
    assert_eq!(
        store
            .redact(IMPLEMENTER, &[named], &mark)
            .unwrap()
            .withheld_now,
        1
    );
    let server = explorer_server::Server::start(store.clone());

    let id = named.id;
    let proof = server.json(&format!("/api/proof/{}", id.to_hex()));
    assert_eq!(proof["redaction"]["by"], "admins", "{proof}");
    assert_eq!(proof["redaction"]["order"], proposal.id().to_hex());
    assert_eq!(proof["redaction"]["category"], "legal-order");
    // A server of a store alone signs no checkpoint: the implementer signs the root served.
    let size = proof["size"].as_u64().unwrap();
    let root = Digest::from_hex(proof["root"].as_str().unwrap()).unwrap();
    let path = proof["inclusion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hash| Digest::from_hex(hash.as_str().unwrap()).unwrap())
        .collect();
    let record = server
        .get(&format!("/api/records/{}/raw", id.to_hex()))
        .bytes()
        .unwrap()
        .to_vec();
    assert!(is_withheld(&record), "the store serves no body");
    let (genesis_bytes, governance) = genesis_and_governance(&server.base).unwrap();
    assert_eq!(governance.len(), 2, "the proposal and the approval");
    let network = genesis().network_id();
    let packet = ProofPacket {
        genesis: genesis_bytes,
        governance,
        record,
        inclusion: InclusionProof {
            leaf_index: 0,
            tree_size: size,
            path,
        },
        checkpoint: Checkpoint::new(&network, IMPLEMENTER, size, root)
            .sign(&key_of(IMPLEMENTER))
            .unwrap()
            .to_text(),
        order: None,
    };
    let bytes = packet.to_packet_bytes();
    assert!(
        bytes.starts_with(&MAGIC),
        "the admins' order needs no version 2"
    );
    let verdict = verify_packet(&bytes, &network, None).unwrap();
    assert_eq!((verdict.author.as_str(), verdict.seq), (IMPLEMENTER, 0));
    let by = verdict.redacted.expect("the verdict says redacted");
    assert_eq!(by.order, proposal.id());
    assert_eq!(
        by.by,
        OrderedBy::Admins {
            step: 1,
            approved_by: vec![DONOR.to_owned(), IMPLEMENTER.to_owned()],
        }
    );
    assert_eq!(by.category, RedactionCategory::LegalOrder);
    // Without the approval the proposal is not in force: nothing the packet shows covers it.
    let mut pending = packet.clone();
    pending.governance.truncate(1);
    assert_eq!(
        verify_packet(&pending.to_packet_bytes(), &network, None)
            .unwrap_err()
            .name(),
        "not-redacted"
    );
}
