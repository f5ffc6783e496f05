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
//! `SYNC_BENCH_STORE_CACHE_MIB=N` starts the fresh node with `--store-cache-mib N`.

mod network_common;

use network_common::source;

use std::path::Path;
use std::time::{Duration, Instant};

use network_common::{genesis, peak_rss_mib, start_node, start_node_with, status, wait};

fn main() {
    let total: u64 = std::env::var("SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let root = tempfile::tempdir().expect("temporary directory");
    let genesis = genesis();
    let started = Instant::now();
    match std::env::var_os("SYNC_BENCH_SOURCE_DIR") {
        Some(cache) => source::cached_source(root.path(), &genesis, total, Path::new(&cache)),
        None => source::fill_source(root.path(), &genesis, total),
    }
    println!(
        "sync_million: source of {total} records made in {:.1?} ({})",
        started.elapsed(),
        network_common::node_binary().display()
    );
    let source = start_node(root.path(), &genesis, 0, &[]);
    let started = Instant::now();
    let fresh_flags: Vec<String> = std::env::var("SYNC_BENCH_STORE_CACHE_MIB")
        .map(|mib| vec!["--store-cache-mib".to_owned(), mib])
        .unwrap_or_default();
    if !fresh_flags.is_empty() {
        println!(
            "sync_million: the fresh node runs with {}",
            fresh_flags.join(" ")
        );
    }
    let fresh = start_node_with(
        root.path(),
        &genesis,
        1,
        std::slice::from_ref(&source.p2p),
        &fresh_flags,
    );
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
