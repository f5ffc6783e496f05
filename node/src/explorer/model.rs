//! What each explorer page shows, read from the store and its explorer index. The HTML pages
//! and the JSON mirrors under `/api/…` render these same values, so they cannot disagree.
//!
//! Every read is bounded: pages of a chain are range queries from `before_seq` down, totals
//! come from the index written at append time, and every list has a named maximum.

use std::collections::BTreeMap;

use aidledger_spec::governance::{Authority, KeySpan, MemberState};
use aidledger_spec::ids::lower_hex;
use aidledger_spec::record::{
    record_id_of_header_bytes, transaction_type_name, Correction, Replacement,
};
use aidledger_spec::{codec, Body, PublicKey, RecordHeader, RecordId, Role, SignedRecord};
use serde::Serialize;
use serde_json::Value;

use super::index::{self, tag, Key, Listing, Total};
use crate::view::{body_json, RecordView};
use aidledger_store::{Head, StoreError, StoreReader};
use aidledger_view::record_text::IdLength;

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
/// Most results per kind of search result.
pub const SEARCH_RESULTS_MAX: usize = 20;
/// Most treaty titles a search compares (treaties are few; this bounds a search's work).
pub const TREATY_TITLES_SCANNED_MAX: usize = 100_000;
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

fn summary_of(decoded: &Decoded) -> Summary {
    let header = &decoded.signed.header;
    Summary {
        id: decoded.signed.id,
        author: header.author.clone(),
        seq: header.seq,
        timestamp_ms: header.timestamp_ms,
        kind: decoded.body.kind().name(),
        summary: describe(&decoded.body),
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
        Some(bytes) => Ok(Some(summary_of(&decode(bytes)?))),
        None => Ok(None),
    }
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

/// The home page.
#[derive(Debug, Serialize)]
pub struct Home {
    /// Network name.
    pub name: String,
    /// Network id, hex.
    pub network_id: String,
    /// When the network was founded.
    pub created_ms: u64,
    /// Records stored.
    pub record_count: u64,
    /// Verified records from peers waiting for a predecessor (not in any chain yet).
    pub pending_records: u64,
    /// The members, including those added or removed by governance.
    pub members: Vec<MemberView>,
    /// Records the network's governance declared not valid (kept as evidence).
    pub revoked_records: u64,
    /// Governance changes in effect.
    pub governance_changes: usize,
    /// Each member's chain.
    pub chains: Vec<ChainView>,
    /// Whether no chain is forked.
    pub all_chains_intact: bool,
    /// The newest records by claimed time among each chain's newest by position.
    pub latest: Vec<Summary>,
}

/// Reads the home page: O(members × [`HOME_LATEST_RECORDS`]) reads, whatever the store's size.
pub fn home(store: &StoreReader, authority: &Authority) -> Result<Home, Problem> {
    let genesis = store.genesis();
    let forks = store.forks()?;
    let mut chains = Vec::new();
    // Each chain's newest records are candidates; only their headers are read to order them
    // (claimed times need not grow with seq), and only the shown ones are decoded whole.
    let mut candidates = Vec::new();
    for member in authority.members() {
        chains.push(chain_view(store, &member.id, &forks)?);
        for entry in store.chain_newest_first(&member.id, None, HOME_LATEST_RECORDS) {
            let (_, bytes) = entry?;
            let (header, header_size_bytes): (RecordHeader, usize) = codec::decode_prefix(&bytes)
                .map_err(|error| {
                StoreError::Corrupt(format!("a stored record does not decode: {error}"))
            })?;
            let id = record_id_of_header_bytes(&bytes[..header_size_bytes]);
            candidates.push((header.timestamp_ms, id, bytes));
        }
    }
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1 .0.cmp(&b.1 .0)));
    let latest = candidates
        .into_iter()
        .take(HOME_LATEST_RECORDS)
        .map(|(_, _, bytes)| Ok(summary_of(&decode(bytes.to_vec())?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Home {
        name: genesis.name.clone(),
        network_id: store.network_id().to_hex(),
        created_ms: genesis.created_ms,
        record_count: store.record_count()?,
        pending_records: store.pending_count(),
        members: authority.members().map(MemberView::of).collect(),
        revoked_records: store.revoked_count(),
        governance_changes: authority.steps().len(),
        all_chains_intact: forks.is_empty(),
        chains,
        latest,
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

/// An organisation's page.
#[derive(Debug, Serialize)]
pub struct OrgPage {
    /// The member.
    pub org: MemberView,
    /// Its chain.
    pub chain: ChainView,
    /// Totals by transaction type and currency (corrections applied).
    pub totals: Vec<TotalView>,
    /// One page of the chain, newest first.
    pub records: Vec<Summary>,
    /// The `before_seq` of the next (older) page.
    pub next_before_seq: Option<u64>,
}

/// Reads one page of an organisation: a range query from `before_seq` down, and its totals
/// from the index.
pub fn org_page(
    store: &StoreReader,
    authority: &Authority,
    org: &str,
    before_seq: Option<u64>,
) -> Result<OrgPage, Problem> {
    let member = authority.member(org).ok_or_else(|| {
        Problem::NotFound(format!(
            "organisation {org:?} is not a member of this network"
        ))
    })?;
    let forks = store.forks()?;
    let mut records = Vec::new();
    for entry in store.chain_newest_first(org, before_seq, ORG_PAGE_RECORDS) {
        let (_, bytes) = entry?;
        records.push(summary_of(&decode(bytes.to_vec())?));
    }
    let next_before_seq = records
        .last()
        .map(|record| record.seq)
        .filter(|seq| *seq > 0);
    Ok(OrgPage {
        org: MemberView::of(member),
        chain: chain_view(store, org, &forks)?,
        totals: org_totals(store, org)?,
        records,
        next_before_seq,
    })
}

fn org_totals(store: &StoreReader, org: &str) -> Result<Vec<TotalView>, StoreError> {
    let prefix = Key::new(tag::ORG_TOTAL).text(org).into_vec();
    let mut totals = Vec::new();
    for entry in store.index_tree().scan_prefix(&prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let transaction_type = rest.u8()?;
        let currency = rest.text()?;
        totals.push(total_view(
            transaction_type,
            currency,
            &Total::decode(&value)?,
        ));
    }
    Ok(totals)
}

/// Reads the parts of an index key back.
struct KeyReader<'a>(&'a [u8]);

impl<'a> KeyReader<'a> {
    fn new(bytes: &'a [u8]) -> KeyReader<'a> {
        KeyReader(bytes)
    }

    fn corrupt() -> StoreError {
        StoreError::Corrupt("an explorer index key does not parse".into())
    }

    fn u8(&mut self) -> Result<u8, StoreError> {
        let (&first, rest) = self.0.split_first().ok_or_else(Self::corrupt)?;
        self.0 = rest;
        Ok(first)
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], StoreError> {
        if self.0.len() < count {
            return Err(Self::corrupt());
        }
        let (taken, rest) = self.0.split_at(count);
        self.0 = rest;
        Ok(taken)
    }

    fn text(&mut self) -> Result<String, StoreError> {
        let length = self.take(2)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Self::corrupt())
    }
}

/// The chain status of a record.
#[derive(Debug, Serialize)]
pub struct ChainStatus {
    /// Records in the author's chain.
    pub chain_length: u64,
    /// The next record of the chain, if any.
    pub next: Option<RecordId>,
    /// Whether an equivocation proof exists at this record's seq.
    pub forked_here: bool,
    /// Whether the author's chain has any proven fork.
    pub chain_forked: bool,
}

/// One field a correction changes.
#[derive(Debug, Serialize)]
pub struct Change {
    /// The field's path (`value.amount`).
    pub field: String,
    /// The corrected record's value (empty if it had none).
    pub before: String,
    /// The correction's value (empty if none).
    pub after: String,
}

/// A record's page.
#[derive(Debug, Serialize)]
pub struct RecordPage {
    /// Whether the record is valid under the network's governance.
    pub validity: Validity,
    /// The record with every field and its bytes.
    pub record: RecordView,
    /// The signer's display name.
    pub author_name: String,
    /// The signature, hex.
    pub signature: String,
    /// Its place in the chain.
    pub chain: ChainStatus,
    /// The record this one acknowledges, if any.
    pub acknowledges: Option<Summary>,
    /// Records acknowledging this one.
    pub acknowledged_by: Vec<Summary>,
    /// The record this one corrects, if any.
    pub corrects: Option<Summary>,
    /// Records correcting this one, oldest first.
    pub corrected_by: Vec<Summary>,
    /// For a correction: the fields it changes.
    pub changes: Vec<Change>,
    /// For a treaty action: the treaty.
    pub treaty: Option<Summary>,
}

/// Whether a stored record is valid, and if not, why.
#[derive(Debug, Serialize)]
pub struct Validity {
    /// False for a record the network's governance declared not valid.
    pub valid: bool,
    /// The rule's code (`key-revoked`, `member-removed`, …).
    pub code: Option<String>,
    /// Why, for people.
    pub reason: Option<String>,
    /// The governance record that made it invalid.
    pub by: Option<RecordId>,
}

/// Reads a record's page.
pub fn record_page(
    store: &StoreReader,
    authority: &Authority,
    id: &RecordId,
) -> Result<RecordPage, Problem> {
    let decoded = load(store, id)?;
    let author = decoded.signed.header.author.clone();
    let seq = decoded.signed.header.seq;
    let (forked_here, chain_forked) = store.fork_at(&author, seq)?;
    let chain_length = store.head(&author)?.map_or(0, |head| head.seq + 1);
    // Only the next record's id is shown: its header is parsed, its body is not decoded.
    let next = match store.record_at(&author, seq.saturating_add(1))? {
        Some(bytes) => Some(
            SignedRecord::parse(bytes)
                .map_err(|error| {
                    StoreError::Corrupt(format!("a stored record does not parse: {error}"))
                })?
                .id,
        ),
        None => None,
    };
    let chain = ChainStatus {
        chain_length,
        next,
        forked_here,
        chain_forked,
    };
    let validity = match store.revocation(id)? {
        Some(revoked) => Validity {
            valid: false,
            code: Some(revoked.code),
            reason: Some(revoked.reason),
            by: revoked.by,
        },
        None => Validity {
            valid: true,
            code: None,
            reason: None,
            by: None,
        },
    };
    let mut page = RecordPage {
        validity,
        author_name: authority
            .member(&author)
            .map(|member| member.name.clone())
            .unwrap_or_default(),
        signature: lower_hex(&decoded.signed.signature.0),
        chain,
        acknowledges: None,
        acknowledged_by: referencing(store, Referrers::Acknowledging, id)?,
        corrects: None,
        corrected_by: referencing(store, Referrers::Correcting, id)?,
        changes: Vec::new(),
        treaty: None,
        record: RecordView::of(&decoded.signed, &decoded.body),
    };
    match &decoded.body {
        Body::Transaction(transaction) => {
            if let Some(target) = &transaction.acknowledges {
                page.acknowledges = load_summary(store, target)?;
            }
        }
        Body::TreatyAction(action) => page.treaty = load_summary(store, &action.treaty)?,
        Body::Correction(correction) => {
            page.corrects = load_summary(store, &correction.corrects)?;
            page.changes = changes(store, correction)?;
        }
        Body::TreatyText(_)
        | Body::Statement(_)
        | Body::Proposal(_)
        | Body::Approval(_)
        | Body::KeyRotation(_) => {}
    }
    Ok(page)
}

/// Kinds of later records that name an earlier one, as the explorer index lists them.
#[derive(Clone, Copy)]
enum Referrers {
    Acknowledging,
    Correcting,
    Superseding,
}

impl Referrers {
    /// Keys `tag ‖ id ‖ [skip bytes] ‖ other id` list the referencing records.
    fn tag_and_skip(self) -> (u8, usize) {
        match self {
            Referrers::Acknowledging => (tag::ACKNOWLEDGED_BY, 0),
            Referrers::Correcting => (tag::CORRECTED_BY, 8),
            Referrers::Superseding => (tag::SUPERSEDED_BY, 0),
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
}

/// The records of the kind `referrers` that name `id`. Most records are never
/// acknowledged or corrected: a point read of the marker answers for them, instead of a
/// range scan, which costs sled far more (BENCHMARKS.md, explorer).
fn referencing(
    store: &StoreReader,
    referrers: Referrers,
    id: &RecordId,
) -> Result<Vec<Summary>, StoreError> {
    let tree = store.index_tree();
    if let Some(marker) = referrers.marker() {
        if !tree.contains_key(Key::new(marker).bytes(&id.0).into_vec())? {
            return Ok(Vec::new());
        }
    }
    let (tag, skip) = referrers.tag_and_skip();
    let prefix = Key::new(tag).bytes(&id.0).into_vec();
    let mut found = Vec::new();
    for entry in tree.scan_prefix(&prefix).take(REFERENCES_MAX + 1) {
        let (key, _) = entry?;
        let rest = key.get(prefix.len() + skip..).unwrap_or_default();
        if let Some(summary) = load_summary(store, &index::record_id(rest)?)? {
            found.push(summary);
        }
    }
    found.truncate(REFERENCES_MAX);
    Ok(found)
}

/// The fields a correction changes, by comparing the corrected body with the replacement.
fn changes(store: &StoreReader, correction: &Correction) -> Result<Vec<Change>, Problem> {
    let Some(bytes) = store.get(&correction.corrects)? else {
        return Ok(Vec::new());
    };
    let before = flatten(&body_json(&decode(bytes)?.body));
    let after = match &correction.replacement {
        Some(replacement) => flatten(&body_json(&replacement_body(replacement))),
        None => BTreeMap::new(),
    };
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    Ok(fields
        .into_iter()
        .filter(|field| before.get(*field) != after.get(*field))
        .map(|field| Change {
            field: field.clone(),
            before: before.get(field).cloned().unwrap_or_default(),
            after: after.get(field).cloned().unwrap_or_default(),
        })
        .collect())
}

fn replacement_body(replacement: &Replacement) -> Body {
    replacement.to_body()
}

/// A JSON value as `path → text` pairs (nulls left out).
pub fn flatten(value: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten_into(value, String::new(), &mut out);
    out
}

fn flatten_into(value: &Value, path: String, out: &mut BTreeMap<String, String>) {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        Value::Null => {}
        Value::Object(map) => map
            .iter()
            .for_each(|(name, inner)| flatten_into(inner, join(name), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(index, inner)| flatten_into(inner, join(&index.to_string()), out)),
        Value::String(text) => {
            out.insert(path, text.clone());
        }
        other => {
            out.insert(path, other.to_string());
        }
    }
}

/// Resolves a full id or a unique prefix of hex digits.
pub fn resolve_id(store: &StoreReader, text: &str) -> Result<RecordId, Problem> {
    let text = text.trim().to_ascii_lowercase();
    let hex_only = text.bytes().all(|byte| byte.is_ascii_hexdigit());
    if text.is_empty() || text.len() > ID_HEX_DIGITS || !hex_only {
        return Err(Problem::BadRequest(format!(
            "{text:?} is not a record id (1 to {ID_HEX_DIGITS} hex digits)"
        )));
    }
    // A full id needs no search, only point reads (a range scan costs sled far more): in a
    // chain, or held as revoked, which the id index (chains only) lacks.
    if text.len() == ID_HEX_DIGITS {
        if let Ok(id) = RecordId::from_hex(&text) {
            if store.position(&id)?.is_some() || store.revocation(&id)?.is_some() {
                return Ok(id);
            }
            return Err(Problem::NotFound(format!(
                "no record id starts with {text}"
            )));
        }
    }
    let matches = ids_with_prefix(store, &text, 2)?;
    match matches.as_slice() {
        [] => Err(Problem::NotFound(format!(
            "no record id starts with {text}"
        ))),
        [id] => Ok(*id),
        _ => Err(Problem::Ambiguous {
            prefix: text,
            count: matches.len(),
        }),
    }
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

/// One transaction of an activity.
#[derive(Debug, Serialize)]
pub struct ActivityRecord {
    /// The record.
    pub record: Summary,
    /// The transaction (a correction's replacement for a correction).
    pub transaction: Value,
    /// Records acknowledging it.
    pub acknowledged_by: Vec<RecordId>,
    /// Records correcting it.
    pub corrected_by: Vec<RecordId>,
}

/// Money from one party to another in an activity, by transaction type.
#[derive(Debug, Serialize)]
pub struct Flow {
    /// The provider's org ref (empty when not given).
    pub provider: String,
    /// The receiver's org ref.
    pub receiver: String,
    /// IATI TransactionType code.
    pub transaction_type: u8,
    /// Its name.
    pub type_name: &'static str,
    /// Currency.
    pub currency: String,
    /// Transactions.
    pub count: u64,
    /// Exact sum.
    pub sum: String,
}

/// The totals of one organisation in an activity.
#[derive(Debug, Serialize)]
pub struct OrgTotals {
    /// The organisation.
    pub org: String,
    /// By type and currency.
    pub totals: Vec<TotalView>,
}

/// An activity's page.
#[derive(Debug, Serialize)]
pub struct ActivityPage {
    /// The IATI activity id.
    pub activity: String,
    /// Totals by organisation, type and currency.
    pub organisations: Vec<OrgTotals>,
    /// Totals by type and currency over all organisations.
    pub totals: Vec<TotalView>,
    /// Totals of the transactions some record acknowledges.
    pub acknowledged: Vec<TotalView>,
    /// Money between parties.
    pub flows: Vec<Flow>,
    /// One page of its transactions, by organisation then seq.
    pub records: Vec<ActivityRecord>,
    /// The `after` cursor of the next page.
    pub next_after: Option<String>,
}

/// Reads an activity's page; `after` is the cursor a previous page gave.
pub fn activity_page(
    store: &StoreReader,
    activity: &str,
    after: Option<&str>,
) -> Result<ActivityPage, Problem> {
    if activity.is_empty() || activity.len() > usize::from(u16::MAX) {
        return Err(Problem::BadRequest(
            "an activity id is 1 to 65535 bytes".into(),
        ));
    }
    let cursor = after
        .map(|after| {
            hex::decode(after)
                .map_err(|_| Problem::BadRequest(format!("{after:?} is not a page cursor")))
        })
        .transpose()?;
    let (organisations, totals) = activity_totals(store, activity)?;
    let (records, next_after) = activity_records(store, activity, cursor.as_deref())?;
    // Totals go when every transaction was withdrawn; the records stay listed.
    let listed = || -> Result<bool, StoreError> {
        let prefix = Key::new(tag::ACTIVITY_RECORD).text(activity).into_vec();
        Ok(store
            .index_tree()
            .scan_prefix(prefix)
            .next()
            .transpose()?
            .is_some())
    };
    if organisations.is_empty() && records.is_empty() && !listed()? {
        return Err(Problem::NotFound(format!(
            "no transaction names activity {activity:?}"
        )));
    }
    Ok(ActivityPage {
        activity: activity.to_owned(),
        organisations,
        totals,
        acknowledged: acknowledged_totals(store, activity)?,
        flows: flows(store, activity)?,
        records,
        next_after,
    })
}

type ActivityTotals = (Vec<OrgTotals>, Vec<TotalView>);

fn activity_totals(store: &StoreReader, activity: &str) -> Result<ActivityTotals, StoreError> {
    let prefix = Key::new(tag::ACTIVITY_TOTAL).text(activity).into_vec();
    let mut by_org: Vec<OrgTotals> = Vec::new();
    let mut overall: BTreeMap<(u8, String), Total> = BTreeMap::new();
    for entry in store.index_tree().scan_prefix(&prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let org = rest.text()?;
        let transaction_type = rest.u8()?;
        let currency = rest.text()?;
        let total = Total::decode(&value)?;
        let sum = overall
            .entry((transaction_type, currency.clone()))
            .or_insert(Total {
                count: 0,
                sum: Some(rust_decimal::Decimal::ZERO),
            });
        sum.count += total.count;
        sum.sum = sum.sum.zip(total.sum).and_then(|(a, b)| a.checked_add(b));
        if by_org.last().is_none_or(|last| last.org != org) {
            by_org.push(OrgTotals {
                org: org.clone(),
                totals: Vec::new(),
            });
        }
        if let Some(last) = by_org.last_mut() {
            last.totals
                .push(total_view(transaction_type, currency, &total));
        }
    }
    let totals = overall
        .into_iter()
        .map(|((transaction_type, currency), total)| total_view(transaction_type, currency, &total))
        .collect();
    Ok((by_org, totals))
}

fn acknowledged_totals(store: &StoreReader, activity: &str) -> Result<Vec<TotalView>, StoreError> {
    let prefix = Key::new(tag::ACKNOWLEDGED_TOTAL).text(activity).into_vec();
    let mut totals = Vec::new();
    for entry in store.index_tree().scan_prefix(&prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let transaction_type = rest.u8()?;
        let currency = rest.text()?;
        totals.push(total_view(
            transaction_type,
            currency,
            &Total::decode(&value)?,
        ));
    }
    Ok(totals)
}

fn flows(store: &StoreReader, activity: &str) -> Result<Vec<Flow>, StoreError> {
    let prefix = Key::new(tag::FLOW).text(activity).into_vec();
    let mut flows = Vec::new();
    for entry in store.index_tree().scan_prefix(&prefix).take(TOTALS_MAX) {
        let (key, value) = entry?;
        let mut rest = KeyReader::new(&key[prefix.len()..]);
        let (provider, receiver) = (rest.text()?, rest.text()?);
        let (transaction_type, currency) = (rest.u8()?, rest.text()?);
        let total = Total::decode(&value)?;
        let view = total_view(transaction_type, currency, &total);
        flows.push(Flow {
            provider,
            receiver,
            transaction_type,
            type_name: view.type_name,
            currency: view.currency,
            count: total.count,
            sum: view.sum,
        });
    }
    Ok(flows)
}

type RecordsPage = (Vec<ActivityRecord>, Option<String>);

fn activity_records(
    store: &StoreReader,
    activity: &str,
    after: Option<&[u8]>,
) -> Result<RecordsPage, Problem> {
    let prefix = Key::new(tag::ACTIVITY_RECORD).text(activity).into_vec();
    let tree = store.index_tree();
    let start = match after {
        None => prefix.clone(),
        // The listing that holds the cursor starts at or before it: the last key up to it.
        Some(cursor) => {
            let at = [prefix.as_slice(), cursor].concat();
            match tree.range(prefix.clone()..=at.clone()).next_back() {
                Some(entry) => entry?.0.to_vec(),
                None => at,
            }
        }
    };
    let mut records = Vec::new();
    let mut last_position = None;
    'listings: for entry in tree.range(start..) {
        let (key, value) = entry?;
        if !key.starts_with(&prefix) {
            break;
        }
        // key = prefix ‖ org ‖ first seq; a record's position (the cursor) is org ‖ its seq.
        let org = key
            .get(prefix.len()..key.len().saturating_sub(8))
            .ok_or_else(|| StoreError::Corrupt("an explorer activity key is too short".into()))?;
        for (seq, id) in Listing::decode(&value)? {
            let position = [org, &seq.to_be_bytes()].concat();
            if after.is_some_and(|cursor| position.as_slice() <= cursor) {
                continue;
            }
            records.push(activity_record(store, &id)?);
            last_position = Some(position);
            if records.len() == ACTIVITY_PAGE_RECORDS {
                break 'listings;
            }
        }
    }
    let next_after = last_position
        .filter(|_| records.len() == ACTIVITY_PAGE_RECORDS)
        .map(hex::encode);
    Ok((records, next_after))
}

/// One record of an activity's page: its summary, the transaction as it stands, and who
/// acknowledged or corrected it.
fn activity_record(store: &StoreReader, id: &RecordId) -> Result<ActivityRecord, Problem> {
    let decoded = load(store, id)?;
    let transaction = match &decoded.body {
        Body::Correction(Correction {
            replacement: Some(replacement),
            ..
        }) => body_json(&replacement_body(replacement)),
        body => body_json(body),
    };
    Ok(ActivityRecord {
        record: summary_of(&decoded),
        transaction,
        acknowledged_by: referencing(store, Referrers::Acknowledging, id)?
            .into_iter()
            .map(|summary| summary.id)
            .collect(),
        corrected_by: referencing(store, Referrers::Correcting, id)?
            .into_iter()
            .map(|summary| summary.id)
            .collect(),
    })
}

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
    let prefix = Key::new(tag::TREATY_ACTION).bytes(&id.0).into_vec();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(TREATY_ACTIONS_MAX)
    {
        let (key, _) = entry?;
        let action_id = index::record_id(&key[prefix.len()..])?;
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
    let prefix = Key::new(tag::ACTIVITY_NAME)
        .bytes(query.as_bytes())
        .into_vec();
    for entry in store
        .index_tree()
        .scan_prefix(&prefix)
        .take(SEARCH_RESULTS_MAX)
    {
        let (key, _) = entry?;
        results
            .activities
            .push(String::from_utf8_lossy(&key[1..]).into_owned());
    }
    let titles = Key::new(tag::TREATY_TITLE).into_vec();
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
                .extend(load_summary(store, &index::record_id(&key[1..])?)?);
            if results.treaties.len() >= SEARCH_RESULTS_MAX {
                break;
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_json_to_paths() {
        let value = serde_json::json!({"value": {"amount": "1.5", "currency": "GBP"}, "parties": ["A", "B"], "none": null});
        let flat = flatten(&value);
        assert_eq!(flat["value.amount"], "1.5");
        assert_eq!(flat["parties.1"], "B");
        assert!(!flat.contains_key("none"));
    }
}
