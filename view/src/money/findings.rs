//! Findings (what `reconcile` and the explorer lead with) and the commitment questions.

use std::collections::{BTreeMap, HashSet};

use aidledger_spec::record::transaction_type_name;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::json::entry_json;
use super::status::SumOverflow;
use super::{Link, LinkStatus, MoneyModel, OUTGOING_TYPES};
use crate::corrections::Entry;

/// IATI TransactionType code of an outgoing commitment.
const COMMITMENT: u8 = 2;
/// The types that disburse a commitment: disbursement (3) and expenditure (4).
const DISBURSING_TYPES: [u8; 2] = [3, 4];

/// Every finding name, in the order findings are listed (`--fail-on` accepts these).
pub const FINDING_NAMES: [&str; 10] = [
    "short",
    "over",
    "currency-differs",
    "withdrawn",
    "unacknowledged",
    "unreported",
    "provider-differs",
    "partly-disbursed",
    "not-disbursed",
    "over-disbursed",
];

/// The answer to "was the commitment disbursed?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitmentStatus {
    /// Disbursed exactly the committed sum.
    DisbursedInFull,
    /// Disbursed less than committed (and more than nothing).
    PartlyDisbursed {
        /// Committed − disbursed.
        remaining: Decimal,
    },
    /// Disbursed more than committed.
    OverDisbursed {
        /// Disbursed − committed.
        excess: Decimal,
    },
    /// Nothing disbursed.
    NotDisbursed,
}

impl CommitmentStatus {
    /// `disbursed-in-full`, `partly-disbursed`, `over-disbursed`, `not-disbursed`.
    pub fn name(&self) -> &'static str {
        match self {
            CommitmentStatus::DisbursedInFull => "disbursed-in-full",
            CommitmentStatus::PartlyDisbursed { .. } => "partly-disbursed",
            CommitmentStatus::OverDisbursed { .. } => "over-disbursed",
            CommitmentStatus::NotDisbursed => "not-disbursed",
        }
    }
}

/// One commitment question: an author's commitments of one activity in one currency against
/// its disbursements and expenditure of that activity in that currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// The committing organisation.
    pub author: String,
    /// The activity.
    pub activity: String,
    /// The currency.
    pub currency: String,
    /// Sum of the current commitments (type 2).
    pub committed: Decimal,
    /// Sum of the current disbursements and expenditure (types 3 and 4).
    pub disbursed: Decimal,
    /// The commitments' record ids.
    pub commitments: Vec<aidledger_spec::RecordId>,
    /// The disbursements' and expenditure's record ids.
    pub disbursements: Vec<aidledger_spec::RecordId>,
    /// The answer.
    pub status: CommitmentStatus,
}

impl Commitment {
    /// `partly-disbursed (remaining 100.00 GBP)`, `over-disbursed (excess 5 GBP)`, …
    pub fn status_text(&self) -> String {
        match &self.status {
            CommitmentStatus::PartlyDisbursed { remaining } => {
                format!("partly-disbursed (remaining {remaining} {})", self.currency)
            }
            CommitmentStatus::OverDisbursed { excess } => {
                format!("over-disbursed (excess {excess} {})", self.currency)
            }
            other => other.name().to_owned(),
        }
    }

    /// One line: status, who, which activity, both sums.
    pub fn text(&self) -> String {
        format!(
            "{}: {} activity {} committed {} {}, disbursed {} {}",
            self.status_text(),
            self.author,
            self.activity,
            self.committed,
            self.currency,
            self.disbursed,
            self.currency
        )
    }

    /// The question as JSON; amounts are strings.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "status": self.status.name(),
            "text": self.status_text(),
            "author": self.author,
            "activity": self.activity,
            "currency": self.currency,
            "committed": self.committed.to_string(),
            "disbursed": self.disbursed.to_string(),
            "commitments": self.commitments,
            "disbursements": self.disbursements,
        });
        match &self.status {
            CommitmentStatus::PartlyDisbursed { remaining } => {
                value["remaining"] = remaining.to_string().into();
            }
            CommitmentStatus::OverDisbursed { excess } => {
                value["excess"] = excess.to_string().into();
            }
            _ => {}
        }
        value
    }
}

/// One finding.
#[derive(Clone, Debug)]
pub enum Finding<'a> {
    /// A link whose status is a finding (see [`Link::is_finding`]).
    Link(Link<'a>),
    /// An outgoing transaction reported as paid by another organisation than its author.
    ProviderDiffers {
        /// The transaction.
        entry: &'a Entry,
        /// Its link, if it is in one.
        link: Option<Link<'a>>,
    },
    /// A commitment not disbursed in full.
    Commitment(&'a Commitment),
}

impl Finding<'_> {
    /// The finding's name (one of [`FINDING_NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            Finding::Link(link) => link.status().name(),
            Finding::ProviderDiffers { .. } => "provider-differs",
            Finding::Commitment(commitment) => commitment.status.name(),
        }
    }

    /// One line with the amounts.
    pub fn text(&self) -> String {
        match self {
            Finding::Link(link) => link.summary(),
            Finding::ProviderDiffers { entry, .. } => {
                let transaction = &entry.transaction;
                let provider = transaction
                    .provider
                    .as_ref()
                    .map_or("", |party| party.org_ref.as_str());
                format!(
                    "provider-differs: {} reports {} {} {} of activity {} as paid by {provider} (record {})",
                    entry.author,
                    transaction_type_name(transaction.transaction_type),
                    transaction.value.amount,
                    transaction.value.currency,
                    transaction.activity_id,
                    entry.id
                )
            }
            Finding::Commitment(commitment) => commitment.text(),
        }
    }

    /// The finding as JSON: `{"finding": name, "text", …}` with the link, the transaction or
    /// the commitment question.
    pub fn to_json(&self) -> Value {
        let mut value = match self {
            Finding::Link(link) => link.to_json(),
            Finding::ProviderDiffers { entry, link } => json!({
                "transaction": entry_json(entry),
                "link": link.as_ref().map(|link| link.key().text()),
                "link_status": link.as_ref().map(|link| link.status().text()),
            }),
            Finding::Commitment(commitment) => commitment.to_json(),
        };
        value["finding"] = self.name().into();
        value["finding_text"] = self.text().into();
        value
    }
}

impl serde::Serialize for Finding<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// The findings of a model, in the module doc's order.
pub(crate) fn findings(model: &MoneyModel) -> Vec<Finding<'_>> {
    let rank = |status: &LinkStatus| match status {
        LinkStatus::Short { .. } => 0,
        LinkStatus::Over { .. } => 1,
        LinkStatus::CurrencyDiffers { .. } => 2,
        LinkStatus::Withdrawn { .. } => 3,
        LinkStatus::Unacknowledged { .. } => 4,
        LinkStatus::Unreported { .. } => 5,
        LinkStatus::Full => 6,
    };
    let mut links: Vec<Link<'_>> = model.links().filter(Link::is_finding).collect();
    links.sort_by_key(|link| rank(link.status())); // stable: key order within a kind
    let mut out: Vec<Finding<'_>> = links.into_iter().map(Finding::Link).collect();
    let mut differing: Vec<&Entry> = Vec::new();
    for entry in model.entries() {
        let transaction = &entry.transaction;
        let provider = transaction
            .provider
            .as_ref()
            .map_or("", |party| party.org_ref.as_str());
        if !entry.withdrawn
            && OUTGOING_TYPES.contains(&transaction.transaction_type)
            && !provider.is_empty()
            && provider != entry.author
        {
            differing.push(entry);
        }
    }
    // Entries come in the order given: sorted, so that every reader lists them alike.
    differing.sort_unstable_by(|a, b| (&a.author, a.seq, a.id).cmp(&(&b.author, b.seq, b.id)));
    out.extend(differing.into_iter().map(|entry| Finding::ProviderDiffers {
        entry,
        link: model.link_of(&entry.id),
    }));
    let commitment_rank = |status: &CommitmentStatus| match status {
        CommitmentStatus::PartlyDisbursed { .. } => 0,
        CommitmentStatus::NotDisbursed => 1,
        CommitmentStatus::OverDisbursed { .. } => 2,
        CommitmentStatus::DisbursedInFull => 3,
    };
    let mut commitments: Vec<&Commitment> = model
        .commitments()
        .iter()
        .filter(|commitment| commitment.status != CommitmentStatus::DisbursedInFull)
        .collect();
    commitments.sort_by_key(|commitment| commitment_rank(&commitment.status));
    out.extend(commitments.into_iter().map(Finding::Commitment));
    out
}

/// A commitment question's key: (author, activity, currency).
fn key(entry: &Entry) -> (&str, &str, &str) {
    let transaction = &entry.transaction;
    (
        entry.author.as_str(),
        transaction.activity_id.as_str(),
        transaction.value.currency.as_str(),
    )
}

/// Sums per (author, activity, currency) of commitments and of what disburses them.
type Ledgered<'a> = BTreeMap<(&'a str, &'a str, &'a str), Commitment>;

/// The commitment questions of the current entries (a question exists where something was
/// committed).
pub(crate) fn commitments(
    entries: &[Entry],
    amounts: &[Decimal],
) -> Result<Vec<Commitment>, SumOverflow> {
    // Only what was committed asks a question: the disbursements of activities without a
    // commitment (most of a large ledger) are never gathered.
    let committed: HashSet<(&str, &str, &str)> = entries
        .iter()
        .filter(|entry| !entry.withdrawn && entry.transaction.transaction_type == COMMITMENT)
        .map(key)
        .collect();
    let mut questions: Ledgered<'_> = BTreeMap::new();
    for (entry, amount) in entries.iter().zip(amounts) {
        let transaction = &entry.transaction;
        let kind = transaction.transaction_type;
        if entry.withdrawn
            || !(kind == COMMITMENT || DISBURSING_TYPES.contains(&kind))
            || !committed.contains(&key(entry))
        {
            continue;
        }
        let currency = transaction.value.currency.as_str();
        let question = questions.entry(key(entry)).or_insert_with(|| Commitment {
            author: entry.author.clone(),
            activity: transaction.activity_id.clone(),
            currency: currency.to_owned(),
            committed: Decimal::ZERO,
            disbursed: Decimal::ZERO,
            commitments: Vec::new(),
            disbursements: Vec::new(),
            status: CommitmentStatus::NotDisbursed,
        });
        let overflow = || SumOverflow {
            currency: currency.to_owned(),
        };
        if kind == COMMITMENT {
            question.committed = question
                .committed
                .checked_add(*amount)
                .ok_or_else(overflow)?;
            question.commitments.push(entry.id);
        } else {
            question.disbursed = question
                .disbursed
                .checked_add(*amount)
                .ok_or_else(overflow)?;
            question.disbursements.push(entry.id);
        }
    }
    let mut out = Vec::new();
    for (_, mut question) in questions {
        // Record ids in id order: entries come in the order given, and every reader must
        // list a question alike.
        question.commitments.sort_unstable();
        question.disbursements.sort_unstable();
        let remaining = question.committed.checked_sub(question.disbursed);
        let remaining = remaining.ok_or_else(|| SumOverflow {
            currency: question.currency.clone(),
        })?;
        question.status = if question.disbursed.is_zero() && !question.committed.is_zero() {
            CommitmentStatus::NotDisbursed
        } else if remaining.is_zero() {
            CommitmentStatus::DisbursedInFull
        } else if remaining.is_sign_positive() {
            CommitmentStatus::PartlyDisbursed { remaining }
        } else {
            CommitmentStatus::OverDisbursed { excess: -remaining }
        };
        out.push(question);
    }
    Ok(out)
}
