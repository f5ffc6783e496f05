//! What each explorer page shows, read from the store and its explorer index. The HTML pages
//! and the JSON mirrors under `/api/…` render these same values, so they cannot disagree.
//!
//! Every read is bounded: pages of a chain are range queries from `before_seq` down, totals
//! come from the index written at append time, and every list has a named maximum.
//!
//! One file per page (`home`, `org`, `record`, `activity`, `treaty`, `search`), and the
//! money of a page (`gather`: the records its links depend on; `money`: the money model over
//! them, the only source of a money status); this one holds
//! the limits, the errors and what several pages share (member, chain and record summaries,
//! totals, the records that reference a record).

use std::collections::BTreeMap;

use aidledger_spec::governance::{Authority, KeySpan, MemberState};
use aidledger_spec::ids::lower_hex;
use aidledger_spec::record::{record_id_of_header_bytes, transaction_type_name, Correction};
use aidledger_spec::{codec, Body, PublicKey, RecordHeader, RecordId, Role, SignedRecord};
use serde::Serialize;
use serde_json::Value;

use super::index::{side, tag, KeyReader, Listing, Total};
use crate::view::{body_json, RecordView};
use aidledger_spec::sortkey::SortKey;
use aidledger_store::{Head, StoreError, StoreReader};
use aidledger_view::record_text::IdLength;

mod about;
mod activity;
mod gather;
mod genuine;
mod hits;
mod home;
mod money;
mod names;
mod org;
mod record;
mod redacted;
mod search;
mod treaty;

pub use about::*;
pub use activity::*;
use aidledger_spec::withheld::is_withheld;
pub use gather::*;
pub use genuine::*;
pub use hits::*;
pub use home::*;
pub use money::*;
pub use names::*;
pub use org::*;
pub use record::*;
pub use redacted::redacted_page;
pub(crate) use redacted::redacted_page_of;
use redacted::redacted_summary;
pub use redacted::RedactedPage;
pub use search::*;
pub use treaty::*;

/// Latest records on the home page (read from every chain's head down).
pub const HOME_LATEST_RECORDS: usize = 20;
/// Records per page of an organisation's chain.
pub const ORG_PAGE_RECORDS: usize = 50;
/// Records per page of an activity.
pub const ACTIVITY_PAGE_RECORDS: usize = 100;
/// Most index totals read for one page (types × currencies × organisations).
pub const TOTALS_MAX: usize = 10_000;
/// Most treaty actions shown on a treaty page.
pub const TREATY_ACTIONS_MAX: usize = 1_000;
/// Most records listed as acknowledging, correcting or superseding one record.
pub const REFERENCES_MAX: usize = 100;
/// Longest search query, in bytes.
pub const QUERY_BYTES_MAX: usize = 1024;
/// Hex digits of a record id.
const ID_HEX_DIGITS: usize = 64;

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing has that id (404).
    #[error("{0}")]
    NotFound(String),
    /// A record id prefix names several records.
    #[error("{count} or more records start with {prefix}: give more digits")]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// How many were seen (at least 2).
        count: usize,
    },
    /// The store failed (500: the node's fault, never the request's).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sled::Error> for Problem {
    fn from(error: sled::Error) -> Problem {
        Problem::Store(StoreError::Sled(error))
    }
}

/// A member as pages show it.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    /// Organisation id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Every record-signing key it ever had, hex.
    pub signing_keys: Vec<PublicKey>,
    /// Each key with the chain positions it may sign (rotations and revocations applied).
    pub keys: Vec<KeySpan>,
    /// Set when the network removed the member: its records from this seq on are not valid.
    pub removed_from: Option<u64>,
}

impl MemberView {
    fn of(member: &MemberState) -> MemberView {
        MemberView {
            id: member.id.clone(),
            name: member.name.clone(),
            roles: member.roles.clone(),
            signing_keys: member.keys.iter().map(|span| span.key).collect(),
            keys: member.keys.clone(),
            removed_from: member.removed.map(|removal| removal.from_seq),
        }
    }
}

/// A chain's state.
#[derive(Clone, Debug, Serialize)]
pub struct ChainView {
    /// The organisation.
    pub org: String,
    /// Records in the chain.
    pub length: u64,
    /// Its newest record.
    pub head: Option<Head>,
    /// Seqs at which an equivocation proof shows the author signed two records.
    pub forked_at: Vec<u64>,
}

/// One line about a record.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Record id.
    pub id: RecordId,
    /// Author.
    pub author: String,
    /// Position.
    pub seq: u64,
    /// The author's claimed time.
    pub timestamp_ms: u64,
    /// Body kind name.
    pub kind: &'static str,
    /// What it says, in a few words.
    pub summary: String,
    /// A short label for people (`disbursement GBP 125,000.00, 2026-11-02`): what lists show
    /// first, the short id beside it.
    pub label: String,
}

/// A stored record, decoded (without the hex of its bytes, which only the record page shows).
struct Decoded {
    signed: SignedRecord,
    body: Body,
}

fn decode(bytes: Vec<u8>) -> Result<Decoded, StoreError> {
    let corrupt = |error| StoreError::Corrupt(format!("a stored record does not decode: {error}"));
    let signed = SignedRecord::parse(bytes).map_err(corrupt)?;
    let body: Body = codec::decode_exact(signed.body_bytes()).map_err(corrupt)?;
    Ok(Decoded { signed, body })
}

/// A stored record decoded, or `None` when it is held withheld (redacted): for the lookups
/// that follow a reference (a corrected record, an acknowledged one, a treaty text), where a
/// redacted target simply has nothing to show.
fn decode_held(bytes: Vec<u8>) -> Result<Option<Decoded>, StoreError> {
    if is_withheld(&bytes) {
        return Ok(None);
    }
    decode(bytes).map(Some)
}

fn summary_of(decoded: &Decoded) -> Summary {
    let header = &decoded.signed.header;
    Summary {
        id: decoded.signed.id,
        author: header.author.clone(),
        seq: header.seq,
        timestamp_ms: header.timestamp_ms,
        kind: decoded.body.kind().name(),
        summary: describe(&decoded.body),
        label: aidledger_view::headline::label(&decoded.body),
    }
}

/// A few words about a body: the one record summary, ids shortened for link texts.
pub fn describe(body: &Body) -> String {
    aidledger_view::summary(body, IdLength::Short)
}

/// The first hex digits of an id, for link texts.
pub use aidledger_view::record_text::short_id as short;

fn load(store: &StoreReader, id: &RecordId) -> Result<Decoded, Problem> {
    let bytes = store
        .get(id)?
        .ok_or_else(|| Problem::NotFound(format!("record {id} is not stored on this node")))?;
    Ok(decode(bytes)?)
}

fn load_summary(store: &StoreReader, id: &RecordId) -> Result<Option<Summary>, StoreError> {
    match store.get(id)? {
        Some(bytes) => Ok(Some(summary_of_stored(store, bytes)?)),
        None => Ok(None),
    }
}

/// The summary of stored bytes, a withheld record's (redacted) included.
fn summary_of_stored(store: &StoreReader, bytes: Vec<u8>) -> Result<Summary, StoreError> {
    if is_withheld(&bytes) {
        return redacted_summary(store, bytes);
    }
    Ok(summary_of(&decode(bytes)?))
}

fn chain_view(
    store: &StoreReader,
    org: &str,
    forks: &[(String, u64)],
) -> Result<ChainView, StoreError> {
    let head = store.head(org)?;
    Ok(ChainView {
        org: org.to_owned(),
        length: head.map_or(0, |head| head.seq + 1),
        head,
        forked_at: forks
            .iter()
            .filter(|(author, _)| author == org)
            .map(|(_, seq)| *seq)
            .collect(),
    })
}

/// A total of transactions of one type in one currency.
#[derive(Clone, Debug, Serialize)]
pub struct TotalView {
    /// IATI TransactionType code.
    pub transaction_type: u8,
    /// Its name.
    pub type_name: &'static str,
    /// ISO 4217 code.
    pub currency: String,
    /// Transactions counted.
    pub count: u64,
    /// Their exact sum as decimal text, or `overflow`.
    pub sum: String,
}

/// The totals stored under `prefix` (a tag and an organisation or activity), by transaction
/// type and currency, at most [`TOTALS_MAX`].
fn totals_under(store: &StoreReader, prefix: &[u8]) -> Result<Vec<TotalView>, StoreError> {
    let mut totals = Vec::new();
    for entry in store.index_tree().scan_prefix(prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let transaction_type = rest.u8()?;
        let currency = rest.text()?;
        totals.push(total_view(
            transaction_type,
            currency,
            &Total::decode(&key, &value)?,
        ));
    }
    Ok(totals)
}

fn total_view(transaction_type: u8, currency: String, total: &Total) -> TotalView {
    TotalView {
        transaction_type,
        type_name: transaction_type_name(transaction_type),
        currency,
        count: total.count,
        sum: total
            .sum
            .map_or_else(|| "overflow".to_owned(), |sum| sum.to_string()),
    }
}

/// Kinds of later records that name an earlier one, as the explorer index lists them.
#[derive(Clone, Copy)]
enum Referrers {
    Acknowledging,
    Correcting,
    Superseding,
}

impl Referrers {
    /// Keys `tag ‖ id ‖ [seq] ‖ other id` list the referencing records: the tag, and whether
    /// a seq (the correction's) comes before the other id.
    fn tag_and_seq(self) -> (u8, bool) {
        match self {
            Referrers::Acknowledging => (tag::ACKNOWLEDGED_BY, false),
            Referrers::Correcting => (tag::CORRECTED_BY, true),
            Referrers::Superseding => (tag::SUPERSEDED_BY, false),
        }
    }

    /// A key `marker ‖ id` that exists once the first such record does.
    fn marker(self) -> Option<u8> {
        match self {
            Referrers::Acknowledging => Some(tag::ACKNOWLEDGED_MARK),
            Referrers::Correcting => Some(tag::CORRECTED_MARK),
            Referrers::Superseding => None,
        }
    }

    /// Whether a record of this kind may name `id`: its marker key exists (a point read), or
    /// the kind has no marker.
    fn marked(self, store: &StoreReader, id: &RecordId) -> Result<bool, StoreError> {
        match self.marker() {
            Some(marker) => Ok(store
                .index_tree()
                .contains_key(SortKey::tagged(marker).id(&id.0).into_bytes())?),
            None => Ok(true),
        }
    }
}

/// The records of the kind `referrers` that name `id`. Most records are never
/// acknowledged or corrected: a point read of the marker answers for them, instead of a
/// range scan, which costs sled far more (BENCHMARKS.md, explorer).
fn referencing(
    store: &StoreReader,
    referrers: Referrers,
    id: &RecordId,
) -> Result<Vec<Summary>, StoreError> {
    let marked = referrers.marked(store, id)?;
    referencing_if(store, referrers, id, marked)
}

/// [`referencing`] when its marker was read already ([`Referrers::marked`]).
fn referencing_if(
    store: &StoreReader,
    referrers: Referrers,
    id: &RecordId,
    marked: bool,
) -> Result<Vec<Summary>, StoreError> {
    if !marked {
        return Ok(Vec::new());
    }
    let tree = store.index_tree();
    let (tag, with_seq) = referrers.tag_and_seq();
    let prefix = SortKey::tagged(tag).id(&id.0).into_bytes();
    let mut found = Vec::new();
    for entry in tree.scan_prefix(&prefix).take(REFERENCES_MAX + 1) {
        let (key, _) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        if with_seq {
            rest.u64()?;
        }
        let by = rest.id()?;
        rest.finish()?;
        if let Some(summary) = load_summary(store, &by)? {
            found.push(summary);
        }
    }
    found.truncate(REFERENCES_MAX);
    Ok(found)
}

/// Up to `limit` stored ids whose hex starts with `prefix` (lowercase hex digits).
fn ids_with_prefix(
    store: &StoreReader,
    prefix: &str,
    limit: usize,
) -> Result<Vec<RecordId>, StoreError> {
    let mut padded = prefix.to_owned();
    padded.extend(std::iter::repeat_n('0', ID_HEX_DIGITS - prefix.len()));
    let Ok(start) = RecordId::from_hex(&padded) else {
        return Ok(Vec::new());
    };
    Ok(store
        .ids_from(&start, limit)?
        .into_iter()
        .filter(|id| id.to_hex().starts_with(prefix))
        .collect())
}
