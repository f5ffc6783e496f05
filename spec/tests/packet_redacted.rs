//! Proof packets of redacted records (FORMAT.md §26.3, §27) over
//! `spec/vectors/proof-packet-redacted.json`: each packet, read as another implementation would
//! read it (hex in, verdict out), is valid with exactly the expected verdict or fails exactly
//! the expected check; a packet without an order is version 1 byte for byte; version 2 reads
//! back to itself, and every cut of it is refused. The file itself is checked against the code
//! by `tests/vectors.rs` (`vector_files_match_the_code`).

#[allow(dead_code)] // only the valid activities are used here
#[path = "support/activity_vectors.rs"]
mod activity_vectors;
#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[path = "support/packet_redacted_vectors.rs"]
mod packet_redacted_vectors;
#[path = "support/redaction_vectors.rs"]
mod redaction_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/vector_set.rs"]
mod vector_set;

use std::path::PathBuf;

use aidledger_spec::packet::{verify_packet, PacketError, ProofPacket, Verdict, MAGIC, MAGIC_V2};
use aidledger_spec::redaction::OrderedBy;
use aidledger_spec::{NetworkId, Rejection};
use serde_json::{json, Value};

use packet_redacted_vectors::{cases, FILE_NAME};
use vector_set::{Fixture, DONOR, IMPLEMENTER};

fn load() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(FILE_NAME);
    let text = std::fs::read_to_string(&path).expect("the vector file (run make_vectors)");
    serde_json::from_str(&text).expect("JSON")
}

/// A verdict in the fields of the file's `expected`.
fn verdict_json(version: u8, verdict: &Verdict) -> Value {
    json!({
        "version": version,
        "record": verdict.record.to_hex(),
        "author": verdict.author,
        "seq": verdict.seq,
        "kind": verdict.kind,
        "size": verdict.size,
        "governance_records": verdict.governance_records,
        "redacted": verdict.redacted,
    })
}

#[test]
fn every_packet_of_the_file_is_judged_as_it_says() {
    let file = load();
    let network = NetworkId::from_hex(file["network_id"].as_str().unwrap()).unwrap();
    let packets = file["packets"].as_array().unwrap();
    assert_eq!(packets.len(), 8);
    for case in packets {
        let bytes = hex::decode(case["packet_hex"].as_str().unwrap()).unwrap();
        let name = &case["name"];
        match verify_packet(&bytes, &network, None) {
            Ok(verdict) => {
                let version = ProofPacket::from_packet_bytes(&bytes).unwrap().version();
                assert_eq!(verdict_json(version, &verdict), case["expected"], "{name}");
            }
            Err(error) => assert_eq!(error.name(), case["error"], "{name}: {error}"),
        }
    }
}

#[test]
fn the_verdicts_say_who_redacted_the_record_and_why() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let all = cases(&fixture);
    let verdict =
        |index: usize| verify_packet(&all[index].packet.to_packet_bytes(), &network, None);

    let by_author = verdict(0).unwrap();
    assert_eq!((by_author.author.as_str(), by_author.seq), (DONOR, 3));
    assert_eq!(by_author.kind, "statement");
    let order = by_author.redacted.expect("redacted");
    assert!(matches!(order.by, OrderedBy::Author { seq: 6, .. }));
    assert_eq!(order.category.name(), "personal-data");

    let by_admins = verdict(1).unwrap();
    assert_eq!((by_admins.author.as_str(), by_admins.seq), (IMPLEMENTER, 0));
    let order = by_admins.redacted.expect("redacted");
    assert_eq!(
        order.by,
        OrderedBy::Admins {
            step: 1,
            approved_by: vec![DONOR.to_owned(), IMPLEMENTER.to_owned()],
        }
    );
    assert_eq!(order.category.name(), "legal-order");

    for (index, case) in all.iter().enumerate().skip(2) {
        let error = verdict(index).unwrap_err();
        assert_eq!(Some(error.name()), case.error, "{}: {error}", case.name);
    }
    assert!(matches!(verdict(2), Err(PacketError::NotRedacted)));
}

#[test]
fn a_packet_without_an_order_is_version_1_and_with_one_version_2() {
    let fixture = Fixture::new();
    let all = cases(&fixture);
    let (by_author, by_admins) = (&all[0].packet, &all[1].packet);
    let v1 = by_admins.to_packet_bytes();
    assert!(v1.starts_with(&MAGIC));
    assert_eq!(ProofPacket::from_packet_bytes(&v1).unwrap(), *by_admins);

    let v2 = by_author.to_packet_bytes();
    assert!(v2.starts_with(&MAGIC_V2));
    assert_eq!(ProofPacket::from_packet_bytes(&v2).unwrap(), *by_author);
    // Version 2 is version 1's fields, then the order: the same packet without the order is
    // exactly the version 1 bytes up to the order flag.
    let mut without = by_author.clone();
    without.order = None;
    let v1_of_it = without.to_packet_bytes();
    assert_eq!(v2[8..v1_of_it.len()], v1_of_it[8..]);
    assert_eq!(v2[v1_of_it.len()], 1, "the order flag");

    // A version 2 packet whose flag says no order reads, as the same packet without one.
    let mut no_order_v2 = MAGIC_V2.to_vec();
    no_order_v2.extend_from_slice(&v1_of_it[8..]);
    no_order_v2.push(0);
    assert_eq!(
        ProofPacket::from_packet_bytes(&no_order_v2).unwrap(),
        without
    );
    // Any other flag is malformed.
    let mut flag_2 = no_order_v2.clone();
    *flag_2.last_mut().unwrap() = 2;
    assert!(matches!(
        ProofPacket::from_packet_bytes(&flag_2),
        Err(PacketError::Decode(_))
    ));
    // Version 1 has no order field: a trailing byte is malformed.
    let mut longer = v1.clone();
    longer.push(0);
    assert!(matches!(
        ProofPacket::from_packet_bytes(&longer),
        Err(PacketError::Decode(_))
    ));
}

#[test]
fn every_cut_of_a_version_2_packet_is_refused() {
    let fixture = Fixture::new();
    let network = fixture.network_id();
    let bytes = cases(&fixture)[0].packet.to_packet_bytes();
    verify_packet(&bytes, &network, None).unwrap();
    // Every length but the whole is refused (a stride keeps the test quick).
    for cut in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
        assert!(
            verify_packet(&bytes[..cut], &network, None).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn an_order_whose_signature_fails_is_refused_as_the_order() {
    let fixture = Fixture::new();
    let mut packet = cases(&fixture)[0].packet.clone();
    if let Some(byte) = packet.order.as_mut().and_then(|order| order.last_mut()) {
        *byte ^= 1;
    }
    assert!(matches!(
        verify_packet(&packet.to_packet_bytes(), &fixture.network_id(), None),
        Err(PacketError::Order(Rejection::BadSignature))
    ));
}

#[test]
fn a_withheld_governance_record_is_refused_as_the_record() {
    // Governance records and orders are never withheld (rule 25): the admins' proposal
    // withheld, as the record of a packet, fails check 4.
    let fixture = Fixture::new();
    let records = redaction_vectors::records(&fixture);
    let chain: Vec<&vector_set::Made> = records.donor.iter().chain([&records.order]).collect();
    let packet = packet_redacted_vectors::chain_packet(
        &fixture,
        DONOR,
        &fixture.donor,
        &chain,
        6,
        redaction_vectors::withheld(&records.order),
        Vec::new(),
        None,
    );
    assert!(matches!(
        verify_packet(&packet.to_packet_bytes(), &fixture.network_id(), None),
        Err(PacketError::Record(Rejection::WithheldNotRedactable {
            body_kind: 9
        }))
    ));
}
