//! A proof packet of a record its author redacted (FORMAT.md §26.3, §27), from a real node: the
//! author submits a statement and then its order that the statement be forgotten; once the node
//! has applied the order, `/api/proof/{id}` names the order, the packet assembled from the
//! node's answers (as `aidledger proof` does) is version 2 with the order, and `verify_packet`
//! finds it valid and redacted by the author, for the reason the order gives. A record left
//! whole still makes a version 1 packet that says nothing of redaction.

use std::time::Duration;

use aidledger_cli::packet::fetch_packet;
use aidledger_spec::packet::{verify_packet, MAGIC};
use aidledger_spec::redaction::{OrderedBy, RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::withheld::is_withheld;
use aidledger_spec::Body;
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
