//! What an activity is about, from the activity records (kind 8): the latest record of each
//! author for the identifier (the index's `A` keys), titles first; and the search of
//! activities by the words of their titles (kept in the `A` values).

use aidledger_spec::activity::Activity;
use aidledger_view::activity_text::{reported_by, PREFERRED_LANGUAGE};

use super::*;
use crate::explorer::index::activities::read_latest_value;

/// Most authors whose activity records one activity page shows.
pub const ABOUT_AUTHORS_MAX: usize = 32;
/// Most activity records whose titles one search compares (bounds a search's work, as
/// [`TREATY_TITLES_SCANNED_MAX`] does for treaties).
pub const ACTIVITY_TITLES_SCANNED_MAX: usize = 200_000;
/// Most words of a query used to search titles.
pub const QUERY_WORDS_MAX: usize = 8;

/// One author's latest activity record of an activity.
#[derive(Debug, Serialize)]
pub struct ActivityAbout {
    /// The author.
    pub author: String,
    /// The record.
    pub record: RecordId,
    /// "reported by A about B" when the publisher is not the author.
    pub reported_by: Option<String>,
    /// The record's fields (with the names of its codes, as the record view gives them).
    pub activity: Value,
    /// The fields as signed, for the HTML page.
    #[serde(skip)]
    pub body: Activity,
}

/// The latest activity record of each author of `activity`, in author order.
pub fn activity_about(
    store: &StoreReader,
    activity: &str,
) -> Result<Vec<ActivityAbout>, StoreError> {
    let prefix = SortKey::tagged(tag::ACTIVITY_LATEST)
        .text(activity)
        .into_bytes();
    let mut about = Vec::new();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(ABOUT_AUTHORS_MAX)
    {
        let (_, value) = entry?;
        let (id, _) = read_latest_value(&value)?;
        let Some(bytes) = store.get(&id)? else {
            continue;
        };
        let (author, body) = crate::explorer::index::decode(&bytes)?;
        let Body::Activity(record) = body else {
            continue;
        };
        about.push(ActivityAbout {
            reported_by: reported_by(&author, &record),
            activity: aidledger_view::body_json(&Body::Activity(record.clone())),
            author,
            record: id,
            body: record,
        });
    }
    Ok(about)
}

/// An activity found by the words of its title.
#[derive(Debug, Serialize)]
pub struct TitleHit {
    /// The IATI activity id.
    pub activity: String,
    /// The title (in English when the record has one).
    pub title: String,
    /// Whose activity record has it.
    pub author: String,
}

/// Activities one of whose authors' latest titles holds every word of `query` (split at white
/// space, any case; a word may be part of a title's word); at most [`QUERY_WORDS_MAX`] words,
/// and the first [`ACTIVITY_TITLES_SCANNED_MAX`] activity records compared.
pub fn search_titles(store: &StoreReader, query: &str) -> Result<Vec<TitleHit>, StoreError> {
    let lowercase = query.to_lowercase();
    let words: Vec<&str> = lowercase.split_whitespace().take(QUERY_WORDS_MAX).collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let prefix = SortKey::tagged(tag::ACTIVITY_LATEST).into_bytes();
    let mut hits: Vec<TitleHit> = Vec::new();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(ACTIVITY_TITLES_SCANNED_MAX)
    {
        let (key, value) = entry?;
        let (id, titles) = read_latest_value(&value)?;
        if !words.iter().all(|word| titles.contains(word)) {
            continue;
        }
        let mut parts = KeyReader::new(&key[prefix.len()..]);
        let activity = parts.text()?;
        let author = parts.text()?;
        parts.finish()?;
        if hits.iter().any(|hit| hit.activity == activity) {
            continue;
        }
        let title = title_of(store, &id)?.unwrap_or_default();
        hits.push(TitleHit {
            activity,
            title,
            author,
        });
        if hits.len() >= SEARCH_RESULTS_MAX {
            break;
        }
    }
    Ok(hits)
}

/// The title of an activity record.
fn title_of(store: &StoreReader, id: &RecordId) -> Result<Option<String>, StoreError> {
    let Some(bytes) = store.get(id)? else {
        return Ok(None);
    };
    let (_, body) = crate::explorer::index::decode(&bytes)?;
    Ok(match body {
        Body::Activity(record) => record.title_in(PREFERRED_LANGUAGE).map(str::to_owned),
        _ => None,
    })
}
