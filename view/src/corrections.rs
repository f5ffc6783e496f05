//! The one set of correction rules: which version of a transaction is current, what a
//! withdrawal removes, what a correction replaces, and how an acknowledgement moves when its
//! receipt is corrected.
//!
//! Records are never edited; a correction names an earlier record and carries its replacement
//! (or none, a withdrawal). The money views (the CLI's `flow` and `reconcile`, the explorer's
//! totals) count a correction only when:
//!
//! - the corrected record is a transaction known to the reader,
//! - the correction's author is the corrected record's author, and it comes later in that
//!   author's chain (the node's policy refuses other corrections at submit, but a peer's
//!   record that breaks it is still stored and listed), and
//! - the replacement is a transaction, or there is none.
//!
//! Among the corrections that count, the author's latest (highest seq) wins: its replacement
//! stands in for the transaction, keeping the corrected record's id; a withdrawal leaves the
//! transaction out, and a later replacement brings it back. What the current version
//! acknowledges is what counts: a withdrawn receipt acknowledges nothing, a receipt corrected
//! to name another transaction moves its acknowledgement there.
//!
//! Two readers apply these rules: [`CorrectedTransactions`] over every record at once (the
//! CLI), and the explorer's index one append at a time, which asks [`effect`],
//! [`current_version`] and [`acknowledgement_move`] at each decision. A correction that
//! corrects another correction changes no money view.

use std::collections::HashMap;

use aidledger_spec::record::{Correction, Replacement, Transaction};
use aidledger_spec::{Body, RecordId};

/// The record a correction names, as far as the rules need to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrected<'a> {
    /// Its author.
    pub author: &'a str,
    /// Its seq in the author's chain.
    pub seq: u64,
    /// Whether it is a transaction.
    pub is_transaction: bool,
}

impl<'a> Corrected<'a> {
    /// The corrected record's author, seq and body.
    pub fn of(author: &'a str, seq: u64, body: &Body) -> Corrected<'a> {
        Corrected {
            author,
            seq,
            is_transaction: matches!(body, Body::Transaction(_)),
        }
    }
}

/// What a correction does to the money views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect<'a> {
    /// Nothing: the record pages list it, but no total or view counts it (see the module doc
    /// for when a correction counts).
    Listed,
    /// The corrected transaction now reads as this one.
    Replaces(&'a Transaction),
    /// The corrected transaction is withdrawn.
    Withdraws,
}

impl<'a> Effect<'a> {
    /// The transaction the corrected record stands for after this effect, if it counts.
    pub fn transaction(self) -> Option<&'a Transaction> {
        match self {
            Effect::Replaces(transaction) => Some(transaction),
            Effect::Listed | Effect::Withdraws => None,
        }
    }
}

/// What `correction`, the record at `seq` of `author`'s chain, does to the record it names:
/// `corrected` is that record, or `None` when the reader does not hold it.
pub fn effect<'a>(
    correction: &'a Correction,
    author: &str,
    seq: u64,
    corrected: Option<Corrected<'_>>,
) -> Effect<'a> {
    let Some(corrected) = corrected else {
        return Effect::Listed;
    };
    let own_earlier_transaction =
        corrected.is_transaction && corrected.author == author && corrected.seq < seq;
    if !own_earlier_transaction {
        return Effect::Listed;
    }
    match &correction.replacement {
        None => Effect::Withdraws,
        Some(Replacement::Transaction(transaction)) => Effect::Replaces(transaction),
        Some(_) => Effect::Listed,
    }
}

/// The transaction a record stands for now: the latest counting correction's replacement
/// (`None` after a withdrawal), else the record itself if it is a transaction.
pub fn current_version<'a>(
    original: &'a Body,
    latest_correction: Option<&'a Correction>,
) -> Option<&'a Transaction> {
    match latest_correction {
        Some(correction) => match &correction.replacement {
            Some(Replacement::Transaction(transaction)) => Some(transaction),
            _ => None,
        },
        None => match original {
            Body::Transaction(transaction) => Some(transaction),
            _ => None,
        },
    }
}

/// How a receipt's acknowledgement moves when its current version changes from `before` to
/// `after` (either `None` when it is withdrawn or not a transaction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AcknowledgementMove {
    /// The transaction it no longer acknowledges.
    pub withdrawn_from: Option<RecordId>,
    /// The transaction it acknowledges from now on.
    pub given_to: Option<RecordId>,
}

/// What changes in acknowledgements when a receipt's current version goes from `before` to
/// `after`; nothing when both acknowledge the same transaction.
pub fn acknowledgement_move(
    before: Option<&Transaction>,
    after: Option<&Transaction>,
) -> AcknowledgementMove {
    let before = before.and_then(|transaction| transaction.acknowledges);
    let after = after.and_then(|transaction| transaction.acknowledges);
    if before == after {
        return AcknowledgementMove::default();
    }
    AcknowledgementMove {
        withdrawn_from: before,
        given_to: after,
    }
}

/// One transaction record as the money views use it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The transaction record's id (also after a correction).
    pub id: RecordId,
    /// Its author.
    pub author: String,
    /// Its seq in the author's chain.
    pub seq: u64,
    /// The transaction, with the latest counting correction's replacement applied.
    pub transaction: Transaction,
    /// The correction whose replacement is shown, if any.
    pub corrected_by: Option<RecordId>,
    /// Current transactions of other records that acknowledge this one (explicit receipts;
    /// a withdrawn receipt acknowledges nothing).
    pub acknowledged_by: Vec<RecordId>,
    /// Whether its author's latest counting correction withdrew it; `transaction` is then the
    /// version that was withdrawn (kept so that the money model can say `withdrawn` of a link
    /// whose receipts still stand).
    pub withdrawn: bool,
}

/// Every transaction of a set of records, every counting correction applied, and who
/// acknowledges each: the current ones in `transactions` (what totals count), the withdrawn
/// ones apart in `withdrawn_transactions` (flagged [`Entry::withdrawn`]; only the money model
/// reads them, to say `withdrawn` of a link whose receipts still stand).
#[derive(Clone, Debug, Default)]
pub struct CorrectedTransactions {
    /// Current (non-withdrawn) transactions in the order added.
    pub transactions: Vec<Entry>,
    /// Withdrawn transactions in the order added, each as the version that was withdrawn.
    pub withdrawn_transactions: Vec<Entry>,
    /// How many corrections counted (replacements and withdrawals).
    pub corrections_applied: usize,
    /// How many transactions a correction withdrew (left out of `transactions`).
    pub withdrawn: usize,
}

impl CorrectedTransactions {
    /// Every entry, current and withdrawn (the money model's input).
    pub fn into_all(self) -> impl Iterator<Item = Entry> {
        self.transactions
            .into_iter()
            .chain(self.withdrawn_transactions)
    }
}

/// Gathers records in any order, then applies the corrections ([`Self::finish`]).
#[derive(Default)]
pub struct CorrectionsBuilder {
    entries: Vec<Entry>,
    positions: HashMap<RecordId, usize>,
    corrections: Vec<PendingCorrection>,
}

/// A correction waiting for every record to be read.
struct PendingCorrection {
    id: RecordId,
    author: String,
    seq: u64,
    correction: Correction,
}

impl CorrectionsBuilder {
    /// An empty set.
    pub fn new() -> CorrectionsBuilder {
        CorrectionsBuilder::default()
    }

    /// Adds one record; the same record added twice (from two sources) counts once, and
    /// bodies other than transactions and corrections are left out.
    pub fn add(&mut self, id: RecordId, author: &str, seq: u64, body: &Body) {
        match body {
            Body::Transaction(transaction) => {
                if self.positions.contains_key(&id) {
                    return;
                }
                self.positions.insert(id, self.entries.len());
                self.entries.push(Entry {
                    id,
                    author: author.to_owned(),
                    seq,
                    transaction: transaction.clone(),
                    corrected_by: None,
                    acknowledged_by: Vec::new(),
                    withdrawn: false,
                });
            }
            Body::Correction(correction) => {
                if self.corrections.iter().any(|pending| pending.id == id) {
                    return; // corrections are few: a scan is cheaper than another map
                }
                self.corrections.push(PendingCorrection {
                    id,
                    author: author.to_owned(),
                    seq,
                    correction: correction.clone(),
                });
            }
            _ => {}
        }
    }

    /// Applies the corrections in seq order (so that each author's latest wins), sets the
    /// withdrawn transactions apart and links acknowledgements from current versions.
    pub fn finish(mut self) -> CorrectedTransactions {
        self.corrections.sort_by_key(|pending| pending.seq);
        let mut corrections_applied = 0;
        for pending in &self.corrections {
            let Some(&position) = self.positions.get(&pending.correction.corrects) else {
                continue;
            };
            let entry = &mut self.entries[position];
            let corrected = Corrected {
                author: &entry.author,
                seq: entry.seq,
                is_transaction: true,
            };
            match effect(
                &pending.correction,
                &pending.author,
                pending.seq,
                Some(corrected),
            ) {
                Effect::Listed => continue,
                Effect::Replaces(transaction) => {
                    entry.transaction = transaction.clone();
                    entry.withdrawn = false;
                }
                Effect::Withdraws => entry.withdrawn = true,
            }
            corrections_applied += 1;
            entry.corrected_by = Some(pending.id);
        }
        link_acknowledgements(&mut self.entries);
        let (withdrawn_transactions, transactions): (Vec<Entry>, Vec<Entry>) =
            self.entries.into_iter().partition(|entry| entry.withdrawn);
        CorrectedTransactions {
            withdrawn: withdrawn_transactions.len(),
            transactions,
            withdrawn_transactions,
            corrections_applied,
        }
    }
}

/// Lists, on each transaction (withdrawn ones too), the current transactions that
/// acknowledge it.
fn link_acknowledgements(entries: &mut [Entry]) {
    let positions: HashMap<RecordId, usize> = entries
        .iter()
        .enumerate()
        .map(|(position, entry)| (entry.id, position))
        .collect();
    let acknowledgements: Vec<(usize, RecordId)> = entries
        .iter()
        .filter(|entry| !entry.withdrawn)
        .filter_map(|entry| {
            let target = entry.transaction.acknowledges?;
            Some((*positions.get(&target)?, entry.id))
        })
        .collect();
    for (position, by) in acknowledgements {
        entries[position].acknowledged_by.push(by);
    }
}
