//! The node's side of redaction (FORMAT.md §27): it applies every order in force to the store.
//!
//! Orders are the chains' `redaction` records (kind 9; the store lists where they are) and the
//! admins' effective `redact` proposals (steps of the governance). Each round applies the ones
//! not applied yet by this run; at the node's start, every one is applied again, which changes
//! nothing for an order already applied (`Store::redact` is idempotent) and finishes one a
//! crash interrupted. The index follower's thread runs the rounds, so a redaction's index
//! rebuild and the follower never race.

use std::collections::HashSet;

use aidledger_spec::codec;
use aidledger_spec::governance::{Authority, Change};
use aidledger_spec::redaction::RedactedRecord;
use aidledger_spec::{Body, RecordHeader, RecordId, SignedRecord};
use aidledger_store::{RedactionMark, Store, StoreError};

/// The orders this run applied.
#[derive(Default)]
pub struct Redactor {
    applied: HashSet<RecordId>,
}

impl Redactor {
    /// Applies the orders in force that this run has not applied yet; returns how many
    /// bodies were forgotten.
    pub fn round(&mut self, store: &Store, authority: &Authority) -> Result<u64, StoreError> {
        self.apply_orders(store, authority)
    }

    fn apply_orders(&mut self, store: &Store, authority: &Authority) -> Result<u64, StoreError> {
        // The admins' orders first: where both name a record, verifiers report the admins'
        // (FORMAT.md §27), and the store keeps the first mark it writes.
        let mut forgotten = 0;
        for step in authority.steps() {
            if let Change::Redact {
                member,
                records,
                category,
            } = &step.change
            {
                if self.applied.contains(&step.proposal) {
                    continue;
                }
                let mark = RedactionMark {
                    order: step.proposal,
                    category: *category,
                    by_admins: true,
                    ordered_at_ms: claimed_time(store, &step.proposal)?,
                };
                forgotten += apply(store, member, records, &mark)?;
                self.applied.insert(step.proposal);
            }
        }
        for (author, seq) in store.order_positions()? {
            forgotten += self.apply_author_order(store, &author, seq)?;
        }
        Ok(forgotten)
    }

    fn apply_author_order(
        &mut self,
        store: &Store,
        author: &str,
        seq: u64,
    ) -> Result<u64, StoreError> {
        let Some(bytes) = store.record_at(author, seq)? else {
            return Ok(0);
        };
        let record = SignedRecord::parse(bytes).map_err(corrupt)?;
        if self.applied.contains(&record.id) {
            return Ok(0);
        }
        let Body::Redaction(redaction) =
            codec::decode_exact(record.body_bytes()).map_err(corrupt)?
        else {
            // A revocation gave the position to another record (the store drops the entry
            // with the record; this covers a read between the two).
            return Ok(0);
        };
        // An author's order covers its own earlier records only (FORMAT.md §27).
        let named: Vec<RedactedRecord> = redaction
            .records
            .into_iter()
            .filter(|named| named.seq < seq)
            .collect();
        let mark = RedactionMark {
            order: record.id,
            category: redaction.category,
            by_admins: false,
            ordered_at_ms: record.header.timestamp_ms,
        };
        let forgotten = apply(store, author, &named, &mark)?;
        self.applied.insert(record.id);
        Ok(forgotten)
    }
}

/// Applies one order; returns how many bodies it forgot. When it forgets any, the index is
/// cleared first (its follower, on this thread, builds it again after): no reader finds the
/// words of a record whose body is gone.
fn apply(
    store: &Store,
    author: &str,
    records: &[RedactedRecord],
    mark: &RedactionMark,
) -> Result<u64, StoreError> {
    if store.holds_whole(author, records)? {
        store.index_again()?;
    }
    Ok(store.redact(author, records, mark)?.withheld_now)
}

/// The `timestamp_ms` of a stored record (full or withheld), or 0 when the store lacks it.
fn claimed_time(store: &Store, id: &RecordId) -> Result<u64, StoreError> {
    let Some(bytes) = store.get(id)? else {
        return Ok(0);
    };
    let (header, _): (RecordHeader, usize) = codec::decode_prefix(&bytes).map_err(corrupt)?;
    Ok(header.timestamp_ms)
}

fn corrupt(error: codec::DecodeError) -> StoreError {
    StoreError::Corrupt(format!("a stored redaction order: {error}"))
}
