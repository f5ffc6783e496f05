//! A record's page: its fields, who signed it, what a correction changes, its place in the
//! chain, its references and its bytes.

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

pub(super) fn summary_line(html: &mut Html, summary: &Summary) {
    html.code_link(&record_href(&summary.id), &model::short(&summary.id))
        .raw(" by ")
        .link(&org_href(&summary.author), &summary.author)
        .raw(": ")
        .text(&summary.summary);
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

/// A record's page.
pub fn record(page: &RecordPage, network_name: &str) -> String {
    let record = &page.record;
    let title = format!("{} record {}", record.kind, model::short(&record.id));
    let mut html = Html::page(&title, network_name);
    html.element("<h1>", &title, "</h1>");
    if !page.validity.valid {
        html.raw("<p class=\"warn\"><strong>NOT VALID.</strong> ")
            .text(page.validity.reason.as_deref().unwrap_or("declared not valid"))
            .raw(" This record is kept as evidence; it is not part of the organisation's chain, and every verifier rejects it.");
        if let Some(by) = &page.validity.by {
            html.raw(" See ")
                .code_link(&record_href(by), &model::short(by))
                .raw(" and the ")
                .link("/governance", "governance page")
                .raw(".");
        }
        html.raw("</p>");
    }
    signed_by(&mut html, page);
    findings(&mut html, page);
    what_it_changes(&mut html, page);
    link(&mut html, page);
    html.raw("<h2>Record</h2><dl>")
        .raw("<dt>Id</dt><dd class=\"mono\">")
        .text(&record.id.to_hex())
        .raw("</dd><dt>Author</dt><dd>")
        .link(&org_href(&record.author), &record.author)
        .raw("</dd>")
        .field("Kind", record.kind)
        .field("Sequence", &record.seq.to_string())
        .field(
            "Claimed time (ms since 1970)",
            &record.timestamp_ms.to_string(),
        )
        .raw("<dt>Signing key</dt><dd class=\"mono\">")
        .text(&record.signing_key.to_hex())
        .raw("</dd><dt>Signature</dt><dd class=\"mono\">")
        .text(&page.signature)
        .raw("</dd></dl><h2>Chain</h2><dl><dt>Predecessor</dt><dd>");
    chain_links(&mut html, page);
    html.raw("<h2>Fields</h2>");
    value(&mut html, &record.body);
    references(&mut html, page);
    raw_bytes(&mut html, record);
    html.finish()
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
        activity::sides(html, link);
    } else if let Some(note) = &page.link_note {
        html.raw("<h2>Money</h2><p>Link status: <span class=\"muted\">")
            .text(note)
            .raw("</span></p>");
    }
}

pub(super) fn signed_by(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
    html.raw("<p class=\"note\">Signed by <strong>")
        .text(if page.author_name.is_empty() {
            &record.author
        } else {
            &page.author_name
        })
        .raw("</strong> (")
        .link(&org_href(&record.author), &record.author)
        .raw(") with key <span class=\"mono\">")
        .text(&record.signing_key.to_hex()[..16])
        .raw("…</span>, record ")
        .display(record.seq)
        .raw(
            " of its chain. The signature and hash were verified before the record was stored.</p>",
        );
}

pub(super) fn what_it_changes(html: &mut Html, page: &RecordPage) {
    if let Some(corrects) = &page.corrects {
        html.raw("<div class=\"warn\"><strong>This correction changes ");
        summary_line(html, corrects);
        html.raw("</strong>");
        if page.changes.is_empty() {
            html.raw("<p>It changes no field.</p>");
        } else {
            html.raw(
                "<div class=\"scroll\"><table><tr><th>field</th><th>was</th><th>becomes</th></tr>",
            );
            for change in &page.changes {
                html.raw("<tr><td class=\"mono\">")
                    .text(&change.field)
                    .raw("</td><td>")
                    .text(&change.before)
                    .raw("</td><td>");
                if change.after.is_empty() {
                    html.raw("<span class=\"muted\">(removed)</span>");
                } else {
                    html.text(&change.after);
                }
                html.raw("</td></tr>");
            }
            html.raw("</table></div>");
        }
        html.raw("</div>");
    }
    if !page.corrected_by.is_empty() {
        html.raw("<p class=\"warn\"><strong>This record was corrected</strong>; see the corrections below.</p>");
    }
}

pub(super) fn chain_links(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
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
    html.raw("</dd><dt>Status</dt><dd>");
    if page.chain.forked_here {
        html.raw("<span class=\"bad\">FORKED here: the author signed another record at this position</span>");
    } else if page.chain.chain_forked {
        html.raw("<span class=\"bad\">the chain is forked elsewhere</span>");
    } else {
        html.raw("<span class=\"ok\">in a verified chain</span> of ")
            .display(page.chain.chain_length)
            .raw(" records");
    }
    html.raw("</dd></dl>");
}

pub(super) fn references(html: &mut Html, page: &RecordPage) {
    if let Some(acknowledges) = &page.acknowledges {
        html.raw("<h2>Acknowledges</h2><p>");
        summary_line(html, acknowledges);
        html.raw("</p>");
    }
    if let Some(treaty) = &page.treaty {
        html.raw("<h2>Treaty</h2><p>")
            .code_link(&format!("/treaty/{}", treaty.id.to_hex()), &treaty.summary)
            .raw("</p>");
    }
    if page.record.kind == "treaty-text" {
        html.raw("<p>")
            .link(
                &format!("/treaty/{}", page.record.id.to_hex()),
                "Treaty page: parties and their actions",
            )
            .raw("</p>");
    }
    if let Some(activity) = page.record.body.get("activity_id").and_then(Value::as_str) {
        html.raw("<p>")
            .link(&activity_href(activity), &format!("Activity {activity}"))
            .raw("</p>");
    }
    summary_list(html, "Acknowledged by", &page.acknowledged_by);
    summary_list(html, "Corrected by", &page.corrected_by);
}

pub(super) fn raw_bytes(html: &mut Html, record: &RecordView) {
    let raw = format!("/api/records/{}/raw", record.id.to_hex());
    let size_bytes = record.bytes_hex.len() / 2;
    html.raw("<h2>Canonical bytes</h2><p>")
        .display(size_bytes)
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
