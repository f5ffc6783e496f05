//! The verification pipeline: records stream in, signatures are verified in batches on every
//! core, and the chain rules run in order on one thread.
//!
//! Memory stays bounded by [`CHUNK_RECORDS`] records in flight plus what `ChainVerifier`
//! keeps (32 bytes per linked record), whatever the size of the input.

use std::num::NonZeroUsize;
use std::thread;

use aidledger_spec::bundle::{BundleItem, EquivocationProof};
use aidledger_spec::chain::{ChainVerifier, Report};
use aidledger_spec::verify::{RecordVerdict, VerifiedRecord, Verifier};

/// Records read before their signatures are verified together.
pub const CHUNK_RECORDS: usize = 4096;

/// How signatures are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureMode {
    /// Batches with small-order checks and single-signature fallback (the default).
    Batch,
    /// `verify_strict` on every signature, one by one.
    Strict,
}

/// Verifies every item of `items` and returns the report. `observe` sees every record that
/// passed the record rules, in input order (provenance and show use it to find references).
pub fn verify_items<E>(
    verifier: &Verifier,
    items: impl Iterator<Item = Result<BundleItem, E>>,
    mode: SignatureMode,
    mut observe: impl FnMut(&VerifiedRecord),
) -> Result<Report, E> {
    let mut chains = ChainVerifier::new(verifier.genesis());
    let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(CHUNK_RECORDS);
    let mut proofs: Vec<EquivocationProof> = Vec::new();
    let mut flush = |chunk: &mut Vec<Vec<u8>>, chains: &mut ChainVerifier| {
        for verdict in verify_chunk(verifier, std::mem::take(chunk), mode) {
            if let Ok(record) = &verdict {
                observe(record);
            }
            chains.add(verdict);
        }
    };
    for item in items {
        match item? {
            BundleItem::Record(bytes) => {
                chunk.push(bytes);
                if chunk.len() == CHUNK_RECORDS {
                    flush(&mut chunk, &mut chains);
                }
            }
            BundleItem::Proof(proof) => proofs.push(proof),
        }
    }
    flush(&mut chunk, &mut chains);
    // Proofs are few and checked after the records so that a fork is reported against the
    // chain as it was read.
    for proof in proofs {
        chains.add_proof(verifier.verify_equivocation(proof.first, proof.second));
    }
    Ok(chains.finish())
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
