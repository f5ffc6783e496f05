//! The explorer's tables as values. One function per table builds its rows from a page's
//! model values; the HTML page (`pages/table.rs`) and the table's CSV download (`csv.rs`) are
//! both written from those rows, so a download and the table on the page cannot disagree.
//!
//! A cell keeps the machine value (the signed amount text `125000.00`, a full record id, an
//! organisation id): CSV writes it as it is, the page writes it for people (amounts grouped
//! through `aidledger_view::format`, ids shortened and linked, organisations by name with the
//! id beside). Tables are as bounded as the pages whose model they read.

use aidledger_spec::text::Date;
use aidledger_spec::RecordId;
use aidledger_view::format;
use aidledger_view::treaty::PartyStanding;

use aidledger_spec::governance::Derivation;

use super::model::{ChainView, Home, MemberView, Reported, Summary, TotalView, TreatyPage};

mod money;

use super::pages::{key_span_text, proposal_state_text};
pub use money::*;

/// One cell: a machine value, written as it is in CSV and for people on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Plain text.
    Text(String),
    /// A key or hash in hex: as it is in both, monospace on the page (it may break anywhere).
    Mono(String),
    /// An amount as signed (`125000.00`, or `overflow`); grouped on the page.
    Amount(String),
    /// A count.
    Count(u64),
    /// A record: its full hex id in CSV, linked by its short id on the page.
    Record(RecordId),
    /// An organisation: two CSV fields (id, name), its name linked with the id beside on the
    /// page (the id alone when the name is unknown).
    Org {
        /// Organisation id.
        id: String,
        /// Display name, empty when unknown.
        name: String,
    },
    /// Records: their full ids separated by spaces in CSV, short ids linked on the page.
    Records(Vec<RecordId>),
    /// A text with amounts in it (`short 5000.00 GBP`, `100.00 EUR + 5 GBP`): as it is in
    /// CSV, each plain number grouped on the page.
    Money(String),
    /// A money status (`full`, `short 5000.00 GBP`, `unacknowledged (pending)`): as `Money`,
    /// marked on the page as a finding or not.
    Status(String),
    /// A state that is good or not (`verified, no fork`, `FORKED at seq 4`): the text in CSV,
    /// marked on the page.
    Flag {
        /// The words.
        text: String,
        /// Good (marked `ok`) or not (marked `bad`).
        good: bool,
    },
    /// A record by its label: two CSV fields (full id, label), the label linked with the short
    /// id beside it on the page.
    Labelled {
        /// The record.
        id: RecordId,
        /// Its short human label.
        label: String,
    },
    /// A claimed time (ms since 1970): two CSV fields (`2026-11-02 14:30:22 UTC` and the
    /// signed number), the readable time on the page.
    Time(u64),
    /// A date, ISO in both.
    Date(Date),
    /// Nothing (an empty CSV field, a dash on the page).
    Empty,
}

impl Cell {
    /// The CSV fields of this cell (two for an organisation, one otherwise).
    pub fn csv_fields(&self) -> Vec<String> {
        match self {
            Cell::Text(text)
            | Cell::Mono(text)
            | Cell::Amount(text)
            | Cell::Money(text)
            | Cell::Status(text) => {
                vec![text.clone()]
            }
            Cell::Flag { text, .. } => vec![text.clone()],
            Cell::Records(ids) => vec![ids
                .iter()
                .map(RecordId::to_hex)
                .collect::<Vec<_>>()
                .join(" ")],
            Cell::Count(count) => vec![count.to_string()],
            Cell::Record(id) => vec![id.to_hex()],
            Cell::Org { id, name } => vec![id.clone(), name.clone()],
            Cell::Labelled { id, label } => vec![id.to_hex(), label.clone()],
            Cell::Time(ms) => vec![format::utc_time(*ms), ms.to_string()],
            Cell::Date(date) => vec![date.to_string()],
            Cell::Empty => vec![String::new()],
        }
    }
}

/// A column: its heading on the page, its CSV header fields (two for an organisation column),
/// and whether it holds numbers (right-aligned).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The heading on the page.
    pub title: &'static str,
    /// The CSV header fields, one per CSV field of the column's cells.
    pub csv: &'static [&'static str],
    /// Numbers: right-aligned on the page.
    pub numeric: bool,
    /// Shown on the page; a column that is not is in the CSV only (after the shown ones:
    /// full ids the page links in its own column).
    pub page: bool,
}

const fn text(title: &'static str, csv: &'static [&'static str]) -> Column {
    Column {
        title,
        csv,
        numeric: false,
        page: true,
    }
}

const fn number(title: &'static str, csv: &'static [&'static str]) -> Column {
    Column {
        title,
        csv,
        numeric: true,
        page: true,
    }
}

const fn csv_only(title: &'static str, csv: &'static [&'static str]) -> Column {
    Column {
        title,
        csv,
        numeric: false,
        page: false,
    }
}

/// A table of a page: its name (the `table=` of its CSV download), columns and rows.
#[derive(Clone, Debug)]
pub struct Table {
    /// The table's name in its download's URL and file name.
    pub name: &'static str,
    /// Its columns.
    pub columns: &'static [Column],
    /// Its rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The CSV header: every column's fields.
    pub fn csv_header(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .flat_map(|column| column.csv.iter().copied())
            .collect()
    }
}

const TOTALS_COLUMNS: &[Column] = &[
    text("type", &["transaction_type"]),
    text("currency", &["currency"]),
    number("transactions", &["transactions"]),
    number("total", &["total"]),
];

const TOTALS_BY_ORG_COLUMNS: &[Column] = &[
    text("organisation", &["organisation", "organisation_name"]),
    text("type", &["transaction_type"]),
    text("currency", &["currency"]),
    number("transactions", &["transactions"]),
    number("total", &["total"]),
];

fn total_cells(total: &TotalView) -> Vec<Cell> {
    vec![
        Cell::Text(total.type_name.to_owned()),
        Cell::Text(total.currency.clone()),
        Cell::Count(total.count),
        Cell::Amount(total.sum.clone()),
    ]
}

/// Totals by transaction type and currency (an organisation's, or one side of an activity).
pub fn totals(name: &'static str, totals: &[TotalView]) -> Table {
    Table {
        name,
        columns: TOTALS_COLUMNS,
        rows: totals.iter().map(total_cells).collect(),
    }
}

/// One side's totals by organisation, type and currency.
pub fn totals_by_org(name: &'static str, reported: &Reported) -> Table {
    let rows = reported
        .organisations
        .iter()
        .flat_map(|org| {
            org.totals.iter().map(|total| {
                let mut row = vec![Cell::Org {
                    id: org.org.clone(),
                    name: org.name.clone(),
                }];
                row.extend(total_cells(total));
                row
            })
        })
        .collect();
    Table {
        name,
        columns: TOTALS_BY_ORG_COLUMNS,
        rows,
    }
}

const PARTIES_COLUMNS: &[Column] = &[
    text("party", &["party", "party_name"]),
    text("current action", &["current_action"]),
    text("date", &["date"]),
    text("on", &["on_text"]),
    text("record", &["action_record"]),
];

/// A treaty's parties: each with its current action, its date, which text and the record.
pub fn treaty_parties(page: &TreatyPage) -> Table {
    let rows = page
        .parties
        .iter()
        .map(|party| {
            let org = Cell::Org {
                id: party.standing.org.clone(),
                name: party.name.clone(),
            };
            let mut row = vec![org];
            row.extend(current_action_cells(&party.standing));
            row
        })
        .collect();
    Table {
        name: "parties",
        columns: PARTIES_COLUMNS,
        rows,
    }
}

fn current_action_cells(standing: &PartyStanding) -> Vec<Cell> {
    match &standing.current {
        Some(current) => vec![
            Cell::Text(current.action.name().to_owned()),
            Cell::Date(current.date),
            Cell::Text(
                if current.on_this_text {
                    "this text"
                } else {
                    "another text"
                }
                .to_owned(),
            ),
            Cell::Record(current.record),
        ],
        None => vec![
            Cell::Text("no action".to_owned()),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ],
    }
}

const MEMBERS_COLUMNS: &[Column] = &[
    text("organisation", &["organisation", "organisation_name"]),
    text("roles", &["roles"]),
    number("records", &["records"]),
    text("head", &["head"]),
    text("state", &["state"]),
];

/// The home page's members with their chains: length, head, forked or not.
pub fn members(home: &Home) -> Table {
    let rows = home
        .members
        .iter()
        .zip(&home.chains)
        .map(|(member, chain)| {
            let roles: Vec<&str> = member.roles.iter().map(|role| role.name()).collect();
            vec![
                Cell::Org {
                    id: member.id.clone(),
                    name: member.name.clone(),
                },
                Cell::Text(roles.join(", ")),
                Cell::Count(chain.length),
                chain.head.map_or(Cell::Empty, |head| Cell::Record(head.id)),
                chain_state(chain),
            ]
        })
        .collect();
    Table {
        name: "members",
        columns: MEMBERS_COLUMNS,
        rows,
    }
}

/// `verified, no fork` or `FORKED at seq 4, 9`.
pub fn chain_state(chain: &ChainView) -> Cell {
    if chain.forked_at.is_empty() {
        Cell::Flag {
            text: "verified, no fork".to_owned(),
            good: true,
        }
    } else {
        let seqs: Vec<String> = chain.forked_at.iter().map(u64::to_string).collect();
        Cell::Flag {
            text: format!("FORKED at seq {}", seqs.join(", ")),
            good: false,
        }
    }
}

const RECORDS_COLUMNS: &[Column] = &[
    number("seq", &["seq"]),
    text("organisation", &["organisation", "organisation_name"]),
    text("record", &["record", "record_label"]),
    text("signed", &["signed", "timestamp_ms"]),
    csv_only("kind", &["kind"]),
    csv_only("what", &["what"]),
];

const CHAIN_COLUMNS: &[Column] = &[
    number("seq", &["seq"]),
    text("record", &["record", "record_label"]),
    text("signed", &["signed", "timestamp_ms"]),
    csv_only("kind", &["kind"]),
    csv_only("what", &["what"]),
];

/// A list of records, each by its label with its claimed time: the latest on the home page,
/// with each author by name (`authors`: the members), or one chain's page (`None`: every
/// record has the same author).
pub fn records(name: &'static str, records: &[Summary], authors: Option<&[MemberView]>) -> Table {
    let rows = records
        .iter()
        .map(|record| {
            let mut row = vec![Cell::Count(record.seq)];
            if let Some(members) = authors {
                row.push(Cell::Org {
                    id: record.author.clone(),
                    name: members
                        .iter()
                        .find(|member| member.id == record.author)
                        .map(|member| member.name.clone())
                        .unwrap_or_default(),
                });
            }
            row.extend([
                Cell::Labelled {
                    id: record.id,
                    label: record.label.clone(),
                },
                Cell::Time(record.timestamp_ms),
                Cell::Text(record.kind.to_owned()),
                Cell::Text(record.summary.clone()),
            ]);
            row
        })
        .collect();
    Table {
        name,
        columns: if authors.is_some() {
            RECORDS_COLUMNS
        } else {
            CHAIN_COLUMNS
        },
        rows,
    }
}

const KEYS_COLUMNS: &[Column] = &[
    text("organisation", &["organisation", "organisation_name"]),
    text("state", &["state"]),
    text("signing key", &["signing_key"]),
    text("positions it may sign", &["positions"]),
];

/// Every member's signing keys, one row per key, with the positions each may sign.
pub fn keys(derivation: &Derivation) -> Table {
    let mut rows = Vec::new();
    for member in derivation.authority.members() {
        let state = match member.removed {
            Some(removal) => Cell::Flag {
                text: format!("removed from seq {}", removal.from_seq),
                good: false,
            },
            None => Cell::Flag {
                text: "member".to_owned(),
                good: true,
            },
        };
        for span in &member.keys {
            rows.push(vec![
                Cell::Org {
                    id: member.id.clone(),
                    name: member.name.clone(),
                },
                state.clone(),
                Cell::Mono(span.key.to_hex()),
                Cell::Text(key_span_text(span)),
            ]);
        }
    }
    Table {
        name: "keys",
        columns: KEYS_COLUMNS,
        rows,
    }
}

const PROPOSALS_COLUMNS: &[Column] = &[
    text("proposal", &["proposal"]),
    text("by", &["proposer", "proposer_name"]),
    text("change", &["change"]),
    text("approved by", &["approved_by"]),
    text("state", &["state"]),
];

/// The governance proposals and their states.
pub fn proposals(derivation: &Derivation) -> Table {
    let authority = &derivation.authority;
    let rows = derivation
        .proposals
        .iter()
        .map(|proposal| {
            vec![
                Cell::Record(proposal.id),
                Cell::Org {
                    id: proposal.proposer.clone(),
                    name: authority
                        .member(&proposal.proposer)
                        .map(|member| member.name.clone())
                        .unwrap_or_default(),
                },
                Cell::Text(proposal.proposal.change.summary()),
                Cell::Text(proposal.approved_by.join(", ")),
                Cell::Text(proposal_state_text(&proposal.state)),
            ]
        })
        .collect();
    Table {
        name: "proposals",
        columns: PROPOSALS_COLUMNS,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_one_cell_per_column_and_the_header_one_field_per_cell_field() {
        let total = TotalView {
            transaction_type: 3,
            type_name: "disbursement",
            currency: "GBP".into(),
            count: 2,
            sum: "125000.00".into(),
        };
        let table = totals("own", &[total]);
        let fields: Vec<String> = table.rows[0].iter().flat_map(Cell::csv_fields).collect();
        assert_eq!(table.csv_header().len(), fields.len());
        assert_eq!(fields, ["disbursement", "GBP", "2", "125000.00"]);
    }
}
