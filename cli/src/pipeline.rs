//! The verification pipeline: records stream in, signatures are verified in batches on every
//! core, and the chain rules run in order on one thread.
//!
//! Memory stays bounded by [`CHUNK_RECORDS`] records in flight, what `ChainVerifier` keeps
//! (32 bytes per linked record), and at most `GOVERNANCE_RECORDS_MAX` governance records
//! held for the authority, whatever the size of the input.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::thread;

use aidledger_spec::bundle::{BundleItem, EquivocationProof};
use aidledger_spec::chain::{ChainVerifier, Report};
use aidledger_spec::governance::{self, Derivation, GovernanceRecord};
use aidledger_spec::limits::GOVERNANCE_RECORDS_MAX;
use aidledger_spec::signed::peek_body_kind;
use aidledger_spec::verify::{
    RecordVerdict, RejectedRecord, Rejection, RuleCheckedRecord, VerifiedRecord, Verifier,
};
use aidledger_spec::withheld::is_withheld;
use aidledger_spec::BodyKind;

/// Records read before their signatures are verified together.
pub const CHUNK_RECORDS: usize = 4096;

/// How signatures are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureMode {
    /// Batches of up to 256 signatures, a failing batch verified again one by one (the
    /// default).
    Batch,
    /// Every signature on its own: the same verdicts as `Batch` on every input (FORMAT.md §15),
    /// about three times slower; for cross-checking the batch path.
    Strict,
}

/// Verifies every item of `items` and returns the report. `observe` sees every record that
/// passed every rule, in input order but for governance records, which it sees once the
/// authority they build is known (provenance and show use it to find references). Withheld
/// records (a redacted record's header and signature, FORMAT.md §6.1) have no body and are
/// not observed: the report lists those an order covers (`ChainReport::redacted`).
///
/// Governance records come first in a canonical bundle (FORMAT.md, "Bundle order"): they are
/// held, with only the record rules checked, until the first ordinary record; then the
/// authority is derived from them and every later record is judged under it. A governance
/// record after ordinary ones is reported as an input problem and judged, like every record
/// after it, under the authority derived at the first ordinary record (FORMAT.md 13.1).
pub fn verify_items<E>(
    verifier: &Verifier,
    items: impl Iterator<Item = Result<BundleItem, E>>,
    mode: SignatureMode,
    mut observe: impl FnMut(&VerifiedRecord),
) -> Result<Report, E> {
    let mut chains = ChainVerifier::new(verifier.genesis());
    let mut governance = GovernanceIntake::new(verifier);
    let mut chunk = Chunk::default();
    let mut proofs: Vec<EquivocationProof> = Vec::new();
    let flush = |chunk: &mut Chunk,
                 chains: &mut ChainVerifier,
                 verifier: &Verifier,
                 observe: &mut dyn FnMut(&VerifiedRecord)| {
        let Chunk { records, withheld } = std::mem::take(chunk);
        let mut withheld = withheld.into_iter().peekable();
        for (position, verdict) in verify_chunk(verifier, records, mode)
            .into_iter()
            .enumerate()
        {
            while let Some((_, bytes)) = withheld.next_if(|(before, _)| *before == position) {
                chains.add_withheld(verifier.verify_withheld(bytes));
            }
            if let Ok(record) = &verdict {
                observe(record);
            }
            chains.add(verdict);
        }
        for (_, bytes) in withheld {
            chains.add_withheld(verifier.verify_withheld(bytes));
        }
    };
    for item in items {
        match item? {
            // A withheld envelope (FORMAT.md §6.1) is judged under the same authority as the
            // ordinary records, in its place among them; it has no body to observe. Checked
            // first: a withheld governance record is refused by `verify_withheld` (rule 25).
            BundleItem::Record(bytes) if sized_as_withheld(&bytes) && is_withheld(&bytes) => {
                governance.release(&mut chains, &mut observe);
                governance.ordinary_seen += 1;
                let before = chunk.records.len();
                chunk.withheld.push((before, bytes));
                if chunk.len() == CHUNK_RECORDS {
                    flush(&mut chunk, &mut chains, governance.verifier(), &mut observe);
                }
            }
            BundleItem::Record(bytes) if is_governance(&bytes) => {
                if !chunk.is_empty() {
                    flush(&mut chunk, &mut chains, governance.verifier(), &mut observe);
                }
                governance.take(bytes, &mut chains);
            }
            BundleItem::Record(bytes) => {
                governance.release(&mut chains, &mut observe);
                governance.ordinary_seen += 1;
                chunk.records.push(bytes);
                if chunk.len() == CHUNK_RECORDS {
                    flush(&mut chunk, &mut chains, governance.verifier(), &mut observe);
                }
            }
            BundleItem::Proof(proof) => {
                governance.note_proof(&proof, &mut chains);
                proofs.push(proof);
            }
            // Checkpoints and split views are judged against the verified chains by the
            // caller (`crate::checked::read_checked` keeps them aside); the records' verdicts
            // do not depend on them.
            BundleItem::Checkpoint(_) | BundleItem::SplitView(_) => {}
        }
    }
    governance.release(&mut chains, &mut observe);
    flush(&mut chunk, &mut chains, governance.verifier(), &mut observe);
    // Proofs are few and checked after the records so that a fork is reported against the
    // chain as it was read.
    for proof in proofs {
        let verifier = governance.verifier();
        match revoked_side(verifier, &proof) {
            Some(rejected) => chains.add_revoked_from_proof(rejected),
            None => chains.add_proof(verifier.verify_equivocation(proof.first, proof.second)),
        }
    }
    Ok(chains.finish_with_governance(governance.derivation()))
}

/// Records read and not yet verified: full records, verified in batches, and the withheld
/// envelopes among them (rare), each with the number of full records read before it so that
/// the chain verifier takes every verdict in input order.
#[derive(Default)]
struct Chunk {
    records: Vec<Vec<u8>>,
    withheld: Vec<(usize, Vec<u8>)>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.records.len() + self.withheld.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The side of a proof that the authority rejects as revoked, when both sides pass the record
/// rules: such a proof shows a thief's records after the revocation, not that the member
/// signed twice (FORMAT.md §12), so its revoked record is listed with the revoked ones.
fn revoked_side(verifier: &Verifier, proof: &EquivocationProof) -> Option<RejectedRecord> {
    let sides = [&proof.first, &proof.second];
    let verified: Vec<RuleCheckedRecord> = sides
        .iter()
        .map(|bytes| verifier.verify_record_rules((*bytes).clone()).ok())
        .collect::<Option<_>>()?;
    verified.into_iter().find_map(|record| {
        verifier
            .check_authority(record)
            .err()
            .filter(|rejected| rejected.reason.is_revocation())
            .map(|rejected| *rejected)
    })
}

/// Whether the bytes are exactly as long as a withheld envelope with the author length their
/// header states (header, then a signature): read from fixed offsets, without decoding, so
/// that the full records (nearly all) are told apart at no cost; `is_withheld` decides.
fn sized_as_withheld(bytes: &[u8]) -> bool {
    use aidledger_spec::signed::header_layout::{AUTHOR_AT, AUTHOR_LENGTH_AT, HEADER_FIXED_BYTES};
    use aidledger_spec::signed::SIGNATURE_BYTES;
    let Some(Ok(author_length)) = bytes
        .get(AUTHOR_LENGTH_AT..AUTHOR_AT)
        .map(<[u8; 8]>::try_from)
    else {
        return false;
    };
    u64::from_le_bytes(author_length)
        .checked_add((HEADER_FIXED_BYTES + SIGNATURE_BYTES) as u64)
        .is_some_and(|size| size == bytes.len() as u64)
}

/// Whether a record's header says it is a governance record (kinds 5–7). Bytes too short to
/// tell are ordinary: the verifier reports what is wrong with them.
fn is_governance(bytes: &[u8]) -> bool {
    peek_body_kind(bytes)
        .and_then(BodyKind::from_wire)
        .is_some_and(BodyKind::is_governance)
}

/// Governance records read so far, and the verifier of the authority they build.
struct GovernanceIntake<'a> {
    genesis_verifier: &'a Verifier,
    derived: Option<Verifier>,
    records: Vec<GovernanceRecord>,
    /// Governance records that passed the record rules, waiting for the authority.
    held: Vec<RuleCheckedRecord>,
    ordinary_seen: u64,
    out_of_order_reported: bool,
    too_many_reported: bool,
    /// Positions (author, seq) that an equivocation proof contests.
    contested: BTreeSet<(String, u64)>,
}

impl<'a> GovernanceIntake<'a> {
    fn new(genesis_verifier: &'a Verifier) -> Self {
        GovernanceIntake {
            genesis_verifier,
            derived: None,
            records: Vec::new(),
            held: Vec::new(),
            ordinary_seen: 0,
            out_of_order_reported: false,
            too_many_reported: false,
            contested: BTreeSet::new(),
        }
    }

    /// The verifier of the authority derived so far.
    fn verifier(&self) -> &Verifier {
        self.derived.as_ref().unwrap_or(self.genesis_verifier)
    }

    /// Reads one governance record: record rules now, authority rules on release.
    fn take(&mut self, bytes: Vec<u8>, chains: &mut ChainVerifier) {
        if self.ordinary_seen > 0 && !self.out_of_order_reported {
            self.out_of_order_reported = true;
            chains.add_input_problem(Rejection::GovernanceOutOfOrder {
                ordinary_before: self.ordinary_seen,
            });
        }
        if self.records.len() + self.held.len() >= GOVERNANCE_RECORDS_MAX {
            if !self.too_many_reported {
                self.too_many_reported = true;
                chains.add_input_problem(Rejection::TooManyGovernanceRecords {
                    limit: GOVERNANCE_RECORDS_MAX,
                });
            }
            return;
        }
        match self.genesis_verifier.verify_record_rules(bytes) {
            Ok(record) => {
                if let Some(governance_record) = GovernanceRecord::from_verified(&record) {
                    self.records.push(governance_record);
                }
                self.held.push(record);
            }
            Err(rejected) => chains.add(Err(rejected)),
        }
    }

    /// At the first ordinary record (or the end): derives the authority from every governance
    /// record read so far, once. Then judges the held governance records under it and hands
    /// them to the chain verifier.
    fn release(&mut self, chains: &mut ChainVerifier, observe: &mut dyn FnMut(&VerifiedRecord)) {
        // Derived once, at the first ordinary record, even from no governance record at all
        // (FORMAT.md 13.1): governance records that come later are judged under it and change
        // nothing for the records after them. Deriving again would let a hostile bundle
        // (alternating kinds) cost quadratic time, and the report is invalid anyway.
        if self.derived.is_none() {
            let genesis = self.genesis_verifier.genesis();
            let authority = governance::derive(genesis, &self.usable_records()).authority;
            self.derived = Some(Verifier::with_authority(genesis.clone(), authority));
        }
        if self.held.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.held);
        let verifier = self.verifier();
        for record in held {
            let verdict = verifier.check_authority(record);
            if let Ok(record) = &verdict {
                observe(record);
            }
            chains.add(verdict);
        }
    }

    /// The derivation over every governance record read.
    fn derivation(&self) -> Derivation {
        governance::derive(self.genesis_verifier.genesis(), &self.usable_records())
    }

    /// The governance records that may count: not at a position a proof contests.
    fn usable_records(&self) -> Vec<GovernanceRecord> {
        governance::uncontested(self.records.clone(), &self.contested)
    }

    /// Notes the position an equivocation proof contests (both records pass the record rules,
    /// one author, one seq, two ids): governance records there count for neither side
    /// (FORMAT.md 18.6). A canonical bundle lists proofs first; a proof that contests a
    /// governance record after the authority was derived is reported as out of order.
    fn note_proof(&mut self, proof: &EquivocationProof, chains: &mut ChainVerifier) {
        let verify = |bytes: &Vec<u8>| self.genesis_verifier.verify_record_rules(bytes.clone());
        let (Ok(first), Ok(second)) = (verify(&proof.first), verify(&proof.second)) else {
            return;
        };
        let (first, second) = (first.header(), second.header());
        if first.author != second.author || first.seq != second.seq || first == second {
            return;
        }
        let position = (first.author.clone(), first.seq);
        let contests_used = self.derived.is_some()
            && self
                .records
                .iter()
                .any(|record| (record.author.as_str(), record.seq) == (&position.0, position.1));
        if contests_used && !self.out_of_order_reported {
            self.out_of_order_reported = true;
            chains.add_input_problem(Rejection::GovernanceOutOfOrder {
                ordinary_before: self.ordinary_seen,
            });
        }
        self.contested.insert(position);
    }
}

/// Verifies one chunk, split across the available cores; verdicts keep the input order.
fn verify_chunk(
    verifier: &Verifier,
    records: Vec<Vec<u8>>,
    mode: SignatureMode,
) -> Vec<RecordVerdict> {
    let workers = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let verify_part = |part: Vec<Vec<u8>>| match mode {
        SignatureMode::Batch => verifier.verify_batch(part),
        SignatureMode::Strict => part
            .into_iter()
            .map(|bytes| verifier.verify(bytes))
            .collect(),
    };
    if workers < 2 || records.len() < 2 * aidledger_spec::signature::BATCH_SIZE_MAX {
        return verify_part(records);
    }
    let part_size = records.len().div_ceil(workers);
    let mut parts: Vec<Vec<Vec<u8>>> = Vec::with_capacity(workers);
    let mut rest = records.into_iter();
    for _ in 0..workers {
        parts.push(rest.by_ref().take(part_size).collect());
    }
    thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let own_part = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts
            .map(|part| scope.spawn(move || verify_part(part)))
            .collect();
        let mut verdicts = verify_part(own_part);
        for handle in handles {
            match handle.join() {
                Ok(part_verdicts) => verdicts.extend(part_verdicts),
                // A worker only runs spec code, which does not panic on any input (property
                // tested); if it ever did, re-raise rather than report a partial verdict.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        verdicts
    })
}
