//! The public routes of proofs (issue 21): the node's own organisation's signed checkpoint
//! with the cosignatures collected for it, or another organisation's cosigned checkpoint the
//! node collected (`GET /checkpoint/{org}`, FORMAT.md §23, §24), the split-view proofs it holds
//! (`GET /api/split-views`, §25), a record's inclusion proof
//! (`GET /api/proof/{id}[?size=N]`, with the order that covers the record when its body was
//! redacted, so that a packet can show it, §26.3) and a chain's consistency proof
//! (`GET /api/consistency/{org}?from=M&to=N`, FORMAT.md §22). Every proof is checked against
//! the root it is served with before it leaves: a revocation that rewinds a chain between the
//! reads gives a 503 to retry, never a proof that does not verify.

use std::sync::Arc;

use aidledger_spec::checkpoint::Checkpoint;
use aidledger_spec::merkle::{self, InclusionProof};
use aidledger_spec::{Digest, RecordId};
use aidledger_store::{RedactionMark, StoreError, StoreReader};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use crate::api::{self, ApiError};
use crate::checkpoints::{CheckpointError, Checkpoints, Published};
use crate::governance::Governance;
use crate::witnessed::report;
use aidledger_spec::governance::Authority;

/// The media type of a checkpoint: a C2SP signed note is UTF-8 text.
pub const CHECKPOINT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// A checkpoint changes whenever the chain grows: caches ask again every time.
const CHECKPOINT_CACHE_CONTROL: &str = "no-cache";

/// The routes, over the store; the node's [`Checkpoints`] come as an extension (a server of a
/// store alone publishes no checkpoint, and serves proofs at the chains' current sizes).
pub fn routes() -> Router<StoreReader> {
    Router::new()
        .route("/checkpoint/{org}", get(checkpoint))
        .route("/api/proof/{id}", get(proof))
        .route("/api/consistency/{org}", get(consistency))
        .route("/api/split-views", get(split_views))
}

impl From<CheckpointError> for ApiError {
    fn from(error: CheckpointError) -> ApiError {
        match error {
            CheckpointError::EmptyChain { .. } => ApiError::not_found(error.to_string()),
            CheckpointError::Store(error) => error.into(),
            CheckpointError::Sign { .. } => ApiError::internal(error.to_string()),
        }
    }
}

/// The node's latest checkpoint, read and signed (if new) off the async threads.
async fn latest(
    store: &StoreReader,
    checkpoints: Arc<Checkpoints>,
) -> Result<Arc<Published>, ApiError> {
    api::blocking(store, move |_| Ok(checkpoints.latest()?)).await
}

/// `GET /checkpoint/{org}`: the signed note of the node's own organisation's chain at its
/// durable size with the cosignatures collected for exactly that note, as text; for another
/// organisation the cosigned checkpoint the node collected (404 when none, and for an empty
/// chain of its own).
async fn checkpoint(
    State(store): State<StoreReader>,
    Path(org): Path<String>,
    checkpoints: Option<Extension<Arc<Checkpoints>>>,
) -> Result<Response, ApiError> {
    let publisher = checkpoints.map(|Extension(checkpoints)| checkpoints);
    let own_org = publisher
        .as_ref()
        .map(|checkpoints| checkpoints.org().to_owned());
    let own = publisher.filter(|checkpoints| checkpoints.org() == org);
    let note = match own {
        Some(checkpoints) => {
            let published = latest(&store, checkpoints).await?;
            api::blocking(&store, move |store| {
                Ok(report::with_cosignatures(store, &org, &published.note)?)
            })
            .await?
        }
        None => {
            let author = org.clone();
            api::blocking(&store, move |store| Ok(store.cosigned_checkpoint(&author)?))
                .await?
                .ok_or_else(|| {
                    let publishes = match &own_org {
                        Some(own) => format!(
                            "this node publishes only its own organisation's checkpoint, {own}"
                        ),
                        None => "this server publishes no checkpoint: it serves a store, not an \
                                 organisation's node"
                            .to_owned(),
                    };
                    ApiError::not_found(format!(
                        "{publishes}; it holds no cosigned checkpoint of {org} from witnesses or \
                         peers"
                    ))
                })?
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, CHECKPOINT_CONTENT_TYPE),
            (header::CACHE_CONTROL, CHECKPOINT_CACHE_CONTROL),
        ],
        note,
    )
        .into_response())
}

/// `GET /api/split-views`: every split-view proof the node holds (FORMAT.md §25), with its
/// organisation, sizes and roots, and whether a revocation explains it (§25.2).
async fn split_views(
    State(store): State<StoreReader>,
    governance: Option<Extension<Arc<Governance>>>,
) -> Result<Json<Value>, ApiError> {
    let reports = api::blocking(&store, move |store| {
        let authority = match &governance {
            Some(Extension(governance)) => governance.current().authority().clone(),
            None => Authority::from_genesis(store.genesis()),
        };
        Ok(report::split_views(store, &authority)?)
    })
    .await?;
    Ok(Json(json!({ "split_views": reports })))
}

/// The query of `/api/proof/{id}`.
#[derive(Debug, serde::Deserialize)]
struct ProofQuery {
    size: Option<u64>,
}

/// The tree a proof is made in: its size and root, and the checkpoint that signs it.
struct ProofTree {
    size: u64,
    root: Option<Digest>,
    checkpoint: Option<String>,
}

/// The tree of the latest cosigned checkpoint the node collected for `org` (witnesses' or
/// peers', FORMAT.md §24), when it covers position `seq`: a proof at that size comes with
/// the note that witnesses cosigned, so that a packet made from it is witnessed (the node's own
/// latest note may be newer than what the witnesses have seen yet).
fn cosigned_tree(
    store: &StoreReader,
    org: &str,
    seq: u64,
) -> Result<Option<ProofTree>, StoreError> {
    let Some(text) = store.cosigned_checkpoint(org)? else {
        return Ok(None);
    };
    let Ok(checkpoint) = Checkpoint::of_note(&text) else {
        return Ok(None);
    };
    Ok(
        (checkpoint.size > seq && checkpoint.size <= store.chain_size(org)?).then_some(ProofTree {
            size: checkpoint.size,
            root: Some(checkpoint.root),
            checkpoint: Some(text),
        }),
    )
}

/// `GET /api/proof/{id}[?size=N]`: the record's inclusion proof, at the node's latest
/// checkpoint for its own organisation's records (the note included), at the chain's current
/// size for the others', or at `N`.
async fn proof(
    State(store): State<StoreReader>,
    Path(id): Path<String>,
    query: Result<Query<ProofQuery>, QueryRejection>,
    checkpoints: Option<Extension<Arc<Checkpoints>>>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let id = RecordId::from_hex(&id)
        .map_err(|error| ApiError::bad_request(format!("malformed record id: {error}")))?;
    let (org, seq) = api::blocking(&store, move |store| locate(store, &id)).await?;
    let own = checkpoints
        .map(|Extension(checkpoints)| checkpoints)
        .filter(|checkpoints| checkpoints.org() == org);
    let cosigned = match query.size {
        Some(_) => None,
        None => {
            let author = org.clone();
            api::blocking(&store, move |store| Ok(cosigned_tree(store, &author, seq)?)).await?
        }
    };
    let tree = match (query.size, cosigned, own) {
        (Some(size), _, _) => {
            let author = org.clone();
            let available =
                api::blocking(&store, move |store| Ok(store.chain_size(&author)?)).await?;
            if size <= seq || size > available {
                return Err(ApiError::bad_request(format!(
                    "size {size} is not between {} (the record's index + 1) and {available} \
                     (the size of {org}'s chain)",
                    seq + 1
                )));
            }
            ProofTree {
                size,
                root: None,
                checkpoint: None,
            }
        }
        (None, Some(tree), _) => tree,
        (None, None, Some(checkpoints)) => {
            let published = latest(&store, checkpoints).await?;
            if seq >= published.size {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "record {id} (seq {seq}) is not yet in a checkpoint: {org}'s latest \
                         checkpoint is of {} records; it will be once the record is durable",
                        published.size
                    ),
                ));
            }
            let (author, note) = (org.clone(), published.note.clone());
            let note = api::blocking(&store, move |store| {
                Ok(report::with_cosignatures(store, &author, &note)?)
            })
            .await?;
            ProofTree {
                size: published.size,
                root: Some(published.root),
                checkpoint: Some(note),
            }
        }
        (None, None, None) => {
            let author = org.clone();
            let size = api::blocking(&store, move |store| Ok(store.chain_size(&author)?)).await?;
            ProofTree {
                size,
                root: None,
                checkpoint: None,
            }
        }
    };
    let author = org.clone();
    let (size, root, fixed_root) = (tree.size, tree.root, tree.root.is_some());
    let (root, proof) = api::blocking(&store, move |store| {
        let root = match root {
            Some(root) => root,
            None => store.merkle_root(&author, size).map_err(changed)?,
        };
        let proof = store.inclusion_proof(&author, seq, size).map_err(changed)?;
        Ok((root, proof))
    })
    .await?;
    check_inclusion(&id, &proof, &root, fixed_root)?;
    let redaction = api::blocking(&store, move |store| Ok(store.redaction(&id)?)).await?;
    Ok(Json(json!({
        "record": id.to_hex(),
        "org": org,
        "index": seq,
        "size": size,
        "root": root.to_hex(),
        "checkpoint": tree.checkpoint,
        "inclusion": proof.path.iter().map(Digest::to_hex).collect::<Vec<_>>(),
        "redaction": redaction.as_ref().map(redaction_json),
    })))
}

/// The order that covers a redacted record, as `/api/proof/{id}` says it: the order's record
/// id, who made it (`author`: a `redaction` record of the record's author, which a proof
/// packet carries in its `order`; `admins`: a `redact` proposal, among the governance records
/// every packet carries), the category and the time the order's record claims (FORMAT.md
/// §26.3, §27).
pub fn redaction_json(mark: &RedactionMark) -> Value {
    json!({
        "order": mark.order.to_hex(),
        "by": if mark.by_admins { "admins" } else { "author" },
        "category": mark.category.name(),
        "ordered_at_ms": mark.ordered_at_ms,
    })
}

/// Where a record is in its chain; 404 for an unknown or revoked record.
fn locate(store: &StoreReader, id: &RecordId) -> Result<(String, u64), ApiError> {
    if let Some(position) = store.position(id)? {
        return Ok(position);
    }
    match store.revocation(id)? {
        Some(revoked) => Err(ApiError::not_found(format!(
            "record {id} was revoked: it held seq {} of {}'s chain ({}); proofs of revoked \
             records are not served",
            revoked.seq, revoked.author, revoked.reason
        ))),
        None => Err(ApiError::not_found(format!("record {id} not found"))),
    }
}

/// A store read of sizes checked just before: a size it refuses was taken from the chain by a
/// revocation in between (503, ask again).
fn changed(error: StoreError) -> ApiError {
    match error {
        StoreError::Merkle(error) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the chain changed while the proof was made ({error}); ask again"),
        ),
        other => other.into(),
    }
}

/// Refuses to serve a proof that does not lead to its root: a revocation rewound the chain
/// between the reads (503, ask again).
fn check_inclusion(
    id: &RecordId,
    proof: &InclusionProof,
    root: &Digest,
    against_checkpoint: bool,
) -> Result<(), ApiError> {
    proof.verify(&merkle::leaf_hash(id), root).map_err(|error| {
        let what = if against_checkpoint {
            "the chain no longer holds the tree of the latest checkpoint"
        } else {
            "the chain changed while the proof was made"
        };
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{what} ({error}); ask again"),
        )
    })
}

/// The query of `/api/consistency/{org}`.
#[derive(Debug, serde::Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// `GET /api/consistency/{org}?from=M&to=N`: the proof that the chain's tree of `N` records
/// extends its tree of `M` (1 ≤ M ≤ N ≤ the chain's size), with both trees' roots.
async fn consistency(
    State(store): State<StoreReader>,
    Path(org): Path<String>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(ConsistencyQuery { from, to }) =
        query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let author = org.clone();
    let available = api::blocking(&store, move |store| {
        let size = store.chain_size(&author)?;
        if size == 0 && store.genesis().member(&author).is_none() {
            return Err(ApiError::not_found(format!(
                "organisation {author:?} is not a member of the network"
            )));
        }
        Ok(size)
    })
    .await?;
    if from == 0 || from > to || to > available {
        return Err(ApiError::bad_request(format!(
            "from={from}&to={to} is not 1 <= from <= to <= {available} (the size of {org}'s \
             chain); every tree extends the empty one, with no proof"
        )));
    }
    let author = org.clone();
    let proof = api::blocking(&store, move |store| {
        let old_root = store.merkle_root(&author, from).map_err(changed)?;
        let new_root = store.merkle_root(&author, to).map_err(changed)?;
        let proof = store
            .consistency_proof(&author, from, to)
            .map_err(changed)?;
        proof.verify(&old_root, &new_root).map_err(|error| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the chain changed while the proof was made ({error}); ask again"),
            )
        })?;
        Ok((old_root, new_root, proof))
    })
    .await?;
    let (from_root, to_root, proof) = proof;
    // The roots come with the proof, checked with it: a witness that holds a checkpoint of
    // another root at `from` can then prove a split view (FORMAT.md §25) from this answer.
    Ok(Json(json!({
        "org": org,
        "from": from,
        "to": to,
        "from_root": from_root.to_hex(),
        "to_root": to_root.to_hex(),
        "proof": proof.path.iter().map(Digest::to_hex).collect::<Vec<_>>(),
    })))
}
