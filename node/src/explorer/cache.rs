//! The explorer's response cache: a page (or its JSON, or a CSV table) rendered once is served
//! again, byte for byte, until anything it could show may have changed.
//!
//! Why: under a hundred readers every page's latency is queueing behind the others' CPU
//! (BENCHMARKS.md, issue 20), and most readers read the same pages (the home page, the newest
//! records, a record being shared, a popular search). A hit costs a hash-map lookup and a
//! reference count; a miss renders as before.
//!
//! When an entry may be served — its *generation* is the present one:
//! - the store's change count ([`StoreReader::changes`]): bumped after every committed write a
//!   reader can see (appends, the index follower's chunks, revocations, redactions, pending
//!   records, proofs, checkpoints, split views);
//! - the node's governance view, by identity (a new view is a new `Arc`; an entry keeps its
//!   view alive, so no later view can reuse its address): names, members and keys come from it,
//!   and it is derived after the governance records are appended;
//! - today's date in UTC (a link older than the acknowledgement window becomes a finding).
//!
//! A response is kept only when its generation was the present one both before the handler
//! ran and after it answered: then nothing it read changed while it read. The cache holds one
//! generation at a time: the first entry of a new generation drops every older one. Bounded by
//! [`EXPLORER_CACHE_BYTES_MAX`] (bodies, headers and keys), with each entry at most
//! [`EXPLORER_CACHE_ENTRY_BYTES_MAX`]; when a new entry does not fit, the cache is emptied
//! (simple, and a flood of distinct URLs costs only what an uncached explorer costs).
//!
//! Only `GET`s answered 200 with a body of known size are kept (never errors, redirects or
//! streams); the key is the Host header (record pages name the address they were reached at)
//! and the whole URI. A conditional request on a hit is answered 304 from the entry's ETag.
//! Every response says `x-explorer-cache: hit` or `miss`. The security headers are added
//! outside this layer, on hits as on misses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::governance::{Governance, GovernanceView};
use aidledger_store::StoreReader;

/// Most bytes the cache holds (bodies, headers and keys): about 3,000 record pages.
pub const EXPLORER_CACHE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Largest response kept: a long treaty's part or a large table is rendered for each reader
/// rather than crowd out thousands of pages.
pub const EXPLORER_CACHE_ENTRY_BYTES_MAX: usize = 512 * 1024;
/// The header that says whether a response came from the cache.
pub const CACHE_HEADER: HeaderName = HeaderName::from_static("x-explorer-cache");

/// The cache of one public router, over its store.
pub struct ResponseCache {
    store: StoreReader,
    /// 0 turns the cache off (a benchmark's uncached figure).
    bytes_max: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    generation: Option<Generation>,
    entries: HashMap<String, Entry>,
    bytes: usize,
}

#[derive(Clone)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Entry {
    fn size_bytes(&self, key: &str) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        key.len() + headers + self.body.len()
    }
}

/// What every cached response was computed under (see the module's documentation).
#[derive(Clone)]
struct Generation {
    changes: u64,
    governance: Option<Arc<GovernanceView>>,
    day: u64,
}

impl PartialEq for Generation {
    fn eq(&self, other: &Generation) -> bool {
        let same_view = match (&self.governance, &other.governance) {
            (Some(ours), Some(theirs)) => Arc::ptr_eq(ours, theirs),
            (None, None) => true,
            _ => false,
        };
        self.changes == other.changes && self.day == other.day && same_view
    }
}

impl ResponseCache {
    /// A cache of at most `bytes_max` bytes over `store` (0: none).
    pub fn new(store: StoreReader, bytes_max: usize) -> Arc<ResponseCache> {
        Arc::new(ResponseCache {
            store,
            bytes_max,
            held: Mutex::new(Held::default()),
        })
    }

    fn generation(&self, governance: Option<&Arc<Governance>>) -> Generation {
        Generation {
            changes: self.store.changes(),
            governance: governance.map(|governance| governance.current()),
            day: today_day_number(),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str, generation: &Generation) -> Option<Entry> {
        let held = self.held();
        if held.generation.as_ref() != Some(generation) {
            return None;
        }
        held.entries.get(key).cloned()
    }

    fn put(&self, key: String, entry: Entry, generation: Generation) {
        let size_bytes = entry.size_bytes(&key);
        let mut held = self.held();
        if held.generation.as_ref() != Some(&generation) {
            *held = Held {
                generation: Some(generation),
                ..Held::default()
            };
        }
        if held.bytes + size_bytes > self.bytes_max {
            held.entries.clear();
            held.bytes = 0;
        }
        held.bytes += size_bytes;
        if let Some(replaced) = held.entries.insert(key.clone(), entry) {
            held.bytes = held.bytes.saturating_sub(replaced.size_bytes(&key));
        }
    }
}

/// Days since 1970-01-01 in UTC.
fn today_day_number() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() / 86_400)
}

/// The middleware: answers from the cache, or runs the explorer and keeps what it may.
pub async fn serve(
    State(cache): State<Arc<ResponseCache>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || cache.bytes_max == 0 {
        return next.run(request).await;
    }
    let governance = request.extensions().get::<Arc<Governance>>().cloned();
    let key = cache_key(&request);
    let before = cache.generation(governance.as_ref());
    if let Some(entry) = cache.get(&key, &before) {
        return answer_from(entry, request.headers());
    }
    let response = next.run(request).await;
    let keep = response.status() == StatusCode::OK
        && response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|size| size <= EXPLORER_CACHE_ENTRY_BYTES_MAX as u64);
    if !keep {
        return marked(response, "miss");
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, EXPLORER_CACHE_ENTRY_BYTES_MAX).await else {
        return marked(StatusCode::INTERNAL_SERVER_ERROR.into_response(), "miss");
    };
    let entry = Entry {
        status: parts.status,
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    if cache.generation(governance.as_ref()) == before {
        cache.put(key, entry, before);
    }
    marked(Response::from_parts(parts, Body::from(body)), "miss")
}

/// The key of a request: the Host header it came with, and its path and query.
fn cache_key(request: &Request) -> String {
    let host = request
        .headers()
        .get(header::HOST)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let mut key = String::from_utf8_lossy(host).into_owned();
    key.push('\n');
    key.push_str(
        request
            .uri()
            .path_and_query()
            .map_or("/", |path| path.as_str()),
    );
    key
}

/// A cached entry as the response to a request: 304 when the request already holds its ETag.
fn answer_from(entry: Entry, request_headers: &HeaderMap) -> Response {
    let held_etag = entry
        .headers
        .get(header::ETAG)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|etag| super::not_modified(request_headers, etag));
    if held_etag {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::ETAG, header::CACHE_CONTROL] {
            if let Some(value) = entry.headers.get(&name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
        return marked(response, "hit");
    }
    let mut response = Response::new(Body::from(entry.body));
    *response.status_mut() = entry.status;
    *response.headers_mut() = entry.headers;
    marked(response, "hit")
}

fn marked(mut response: Response, how: &'static str) -> Response {
    response
        .headers_mut()
        .insert(CACHE_HEADER, HeaderValue::from_static(how));
    response
}
