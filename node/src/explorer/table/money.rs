//! The tables of an activity's money: the money model's findings, the links with both sides'
//! sums, the commitment questions, and one page of its transactions.

use aidledger_spec::RecordId;

use super::{csv_only, number, text, Cell, Column, Table};
use crate::explorer::model::{ActivityMoney, ActivityRecord, FindingView, LinkView};

const FINDINGS_COLUMNS: &[Column] = &[
    text("finding", &["finding"]),
    text("what", &["text"]),
    csv_only("provider records", &["provider_records"]),
    csv_only("receiver records", &["receiver_records"]),
];

/// The money model's findings of an activity; the page shows both sides' records in a column
/// of its own, the CSV gives their full ids (a finding that is not a link's: all in
/// `provider_records`).
pub fn findings(money: &ActivityMoney) -> Table {
    let rows = money
        .findings
        .iter()
        .map(|finding: &FindingView| {
            let (provider, receiver) = match &finding.link {
                Some(link) => sides(link),
                None => (finding.records.clone(), Vec::new()),
            };
            vec![
                Cell::Text(finding.finding.to_owned()),
                Cell::Money(finding.text.clone()),
                Cell::Records(provider),
                Cell::Records(receiver),
            ]
        })
        .collect();
    Table {
        name: "findings",
        columns: FINDINGS_COLUMNS,
        rows,
    }
}

fn sides(link: &LinkView) -> (Vec<RecordId>, Vec<RecordId>) {
    (
        link.provider.iter().map(|entry| entry.record).collect(),
        link.receiver.iter().map(|entry| entry.record).collect(),
    )
}

const LINKS_COLUMNS: &[Column] = &[
    text("status", &["status"]),
    text("link", &["kind"]),
    text("key", &["key"]),
    number("provider", &["provider_total"]),
    number("receiver", &["receiver_total"]),
    csv_only("provider records", &["provider_records"]),
    csv_only("receiver records", &["receiver_records"]),
];

/// An activity's links: status, what joins them, both sides' sums per currency; the page
/// shows each side's records in a column of its own, the CSV their full ids.
pub fn links(money: &ActivityMoney) -> Table {
    let rows = money
        .links
        .iter()
        .map(|link| {
            let (provider, receiver) = sides(link);
            let kind = match link.pair {
                Some(pair) => format!("{} ({pair})", link.kind),
                None => link.kind.to_owned(),
            };
            vec![
                Cell::Status(link.text.clone()),
                Cell::Text(kind),
                // An acknowledgement link's key is the acknowledged record: linked.
                RecordId::from_hex(&link.key)
                    .map_or_else(|_| Cell::Text(link.key.clone()), Cell::Record),
                Cell::Money(link.provider_sum.clone()),
                Cell::Money(link.receiver_sum.clone()),
                Cell::Records(provider),
                Cell::Records(receiver),
            ]
        })
        .collect();
    Table {
        name: "links",
        columns: LINKS_COLUMNS,
        rows,
    }
}

const COMMITMENTS_COLUMNS: &[Column] = &[
    text("status", &["status"]),
    text("organisation", &["organisation", "organisation_name"]),
    text("currency", &["currency"]),
    number("committed", &["committed"]),
    number("disbursed", &["disbursed"]),
];

/// An activity's commitment questions: per organisation and currency, committed against
/// disbursed (the model's JSON fields); `name` gives an organisation's name.
pub fn commitments(money: &ActivityMoney, name: &dyn Fn(&str) -> String) -> Table {
    let rows = money
        .commitments
        .iter()
        .map(|question| {
            let field = |name: &str| {
                question
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            vec![
                Cell::Status(field("text")),
                Cell::Org {
                    name: name(&field("author")),
                    id: field("author"),
                },
                Cell::Text(field("currency")),
                Cell::Amount(field("committed")),
                Cell::Amount(field("disbursed")),
            ]
        })
        .collect();
    Table {
        name: "commitments",
        columns: COMMITMENTS_COLUMNS,
        rows,
    }
}

const TRANSACTIONS_COLUMNS: &[Column] = &[
    text("record", &["record"]),
    text("organisation", &["organisation", "organisation_name"]),
    text("what", &["what"]),
    number("amount", &["amount"]),
    text("currency", &["currency"]),
    text("link", &["link_status"]),
    csv_only("acknowledges", &["acknowledges"]),
    csv_only("corrected by", &["corrected_by"]),
];

/// One page of an activity's transactions: each record, its amount as it stands (a
/// correction's replacement for a correction), and its link's status; `name` gives an
/// organisation's name.
pub fn transactions(records: &[ActivityRecord], name: &dyn Fn(&str) -> String) -> Table {
    let rows = records
        .iter()
        .map(|record| {
            let field = |pointer: &str| {
                record
                    .transaction
                    .pointer(pointer)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            let acknowledges = field("/acknowledges")
                .and_then(|hex| RecordId::from_hex(&hex).ok())
                .into_iter()
                .collect();
            vec![
                Cell::Record(record.record.id),
                Cell::Org {
                    id: record.record.author.clone(),
                    name: name(&record.record.author),
                },
                Cell::Money(record.record.summary.clone()),
                field("/value/amount").map_or(Cell::Empty, Cell::Amount),
                field("/value/currency").map_or(Cell::Empty, Cell::Text),
                record.link_status.clone().map_or(Cell::Empty, Cell::Status),
                Cell::Records(acknowledges),
                Cell::Records(record.corrected_by.clone()),
            ]
        })
        .collect();
    Table {
        name: "transactions",
        columns: TRANSACTIONS_COLUMNS,
        rows,
    }
}
