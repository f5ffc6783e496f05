//! Hostile input: arbitrary and mutated bytes never panic the decoders and are never accepted
//! unless unchanged; encoding round-trips; batch verification gives the verdicts of single
//! verification; hostile length prefixes are refused without allocating.
//!
//! Case counts are kept small (ed25519 in a debug build is slow) so the file runs in seconds.

#[path = "support/bundle_v2_vectors.rs"]
mod bundle_v2_vectors;
#[path = "support/governance_vectors.rs"]
mod governance_vectors;
#[path = "support/signature_edges.rs"]
mod signature_edges;
#[path = "support/vector_set.rs"]
mod vector_set;

use std::sync::OnceLock;

use aidledger_spec::bundle::{
    BundleError, BundleItem, BundleReader, BundleWriter, EquivocationProof,
};
use aidledger_spec::codec::{self, Codec, DecodeError};
use aidledger_spec::record::{
    Correction, IatiSource, Money, Party, Replacement, Statement, TextVersion, Transaction,
    TreatyAction, TreatyActionKind, TreatyText,
};
use aidledger_spec::text::Date;
use aidledger_spec::{Body, Digest, Genesis, Rejection, SignedRecord, Verifier};
use proptest::prelude::*;

// The largest allocation per thread (aidledger-os holds the allocator, the workspace's only unsafe
// code), so a test can show that a hostile length prefix was refused before any buffer of that
// length was allocated.
use aidledger_os::measure::{largest_allocation, LargestAllocation};

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

// ---------------------------------------------------------------------------------------------
// Shared inputs, built once.

struct Pool {
    verifier: Verifier,
    /// Valid records of every kind.
    valid: Vec<Vec<u8>>,
    /// Invalid records of every reason.
    invalid: Vec<Vec<u8>>,
    genesis_bytes: Vec<u8>,
    bundle: Vec<u8>,
    /// The version 2 bundle of `bundle-v2.json`.
    bundle_v2: Vec<u8>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let fixture = vector_set::Fixture::new();
        Pool {
            verifier: Verifier::new(fixture.genesis.clone()),
            valid: vector_set::valid_records(&fixture)
                .into_iter()
                .map(|made| made.bytes)
                .collect(),
            invalid: vector_set::invalid_records(&fixture)
                .into_iter()
                .map(|case| case.bytes)
                .collect(),
            genesis_bytes: fixture.genesis.encode(),
            bundle: vector_set::bundle_bytes(&fixture),
            bundle_v2: bundle_v2_vectors::bundle_v2(&fixture).bytes,
        }
    })
}

fn read_whole_bundle(bytes: &[u8]) {
    if let Ok(reader) = BundleReader::new(bytes) {
        // A reader stops after its first error; the bound only guards this test against a bug.
        for item in reader.take(10_000) {
            if item.is_err() {
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generators of bodies (any field values: round-tripping does not need valid ones).

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>().prop_map(Digest)
}

fn date() -> impl Strategy<Value = Date> {
    (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(year, month, day)| Date {
        year,
        month,
        day,
    })
}

fn party() -> impl Strategy<Value = Party> {
    (text(), text(), text()).prop_map(|(org_ref, name, activity_id)| Party {
        org_ref,
        name,
        activity_id,
    })
}

fn transaction() -> impl Strategy<Value = Transaction> {
    (
        (text(), any::<u8>(), text(), text(), date(), date()),
        (
            proptest::option::of(party()),
            proptest::option::of(party()),
            text(),
            proptest::option::of(digest()),
            proptest::option::of((digest(), text(), text())),
        ),
    )
        .prop_map(
            |(
                (activity_id, transaction_type, amount, currency, value_date, transaction_date),
                (provider, receiver, description, acknowledges, iati),
            )| Transaction {
                activity_id,
                transaction_type,
                value: Money { amount, currency },
                value_date,
                transaction_date,
                provider,
                receiver,
                description,
                acknowledges,
                iati: iati.map(|(import_key, transaction_ref, original_value)| IatiSource {
                    import_key,
                    transaction_ref,
                    original_value,
                }),
            },
        )
}

fn treaty_text() -> impl Strategy<Value = TreatyText> {
    (
        text(),
        proptest::collection::vec(text(), 0..4),
        proptest::collection::vec(
            (text(), text()).prop_map(|(language, text)| TextVersion { language, text }),
            0..3,
        ),
        proptest::option::of(digest()),
    )
        .prop_map(|(title, parties, versions, supersedes)| TreatyText {
            title,
            parties,
            versions,
            supersedes,
        })
}

fn treaty_action() -> impl Strategy<Value = TreatyAction> {
    let kind = prop_oneof![
        Just(TreatyActionKind::Sign),
        Just(TreatyActionKind::Ratify),
        Just(TreatyActionKind::Accede),
        Just(TreatyActionKind::Withdraw),
    ];
    (digest(), digest(), kind, date(), text()).prop_map(
        |(treaty, text_hash, action, date, note)| TreatyAction {
            treaty,
            text_hash,
            action,
            date,
            note,
        },
    )
}

fn statement() -> impl Strategy<Value = Statement> {
    (text(), text(), text()).prop_map(|(title, language, text)| Statement {
        title,
        language,
        text,
    })
}

fn replacement() -> impl Strategy<Value = Replacement> {
    prop_oneof![
        transaction().prop_map(Replacement::Transaction),
        treaty_text().prop_map(Replacement::TreatyText),
        treaty_action().prop_map(Replacement::TreatyAction),
        statement().prop_map(Replacement::Statement),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        transaction().prop_map(Body::Transaction),
        treaty_text().prop_map(Body::TreatyText),
        treaty_action().prop_map(Body::TreatyAction),
        statement().prop_map(Body::Statement),
        (digest(), text(), proptest::option::of(replacement())).prop_map(
            |(corrects, reason, replacement)| Body::Correction(Correction {
                corrects,
                reason,
                replacement
            })
        ),
    ]
}

/// Arbitrary bytes, or arbitrary bytes after a valid prefix so that decoders get past their first check.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tail = proptest::collection::vec(any::<u8>(), 0..400);
    prop_oneof![
        tail.clone(),
        tail.clone()
            .prop_map(|tail| [b"AIDLBNDL\x01\x00".as_slice(), &tail].concat()),
        (0..pool().valid.len(), 0..200usize, tail).prop_map(|(index, keep, tail)| {
            let record = &pool().valid[index];
            [&record[..keep.min(record.len())], tail.as_slice()].concat()
        }),
    ]
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in hostile_bytes()) {
        let pool = pool();
        let id = aidledger_spec::signed::record_id_of_bytes(&bytes);
        if let Ok(record) = SignedRecord::parse(bytes.clone()) {
            prop_assert_eq!(id.ok(), Some(record.id), "the id from the header alone");
        }
        let _ = Genesis::decode(&bytes);
        let _ = codec::decode_exact::<Body>(&bytes);
        read_whole_bundle(&bytes);
        // Verification stops at parsing for almost all of these, so it stays cheap.
        let _ = pool.verifier.verify(bytes);
    }

    #[test]
    fn bundle_reader_never_panics_on_mutated_bundles(flips in proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..4), cut in any::<prop::sample::Index>(), v2 in any::<bool>()) {
        let mut bytes = if v2 { pool().bundle_v2.clone() } else { pool().bundle.clone() };
        for (index, mask) in flips {
            let at = index.index(bytes.len());
            bytes[at] ^= mask;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        read_whole_bundle(&bytes);
    }

    #[test]
    fn body_encoding_round_trips(body in body()) {
        let bytes = codec::encode(&body);
        let decoded: Body = codec::decode_exact(&bytes).map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(&decoded, &body);
        prop_assert_eq!(codec::encode(&decoded), bytes);
    }
}

proptest! {
    // Each case verifies a record (a few ms in a debug build).
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutated_records_are_rejected_unless_unchanged(
        index in 0..6usize,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0..=255u8), 0..3),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let original = &pool().valid[index];
        let mut bytes = original.clone();
        for (at, mask) in flips {
            let at = at.index(bytes.len());
            bytes[at] ^= mask;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let unchanged = &bytes == original;
        match pool().verifier.verify(bytes) {
            Ok(record) => prop_assert!(unchanged && record.bytes() == original.as_slice()),
            Err(rejected) => prop_assert!(!unchanged, "the original was rejected: {}", rejected.reason),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn batch_verification_gives_the_verdicts_of_single_verification(
        picks in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 1..12),
    ) {
        let pool = pool();
        let inputs: Vec<Vec<u8>> = picks
            .iter()
            .map(|(valid, index)| {
                let from = if *valid { &pool.valid } else { &pool.invalid };
                from[index.index(from.len())].clone()
            })
            .collect();
        let summary = |verdict: aidledger_spec::verify::RecordVerdict| verdict.map(|record| record.id()).map_err(|rejected| rejected.reason);
        let single: Vec<_> = inputs.iter().map(|bytes| summary(pool.verifier.verify(bytes.clone()))).collect();
        let batch: Vec<_> = pool.verifier.verify_batch(inputs).into_iter().map(summary).collect();
        prop_assert_eq!(single, batch);
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile lengths

fn assert_limit_refused(result: Result<impl std::fmt::Debug, DecodeError>, largest_bytes: usize) {
    match result {
        Err(DecodeError::Malformed(detail)) => {
            assert!(detail.to_lowercase().contains("limit"), "{detail}")
        }
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert!(largest_bytes < 64 * 1024, "allocated {largest_bytes} bytes");
}

#[test]
fn refuses_length_prefix_of_2_pow_60_without_allocating() {
    let huge = (1u64 << 60).to_le_bytes();
    // A statement (variant 3) whose title claims 2^60 bytes.
    let body = [[3u8, 0, 0, 0].as_slice(), &huge, b"short"].concat();
    let (result, largest) = largest_allocation(|| codec::decode_exact::<Body>(&body));
    assert_limit_refused(result, largest);
    // A treaty text (variant 1) whose parties claim 2^60 entries.
    let body = [[1u8, 0, 0, 0].as_slice(), &0u64.to_le_bytes(), &huge].concat();
    let (result, largest) = largest_allocation(|| codec::decode_exact::<Body>(&body));
    assert_limit_refused(result, largest);
    // A genesis whose name claims 2^60 bytes.
    let genesis = [[1u8, 0].as_slice(), &huge, b"x"].concat();
    let (result, largest) = largest_allocation(|| codec::decode_exact::<Genesis>(&genesis));
    assert_limit_refused(result, largest);
    // A record whose author claims 2^60 bytes.
    let mut record = pool().valid[0].clone();
    record[34..42].copy_from_slice(&huge);
    let (result, largest) =
        largest_allocation(|| SignedRecord::parse(record).map(|record| record.id));
    assert_limit_refused(result, largest);
}

#[test]
fn refuses_bundle_frame_of_2_pow_60_bytes_without_allocating() {
    let mut bundle = b"AIDLBNDL\x01\x00".to_vec();
    bundle.push(1);
    bundle.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let (result, largest) = largest_allocation(|| BundleReader::new(bundle.as_slice()).map(|_| ()));
    assert!(
        matches!(
            result,
            Err(aidledger_spec::bundle::BundleError::BadFrame { offset: 10, .. })
        ),
        "{result:?}"
    );
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
}

#[test]
fn bundle_carries_a_proof_of_two_large_records() {
    // A proof frame may hold two records of up to RECORD_SIZE_BYTES_MAX each (FRAME_SIZE_BYTES_MAX
    // says so); two 9 MiB treaty texts must not be refused for exceeding one record's limit.
    let large = vec![0x5au8; 9 * 1024 * 1024];
    let proof = EquivocationProof {
        first: large.clone(),
        second: large,
    };
    let mut writer = BundleWriter::new(Vec::new(), &pool().genesis_bytes).expect("in memory");
    writer.proof(&proof).expect("in memory");
    let bundle = writer.finish().expect("in memory");
    let items: Vec<BundleItem> = BundleReader::new(bundle.as_slice())
        .expect("a bundle")
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(items, vec![BundleItem::Proof(proof)]);
}

// ---------------------------------------------------------------------------------------------
// Bundles of version 2 (checkpoint and split-view frames, four end counts).

fn read_all(bytes: &[u8]) -> Result<Vec<BundleItem>, BundleError> {
    BundleReader::new(bytes)?.collect()
}

/// A frame of `kind` with `payload`, as the format writes it.
fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    [
        &[kind],
        (payload.len() as u64).to_le_bytes().as_slice(),
        payload,
    ]
    .concat()
}

/// A bundle of `version` with the pool's genesis, `frames` and the end frame `end`.
fn bundle_of(version: u16, frames: &[Vec<u8>], end: &[u8]) -> Vec<u8> {
    let mut bytes = b"AIDLBNDL".to_vec();
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend(frame(1, &pool().genesis_bytes));
    for each in frames {
        bytes.extend_from_slice(each);
    }
    bytes.extend(frame(0xff, end));
    bytes
}

fn counts(values: &[u64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

#[test]
fn a_version_2_bundle_cut_anywhere_is_truncated_at_the_cut() {
    let bytes = &pool().bundle_v2;
    read_all(bytes).expect("the whole bundle reads");
    for cut in 0..bytes.len() {
        match read_all(&bytes[..cut]) {
            Err(BundleError::BadMagic) => assert!(cut < 8, "cut {cut}"),
            Err(BundleError::Truncated { offset, .. }) => {
                assert_eq!(offset, cut as u64, "cut {cut}")
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn a_version_2_end_frame_must_count_every_kind() {
    let bytes = &pool().bundle_v2;
    let end = bytes.len() - 32;
    assert_eq!(bytes[end - 9], 0xff, "the end frame");
    assert_eq!(&bytes[end..], counts(&[3, 1, 1, 1]).as_slice());
    for count in 0..4 {
        for change in [1u8, 0xff] {
            let mut changed = bytes.clone();
            changed[end + 8 * count] = changed[end + 8 * count].wrapping_add(change);
            let error = read_all(&changed).expect_err("a wrong count is refused");
            assert!(
                matches!(error, BundleError::CountMismatch { offset, version: 2, .. } if offset == (end - 9) as u64),
                "count {count}: {error}"
            );
            assert_eq!(error.rule(), Some("end-count-mismatch"));
        }
    }
    // A version 1 end frame (16 bytes) in a version 2 bundle, and the reverse, do not decode.
    let short = bundle_of(2, &[], &counts(&[0, 0]));
    assert!(matches!(
        read_all(&short),
        Err(BundleError::BadFrame { .. })
    ));
    let long = bundle_of(1, &[], &counts(&[0, 0, 0, 0]));
    assert!(matches!(read_all(&long), Err(BundleError::BadFrame { .. })));
    let empty = bundle_of(2, &[], &counts(&[0, 0, 0, 0]));
    assert_eq!(read_all(&empty).expect("an empty version 2 bundle"), vec![]);
}

#[test]
fn a_version_1_bundle_holds_no_checkpoint_or_split_view_frames() {
    let made = bundle_v2_vectors::bundle_v2(&vector_set::Fixture::new());
    let checkpoint = frame(4, made.checkpoint.as_bytes());
    let split_view = frame(5, &made.split_view.to_bytes());
    for (kind, each) in [(4, checkpoint.clone()), (5, split_view.clone())] {
        let bytes = bundle_of(1, &[each], &counts(&[0, 0]));
        let error = read_all(&bytes).expect_err("an unknown kind in version 1");
        assert!(
            matches!(&error, BundleError::BadFrame { offset, problem } if *offset == 10 + 9 + pool().genesis_bytes.len() as u64 && problem.contains(&format!("unknown frame kind {kind}"))),
            "{error}"
        );
    }
    // The same frames read in a version 2 bundle.
    let bytes = bundle_of(2, &[split_view, checkpoint], &counts(&[0, 0, 1, 1]));
    assert_eq!(
        read_all(&bytes).expect("version 2"),
        vec![
            BundleItem::SplitView(made.split_view.clone()),
            BundleItem::Checkpoint(made.checkpoint.clone())
        ]
    );
    // Kinds 6 and on are unknown in version 2 too; versions 0 and 3 are not read.
    let bytes = bundle_of(2, &[frame(6, b"x")], &counts(&[0, 0, 0, 0]));
    assert!(matches!(
        read_all(&bytes),
        Err(BundleError::BadFrame { .. })
    ));
    for version in [0u16, 3] {
        let bytes = bundle_of(version, &[], &counts(&[0, 0, 0, 0]));
        assert!(matches!(
            read_all(&bytes),
            Err(BundleError::UnsupportedVersion(found)) if found == version
        ));
    }
    // A version 1 writer refuses them rather than write a bundle no reader takes.
    let mut writer = BundleWriter::new(Vec::new(), &pool().genesis_bytes).expect("in memory");
    assert!(writer.checkpoint(&made.checkpoint).is_err());
    assert!(writer.split_view(&made.split_view).is_err());
    assert_eq!(
        writer.finish().expect("in memory"),
        bundle_of(1, &[], &counts(&[0, 0]))
    );
}

#[test]
fn refuses_bad_checkpoint_and_split_view_frames() {
    let at = 10 + 9 + pool().genesis_bytes.len() as u64;
    let bad = |frames: &[Vec<u8>]| -> BundleError {
        read_all(&bundle_of(2, frames, &counts(&[0, 0, 1, 1]))).expect_err("refused")
    };
    // A note that is not UTF-8.
    let error = bad(&[frame(4, b"origin\n\xff\n")]);
    assert!(
        matches!(error, BundleError::BadFrame { offset, .. } if offset == at),
        "{error}"
    );
    // Split-view bytes that do not decode exactly: garbage, a cut proof, a byte too many.
    let proof = bundle_v2_vectors::bundle_v2(&vector_set::Fixture::new())
        .split_view
        .to_bytes();
    for payload in [
        b"garbage".to_vec(),
        proof[..proof.len() - 1].to_vec(),
        [proof.as_slice(), &[0]].concat(),
    ] {
        let error = bad(&[frame(5, &payload)]);
        assert!(
            matches!(error, BundleError::BadFrame { offset, .. } if offset == at),
            "{error}"
        );
    }
    // A checkpoint frame over one note's limit is refused before its payload is allocated.
    let mut bytes = bundle_of(2, &[], &counts(&[0, 0, 0, 0]));
    bytes.truncate(at as usize);
    bytes.push(4);
    bytes.extend_from_slice(&(aidledger_spec::limits::NOTE_BYTES_MAX as u64 + 1).to_le_bytes());
    let (result, largest) = largest_allocation(|| read_all(&bytes));
    assert!(
        matches!(&result, Err(BundleError::BadFrame { offset, problem }) if *offset == at && problem.contains("limit")),
        "{result:?}"
    );
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
    // A writer refuses such a note too.
    let mut writer = BundleWriter::new_v2(Vec::new(), &pool().genesis_bytes).expect("in memory");
    let long = "a".repeat(aidledger_spec::limits::NOTE_BYTES_MAX + 1);
    assert!(writer.checkpoint(&long).is_err());
}

// ---------------------------------------------------------------------------------------------
// One signature rule: a signature with a mixed-order R gets the same verdict alone and in any
// batch (FORMAT.md 7.1 and 15). Under the cofactorless batch equation this was not so: such a
// record passed a batch when its weight was a multiple of the torsion's order.

/// The donor's record at `pool.valid[0]`, signed with R = [r]B + T (T of `order`).
fn with_torsion_nonce(nonce: u64, order: usize, forged: bool) -> Vec<u8> {
    let valid = SignedRecord::parse(pool().valid[0].clone()).expect("valid");
    let key = ed25519_dalek::SigningKey::from_bytes(&vector_set::DONOR_SEED);
    let signature = if forged {
        signature_edges::sign_with_wrong_challenge(&key, &valid.id, nonce, order)
    } else {
        signature_edges::sign_with_torsion_nonce(&key, &valid.id, nonce, order)
    };
    signature_edges::with_signature(&valid.bytes, &signature)
}

#[test]
fn a_mixed_order_r_gets_one_verdict_alone_and_in_every_batch() {
    let pool = pool();
    let summary = |verdict: aidledger_spec::verify::RecordVerdict| {
        verdict.map(|_| ()).map_err(|rejected| rejected.reason)
    };
    for order in [2, 4, 8] {
        for nonce in 0..16 {
            for forged in [false, true] {
                let record = with_torsion_nonce(nonce, order, forged);
                let expected = if forged {
                    Err(Rejection::BadSignature)
                } else {
                    Ok(())
                };
                assert_eq!(summary(pool.verifier.verify(record.clone())), expected);
                // Alone, first, last, and among other valid records: the weights differ each time.
                let companions = &pool.valid[1..1 + (nonce as usize % 4)];
                let mut batch = vec![record.clone()];
                batch.extend(companions.iter().cloned());
                batch.push(record);
                let verdicts = pool.verifier.verify_batch(batch);
                let last = verdicts.len() - 1;
                for (index, verdict) in verdicts.into_iter().enumerate() {
                    if index == 0 || index == last {
                        assert_eq!(summary(verdict), expected, "order {order}, nonce {nonce}");
                    } else {
                        assert_eq!(summary(verdict), Ok(()), "a valid companion");
                    }
                }
            }
        }
    }
}

#[test]
fn the_id_of_record_bytes_is_read_from_the_header_alone() {
    for bytes in &pool().valid {
        let parsed = SignedRecord::parse(bytes.clone()).unwrap();
        assert_eq!(
            aidledger_spec::signed::record_id_of_bytes(bytes).unwrap(),
            parsed.id
        );
        // A body cut short does not change the id: the store checks ids, not whole records.
        let header_and_some = &bytes[..bytes.len() - 1];
        assert_eq!(
            aidledger_spec::signed::record_id_of_bytes(header_and_some).unwrap(),
            parsed.id
        );
    }
}

#[test]
fn refuses_hostile_split_view_proofs_and_notes_without_allocating() {
    use aidledger_spec::codec::Codec;
    use aidledger_spec::limits::NOTE_BYTES_MAX;
    use aidledger_spec::note::Note;
    use aidledger_spec::splitview::SplitViewProof;

    // A first note that claims 2^60 bytes: refused by its bound before anything is allocated.
    let proof = [(1u64 << 60).to_le_bytes().as_slice(), b"x"].concat();
    let (result, largest) = largest_allocation(|| SplitViewProof::from_bytes(&proof));
    assert!(
        matches!(result, Err(DecodeError::TooLong { .. })),
        "{result:?}"
    );
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
    // Prefix evidence whose proof claims 2^60 hashes.
    let note = "n\n\n";
    let mut proof = Vec::new();
    for _ in 0..2 {
        codec::write_bytes(&mut proof, note.as_bytes());
    }
    proof.extend_from_slice(&1u32.to_le_bytes());
    proof.extend_from_slice(&[0u8; 32 + 16]);
    proof.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let (result, largest) = largest_allocation(|| SplitViewProof::from_bytes(&proof));
    assert!(
        matches!(result, Err(DecodeError::TooLong { .. })),
        "{result:?}"
    );
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
    // A note over its limit is refused before it is split into lines.
    let text = "x".repeat(NOTE_BYTES_MAX + 1);
    let (result, largest) = largest_allocation(|| Note::parse(&text).map(|_| ()));
    assert!(result.is_err());
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
}
