//! The part of an activity's page that says what it is about: one block per author's latest
//! activity record, titles first (every language), then status, dates, places, sectors,
//! participating organisations and descriptions.

use aidledger_spec::activity::{date_type_name, description_type_name, role_name, status_name};
use aidledger_view::activity_text::code_text;

use super::*;
use crate::explorer::model::ActivityAbout;

/// One author's account of the activity.
pub(super) fn about(html: &mut Html, about: &ActivityAbout) {
    let activity = &about.body;
    html.raw("<section class=\"about\"><h2>About this activity</h2><p class=\"muted\">From the activity record ")
        .code_link(&record_href(&about.record), &model::short(&about.record))
        .raw(" of ")
        .link(&org_href(&about.author), &about.author);
    match &about.reported_by {
        Some(note) => {
            html.raw(": <span class=\"warn\">")
                .text(note)
                .raw("</span>");
        }
        None => {
            html.raw(", its publisher");
        }
    }
    html.raw(" (its latest; an organisation records an activity again when it changes).</p>");
    if !activity.titles.is_empty() {
        html.raw("<h3>Title</h3><ul>");
        for title in &activity.titles {
            html.raw("<li>")
                .text(&title.text)
                .raw(" <span class=\"muted\">[")
                .text(language(&title.language))
                .raw("]</span></li>");
        }
        html.raw("</ul>");
    }
    html.raw("<table>");
    if !activity.status.is_empty() {
        row(html, "Status", &code_text(&activity.status, status_name));
    }
    for date in &activity.dates {
        let label = code_text(&date.type_code, date_type_name);
        html.raw("<tr><th>Date</th><td>")
            .display(date.date)
            .raw(" <span class=\"muted\">")
            .text(&label)
            .raw("</span></td></tr>");
    }
    for country in &activity.recipient_countries {
        row(
            html,
            "Recipient country",
            &share(&country.code, "", &country.percentage),
        );
    }
    for region in &activity.recipient_regions {
        row(
            html,
            "Recipient region",
            &share(&region.code, &region.vocabulary, &region.percentage),
        );
    }
    for sector in &activity.sectors {
        row(
            html,
            "Sector",
            &share(&sector.code, &sector.vocabulary, &sector.percentage),
        );
    }
    for org in &activity.participating_orgs {
        html.raw("<tr><th>")
            .text(&code_text(&org.role, role_name))
            .raw("</th><td>");
        if !org.name.is_empty() {
            html.text(&org.name).raw(" ");
        }
        if !org.org_ref.is_empty() {
            html.raw("<span class=\"mono\">")
                .link(&org_href(&org.org_ref), &org.org_ref)
                .raw("</span>");
        }
        if !org.activity_id.is_empty() {
            html.raw(" activity ")
                .link(&activity_href(&org.activity_id), &org.activity_id);
        }
        html.raw("</td></tr>");
    }
    html.raw("</table>");
    for description in &activity.descriptions {
        html.raw("<h3>Description <span class=\"muted\">")
            .text(&code_text(&description.type_code, description_type_name))
            .raw(" [")
            .text(language(&description.language))
            .raw("]</span></h3><p class=\"description\">")
            .text(&description.text)
            .raw("</p>");
    }
    html.raw("</section>");
}

fn row(html: &mut Html, label: &'static str, value: &str) {
    html.raw("<tr><th>")
        .raw(label)
        .raw("</th><td>")
        .text(value)
        .raw("</td></tr>");
}

/// `TR 100 %`, `14030 (vocabulary 1) 62.5 %`.
fn share(code: &str, vocabulary: &str, percentage: &str) -> String {
    let mut text = code.to_owned();
    if !vocabulary.is_empty() {
        text.push_str(&format!(" (vocabulary {vocabulary})"));
    }
    if !percentage.is_empty() {
        text.push_str(&format!(" {percentage} %"));
    }
    text
}

fn language(tag: &str) -> &str {
    if tag.is_empty() {
        "language not given"
    } else {
        tag
    }
}
