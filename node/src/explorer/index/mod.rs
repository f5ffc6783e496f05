//! The explorer's indexes: totals and reverse references kept in one sled tree (`explorer`)
//! and written inside the store's append transaction, so that they are exactly as current as
//! the chains, whatever appended the record (the local writer or a peer's record).
//!
//! Pages read these instead of scanning: a home or organisation page over a million records
//! reads a few keys. Keys are built with the spec's sortable key builder and read back with its
//! reader (`aidledger_spec::sortkey`, FORMAT.md §19; `keys.rs`): integers big endian, texts
//! length-prefixed so that no text is a prefix of another key's text. Values are in the layout
//! of FORMAT.md §2 (little endian), through the spec's `Codec`:
//!
//! | tag | key after the tag | value |
//! |---|---|---|
//! | `t` | org, type (u8), currency | [`Total`] of the org's transactions (what it reports) |
//! | `o` | named org, author, type (u8), currency | [`Total`] of the transactions of other authors naming the org as provider or receiver (what others report about it) |
//! | `s` | activity, side (u8: 0 own, 1 others; [`side`]), org, type (u8), currency | [`Total`] of an activity's transactions: side 0 those whose `activity_id` is the activity (what its publisher reports), side 1 those of other activities naming it as a party's activity (what others report about it) |
//! | `a` | activity, org, first seq (u64) | [`Listing`]: up to [`LISTING_ENTRIES_MAX`] of the activity's records of one org appended in one transaction (its transactions, and the author's own corrections of them under the replacement's activities) |
//! | `k` | acknowledged id, acknowledging id | empty: a current acknowledgement (the acknowledging transaction's own id, also when its author's correction made it acknowledge; removed when a correction withdrew it or made it acknowledge another; written also before the acknowledged record is stored) |
//! | `K` | acknowledged id | how many `k` keys it has (`u64`); absent at 0 |
//! | `c` | corrected id, correction seq (u64), correction id | empty |
//! | `C` | corrected id | the latest correction's id (32 bytes) by the corrected record's author (the one totals follow) |
//! | `R` | corrected id | empty: corrected at least once, by anyone |
//! | `x` | treaty id, action id | empty |
//! | `u` | treaty id, superseding treaty id | empty |
//! | `n` | treaty id | the treaty's title (its UTF-8 bytes, the whole value) |
//! | `S` | term, `0x00`, field (u8), target | search terms: words and id suffixes, each pointing at what it names and the version that carries it (`search.rs`) |
//! | `A` | activity, author | the id (32 bytes) of the author's latest activity record (kind 8) of the activity, which supersedes its earlier ones, then its titles in lower case for search, one a line, at most [`activities::TITLE_SEARCH_BYTES_MAX`] bytes (`activities.rs`) |
//! | `F`, `G`, `j` | a signed text's fingerprints, a statement's longest words, an organisation's statements | see `texts.rs` |
//! | `v` | (nothing) | index format version ([`INDEX_VERSION`], `u32`) |
//!
//! The index holds counts and sums and who names whom, never a money status: whether a
//! disbursement was received in full, short or over is the money model's
//! (`aidledger_view::money`), which the pages run over the records these keys lead to
//! (`model/money.rs`), as the CLI runs it over every record.
//!
//! One `a` key per (activity, org) per append group, not per record (a rebuild indexes the
//! stored records in groups of the same size): an IATI import appends
//! an activity's transactions together, and one sled insert for them instead of one each was
//! the largest saving of the import (BENCHMARKS.md). Listings of one (activity, org) never
//! overlap: a later group's seqs are all higher, so reading the keys in order reads the
//! activity's records in (org, seq) order. A listing holds at most [`LISTING_ENTRIES_MAX`]
//! entries (an ingest group can be larger than the writer's), so that a page whose cursor
//! falls inside one decodes a bounded value. Every activity id a transaction or activity
//! record names has search terms (`S`, `search.rs`), written when its first record comes.
//!
//! Totals follow corrections: a correction of a transaction by its own author takes the
//! corrected value (the author's latest correction's replacement, else the original) out of every total
//! and puts the replacement's value in (nothing for a withdrawal). So does what it
//! acknowledges: a receipt withdrawn, or corrected to acknowledge another transaction, leaves
//! the `k` keys of the one it acknowledged (as `aidledger flow` and `reconcile` read corrected
//! transactions). A correction that corrects another correction, or replaces a transaction with
//! a record of another kind, changes no total (documented limitation; the record pages show
//! it).

// Files: `keys` (tags, keys, their reader), `values` (totals and listings), `totals`,
// `acknowledgements`, `corrections`, `activities` and `texts` (what each kind of record changes); this one holds the
// append transaction's state and the dispatch by body kind.
mod acknowledgements;
pub mod activities;
mod corrections;
mod keys;
pub mod search;
pub mod texts;
mod totals;
mod values;

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use aidledger_spec::codec::Codec;
use aidledger_spec::record::{Correction, Transaction};
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::sortkey::SortKey;
use aidledger_spec::{codec, Body, RecordId, VerifiedRecord};
use rust_decimal::Decimal;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use aidledger_store::{AppendError, StoreError};

use acknowledgements::*;
use corrections::*;
use keys::*;
pub(crate) use keys::{tag, KeyReader};
use totals::*;
pub use totals::{named_orgs, side};
use values::{decode_count, ListingEntry};
pub use values::{Listing, Total};

/// The index format this code writes; a store without it (or with another) is rebuilt at open.
/// 13: an activity record's terms in postings of its append group (`S` ‖ term ‖ field ‖ author ‖
/// first seq, the activities as the value), not a key per term and activity.
/// 12: search terms (`S`: organisation ids and names of transactions' parties, activity id
/// suffixes, activity titles, descriptions and places, statement and treaty titles).
/// 11: a statement's longest words only (`G`), no word counts (`N`): a key and a count per word
/// made a statement's append some fifty times dearer. 10: signed texts' fingerprints,
/// statements' words and each organisation's statements (`F`, `G`, `N`, `j`; `texts.rs`), for
/// "Is this genuine?".
/// 9: an activity record's titles in its `A` value; no title-word keys (`w`: their writes and
/// the read of the superseded record cost the IATI import). 8: activity records' latest per
/// author (`A`) and title words (`w`).
/// 7: activity totals split into own and others' (`s` has a side), others' totals of an
/// organisation (`o`); no acknowledged totals (`g`, `P`, `p`: a 125,000 disbursement
/// acknowledged by a 120,000 receipt read "acknowledged 125000.00") nor flows (`f`; the money
/// model's links replace them). 6: values in the layout of FORMAT.md §2.
pub const INDEX_VERSION: u32 = 13;
const VERSION_KEY: &[u8] = b"v";
const ID_BYTES: usize = 32;
/// Most entries in one listing (10 KiB).
pub const LISTING_ENTRIES_MAX: usize = 256;

/// The trees an append transaction gives the index: its own, and the chain trees to look up
/// records appended earlier (in this transaction or before); and the totals the transaction
/// has touched so far.
pub(crate) struct AppendTrees<'a> {
    /// The `explorer` tree.
    explorer: &'a TransactionalTree,
    /// The store's `index` tree (id → records key).
    index: &'a TransactionalTree,
    /// The store's `records` tree.
    records: &'a TransactionalTree,
    /// Totals read once and updated in memory: a group of a thousand transactions of one
    /// organisation touches its totals a thousand times but writes each once ([`Self::finish`]).
    totals: RefCell<HashMap<Vec<u8>, Total>>,
    /// Activity listings of this transaction, by `a` ‖ activity ‖ org.
    listings: RefCell<Gathered<ListingEntry, LISTING_ENTRIES_MAX>>,
    /// The search terms this transaction wrote or found current (`search.rs`).
    search: RefCell<search::SearchWrites>,
}

/// Entries gathered under key prefixes in one append transaction: a prefix's entries are
/// written as one value under prefix ‖ the first entry's seq (`u64`), once `MAX` are gathered
/// or when the transaction ends (the `a` listings; the activity records' search postings).
pub(crate) struct Gathered<E, const MAX: usize> {
    lists: HashMap<Vec<u8>, GatheredList<E>>,
}

/// A list being gathered: its key's first seq and its entries so far.
struct GatheredList<E> {
    first_seq: u64,
    entries: Vec<E>,
}

impl<E, const MAX: usize> Default for Gathered<E, MAX> {
    fn default() -> Self {
        Gathered {
            lists: HashMap::new(),
        }
    }
}

impl<E, const MAX: usize> Gathered<E, MAX> {
    /// Adds `entry` (of the record at `seq`) under `prefix`; returns the key and entries of
    /// the list it filled, to be written now.
    fn add(&mut self, prefix: Vec<u8>, seq: u64, entry: E) -> Option<(Vec<u8>, Vec<E>)> {
        let mut list = match self.lists.entry(prefix) {
            Entry::Occupied(list) => list,
            Entry::Vacant(list) => list.insert_entry(GatheredList {
                first_seq: seq,
                entries: Vec::new(),
            }),
        };
        list.get_mut().entries.push(entry);
        (list.get().entries.len() == MAX).then(|| {
            let (prefix, full) = list.remove_entry();
            full.keyed(prefix)
        })
    }

    /// The key and entries of every list not written yet.
    fn drain(&mut self) -> Vec<(Vec<u8>, Vec<E>)> {
        self.lists
            .drain()
            .map(|(prefix, list)| list.keyed(prefix))
            .collect()
    }
}

impl<E> GatheredList<E> {
    fn keyed(self, prefix: Vec<u8>) -> (Vec<u8>, Vec<E>) {
        let key = SortKey::extend(prefix).u64(self.first_seq).into_bytes();
        (key, self.entries)
    }
}

impl<'a> AppendTrees<'a> {
    pub(crate) fn new(
        explorer: &'a TransactionalTree,
        index: &'a TransactionalTree,
        records: &'a TransactionalTree,
    ) -> AppendTrees<'a> {
        AppendTrees {
            explorer,
            index,
            records,
            totals: RefCell::default(),
            listings: RefCell::default(),
            search: RefCell::default(),
        }
    }

    /// Lists a record under an activity (written when the listing is full, or by
    /// [`Self::finish`]).
    fn list(&self, activity: &str, author: &str, seq: u64, id: &RecordId) -> TxResult<()> {
        let prefix = SortKey::tagged(tag::ACTIVITY_RECORD)
            .text(activity)
            .text(author)
            .into_bytes();
        let full = self
            .listings
            .borrow_mut()
            .add(prefix, seq, ListingEntry { seq, id: *id });
        if let Some((key, entries)) = full {
            self.explorer.insert(key, Listing::encode(&entries))?;
        }
        Ok(())
    }

    /// Writes the listings and totals the transaction changed; once, after its last record is
    /// indexed.
    pub(crate) fn finish(&self) -> TxResult<()> {
        search::finish(self)?;
        let listings = self.listings.borrow_mut().drain();
        for (key, entries) in listings {
            self.explorer.insert(key, Listing::encode(&entries))?;
        }
        for (key, total) in self.totals.borrow_mut().drain() {
            // A total reaches 0 only by removals: its key goes, as if never written.
            if total.count == 0 {
                self.explorer.remove(key)?;
            } else {
                self.explorer.insert(key, total.encode())?;
            }
        }
        Ok(())
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<AppendError>>;

fn corrupt(message: String) -> ConflictableTransactionError<AppendError> {
    ConflictableTransactionError::Abort(AppendError::Store(StoreError::Corrupt(message)))
}

/// Indexes one record inside the append transaction (called by `Store::append_group` after
/// the record's chain entries are written).
pub(crate) fn on_append(trees: &AppendTrees<'_>, record: &VerifiedRecord) -> TxResult<()> {
    let header = record.header();
    index_record(
        trees,
        &header.author,
        header.seq,
        record.id(),
        record.body(),
    )
}

/// Indexes one stored record (appends, and the rebuild of an older store's index, which reads
/// records that were verified when they were appended).
pub(crate) fn index_record(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    body: &Body,
) -> TxResult<()> {
    texts::index_texts(trees, author, seq, id, body)?;
    match body {
        Body::Transaction(transaction) => {
            index_transaction(trees, author, seq, id, transaction)?;
            if let Some(acknowledged) = transaction.acknowledges {
                acknowledge(trees, acknowledged, id)?;
            }
        }
        Body::TreatyText(treaty) => {
            search::index_treaty(trees, id, treaty)?;
            let title_key = SortKey::tagged(tag::TREATY_TITLE).id(&id.0).into_bytes();
            trees.explorer.insert(title_key, treaty.title.as_bytes())?;
            if let Some(superseded) = treaty.supersedes {
                let key = SortKey::tagged(tag::SUPERSEDED_BY)
                    .id(&superseded.0)
                    .id(&id.0);
                trees.explorer.insert(key.into_bytes(), &[][..])?;
            }
        }
        Body::TreatyAction(action) => {
            let key = SortKey::tagged(tag::TREATY_ACTION)
                .id(&action.treaty.0)
                .id(&id.0);
            trees.explorer.insert(key.into_bytes(), &[][..])?;
        }
        Body::Statement(statement) => search::index_statement(trees, id, statement)?,
        // An order's note and the positions it names say nothing a reader searches for; what
        // it withholds leaves the index when the order is applied (`Store::redact`).
        Body::Proposal(_) | Body::Approval(_) | Body::KeyRotation(_) | Body::Redaction(_) => {}
        Body::Activity(activity) => {
            activities::index_activity(trees, author, id, activity)?;
            search::index_activity(trees, author, seq, id, activity)?;
        }
        Body::Correction(correction) => {
            correct(trees, author, seq, id, correction)?;
        }
    }
    Ok(())
}

/// Lists a transaction under its activities and adds it to the totals.
fn index_transaction(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    transaction: &Transaction,
) -> TxResult<()> {
    for activity in activities(transaction) {
        trees.list(activity, author, seq, &id)?;
    }
    search::index_transaction(trees, id, id, transaction)?;
    add_to_totals(trees, author, transaction, 1)
}

/// The distinct activity ids a transaction names: its own and its parties'.
pub fn activities(transaction: &Transaction) -> BTreeSet<&str> {
    let parties = [&transaction.provider, &transaction.receiver];
    let mut ids: BTreeSet<&str> = parties
        .into_iter()
        .flatten()
        .map(|party| party.activity_id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    ids.insert(transaction.activity_id.as_str());
    ids
}

/// A stored record's author, seq and body.
struct StoredRecord {
    author: String,
    seq: u64,
    body: Body,
}

/// A stored record's author, seq and body, read inside the transaction.
///
/// An index entry can outlive its record, or name a position that another record took since (a
/// power loss can keep a small entry and lose a record sled wrote as a blob; see the store's
/// module doc): the record counts as not stored unless the bytes found carry `id`. Inside the
/// append transaction the records of the group being appended are found too.
fn stored_in_tx(trees: &AppendTrees<'_>, id: &RecordId) -> TxResult<Option<StoredRecord>> {
    let Some(key) = trees.index.get(id.0)? else {
        return Ok(None);
    };
    let Some(bytes) = trees.records.get(&key)? else {
        return Ok(None);
    };
    // A redacted record has no body to look into: for the index it is not there.
    if aidledger_spec::withheld::is_withheld(&bytes) {
        return Ok(None);
    }
    let (found, stored) = decode_stored(&bytes).map_err(|error| corrupt(error.to_string()))?;
    Ok((found == *id).then_some(stored))
}

/// A stored record's author and body.
pub fn decode(bytes: &[u8]) -> Result<(String, Body), StoreError> {
    decode_stored(bytes).map(|(_, stored)| (stored.author, stored.body))
}

/// A stored record's id, and its author, seq and body.
fn decode_stored(bytes: &[u8]) -> Result<(RecordId, StoredRecord), StoreError> {
    let corrupt = |error| StoreError::Corrupt(format!("a stored record does not decode: {error}"));
    let record = SignedRecord::parse(bytes.to_vec()).map_err(corrupt)?;
    let body: Body = codec::decode_exact(record.body_bytes()).map_err(corrupt)?;
    let stored = StoredRecord {
        author: record.header.author,
        seq: record.header.seq,
        body,
    };
    Ok((record.id, stored))
}

/// A record id from 32 stored bytes.
pub fn record_id(bytes: &[u8]) -> Result<RecordId, StoreError> {
    let bytes: [u8; ID_BYTES] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("an explorer index id is not 32 bytes".into()))?;
    Ok(aidledger_spec::Digest(bytes))
}

/// Whether the store's explorer index is current (written by this code's [`INDEX_VERSION`]).
pub(crate) fn is_current(explorer: &sled::Tree) -> Result<bool, StoreError> {
    Ok(explorer
        .get(VERSION_KEY)?
        .is_some_and(|value| value.as_ref() == INDEX_VERSION.to_bytes()))
}

/// Removes the mark: the next open rebuilds the index unless it is marked current again.
pub(crate) fn mark_stale(explorer: &sled::Tree) -> Result<(), StoreError> {
    explorer.remove(VERSION_KEY)?;
    Ok(())
}

/// Marks the index current.
pub(crate) fn mark_current(explorer: &sled::Tree) -> Result<(), StoreError> {
    explorer.insert(VERSION_KEY, INDEX_VERSION.to_bytes())?;
    Ok(())
}
