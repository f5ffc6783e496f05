//! Link keys and the grouping of transactions into links (rules 1–3 of the `money` module
//! doc). Everything is indexed by key in hash maps, so a million transactions are linked in
//! one pass each, never by comparing pairs.

use std::collections::HashMap;

use aidledger_spec::RecordId;

use super::status::LinkStatus;
use crate::corrections::Entry;

/// The pair of transaction types a link joins: an outgoing type of the provider and the
/// incoming type of the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pair {
    /// Disbursement (3) ↔ incoming funds (1): was the money received?
    Disbursement,
    /// Outgoing commitment (2) ↔ incoming commitment (11): did the receiver record it?
    Commitment,
    /// Outgoing pledge (12) ↔ incoming pledge (13).
    Pledge,
}

impl Pair {
    /// Every pair.
    pub const ALL: [Pair; 3] = [Pair::Disbursement, Pair::Commitment, Pair::Pledge];

    /// The provider's (outgoing) transaction type code.
    pub fn outgoing_type(self) -> u8 {
        match self {
            Pair::Disbursement => 3,
            Pair::Commitment => 2,
            Pair::Pledge => 12,
        }
    }

    /// The receiver's (incoming) transaction type code.
    pub fn incoming_type(self) -> u8 {
        match self {
            Pair::Disbursement => 1,
            Pair::Commitment => 11,
            Pair::Pledge => 13,
        }
    }

    /// The pair whose outgoing type is `code`.
    pub fn of_outgoing(code: u8) -> Option<Pair> {
        Pair::ALL
            .into_iter()
            .find(|pair| pair.outgoing_type() == code)
    }

    /// The pair whose incoming type is `code`.
    pub fn of_incoming(code: u8) -> Option<Pair> {
        Pair::ALL
            .into_iter()
            .find(|pair| pair.incoming_type() == code)
    }

    /// `disbursement`, `commitment`, `pledge`.
    pub fn name(self) -> &'static str {
        match self {
            Pair::Disbursement => "disbursement",
            Pair::Commitment => "commitment",
            Pair::Pledge => "pledge",
        }
    }
}

/// What joins the transactions of a link; taken from the transactions' own fields only, so
/// the answer does not depend on the order records arrive in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkKey {
    /// Rule 1: the target transaction and every current transaction acknowledging it.
    Acknowledged(RecordId),
    /// Rule 2: outgoing transactions of `provider_activity` naming `receiver_org`, and that
    /// organisation's incoming transactions naming the activity as provider activity.
    Activity {
        /// The provider's activity id.
        provider_activity: String,
        /// The receiving organisation's ref, as the provider names it and as the receiver
        /// authors its records.
        receiver_org: String,
        /// The pair of types.
        pair: Pair,
    },
    /// Rule 3: one transaction alone (an outgoing one naming no receiver organisation, or a
    /// receipt naming neither a provider activity nor an acknowledged record).
    Unlinked(RecordId),
}

impl LinkKey {
    /// `acknowledgement`, `activity` or `unlinked`.
    pub fn kind(&self) -> &'static str {
        match self {
            LinkKey::Acknowledged(_) => "acknowledgement",
            LinkKey::Activity { .. } => "activity",
            LinkKey::Unlinked(_) => "unlinked",
        }
    }

    /// The key as text: the target's record id, `ACTIVITY → ORG`, or the record's id.
    pub fn text(&self) -> String {
        match self {
            LinkKey::Acknowledged(target) | LinkKey::Unlinked(target) => target.to_string(),
            LinkKey::Activity {
                provider_activity,
                receiver_org,
                ..
            } => format!("{provider_activity} → {receiver_org}"),
        }
    }
}

/// A link as the model stores it: entry positions, not references, in one vector (the
/// provider side first, then the receiver side from `split`), so that a million links cost a
/// few words each. Sums are not stored: they are recomputed from the sides when asked.
#[derive(Clone, Debug)]
pub(crate) struct LinkRecord {
    pub(crate) key: LinkKey,
    pub(crate) pair: Option<Pair>,
    pub(crate) members: Vec<u32>,
    pub(crate) split: u32,
    pub(crate) status: LinkStatus,
}

impl LinkRecord {
    fn new(key: LinkKey, pair: Option<Pair>) -> LinkRecord {
        LinkRecord {
            key,
            pair,
            members: Vec::new(),
            split: 0,
            status: LinkStatus::Full,
        }
    }

    /// The provider side's positions.
    pub(crate) fn provider(&self) -> &[u32] {
        &self.members[..self.split as usize]
    }

    /// The receiver side's positions.
    pub(crate) fn receiver(&self) -> &[u32] {
        &self.members[self.split as usize..]
    }

    fn push_provider(&mut self, position: u32) {
        // Providers are all pushed before any receiver (see `group`).
        self.members.push(position);
        self.split += 1;
    }
}

/// Record ids sorted, each with its entry's position: the model's id index (a sorted vector
/// is half the size of a hash map of a million ids, and as fast for the few lookups made).
pub(crate) fn id_index(entries: &[Entry]) -> Vec<(RecordId, u32)> {
    let mut ids: Vec<(RecordId, u32)> = entries
        .iter()
        .enumerate()
        .map(|(position, entry)| (entry.id, position as u32))
        .collect();
    ids.sort_unstable();
    ids
}

/// The position of `id` in a sorted id index.
pub(crate) fn find(ids: &[(RecordId, u32)], id: &RecordId) -> Option<u32> {
    ids.binary_search_by(|(held, _)| held.cmp(id))
        .ok()
        .map(|at| ids[at].1)
}

/// Groups entries (current and withdrawn; at most `u32::MAX`) into links, statuses not yet
/// computed, sides in no particular order.
pub(crate) fn group(entries: &[Entry], ids: &[(RecordId, u32)]) -> Vec<LinkRecord> {
    // Rule 1: every current transaction that names a target, sorted by target.
    let mut explicit: Vec<(RecordId, u32)> = entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| !entry.withdrawn)
        .filter_map(|(position, entry)| Some((entry.transaction.acknowledges?, position as u32)))
        .collect();
    explicit.sort_unstable();
    let acknowledged = |id: &RecordId| find(&explicit, id).is_some();
    // Capacity only reserves address space: pages never written are never resident.
    let mut links: Vec<LinkRecord> = Vec::with_capacity(entries.len());
    for run in explicit.chunk_by(|a, b| a.0 == b.0) {
        let target = run[0].0;
        let provider = find(ids, &target);
        let pair = provider
            .and_then(|at| Pair::of_outgoing(entries[at as usize].transaction.transaction_type))
            .or_else(|| {
                // The first receipt in (author, seq) order that has a pair, so that every
                // reader, whatever order it holds records in, names the same pair.
                run.iter()
                    .map(|&(_, at)| &entries[at as usize])
                    .filter_map(|entry| {
                        let pair = Pair::of_incoming(entry.transaction.transaction_type)?;
                        Some(((&entry.author, entry.seq, entry.id), pair))
                    })
                    .min_by(|a, b| a.0.cmp(&b.0))
                    .map(|(_, pair)| pair)
            });
        let mut link = LinkRecord::new(LinkKey::Acknowledged(target), pair);
        link.members.reserve_exact(run.len() + 1);
        if let Some(at) = provider {
            link.push_provider(at);
        }
        link.members.extend(run.iter().map(|&(_, at)| at));
        links.push(link);
    }
    // Rule 2, then 3: an activity link per (activity, receiver org, pair).
    let mut by_activity: HashMap<(&str, &str, Pair), usize> = HashMap::new();
    for (position, entry) in entries.iter().enumerate() {
        let transaction = &entry.transaction;
        let Some(pair) = Pair::of_outgoing(transaction.transaction_type) else {
            continue;
        };
        if acknowledged(&entry.id) {
            continue;
        }
        let receiver_org = transaction
            .receiver
            .as_ref()
            .map_or("", |party| party.org_ref.as_str());
        if receiver_org.is_empty() {
            if !entry.withdrawn {
                let mut link = LinkRecord::new(LinkKey::Unlinked(entry.id), Some(pair));
                link.push_provider(position as u32);
                links.push(link);
            }
            continue;
        }
        let slot = (transaction.activity_id.as_str(), receiver_org, pair);
        let at = *by_activity.entry(slot).or_insert_with(|| {
            links.push(LinkRecord::new(
                LinkKey::Activity {
                    provider_activity: transaction.activity_id.clone(),
                    receiver_org: receiver_org.to_owned(),
                    pair,
                },
                Some(pair),
            ));
            links.len() - 1
        });
        links[at].push_provider(position as u32);
    }
    for (position, entry) in entries.iter().enumerate() {
        let transaction = &entry.transaction;
        let Some(pair) = Pair::of_incoming(transaction.transaction_type) else {
            continue;
        };
        if entry.withdrawn || transaction.acknowledges.is_some() {
            continue;
        }
        let provider_activity = transaction
            .provider
            .as_ref()
            .map_or("", |party| party.activity_id.as_str());
        if provider_activity.is_empty() {
            let mut link = LinkRecord::new(LinkKey::Unlinked(entry.id), Some(pair));
            link.members.push(position as u32);
            links.push(link);
            continue;
        }
        let slot = (provider_activity, entry.author.as_str(), pair);
        let at = *by_activity.entry(slot).or_insert_with(|| {
            links.push(LinkRecord::new(
                LinkKey::Activity {
                    provider_activity: provider_activity.to_owned(),
                    receiver_org: entry.author.clone(),
                    pair,
                },
                Some(pair),
            ));
            links.len() - 1
        });
        links[at].members.push(position as u32);
    }
    links
}
