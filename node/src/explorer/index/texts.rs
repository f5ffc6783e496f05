//! Signed texts in the index, for "Is this genuine?" (`model/genuine.rs`): each text's two
//! fingerprints (`aidledger_view::genuine`, FORMAT.md appendix "Text fingerprints") lead to
//! the records that signed it, and a statement's longest words and its author lead to the
//! statements near a text that matches none.
//!
//! The signed texts are a statement's text and every language version of a treaty text, in
//! a record of their own or as a correction's replacement (a correction signs its new text
//! too). Only statements are found by words: a treaty text runs to megabytes, which no word
//! diff shows, and its fingerprints find it.
//!
//! | tag | key after the tag | value |
//! |---|---|---|
//! | `F` | form (u8: 0 exact, 1 normalised), fingerprint (32 bytes), record id, part (u64: 0 for a statement, the language version's index for a treaty text) | empty |
//! | `G` | word (text), record id | empty: the word is one of the statement's [`genuine::index_words`] (its longest) |
//! | `j` | author (text), seq (u64) | the statement's record id (32 bytes): an organisation's statements, newest last |

use aidledger_view::genuine::{self, Fingerprints};

use super::*;

/// The tags of this file's keys (the table above).
pub(crate) mod text_tag {
    pub const FINGERPRINT: u8 = b'F';
    pub const WORD: u8 = b'G';
    pub const ORG_STATEMENT: u8 = b'j';
}

/// The two forms of a fingerprint in `F` keys.
pub mod form {
    /// SHA-256 of the exact bytes.
    pub const EXACT: u8 = 0;
    /// SHA-256 of the normalised text.
    pub const NORMALISED: u8 = 1;
}

/// The `F` prefix of one fingerprint: every record that signed a text with it.
pub fn fingerprint_prefix(form: u8, fingerprint: &aidledger_spec::Digest) -> Vec<u8> {
    SortKey::tagged(text_tag::FINGERPRINT)
        .u8(form)
        .id(&fingerprint.0)
        .into_bytes()
}

/// The `G` prefix of a word: the statements that have it.
pub fn word_prefix(word: &str) -> Vec<u8> {
    SortKey::tagged(text_tag::WORD).text(word).into_bytes()
}

/// The `j` prefix of an organisation's statements.
pub fn org_statements_prefix(author: &str) -> Vec<u8> {
    SortKey::tagged(text_tag::ORG_STATEMENT)
        .text(author)
        .into_bytes()
}

/// Indexes the texts a record signs ([`genuine::signed_texts`]): every text's fingerprints,
/// and a statement's words and place among its author's statements.
pub(super) fn index_texts(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    body: &Body,
) -> TxResult<()> {
    for signed in genuine::signed_texts(body) {
        index_fingerprints(trees, id, signed.part, signed.text)?;
        if signed.is_statement() {
            index_statement(trees, author, seq, id, signed.text)?;
        }
    }
    Ok(())
}

fn index_statement(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    text: &str,
) -> TxResult<()> {
    let listed = SortKey::tagged(text_tag::ORG_STATEMENT)
        .text(author)
        .u64(seq);
    trees.explorer.insert(listed.into_bytes(), &id.0[..])?;
    for word in genuine::index_words(text) {
        let key = SortKey::extend(word_prefix(&word)).id(&id.0).into_bytes();
        trees.explorer.insert(key, &[][..])?;
    }
    Ok(())
}

fn index_fingerprints(
    trees: &AppendTrees<'_>,
    id: RecordId,
    part: u64,
    text: &str,
) -> TxResult<()> {
    let prints = Fingerprints::of(text);
    for (form, print) in [
        (form::EXACT, prints.exact),
        (form::NORMALISED, prints.normalised),
    ] {
        let key = SortKey::extend(fingerprint_prefix(form, &print))
            .id(&id.0)
            .u64(part);
        trees.explorer.insert(key.into_bytes(), &[][..])?;
    }
    Ok(())
}
