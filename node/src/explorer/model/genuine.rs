//! "Is this genuine?": which records signed a text with these fingerprints (exactly, or after
//! the normalisation of `aidledger_view::genuine`), what became of them (corrected, withdrawn),
//! and, when none did and the text itself is given, the nearest signed statement (of the
//! organisation the text claims to come from, or of anyone) with the word-level difference.
//!
//! Every read is bounded and comes from the index written at append (`index/texts.rs`): the
//! fingerprints' keys, the statements indexed under the text's words, the named organisation's
//! latest statements; never a scan of the records.

use aidledger_spec::Digest;
use aidledger_view::genuine::{
    self, may_have_signed_text, signed_texts, DiffPart, Fingerprints, RedactedText, RedactedTexts,
};

use super::*;
use crate::explorer::index::texts::{self, form};

/// Longest text the form may send (no JavaScript: the node computes the fingerprints); a
/// longer one is checked by its fingerprints in the browser, or offline with `aidledger
/// provenance --text-file`. A statement's text is seldom a few kilobytes.
pub const GENUINE_TEXT_BYTES_MAX: usize = 1024 * 1024;
/// Largest form body: the text percent-encoded (three bytes per byte at worst) and the rest.
pub const GENUINE_FORM_BYTES_MAX: usize = 3 * GENUINE_TEXT_BYTES_MAX + 4096;
/// Most records listed as having signed one text.
pub const GENUINE_MATCHES_MAX: usize = 20;
/// Most distinct words of a text looked up in the index.
pub const GENUINE_QUERY_WORDS_MAX: usize = 64;
/// Most statements read per word (a word with more is common and says little).
pub const GENUINE_WORD_STATEMENTS_MAX: usize = 100;
/// Most candidate statements compared with the text (the ones sharing most rare words).
pub const GENUINE_CANDIDATES_MAX: usize = 20;
/// Most of the named organisation's latest statements compared with the text.
pub const GENUINE_ORG_STATEMENTS_MAX: usize = 50;

/// What a reader asks: the text's fingerprints, and the text itself when they sent it.
#[derive(Clone, Debug)]
pub struct GenuineQuery {
    /// The two fingerprints (computed in the reader's browser, or here from `text`).
    pub prints: Fingerprints,
    /// The text, when it was sent (it is needed for the nearest statement only).
    pub text: Option<String>,
    /// The organisation id the text claims to come from.
    pub org: Option<String>,
}

impl GenuineQuery {
    /// A query from a text sent to the node: its fingerprints are computed here.
    pub fn of_text(text: String, org: Option<String>) -> GenuineQuery {
        GenuineQuery {
            prints: Fingerprints::of(&text),
            text: Some(text),
            org,
        }
    }
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct GenuineResult {
    /// SHA-256 of the exact text, hex.
    pub sha256: String,
    /// SHA-256 of the normalised text, hex.
    pub normalised_sha256: String,
    /// The organisation named, with its name.
    pub org: Option<OrgName>,
    /// Whether the text itself was sent (else only its fingerprints).
    pub text_sent: bool,
    /// The records that signed the text, exactly or normalised.
    pub matches: Vec<TextMatch>,
    /// When no record signed it and the text was sent: the nearest signed statement.
    pub nearest: Option<Nearest>,
    /// When no record this node holds signs it (none of the organisation named, when one
    /// is): that organisation's (or, with none named, every organisation's) redacted
    /// statements, treaty texts and corrections, whose texts can no longer be matched.
    #[serde(flatten)]
    pub redacted: RedactedTexts,
    /// The sentence that says so, when there are any ([`RedactedTexts::caveat`]).
    pub redacted_caveat: Option<String>,
}

/// An organisation id with its member name (empty when it is not a member).
#[derive(Clone, Debug, Serialize)]
pub struct OrgName {
    /// Organisation id.
    pub id: String,
    /// Its name in the network's membership.
    pub name: String,
}

/// A record that signed the text.
#[derive(Debug, Serialize)]
pub struct TextMatch {
    /// The record.
    pub record: Summary,
    /// Its author, with name.
    pub author: OrgName,
    /// True when the exact bytes match; false when only the normalised forms do.
    pub exact: bool,
    /// What it is: the statement's title, or the treaty's title and language.
    pub title: String,
    /// The text's language tag.
    pub language: String,
    /// "statement", "treaty text", or either "in a correction".
    pub what: &'static str,
    /// What the author did to the record later, and others' claims.
    pub later: Vec<Later>,
}

/// A later record that corrects a matched one.
#[derive(Debug, Serialize)]
pub struct Later {
    /// The correction.
    pub record: Summary,
    /// What it does.
    pub kind: LaterKind,
}

/// What a later correction does to a signed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaterKind {
    /// The author replaced it (the correction's text is what they stand by now).
    Corrected,
    /// The author withdrew it.
    Withdrawn,
    /// Another organisation's "correction": a claim that changes nothing.
    OthersClaim,
}

/// The nearest signed statement to a text that no record signed.
#[derive(Debug, Serialize)]
pub struct Nearest {
    /// The statement's record.
    pub record: Summary,
    /// Its author, with name.
    pub author: OrgName,
    /// Its title.
    pub title: String,
    /// Share of distinct words in common, thousandths ([`genuine::likeness`]).
    pub likeness: u32,
    /// The signed text.
    pub text: String,
    /// The word difference from the signed text to the text given (`None` when too long).
    pub diff: Option<Vec<DiffPart>>,
    /// Whether it is a statement of the organisation named (else of anyone).
    pub of_named_org: bool,
}

fn org_name(authority: &Authority, id: &str) -> OrgName {
    OrgName {
        id: id.to_owned(),
        name: authority
            .member(id)
            .map(|member| member.name.clone())
            .unwrap_or_default(),
    }
}

/// Answers a query.
pub fn genuine(
    store: &StoreReader,
    authority: &Authority,
    query: &GenuineQuery,
) -> Result<GenuineResult, Problem> {
    let org = match query.org.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) if authority.member(id).is_some() => Some(org_name(authority, id)),
        Some(id) => {
            return Err(Problem::BadRequest(format!(
                "{id} is not an organisation of this network"
            )))
        }
    };
    let matches = matches(store, authority, &query.prints)?;
    let nearest = match (&query.text, matches.is_empty()) {
        (Some(text), true) => nearest(store, authority, text, org.as_ref())?,
        _ => None,
    };
    // A redacted record's text cannot be matched: when nothing held signs the text (nothing
    // of the organisation named), its redacted texts are the answer's caveat.
    let unsigned = match &org {
        Some(org) => !matches.iter().any(|found| found.author.id == org.id),
        None => matches.is_empty(),
    };
    let redacted = match unsigned {
        true => redacted_texts(store, authority, org.as_ref())?,
        false => RedactedTexts::default(),
    };
    let redacted_caveat = redacted.caveat(org.as_ref().map(|org| org.id.as_str()));
    Ok(GenuineResult {
        sha256: query.prints.exact.to_hex(),
        normalised_sha256: query.prints.normalised.to_hex(),
        org,
        text_sent: query.text.is_some(),
        matches,
        nearest,
        redacted,
        redacted_caveat,
    })
}

/// The redacted records of the organisation named (or of every member) that may have signed
/// a text: statements, treaty texts, corrections. Nothing is read when no order named any
/// record; else one scan of the store's `redacted` marks per organisation (the organisation
/// page's "plus N redacted" reads the same), bounded by the orders; the first
/// [`genuine::REDACTED_TEXTS_LISTED_MAX`] are listed and the rest counted.
fn redacted_texts(
    store: &StoreReader,
    authority: &Authority,
    org: Option<&OrgName>,
) -> Result<RedactedTexts, Problem> {
    let mut found = RedactedTexts::default();
    if store.redacted_count() == 0 {
        return Ok(found);
    }
    let authors: Vec<String> = match org {
        Some(org) => vec![org.id.clone()],
        None => authority
            .members()
            .map(|member| member.id.clone())
            .collect(),
    };
    for author in authors {
        for redacted in store.redacted_in_chain(&author)? {
            if !may_have_signed_text(redacted.body_kind) {
                continue;
            }
            let mark = &redacted.mark;
            found.add(RedactedText {
                id: redacted.id,
                author: author.clone(),
                seq: redacted.seq,
                kind: aidledger_spec::BodyKind::wire_name(redacted.body_kind),
                category: mark.category.name(),
                category_text: mark.category.words(),
                by: if mark.by_admins { "admins" } else { "author" },
                order: mark.order,
                ordered_at_ms: Some(mark.ordered_at_ms),
            });
        }
    }
    Ok(found)
}

/// The records whose signed texts have either fingerprint; an exact match first.
fn matches(
    store: &StoreReader,
    authority: &Authority,
    prints: &Fingerprints,
) -> Result<Vec<TextMatch>, Problem> {
    let mut found: Vec<(RecordId, u64, bool)> = Vec::new();
    for (form, print) in [
        (form::EXACT, prints.exact),
        (form::NORMALISED, prints.normalised),
    ] {
        let prefix = texts::fingerprint_prefix(form, &print);
        for entry in store
            .index_tree()
            .scan_prefix(&prefix)
            .take(GENUINE_MATCHES_MAX)
        {
            let (key, _) = entry?;
            let mut rest = KeyReader::new(&key[prefix.len()..]);
            let id = rest.id()?;
            let part = rest.u64()?;
            rest.finish()?;
            if !found.iter().any(|(seen, at, _)| *seen == id && *at == part) {
                found.push((id, part, form == form::EXACT));
            }
        }
    }
    found.truncate(GENUINE_MATCHES_MAX);
    let mut matches = Vec::new();
    for (id, part, exact) in found {
        let Some(bytes) = store.get(&id)? else {
            continue; // revoked since, or lost: not (validly) signed
        };
        let decoded = decode(bytes)?;
        let Some(signed) = signed_texts(&decoded.body)
            .into_iter()
            .find(|signed| signed.part == part)
        else {
            continue;
        };
        let (language, title, what) = (
            signed.language.to_owned(),
            signed.title.to_owned(),
            signed.what,
        );
        let summary = summary_of(&decoded);
        matches.push(TextMatch {
            later: later(store, &summary)?,
            author: org_name(authority, &summary.author),
            record: summary,
            exact,
            title,
            language,
            what,
        });
    }
    Ok(matches)
}

/// The corrections of a record: by its author (corrected or withdrawn), or others' claims.
fn later(store: &StoreReader, record: &Summary) -> Result<Vec<Later>, Problem> {
    let mut found = Vec::new();
    for correction in referencing(store, Referrers::Correcting, &record.id)? {
        let Some(bytes) = store.get(&correction.id)? else {
            continue;
        };
        let kind = match decode(bytes)?.body {
            _ if correction.author != record.author || correction.seq <= record.seq => {
                LaterKind::OthersClaim
            }
            Body::Correction(Correction {
                replacement: None, ..
            }) => LaterKind::Withdrawn,
            _ => LaterKind::Corrected,
        };
        found.push(Later {
            record: correction,
            kind,
        });
    }
    Ok(found)
}

/// The statement nearest to `text` among the named organisation's latest statements and the
/// statements indexed under most of the text's words: the organisation's own if one of them shares a
/// word, else anyone's.
fn nearest(
    store: &StoreReader,
    authority: &Authority,
    text: &str,
    org: Option<&OrgName>,
) -> Result<Option<Nearest>, Problem> {
    let tree = store.index_tree();
    let mut candidates: Vec<RecordId> = Vec::new();
    if let Some(org) = org {
        let prefix = texts::org_statements_prefix(&org.id);
        for entry in tree
            .scan_prefix(&prefix)
            .rev()
            .take(GENUINE_ORG_STATEMENTS_MAX)
        {
            let (_, value) = entry?;
            candidates.push(super::super::index::record_id(&value)?);
        }
    }
    // Statements are indexed by their longest words; any of the text's words may be one.
    let mut shared: BTreeMap<RecordId, usize> = BTreeMap::new();
    for word in genuine::words(text)
        .into_iter()
        .take(GENUINE_QUERY_WORDS_MAX)
    {
        let prefix = texts::word_prefix(&word);
        for entry in tree.scan_prefix(&prefix).take(GENUINE_WORD_STATEMENTS_MAX) {
            let (key, _) = entry?;
            let mut rest = KeyReader::new(&key[prefix.len()..]);
            let id = rest.id()?;
            rest.finish()?;
            *shared.entry(id).or_default() += 1;
        }
    }
    let mut by_shared: Vec<(usize, RecordId)> = shared.into_iter().map(|(id, n)| (n, id)).collect();
    by_shared.sort_by_key(|(shared, _)| std::cmp::Reverse(*shared));
    for (_, id) in by_shared.into_iter().take(GENUINE_CANDIDATES_MAX) {
        if !candidates.contains(&id) {
            candidates.push(id);
        }
    }
    let mut loaded = Vec::new();
    for id in candidates {
        let Some(bytes) = store.get(&id)? else {
            continue;
        };
        let decoded = decode(bytes)?;
        let statement = signed_texts(&decoded.body)
            .into_iter()
            .find(|signed| signed.is_statement())
            .map(|signed| (signed.title.to_owned(), signed.text.to_owned()));
        if let Some((title, signed)) = statement {
            loaded.push((summary_of(&decoded), title, signed));
        }
    }
    // The named organisation's nearest statement if it has one near, else anyone's.
    let of_org =
        |(record, ..): &(Summary, String, String)| org.is_some_and(|org| record.author == org.id);
    let mut pool: Vec<_> = loaded.iter().filter(|entry| of_org(entry)).collect();
    let mut best = genuine::nearest(text, pool.iter().map(|(_, _, signed)| signed.as_str()));
    if best.is_none() {
        pool = loaded.iter().collect();
        best = genuine::nearest(text, pool.iter().map(|(_, _, signed)| signed.as_str()));
    }
    Ok(best.and_then(|(at, likeness)| {
        let (record, title, signed) = pool.get(at)?;
        Some(Nearest {
            author: org_name(authority, &record.author),
            diff: genuine::word_diff(signed, text),
            of_named_org: of_org(pool.get(at)?),
            record: record.clone(),
            title: title.clone(),
            likeness,
            text: signed.clone(),
        })
    }))
}

/// Reads a fingerprint from 64 hex digits (a query parameter).
pub fn fingerprint(name: &str, hex: &str) -> Result<Digest, Problem> {
    Digest::from_hex(hex.trim()).map_err(|_| {
        Problem::BadRequest(format!(
            "{name} must be a SHA-256 in 64 hexadecimal digits, not {:?}",
            hex.chars().take(80).collect::<String>()
        ))
    })
}
