//! Redacting 10,000 records of a 1,000,000-record store (the `sync_million` source: four chains
//! of 250,000 statements, indexed by the explorer) while another chain takes durable appends,
//! one record at a time: how long the store takes to forget the bodies (`Store::redact`), how
//! long starting the index again takes (`Store::index_again`, before it: a fresh tree swapped
//! in under the lock of appends), and how long each append waited meanwhile (largest, 99th percentile, median),
//! against the same appender alone just before. Run:
//! `SYNC_BENCH_SOURCE_DIR=DIR cargo bench -p aidledger-node --bench redact_million` (the cache
//! of `sync_million`; without it the source is made first, about 2 minutes).
//! `REDACT_BENCH_RECORDS` and `REDACT_BENCH_REDACTED` change the counts;
//! `REDACT_BENCH_REBUILD=1` also times the follower's rebuild of the whole index.

mod network_common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aidledger_node::ExplorerIndex;
use aidledger_spec::record::Statement;
use aidledger_spec::redaction::{RedactedRecord, RedactionCategory};
use aidledger_spec::signed::record_id_of_bytes;
use aidledger_spec::{sign_record, Body, RecordDraft, VerifiedRecord, Verifier};
use aidledger_store::{RedactionMark, Store};
use network_common::{genesis, signing_key, source, ORGS};

/// How long the appender runs before its baseline is taken (the store's caches warming).
const WARM_UP: Duration = Duration::from_secs(3);
/// How long the appender runs alone before the redaction, for its baseline.
const BASELINE: Duration = Duration::from_secs(5);

fn main() {
    let total = env_u64("REDACT_BENCH_RECORDS", 1_000_000);
    let redacted = env_u64("REDACT_BENCH_REDACTED", 10_000);
    let root = tempfile::tempdir().expect("temporary directory");
    let genesis = genesis();
    let started = Instant::now();
    match std::env::var_os("SYNC_BENCH_SOURCE_DIR") {
        Some(cache) => source::cached_source(root.path(), &genesis, total, Path::new(&cache)),
        None => source::fill_source(root.path(), &genesis, total),
    }
    println!(
        "redact_million: store of {total} records ready in {:.1?}",
        started.elapsed()
    );
    let store = Store::open(&root.path().join("node0"), ExplorerIndex).expect("open the store");
    let per_chain = total / ORGS.len() as u64;
    let step = (per_chain / redacted).max(1);
    let named: Vec<RedactedRecord> = (0..redacted.min(per_chain))
        .map(|index| {
            let seq = index * step;
            let bytes = store.record_at(ORGS[0], seq).expect("read").expect("held");
            let id = record_id_of_bytes(&bytes).expect("a record id");
            RedactedRecord { seq, id }
        })
        .collect();
    let mark = RedactionMark {
        order: named[0].id,
        category: RedactionCategory::SafetyOfPersons,
        by_admins: true,
        ordered_at_ms: 1_700_000_000_000,
    };
    let stop = AtomicBool::new(false);
    let (baseline, during, forget, clear) = std::thread::scope(|scope| {
        let appender = scope.spawn(|| append_until(&store, &genesis, &stop));
        std::thread::sleep(WARM_UP);
        let baseline_at = Instant::now();
        std::thread::sleep(BASELINE);
        let mark_at = Instant::now();
        let cleared = Instant::now();
        store.index_again().expect("clear the index");
        let clear = cleared.elapsed();
        let forgetting = Instant::now();
        let outcome = store.redact(ORGS[0], &named, &mark).expect("redact");
        let forget = forgetting.elapsed();
        assert_eq!(outcome.withheld_now, named.len() as u64);
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::SeqCst);
        let waits = appender.join().expect("the appender");
        let (baseline, during): (Vec<_>, Vec<_>) = waits
            .into_iter()
            .filter(|(at, _)| *at >= baseline_at)
            .partition(|(at, _)| *at < mark_at);
        (baseline, during, forget, clear)
    });
    println!("{:<48} {:>12}", "records in the store", total);
    println!("{:<48} {:>12}", "records redacted (one order)", named.len());
    println!(
        "{:<48} {:>12.2?}",
        "index started again (fresh tree)", clear
    );
    println!(
        "{:<48} {:>12.2?}",
        "bodies forgotten (Store::redact)", forget
    );
    report("appends alone before (5 s, after 3 s warm-up)", &baseline);
    report("appends during the index restart and redaction", &during);
    if std::env::var("REDACT_BENCH_REBUILD").is_ok_and(|value| value == "1") {
        let rebuilding = Instant::now();
        while store.index_deferred(256).expect("index") > 0 {}
        println!(
            "{:<48} {:>12.1?}",
            "index built again (follower's chunks)",
            rebuilding.elapsed()
        );
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// Appends statements to the second chain after its head, one at a time, durably, until
/// `stop` (each signed and verified just before its append, outside the timing); returns each
/// append's start and wait.
fn append_until(
    store: &Store,
    genesis: &aidledger_spec::Genesis,
    stop: &AtomicBool,
) -> Vec<(Instant, Duration)> {
    let verifier = Verifier::new(genesis.clone());
    let head = store.head(ORGS[1]).expect("head").expect("a chain");
    let (mut seq, mut prev) = (head.seq + 1, head.id);
    let mut waits = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: ORGS[1].into(),
            seq,
            prev,
            timestamp_ms: 1_800_000_000_000 + seq,
            body: Body::Statement(Statement {
                title: "Appended during a redaction".into(),
                language: "en".into(),
                text: format!("Record {seq}."),
            }),
        };
        let (id, bytes) = sign_record(&draft, &signing_key(1)).expect("sign");
        (seq, prev) = (seq + 1, id);
        let record: VerifiedRecord = verifier.verify(bytes).expect("valid");
        let started = Instant::now();
        store
            .append_durable(std::slice::from_ref(&record))
            .expect("append");
        waits.push((started, started.elapsed()));
    }
    waits
}

fn report(what: &str, waits: &[(Instant, Duration)]) {
    let mut sorted: Vec<Duration> = waits.iter().map(|(_, wait)| *wait).collect();
    sorted.sort();
    let at = |quantile: f64| {
        sorted
            .get(((sorted.len() as f64 * quantile) as usize).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{:<48} {:>6} appends, median {:.2?}, p99 {:.2?}, largest {:.2?}",
        what,
        sorted.len(),
        at(0.5),
        at(0.99),
        sorted.last().copied().unwrap_or_default()
    );
}
