//! The page of a redacted record: what is still known (who signed it, when, where it stands in
//! the chain, that its signature holds) and who withheld its content and why. The content is
//! never shown: this node no longer holds it.

use super::model::RedactedPage;
use super::*;

/// A redacted record's page.
pub fn redacted(page: &RedactedPage, network_name: &str) -> String {
    let title = format!("Redacted {}", page.kind);
    let mut html = Html::page(&title, network_name);
    html.raw("<p class=\"muted\">")
        .text(page.kind)
        .raw(" record <span class=\"mono\">")
        .text(&model::short(&page.id))
        .raw("</span></p>");
    html.element("<h1>", &title, "</h1>");
    html.raw("<p class=\"warn\"><strong>REDACTED.</strong> ");
    match &page.redaction {
        Some(order) => {
            html.raw("Its content was withheld for ")
                .text(order.category_words)
                .raw(" (")
                .text(order.category)
                .raw("), by ")
                .raw(if order.by == "admins" {
                    "the network's admins"
                } else {
                    "its author"
                })
                .raw(", ordered ")
                .text(&format::utc_time(order.ordered_at_ms))
                .raw(": see the order ")
                .code_link(&record_href(&order.order), &model::short(&order.order))
                .raw(".");
        }
        None => {
            html.raw("Its content is withheld on this node.");
        }
    }
    html.raw(" This node no longer holds what it said, nor does any node that applied the order; its signature, its id and its place in the chain remain, so the chain still verifies.</p>");
    html.raw("<h2>Details</h2><dl><dt>Signed by</dt><dd>");
    names::member(&mut html, &page.author, &page.author_name);
    html.raw("</dd>")
        .field("Signed at", &format::utc_time(page.timestamp_ms))
        .raw("<dt>Position</dt><dd>record ")
        .text(&format::group_digits(&page.seq.to_string()))
        .raw(" of its author's chain (counting from 0)</dd><dt>Record id</dt><dd class=\"mono\">")
        .hex_text(&page.id.to_hex())
        .raw("</dd><dt>Signing key</dt><dd class=\"mono\">")
        .hex_text(&page.signing_key)
        .raw("</dd><dt>Content</dt><dd>withheld</dd></dl>");
    html.finish()
}
