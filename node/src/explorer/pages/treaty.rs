//! A treaty's page: its versions and each party's actions.

use super::*;

/// A treaty's page.
pub fn treaty(page: &TreatyPage, network_name: &str) -> String {
    let mut html = Html::page(&page.title, network_name);
    html.element("<h1>", &page.title, "</h1>")
        .raw("<dl><dt>Treaty record</dt><dd>")
        .code_link(&record_href(&page.record.id), &page.record.id.to_hex())
        .raw("</dd><dt>Recorded by</dt><dd>")
        .link(&org_href(&page.record.author), &page.record.author)
        .raw("</dd><dt>Text hash</dt><dd class=\"mono\">")
        .text(&page.text_hash)
        .raw("</dd>");
    if let Some(old) = &page.supersedes {
        html.raw("<dt>Supersedes</dt><dd>");
        summary_line(&mut html, old);
        html.raw("</dd>");
    }
    html.raw("</dl>");
    summary_list(&mut html, "Superseded by", &page.superseded_by);
    summary_list(&mut html, "Corrected by", &page.corrected_by);
    html.raw("<h2>Parties</h2><div class=\"scroll\"><table><tr><th>party</th><th>state on this text</th><th>actions</th></tr>");
    for party in &page.parties {
        html.raw("<tr><td>").link(&org_href(&party.org), &party.org);
        if !party.name.is_empty() {
            html.raw("<br><span class=\"muted\">")
                .text(&party.name)
                .raw("</span>");
        }
        if !party.listed_party {
            html.raw("<br><span class=\"muted\">(not a listed party)</span>");
        }
        html.raw("</td><td><strong>")
            .text(party.state)
            .raw("</strong></td><td>");
        for action in &party.actions {
            html.code_link(&record_href(&action.id), action.action)
                .raw(" ")
                .text(&action.date);
            if !action.on_this_text {
                html.raw(" <span class=\"bad\">(on another text hash)</span>");
            }
            if !action.note.is_empty() {
                html.raw(" — ").text(&action.note);
            }
            html.raw("<br>");
        }
        html.raw("</td></tr>");
    }
    html.raw("</table></div><h2>Text</h2>");
    for version in &page.versions {
        html.element("<h3>Language: ", &version.language, "</h3>")
            .raw("<p class=\"muted\">Version hash <span class=\"mono\">")
            .text(&version.hash)
            .raw("</span></p>")
            .element("<pre>", &version.text, "</pre>");
    }
    html.finish()
}
