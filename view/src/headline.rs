//! What a record says, in one sentence for people: who did what, to whom, how much, when
//! ("Foreign, Commonwealth and Development Office disbursed GBP 125,000.00 to Danish Refugee
//! Council on 2026-11-02 (activity GB-GOV-1-301150-200)"), and a short label for lists
//! ("disbursement GBP 125,000.00, 2026-11-02"). The explorer's record page and `aidledger
//! show` both lead with [`headline`], so one record never reads two ways.
//!
//! Pure: names come in through [`Names`] (the explorer asks its index and the network's
//! members, the CLI its verified source), so this crate reads no store. Money and dates are
//! written through [`crate::format`]. The record's standing (corrected, withdrawn, revoked,
//! its link) is the status line of [`crate::status_line`].

use aidledger_spec::record::{transaction_type_name, Party, Transaction, TreatyActionKind};
use aidledger_spec::{Body, RecordId};

use crate::activity_text::PREFERRED_LANGUAGE;
use crate::format;
use crate::record_text::short_id;

/// Names the sentences use, looked up by the caller. Every method may answer `None`: the
/// sentence then falls back to what the record itself writes (a party's name, then its id).
pub trait Names {
    /// The display name of an organisation id (a member's name).
    fn org_name(&self, _org: &str) -> Option<String> {
        None
    }
    /// The title of an IATI activity, from its activity records.
    fn activity_title(&self, _activity: &str) -> Option<String> {
        None
    }
    /// The body of another record (the treaty an action names, the record a correction
    /// corrects, the proposal an approval approves), when the caller holds it.
    fn record(&self, _id: &RecordId) -> Option<Body> {
        None
    }
}

/// Names nothing: every sentence falls back to what the record writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNames;

impl Names for NoNames {}

/// Words for an organisation that a record names by neither id nor name.
const UNNAMED_ORG: &str = "an unnamed organisation";

/// The one-sentence headline of a record whose author is `author`, claimed at `timestamp_ms`
/// (the date of kinds that carry none of their own: statements, proposals, key rotations).
pub fn headline(author: &str, timestamp_ms: u64, body: &Body, names: &dyn Names) -> String {
    let who = org(author, "", names);
    let on = claimed_date(timestamp_ms);
    match body {
        Body::Transaction(tx) => transaction_headline(author, tx, names),
        Body::Statement(statement) => {
            format!("{who} stated “{}” on {on}", statement.title)
        }
        Body::TreatyText(treaty) => {
            let parties: Vec<String> = treaty
                .parties
                .iter()
                .map(|party| org(party, "", names))
                .collect();
            let languages: Vec<&str> = treaty
                .versions
                .iter()
                .map(|version| version.language.as_str())
                .collect();
            let mut line = format!(
                "{who} recorded the text of “{}” between {} ({}) on {on}",
                treaty.title,
                and_list(&parties),
                languages.join(", ")
            );
            if let Some(superseded) = &treaty.supersedes {
                line.push_str(&format!(", replacing {}", treaty_name(superseded, names)));
            }
            line
        }
        Body::TreatyAction(action) => format!(
            "{who} {} {} on {}",
            action_verb(action.action),
            treaty_name(&action.treaty, names),
            format::date(&action.date)
        ),
        Body::Correction(correction) => {
            let corrected = names.record(&correction.corrects);
            let what = match &corrected {
                Some(body) => format!(
                    "its {} (record {})",
                    label(body),
                    short_id(&correction.corrects)
                ),
                None => format!("its record {}", short_id(&correction.corrects)),
            };
            match &correction.replacement {
                None => format!(
                    "{who} withdrew {what} on {on}, because “{}”",
                    correction.reason
                ),
                Some(replacement) => {
                    let now = replacement.to_body();
                    let changes = match &corrected {
                        Some(before) => changes(before, &now, names),
                        None => Vec::new(),
                    };
                    let change_text = if changes.is_empty() {
                        format!("now {}", label(&now))
                    } else {
                        changes
                            .iter()
                            .map(Changed::text)
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    format!(
                        "{who} corrected {what} on {on}: {change_text}, because “{}”",
                        correction.reason
                    )
                }
            }
        }
        Body::Proposal(proposal) => {
            format!("{who} proposed: {} on {on}", proposal.change.summary())
        }
        Body::Approval(approval) => match names.record(&approval.proposal) {
            Some(Body::Proposal(proposal)) => format!(
                "{who} approved the proposal: {} on {on}",
                proposal.change.summary()
            ),
            _ => format!(
                "{who} approved proposal {} on {on}",
                short_id(&approval.proposal)
            ),
        },
        Body::KeyRotation(rotation) => {
            let mut key = rotation.new_key.key.to_hex();
            key.truncate(KEY_HEX_SHOWN);
            format!("{who} moved to a new signing key ({key}…) on {on}")
        }
        Body::Activity(activity) => {
            let title = activity.title_in(PREFERRED_LANGUAGE).unwrap_or("untitled");
            format!(
                "{who} described activity “{title}” ({}) on {on}",
                activity.iati_identifier
            )
        }
    }
}

/// Hex digits of a key shown in a sentence (the page shows it whole).
const KEY_HEX_SHOWN: usize = 16;

/// A short label for lists: `disbursement GBP 125,000.00, 2026-11-02`, `statement “Funding”`.
/// No names (a list shows the organisation beside it); ids shortened.
pub fn label(body: &Body) -> String {
    match body {
        Body::Transaction(tx) => format!(
            "{} {}, {}",
            type_words(tx.transaction_type),
            format::money(&tx.value.amount, &tx.value.currency),
            format::date(&tx.transaction_date)
        ),
        Body::Statement(statement) => format!("statement “{}”", statement.title),
        Body::TreatyText(treaty) => format!("treaty text “{}”", treaty.title),
        Body::TreatyAction(action) => format!(
            "{} of treaty {}, {}",
            action_noun(action.action),
            short_id(&action.treaty),
            format::date(&action.date)
        ),
        Body::Correction(correction) => format!(
            "{} of record {}",
            if correction.replacement.is_some() {
                "correction"
            } else {
                "withdrawal"
            },
            short_id(&correction.corrects)
        ),
        Body::Proposal(proposal) => format!("proposal: {}", proposal.change.summary()),
        Body::Approval(approval) => {
            format!("approval of proposal {}", short_id(&approval.proposal))
        }
        Body::KeyRotation(_) => "key rotation".to_owned(),
        Body::Activity(activity) => match activity.title_in(PREFERRED_LANGUAGE) {
            Some(title) => format!("activity “{title}” ({})", activity.iati_identifier),
            None => format!("activity {}", activity.iati_identifier),
        },
    }
}

/// A transaction type as words: `outgoing-commitment` → `outgoing commitment`.
pub fn type_words(code: u8) -> String {
    transaction_type_name(code).replace('-', " ")
}

/// A date from a claimed time in milliseconds since 1970 (the day part of
/// [`format::utc_time`]).
fn claimed_date(timestamp_ms: u64) -> String {
    let time = format::utc_time(timestamp_ms);
    match time.split_once(' ') {
        Some((date, _)) if time.ends_with(" UTC") => date.to_owned(),
        _ => time,
    }
}

/// An organisation by name: the member's name, else the name the record writes, else its id.
pub fn org(id: &str, written_name: &str, names: &dyn Names) -> String {
    if !id.is_empty() {
        if let Some(name) = names.org_name(id).filter(|name| !name.is_empty()) {
            return name;
        }
    }
    if !written_name.is_empty() {
        return written_name.to_owned();
    }
    if !id.is_empty() {
        return id.to_owned();
    }
    UNNAMED_ORG.to_owned()
}

fn party(party: Option<&Party>, names: &dyn Names) -> Option<String> {
    party
        .filter(|party| !party.org_ref.is_empty() || !party.name.is_empty())
        .map(|party| org(&party.org_ref, &party.name, names))
}

/// `A`, `A and B`, `A, B and C`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn treaty_name(id: &RecordId, names: &dyn Names) -> String {
    match names.record(id) {
        Some(Body::TreatyText(treaty)) => format!("“{}”", treaty.title),
        _ => format!("treaty {}", short_id(id)),
    }
}

fn action_verb(action: TreatyActionKind) -> &'static str {
    match action {
        TreatyActionKind::Sign => "signed",
        TreatyActionKind::Ratify => "ratified",
        TreatyActionKind::Accede => "acceded to",
        TreatyActionKind::Withdraw => "withdrew from",
    }
}

fn action_noun(action: TreatyActionKind) -> &'static str {
    match action {
        TreatyActionKind::Sign => "signature",
        TreatyActionKind::Ratify => "ratification",
        TreatyActionKind::Accede => "accession",
        TreatyActionKind::Withdraw => "withdrawal",
    }
}

/// Whether money of this IATI type comes in to the reporting side (incoming funds, incoming
/// commitment, incoming pledge): the sentence then starts with the receiver.
fn is_incoming(code: u8) -> bool {
    matches!(code, 1 | 11 | 13)
}

fn transaction_headline(author: &str, tx: &Transaction, names: &dyn Names) -> String {
    let money = format::money(&tx.value.amount, &tx.value.currency);
    let provider = party(tx.provider.as_ref(), names);
    let receiver = party(tx.receiver.as_ref(), names);
    let author_name = org(author, "", names);
    let mut line = if is_incoming(tx.transaction_type) {
        let who = receiver.unwrap_or(author_name);
        let what = match tx.transaction_type {
            11 => format!("received a commitment of {money}"),
            13 => format!("received a pledge of {money}"),
            _ => format!("received {money}"),
        };
        match provider {
            Some(provider) => format!("{who} {what} from {provider}"),
            None => format!("{who} {what}"),
        }
    } else {
        let who = provider.unwrap_or(author_name);
        let (verb, to) = match tx.transaction_type {
            2 => (format!("committed {money}"), "to"),
            3 => (format!("disbursed {money}"), "to"),
            4 => (format!("spent {money}"), "paid to"),
            5 => (format!("paid {money} in interest"), "to"),
            6 => (format!("repaid {money} of a loan"), "to"),
            7 => (format!("reimbursed {money}"), "to"),
            8 => (format!("bought equity for {money}"), "in"),
            9 => (format!("sold equity for {money}"), "to"),
            10 => (format!("guaranteed credit of {money}"), "to"),
            12 => (format!("pledged {money}"), "to"),
            _ => (format!("reported {money}"), "to"),
        };
        match receiver {
            Some(receiver) => format!("{who} {verb} {to} {receiver}"),
            None => format!("{who} {verb}"),
        }
    };
    line.push_str(&format!(
        " on {} ({})",
        format::date(&tx.transaction_date),
        activity(&tx.activity_id, names)
    ));
    line
}

/// `activity “Title”, GB-1-…` when the title is known, else `activity GB-1-…`.
pub fn activity(activity_id: &str, names: &dyn Names) -> String {
    match names
        .activity_title(activity_id)
        .filter(|title| !title.is_empty())
    {
        Some(title) => format!("activity “{title}”, {activity_id}"),
        None => format!("activity {activity_id}"),
    }
}

/// One thing a correction changed, in words: `amount now GBP 120,000.00, was GBP 125,000.00`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Changed {
    /// What changed, for people (`amount`, `receiver`, `title`).
    pub what: &'static str,
    /// The value now.
    pub now: String,
    /// The value before.
    pub was: String,
}

impl Changed {
    /// `amount now GBP 120,000.00, was GBP 125,000.00`.
    pub fn text(&self) -> String {
        format!("{} now {}, was {}", self.what, self.now, self.was)
    }
}

/// What changed between a record and its current version, in the words of [`Changed`]: for
/// a transaction its amount, type, dates, parties, activity and description; for a statement
/// or treaty text its title, language and text; for a treaty action its action and date.
/// Empty when the kinds differ or nothing people read changed.
pub fn changes(before: &Body, after: &Body, names: &dyn Names) -> Vec<Changed> {
    let mut out = Vec::new();
    let mut add = |what: &'static str, was: String, now: String| {
        if was != now {
            out.push(Changed { what, now, was });
        }
    };
    let none = || "none".to_owned();
    match (before, after) {
        (Body::Transaction(was), Body::Transaction(now)) => {
            let money = |tx: &Transaction| format::money(&tx.value.amount, &tx.value.currency);
            add("amount", money(was), money(now));
            add(
                "type",
                type_words(was.transaction_type),
                type_words(now.transaction_type),
            );
            add(
                "date",
                format::date(&was.transaction_date),
                format::date(&now.transaction_date),
            );
            add(
                "value date",
                format::date(&was.value_date),
                format::date(&now.value_date),
            );
            add(
                "provider",
                party(was.provider.as_ref(), names).unwrap_or_else(none),
                party(now.provider.as_ref(), names).unwrap_or_else(none),
            );
            add(
                "receiver",
                party(was.receiver.as_ref(), names).unwrap_or_else(none),
                party(now.receiver.as_ref(), names).unwrap_or_else(none),
            );
            add("activity", was.activity_id.clone(), now.activity_id.clone());
            add(
                "description",
                was.description.clone(),
                now.description.clone(),
            );
            add(
                "acknowledges",
                was.acknowledges.as_ref().map_or_else(none, short_id),
                now.acknowledges.as_ref().map_or_else(none, short_id),
            );
        }
        (Body::Statement(was), Body::Statement(now)) => {
            add("title", was.title.clone(), now.title.clone());
            add("language", was.language.clone(), now.language.clone());
            if was.text != now.text {
                add("text", text_size(&was.text), text_size(&now.text));
            }
        }
        (Body::TreatyText(was), Body::TreatyText(now)) => {
            add("title", was.title.clone(), now.title.clone());
            let parties = |parties: &[String]| {
                and_list(
                    &parties
                        .iter()
                        .map(|party| org(party, "", names))
                        .collect::<Vec<_>>(),
                )
            };
            add("parties", parties(&was.parties), parties(&now.parties));
            if was.versions != now.versions {
                add(
                    "text",
                    format!("text {}", short_digest(&was.text_hash().to_hex())),
                    format!("text {}", short_digest(&now.text_hash().to_hex())),
                );
            }
        }
        (Body::TreatyAction(was), Body::TreatyAction(now)) => {
            add(
                "action",
                action_noun(was.action).to_owned(),
                action_noun(now.action).to_owned(),
            );
            add("date", format::date(&was.date), format::date(&now.date));
            add(
                "treaty",
                treaty_name(&was.treaty, names),
                treaty_name(&now.treaty, names),
            );
            add("note", was.note.clone(), now.note.clone());
        }
        _ => {}
    }
    out
}

fn text_size(text: &str) -> String {
    format!("a text of {} characters", text.chars().count())
}

fn short_digest(hex: &str) -> &str {
    hex.get(..crate::record_text::SHORT_ID_HEX_DIGITS)
        .unwrap_or(hex)
}

#[cfg(test)]
#[path = "headline_tests.rs"]
mod tests;
