//! The transactions of one or more sources as the views see them: every record verified, and
//! every correction applied.
//!
//! A correction counts only when its author is the corrected record's author (as in
//! `provenance`). The latest such correction (highest seq) wins: its replacement stands in for
//! the corrected transaction, keeping the corrected record's id; a correction without a
//! replacement withdraws the transaction, which the views then leave out. Flow and reconcile
//! both read [`Ledger::transactions`], so they agree on what a corrected record says.

use std::collections::HashMap;

use aidledger_spec::record::{Replacement, Transaction};
use aidledger_spec::verify::VerifiedRecord;
use aidledger_spec::{Body, Genesis, NetworkId, RecordId};

use crate::checked::{read_checked, CheckError, Standing};
use crate::pipeline::SignatureMode;
use crate::source::Source;

/// Why the ledger could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A source could not be read, is damaged before its genesis, or belongs to another
    /// network than the one pinned. Not `transparent`, so that the binary finds the
    /// [`CheckError`] among the causes and picks the exit code from it.
    #[error("{0}")]
    Source(#[from] CheckError),
    /// Two sources belong to different networks.
    #[error("the sources belong to different networks ({first} and {other}); give sources of one network")]
    MixedNetworks {
        /// The first source's network.
        first: NetworkId,
        /// The other one.
        other: NetworkId,
    },
    /// No source was given.
    #[error("no source given")]
    NoSource,
}

/// One transaction record as the views use it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The transaction record's id (also after a correction).
    pub id: RecordId,
    /// Its author.
    pub author: String,
    /// Its seq in the author's chain.
    pub seq: u64,
    /// The transaction, with the latest correction's replacement applied.
    pub transaction: Transaction,
    /// The correction whose replacement is shown, if any.
    pub corrected_by: Option<RecordId>,
    /// Transactions of other records that acknowledge this one (explicit receipts).
    pub acknowledged_by: Vec<RecordId>,
}

/// Every verified, non-withdrawn transaction of the sources.
pub struct Ledger {
    /// The network.
    pub genesis: Genesis,
    /// The network, whether it was pinned, and whether every source verified as a whole.
    pub standing: Standing,
    /// Transactions in the order read.
    pub transactions: Vec<Entry>,
    /// How many corrections were applied (replacements and withdrawals).
    pub corrections_applied: usize,
    /// How many transactions a correction withdrew (left out of `transactions`).
    pub withdrawn: usize,
    /// Problems the verification found (records left out, broken chains); empty when valid.
    pub problems: Vec<String>,
}

/// A correction waiting to be applied once every record is read.
struct PendingCorrection {
    id: RecordId,
    author: String,
    seq: u64,
    corrects: RecordId,
    replacement: Option<Transaction>,
}

impl Ledger {
    /// Reads and verifies every source (all of one network, `pinned` if given) through the
    /// verifying reader and applies the corrections.
    pub fn load(sources: &[Source], pinned: Option<NetworkId>) -> Result<Ledger, LedgerError> {
        let mut genesis: Option<Genesis> = None;
        let mut standing: Option<Standing> = None;
        let mut entries: Vec<Entry> = Vec::new();
        let mut index: HashMap<RecordId, usize> = HashMap::new();
        let mut corrections: Vec<PendingCorrection> = Vec::new();
        let mut problems = Vec::new();
        for source in sources {
            let checked = read_checked(source, pinned, SignatureMode::Batch, |record| {
                collect(record, &mut entries, &mut index, &mut corrections)
            })?;
            let source_genesis = checked.genesis;
            if let Some(first) = &genesis {
                if first.network_id() != source_genesis.network_id() {
                    return Err(LedgerError::MixedNetworks {
                        first: first.network_id(),
                        other: source_genesis.network_id(),
                    });
                }
            }
            let report = checked.report;
            problems.extend(report.problems().map(|problem| {
                format!(
                    "{} seq {}: {}",
                    problem.author.as_deref().unwrap_or("?"),
                    problem.seq.map_or("?".to_owned(), |seq| seq.to_string()),
                    problem.reason
                )
            }));
            genesis.get_or_insert(source_genesis);
            match &mut standing {
                Some(standing) => standing.merge(checked.standing),
                None => standing = Some(checked.standing),
            }
        }
        let (Some(genesis), Some(standing)) = (genesis, standing) else {
            return Err(LedgerError::NoSource);
        };
        let mut ledger = Ledger {
            genesis,
            standing,
            transactions: entries,
            corrections_applied: 0,
            withdrawn: 0,
            problems,
        };
        ledger.apply_corrections(corrections, &index);
        ledger.link_acknowledgements();
        Ok(ledger)
    }

    /// Applies corrections in seq order so that the latest one of each record wins, then drops
    /// withdrawn transactions.
    fn apply_corrections(
        &mut self,
        mut corrections: Vec<PendingCorrection>,
        index: &HashMap<RecordId, usize>,
    ) {
        corrections.sort_by_key(|correction| correction.seq);
        let mut withdrawn = vec![false; self.transactions.len()];
        for correction in corrections {
            let Some(&position) = index.get(&correction.corrects) else {
                continue;
            };
            let entry = &mut self.transactions[position];
            if entry.author != correction.author || entry.seq >= correction.seq {
                continue; // only the author corrects, and only what came before
            }
            self.corrections_applied += 1;
            entry.corrected_by = Some(correction.id);
            match correction.replacement {
                Some(transaction) => {
                    entry.transaction = transaction;
                    withdrawn[position] = false;
                }
                None => withdrawn[position] = true,
            }
        }
        self.withdrawn = withdrawn.iter().filter(|gone| **gone).count();
        let mut flags = withdrawn.into_iter();
        self.transactions.retain(|_| !flags.next().unwrap_or(false));
    }

    fn link_acknowledgements(&mut self) {
        let index: HashMap<RecordId, usize> = self
            .transactions
            .iter()
            .enumerate()
            .map(|(position, entry)| (entry.id, position))
            .collect();
        let acknowledgements: Vec<(usize, RecordId)> = self
            .transactions
            .iter()
            .filter_map(|entry| {
                let target = entry.transaction.acknowledges?;
                Some((*index.get(&target)?, entry.id))
            })
            .collect();
        for (position, by) in acknowledgements {
            self.transactions[position].acknowledged_by.push(by);
        }
    }
}

fn collect(
    record: &VerifiedRecord,
    entries: &mut Vec<Entry>,
    index: &mut HashMap<RecordId, usize>,
    corrections: &mut Vec<PendingCorrection>,
) {
    let header = record.header();
    match record.body() {
        Body::Transaction(transaction) => {
            if index.contains_key(&record.id()) {
                return; // the same record from a second source
            }
            index.insert(record.id(), entries.len());
            entries.push(Entry {
                id: record.id(),
                author: header.author.clone(),
                seq: header.seq,
                transaction: transaction.clone(),
                corrected_by: None,
                acknowledged_by: Vec::new(),
            });
        }
        Body::Correction(correction) => {
            let replacement = match &correction.replacement {
                Some(Replacement::Transaction(transaction)) => Some(transaction.clone()),
                None => None,
                Some(_) => return, // corrects something other than a transaction
            };
            if corrections.iter().any(|pending| pending.id == record.id()) {
                return; // the same record from a second source (corrections are few)
            }
            corrections.push(PendingCorrection {
                id: record.id(),
                author: header.author.clone(),
                seq: header.seq,
                corrects: correction.corrects,
                replacement,
            });
        }
        _ => {}
    }
}
