//! A bundle exported before the code was reshaped (issue 18) stays the contract: the committed
//! fixture verifies with today's spec, and a store holding the same records exports exactly
//! the same bytes today, so a verifier of either side of the change accepts the other's export.
//!
//! The fixture holds two chains, a transaction, a record revoked by a rewind (held as revoked)
//! and an equivocation proof: every kind of bundle item a node writes. It was written once by
//! `AIDLEDGER_WRITE_FIXTURE=1 cargo test -p aidledger-node --test bundle_fixture` at commit
//! 30d9ac2 and must never be regenerated to make this test pass.

mod common;

use std::path::PathBuf;

use aidledger_spec::bundle::{BundleItem, BundleReader};
use aidledger_spec::{codec, RecordId, Rejection};
use aidledger_store::export::write_bundle;
use common::*;

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/before-reshape.bundle")
}

/// Exports the fixture's store with today's code.
fn export_today() -> Vec<u8> {
    let root = tempfile::tempdir().unwrap();
    let dir = bare_data_dir(root.path());
    let store = open_new_store(&dir);
    let donor = chain(DONOR, 4);
    let paid = record(IMPLEMENTER, 0, RecordId::ZERO, transaction("GBP", None));
    let receipt = record(
        IMPLEMENTER,
        1,
        paid.id(),
        transaction("GBP", Some(donor[1].id())),
    );
    store.append_durable(&donor).unwrap();
    store.append_durable(&[paid, receipt]).unwrap();
    store
        .revoke_from(DONOR, 3, &Rejection::BadSignature)
        .unwrap();
    let rival = record(DONOR, 1, donor[0].id(), statement("a rival seq 1"));
    store.add_proof(&donor[1], &rival).unwrap();
    store.make_durable().unwrap();
    write_bundle(&store, Vec::new()).unwrap()
}

#[test]
fn todays_export_of_the_fixture_store_is_byte_identical_to_the_committed_bundle() {
    let today = export_today();
    if std::env::var_os("AIDLEDGER_WRITE_FIXTURE").is_some() {
        std::fs::write(fixture_path(), &today).unwrap();
    }
    let committed = std::fs::read(fixture_path()).unwrap();
    assert_eq!(today.len(), committed.len(), "the export's length changed");
    let first_difference = today.iter().zip(&committed).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "the export's bytes changed");
}

#[test]
fn every_record_and_proof_of_the_committed_bundle_verifies_with_todays_spec() {
    let bytes = std::fs::read(fixture_path()).unwrap();
    let mut reader = BundleReader::new(bytes.as_slice()).unwrap();
    assert_eq!(reader.version(), 1, "the fixture is a version 1 bundle");
    assert_eq!(reader.genesis_bytes(), codec::encode(&genesis()).as_slice());
    let (mut records, mut proofs) = (0, 0);
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            BundleItem::Record(record) => {
                records += 1;
                verifier().verify(record).unwrap();
            }
            BundleItem::Proof(proof) => {
                proofs += 1;
                verifier()
                    .verify_equivocation(proof.first, proof.second)
                    .unwrap();
            }
            other => panic!("a version 1 bundle holds only records and proofs: {other:?}"),
        }
    }
    assert_eq!(
        (records, proofs),
        (6, 1),
        "records and proofs in the fixture"
    );
}
