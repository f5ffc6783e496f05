//! What both HTTP APIs share: the JSON error body and running store reads off the async threads.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::limits::RETRY_AFTER_SECONDS;
use aidledger_store::{StoreError, StoreReader};

/// An error answer: a status and `{"error": "…"}` naming the problem.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: nothing there.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 500: the node failed.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::new(status_of(&error), error.to_string())
    }
}

/// The status a store failure answers with: 503 for a read that met a revocation under way
/// (asking again succeeds), 500 for the rest.
pub fn status_of(error: &StoreError) -> StatusCode {
    match error {
        StoreError::ChainChanged { .. } | StoreError::NotYetDurable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    /// A 503 always says when to come back: every 503 of the node is a limit or a state that
    /// passes (a full queue, exports at their cap, a store not yet durable, a scan to redo).
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// Runs a store read on the blocking pool: sled reads may wait for the disk, and a page of
/// records may be megabytes to decode.
pub async fn blocking<T, F>(store: &StoreReader, read: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&StoreReader) -> Result<T, ApiError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || read(&store))
        .await
        .map_err(|error| ApiError::internal(format!("a store read failed: {error}")))?
}

/// 503 with `Retry-After` ([`RETRY_AFTER_SECONDS`]) and `Connection: close`: the node is at
/// one of its limits. Closing frees the connection's slot for someone else (a client that
/// does not read the answer keeps nothing).
pub fn retry_later(message: impl Into<String>) -> Response {
    let mut response = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The answer to an unknown path.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_met_a_revocation_is_503_and_other_failures_500() {
        let changed = StoreError::ChainChanged {
            author: "GB-GOV-1".into(),
            seq: 3,
        };
        assert_eq!(
            ApiError::from(changed).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let corrupt = StoreError::Corrupt("a head is 3 bytes".into());
        assert_eq!(
            ApiError::from(corrupt).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
