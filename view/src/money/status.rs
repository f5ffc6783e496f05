//! The status of a link: exact sums per currency on each side, compared per currency, never
//! converted. See the module doc of `money` for the rules and why.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// An exact sum in one currency. The scale is what addition and subtraction of the written
/// amounts give (`125000.00 − 120000.00` is `5000.00`), never normalized, so a reader sees
/// the precision the publishers wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyAmount {
    /// ISO 4217 code as recorded.
    pub currency: String,
    /// The exact amount.
    pub amount: Decimal,
}

/// Exact sums per currency, in currency order. A sorted `Vec`, not a map: almost every link
/// has one currency, and a million links must stay small.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Amounts(pub Vec<CurrencyAmount>);

/// A sum that exceeds what a 96-bit decimal holds (28 significant digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sum in {currency} exceeds 28 significant digits")]
pub struct SumOverflow {
    /// The currency of the sum.
    pub currency: String,
}

impl Amounts {
    /// Adds `amount` to the sum in `currency`.
    pub fn add(&mut self, currency: &str, amount: Decimal) -> Result<(), SumOverflow> {
        match self
            .0
            .binary_search_by(|held| held.currency.as_str().cmp(currency))
        {
            Ok(position) => {
                let held = &mut self.0[position];
                held.amount = held.amount.checked_add(amount).ok_or_else(|| SumOverflow {
                    currency: currency.to_owned(),
                })?;
            }
            Err(position) => self.0.insert(
                position,
                CurrencyAmount {
                    currency: currency.to_owned(),
                    amount,
                },
            ),
        }
        Ok(())
    }

    /// The sum in `currency`, if this side has that currency.
    pub fn get(&self, currency: &str) -> Option<Decimal> {
        self.0
            .binary_search_by(|held| held.currency.as_str().cmp(currency))
            .ok()
            .map(|position| self.0[position].amount)
    }

    /// Whether there is no amount at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `100.00 EUR + 5 GBP`; `nothing` when empty.
    pub fn text(&self) -> String {
        if self.0.is_empty() {
            return "nothing".to_owned();
        }
        self.0
            .iter()
            .map(|held| format!("{} {}", held.amount, held.currency))
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// `[{"currency":"GBP","amount":"5000.00"}]`: amounts as strings, scale kept.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|held| json!({"currency": held.currency, "amount": held.amount.to_string()}))
                .collect(),
        )
    }
}

/// The status of one link (see the `money` module doc for each rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    /// Both sides have the same currencies and equal sums in each.
    Full,
    /// The receiver reports less than the provider in some currency. `excess` lists the
    /// currencies where it reports more (a mixed link is `short`, shortfall first).
    Short {
        /// Provider sum − receiver sum, per short currency.
        shortfall: Amounts,
        /// Receiver sum − provider sum, per currency reported over.
        excess: Amounts,
    },
    /// The receiver reports more than the provider in some currency, less in none.
    Over {
        /// Receiver sum − provider sum, per currency.
        excess: Amounts,
    },
    /// Both sides hold amounts, in no currency in common: both shown, never converted.
    CurrencyDiffers {
        /// The provider's sums.
        provider: Amounts,
        /// The receiver's sums.
        receiver: Amounts,
    },
    /// The provider reports, the receiver side is empty. `pending` while the newest provider
    /// value date is inside the window (not a finding yet).
    Unacknowledged {
        /// Whether the newest provider value date is within the window.
        pending: bool,
    },
    /// Every provider-side transaction was withdrawn by its author, while receipts stand.
    Withdrawn {
        /// The standing receipts' sums.
        receiver: Amounts,
    },
    /// The receiver reports, the provider's record is not held (or was never reported).
    Unreported {
        /// The receipts' sums.
        receiver: Amounts,
    },
}

/// Every link status name, as `--fail-on` and the CSV status column spell them.
pub const LINK_STATUS_NAMES: [&str; 7] = [
    "full",
    "short",
    "over",
    "currency-differs",
    "unacknowledged",
    "withdrawn",
    "unreported",
];

impl LinkStatus {
    /// The status's name: `full`, `short`, `over`, `currency-differs`, `unacknowledged`,
    /// `withdrawn`, `unreported`.
    pub fn name(&self) -> &'static str {
        match self {
            LinkStatus::Full => "full",
            LinkStatus::Short { .. } => "short",
            LinkStatus::Over { .. } => "over",
            LinkStatus::CurrencyDiffers { .. } => "currency-differs",
            LinkStatus::Unacknowledged { .. } => "unacknowledged",
            LinkStatus::Withdrawn { .. } => "withdrawn",
            LinkStatus::Unreported { .. } => "unreported",
        }
    }

    /// Whether the status is a finding: everything but `full` and a pending
    /// `unacknowledged`.
    pub fn is_finding(&self) -> bool {
        !matches!(
            self,
            LinkStatus::Full | LinkStatus::Unacknowledged { pending: true }
        )
    }

    /// The text form: `full`, `short 5000.00 GBP`, `over 10.00 GBP`, `currency-differs
    /// (provider 100.00 EUR, receiver 110.00 USD)`, `unacknowledged`, `withdrawn`,
    /// `unreported`. A mixed link reads `short 5.00 GBP; over 1.00 EUR`.
    pub fn text(&self) -> String {
        match self {
            LinkStatus::Short { shortfall, excess } if excess.is_empty() => {
                format!("short {}", shortfall.text())
            }
            LinkStatus::Short { shortfall, excess } => {
                format!("short {}; over {}", shortfall.text(), excess.text())
            }
            LinkStatus::Over { excess } => format!("over {}", excess.text()),
            LinkStatus::CurrencyDiffers { provider, receiver } => format!(
                "currency-differs (provider {}, receiver {})",
                provider.text(),
                receiver.text()
            ),
            other => other.name().to_owned(),
        }
    }

    /// `{"status":"short","shortfall":[{"currency":"GBP","amount":"5000.00"}],"excess":[],
    /// "text":"short 5000.00 GBP"}`; amounts are strings.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("status".into(), self.name().into());
        match self {
            LinkStatus::Full => {}
            LinkStatus::Short { shortfall, excess } => {
                object.insert("shortfall".into(), shortfall.to_json());
                object.insert("excess".into(), excess.to_json());
            }
            LinkStatus::Over { excess } => {
                object.insert("excess".into(), excess.to_json());
            }
            LinkStatus::CurrencyDiffers { provider, receiver } => {
                object.insert("provider".into(), provider.to_json());
                object.insert("receiver".into(), receiver.to_json());
            }
            LinkStatus::Unacknowledged { pending } => {
                object.insert("pending".into(), (*pending).into());
            }
            LinkStatus::Withdrawn { receiver } | LinkStatus::Unreported { receiver } => {
                object.insert("receiver".into(), receiver.to_json());
            }
        }
        object.insert("text".into(), self.text().into());
        Value::Object(object)
    }
}

impl serde::Serialize for LinkStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Compares two non-empty sides per currency. A currency on one side only, while the sides
/// share another, counts as short (provider only) or over (receiver only); with no currency
/// in common the link is `currency-differs`.
pub(crate) fn compare(provider: &Amounts, receiver: &Amounts) -> Result<LinkStatus, SumOverflow> {
    let shares_one = provider
        .0
        .iter()
        .any(|held| receiver.get(&held.currency).is_some());
    if !shares_one {
        return Ok(LinkStatus::CurrencyDiffers {
            provider: provider.clone(),
            receiver: receiver.clone(),
        });
    }
    let (mut shortfall, mut excess) = (Vec::new(), Vec::new());
    for (currency, difference) in differences(provider, receiver)? {
        if difference.is_sign_negative() && !difference.is_zero() {
            shortfall.push(CurrencyAmount {
                currency,
                amount: -difference,
            });
        } else if !difference.is_zero() {
            excess.push(CurrencyAmount {
                currency,
                amount: difference,
            });
        }
    }
    Ok(match (shortfall.is_empty(), excess.is_empty()) {
        (true, true) => LinkStatus::Full,
        (true, false) => LinkStatus::Over {
            excess: Amounts(excess),
        },
        (false, _) => LinkStatus::Short {
            shortfall: Amounts(shortfall),
            excess: Amounts(excess),
        },
    })
}

/// Receiver sum − provider sum for every currency of either side (a missing side counts as
/// zero), in currency order; the difference keeps the larger scale of the two sums.
pub(crate) fn differences(
    provider: &Amounts,
    receiver: &Amounts,
) -> Result<Vec<(String, Decimal)>, SumOverflow> {
    let mut currencies: Vec<&str> = provider
        .0
        .iter()
        .chain(&receiver.0)
        .map(|held| held.currency.as_str())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|currency| {
            let paid = provider.get(currency).unwrap_or(Decimal::ZERO);
            let got = receiver.get(currency).unwrap_or(Decimal::ZERO);
            let difference = got.checked_sub(paid).ok_or_else(|| SumOverflow {
                currency: currency.to_owned(),
            })?;
            Ok((currency.to_owned(), difference))
        })
        .collect()
}
