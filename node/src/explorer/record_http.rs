//! HTTP around a record page: its strong ETag, the answer to a conditional request, its
//! `Cache-Control`, and the node's address as the reader reached it (the page's citation and
//! commands name it). The explorer's response cache (`cache.rs`) answers conditional
//! requests with the same [`not_modified`].

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

use aidledger_spec::ids::lower_hex;

use super::{model, RECORD_PAGE_MAX_AGE_S};

/// A strong ETag over everything a record page shows that can change: the next record, the
/// records acknowledging or correcting it, and its link (the record itself never changes).
fn record_etag(page: &model::RecordPage, base_url: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(page.record.id.0);
    // The headline names organisations and the activity by their current names and title;
    // the page's citation and commands name the address it was reached at.
    hash.update(page.headline.as_bytes());
    hash.update(page.status.as_bytes());
    hash.update(base_url.as_bytes());
    // A revocation changes what the page says about the record.
    hash.update([u8::from(page.validity.valid)]);
    // The link's status and sides change with records of other chains.
    if let Some(link) = &page.link {
        hash.update(link.text.as_bytes());
        for entry in link.provider.iter().chain(&link.receiver) {
            hash.update(entry.record.0);
            hash.update(entry.amount.as_bytes());
            hash.update([u8::from(entry.withdrawn)]);
        }
    }
    hash.update(page.link_note.as_deref().unwrap_or_default().as_bytes());
    for id in page.chain.next.iter().chain(
        page.acknowledged_by
            .iter()
            .chain(&page.corrected_by)
            .map(|summary| &summary.id),
    ) {
        hash.update(id.0);
    }
    format!("\"{}\"", lower_hex(&hash.finalize()[..16]))
}

/// Written where the request's Host header cannot be used (missing, or not a plain
/// `host[:port]`) in the commands a record page gives.
const UNKNOWN_BASE_URL: &str = "http://THIS-NODE:PORT";

/// This node's address as the reader reached it (`http://` and the Host header), for a record
/// page's citation and its commands; only a plain `host[:port]` (letters, digits, `.-:[]`)
/// is used, never other text a client sends.
pub(super) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
    match host {
        Some(host) => format!("http://{host}"),
        None => UNKNOWN_BASE_URL.to_owned(),
    }
}

/// Whether the request's `If-None-Match` holds `etag` (or `*`).
pub(crate) fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
}

fn with_cache(mut response: Response, etag: &str, cache_control: &str) -> Response {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(cache_control) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

pub(super) fn cached<F>(
    headers: &HeaderMap,
    page: &model::RecordPage,
    base_url: &str,
    body: F,
) -> Response
where
    F: FnOnce() -> Response,
{
    let etag = record_etag(page, base_url);
    let cache_control = format!("public, max-age={RECORD_PAGE_MAX_AGE_S}");
    if not_modified(headers, &etag) {
        return with_cache(
            StatusCode::NOT_MODIFIED.into_response(),
            &etag,
            &cache_control,
        );
    }
    with_cache(body(), &etag, &cache_control)
}
