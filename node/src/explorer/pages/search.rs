//! The search page: the query, its ranked hits (each with what it is, its name or title, its
//! id beside it, and the field that matched), and links to the other pages of hits.

use super::*;
use crate::explorer::model::{Hit, SearchResults};

/// What the search finds, said under an empty search box.
const SEARCH_HELP: &str = "Search by the name or id of an organisation (members, and \
providers and receivers named in records), any part of an IATI activity id, words of an \
activity's title or description, a recipient country or region code, words of a statement's \
or treaty's title, or the first digits of a record id. Every word must match; words match \
the beginning of a word.";

/// `/search?q=…&page=N`.
fn page_href(query: &str, page: usize) -> String {
    format!("/search?q={}&page={page}", url_component(query))
}

/// The search page.
pub fn search(results: &SearchResults, network_name: &str) -> String {
    let mut html = Html::page(&format!("Search {}", results.query), network_name);
    html.raw("<h1>Search</h1><form action=\"/search\" method=\"get\"><input type=\"search\" name=\"q\" value=\"")
        .text(&results.query)
        .raw("\" aria-label=\"Search\"> <button>Search</button></form>");
    if results.query.is_empty() {
        html.element("<p class=\"muted\">", SEARCH_HELP, "</p>");
        return html.finish();
    }
    if results.total == 0 {
        html.raw("<p>Nothing matches <strong>")
            .text(&results.query)
            .raw("</strong>.</p>");
        html.element("<p class=\"muted\">", SEARCH_HELP, "</p>");
        return html.finish();
    }
    html.raw("<p>")
        .display(results.total)
        .raw(if results.total == 1 {
            " result"
        } else {
            " results"
        })
        .raw(" for <strong>")
        .text(&results.query)
        .raw("</strong>, best first");
    if results.pages > 1 {
        html.raw(" (page ")
            .display(results.page)
            .raw(" of ")
            .display(results.pages)
            .raw(")");
    }
    html.raw(".</p>");
    if results.truncated {
        html.raw("<p class=\"note\">The search stopped at one of its bounds: more may match. Give more of a word, or more words.</p>");
    }
    if results.hits.is_empty() {
        html.raw("<p>No results on this page.</p>");
    } else {
        html.raw("<ol class=\"hits\" start=\"")
            .display((results.page - 1) * results.page_size + 1)
            .raw("\">");
        for hit in &results.hits {
            hit_item(&mut html, hit);
        }
        html.raw("</ol>");
    }
    if results.pages > 1 {
        html.raw("<nav class=\"pages\" aria-label=\"Pages of results\">");
        if results.page > 1 {
            html.link(&page_href(&results.query, results.page - 1), "← previous");
        }
        if results.page < results.pages {
            html.link(&page_href(&results.query, results.page + 1), "next →");
        }
        html.raw("</nav>");
    }
    html.finish()
}

/// One hit: kind, name or title linked, id beside it, then the field that matched.
fn hit_item(html: &mut Html, hit: &Hit) {
    html.raw("<li><span class=\"muted\">")
        .text(hit.kind)
        .raw("</span> ");
    if hit.href.is_empty() {
        html.element("<strong>", &hit.title, "</strong>");
    } else {
        html.link(&hit.href, &hit.title);
    }
    if !hit.id.is_empty() && hit.id != hit.title {
        html.raw(" <span class=\"mono muted\">")
            .text(&hit.id)
            .raw("</span>");
    }
    html.raw("<br><span class=\"muted\">")
        .text(hit.field)
        .raw(":</span> ");
    if hit.matched.is_empty() {
        html.raw("mentions the words searched");
    } else {
        html.element("<mark>", &hit.matched, "</mark>");
    }
    if let Some(record) = &hit.record {
        if hit.kind == "member" || hit.kind == "organisation" {
            let href = record_href(&record.id);
            html.raw(" · named in ");
            // A non-member's name already links to this record.
            if href == hit.href {
                html.text(&record.label);
            } else {
                html.link(&href, &record.label);
            }
            html.raw(" by ")
                .text(record.author_name.as_deref().unwrap_or(&record.author));
        }
    }
    html.raw("</li>");
}
