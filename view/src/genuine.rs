//! "Is this genuine?": the fingerprints of a text (FORMAT.md, appendix "Text fingerprints"),
//! the words by which the explorer finds signed statements near a text, which of them is
//! nearest, and the word-level difference between two texts.
//!
//! Two fingerprints, each a plain SHA-256 (no domain: a reader's browser, a verifier in
//! another language or `sha256sum` must compute the same value from the text alone):
//!
//! - **exact**: over the text's UTF-8 bytes as they are;
//! - **normalised**: over the UTF-8 bytes of [`normalise`]d text, so that a text copied
//!   through a mail client, a word processor or a social network (other line endings,
//!   trailing spaces, a decomposed accent, a blank line at the end) still matches what was
//!   signed.
//!
//! The signed texts are a statement's `text` and each language version of a treaty text
//! (also inside a correction's replacement). Pure: no file, clock or store.

use std::collections::BTreeSet;

use aidledger_spec::record::{Replacement, Statement, TreatyText};
use aidledger_spec::{Body, BodyKind, Digest, RecordId};
use sha2::{Digest as _, Sha256};
use similar::{ChangeTag, TextDiff};
use unicode_normalization::UnicodeNormalization;

/// Most bytes of either text that [`word_diff`] compares: the word diff is quadratic in the
/// worst case, and a statement is far shorter (a treaty's 3 MiB text is matched by its
/// fingerprints, never diffed).
pub const DIFF_TEXT_BYTES_MAX: usize = 32 * 1024;
/// Most distinct words of a text that [`words`] gives (the first ones, in text order).
pub const TEXT_WORDS_MAX: usize = 256;
/// How many of a statement's words lead to it in the explorer's index ([`index_words`]).
pub const INDEX_WORDS_MAX: usize = 16;
/// Words shorter than this (in characters) are not index words: "a", "of", "à" say nothing
/// about which statement a text is near.
pub const WORD_CHARS_MIN: usize = 3;
/// Longest word kept, in bytes (cut at a character boundary).
pub const WORD_BYTES_MAX: usize = 64;

/// The two fingerprints of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprints {
    /// SHA-256 of the exact UTF-8 bytes.
    pub exact: Digest,
    /// SHA-256 of the UTF-8 bytes of [`normalise`]d text.
    pub normalised: Digest,
}

impl Fingerprints {
    /// Both fingerprints of `text`.
    pub fn of(text: &str) -> Fingerprints {
        Fingerprints {
            exact: sha256(text.as_bytes()),
            normalised: sha256(normalise(text).as_bytes()),
        }
    }
}

/// One text a record signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedText<'a> {
    /// 0 for a statement; the language version's index for a treaty text.
    pub part: u64,
    /// Its language tag.
    pub language: &'a str,
    /// The statement's or the treaty's title.
    pub title: &'a str,
    /// The text.
    pub text: &'a str,
    /// What it is: "statement", "treaty text", or either "in a correction".
    pub what: &'static str,
}

impl SignedText<'_> {
    /// Whether it is a statement's text (of a statement or of a correction's replacement).
    pub fn is_statement(&self) -> bool {
        self.what.starts_with("statement")
    }
}

fn statement_text<'a>(statement: &'a Statement, what: &'static str) -> Vec<SignedText<'a>> {
    vec![SignedText {
        part: 0,
        language: &statement.language,
        title: &statement.title,
        text: &statement.text,
        what,
    }]
}

fn treaty_texts<'a>(treaty: &'a TreatyText, what: &'static str) -> Vec<SignedText<'a>> {
    (0u64..)
        .zip(&treaty.versions)
        .map(|(part, version)| SignedText {
            part,
            language: &version.language,
            title: &treaty.title,
            text: &version.text,
            what,
        })
        .collect()
}

/// The texts a record signs: a statement's text, every language version of a treaty text,
/// or those of a correction's replacement (the correction record signs them too).
pub fn signed_texts(body: &Body) -> Vec<SignedText<'_>> {
    match body {
        Body::Statement(body) => statement_text(body, "statement"),
        Body::TreatyText(body) => treaty_texts(body, "treaty text"),
        Body::Correction(correction) => match &correction.replacement {
            Some(Replacement::Statement(body)) => statement_text(body, "statement in a correction"),
            Some(Replacement::TreatyText(body)) => {
                treaty_texts(body, "treaty text in a correction")
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Plain SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Digest {
    Digest(Sha256::digest(bytes).into())
}

/// Unicode's White_Space property (25 code points; the same list in FORMAT.md and in the
/// explorer's `genuine.js`). Not `char::is_whitespace` by name, so that the rule cannot move
/// with a Unicode version: this list has been stable since Unicode 6.3.
pub fn is_white_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{0020}'
            | '\u{0085}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// The normalised form of a text, in this order (FORMAT.md, appendix "Text fingerprints"):
///
/// 1. one U+FEFF (byte order mark) at the very start is removed;
/// 2. Unicode Normalization Form C;
/// 3. every CR LF pair becomes LF, then every remaining CR becomes LF;
/// 4. at the end of every line (the text split at LF), white space (Unicode White_Space,
///    [`is_white_space`]) is removed;
/// 5. white space at the start and the end of the whole text is removed (blank lines too).
///
/// Nothing else changes: white space inside a line, letter case, quotes and dashes are part
/// of what was said.
pub fn normalise(text: &str) -> String {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let composed: String = text.nfc().collect();
    let unified = composed.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified
        .split('\n')
        .map(|line| line.trim_end_matches(is_white_space))
        .collect();
    lines.join("\n").trim_matches(is_white_space).to_owned()
}

/// The distinct words of a text for finding it: its normalised form in lower case, split at
/// every character that is neither a letter nor a digit, words of at least
/// [`WORD_CHARS_MIN`] characters, each cut to [`WORD_BYTES_MAX`] bytes, the first
/// [`TEXT_WORDS_MAX`] distinct ones in text order.
pub fn words(text: &str) -> Vec<String> {
    let lower = normalise(text).to_lowercase();
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.chars().count() < WORD_CHARS_MIN {
            continue;
        }
        let word = cut(word, WORD_BYTES_MAX);
        if seen.insert(word) {
            found.push(word.to_owned());
            if found.len() == TEXT_WORDS_MAX {
                break;
            }
        }
    }
    found
}

/// The words by which the explorer's index finds a statement: the [`INDEX_WORDS_MAX`] longest
/// of its [`words`] (the first ones on a tie). Long words say most about which statement a text
/// is near ("diverted", "warehouse" rather than "the", "and"), and a few keys per statement
/// keep its append cheap: a key per word made a statement's append some fifty times dearer.
pub fn index_words(text: &str) -> Vec<String> {
    let mut found = words(text);
    found.sort_by_key(|word| std::cmp::Reverse(word.chars().count()));
    found.truncate(INDEX_WORDS_MAX);
    found
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// How alike two texts are by their words: the share of distinct [`words`] they have in
/// common (Jaccard index, shared / all), in thousandths, from 0 to 1000. Integer, so that
/// the explorer and the CLI rank candidates the same way everywhere.
pub fn likeness(a: &str, b: &str) -> u32 {
    jaccard(&word_set(a), &word_set(b))
}

/// A text's words, read once, to compare with many candidates by [`likeness`].
pub struct Nearness(BTreeSet<String>);

impl Nearness {
    /// The words of `text`.
    pub fn of(text: &str) -> Nearness {
        Nearness(word_set(text))
    }

    /// [`likeness`] of the text and `other`.
    pub fn likeness(&self, other: &str) -> u32 {
        jaccard(&self.0, &word_set(other))
    }
}

fn word_set(text: &str) -> BTreeSet<String> {
    words(text).into_iter().collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> u32 {
    let union = a.union(b).count();
    if union == 0 {
        return 0;
    }
    let shared = a.intersection(b).count();
    // At most TEXT_WORDS_MAX * 2 words: no overflow, and the quotient is at most 1000.
    u32::try_from(shared * 1000 / union).unwrap_or(1000)
}

/// The nearest of `candidates` to `text` by [`likeness`]: its index and likeness; the first
/// one on a tie (callers list candidates newest first). `None` when none shares a word.
pub fn nearest<'a>(
    text: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, u32)> {
    let mine = Nearness::of(text);
    let mut best: Option<(usize, u32)> = None;
    for (index, candidate) in candidates.into_iter().enumerate() {
        let score = mine.likeness(candidate);
        if score > 0 && best.is_none_or(|(_, top)| score > top) {
            best = Some((index, score));
        }
    }
    best
}

/// Most redacted records a "not signed" answer lists by id (the counts cover every one).
pub const REDACTED_TEXTS_LISTED_MAX: usize = 20;

/// Whether a redacted record of this body kind may have signed a text: a treaty text (1), a
/// statement (3) or a correction (4, which may have carried a replacement text). Its content
/// is withheld, so no fingerprint can be compared with it.
pub fn may_have_signed_text(body_kind: u16) -> bool {
    matches!(
        BodyKind::from_wire(body_kind),
        Some(BodyKind::TreatyText | BodyKind::Statement | BodyKind::Correction)
    )
}

/// A redacted record that may have signed the text asked about: only what stays known of it
/// (its header's facts and the order), never anything of its content.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RedactedText {
    /// The record.
    pub id: RecordId,
    /// Its author.
    pub author: String,
    /// Its position in the author's chain.
    pub seq: u64,
    /// Its kind: `statement`, `treaty-text` or `correction`.
    pub kind: &'static str,
    /// Why it was redacted (`safety-of-persons`, …).
    pub category: &'static str,
    /// The category in words.
    pub category_text: &'static str,
    /// `author` or `admins`.
    pub by: &'static str,
    /// The order: the author's `redaction` record or the admins' `redact` proposal.
    pub order: RecordId,
    /// The time the order's record states (`None` when the reader does not know it).
    pub ordered_at_ms: Option<u64>,
}

/// The redacted records that may have signed a text, counted by kind, the first
/// [`REDACTED_TEXTS_LISTED_MAX`] of them listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedactedTexts {
    /// The first ones, in the order given (by author, then seq).
    #[serde(rename = "redacted_texts")]
    pub listed: Vec<RedactedText>,
    /// How many there are in all.
    #[serde(rename = "redacted_texts_total")]
    pub total: u64,
    /// Redacted statements.
    #[serde(rename = "redacted_statements")]
    pub statements: u64,
    /// Redacted treaty texts.
    #[serde(rename = "redacted_treaty_texts")]
    pub treaty_texts: u64,
    /// Redacted corrections.
    #[serde(rename = "redacted_corrections")]
    pub corrections: u64,
    /// The categories met, in words, distinct, in the order met.
    #[serde(skip)]
    categories: Vec<&'static str>,
}

impl RedactedTexts {
    /// Counts `text` (of a kind [`may_have_signed_text`]), and lists it while fewer than
    /// [`REDACTED_TEXTS_LISTED_MAX`] are.
    pub fn add(&mut self, text: RedactedText) {
        self.total += 1;
        match text.kind {
            "statement" => self.statements += 1,
            "treaty-text" => self.treaty_texts += 1,
            _ => self.corrections += 1,
        }
        if !self.categories.contains(&text.category_text) {
            self.categories.push(text.category_text);
        }
        if self.listed.len() < REDACTED_TEXTS_LISTED_MAX {
            self.listed.push(text);
        }
    }

    /// How many are counted and not listed.
    pub fn not_listed(&self) -> u64 {
        self.total.saturating_sub(self.listed.len() as u64)
    }

    /// The caveat of a "not signed" answer when there are any: `org` (the organisation named,
    /// as the reader should see it; `None` for any organisation) has redacted texts, which can
    /// no longer be matched. It says nothing of their content: there is none to say.
    pub fn caveat(&self, org: Option<&str>) -> Option<String> {
        if self.total == 0 {
            return None;
        }
        let mut parts = Vec::new();
        for (count, one, many) in [
            (self.statements, "redacted statement", "redacted statements"),
            (
                self.treaty_texts,
                "redacted treaty text",
                "redacted treaty texts",
            ),
            (
                self.corrections,
                "redacted correction (which may have carried a new text)",
                "redacted corrections (which may have carried new texts)",
            ),
        ] {
            match count {
                0 => {}
                1 => parts.push(format!("1 {one}")),
                n => parts.push(format!("{n} {many}")),
            }
        }
        let list = match parts.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        let whose = match org {
            Some(org) => format!("{org} has"),
            None => "The organisations of this network have".to_owned(),
        };
        let why: Vec<String> = self
            .categories
            .iter()
            .map(|words| format!("for {words}"))
            .collect();
        let them = if self.total == 1 { "it" } else { "one of them" };
        Some(format!(
            "{whose} {list} whose content was withheld ({}): a redacted record's text can no \
             longer be matched, so this check cannot rule out that {them} said this.",
            why.join(", ")
        ))
    }
}

/// One run of a word-level difference.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiffPart {
    /// What the run is.
    pub change: Change,
    /// Its text (words with the white space between them).
    pub text: String,
}

/// Whether a run of a difference is in both texts, only the signed one, or only the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// In both.
    Same,
    /// In the signed text only (the other text left it out or changed it).
    Removed,
    /// In the other text only.
    Added,
}

/// The word-level difference from `signed` to `other`, both [`normalise`]d first (so that
/// line endings and trailing spaces are no difference), in runs of one kind. `None` when
/// either normalised text is longer than [`DIFF_TEXT_BYTES_MAX`].
pub fn word_diff(signed: &str, other: &str) -> Option<Vec<DiffPart>> {
    let (signed, other) = (normalise(signed), normalise(other));
    if signed.len() > DIFF_TEXT_BYTES_MAX || other.len() > DIFF_TEXT_BYTES_MAX {
        return None;
    }
    let diff = TextDiff::from_words(signed.as_str(), other.as_str());
    let mut parts: Vec<DiffPart> = Vec::new();
    for change in diff.iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => Change::Same,
            ChangeTag::Delete => Change::Removed,
            ChangeTag::Insert => Change::Added,
        };
        match parts.last_mut() {
            Some(last) if last.change == kind => last.text.push_str(change.value()),
            _ => parts.push(DiffPart {
                change: kind,
                text: change.value().to_owned(),
            }),
        }
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The golden vectors (FORMAT.md, appendix "Text fingerprints"): every implementation
    /// (the browser's `genuine.js`, a verifier in another language) must give these hashes.
    const VECTORS: &str = include_str!("../../spec/vectors/text-fingerprints.json");

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn golden_vectors_hash_as_documented() {
        let file: Value = serde_json::from_str(VECTORS).unwrap();
        let cases = file["cases"].as_array().unwrap();
        assert!(cases.len() >= 6);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let bytes = unhex(case["text_utf8_hex"].as_str().unwrap());
            let text = String::from_utf8(bytes.clone()).unwrap();
            let normalised = normalise(&text);
            assert_eq!(
                normalised.as_bytes(),
                unhex(case["normalised_utf8_hex"].as_str().unwrap()),
                "{name}: normalised form"
            );
            let prints = Fingerprints::of(&text);
            assert_eq!(prints.exact, sha256(&bytes));
            assert_eq!(
                prints.exact.to_hex(),
                case["sha256"].as_str().unwrap(),
                "{name}: exact"
            );
            assert_eq!(
                prints.normalised.to_hex(),
                case["normalised_sha256"].as_str().unwrap(),
                "{name}: normalised"
            );
        }
    }

    #[test]
    fn variants_of_one_text_share_the_normalised_fingerprint() {
        let signed = "We delivered 40 tonnes of wheat flour.\nNo payment was diverted.";
        let variants = [
            "We delivered 40 tonnes of wheat flour.\r\nNo payment was diverted.",
            "We delivered 40 tonnes of wheat flour.  \rNo payment was diverted.\n\n",
            "\u{FEFF}  We delivered 40 tonnes of wheat flour.\t\nNo payment was diverted.\u{3000}",
        ];
        let prints = Fingerprints::of(signed);
        for variant in variants {
            let other = Fingerprints::of(variant);
            assert_ne!(other.exact, prints.exact, "{variant:?}");
            assert_eq!(other.normalised, prints.normalised, "{variant:?}");
        }
        // A changed word, inner spaces and case are differences.
        for different in [
            "We delivered 40 tonnes of wheat flour.\nNo payment was found.",
            "We delivered 40  tonnes of wheat flour.\nNo payment was diverted.",
            "we delivered 40 tonnes of wheat flour.\nNo payment was diverted.",
        ] {
            assert_ne!(Fingerprints::of(different).normalised, prints.normalised);
        }
    }

    #[test]
    fn composed_and_decomposed_accents_match() {
        assert_eq!(normalise("Cafe\u{0301}"), "Caf\u{00E9}");
        assert_eq!(
            Fingerprints::of("Caf\u{00E9}").normalised,
            Fingerprints::of("Cafe\u{0301}").normalised
        );
    }

    #[test]
    fn white_space_is_the_unicode_property() {
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            assert_eq!(is_white_space(c), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn words_are_distinct_lower_case_and_bounded() {
        assert_eq!(
            words("The Funding, the FUNDING of 2026: aid-flows à Gaza"),
            ["the", "funding", "2026", "aid", "flows", "gaza"]
        );
        let long: String = (0..1000).map(|n| format!("word{n} ")).collect();
        assert_eq!(words(&long).len(), TEXT_WORDS_MAX);
        assert_eq!(words(&"é".repeat(100))[0].len(), WORD_BYTES_MAX);
    }

    #[test]
    fn index_words_are_the_longest() {
        let text = "No payment was diverted to any armed group by the warehouse staff";
        assert_eq!(index_words(text)[..3], ["warehouse", "diverted", "payment"]);
        let long: String = (0..100).map(|n| format!("w{n:04} ")).collect();
        assert_eq!(index_words(&long).len(), INDEX_WORDS_MAX);
    }

    #[test]
    fn nearest_prefers_the_most_words_in_common() {
        let text = "We delivered 40 tonnes of wheat flour to Gaza";
        let candidates = [
            "Budget for the year",
            "We delivered 40 tonnes of rice flour to Gaza",
            "We delivered flour",
        ];
        assert_eq!(nearest(text, candidates).map(|(at, _)| at), Some(1));
        assert_eq!(likeness(text, text), 1000);
        assert_eq!(nearest("nothing alike", ["Budget for the year"]), None);
    }

    fn redacted(kind: &'static str, category_text: &'static str) -> RedactedText {
        RedactedText {
            id: RecordId::ZERO,
            author: "GB-GOV-1".into(),
            seq: 1,
            kind,
            category: "safety-of-persons",
            category_text,
            by: "author",
            order: RecordId::ZERO,
            ordered_at_ms: Some(0),
        }
    }

    #[test]
    fn redacted_texts_are_counted_listed_to_the_bound_and_said() {
        let mut texts = RedactedTexts::default();
        assert_eq!(texts.caveat(None), None);
        texts.add(redacted("statement", "the safety of persons"));
        assert_eq!(
            texts.caveat(Some("GB-GOV-1")).unwrap(),
            "GB-GOV-1 has 1 redacted statement whose content was withheld (for the safety of \
             persons): a redacted record's text can no longer be matched, so this check cannot \
             rule out that it said this."
        );
        for _ in 0..REDACTED_TEXTS_LISTED_MAX {
            texts.add(redacted("statement", "the safety of persons"));
        }
        texts.add(redacted("correction", "personal data"));
        assert_eq!(texts.listed.len(), REDACTED_TEXTS_LISTED_MAX);
        assert_eq!((texts.total, texts.not_listed()), (22, 2));
        let caveat = texts.caveat(None).unwrap();
        assert!(caveat.starts_with("The organisations of this network have 21 redacted statements and 1 redacted correction (which may have carried a new text) whose content was withheld (for the safety of persons, for personal data)"), "{caveat}");
        assert!(caveat.ends_with("that one of them said this."), "{caveat}");
        assert!(may_have_signed_text(1) && may_have_signed_text(3) && may_have_signed_text(4));
        assert!(!may_have_signed_text(0) && !may_have_signed_text(9));
    }

    #[test]
    fn word_diff_marks_the_changed_word_only() {
        let parts =
            word_diff("No payment was diverted.\r\n", "No payment was   found.   ").unwrap();
        let removed: Vec<&str> = parts
            .iter()
            .filter(|part| part.change == Change::Removed)
            .map(|part| part.text.as_str())
            .collect();
        let added: Vec<&str> = parts
            .iter()
            .filter(|part| part.change == Change::Added)
            .map(|part| part.text.trim())
            .collect();
        assert_eq!(removed, [" diverted."]);
        assert_eq!(added, ["found."]);
        assert_eq!(parts[0].change, Change::Same);
        assert!(word_diff(&"x ".repeat(DIFF_TEXT_BYTES_MAX), "x").is_none());
    }
}
