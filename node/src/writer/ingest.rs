//! Records and proofs from peers, placed by the signing thread: appended, a duplicate, an
//! equivocation proof, held until their predecessor arrives, or refused under the governance;
//! and what a governance record changes once it is appended (revocations, the signer's head).

use std::collections::HashMap;

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::withheld::WithheldRecord;
use aidledger_spec::{Rejection, RuleCheckedRecord, VerifiedRecord};

use aidledger_store::{AppendError, Head, Store, StoreError};

use super::append::{append_group_or_stop, stop_if_store_stopped};
use super::signer::head_timestamp_ms;
use super::{AppendedGroup, Ingest, IngestOutcome, Placement, Signer, SubmitError};

impl Signer {
    /// Places records from peers; returns what waits for the sync.
    pub(super) fn ingest(&mut self, ingest: Ingest) -> Option<AppendedGroup> {
        if let Some(failure) = self.failure.get() {
            let _ = ingest
                .reply
                .send(Err(SubmitError::Storage(failure.clone())));
            return None;
        }
        let placed = self
            .place_all(ingest.records, ingest.proofs)
            .and_then(|mut outcome| {
                self.place_withheld(ingest.withheld, &mut outcome)?;
                Ok(outcome)
            });
        match placed {
            Ok(outcome) => Some(AppendedGroup {
                ingest: Some((ingest.reply, outcome)),
                ..AppendedGroup::default()
            }),
            Err(error) => {
                // None of the records is in a chain; proofs and pending records written
                // before the failure are harmless (each stands on its own).
                stop_if_store_stopped(&self.failure, &error);
                let _ = ingest
                    .reply
                    .send(Err(SubmitError::Storage(error.to_string())));
                None
            }
        }
    }

    pub(super) fn place_all(
        &mut self,
        records: Vec<RuleCheckedRecord>,
        proofs: Vec<(VerifiedRecord, VerifiedRecord)>,
    ) -> Result<IngestOutcome, AppendError> {
        let mut outcome = IngestOutcome::default();
        for (first, second) in proofs {
            self.store_proof(first.into_rule_checked(), &second, &mut outcome)?;
        }
        outcome.placements = vec![Placement::Unauthorized; records.len()];
        let mut waiting: Vec<(usize, RuleCheckedRecord)> =
            records.into_iter().enumerate().collect();
        // A batch may hold a governance record and records it authorises (a new member's, a
        // rotated key's): after governance records are stored, the refused ones are tried again.
        loop {
            let view = self.governance.current();
            let mut batch = IngestBatch::default();
            let mut refused = Vec::new();
            for (index, record) in waiting {
                // Authority again, under the governance as it stands now.
                match view.verifier.check_authority(record.clone()) {
                    Ok(record) => {
                        outcome.placements[index] = self.place(record, &mut batch, &mut outcome)?;
                    }
                    Err(rejected) => refused.push((index, record, rejected.reason)),
                }
            }
            let authors: Vec<String> = batch.heads.keys().cloned().collect();
            for author in &authors {
                self.promote_pending(author, &mut batch, &mut outcome)?;
            }
            append_group_or_stop(&self.store, &batch.append)?;
            outcome.stored += batch.append.len() as u64;
            let governance_stored = batch
                .append
                .iter()
                .any(|record| record.body().kind().is_governance());
            if governance_stored {
                self.after_governance()?;
            } else if batch.heads.contains_key(&self.org) {
                // Our own chain came back from peers (a restored directory): follow the store.
                self.follow_store_head()?;
            }
            if !governance_stored || refused.is_empty() {
                let mut held = false;
                for (_, record, reason) in refused {
                    held |= self.hold_refused_governance(&record, &reason)?;
                    outcome.unauthorized.push((record.id(), reason));
                }
                // A governance record at a position now proven contested no longer counts
                // (FORMAT.md 18.6): derive again.
                let contested_governance = outcome.proofs.iter().any(|proof| {
                    [&proof.first, &proof.second].into_iter().any(|bytes| {
                        aidledger_spec::signed::peek_body_kind(bytes)
                            .and_then(aidledger_spec::BodyKind::from_wire)
                            .is_some_and(aidledger_spec::BodyKind::is_governance)
                    })
                });
                if held || contested_governance {
                    self.after_governance()?;
                }
                return Ok(outcome);
            }
            waiting = refused
                .into_iter()
                .map(|(index, record, _)| (index, record))
                .collect();
        }
    }

    /// Places withheld records (their bodies redacted, FORMAT.md §6.1), in chain order, after
    /// the whole records of the same ingest: one that extends its chain is appended, and the
    /// whole records held behind it follow; one already stored is a duplicate. A withheld
    /// record cannot be held ahead of a gap, nor prove a fork (there is no body to compare):
    /// such a one is dropped, and range sync offers it again in its place.
    pub(super) fn place_withheld(
        &mut self,
        withheld: Vec<WithheldRecord>,
        outcome: &mut IngestOutcome,
    ) -> Result<(), AppendError> {
        for record in withheld {
            let header = record.header();
            let view = self.governance.current();
            if let Err(reason) =
                view.verifier
                    .authority()
                    .check(&header.author, header.seq, &header.signing_key)
            {
                outcome.unauthorized.push((record.id(), reason));
                outcome.placements.push(Placement::Unauthorized);
                continue;
            }
            let author = header.author.clone();
            let (next_seq, next_prev) = Head::next(self.store.head(&author)?);
            let placement = if header.seq < next_seq && self.store.position(&record.id())?.is_some()
            {
                outcome.duplicates += 1;
                Placement::Duplicate
            } else if header.seq == next_seq && header.prev == next_prev {
                self.store.append_withheld(&record)?;
                outcome.stored += 1;
                let mut batch = IngestBatch::default();
                self.promote_pending(&author, &mut batch, outcome)?;
                append_group_or_stop(&self.store, &batch.append)?;
                outcome.stored += batch.append.len() as u64;
                // The records held behind it may be governance records (a redact proposal
                // after the record it names): the governance state is derived again.
                if batch
                    .append
                    .iter()
                    .any(|record| record.body().kind().is_governance())
                {
                    self.after_governance()?;
                } else if author == self.org {
                    self.follow_store_head()?;
                }
                Placement::Stored
            } else {
                outcome.dropped += 1;
                Placement::Dropped
            };
            outcome.placements.push(placement);
        }
        Ok(())
    }

    /// Keeps a governance record that the authority refuses for good (its key revoked or
    /// rotated out, its author removed, at its position) as revoked evidence: such a record
    /// may still have counted for a step taken before the revocation, so the derivation must
    /// see it on every node whatever the order records arrived in (FORMAT.md 13.1). Returns
    /// whether it was newly kept. A record refused for a state the node may not have reached
    /// yet (an unknown author, a key not yet valid) is not kept: sync fetches it again.
    pub(super) fn hold_refused_governance(
        &self,
        record: &RuleCheckedRecord,
        reason: &Rejection,
    ) -> Result<bool, StoreError> {
        let final_refusal =
            reason.is_revocation() || matches!(reason, Rejection::KeyRotatedOut { .. });
        if !record.body().kind().is_governance() || !final_refusal {
            return Ok(false);
        }
        self.store.hold_revoked(record, reason)
    }

    /// Refreshes the governance state after governance records were appended; the refresh
    /// may have moved records of our own chain, so the head is read again.
    pub(super) fn after_governance(&mut self) -> Result<(), StoreError> {
        let refresh = self.governance.refresh()?;
        for rewind in &refresh.rewinds {
            crate::log_line!(
                "aidledger-node: {} record(s) of {} from seq {} on are no longer valid and are kept as revoked: {}",
                rewind.moved.len(),
                rewind.author,
                rewind.from_seq,
                rewind.reason
            );
        }
        self.follow_store_head()
    }

    /// Takes our chain's head from the store (after peers extended it or a rewind cut it).
    pub(super) fn follow_store_head(&mut self) -> Result<(), StoreError> {
        self.head = self.store.head(&self.org)?;
        self.last_timestamp_ms = self
            .last_timestamp_ms
            .max(head_timestamp_ms(&self.store, self.head)?);
        Ok(())
    }

    /// Appends, counts as duplicate, proves an equivocation, or holds one record.
    pub(super) fn place(
        &mut self,
        record: VerifiedRecord,
        batch: &mut IngestBatch,
        outcome: &mut IngestOutcome,
    ) -> Result<Placement, AppendError> {
        let author = record.header().author.clone();
        let seq = record.header().seq;
        let (next_seq, next_prev) = Head::next(batch.head(&self.store, &author)?);
        let placement = if seq < next_seq {
            let in_batch = batch.appended(&author, seq).cloned();
            let duplicate = match &in_batch {
                Some(existing) => existing.id() == record.id(),
                None => self.store.position(&record.id())?.is_some(),
            };
            if duplicate {
                outcome.duplicates += 1;
                Placement::Duplicate
            } else {
                let existing = match in_batch {
                    Some(existing) => Some(existing.into_rule_checked()),
                    None => self.stored_record(&author, seq)?,
                };
                match existing {
                    Some(existing) => {
                        self.store_proof(existing, &record, outcome)?;
                        Placement::Equivocation
                    }
                    // The position is held withheld (redacted): with no body to put beside
                    // this one, no proof can be made (FORMAT.md §17.2); the record is dropped.
                    None => {
                        outcome.dropped += 1;
                        Placement::Dropped
                    }
                }
            }
        } else if seq == next_seq && record.header().prev == next_prev {
            batch.push(record);
            Placement::Stored
        } else if seq == next_seq {
            outcome.detached.push((author, seq));
            Placement::Detached
        } else if self.store.add_pending(&record)? {
            outcome.pending += 1;
            Placement::Pending
        } else {
            outcome.dropped += 1;
            Placement::Dropped
        };
        Ok(placement)
    }

    /// Appends the pending records that now extend `author`'s chain.
    pub(super) fn promote_pending(
        &mut self,
        author: &str,
        batch: &mut IngestBatch,
        outcome: &mut IngestOutcome,
    ) -> Result<(), AppendError> {
        let view = self.governance.current();
        loop {
            let (next_seq, next_prev) = Head::next(batch.head(&self.store, author)?);
            let mut extended: Option<VerifiedRecord> = None;
            for bytes in self.store.take_pending(author, next_seq)? {
                // Verified when held; verified again because it now enters a chain, under the
                // governance state of now (a record that is no longer authorised is dropped).
                let Ok(record) = view.verifier.verify(bytes) else {
                    continue;
                };
                match &extended {
                    Some(first) => {
                        self.store_proof(RuleCheckedRecord::clone(first), &record, outcome)?
                    }
                    None if record.header().prev == next_prev => extended = Some(record),
                    None => outcome.detached.push((author.to_owned(), next_seq)),
                }
            }
            match extended {
                Some(record) => batch.push(record),
                None => return Ok(()),
            }
        }
    }

    /// Stores the proof of two records at one (author, seq) unless it is already stored.
    pub(super) fn store_proof(
        &self,
        first: RuleCheckedRecord,
        second: &RuleCheckedRecord,
        outcome: &mut IngestOutcome,
    ) -> Result<(), AppendError> {
        if self.store.has_proof(&first, second)? {
            return Ok(());
        }
        let (first, second) = if first.id() < second.id() {
            (&first, second)
        } else {
            (second, &first)
        };
        self.store.add_proof(first, second)?;
        outcome.proofs.push(EquivocationProof {
            first: first.bytes().to_vec(),
            second: second.bytes().to_vec(),
        });
        Ok(())
    }

    /// A record of the store, verified by the record rules (it was verified in full before it
    /// was stored, and records the governance invalidates have left the chain); `None` when it
    /// is held withheld.
    pub(super) fn stored_record(
        &self,
        author: &str,
        seq: u64,
    ) -> Result<Option<RuleCheckedRecord>, AppendError> {
        let bytes = self.store.record_at(author, seq)?.ok_or_else(|| {
            StoreError::Corrupt(format!("{author}'s chain has no record at seq {seq}"))
        })?;
        if aidledger_spec::withheld::is_withheld(&bytes) {
            return Ok(None);
        }
        let view = self.governance.current();
        view.verifier
            .verify_record_rules(bytes)
            .map_err(|rejected| {
                AppendError::Store(StoreError::Corrupt(format!(
                    "stored record {author} seq {seq} does not verify: {}",
                    rejected.reason
                )))
            })
            .map(Some)
    }
}

/// The heads and appends of one ingest, before they reach the store.
#[derive(Default)]
pub(super) struct IngestBatch {
    heads: HashMap<String, Option<Head>>,
    append: Vec<VerifiedRecord>,
}

impl IngestBatch {
    fn head(&mut self, store: &Store, author: &str) -> Result<Option<Head>, StoreError> {
        if let Some(head) = self.heads.get(author) {
            return Ok(*head);
        }
        let head = store.head(author)?;
        self.heads.insert(author.to_owned(), head);
        Ok(head)
    }

    fn push(&mut self, record: VerifiedRecord) {
        let head = Head {
            seq: record.header().seq,
            id: record.id(),
        };
        self.heads
            .insert(record.header().author.clone(), Some(head));
        self.append.push(record);
    }

    fn appended(&self, author: &str, seq: u64) -> Option<&VerifiedRecord> {
        self.append
            .iter()
            .find(|record| record.header().seq == seq && record.header().author == author)
    }
}
