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
        let mut due: Vec<Due> = Vec::new();
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
                due.push((member.clone(), records.clone(), mark));
            }
        }
        for (author, seq) in store.order_positions()? {
            match self.author_order(store, &author, seq) {
                Ok(Some(order)) => due.push(order),
                Ok(None) => {}
                // One unreadable order must not stop the others (each is judged alone).
                Err(error) => crate::log_line!(
                    "aidledger-node: the redaction order at {author} seq {seq} is not applied: {error}"
                ),
            }
        }
        if due.is_empty() {
            return Ok(0);
        }
        // Once per round, before any body goes: the index starts again without them, so no
        // reader finds the words of a record whose body is gone.
        let mut forgets = false;
        for (author, records, _) in &due {
            forgets |= store.holds_whole(author, records)?;
        }
        if forgets {
            store.index_again()?;
        }
        let mut forgotten = 0;
        let mut forgetting_authors = Vec::new();
        for (author, records, mark) in due {
            let withheld_now = store.redact(&author, &records, &mark)?.withheld_now;
            if withheld_now > 0 {
                forgetting_authors.push(author);
            }
            forgotten += withheld_now;
            self.applied.insert(mark.order);
        }
        // The index restart marked every chain behind, and only this thread's follower moves
        // the marks: a chain no longer behind was indexed again in between by a revocation's
        // rebuild, perhaps with a body now forgotten. Then the index starts again once more.
        for author in &forgetting_authors {
            if forgets && !store.is_index_behind(author)? {
                store.index_again()?;
                break;
            }
        }
        Ok(forgotten)
    }

    /// The author's order at (`author`, `seq`) when this run has not applied it: its earlier
    /// records it names (FORMAT.md §27: an order covers nothing else) and its mark.
    fn author_order(
        &self,
        store: &Store,
        author: &str,
        seq: u64,
    ) -> Result<Option<Due>, StoreError> {
        let Some(bytes) = store.record_at(author, seq)? else {
            return Ok(None);
        };
        let record = SignedRecord::parse(bytes).map_err(corrupt)?;
        if self.applied.contains(&record.id) {
            return Ok(None);
        }
        let Body::Redaction(redaction) =
            codec::decode_exact(record.body_bytes()).map_err(corrupt)?
        else {
            // A revocation gave the position to another record (the store drops the entry
            // with the record; this covers a read between the two).
            return Ok(None);
        };
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
        Ok(Some((author.to_owned(), named, mark)))
    }
}

/// An order to apply: whose records, which, and its mark.
type Due = (String, Vec<RedactedRecord>, RedactionMark);

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
