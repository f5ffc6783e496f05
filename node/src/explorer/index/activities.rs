//! Activity records (kind 8) in the index: which record of each author is an activity's
//! latest (`A`), and the words of its titles for search (`w`).
//!
//! An author's latest activity record for an identifier supersedes its earlier ones
//! (FORMAT.md §5.10): appends come in chain order, so the record appended last is the
//! latest, and its title words replace those of the record it supersedes. Descriptions are not
//! indexed: they run to thousands of words per activity, and an import would write a key for
//! each; titles are what people search by.

use aidledger_spec::activity::Activity;

use super::*;

/// Longest word kept for search, in bytes (a longer one is not a word people type).
pub const WORD_BYTES_MAX: usize = 64;
/// Most distinct words indexed per activity record (over all its titles).
pub const WORDS_PER_RECORD_MAX: usize = 128;
/// Shortest word kept for search, in characters ("in", "of" are kept; single letters are not).
const WORD_CHARS_MIN: usize = 2;

/// The `A` key of an author's latest activity record for an identifier.
pub(crate) fn latest_key(activity: &str, author: &str) -> Vec<u8> {
    SortKey::tagged(tag::ACTIVITY_LATEST)
        .text(activity)
        .text(author)
        .into_bytes()
}

/// The `w` key: `word` is in a title of `author`'s latest record of `activity`.
pub(crate) fn word_key(word: &str, activity: &str, author: &str) -> Vec<u8> {
    SortKey::tagged(tag::TITLE_WORD)
        .text(word)
        .text(activity)
        .text(author)
        .into_bytes()
}

/// The distinct words of a text as search keys: lower case, split at every character that is
/// not a letter or digit, at least two characters, at most [`WORD_BYTES_MAX`] bytes.
pub fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= WORD_CHARS_MIN && word.len() <= WORD_BYTES_MAX)
    {
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// The words of every title of an activity record, at most [`WORDS_PER_RECORD_MAX`].
pub fn title_words(activity: &Activity) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for title in &activity.titles {
        for word in words(&title.text) {
            if all.len() == WORDS_PER_RECORD_MAX {
                return all;
            }
            if !all.contains(&word) {
                all.push(word);
            }
        }
    }
    all
}

/// Indexes an activity record: it becomes its author's latest for the identifier, its title
/// words replace those of the record it supersedes, and the identifier is named for search.
pub(super) fn index_activity(
    trees: &AppendTrees<'_>,
    author: &str,
    id: RecordId,
    activity: &Activity,
) -> TxResult<()> {
    let identifier = activity.iati_identifier.as_str();
    let latest = latest_key(identifier, author);
    if let Some(previous) = trees.explorer.get(&latest)? {
        let previous = record_id(&previous).map_err(|error| corrupt(error.to_string()))?;
        // A record lost to a power loss (see `stored_in_tx`) leaves its words: a search then
        // finds the activity by a word it no longer has, and its page shows the latest title.
        if let Some(StoredRecord {
            body: Body::Activity(superseded),
            ..
        }) = stored_in_tx(trees, &previous)?
        {
            for word in title_words(&superseded) {
                trees.explorer.remove(word_key(&word, identifier, author))?;
            }
        }
    }
    trees.explorer.insert(latest, &id.0[..])?;
    for word in title_words(activity) {
        trees
            .explorer
            .insert(word_key(&word, identifier, author), &[][..])?;
    }
    let name = SortKey::tagged(tag::ACTIVITY_NAME).raw(identifier.as_bytes());
    trees.explorer.insert(name.into_bytes(), &[][..])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_letters_and_digits() {
        assert_eq!(
            words("Water project in Gaziantep (Türkiye), 2024–2026: WATER!"),
            [
                "water",
                "project",
                "in",
                "gaziantep",
                "türkiye",
                "2024",
                "2026"
            ]
        );
        assert_eq!(words("a - b"), Vec::<String>::new());
        assert_eq!(words(&"x".repeat(WORD_BYTES_MAX + 1)), Vec::<String>::new());
    }
}
