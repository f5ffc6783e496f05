//! Range sync of a fresh node from one peer holding 1,000,000 records (four chains of
//! 250,000), on loopback, with the release `aidledger-node` binary: records/s from the fresh
//! node's start until it holds every record (each verified as it arrives), then until its
//! explorer index covers them too (built behind the sync), and both nodes' peak memory. Run: `cargo bench -p aidledger-node --bench sync_million` (about 2 minutes:
//! most of it signs and stores the source's records). `SYNC_BENCH_RECORDS` changes the count.
//! `SYNC_BENCH_SOURCE_DIR=DIR` keeps the source node's directory in `DIR` after the first run
//! and copies it for later runs (the records are the same every run: fixed keys and
//! timestamps), so repeated runs take the sync's time only. `AIDLEDGER_BENCH_NODE=FILE` runs
//! another `aidledger-node` binary (to compare two builds in alternating runs).
//! `SYNC_BENCH_INDEX_WAIT=0` stops at the sync, without waiting for the explorer index.

mod network_common;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aidledger_node::ExplorerIndex;
use aidledger_spec::record::Statement;
use aidledger_spec::{sign_record, Body, Genesis, RecordDraft, RecordId, VerifiedRecord, Verifier};
use aidledger_store::datadir::DirLock;
use aidledger_store::{OpenMode, Store};
use network_common::{genesis, peak_rss_mib, signing_key, start_node, status, wait, ORGS};

/// Records per signature batch and store append.
const CHUNK_RECORDS: usize = 4096;
/// Chunks waiting to be appended.
const CHUNKS_QUEUED_MAX: usize = 8;

fn main() {
    let total: u64 = std::env::var("SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let root = tempfile::tempdir().expect("temporary directory");
    let genesis = genesis();
    let started = Instant::now();
    match std::env::var_os("SYNC_BENCH_SOURCE_DIR") {
        Some(cache) => cached_source(root.path(), &genesis, total, Path::new(&cache)),
        None => fill_source(root.path(), &genesis, total),
    }
    println!(
        "sync_million: source of {total} records made in {:.1?} ({})",
        started.elapsed(),
        network_common::node_binary().display()
    );
    let source = start_node(root.path(), &genesis, 0, &[]);
    let started = Instant::now();
    let fresh = start_node(root.path(), &genesis, 1, std::slice::from_ref(&source.p2p));
    let mut last_report = Instant::now();
    wait(Duration::from_secs(600), || {
        let records = status(&fresh.public)?["records"].as_u64()?;
        if last_report.elapsed() > Duration::from_secs(5) {
            println!("  {records} records after {:.1?}", started.elapsed());
            last_report = Instant::now();
        }
        (records >= total).then_some(())
    });
    let elapsed = started.elapsed();
    let synced_peak_mib = peak_rss_mib(fresh.child.id());
    // The explorer's index of the synced records is built behind the sync, once the chains
    // are quiet (`explorer::follower`): how long until search and totals cover them all.
    // `SYNC_BENCH_INDEX_WAIT=0` skips that wait (bench/peers compares the sync alone).
    let wait_for_index = std::env::var("SYNC_BENCH_INDEX_WAIT").map_or(true, |value| value != "0");
    let indexed = wait_for_index.then(|| {
        wait(Duration::from_secs(1200), || {
            (status(&fresh.public)?["index_behind"].as_u64()? == 0).then_some(())
        });
        started.elapsed()
    });
    println!("{:<40} {:>12}", "records synced", total);
    println!(
        "{:<40} {:>12.1?}",
        "time from the fresh node's start", elapsed
    );
    println!(
        "{:<40} {:>12.0}",
        "records/s",
        total as f64 / elapsed.as_secs_f64()
    );
    if let Some(indexed) = indexed {
        println!("{:<40} {:>12.1?}", "explorer index current after", indexed);
    }
    println!(
        "{:<40} {:>9.0} MiB",
        "peak RSS, fresh node, during the sync", synced_peak_mib
    );
    println!(
        "{:<40} {:>9.0} MiB",
        "peak RSS, fresh node, with its index",
        peak_rss_mib(fresh.child.id())
    );
    println!(
        "{:<40} {:>9.0} MiB",
        "peak RSS, serving node",
        peak_rss_mib(source.child.id())
    );
}

/// Copies the source node's directory of `total` records from `cache`, or makes it and keeps a
/// copy there (marked complete only once the copy is whole).
fn cached_source(root: &Path, genesis: &Genesis, total: u64, cache: &Path) {
    let kept = cache.join(format!("node0-{total}"));
    let complete = cache.join(format!("node0-{total}.complete"));
    let source = root.join("node0");
    if complete.exists() {
        copy_dir(&kept, &source);
        return;
    }
    fill_source(root, genesis, total);
    if kept.exists() {
        std::fs::remove_dir_all(&kept).expect("remove an incomplete copy");
    }
    copy_dir(&source, &kept);
    std::fs::write(&complete, b"").expect("mark the copy complete");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Writes the source node's directory: genesis, keys, and `total` records of four chains,
/// signed, verified and appended straight into its store.
fn fill_source(root: &Path, genesis: &Genesis, total: u64) {
    let dir = root.join("node0");
    std::fs::create_dir_all(&dir).expect("node0/");
    std::fs::write(dir.join("genesis.bin"), genesis.encode()).expect("genesis.bin");
    let key_text = |key: ed25519_dalek::SigningKey| format!("{}\n", hex::encode(key.to_bytes()));
    std::fs::write(dir.join("org.key"), key_text(signing_key(0))).expect("org.key");
    std::fs::write(dir.join("node.key"), key_text(network_common::node_key(0))).expect("node.key");
    for file in ["org.key", "node.key"] {
        network_common::owner_only(&dir.join(file));
    }
    let lock = DirLock::acquire(&dir).expect("lock");
    let store =
        Store::open_with_lock(&dir, lock, OpenMode::CreateIfMissing, ExplorerIndex).expect("store");
    let per_chain = total / ORGS.len() as u64;
    let (sender, receiver) = mpsc::sync_channel::<Vec<VerifiedRecord>>(CHUNKS_QUEUED_MAX);
    std::thread::scope(|scope| {
        for pair in [[0usize, 2], [1, 3]] {
            let (sender, genesis) = (sender.clone(), genesis.clone());
            scope.spawn(move || {
                let verifier = Verifier::new(genesis.clone());
                for index in pair {
                    sign_chain(&genesis, &verifier, index, per_chain, &sender);
                }
            });
        }
        drop(sender);
        for chunk in receiver {
            store.append_group(&chunk).expect("append");
        }
    });
    store.make_durable().expect("flush");
}

fn sign_chain(
    genesis: &Genesis,
    verifier: &Verifier,
    index: usize,
    count: u64,
    sender: &mpsc::SyncSender<Vec<VerifiedRecord>>,
) {
    let key = signing_key(index);
    let mut prev = RecordId::ZERO;
    let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
    for seq in 0..count {
        let draft = RecordDraft {
            network_id: genesis.network_id(),
            author: ORGS[index].into(),
            seq,
            prev,
            timestamp_ms: 1_700_000_000_000 + seq,
            body: Body::Statement(Statement {
                title: "Field report".into(),
                language: "en".into(),
                text: format!("Distribution {seq}: 40 households received water kits."),
            }),
        };
        let (id, bytes) = sign_record(&draft, &key).expect("sign");
        prev = id;
        chunk.push(bytes);
        if chunk.len() == CHUNK_RECORDS || seq + 1 == count {
            let verified = verifier
                .verify_batch(std::mem::take(&mut chunk))
                .into_iter()
                .map(|verdict| verdict.expect("a valid record"))
                .collect();
            sender.send(verified).expect("the appender");
        }
    }
}
