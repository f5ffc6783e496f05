//! A record's page, for people first: the headline (who did what, to whom, how much, when),
//! the status line (valid, corrected with the old values struck through, WITHDRAWN, not
//! valid), the details with human labels, the related records by label, how to cite it and
//! check it offline, and at the bottom, folded, the technical details: chain, key, signature,
//! every signed field and the canonical bytes.

use aidledger_view::headline::Changed;
use aidledger_view::status_line::Standing;

use crate::explorer::model::LinkView;

use super::names;
use super::*;

/// Renders a JSON value as nested definition lists (every field of a body).
pub(super) fn value(html: &mut Html, value: &Value) {
    match value {
        Value::Object(map) => {
            html.raw("<dl>");
            for (name, inner) in map {
                html.element("<dt>", name, "</dt>").raw("<dd>");
                self::value(html, inner);
                html.raw("</dd>");
            }
            html.raw("</dl>");
        }
        Value::Array(items) if items.is_empty() => {
            html.raw("<span class=\"muted\">none</span>");
        }
        Value::Array(items) => {
            html.raw("<ol>");
            for item in items {
                html.raw("<li>");
                self::value(html, item);
                html.raw("</li>");
            }
            html.raw("</ol>");
        }
        Value::Null => {
            html.raw("<span class=\"muted\">none</span>");
        }
        Value::String(text) if text.contains('\n') || text.len() > 200 => {
            html.element("<pre>", text, "</pre>");
        }
        Value::String(text) => {
            html.text(text);
        }
        other => {
            html.text(&other.to_string());
        }
    }
}

/// A record in a list: its label linked, the short id secondary, and its author.
pub(super) fn summary_line(html: &mut Html, summary: &Summary) {
    names::record(html, &summary.id, &summary.label);
    html.raw(" by ")
        .link(&org_href(&summary.author), &summary.author);
}

pub(super) fn summary_list(html: &mut Html, title: &'static str, summaries: &[Summary]) {
    if summaries.is_empty() {
        return;
    }
    html.raw("<h2>").raw(title).raw("</h2><ul>");
    for summary in summaries {
        html.raw("<li>");
        summary_line(html, summary);
        html.raw("</li>");
    }
    html.raw("</ul>");
}

/// A record's page; `base_url` is this node's address as the reader reached it
/// (`http://host:port`), for the citation and the commands that check the record.
pub fn record(page: &RecordPage, network_name: &str, base_url: &str) -> String {
    let record = &page.record;
    let mut html = Html::page(&page.label, network_name);
    html.raw("<p class=\"muted\">")
        .text(record.kind)
        .raw(" record <span class=\"mono\">")
        .text(&model::short(&record.id))
        .raw("</span></p>");
    html.element("<h1>", &page.headline, "</h1>");
    status(&mut html, page);
    findings(&mut html, page);
    what_it_changes(&mut html, page);
    link(&mut html, page);
    html.raw("<h2>Details</h2>");
    super::record_details::details(&mut html, page);
    references(&mut html, page);
    super::cite::cite(&mut html, page, network_name, base_url);
    super::cite::check(&mut html, page, base_url);
    technical(&mut html, page);
    super::cite::script(&mut html, page);
    html.finish()
}

/// The status line: where the record stands, in words; a corrected record's current values
/// lead and the old ones are struck through.
fn status(html: &mut Html, page: &RecordPage) {
    let line = &page.status_line;
    match &line.standing {
        Standing::Valid => {
            html.raw("<p class=\"note\"><strong>Status:</strong> <span class=\"ok\">valid</span>");
        }
        Standing::Revoked { reason } => {
            html.raw("<p class=\"warn\"><strong>NOT VALID.</strong> ")
                .text(reason)
                .raw(". This record is kept as evidence; it is not part of the organisation's chain, and every verifier rejects it.");
            if let Some(by) = &page.validity.by {
                html.raw(" See ")
                    .code_link(&record_href(by), &model::short(by))
                    .raw(" and the ")
                    .link("/governance", "governance page")
                    .raw(".");
            }
        }
        Standing::Withdrawn { reason } => {
            html.raw("<p class=\"warn\"><strong class=\"bad\">WITHDRAWN</strong> by its author: “")
                .text(reason)
                .raw("”. It counts for nothing; it is kept, as every record is.");
            latest_correction(html, page);
        }
        Standing::Corrected { changes, reason } => {
            html.raw("<p class=\"warn\"><strong>Corrected</strong> by its author");
            if changes.is_empty() {
                html.raw(".");
            } else {
                html.raw(": ");
                now_was(html, changes);
            }
            html.raw(" Reason: “").text(reason).raw("”.");
            latest_correction(html, page);
        }
    }
    if let Some(link) = &line.link {
        if line.standing == Standing::Valid {
            html.raw(" · ");
        } else {
            html.raw("<br>Money: ");
        }
        html.text(link);
    }
    html.raw("</p>");
}

/// `amount now <ins>GBP 120,000.00</ins>, was <del>GBP 125,000.00</del>; …`.
pub(super) fn now_was(html: &mut Html, changes: &[Changed]) {
    for (at, change) in changes.iter().enumerate() {
        if at > 0 {
            html.raw("; ");
        }
        html.text(change.what)
            .raw(" now <ins>")
            .text(&change.now)
            .raw("</ins>, was <del>")
            .text(&change.was)
            .raw("</del>");
    }
    html.raw(".");
}

/// ` See the correction <label> <id>.` for the author's latest correction of the record.
fn latest_correction(html: &mut Html, page: &RecordPage) {
    let author = &page.record.author;
    if let Some(latest) = page
        .corrected_by
        .iter()
        .filter(|summary| &summary.author == author && summary.seq > page.record.seq)
        .max_by_key(|summary| summary.seq)
    {
        html.raw(" See ");
        names::record(html, &latest.id, &latest.label);
        html.raw(".");
    }
}

/// Findings about the record itself (a treaty action by a non-party): valid, counted for nothing.
fn findings(html: &mut Html, page: &RecordPage) {
    for finding in &page.findings {
        html.raw("<p class=\"warn\"><strong>Finding:</strong> ")
            .text(finding)
            .raw(". A node refuses such actions; this one reached the ledger without that check, and it does not count for the treaty's standing.</p>");
    }
}

/// A transaction's link: its status in the money model's words, and both sides.
pub(super) fn link(html: &mut Html, page: &RecordPage) {
    if let Some(link) = &page.link {
        html.raw("<h2>Money</h2><p>Link status: <strong>");
        activity::status_text(html, &link.text);
        html.raw("</strong> — ");
        activity::link_key(html, link);
        html.raw("</p>");
        money_sides(html, page, link);
    } else if let Some(note) = &page.link_note {
        html.raw("<h2>Money</h2><p>Link status: <span class=\"muted\">")
            .text(note)
            .raw("</span></p>");
    }
}

/// Both sides of a link: each transaction by its author's name and a label, the sum when a
/// side has several.
fn money_sides(html: &mut Html, page: &RecordPage, link: &LinkView) {
    html.raw("<dl>");
    let sides = [
        ("<dt>Provided</dt><dd>", &link.provider, &link.provider_sum),
        ("<dt>Received</dt><dd>", &link.receiver, &link.receiver_sum),
    ];
    for (heading, entries, sum) in sides {
        html.raw(heading);
        if entries.is_empty() {
            html.raw("<span class=\"muted\">nothing held</span></dd>");
            continue;
        }
        if entries.len() > 1 {
            html.raw("<strong>")
                .text(&activity::money_sum(sum))
                .raw("</strong> in ")
                .display(entries.len())
                .raw(" records:");
        }
        html.raw("<ul>");
        for entry in entries.iter() {
            html.raw("<li>");
            names::org(html, &entry.author, "", &page.names);
            html.raw(": ");
            let label = format!(
                "{} {}, {}",
                entry.type_name.replace('-', " "),
                aidledger_view::format::money(&entry.amount, &entry.currency),
                entry.value_date
            );
            names::record(html, &entry.record, &label);
            if entry.withdrawn {
                html.raw(" <span class=\"bad\">withdrawn</span>");
            }
            html.raw("</li>");
        }
        html.raw("</ul></dd>");
    }
    html.raw("</dl>");
}

/// On a correction's page: the record it corrects and what it changes, in words when the
/// kinds allow (else by the fields' paths).
pub(super) fn what_it_changes(html: &mut Html, page: &RecordPage) {
    let Some(corrects) = &page.corrects else {
        return;
    };
    html.raw("<div class=\"note\"><p><strong>This correction changes</strong> ");
    names::record(html, &corrects.id, &corrects.label);
    html.raw("</p>");
    if !page.changed.is_empty() {
        html.raw("<div class=\"scroll\"><table><tr><th>what</th><th>was</th><th>becomes</th></tr>");
        for change in &page.changed {
            html.raw("<tr><td>")
                .text(change.what)
                .raw("</td><td><del>")
                .text(&change.was)
                .raw("</del></td><td><ins>")
                .text(&change.now)
                .raw("</ins></td></tr>");
        }
        html.raw("</table></div>");
    } else if page.changes.is_empty() {
        html.raw("<p>It changes no field.</p>");
    } else {
        html.raw(
            "<div class=\"scroll\"><table><tr><th>field</th><th>was</th><th>becomes</th></tr>",
        );
        for change in &page.changes {
            html.raw("<tr><td class=\"mono\">")
                .text(&change.field)
                .raw("</td><td><del>")
                .text(&change.before)
                .raw("</del></td><td>");
            if change.after.is_empty() {
                html.raw("<span class=\"muted\">(removed)</span>");
            } else {
                html.raw("<ins>").text(&change.after).raw("</ins>");
            }
            html.raw("</td></tr>");
        }
        html.raw("</table></div>");
    }
    html.raw("</div>");
}

/// The record's place in its chain: predecessor, next, forks.
pub(super) fn chain_links(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
    html.raw("<dt>Predecessor</dt><dd>");
    if record.seq == 0 {
        html.raw("none: the first record of the chain");
    } else {
        html.code_link(&record_href(&record.prev), &record.prev.to_hex());
    }
    html.raw("</dd><dt>Next</dt><dd>");
    match &page.chain.next {
        Some(next) => {
            html.code_link(&record_href(next), &next.to_hex());
        }
        None => {
            html.raw("none: this is the chain's head");
        }
    }
    html.raw("</dd><dt>Chain</dt><dd>");
    if page.chain.forked_here {
        html.raw("<span class=\"bad\">FORKED here: the author signed another record at this position</span>");
    } else if page.chain.chain_forked {
        html.raw("<span class=\"bad\">the chain is forked elsewhere</span>");
    } else {
        html.raw("<span class=\"ok\">in a verified chain</span> of ")
            .display(page.chain.chain_length)
            .raw(" records");
    }
    html.raw("</dd>");
}

/// Records naming this one, by label (what it names itself, an acknowledged transaction, a
/// treaty, a corrected record, is in the details).
pub(super) fn references(html: &mut Html, page: &RecordPage) {
    summary_list(html, "Acknowledged by", &page.acknowledged_by);
    summary_list(html, "Corrected by", &page.corrected_by);
}

/// The technical details, folded: the header fields, the chain, every signed field by its
/// name, the signature and the canonical bytes.
fn technical(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
    html.raw("<h2>Technical details</h2><details><summary>Header, chain, signature, every signed field and the canonical bytes</summary><dl>")
        .raw("<dt>Record id</dt><dd class=\"mono\">")
        .hex_text(&record.id.to_hex())
        .raw("</dd><dt>Author id</dt><dd class=\"mono\">")
        .text(&record.author)
        .raw("</dd>")
        .field("Kind", record.kind)
        .field("Sequence", &record.seq.to_string())
        .field("Claimed time", &aidledger_view::format::utc_time(record.timestamp_ms))
        .raw("<dt>Signing key</dt><dd class=\"mono\">")
        .hex_text(&record.signing_key.to_hex())
        .raw("</dd><dt>Signature</dt><dd class=\"mono\">")
        .hex_text(&page.signature)
        .raw("</dd>");
    chain_links(html, page);
    html.raw("</dl><h3>Every signed field</h3>");
    value(html, &record.body);
    raw_bytes(html, record);
    html.raw("</details>");
}

pub(super) fn raw_bytes(html: &mut Html, record: &RecordView) {
    let raw = format!("/api/records/{}/raw", record.id.to_hex());
    let size_bytes = record.bytes_hex.len() / 2;
    html.raw("<h3>Canonical bytes</h3><p>")
        .text(&aidledger_view::format::group_digits(
            &size_bytes.to_string(),
        ))
        .raw(" bytes: ")
        .link(&raw, "download")
        .raw(" · ")
        .link(&format!("/api/records/{}", record.id.to_hex()), "JSON")
        .raw("</p><pre class=\"mono\">");
    let shown = record.bytes_hex.len().min(2 * RAW_HEX_SHOWN_BYTES_MAX);
    html.hex_text(&record.bytes_hex[..shown]);
    if shown < record.bytes_hex.len() {
        html.raw("… (download for the rest)");
    }
    html.raw("</pre>");
}
