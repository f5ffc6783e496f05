//! An activity's page: totals, acknowledged totals, flows and its records.

use super::*;

/// An activity's page.
pub fn activity(page: &ActivityPage, network_name: &str) -> String {
    let mut html = Html::page(&format!("Activity {}", page.activity), network_name);
    html.element(
        "<h1>Activity <span class=\"mono\">",
        &page.activity,
        "</span></h1>",
    )
    .raw("<h2>Totals per currency</h2>");
    totals_table(&mut html, &page.totals);
    html.raw("<h2>Acknowledged by the receiving side</h2><p class=\"muted\">Transactions that a later record (such as a receipt) acknowledges; the rest are unacknowledged.</p>");
    totals_table(&mut html, &page.acknowledged);
    html.raw("<h2>Flow of money</h2><div class=\"scroll\"><table><tr><th>from</th><th>to</th><th>type</th><th>currency</th><th class=\"num\">transactions</th><th class=\"num\">total</th></tr>");
    for flow in &page.flows {
        html.raw("<tr><td>");
        party(&mut html, &flow.provider);
        html.raw("</td><td>");
        party(&mut html, &flow.receiver);
        html.raw("</td><td>")
            .text(flow.type_name)
            .raw("</td><td>")
            .text(&flow.currency)
            .raw("</td><td class=\"num\">")
            .display(flow.count)
            .raw("</td><td class=\"num\">")
            .text(&flow.sum)
            .raw("</td></tr>");
    }
    html.raw("</table></div><h2>By organisation</h2>");
    for org in &page.organisations {
        html.raw("<h3>")
            .link(&org_href(&org.org), &org.org)
            .raw("</h3>");
        totals_table(&mut html, &org.totals);
    }
    html.raw("<h2>Transactions</h2><div class=\"scroll\"><table><tr><th>record</th><th>organisation</th><th>what</th><th>acknowledged</th></tr>");
    for record in &page.records {
        html.raw("<tr><td>")
            .code_link(
                &record_href(&record.record.id),
                &model::short(&record.record.id),
            )
            .raw("</td><td>")
            .link(&org_href(&record.record.author), &record.record.author)
            .raw("</td><td>")
            .text(&record.record.summary);
        if !record.corrected_by.is_empty() {
            html.raw(" <span class=\"bad\">(corrected)</span>");
        }
        html.raw("</td><td>");
        let acknowledges = record
            .transaction
            .get("acknowledges")
            .and_then(serde_json::Value::as_str)
            .and_then(|hex| RecordId::from_hex(hex).ok());
        if let Some(target) = acknowledges {
            html.raw("acknowledges ")
                .code_link(&record_href(&target), &model::short(&target));
        } else if record.record.kind == "correction" {
            html.raw("<span class=\"muted\">(see the corrected record)</span>");
        } else if record.acknowledged_by.is_empty() {
            html.raw("<span class=\"muted\">unacknowledged</span>");
        } else {
            html.raw("<span class=\"ok\">acknowledged</span> by ");
            for id in &record.acknowledged_by {
                html.code_link(&record_href(id), &model::short(id)).raw(" ");
            }
        }
        html.raw("</td></tr>");
    }
    html.raw("</table></div>");
    if let Some(after) = &page.next_after {
        let href = format!("{}?after={after}", activity_href(&page.activity));
        html.raw("<nav class=\"pages\">")
            .link(&href, "more →")
            .raw("</nav>");
    }
    html.finish()
}

pub(super) fn party(html: &mut Html, org_ref: &str) {
    if org_ref.is_empty() {
        html.raw("<span class=\"muted\">not given</span>");
    } else {
        html.text(org_ref);
    }
}
