//! The explorer: server-rendered HTML pages of the network (no JavaScript needed) and the same
//! data as JSON under `/api/…`, served read-only on the node's public listener.
//!
//! | HTML | JSON | what |
//! |---|---|---|
//! | `/` | `/api/home` | network, members, chains, verification state, latest records |
//! | `/org/{org}?before_seq=N` | `/api/org/{org}?before_seq=N` | a chain page, newest first, and totals |
//! | `/record/{id}` | `/api/record/{id}` | a record, full id or unique hex prefix |
//! | `/activity/{id}?after=C` | `/api/activity/{id}?after=C` | an IATI activity |
//! | `/treaty/{id}?lang=L&part=N` | `/api/treaty/{id}?lang=L&part=N` | a treaty text (part N of language L, part 1 of the others), parties and their actions |
//! | `/search?q=&page=N` | `/api/search?q=&page=N` | organisations (members, and names and ids in records), activity ids (beginning or any segment), titles and descriptions, places, statement and treaty titles, record id prefixes: ranked, paged |
//! | `/governance` | `/api/governance` | admin rule, members' keys and the positions each may sign, proposals |
//! | `/genuine?sha256=&normalised=&org=`, `POST /genuine` | `/api/genuine?sha256=&normalised=&org=` | "Is this genuine?": which records signed a text, or the nearest signed statement (`genuine.rs`) |
//!
//! A record page loads one script, `/verify.js` (`verify.js`): with JavaScript on it checks the
//! record, its inclusion proof and its author's checkpoint with WebCrypto in the reader's
//! browser; without it the page is unchanged.
//!
//! Downloads (`csv.rs`): every table as CSV under `/csv` + the page's path
//! (`?table=NAME`), and `/treaty/{id}/text/{language}`, a treaty text as signed.
//!
//! `model` reads (bounded, from the store and `index`), `pages` renders HTML, this file maps
//! URLs and errors: a bad id is 400, an unknown one 404, and only a store failure is 500.

pub mod cache;
pub mod chart;
pub mod csv;
pub mod follower;
pub mod genuine;
pub mod hook;
pub mod html;
pub mod index;
pub mod model;
pub mod pages;
mod record_http;
pub mod table;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html as HtmlBody, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::governance::{Governance, GovernanceView};
use aidledger_spec::governance::{Authority, Derivation};
use aidledger_store::StoreReader;
use axum::Extension;
use html::url_component;
use model::Problem;
pub(crate) use record_http::not_modified;
use record_http::{base_url, cached};

/// How long browsers and caches may reuse a record page before revalidating its ETag: the
/// record never changes, but the page also lists later records that acknowledge or correct it.
pub const RECORD_PAGE_MAX_AGE_S: u32 = 60;

/// The explorer's routes (HTML and JSON), to merge into the public router.
pub fn routes() -> Router<StoreReader> {
    Router::new()
        .route("/", get(home_html))
        .route(html::STYLESHEET_PATH, get(stylesheet))
        .route(pages::VERIFY_SCRIPT_PATH, get(verify_script))
        .route("/org/{org}", get(org_html))
        .route("/record/{id}", get(record_html))
        .route("/activity/{activity}", get(activity_html))
        .route("/treaty/{id}", get(treaty_html))
        .route("/search", get(search_html))
        .route("/governance", get(governance_html))
        .route("/api/home", get(home_json))
        .route("/api/org/{org}", get(org_json))
        .route("/api/record/{id}", get(record_json))
        .route("/api/activity/{activity}", get(activity_json))
        .route("/api/treaty/{id}", get(treaty_json))
        .route("/api/search", get(search_json))
        .merge(csv::routes())
        .merge(genuine::routes())
}

/// The pages' style sheet. It changes only with the node's version: an hour of caching
/// spares a request per page without keeping an old style for long after an upgrade.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::STYLE,
    )
        .into_response()
}

/// The record page's script (`verify.js`); like the style sheet it changes only with the
/// node's version.
async fn verify_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::VERIFY_SCRIPT,
    )
        .into_response()
}

/// How a failed page answers: HTML for pages, `{"error"}` JSON for the API.
#[derive(Clone, Copy)]
enum Format {
    Html,
    Json,
}

struct Failure {
    format: Format,
    problem: Problem,
    network_name: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = match &self.problem {
            Problem::BadRequest(_) | Problem::Ambiguous { .. } => StatusCode::BAD_REQUEST,
            Problem::NotFound(_) => StatusCode::NOT_FOUND,
            Problem::Store(error) => crate::api::status_of(error),
        };
        if let (Format::Html, Problem::Ambiguous { prefix, .. }) = (self.format, &self.problem) {
            return Redirect::to(&format!("/search?q={}", url_component(prefix))).into_response();
        }
        let message = self.problem.to_string();
        match self.format {
            Format::Json => (status, Json(serde_json::json!({ "error": message }))).into_response(),
            Format::Html => {
                let page = pages::error(status.as_u16(), &message, &self.network_name);
                (status, HtmlBody(page)).into_response()
            }
        }
    }
}

/// Runs a read on the blocking pool (sled reads may wait for the disk).
async fn read<T, F>(store: &StoreReader, format: Format, read: F) -> Result<T, Failure>
where
    T: Send + 'static,
    F: FnOnce(&StoreReader) -> Result<T, Problem> + Send + 'static,
{
    let failure = |problem| Failure {
        format,
        problem,
        network_name: store.genesis().name.clone(),
    };
    let shared = store.clone();
    match tokio::task::spawn_blocking(move || read(&shared)).await {
        Ok(result) => result.map_err(failure),
        Err(error) => Err(failure(Problem::Store(aidledger_store::StoreError::Io(
            std::io::Error::other(error.to_string()),
        )))),
    }
}

fn query<T>(
    store: &StoreReader,
    format: Format,
    query: Result<Query<T>, QueryRejection>,
) -> Result<T, Failure> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| Failure {
            format,
            problem: Problem::BadRequest(rejection.body_text()),
            network_name: store.genesis().name.clone(),
        })
}

#[derive(Debug, serde::Deserialize)]
struct OrgQuery {
    before_seq: Option<u64>,
}

#[derive(Debug, serde::Deserialize)]
struct ActivityQuery {
    after: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct TreatyQuery {
    lang: Option<String>,
    part: Option<usize>,
}

#[derive(Debug, serde::Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    /// The page of results, from 1.
    page: Option<usize>,
}

/// The node's governance state, when the router was given one (a node always is; a bare
/// store served by a tool is judged by its genesis alone).
type MaybeGovernance = Option<Extension<Arc<Governance>>>;

/// The governance derivation pages are read under.
#[derive(Clone)]
enum Governed {
    Node(Arc<GovernanceView>),
    GenesisOnly(Arc<Derivation>),
}

impl Governed {
    fn of(governance: &MaybeGovernance, store: &StoreReader) -> Governed {
        match governance {
            Some(Extension(governance)) => Governed::Node(governance.current()),
            None => Governed::GenesisOnly(Arc::new(aidledger_spec::governance::derive(
                store.genesis(),
                &[],
            ))),
        }
    }

    fn derivation(&self) -> &Derivation {
        match self {
            Governed::Node(view) => &view.derivation,
            Governed::GenesisOnly(derivation) => derivation,
        }
    }

    fn authority(&self) -> &Authority {
        &self.derivation().authority
    }
}

async fn home_page(
    store: &StoreReader,
    governance: &MaybeGovernance,
    format: Format,
) -> Result<model::Home, Failure> {
    let governed = Governed::of(governance, store);
    read(store, format, move |store| {
        model::home(store, governed.authority())
    })
    .await
}

async fn home_html(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
) -> Result<Response, Failure> {
    let home = home_page(&store, &governance, Format::Html).await?;
    Ok(HtmlBody(pages::home(&home)).into_response())
}

async fn home_json(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
) -> Result<Response, Failure> {
    Ok(Json(home_page(&store, &governance, Format::Json).await?).into_response())
}

async fn governance_html(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
) -> Response {
    let governed = Governed::of(&governance, &store);
    HtmlBody(pages::governance(
        governed.derivation(),
        &store.genesis().name,
    ))
    .into_response()
}

async fn org_page(
    store: &StoreReader,
    governance: &MaybeGovernance,
    format: Format,
    org: String,
    page: Result<Query<OrgQuery>, QueryRejection>,
) -> Result<model::OrgPage, Failure> {
    let before_seq = query(store, format, page)?.before_seq;
    let governed = Governed::of(governance, store);
    read(store, format, move |store| {
        model::org_page(store, governed.authority(), &org, before_seq)
    })
    .await
}

async fn org_html(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    Path(org): Path<String>,
    page: Result<Query<OrgQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let page = org_page(&store, &governance, Format::Html, org, page).await?;
    Ok(HtmlBody(pages::org(&page, &store.genesis().name)).into_response())
}

async fn org_json(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    Path(org): Path<String>,
    page: Result<Query<OrgQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    Ok(Json(org_page(&store, &governance, Format::Json, org, page).await?).into_response())
}

/// A record page, or a redirect from a prefix to the full id's page.
enum Resolved<T> {
    Page(T),
    Redirect(String),
    /// The record is held withheld: its content was redacted (FORMAT.md §27).
    Redacted(Box<model::RedactedPage>),
}

async fn record_page(
    store: &StoreReader,
    governance: &MaybeGovernance,
    format: Format,
    text: String,
    base: &'static str,
) -> Result<Resolved<model::RecordPage>, Failure> {
    let governed = Governed::of(governance, store);
    // Read on the request's own task (the hop to the blocking pool, and a heap per pool
    // thread, cost a record page more than its reads; BENCHMARKS.md).
    // The record is read once, and the page built from what was read; a prefix (or an id not
    // written as pages write ids) redirects to the full id's page.
    let read_page = || {
        let held = match model::addressed_record(store, &text)? {
            model::Addressed::Held(held) => held,
            model::Addressed::Other(id) => return Ok(Resolved::Redirect(format!("{base}{id}"))),
        };
        if let Some(page) = model::redacted_page_of(store, &held)? {
            return Ok(Resolved::Redacted(Box::new(page)));
        }
        model::record_page_of(store, governed.authority(), held).map(Resolved::Page)
    };
    read_page().map_err(|problem| Failure {
        format,
        problem,
        network_name: store.genesis().name.clone(),
    })
}

async fn record_html(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    match record_page(&store, &governance, Format::Html, id, "/record/").await? {
        Resolved::Redirect(to) => Ok(Redirect::to(&to).into_response()),
        Resolved::Redacted(page) => {
            Ok(HtmlBody(pages::redacted(&page, &store.genesis().name)).into_response())
        }
        Resolved::Page(page) => {
            let base_url = base_url(&headers);
            Ok(cached(&headers, &page, &base_url, || {
                HtmlBody(pages::record(&page, &store.genesis().name, &base_url)).into_response()
            }))
        }
    }
}

async fn record_json(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    match record_page(&store, &governance, Format::Json, id, "/api/record/").await? {
        Resolved::Redirect(to) => Ok(Redirect::to(&to).into_response()),
        Resolved::Redacted(page) => Ok(Json(&*page).into_response()),
        Resolved::Page(page) => Ok(cached(&headers, &page, "", || Json(&page).into_response())),
    }
}

async fn activity_page(
    store: &StoreReader,
    format: Format,
    activity: String,
    page: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<model::ActivityPage, Failure> {
    let after = query(store, format, page)?.after;
    read(store, format, move |store| {
        model::activity_page(store, &activity, after.as_deref())
    })
    .await
}

async fn activity_html(
    State(store): State<StoreReader>,
    Path(activity): Path<String>,
    page: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let page = activity_page(&store, Format::Html, activity, page).await?;
    Ok(HtmlBody(pages::activity(&page, &store.genesis().name)).into_response())
}

async fn activity_json(
    State(store): State<StoreReader>,
    Path(activity): Path<String>,
    page: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    Ok(Json(activity_page(&store, Format::Json, activity, page).await?).into_response())
}

async fn treaty_page(
    store: &StoreReader,
    format: Format,
    text: String,
    base: &'static str,
    shown: Result<Query<TreatyQuery>, QueryRejection>,
) -> Result<Resolved<model::TreatyPage>, Failure> {
    let shown = query(store, format, shown)?;
    let shown = model::TextPart {
        lang: shown.lang,
        part: shown.part,
    };
    read(store, format, move |store| {
        let id = model::resolve_id(store, &text)?;
        if id.to_hex() != text {
            return Ok(Resolved::Redirect(format!("{base}{}", id.to_hex())));
        }
        if let Some(page) = model::redacted_page(store, &id)? {
            return Ok(Resolved::Redacted(Box::new(page)));
        }
        model::treaty_page(store, &id, &shown).map(Resolved::Page)
    })
    .await
}

fn resolved<T, F>(resolved: Resolved<T>, render: F) -> Response
where
    F: FnOnce(&T) -> Response,
{
    match resolved {
        Resolved::Redirect(to) => Redirect::to(&to).into_response(),
        // Its texts are gone: the record's page says who withheld them and why.
        Resolved::Redacted(page) => {
            Redirect::to(&format!("/record/{}", page.id.to_hex())).into_response()
        }
        Resolved::Page(page) => render(&page),
    }
}

async fn treaty_html(
    State(store): State<StoreReader>,
    Path(id): Path<String>,
    shown: Result<Query<TreatyQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let page = treaty_page(&store, Format::Html, id, "/treaty/", shown).await?;
    Ok(resolved(page, |page| {
        HtmlBody(pages::treaty(page, &store.genesis().name)).into_response()
    }))
}

async fn treaty_json(
    State(store): State<StoreReader>,
    Path(id): Path<String>,
    shown: Result<Query<TreatyQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let page = treaty_page(&store, Format::Json, id, "/api/treaty/", shown).await?;
    Ok(resolved(page, |page| Json(page).into_response()))
}

async fn search_results(
    store: &StoreReader,
    governance: &MaybeGovernance,
    format: Format,
    search: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<model::SearchResults, Failure> {
    let SearchQuery { q: text, page } = query(store, format, search)?;
    let governed = Governed::of(governance, store);
    read(store, format, move |store| {
        model::search(store, governed.authority(), &text, page.unwrap_or(1))
    })
    .await
}

async fn search_html(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    search: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let results = search_results(&store, &governance, Format::Html, search).await?;
    Ok(HtmlBody(pages::search(&results, &store.genesis().name)).into_response())
}

async fn search_json(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    search: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    Ok(Json(search_results(&store, &governance, Format::Json, search).await?).into_response())
}

/// The HTML 404 page for an unknown path outside `/api/`.
pub fn not_found_page(store: &StoreReader) -> Response {
    let page = pages::error(
        404,
        "There is no page at this address.",
        &store.genesis().name,
    );
    (StatusCode::NOT_FOUND, HtmlBody(page)).into_response()
}
