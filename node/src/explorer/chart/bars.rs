//! The money per month: per currency, one row per month (by value date) with a bar of what
//! was disbursed (disbursements and expenditure) and a bar of what was received (incoming
//! funds), lengths proportional to the exact sums; the latest [`MONTHS_DRAWN_MAX`] months
//! drawn, the earlier ones summed as one row "earlier". Rows run down the page, so that a
//! phone shows the same picture as a wide screen.

use std::collections::{BTreeMap, BTreeSet};

use aidledger_view::corrections::Entry;
use aidledger_view::money::MoneyModel;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::sankey_svg::id_safe;
use super::{money, open_svg, Px, DISBURSED_TYPES, MONTHS_DRAWN_MAX, RECEIVED_TYPES};
use crate::explorer::html::{Column, Html};

/// The label of the row that sums the months before the drawn ones.
pub const EARLIER: &str = "earlier";

/// One month of one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthRow {
    /// The currency.
    pub currency: String,
    /// `YYYY-MM`, or [`EARLIER`].
    pub month: String,
    /// Disbursed that month (exact sum), if anything.
    pub disbursed: Option<Decimal>,
    /// Received that month, if anything.
    pub received: Option<Decimal>,
}

/// The rows of `entries` (withdrawn ones and other types not counted), by currency then
/// month, at most [`MONTHS_DRAWN_MAX`] months per currency plus one [`EARLIER`] row; why not,
/// when a sum exceeds 28 digits.
pub fn months<'a>(
    model: &MoneyModel,
    entries: impl Iterator<Item = &'a Entry>,
) -> Result<Vec<MonthRow>, String> {
    let overflow = |currency: &str| {
        format!("a sum per month in {currency} exceeds 28 digits: the bars are not drawn")
    };
    let mut seen = BTreeSet::new();
    let mut sums: BTreeMap<(String, String), (Option<Decimal>, Option<Decimal>)> = BTreeMap::new();
    for entry in entries {
        if entry.withdrawn || !seen.insert(entry.id) {
            continue;
        }
        let kind = entry.transaction.transaction_type;
        let (disbursed, received) = (
            DISBURSED_TYPES.contains(&kind),
            RECEIVED_TYPES.contains(&kind),
        );
        let Some(amount) = model.amount(entry).filter(|_| disbursed || received) else {
            continue;
        };
        let currency = &entry.transaction.value.currency;
        let date = entry.transaction.value_date;
        let month = format!("{:04}-{:02}", date.year, date.month);
        let row = sums.entry((currency.clone(), month)).or_default();
        let side = if disbursed { &mut row.0 } else { &mut row.1 };
        *side = Some(match side {
            Some(sum) => sum.checked_add(amount).ok_or_else(|| overflow(currency))?,
            None => amount,
        });
    }
    let mut rows: Vec<MonthRow> = Vec::new();
    let mut by_currency: BTreeMap<String, Vec<MonthRow>> = BTreeMap::new();
    for ((currency, month), (disbursed, received)) in sums {
        by_currency
            .entry(currency.clone())
            .or_default()
            .push(MonthRow {
                currency,
                month,
                disbursed,
                received,
            });
    }
    for (currency, mut months) in by_currency {
        if months.len() > MONTHS_DRAWN_MAX {
            let drawn = months.split_off(months.len() - MONTHS_DRAWN_MAX);
            let mut earlier = MonthRow {
                currency: currency.clone(),
                month: EARLIER.to_owned(),
                disbursed: None,
                received: None,
            };
            for month in &months {
                for (sum, amount) in [
                    (&mut earlier.disbursed, month.disbursed),
                    (&mut earlier.received, month.received),
                ] {
                    *sum = match (*sum, amount) {
                        (Some(sum), Some(amount)) => {
                            Some(sum.checked_add(amount).ok_or_else(|| overflow(&currency))?)
                        }
                        (sum, None) => sum,
                        (None, amount) => amount,
                    };
                }
            }
            rows.push(earlier);
            rows.extend(drawn);
        } else {
            rows.extend(months);
        }
    }
    Ok(rows)
}

/// viewBox width, font size, the month label's width, the longest bar, a bar's height and the
/// space between months.
const WIDTH: f64 = 360.0;
const FONT: f64 = 12.0;
const LABEL: f64 = 56.0;
const LONGEST: f64 = 170.0;
const BAR: f64 = 12.0;
const ROW_GAP: f64 = 10.0;
const LEGEND: f64 = 24.0;

/// The length of each row's two bars (disbursed, received), proportional to the amounts.
pub fn lengths(rows: &[&MonthRow]) -> Vec<(f64, f64)> {
    let value = |amount: Option<Decimal>| amount.and_then(|amount| amount.to_f64()).unwrap_or(0.0);
    let largest = rows
        .iter()
        .map(|row| value(row.disbursed).max(value(row.received)))
        .fold(0.0, f64::max);
    let scale = if largest > 0.0 {
        LONGEST / largest
    } else {
        0.0
    };
    rows.iter()
        .map(|row| (value(row.disbursed) * scale, value(row.received) * scale))
        .collect()
}

/// Writes one bar chart and its table per currency.
pub fn write(html: &mut Html, rows: &[MonthRow], subject: &str, id: &str) {
    let mut currencies: BTreeMap<&str, Vec<&MonthRow>> = BTreeMap::new();
    for row in rows {
        currencies.entry(&row.currency).or_default().push(row);
    }
    for (currency, rows) in currencies {
        let element = format!("{id}-months-{}", id_safe(currency));
        let title = format!("{currency} disbursed and received per month in {subject}");
        let mut desc = format!(
            "{} month{}; bar lengths are proportional to the amounts, by value date",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        );
        if rows.iter().any(|row| row.month == EARLIER) {
            desc.push_str(&format!(
                "; the months before the latest {MONTHS_DRAWN_MAX} are summed as \"earlier\""
            ));
        }
        desc.push_str(". The table below holds the same numbers.");
        let height = LEGEND + rows.len() as f64 * (2.0 * BAR + ROW_GAP) + ROW_GAP;
        html.raw("<figure class=\"chart\">");
        open_svg(
            html,
            "chart bars",
            (WIDTH, height, FONT),
            &element,
            &title,
            &desc,
        );
        html.raw("<rect class=\"bar disbursed\" x=\"0\" y=\"4\" width=\"12\" height=\"12\"></rect><text x=\"16\" y=\"14\">disbursed</text>")
            .raw("<rect class=\"bar received\" x=\"100\" y=\"4\" width=\"12\" height=\"12\"></rect><text x=\"116\" y=\"14\">received</text>");
        for (at, (row, (disbursed, received))) in rows.iter().zip(lengths(&rows)).enumerate() {
            let top = LEGEND + at as f64 * (2.0 * BAR + ROW_GAP);
            html.raw("<text x=\"0\" y=\"")
                .display(Px(top + BAR + FONT * 0.35))
                .raw("\">")
                .text(&row.month)
                .raw("</text>");
            for (class, amount, length, y) in [
                ("bar disbursed", row.disbursed, disbursed, top),
                ("bar received", row.received, received, top + BAR),
            ] {
                let Some(amount) = amount else {
                    continue;
                };
                let text = money(&amount, currency);
                html.raw("<rect class=\"")
                    .raw(class)
                    .raw("\" x=\"")
                    .display(Px(LABEL))
                    .raw("\" y=\"")
                    .display(Px(y))
                    .raw("\" width=\"")
                    .display(Px(length.max(1.0)))
                    .raw("\" height=\"")
                    .display(Px(BAR - 1.0))
                    .raw("\"></rect><text x=\"")
                    .display(Px(LABEL + length.max(1.0) + 4.0))
                    .raw("\" y=\"")
                    .display(Px(y + BAR - 2.0))
                    .raw("\">")
                    .text(&text)
                    .raw("</text>");
            }
        }
        html.raw("</svg><figcaption>")
            .text(&title)
            .raw(": ")
            .text(&desc)
            .raw("</figcaption></figure>");
        const MONTH: Column = Column::text("month");
        const DISBURSED: Column = Column::number("disbursed");
        const RECEIVED: Column = Column::number("received");
        html.stacked_table(&[MONTH, DISBURSED, RECEIVED]);
        for row in &rows {
            html.raw("<tr>").cell(MONTH).text(&row.month).raw("</td>");
            for (column, amount) in [(DISBURSED, row.disbursed), (RECEIVED, row.received)] {
                html.cell(column);
                match amount {
                    Some(amount) => html.text(&money(&amount, currency)),
                    None => html.raw("<span class=\"muted\">nothing</span>"),
                };
                html.raw("</td>");
            }
            html.raw("</tr>");
        }
        html.end_table();
    }
}
