//! Per-record cost bounds of verification on this machine, single thread: SHA-256 of a header,
//! the signature rule (FORMAT.md 7.1) single and in batches of 256, ed25519-dalek's cofactorless
//! `verify_strict` and `verify_batch` for reference, a subgroup check of R, and
//! `Verifier::verify_batch` per record.
//!
//! Run with `cargo bench -p aidledger-spec --bench crypto_bounds`; throughputs are printed as
//! elements (hashes, signatures or records) per second.

use std::time::Duration;

use aidledger_spec::record::{record_id_of_header_bytes, Money, Statement, Transaction};
use aidledger_spec::signature::{self, BatchItem, BATCH_SIZE_MAX};
use aidledger_spec::text::Date;
use aidledger_spec::{
    sign_record, AdminRule, Body, Digest, Genesis, Member, RecordDraft, Role, SignedRecord,
    Verifier,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ed25519_dalek::SigningKey;

const MEMBERS: [&str; 3] = ["GB-GOV-1", "XI-EXAMPLE-AUDIT", "XM-DAC-41114"];

struct Setup {
    verifier: Verifier,
    /// 256 records in three chains, alternating transactions and statements.
    records: Vec<Vec<u8>>,
    keys: Vec<SigningKey>,
}

fn setup() -> Setup {
    let keys: Vec<SigningKey> = (1..=3u8)
        .map(|seed| SigningKey::from_bytes(&[seed; 32]))
        .collect();
    let mut genesis = Genesis {
        format_version: 1,
        name: "bench".into(),
        created_ms: 1_700_000_000_000,
        members: MEMBERS
            .iter()
            .zip(&keys)
            .map(|(id, key)| Member {
                id: (*id).into(),
                name: format!("member {id}"),
                roles: vec![Role::Donor],
                signing_keys: vec![signature::public_key_of(key)],
                node_keys: vec![],
            })
            .collect(),
        admin_rule: AdminRule {
            admins: vec![MEMBERS[0].into()],
            threshold: 1,
        },
    };
    genesis.normalise();
    let network_id = genesis.network_id();
    let mut heads = [(0u64, Digest::ZERO); 3];
    let mut records = Vec::with_capacity(BATCH_SIZE_MAX);
    for index in 0..BATCH_SIZE_MAX {
        let member = index % 3;
        let body = if index % 2 == 0 {
            Body::Transaction(Transaction {
                activity_id: format!("{}-ACTIVITY-{index}", MEMBERS[member]),
                transaction_type: 3,
                value: Money {
                    amount: format!("{}000.25", index + 1),
                    currency: "EUR".into(),
                },
                value_date: Date {
                    year: 2024,
                    month: 5,
                    day: 1,
                },
                transaction_date: Date {
                    year: 2024,
                    month: 5,
                    day: 2,
                },
                provider: None,
                receiver: None,
                description: "Disbursement for the quarter".into(),
                acknowledges: None,
                iati: None,
            })
        } else {
            Body::Statement(Statement {
                title: "Update".into(),
                language: "en".into(),
                text: "Work continues.".into(),
            })
        };
        let (seq, prev) = heads[member];
        let draft = RecordDraft {
            network_id,
            author: MEMBERS[member].into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + index as u64,
            body,
        };
        let Ok((id, bytes)) = sign_record(&draft, &keys[member]) else {
            unreachable!("small bodies")
        };
        heads[member] = (seq + 1, id);
        records.push(bytes);
    }
    Setup {
        verifier: Verifier::new(genesis),
        records,
        keys,
    }
}

fn bounds(c: &mut Criterion) {
    let setup = setup();
    let parsed: Vec<SignedRecord> = setup
        .records
        .iter()
        .filter_map(|bytes| SignedRecord::parse(bytes.clone()).ok())
        .collect();
    let verifying_keys: Vec<_> = setup.keys.iter().map(|key| key.verifying_key()).collect();
    let key_of = |record: &SignedRecord| {
        let index = MEMBERS
            .iter()
            .position(|id| *id == record.header.author)
            .unwrap_or(0);
        &verifying_keys[index]
    };
    let header_bytes =
        &setup.records[0][..setup.records[0].len() - parsed[0].body_bytes().len() - 64];
    let message_300 = &setup.records[0][..300];

    let mut group = c.benchmark_group("crypto_bounds");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        format!("sha256_record_id_of_{}B_header", header_bytes.len()),
        |b| b.iter(|| record_id_of_header_bytes(std::hint::black_box(header_bytes))),
    );
    group.bench_function("sha256_of_300B", |b| {
        b.iter(|| aidledger_spec::ids::hash_with_domain("", &[std::hint::black_box(message_300)]))
    });
    // What a node's writer spends on each of its own records (issue 22's batch bound): one
    // ed25519 signature, and the same with every rule but the signature equation
    // (`Verifier::sign_checked`, what `node/src/writer/signer.rs` calls).
    let body_bytes = parsed[0].body_bytes();
    let signing_key = &setup.keys[0];
    group.bench_function("ed25519_dalek_sign_one", |b| {
        b.iter(|| signature::sign(signing_key, std::hint::black_box(&parsed[0].id)))
    });
    group.bench_function("verifier_sign_checked_one_record", |b| {
        b.iter(|| {
            let verdict =
                setup
                    .verifier
                    .sign_checked(header_bytes.to_vec(), body_bytes, signing_key);
            assert!(verdict.is_ok());
            verdict
        })
    });
    group.bench_function("signature_rule_single", |b| {
        let record = &parsed[0];
        b.iter(|| signature::verify_one(key_of(record), &record.id, &record.signature))
    });
    // References for FORMAT.md 7.1's choice: ed25519-dalek's cofactorless verify_strict, and
    // the subgroup check of R that keeping its verdicts in a batch would add per signature.
    group.bench_function("ed25519_dalek_verify_strict_single", |b| {
        let record = &parsed[0];
        let message = signature::signed_message(&record.id);
        let dalek_signature = ed25519_dalek::Signature::from_bytes(&record.signature.0);
        b.iter(|| {
            key_of(record)
                .verify_strict(&message, &dalek_signature)
                .is_ok()
        })
    });
    group.bench_function("torsion_check_of_r", |b| {
        let mut r = [0u8; 32];
        r.copy_from_slice(&parsed[0].signature.0[..32]);
        b.iter(|| {
            curve25519_dalek::edwards::CompressedEdwardsY(std::hint::black_box(r))
                .decompress()
                .is_some_and(|point| point.is_torsion_free())
        })
    });
    group.throughput(Throughput::Elements(BATCH_SIZE_MAX as u64));
    group.bench_function("signature_rule_batch_of_256", |b| {
        let items: Vec<BatchItem<'_>> = parsed
            .iter()
            .map(|record| BatchItem {
                key: key_of(record),
                record_id: record.id,
                signature: record.signature,
            })
            .collect();
        b.iter(|| signature::verify_many(std::hint::black_box(&items)))
    });
    group.bench_function("ed25519_dalek_verify_batch_of_256_cofactorless", |b| {
        let messages: Vec<_> = parsed
            .iter()
            .map(|record| signature::signed_message(&record.id))
            .collect();
        let message_refs: Vec<&[u8]> = messages.iter().map(|message| message.as_slice()).collect();
        let signatures: Vec<_> = parsed
            .iter()
            .map(|record| ed25519_dalek::Signature::from_bytes(&record.signature.0))
            .collect();
        let keys: Vec<_> = parsed.iter().map(|record| *key_of(record)).collect();
        b.iter(|| ed25519_dalek::verify_batch(&message_refs, &signatures, &keys).is_ok())
    });
    group.bench_function("verifier_verify_batch_of_256_records", |b| {
        b.iter_batched(
            || setup.records.clone(),
            |records| {
                let verdicts = setup.verifier.verify_batch(records);
                assert!(verdicts.iter().all(Result::is_ok));
                verdicts
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("verifier_verify_single_256_records", |b| {
        b.iter_batched(
            || setup.records.clone(),
            |records| {
                records
                    .into_iter()
                    .map(|record| setup.verifier.verify(record).is_ok())
                    .filter(|ok| *ok)
                    .count()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = bounds
}
criterion_main!(benches);
