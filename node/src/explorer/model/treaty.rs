//! A treaty's page: its text versions, what supersedes it, and its standing: whether it is in
//! force, each party's current action on which text, and actions by non-parties (findings).
//! The standing is `aidledger_view::treaty`'s, the one the CLI's `show` and `provenance` print;
//! this file only gathers its records from the index, with bounded work: the texts the treaty
//! supersedes (at most `LINE_TEXTS_MAX`), the actions on each (at most `TREATY_ACTIONS_MAX`
//! in all) and each action's corrections (at most `REFERENCES_MAX`).

use aidledger_spec::record::TreatyText;
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

/// A language version.
#[derive(Debug, Serialize)]
pub struct VersionView {
    /// Language tag.
    pub language: String,
    /// The version's own hash, hex.
    pub hash: String,
    /// The text.
    pub text: String,
}

/// A treaty's page.
#[derive(Debug, Serialize)]
pub struct TreatyPage {
    /// The treaty record.
    pub record: Summary,
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

/// Reads a treaty's page.
pub fn treaty_page(store: &StoreReader, id: &RecordId) -> Result<TreatyPage, Problem> {
    let decoded = load(store, id)?;
    let Body::TreatyText(treaty) = &decoded.body else {
        return Err(Problem::NotFound(format!(
            "record {id} is not a treaty text"
        )));
    };
    let (records, actions_truncated) = treaty_records(store, id, treaty)?;
    let standing = records
        .standing(id)
        .ok_or_else(|| Problem::NotFound(format!("record {id} is not a treaty text")))?;
    let genesis = store.genesis();
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
    Ok(TreatyPage {
        record: summary_of(&decoded),
        title: treaty.title.clone(),
        text_hash: standing.text_hash.to_hex(),
        versions: treaty
            .versions
            .iter()
            .map(|version| VersionView {
                language: version.language.clone(),
                hash: version.hash().to_hex(),
                text: version.text.clone(),
            })
            .collect(),
        supersedes: match &treaty.supersedes {
            Some(old) => load_summary(store, old)?,
            None => None,
        },
        superseded_by: referencing(store, Referrers::Superseding, id)?,
        corrected_by: referencing(store, Referrers::Correcting, id)?,
        in_force: standing.in_force,
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
