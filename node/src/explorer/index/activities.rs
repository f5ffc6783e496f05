//! Activity records (kind 8) in the index: which record of each author is an activity's
//! latest, with the text of its titles for search (`A`).
//!
//! An author's latest activity record for an identifier supersedes its earlier ones
//! (FORMAT.md §5.10): appends come in chain order, so the record appended last is the latest,
//! and its key's value replaces the one of the record it supersedes, without reading it.
//!
//! Search compares the titles kept in these values (as it compares treaty titles), one key
//! per (activity, author), instead of keeping a key per title word: word keys land all over the
//! tree and must be removed when a title changes (a read of the superseded record in every
//! append), which cost the IATI import more than a tenth of its throughput (BENCHMARKS.md).
//! Descriptions are not kept for search: they run to thousands of words per activity.

use aidledger_spec::activity::Activity;

use super::*;

/// Most bytes of title text kept per activity record for search (every language, lower
/// case; the record itself keeps the titles whole).
pub const TITLE_SEARCH_BYTES_MAX: usize = 2048;

/// The `A` key of an author's latest activity record for an identifier.
pub(crate) fn latest_key(activity: &str, author: &str) -> Vec<u8> {
    SortKey::tagged(tag::ACTIVITY_LATEST)
        .text(activity)
        .text(author)
        .into_bytes()
}

/// The text search compares: every title in lower case, one a line, cut at a character
/// boundary before [`TITLE_SEARCH_BYTES_MAX`] bytes would be passed.
pub fn title_search_text(activity: &Activity) -> String {
    let mut text = String::new();
    for title in &activity.titles {
        for c in title.text.to_lowercase().chars().chain(['\n']) {
            if text.len() + c.len_utf8() > TITLE_SEARCH_BYTES_MAX {
                return text;
            }
            text.push(c);
        }
    }
    text
}

/// An `A` value: the record id, then the title text for search.
pub(crate) fn latest_value(id: &RecordId, activity: &Activity) -> Vec<u8> {
    let mut value = id.0.to_vec();
    value.extend_from_slice(title_search_text(activity).as_bytes());
    value
}

/// The record id and the title text of an `A` value.
pub fn read_latest_value(value: &[u8]) -> Result<(RecordId, &str), StoreError> {
    let (id, text) = value.split_at_checked(ID_BYTES).ok_or_else(|| {
        StoreError::Corrupt("an explorer activity value is shorter than a record id".into())
    })?;
    let text = std::str::from_utf8(text).map_err(|_| {
        StoreError::Corrupt("an explorer activity value's titles are not UTF-8".into())
    })?;
    Ok((record_id(id)?, text))
}

/// Indexes an activity record: it becomes its author's latest for the identifier (its search
/// terms are `search.rs`').
pub(super) fn index_activity(
    trees: &AppendTrees<'_>,
    author: &str,
    id: RecordId,
    activity: &Activity,
) -> TxResult<()> {
    let identifier = activity.iati_identifier.as_str();
    trees
        .explorer
        .insert(latest_key(identifier, author), latest_value(&id, activity))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidledger_spec::activity::Narrative;

    #[test]
    fn titles_are_kept_in_lower_case_and_bounded() {
        let mut activity = Activity {
            iati_identifier: "X".into(),
            reporting_org: String::new(),
            titles: vec![
                Narrative {
                    language: "en".into(),
                    text: "Water project in Gaziantep".into(),
                },
                Narrative {
                    language: "tr".into(),
                    text: "GAZIANTEP su projesi".into(),
                },
            ],
            descriptions: Vec::new(),
            status: String::new(),
            dates: Vec::new(),
            recipient_countries: Vec::new(),
            recipient_regions: Vec::new(),
            sectors: Vec::new(),
            participating_orgs: Vec::new(),
            iati: None,
        };
        let value = latest_value(&RecordId::ZERO, &activity);
        let (id, text) = read_latest_value(&value).unwrap();
        assert_eq!(id, RecordId::ZERO);
        assert_eq!(text, "water project in gaziantep\ngaziantep su projesi\n");
        activity.titles[0].text = "é".repeat(TITLE_SEARCH_BYTES_MAX);
        let text = title_search_text(&activity);
        assert_eq!(text.len(), TITLE_SEARCH_BYTES_MAX);
        assert!(text.chars().all(|c| c == 'é'));
    }
}
