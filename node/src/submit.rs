//! The submit API: the organisation's only way to write, on loopback, behind a bearer token.
//!
//! `POST /v1/records` takes one body; `POST /v1/records/batch` takes up to [`BATCH_RECORDS_MAX`]
//! bodies in the framing of [`encode_batch`] (spec/FORMAT.md §20), checks every one of them
//! before any is signed, then hands them to the single writer in order, so that group commit
//! signs and stores them together and one fsync covers many records.
//!
//! `POST /v1/key/rotate` (empty body) replaces the organisation's signing key: the node draws a
//! new key, keeps it durably as `org.key` (the old one as `org.key.<hex>`), appends a key
//! rotation signed by the old key, and answers `{"id","seq","new_key"}` once it is durable.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use aidledger_spec::limits::BODY_SIZE_BYTES_MAX;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::api::{self, ApiError};
use crate::governance::{Governance, GovernanceView};
use crate::limits::{SUBMIT_POOL_QUEUE_MAX, SUBMIT_POOL_THREADS};
use crate::policy::{self, PolicyError};
use crate::pool::{BlockingPool, PoolError};
use crate::writer::{Committed, SubmitError, Writer};
use aidledger_spec::Body;
use aidledger_store::Store;

/// Most bodies in one `POST /v1/records/batch` (the spec's bound of the batch format). Well
/// below the writer's queue ([`crate::writer::SUBMIT_QUEUE_REQUESTS_MAX`]) so that one batch
/// normally fits in it whole.
pub use aidledger_spec::submit::BATCH_RECORDS_MAX;
/// The batch format (FORMAT.md §20): written by the CLI, read here, both through the spec.
pub use aidledger_spec::submit::{decode_batch, encode_batch, BatchFrameError};
/// Most bytes in one batch request, framing included: room for one body of the protocol's
/// largest size, and for a full batch of ordinary transactions (about 1 KiB each).
pub const BATCH_SIZE_BYTES_MAX: usize = BODY_SIZE_BYTES_MAX + 16 * 1024 * 1024;
/// Largest body whose policy checks run on the request's own task instead of the submit pool.
pub const INLINE_CHECK_BODY_BYTES_MAX: usize = 16 * 1024;
/// How long the batch handler waits before offering a body again to a full writer queue.
const QUEUE_RETRY_DELAY: Duration = Duration::from_millis(2);

/// What the submit handlers share.
pub struct SubmitState {
    /// The store (for policy checks and status).
    pub store: Arc<Store>,
    /// The governance state (for policy checks of governance bodies).
    pub governance: Arc<Governance>,
    /// The chain's writer.
    pub writer: Arc<Writer>,
    /// This node's organisation.
    pub org: String,
    /// The bearer token of this run.
    pub token: String,
    /// The submit API's own blocking threads (made by `SubmitState::pool()`), so that public reads and
    /// exports on tokio's blocking pool cannot starve submissions.
    pub pool: BlockingPool,
}

impl SubmitState {
    /// The submit API's blocking pool: [`SUBMIT_POOL_THREADS`] threads, [`SUBMIT_POOL_QUEUE_MAX`]
    /// jobs waiting.
    pub fn pool() -> std::io::Result<BlockingPool> {
        BlockingPool::start("submit", SUBMIT_POOL_THREADS, SUBMIT_POOL_QUEUE_MAX)
    }

    /// Runs a store read on the submit pool; a full pool is a 503.
    async fn blocking<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        self.pool
            .run(move || read(&store))
            .await
            .map_err(|error| match error {
                PoolError::Full { .. } => {
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
                }
                lost => ApiError::internal(lost.to_string()),
            })?
    }
}

/// The submit API's routes.
pub fn router(state: Arc<SubmitState>) -> Router {
    Router::new()
        .route("/v1/records", post(submit_record))
        .route(
            "/v1/records/batch",
            // The inner limit wins over the router-wide one below.
            post(submit_batch).layer(DefaultBodyLimit::max(BATCH_SIZE_BYTES_MAX)),
        )
        .route("/v1/key/rotate", post(rotate_key))
        .route("/v1/status", get(status))
        .fallback(api::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        // Bodies up to the protocol's limit (treaty texts of several MiB), not axum's 2 MB default.
        .layer(DefaultBodyLimit::max(BODY_SIZE_BYTES_MAX))
        .with_state(state)
}

/// Refuses a request without the right `Authorization: Bearer` token, comparing in constant time.
async fn require_token(
    State(state): State<Arc<SubmitState>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let problem = match presented {
        None => "missing bearer token (send Authorization: Bearer <the token in DIR/submit.token>)",
        Some(token) if bool::from(token.as_bytes().ct_eq(state.token.as_bytes())) => {
            return next.run(request).await
        }
        Some(_) => "wrong bearer token (the token changes at every start of the node)",
    };
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, problem).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// `POST /v1/records`: check, sign, append durably, answer `{"id","seq"}`.
async fn submit_record(
    State(state): State<Arc<SubmitState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = request_bytes(body, "the record body", BODY_SIZE_BYTES_MAX)?;
    let body_size_bytes = bytes.len();
    let org = state.org.clone();
    let view = state.governance.current();
    let check = move |store: &Store| {
        policy::check_submission(store, &view, &org, &bytes).map_err(|error| match error {
            PolicyError::Store(error) => ApiError::from(error),
            refused => ApiError::bad_request(refused.to_string()),
        })
    };
    // A small body's checks (a decode and a few point reads of records it names, from sled's
    // cache) take microseconds: done here, they spare one durable append two thread hand-offs
    // (issue 22). A large one (a treaty text of megabytes) goes to the submit pool.
    let body = if body_size_bytes <= INLINE_CHECK_BODY_BYTES_MAX {
        check(&state.store)?
    } else {
        state.blocking(check).await?
    };
    let committed = state
        .writer
        .submit(body, body_size_bytes)
        .await
        .map_err(writer_error)?;
    Ok(Json(json!({ "id": committed.id, "seq": committed.seq })))
}

/// `POST /v1/key/rotate`: new signing key, rotation record signed by the old one; answers
/// `{"id","seq","new_key"}` once the record is durable.
async fn rotate_key(State(state): State<Arc<SubmitState>>) -> Result<Json<Value>, ApiError> {
    let committed = state.writer.rotate_key().await.map_err(writer_error)?;
    Ok(Json(json!({
        "id": committed.id,
        "seq": committed.seq,
        "new_key": committed.new_key,
    })))
}

/// The request body, or the error that names what was too large (`what`, over `limit_bytes`).
fn request_bytes(
    body: Result<Bytes, BytesRejection>,
    what: &str,
    limit_bytes: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{what} is over the {limit_bytes}-byte limit"),
        ),
        status => ApiError::new(
            status,
            format!("cannot read the request body: {}", rejection.body_text()),
        ),
    })
}

fn writer_error(error: SubmitError) -> ApiError {
    match error {
        SubmitError::QueueFull
        | SubmitError::Stopped
        | SubmitError::NotYetDurable(_)
        | SubmitError::SigningPaused(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
        }
        SubmitError::KeyNotValid(_) => ApiError::new(StatusCode::FORBIDDEN, error.to_string()),
        SubmitError::DiskNearlyFull { .. } => {
            ApiError::new(StatusCode::INSUFFICIENT_STORAGE, error.to_string())
        }
        SubmitError::Storage(_) | SubmitError::Internal(_) | SubmitError::Rotation(_) => {
            ApiError::internal(error.to_string())
        }
    }
}

/// A body's submission to the writer, once queued: resolves when the record is durable.
type Queued<'a> = Pin<Box<dyn Future<Output = Result<Committed, SubmitError>> + Send + 'a>>;

/// `POST /v1/records/batch`: check every body, then queue them in order and answer
/// `{"records":[{"id","seq"},…]}` once all are durable.
async fn submit_batch(
    State(state): State<Arc<SubmitState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = request_bytes(body, "the batch", BATCH_SIZE_BYTES_MAX)?;
    let org = state.org.clone();
    let view = state.governance.current();
    // All-or-nothing: every body is decoded and checked before the first is queued.
    let checked = state
        .blocking(move |store| check_batch(store, &view, &org, &bytes))
        .await?;
    let mut queued: Vec<Queued<'_>> = Vec::with_capacity(checked.len());
    for (body, body_size_bytes) in checked {
        queued.push(enqueue(&state.writer, body, body_size_bytes).await?);
    }
    let mut records = Vec::with_capacity(queued.len());
    for submission in queued {
        let committed = submission.await.map_err(writer_error)?;
        records.push(json!({ "id": committed.id, "seq": committed.seq }));
    }
    Ok(Json(json!({ "records": records })))
}

/// Decodes the framing and runs the policy checks on every body; the first failure names its
/// index. References must be to records already stored, not to others in the same batch.
fn check_batch(
    store: &Store,
    view: &GovernanceView,
    org: &str,
    bytes: &[u8],
) -> Result<Vec<(Body, usize)>, ApiError> {
    let bodies = decode_batch(bytes)
        .map_err(|error| ApiError::bad_request(format!("malformed batch: {error}")))?;
    bodies
        .into_iter()
        .enumerate()
        .map(|(index, body_bytes)| {
            policy::check_submission(store, view, org, body_bytes)
                .map(|body| (body, body_bytes.len()))
                .map_err(|error| match error {
                    PolicyError::Store(error) => ApiError::from(error),
                    refused => ApiError::bad_request(format!("body {index}: {refused}")),
                })
        })
        .collect()
}

/// Puts one body in the writer's queue, waiting for room rather than refusing (the batch was
/// accepted whole), and returns the pending answer.
///
/// `Writer::submit` queues its message on its first poll, so polling once here fixes the
/// order of the batch in the queue; the answers are awaited afterwards.
async fn enqueue<'a>(
    writer: &'a Writer,
    body: Body,
    body_size_bytes: usize,
) -> Result<Queued<'a>, ApiError> {
    loop {
        let mut submission: Queued<'a> = Box::pin(writer.submit(body.clone(), body_size_bytes));
        let first_poll =
            std::future::poll_fn(|context| Poll::Ready(submission.as_mut().poll(context))).await;
        match first_poll {
            Poll::Pending => return Ok(submission),
            Poll::Ready(Err(SubmitError::QueueFull)) => tokio::time::sleep(QUEUE_RETRY_DELAY).await,
            Poll::Ready(answer) => return Ok(Box::pin(std::future::ready(answer))),
        }
    }
}

/// `GET /v1/status`: the organisation, network, number of stored records, the chain's head,
/// and whether the writer takes records (with its reason when it does not: the operator's
/// cue to restart the node).
async fn status(State(state): State<Arc<SubmitState>>) -> Result<Json<Value>, ApiError> {
    let org = state.org.clone();
    let (records, head) = state
        .blocking(move |store| Ok((store.record_count()?, store.head(&org)?)))
        .await?;
    let writer_failure = state.writer.failure();
    Ok(Json(json!({
        "org": state.org,
        "network_id": state.store.network_id(),
        "records": records,
        "head": head,
        "accepting_records": writer_failure.is_none(),
        "writer_failure": writer_failure,
        // While a member peer holds more of this organisation's chain (`signing_gate`).
        "signing_paused": state.writer.signing_paused().err(),
        // sled's page cache, as given by --store-cache-mib (the store's memory bound).
        "store_cache_mib": state.store.cache_bytes() >> 20,
        // Below the reserve new records are refused (507) instead of meeting a full disk.
        "disk": {
            "free_bytes": state.store.free_bytes().ok(),
            "free_bytes_min": crate::limits::DISK_FREE_BYTES_MIN,
        },
        "limits": crate::limits::summary(),
    })))
}
