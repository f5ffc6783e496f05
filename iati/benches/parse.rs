//! Parse throughput on the largest shared IATI file (`fcdo_GB-GOV-1.xml`, ~2 MB), in MB/s.
//!
//! A `harness = false` bench: the file is read into memory once, then streamed through
//! [`ActivityReader`] repeatedly; it reports the median of the runs for reading alone and for
//! reading plus mapping every transaction (with its content digest). Run with
//! `cargo bench -p aidledger-iati --bench parse`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aidledger_iati::{content_digest, to_transaction, ActivityReader};

const FILE: &str = "covid19-dportal/fcdo_GB-GOV-1.xml";
/// Runs per measurement; the median is reported.
const RUNS: usize = 41;

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/iati")
        .join(FILE);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    println!("{FILE}: {} bytes, {RUNS} runs each", bytes.len());
    report("read activities", &bytes, || read_only(&bytes));
    report("read + map + digest", &bytes, || read_and_map(&bytes));
}

fn read_only(bytes: &[u8]) -> usize {
    ActivityReader::new(bytes)
        .map(|activity| activity.expect("file reads").transactions.len())
        .sum()
}

fn read_and_map(bytes: &[u8]) -> usize {
    let mut mapped = 0;
    for activity in ActivityReader::new(bytes) {
        let activity = activity.expect("file reads");
        for transaction in &activity.transactions {
            let result = to_transaction(&activity, transaction).expect("maps");
            std::hint::black_box(content_digest(&result));
            mapped += 1;
        }
    }
    mapped
}

fn report(name: &str, bytes: &[u8], mut run: impl FnMut() -> usize) {
    assert_eq!(run(), 1348, "warm-up reads every transaction");
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(run());
            started.elapsed()
        })
        .collect();
    times.sort();
    let megabytes = bytes.len() as f64 / 1e6;
    let throughput = |time: Duration| megabytes / time.as_secs_f64();
    println!(
        "{name:>22}: median {:.2} ms = {:.0} MB/s (best {:.0}, worst {:.0} MB/s)",
        times[RUNS / 2].as_secs_f64() * 1e3,
        throughput(times[RUNS / 2]),
        throughput(times[0]),
        throughput(times[RUNS - 1]),
    );
}
