//! The submit API: the organisation's only way to write, on loopback, behind a bearer token.

use std::sync::Arc;

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
use crate::policy::{self, PolicyError};
use crate::store::Store;
use crate::writer::{SubmitError, Writer};

/// What the submit handlers share.
pub struct SubmitState {
    /// The store (for policy checks and status).
    pub store: Arc<Store>,
    /// The chain's writer.
    pub writer: Arc<Writer>,
    /// This node's organisation.
    pub org: String,
    /// The bearer token of this run.
    pub token: String,
}

/// The submit API's routes.
pub fn router(state: Arc<SubmitState>) -> Router {
    Router::new()
        .route("/v1/records", post(submit_record))
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
    let bytes = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the record body is over the {BODY_SIZE_BYTES_MAX}-byte limit"),
        ),
        status => ApiError::new(
            status,
            format!("cannot read the request body: {}", rejection.body_text()),
        ),
    })?;
    let body_size_bytes = bytes.len();
    let org = state.org.clone();
    let body = api::blocking(&state.store, move |store| {
        policy::check_submission(store, &org, &bytes).map_err(|error| match error {
            PolicyError::Store(error) => ApiError::from(error),
            refused => ApiError::bad_request(refused.to_string()),
        })
    })
    .await?;
    let committed =
        state
            .writer
            .submit(body, body_size_bytes)
            .await
            .map_err(|error| match error {
                SubmitError::QueueFull | SubmitError::Stopped => {
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
                }
                SubmitError::Storage(_) | SubmitError::Internal(_) => {
                    ApiError::internal(error.to_string())
                }
            })?;
    Ok(Json(json!({ "id": committed.id, "seq": committed.seq })))
}

/// `GET /v1/status`: the organisation, network, number of stored records and the chain's head.
async fn status(State(state): State<Arc<SubmitState>>) -> Result<Json<Value>, ApiError> {
    let org = state.org.clone();
    let (records, head) = api::blocking(&state.store, move |store| {
        Ok((store.record_count()?, store.head(&org)?))
    })
    .await?;
    Ok(Json(json!({
        "org": state.org,
        "network_id": state.store.network_id(),
        "records": records,
        "head": head,
    })))
}
