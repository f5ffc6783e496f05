//! A treaty's page: its text versions, what supersedes it, and each party's actions.

use super::*;

/// One party's action on a treaty.
#[derive(Debug, Serialize)]
pub struct ActionView {
    /// The action record.
    pub id: RecordId,
    /// Who acted.
    pub org: String,
    /// sign, ratify, accede or withdraw.
    pub action: &'static str,
    /// When it took effect.
    pub date: String,
    /// Note.
    pub note: String,
    /// Whether it names this record's exact text hash.
    pub on_this_text: bool,
}

/// A party and its actions.
#[derive(Debug, Serialize)]
pub struct PartyState {
    /// The organisation.
    pub org: String,
    /// Its display name, if a member.
    pub name: String,
    /// Whether the treaty lists it as a party.
    pub listed_party: bool,
    /// Its latest action on this exact text, or `none`.
    pub state: &'static str,
    /// Its actions, oldest first.
    pub actions: Vec<ActionView>,
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
    /// Parties and their actions.
    pub parties: Vec<PartyState>,
}

/// Reads a treaty's page.
pub fn treaty_page(store: &StoreReader, id: &RecordId) -> Result<TreatyPage, Problem> {
    let decoded = load(store, id)?;
    let Body::TreatyText(treaty) = &decoded.body else {
        return Err(Problem::NotFound(format!(
            "record {id} is not a treaty text"
        )));
    };
    let text_hash = treaty.text_hash();
    let mut parties: Vec<PartyState> = treaty
        .parties
        .iter()
        .map(|org| party_state(store, org, true))
        .collect();
    let prefix = SortKey::tagged(tag::TREATY_ACTION).id(&id.0).into_bytes();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(TREATY_ACTIONS_MAX)
    {
        let (key, _) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let action_id = rest.id()?;
        rest.finish()?;
        let action_record = load(store, &action_id)?;
        let Body::TreatyAction(action) = &action_record.body else {
            continue;
        };
        let org = action_record.signed.header.author.clone();
        if !parties.iter().any(|party| party.org == org) {
            parties.push(party_state(store, &org, false));
        }
        let view = ActionView {
            id: action_id,
            org: org.clone(),
            action: action.action.name(),
            date: action.date.to_string(),
            note: action.note.clone(),
            on_this_text: action.text_hash == text_hash,
        };
        if let Some(party) = parties.iter_mut().find(|party| party.org == org) {
            party.actions.push(view);
        }
    }
    for party in &mut parties {
        party.actions.sort_by(|a, b| a.date.cmp(&b.date));
        // The state is the latest action (by its date) on this exact text.
        let latest = party
            .actions
            .iter()
            .rev()
            .find(|action| action.on_this_text);
        party.state = latest.map_or("none", |action| action.action);
    }
    Ok(TreatyPage {
        record: summary_of(&decoded),
        title: treaty.title.clone(),
        text_hash: text_hash.to_hex(),
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
        parties,
    })
}

fn party_state(store: &StoreReader, org: &str, listed_party: bool) -> PartyState {
    PartyState {
        org: org.to_owned(),
        name: store
            .genesis()
            .member(org)
            .map(|member| member.name.clone())
            .unwrap_or_default(),
        listed_party,
        state: "none",
        actions: Vec::new(),
    }
}
