//! A record's details with human labels: who signed it and when (a readable UTC time), then
//! its fields by kind: amounts grouped with their currency, ISO dates, organisations by name
//! with their ids, activities by title, other records by label. A corrected transaction's
//! changed fields show the current value first and the signed one struck through. Field
//! names as signed (`org_ref`, `transaction_type`) appear only in the technical details.

use aidledger_spec::record::{Party, Transaction};
use aidledger_spec::Body;
use aidledger_view::activity_text::PREFERRED_LANGUAGE;
use aidledger_view::format;
use aidledger_view::headline::{action_noun, type_words, Changed};
use aidledger_view::status_line::Standing;

use super::names;
use super::*;

/// The details of `page`'s record.
pub(super) fn details(html: &mut Html, page: &RecordPage) {
    let record = &page.record;
    let author_name = page.names.get(&record.author).map_or("", String::as_str);
    html.raw("<dl><dt>Signed by</dt><dd>");
    names::member(html, &record.author, author_name);
    html.raw("</dd>")
        .field("Signed at", &format::utc_time(record.timestamp_ms))
        .raw("<dt>Position</dt><dd>record ")
        .text(&format::group_digits(&record.seq.to_string()))
        .raw(" of its author's chain (counting from 0); its signature and hash were verified before it was stored</dd>");
    match &page.body {
        Body::Transaction(tx) => transaction(html, page, tx),
        Body::Statement(statement) => {
            html.field("Title", &statement.title)
                .field("Language", &statement.language)
                .raw("<dt>Text</dt><dd><pre lang=\"")
                .text(&statement.language)
                .raw("\">")
                .text(&statement.text)
                .raw("</pre></dd>");
        }
        Body::TreatyText(treaty) => {
            html.field("Title", &treaty.title)
                .raw("<dt>Parties</dt><dd>");
            for (at, party) in treaty.parties.iter().enumerate() {
                if at > 0 {
                    html.raw("<br>");
                }
                names::org(html, party, "", &page.names);
            }
            let languages: Vec<&str> = treaty
                .versions
                .iter()
                .map(|version| version.language.as_str())
                .collect();
            html.raw("</dd>")
                .field("Languages", &languages.join(", "))
                .raw("<dt>Texts</dt><dd>")
                .link(
                    &format!("/treaty/{}", record.id.to_hex()),
                    "the treaty's page: its texts, parties and their actions",
                )
                .raw("</dd>");
        }
        Body::TreatyAction(action) => {
            html.field("Action", action_noun(action.action))
                .raw("<dt>Treaty</dt><dd>");
            match &page.treaty {
                Some(treaty) => {
                    html.link(&format!("/treaty/{}", treaty.id.to_hex()), &treaty.label);
                    names::secondary(html, &model::short(&treaty.id));
                }
                None => {
                    html.raw("<span class=\"mono\">")
                        .hex_text(&action.treaty.to_hex())
                        .raw("</span> (not held by this node)");
                }
            }
            html.raw("</dd>")
                .field("Date", &format::date(&action.date))
                .raw("<dt>Text acted upon</dt><dd class=\"mono\">")
                .hex_text(&action.text_hash.to_hex())
                .raw("</dd>");
            if !action.note.is_empty() {
                html.field("Note", &action.note);
            }
        }
        Body::Correction(correction) => {
            html.raw("<dt>Corrects</dt><dd>");
            match &page.corrects {
                Some(corrects) => names::record(html, &corrects.id, &corrects.label),
                None => {
                    html.raw("<span class=\"mono\">")
                        .hex_text(&correction.corrects.to_hex())
                        .raw("</span> (not held by this node)");
                }
            }
            html.raw("</dd>").field("Reason", &correction.reason).field(
                "Replacement",
                &match &correction.replacement {
                    Some(replacement) => aidledger_view::headline::label(&replacement.to_body()),
                    None => "none: the record is withdrawn".to_owned(),
                },
            );
        }
        Body::Proposal(proposal) => {
            html.field("Change", &proposal.change.summary())
                .field("Note", &proposal.note)
                .raw("<dt>Governance</dt><dd>")
                .link(
                    "/governance",
                    "the governance page: who approved, whether it took effect",
                )
                .raw("</dd>");
        }
        Body::Approval(approval) => {
            html.raw("<dt>Approves</dt><dd>")
                .code_link(
                    &record_href(&approval.proposal),
                    &model::short(&approval.proposal),
                )
                .raw("</dd>");
        }
        Body::KeyRotation(rotation) => {
            html.raw("<dt>New signing key</dt><dd class=\"mono\">")
                .hex_text(&rotation.new_key.key.to_hex())
                .raw("</dd>");
        }
        Body::Activity(activity) => {
            html.raw("<dt>Activity</dt><dd>");
            names::activity(
                html,
                &activity.iati_identifier,
                activity.title_in(PREFERRED_LANGUAGE),
            );
            html.raw("</dd>");
            if !activity.reporting_org.is_empty() {
                html.raw("<dt>Reported by</dt><dd>");
                names::org(html, &activity.reporting_org, "", &page.names);
                html.raw("</dd>");
            }
        }
        Body::Redaction(redaction) => {
            html.field(
                "Reason",
                &format!(
                    "{} ({})",
                    redaction.category.words(),
                    redaction.category.name()
                ),
            )
            .field("Note", &redaction.note)
            .raw("<dt>Withholds</dt><dd>");
            for (at, record) in redaction.records.iter().enumerate() {
                if at > 0 {
                    html.raw("<br>");
                }
                html.code_link(&record_href(&record.id), &model::short(&record.id));
            }
            html.raw("</dd>");
        }
    }
    html.raw("</dl>");
}

fn transaction(html: &mut Html, page: &RecordPage, tx: &Transaction) {
    let changes: &[Changed] = match &page.status_line.standing {
        Standing::Corrected { changes, .. } => changes,
        _ => &[],
    };
    let withdrawn = matches!(page.status_line.standing, Standing::Withdrawn { .. });
    html.raw("<dt>Type</dt><dd>");
    changed(html, changes, "type", &type_words(tx.transaction_type));
    html.raw("</dd><dt>Amount</dt><dd>");
    if withdrawn {
        html.raw("<del>")
            .text(&format::money(&tx.value.amount, &tx.value.currency))
            .raw("</del> (withdrawn)");
    } else {
        changed(
            html,
            changes,
            "amount",
            &format::money(&tx.value.amount, &tx.value.currency),
        );
    }
    html.raw("</dd><dt>Date</dt><dd>");
    changed(html, changes, "date", &format::date(&tx.transaction_date));
    html.raw("</dd><dt>Value date</dt><dd>");
    changed(html, changes, "value date", &format::date(&tx.value_date));
    html.raw("</dd>");
    party(html, page, "Provider", tx.provider.as_ref());
    party(html, page, "Receiver", tx.receiver.as_ref());
    html.raw("<dt>Activity</dt><dd>");
    names::activity(html, &tx.activity_id, page.activity_title.as_deref());
    html.raw("</dd>");
    if !tx.description.is_empty() {
        html.field("Description", &tx.description);
    }
    if let Some(acknowledges) = &page.acknowledges {
        html.raw("<dt>Acknowledges</dt><dd>");
        names::record(html, &acknowledges.id, &acknowledges.label);
        html.raw("</dd>");
    }
    if let Some(source) = &tx.iati {
        html.raw("<dt>Imported from IATI</dt><dd>value as published: ")
            .text(&source.original_value);
        if !source.transaction_ref.is_empty() {
            html.raw("; the publisher's reference: ")
                .text(&source.transaction_ref);
        }
        html.raw("</dd>");
    }
}

/// A value as signed, or, when the author's correction changed it, the current value first
/// and the signed one struck through.
fn changed(html: &mut Html, changes: &[Changed], what: &str, as_signed: &str) {
    match changes.iter().find(|change| change.what == what) {
        Some(change) => {
            html.raw("<ins>")
                .text(&change.now)
                .raw("</ins> <del>")
                .text(as_signed)
                .raw("</del> <span class=\"muted\">(corrected)</span>");
        }
        None => {
            html.text(as_signed);
        }
    }
}

fn party(html: &mut Html, page: &RecordPage, label: &'static str, party: Option<&Party>) {
    html.raw("<dt>").raw(label).raw("</dt><dd>");
    match party {
        Some(party) if !party.org_ref.is_empty() || !party.name.is_empty() => {
            names::org(html, &party.org_ref, &party.name, &page.names);
            if !party.activity_id.is_empty() {
                html.raw(", its activity ");
                names::activity(html, &party.activity_id, None);
            }
        }
        _ => {
            html.raw("<span class=\"muted\">not named</span>");
        }
    }
    html.raw("</dd>");
}
