//! The "Is this genuine?" page (`/genuine`): the form, and the answer for a text's
//! fingerprints (`model::genuine`). The one page that runs a script: `/genuine.js`, served
//! from this origin (the policy allows `script-src 'self'`, nothing inline), computes the
//! fingerprints in the reader's browser so that the text need not leave their machine. The
//! form works without it: the text is then sent (POST) and the node computes them.

use aidledger_view::format;
use aidledger_view::genuine::{Change, DiffPart};

use super::*;
use crate::explorer::model::{
    GenuineResult, LaterKind, Nearest, OrgName, TextMatch, GENUINE_TEXT_BYTES_MAX,
};

/// Where the page's script is served.
pub const GENUINE_SCRIPT_PATH: &str = "/genuine.js";

/// The page's script (no inline script anywhere: the policy forbids it).
pub const GENUINE_SCRIPT: &str = include_str!("../genuine.js");

/// What the form shows: the text sent (if any) and the organisation chosen.
pub struct GenuineForm<'a> {
    /// Every member, for the "claims to come from" choice.
    pub members: &'a [OrgName],
    /// The text as sent (POST), shown again in the form.
    pub text: Option<&'a str>,
}

fn org_label(html: &mut Html, org: &OrgName) {
    if org.name.is_empty() {
        html.link(&org_href(&org.id), &org.id);
    } else {
        html.link(&org_href(&org.id), &org.name)
            .raw(" <span class=\"muted\">(")
            .text(&org.id)
            .raw(")</span>");
    }
}

/// The page: the form, then the answer when there is one.
pub fn genuine(
    form: &GenuineForm<'_>,
    result: Option<&GenuineResult>,
    network_name: &str,
) -> String {
    let mut html = Html::page("Is this genuine?", network_name);
    html.raw("<h1>Is this genuine?</h1>");
    if let Some(result) = result {
        answer(&mut html, result);
    }
    html.raw(
        "<p>Paste a text that is said to come from an organisation of this network (a statement \
         going round on social media, a treaty clause) or pick a file. You learn whether exactly \
         this text was signed, by whom, when, in which record, and whether it was later corrected \
         or withdrawn.</p>",
    )
    .raw("<form id=\"genuine-form\" method=\"post\" action=\"/genuine\">")
    .raw("<p><label for=\"genuine-text\">The text</label><br><textarea id=\"genuine-text\" name=\"text\" rows=\"8\" required>")
    .text(form.text.unwrap_or_default())
    .raw("</textarea></p>")
    .raw("<p id=\"genuine-file\" hidden><label for=\"genuine-file-input\">Or pick a file (it is read on your computer, not sent)</label><br><input type=\"file\" id=\"genuine-file-input\" accept=\".txt,.md,text/plain\"></p>")
    .raw("<p><label for=\"genuine-org\">It claims to come from</label><br><select id=\"genuine-org\" name=\"org\"><option value=\"\">any organisation</option>");
    let chosen = result.and_then(|result| result.org.as_ref());
    for member in form.members {
        html.raw("<option value=\"").text(&member.id).raw("\"");
        if chosen.is_some_and(|org| org.id == member.id) {
            html.raw(" selected");
        }
        html.raw(">")
            .text(&member.name)
            .raw(" (")
            .text(&member.id)
            .raw(")</option>");
    }
    html.raw("</select></p><p><button type=\"submit\">Check</button></p>")
        .raw("<p class=\"muted\" id=\"genuine-how\">With JavaScript on, your browser computes the text's two SHA-256 fingerprints (of the exact text, and of it with line endings, white space at line ends and around it, and Unicode composition made uniform) and sends only those. Without JavaScript the text itself is sent to this node (at most ")
        .text(&format::group_digits(&GENUINE_TEXT_BYTES_MAX.to_string()))
        .raw(" bytes) and checked there. Offline: <code>aidledger provenance --text-file FILE --bundle BUNDLE</code>.</p></form>")
        .raw("<script src=\"")
        .raw(GENUINE_SCRIPT_PATH)
        .raw("\" defer></script>");
    html.finish()
}

fn answer(html: &mut Html, result: &GenuineResult) {
    html.raw("<section id=\"genuine-result\" aria-live=\"polite\">");
    if result.matches.is_empty() {
        not_signed(html, result);
    } else {
        signed(html, result);
    }
    html.raw("<p class=\"muted\">Fingerprints checked: SHA-256 <code>")
        .hex_text(&result.sha256)
        .raw("</code>, normalised <code>")
        .hex_text(&result.normalised_sha256)
        .raw("</code> (FORMAT.md, appendix “Text fingerprints”).</p></section>");
}

fn signed(html: &mut Html, result: &GenuineResult) {
    let exact = result.matches.iter().any(|found| found.exact);
    html.raw(
        "<div class=\"note\"><p><strong class=\"ok\" id=\"genuine-verdict\">Signed.</strong> ",
    );
    if exact {
        html.raw("Exactly this text was signed");
    } else {
        html.raw("This text was signed, apart from line endings, white space at line ends or around it, or Unicode composition");
    }
    html.raw(" in ");
    if result.matches.len() == 1 {
        html.raw("this record:</p>");
    } else {
        html.display(result.matches.len()).raw(" records:</p>");
    }
    html.raw("<ul class=\"genuine-matches\">");
    for found in &result.matches {
        text_match(html, found);
    }
    html.raw("</ul></div>");
    if let Some(org) = &result.org {
        if !result.matches.iter().any(|found| found.author.id == org.id) {
            html.raw("<p class=\"warn\"><strong>But not by ");
            org_label(html, org);
            html.raw("</strong>: the organisation you named did not sign it.</p>");
            redacted_caveat(html, result);
        }
    }
}

fn text_match(html: &mut Html, found: &TextMatch) {
    html.raw("<li>")
        .text(found.what)
        .raw(" “")
        .text(&found.title)
        .raw("” (")
        .text(&found.language)
        .raw(")");
    if !found.exact {
        html.raw(" <span class=\"muted\">(normalised match)</span>");
    }
    html.raw(", signed by ");
    org_label(html, &found.author);
    html.raw(", ")
        .text(&format::utc_time(found.record.timestamp_ms))
        .raw(" (the time it states), record ")
        .code_link(
            &record_href(&found.record.id),
            &model::short(&found.record.id),
        )
        .raw(" <span class=\"muted\">seq ")
        .display(found.record.seq)
        .raw("</span>");
    for later in &found.later {
        html.raw("<br>");
        match later.kind {
            LaterKind::Withdrawn => {
                html.raw("<strong class=\"bad\">WITHDRAWN</strong> by its author")
            }
            LaterKind::Corrected => {
                html.raw("<strong class=\"bad\">Corrected</strong> by its author")
            }
            LaterKind::OthersClaim => html
                .raw("A correction by another organisation (")
                .text(&later.record.author)
                .raw("), which changes nothing"),
        };
        html.raw(" on ")
            .text(&format::utc_time(later.record.timestamp_ms))
            .raw(" in record ")
            .code_link(
                &record_href(&later.record.id),
                &model::short(&later.record.id),
            );
    }
    html.raw("</li>");
}

fn not_signed(html: &mut Html, result: &GenuineResult) {
    html.raw("<div class=\"warn\"><p><strong class=\"bad\" id=\"genuine-verdict\">Not signed.</strong> No record this node holds signs this text, exactly or normalised");
    if let Some(org) = &result.org {
        html.raw(" (by ");
        org_label(html, org);
        html.raw(" or anyone else)");
    }
    html.raw(".</p>");
    redacted_caveat(html, result);
    html.raw("</div>");
    match &result.nearest {
        Some(nearest) => nearest_statement(html, nearest),
        None if result.text_sent => {
            html.raw("<p>No signed statement shares a word with it.</p>");
        }
        None => resend(html, result),
    }
}

/// The redacted texts that might have said it: the caveat, then the records (links), the
/// first ones and how many more. Only their header's facts and the order: the content is
/// gone.
fn redacted_caveat(html: &mut Html, result: &GenuineResult) {
    let Some(caveat) = &result.redacted_caveat else {
        return;
    };
    let redacted = &result.redacted;
    html.raw("<p id=\"genuine-redacted\"><strong>Redacted records cannot be checked.</strong> ")
        .text(caveat)
        .raw("</p><ul class=\"genuine-redacted\">");
    for text in &redacted.listed {
        html.raw("<li>redacted ")
            .text(text.kind)
            .raw(" of ")
            .link(&org_href(&text.author), &text.author)
            .raw(", record ")
            .code_link(&record_href(&text.id), &model::short(&text.id))
            .raw(" <span class=\"muted\">seq ")
            .display(text.seq)
            .raw("</span>: content withheld for ")
            .text(text.category_text)
            .raw(" by order of ")
            .text(if text.by == "admins" {
                "the admins"
            } else {
                "its author"
            });
        if let Some(ms) = text.ordered_at_ms {
            html.raw(", ").text(&format::utc_time(ms));
        }
        html.raw("</li>");
    }
    html.raw("</ul>");
    let more = redacted.not_listed();
    if more > 0 {
        html.raw("<p class=\"muted\">And ")
            .display(more)
            .raw(" more (the organisation pages list every record).</p>");
    }
}

/// The button that sends the text itself, to find the nearest statement (the fingerprints
/// alone cannot).
fn resend(html: &mut Html, result: &GenuineResult) {
    html.raw("<form id=\"genuine-resend\" method=\"post\" action=\"/genuine\"><p>To find the nearest signed statement and show the differences, the text itself must be sent to this node. ")
        .raw("<label for=\"genuine-resend-text\">The text to send</label><br><textarea id=\"genuine-resend-text\" name=\"text\" rows=\"4\" required></textarea>")
        .raw("<input type=\"hidden\" name=\"org\" value=\"");
    if let Some(org) = &result.org {
        html.text(&org.id);
    }
    html.raw("\"></p><p><button type=\"submit\" id=\"genuine-resend-button\">Send the text to find the nearest signed statement</button></p></form>");
}

fn nearest_statement(html: &mut Html, nearest: &Nearest) {
    html.raw("<h2>The nearest signed statement");
    if nearest.of_named_org {
        html.raw(" of this organisation");
    }
    html.raw("</h2><p>“")
        .text(&nearest.title)
        .raw("”, signed by ");
    org_label(html, &nearest.author);
    html.raw(", ")
        .text(&format::utc_time(nearest.record.timestamp_ms))
        .raw(", record ")
        .code_link(
            &record_href(&nearest.record.id),
            &model::short(&nearest.record.id),
        )
        .raw(" <span class=\"muted\">(")
        .display(nearest.likeness / 10)
        .raw("% of words in common)</span></p>");
    match &nearest.diff {
        Some(parts) => {
            html.raw("<p class=\"muted\">The differences, word by word: <del>struck through</del> is in the signed statement and not in your text; <ins>underlined</ins> is in your text only.</p><pre id=\"genuine-diff\" class=\"diff\">");
            diff(html, parts);
            html.raw("</pre>");
        }
        None => {
            html.raw("<p class=\"muted\">The texts are too long to show the differences; the signed statement:</p><pre>")
                .text(&nearest.text)
                .raw("</pre>");
        }
    }
}

fn diff(html: &mut Html, parts: &[DiffPart]) {
    for part in parts {
        match part.change {
            Change::Same => html.text(&part.text),
            Change::Removed => html.element("<del>", &part.text, "</del>"),
            Change::Added => html.element("<ins>", &part.text, "</ins>"),
        };
    }
}
