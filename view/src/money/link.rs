//! Link keys and the grouping of transactions into links (rules 1–3 of the `money` module
//! doc). Everything is indexed by key in hash maps, so a million transactions are linked in
//! one pass each, never by comparing pairs.

use std::collections::HashMap;

use aidledger_spec::RecordId;

use super::status::Amounts;
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

/// A link as the model stores it: entry positions, not references, so that a million links
/// cost a few words each.
#[derive(Clone, Debug)]
pub(crate) struct LinkRecord {
    pub(crate) key: LinkKey,
    pub(crate) pair: Option<Pair>,
    pub(crate) provider: Vec<u32>,
    pub(crate) receiver: Vec<u32>,
    pub(crate) provider_sums: Amounts,
    pub(crate) receiver_sums: Amounts,
    pub(crate) status: LinkStatus,
}

/// The sides of one link before its status: key, pair, provider and receiver positions.
pub(crate) type Group = (LinkKey, Option<Pair>, Vec<u32>, Vec<u32>);

/// Groups entries (sorted, current and withdrawn; at most `u32::MAX`) into links, in no
/// particular order, and returns the position of each record id beside them.
pub(crate) fn group(entries: &[Entry]) -> (Vec<Group>, HashMap<RecordId, u32>) {
    let position_of: HashMap<RecordId, u32> = entries
        .iter()
        .enumerate()
        .map(|(position, entry)| (entry.id, position as u32))
        .collect();
    // Rule 1: every current transaction that names a target, grouped by target.
    let mut explicit: HashMap<RecordId, Vec<u32>> = HashMap::new();
    for (position, entry) in entries.iter().enumerate() {
        if let (false, Some(target)) = (entry.withdrawn, entry.transaction.acknowledges) {
            explicit.entry(target).or_default().push(position as u32);
        }
    }
    let mut groups = Vec::with_capacity(entries.len() / 2 + 1);
    for (target, receipts) in &explicit {
        let provider: Vec<u32> = position_of.get(target).copied().into_iter().collect();
        let pair = provider
            .first()
            .and_then(|&at| Pair::of_outgoing(entries[at as usize].transaction.transaction_type))
            .or_else(|| {
                receipts.iter().find_map(|&at| {
                    Pair::of_incoming(entries[at as usize].transaction.transaction_type)
                })
            });
        groups.push((
            LinkKey::Acknowledged(*target),
            pair,
            provider,
            receipts.clone(),
        ));
    }
    // Rule 2, then 3: an activity link per (activity, receiver org, pair).
    let mut by_activity: HashMap<(&str, &str, Pair), usize> = HashMap::new();
    for (position, entry) in entries.iter().enumerate() {
        let transaction = &entry.transaction;
        let Some(pair) = Pair::of_outgoing(transaction.transaction_type) else {
            continue;
        };
        if explicit.contains_key(&entry.id) {
            continue;
        }
        let receiver_org = transaction
            .receiver
            .as_ref()
            .map_or("", |party| party.org_ref.as_str());
        if receiver_org.is_empty() {
            if !entry.withdrawn {
                let key = LinkKey::Unlinked(entry.id);
                groups.push((key, Some(pair), vec![position as u32], Vec::new()));
            }
            continue;
        }
        let slot = (transaction.activity_id.as_str(), receiver_org, pair);
        let at = *by_activity.entry(slot).or_insert_with(|| {
            groups.push((
                LinkKey::Activity {
                    provider_activity: transaction.activity_id.clone(),
                    receiver_org: receiver_org.to_owned(),
                    pair,
                },
                Some(pair),
                Vec::new(),
                Vec::new(),
            ));
            groups.len() - 1
        });
        groups[at].2.push(position as u32);
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
            let key = LinkKey::Unlinked(entry.id);
            groups.push((key, Some(pair), Vec::new(), vec![position as u32]));
            continue;
        }
        let slot = (provider_activity, entry.author.as_str(), pair);
        let at = *by_activity.entry(slot).or_insert_with(|| {
            groups.push((
                LinkKey::Activity {
                    provider_activity: provider_activity.to_owned(),
                    receiver_org: entry.author.clone(),
                    pair,
                },
                Some(pair),
                Vec::new(),
                Vec::new(),
            ));
            groups.len() - 1
        });
        groups[at].3.push(position as u32);
    }
    (groups, position_of)
}
