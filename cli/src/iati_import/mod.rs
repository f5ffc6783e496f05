//! `iati import`: IATI activity files into the node's chain, one activity at a time.
//!
//! Each transaction is mapped by the `aidledger-iati` crate. Before the first file the
//! organisation's own chain is read once from the node's public API and verified, giving
//! import key → (transaction record id, content digest of what it says now). Then for each
//! mapped transaction:
//! - a key not seen before: a new transaction record;
//! - the same key and digest: unchanged, nothing recorded;
//! - the same key, another digest (the publisher changed it): a correction of the original
//!   record, whose replacement is the new transaction.
//!
//! Records go to the node in batches (`POST /v1/records/batch`), several batches in flight,
//! so the node's group commit signs and stores many records per fsync. Corrections only name
//! records stored before the current file; a key met twice in one file is a warning.
//!
//! Only activities whose `reporting-org/@ref` is the node's organisation are imported, unless
//! `--as-reporting-org REF` says that REF's activities are this organisation's too; the others
//! are counted and named in the summary. Every transaction read is imported, unchanged, or a
//! warning with file, line and reason.
//!
//! `batch` sends the records, `report` writes the summary.

mod batch;
mod report;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aidledger_iati::{content_digest, to_transaction, Activity, ActivityReader, ReadError};
use aidledger_spec::record::{Correction, Replacement, Transaction};
use aidledger_spec::{Body, Digest, RecordId};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::source::{Source, PAGE_RECORDS_MAX};
use crate::submit::SubmitTarget;
use batch::{Batch, BatchSender};

/// Body bytes sent in one batch at most (the node allows more; smaller batches keep several
/// in flight and the memory of the importer small).
pub const BATCH_BYTES_TARGET: usize = 4 * 1024 * 1024;
/// Batches sent concurrently: the node's writer is a pipeline (signing, appending, syncing),
/// and each stage should find work while the next batch is parsed and on the wire.
pub const BATCHES_IN_FLIGHT: usize = 6;
/// Read buffer for an XML file.
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// How long one batch request may take.
const BATCH_TIMEOUT: Duration = Duration::from_secs(300);

/// Why an import could not run (exit 2); problems with a file's content are not errors.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The node could not be asked or refused.
    #[error("node: {0}")]
    Node(String),
    /// A file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The node's chain could not be read.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
}

/// What to import and where.
pub struct ImportOptions {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Reporting-org refs imported as the node's organisation besides its own id.
    pub as_reporting_orgs: Vec<String>,
    /// The node.
    pub target: SubmitTarget,
}

/// Something not imported, with where it is.
#[derive(Clone, Debug)]
pub struct ImportWarning {
    /// The file.
    pub file: String,
    /// The line.
    pub line: u64,
    /// The activity, empty when unknown.
    pub activity_id: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for ImportWarning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}:{}: ", self.file, self.line)?;
        if !self.activity_id.is_empty() {
            write!(formatter, "activity {:?}: ", self.activity_id)?;
        }
        write!(formatter, "{}", self.reason)
    }
}

/// What happened to one file.
#[derive(Debug, Default)]
pub struct FileReport {
    /// The file as given.
    pub file: String,
    /// Bytes read.
    pub bytes: u64,
    /// Activities read.
    pub activities: u64,
    /// Transactions read (of every reporting organisation).
    pub transactions: u64,
    /// New transaction records.
    pub recorded: u64,
    /// Corrections recorded.
    pub corrections: u64,
    /// Transactions already recorded with the same content.
    pub unchanged: u64,
    /// Count and exact sum per (type, currency) of the mapped transactions of this organisation.
    pub totals: BTreeMap<(u8, String), (u64, Decimal)>,
    /// Activities (and their transactions) of other reporting organisations, per ref.
    pub skipped: BTreeMap<String, (u64, u64)>,
    /// Warnings.
    pub warnings: Vec<ImportWarning>,
    /// Where and why the file could not be read to its end.
    pub broken: Option<String>,
}

/// What the whole import did.
pub struct ImportReport {
    /// The organisation.
    pub org: String,
    /// Per file.
    pub files: Vec<FileReport>,
    /// Wall time.
    pub elapsed: Duration,
}

/// A record sent, waiting for its id.
struct Pending {
    key: Digest,
    digest: Digest,
    /// The original transaction record (for a correction), none for a new one.
    corrects: Option<RecordId>,
}

/// What the index knows of one import key.
#[derive(Clone, Copy)]
struct Known {
    record: RecordId,
    digest: Digest,
}

/// import key → the transaction record and the digest of what it says now.
type ImportIndex = HashMap<Digest, Known>;

/// Runs the import; warnings are printed to stderr as they are found.
pub fn import(options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    // Only checked, not opened: opening a FIFO would consume its one writer.
    for path in &options.files {
        std::fs::metadata(path).map_err(|source| open_error(path, source))?;
    }
    let org = node_org(&options.target)?;
    let public = options.target.public_url.clone().ok_or_else(|| {
        ImportError::Node("the node's public URL is needed to read what is already imported: use --data-dir, or --public with --submit".to_owned())
    })?;
    let mut index = load_index(&Source::Node(public), &org)?;
    let mut accepted = vec![org.clone()];
    accepted.extend(options.as_reporting_orgs.iter().cloned());
    let sender = BatchSender::start(&options.target);
    let mut files = Vec::new();
    for path in &options.files {
        let report = import_file(path, &accepted, &mut index, &sender)?;
        files.push(report);
    }
    Ok(ImportReport {
        org,
        files,
        elapsed: started.elapsed(),
    })
}

fn open_error(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Open {
        path: path.display().to_string(),
        source,
    }
}

/// The organisation of the node behind the submit API.
fn node_org(target: &SubmitTarget) -> Result<String, ImportError> {
    let url = format!("{}/v1/status", target.url.trim_end_matches('/'));
    let response = crate::source::http_client()
        .get(&url)
        .bearer_auth(&target.token)
        .send()
        .map_err(|error| ImportError::Node(format!("cannot reach {url}: {error}")))?;
    let status = response.status();
    let value: Value = response
        .json()
        .map_err(|error| ImportError::Node(format!("{url} answered {status}: {error}")))?;
    value["org"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ImportError::Node(format!("{url} answered {status}: {value}")))
}

/// Reads `org`'s chain newest first, verifies every record, and builds the import index.
fn load_index(source: &Source, org: &str) -> Result<ImportIndex, ImportError> {
    // Under the governance: the organisation may have rotated its key or joined after the genesis.
    let (verifier, _) = crate::governance::lookup::governed_verifier(source)?;
    let mut records = Vec::new();
    let mut before = None;
    loop {
        let page = source.chain_page(org, before, PAGE_RECORDS_MAX)?;
        let Some(last) = page.last() else { break };
        let last = aidledger_spec::SignedRecord::parse(last.clone()).map_err(|error| {
            ImportError::Node(format!("a record of {org} is malformed: {error}"))
        })?;
        before = Some(last.header.seq);
        for verdict in verifier.verify_batch(page) {
            let record = verdict.map_err(|rejected| {
                ImportError::Node(format!(
                    "a record of {org} does not verify: {}",
                    rejected.reason
                ))
            })?;
            records.push((record.header().seq, record.id(), record.body().clone()));
        }
        if before == Some(0) {
            break;
        }
    }
    records.sort_by_key(|(seq, _, _)| *seq);
    let mut index = ImportIndex::new();
    let mut by_record: HashMap<RecordId, Digest> = HashMap::new();
    for (_, id, body) in records {
        match body {
            Body::Transaction(transaction) => {
                if let Some(source) = &transaction.iati {
                    let digest = content_digest(&transaction);
                    index.insert(source.import_key, Known { record: id, digest });
                    by_record.insert(id, source.import_key);
                }
            }
            Body::Correction(correction) => {
                let Some(key) = by_record.get(&correction.corrects) else {
                    continue;
                };
                let Some(known) = index.get_mut(key) else {
                    continue;
                };
                known.digest = match &correction.replacement {
                    Some(Replacement::Transaction(transaction)) => content_digest(transaction),
                    // A withdrawn transaction matches no content: importing it again restores it.
                    _ => Digest([0; 32]),
                };
            }
            _ => {}
        }
    }
    Ok(index)
}

/// Imports one file; a file that cannot be read whole is reported, not an error.
fn import_file(
    path: &Path,
    accepted: &[String],
    index: &mut ImportIndex,
    sender: &BatchSender,
) -> Result<FileReport, ImportError> {
    let label = path.display().to_string();
    let file = File::open(path).map_err(|source| open_error(path, source))?;
    let mut reader = ActivityReader::new(BufReader::with_capacity(READ_BUFFER_BYTES, file));
    let mut report = FileReport {
        file: label.clone(),
        ..FileReport::default()
    };
    let mut batch = Batch::default();
    let mut seen_in_file: HashMap<Digest, u64> = HashMap::new();
    let mut in_flight = Vec::new();
    while let Some(next) = reader.next() {
        let activity = match next {
            Ok(activity) => activity,
            Err(error) => {
                report.broken = Some(format!(
                    "{label}:{}: {error}",
                    error_line(&error, reader.line())
                ));
                break;
            }
        };
        report.activities += 1;
        report.transactions += activity.transactions.len() as u64;
        for warning in &activity.warnings {
            report.warnings.push(file_warning(&label, warning));
        }
        let reporting = activity.reporting_org_ref.as_deref();
        if reporting.is_some_and(|reporting| !accepted.iter().any(|org| org == reporting)) {
            let skipped = report
                .skipped
                .entry(reporting.unwrap_or_default().to_owned())
                .or_default();
            skipped.0 += 1;
            skipped.1 += activity.transactions.len() as u64;
            continue;
        }
        for (transaction, line) in mapped(&label, &activity, &mut report) {
            let key = transaction
                .iati
                .as_ref()
                .map_or(Digest([0; 32]), |iati| iati.import_key);
            if let Some(first_line) = seen_in_file.insert(key, line) {
                report.warnings.push(ImportWarning {
                    file: label.clone(),
                    line,
                    activity_id: transaction.activity_id.clone(),
                    reason: format!("the same transaction (same import key) as at line {first_line}; the activity or transaction appears twice, the second is not imported"),
                });
                continue;
            }
            add_totals(&mut report, &transaction);
            let digest = content_digest(&transaction);
            let (body, corrects) = match index.get(&key) {
                Some(known) if known.digest == digest => {
                    report.unchanged += 1;
                    continue;
                }
                Some(known) => (
                    Body::Correction(Correction {
                        corrects: known.record,
                        reason: format!("IATI re-import: the publisher changed this transaction ({label} line {line})"),
                        replacement: Some(Replacement::Transaction(transaction)),
                    }),
                    Some(known.record),
                ),
                None => (Body::Transaction(transaction), None),
            };
            match corrects {
                Some(_) => report.corrections += 1,
                None => report.recorded += 1,
            }
            if let Some(full) = batch.push(
                body,
                Pending {
                    key,
                    digest,
                    corrects,
                },
            ) {
                in_flight.push(sender.send(full)?);
            }
        }
    }
    report.bytes = reader.bytes_read();
    if !batch.is_empty() {
        in_flight.push(sender.send(std::mem::take(&mut batch))?);
    }
    for receipt in in_flight {
        for (pending, id) in receipt.wait()? {
            let record = pending.corrects.unwrap_or(id);
            index.insert(
                pending.key,
                Known {
                    record,
                    digest: pending.digest,
                },
            );
        }
    }
    Ok(report)
}

/// The line of a read error (most variants carry one).
fn error_line(error: &ReadError, fallback: u64) -> u64 {
    match error {
        ReadError::NoRootElement { line }
        | ReadError::NotXml { line, .. }
        | ReadError::NotIati { line, .. }
        | ReadError::TokenTooLarge { line, .. }
        | ReadError::TooDeep { line, .. }
        | ReadError::Malformed { line, .. }
        | ReadError::Truncated { line, .. }
        | ReadError::Io { line, .. } => *line,
        _ => fallback,
    }
}

fn file_warning(file: &str, warning: &aidledger_iati::Warning) -> ImportWarning {
    ImportWarning {
        file: file.to_owned(),
        line: warning.line,
        activity_id: warning.activity_id.clone(),
        reason: warning.reason.to_string(),
    }
}

/// The activity's mapped transactions with their lines; the rest become warnings.
fn mapped(file: &str, activity: &Activity, report: &mut FileReport) -> Vec<(Transaction, u64)> {
    let mut out = Vec::with_capacity(activity.transactions.len());
    for transaction in &activity.transactions {
        match to_transaction(activity, transaction) {
            Ok(mapped) => out.push((mapped, transaction.line)),
            Err(warning) => report.warnings.push(file_warning(file, &warning)),
        }
    }
    out
}

fn add_totals(report: &mut FileReport, transaction: &Transaction) {
    let slot = report
        .totals
        .entry((
            transaction.transaction_type,
            transaction.value.currency.clone(),
        ))
        .or_insert((0, Decimal::ZERO));
    slot.0 += 1;
    // The amount is canonical decimal text; one beyond rust_decimal's 28 digits is counted
    // but left out of the printed sum, which then says so (see `summary_text`).
    match Decimal::from_str_exact(&transaction.value.amount)
        .ok()
        .and_then(|amount| slot.1.checked_add(amount))
    {
        Some(sum) => slot.1 = sum,
        None => report.warnings.push(ImportWarning {
            file: report.file.clone(),
            line: 0,
            activity_id: transaction.activity_id.clone(),
            reason: format!(
                "amount {} is recorded but too long to add to the summary's sum",
                transaction.value.amount
            ),
        }),
    }
}
