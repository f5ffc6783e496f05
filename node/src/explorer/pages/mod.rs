//! The explorer's HTML pages, rendered from the values of `model`: plain server-side HTML, no
//! JavaScript, every text escaped by `html::Html`. One file per page (`record`, `activity`, `treaty`,
//! `governance`, `search`); this one holds the links and tables they share, and the home,
//! organisation and error pages.

use aidledger_spec::governance::{Derivation, KeyEndReason, KeySpan, ProposalState};
use aidledger_spec::RecordId;
use serde_json::Value;

use aidledger_view::format;

use super::csv;
use super::html::{url_component, Html};
use super::model::{
    self, ActivityPage, ChainView, Home, MemberView, OrgPage, RecordPage, Summary, TreatyPage,
};
use super::table::Table;
use crate::view::RecordView;

mod about;
mod activity;
mod cite;
mod genuine;
mod governance;
pub mod names;
mod record;
mod record_details;
mod redacted;
mod search;
mod table;
mod treaty;

pub use activity::*;
pub use cite::{export_command, show_command, VERIFY_SCRIPT, VERIFY_SCRIPT_PATH};
pub use genuine::*;
pub use governance::*;
pub use record::*;
pub use redacted::redacted;
pub use search::*;
pub use treaty::*;

/// Most bytes of a record shown as hex in its page; the download has them all.
pub const RAW_HEX_SHOWN_BYTES_MAX: usize = 4096;

/// Where a record's page is, before its id (the href below and the citation's URL).
pub(super) const RECORD_PATH: &str = "/record/";

/// `/record/{id}` for an id.
pub fn record_href(id: &RecordId) -> String {
    [RECORD_PATH, &id.to_hex()].concat()
}

fn org_href(org: &str) -> String {
    ["/org/", &url_component(org)].concat()
}

fn activity_href(activity: &str) -> String {
    ["/activity/", &url_component(activity)].concat()
}

fn roles(member: &MemberView) -> String {
    let names: Vec<&str> = member.roles.iter().map(|role| role.name()).collect();
    names.join(", ")
}

fn chain_state(html: &mut Html, chain: &ChainView) {
    if chain.forked_at.is_empty() {
        html.raw("<span class=\"ok\">verified, no fork</span>");
    } else {
        let seqs: Vec<String> = chain.forked_at.iter().map(u64::to_string).collect();
        html.raw("<span class=\"bad\">FORKED at seq ")
            .text(&seqs.join(", "))
            .raw("</span>");
    }
}

/// The organisation's collected cosigned checkpoint, and its split views as prominently as a
/// fork (issue 21).
fn witnessed_state(html: &mut Html, page: &OrgPage) {
    html.raw("</dd><dt>Checkpoint</dt><dd>");
    match &page.witnessed {
        None => {
            html.raw(
                "<span class=\"muted\">no cosigned checkpoint collected from witnesses</span>",
            );
        }
        Some(chain) if chain.witnesses == 0 => {
            html.text(&format!(
                "signed at size {}; the network has no witness policy",
                format::group_digits(&chain.size.to_string())
            ));
        }
        Some(chain) => {
            html.raw(if chain.cosigned >= chain.threshold {
                "<span class=\"ok\">"
            } else {
                "<span class=\"muted\">"
            })
            .text(&format!(
                "witnessed at size {} by {} of {} witnesses ({} needed)",
                format::group_digits(&chain.size.to_string()),
                chain.cosigned,
                chain.witnesses,
                chain.threshold
            ))
            .raw("</span>");
        }
    }
    for view in &page.split_views {
        let sizes = format!(
            "sizes {} and {}",
            format::group_digits(&view.first_size.to_string()),
            format::group_digits(&view.second_size.to_string())
        );
        if view.explained {
            html.raw("<div class=\"muted\">")
                .text(&format!(
                    "Two checkpoints of different histories ({sizes}), explained by a revocation of its records."
                ))
                .raw("</div>");
        } else {
            html.raw("<div><span class=\"bad\">")
                .text(&format!(
                    "SPLIT VIEW: this organisation signed two checkpoints of its chain that cannot both be true ({sizes}): it showed one history to some and another to others. The proof is stored (/api/split-views)."
                ))
                .raw("</span></div>");
        }
    }
}

/// A list of records (`table::records`) with its download at `csv_href`.
fn summaries_table(html: &mut Html, records: &Table, csv_href: &str) {
    if records.rows.is_empty() {
        html.raw("<p class=\"muted\">No records.</p>");
        return;
    }
    table::table(html, records, csv_href);
}

/// The home page.
pub fn home(home: &Home) -> String {
    let mut html = Html::page("Home", &home.name);
    html.element("<h1>", &home.name, "</h1>")
        .raw("<dl>")
        .raw("<dt>Network id</dt><dd class=\"mono\">")
        .text(&home.network_id)
        .raw("</dd>")
        .field(
            "Records",
            &format::group_digits(&home.record_count.to_string()),
        )
        .raw("<dt>Verification</dt><dd>");
    if home.all_chains_intact {
        html.raw("<span class=\"ok\">Every record was verified (signature, hash, link, key, field rules) before it was stored; no chain is forked.</span>");
    } else {
        html.raw("<span class=\"bad\">A chain is FORKED: its author signed two records at one position (the proof is stored).</span>");
    }
    for org in &home.split_views {
        html.raw("<div><span class=\"bad\">")
            .text(&format!(
                "SPLIT VIEW: {org} signed two checkpoints of its chain that cannot both be true (the proof is stored; see "
            ))
            .link(&org_href(org), "its page")
            .raw(").</span></div>");
    }
    html.raw("</dd>");
    html.raw("<dt>Governance</dt><dd>")
        .link(
            "/governance",
            &format!(
                "{} change(s) in effect; admin rule, keys and proposals",
                home.governance_changes
            ),
        )
        .raw("</dd>");
    if home.revoked_records > 0 {
        html.raw("<dt>Not valid</dt><dd><span class=\"bad\">")
            .text(&format!(
                "{} record(s) signed with a revoked key or after their author's removal, kept as evidence",
                home.revoked_records
            ))
            .raw("</span></dd>");
    }
    if home.pending_records > 0 {
        html.field(
            "Waiting",
            &format!(
                "{} records from peers wait for a predecessor",
                home.pending_records
            ),
        );
    }
    if home.index_behind_records > 0 {
        html.field(
            "Index",
            &format!(
                "catching up: {} records (a large sync or batch) are stored but not yet counted in totals or found by search",
                aidledger_view::format::group_digits(&home.index_behind_records.to_string())
            ),
        );
    }
    html.raw("</dl><h2>Members and their chains</h2>");
    let members = crate::explorer::table::members(home);
    table::table(&mut html, &members, &csv::href("", &[], members.name));
    html.raw("<h2>Latest records</h2>");
    let latest = crate::explorer::table::records("latest", &home.latest, Some(&home.members));
    summaries_table(&mut html, &latest, &csv::href("", &[], latest.name));
    html.finish()
}

/// An organisation's page.
pub fn org(page: &OrgPage, network_name: &str) -> String {
    let member = &page.org;
    let mut html = Html::page(&member.name, network_name);
    html.element("<h1>", &member.name, "</h1>")
        .raw("<dl>")
        .raw("<dt>Organisation id</dt><dd class=\"mono\">")
        .text(&member.id)
        .raw("</dd>")
        .field("Roles", &roles(member))
        .field("Chain length", &page.chain.length.to_string())
        .raw("<dt>Chain</dt><dd>");
    chain_state(&mut html, &page.chain);
    witnessed_state(&mut html, page);
    if let Some(from_seq) = member.removed_from {
        html.raw(
            "</dd><dt>Membership</dt><dd><span class=\"bad\">removed by the network from seq ",
        )
        .display(from_seq)
        .raw(" on</span>");
    }
    html.raw("</dd><dt>Signing keys</dt><dd>");
    for span in &member.keys {
        html.raw("<div><span class=\"mono\">")
            .text(&span.key.to_hex())
            .raw("</span> <span class=\"muted\">")
            .text(&key_span_text(span))
            .raw("</span></div>");
    }
    html.raw("</dd></dl><h2>What this organisation reports</h2>")
        .raw("<p class=\"muted\">Its own transactions by type and currency: exact sums of the amounts as signed, corrections applied.</p>");
    let totals = crate::explorer::table::totals("totals", &page.totals);
    if totals.rows.is_empty() {
        html.raw("<p class=\"muted\">No transactions.</p>");
    } else {
        table::table(
            &mut html,
            &totals,
            &crate::explorer::csv::href(&org_href(&member.id), &[], totals.name),
        );
    }
    if page.redacted_transactions > 0 {
        html.raw("<p class=\"warn\">Plus ")
            .text(&page.redacted_transactions.to_string())
            .raw(" redacted transaction(s): their content, amounts included, was withheld by a redaction order, so the totals above cannot count them.</p>");
    }
    html.raw("<h2>What others report about this organisation</h2>")
        .raw("<p class=\"muted\">Transactions of other members naming it as provider or receiver. Never added to the totals above.</p>");
    activity::reported(
        &mut html,
        &page.others,
        &org_href(&member.id),
        ("others", "others-by-org"),
    );
    org_pictures(&mut html, page);
    html.raw("<h2>Chain, newest first</h2>");
    let records = crate::explorer::table::records("records", &page.records, None);
    let query: Vec<(&str, String)> = page
        .records
        .first()
        .filter(|first| first.seq + 1 < page.chain.length)
        .map(|first| ("before_seq", (first.seq + 1).to_string()))
        .into_iter()
        .collect();
    summaries_table(
        &mut html,
        &records,
        &csv::href(&org_href(&member.id), &query, records.name),
    );
    html.raw("<nav class=\"pages\">");
    if page
        .records
        .first()
        .is_some_and(|first| first.seq + 1 < page.chain.length)
    {
        html.link(&org_href(&member.id), "newest");
    }
    if let Some(before) = page.next_before_seq {
        let href = format!("{}?before_seq={before}", org_href(&member.id));
        html.link(&href, "older records →");
    }
    html.raw("</nav>");
    html.finish()
}

/// An error page (400, 404, 405).
pub fn error(status: u16, message: &str, network_name: &str) -> String {
    let title = match status {
        400 => "Bad request",
        404 => "Not found",
        405 => "Method not allowed",
        413 => "Text too long",
        _ => "Error",
    };
    let mut html = Html::page(title, network_name);
    html.element("<h1>", title, "</h1>")
        .element("<p>", message, "</p>")
        .raw("<p><a href=\"/\">Home</a></p>");
    html.finish()
}

/// The pictures of an organisation's money (`chart`), and what they cover.
fn org_pictures(html: &mut Html, page: &OrgPage) {
    use crate::explorer::model::{ORG_PICTURE_ACTIVITIES_MAX, ORG_PICTURE_RECORDS_MAX};
    let pictures = &page.pictures;
    if let Some(note) = &pictures.note {
        html.raw("<h2>Flow of money</h2><p class=\"warn\">")
            .text(note)
            .raw("</p>");
        return;
    }
    let mut scope = format!(
        "The links it gives or receives in, of the activities its newest records on this page name ({}; at most {ORG_PICTURE_ACTIVITIES_MAX}), and its own disbursements and receipts there.",
        if pictures.activities.is_empty() {
            "none".to_owned()
        } else {
            pictures.activities.join(", ")
        },
    );
    if !pictures.left_out.is_empty() {
        scope.push_str(&format!(
            " Left out, to keep this page quick (more than {ORG_PICTURE_RECORDS_MAX} records in all; each activity's page draws its links): {}.",
            pictures.left_out.join(", ")
        ));
    }
    let subject = format!("the links of {}", page.org.name);
    crate::explorer::chart::write(html, &pictures.pictures, &subject, "org", &scope);
}
