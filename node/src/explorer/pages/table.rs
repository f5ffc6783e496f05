//! A `table::Table` as HTML, with its "Download CSV" link under it: the page's cells are
//! written from the same rows as the download (`csv.rs`), amounts grouped and ids linked.

use aidledger_view::format;

use super::*;
use crate::explorer::html::Column as HtmlColumn;
use crate::explorer::table::{Cell, Table};

/// A column the page shows beside a table's own, written by the page (links, notes) and not
/// part of the download: its heading and a writer for row `index`.
pub(super) type Extra<'a> = (&'static str, &'a dyn Fn(&mut Html, usize));

/// `table` with its download link; `csv_href` is the download's URL (see `csv::href`).
pub(super) fn table(html: &mut Html, table: &Table, csv_href: &str) {
    table_with(html, table, csv_href, None);
}

/// `table` with an extra column of the page's own after its columns. Its rows stack on a
/// phone (`Html::stacked_table`), each value labelled with its column's heading.
pub(super) fn table_with(html: &mut Html, table: &Table, csv_href: &str, extra: Option<Extra>) {
    let mut columns: Vec<HtmlColumn> = table
        .columns
        .iter()
        .filter(|column| column.page)
        .map(|column| HtmlColumn {
            label: column.title,
            numeric: column.numeric,
        })
        .collect();
    if let Some((title, _)) = extra {
        columns.push(HtmlColumn::text(title));
    }
    html.stacked_table(&columns);
    for (index, row) in table.rows.iter().enumerate() {
        html.raw("<tr>");
        // The row holds every column's cell, the download's too: only the page's are written
        // (zipping the row with the page's columns put a download-only cell under the extra
        // column's heading, and a cell more than the headings in the row).
        let page_cells = table
            .columns
            .iter()
            .zip(row)
            .filter(|(column, _)| column.page)
            .map(|(_, value)| value);
        for (column, value) in columns.iter().zip(page_cells) {
            html.cell(*column);
            cell(html, value);
            html.raw("</td>");
        }
        if let (Some((_, write)), Some(column)) = (extra, columns.last()) {
            html.cell(*column);
            write(html, index);
            html.raw("</td>");
        }
        html.raw("</tr>");
    }
    html.end_table();
    download_link(html, csv_href);
}

/// The "Download CSV" link under a table.
pub(super) fn download_link(html: &mut Html, csv_href: &str) {
    html.raw("<p class=\"download\"><a href=\"")
        .text(csv_href)
        .raw("\" download>Download CSV</a></p>");
}

/// One cell for people.
fn cell(html: &mut Html, value: &Cell) {
    match value {
        Cell::Text(text) => {
            html.text(text);
        }
        Cell::Mono(text) => {
            html.raw("<span class=\"mono\">").text(text).raw("</span>");
        }
        Cell::Amount(amount) => {
            html.text(&format::group_digits(amount));
        }
        Cell::Count(count) => {
            html.text(&format::group_digits(&count.to_string()));
        }
        Cell::Record(id) => {
            html.code_link(&record_href(id), &model::short(id));
        }
        Cell::Org { id, name } => {
            super::names::member(html, id, name);
        }
        Cell::Labelled { id, label } => {
            super::names::record(html, id, label);
        }
        Cell::Time(ms) => {
            html.text(&format::utc_time(*ms));
        }
        Cell::Records(ids) => {
            for (at, id) in ids.iter().enumerate() {
                if at > 0 {
                    html.raw(" ");
                }
                html.code_link(&record_href(id), &model::short(id));
            }
        }
        Cell::Money(text) => {
            html.text(&format::group_numbers(text));
        }
        Cell::Status(text) => {
            super::activity::status_text(html, text);
        }
        Cell::Flag { text, good: true } => {
            html.raw("<span class=\"ok\">").text(text).raw("</span>");
        }
        Cell::Flag { text, good: false } => {
            html.raw("<span class=\"bad\">").text(text).raw("</span>");
        }
        Cell::Date(date) => {
            html.text(&format::date(date));
        }
        Cell::Empty => {
            html.raw("<span class=\"muted\">—</span>");
        }
    }
}
