//! A governance record reduced to what the derivation reads ([`GovernanceRecord`], its
//! [`Act`]), and the filter that leaves out records at contested positions.

use std::collections::BTreeSet;

use super::{Approval, KeyRotation, Proposal};
use crate::ids::{PublicKey, RecordId};
use crate::record::Body;
use crate::verify::RuleCheckedRecord;

/// A governance record, reduced to what the derivation reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceRecord {
    /// The record id.
    pub id: RecordId,
    /// The signing organisation.
    pub author: String,
    /// Its position in the author's chain.
    pub seq: u64,
    /// The key that signed it.
    pub signing_key: PublicKey,
    /// What it says.
    pub act: Act,
}

/// The governance records that may count: those not at a contested position, a position
/// (author, seq) for which the verifier holds an equivocation proof (FORMAT.md 18.6). Two
/// records signed at one position count for neither side, so a leaked key cannot add
/// governance acts at positions its chain already holds, and nodes that saw the two sides in
/// different orders derive the same authority.
pub fn uncontested(
    records: Vec<GovernanceRecord>,
    contested: &BTreeSet<(String, u64)>,
) -> Vec<GovernanceRecord> {
    if contested.is_empty() {
        return records;
    }
    records
        .into_iter()
        .filter(|record| !contested.contains(&(record.author.clone(), record.seq)))
        .collect()
}

/// What a governance record says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// See [`Proposal`].
    Propose(Proposal),
    /// See [`Approval`].
    Approve(Approval),
    /// See [`KeyRotation`].
    Rotate(KeyRotation),
}

impl GovernanceRecord {
    /// The governance content of record bytes that their holder verified before (a node's own
    /// store): the header and body are decoded, the signature is not checked again. `None` for
    /// bytes that are not a governance record.
    pub fn from_stored(bytes: Vec<u8>) -> Option<GovernanceRecord> {
        let record = crate::signed::SignedRecord::parse(bytes).ok()?;
        let body: Body = crate::codec::decode_exact(record.body_bytes()).ok()?;
        let act = match body {
            Body::Proposal(proposal) => Act::Propose(proposal),
            Body::Approval(approval) => Act::Approve(approval),
            Body::KeyRotation(rotation) => Act::Rotate(rotation),
            _ => return None,
        };
        Some(GovernanceRecord {
            id: record.id,
            author: record.header.author,
            seq: record.header.seq,
            signing_key: record.header.signing_key,
            act,
        })
    }

    /// The governance content of a verified record, if it is one.
    pub fn from_verified(record: &RuleCheckedRecord) -> Option<GovernanceRecord> {
        let act = match record.body() {
            Body::Proposal(proposal) => Act::Propose(proposal.clone()),
            Body::Approval(approval) => Act::Approve(approval.clone()),
            Body::KeyRotation(rotation) => Act::Rotate(rotation.clone()),
            _ => return None,
        };
        let header = record.header();
        Some(GovernanceRecord {
            id: record.id(),
            author: header.author.clone(),
            seq: header.seq,
            signing_key: header.signing_key,
            act,
        })
    }
}
