//! What a chain's records cost sled, laid out two ways: one sled key per record (the store's
//! layout today, `records` and its `index` of record ids) against blocks of 16 records in one
//! value (the Merkle tree's blocks: `store/src/merkle.rs`). Raw sled, no node: the question is
//! how much of issue 22's sync and batch targets a change of layout could buy before anyone
//! writes it (BENCHMARKS.md, issue 22, "the bounds of this design"). Run:
//! `cargo bench -p aidledger-store --bench record_layout` (`LAYOUT_BENCH_RECORDS`, default
//! 1,000,000; `LAYOUT_BENCH_SINGLE_RECORDS`, default 20,000, appended one at a time).
//!
//! Each layout runs in a process of its own (this binary again, `LAYOUT_BENCH_ONE=name`), so
//! that its peak RSS is its own. Groups of [`GROUP_RECORDS`] are appended as a range sync's
//! batch is, with a sled flush after each group; single appends flush after each record. No
//! fsync (the CPU is the question), but sled 0.34's flush waits for the kernel to write its
//! log (`sync_file_range`), so records/s include that writeback. sled's cache is the store's
//! (`STORE_CACHE_BYTES`).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{cpu_time, env_u64};

use aidledger_store::STORE_CACHE_BYTES;
use sha2::{Digest, Sha256};

/// Records in a group of the batched phase, as a range sync's batch (cut by size, so rarely a
/// multiple of a block): not a multiple of [`BLOCK_RECORDS`], so that the packed layouts pay
/// for the blocks that groups leave begun.
const GROUP_RECORDS: u64 = 1000;
/// Records a block holds in the packed layouts.
const BLOCK_RECORDS: u64 = 16;
/// About the size of a signed statement record (header, body, signature).
const RECORD_BYTES: usize = 450;
const AUTHOR: &str = "GB-GOV-1";

#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Today: `records` (author, seq) → record, and `index` id → (author, seq).
    OnePerRecord,
    /// `records` (author, seq / 16) → the block's records, each with its length; `index` as today.
    Blocks,
    /// Blocks without the id index: what the index costs.
    BlocksWithoutIndex,
}

const LAYOUTS: [Layout; 3] = [
    Layout::OnePerRecord,
    Layout::Blocks,
    Layout::BlocksWithoutIndex,
];

fn main() {
    if let Ok(name) = std::env::var("LAYOUT_BENCH_ONE") {
        let layout = LAYOUTS
            .into_iter()
            .find(|layout| format!("{layout:?}") == name)
            .expect("LAYOUT_BENCH_ONE names a layout");
        run_one(layout);
        return;
    }
    println!(
        "record_layout: {} cores, sled cache {} MiB, records of {RECORD_BYTES} B",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        STORE_CACHE_BYTES / (1024 * 1024)
    );
    let exe = std::env::current_exe().expect("this bench's path");
    for layout in LAYOUTS {
        let status = Command::new(&exe)
            .env("LAYOUT_BENCH_ONE", format!("{layout:?}"))
            .status()
            .expect("the bench runs a layout");
        assert!(status.success(), "layout {layout:?} failed");
    }
}

struct Trees {
    records: sled::Tree,
    index: sled::Tree,
}

fn run_one(layout: Layout) {
    let records = env_u64("LAYOUT_BENCH_RECORDS", 1_000_000);
    let single = env_u64("LAYOUT_BENCH_SINGLE_RECORDS", 20_000);
    let root = tempfile::tempdir().expect("a temporary directory");
    let db = sled::Config::new()
        .path(root.path().join("db"))
        .cache_capacity(STORE_CACHE_BYTES)
        .open()
        .expect("sled opens");
    let trees = Trees {
        records: db.open_tree("records").expect("a tree"),
        index: db.open_tree("index").expect("a tree"),
    };
    let (cpu, wall) = timed(|| {
        let mut seq = 0;
        while seq < records {
            let end = (seq + GROUP_RECORDS).min(records);
            append(&trees, layout, seq..end);
            db.flush().expect("flush");
            seq = end;
        }
    });
    let batched = format!(
        "{:.0} records/s, {:.1} µs CPU a record",
        records as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / records as f64
    );
    let (cpu, wall) = timed(|| {
        for seq in records..records + single {
            append(&trees, layout, seq..seq + 1);
            db.flush().expect("flush");
        }
    });
    check_reads(&trees, layout, records + single);
    println!(
        "{:<20} groups of {GROUP_RECORDS}: {batched}; one at a time: {:.0} records/s, {:.1} µs CPU a record; peak RSS {} MiB",
        format!("{layout:?}"),
        single as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / single as f64,
        peak_rss_kib() / 1024
    );
}

fn timed(work: impl FnOnce()) -> (Duration, Duration) {
    let (cpu, wall) = (cpu_time(), Instant::now());
    work();
    (cpu_time().saturating_sub(cpu), wall.elapsed())
}

fn chain_key(seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(AUTHOR.len() + 9);
    key.push(AUTHOR.len() as u8);
    key.extend_from_slice(AUTHOR.as_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn record_id(seq: u64) -> [u8; 32] {
    Sha256::digest(seq.to_be_bytes()).into()
}

/// A record's bytes: its id, then filler, [`RECORD_BYTES`] in all (sled stores values as they
/// come; it does not compress them).
fn record_bytes(seq: u64) -> Vec<u8> {
    let mut bytes = record_id(seq).to_vec();
    bytes.resize(RECORD_BYTES, (seq % 251) as u8);
    bytes
}

/// Appends the records at `seqs` (extending the chain) in `layout`.
fn append(trees: &Trees, layout: Layout, seqs: std::ops::Range<u64>) {
    match layout {
        Layout::OnePerRecord => {
            for seq in seqs {
                let key = chain_key(seq);
                trees
                    .records
                    .insert(&key, record_bytes(seq))
                    .expect("insert");
                trees.index.insert(record_id(seq), key).expect("insert");
            }
        }
        Layout::Blocks | Layout::BlocksWithoutIndex => {
            let mut seq = seqs.start;
            while seq < seqs.end {
                let block = seq / BLOCK_RECORDS;
                let block_end = ((block + 1) * BLOCK_RECORDS).min(seqs.end);
                let key = chain_key(block);
                // A block begun by an earlier group is read and written again, whole.
                let mut value = match seq % BLOCK_RECORDS {
                    0 => Vec::new(),
                    _ => trees
                        .records
                        .get(&key)
                        .expect("get")
                        .expect("the block begun")
                        .to_vec(),
                };
                for at in seq..block_end {
                    let bytes = record_bytes(at);
                    value.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                    value.extend_from_slice(&bytes);
                    if matches!(layout, Layout::Blocks) {
                        trees
                            .index
                            .insert(record_id(at), chain_key(at))
                            .expect("insert");
                    }
                }
                trees.records.insert(&key, value).expect("insert");
                seq = block_end;
            }
        }
    }
}

/// Reads a sample of records back by position (and by id where there is an index), and counts
/// what `records` holds, so that a layout that wrote the wrong bytes or too many fails here
/// rather than being measured.
fn check_reads(trees: &Trees, layout: Layout, count: u64) {
    let values = match layout {
        Layout::OnePerRecord => count,
        Layout::Blocks | Layout::BlocksWithoutIndex => count.div_ceil(BLOCK_RECORDS),
    };
    assert_eq!(trees.records.len() as u64, values, "values in records");
    if !matches!(layout, Layout::BlocksWithoutIndex) {
        assert_eq!(trees.index.len() as u64, count, "index entries");
    }
    let last_block = trees.records.last().expect("last").expect("a value").1;
    if !matches!(layout, Layout::OnePerRecord) {
        let in_last = (count - 1) % BLOCK_RECORDS + 1;
        assert_eq!(
            block_len(&last_block),
            in_last as usize,
            "records in the last block"
        );
    }
    for seq in (0..count).step_by(997).chain([count - 1]) {
        if !matches!(layout, Layout::BlocksWithoutIndex) {
            let position = trees
                .index
                .get(record_id(seq))
                .expect("get")
                .expect("an entry");
            assert_eq!(
                position.as_ref(),
                chain_key(seq).as_slice(),
                "index of {seq}"
            );
        }
        let bytes = match layout {
            Layout::OnePerRecord => trees
                .records
                .get(chain_key(seq))
                .expect("get")
                .expect("a record")
                .to_vec(),
            Layout::Blocks | Layout::BlocksWithoutIndex => {
                let block = trees
                    .records
                    .get(chain_key(seq / BLOCK_RECORDS))
                    .expect("get")
                    .expect("a block");
                nth_in_block(&block, (seq % BLOCK_RECORDS) as usize)
            }
        };
        assert_eq!(bytes, record_bytes(seq), "record {seq} read back");
    }
}

/// How many records a block holds (every byte accounted for).
fn block_len(block: &[u8]) -> usize {
    let mut rest = block;
    let mut records = 0;
    while !rest.is_empty() {
        let (length, tail) = rest.split_at(4);
        let length = u32::from_be_bytes(length.try_into().expect("4 bytes")) as usize;
        rest = &tail[length..];
        records += 1;
    }
    records
}

fn nth_in_block(block: &[u8], n: usize) -> Vec<u8> {
    let mut rest = block;
    for at in 0..=n {
        let (length, tail) = rest.split_at(4);
        let length = u32::from_be_bytes(length.try_into().expect("4 bytes")) as usize;
        let (bytes, tail) = tail.split_at(length);
        if at == n {
            return bytes.to_vec();
        }
        rest = tail;
    }
    unreachable!("the loop returns at n")
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
