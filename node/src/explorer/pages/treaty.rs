//! A treaty's page: whether it is in force, each party's current action, actions by
//! non-parties, and its text versions.

use aidledger_view::format;
use aidledger_view::treaty::ActionState;

use super::table::table_with;
use super::*;
use crate::explorer::model::VersionView;
use crate::explorer::{csv, table};

/// A treaty's page.
pub fn treaty(page: &TreatyPage, network_name: &str) -> String {
    let mut html = Html::page(&page.title, network_name);
    html.element("<h1>", &page.title, "</h1>");
    in_force(&mut html, page);
    html.raw("<dl><dt>Treaty record</dt><dd>")
        .code_link(&record_href(&page.record.id), &page.record.id.to_hex())
        .raw("</dd><dt>Recorded by</dt><dd>");
    super::names::member(&mut html, &page.record.author, &page.author_name);
    html.raw("</dd><dt>Text hash</dt><dd class=\"mono\">")
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
    html.raw("<h2>Parties</h2>");
    let parties = table::treaty_parties(page);
    let all_actions = |html: &mut Html, index: usize| {
        if let Some(party) = page.parties.get(index) {
            for action in &party.standing.actions {
                action_line(html, action);
            }
        }
    };
    table_with(
        &mut html,
        &parties,
        &csv::href(&treaty_href(&page.record.id), &[], parties.name),
        Some(("all its actions", &all_actions)),
    );
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
        text_version(&mut html, page, version);
    }
    html.finish()
}

/// "In force since DATE" or "Not in force: …" (organisations by name with their id), and
/// whether every party ratified one text.
fn in_force(html: &mut Html, page: &TreatyPage) {
    let state = &page.in_force;
    match state.since.filter(|_| state.in_force) {
        Some(since) => {
            html.raw("<p class=\"ok\">In force since ")
                .text(&format::date(&since))
                .raw("</p>");
        }
        None => {
            let reasons = page
                .status
                .strip_prefix(NOT_IN_FORCE)
                .unwrap_or(&page.status);
            html.raw("<p class=\"warn\"><strong>Not in force:</strong> ")
                .text(reasons)
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

/// How the view's status line starts when the text is not in force.
const NOT_IN_FORCE: &str = "not in force: ";

/// One language version: its heading and download link in the page's language, then the
/// shown part of the text in a section marked with the version's own language (`lang`), and
/// links to its other parts.
fn text_version(html: &mut Html, page: &TreatyPage, version: &VersionView) {
    html.raw("<h3 id=\"text-")
        .text(&version.language)
        .raw("\">")
        .text(&language_name(&version.language))
        .raw("</h3><p class=\"muted\">Version hash <span class=\"mono\">")
        .text(&version.hash)
        .raw("</span>; ")
        .text(&format::group_digits(&version.bytes.to_string()))
        .raw(" bytes. <a href=\"")
        .text(&version.download)
        .raw("\" download>Download the whole text (")
        .text(&version.language)
        .raw(", exactly as signed)</a></p>");
    if version.parts > 1 {
        html.raw("<p class=\"muted\">Part ")
            .display(version.part)
            .raw(" of ")
            .display(version.parts)
            .raw(".</p>");
    }
    html.raw("<section dir=\"auto\" lang=\"")
        .text(&version.language)
        .raw("\"><pre>")
        .text(&version.text)
        .raw("</pre></section>");
    if version.parts > 1 {
        part_links(html, page, version);
    }
}

/// Links to the first, previous, next and last parts of a long text.
fn part_links(html: &mut Html, page: &TreatyPage, version: &VersionView) {
    let href = |part: usize| {
        format!(
            "{}?lang={}&part={part}#text-{}",
            treaty_href(&page.record.id),
            url_component(&version.language),
            url_component(&version.language)
        )
    };
    html.raw("<nav class=\"pages\" aria-label=\"Parts of the ")
        .text(&version.language)
        .raw(" text\">");
    if version.part > 1 {
        html.link(&href(1), "first part")
            .link(&href(version.part - 1), "← previous part");
    }
    if version.part < version.parts {
        html.link(&href(version.part + 1), "next part →")
            .link(&href(version.parts), "last part");
    }
    html.raw("</nav>");
}

/// `/treaty/{id}`.
fn treaty_href(id: &RecordId) -> String {
    format!("/treaty/{}", id.to_hex())
}

/// A heading for a language version: the language's English name when it is one of the
/// common ones, with its tag (`French (fr)`), else the tag (`Text in xh`).
fn language_name(tag: &str) -> String {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    let name = match primary.as_str() {
        "ar" => "Arabic",
        "de" => "German",
        "en" => "English",
        "es" => "Spanish",
        "fr" => "French",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "zh" => "Chinese",
        _ => return format!("Text in {tag}"),
    };
    format!("{name} ({tag})")
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
        .text(&format::date(&action.date));
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
