//! `provenance --text-file FILE` / `--text -`: "Is this genuine?" offline. Which records of a
//! verified source signed exactly this text (or its normalised form: FORMAT.md appendix "Text
//! fingerprints", `aidledger_view::genuine`), by whom, when, and whether the author later
//! corrected or withdrew them; when none did, the nearest signed statement (of the organisation
//! named with `--org`, else of anyone) and the word difference. The same answer as the
//! explorer's `/genuine`, from the records themselves: every record is verified on the way
//! (the reader every command shares), and one pass finds everything, keeping only the best
//! candidate and the corrections (few) in memory.

use aidledger_spec::chain::Report;
use aidledger_spec::redaction::OrderedBy;
use aidledger_spec::{Body, NetworkId, RecordId, VerifiedRecord};
use aidledger_view::format;
use aidledger_view::genuine::{
    self, may_have_signed_text, signed_texts, Change, DiffPart, Fingerprints, Nearness,
    RedactedText, RedactedTexts,
};
use serde_json::{json, Value};

use crate::checked::{read_checked, CheckError, Standing};
use crate::pipeline::SignatureMode;
use crate::redacted::OrderFacts;
use crate::source::Source;

/// A record that signed the text.
pub struct TextMatch {
    /// The record.
    pub id: RecordId,
    /// Its author and position.
    pub author: String,
    /// Its position in the author's chain.
    pub seq: u64,
    /// The time it states.
    pub timestamp_ms: u64,
    /// Whether the exact bytes match (else only the normalised forms).
    pub exact: bool,
    /// "statement", "treaty text", or either "in a correction".
    pub what: &'static str,
    /// The statement's or treaty's title.
    pub title: String,
    /// The text's language.
    pub language: String,
}

/// A correction of a record, as far as a signed text cares.
pub struct LaterCorrection {
    /// The correction.
    pub id: RecordId,
    /// Its author.
    pub author: String,
    /// Its position.
    pub seq: u64,
    /// The time it states.
    pub timestamp_ms: u64,
    /// Whether it withdraws (no replacement).
    pub withdraws: bool,
}

/// The nearest signed statement.
pub struct NearestStatement {
    /// The record.
    pub id: RecordId,
    /// Its author.
    pub author: String,
    /// The time it states.
    pub timestamp_ms: u64,
    /// Its title.
    pub title: String,
    /// Share of distinct words in common, thousandths.
    pub likeness: u32,
    /// The word difference from it to the text (`None` when too long).
    pub diff: Option<Vec<DiffPart>>,
    /// Whether it is the named organisation's.
    pub of_named_org: bool,
}

/// What the trace found.
pub struct TextProvenance {
    /// The network and whether the source verified.
    pub standing: Standing,
    /// The text's fingerprints.
    pub prints: Fingerprints,
    /// The organisation named (`--org`), if any.
    pub org: Option<String>,
    /// Records that signed the text.
    pub matches: Vec<TextMatch>,
    /// Corrections of records that signed it, by corrected id.
    pub corrections: Vec<(RecordId, LaterCorrection)>,
    /// When nothing signed it: the nearest signed statement.
    pub nearest: Option<NearestStatement>,
    /// Display names of the organisations named above.
    pub names: std::collections::BTreeMap<String, String>,
    /// When no record signs the text (none of the organisation named, when one is): that
    /// organisation's (or every organisation's) redacted statements, treaty texts and
    /// corrections, whose texts can no longer be matched.
    pub redacted: RedactedTexts,
}

impl TextProvenance {
    /// Whether some record signed the text.
    pub fn is_signed(&self) -> bool {
        !self.matches.is_empty()
    }
}

/// The best candidate so far for the nearest statement: (likeness, record, author, time,
/// title, text).
type Candidate = (u32, RecordId, String, u64, String, String);

fn keep_best(best: &mut Option<Candidate>, candidate: Candidate) {
    if candidate.0 > 0 && best.as_ref().is_none_or(|top| candidate.0 > top.0) {
        *best = Some(candidate);
    }
}

/// Reads the whole source once (every record verified) and answers for `text`.
pub fn trace_text(
    source: &Source,
    text: &str,
    org: Option<&str>,
    pinned: Option<NetworkId>,
) -> Result<TextProvenance, CheckError> {
    let prints = Fingerprints::of(text);
    let nearness = Nearness::of(text);
    let mut matches = Vec::new();
    let mut corrections = Vec::new();
    let (mut best_of_org, mut best) = (None, None);
    let mut facts = OrderFacts::default();
    let checked = read_checked(source, pinned, SignatureMode::Batch, |record| {
        facts.observe(record);
        observe(
            record,
            &nearness,
            &prints,
            org,
            &mut matches,
            &mut corrections,
            (&mut best_of_org, &mut best),
        );
    })?;
    let authority = checked.derivation().authority;
    let signed = !matches.is_empty();
    let (nearest, of_named_org) = match (signed, best_of_org, best) {
        (true, ..) => (None, false),
        (false, Some(candidate), _) => (Some(candidate), true),
        (false, None, candidate) => (candidate, false),
    };
    let nearest =
        nearest.map(
            |(likeness, id, author, timestamp_ms, title, signed)| NearestStatement {
                diff: genuine::word_diff(&signed, text),
                id,
                author,
                timestamp_ms,
                title,
                likeness,
                of_named_org,
            },
        );
    let matched: Vec<RecordId> = matches.iter().map(|found: &TextMatch| found.id).collect();
    corrections.retain(|(corrected, _)| matched.contains(corrected));
    let mut names = std::collections::BTreeMap::new();
    let named = matches
        .iter()
        .map(|found| &found.author)
        .chain(nearest.iter().map(|nearest| &nearest.author))
        .chain(corrections.iter().map(|(_, later)| &later.author))
        .map(String::as_str)
        .chain(org);
    for id in named {
        if let Some(member) = authority.member(id) {
            names.insert(id.to_owned(), member.name.clone());
        }
    }
    let unsigned = match org {
        Some(org) => !matches.iter().any(|found| found.author == org),
        None => matches.is_empty(),
    };
    let redacted = match unsigned {
        true => redacted_texts(&checked.report, &facts, org),
        false => RedactedTexts::default(),
    };
    Ok(TextProvenance {
        standing: checked.standing,
        prints,
        org: org.map(str::to_owned),
        matches,
        corrections,
        nearest,
        names,
        redacted,
    })
}

/// The redacted records of `org`'s chain (or of every chain) that may have signed a text:
/// statements, treaty texts and corrections the verification found withheld under an order in
/// force. The first [`genuine::REDACTED_TEXTS_LISTED_MAX`] are listed, the rest counted.
fn redacted_texts(report: &Report, facts: &OrderFacts, org: Option<&str>) -> RedactedTexts {
    let mut found = RedactedTexts::default();
    let chains = report
        .chains
        .iter()
        .filter(|chain| org.is_none_or(|org| chain.author == org));
    for chain in chains {
        for entry in &chain.redacted {
            if !may_have_signed_text(entry.body_kind) {
                continue;
            }
            let order = &entry.order;
            found.add(RedactedText {
                id: entry.id,
                author: chain.author.clone(),
                seq: entry.seq,
                kind: aidledger_spec::BodyKind::wire_name(entry.body_kind),
                category: order.category.name(),
                category_text: order.category.words(),
                by: match order.by {
                    OrderedBy::Author { .. } => "author",
                    OrderedBy::Admins { .. } => "admins",
                },
                order: order.order,
                ordered_at_ms: facts.timestamp_ms(order),
            });
        }
    }
    found
}

fn observe(
    record: &VerifiedRecord,
    nearness: &Nearness,
    prints: &Fingerprints,
    org: Option<&str>,
    matches: &mut Vec<TextMatch>,
    corrections: &mut Vec<(RecordId, LaterCorrection)>,
    (best_of_org, best): (&mut Option<Candidate>, &mut Option<Candidate>),
) {
    let header = record.header();
    if let Body::Correction(correction) = record.body() {
        corrections.push((
            correction.corrects,
            LaterCorrection {
                id: record.id(),
                author: header.author.clone(),
                seq: header.seq,
                timestamp_ms: header.timestamp_ms,
                withdraws: correction.replacement.is_none(),
            },
        ));
    }
    for signed in signed_texts(record.body()) {
        let theirs = Fingerprints::of(signed.text);
        if theirs.exact == prints.exact || theirs.normalised == prints.normalised {
            matches.push(TextMatch {
                id: record.id(),
                author: header.author.clone(),
                seq: header.seq,
                timestamp_ms: header.timestamp_ms,
                exact: theirs.exact == prints.exact,
                what: signed.what,
                title: signed.title.to_owned(),
                language: signed.language.to_owned(),
            });
        } else if signed.is_statement() {
            let candidate = (
                nearness.likeness(signed.text),
                record.id(),
                header.author.clone(),
                header.timestamp_ms,
                signed.title.to_owned(),
                signed.text.to_owned(),
            );
            if org == Some(header.author.as_str()) {
                keep_best(best_of_org, candidate.clone());
            }
            keep_best(best, candidate);
        }
    }
}

impl TextProvenance {
    fn name(&self, org: &str) -> String {
        match self.names.get(org) {
            Some(name) => format!("{name} ({org})"),
            None => org.to_owned(),
        }
    }

    fn later_of(&self, found: &TextMatch) -> Vec<(&'static str, &LaterCorrection)> {
        self.corrections
            .iter()
            .filter(|(corrected, _)| *corrected == found.id)
            .map(|(_, later)| {
                let kind = if later.author != found.author || later.seq <= found.seq {
                    "others_claim"
                } else if later.withdraws {
                    "withdrawn"
                } else {
                    "corrected"
                };
                (kind, later)
            })
            .collect()
    }
}

/// The answer as text (first line: the network, as every reading command).
pub fn text_provenance_text(found: &TextProvenance) -> String {
    let mut out = format!("{}\n", found.standing.first_line());
    out += &format!(
        "text      sha256 {}, normalised sha256 {}\n",
        found.prints.exact, found.prints.normalised
    );
    if let Some(org) = &found.org {
        out += &format!("claimed   from {}\n", found.name(org));
    }
    if found.is_signed() {
        let exact = found.matches.iter().any(|found| found.exact);
        out += if exact {
            "SIGNED    exactly this text was signed:\n"
        } else {
            "SIGNED    this text was signed, apart from line endings, white space at line ends or around it, or Unicode composition:\n"
        };
        for signed in &found.matches {
            out += &format!(
                "  {} \"{}\" ({}){}, signed by {}, {} (the time it states), record {} seq {}\n",
                signed.what,
                signed.title,
                signed.language,
                if signed.exact {
                    ""
                } else {
                    ", normalised match"
                },
                found.name(&signed.author),
                format::utc_time(signed.timestamp_ms),
                signed.id,
                signed.seq
            );
            for (kind, later) in found.later_of(signed) {
                let what = match kind {
                    "withdrawn" => "WITHDRAWN by its author".to_owned(),
                    "corrected" => "CORRECTED by its author".to_owned(),
                    _ => format!(
                        "a correction by another organisation ({}), which changes nothing",
                        found.name(&later.author)
                    ),
                };
                out += &format!(
                    "    {what} on {} in record {}\n",
                    format::utc_time(later.timestamp_ms),
                    later.id
                );
            }
        }
        if let Some(org) = &found.org {
            if !found.matches.iter().any(|signed| &signed.author == org) {
                out += &format!(
                    "BUT NOT BY {}: the organisation named did not sign it\n",
                    found.name(org)
                );
                out += &redacted_text(found);
            }
        }
    } else {
        out += "NOT SIGNED no record in this source signs this text, exactly or normalised\n";
        out += &redacted_text(found);
        match &found.nearest {
            None => out += "no signed statement shares a word with it\n",
            Some(nearest) => {
                out += &format!(
                    "nearest   signed statement{}: \"{}\" by {}, {}, record {} ({}% of words in common)\n",
                    if nearest.of_named_org { " of the organisation named" } else { "" },
                    nearest.title,
                    found.name(&nearest.author),
                    format::utc_time(nearest.timestamp_ms),
                    nearest.id,
                    nearest.likeness / 10
                );
                match &nearest.diff {
                    Some(parts) => {
                        out +=
                            "difference [-in the signed statement only-] {+in your text only+}:\n";
                        out += &diff_text(parts);
                        out += "\n";
                    }
                    None => out += "(too long to show the differences)\n",
                }
            }
        }
    }
    if let Some(line) = found.standing.invalid_line() {
        out += &format!("{line}\n");
    }
    out
}

/// The caveat of redacted texts and their records (ids, kinds, orders), when there are any.
fn redacted_text(found: &TextProvenance) -> String {
    let redacted = &found.redacted;
    let Some(caveat) = redacted.caveat(found.org.as_deref()) else {
        return String::new();
    };
    let mut out = format!("REDACTED  {caveat}\n");
    for text in &redacted.listed {
        let when = text.ordered_at_ms.map_or(String::new(), |ms| {
            format!(", ordered {}", format::utc_time(ms))
        });
        out += &format!(
            "  {} seq {} {} ({}): content withheld for {} by order of {} (order {}){when}\n",
            text.author,
            text.seq,
            text.id,
            text.kind,
            text.category_text,
            if text.by == "admins" {
                "the admins"
            } else {
                "its author"
            },
            text.order
        );
    }
    let more = redacted.not_listed();
    if more > 0 {
        out += &format!("  and {more} more (`aidledger verify` lists every redacted record)\n");
    }
    out
}

fn diff_text(parts: &[DiffPart]) -> String {
    parts
        .iter()
        .map(|part| match part.change {
            Change::Same => part.text.clone(),
            Change::Removed => format!("[-{}-]", part.text),
            Change::Added => format!("{{+{}+}}", part.text),
        })
        .collect()
}

/// The answer as JSON.
pub fn text_provenance_json(found: &TextProvenance) -> Value {
    let matches: Vec<Value> = found
        .matches
        .iter()
        .map(|signed| {
            let later: Vec<Value> = found
                .later_of(signed)
                .into_iter()
                .map(|(kind, later)| {
                    json!({
                        "kind": kind,
                        "record": later.id,
                        "author": later.author,
                        "seq": later.seq,
                        "timestamp_ms": later.timestamp_ms,
                    })
                })
                .collect();
            json!({
                "record": signed.id,
                "author": signed.author,
                "author_name": found.names.get(&signed.author),
                "seq": signed.seq,
                "timestamp_ms": signed.timestamp_ms,
                "exact": signed.exact,
                "what": signed.what,
                "title": signed.title,
                "language": signed.language,
                "later": later,
            })
        })
        .collect();
    let nearest = found.nearest.as_ref().map(|nearest| {
        json!({
            "record": nearest.id,
            "author": nearest.author,
            "author_name": found.names.get(&nearest.author),
            "timestamp_ms": nearest.timestamp_ms,
            "title": nearest.title,
            "likeness_permille": nearest.likeness,
            "of_named_org": nearest.of_named_org,
            "diff": nearest.diff,
        })
    });
    let mut value = json!({
        "sha256": found.prints.exact,
        "normalised_sha256": found.prints.normalised,
        "org": found.org,
        "signed": found.is_signed(),
        "matches": matches,
        "nearest": nearest,
        "redacted_caveat": found.redacted.caveat(found.org.as_deref()),
    });
    if let (Value::Object(object), Ok(Value::Object(redacted))) =
        (&mut value, serde_json::to_value(&found.redacted))
    {
        object.extend(redacted);
    }
    found.standing.add_to_json(&mut value);
    value
}
