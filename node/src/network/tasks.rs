//! The work the network task hands off so that its event loop never blocks: verifying gossip
//! and sync data, ingesting it through the writer, and reading the store to answer requests.
//! Each task ends by sending one [`Completion`] back to the loop.
//!
//! Records are judged under the governance state current when the task starts. A record that
//! breaks only an authority rule a later state could judge otherwise
//! ([`refused_by_governance`]: unknown author, key not yet valid, member removed, key revoked,
//! …) is not a sign of a faulty peer: this node may not have applied a governance record yet,
//! or the peer not. Such records are not stored and their sender is not penalised; range sync
//! fetches them again once the governance state changes.

use std::collections::HashSet;
use std::sync::Arc;

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::codec::Codec;
use aidledger_spec::governance::{Change, ProposalState};
use aidledger_spec::redaction::OrdersInForce;
use aidledger_spec::withheld::{is_withheld, ChainRecord};
use aidledger_spec::RecordId;
use aidledger_spec::{Rejection, VerifiedRecord, Verifier};
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::request_response::ResponseChannel;
use libp2p::PeerId;

use super::wire::{SyncResponse, PROOFS_PER_RESPONSE_MAX, RANGE_RECORDS_MAX, RANGE_SIZE_BYTES_MAX};
use crate::governance::{is_authority_rule, GovernanceView};
use crate::writer::{IngestOutcome, Placement, Writer};
use aidledger_store::Store;

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
    /// A gossip message that needs no ingest was judged (the witnessed topic).
    Reported {
        /// The message.
        message_id: MessageId,
        /// Who forwarded it.
        source: PeerId,
        /// The verdict to report to gossipsub.
        acceptance: MessageAcceptance,
        /// Why it was not accepted, if it was not.
        reason: Option<String>,
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
        /// The verified records (up to a record the authority refuses), or why the batch is
        /// invalid.
        records: Result<RangeVerdict, String>,
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
    /// The node's own organisation's checkpoint at its chain's durable size (`None` when the
    /// chain is empty or it could not be signed).
    OwnCheckpoint(Option<Arc<crate::checkpoints::Published>>),
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

/// Whether `verifier` refuses a record by an authority rule that a later governance state
/// (this node's or the sender's) could judge otherwise: an unknown author, a key not yet
/// valid, a removed member, a revoked or rotated key, or a key this node does not know (a
/// rotation or grant it has not seen). A key that the authority grants to another member is
/// not among them: a key names one organisation forever, so such a record is never valid.
pub fn refused_by_governance(verifier: &Verifier, reason: &Rejection) -> bool {
    match reason {
        Rejection::KeyNotAuthors { key, .. } => verifier.authority().key_owner(key).is_none(),
        other => is_authority_rule(other),
    }
}

/// A verified range batch: its records up to the first one the authority refuses.
#[derive(Debug)]
pub struct RangeVerdict {
    /// The valid records, consecutive from the asked seq.
    pub records: Vec<ChainRecord>,
    /// Why the record after them was refused by an authority rule, if one was.
    pub refused: Option<String>,
}

/// Why a proof was not accepted.
#[derive(Debug)]
pub enum ProofRefusal {
    /// It does not prove an equivocation: the sender is at fault.
    Invalid(String),
    /// One of its records breaks only an authority rule: not judged now.
    Unauthorised(String),
}

impl std::fmt::Display for ProofRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofRefusal::Invalid(reason) | ProofRefusal::Unauthorised(reason) => {
                f.write_str(reason)
            }
        }
    }
}

/// Verifies a batch of gossiped records (signatures in one batch) and ingests the valid ones
/// in one writer call. A record is accepted (forwarded) when it was stored, held as pending
/// or proved an equivocation; ignored when it was a duplicate or refused by an authority rule
/// only; rejected when invalid.
pub async fn validate_records(
    view: Arc<GovernanceView>,
    writer: Arc<Writer>,
    data: Vec<Vec<u8>>,
) -> (Vec<Verdict>, Option<IngestOutcome>) {
    let count = data.len();
    let judge = view.clone();
    let Ok(verdicts) = tokio::task::spawn_blocking(move || judge.verifier.verify_batch(data)).await
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
            Err(rejected) if refused_by_governance(&view.verifier, &rejected.reason) => {
                results.push((MessageAcceptance::Ignore, None))
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

/// Verifies a gossiped equivocation proof and stores it if new. A proof whose records break
/// only an authority rule is ignored, not rejected (`Ok` with an empty outcome).
pub async fn validate_proof(
    view: Arc<GovernanceView>,
    writer: Arc<Writer>,
    data: Vec<u8>,
) -> (MessageAcceptance, Result<IngestOutcome, String>) {
    let verdict = tokio::task::spawn_blocking(move || verify_proof(&view.verifier, &data)).await;
    let pair = match verdict {
        Ok(Ok(pair)) => pair,
        Ok(Err(ProofRefusal::Invalid(reason))) => return (MessageAcceptance::Reject, Err(reason)),
        Ok(Err(ProofRefusal::Unauthorised(_))) => {
            return (MessageAcceptance::Ignore, Ok(IngestOutcome::default()))
        }
        Err(error) => return (MessageAcceptance::Ignore, Err(error.to_string())),
    };
    match writer
        .ingest(Vec::<aidledger_spec::RuleCheckedRecord>::new(), vec![pair])
        .await
    {
        Ok(outcome) if !outcome.proofs.is_empty() => (MessageAcceptance::Accept, Ok(outcome)),
        Ok(outcome) => (MessageAcceptance::Ignore, Ok(outcome)),
        Err(error) => (MessageAcceptance::Ignore, Err(error.to_string())),
    }
}

/// Decodes and verifies an encoded proof: two distinct, validly signed records of one author
/// at one seq, each valid under the current governance state.
pub fn verify_proof(
    verifier: &Verifier,
    data: &[u8],
) -> Result<(VerifiedRecord, VerifiedRecord), ProofRefusal> {
    // Each side is bounded by one record's size (spec `Codec`), not both by one budget: a
    // proof of two large treaty records is valid and must not cost its sender a penalty.
    let proof = EquivocationProof::from_bytes(data)
        .map_err(|error| ProofRefusal::Invalid(format!("malformed proof: {error}")))?;
    verify_decoded_proof(verifier, proof)
}

/// As `Verifier::verify_equivocation`, but telling a record refused by an authority rule only
/// apart from an invalid one.
fn verify_decoded_proof(
    verifier: &Verifier,
    proof: EquivocationProof,
) -> Result<(VerifiedRecord, VerifiedRecord), ProofRefusal> {
    let side = |name: &str, bytes: Vec<u8>| {
        verifier.verify(bytes).map_err(|rejected| {
            let reason = format!(
                "invalid equivocation proof: {name} record: {}",
                rejected.reason
            );
            if refused_by_governance(verifier, &rejected.reason) {
                ProofRefusal::Unauthorised(reason)
            } else {
                ProofRefusal::Invalid(reason)
            }
        })
    };
    let first = side("first", proof.first)?;
    let second = side("second", proof.second)?;
    let invalid =
        |detail: &str| ProofRefusal::Invalid(format!("invalid equivocation proof: {detail}"));
    if first.id() == second.id() {
        return Err(invalid("both sides are the same record"));
    }
    if first.header().author != second.header().author || first.header().seq != second.header().seq
    {
        return Err(invalid(
            "the records have different authors or sequence numbers",
        ));
    }
    Ok(if first.id() < second.id() {
        (first, second)
    } else {
        (second, first)
    })
}

/// Verifies a range batch: every record of `author`, consecutive from `from_seq`, and valid
/// up to the first one an authority rule refuses (the records after that one are dropped).
/// Any other invalid record, or a record out of place, fails the batch. Whole records are
/// verified in batches; a withheld one (its body redacted, FORMAT.md §6.1) by every rule that
/// does not need the body: whether an order covers it is for verifiers of the whole chain.
pub fn verify_range(
    verifier: &Verifier,
    author: &str,
    from_seq: u64,
    records: Vec<Vec<u8>>,
) -> Result<RangeVerdict, String> {
    verify_range_proposed(verifier, &HashSet::new(), author, from_seq, records)
}

/// [`verify_range`] under a node's governance: a withheld record is also taken when a pending
/// `redact` proposal of an admin names it. Its approvals may stand after the record in the
/// same chain (the member approving its own record's redaction), where this node cannot see
/// them before it takes the record; verifiers still judge it only under the orders in force.
pub fn verify_range_in(
    view: &GovernanceView,
    author: &str,
    from_seq: u64,
    records: Vec<Vec<u8>>,
) -> Result<RangeVerdict, String> {
    let proposed: HashSet<(String, u64, RecordId)> = view
        .derivation
        .proposals
        .iter()
        .filter(|status| matches!(status.state, ProposalState::Pending { .. }))
        .filter_map(|status| match &status.proposal.change {
            Change::Redact {
                member, records, ..
            } => Some(
                records
                    .iter()
                    .map(|named| (member.clone(), named.seq, named.id))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    verify_range_proposed(&view.verifier, &proposed, author, from_seq, records)
}

fn verify_range_proposed(
    verifier: &Verifier,
    proposed: &HashSet<(String, u64, RecordId)>,
    author: &str,
    from_seq: u64,
    records: Vec<Vec<u8>>,
) -> Result<RangeVerdict, String> {
    if records.len() as u64 > RANGE_RECORDS_MAX {
        return Err(format!("a range response of {} records", records.len()));
    }
    let (withheld, whole): (Positioned, Positioned) = records
        .into_iter()
        .enumerate()
        .partition(|(_, bytes)| is_withheld(bytes));
    let (at, whole): (Vec<usize>, Vec<Vec<u8>>) = whole.into_iter().unzip();
    let mut verdicts: Vec<(usize, ChainVerdict)> = at
        .into_iter()
        .zip(
            verifier
                .verify_batch(whole)
                .into_iter()
                .map(|verdict| verdict.map(ChainRecord::Full)),
        )
        .collect();
    verdicts.extend(withheld.into_iter().map(|(at, bytes)| {
        (
            at,
            verifier.verify_withheld(bytes).map(ChainRecord::Withheld),
        )
    }));
    verdicts.sort_by_key(|(at, _)| *at);
    let orders = orders_known(verifier, &verdicts);
    let mut verified = Vec::with_capacity(verdicts.len());
    for (offset, verdict) in verdicts {
        let expected_seq = from_seq + offset as u64;
        let (found_author, found_seq) = match &verdict {
            Ok(record) => (
                Some(record.header().author.as_str()),
                Some(record.header().seq),
            ),
            Err(rejected) => (rejected.author.as_deref(), rejected.seq),
        };
        let misplaced = found_author.is_some_and(|found| found != author)
            || found_seq.is_some_and(|found| found != expected_seq);
        if misplaced {
            return Err(format!(
                "asked for {author} seq {expected_seq}, got {} seq {}",
                found_author.unwrap_or("?"),
                found_seq.map_or("?".to_owned(), |seq| seq.to_string())
            ));
        }
        match verdict {
            // A body withheld without an order this node knows of is not taken (a peer must
            // not make it forget what nobody ordered forgotten); not the sender's fault
            // either: the order may be in governance records this node has not seen yet.
            Ok(ChainRecord::Withheld(record))
                if orders
                    .as_ref()
                    .and_then(|orders| orders.covering(author, expected_seq, &record.id()))
                    .is_none()
                    && !proposed.contains(&(author.to_owned(), expected_seq, record.id())) =>
            {
                return Ok(RangeVerdict {
                    records: verified,
                    refused: Some(format!(
                        "seq {expected_seq}: its body is withheld, and no redaction order this node knows covers it"
                    )),
                });
            }
            Ok(record) => verified.push(record),
            Err(rejected) if refused_by_governance(verifier, &rejected.reason) => {
                return Ok(RangeVerdict {
                    records: verified,
                    refused: Some(format!("seq {expected_seq}: {}", rejected.reason)),
                })
            }
            Err(rejected) => return Err(format!("invalid record: {}", rejected.reason)),
        }
    }
    Ok(RangeVerdict {
        records: verified,
        refused: None,
    })
}

/// The redaction orders a range's withheld records may stand under (FORMAT.md §27): the
/// admins' effective `redact` steps, and the author's `redaction` records in the range itself
/// (an order follows the records it names in its chain). `None` when the range withholds
/// nothing.
fn orders_known(verifier: &Verifier, verdicts: &[(usize, ChainVerdict)]) -> Option<OrdersInForce> {
    let withholds = verdicts
        .iter()
        .any(|(_, verdict)| matches!(verdict, Ok(ChainRecord::Withheld(_))));
    if !withholds {
        return None;
    }
    let mut orders = OrdersInForce::from_authority(verifier.authority());
    for (_, verdict) in verdicts {
        if let Ok(ChainRecord::Full(record)) = verdict {
            orders.add_order_record(record);
        }
    }
    Some(orders)
}

/// Records of a range with their offsets in it.
type Positioned = Vec<(usize, Vec<u8>)>;

/// The verdict on one record of a range, whole or withheld.
type ChainVerdict = Result<ChainRecord, Box<aidledger_spec::verify::RejectedRecord>>;

/// Verifies proofs from a sync response: those whose records break only an authority rule
/// are left out; any invalid one fails them all.
pub fn verify_proofs(
    verifier: &Verifier,
    proofs: Vec<EquivocationProof>,
) -> Result<Vec<(VerifiedRecord, VerifiedRecord)>, String> {
    if proofs.len() > PROOFS_PER_RESPONSE_MAX {
        return Err(format!("a proofs response of {} proofs", proofs.len()));
    }
    let mut verified = Vec::with_capacity(proofs.len());
    for proof in proofs {
        match verify_decoded_proof(verifier, proof) {
            Ok(pair) => verified.push(pair),
            Err(ProofRefusal::Unauthorised(_)) => {}
            Err(ProofRefusal::Invalid(reason)) => return Err(reason),
        }
    }
    Ok(verified)
}

/// Verifies records that are not a requested range (a fork probe): those refused by an
/// authority rule only are left out; any invalid one fails them all.
pub fn verify_loose(
    verifier: &Verifier,
    records: Vec<Vec<u8>>,
) -> Result<Vec<VerifiedRecord>, String> {
    let mut verified = Vec::with_capacity(records.len());
    // A withheld record (a probe of a redacted position) proves no fork: it is left out.
    let records = records
        .into_iter()
        .filter(|bytes| !is_withheld(bytes))
        .collect();
    for verdict in verifier.verify_batch(records) {
        match verdict {
            Ok(record) => verified.push(record),
            Err(rejected) if refused_by_governance(verifier, &rejected.reason) => {}
            Err(rejected) => return Err(rejected.reason.to_string()),
        }
    }
    Ok(verified)
}

/// Reads up to `limit` records of a chain from `from_seq`, within [`RANGE_SIZE_BYTES_MAX`]
/// (always at least one record).
///
/// Only durable records are served ([`Store::durable_head`]): a record served before its fsync
/// and lost with the machine's power would be signed again at its position after the restart,
/// and the peer would hold an equivocation proof against an honest organisation.
pub fn read_range(store: &Store, author: &str, from_seq: u64, limit: u64) -> SyncResponse {
    let durable_seq = match store.durable_head(author) {
        Ok(Some(head)) => head.seq,
        Ok(None) => return SyncResponse::Records(Vec::new()),
        Err(_) => return SyncResponse::Unavailable,
    };
    let servable = (durable_seq + 1).saturating_sub(from_seq);
    let mut records = Vec::new();
    let mut size_bytes = 0;
    for entry in store
        .chain_range(author, from_seq)
        .take(limit.min(RANGE_RECORDS_MAX).min(servable) as usize)
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

#[cfg(test)]
mod tests {
    use aidledger_spec::genesis::{AdminRule, Member, Role, GENESIS_FORMAT_VERSION};
    use aidledger_spec::record::Statement;
    use aidledger_spec::{sign_record, Body, Genesis, PublicKey, RecordDraft, RecordId};
    use ed25519_dalek::SigningKey;

    use super::*;

    const DONOR: &str = "GB-GOV-1";
    const AUDITOR: &str = "XI-IATI-AUD";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn verifier() -> Verifier {
        let member = |id: &str, seed: u8| Member {
            id: id.into(),
            name: id.into(),
            roles: vec![Role::Donor],
            signing_keys: vec![PublicKey(key(seed).verifying_key().to_bytes())],
            node_keys: vec![],
        };
        let mut genesis = Genesis {
            format_version: GENESIS_FORMAT_VERSION,
            name: "tasks test".into(),
            created_ms: 1_700_000_000_000,
            members: vec![member(DONOR, 1), member(AUDITOR, 2)],
            admin_rule: AdminRule {
                admins: vec![DONOR.into()],
                threshold: 1,
            },
        };
        genesis.normalise();
        genesis.check().expect("valid genesis");
        Verifier::new(genesis)
    }

    /// `DONOR`'s records 0..3, the last signed with `last_key`.
    fn chain(verifier: &Verifier, last_key: &SigningKey) -> Vec<Vec<u8>> {
        let mut prev = RecordId::ZERO;
        (0..3)
            .map(|seq| {
                let draft = RecordDraft {
                    network_id: verifier.network_id(),
                    author: DONOR.into(),
                    seq,
                    prev,
                    timestamp_ms: 1_700_000_000_000 + seq,
                    body: Body::Statement(Statement {
                        title: "t".into(),
                        language: "en".into(),
                        text: format!("{seq}"),
                    }),
                };
                let signer = if seq == 2 { last_key.clone() } else { key(1) };
                let (id, bytes) = sign_record(&draft, &signer).expect("signs");
                prev = id;
                bytes
            })
            .collect()
    }

    #[test]
    fn a_range_stops_before_a_record_a_later_state_could_accept() {
        let verifier = verifier();
        // A key the authority does not know: perhaps a rotation this node has not seen.
        let verdict = verify_range(&verifier, DONOR, 0, chain(&verifier, &key(9))).unwrap();
        assert_eq!(verdict.records.len(), 2);
        assert!(verdict
            .refused
            .is_some_and(|reason| reason.starts_with("seq 2:")));
        let loose = verify_loose(&verifier, chain(&verifier, &key(9))).unwrap();
        assert_eq!(loose.len(), 2);
        // Another member's key can never sign the donor's chain: the batch is invalid.
        let forged = verify_range(&verifier, DONOR, 0, chain(&verifier, &key(2)));
        assert!(forged.is_err_and(|reason| reason.contains("not a key of")));
        assert!(verify_loose(&verifier, chain(&verifier, &key(2))).is_err());
        // Records of another chain than asked fail the batch whatever their verdict.
        assert!(verify_range(&verifier, AUDITOR, 0, chain(&verifier, &key(9))).is_err());
        let all = verify_range(&verifier, DONOR, 0, chain(&verifier, &key(1))).unwrap();
        assert_eq!((all.records.len(), all.refused), (3, None));
    }
}
