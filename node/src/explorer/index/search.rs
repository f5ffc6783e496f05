//! Search terms (`S` keys), written in the append transaction: the words and id parts a
//! search finds, each pointing at what it names.
//!
//! A key is `S` ‖ term ‖ `0x00` ‖ field (u8, [`field`]) ‖ target: the term raw (lower case,
//! no control character, so never `0x00`) so that a prefix scan of `S` ‖ word finds every
//! term the word begins, and a scan of `S` ‖ word ‖ `0x00` the term itself. What the target
//! and the value hold depends on the field:
//!
//! | field | term | target | value |
//! |---|---|---|---|
//! | provider/receiver id, name | suffixes of the org ref; words of the name | org ref, name (texts) | original id ‖ version id (a record currently naming it) |
//! | activity id | suffixes of the id | activity (text) | empty |
//! | activity title, description, place | words; recipient country and region codes | author (text), first seq (u64) | a posting: the activities (and their activity records) of one append group that carry the term ([`Posting`]) |
//! | statement title, treaty title | words | record id | the title |
//!
//! Ids are found by their beginning and by any part that begins one of their segments, because
//! the suffix of an id from each segment on is a term ([`id_suffixes`]): `301150-200` is a
//! prefix of a suffix of `gb-gov-1-301150-200`. An activity id is written
//! once, when its full-id key is not there yet.
//!
//! An activity record's terms are gathered per append group: one key per term, field and author
//! holds every activity of the group that has the term (up to [`POSTING_ENTRIES_MAX`], then a new
//! key from the next record's seq), as the `a` listings do. A key per term and activity cost
//! the IATI import two thirds of its throughput: ~45 scattered inserts per activity record
//! (BENCHMARKS.md, issue 20); a group of an import's activities shares most of its words.
//!
//! Terms are one per thing named, not per record: an organisation named by a million
//! transactions has its terms once, pointing at one record that currently names it. Nothing is
//! removed when a record is corrected or an activity record superseded (that would need a read
//! of the old record in the append, which cost the IATI import, `activities.rs`); the value
//! says which version carried the term, and a search shows a term only while that version is
//! current (the `C` key of the original names it, or there is none and the version is the
//! original; for activity records, the `A` key names the record). A record naming an
//! organisation whose posting points at a superseded version takes the posting over. Only a
//! transaction's own correction changes what it stands for (`aidledger_view::corrections`):
//! a correction of a statement or treaty text is listed on its page and changes no term.

use std::collections::HashSet;

use aidledger_spec::activity::Activity;
use aidledger_spec::codec::{write_bytes, write_list, DecodeError, List, Reader};
use aidledger_spec::limits::SHORT_TEXT_BYTES_MAX;
use aidledger_spec::record::{Party, Statement, TreatyText};

use super::*;

/// The fields a term was found in (the byte after the term's `0x00`).
pub mod field {
    /// A transaction's provider org ref.
    pub const PROVIDER_ID: u8 = 1;
    /// A transaction's provider name.
    pub const PROVIDER_NAME: u8 = 2;
    /// A transaction's receiver org ref.
    pub const RECEIVER_ID: u8 = 3;
    /// A transaction's receiver name.
    pub const RECEIVER_NAME: u8 = 4;
    /// An activity id (of a transaction, its parties or an activity record).
    pub const ACTIVITY_ID: u8 = 10;
    /// A word of an activity record's titles.
    pub const ACTIVITY_TITLE: u8 = 11;
    /// A word of an activity record's descriptions.
    pub const ACTIVITY_DESCRIPTION: u8 = 12;
    /// A recipient country or region code of an activity record.
    pub const PLACE: u8 = 13;
    /// A word of a statement's title.
    pub const STATEMENT_TITLE: u8 = 20;
    /// A word of a treaty text's title.
    pub const TREATY_TITLE: u8 = 21;
}

/// Longest term, in bytes (a longer word is cut at a character boundary; a query word is cut
/// alike, so it still finds it).
pub const TERM_BYTES_MAX: usize = 64;
/// Shortest id suffix kept as a term, in characters (shorter parts of ids are too common to
/// find anything by).
pub const ID_SUFFIX_CHARS_MIN: usize = 3;
/// Most suffixes of one id kept as terms (the longest ones).
pub const ID_SUFFIXES_MAX: usize = 16;
/// Most words of one name or title kept as terms.
pub const WORDS_PER_FIELD_MAX: usize = 32;
/// Most distinct words of an activity record's descriptions kept as terms (descriptions run
/// to thousands of words; their first words say most, and every term is a write in the IATI
/// import).
pub const DESCRIPTION_WORDS_MAX: usize = 32;
/// Description words too common to be worth a term (English, French, Spanish).
const STOP_WORDS: [&str; 24] = [
    "the", "and", "for", "with", "this", "that", "from", "are", "will", "its", "has", "have",
    "des", "les", "pour", "par", "une", "dans", "del", "los", "las", "por", "con", "para",
];
/// Shortest description word kept, in characters ("of", "to" find nothing useful).
pub const DESCRIPTION_WORD_CHARS_MIN: usize = 3;
/// Most bytes of a title kept in a term's value for display.
pub const TITLE_VALUE_BYTES_MAX: usize = 512;
/// The byte between a term and its field.
pub const TERM_END: u8 = 0;
/// Most activities in one posting of an activity record's term (a value of at most ~270 KiB
/// with the longest activity ids, ~20 KiB with typical ones).
pub const POSTING_ENTRIES_MAX: usize = 256;

/// `text` in lower case, cut to [`TERM_BYTES_MAX`] at a character boundary.
pub fn term(text: &str) -> String {
    let mut term: String = text
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    cut(&mut term, TERM_BYTES_MAX);
    term
}

/// Cuts `text` to at most `max` bytes, at a character boundary.
pub fn cut(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// The words of a text as terms: lower case, split at every character that is not a letter
/// or digit of any script, cut to [`TERM_BYTES_MAX`].
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(term)
}

/// The terms of an id: its suffixes in lower case from the start of each of its segments
/// (the id itself, then from each letter or digit after another character: `gb-gov-1-301150-200`,
/// `gov-1-301150-200`, `1-301150-200`, `301150-200`, `200`); every suffix but the whole id at
/// least [`ID_SUFFIX_CHARS_MIN`] characters, at most [`ID_SUFFIXES_MAX`] of them. A part of an
/// id that begins a segment is found by a prefix scan; one that begins inside a segment
/// (`1150-200`) is not: a suffix from every character would be three to four times the keys
/// (BENCHMARKS.md), written in the IATI import for every new activity.
pub fn id_suffixes(id: &str) -> Vec<String> {
    let lower = term(id);
    let mut suffixes = Vec::new();
    if lower.is_empty() {
        return suffixes;
    }
    suffixes.push(lower.clone());
    let mut previous_alphanumeric = true;
    for (at, c) in lower.char_indices() {
        let alphanumeric = c.is_alphanumeric();
        if at > 0 && alphanumeric && !previous_alphanumeric {
            let suffix = &lower[at..];
            if suffix.chars().count() >= ID_SUFFIX_CHARS_MIN {
                suffixes.push(suffix.to_owned());
            }
        }
        previous_alphanumeric = alphanumeric;
        if suffixes.len() == ID_SUFFIXES_MAX {
            break;
        }
    }
    suffixes
}

/// The key of a term: `S` ‖ term ‖ `0x00` ‖ field, then the target's parts.
pub fn term_key(term: &str, field: u8) -> SortKey {
    SortKey::tagged(tag::SEARCH_TERM)
        .raw(term.as_bytes())
        .u8(TERM_END)
        .u8(field)
}

/// The search state of one append transaction: the keys already written or found current in
/// it, so that a group of a thousand transactions of one activity naming one receiver reads
/// its terms once.
#[derive(Default)]
pub(crate) struct SearchWrites {
    seen: HashSet<Vec<u8>>,
    /// The activity-record postings being gathered, by key prefix (`S` ‖ term ‖ `0x00` ‖
    /// field ‖ author).
    postings: Gathered<PostingEntry, POSTING_ENTRIES_MAX>,
}

/// One entry of a posting: an activity and the activity record of it that has the term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostingEntry {
    /// The activity's IATI identifier.
    pub activity: String,
    /// The activity record carrying the term.
    pub record: RecordId,
}

impl Codec for PostingEntry {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, self.activity.as_bytes());
        self.record.0.write(out);
    }

    fn read(reader: &mut Reader<'_>) -> Result<PostingEntry, DecodeError> {
        let activity = reader
            .text::<SHORT_TEXT_BYTES_MAX>("a posting's activity")?
            .to_owned();
        let record = aidledger_spec::Digest(reader.array("a posting's record id")?);
        Ok(PostingEntry { activity, record })
    }
}

/// The value of an activity-record term's key: a list (§2: `u64` count, then the entries) of 1
/// to [`POSTING_ENTRIES_MAX`] entries, in the order their records were appended.
pub struct Posting;

impl Posting {
    /// The entries of a stored posting.
    pub fn decode(value: &[u8]) -> Result<Vec<PostingEntry>, StoreError> {
        let List(entries) = List::<PostingEntry, POSTING_ENTRIES_MAX>::from_bytes(value)
            .map_err(|error| StoreError::Corrupt(format!("an explorer search posting: {error}")))?;
        if entries.is_empty() {
            return Err(StoreError::Corrupt(
                "an explorer search posting is empty".into(),
            ));
        }
        Ok(entries)
    }

    fn encode(entries: &[PostingEntry]) -> Vec<u8> {
        let mut value = Vec::new();
        write_list(&mut value, entries);
        value
    }
}

impl AppendTrees<'_> {
    /// Whether `key` is new in this transaction (and marks it seen).
    fn first_in_group(&self, key: &[u8]) -> bool {
        self.search.borrow_mut().seen.insert(key.to_vec())
    }

    /// Adds an activity record to the posting of `prefix` (written when full, or by
    /// [`finish`]).
    fn post_activity(&self, prefix: Vec<u8>, seq: u64, entry: PostingEntry) -> TxResult<()> {
        let full = self.search.borrow_mut().postings.add(prefix, seq, entry);
        if let Some((key, entries)) = full {
            self.explorer.insert(key, Posting::encode(&entries))?;
        }
        Ok(())
    }
}

/// Writes the postings the transaction gathered; once, after its last record is indexed.
pub(super) fn finish(trees: &AppendTrees<'_>) -> TxResult<()> {
    let postings = trees.search.borrow_mut().postings.drain();
    for (key, entries) in postings {
        trees.explorer.insert(key, Posting::encode(&entries))?;
    }
    Ok(())
}

/// The original and version ids of a value (64 bytes).
pub fn read_versions(value: &[u8]) -> Result<(RecordId, RecordId), StoreError> {
    if value.len() < 2 * ID_BYTES {
        return Err(StoreError::Corrupt(
            "an explorer search value is shorter than two record ids".into(),
        ));
    }
    Ok((
        record_id(&value[..ID_BYTES])?,
        record_id(&value[ID_BYTES..2 * ID_BYTES])?,
    ))
}

/// Whether `version` is what `original` currently stands for: the latest counting correction
/// (`C`) when there is one, else the original itself.
fn is_current_in_tx(
    trees: &AppendTrees<'_>,
    original: &RecordId,
    version: &RecordId,
) -> TxResult<bool> {
    let latest = SortKey::tagged(tag::LATEST_CORRECTION).id(&original.0);
    Ok(match trees.explorer.get(latest.into_bytes())? {
        Some(latest) => latest.as_ref() == version.0,
        None => version == original,
    })
}

/// Writes a party's postings (every term of one organisation id and name in one field, all
/// with the same value) unless they are there and current. They are always written together,
/// so the first key stands for all of them: one or two point reads a party, where reading each
/// term's posting cost the IATI import two reads per term and most of its throughput.
fn post_party(
    trees: &AppendTrees<'_>,
    keys: Vec<Vec<u8>>,
    original: &RecordId,
    version: &RecordId,
) -> TxResult<()> {
    let Some(first) = keys.first() else {
        return Ok(());
    };
    if !trees.first_in_group(first) {
        return Ok(());
    }
    if let Some(value) = trees.explorer.get(first)? {
        let (old_original, old_version) =
            read_versions(&value).map_err(|error| corrupt(error.to_string()))?;
        if is_current_in_tx(trees, &old_original, &old_version)? {
            return Ok(());
        }
    }
    let mut value = original.0.to_vec();
    value.extend_from_slice(&version.0);
    for key in keys {
        trees.explorer.insert(key, value.as_slice())?;
    }
    Ok(())
}

/// The terms of a transaction's parties and activity ids; `version` is the record carrying
/// it (the transaction, or an own correction's replacement of `original`).
pub(super) fn index_transaction(
    trees: &AppendTrees<'_>,
    original: RecordId,
    version: RecordId,
    transaction: &Transaction,
) -> TxResult<()> {
    let parties = [
        (
            &transaction.provider,
            field::PROVIDER_ID,
            field::PROVIDER_NAME,
        ),
        (
            &transaction.receiver,
            field::RECEIVER_ID,
            field::RECEIVER_NAME,
        ),
    ];
    for (party, id_field, name_field) in parties {
        let Some(Party { org_ref, name, .. }) = party else {
            continue;
        };
        let target = |field: u8, term: &str| term_key(term, field).text(org_ref).text(name);
        let mut keys = Vec::new();
        if !org_ref.is_empty() {
            for suffix in id_suffixes(org_ref) {
                keys.push(target(id_field, &suffix).into_bytes());
            }
        }
        for word in distinct(words(name), WORDS_PER_FIELD_MAX) {
            keys.push(target(name_field, &word).into_bytes());
        }
        post_party(trees, keys, &original, &version)?;
    }
    for activity in activities(transaction) {
        index_activity_id(trees, activity)?;
    }
    Ok(())
}

/// The suffix terms of an activity id, once: when its full id's key is not there yet.
fn index_activity_id(trees: &AppendTrees<'_>, activity: &str) -> TxResult<()> {
    let suffixes = id_suffixes(activity);
    let Some(full) = suffixes.first() else {
        return Ok(());
    };
    let first = term_key(full, field::ACTIVITY_ID)
        .text(activity)
        .into_bytes();
    if !trees.first_in_group(&first) || trees.explorer.get(&first)?.is_some() {
        return Ok(());
    }
    for suffix in &suffixes {
        let key = term_key(suffix, field::ACTIVITY_ID).text(activity);
        trees.explorer.insert(key.into_bytes(), &[][..])?;
    }
    Ok(())
}

/// The terms of an activity record: its id, the words of its titles and descriptions, and
/// its recipient countries and regions, each in its group's posting of the term (written
/// without reading first: an activity record is appended only when it differs from the
/// author's last one, so its terms are new or beside a superseded record's).
pub(super) fn index_activity(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    activity: &Activity,
) -> TxResult<()> {
    let identifier = activity.iati_identifier.as_str();
    index_activity_id(trees, identifier)?;
    let titles = activity.titles.iter().map(|title| title.text.as_str());
    let title_words = distinct(titles.flat_map(words), WORDS_PER_FIELD_MAX);
    let description_words = distinct(
        activity
            .descriptions
            .iter()
            .flat_map(|description| words(&description.text))
            .filter(|word| {
                word.chars().count() >= DESCRIPTION_WORD_CHARS_MIN
                    && !STOP_WORDS.contains(&word.as_str())
            }),
        DESCRIPTION_WORDS_MAX,
    );
    let places = distinct(
        activity
            .recipient_countries
            .iter()
            .map(|country| term(&country.code))
            .chain(
                activity
                    .recipient_regions
                    .iter()
                    .map(|region| term(&region.code)),
            )
            .filter(|code| !code.is_empty()),
        WORDS_PER_FIELD_MAX,
    );
    let fields = [
        (field::ACTIVITY_TITLE, title_words),
        (field::ACTIVITY_DESCRIPTION, description_words),
        (field::PLACE, places),
    ];
    for (field, terms) in fields {
        for word in terms {
            let prefix = term_key(&word, field).text(author).into_bytes();
            let entry = PostingEntry {
                activity: identifier.to_owned(),
                record: id,
            };
            trees.post_activity(prefix, seq, entry)?;
        }
    }
    Ok(())
}

/// The terms of a title (a statement's or a treaty text's).
fn index_title(trees: &AppendTrees<'_>, field: u8, id: RecordId, title: &str) -> TxResult<()> {
    let mut value = title.to_owned();
    cut(&mut value, TITLE_VALUE_BYTES_MAX);
    for word in distinct(words(title), WORDS_PER_FIELD_MAX) {
        let key = term_key(&word, field).id(&id.0);
        trees.explorer.insert(key.into_bytes(), value.as_bytes())?;
    }
    Ok(())
}

/// The terms of a statement's title.
pub(super) fn index_statement(
    trees: &AppendTrees<'_>,
    id: RecordId,
    statement: &Statement,
) -> TxResult<()> {
    index_title(trees, field::STATEMENT_TITLE, id, &statement.title)
}

/// The terms of a treaty text's title.
pub(super) fn index_treaty(
    trees: &AppendTrees<'_>,
    id: RecordId,
    treaty: &TreatyText,
) -> TxResult<()> {
    index_title(trees, field::TREATY_TITLE, id, &treaty.title)
}

/// The first `max` distinct items, in order.
fn distinct(items: impl Iterator<Item = String>, max: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if seen.len() == max {
            break;
        }
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_and_split_at_anything_not_a_letter_or_digit() {
        let found: Vec<String> = words("Local NGO-Network, Gaziantep/Şanlıurfa 2026").collect();
        assert_eq!(
            found,
            ["local", "ngo", "network", "gaziantep", "şanlıurfa", "2026"]
        );
        let long = "é".repeat(TERM_BYTES_MAX);
        let cut: Vec<String> = words(&long).collect();
        assert_eq!(cut[0].len(), TERM_BYTES_MAX);
    }

    #[test]
    fn a_posting_decodes_to_its_entries_and_refuses_an_empty_or_cut_value() {
        let entries = vec![
            PostingEntry {
                activity: "GB-GOV-1-300123".into(),
                record: aidledger_spec::Digest([0xab; 32]),
            },
            PostingEntry {
                activity: "XM-DAC-41114-1".into(),
                record: aidledger_spec::Digest([0x01; 32]),
            },
        ];
        let value = Posting::encode(&entries);
        // count (u64 LE), then per entry the activity (u64 LE length, UTF-8) and the 32-byte id.
        assert_eq!(&value[..8], &2u64.to_le_bytes());
        assert_eq!(&value[8..16], &15u64.to_le_bytes());
        assert_eq!(&value[16..31], b"GB-GOV-1-300123");
        assert_eq!(value.len(), 8 + (8 + 15 + 32) + (8 + 14 + 32));
        assert_eq!(Posting::decode(&value).unwrap(), entries);
        assert!(Posting::decode(&Posting::encode(&[])).is_err());
        assert!(Posting::decode(&value[..value.len() - 1]).is_err());
    }

    #[test]
    fn an_id_is_kept_as_its_suffixes_so_that_a_part_of_it_is_a_prefix() {
        assert_eq!(
            id_suffixes("GB-GOV-1-301150-200"),
            [
                "gb-gov-1-301150-200",
                "gov-1-301150-200",
                "1-301150-200",
                "301150-200",
                "200"
            ]
        );
        assert_eq!(id_suffixes("XM-LNGO-7"), ["xm-lngo-7", "lngo-7"]);
        assert_eq!(id_suffixes("AB"), ["ab"]);
        assert_eq!(id_suffixes(""), Vec::<String>::new());
        assert_eq!(id_suffixes(&"x-yz".repeat(100)).len(), ID_SUFFIXES_MAX);
    }
}
