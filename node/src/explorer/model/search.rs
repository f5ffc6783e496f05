//! Search: record id prefixes, organisations, activity id prefixes, activity titles (by
//! their words, `about.rs`) and treaty titles.

use super::*;

/// A search's results.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    /// The query as read.
    pub query: String,
    /// Records whose id starts with the query.
    pub records: Vec<Summary>,
    /// Members whose id or name contains the query.
    pub organisations: Vec<MemberView>,
    /// Activity ids starting with the query.
    pub activities: Vec<String>,
    /// Activities whose title holds every word of the query.
    pub activity_titles: Vec<TitleHit>,
    /// Treaties whose title contains the query.
    pub treaties: Vec<Summary>,
}

/// Searches record ids (prefix), organisations, activity ids (prefix) and treaty titles.
pub fn search(
    store: &StoreReader,
    authority: &Authority,
    query: &str,
) -> Result<SearchResults, Problem> {
    let query = query.trim();
    if query.len() > QUERY_BYTES_MAX {
        return Err(Problem::BadRequest(format!(
            "a search is at most {QUERY_BYTES_MAX} bytes"
        )));
    }
    let mut results = SearchResults {
        query: query.to_owned(),
        records: Vec::new(),
        organisations: Vec::new(),
        activities: Vec::new(),
        activity_titles: Vec::new(),
        treaties: Vec::new(),
    };
    if query.is_empty() {
        return Ok(results);
    }
    let lowercase = query.to_lowercase();
    let hex_prefix =
        query.len() <= ID_HEX_DIGITS && query.bytes().all(|byte| byte.is_ascii_hexdigit());
    if hex_prefix {
        for id in ids_with_prefix(store, &lowercase, SEARCH_RESULTS_MAX)? {
            results.records.extend(load_summary(store, &id)?);
        }
    }
    results.organisations = authority
        .members()
        .filter(|member| {
            member.id.to_lowercase().contains(&lowercase)
                || member.name.to_lowercase().contains(&lowercase)
        })
        .take(SEARCH_RESULTS_MAX)
        .map(MemberView::of)
        .collect();
    let prefix = SortKey::tagged(tag::ACTIVITY_NAME)
        .raw(query.as_bytes())
        .into_bytes();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(SEARCH_RESULTS_MAX)
    {
        let (key, _) = entry?;
        let mut parts = KeyReader::new(&key);
        parts.u8()?; // the tag
        let activity = String::from_utf8_lossy(parts.rest()).into_owned();
        results.activities.push(activity);
    }
    results.activity_titles = search_titles(store, query)?;
    let titles = SortKey::tagged(tag::TREATY_TITLE).into_bytes();
    for entry in store
        .index_tree()
        .scan_prefix(&titles)
        .take(TREATY_TITLES_SCANNED_MAX)
    {
        let (key, title) = entry?;
        if String::from_utf8_lossy(&title)
            .to_lowercase()
            .contains(&lowercase)
        {
            results
                .treaties
                .extend(load_summary(store, &treaty_id(&key[titles.len()..])?)?);
            if results.treaties.len() >= SEARCH_RESULTS_MAX {
                break;
            }
        }
    }
    Ok(results)
}

/// The treaty id of an `n` key, after its tag.
fn treaty_id(parts: &[u8]) -> Result<RecordId, StoreError> {
    let mut reader = KeyReader::new(parts);
    let id = reader.id()?;
    reader.finish()?;
    Ok(id)
}
