//! `iati import`: IATI activity files into organisations' chains, one activity at a time.
//!
//! Each transaction is mapped by the `aidledger-iati` crate. Before the first file each
//! organisation's own chain is read once from its node's public API and verified, giving
//! import key → (transaction record id, content digest of what it says now), and each
//! activity's keys. Then for each mapped transaction:
//! - a key not seen before: a new transaction record;
//! - the same key and digest: unchanged, nothing recorded;
//! - the same key, another digest (the publisher changed it): a correction of the original
//!   record, whose replacement is the new transaction.
//!
//! With `republished`, a transaction recorded before for an activity the file lists, whose key
//! the file no longer holds, is withdrawn (a correction without replacement); activities the
//! file does not list are left alone (files may be partial), and a file not read to its end
//! withdraws nothing. Without it such transactions are only counted.
//!
//! Where an activity goes: with one node, activities whose `reporting-org/@ref` is the node's
//! organisation, or a ref given with `--as-reporting-org`; with an org map, each mapped ref to
//! its own node, whose organisation must be that ref, so every record is signed by its
//! publisher's own organisation. Other publishers' activities are counted per ref.
//!
//! Records go to each node in batches (`POST /v1/records/batch`), several batches in flight,
//! so the node's group commit signs and stores many records per fsync. Corrections only name
//! records stored before the current file; a key met twice in one file is skipped.
//!
//! Each activity routed to a publisher is also an activity record (`activity`: titles,
//! descriptions, places, sectors, organisations), sent before its transactions when the
//! publisher's chain has none for it or what it says changed; its counts are kept apart from
//! the transactions'.
//!
//! Every transaction read is imported, unchanged, or skipped with a reason (`skips` counts them
//! and prints the first few); `publisher` holds each organisation's node and index, `batch`
//! sends the records, `org_map` reads the map, `report` writes the summary.

mod activity;
mod batch;
mod file;
pub mod org_map;
mod publisher;
mod report;
pub mod skips;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aidledger_iati::EntityNotice;
use aidledger_spec::{Digest, RecordId};
use rust_decimal::Decimal;

use crate::submit::SubmitTarget;
use file::import_file;
use publisher::Publisher;
use skips::{Skips, WarningPrinter};

/// Body bytes sent in one batch at most (the node allows more; smaller batches keep several
/// in flight and the memory of the importer small).
pub const BATCH_BYTES_TARGET: usize = 4 * 1024 * 1024;
/// Batches sent concurrently: the node's writer is a pipeline (signing, appending, syncing),
/// and each stage should find work while the next batch is parsed and on the wire.
pub const BATCHES_IN_FLIGHT: usize = 6;
/// Read buffer for an XML file.
const READ_BUFFER_BYTES: usize = 256 * 1024;

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
    /// The org map cannot be read or names something impossible.
    #[error("org map {0}")]
    OrgMap(String),
    /// The chain holds redacted records, and the import was not told the files are clear of
    /// them.
    #[error("{org}'s chain holds {count} redacted record(s) (the first at seq {first_seq}): their IATI keys were withheld with their content, so the import cannot tell whether a file still carries a redacted transaction, and would record it again. Take the redacted transactions out of the files, then run again with --despite-redactions")]
    Redacted {
        /// The organisation.
        org: String,
        /// How many records of its chain are withheld.
        count: usize,
        /// The first one's position.
        first_seq: u64,
    },
}

/// Where each publisher's activities go.
pub enum Routing {
    /// One node: its organisation's activities, and those of the refs named (recorded as the
    /// node's organisation, "reported by it about" the ref's activities).
    Node {
        /// The node.
        target: SubmitTarget,
        /// Reporting-org refs imported as the node's organisation besides its own id.
        as_reporting_orgs: Vec<String>,
    },
    /// Reporting-org ref → the node of the organisation with that id.
    OrgMap(Vec<(String, SubmitTarget)>),
}

/// What to import and where.
pub struct ImportOptions {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Where activities go.
    pub routing: Routing,
    /// Withdraw transactions the file's activities no longer list.
    pub republished: bool,
    /// Import into chains that hold redacted records (the operator took the redacted
    /// transactions out of the files): see `publisher::load_index`.
    pub despite_redactions: bool,
    /// Print every warning line (else the first few and a count).
    pub verbose: bool,
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

/// What was recorded for one organisation from one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgCounts {
    /// New transaction records.
    pub recorded: u64,
    /// Corrections recorded.
    pub corrections: u64,
    /// Transactions already recorded with the same content.
    pub unchanged: u64,
    /// Transactions withdrawn because the file no longer lists them (`republished`).
    pub withdrawn: u64,
    /// Transactions recorded before that the file's activities no longer list, left standing
    /// (without `republished`).
    pub not_listed: u64,
    /// Activity records made (new activities, or activities the publisher changed).
    pub activities_recorded: u64,
    /// Activities whose latest activity record already says the same.
    pub activities_unchanged: u64,
}

impl OrgCounts {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &OrgCounts) {
        self.recorded += other.recorded;
        self.corrections += other.corrections;
        self.unchanged += other.unchanged;
        self.withdrawn += other.withdrawn;
        self.not_listed += other.not_listed;
        self.activities_recorded += other.activities_recorded;
        self.activities_unchanged += other.activities_unchanged;
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
    /// Per organisation recorded for.
    pub by_org: BTreeMap<String, OrgCounts>,
    /// Count and exact sum per (type, currency) of the mapped transactions imported.
    pub totals: BTreeMap<(u8, String), (u64, Decimal)>,
    /// Activities (and their transactions) of reporting organisations not imported, per ref.
    pub other_publishers: BTreeMap<String, (u64, u64)>,
    /// Activities (and their transactions) of other publishers recorded as the node's
    /// organisation's with `--as-reporting-org`, per ref.
    pub on_behalf: BTreeMap<String, (u64, u64)>,
    /// Transactions (and elements) not imported, by reason.
    pub skipped: Skips,
    /// The DOCTYPE and entity references left as written.
    pub entities: EntityNotice,
    /// Other things said about the file (a sum too long to add).
    pub notices: Vec<ImportWarning>,
    /// Where and why the file could not be read to its end.
    pub broken: Option<String>,
}

impl FileReport {
    /// The counts of all organisations together.
    pub fn counts(&self) -> OrgCounts {
        let mut all = OrgCounts::default();
        for counts in self.by_org.values() {
            all.add(counts);
        }
        all
    }
}

/// What the whole import did.
pub struct ImportReport {
    /// The organisations recorded for, in routing order.
    pub orgs: Vec<String>,
    /// Whether an org map routed the activities (else one node, maybe `--as-reporting-org`).
    pub org_map: bool,
    /// Whether `republished` was asked.
    pub republished: bool,
    /// Per file.
    pub files: Vec<FileReport>,
    /// Warning lines not printed (beyond the cap, without `verbose`).
    pub warnings_not_printed: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// A record sent, waiting for its id.
struct Pending {
    key: Digest,
    digest: Digest,
    /// The original transaction record (for a correction or withdrawal), none for a new one.
    corrects: Option<RecordId>,
}

/// Which publisher an accepted reporting-org ref goes to.
#[derive(Clone, Copy)]
struct Route {
    publisher: usize,
    /// The ref is another publisher's, recorded as the node's organisation's
    /// (`--as-reporting-org`): its activity records say "reported by ORG about REF".
    on_behalf: bool,
}

/// The publishers and which refs go to which.
struct Routes {
    publishers: Vec<Publisher>,
    by_ref: HashMap<String, Route>,
}

/// Runs the import; the first warnings (every one with `verbose`) go to stderr as they are found.
pub fn import(options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    // Only checked, not opened: opening a FIFO would consume its one writer.
    for path in &options.files {
        std::fs::metadata(path).map_err(|source| open_error(path, source))?;
    }
    let mut routes = open_routes(&options.routing, options.despite_redactions)?;
    let mut printer = WarningPrinter::new(options.verbose);
    let mut files = Vec::new();
    for path in &options.files {
        files.push(import_file(
            path,
            &mut routes,
            options.republished,
            &mut printer,
        )?);
    }
    // Acknowledged means durable; the explorer indexes a large import right after it.
    for publisher in &routes.publishers {
        crate::submit::wait_for_index(&publisher.public);
    }
    Ok(ImportReport {
        orgs: routes.publishers.iter().map(|p| p.org.clone()).collect(),
        org_map: matches!(options.routing, Routing::OrgMap(_)),
        republished: options.republished,
        files,
        warnings_not_printed: printer.suppressed(),
        elapsed: started.elapsed(),
    })
}

fn open_routes(routing: &Routing, despite_redactions: bool) -> Result<Routes, ImportError> {
    let mut routes = Routes {
        publishers: Vec::new(),
        by_ref: HashMap::new(),
    };
    match routing {
        Routing::Node {
            target,
            as_reporting_orgs,
        } => {
            let publisher = Publisher::open(target, despite_redactions)?;
            routes.by_ref.insert(
                publisher.org.clone(),
                Route {
                    publisher: 0,
                    on_behalf: false,
                },
            );
            for reference in as_reporting_orgs {
                let on_behalf = *reference != publisher.org;
                routes.by_ref.insert(
                    reference.clone(),
                    Route {
                        publisher: 0,
                        on_behalf,
                    },
                );
            }
            routes.publishers.push(publisher);
        }
        Routing::OrgMap(entries) => {
            for (reference, target) in entries {
                let publisher = Publisher::open(target, despite_redactions)?;
                if publisher.org != *reference {
                    return Err(ImportError::OrgMap(format!(
                        "maps {reference:?} to the node of {:?}: each publisher's activities go to its own organisation's node (to record another publisher's activities as yours, import without --org-map and with --as-reporting-org {reference})",
                        publisher.org
                    )));
                }
                routes.by_ref.insert(
                    reference.clone(),
                    Route {
                        publisher: routes.publishers.len(),
                        on_behalf: false,
                    },
                );
                routes.publishers.push(publisher);
            }
        }
    }
    Ok(routes)
}

fn open_error(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Open {
        path: path.display().to_string(),
        source,
    }
}
