//! `reconcile`: the money model's findings and links, filtered by organisation, and the old
//! amount-date-window rule as *suggestions* only.
//!
//! Every status comes from `aidledger_view::money` (the rules and their reasons are in its
//! module doc): links by explicit acknowledgement, by activity and receiving organisation
//! (many receipts to one disbursement), or unlinked; per currency `full`, `short`, `over`,
//! `currency-differs`, `unacknowledged` (a finding only after the window), `withdrawn`,
//! `unreported`; findings shortfalls first, `provider-differs`, commitment questions.
//!
//! Suggestions: an unacknowledged disbursement and an unlinked receipt (one naming neither the
//! disbursement's record nor a provider activity) with the same organisations, currency and
//! amount, value dates at most [`DATE_WINDOW_DAYS`] apart, are printed as a possible pair.
//! They never change a status: equal amounts are a coincidence until a publisher says so.

use std::collections::{BTreeMap, HashMap};

use aidledger_view::money::{Finding, Link, LinkKey, MoneyModel, FINDING_NAMES};
use rust_decimal::Decimal;

use super::day_number;
use super::ledger::{Entry, RedactedMoney};

/// The suggestions' window: value dates at most this many days apart (either way).
/// Publishers book a transfer on different days (sent, received, converted); a quarter
/// covers what the shared data shows while keeping unrelated equal amounts apart.
pub const DATE_WINDOW_DAYS: i64 = 90;

/// IATI TransactionType code of a disbursement.
const DISBURSEMENT: u8 = 3;
/// IATI TransactionType code of incoming funds.
const INCOMING_FUNDS: u8 = 1;

/// Filters by organisation.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only links whose provider is this organisation.
    pub provider: Option<String>,
    /// Only links whose receiver is this organisation.
    pub receiver: Option<String>,
}

/// A possible pair by the old amount-date-window rule: it changes no status.
#[derive(Clone, Debug)]
pub struct Suggestion<'a> {
    /// The unacknowledged disbursement.
    pub disbursement: &'a Entry,
    /// The unlinked incoming funds.
    pub receipt: &'a Entry,
    /// Days between their value dates.
    pub days_apart: i64,
}

/// What `reconcile` shows.
pub struct Reconciliation<'a> {
    /// The model (as of, window).
    pub model: &'a MoneyModel,
    /// The findings that pass the filter, in the model's order.
    pub findings: Vec<Finding<'a>>,
    /// Every link that passes the filter, in key order.
    pub links: Vec<Link<'a>>,
    /// Suggestions by amount and date.
    pub suggestions: Vec<Suggestion<'a>>,
    /// Transactions whose amounts a redaction withheld (in no link's sums).
    pub redacted: RedactedMoney,
}

/// `--fail-on` named a status that is not a finding name.
#[derive(Debug, thiserror::Error)]
#[error("--fail-on: {0:?} is not a finding (one of {names})", names = FINDING_NAMES.join(", "))]
pub struct UnknownStatus(pub String);

/// Reads `--fail-on short,unacknowledged`.
pub fn parse_fail_on(text: &str) -> Result<Vec<&'static str>, UnknownStatus> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            FINDING_NAMES
                .iter()
                .copied()
                .find(|known| *known == name)
                .ok_or_else(|| UnknownStatus(name.to_owned()))
        })
        .collect()
}

/// The organisations on each side of a link, as the filters see them: the provider
/// transactions' authors (or, when none is held, the organisation the receipts name as
/// provider); the receiving organisation of the key (or the receipts' authors, or the
/// organisation the provider transactions name as receiver).
fn link_orgs<'a>(link: &Link<'a>) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut providers: Vec<&str> = link.provider().map(|entry| entry.author.as_str()).collect();
    if providers.is_empty() {
        providers = link
            .receiver()
            .filter_map(|entry| entry.transaction.provider.as_ref())
            .map(|party| party.org_ref.as_str())
            .collect();
    }
    let receivers: Vec<&str> = match link.key() {
        LinkKey::Activity { receiver_org, .. } => vec![receiver_org.as_str()],
        _ if link.receiver().len() > 0 => {
            link.receiver().map(|entry| entry.author.as_str()).collect()
        }
        _ => link
            .provider()
            .filter_map(|entry| entry.transaction.receiver.as_ref())
            .map(|party| party.org_ref.as_str())
            .collect(),
    };
    (providers, receivers)
}

/// A party's organisation ref, empty when the party is not named.
fn party_org(party: &Option<aidledger_spec::record::Party>) -> &str {
    party.as_ref().map_or("", |party| party.org_ref.as_str())
}

fn wanted(filter: &Option<String>, orgs: &[&str]) -> bool {
    filter.as_deref().is_none_or(|want| orgs.contains(&want))
}

impl Filter {
    /// Whether a link passes.
    pub fn passes(&self, link: &Link<'_>) -> bool {
        if self.provider.is_none() && self.receiver.is_none() {
            return true;
        }
        let (providers, receivers) = link_orgs(link);
        wanted(&self.provider, &providers) && wanted(&self.receiver, &receivers)
    }

    /// Whether a finding passes: a link's as its link; a provider-differs transaction by its
    /// author or named provider, and its named receiver; a commitment by its author, and the
    /// receivers its commitments name.
    pub fn passes_finding(&self, model: &MoneyModel, finding: &Finding<'_>) -> bool {
        match finding {
            Finding::Link(link) => self.passes(link),
            Finding::ProviderDiffers { entry, .. } => {
                let transaction = &entry.transaction;
                wanted(
                    &self.provider,
                    &[entry.author.as_str(), party_org(&transaction.provider)],
                ) && wanted(&self.receiver, &[party_org(&transaction.receiver)])
            }
            Finding::Commitment(commitment) => {
                let receivers: Vec<&str> = commitment
                    .commitments
                    .iter()
                    .filter_map(|record| model.entry(record))
                    .map(|entry| party_org(&entry.transaction.receiver))
                    .collect();
                wanted(&self.provider, &[commitment.author.as_str()])
                    && wanted(&self.receiver, &receivers)
            }
        }
    }
}

/// The findings, links and suggestions of `model` that pass `filter`.
pub fn reconcile<'a>(model: &'a MoneyModel, filter: &Filter) -> Reconciliation<'a> {
    let findings = model
        .findings()
        .into_iter()
        .filter(|finding| filter.passes_finding(model, finding))
        .collect();
    let links: Vec<Link<'a>> = model.links().filter(|link| filter.passes(link)).collect();
    let suggestions = suggestions(model, &links);
    Reconciliation {
        model,
        findings,
        links,
        suggestions,
        redacted: RedactedMoney::default(),
    }
}

/// Unacknowledged disbursements and unlinked receipts with equal organisations, currency and
/// amount within the window, found through one hash map (no pairwise scan).
fn suggestions<'a>(model: &'a MoneyModel, links: &[Link<'a>]) -> Vec<Suggestion<'a>> {
    type Slot<'k> = (&'k str, &'k str, &'k str, Decimal);
    let mut receipts: HashMap<Slot<'a>, Vec<&'a Entry>> = HashMap::new();
    for link in links {
        if !matches!(link.key(), LinkKey::Unlinked(_)) {
            continue;
        }
        for receipt in link.receiver() {
            let transaction = &receipt.transaction;
            let provider = transaction
                .provider
                .as_ref()
                .map_or("", |party| party.org_ref.as_str());
            let amount = model.amount(receipt);
            if let (INCOMING_FUNDS, false, Some(amount)) =
                (transaction.transaction_type, provider.is_empty(), amount)
            {
                let slot = (
                    provider,
                    receipt.author.as_str(),
                    transaction.value.currency.as_str(),
                    amount,
                );
                receipts.entry(slot).or_default().push(receipt);
            }
        }
    }
    let mut found = Vec::new();
    if receipts.is_empty() {
        return found;
    }
    for link in links {
        if link.status().name() != "unacknowledged" {
            continue;
        }
        for disbursement in link.provider() {
            let transaction = &disbursement.transaction;
            let receiver = transaction
                .receiver
                .as_ref()
                .map_or("", |party| party.org_ref.as_str());
            let Some(amount) = model.amount(disbursement) else {
                continue;
            };
            if disbursement.withdrawn || transaction.transaction_type != DISBURSEMENT {
                continue;
            }
            let slot = (
                disbursement.author.as_str(),
                receiver,
                transaction.value.currency.as_str(),
                amount,
            );
            for receipt in receipts.get(&slot).into_iter().flatten() {
                let days_apart = (day_number(transaction.value_date)
                    - day_number(receipt.transaction.value_date))
                .abs();
                if days_apart <= DATE_WINDOW_DAYS {
                    found.push(Suggestion {
                        disbursement,
                        receipt,
                        days_apart,
                    });
                }
            }
        }
    }
    found
}

impl Reconciliation<'_> {
    /// How many redacted transactions a link names: its target, when a receipt acknowledges a
    /// transaction whose content is withheld (the receipts cannot be compared with it).
    pub fn redacted_in(&self, link: &Link<'_>) -> u64 {
        u64::from(self.redacted.target_of(link).is_some())
    }

    /// The reconciliation with the ledger's redacted transactions: a link keyed on one is
    /// `redacted` (its provider did report; the amount is withheld), not an `unreported`
    /// finding.
    pub fn with_redacted(mut self, redacted: RedactedMoney) -> Self {
        self.findings.retain(|finding| match finding {
            Finding::Link(link) => redacted.target_of(link).is_none(),
            _ => true,
        });
        self.redacted = redacted;
        self
    }

    /// Of `names`, those that occur among the findings (for `--fail-on`).
    pub fn occurring(&self, names: &[&'static str]) -> Vec<&'static str> {
        names
            .iter()
            .copied()
            .filter(|name| self.findings.iter().any(|finding| finding.name() == *name))
            .collect()
    }

    /// How many links have each status (a pending `unacknowledged` counted apart).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for link in &self.links {
            let name = match link.status() {
                _ if self.redacted_in(link) > 0 => "redacted",
                aidledger_view::money::LinkStatus::Unacknowledged { pending: true } => {
                    "unacknowledged-pending"
                }
                status => status.name(),
            };
            *counts.entry(name).or_insert(0) += 1;
        }
        counts
    }
}
