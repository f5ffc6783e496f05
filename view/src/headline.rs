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

use aidledger_spec::record::{
    transaction_type_name, Correction, Party, Transaction, TreatyActionKind,
};
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
        Body::Redaction(redaction) => format!(
            "{who} ordered the content of {} of its records withheld, for {}, on {on}",
            redaction.records.len(),
            redaction.category.words()
        ),
    }
}

/// Hex digits of a key shown in a sentence (the page shows it whole).
const KEY_HEX_SHOWN: usize = 16;

/// The headline of a record as it stands: when its author's latest correction (`latest`, the
/// one `view::corrections` says stands) replaced it, the replacement's values lead and the
/// sentence says so, so that a reader of the headline alone is never told a superseded amount;
/// the signed values stay on the status line, struck through. A withdrawal leaves the sentence
/// as signed: the status line says WITHDRAWN.
pub fn standing_headline(
    author: &str,
    timestamp_ms: u64,
    body: &Body,
    latest: Option<&Correction>,
    names: &dyn Names,
) -> String {
    match latest.and_then(|correction| correction.replacement.as_ref()) {
        Some(replacement) => format!(
            "{}, as corrected by its author",
            headline(author, timestamp_ms, &replacement.to_body(), names)
        ),
        None => headline(author, timestamp_ms, body, names),
    }
}

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
        Body::Redaction(redaction) => format!(
            "redaction order of {} record(s), {}",
            redaction.records.len(),
            redaction.category.name()
        ),
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

/// A treaty action as a noun: `signature`, `ratification`, `accession`, `withdrawal`.
pub fn action_noun(action: TreatyActionKind) -> &'static str {
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
    // Written piece by piece (a record page writes one per request; `format!` cost it more
    // than the pieces).
    let money = format::money(&tx.value.amount, &tx.value.currency);
    let provider = party(tx.provider.as_ref(), names);
    let receiver = party(tx.receiver.as_ref(), names);
    let author_name = org(author, "", names);
    let mut line = if is_incoming(tx.transaction_type) {
        let who = receiver.unwrap_or(author_name);
        let what = match tx.transaction_type {
            11 => "received a commitment of ",
            13 => "received a pledge of ",
            _ => "received ",
        };
        // `{who} {what}{money}[ from {provider}]`
        let mut line = [who.as_str(), " ", what, &money].concat();
        if let Some(provider) = provider {
            line.push_str(" from ");
            line.push_str(&provider);
        }
        line
    } else {
        let who = provider.unwrap_or(author_name);
        // The verb before the money, what follows it, and the word before the receiver.
        let (verb, after, to) = match tx.transaction_type {
            2 => ("committed ", "", "to"),
            3 => ("disbursed ", "", "to"),
            4 => ("spent ", "", "paid to"),
            5 => ("paid ", " in interest", "to"),
            6 => ("repaid ", " of a loan", "to"),
            7 => ("reimbursed ", "", "to"),
            8 => ("bought equity for ", "", "in"),
            9 => ("sold equity for ", "", "to"),
            10 => ("guaranteed credit of ", "", "to"),
            12 => ("pledged ", "", "to"),
            _ => ("reported ", "", "to"),
        };
        // `{who} {verb}{money}{after}[ {to} {receiver}]`
        let mut line = [who.as_str(), " ", verb, &money, after].concat();
        if let Some(receiver) = receiver {
            line.push(' ');
            line.push_str(to);
            line.push(' ');
            line.push_str(&receiver);
        }
        line
    };
    // ` on {date} ({activity})`
    line.push_str(" on ");
    line.push_str(&format::date(&tx.transaction_date));
    line.push_str(" (");
    line.push_str(&activity(&tx.activity_id, names));
    line.push(')');
    line
}

/// `activity “Title”, GB-1-…` when the title is known, else `activity GB-1-…`.
pub fn activity(activity_id: &str, names: &dyn Names) -> String {
    match names
        .activity_title(activity_id)
        .filter(|title| !title.is_empty())
    {
        Some(title) => ["activity “", &title, "”, ", activity_id].concat(),
        None => ["activity ", activity_id].concat(),
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
mod tests {
    //! The headlines and status lines of every kind of record.

    use std::collections::HashMap;

    use aidledger_spec::activity::{Activity, Narrative};
    use aidledger_spec::governance::{Approval, Change, KeyGrant, KeyRotation, Proposal};
    use aidledger_spec::record::{
        Correction, Money, Party, Replacement, Statement, TextVersion, TreatyAction, TreatyText,
    };
    use aidledger_spec::text::Date;
    use aidledger_spec::{PublicKey, SignatureBytes};

    use super::*;
    use crate::money::{Amounts, CurrencyAmount, LinkStatus};
    use crate::status_line::{Standing, StatusLine};

    const FCDO: &str = "GB-GOV-1";
    const DRC: &str = "DK-CVR-20699310";
    /// 2026-11-02 14:30:22 UTC.
    const NOV_2: u64 = 1_793_629_822_000;

    #[derive(Default)]
    struct Known {
        orgs: HashMap<String, String>,
        titles: HashMap<String, String>,
        records: HashMap<RecordId, Body>,
    }

    impl Names for Known {
        fn org_name(&self, org: &str) -> Option<String> {
            self.orgs.get(org).cloned()
        }
        fn activity_title(&self, activity: &str) -> Option<String> {
            self.titles.get(activity).cloned()
        }
        fn record(&self, id: &RecordId) -> Option<Body> {
            self.records.get(id).cloned()
        }
    }

    fn known() -> Known {
        let mut names = Known::default();
        names.orgs.insert(
            FCDO.into(),
            "Foreign, Commonwealth and Development Office".into(),
        );
        names
            .orgs
            .insert(DRC.into(), "Danish Refugee Council".into());
        names
    }

    fn date(day: u8) -> Date {
        Date {
            year: 2026,
            month: 11,
            day,
        }
    }

    fn party(org_ref: &str, name: &str) -> Option<Party> {
        Some(Party {
            org_ref: org_ref.into(),
            name: name.into(),
            activity_id: String::new(),
        })
    }

    fn transaction(transaction_type: u8, amount: &str) -> Transaction {
        Transaction {
            activity_id: "GB-GOV-1-301150-200".into(),
            transaction_type,
            value: Money {
                amount: amount.into(),
                currency: "GBP".into(),
            },
            value_date: date(2),
            transaction_date: date(2),
            provider: party(FCDO, "FCDO as written"),
            receiver: party(DRC, ""),
            description: String::new(),
            acknowledges: None,
            iati: None,
        }
    }

    fn id(byte: u8) -> RecordId {
        aidledger_spec::Digest([byte; 32])
    }

    #[test]
    fn a_disbursement_reads_as_who_paid_whom_how_much_and_when() {
        let body = Body::Transaction(transaction(3, "125000.00"));
        assert_eq!(
            headline(FCDO, NOV_2, &body, &known()),
            "Foreign, Commonwealth and Development Office disbursed GBP 125,000.00 to Danish \
             Refugee Council on 2026-11-02 (activity GB-GOV-1-301150-200)"
        );
        let mut names = known();
        names
            .titles
            .insert("GB-GOV-1-301150-200".into(), "Shelter in Kenya".into());
        assert!(headline(FCDO, NOV_2, &body, &names)
            .ends_with("(activity “Shelter in Kenya”, GB-GOV-1-301150-200)"));
        assert_eq!(label(&body), "disbursement GBP 125,000.00, 2026-11-02");
    }

    #[test]
    fn a_corrected_record_leads_with_its_current_values_and_a_withdrawn_one_as_signed() {
        let body = Body::Transaction(transaction(3, "125000.00"));
        let corrected = Correction {
            corrects: RecordId::ZERO,
            reason: "typo".into(),
            replacement: Some(Replacement::Transaction(transaction(3, "120000.00"))),
        };
        assert_eq!(
            standing_headline(FCDO, NOV_2, &body, Some(&corrected), &known()),
            "Foreign, Commonwealth and Development Office disbursed GBP 120,000.00 to Danish \
             Refugee Council on 2026-11-02 (activity GB-GOV-1-301150-200), as corrected by its \
             author"
        );
        let withdrawn = Correction {
            replacement: None,
            ..corrected
        };
        for latest in [None, Some(&withdrawn)] {
            assert_eq!(
                standing_headline(FCDO, NOV_2, &body, latest, &known()),
                headline(FCDO, NOV_2, &body, &known())
            );
        }
    }

    #[test]
    fn unknown_organisations_are_named_as_the_record_writes_them_else_by_id() {
        let mut tx = transaction(2, "10.5");
        tx.receiver = party("XM-UNKNOWN-1", "Local NGO");
        let line = headline(FCDO, NOV_2, &Body::Transaction(tx.clone()), &NoNames);
        assert_eq!(
            line,
            "FCDO as written committed GBP 10.5 to Local NGO on 2026-11-02 (activity GB-GOV-1-301150-200)"
        );
        tx.receiver = party("XM-UNKNOWN-1", "");
        tx.provider = None;
        let line = headline(FCDO, NOV_2, &Body::Transaction(tx), &NoNames);
        assert!(line.starts_with("GB-GOV-1 committed GBP 10.5 to XM-UNKNOWN-1 on"));
    }

    #[test]
    fn every_transaction_type_has_its_verb() {
        let expected = [
            (
                1,
                "Danish Refugee Council received GBP 1,000.00 from Foreign, Commonwealth and Development Office",
            ),
            (2, "Foreign, Commonwealth and Development Office committed GBP 1,000.00 to Danish Refugee Council"),
            (3, "Foreign, Commonwealth and Development Office disbursed GBP 1,000.00 to Danish Refugee Council"),
            (4, "Foreign, Commonwealth and Development Office spent GBP 1,000.00 paid to Danish Refugee Council"),
            (5, "Foreign, Commonwealth and Development Office paid GBP 1,000.00 in interest to Danish Refugee Council"),
            (6, "Foreign, Commonwealth and Development Office repaid GBP 1,000.00 of a loan to Danish Refugee Council"),
            (7, "Foreign, Commonwealth and Development Office reimbursed GBP 1,000.00 to Danish Refugee Council"),
            (8, "Foreign, Commonwealth and Development Office bought equity for GBP 1,000.00 in Danish Refugee Council"),
            (9, "Foreign, Commonwealth and Development Office sold equity for GBP 1,000.00 to Danish Refugee Council"),
            (10, "Foreign, Commonwealth and Development Office guaranteed credit of GBP 1,000.00 to Danish Refugee Council"),
            (11, "Danish Refugee Council received a commitment of GBP 1,000.00 from Foreign, Commonwealth and Development Office"),
            (12, "Foreign, Commonwealth and Development Office pledged GBP 1,000.00 to Danish Refugee Council"),
            (13, "Danish Refugee Council received a pledge of GBP 1,000.00 from Foreign, Commonwealth and Development Office"),
        ];
        for (code, start) in expected {
            let body = Body::Transaction(transaction(code, "1000.00"));
            let line = headline(DRC, NOV_2, &body, &known());
            assert!(line.starts_with(start), "type {code}: {line}");
            assert!(line.ends_with(" on 2026-11-02 (activity GB-GOV-1-301150-200)"));
        }
        // Incoming funds without a receiver: the author received them.
        let mut tx = transaction(1, "7");
        tx.receiver = None;
        assert!(headline(DRC, NOV_2, &Body::Transaction(tx), &known())
            .starts_with("Danish Refugee Council received GBP 7 from Foreign"));
    }

    #[test]
    fn statements_treaties_and_treaty_actions_read_as_sentences() {
        let mut names = known();
        let statement = Body::Statement(Statement {
            title: "Funding for 2027".into(),
            language: "en".into(),
            text: "We will fund.".into(),
        });
        assert_eq!(
            headline(FCDO, NOV_2, &statement, &names),
            "Foreign, Commonwealth and Development Office stated “Funding for 2027” on 2026-11-02"
        );
        assert_eq!(label(&statement), "statement “Funding for 2027”");
        let treaty = Body::TreatyText(TreatyText {
            title: "Accord on Aid".into(),
            parties: vec![FCDO.into(), DRC.into(), "XM-OTHER".into()],
            versions: vec![TextVersion {
                language: "en".into(),
                text: "Article 1.".into(),
            }],
            supersedes: None,
        });
        assert_eq!(
            headline(FCDO, NOV_2, &treaty, &names),
            "Foreign, Commonwealth and Development Office recorded the text of “Accord on Aid” \
             between Foreign, Commonwealth and Development Office, Danish Refugee Council and \
             XM-OTHER (en) on 2026-11-02"
        );
        let action = |kind| {
            Body::TreatyAction(TreatyAction {
                treaty: id(7),
                text_hash: aidledger_spec::Digest([1; 32]),
                action: kind,
                date: date(5),
                note: String::new(),
            })
        };
        assert_eq!(
            headline(DRC, NOV_2, &action(TreatyActionKind::Ratify), &names),
            "Danish Refugee Council ratified treaty 070707070707 on 2026-11-05"
        );
        names.records.insert(id(7), treaty);
        for (kind, verb) in [
            (TreatyActionKind::Sign, "signed"),
            (TreatyActionKind::Ratify, "ratified"),
            (TreatyActionKind::Accede, "acceded to"),
            (TreatyActionKind::Withdraw, "withdrew from"),
        ] {
            assert_eq!(
                headline(DRC, NOV_2, &action(kind), &names),
                format!("Danish Refugee Council {verb} “Accord on Aid” on 2026-11-05")
            );
        }
        assert_eq!(
            label(&action(TreatyActionKind::Ratify)),
            "ratification of treaty 070707070707, 2026-11-05"
        );
    }

    #[test]
    fn corrections_and_withdrawals_say_of_what_in_words() {
        let mut names = known();
        names
            .records
            .insert(id(9), Body::Transaction(transaction(3, "125000.00")));
        let corrected = Body::Correction(Correction {
            corrects: id(9),
            reason: "typo".into(),
            replacement: Some(Replacement::Transaction(transaction(3, "120000.00"))),
        });
        assert_eq!(
            headline(FCDO, NOV_2, &corrected, &names),
            "Foreign, Commonwealth and Development Office corrected its disbursement GBP \
             125,000.00, 2026-11-02 (record 090909090909) on 2026-11-02: amount now GBP \
             120,000.00, was GBP 125,000.00, because “typo”"
        );
        assert_eq!(label(&corrected), "correction of record 090909090909");
        let withdrawn = Body::Correction(Correction {
            corrects: id(9),
            reason: "entered twice".into(),
            replacement: None,
        });
        assert_eq!(
            headline(FCDO, NOV_2, &withdrawn, &names),
            "Foreign, Commonwealth and Development Office withdrew its disbursement GBP \
             125,000.00, 2026-11-02 (record 090909090909) on 2026-11-02, because “entered twice”"
        );
        // Not held: named by id.
        assert!(headline(FCDO, NOV_2, &withdrawn, &NoNames)
            .starts_with("GB-GOV-1 withdrew its record 090909090909 on 2026-11-02"));
    }

    #[test]
    fn governance_key_rotation_and_activity_records_read_as_sentences() {
        let mut names = known();
        let change = Change::SetRoles {
            member: DRC.into(),
            roles: Vec::new(),
        };
        let proposal = Body::Proposal(Proposal {
            base: RecordId::ZERO,
            change,
            note: "why".into(),
        });
        assert_eq!(
            headline(FCDO, NOV_2, &proposal, &names),
            format!("Foreign, Commonwealth and Development Office proposed: set roles of {DRC} to  on 2026-11-02")
        );
        let approval = Body::Approval(Approval { proposal: id(3) });
        assert_eq!(
            headline(DRC, NOV_2, &approval, &names),
            "Danish Refugee Council approved proposal 030303030303 on 2026-11-02"
        );
        names.records.insert(id(3), proposal);
        assert!(headline(DRC, NOV_2, &approval, &names)
            .starts_with("Danish Refugee Council approved the proposal: set roles of"));
        let rotation = Body::KeyRotation(KeyRotation {
            new_key: KeyGrant {
                key: PublicKey([0xab; 32]),
                proof_of_possession: SignatureBytes([0; 64]),
            },
        });
        assert_eq!(
            headline(DRC, NOV_2, &rotation, &names),
            "Danish Refugee Council moved to a new signing key (abababababababab…) on 2026-11-02"
        );
        assert_eq!(label(&rotation), "key rotation");
        let activity = Body::Activity(Activity {
            iati_identifier: "GB-GOV-1-301150-200".into(),
            titles: vec![Narrative {
                language: "en".into(),
                text: "Shelter in Kenya".into(),
            }],
            reporting_org: FCDO.into(),
            descriptions: Vec::new(),
            status: String::new(),
            dates: Vec::new(),
            recipient_countries: Vec::new(),
            recipient_regions: Vec::new(),
            sectors: Vec::new(),
            participating_orgs: Vec::new(),
            iati: None,
        });
        assert_eq!(
            headline(FCDO, NOV_2, &activity, &names),
            "Foreign, Commonwealth and Development Office described activity “Shelter in Kenya” \
             (GB-GOV-1-301150-200) on 2026-11-02"
        );
        assert_eq!(
            label(&activity),
            "activity “Shelter in Kenya” (GB-GOV-1-301150-200)"
        );
    }

    fn gbp(amount: &str) -> Amounts {
        Amounts(vec![CurrencyAmount {
            currency: "GBP".into(),
            amount: rust_decimal::Decimal::from_str_exact(amount).unwrap(),
        }])
    }

    #[test]
    fn status_lines_say_valid_corrected_withdrawn_revoked_and_the_link() {
        let names = known();
        let original = Body::Transaction(transaction(3, "125000.00"));
        let full = StatusLine::of(&original, None, None, Some(&LinkStatus::Full), &names);
        assert_eq!(full.standing, Standing::Valid);
        assert_eq!(full.text(), "valid · acknowledged in full");
        let short = LinkStatus::Short {
            shortfall: gbp("5000.00"),
            excess: Amounts::default(),
        };
        assert_eq!(
            StatusLine::of(&original, None, None, Some(&short), &names).text(),
            "valid · short by GBP 5,000.00"
        );
        let correction = Correction {
            corrects: id(9),
            reason: "typo".into(),
            replacement: Some(Replacement::Transaction(transaction(3, "120000.00"))),
        };
        let corrected = StatusLine::of(&original, None, Some(&correction), None, &names);
        assert_eq!(
            corrected.text(),
            "corrected: amount now GBP 120,000.00, was GBP 125,000.00"
        );
        let withdrawal = Correction {
            corrects: id(9),
            reason: "entered twice".into(),
            replacement: None,
        };
        assert_eq!(
            StatusLine::of(
                &original,
                None,
                Some(&withdrawal),
                Some(&LinkStatus::Full),
                &names
            )
            .text(),
            "WITHDRAWN by its author (“entered twice”)",
            "a withdrawn record's link concerns the others"
        );
        assert_eq!(
            StatusLine::of(
                &original,
                Some("key revoked"),
                Some(&withdrawal),
                None,
                &names
            )
            .text(),
            "NOT VALID: revoked (key revoked)"
        );
        let pending = LinkStatus::Unacknowledged { pending: true };
        assert!(
            StatusLine::of(&original, None, None, Some(&pending), &names)
                .text()
                .ends_with("not yet acknowledged (still within the window)")
        );
    }

    // The headline as written with format! before (dcd902b), the reference.
    fn transaction_headline_reference(author: &str, tx: &Transaction, names: &dyn Names) -> String {
        let money = format::money(&tx.value.amount, &tx.value.currency);
        let provider = super::party(tx.provider.as_ref(), names);
        let receiver = super::party(tx.receiver.as_ref(), names);
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
            activity_reference(&tx.activity_id, names)
        ));
        line
    }

    fn activity_reference(activity_id: &str, names: &dyn Names) -> String {
        match names
            .activity_title(activity_id)
            .filter(|title| !title.is_empty())
        {
            Some(title) => format!("activity “{title}”, {activity_id}"),
            None => format!("activity {activity_id}"),
        }
    }

    #[test]
    fn piecewise_transaction_headline_equals_format_reference() {
        let mut titled = known();
        titled
            .titles
            .insert("GB-GOV-1-301150-200".into(), "Shelter <in> “Kenya”".into());
        let mut empty_title = known();
        empty_title
            .titles
            .insert("GB-GOV-1-301150-200".into(), String::new());
        let all: [&dyn Names; 4] = [&known(), &titled, &empty_title, &NoNames];
        let parties = [
            None,
            party(FCDO, "FCDO as written"),
            party("XM-UNKNOWN", "Written {name}"),
            party("XM-UNKNOWN", ""),
            party("", ""),
        ];
        for names in all {
            for transaction_type in 0..=u8::MAX {
                for provider in &parties {
                    for receiver in &parties {
                        for amount in ["0", "-1234567.891", "125000.00", "1e5", ""] {
                            let mut tx = transaction(transaction_type, amount);
                            tx.provider = provider.clone();
                            tx.receiver = receiver.clone();
                            for author in [FCDO, "XM-UNKNOWN", ""] {
                                assert_eq!(
                                    transaction_headline(author, &tx, names),
                                    transaction_headline_reference(author, &tx, names)
                                );
                            }
                        }
                    }
                }
            }
            for activity_id in ["GB-GOV-1-301150-200", "", "x{y}"] {
                assert_eq!(
                    activity(activity_id, names),
                    activity_reference(activity_id, names)
                );
            }
        }
    }
}
