//! `reconcile` of 1,000,000 transactions: the money model built over them (links, statuses,
//! commitment questions), the findings and links `reconcile` selects, and its CSV written
//! (to a sink), in one process; prints the time of each step and the process's peak RSS.
//! Target (issue 19): under 10 s and 1 GiB.
//!
//! The transactions are generated in memory (no signatures: verification has its own bench,
//! `verify_bundle`), half disbursements and half receipts, linked in the ways the model
//! knows: per ten disbursements four acknowledged in full, two acknowledged short, one linked
//! by activity with two receipts, one acknowledged in another currency, one unacknowledged and
//! one withdrawn with its receipt standing. `AIDLEDGER_BENCH_RECONCILE_N` sets the number of
//! transactions (default 1,000,000).

use std::io::{BufWriter, Write};
use std::time::Instant;

use aidledger_cli::money::reconcile::{reconcile, Filter};
use aidledger_spec::record::{Money, Party, Transaction};
use aidledger_spec::text::Date;
use aidledger_spec::{Digest, RecordId};
use aidledger_view::corrections::Entry;
use aidledger_view::money::MoneyModel;

/// The allocator of the `aidledger` binary, so that time and memory are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Default number of transactions.
const DEFAULT_TRANSACTIONS: usize = 1_000_000;
/// Providers and receivers the transactions are spread over.
const ORGS: usize = 1_000;

fn id(kind: u8, number: usize) -> RecordId {
    let mut bytes = [0u8; 32];
    bytes[0] = kind;
    bytes[1..9].copy_from_slice(&(number as u64).to_le_bytes());
    // Spread the rest so that hashing sees distinct, record-id-like bytes.
    bytes[9..17].copy_from_slice(
        &(number as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .to_le_bytes(),
    );
    Digest(bytes)
}

fn date(day: usize) -> Date {
    Date {
        year: 2024,
        month: 1 + (day % 12) as u8,
        day: 1 + (day % 28) as u8,
    }
}

fn party(org: &str, activity: &str) -> Option<Party> {
    Some(Party {
        org_ref: org.to_owned(),
        name: String::new(),
        activity_id: activity.to_owned(),
    })
}

#[allow(clippy::too_many_arguments)]
fn entry(
    record: RecordId,
    author: &str,
    seq: u64,
    activity: &str,
    kind: u8,
    amount: &str,
    currency: &str,
    day: usize,
) -> Entry {
    Entry {
        id: record,
        author: author.to_owned(),
        seq,
        transaction: Transaction {
            activity_id: activity.to_owned(),
            transaction_type: kind,
            value: Money {
                amount: amount.to_owned(),
                currency: currency.to_owned(),
            },
            value_date: date(day),
            transaction_date: date(day),
            provider: None,
            receiver: None,
            description: String::new(),
            acknowledges: None,
            iati: None,
        },
        corrected_by: None,
        acknowledged_by: Vec::new(),
        withdrawn: false,
    }
}

fn generate(transactions: usize) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(transactions);
    let disbursements = transactions / 2;
    let mut receipts = 0usize;
    for number in 0..disbursements {
        let provider = format!("XM-P{}", number % ORGS);
        let receiver = format!("XM-R{}", (number / ORGS) % ORGS);
        let activity = format!("{provider}-A{number}");
        let amount = format!("{}.00", 1000 + number % 9000);
        let mut paid = entry(
            id(1, number),
            &provider,
            (number / ORGS) as u64,
            &activity,
            3,
            &amount,
            "GBP",
            number,
        );
        paid.transaction.receiver = party(&receiver, "");
        let variant = number % 10;
        paid.withdrawn = variant == 9;
        let receipt = |amount: &str, currency: &str, serial: usize| {
            let mut got = entry(
                id(2, serial),
                &receiver,
                serial as u64,
                &format!("{receiver}-B"),
                1,
                amount,
                currency,
                number + 3,
            );
            got.transaction.provider = party(&provider, &activity);
            got
        };
        let explicit = |mut got: Entry| {
            got.transaction.acknowledges = Some(paid.id);
            got
        };
        match variant {
            0..=3 | 9 => {
                entries.push(explicit(receipt(&amount, "GBP", receipts)));
                receipts += 1;
            }
            4 | 5 => {
                let less = format!("{}.50", 999 + number % 9000);
                entries.push(explicit(receipt(&less, "GBP", receipts)));
                receipts += 1;
            }
            6 => {
                for _ in 0..2 {
                    entries.push(receipt("500.00", "GBP", receipts));
                    receipts += 1;
                }
            }
            7 => {
                entries.push(explicit(receipt(&amount, "EUR", receipts)));
                receipts += 1;
            }
            _ => {}
        }
        entries.push(paid);
    }
    entries
}

/// User + system CPU seconds of this process so far (from /proc/self/stat, in the kernel's
/// clock ticks of 1/100 s), to tell the work from the wait on a busy machine.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let transactions: usize = std::env::var("AIDLEDGER_BENCH_RECONCILE_N")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_TRANSACTIONS);
    let started = Instant::now();
    let entries = generate(transactions);
    let count = entries.len();
    let generated = started.elapsed().as_secs_f64();

    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let as_of = Date {
        year: 2025,
        month: 1,
        day: 1,
    };
    let model = MoneyModel::build(entries, as_of, 90).expect("the model");
    let built = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let outcome = reconcile(&model, &Filter::default());
    let reconciled = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut sink = BufWriter::new(CountingSink::default());
    outcome.write_csv(&mut sink).expect("CSV");
    sink.flush().expect("flush");
    let csv_bytes = sink.get_ref().0;
    let written = started.elapsed().as_secs_f64();
    let cpu_csv = cpu_seconds() - cpu_before;
    // The other two forms, timed apart (the command prints one of the three).
    let started = Instant::now();
    let cpu_start = cpu_seconds();
    let mut sink = BufWriter::new(CountingSink::default());
    outcome.write_text(&mut sink).expect("text");
    sink.flush().expect("flush");
    let (text_bytes, text_seconds) = (sink.get_ref().0, started.elapsed().as_secs_f64());
    let text_cpu = cpu_seconds() - cpu_start;
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let mut sink = BufWriter::new(CountingSink::default());
    outcome.write_json(&mut sink, |_| {}).expect("JSON");
    sink.flush().expect("flush");
    let (json_bytes, json_seconds) = (sink.get_ref().0, started.elapsed().as_secs_f64());
    let json_cpu = cpu_seconds() - cpu_start;
    let total = built + reconciled + written;
    let cpu = cpu_csv;
    println!(
        "reconcile of {count} transactions: {} links, {} findings ({:?}); generated in {generated:.2} s (not counted)",
        outcome.links.len(),
        outcome.findings.len(),
        outcome.counts()
    );
    println!(
        "  model built {built:.2} s, findings and links {reconciled:.2} s, CSV ({:.1} MB) {written:.2} s: total {total:.2} s wall, {cpu:.2} s CPU; peak RSS {} MiB",
        csv_bytes as f64 / 1e6,
        peak_rss_kib().map_or("?".to_owned(), |kib| (kib / 1024).to_string())
    );
    println!(
        "  instead of CSV: text ({:.1} MB) {text_seconds:.2} s wall / {text_cpu:.2} s CPU, JSON ({:.1} MB) {json_seconds:.2} s wall / {json_cpu:.2} s CPU; peak RSS over all three {} MiB",
        text_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6,
        peak_rss_kib().map_or("?".to_owned(), |kib| (kib / 1024).to_string())
    );
}

/// A writer that counts bytes and keeps none.
#[derive(Default)]
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0 += buffer.len() as u64;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
