//! Records received from peers ahead of a gap in their chain, held in `pending` until the gap
//! is filled: at most [`PENDING_RECORDS_MAX`] records and [`PENDING_SIZE_BYTES_MAX`] bytes,
//! counted in memory (from the tree at open). They are not part of any chain (nor of
//! `record_count`, exports or heads).

use std::sync::atomic::Ordering;

use aidledger_spec::VerifiedRecord;

use crate::keys::{chain_key, parse_chain_key, position_key, ID_BYTES};
use crate::limits::{PENDING_RECORDS_MAX, PENDING_SIZE_BYTES_MAX};
use crate::{AppendError, Store, StoreError, StoreReader};

impl StoreReader {
    /// How many records wait for a predecessor.
    pub fn pending_count(&self) -> u64 {
        self.inner.pending_records.load(Ordering::Relaxed)
    }

    /// Sets the pending counters from the tree (at open; the tree is bounded, so this is quick).
    pub(crate) fn count_pending(&self) -> Result<(), StoreError> {
        let (mut records, mut size_bytes) = (0, 0);
        for entry in self.inner.pending.iter() {
            let (_, value) = entry?;
            records += 1;
            size_bytes += value.len() as u64;
        }
        self.inner.pending_records.store(records, Ordering::Relaxed);
        self.inner
            .pending_size_bytes
            .store(size_bytes, Ordering::Relaxed);
        Ok(())
    }
}

impl Store {
    /// Holds a verified record that arrived before its predecessor. Returns `false` (and holds
    /// nothing) when [`PENDING_RECORDS_MAX`] or [`PENDING_SIZE_BYTES_MAX`] would be passed.
    /// Durable after [`Store::make_durable`].
    pub fn add_pending(&self, record: &VerifiedRecord) -> Result<bool, AppendError> {
        let header = record.header();
        let key = position_key(&header.author, header.seq, &[&record.id()])
            .ok_or(AppendError::AuthorTooLong { id: record.id() })?;
        // A record an order in force names is not held whole (`store::redaction`): range
        // sync offers it again, withheld, in its place.
        if self
            .inner
            .redacted
            .contains_key(&key)
            .map_err(StoreError::from)?
        {
            return Ok(false);
        }
        let size_bytes = record.bytes().len() as u64;
        let full = self.inner.pending_records.load(Ordering::Relaxed) >= PENDING_RECORDS_MAX
            || self.inner.pending_size_bytes.load(Ordering::Relaxed) + size_bytes
                > PENDING_SIZE_BYTES_MAX;
        if full {
            return Ok(false);
        }
        let previous = self
            .inner
            .pending
            .insert(key, record.bytes())
            .map_err(StoreError::from)?;
        if previous.is_none() {
            self.inner.pending_records.fetch_add(1, Ordering::Relaxed);
            self.inner
                .pending_size_bytes
                .fetch_add(size_bytes, Ordering::Relaxed);
            // Only a new entry is a change: the same record again (gossip repeats itself)
            // changes nothing a reader sees.
            self.note_change();
        }
        Ok(true)
    }

    /// Removes every pending record of `author` at or below `seq` and returns the wire bytes
    /// of those exactly at `seq` (more than one if the author equivocated).
    pub fn take_pending(&self, author: &str, seq: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let (Some(start), Some(end)) = (
            chain_key(author, 0),
            chain_key(author, seq.saturating_add(1)),
        ) else {
            return Ok(Vec::new());
        };
        let mut taken = Vec::new();
        for entry in self.inner.pending.range(start..end) {
            let (key, value) = entry?;
            self.remove_pending(&key)?;
            let prefix_bytes = key.len().saturating_sub(ID_BYTES);
            if parse_chain_key(&key[..prefix_bytes])?.1 == seq {
                taken.push(value.to_vec());
            }
        }
        Ok(taken)
    }

    /// Removes one pending entry and takes it off the counters (if it was still there).
    fn remove_pending(&self, key: &[u8]) -> Result<(), StoreError> {
        if let Some(value) = self.inner.pending.remove(key)? {
            self.inner.pending_records.fetch_sub(1, Ordering::Relaxed);
            self.inner
                .pending_size_bytes
                .fetch_sub(value.len() as u64, Ordering::Relaxed);
            self.note_change();
        }
        Ok(())
    }

    /// Drops the pending records of `author` at `from_seq` or later.
    pub(crate) fn drop_pending_from(&self, author: &str, from_seq: u64) -> Result<(), StoreError> {
        let (Some(start), Some(end)) = (chain_key(author, from_seq), chain_key(author, u64::MAX))
        else {
            return Ok(());
        };
        let mut end = end;
        end.extend_from_slice(&[0xff; ID_BYTES]);
        for key in self.inner.pending.range(start..=end).keys() {
            self.remove_pending(&key?)?;
        }
        Ok(())
    }
}
