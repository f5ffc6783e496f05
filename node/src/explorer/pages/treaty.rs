//! A treaty's page: whether it is in force, each party's current action, actions by
//! non-parties, and its text versions.

use aidledger_view::treaty::ActionState;

use super::*;

/// A treaty's page.
pub fn treaty(page: &TreatyPage, network_name: &str) -> String {
    let mut html = Html::page(&page.title, network_name);
    html.element("<h1>", &page.title, "</h1>");
    in_force(&mut html, page);
    html.raw("<dl><dt>Treaty record</dt><dd>")
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
    html.raw("<h2>Parties</h2><div class=\"scroll\"><table><tr><th>party</th><th>current action</th><th>all its actions</th></tr>");
    for party in &page.parties {
        let org = &party.standing.org;
        html.raw("<tr><td>").link(&org_href(org), org);
        if !party.name.is_empty() {
            html.raw("<br><span class=\"muted\">")
                .text(&party.name)
                .raw("</span>");
        }
        html.raw("</td><td>");
        match &party.standing.current {
            Some(current) => {
                html.raw("<strong>")
                    .text(current.action.name())
                    .raw("</strong> ")
                    .display(current.date);
                which_text(&mut html, current);
            }
            None => {
                html.raw("<span class=\"muted\">no action</span>");
            }
        }
        html.raw("</td><td>");
        for action in &party.standing.actions {
            action_line(&mut html, action);
        }
        html.raw("</td></tr>");
    }
    html.raw("</table></div>");
    if !page.non_party_actions.is_empty() {
        html.raw("<h2>Actions by organisations that are not parties</h2><p class=\"warn\">Finding: the treaty text does not list these organisations as parties. A node refuses such actions; these reached the ledger without that check. They are valid records, and they do not count for the treaty's standing.</p><ul>");
        for action in &page.non_party_actions {
            html.raw("<li>")
                .link(&org_href(&action.org), &action.org)
                .raw(": ");
            action_line(&mut html, action);
            html.raw("</li>");
        }
        html.raw("</ul>");
    }
    html.raw("<h2>Text</h2>");
    for version in &page.versions {
        html.element("<h3>Language: ", &version.language, "</h3>")
            .raw("<p class=\"muted\">Version hash <span class=\"mono\">")
            .text(&version.hash)
            .raw("</span></p>")
            .element("<pre>", &version.text, "</pre>");
    }
    html.finish()
}

/// "In force since DATE" or "Not in force: …", and whether every party ratified one text.
fn in_force(html: &mut Html, page: &TreatyPage) {
    let state = &page.in_force;
    match state.since.filter(|_| state.in_force) {
        Some(since) => {
            html.raw("<p class=\"ok\">In force since ")
                .display(since)
                .raw("</p>");
        }
        None => {
            html.raw("<p class=\"warn\"><strong>Not in force:</strong> ")
                .text(&state.reasons().join("; "))
                .raw("</p>");
        }
    }
    if page.actions_truncated {
        html.raw("<p class=\"warn\">This treaty has more actions than a page reads; the standing rests on the first ones. <code>aidledger show</code> of the treaty reads them all.</p>");
    }
    html.raw("<p>Every party ratified the same text: <strong>")
        .raw(if state.same_text { "yes" } else { "no" })
        .raw("</strong></p>");
}

/// Whether an action is on this text, or on which other.
fn which_text(html: &mut Html, action: &ActionState) {
    if action.on_this_text {
        html.raw(" <span class=\"muted\">on this text</span>");
    } else {
        html.raw(" <span class=\"bad\">on another text</span> (")
            .code_link(
                &format!("/treaty/{}", action.treaty.to_hex()),
                &model::short(&action.treaty),
            )
            .raw(")");
    }
}

/// One action: kind linked to its record, date, which text, corrections, note.
fn action_line(html: &mut Html, action: &ActionState) {
    html.code_link(&record_href(&action.record), action.action.name())
        .raw(" ")
        .display(action.date);
    which_text(html, action);
    if let Some(correction) = &action.corrected_by {
        html.raw(" <span class=\"muted\">as corrected by</span> ")
            .code_link(&record_href(correction), &model::short(correction));
    }
    if let Some(correction) = &action.retracted_by {
        html.raw(" <span class=\"bad\">retracted</span> by ")
            .code_link(&record_href(correction), &model::short(correction));
    }
    if !action.note.is_empty() {
        html.raw(" — ").text(&action.note);
    }
    html.raw("<br>");
}
