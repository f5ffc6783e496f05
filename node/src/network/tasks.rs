//! The work the network task hands off so that its event loop never blocks: verifying gossip
//! and sync data, ingesting it through the writer, and reading the store to answer requests.
//! Each task ends by sending one [`Completion`] back to the loop.

use std::sync::Arc;

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::{codec, VerifiedRecord, Verifier};
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::request_response::ResponseChannel;
use libp2p::PeerId;

use super::wire::{SyncResponse, PROOFS_PER_RESPONSE_MAX, RANGE_RECORDS_MAX, RANGE_SIZE_BYTES_MAX};
use crate::store::Store;
use crate::writer::{IngestOutcome, Placement, Writer};

/// What a finished task reports to the event loop.
pub enum Completion {
    /// A batch of gossiped records was validated (and the valid ones ingested).
    GossipBatch {
        /// Each message with who forwarded it and the verdict.
        verdicts: Vec<(MessageId, PeerId, Verdict)>,
        /// What the ingestion did.
        outcome: Option<IngestOutcome>,
    },
    /// A gossip message was validated (and, if valid, ingested).
    Gossip {
        /// The message.
        message_id: MessageId,
        /// Who forwarded it.
        source: PeerId,
        /// The verdict to report to gossipsub.
        acceptance: MessageAcceptance,
        /// Why it was rejected, or what its ingestion did.
        detail: Result<IngestOutcome, String>,
    },
    /// A response to a sync request is ready.
    Serve {
        /// Where to send it.
        channel: ResponseChannel<SyncResponse>,
        /// The response.
        response: SyncResponse,
    },
    /// A range batch was verified, or found invalid.
    Verified {
        /// The chain.
        author: String,
        /// Who sent it.
        peer: PeerId,
        /// The first seq asked for.
        from_seq: u64,
        /// The verified records, or why the batch is invalid.
        records: Result<Vec<VerifiedRecord>, String>,
    },
    /// A batch or proofs from sync went through the writer.
    Ingested {
        /// The chain (`None` for proofs and probes).
        author: Option<String>,
        /// Who sent it.
        peer: PeerId,
        /// What the writer did, or why it failed / the data was invalid.
        outcome: Result<IngestOutcome, IngestFailure>,
    },
}

/// Why data from sync was not ingested.
pub enum IngestFailure {
    /// The peer sent invalid data: penalise it.
    Invalid(String),
    /// This node could not store it (shutting down, storage failure).
    Local(String),
}

/// The verdict on one gossip message, and why it was rejected.
pub type Verdict = (MessageAcceptance, Option<String>);

/// Verifies a batch of gossiped records (signatures in one batch) and ingests the valid ones
/// in one writer call. A record is accepted (forwarded) when it was stored, held as pending
/// or proved an equivocation; ignored when it was a duplicate; rejected when invalid.
pub async fn validate_records(
    verifier: Arc<Verifier>,
    writer: Arc<Writer>,
    data: Vec<Vec<u8>>,
) -> (Vec<Verdict>, Option<IngestOutcome>) {
    let count = data.len();
    let Ok(verdicts) = tokio::task::spawn_blocking(move || verifier.verify_batch(data)).await
    else {
        return (vec![(MessageAcceptance::Ignore, None); count], None);
    };
    let mut results = Vec::with_capacity(count);
    let (mut valid, mut valid_at) = (Vec::new(), Vec::new());
    for (index, verdict) in verdicts.into_iter().enumerate() {
        match verdict {
            Ok(record) => {
                valid_at.push(index);
                valid.push(record);
                results.push((MessageAcceptance::Ignore, None));
            }
            Err(rejected) => {
                results.push((MessageAcceptance::Reject, Some(rejected.reason.to_string())))
            }
        }
    }
    if valid.is_empty() {
        return (results, None);
    }
    let Ok(outcome) = writer.ingest(valid, Vec::new()).await else {
        return (results, None);
    };
    for (index, placement) in valid_at.iter().zip(&outcome.placements) {
        if matches!(
            placement,
            Placement::Stored | Placement::Pending | Placement::Equivocation
        ) {
            results[*index].0 = MessageAcceptance::Accept;
        }
    }
    (results, Some(outcome))
}

/// Verifies a gossiped equivocation proof and stores it if new.
pub async fn validate_proof(
    verifier: Arc<Verifier>,
    writer: Arc<Writer>,
    data: Vec<u8>,
) -> (MessageAcceptance, Result<IngestOutcome, String>) {
    let verdict = tokio::task::spawn_blocking(move || verify_proof(&verifier, &data)).await;
    let pair = match verdict {
        Ok(Ok(pair)) => pair,
        Ok(Err(reason)) => return (MessageAcceptance::Reject, Err(reason)),
        Err(error) => return (MessageAcceptance::Ignore, Err(error.to_string())),
    };
    match writer.ingest(Vec::new(), vec![pair]).await {
        Ok(outcome) if !outcome.proofs.is_empty() => (MessageAcceptance::Accept, Ok(outcome)),
        Ok(outcome) => (MessageAcceptance::Ignore, Ok(outcome)),
        Err(error) => (MessageAcceptance::Ignore, Err(error.to_string())),
    }
}

/// Decodes and verifies an encoded proof: two distinct, validly signed records of one author
/// at one seq.
pub fn verify_proof(
    verifier: &Verifier,
    data: &[u8],
) -> Result<(VerifiedRecord, VerifiedRecord), String> {
    let proof: EquivocationProof =
        codec::decode_exact(data).map_err(|error| format!("malformed proof: {error}"))?;
    verify_decoded_proof(verifier, proof)
}

fn verify_decoded_proof(
    verifier: &Verifier,
    proof: EquivocationProof,
) -> Result<(VerifiedRecord, VerifiedRecord), String> {
    verifier
        .verify_equivocation(proof.first, proof.second)
        .map_err(|rejection| rejection.to_string())
}

/// Verifies a range batch: every record valid, of `author`, consecutive from `from_seq`.
pub fn verify_range(
    verifier: &Verifier,
    author: &str,
    from_seq: u64,
    records: Vec<Vec<u8>>,
) -> Result<Vec<VerifiedRecord>, String> {
    if records.len() as u64 > RANGE_RECORDS_MAX {
        return Err(format!("a range response of {} records", records.len()));
    }
    let mut verified = Vec::with_capacity(records.len());
    for (offset, verdict) in verifier.verify_batch(records).into_iter().enumerate() {
        let record = verdict.map_err(|rejected| format!("invalid record: {}", rejected.reason))?;
        let expected_seq = from_seq + offset as u64;
        if record.header().author != author || record.header().seq != expected_seq {
            return Err(format!(
                "asked for {author} seq {expected_seq}, got {} seq {}",
                record.header().author,
                record.header().seq
            ));
        }
        verified.push(record);
    }
    Ok(verified)
}

/// Verifies proofs from a sync response; the first invalid one fails them all.
pub fn verify_proofs(
    verifier: &Verifier,
    proofs: Vec<EquivocationProof>,
) -> Result<Vec<(VerifiedRecord, VerifiedRecord)>, String> {
    if proofs.len() > PROOFS_PER_RESPONSE_MAX {
        return Err(format!("a proofs response of {} proofs", proofs.len()));
    }
    proofs
        .into_iter()
        .map(|proof| verify_decoded_proof(verifier, proof))
        .collect()
}

/// Reads up to `limit` records of a chain from `from_seq`, within [`RANGE_SIZE_BYTES_MAX`]
/// (always at least one record).
pub fn read_range(store: &Store, author: &str, from_seq: u64, limit: u64) -> SyncResponse {
    let mut records = Vec::new();
    let mut size_bytes = 0;
    for entry in store
        .chain_range(author, from_seq)
        .take(limit.min(RANGE_RECORDS_MAX) as usize)
    {
        let Ok((_, bytes)) = entry else {
            return SyncResponse::Unavailable;
        };
        if !records.is_empty() && size_bytes + bytes.len() > RANGE_SIZE_BYTES_MAX {
            break;
        }
        size_bytes += bytes.len();
        records.push(bytes);
    }
    SyncResponse::Records(records)
}

/// Reads the stored proofs, within [`PROOFS_PER_RESPONSE_MAX`] and [`RANGE_SIZE_BYTES_MAX`]
/// (always at least one).
pub fn read_proofs(store: &Store) -> SyncResponse {
    let mut proofs = Vec::new();
    let mut size_bytes = 0;
    for proof in store.proofs().take(PROOFS_PER_RESPONSE_MAX) {
        let Ok(proof) = proof else {
            return SyncResponse::Unavailable;
        };
        let proof_bytes = proof.first.len() + proof.second.len();
        if !proofs.is_empty() && size_bytes + proof_bytes > RANGE_SIZE_BYTES_MAX {
            break;
        }
        size_bytes += proof_bytes;
        proofs.push(proof);
    }
    SyncResponse::Proofs(proofs)
}
