//! Verification of a bundle of 1,000,000 records by the real `aidledger verify` binary:
//! records/s and peak memory, in batch mode (the default) and with `--strict`.
//!
//! Run: `cargo bench -p aidledger-cli --bench verify_bundle` (set AIDLEDGER_BENCH_RECORDS to
//! change the count). The bundle is generated once and kept under target/aidledger-bench/.
//! `AIDLEDGER_BENCH_REDACTED=N` (at most 16,384) withholds N records of the first chain, spread
//! evenly, under one `redaction` order of their author at the chain's end (FORMAT.md §27): the
//! same count of records to verify, N of them without their bodies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aidledger_spec::bundle::BundleWriter;
use aidledger_spec::genesis::{AdminRule, Genesis, Member, Role, GENESIS_FORMAT_VERSION};
use aidledger_spec::record::{Body, Money, Party, Transaction};
use aidledger_spec::redaction::{RedactedRecord, Redaction, RedactionCategory};
use aidledger_spec::signed::{sign_record, RecordDraft};
use aidledger_spec::text::Date;
use aidledger_spec::withheld::withhold;
use aidledger_spec::{Digest, RecordId};
use ed25519_dalek::SigningKey;

const DEFAULT_RECORDS: u64 = 1_000_000;
const AUTHORS: [&str; 3] = ["DK-CVR-20699310", "GB-GOV-1", "XM-DAC-41114"];
/// Records signed together by the generator's worker threads.
const SIGN_CHUNK: usize = 8192;

fn main() {
    let records: u64 = std::env::var("AIDLEDGER_BENCH_RECORDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_RECORDS);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/aidledger-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let redacted: u64 = std::env::var("AIDLEDGER_BENCH_REDACTED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0);
    let (bundle, network_id) = ensure_bundle(&dir, records, redacted);
    let size_mb = std::fs::metadata(&bundle)
        .map(|meta| meta.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!(
        "bundle: {records} records ({redacted} withheld under an order), {size_mb:.0} MB, {}",
        bundle.display()
    );
    for (label, extra) in [("batch (default)", None), ("--strict", Some("--strict"))] {
        let started = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_aidledger"));
        command
            .args(["verify", "--bundle"])
            .arg(&bundle)
            .args(["--network-id", &network_id]);
        command.args(extra);
        let output = command.output().expect("run aidledger verify");
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            output.status.success(),
            "verify failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        println!(
            "verify {label:<16} {seconds:>7.2} s  {:>9.0} records/s  peak RSS of the largest child so far {:.0} MiB",
            records as f64 / seconds,
            peak_child_rss_mib()
        );
    }
}

/// The largest resident set of any child process so far, in MiB (Linux reports KiB).
fn peak_child_rss_mib() -> f64 {
    aidledger_os::peak_child_rss_kib().unwrap_or(0) as f64 / 1024.0
}

fn key(index: usize) -> SigningKey {
    SigningKey::from_bytes(&[index as u8 + 1; 32])
}

fn genesis() -> Genesis {
    let members = AUTHORS
        .iter()
        .enumerate()
        .map(|(index, id)| Member {
            id: (*id).into(),
            name: format!("Organisation {index}"),
            roles: vec![Role::Donor],
            signing_keys: vec![aidledger_spec::signature::public_key_of(&key(index))],
            node_keys: vec![],
        })
        .collect();
    let mut genesis = Genesis {
        format_version: GENESIS_FORMAT_VERSION,
        name: "benchmark network".into(),
        created_ms: 1_700_000_000_000,
        members,
        admin_rule: AdminRule {
            admins: AUTHORS.iter().map(|id| (*id).into()).collect(),
            threshold: 2,
        },
    };
    genesis.normalise();
    genesis.check().expect("bench genesis");
    genesis
}

fn body(seq: u64) -> Body {
    Body::Transaction(Transaction {
        activity_id: format!("GB-GOV-1-3011{:05}", seq % 50_000),
        transaction_type: 3,
        value: Money {
            amount: format!("{}.{:02}", 1000 + seq % 100_000, seq % 100),
            currency: "GBP".into(),
        },
        value_date: Date {
            year: 2020,
            month: 6,
            day: 22,
        },
        transaction_date: Date {
            year: 2020,
            month: 6,
            day: 22,
        },
        provider: Some(Party {
            org_ref: "GB-GOV-1".into(),
            name: "FCDO".into(),
            activity_id: "GB-GOV-1-301150-117".into(),
        }),
        receiver: Some(Party {
            org_ref: "DK-CVR-20699310".into(),
            name: "Danish Refugee Council".into(),
            activity_id: String::new(),
        }),
        description: "Disbursement for the humanitarian response".into(),
        acknowledges: None,
        iati: None,
    })
}

fn ensure_bundle(dir: &Path, records: u64, redacted: u64) -> (PathBuf, String) {
    let genesis = genesis();
    let network_id = genesis.network_id();
    let suffix = if redacted > 0 {
        format!("-redacted-{redacted}")
    } else {
        String::new()
    };
    let path = dir.join(format!(
        "bundle-{records}{suffix}-{}.bin",
        &network_id.to_hex()[..16]
    ));
    if path.exists() {
        return (path, network_id.to_hex());
    }
    let started = Instant::now();
    let partial = path.with_extension("partial");
    let file = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(&partial).expect("create bundle"),
    );
    let mut writer = BundleWriter::new(file, &genesis.encode()).expect("bundle header");
    let per_author = records / AUTHORS.len() as u64;
    for (index, author) in genesis
        .members
        .iter()
        .map(|member| member.id.clone())
        .enumerate()
    {
        let count = if index == AUTHORS.len() - 1 {
            records - per_author * (AUTHORS.len() as u64 - 1)
        } else {
            per_author
        };
        let key_index = AUTHORS.iter().position(|id| *id == author).expect("author");
        let withheld = if index == 0 { redacted } else { 0 };
        write_chain(
            &mut writer,
            network_id,
            &author,
            &key(key_index),
            count,
            withheld,
        );
    }
    writer.finish().expect("finish bundle");
    std::fs::rename(&partial, &path).expect("rename bundle");
    println!(
        "generated {records} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (path, network_id.to_hex())
}

/// Signs a chain in parallel chunks: a record id does not depend on any signature, so the
/// chain links are computed first and the signing is spread over the cores.
fn write_chain<W: std::io::Write>(
    writer: &mut BundleWriter<W>,
    network_id: Digest,
    author: &str,
    key: &SigningKey,
    count: u64,
    withheld: u64,
) {
    let every = (withheld > 0).then(|| (count / withheld).max(1));
    let mut named = Vec::new();
    let mut prev = RecordId::ZERO;
    let mut seq = 0;
    while seq < count {
        let end = (seq + SIGN_CHUNK as u64).min(count);
        let drafts: Vec<RecordDraft> = (seq..end)
            .map(|seq| {
                let draft = RecordDraft {
                    network_id,
                    author: author.into(),
                    seq,
                    prev,
                    timestamp_ms: 1_700_000_000_000 + seq,
                    body: body(seq),
                };
                prev = unsigned_id(&draft, key);
                draft
            })
            .collect();
        let half = drafts.len() / 2;
        let (first, second) = drafts.split_at(half);
        let (a, b) = std::thread::scope(|scope| {
            let other = scope.spawn(|| sign_all(second, key));
            (sign_all(first, key), other.join().expect("signer thread"))
        });
        for (offset, bytes) in a.iter().chain(&b).enumerate() {
            let at = seq + offset as u64;
            match every {
                Some(every) if at.is_multiple_of(every) && (named.len() as u64) < withheld => {
                    let id = aidledger_spec::signed::record_id_of_bytes(bytes).expect("an id");
                    named.push(RedactedRecord { seq: at, id });
                    let envelope = withhold(bytes.clone()).expect("a record");
                    writer.record(&envelope).expect("write record");
                }
                _ => writer.record(bytes).expect("write record"),
            }
        }
        seq = end;
    }
    if !named.is_empty() {
        let order = RecordDraft {
            network_id,
            author: author.into(),
            seq: count,
            prev,
            timestamp_ms: 1_700_000_000_000 + count,
            body: Body::Redaction(Redaction {
                records: named,
                category: RedactionCategory::PersonalData,
                note: "Benchmark: records withheld under their author's order.".into(),
            }),
        };
        let (_, bytes) = sign_record(&order, key).expect("sign the order");
        writer.record(&bytes).expect("write the order");
    }
}

fn sign_all(drafts: &[RecordDraft], key: &SigningKey) -> Vec<Vec<u8>> {
    drafts
        .iter()
        .map(|draft| sign_record(draft, key).expect("sign").1)
        .collect()
}

/// The id a draft will have once signed.
fn unsigned_id(draft: &RecordDraft, key: &SigningKey) -> RecordId {
    let (header, _) = draft
        .header(aidledger_spec::signature::public_key_of(key))
        .expect("bench bodies are small");
    header.id()
}
