//! `Verifier::sign_checked`, the writer's path for its own records, gives the verdict that
//! signing the same bytes and verifying them in full gives, for every record of the vector set
//! (valid, and invalid for every reason that survives re-signing), and refuses a header that
//! names another key than the one signing.

#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/vector_set.rs"]
mod vector_set;

use aidledger_spec::signature;

/// An ed25519 signature ends every record (FORMAT.md).
const SIGNATURE_BYTES: usize = 64;
use aidledger_spec::verify::RecordVerdict;
use aidledger_spec::{Rejection, SignedRecord, Verifier};

fn summary(verdict: RecordVerdict) -> Result<(aidledger_spec::RecordId, Vec<u8>), Rejection> {
    verdict
        .map(|record| (record.id(), record.into_bytes()))
        .map_err(|rejected| rejected.reason)
}

#[test]
fn sign_checked_agrees_with_full_verification_of_the_same_record() {
    let fixture = vector_set::Fixture::new();
    let verifier = Verifier::new(fixture.genesis.clone());
    let keys = [
        &fixture.donor,
        &fixture.implementer,
        &fixture.auditor,
        &fixture.outsider,
    ];
    let records = vector_set::valid_records(&fixture)
        .into_iter()
        .map(|made| made.bytes)
        .chain(
            vector_set::invalid_records(&fixture)
                .into_iter()
                .map(|case| case.bytes),
        );
    let (mut accepted, mut rejected, mut wrong_key) = (0, 0, 0);
    for bytes in records {
        let Ok(record) = SignedRecord::parse(bytes.clone()) else {
            continue; // no header to sign: nothing for sign_checked to take
        };
        let body = record.body_bytes().to_vec();
        let header_bytes = bytes[..bytes.len() - body.len() - SIGNATURE_BYTES].to_vec();
        let named = record.header.signing_key;
        match keys
            .iter()
            .find(|key| signature::public_key_of(key) == named)
        {
            Some(key) => {
                let mut resigned = header_bytes.clone();
                resigned.extend_from_slice(&body);
                resigned.extend_from_slice(&signature::sign(key, &record.id).0);
                let full = summary(verifier.verify(resigned));
                let checked = summary(verifier.sign_checked(header_bytes, &body, key));
                match &full {
                    Ok(_) => accepted += 1,
                    Err(_) => rejected += 1,
                }
                assert_eq!(checked, full, "record {}", record.id);
            }
            None => {
                // Signed with a key the header does not name: refused, by the rule before the
                // signature that refuses the original if there is one, else as a bad signature.
                let checked = verifier.sign_checked(header_bytes, &body, &fixture.donor);
                let reason = checked.map(|_| ()).unwrap_err().reason;
                let original = summary(verifier.verify(bytes.clone()));
                assert!(
                    reason == Rejection::BadSignature || original == Err(reason.clone()),
                    "record {}: {reason:?}, full verification {original:?}",
                    record.id
                );
                wrong_key += 1;
            }
        }
    }
    // The comparison covered records of both verdicts, not only one kind.
    assert!(accepted >= 5, "{accepted} accepted");
    assert!(rejected >= 5, "{rejected} rejected");
    assert!(
        wrong_key >= 1,
        "{wrong_key} with a key none of the fixture holds"
    );
}

/// The vector set's first valid record: its bytes, parsed, and where its header ends.
fn first_valid_record(fixture: &vector_set::Fixture) -> (Vec<u8>, SignedRecord, usize) {
    let bytes = vector_set::valid_records(fixture).remove(0).bytes;
    let record = SignedRecord::parse(bytes.clone()).unwrap();
    let header_end = bytes.len() - record.body_bytes().len() - SIGNATURE_BYTES;
    (bytes, record, header_end)
}

#[test]
fn sign_checked_refuses_a_header_naming_another_members_key() {
    let fixture = vector_set::Fixture::new();
    let verifier = Verifier::new(fixture.genesis.clone());
    let (bytes, record, header_end) = first_valid_record(&fixture);
    let other = [&fixture.donor, &fixture.implementer]
        .into_iter()
        .find(|key| signature::public_key_of(key) != record.header.signing_key)
        .unwrap();
    let verdict = verifier.sign_checked(bytes[..header_end].to_vec(), record.body_bytes(), other);
    assert_eq!(verdict.unwrap_err().reason, Rejection::BadSignature);
}

#[test]
fn sign_checked_refuses_header_bytes_that_do_not_end_where_the_header_does() {
    let fixture = vector_set::Fixture::new();
    let verifier = Verifier::new(fixture.genesis.clone());
    let (bytes, record, header_end) = first_valid_record(&fixture);
    let body = record.body_bytes().to_vec();
    let key = [&fixture.donor, &fixture.implementer, &fixture.auditor]
        .into_iter()
        .find(|key| signature::public_key_of(key) == record.header.signing_key)
        .expect("the fixture holds the first valid record's key");
    // Bytes moved across the boundary either way: the whole still parses as the record, but
    // the id signed would not be its id.
    let longer = bytes[..header_end + 1].to_vec();
    let verdict = verifier.sign_checked(longer, &body[1..], key);
    assert_eq!(verdict.unwrap_err().reason, Rejection::BadSignature);
    let shorter = bytes[..header_end - 1].to_vec();
    let mut rest = bytes[header_end - 1..header_end].to_vec();
    rest.extend_from_slice(&body);
    let verdict = verifier.sign_checked(shorter, &rest, key);
    assert_eq!(verdict.unwrap_err().reason, Rejection::BadSignature);
    // Split where the header ends, the same bytes are accepted.
    let whole = verifier.sign_checked(bytes[..header_end].to_vec(), &body, key);
    assert_eq!(whole.unwrap().into_bytes(), bytes);
}
