//! The flow of money through the ledger: `flow` (the tree of funding around an activity) and
//! `reconcile` (the findings and every link of the money model), both over the same
//! [`ledger::Ledger`] of verified, corrected transactions and the one money model
//! (`aidledger_view::money`) that computes every status. Amounts are exact decimals
//! (rust_decimal), never floats.

pub mod flow;
pub mod ledger;
pub mod reconcile;
pub mod reconcile_output;

use std::collections::BTreeMap;

use aidledger_spec::record::transaction_type_name;
use aidledger_spec::text::Date;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use ledger::Entry;

/// IATI TransactionType codes of money coming in to the reporting organisation.
pub const INCOMING_TYPES: &[u8] = &[1, 11, 13];
/// IATI TransactionType codes of money going out to a receiver (the money model's).
pub use aidledger_view::money::OUTGOING_TYPES;

/// An amount that cannot be summed exactly.
#[derive(Debug, thiserror::Error)]
#[error("amount {amount} of record {record} cannot be summed exactly: {reason}")]
pub struct AmountError {
    /// The amount as recorded.
    pub amount: String,
    /// The record.
    pub record: String,
    /// Why.
    pub reason: String,
}

/// The exact value of an entry's amount, by the money model's one rule (exact or refused,
/// never rounded).
pub fn amount_of(entry: &Entry) -> Result<Decimal, AmountError> {
    aidledger_view::money::parse_amount(entry).map_err(|error| AmountError {
        amount: entry.transaction.value.amount.clone(),
        record: entry.id.to_string(),
        reason: error.to_string(),
    })
}

/// Count and exact sum per (transaction type, currency).
#[derive(Clone, Debug, Default)]
pub struct Totals(pub BTreeMap<(u8, String), (u64, Decimal)>);

impl Totals {
    /// Adds one entry.
    pub fn add(&mut self, entry: &Entry) -> Result<(), AmountError> {
        let amount = amount_of(entry)?;
        let key = (
            entry.transaction.transaction_type,
            entry.transaction.value.currency.clone(),
        );
        let slot = self.0.entry(key).or_insert((0, Decimal::ZERO));
        slot.0 += 1;
        slot.1 = slot.1.checked_add(amount).ok_or_else(|| AmountError {
            amount: entry.transaction.value.amount.clone(),
            record: entry.id.to_string(),
            reason: "the sum exceeds 28 significant digits".to_owned(),
        })?;
        Ok(())
    }

    /// `[{"type","type_name","currency","count","amount"}]`.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|((code, currency), (count, sum))| {
                    json!({
                        "type": code,
                        "type_name": transaction_type_name(*code),
                        "currency": currency,
                        "count": count,
                        "amount": sum.to_string(),
                    })
                })
                .collect(),
        )
    }

    /// `3 disbursement GBP ×3 1600000; …`.
    pub fn to_text(&self) -> String {
        if self.0.is_empty() {
            return "none".to_owned();
        }
        self.0
            .iter()
            .map(|((code, currency), (count, sum))| {
                format!(
                    "{} {} ×{count}",
                    transaction_type_name(*code),
                    format_amount(*sum, currency)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `1600000.00 GBP`: every digit kept, in the scale the amounts were written with (sums are
/// never normalized: `5000.00` stays `5000.00`).
pub fn format_amount(amount: Decimal, currency: &str) -> String {
    format!("{amount} {currency}")
}

/// Days from 1970-01-01 (proleptic Gregorian), for date windows (the money model's).
pub use aidledger_view::money::day_number;

/// The date `days` after 1970-01-01 (the inverse of [`day_number`]).
pub use aidledger_view::money::date_of_day;

/// Today's date in UTC, from the system clock (the default `--as-of` of `reconcile`).
pub fn today_utc() -> Option<Date> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    date_of_day(i64::try_from(seconds / SECONDS_PER_DAY).ok()?)
}

/// Seconds in a UTC day (no leap seconds in Unix time).
const SECONDS_PER_DAY: u64 = 86_400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_count_calendar_days() {
        let date = |year, month, day| Date { year, month, day };
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(
            day_number(date(2020, 3, 1)) - day_number(date(2020, 2, 28)),
            2
        );
        assert_eq!(
            day_number(date(2021, 3, 1)) - day_number(date(2021, 2, 28)),
            1
        );
        assert_eq!(
            day_number(date(2021, 1, 1)) - day_number(date(2020, 1, 1)),
            366
        );
        for days in [0, 59, 60, 365, 11_016, 20_454, 2_932_896] {
            assert_eq!(date_of_day(days).map(day_number), Some(days));
        }
        assert_eq!(date_of_day(19_782), Some(date(2024, 2, 29)));
    }
}
