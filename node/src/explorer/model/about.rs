//! What an activity is about, from the activity records (kind 8): the latest record of each
//! author for the identifier (the index's `A` keys), titles first; and the search of
//! activities by the words of their titles (`w` keys).

use aidledger_spec::activity::Activity;
use aidledger_view::activity_text::{reported_by, PREFERRED_LANGUAGE};

use super::*;
use crate::explorer::index::activities::{latest_key, word_key, words};

/// Most authors whose activity records one activity page shows.
pub const ABOUT_AUTHORS_MAX: usize = 32;
/// Most `w` keys of a search's first word read (the other words are looked up per hit).
pub const TITLE_WORD_KEYS_SCANNED_MAX: usize = 10_000;
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
        let id = crate::explorer::index::record_id(&value)?;
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

/// Activities one of whose authors' latest titles holds every word of `query` (at most
/// [`QUERY_WORDS_MAX`] words; none when the query has no word).
pub fn search_titles(store: &StoreReader, query: &str) -> Result<Vec<TitleHit>, StoreError> {
    let mut query_words = words(query);
    query_words.truncate(QUERY_WORDS_MAX);
    let Some((first, rest)) = query_words.split_first() else {
        return Ok(Vec::new());
    };
    let prefix = SortKey::tagged(tag::TITLE_WORD).text(first).into_bytes();
    let mut hits: Vec<TitleHit> = Vec::new();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(TITLE_WORD_KEYS_SCANNED_MAX)
    {
        let (key, _) = entry?;
        let mut parts = KeyReader::new(&key[prefix.len()..]);
        let activity = parts.text()?;
        let author = parts.text()?;
        parts.finish()?;
        if hits.iter().any(|hit| hit.activity == activity) {
            continue;
        }
        let mut all = true;
        for word in rest {
            if store
                .index_tree()
                .get(word_key(word, &activity, &author))?
                .is_none()
            {
                all = false;
                break;
            }
        }
        if !all {
            continue;
        }
        let title = title_of(store, &activity, &author)?.unwrap_or_default();
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

/// The title of `author`'s latest activity record of `activity`.
fn title_of(
    store: &StoreReader,
    activity: &str,
    author: &str,
) -> Result<Option<String>, StoreError> {
    let Some(value) = store.index_tree().get(latest_key(activity, author))? else {
        return Ok(None);
    };
    let id = crate::explorer::index::record_id(&value)?;
    let Some(bytes) = store.get(&id)? else {
        return Ok(None);
    };
    let (_, body) = crate::explorer::index::decode(&bytes)?;
    Ok(match body {
        Body::Activity(record) => record.title_in(PREFERRED_LANGUAGE).map(str::to_owned),
        _ => None,
    })
}
