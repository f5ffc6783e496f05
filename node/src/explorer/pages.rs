//! The explorer's HTML pages, rendered from the values of `model`: plain server-side HTML, no
//! JavaScript, every text escaped by `html::Html`.

use aidledger_spec::governance::{Derivation, KeyEndReason, KeySpan, ProposalState};
use aidledger_spec::RecordId;
use serde_json::Value;

use super::html::{url_component, Html};
use super::model::{
    self, ActivityPage, ChainView, Home, MemberView, OrgPage, RecordPage, SearchResults, Summary,
    TotalView, TreatyPage,
};
use crate::view::RecordView;

/// Most bytes of a record shown as hex in its page; the download has them all.
pub const RAW_HEX_SHOWN_BYTES_MAX: usize = 4096;

/// `/record/{id}` for an id.
pub fn record_href(id: &RecordId) -> String {
    format!("/record/{}", id.to_hex())
}

fn org_href(org: &str) -> String {
    format!("/org/{}", url_component(org))
}

fn activity_href(activity: &str) -> String {
    format!("/activity/{}", url_component(activity))
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

fn summaries_table(html: &mut Html, records: &[Summary], show_author: bool) {
    if records.is_empty() {
        html.raw("<p class=\"muted\">No records.</p>");
        return;
    }
    html.raw("<div class=\"scroll\"><table><tr><th>seq</th>");
    if show_author {
        html.raw("<th>organisation</th>");
    }
    html.raw("<th>record</th><th>kind</th><th>what</th></tr>");
    for record in records {
        html.raw("<tr><td class=\"num\">")
            .display(record.seq)
            .raw("</td>");
        if show_author {
            html.raw("<td>")
                .link(&org_href(&record.author), &record.author)
                .raw("</td>");
        }
        html.raw("<td>")
            .code_link(&record_href(&record.id), &model::short(&record.id))
            .raw("</td><td>")
            .text(record.kind)
            .raw("</td><td>")
            .text(&record.summary)
            .raw("</td></tr>");
    }
    html.raw("</table></div>");
}

fn totals_table(html: &mut Html, totals: &[TotalView]) {
    if totals.is_empty() {
        html.raw("<p class=\"muted\">No transactions.</p>");
        return;
    }
    html.raw("<div class=\"scroll\"><table><tr><th>type</th><th>currency</th><th class=\"num\">transactions</th><th class=\"num\">total</th></tr>");
    for total in totals {
        html.raw("<tr><td>")
            .text(total.type_name)
            .raw("</td><td>")
            .text(&total.currency)
            .raw("</td><td class=\"num\">")
            .display(total.count)
            .raw("</td><td class=\"num\">")
            .text(&total.sum)
            .raw("</td></tr>");
    }
    html.raw("</table></div>");
}

/// The home page.
pub fn home(home: &Home) -> String {
    let mut html = Html::page("Home", &home.name);
    html.element("<h1>", &home.name, "</h1>")
        .raw("<dl>")
        .raw("<dt>Network id</dt><dd class=\"mono\">")
        .text(&home.network_id)
        .raw("</dd>")
        .field("Records", &home.record_count.to_string())
        .raw("<dt>Verification</dt><dd>");
    if home.all_chains_intact {
        html.raw("<span class=\"ok\">Every record was verified (signature, hash, link, key, field rules) before it was stored; no chain is forked.</span>");
    } else {
        html.raw("<span class=\"bad\">A chain is FORKED: its author signed two records at one position (the proof is stored).</span>");
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
    html.raw("</dl><h2>Members and their chains</h2><div class=\"scroll\"><table>")
        .raw("<tr><th>organisation</th><th>roles</th><th class=\"num\">records</th><th>head</th><th>state</th></tr>");
    for (member, chain) in home.members.iter().zip(&home.chains) {
        html.raw("<tr><td>")
            .link(&org_href(&member.id), &member.name)
            .raw("<br><span class=\"muted mono\">")
            .text(&member.id)
            .raw("</span></td><td>")
            .text(&roles(member))
            .raw("</td><td class=\"num\">")
            .display(chain.length)
            .raw("</td><td>");
        match &chain.head {
            Some(head) => {
                html.code_link(&record_href(&head.id), &model::short(&head.id));
            }
            None => {
                html.raw("<span class=\"muted\">empty</span>");
            }
        }
        html.raw("</td><td>");
        chain_state(&mut html, chain);
        html.raw("</td></tr>");
    }
    html.raw("</table></div><h2>Latest records</h2>");
    summaries_table(&mut html, &home.latest, true);
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
    html.raw("</dd></dl><h2>Totals by transaction type and currency</h2>")
        .raw("<p class=\"muted\">Exact sums of the amounts as signed, corrections applied.</p>");
    totals_table(&mut html, &page.totals);
    html.raw("<h2>Chain, newest first</h2>");
    summaries_table(&mut html, &page.records, false);
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

/// Renders a JSON value as nested definition lists (every field of a body).
fn value(html: &mut Html, value: &Value) {
    match value {
        Value::Object(map) => {
            html.raw("<dl>");
            for (name, inner) in map {
                html.element("<dt>", name, "</dt>").raw("<dd>");
                self::value(html, inner);
                html.raw("</dd>");
            }
            html.raw("</dl>");
        }
        Value::Array(items) if items.is_empty() => {
            html.raw("<span class=\"muted\">none</span>");
        }
        Value::Array(items) => {
            html.raw("<ol>");
            for item in items {
                html.raw("<li>");
                self::value(html, item);
                html.raw("</li>");
            }
            html.raw("</ol>");
        }
        Value::Null => {
            html.raw("<span class=\"muted\">none</span>");
        }
        Value::String(text) if text.contains('\n') || text.len() > 200 => {
            html.element("<pre>", text, "</pre>");
        }
        Value::String(text) => {
            html.text(text);
        }
        other => {
            html.text(&other.to_string());
        }
    }
}

fn summary_line(html: &mut Html, summary: &Summary) {
    html.code_link(&record_href(&summary.id), &model::short(&summary.id))
        .raw(" by ")
        .link(&org_href(&summary.author), &summary.author)
        .raw(": ")
        .text(&summary.summary);
}

fn summary_list(html: &mut Html, title: &'static str, summaries: &[Summary]) {
    if summaries.is_empty() {
        return;
    }
    html.raw("<h2>").raw(title).raw("</h2><ul>");
    for summary in summaries {
        html.raw("<li>");
        summary_line(html, summary);
        html.raw("</li>");
    }
    html.raw("</ul>");
}

/// A record's page.
pub fn record(page: &RecordPage, network_name: &str) -> String {
    let record = &page.record;
    let title = format!("{} record {}", record.kind, model::short(&record.id));
    let mut html = Html::page(&title, network_name);
    html.element("<h1>", &title, "</h1>");
    if !page.validity.valid {
        html.raw("<p class=\"warn\"><strong>NOT VALID.</strong> ")
            .text(page.validity.reason.as_deref().unwrap_or("declared not valid"))
            .raw(" This record is kept as evidence; it is not part of the organisation's chain, and every verifier rejects it.");
        if let Some(by) = &page.validity.by {
            html.raw(" See ")
                .code_link(&record_href(by), &model::short(by))
                .raw(" and the ")
                .link("/governance", "governance page")
                .raw(".");
        }
        html.raw("</p>");
    }
    signed_by(&mut html, page);
    what_it_changes(&mut html, page);
    html.raw("<h2>Record</h2><dl>")
        .raw("<dt>Id</dt><dd class=\"mono\">")
        .text(&record.id.to_hex())
        .raw("</dd><dt>Author</dt><dd>")
        .link(&org_href(&record.author), &record.author)
        .raw("</dd>")
        .field("Kind", record.kind)
        .field("Sequence", &record.seq.to_string())
        .field(
            "Claimed time (ms since 1970)",
            &record.timestamp_ms.to_string(),
        )
        .raw("<dt>Signing key</dt><dd class=\"mono\">")
        .text(&record.signing_key.to_hex())
        .raw("</dd><dt>Signature</dt><dd class=\"mono\">")
        .text(&page.signature)
        .raw("</dd></dl><h2>Chain</h2><dl><dt>Predecessor</dt><dd>");
    chain_links(&mut html, page);
    html.raw("<h2>Fields</h2>");
    value(&mut html, &record.body);
    references(&mut html, page);
    raw_bytes(&mut html, record);
    html.finish()
}

fn signed_by(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
    html.raw("<p class=\"note\">Signed by <strong>")
        .text(if page.author_name.is_empty() {
            &record.author
        } else {
            &page.author_name
        })
        .raw("</strong> (")
        .link(&org_href(&record.author), &record.author)
        .raw(") with key <span class=\"mono\">")
        .text(&record.signing_key.to_hex()[..16])
        .raw("…</span>, record ")
        .display(record.seq)
        .raw(
            " of its chain. The signature and hash were verified before the record was stored.</p>",
        );
}

fn what_it_changes(html: &mut Html, page: &RecordPage) {
    if let Some(corrects) = &page.corrects {
        html.raw("<div class=\"warn\"><strong>This correction changes ");
        summary_line(html, corrects);
        html.raw("</strong>");
        if page.changes.is_empty() {
            html.raw("<p>It changes no field.</p>");
        } else {
            html.raw(
                "<div class=\"scroll\"><table><tr><th>field</th><th>was</th><th>becomes</th></tr>",
            );
            for change in &page.changes {
                html.raw("<tr><td class=\"mono\">")
                    .text(&change.field)
                    .raw("</td><td>")
                    .text(&change.before)
                    .raw("</td><td>");
                if change.after.is_empty() {
                    html.raw("<span class=\"muted\">(removed)</span>");
                } else {
                    html.text(&change.after);
                }
                html.raw("</td></tr>");
            }
            html.raw("</table></div>");
        }
        html.raw("</div>");
    }
    if !page.corrected_by.is_empty() {
        html.raw("<p class=\"warn\"><strong>This record was corrected</strong>; see the corrections below.</p>");
    }
}

fn chain_links(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
    if record.seq == 0 {
        html.raw("none: the first record of the chain");
    } else {
        html.code_link(&record_href(&record.prev), &record.prev.to_hex());
    }
    html.raw("</dd><dt>Next</dt><dd>");
    match &page.chain.next {
        Some(next) => {
            html.code_link(&record_href(next), &next.to_hex());
        }
        None => {
            html.raw("none: this is the chain's head");
        }
    }
    html.raw("</dd><dt>Status</dt><dd>");
    if page.chain.forked_here {
        html.raw("<span class=\"bad\">FORKED here: the author signed another record at this position</span>");
    } else if page.chain.chain_forked {
        html.raw("<span class=\"bad\">the chain is forked elsewhere</span>");
    } else {
        html.raw("<span class=\"ok\">in a verified chain</span> of ")
            .display(page.chain.chain_length)
            .raw(" records");
    }
    html.raw("</dd></dl>");
}

fn references(html: &mut Html, page: &RecordPage) {
    if let Some(acknowledges) = &page.acknowledges {
        html.raw("<h2>Acknowledges</h2><p>");
        summary_line(html, acknowledges);
        html.raw("</p>");
    }
    if let Some(treaty) = &page.treaty {
        html.raw("<h2>Treaty</h2><p>")
            .code_link(&format!("/treaty/{}", treaty.id.to_hex()), &treaty.summary)
            .raw("</p>");
    }
    if page.record.kind == "treaty-text" {
        html.raw("<p>")
            .link(
                &format!("/treaty/{}", page.record.id.to_hex()),
                "Treaty page: parties and their actions",
            )
            .raw("</p>");
    }
    if let Some(activity) = page.record.body.get("activity_id").and_then(Value::as_str) {
        html.raw("<p>")
            .link(&activity_href(activity), &format!("Activity {activity}"))
            .raw("</p>");
    }
    summary_list(html, "Acknowledged by", &page.acknowledged_by);
    summary_list(html, "Corrected by", &page.corrected_by);
}

fn raw_bytes(html: &mut Html, record: &RecordView) {
    let raw = format!("/api/records/{}/raw", record.id.to_hex());
    let size_bytes = record.bytes_hex.len() / 2;
    html.raw("<h2>Canonical bytes</h2><p>")
        .display(size_bytes)
        .raw(" bytes: ")
        .link(&raw, "download")
        .raw(" · ")
        .link(&format!("/api/records/{}", record.id.to_hex()), "JSON")
        .raw("</p><pre class=\"mono\">");
    let shown = record.bytes_hex.len().min(2 * RAW_HEX_SHOWN_BYTES_MAX);
    html.hex_text(&record.bytes_hex[..shown]);
    if shown < record.bytes_hex.len() {
        html.raw("… (download for the rest)");
    }
    html.raw("</pre>");
}

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

fn party(html: &mut Html, org_ref: &str) {
    if org_ref.is_empty() {
        html.raw("<span class=\"muted\">not given</span>");
    } else {
        html.text(org_ref);
    }
}

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

/// The search page.
pub fn search(results: &SearchResults, network_name: &str) -> String {
    let mut html = Html::page(&format!("Search {}", results.query), network_name);
    html.raw("<h1>Search</h1><form action=\"/search\" method=\"get\"><input type=\"search\" name=\"q\" value=\"")
        .text(&results.query)
        .raw("\" aria-label=\"Search\"> <button>Search</button></form>");
    if results.query.is_empty() {
        html.raw("<p class=\"muted\">Search by record id (or its first digits), organisation, IATI activity id or treaty title.</p>");
        return html.finish();
    }
    let nothing = results.records.is_empty()
        && results.organisations.is_empty()
        && results.activities.is_empty()
        && results.treaties.is_empty();
    if nothing {
        html.raw("<p>Nothing matches <strong>")
            .text(&results.query)
            .raw("</strong>.</p>");
    }
    summary_list(&mut html, "Records", &results.records);
    if !results.organisations.is_empty() {
        html.raw("<h2>Organisations</h2><ul>");
        for member in &results.organisations {
            html.raw("<li>")
                .link(&org_href(&member.id), &member.name)
                .raw(" <span class=\"mono muted\">")
                .text(&member.id)
                .raw("</span></li>");
        }
        html.raw("</ul>");
    }
    if !results.activities.is_empty() {
        html.raw("<h2>Activities</h2><ul>");
        for activity in &results.activities {
            html.raw("<li>")
                .link(&activity_href(activity), activity)
                .raw("</li>");
        }
        html.raw("</ul>");
    }
    if !results.treaties.is_empty() {
        html.raw("<h2>Treaties</h2><ul>");
        for treaty in &results.treaties {
            html.raw("<li>")
                .link(&format!("/treaty/{}", treaty.id.to_hex()), &treaty.summary)
                .raw(" by ")
                .text(&treaty.author)
                .raw("</li>");
        }
        html.raw("</ul>");
    }
    html.finish()
}

/// An error page (400, 404, 405).
pub fn error(status: u16, message: &str, network_name: &str) -> String {
    let title = match status {
        400 => "Bad request",
        404 => "Not found",
        405 => "Method not allowed",
        _ => "Error",
    };
    let mut html = Html::page(title, network_name);
    html.element("<h1>", title, "</h1>")
        .element("<p>", message, "</p>")
        .raw("<p><a href=\"/\">Home</a></p>");
    html.finish()
}

/// How a key span reads: "seq 0–4 (revoked from 5 by proposal …)".
pub fn key_span_text(span: &KeySpan) -> String {
    let range = match span.end {
        Some(end) if end.from_seq > span.from_seq => {
            format!("seq {}–{}", span.from_seq, end.from_seq - 1)
        }
        Some(_) => "no position".to_owned(),
        None => format!("seq {} on", span.from_seq),
    };
    let end = span.end.map_or(String::new(), |end| {
        let why = match end.reason {
            KeyEndReason::Rotated => "rotated out",
            KeyEndReason::Revoked => "REVOKED",
        };
        format!(
            "; {why} from seq {} by {}",
            end.from_seq,
            model::short(&end.by)
        )
    });
    format!("{range}{end}")
}

/// The governance page: admin rule, members with their keys, effective changes, proposals.
pub fn governance(derivation: &Derivation, network_name: &str) -> String {
    let authority = &derivation.authority;
    let mut html = Html::page("Governance", network_name);
    let rule = authority.admin_rule();
    html.raw("<h1>Governance</h1><dl>")
        .field(
            "Admin rule",
            &format!(
                "{} of {}: {}",
                rule.threshold,
                rule.admins.len(),
                rule.admins.join(", ")
            ),
        )
        .field("Changes in effect", &authority.steps().len().to_string())
        .raw("</dl><h2>Members and signing keys</h2><div class=\"scroll\"><table>")
        .raw("<tr><th>organisation</th><th>state</th><th>signing keys (positions each may sign)</th></tr>");
    for member in authority.members() {
        html.raw("<tr><td>")
            .link(&org_href(&member.id), &member.name)
            .raw("<br><span class=\"muted mono\">")
            .text(&member.id)
            .raw("</span></td><td>");
        match member.removed {
            Some(removal) => {
                html.raw("<span class=\"bad\">removed</span> from seq ")
                    .display(removal.from_seq);
            }
            None => {
                html.raw("<span class=\"ok\">member</span>");
            }
        }
        html.raw("</td><td>");
        for span in &member.keys {
            html.raw("<code>")
                .text(&span.key.to_hex())
                .raw("</code> ")
                .text(&key_span_text(span))
                .raw("<br>");
        }
        html.raw("</td></tr>");
    }
    html.raw("</table></div><h2>Proposals</h2>");
    if derivation.proposals.is_empty() {
        html.raw("<p class=\"muted\">No proposals.</p>");
    } else {
        html.raw("<div class=\"scroll\"><table><tr><th>proposal</th><th>by</th><th>change</th><th>approved by</th><th>state</th></tr>");
        for proposal in &derivation.proposals {
            html.raw("<tr><td>")
                .code_link(&record_href(&proposal.id), &model::short(&proposal.id))
                .raw("</td><td>")
                .text(&proposal.proposer)
                .raw("</td><td>")
                .text(&proposal.proposal.change.summary())
                .raw("</td><td>")
                .text(&proposal.approved_by.join(", "))
                .raw("</td><td>")
                .text(&proposal_state_text(&proposal.state))
                .raw("</td></tr>");
        }
        html.raw("</table></div>");
    }
    if !derivation.findings.is_empty() {
        html.raw("<h2>Governance records without effect</h2><ul>");
        for finding in &derivation.findings {
            html.raw("<li>")
                .code_link(
                    &record_href(&finding.record),
                    &model::short(&finding.record),
                )
                .raw(" ")
                .text(&format!(
                    "{} seq {}: {}",
                    finding.author, finding.seq, finding.problem
                ))
                .raw("</li>");
        }
        html.raw("</ul>");
    }
    html.finish()
}

/// A proposal's state in words.
pub fn proposal_state_text(state: &ProposalState) -> String {
    match state {
        ProposalState::Effective { step } => format!("effective (change {step})"),
        ProposalState::Pending {
            approvals,
            threshold,
        } => format!("pending: {approvals} of {threshold} approvals"),
        ProposalState::Stale => "stale: another change took effect first".to_owned(),
        ProposalState::Inapplicable { reason } => format!("inapplicable: {reason}"),
        ProposalState::Refused { reason } => format!("refused: {reason}"),
    }
}
