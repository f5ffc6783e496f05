//! A treaty's page: its text versions, what supersedes it, and its standing: whether it is in
//! force, each party's current action on which text, and actions by non-parties (findings).
//! The standing is `aidledger_view::treaty`'s, the one the CLI's `show` and `provenance` print;
//! this file only gathers its records from the index, with bounded work: the texts the treaty
//! supersedes (at most `LINE_TEXTS_MAX`), the actions on each (at most `TREATY_ACTIONS_MAX`
//! in all) and each action's corrections (at most `REFERENCES_MAX`).

use aidledger_spec::record::{TextVersion, TreatyText};
use aidledger_view::treaty::{ActionState, InForce, PartyStanding, TreatyRecords, LINE_TEXTS_MAX};

use super::*;

/// A party of the treaty with its standing (`aidledger_view::treaty`).
#[derive(Debug, Serialize)]
pub struct PartyRow {
    /// Its display name, if a member.
    pub name: String,
    /// Its current action and its actions on the treaty's line of texts.
    #[serde(flatten)]
    pub standing: PartyStanding,
}

/// Bytes of one part of a treaty text's language version, the most of it a page shows: a
/// page (and its JSON) stays about this size per language whatever the text's length; the
/// rest is on the next parts (`?lang=fr&part=2`) and in the download of the whole text.
pub const TREATY_TEXT_PART_BYTES: usize = 64 * 1024;

/// A language version, one part of its text shown.
#[derive(Debug, Serialize)]
pub struct VersionView {
    /// Language tag, as signed (a BCP 47 tag such as `en` or `fr`: the pages' `lang`).
    pub language: String,
    /// The version's own hash, hex.
    pub hash: String,
    /// The whole text's size in bytes (UTF-8).
    pub bytes: usize,
    /// Which part is shown, from 1.
    pub part: usize,
    /// How many parts of at most [`TREATY_TEXT_PART_BYTES`] the text has.
    pub parts: usize,
    /// The part shown (the whole text when it has one part).
    pub text: String,
    /// Where the whole text is served as a file: `/treaty/{id}/text/{language}`.
    pub download: String,
}

/// Which part of which language a treaty page shows (every other language shows part 1).
#[derive(Clone, Debug, Default)]
pub struct TextPart {
    /// The language tag, or none for part 1 of every language.
    pub lang: Option<String>,
    /// The part, from 1.
    pub part: Option<usize>,
}

/// The byte ranges of `text`'s parts: each at most [`TREATY_TEXT_PART_BYTES`], cut after a
/// line break in the part's second half when there is one (else at a character boundary),
/// so a part rarely ends mid-line. Deterministic: part N is the same on every request.
pub fn text_parts(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + TREATY_TEXT_PART_BYTES).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end < text.len() {
            let half = start + TREATY_TEXT_PART_BYTES / 2;
            if let Some(line_end) = text[start..end].rfind('\n').map(|at| start + at + 1) {
                if line_end > half {
                    end = line_end;
                }
            }
        }
        parts.push(start..end);
        start = end;
    }
    if parts.is_empty() {
        parts.push(0..0);
    }
    parts
}

/// `/treaty/{id}/text/{language}`: where a version's whole text is downloaded.
pub fn treaty_text_href(id: &RecordId, language: &str) -> String {
    format!(
        "/treaty/{}/text/{}",
        id.to_hex(),
        super::super::html::url_component(language)
    )
}

fn version_view(
    id: &RecordId,
    version: &TextVersion,
    shown: &TextPart,
) -> Result<VersionView, Problem> {
    let parts = text_parts(&version.text);
    let part = match (&shown.lang, shown.part) {
        (Some(lang), Some(part)) if *lang == version.language => part,
        _ => 1,
    };
    let range = part
        .checked_sub(1)
        .and_then(|index| parts.get(index))
        .ok_or_else(|| {
            Problem::NotFound(format!(
                "the {} text has {} part(s); there is no part {part}",
                version.language,
                parts.len()
            ))
        })?;
    Ok(VersionView {
        language: version.language.clone(),
        hash: version.hash().to_hex(),
        bytes: version.text.len(),
        part,
        parts: parts.len(),
        text: version.text[range.clone()].to_owned(),
        download: treaty_text_href(id, &version.language),
    })
}

/// A treaty text's title and one language version's whole text, for its download.
pub fn treaty_text(
    store: &StoreReader,
    id: &RecordId,
    language: &str,
) -> Result<(String, String), Problem> {
    let decoded = load(store, id)?;
    let Body::TreatyText(treaty) = decoded.body else {
        return Err(Problem::NotFound(format!(
            "record {id} is not a treaty text"
        )));
    };
    let title = treaty.title;
    treaty
        .versions
        .into_iter()
        .find(|version| version.language == language)
        .map(|version| (title, version.text))
        .ok_or_else(|| {
            Problem::NotFound(format!("treaty {id} has no text in language {language:?}"))
        })
}

/// A treaty's page.
#[derive(Debug, Serialize)]
pub struct TreatyPage {
    /// The treaty record.
    pub record: Summary,
    /// The name of the member that recorded it (empty when the genesis names none).
    pub author_name: String,
    /// Title.
    pub title: String,
    /// The text hash parties act upon, hex.
    pub text_hash: String,
    /// Language versions.
    pub versions: Vec<VersionView>,
    /// The treaty this one supersedes.
    pub supersedes: Option<Summary>,
    /// Treaties superseding this one.
    pub superseded_by: Vec<Summary>,
    /// Corrections of this treaty record.
    pub corrected_by: Vec<Summary>,
    /// Whether it is in force, and if not, why (`line` says it in words).
    pub in_force: InForce,
    /// The same line for people, each organisation by name with its id
    /// (`not in force: waiting for Danish Refugee Council (DK-CVR-20699310) to ratify or
    /// accede`).
    pub status: String,
    /// The texts it supersedes, nearest first, whose actions count too (see the view).
    pub earlier_texts: Vec<RecordId>,
    /// Each listed party, in the text's order, with its standing.
    pub parties: Vec<PartyRow>,
    /// Actions on this text by organisations it does not list as parties: findings (a node
    /// refuses them; they never count).
    pub non_party_actions: Vec<ActionState>,
    /// More than `TREATY_ACTIONS_MAX` actions on its texts: the standing rests on the first
    /// ones read (`aidledger show` of the treaty reads them all).
    pub actions_truncated: bool,
}

/// Reads a treaty's page, showing part `shown` of a language's text (part 1 of the others).
pub fn treaty_page(
    store: &StoreReader,
    id: &RecordId,
    shown: &TextPart,
) -> Result<TreatyPage, Problem> {
    let decoded = load(store, id)?;
    let Body::TreatyText(treaty) = &decoded.body else {
        return Err(Problem::NotFound(format!(
            "record {id} is not a treaty text"
        )));
    };
    if let Some(lang) = &shown.lang {
        if !treaty
            .versions
            .iter()
            .any(|version| version.language == *lang)
        {
            return Err(Problem::NotFound(format!(
                "treaty {id} has no text in language {lang:?}"
            )));
        }
    }
    let (records, actions_truncated) = treaty_records(store, id, treaty)?;
    let standing = records
        .standing(id)
        .ok_or_else(|| Problem::NotFound(format!("record {id} is not a treaty text")))?;
    let genesis = store.genesis();
    let named = |org: &str| match genesis.member(org) {
        Some(member) => format!("{} ({org})", member.name),
        None => org.to_owned(),
    };
    let status = standing.in_force.line_with(&named);
    let parties = standing
        .parties
        .into_iter()
        .map(|party| PartyRow {
            name: genesis
                .member(&party.org)
                .map(|member| member.name.clone())
                .unwrap_or_default(),
            standing: party,
        })
        .collect();
    let author_name = genesis
        .member(&decoded.signed.header.author)
        .map(|member| member.name.clone())
        .unwrap_or_default();
    Ok(TreatyPage {
        record: summary_of(&decoded),
        author_name,
        title: treaty.title.clone(),
        text_hash: standing.text_hash.to_hex(),
        versions: treaty
            .versions
            .iter()
            .map(|version| version_view(id, version, shown))
            .collect::<Result<_, _>>()?,
        supersedes: match &treaty.supersedes {
            Some(old) => load_summary(store, old)?,
            None => None,
        },
        superseded_by: referencing(store, Referrers::Superseding, id)?,
        corrected_by: referencing(store, Referrers::Correcting, id)?,
        in_force: standing.in_force,
        status,
        earlier_texts: standing.earlier_texts,
        parties,
        non_party_actions: standing.non_party_actions,
        actions_truncated,
    })
}

/// The records the standing of `treaty` (record `id`) rests on: the texts it supersedes, the
/// valid actions on each, and their corrections, and whether actions were left out past
/// `TREATY_ACTIONS_MAX`. Revoked records are left out, as every verifier leaves them out.
fn treaty_records(
    store: &StoreReader,
    id: &RecordId,
    treaty: &TreatyText,
) -> Result<(TreatyRecords, bool), Problem> {
    let mut records = TreatyRecords::new();
    records.add_text(*id, treaty);
    let mut line = vec![*id];
    let mut earlier = treaty.supersedes;
    while let Some(text_id) = earlier.take() {
        if line.len() > LINE_TEXTS_MAX || line.contains(&text_id) {
            break;
        }
        let Some(decoded) = load_valid(store, &text_id)? else {
            break;
        };
        if let Body::TreatyText(text) = &decoded.body {
            records.add_text(text_id, text);
            line.push(text_id);
            earlier = text.supersedes;
        }
    }
    let mut actions_read = 0;
    for text_id in &line {
        let prefix = SortKey::tagged(tag::TREATY_ACTION)
            .id(&text_id.0)
            .into_bytes();
        for entry in store.index_tree().scan_prefix(&prefix) {
            if actions_read == TREATY_ACTIONS_MAX {
                return Ok((records, true));
            }
            let (key, _) = entry?;
            let mut rest = KeyReader::new(&key[prefix.len()..]);
            let action_id = rest.id()?;
            rest.finish()?;
            actions_read += 1;
            add_valid(store, &mut records, &action_id)?;
            for correction in correction_ids(store, &action_id)? {
                add_valid(store, &mut records, &correction)?;
            }
        }
    }
    Ok((records, false))
}

/// Adds record `id` to `records` unless it is revoked or missing.
fn add_valid(
    store: &StoreReader,
    records: &mut TreatyRecords,
    id: &RecordId,
) -> Result<(), Problem> {
    if let Some(decoded) = load_valid(store, id)? {
        let header = &decoded.signed.header;
        records.add(*id, &header.author, header.seq, &decoded.body);
    }
    Ok(())
}

/// Record `id` when it is stored and not revoked.
fn load_valid(store: &StoreReader, id: &RecordId) -> Result<Option<Decoded>, Problem> {
    if store.revocation(id)?.is_some() {
        return Ok(None);
    }
    match store.get(id)? {
        Some(bytes) => Ok(Some(decode(bytes)?)),
        None => Ok(None),
    }
}

/// The ids of the corrections of `id` (at most `REFERENCES_MAX`).
fn correction_ids(store: &StoreReader, id: &RecordId) -> Result<Vec<RecordId>, StoreError> {
    Ok(referencing(store, Referrers::Correcting, id)?
        .into_iter()
        .map(|summary| summary.id)
        .collect())
}
