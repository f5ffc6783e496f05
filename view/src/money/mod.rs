//! The money model: which transactions answer which, and whether the money arrived. The one
//! place a money status is computed; `flow`, `reconcile`, `provenance` (CLI) and the
//! explorer and API (node) all read it, so no two tools can say two things of one link.
//!
//! Pure: the input is the corrected transactions (`crate::corrections`) *including the
//! withdrawn ones* (flagged [`Entry::withdrawn`]), and "today" (`as_of`) and the window are
//! arguments. Amounts are exact decimals; an amount that does not parse is an error, never a
//! zero, because a silent zero would turn into a false shortfall.
//!
//! # Links
//! A link joins a provider's outgoing transactions with a receiver's incoming ones, for one
//! [`Pair`] of types: disbursement (3) ↔ incoming funds (1), commitment (2) ↔ incoming
//! commitment (11), outgoing pledge (12) ↔ incoming pledge (13). Keys ([`LinkKey`]) come
//! from each transaction's own fields, never from amounts or record order, so that a receipt
//! that arrives before its target, or a second source read first, changes nothing:
//!
//! 1. **Explicit** (`Acknowledged(T)`): the target T and every *current* transaction whose
//!    `acknowledges` is T. A withdrawn receipt acknowledges nothing; a receipt corrected to
//!    name another record moves there. Why first: the receiver said which record it answers.
//! 2. **Activity** (`Activity { A, R, pair }`): the outgoing transactions of activity A naming
//!    receiver organisation R that no current receipt acknowledges explicitly, and the
//!    incoming transactions *authored by R* naming A as provider activity, with no
//!    `acknowledges`. Why many-to-many: publishers report one transfer as one disbursement and
//!    43 tranches of incoming funds (the NL MFA case); pairing one to one calls 42 of them
//!    unmatched.
//! 3. Everything else is **unlinked**, one transaction per link: an outgoing transaction
//!    naming no receiver organisation (`unacknowledged`, "receiver not named"), or an incoming
//!    one naming no provider activity and no record (`unreported`). No match by amount is
//!    tried: equal amounts are a coincidence, not a statement; a caller may print
//!    *suggestions* but they never change a status.
//!
//! Other types (expenditure, reimbursement, …) are in a link only when a receipt names them.
//!
//! # Status ([`LinkStatus`]), per currency, never converted
//! Each side's current transactions are summed per currency; withdrawn ones are listed but
//! not summed. `full` (same currencies, equal sums), `short` (less received in some currency;
//! a currency on the provider's side only counts as short when the sides share another),
//! `over`, `currency-differs` (no currency in common: both shown), `unacknowledged` (provider
//! only; `pending` while its newest value date is within `window_days` of `as_of`),
//! `withdrawn` (every provider transaction withdrawn by its author while receipts stand),
//! `unreported` (receiver only).
//!
//! # Commitments ([`Commitment`])
//! A separate question per (author, activity, currency): committed (type 2) vs disbursed
//! (types 3 and 4 of the same author and activity). Commitments are never "unacknowledged
//! disbursements": a commitment is a promise, and counting it as money sent makes fully paid
//! activities read "partly".
//!
//! # Findings ([`Finding`]), in this order
//! `short`, `over`, `currency-differs`, `withdrawn`, `unacknowledged` older than the window,
//! `unreported`, `provider-differs` (an outgoing transaction whose provider is another
//! organisation than its author: money reported as paid by someone else; it still counts in
//! its link as the author's), then the commitment questions `partly-disbursed`,
//! `not-disbursed`, `over-disbursed`. Shortfalls lead because they are what an auditor looks
//! for first.
//!
//! Files: `status.rs` (sums and [`LinkStatus`]), `link.rs` (keys and grouping),
//! `findings.rs` ([`Finding`], [`Commitment`]), `json.rs` (text and JSON of links and
//! entries).

mod findings;
mod json;
mod link;
mod status;

use aidledger_spec::text::Date;
use aidledger_spec::RecordId;
use rust_decimal::Decimal;

pub use findings::{Commitment, CommitmentStatus, Finding, FINDING_NAMES};
pub use json::{entry_json, EntryJson};
pub use link::{LinkKey, Pair};
pub use status::{Amounts, CurrencyAmount, LinkStatus, SumOverflow, LINK_STATUS_NAMES};

use crate::corrections::Entry;
use link::LinkRecord;

/// The window of `unacknowledged` findings when a caller does not choose one: a quarter,
/// the time publishers commonly take to book a transfer on the other side.
pub const WINDOW_DAYS_DEFAULT: u32 = 90;

/// Most entries one model holds: positions are stored as `u32` to keep links small.
pub const MODEL_ENTRIES_MAX: usize = u32::MAX as usize;

/// IATI TransactionType codes of money going out to a receiver (commitment, disbursement,
/// expenditure, reimbursement, purchase of equity, outgoing pledge): the types whose
/// provider should be their author.
pub const OUTGOING_TYPES: [u8; 6] = [2, 3, 4, 7, 8, 12];

/// Why a model could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// An amount is not an exact decimal (it would otherwise count as zero).
    #[error("amount {amount:?} of record {record} is not an exact decimal: {reason}")]
    Amount {
        /// The amount as recorded.
        amount: String,
        /// The record.
        record: RecordId,
        /// Why.
        reason: String,
    },
    /// A sum exceeds 28 significant digits.
    #[error("{0}")]
    Overflow(#[from] SumOverflow),
    /// More entries than positions can address.
    #[error("more than {MODEL_ENTRIES_MAX} transactions")]
    TooMany,
}

/// The money model of a set of corrected transactions (see the module doc).
#[derive(Clone, Debug)]
pub struct MoneyModel {
    entries: Vec<Entry>,
    amounts: Vec<Decimal>,
    links: Vec<LinkRecord>,
    /// Per entry, its link (`u32::MAX` when it is in none: a withdrawn receipt).
    link_of: Vec<u32>,
    /// Record ids, sorted, with their entries' positions.
    ids: Vec<(RecordId, u32)>,
    commitments: Vec<Commitment>,
    as_of: Date,
    window_days: u32,
}

/// One link, borrowed from the model: its key, pair, both sides and status.
#[derive(Clone, Copy, Debug)]
pub struct Link<'a> {
    model: &'a MoneyModel,
    record: &'a LinkRecord,
}

/// The exact value of a recorded amount.
pub fn parse_amount(entry: &Entry) -> Result<Decimal, MoneyError> {
    let text = &entry.transaction.value.amount;
    // Exact only: a value that would need rounding is refused, not rounded.
    Decimal::from_str_exact(text).map_err(|error| MoneyError::Amount {
        amount: text.clone(),
        record: entry.id,
        reason: error.to_string(),
    })
}

/// Days from 1970-01-01 (proleptic Gregorian), for windows (Howard Hinnant's
/// days_from_civil).
pub fn day_number(date: Date) -> i64 {
    let (year, month, day) = (
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01, the inverse of [`day_number`] (Howard Hinnant's
/// civil_from_days); `None` outside the years a [`Date`] holds.
pub fn date_of_day(days: i64) -> Option<Date> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Some(Date {
        year: u16::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
    })
}

impl MoneyModel {
    /// Builds the model of `entries` (current and withdrawn, any order, each record once):
    /// links, statuses as of `as_of` with the `window_days` window, commitment questions.
    pub fn build(
        entries: impl IntoIterator<Item = Entry>,
        as_of: Date,
        window_days: u32,
    ) -> Result<MoneyModel, MoneyError> {
        let entries: Vec<Entry> = entries.into_iter().collect();
        if entries.len() > MODEL_ENTRIES_MAX {
            return Err(MoneyError::TooMany);
        }
        let amounts = entries
            .iter()
            .map(parse_amount)
            .collect::<Result<Vec<_>, _>>()?;
        let ids = link::id_index(&entries);
        let oldest_pending = day_number(as_of) - i64::from(window_days);
        let mut links = link::group(&entries, &ids);
        // A fixed order within each side, so that sides, links and findings read the same
        // whatever order the records came in.
        let order = |a: &u32, b: &u32| {
            let (a, b) = (&entries[*a as usize], &entries[*b as usize]);
            (&a.author, a.seq, a.id).cmp(&(&b.author, b.seq, b.id))
        };
        for link in &mut links {
            let split = link.split as usize;
            link.members[..split].sort_unstable_by(order);
            link.members[split..].sort_unstable_by(order);
            let provider_sums = sums(&entries, &amounts, link.provider())?;
            let receiver_sums = sums(&entries, &amounts, link.receiver())?;
            link.status = match (provider_sums.is_empty(), receiver_sums.is_empty()) {
                // Only withdrawn transactions: nothing to answer; dropped below.
                (true, true) => LinkStatus::Unreported {
                    receiver: Amounts::default(),
                },
                (true, false) if split > 0 => LinkStatus::Withdrawn {
                    receiver: receiver_sums,
                },
                (true, false) => LinkStatus::Unreported {
                    receiver: receiver_sums,
                },
                (false, true) => {
                    let newest = link
                        .provider()
                        .iter()
                        .map(|&at| &entries[at as usize])
                        .filter(|entry| !entry.withdrawn)
                        .map(|entry| day_number(entry.transaction.value_date))
                        .max()
                        .unwrap_or(i64::MIN);
                    LinkStatus::Unacknowledged {
                        pending: newest >= oldest_pending,
                    }
                }
                (false, false) => status::compare(&provider_sums, &receiver_sums)?,
            };
        }
        links.retain(|link| {
            !matches!(&link.status, LinkStatus::Unreported { receiver } if receiver.is_empty())
        });
        links.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let mut link_of = vec![u32::MAX; entries.len()];
        for (at, link) in links.iter().enumerate() {
            for &position in link.provider() {
                link_of[position as usize] = at as u32;
            }
        }
        // A transaction that acknowledges one is in its target's link, even when another
        // receipt names it as target in turn.
        for (at, link) in links.iter().enumerate() {
            for &position in link.receiver() {
                link_of[position as usize] = at as u32;
            }
        }
        let commitments = findings::commitments(&entries, &amounts)?;
        Ok(MoneyModel {
            entries,
            amounts,
            links,
            link_of,
            ids,
            commitments,
            as_of,
            window_days,
        })
    }

    /// Every link, in key order (explicit links by target id, then activity links by
    /// activity, receiver organisation and pair, then unlinked transactions by id).
    pub fn links(&self) -> impl ExactSizeIterator<Item = Link<'_>> + '_ {
        self.links.iter().map(move |record| Link {
            model: self,
            record,
        })
    }

    /// The link a transaction belongs to: a receipt's is the link of what it acknowledges
    /// (or of its provider activity); an outgoing transaction's the one it is the provider
    /// side of. `None` for a record that is not a transaction held here, or a withdrawn
    /// receipt (it answers nothing).
    pub fn link_of(&self, record: &RecordId) -> Option<Link<'_>> {
        let position = self.position(record)?;
        let at = *self.link_of.get(position)?;
        let record = self.links.get(at as usize)?;
        Some(Link {
            model: self,
            record,
        })
    }

    /// Every entry (current and withdrawn), in the order given to [`MoneyModel::build`].
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry of a record id.
    pub fn entry(&self, record: &RecordId) -> Option<&Entry> {
        self.position(record).map(|at| &self.entries[at])
    }

    fn position(&self, record: &RecordId) -> Option<usize> {
        link::find(&self.ids, record).map(|at| at as usize)
    }

    /// The commitment questions, by (author, activity, currency).
    pub fn commitments(&self) -> &[Commitment] {
        &self.commitments
    }

    /// The findings, in the order of the module doc.
    pub fn findings(&self) -> Vec<Finding<'_>> {
        findings::findings(self)
    }

    /// The date statuses were computed as of.
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    /// The window of `unacknowledged`, in days.
    pub fn window_days(&self) -> u32 {
        self.window_days
    }

    /// The exact amount of an entry of this model (parsed once at build).
    pub fn amount(&self, entry: &Entry) -> Option<Decimal> {
        self.position(&entry.id).map(|at| self.amounts[at])
    }
}

impl<'a> Link<'a> {
    /// The key.
    pub fn key(&self) -> &'a LinkKey {
        &self.record.key
    }

    /// The pair of types (`None` for an explicit link between types outside the pairs, e.g.
    /// an acknowledged expenditure).
    pub fn pair(&self) -> Option<Pair> {
        self.record.pair
    }

    /// The provider side (withdrawn transactions included, flagged), in (author, seq) order.
    pub fn provider(&self) -> impl ExactSizeIterator<Item = &'a Entry> + 'a {
        let entries = &self.model.entries;
        self.record
            .provider()
            .iter()
            .map(move |&at| &entries[at as usize])
    }

    /// The receiver side (current transactions only), in (author, seq) order.
    pub fn receiver(&self) -> impl ExactSizeIterator<Item = &'a Entry> + 'a {
        let entries = &self.model.entries;
        self.record
            .receiver()
            .iter()
            .map(move |&at| &entries[at as usize])
    }

    /// The provider side's current sums per currency (withdrawn transactions not counted).
    pub fn provider_sums(&self) -> Amounts {
        let model = self.model;
        // The build summed the same side without overflow.
        sums(&model.entries, &model.amounts, self.record.provider()).unwrap_or_default()
    }

    /// The receiver side's sums per currency.
    pub fn receiver_sums(&self) -> Amounts {
        let model = self.model;
        sums(&model.entries, &model.amounts, self.record.receiver()).unwrap_or_default()
    }
    /// Whether the link is a finding: its status is one ([`LinkStatus::is_finding`]), except
    /// that a commitment or pledge no incoming commitment or pledge answers is not. Receivers
    /// seldom publish incoming commitments (type 11 exists since IATI 2.02), so every
    /// commitment older than the window would be a finding and bury the shortfalls; whether a
    /// commitment was kept is the commitment question's ([`MoneyModel::commitments`]).
    pub fn is_finding(&self) -> bool {
        let unanswered_promise = matches!(self.status(), LinkStatus::Unacknowledged { .. })
            && self.pair() != Some(Pair::Disbursement);
        self.status().is_finding() && !unanswered_promise
    }

    /// The status.
    pub fn status(&self) -> &'a LinkStatus {
        &self.record.status
    }

    /// Receiver − provider per currency, for a link whose sides share a currency (`full`,
    /// `short`, `over`); empty otherwise.
    pub fn difference(&self) -> Amounts {
        match self.record.status {
            LinkStatus::Full | LinkStatus::Short { .. } | LinkStatus::Over { .. } => {
                let differences = status::differences(&self.provider_sums(), &self.receiver_sums())
                    .unwrap_or_default();
                Amounts(
                    differences
                        .into_iter()
                        .map(|(currency, amount)| CurrencyAmount { currency, amount })
                        .collect(),
                )
            }
            _ => Amounts::default(),
        }
    }

    /// Why a link stands alone, when it does: `receiver not named` (an outgoing transaction
    /// naming no receiver organisation) or `names no provider activity and no record`.
    pub fn note(&self) -> Option<&'static str> {
        match (&self.record.key, self.record.split == 0) {
            (LinkKey::Unlinked(_), false) => Some("receiver not named"),
            (LinkKey::Unlinked(_), true) => Some("names no provider activity and no record"),
            _ => None,
        }
    }

    /// The model it belongs to.
    pub fn model(&self) -> &'a MoneyModel {
        self.model
    }
}

/// The current (non-withdrawn) sums per currency of the entries at `side`.
fn sums(entries: &[Entry], amounts: &[Decimal], side: &[u32]) -> Result<Amounts, SumOverflow> {
    let mut sums = Amounts::default();
    for &at in side {
        let entry = &entries[at as usize];
        if !entry.withdrawn {
            sums.add(&entry.transaction.value.currency, amounts[at as usize])?;
        }
    }
    Ok(sums)
}

impl PartialEq for Link<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.record, other.record)
    }
}
