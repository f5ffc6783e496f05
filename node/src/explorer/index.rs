//! The explorer's indexes: totals and reverse references kept in one sled tree (`explorer`)
//! and written inside the store's append transaction, so that they are exactly as current as
//! the chains, whatever appended the record (the local writer or a peer's record).
//!
//! Pages read these instead of scanning: a home or organisation page over a million records
//! reads a few keys. Keys (integers big endian, texts length-prefixed so that no text is a
//! prefix of another key's text):
//!
//! | tag | key after the tag | value |
//! |---|---|---|
//! | `t` | org, type (u8), currency | [`Total`] of the org's transactions |
//! | `s` | activity, org, type (u8), currency | [`Total`] of an activity's transactions |
//! | `g` | activity, type (u8), currency | [`Total`] of an activity's acknowledged transactions |
//! | `f` | activity, provider ref, receiver ref, type (u8), currency | [`Total`] of the flow between them |
//! | `a` | activity, org, first seq (u64) | [`Listing`]: up to [`LISTING_ENTRIES_MAX`] of the activity's records of one org appended in one transaction (its transactions, and the author's own corrections of them under the replacement's activities) |
//! | `l` | activity bytes, not prefixed | empty: every activity id, for prefix search |
//! | `k` | acknowledged id, acknowledging id | empty: a current acknowledgement (the acknowledging transaction's own id, also when its author's correction made it acknowledge; removed when a correction withdrew it or made it acknowledge another) |
//! | `K` | acknowledged id | how many `k` keys it has (u64); absent at 0 |
//! | `P` | acknowledged id | empty: acknowledged before it was stored; its value joins the acknowledged totals when it arrives |
//! | `p` | (nothing) | how many `P` keys there are (u64), so that appends look for one only when some exist |
//! | `c` | corrected id, correction seq (u64), correction id | empty |
//! | `C` | corrected id | the latest correction's id by the corrected record's author (the one totals follow) |
//! | `R` | corrected id | empty: corrected at least once, by anyone |
//! | `x` | treaty id, action id | empty |
//! | `u` | treaty id, superseding treaty id | empty |
//! | `n` | treaty id | the treaty's title |
//! | `v` | (nothing) | index format version (u32) |
//!
//! One `a` key per (activity, org) per append group, not per record (a rebuild indexes the
//! stored records in groups of the same size): an IATI import appends
//! an activity's transactions together, and one sled insert for them instead of one each was
//! the largest saving of the import (BENCHMARKS.md). Listings of one (activity, org) never
//! overlap: a later group's seqs are all higher, so reading the keys in order reads the
//! activity's records in (org, seq) order. A listing holds at most [`LISTING_ENTRIES_MAX`]
//! entries (an ingest group can be larger than the writer's), so that a page whose cursor
//! falls inside one decodes a bounded value. The `l` key of an activity is written whenever a
//! record is added to one of its totals (`s`) that did not exist yet: every activity that was
//! ever listed has one.
//!
//! Totals follow corrections: a correction of a transaction by its own author takes the
//! corrected value (the author's latest correction's replacement, else the original) out of every total
//! and puts the replacement's value in (nothing for a withdrawal). So does what it
//! acknowledges: a receipt withdrawn, or corrected to acknowledge another transaction, stops
//! counting for the one it acknowledged, whose value leaves the acknowledged totals when no
//! current acknowledgement is left (as `aidledger flow` and `reconcile` read corrected
//! transactions). A correction that corrects another correction, or replaces a transaction with
//! a record of another kind, changes no total (documented limitation; the record pages show
//! it).

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use aidledger_spec::record::{Correction, Transaction};
use aidledger_spec::signed::SignedRecord;
use aidledger_spec::{codec, Body, RecordId, VerifiedRecord};
use aidledger_view::corrections::{self, Corrected, Effect};
use rust_decimal::Decimal;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use aidledger_store::{AppendError, StoreError};

/// The index format this code writes; a store without it (or with another) is rebuilt at open.
pub const INDEX_VERSION: u32 = 5;
const VERSION_KEY: &[u8] = b"v";
const ID_BYTES: usize = 32;
const SEQ_BYTES: usize = 8;
/// One entry of a [`Listing`]: seq then id.
const LISTING_ENTRY_BYTES: usize = SEQ_BYTES + ID_BYTES;
/// Most entries in one listing (10 KiB).
pub const LISTING_ENTRIES_MAX: usize = 256;

/// Key tags, one byte each (see the module table).
pub(crate) mod tag {
    pub const ORG_TOTAL: u8 = b't';
    pub const ACTIVITY_TOTAL: u8 = b's';
    pub const ACKNOWLEDGED_TOTAL: u8 = b'g';
    pub const FLOW: u8 = b'f';
    pub const ACTIVITY_RECORD: u8 = b'a';
    pub const ACTIVITY_NAME: u8 = b'l';
    pub const ACKNOWLEDGED_BY: u8 = b'k';
    pub const ACKNOWLEDGED_MARK: u8 = b'K';
    pub const ACKNOWLEDGED_EARLY: u8 = b'P';
    pub const ACKNOWLEDGED_EARLY_COUNT: u8 = b'p';
    pub const LATEST_CORRECTION: u8 = b'C';
    pub const CORRECTED_MARK: u8 = b'R';
    pub const CORRECTED_BY: u8 = b'c';
    pub const TREATY_ACTION: u8 = b'x';
    pub const SUPERSEDED_BY: u8 = b'u';
    pub const TREATY_TITLE: u8 = b'n';
}

/// A running total: how many transactions and their exact sum (`None` once the sum left
/// `Decimal`'s range, shown as "overflow" rather than a wrong number).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Total {
    /// Transactions counted.
    pub count: u64,
    /// Their sum; `None` on overflow.
    pub sum: Option<Decimal>,
}

impl Total {
    fn zero() -> Total {
        Total {
            count: 0,
            sum: Some(Decimal::ZERO),
        }
    }

    /// Decodes a stored value: count (u64) then the sum's text (empty for overflow).
    pub fn decode(value: &[u8]) -> Result<Total, StoreError> {
        let corrupt = || StoreError::Corrupt("an explorer total does not parse".into());
        if value.len() < 8 {
            return Err(corrupt());
        }
        let count = u64::from_be_bytes(value[..8].try_into().map_err(|_| corrupt())?);
        let text = std::str::from_utf8(&value[8..]).map_err(|_| corrupt())?;
        let sum = if text.is_empty() {
            None
        } else {
            Some(text.parse::<Decimal>().map_err(|_| corrupt())?)
        };
        Ok(Total { count, sum })
    }

    fn encode(&self) -> Vec<u8> {
        let mut value = self.count.to_be_bytes().to_vec();
        if let Some(sum) = self.sum {
            // The scale is kept: 240000.00 + 1.50 is 240001.50, as the amounts were written.
            value.extend_from_slice(sum.to_string().as_bytes());
        }
        value
    }

    /// Adds (`sign` +1) or removes (−1) one transaction's amount.
    fn apply(&mut self, amount: Option<Decimal>, sign: i8) {
        if sign >= 0 {
            self.count += 1;
            self.sum = self.sum.zip(amount).and_then(|(sum, a)| sum.checked_add(a));
        } else {
            self.count = self.count.saturating_sub(1);
            self.sum = self.sum.zip(amount).and_then(|(sum, a)| sum.checked_sub(a));
        }
    }
}

/// The value of an `a` key: (seq, record id) entries, seqs ascending, each 8 + 32 bytes.
pub struct Listing;

impl Listing {
    /// The entries of a stored listing.
    pub fn decode(value: &[u8]) -> Result<Vec<(u64, RecordId)>, StoreError> {
        if value.is_empty() || !value.len().is_multiple_of(LISTING_ENTRY_BYTES) {
            return Err(StoreError::Corrupt(
                "an explorer activity listing is not whole (seq, id) entries".into(),
            ));
        }
        value
            .chunks_exact(LISTING_ENTRY_BYTES)
            .map(|entry| {
                let (seq, id) = entry.split_at(SEQ_BYTES);
                let seq = u64::from_be_bytes(seq.try_into().unwrap_or_default());
                Ok((seq, record_id(id)?))
            })
            .collect()
    }

    fn push(value: &mut Vec<u8>, seq: u64, id: &RecordId) {
        value.extend_from_slice(&seq.to_be_bytes());
        value.extend_from_slice(&id.0);
    }
}

/// Builds index keys: a tag, then parts.
#[derive(Clone, Debug)]
pub(crate) struct Key(Vec<u8>);

impl Key {
    pub(crate) fn new(tag: u8) -> Key {
        Key(vec![tag])
    }

    /// A text with a u16 length before it (texts are at most 1 KiB by the spec's limits; a
    /// longer one is cut, which only merges index entries, never loses records).
    pub(crate) fn text(mut self, text: &str) -> Key {
        let bytes = &text.as_bytes()[..text.len().min(usize::from(u16::MAX))];
        let length = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        self.0.extend_from_slice(&length.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    pub(crate) fn bytes(mut self, bytes: &[u8]) -> Key {
        self.0.extend_from_slice(bytes);
        self
    }

    pub(crate) fn u64(self, value: u64) -> Key {
        self.bytes(&value.to_be_bytes())
    }

    pub(crate) fn u8(mut self, value: u8) -> Key {
        self.0.push(value);
        self
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

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
    listings: RefCell<HashMap<Vec<u8>, NewListing>>,
    /// How many transactions were acknowledged before they were stored (`p`), read at first
    /// use and written by [`Self::finish`] if it changed.
    acknowledged_early: RefCell<Option<EarlyCount>>,
}

/// The `p` count as this transaction sees it.
struct EarlyCount {
    count: u64,
    changed: bool,
}

/// A listing being gathered: its key's first seq and its value so far.
struct NewListing {
    first_seq: u64,
    value: Vec<u8>,
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
            acknowledged_early: RefCell::default(),
        }
    }

    /// The number of `P` keys, read once per transaction.
    fn early_count(&self) -> TxResult<u64> {
        let mut early = self.acknowledged_early.borrow_mut();
        if let Some(early) = early.as_ref() {
            return Ok(early.count);
        }
        let count = match self.explorer.get([tag::ACKNOWLEDGED_EARLY_COUNT])? {
            Some(value) => u64::from_be_bytes(
                value
                    .as_ref()
                    .try_into()
                    .map_err(|_| corrupt("the early acknowledgement count is not a u64".into()))?,
            ),
            None => 0,
        };
        *early = Some(EarlyCount {
            count,
            changed: false,
        });
        Ok(count)
    }

    /// Adds `change` (±1) to the number of `P` keys.
    fn change_early_count(&self, change: i64) -> TxResult<()> {
        let count = self.early_count()?;
        let count = count.saturating_add_signed(change);
        *self.acknowledged_early.borrow_mut() = Some(EarlyCount {
            count,
            changed: true,
        });
        Ok(())
    }

    /// Lists a record under an activity (written when the listing is full, or by
    /// [`Self::finish`]).
    fn list(&self, activity: &str, author: &str, seq: u64, id: &RecordId) -> TxResult<()> {
        let prefix = Key::new(tag::ACTIVITY_RECORD)
            .text(activity)
            .text(author)
            .into_vec();
        let mut listings = self.listings.borrow_mut();
        let mut entry = match listings.entry(prefix) {
            Entry::Occupied(entry) => entry,
            Entry::Vacant(entry) => entry.insert_entry(NewListing {
                first_seq: seq,
                value: Vec::new(),
            }),
        };
        Listing::push(&mut entry.get_mut().value, seq, id);
        if entry.get().value.len() == LISTING_ENTRIES_MAX * LISTING_ENTRY_BYTES {
            let (prefix, full) = entry.remove_entry();
            self.write_listing(prefix, full)?;
        }
        Ok(())
    }

    fn write_listing(&self, prefix: Vec<u8>, listing: NewListing) -> TxResult<()> {
        let key = Key(prefix).u64(listing.first_seq);
        self.explorer.insert(key.into_vec(), listing.value)?;
        Ok(())
    }

    /// Writes the listings and totals the transaction changed; once, after its last record is
    /// indexed.
    pub(crate) fn finish(&self) -> TxResult<()> {
        for (prefix, listing) in self.listings.borrow_mut().drain() {
            self.write_listing(prefix, listing)?;
        }
        if let Some(early) = self.acknowledged_early.borrow_mut().take() {
            if early.changed {
                let key = [tag::ACKNOWLEDGED_EARLY_COUNT];
                self.explorer
                    .insert(&key[..], &early.count.to_be_bytes()[..])?;
            }
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
    match body {
        Body::Transaction(transaction) => {
            index_transaction(trees, author, seq, id, transaction)?;
            if let Some(acknowledged) = transaction.acknowledges {
                acknowledge(trees, acknowledged, id)?;
            }
        }
        Body::TreatyText(treaty) => {
            let title_key = Key::new(tag::TREATY_TITLE).bytes(&id.0).into_vec();
            trees.explorer.insert(title_key, treaty.title.as_bytes())?;
            if let Some(superseded) = treaty.supersedes {
                let key = Key::new(tag::SUPERSEDED_BY)
                    .bytes(&superseded.0)
                    .bytes(&id.0);
                trees.explorer.insert(key.into_vec(), &[][..])?;
            }
        }
        Body::TreatyAction(action) => {
            let key = Key::new(tag::TREATY_ACTION)
                .bytes(&action.treaty.0)
                .bytes(&id.0);
            trees.explorer.insert(key.into_vec(), &[][..])?;
        }
        Body::Statement(_) | Body::Proposal(_) | Body::Approval(_) | Body::KeyRotation(_) => {}
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
    add_to_totals(trees, author, transaction, 1, false)?;
    // Chains sync independently: a receiver's acknowledgement can be stored before the
    // transaction it acknowledges. Its value joins the acknowledged totals now.
    // The count first, so that the usual append, with no `P` key anywhere, reads no more.
    if trees.early_count()? > 0 && trees.explorer.remove(early_key(&id))?.is_some() {
        trees.change_early_count(-1)?;
        add_acknowledged(trees, transaction, 1)?;
    }
    Ok(())
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

/// Adds (`sign` 1) or removes (−1) a transaction in every total it counts in.
fn add_to_totals(
    trees: &AppendTrees<'_>,
    author: &str,
    transaction: &Transaction,
    sign: i8,
    acknowledged: bool,
) -> TxResult<()> {
    let currency = transaction.value.currency.as_str();
    let kind = transaction.transaction_type;
    let amount = transaction.value.amount.parse::<Decimal>().ok();
    let org_key = Key::new(tag::ORG_TOTAL)
        .text(author)
        .u8(kind)
        .text(currency);
    update_total(trees, org_key, amount, sign)?;
    let provider = transaction
        .provider
        .as_ref()
        .map_or("", |p| p.org_ref.as_str());
    let receiver = transaction
        .receiver
        .as_ref()
        .map_or("", |p| p.org_ref.as_str());
    for activity in activities(transaction) {
        let key = Key::new(tag::ACTIVITY_TOTAL)
            .text(activity)
            .text(author)
            .u8(kind)
            .text(currency);
        let stored = update_total(trees, key, amount, sign)?;
        if sign > 0 && stored == Stored::New {
            // A record added to a new total of the activity: name the activity for search
            // (so once per activity, org, type and currency, not once per record).
            let name = Key::new(tag::ACTIVITY_NAME).bytes(activity.as_bytes());
            trees.explorer.insert(name.into_vec(), &[][..])?;
        }
        let flow = Key::new(tag::FLOW)
            .text(activity)
            .text(provider)
            .text(receiver)
            .u8(kind)
            .text(currency);
        update_total(trees, flow, amount, sign)?;
    }
    if acknowledged {
        add_acknowledged(trees, transaction, sign)?;
    }
    Ok(())
}

/// Whether a total was stored before this transaction first read it.
#[derive(Debug, PartialEq, Eq)]
enum Stored {
    New,
    Existing,
}

fn update_total(
    trees: &AppendTrees<'_>,
    key: Key,
    amount: Option<Decimal>,
    sign: i8,
) -> TxResult<Stored> {
    let mut totals = trees.totals.borrow_mut();
    let (total, stored) = match totals.entry(key.into_vec()) {
        Entry::Occupied(entry) => (entry.into_mut(), Stored::Existing),
        Entry::Vacant(entry) => match trees.explorer.get(entry.key())? {
            Some(value) => {
                let total = Total::decode(&value).map_err(|error| corrupt(error.to_string()))?;
                (entry.insert(total), Stored::Existing)
            }
            None => (entry.insert(Total::zero()), Stored::New),
        },
    };
    total.apply(amount, sign);
    Ok(stored)
}

/// Records that `by` acknowledges `acknowledged`; the first current acknowledgement of a
/// transaction moves its value into the acknowledged totals.
fn acknowledge(trees: &AppendTrees<'_>, acknowledged: RecordId, by: RecordId) -> TxResult<()> {
    let key = acknowledged_by_key(&acknowledged, &by);
    if trees.explorer.insert(key, &[][..])?.is_some() {
        return Ok(()); // already counted
    }
    let count = acknowledgers(trees, &acknowledged)?;
    set_acknowledgers(trees, &acknowledged, count + 1)?;
    if count > 0 {
        return Ok(());
    }
    if let Some(transaction) = current_transaction(trees, &acknowledged)? {
        add_acknowledged(trees, &transaction, 1)?;
    } else if stored_in_tx(trees, &acknowledged)?.is_none() {
        // Not stored yet: counted when it arrives (`index_transaction`).
        trees.explorer.insert(early_key(&acknowledged), &[][..])?;
        trees.change_early_count(1)?;
    }
    Ok(())
}

/// Undoes [`acknowledge`] when the author of `by` corrected it to acknowledge something else
/// or withdrew it: once no current acknowledgement is left, the transaction's value leaves
/// the acknowledged totals (or its `P` key goes, if it is still not stored).
fn unacknowledge(trees: &AppendTrees<'_>, acknowledged: RecordId, by: RecordId) -> TxResult<()> {
    let key = acknowledged_by_key(&acknowledged, &by);
    if trees.explorer.remove(key)?.is_none() {
        return Ok(()); // never counted
    }
    let count = acknowledgers(trees, &acknowledged)?.saturating_sub(1);
    set_acknowledgers(trees, &acknowledged, count)?;
    if count > 0 {
        return Ok(());
    }
    if trees.explorer.remove(early_key(&acknowledged))?.is_some() {
        trees.change_early_count(-1)?;
    } else if let Some(transaction) = current_transaction(trees, &acknowledged)? {
        add_acknowledged(trees, &transaction, -1)?;
    }
    Ok(())
}

/// The `k` key: `by` currently acknowledges `acknowledged`.
fn acknowledged_by_key(acknowledged: &RecordId, by: &RecordId) -> Vec<u8> {
    Key::new(tag::ACKNOWLEDGED_BY)
        .bytes(&acknowledged.0)
        .bytes(&by.0)
        .into_vec()
}

/// The `K` key: how many current acknowledgements a record has.
fn mark_key(acknowledged: &RecordId) -> Vec<u8> {
    Key::new(tag::ACKNOWLEDGED_MARK)
        .bytes(&acknowledged.0)
        .into_vec()
}

/// The `P` key: a record acknowledged before it was stored.
fn early_key(acknowledged: &RecordId) -> Vec<u8> {
    Key::new(tag::ACKNOWLEDGED_EARLY)
        .bytes(&acknowledged.0)
        .into_vec()
}

/// How many current acknowledgements a record has (its `K` value; 0 without one).
fn acknowledgers(trees: &AppendTrees<'_>, acknowledged: &RecordId) -> TxResult<u64> {
    match trees.explorer.get(mark_key(acknowledged))? {
        None => Ok(0),
        Some(value) => Ok(u64::from_be_bytes(value.as_ref().try_into().map_err(
            |_| {
                corrupt(format!(
                    "the acknowledgement count of {acknowledged} is not a u64"
                ))
            },
        )?)),
    }
}

/// Writes a record's `K` count, or removes the key at 0 (the record pages then skip the scan
/// of its `k` keys).
fn set_acknowledgers(trees: &AppendTrees<'_>, acknowledged: &RecordId, count: u64) -> TxResult<()> {
    let mark = mark_key(acknowledged);
    if count == 0 {
        trees.explorer.remove(mark)?;
    } else {
        trees.explorer.insert(mark, &count.to_be_bytes()[..])?;
    }
    Ok(())
}

/// Adds (`sign` 1) or removes (−1) a transaction in its activities' acknowledged totals.
fn add_acknowledged(trees: &AppendTrees<'_>, transaction: &Transaction, sign: i8) -> TxResult<()> {
    let amount = transaction.value.amount.parse::<Decimal>().ok();
    for activity in activities(transaction) {
        let key = Key::new(tag::ACKNOWLEDGED_TOTAL)
            .text(activity)
            .u8(transaction.transaction_type)
            .text(&transaction.value.currency);
        update_total(trees, key, amount, sign)?;
    }
    Ok(())
}

/// Applies a correction: the reverse index, and the totals of a corrected transaction, as the
/// shared correction rules (`aidledger_view::corrections`) decide.
fn correct(
    trees: &AppendTrees<'_>,
    author: &str,
    seq: u64,
    id: RecordId,
    correction: &Correction,
) -> TxResult<()> {
    let target = correction.corrects;
    let stored = stored_in_tx(trees, &target)?;
    let corrected = stored
        .as_ref()
        .map(|stored| Corrected::of(&stored.author, stored.seq, &stored.body));
    let effect = corrections::effect(correction, author, seq, corrected);
    let before = current_transaction(trees, &target)?;
    let key = Key::new(tag::CORRECTED_BY)
        .bytes(&target.0)
        .u64(seq)
        .bytes(&id.0);
    trees.explorer.insert(key.into_vec(), &[][..])?;
    let marker = Key::new(tag::CORRECTED_MARK).bytes(&target.0).into_vec();
    trees.explorer.insert(marker, &[][..])?;
    if effect == Effect::Listed {
        // Listed on the record's page, but it changes no total and is not the version the
        // totals follow: a later correction by the author replaces the author's own latest.
        return Ok(());
    }
    let latest = Key::new(tag::LATEST_CORRECTION).bytes(&target.0).into_vec();
    trees.explorer.insert(latest, &id.0[..])?;
    let acknowledged = acknowledgers(trees, &target)? > 0;
    let after = effect.transaction();
    if let Some(old) = &before {
        add_to_totals(trees, author, old, -1, acknowledged)?;
    }
    if let Some(new) = after {
        add_to_totals(trees, author, new, 1, acknowledged)?;
        // The corrected version is listed under its activities too.
        for activity in activities(new) {
            trees.list(activity, author, seq, &id)?;
        }
    }
    // What the corrected record acknowledges follows the correction too (after the totals
    // and `C`, so that a record acknowledging itself is counted at its new value).
    let moved = corrections::acknowledgement_move(before.as_ref(), after);
    if let Some(old) = moved.withdrawn_from {
        unacknowledge(trees, old, target)?;
    }
    if let Some(new) = moved.given_to {
        acknowledge(trees, new, target)?;
    }
    Ok(())
}

/// The transaction a stored record stands for now ([`corrections::current_version`], with the
/// latest counting correction the `C` key names).
fn current_transaction(trees: &AppendTrees<'_>, id: &RecordId) -> TxResult<Option<Transaction>> {
    let Some(stored) = stored_in_tx(trees, id)? else {
        return Ok(None);
    };
    let latest_key = Key::new(tag::LATEST_CORRECTION).bytes(&id.0);
    let latest = match trees.explorer.get(latest_key.into_vec())? {
        Some(latest) => {
            let latest_id = record_id(&latest).map_err(|error| corrupt(error.to_string()))?;
            match stored_in_tx(trees, &latest_id)? {
                Some(StoredRecord {
                    body: Body::Correction(correction),
                    ..
                }) => Some(correction),
                // A `C` key names only a counting correction; one not found (lost to a power
                // loss, see `stored_in_tx`) leaves nothing current, as before it was written.
                _ => return Ok(None),
            }
        }
        None => None,
    };
    Ok(corrections::current_version(&stored.body, latest.as_ref()).cloned())
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
        .is_some_and(|value| value.as_ref() == INDEX_VERSION.to_be_bytes()))
}

/// Marks the index current.
pub(crate) fn mark_current(explorer: &sled::Tree) -> Result<(), StoreError> {
    explorer.insert(VERSION_KEY, &INDEX_VERSION.to_be_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_round_trips_and_keeps_exact_decimals() {
        let mut total = Total::zero();
        total.apply("0.1".parse().ok(), 1);
        total.apply("0.2".parse().ok(), 1);
        let decoded = Total::decode(&total.encode()).unwrap();
        assert_eq!(decoded.count, 2);
        assert_eq!(decoded.sum.unwrap().to_string(), "0.3");
        let mut scaled = Total::zero();
        scaled.apply("240000.00".parse().ok(), 1);
        scaled.apply("1.50".parse().ok(), 1);
        assert_eq!(scaled.sum.unwrap().to_string(), "240001.50");
    }

    #[test]
    fn total_shows_overflow_instead_of_a_wrong_sum() {
        let mut total = Total::zero();
        total.apply(Some(Decimal::MAX), 1);
        total.apply(Some(Decimal::MAX), 1);
        assert_eq!(total.sum, None);
        assert_eq!(Total::decode(&total.encode()).unwrap().sum, None);
    }
}
