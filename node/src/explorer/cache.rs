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
//! Readers who ask for a page while it is being rendered for the present generation wait for
//! that rendering instead of starting their own (a new record's page shared widely, a popular
//! search after an append: one rendering, not a hundred). If it is not a page to keep (an
//! error, a redirect) each waiting reader renders its own; if a write landed while it rendered
//! (or its reader went away) they look again, and one of them renders for the new generation
//! ([`RENDERING_WAITS_MAX`] times at most).
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
use tokio::sync::watch;

use crate::governance::{Governance, GovernanceView};
use aidledger_store::StoreReader;

/// Most bytes the cache holds (bodies, headers and keys): about 3,000 record pages.
pub const EXPLORER_CACHE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Largest response kept: a long treaty's part or a large table is rendered for each reader
/// rather than crowd out thousands of pages.
pub const EXPLORER_CACHE_ENTRY_BYTES_MAX: usize = 512 * 1024;
/// What an entry costs beyond its key, headers and body (the maps' slots, the header map's
/// structure, the generation's `Arc`), counted against [`EXPLORER_CACHE_BYTES_MAX`].
const ENTRY_OVERHEAD_BYTES: usize = 256;
/// How many renderings a request waits for before it renders the page itself: each one it
/// waited for ended without a page of the present generation (a write landed meanwhile, or
/// its reader went away), and another request took its place.
const RENDERING_WAITS_MAX: usize = 3;
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
    kept: Kept,
    /// The pages being rendered now, by key: at most one a key (and one a request).
    rendering: HashMap<String, Rendering>,
    /// Numbers the renderings, so that one's end never removes a later one of the same key.
    renderings_started: u64,
}

/// The kept responses, all of one generation.
#[derive(Default)]
struct Kept {
    generation: Option<Generation>,
    entries: HashMap<String, Entry>,
    bytes: usize,
}

/// A page being rendered: its readers wait on `done` for how it ended.
struct Rendering {
    generation: Generation,
    number: u64,
    done: watch::Receiver<Rendered>,
}

/// How a rendering ended, for the requests that waited for it.
#[derive(Clone)]
enum Rendered {
    /// Not yet.
    Pending,
    /// Kept: the waiters answer with it.
    Kept(Entry),
    /// Not a page to keep (an error, a redirect, too large, a stream): each waiter renders
    /// its own, at once, as without a cache.
    NotKept,
}

/// What a request does on a miss.
enum Lookup {
    Hit(Entry),
    /// Another request renders the page for this generation.
    Wait(watch::Receiver<Rendered>),
    /// This request renders it (and says so through the guard).
    Render(RenderGuard),
}

/// The rendering of one page by one request: its end (or its request's cancellation) takes
/// it out of [`Held::rendering`]; [`RenderGuard::done`] tells the waiters how it ended. A
/// guard dropped without it (a write landed while it rendered, or its request went away)
/// sends nothing: its waiters look again.
struct RenderGuard {
    cache: Arc<ResponseCache>,
    key: String,
    number: u64,
    done: watch::Sender<Rendered>,
}

impl RenderGuard {
    fn done(&self, rendered: Rendered) {
        // No waiter is not an error.
        let _ = self.done.send(rendered);
    }
}

impl Drop for RenderGuard {
    fn drop(&mut self) {
        let mut held = self.cache.held();
        if held
            .rendering
            .get(&self.key)
            .is_some_and(|rendering| rendering.number == self.number)
        {
            held.rendering.remove(&self.key);
        }
    }
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
        key.len() + headers + self.body.len() + ENTRY_OVERHEAD_BYTES
    }
}

/// What every cached response was computed under (see the module's documentation).
#[derive(Clone)]
struct Generation {
    changes: u64,
    governance: Option<Arc<GovernanceView>>,
    /// The day the explorer's statuses are judged on (`model::today_utc`).
    day: i64,
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
            day: super::model::today_day_number(),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The kept entry, or the rendering to wait for, or a new rendering for this request.
    fn lookup(self: &Arc<Self>, key: &str, generation: &Generation) -> Lookup {
        let mut held = self.held();
        if held.kept.generation.as_ref() == Some(generation) {
            if let Some(entry) = held.kept.entries.get(key) {
                return Lookup::Hit(entry.clone());
            }
        }
        if let Some(rendering) = held.rendering.get(key) {
            if rendering.generation == *generation {
                return Lookup::Wait(rendering.done.clone());
            }
        }
        held.renderings_started += 1;
        let number = held.renderings_started;
        let (done, waiting) = watch::channel(Rendered::Pending);
        held.rendering.insert(
            key.to_owned(),
            Rendering {
                generation: generation.clone(),
                number,
                done: waiting,
            },
        );
        Lookup::Render(RenderGuard {
            cache: Arc::clone(self),
            key: key.to_owned(),
            number,
            done,
        })
    }

    /// Keeps `entry`, rendered under `generation`, if that is still the present one (looked
    /// at under the cache's lock, so that an entry of an older generation never replaces the
    /// kept ones of a newer). Returns whether it was kept.
    fn keep(
        &self,
        key: String,
        entry: Entry,
        generation: Generation,
        governance: Option<&Arc<Governance>>,
    ) -> bool {
        let size_bytes = entry.size_bytes(&key);
        if size_bytes > self.bytes_max {
            return false;
        }
        let mut held = self.held();
        if self.generation(governance) != generation {
            return false;
        }
        let kept = &mut held.kept;
        if kept.generation.as_ref() != Some(&generation) {
            *kept = Kept {
                generation: Some(generation),
                ..Kept::default()
            };
        }
        if kept.bytes + size_bytes > self.bytes_max {
            kept.entries.clear();
            kept.bytes = 0;
        }
        kept.bytes += size_bytes;
        if let Some(replaced) = kept.entries.insert(key.clone(), entry) {
            kept.bytes = kept.bytes.saturating_sub(replaced.size_bytes(&key));
        }
        true
    }
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
    let mut waits = 0;
    let (guard, before) = loop {
        let before = cache.generation(governance.as_ref());
        match cache.lookup(&key, &before) {
            Lookup::Hit(entry) => return answer_from(entry, request.headers()),
            Lookup::Render(guard) => break (guard, before),
            Lookup::Wait(done) => match rendering_ended(done).await {
                Rendered::Kept(entry) => return answer_from(entry, request.headers()),
                Rendered::NotKept => return marked(next.run(request).await, "miss"),
                // Ended without a page of its generation: look again (a new generation's
                // rendering, or this request's own), a few times at most.
                Rendered::Pending if waits < RENDERING_WAITS_MAX => waits += 1,
                Rendered::Pending => return marked(next.run(request).await, "miss"),
            },
        }
    };
    let response = next.run(request).await;
    let keep = response.status() == StatusCode::OK
        && response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|size| size <= EXPLORER_CACHE_ENTRY_BYTES_MAX as u64);
    if !keep {
        guard.done(Rendered::NotKept);
        return marked(response, "miss");
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, EXPLORER_CACHE_ENTRY_BYTES_MAX).await else {
        guard.done(Rendered::NotKept);
        return marked(StatusCode::INTERNAL_SERVER_ERROR.into_response(), "miss");
    };
    let entry = Entry {
        status: parts.status,
        headers: parts.headers.clone(),
        // A copy of exactly its length: the rendered body's buffer may have more capacity than
        // length (a page reserves 16 KB; a grown buffer up to twice its length), which the
        // count of kept bytes would not see.
        body: Bytes::copy_from_slice(&body),
    };
    if cache.keep(key, entry.clone(), before, governance.as_ref()) {
        guard.done(Rendered::Kept(entry));
    }
    marked(Response::from_parts(parts, Body::from(body)), "miss")
}

/// How the rendering a request waited for ended: [`Rendered::Pending`] when it ended without
/// saying (a write landed while it rendered, or its request went away).
async fn rendering_ended(mut done: watch::Receiver<Rendered>) -> Rendered {
    // Said already (the receiver was cloned after the end), or wait for it.
    let said = done.borrow_and_update().clone();
    if !matches!(said, Rendered::Pending) {
        return said;
    }
    match done.changed().await {
        Ok(()) => done.borrow().clone(),
        Err(_) => Rendered::Pending,
    }
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
