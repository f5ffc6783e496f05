//! The public API: read-only views of the network, the chains and the records, the bundle
//! export, and the explorer's pages (`explorer`). Nothing here can write; any method but GET
//! and HEAD is answered 405 (but `POST /genuine`, which carries a text to check and writes
//! nothing).

use std::sync::Arc;

use aidledger_spec::RecordId;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::api::{self, ApiError};
use crate::checkpoints::Checkpoints;
use crate::explorer::cache::{self, ResponseCache, EXPLORER_CACHE_BYTES_MAX};
use crate::governance::Governance;
use crate::view::RecordView;
use crate::{explorer, export, proofs};
use aidledger_store::StoreReader;
use axum::Extension;

/// Records per page when the request names no limit.
pub const PAGE_LIMIT_DEFAULT: usize = 50;
/// Most records per page.
pub const PAGE_LIMIT_MAX: usize = 1000;
/// Most record bytes per page: a page of large treaty texts ends early (at least one record).
pub const PAGE_SIZE_BYTES_MAX: usize = 32 * 1024 * 1024;

const OCTET_STREAM: &str = "application/octet-stream";
/// A record's bytes never change: its id is their hash. Caches may keep them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The public API's routes over a store, without the governance state (`/api/governance`
/// answers 404): for tools and benchmarks that serve a store alone.
pub fn router(store: StoreReader) -> Router {
    routes(store, Router::new(), EXPLORER_CACHE_BYTES_MAX)
}

/// The public API's routes over a store and the node's governance state.
pub fn router_with_governance(store: StoreReader, governance: Arc<Governance>) -> Router {
    router_with_explorer_cache(store, governance, EXPLORER_CACHE_BYTES_MAX)
}

/// [`router_with_governance`] with an explorer response cache of at most `cache_bytes_max`
/// bytes (`explorer::cache`; 0: none, for a benchmark's uncached figure).
pub fn router_with_explorer_cache(
    store: StoreReader,
    governance: Arc<Governance>,
    cache_bytes_max: usize,
) -> Router {
    let governance_routes = Router::new()
        .route("/api/governance", get(governance_state))
        .with_state(governance.clone());
    // The explorer reads members and keys from the governance state, not the genesis alone.
    routes(
        store,
        governance_routes.layer(Extension(governance.clone())),
        cache_bytes_max,
    )
    .layer(Extension(governance))
}

/// The public API of an organisation's node: [`router_with_governance`], and the node's own
/// organisation's checkpoints (`/checkpoint/{org}`, and the checkpoint of `/api/proof/{id}`).
pub fn router_of_node(
    store: StoreReader,
    governance: Arc<Governance>,
    checkpoints: Arc<Checkpoints>,
) -> Router {
    router_with_governance(store, governance).layer(Extension(checkpoints))
}

fn routes(store: StoreReader, extra: Router<StoreReader>, cache_bytes_max: usize) -> Router {
    let cache = ResponseCache::new(store.clone(), cache_bytes_max);
    Router::new()
        .route("/api/genesis.bin", get(genesis))
        .route("/api/network", get(network))
        .route("/api/records/{id}", get(record))
        .route("/api/records/{id}/raw", get(record_raw))
        .route("/api/orgs/{org}/records", get(org_records))
        .route("/api/export", get(export_bundle))
        .merge(proofs::routes())
        .merge(extra)
        .merge(explorer::routes().layer(middleware::from_fn_with_state(cache, cache::serve)))
        .fallback(not_found)
        .layer(middleware::from_fn(read_only))
        .layer(Extension(export::ExportPermits::new()))
        .layer(middleware::from_fn(security_headers))
        .with_state(store)
}

/// The headers every public response carries, pages, API, errors and downloads alike. The
/// pages load nothing from elsewhere: their one style sheet comes from this origin
/// (`explorer.css`), the forms submit here, no other site may frame them (clickjacking) or
/// learn from a link which page a reader came from, and no inline script runs. The two
/// scripts, `/genuine.js` of the "Is this genuine?" page and `/verify.js` of the record pages,
/// come from this origin (`script-src 'self'`); no other page loads one. `/verify.js` reads the
/// record, its proof and the genesis from this origin too (`connect-src 'self'`), never from
/// elsewhere.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

/// Adds [`SECURITY_HEADERS`] to every response, after routing and the read-only check.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// 405 for every method that could change something, before any routing.
async fn read_only(request: Request, next: Next) -> Response {
    // `POST /genuine` writes nothing either: it carries a text to check ("Is this genuine?"
    // without JavaScript), too long for a URL and not to be kept in logs.
    let reads = request.method() == Method::GET
        || request.method() == Method::HEAD
        || (request.method() == Method::POST
            && request.uri().path() == explorer::genuine::GENUINE_PATH);
    if reads {
        return next.run(request).await;
    }
    let message = format!(
        "the public API is read-only: {} is not allowed (use GET or HEAD)",
        request.method()
    );
    let mut response = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message).into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

async fn genesis(State(store): State<StoreReader>) -> Response {
    (
        [(header::CONTENT_TYPE, OCTET_STREAM)],
        store.genesis_bytes().to_vec(),
    )
        .into_response()
}

/// `GET /api/network`: the genesis' members and every member's chain length and head.
async fn network(State(store): State<StoreReader>) -> Result<Json<Value>, ApiError> {
    let chains = api::blocking(&store, |store| {
        let mut chains = Vec::new();
        for member in &store.genesis().members {
            let head = store.head(&member.id)?;
            let length = head.map_or(0, |head| head.seq + 1);
            chains.push(json!({ "org": member.id, "length": length, "head": head }));
        }
        // Chains of members added by governance (see /api/governance for who they are).
        for entry in store.heads() {
            let (author, head) = entry?;
            if store.genesis().member(&author).is_none() {
                chains.push(json!({ "org": author, "length": head.seq + 1, "head": head }));
            }
        }
        Ok(chains)
    })
    .await?;
    let genesis = store.genesis();
    Ok(Json(json!({
        "name": genesis.name,
        "network_id": store.network_id(),
        "created_ms": genesis.created_ms,
        "members": genesis.members,
        "admin_rule": genesis.admin_rule,
        "chains": chains,
    })))
}

/// `GET /api/governance`: the node's current `Derivation` (authority, proposals, findings).
async fn governance_state(State(governance): State<Arc<Governance>>) -> Json<Value> {
    let view = governance.current();
    // A derivation is plain data (strings, numbers, hex ids): it always serialises.
    Json(
        serde_json::to_value(&view.derivation)
            .unwrap_or_else(|error| json!({ "error": error.to_string() })),
    )
}

/// 404 for an unknown path: a JSON error under `/api/`, an HTML page elsewhere.
async fn not_found(State(store): State<StoreReader>, OriginalUri(uri): OriginalUri) -> Response {
    if uri.path().starts_with("/api/") {
        api::not_found().await.into_response()
    } else {
        explorer::not_found_page(&store)
    }
}

fn parse_id(text: &str) -> Result<RecordId, ApiError> {
    RecordId::from_hex(text)
        .map_err(|error| ApiError::bad_request(format!("malformed record id: {error}")))
}

async fn load(store: &StoreReader, id: RecordId) -> Result<Vec<u8>, ApiError> {
    api::blocking(store, move |store| {
        store
            .get(&id)?
            .ok_or_else(|| ApiError::not_found(format!("record {id} not found")))
    })
    .await
}

/// The strong ETag of a record's own bytes: its id.
fn record_etag(id: &RecordId) -> String {
    format!("\"{id}\"")
}

/// 304 when the client already holds this record (its ETag is the id, which never changes).
fn not_modified(headers: &HeaderMap, id: &RecordId) -> Option<Response> {
    let etag = record_etag(id);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    matches.then(|| immutable(StatusCode::NOT_MODIFIED.into_response(), id))
}

fn immutable(mut response: Response, id: &RecordId) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    if let Ok(etag) = HeaderValue::from_str(&record_etag(id)) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// `GET /api/records/{id}`: the record's JSON view.
async fn record(
    State(store): State<StoreReader>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    if let Some(response) = not_modified(&headers, &id) {
        return Ok(response);
    }
    let bytes = load(&store, id).await?;
    let view = RecordView::from_bytes(&bytes)?;
    Ok(immutable(Json(view).into_response(), &id))
}

/// `GET /api/records/{id}/raw`: the record's wire bytes, as a download.
async fn record_raw(
    State(store): State<StoreReader>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    if let Some(response) = not_modified(&headers, &id) {
        return Ok(response);
    }
    let bytes = load(&store, id).await?;
    let disposition = format!("attachment; filename=\"{id}.record\"");
    let mut response = ([(header::CONTENT_TYPE, OCTET_STREAM)], bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(immutable(response, &id))
}

/// The query of a page of a chain.
#[derive(Debug, serde::Deserialize)]
struct PageQuery {
    before_seq: Option<u64>,
    limit: Option<usize>,
}

/// `GET /api/orgs/{org}/records?before_seq=N&limit=L`: newest first, read with a range query
/// that starts at `before_seq`, never from the chain's start.
async fn org_records(
    State(store): State<StoreReader>,
    Path(org): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(PAGE_LIMIT_DEFAULT);
    if limit == 0 || limit > PAGE_LIMIT_MAX {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is not between 1 and {PAGE_LIMIT_MAX}"
        )));
    }
    // Members added by governance are not in the genesis; their stored chain is served too.
    let known = store.genesis().member(&org).is_some() || {
        let author = org.clone();
        api::blocking(&store, move |store| Ok(store.head(&author)?.is_some())).await?
    };
    if !known {
        return Err(ApiError::not_found(format!(
            "organisation {org:?} is not a member of the network"
        )));
    }
    let author = org.clone();
    let records = api::blocking(&store, move |store| {
        read_page(store, &author, query.before_seq, limit)
    })
    .await?;
    // Chains in the store are contiguous from seq 0, so older records exist exactly when the
    // last record shown is not seq 0.
    let next_before_seq = records
        .last()
        .map(|record| record.seq)
        .filter(|seq| *seq > 0);
    Ok(Json(
        json!({ "org": org, "records": records, "next_before_seq": next_before_seq }),
    ))
}

fn read_page(
    store: &StoreReader,
    author: &str,
    before_seq: Option<u64>,
    limit: usize,
) -> Result<Vec<RecordView>, ApiError> {
    let mut views = Vec::new();
    let mut size_bytes = 0;
    for entry in store.chain_newest_first(author, before_seq, limit) {
        let (_, bytes) = entry?;
        size_bytes += bytes.len();
        views.push(RecordView::from_bytes(&bytes)?);
        if size_bytes >= PAGE_SIZE_BYTES_MAX {
            break;
        }
    }
    Ok(views)
}

/// `GET /api/export`: the whole store as a bundle, streamed while it is read; 503 with
/// `Retry-After` when [`crate::limits::EXPORTS_MAX`] exports are running already.
async fn export_bundle(
    State(store): State<StoreReader>,
    Extension(permits): Extension<export::ExportPermits>,
) -> Response {
    let Some(permit) = permits.try_acquire() else {
        let message = format!(
            "{} exports are running already (the most at once); retry later",
            crate::limits::EXPORTS_MAX
        );
        return api::retry_later(message);
    };
    let headers = [
        (header::CONTENT_TYPE, OCTET_STREAM),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"aidledger.bundle\"",
        ),
    ];
    (headers, export::stream_bundle(store, permit)).into_response()
}
