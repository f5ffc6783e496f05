//! `reconcile`: providers' disbursements (type 3) matched to receivers' incoming funds (type 1).
//!
//! Rules, in this order; each transaction is matched at most once, by the first rule that
//! matches it:
//! 1. **acknowledgement** — the incoming funds record names the disbursement's record id
//!    (`acknowledges`).
//! 2. **linked-activity** — the incoming funds name the disbursement's activity as
//!    `provider-activity-id`, or the disbursement names the incoming funds' activity as
//!    `receiver-activity-id`, the receiving organisation is the one the disbursement names, and
//!    the currency is the same. Equal amounts are paired first (nearest value dates first);
//!    what is left of a linked pair with different amounts is a **partial** match, with the
//!    difference shown.
//! 3. **amount-date-window** — same provider and receiver organisations, same currency, equal
//!    amount, value dates at most [`DATE_WINDOW_DAYS`] days apart.
//!
//! Everything else is listed as unmatched: a normal state (the other side may not publish, or
//! not in this ledger).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::ledger::{Entry, Ledger};
use super::{
    amount_of, day_number, entry_json, format_date, AmountError, DISBURSEMENT, INCOMING_FUNDS,
};

/// Rule 3's window: value dates at most this many days apart (either way). Publishers book a
/// transfer on different days (sent, received, converted); a quarter covers what the shared
/// data shows while keeping unrelated equal amounts apart.
pub const DATE_WINDOW_DAYS: i64 = 90;

/// Which rule paired two transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Rule 1.
    Acknowledgement,
    /// Rule 2.
    LinkedActivity,
    /// Rule 3.
    AmountDateWindow,
}

impl Rule {
    /// The rule's name in the output.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Acknowledgement => "acknowledgement",
            Rule::LinkedActivity => "linked-activity",
            Rule::AmountDateWindow => "amount-date-window",
        }
    }
}

/// One pair.
#[derive(Clone, Debug)]
pub struct Match {
    /// The rule.
    pub rule: Rule,
    /// Index of the disbursement in the ledger.
    pub disbursement: usize,
    /// Index of the incoming funds in the ledger.
    pub incoming: usize,
    /// Incoming minus disbursed, when not zero (a partial match).
    pub difference: Option<Decimal>,
}

/// The outcome.
pub struct Reconciliation<'a> {
    ledger: &'a Ledger,
    /// Full and partial matches.
    pub matches: Vec<Match>,
    /// Disbursements nothing matched.
    pub unmatched_disbursements: Vec<usize>,
    /// Incoming funds nothing matched.
    pub unmatched_incoming: Vec<usize>,
}

/// Filters by organisation.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only disbursements by (and incoming funds from) this organisation.
    pub provider: Option<String>,
    /// Only disbursements to (and incoming funds of) this organisation.
    pub receiver: Option<String>,
}

/// The state while matching.
struct Matcher<'a> {
    ledger: &'a Ledger,
    /// activity → its only publisher, to resolve a party named by activity id alone.
    publisher: BTreeMap<&'a str, Option<&'a str>>,
    disbursements: Vec<usize>,
    incoming: Vec<usize>,
    used: Vec<bool>,
    matches: Vec<Match>,
}

/// Runs the three rules over the ledger.
pub fn reconcile<'a>(
    ledger: &'a Ledger,
    filter: &Filter,
) -> Result<Reconciliation<'a>, AmountError> {
    let mut matcher = Matcher::new(ledger);
    matcher.select(filter);
    matcher.by_acknowledgement();
    matcher.by_linked_activity()?;
    matcher.by_amount_and_window()?;
    let unmatched =
        |list: &[usize], used: &[bool]| list.iter().copied().filter(|&i| !used[i]).collect();
    Ok(Reconciliation {
        ledger,
        unmatched_disbursements: unmatched(&matcher.disbursements, &matcher.used),
        unmatched_incoming: unmatched(&matcher.incoming, &matcher.used),
        matches: matcher.matches,
    })
}

impl<'a> Matcher<'a> {
    fn new(ledger: &'a Ledger) -> Matcher<'a> {
        let mut publisher: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        for entry in &ledger.transactions {
            publisher
                .entry(entry.transaction.activity_id.as_str())
                .and_modify(|known| {
                    if *known != Some(entry.author.as_str()) {
                        *known = None; // published by several: not a unique answer
                    }
                })
                .or_insert(Some(entry.author.as_str()));
        }
        Matcher {
            ledger,
            publisher,
            disbursements: Vec::new(),
            incoming: Vec::new(),
            used: vec![false; ledger.transactions.len()],
            matches: Vec::new(),
        }
    }

    fn entry(&self, index: usize) -> &'a Entry {
        &self.ledger.transactions[index]
    }

    /// The organisation a disbursement pays: its receiver ref, else the publisher of the
    /// receiver activity.
    fn receiver_org(&self, index: usize) -> Option<&'a str> {
        let receiver = self.entry(index).transaction.receiver.as_ref()?;
        if !receiver.org_ref.is_empty() {
            return Some(receiver.org_ref.as_str());
        }
        self.publisher
            .get(receiver.activity_id.as_str())
            .copied()
            .flatten()
    }

    /// The organisation incoming funds came from: its provider ref, else the publisher of the
    /// provider activity.
    fn provider_org(&self, index: usize) -> Option<&'a str> {
        let provider = self.entry(index).transaction.provider.as_ref()?;
        if !provider.org_ref.is_empty() {
            return Some(provider.org_ref.as_str());
        }
        self.publisher
            .get(provider.activity_id.as_str())
            .copied()
            .flatten()
    }

    fn select(&mut self, filter: &Filter) {
        for (index, entry) in self.ledger.transactions.iter().enumerate() {
            let (provider, receiver) = match entry.transaction.transaction_type {
                DISBURSEMENT => (Some(entry.author.as_str()), self.receiver_org(index)),
                INCOMING_FUNDS => (self.provider_org(index), Some(entry.author.as_str())),
                _ => continue,
            };
            let wanted = |want: &Option<String>, have: Option<&str>| {
                want.as_deref().is_none_or(|want| have == Some(want))
            };
            if !wanted(&filter.provider, provider) || !wanted(&filter.receiver, receiver) {
                continue;
            }
            if entry.transaction.transaction_type == DISBURSEMENT {
                self.disbursements.push(index);
            } else {
                self.incoming.push(index);
            }
        }
    }

    fn pair(
        &mut self,
        rule: Rule,
        disbursement: usize,
        incoming: usize,
        difference: Option<Decimal>,
    ) {
        self.used[disbursement] = true;
        self.used[incoming] = true;
        self.matches.push(Match {
            rule,
            disbursement,
            incoming,
            difference,
        });
    }

    fn by_acknowledgement(&mut self) {
        let wanted: BTreeMap<aidledger_spec::RecordId, usize> = self
            .disbursements
            .iter()
            .map(|&index| (self.entry(index).id, index))
            .collect();
        for position in 0..self.incoming.len() {
            let incoming = self.incoming[position];
            let Some(target) = self.entry(incoming).transaction.acknowledges else {
                continue;
            };
            if let Some(&disbursement) = wanted.get(&target) {
                if !self.used[disbursement] && !self.used[incoming] {
                    self.pair(Rule::Acknowledgement, disbursement, incoming, None);
                }
            }
        }
    }

    fn linked(&self, disbursement: usize, incoming: usize) -> bool {
        let paid = &self.entry(disbursement).transaction;
        let received = &self.entry(incoming).transaction;
        if paid.value.currency != received.value.currency {
            return false;
        }
        let names_provider_activity = received
            .provider
            .as_ref()
            .is_some_and(|provider| provider.activity_id == paid.activity_id);
        let names_receiver_activity = paid.receiver.as_ref().is_some_and(|receiver| {
            !receiver.activity_id.is_empty() && receiver.activity_id == received.activity_id
        });
        let receiving_org_fits = self
            .receiver_org(disbursement)
            .is_none_or(|org| org == self.entry(incoming).author);
        (names_provider_activity && receiving_org_fits) || names_receiver_activity
    }

    fn date_gap(&self, disbursement: usize, incoming: usize) -> i64 {
        (day_number(self.entry(disbursement).transaction.value_date)
            - day_number(self.entry(incoming).transaction.value_date))
        .abs()
    }

    /// Rule 2: equal amounts first across all linked pairs, then partial matches.
    fn by_linked_activity(&mut self) -> Result<(), AmountError> {
        for exact in [true, false] {
            let candidates = self.candidates(|matcher, disbursement, incoming| {
                if !matcher.linked(disbursement, incoming) {
                    return Ok(None);
                }
                let gap = matcher.date_gap(disbursement, incoming);
                let same =
                    amount_of(matcher.entry(disbursement))? == amount_of(matcher.entry(incoming))?;
                Ok((same == exact).then_some(gap))
            })?;
            self.take_nearest(candidates, Rule::LinkedActivity)?;
        }
        Ok(())
    }

    /// Rule 3.
    fn by_amount_and_window(&mut self) -> Result<(), AmountError> {
        let candidates = self.candidates(|matcher, disbursement, incoming| {
            let paid = &matcher.entry(disbursement).transaction;
            let received = &matcher.entry(incoming).transaction;
            let fits = paid.value.currency == received.value.currency
                && matcher.provider_org(incoming)
                    == Some(matcher.entry(disbursement).author.as_str())
                && matcher.receiver_org(disbursement)
                    == Some(matcher.entry(incoming).author.as_str())
                && amount_of(matcher.entry(disbursement))? == amount_of(matcher.entry(incoming))?;
            let gap = matcher.date_gap(disbursement, incoming);
            Ok((fits && gap <= DATE_WINDOW_DAYS).then_some(gap))
        })?;
        self.take_nearest(candidates, Rule::AmountDateWindow)
    }

    /// Every unused (disbursement, incoming) pair the test accepts, with its date gap.
    fn candidates(
        &self,
        test: impl Fn(&Matcher<'a>, usize, usize) -> Result<Option<i64>, AmountError>,
    ) -> Result<Vec<(i64, usize, usize)>, AmountError> {
        let mut found = Vec::new();
        for &disbursement in self
            .disbursements
            .iter()
            .filter(|&&index| !self.used[index])
        {
            for &incoming in self.incoming.iter().filter(|&&index| !self.used[index]) {
                if let Some(gap) = test(self, disbursement, incoming)? {
                    found.push((gap, disbursement, incoming));
                }
            }
        }
        Ok(found)
    }

    /// Pairs greedily, nearest value dates first; ties keep ledger order.
    fn take_nearest(
        &mut self,
        mut candidates: Vec<(i64, usize, usize)>,
        rule: Rule,
    ) -> Result<(), AmountError> {
        candidates.sort();
        for (_, disbursement, incoming) in candidates {
            if self.used[disbursement] || self.used[incoming] {
                continue;
            }
            let difference =
                amount_of(self.entry(incoming))? - amount_of(self.entry(disbursement))?;
            let difference = (!difference.is_zero()).then_some(difference);
            self.pair(rule, disbursement, incoming, difference);
        }
        Ok(())
    }
}

impl Reconciliation<'_> {
    fn entry(&self, index: usize) -> &Entry {
        &self.ledger.transactions[index]
    }

    /// The rules as printed.
    pub fn rules_text() -> String {
        format!(
            "rules, in order: 1 acknowledgement (the incoming funds name the disbursement's record); \
             2 linked-activity (provider-/receiver-activity-id link them, same currency; equal amounts first, \
             else a partial match); 3 amount-date-window (same organisations, currency and amount, value dates \
             at most {DATE_WINDOW_DAYS} days apart)"
        )
    }

    /// The outcome as JSON.
    pub fn to_json(&self) -> Value {
        let matches: Vec<Value> = self
            .matches
            .iter()
            .map(|found| {
                json!({
                    "rule": found.rule.name(),
                    "partial": found.difference.is_some(),
                    "difference": found.difference.map(|d| d.normalize().to_string()),
                    "disbursement": entry_json(self.entry(found.disbursement)),
                    "incoming": entry_json(self.entry(found.incoming)),
                })
            })
            .collect();
        let list = |indices: &[usize]| -> Vec<Value> {
            indices.iter().map(|&i| entry_json(self.entry(i))).collect()
        };
        json!({
            "rules": ["acknowledgement", "linked-activity", "amount-date-window"],
            "date_window_days": DATE_WINDOW_DAYS,
            "matched": self.matches.iter().filter(|found| found.difference.is_none()).count(),
            "partial": self.matches.iter().filter(|found| found.difference.is_some()).count(),
            "matches": matches,
            "unmatched_disbursements": list(&self.unmatched_disbursements),
            "unmatched_incoming": list(&self.unmatched_incoming),
        })
    }

    /// The outcome as text.
    pub fn to_text(&self) -> String {
        let full: Vec<&Match> = self
            .matches
            .iter()
            .filter(|found| found.difference.is_none())
            .collect();
        let partial: Vec<&Match> = self
            .matches
            .iter()
            .filter(|found| found.difference.is_some())
            .collect();
        let mut out = format!("{}\n", Self::rules_text());
        out.push_str(&format!("matched ({}):\n", full.len()));
        for found in full {
            out.push_str(&format!(
                "  [{}] {}  =>  {}\n",
                found.rule.name(),
                self.side_text(found.disbursement),
                self.side_text(found.incoming)
            ));
        }
        out.push_str(&format!("partial matches ({}):\n", partial.len()));
        for found in partial {
            out.push_str(&format!(
                "  [{}] {}  =>  {}  (difference {})\n",
                found.rule.name(),
                self.side_text(found.disbursement),
                self.side_text(found.incoming),
                found
                    .difference
                    .map(|d| d.normalize().to_string())
                    .unwrap_or_default()
            ));
        }
        out.push_str(&format!(
            "unmatched disbursements ({}):\n",
            self.unmatched_disbursements.len()
        ));
        for &index in &self.unmatched_disbursements {
            out.push_str(&format!("  {}\n", self.side_text(index)));
        }
        out.push_str(&format!(
            "unmatched incoming funds ({}):\n",
            self.unmatched_incoming.len()
        ));
        for &index in &self.unmatched_incoming {
            out.push_str(&format!("  {}\n", self.side_text(index)));
        }
        out
    }

    fn side_text(&self, index: usize) -> String {
        let entry = self.entry(index);
        let transaction = &entry.transaction;
        let other = match transaction.transaction_type {
            DISBURSEMENT => transaction
                .receiver
                .as_ref()
                .map(|party| format!("to {}", party_label(party))),
            _ => transaction
                .provider
                .as_ref()
                .map(|party| format!("from {}", party_label(party))),
        };
        format!(
            "{} {} {} {} {} {} {}",
            entry.author,
            transaction.activity_id,
            format_date(transaction.value_date),
            transaction.value.amount,
            transaction.value.currency,
            other.unwrap_or_else(|| "(no party named)".to_owned()),
            entry.id
        )
    }

    /// The outcome as CSV, one row per match or unmatched transaction.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "status,rule,disbursement_record,provider_org,provider_activity,disbursement_value_date,disbursement_amount,\
             incoming_record,receiver_org,receiver_activity,incoming_value_date,incoming_amount,currency,difference\n",
        );
        let blank = || vec![String::new(); 5];
        for found in &self.matches {
            let status = if found.difference.is_some() {
                "partial"
            } else {
                "matched"
            };
            let difference = found
                .difference
                .map(|d| d.normalize().to_string())
                .unwrap_or_default();
            self.csv_row(
                &mut out,
                status,
                found.rule.name(),
                self.csv_side(found.disbursement),
                self.csv_side(found.incoming),
                found.disbursement,
                &difference,
            );
        }
        for &index in &self.unmatched_disbursements {
            self.csv_row(
                &mut out,
                "unmatched-disbursement",
                "",
                self.csv_side(index),
                blank(),
                index,
                "",
            );
        }
        for &index in &self.unmatched_incoming {
            self.csv_row(
                &mut out,
                "unmatched-incoming",
                "",
                blank(),
                self.csv_side(index),
                index,
                "",
            );
        }
        out
    }

    fn csv_side(&self, index: usize) -> Vec<String> {
        let entry = self.entry(index);
        let transaction = &entry.transaction;
        vec![
            entry.id.to_string(),
            entry.author.clone(),
            transaction.activity_id.clone(),
            format_date(transaction.value_date),
            transaction.value.amount.clone(),
        ]
    }

    #[allow(clippy::too_many_arguments)]
    fn csv_row(
        &self,
        out: &mut String,
        status: &str,
        rule: &str,
        paid: Vec<String>,
        received: Vec<String>,
        any: usize,
        difference: &str,
    ) {
        let mut fields = vec![status.to_owned(), rule.to_owned()];
        fields.extend(paid);
        fields.extend(received);
        fields.push(self.entry(any).transaction.value.currency.clone());
        fields.push(difference.to_owned());
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
}

fn party_label(party: &aidledger_spec::record::Party) -> String {
    let org = if party.org_ref.is_empty() {
        party.name.as_str()
    } else {
        party.org_ref.as_str()
    };
    if party.activity_id.is_empty() {
        org.to_owned()
    } else {
        format!("{org} activity {}", party.activity_id)
    }
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}
