//! The transactions of one or more sources as the views see them: every record verified, and
//! every correction applied.
//!
//! The corrections are applied by `aidledger_view::corrections`, the rules the explorer's
//! totals follow too: a correction counts only when its author is the corrected transaction's
//! author, the latest such correction wins, and a withdrawn transaction is left out of totals.
//! Withdrawn transactions are kept, flagged, in the money model (`aidledger_view::money`),
//! which says `withdrawn` of a link whose receipts still stand. Flow and reconcile both read
//! [`Ledger::model`], so they agree on what a corrected record says and on every status.

use std::collections::BTreeSet;

use aidledger_spec::chain::Report;
use aidledger_spec::text::Date;
use aidledger_spec::{BodyKind, Genesis, NetworkId, RecordId};
use aidledger_view::corrections::CorrectionsBuilder;
use aidledger_view::money::{Link, LinkKey, MoneyError, MoneyModel};

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
    /// The money model could not be built (an amount that is not an exact decimal).
    #[error("{0}")]
    Money(#[from] MoneyError),
}

/// When the money model's statuses are computed: `as_of` and the window of `unacknowledged`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// "Today" for the window.
    pub as_of: Date,
    /// How many days a provider's transaction may wait for its receipt before
    /// `unacknowledged` is a finding.
    pub days: u32,
}

/// One transaction record as the views use it (the shared correction rules' entry).
pub use aidledger_view::corrections::Entry;

/// Every verified transaction of the sources and the money model over them.
pub struct Ledger {
    /// The network.
    pub genesis: Genesis,
    /// The network, whether it was pinned, and whether every source verified as a whole.
    pub standing: Standing,
    /// The money model: every transaction (withdrawn ones flagged), links, statuses, findings.
    pub model: MoneyModel,
    /// How many corrections were applied (replacements and withdrawals).
    pub corrections_applied: usize,
    /// How many transactions a correction withdrew (left out of `transactions`).
    pub withdrawn: usize,
    /// Problems the verification found (records left out, broken chains); empty when valid.
    pub problems: Vec<String>,
    /// Transactions and corrections whose content a redaction order withheld.
    pub redacted: RedactedMoney,
}

/// Transactions (and corrections) whose content is withheld under an order in force
/// (FORMAT.md §27): valid records whose amounts are unknown to the reader. They are in no
/// total and no status; every money view says how many there are rather than dropping them.
#[derive(Clone, Debug, Default)]
pub struct RedactedMoney {
    /// Redacted transactions, by id (each once, however many sources hold it).
    pub transactions: BTreeSet<RecordId>,
    /// Redacted corrections: what they changed is unknown too.
    pub corrections: BTreeSet<RecordId>,
}

impl RedactedMoney {
    /// Notes the redacted transactions and corrections of a report.
    pub fn add(&mut self, report: &Report) {
        for entry in report.chains.iter().flat_map(|chain| &chain.redacted) {
            if entry.body_kind == BodyKind::Transaction as u16 {
                self.transactions.insert(entry.id);
            } else if entry.body_kind == BodyKind::Correction as u16 {
                self.corrections.insert(entry.id);
            }
        }
    }

    /// How many redacted transactions there are.
    pub fn count(&self) -> u64 {
        self.transactions.len() as u64
    }

    /// `plus 2 redacted transactions (amounts withheld: …)`, and the corrections, or `None`.
    pub fn text(&self) -> Option<String> {
        let corrections = self.corrections.len();
        let mut text = crate::redacted::plus_transactions_text(self.count());
        if corrections > 0 {
            let more = format!(
                "{corrections} redacted correction{} (what {} changed is withheld)",
                if corrections == 1 { "" } else { "s" },
                if corrections == 1 { "it" } else { "they" }
            );
            text = Some(match text {
                Some(text) => format!("{text}; {more}"),
                None => format!("plus {more}"),
            });
        }
        text
    }

    /// Whether `id` is a redacted transaction.
    pub fn holds(&self, id: &RecordId) -> bool {
        self.transactions.contains(id)
    }

    /// The redacted transaction a link is keyed on: a receipt acknowledges it, and the model
    /// (which cannot see it) calls the link `unreported`.
    pub fn target_of(&self, link: &Link<'_>) -> Option<RecordId> {
        match link.key() {
            LinkKey::Acknowledged(target) if self.holds(target) => Some(*target),
            _ => None,
        }
    }

    /// A link's summary as the money views print it: the model's, or for a link keyed on a
    /// redacted transaction, `redacted [pair]: record ID: redacted, its amount withheld →
    /// what the receipts report` (the model's `unreported … not held` would say it is missing).
    pub fn link_summary(&self, link: &Link<'_>) -> String {
        let summary = link.summary();
        let Some(target) = self.target_of(link) else {
            return summary;
        };
        let pair = link
            .pair()
            .map_or(String::new(), |pair| format!(" [{}]", pair.name()));
        let receipts = summary
            .split_once(" → ")
            .map_or(String::new(), |(_, receipts)| receipts.to_owned());
        format!("redacted{pair}: record {target}: redacted, its amount withheld → {receipts}")
    }
}

impl Ledger {
    /// Reads and verifies every source (all of one network, `pinned` if given) through the
    /// verifying reader, applies the corrections and builds the money model as of `window`.
    pub fn load(
        sources: &[Source],
        pinned: Option<NetworkId>,
        window: Window,
    ) -> Result<Ledger, LedgerError> {
        let mut genesis: Option<Genesis> = None;
        let mut standing: Option<Standing> = None;
        let mut corrected = CorrectionsBuilder::new();
        let mut problems = Vec::new();
        let mut redacted = RedactedMoney::default();
        for source in sources {
            let checked = read_checked(source, pinned, SignatureMode::Batch, |record| {
                let header = record.header();
                corrected.add(record.id(), &header.author, header.seq, record.body());
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
            redacted.add(&report);
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
        let corrected = corrected.finish();
        let (corrections_applied, withdrawn) = (corrected.corrections_applied, corrected.withdrawn);
        let model = MoneyModel::build(corrected.into_all(), window.as_of, window.days)?;
        Ok(Ledger {
            genesis,
            standing,
            model,
            corrections_applied,
            withdrawn,
            problems,
            redacted,
        })
    }

    /// The current (non-withdrawn) transactions, in (author, seq) order.
    pub fn transactions(&self) -> impl Iterator<Item = &Entry> {
        self.model.entries().iter().filter(|entry| !entry.withdrawn)
    }
}
