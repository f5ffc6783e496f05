//! An activity's page: the money model's findings first (shortfalls lead), its links and
//! commitment questions, then what its publisher reports and, apart, what others report
//! about it, and its records.

use super::*;
use crate::explorer::model::{ActivityRecord, FindingView, LinkView, Reported, SideEntry, PENDING};
use crate::explorer::{csv, table};
use aidledger_view::activity_text::PREFERRED_LANGUAGE;

/// An activity's page.
pub fn activity(page: &ActivityPage, network_name: &str) -> String {
    let mut html = Html::page(&format!("Activity {}", page.activity), network_name);
    match page
        .about
        .iter()
        .find_map(|about| about.body.title_in(PREFERRED_LANGUAGE))
    {
        Some(title) => {
            html.element("<h1>", title, "</h1>").element(
                "<p class=\"mono muted\">Activity ",
                &page.activity,
                "</p>",
            );
        }
        None => {
            html.element(
                "<h1>Activity <span class=\"mono\">",
                &page.activity,
                "</span></h1>",
            );
        }
    }
    for about in &page.about {
        super::about::about(&mut html, about);
    }
    let path = activity_href(&page.activity);
    money(&mut html, page, &path);
    html.raw("<h2>What this publisher reports</h2><p class=\"muted\">Transactions whose activity is this one, corrections applied.</p>");
    reported(&mut html, &page.own, &path, ("own", "own-by-org"));
    html.raw("<h2>What others report about this activity</h2><p class=\"muted\">Transactions of other activities naming this one as the provider's or the receiver's activity. Never added to the totals above.</p>");
    reported(&mut html, &page.others, &path, ("others", "others-by-org"));
    html.raw("<h2>Transactions</h2>");
    let transactions = table::transactions(&page.records, &|org| page.org_name(org));
    let notes = |html: &mut Html, index: usize| {
        if let Some(record) = page.records.get(index) {
            transaction_notes(html, record);
        }
    };
    let query: Vec<(&str, String)> = page
        .after
        .iter()
        .map(|after| ("after", after.clone()))
        .collect();
    super::table::table_with(
        &mut html,
        &transactions,
        &csv::href(&path, &query, transactions.name),
        Some(("notes", &notes)),
    );
    if let Some(after) = &page.next_after {
        let href = format!("{}?after={after}", activity_href(&page.activity));
        html.raw("<nav class=\"pages\">")
            .link(&href, "more →")
            .raw("</nav>");
    }
    html.finish()
}

/// The findings, the links and the commitment questions, each table with its download (the
/// page at `path`).
/// The flow pictures come after the findings (`activity` names them).
fn money(html: &mut Html, page: &ActivityPage, path: &str) {
    let (money, activity) = (&page.money, &page.activity);
    html.raw("<h2>Findings</h2>");
    if let Some(note) = &money.note {
        html.raw("<p class=\"warn\">").text(note).raw("</p>");
        return;
    }
    html.raw("<p class=\"muted\">From the money model (as <code>aidledger reconcile</code> reads it), as of ")
        .text(&money.as_of)
        .raw("; a transaction unacknowledged for more than ")
        .display(money.window_days)
        .raw(" days is a finding.</p>");
    if money.findings.is_empty() {
        html.raw("<p class=\"ok\">No findings: every link of this activity is full, or pending within the window.</p>");
    } else {
        let findings = table::findings(money);
        let records = |html: &mut Html, index: usize| {
            if let Some(finding) = money.findings.get(index) {
                finding_records(html, finding);
            }
        };
        super::table::table_with(
            html,
            &findings,
            &csv::href(path, &[], findings.name),
            Some(("both sides' records", &records)),
        );
    }
    let subject = format!("activity {activity}");
    crate::explorer::chart::write(html, &money.pictures, &subject, "activity", "");
    html.raw("<h2>Links</h2><p class=\"muted\">Each provider's transactions with the receipts that answer them, summed per currency (never converted).</p>");
    if money.links.is_empty() {
        html.raw("<p class=\"muted\">No links.</p>");
    } else {
        let links = table::links(money);
        let records = |html: &mut Html, index: usize| {
            if let Some(link) = money.links.get(index) {
                link_key(html, link);
                sides(html, link);
            }
        };
        super::table::table_with(
            html,
            &links,
            &csv::href(path, &[], links.name),
            Some(("both sides' records", &records)),
        );
    }
    if !money.commitments.is_empty() {
        html.raw("<h2>Commitments</h2><p class=\"muted\">Each organisation's commitments against its disbursements and expenditure of this activity, per currency. Commitments are not disbursements: they never count as unacknowledged money.</p>");
        let commitments = table::commitments(money, &|org| page.org_name(org));
        super::table::table(html, &commitments, &csv::href(path, &[], commitments.name));
    }
}

/// What the transactions table adds beside a record's values: that it was corrected, which
/// record it acknowledges, and that a correction's status is the corrected record's.
fn transaction_notes(html: &mut Html, record: &ActivityRecord) {
    if !record.corrected_by.is_empty() {
        html.raw("<span class=\"bad\">corrected</span> ");
    }
    if record.link_status.is_none() && record.record.kind == "correction" {
        html.raw("<span class=\"muted\">(see the corrected record)</span> ");
    }
    let acknowledges = record
        .transaction
        .get("acknowledges")
        .and_then(serde_json::Value::as_str)
        .and_then(|hex| RecordId::from_hex(hex).ok());
    if let Some(target) = acknowledges {
        html.raw("<span class=\"muted\">acknowledges</span> ")
            .code_link(&record_href(&target), &model::short(&target));
    }
}

/// The records of a finding: both sides of its link, or its own records.
fn finding_records(html: &mut Html, finding: &FindingView) {
    match &finding.link {
        Some(link) => sides(html, link),
        None => {
            for id in &finding.records {
                html.code_link(&record_href(id), &model::short(id)).raw(" ");
            }
        }
    }
}

/// A status in the model's words; anything but `full`, `disbursed-in-full` and a pending
/// `unacknowledged` is marked as a finding would be.
/// Its amounts are written for people (`short GBP 5,000.00`); the JSON keeps the model's text.
pub(super) fn status_text(html: &mut Html, text: &str) {
    let text = &format::group_numbers(text);
    if text == "full" || text == "disbursed-in-full" {
        html.raw("<span class=\"ok\">").text(text).raw("</span>");
    } else if text.ends_with(PENDING) {
        html.raw("<span class=\"muted\">").text(text).raw("</span>");
    } else {
        html.raw("<span class=\"bad\">").text(text).raw("</span>");
    }
}

pub(super) fn link_key(html: &mut Html, link: &LinkView) {
    match link.kind {
        "acknowledgement" => {
            html.raw("receipts name ");
            match RecordId::from_hex(&link.key) {
                Ok(id) => html.code_link(&record_href(&id), &model::short(&id)),
                Err(_) => html.text(&link.key),
            };
        }
        "activity" => {
            html.raw("activity ").text(&link.key);
        }
        _ => {
            html.text(link.note.unwrap_or("unlinked"));
        }
    }
    if let Some(pair) = link.pair {
        html.raw(" <span class=\"muted\">(")
            .text(pair)
            .raw(")</span>");
    }
}

/// Both sides of a link, one line each.
pub(super) fn sides(html: &mut Html, link: &LinkView) {
    html.raw("<div><span class=\"muted\">provider:</span> ");
    side(html, &link.provider, &link.provider_sum);
    html.raw("</div><div><span class=\"muted\">receiver:</span> ");
    side(html, &link.receiver, &link.receiver_sum);
    html.raw("</div>");
}

/// One side of a link: each record with its author and amount, and the sum when there are
/// several.
/// A side's sums as people read them: `240001.50 GBP + 5 EUR` → `GBP 240,001.50 + EUR 5`
/// (the model's text is `AMOUNT CURRENCY` per currency; anything else is shown as it is).
pub(super) fn money_sum(sum: &str) -> String {
    sum.split(" + ")
        .map(|part| match part.split_once(' ') {
            Some((amount, currency)) => aidledger_view::format::money(amount, currency),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

pub(super) fn side(html: &mut Html, entries: &[SideEntry], sum: &str) {
    if entries.is_empty() {
        html.raw("<span class=\"muted\">nothing held</span>");
        return;
    }
    if entries.len() > 1 {
        html.raw("<strong class=\"num\">")
            .text(&money_sum(sum))
            .raw("</strong> in ")
            .display(entries.len())
            .raw(" records:");
    }
    for (at, entry) in entries.iter().enumerate() {
        if entries.len() > 1 || at > 0 {
            html.raw("<br>");
        }
        html.code_link(&record_href(&entry.record), &model::short(&entry.record))
            .raw(" ")
            .link(&org_href(&entry.author), &entry.author)
            .raw(" <span class=\"num\">")
            .text(&aidledger_view::format::money(
                &entry.amount,
                &entry.currency,
            ))
            .raw("</span>");
        if entry.withdrawn {
            html.raw(" <span class=\"bad\">withdrawn</span>");
        }
    }
}

/// What one side reports: totals over its organisations, then by organisation, each table
/// with its download (`names`: the two tables' names on the page at `page_path`).
pub(super) fn reported(
    html: &mut Html,
    reported: &Reported,
    page_path: &str,
    names: (&'static str, &'static str),
) {
    if reported.organisations.is_empty() {
        html.raw("<p class=\"muted\">No transactions.</p>");
        return;
    }
    let totals = table::totals(names.0, &reported.totals);
    super::table::table(html, &totals, &csv::href(page_path, &[], names.0));
    if reported.organisations.len() > 1 {
        html.raw("<h3>By organisation</h3>");
        let by_org = table::totals_by_org(names.1, reported);
        super::table::table(html, &by_org, &csv::href(page_path, &[], names.1));
    } else if let Some(org) = reported.organisations.first() {
        html.raw("<p class=\"muted\">All reported by ")
            .link(&org_href(&org.org), &org.org)
            .raw(".</p>");
    }
}
