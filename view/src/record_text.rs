//! A record as text for people: a one-line summary (the CLI's `log` and provenance lines, the
//! explorer's record lists) and the indented full text of `aidledger show`.

use aidledger_spec::governance::Change;
use aidledger_spec::record::{transaction_type_name, Replacement, Transaction};
use aidledger_spec::verify::RuleCheckedRecord;
use aidledger_spec::{Body, RecordId};

/// Longest text shown inline in plain output; longer texts are summarised by size and hash.
pub const INLINE_TEXT_CHARS_MAX: usize = 400;
/// Hex digits of a record id in [`IdLength::Short`] summaries (48 bits: unique enough to
/// tell records apart on a page, short enough for a link text).
pub const SHORT_ID_HEX_DIGITS: usize = 12;

/// How a summary writes the record ids it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdLength {
    /// All 64 hex digits, to copy into another command.
    Full,
    /// The first [`SHORT_ID_HEX_DIGITS`], for pages that link the record anyway.
    Short,
}

impl IdLength {
    fn of(self, id: &RecordId) -> String {
        match self {
            IdLength::Full => id.to_hex(),
            IdLength::Short => short_id(id),
        }
    }
}

/// The first [`SHORT_ID_HEX_DIGITS`] hex digits of an id.
pub fn short_id(id: &RecordId) -> String {
    let mut hex = id.to_hex();
    hex.truncate(SHORT_ID_HEX_DIGITS);
    hex
}

/// A one-line summary of a record's body.
pub fn summary(body: &Body, ids: IdLength) -> String {
    match body {
        Body::Transaction(tx) => transaction_summary(tx, ids),
        Body::TreatyText(treaty) => {
            let languages: Vec<&str> = treaty
                .versions
                .iter()
                .map(|version| version.language.as_str())
                .collect();
            format!(
                "treaty text \"{}\" [{}] parties {}",
                treaty.title,
                languages.join(","),
                treaty.parties.join(", ")
            )
        }
        Body::TreatyAction(action) => format!(
            "{} treaty {} on {}",
            action.action.name(),
            ids.of(&action.treaty),
            action.date
        ),
        Body::Statement(statement) => {
            format!("statement \"{}\" ({})", statement.title, statement.language)
        }
        Body::Proposal(proposal) => format!("proposal: {}", proposal.change.summary()),
        Body::Approval(approval) => {
            format!("approval of proposal {}", ids.of(&approval.proposal))
        }
        Body::KeyRotation(rotation) => format!("key rotation to {}", rotation.new_key.key),
        Body::Activity(activity) => crate::activity_text::activity_summary(activity),
        Body::Redaction(redaction) => format!(
            "redaction of {} record(s) ({}): {}",
            redaction.records.len(),
            redaction.category.name(),
            redaction.note
        ),
        Body::Correction(correction) => format!(
            "{} of {}: {}",
            if correction.replacement.is_some() {
                "correction"
            } else {
                "withdrawal"
            },
            ids.of(&correction.corrects),
            correction.reason
        ),
    }
}

fn transaction_summary(tx: &Transaction, ids: IdLength) -> String {
    let mut line = format!(
        "{} {} {} activity {} on {}",
        transaction_type_name(tx.transaction_type),
        tx.value.amount,
        tx.value.currency,
        tx.activity_id,
        tx.transaction_date
    );
    if let Some(receiver) = tx
        .receiver
        .as_ref()
        .filter(|party| !party.org_ref.is_empty() || !party.name.is_empty())
    {
        line.push_str(&format!(
            " to {}",
            if receiver.org_ref.is_empty() {
                &receiver.name
            } else {
                &receiver.org_ref
            }
        ));
    }
    if let Some(acknowledged) = &tx.acknowledges {
        line.push_str(&format!(" (acknowledges {})", ids.of(acknowledged)));
    }
    line
}

/// The record as indented text lines for `show`.
pub fn record_text(record: &RuleCheckedRecord, author_name: &str) -> String {
    let header = record.header();
    let mut out = format!(
        "record    {}\nkind      {}\nauthor    {} ({author_name})\nseq       {}\nprev      {}\ntimestamp {} ({} ms)\nkey       {}\nsignature valid (ed25519 over the record id, FORMAT.md 7.1)\n",
        record.id(),
        record.body().kind().name(),
        header.author,
        header.seq,
        header.prev,
        crate::format::utc_time(header.timestamp_ms),
        header.timestamp_ms,
        header.signing_key
    );
    out.push_str(&body_text(record.body(), &header.author));
    out
}

fn body_text(body: &Body, author: &str) -> String {
    match body {
        Body::Activity(activity) => crate::activity_text::activity_text(activity, author),
        Body::Transaction(tx) => {
            // What the party names, and only that: an empty name or activity is left out.
            let party = |label: &str, party: &Option<aidledger_spec::record::Party>| match party {
                Some(party) => {
                    let activity = (!party.activity_id.is_empty())
                        .then(|| format!("activity {}", party.activity_id));
                    let named: Vec<&str> = [party.org_ref.as_str(), party.name.as_str()]
                        .into_iter()
                        .chain(activity.as_deref())
                        .filter(|part| !part.is_empty())
                        .collect();
                    format!("{label:<9} {}\n", named.join(" "))
                }
                None => String::new(),
            };
            let mut out = format!(
                "type      {} ({})\nactivity  {}\nvalue     {} {}\nvalue date {}\ndate      {}\n",
                transaction_type_name(tx.transaction_type),
                tx.transaction_type,
                tx.activity_id,
                tx.value.amount,
                tx.value.currency,
                tx.value_date,
                tx.transaction_date
            );
            out.push_str(&party("provider", &tx.provider));
            out.push_str(&party("receiver", &tx.receiver));
            if !tx.description.is_empty() {
                out.push_str(&format!("description {}\n", tx.description));
            }
            if let Some(acknowledged) = &tx.acknowledges {
                out.push_str(&format!("acknowledges {acknowledged}\n"));
            }
            if let Some(source) = &tx.iati {
                out.push_str(&format!(
                    "iati      ref {:?} original value {:?}\n",
                    source.transaction_ref, source.original_value
                ));
            }
            out
        }
        Body::TreatyText(treaty) => {
            let mut out = format!(
                "title     {}\nparties   {}\ntext hash {}\n",
                treaty.title,
                treaty.parties.join(", "),
                treaty.text_hash()
            );
            if let Some(superseded) = &treaty.supersedes {
                out.push_str(&format!("supersedes {superseded}\n"));
            }
            for version in &treaty.versions {
                out.push_str(&format!(
                    "version   {} ({} bytes, hash {})\n{}\n",
                    version.language,
                    version.text.len(),
                    version.hash(),
                    inline(&version.text)
                ));
            }
            out
        }
        Body::TreatyAction(action) => format!(
            "action    {}\ntreaty    {}\ntext hash {}\ndate      {}\nnote      {}\n",
            action.action.name(),
            action.treaty,
            action.text_hash,
            action.date,
            action.note
        ),
        Body::Proposal(proposal) => format!(
            "{}base      {}{}\nnote\n{}\n",
            change_text(&proposal.change),
            proposal.base,
            if proposal.base == aidledger_spec::RecordId::ZERO {
                " (the genesis)"
            } else {
                ""
            },
            inline(&proposal.note)
        ),
        Body::Approval(approval) => format!("approves  proposal {}\n", approval.proposal),
        Body::KeyRotation(rotation) => format!(
            "new key   {}\nproof     {} (proof of possession by the new key)\nthe new key signs the author's records after this one\n",
            rotation.new_key.key, rotation.new_key.proof_of_possession
        ),
        Body::Redaction(redaction) => {
            let mut out = format!(
                "category  {} ({})\nnote      {}\n",
                redaction.category.name(),
                redaction.category.words(),
                redaction.note
            );
            for record in &redaction.records {
                out.push_str(&format!("withholds seq {} record {}\n", record.seq, record.id));
            }
            out
        }
        Body::Statement(statement) => format!(
            "title     {}\nlanguage  {}\n{}\n",
            statement.title,
            statement.language,
            inline(&statement.text)
        ),
        Body::Correction(correction) => {
            let mut out = format!(
                "corrects  {}\nreason    {}\n",
                correction.corrects, correction.reason
            );
            match &correction.replacement {
                Some(replacement) => {
                    out.push_str(&format!(
                        "replacement ({}):\n",
                        replacement_kind(replacement)
                    ));
                    out.push_str(&body_text(&replacement.to_body(), author));
                }
                None => out.push_str("replacement none (the corrected record is withdrawn)\n"),
            }
            out
        }
    }
}

/// A proposal's change, one field a line.
fn change_text(change: &Change) -> String {
    let mut out = format!("change    {}\n", change.name());
    let keys = |label: &str, keys: &[aidledger_spec::PublicKey], out: &mut String| {
        if keys.is_empty() {
            out.push_str(&format!("{label} none\n"));
        }
        for key in keys {
            out.push_str(&format!("{label} {key}\n"));
        }
    };
    match change {
        Change::AddMember { member } => {
            out.push_str(&format!(
                "member    {} ({})\nroles     {}\n",
                member.id,
                member.name,
                role_list(&member.roles)
            ));
            keys("signing key", &member.signing_keys, &mut out);
            keys("node key ", &member.node_keys, &mut out);
        }
        Change::RemoveMember { member, from_seq } => out.push_str(&format!(
            "member    {member}\nfrom seq  {from_seq} (its records from there on are not valid)\n"
        )),
        Change::SetRoles { member, roles } => out.push_str(&format!(
            "member    {member}\nroles     {}\n",
            role_list(roles)
        )),
        Change::SetNodeKeys { member, node_keys } => {
            out.push_str(&format!("member    {member}\n"));
            keys("node key ", node_keys, &mut out);
        }
        Change::RevokeKey {
            member,
            key,
            from_seq,
            replacement,
        } => {
            out.push_str(&format!(
                "member    {member}\nkey       {key}\nfrom seq  {from_seq} (records it signs from there on are not valid)\n"
            ));
            match replacement {
                Some(grant) => out.push_str(&format!(
                    "replacement {} (with proof of possession {})\n",
                    grant.key, grant.proof_of_possession
                )),
                None => out.push_str("replacement none\n"),
            }
        }
        Change::SetAdminRule { rule } => out.push_str(&format!(
            "admins    {}\nthreshold {} of {}\n",
            rule.admins.join(", "),
            rule.threshold,
            rule.admins.len()
        )),
        Change::SetWitnesses {
            witnesses,
            threshold,
        } => {
            if witnesses.is_empty() {
                out.push_str("witnesses none (no witness policy)\n");
            }
            for witness in witnesses {
                out.push_str(&format!("witness   {} {}\n", witness.name, witness.key));
            }
            out.push_str(&format!("threshold {threshold} of {}\n", witnesses.len()));
        }
        Change::Redact {
            member,
            records,
            category,
        } => {
            out.push_str(&format!(
                "member    {member}\ncategory  {} ({})\n",
                category.name(),
                category.words()
            ));
            for record in records {
                out.push_str(&format!(
                    "withholds seq {} record {}\n",
                    record.seq, record.id
                ));
            }
        }
    }
    out
}

fn role_list(roles: &[aidledger_spec::Role]) -> String {
    let names: Vec<&str> = roles.iter().map(|role| role.name()).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn replacement_kind(replacement: &Replacement) -> &'static str {
    replacement.to_body().kind().name()
}

pub(crate) fn inline(text: &str) -> String {
    if text.chars().count() <= INLINE_TEXT_CHARS_MAX {
        return format!("  | {}", text.replace('\n', "\n  | "));
    }
    let head: String = text.chars().take(INLINE_TEXT_CHARS_MAX).collect();
    format!(
        "  | {}\n  | … ({} more characters; use --json for the full text)",
        head.replace('\n', "\n  | "),
        text.chars().count() - INLINE_TEXT_CHARS_MAX
    )
}
