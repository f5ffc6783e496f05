//! The records a page's money statuses depend on, gathered from the index, bounded by
//! [`MONEY_PAGE_RECORDS_MAX`]: the money model (`aidledger_view::money`) is then run over
//! them (`money.rs`) exactly as the CLI runs it over every record.
//!
//! A link's key comes from its transactions' own fields (the model's rules), so a link is
//! complete when every transaction it can hold is gathered. For the activities of a page
//! (the *first* level) that is:
//!
//! - every transaction listed under the activity (its own, and others' naming it; a listed
//!   correction stands for the transaction it corrects), each with every correction naming
//!   it (`c` keys: the shared correction rules decide which count) and every current
//!   receipt acknowledging it (`k` keys);
//! - every transaction a gathered one acknowledges (the other side of an explicit link),
//!   with its acknowledgers (also when it is not held: its receipts are still one link);
//! - the listing of every activity a listed transaction belongs to (others' records naming
//!   the activity) or names as its provider's activity (a receipt without `acknowledges`):
//!   the provider's transactions to the receiver and the receiver's other receipts naming
//!   that provider activity are there (the *second* level, not followed further).
//!
//! Every version of a transaction (the original and its author's replacements) is followed,
//! so what was withdrawn or redirected is found too. Records outside the chains (revoked) are
//! left out, as a verifier of a bundle leaves them out.

use std::collections::{BTreeSet, HashMap};

use aidledger_spec::record::{Replacement, Transaction};

use super::*;
use crate::limits::MONEY_PAGE_RECORDS_MAX;

/// One stored record of a chain, decoded.
#[derive(Clone, Debug)]
pub struct GatheredRecord {
    /// Its id.
    pub id: RecordId,
    /// Its author.
    pub author: String,
    /// Its seq.
    pub seq: u64,
    /// Its body (a transaction or a correction).
    pub body: Body,
}

/// What a page gathered.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Transactions and the corrections naming them.
    pub records: Vec<GatheredRecord>,
    /// The transactions listed under the page's own activities (corrections mapped to the
    /// transaction they correct).
    pub listed: BTreeSet<RecordId>,
    /// False when [`MONEY_PAGE_RECORDS_MAX`] was reached: the statuses are not computed.
    pub complete: bool,
}

/// Gathers what the links of `activities` (and of the transactions `ids`) depend on.
pub fn gather(
    store: &StoreReader,
    activities: &[&str],
    ids: &[RecordId],
) -> Result<Gathered, StoreError> {
    let mut gatherer = Gatherer {
        store,
        records: HashMap::new(),
        order: Vec::new(),
        followed: HashMap::new(),
        full: false,
    };
    let mut listed = BTreeSet::new();
    let mut second = BTreeSet::new();
    let first: BTreeSet<&str> = activities.iter().copied().collect();
    let mut seeds: Vec<RecordId> = ids.to_vec();
    for activity in &first {
        seeds.extend(gatherer.listing(activity)?);
    }
    for id in seeds {
        let Some(target) = gatherer.transaction_of(&id)? else {
            continue;
        };
        listed.insert(target);
        for version in gatherer.follow(target)? {
            if !first.contains(version.activity_id.as_str()) {
                second.insert(version.activity_id.clone());
            }
            if let Some(provider) = provider_activity(&version) {
                second.insert(provider.to_owned());
            }
        }
    }
    for activity in second {
        if first.contains(activity.as_str()) {
            continue;
        }
        for id in gatherer.listing(&activity)? {
            if let Some(target) = gatherer.transaction_of(&id)? {
                gatherer.follow(target)?;
            }
        }
    }
    Ok(gatherer.finish(listed))
}

/// Gathers a transaction's explicit link only: the transaction, its corrections and
/// receipts, what its versions acknowledge and their receipts; no listing is read. When the
/// model puts the transaction in an explicit link, that link is complete (its key comes
/// from the members' own `acknowledges`, and every current receipt of a record has a `k`
/// key); otherwise the caller gathers with [`gather`].
pub fn gather_explicit(store: &StoreReader, id: &RecordId) -> Result<Gathered, StoreError> {
    let mut gatherer = Gatherer {
        store,
        records: HashMap::new(),
        order: Vec::new(),
        followed: HashMap::new(),
        full: false,
    };
    gatherer.follow(*id)?;
    Ok(gatherer.finish(BTreeSet::from([*id])))
}

/// The provider activity a receipt without `acknowledges` names: its activity link's key.
fn provider_activity(transaction: &Transaction) -> Option<&str> {
    if transaction.acknowledges.is_some() {
        return None;
    }
    transaction
        .provider
        .as_ref()
        .map(|party| party.activity_id.as_str())
        .filter(|activity| !activity.is_empty())
}

struct Gatherer<'a> {
    store: &'a StoreReader,
    records: HashMap<RecordId, GatheredRecord>,
    /// Ids in the order read (the page's order does not depend on a hash map's).
    order: Vec<RecordId>,
    /// Transactions whose corrections and acknowledgers were gathered, with their versions.
    followed: HashMap<RecordId, Vec<Transaction>>,
    /// Set once the bound was reached; nothing more is read.
    full: bool,
}

impl Gatherer<'_> {
    fn finish(self, listed: BTreeSet<RecordId>) -> Gathered {
        let complete = !self.full;
        let Gatherer {
            mut records, order, ..
        } = self;
        let records = order
            .into_iter()
            .filter_map(|id| records.remove(&id))
            .collect();
        Gathered {
            records,
            listed,
            complete,
        }
    }

    /// A record of a chain, read once; `None` when not held or the bound was reached.
    fn load(&mut self, id: &RecordId) -> Result<Option<&GatheredRecord>, StoreError> {
        if !self.records.contains_key(id) {
            if self.records.len() >= MONEY_PAGE_RECORDS_MAX {
                self.full = true;
                return Ok(None);
            }
            let Some((author, seq, bytes)) = self.store.get_in_chain(id)? else {
                return Ok(None);
            };
            // A redacted record is not gathered: its amount is withheld (the organisation's
            // page counts it as redacted).
            let Some(decoded) = decode_held(bytes)? else {
                return Ok(None);
            };
            let body = decoded.body;
            self.order.push(*id);
            self.records.insert(
                *id,
                GatheredRecord {
                    id: *id,
                    author,
                    seq,
                    body,
                },
            );
        }
        Ok(self.records.get(id))
    }

    /// The record ids listed under an activity (`a` keys).
    fn listing(&mut self, activity: &str) -> Result<Vec<RecordId>, StoreError> {
        let prefix = SortKey::tagged(tag::ACTIVITY_RECORD)
            .text(activity)
            .into_bytes();
        let mut ids = Vec::new();
        for entry in self.store.index_tree().scan_prefix(&prefix) {
            let (key, value) = entry?;
            ids.extend(Listing::decode(&key, &value)?.into_iter().map(|(_, id)| id));
            if ids.len() > MONEY_PAGE_RECORDS_MAX {
                self.full = true;
                break;
            }
        }
        Ok(ids)
    }

    /// The transaction a listed record stands for: itself, or the one a correction corrects.
    fn transaction_of(&mut self, id: &RecordId) -> Result<Option<RecordId>, StoreError> {
        Ok(match self.load(id)?.map(|record| &record.body) {
            Some(Body::Transaction(_)) => Some(*id),
            Some(Body::Correction(correction)) => Some(correction.corrects),
            _ => None,
        })
    }

    /// Gathers a transaction, the corrections naming it and its acknowledgers, and what its
    /// versions acknowledge (with theirs); returns its versions (the original and its
    /// author's replacements).
    fn follow(&mut self, id: RecordId) -> Result<Vec<Transaction>, StoreError> {
        let mut work = vec![id];
        while let Some(id) = work.pop() {
            if self.followed.contains_key(&id) {
                continue;
            }
            self.followed.insert(id, Vec::new());
            // Its receipts, also when it is not held or not a transaction: together they are
            // an explicit link (`unreported` without a provider side).
            work.extend(self.referrers(tag::ACKNOWLEDGED_MARK, tag::ACKNOWLEDGED_BY, &id)?);
            let Some(record) = self.load(&id)? else {
                continue;
            };
            let Body::Transaction(original) = &record.body else {
                continue;
            };
            let author = record.author.clone();
            let mut mine = vec![original.clone()];
            for correction in self.referrers(tag::CORRECTED_MARK, tag::CORRECTED_BY, &id)? {
                let Some(record) = self.load(&correction)? else {
                    continue;
                };
                if let Body::Correction(correction) = &record.body {
                    if let (true, Some(Replacement::Transaction(replacement))) =
                        (record.author == author, &correction.replacement)
                    {
                        mine.push(replacement.clone());
                    }
                }
            }
            work.extend(mine.iter().filter_map(|version| version.acknowledges));
            self.followed.insert(id, mine);
        }
        Ok(self.followed.get(&id).cloned().unwrap_or_default())
    }

    /// The ids under `tag ‖ id` (`k` keys: acknowledgers; `c` keys: corrections, after
    /// their seq), read only when the marker key `marker ‖ id` says there are some.
    fn referrers(
        &mut self,
        marker: u8,
        tag: u8,
        id: &RecordId,
    ) -> Result<Vec<RecordId>, StoreError> {
        let tree = self.store.index_tree();
        if self.full || !tree.contains_key(SortKey::tagged(marker).id(&id.0).into_bytes())? {
            return Ok(Vec::new());
        }
        let prefix = SortKey::tagged(tag).id(&id.0).into_bytes();
        let mut ids = Vec::new();
        for entry in tree.scan_prefix(&prefix) {
            let (key, _) = entry?;
            let mut rest = KeyReader::new(&key[prefix.len()..]);
            if tag == tag::CORRECTED_BY {
                rest.u64()?;
            }
            ids.push(rest.id()?);
            rest.finish()?;
            if ids.len() > MONEY_PAGE_RECORDS_MAX {
                self.full = true;
                break;
            }
        }
        Ok(ids)
    }
}
