//! Every table the explorer shows, as a CSV download. One URL scheme: `/csv` followed by the
//! page's own path, its own query, and `table=NAME` (the home page's tables are under `/csv`
//! alone):
//!
//! | page | its tables' CSV |
//! |---|---|
//! | `/` | `/csv?table=members` (`latest`) |
//! | `/governance` | `/csv/governance?table=keys` (`proposals`) |
//! | `/org/{org}?before_seq=N` | `/csv/org/{org}?before_seq=N&table=records` (`totals`, `others`, `others-by-org`) |
//! | `/activity/{id}?after=C` | `/csv/activity/{id}?after=C&table=transactions` (`own`, `own-by-org`, `others`, `others-by-org`, `findings`, `links`, `commitments`) |
//! | `/treaty/{id}` | `/csv/treaty/{id}?table=parties` |
//!
//! A download is built from the same model values and the same rows (`table/`) as the
//! table on the page, so it holds what the page shows, bounded as the page is: the signed
//! amount text (`125000.00`, no grouping), full record and organisation ids (and names beside
//! them). `text/csv; charset=utf-8`, an attachment with a file name saying what it holds.
//!
//! The other download of a page lives here too: `/treaty/{id}/text/{language}`, one language
//! version of a treaty text, exactly the signed bytes, as `text/plain; charset=utf-8`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::html::url_component;
use super::model::{self, Problem};
use super::table::{self, Table};
use super::{query, read, Failure, Format, Governed, MaybeGovernance};
use aidledger_store::StoreReader;

/// The CSV download routes, to merge into the explorer's.
pub fn routes() -> Router<StoreReader> {
    Router::new()
        .route("/csv", get(home_csv))
        .route("/csv/", get(home_csv))
        .route("/csv/governance", get(governance_csv))
        .route("/csv/org/{org}", get(org_csv))
        .route("/csv/activity/{activity}", get(activity_csv))
        .route("/csv/treaty/{id}", get(treaty_csv))
        .route("/treaty/{id}/text/{language}", get(treaty_text))
}

/// The download URL of table `table` of the page at `page_path` with `page_query` (its own
/// query parameters, so a download holds the same page of rows).
pub fn href(page_path: &str, page_query: &[(&str, String)], table: &str) -> String {
    let mut href = format!("/csv{page_path}?");
    for (name, value) in page_query {
        href.push_str(name);
        href.push('=');
        href.push_str(&url_component(value));
        href.push('&');
    }
    href.push_str("table=");
    href.push_str(&url_component(table));
    href
}

/// `tables` as CSV bytes: the header, then one record per row.
pub fn write(table: &Table) -> Result<Vec<u8>, ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(table.csv_header())?;
    for row in &table.rows {
        let fields: Vec<String> = row.iter().flat_map(table::Cell::csv_fields).collect();
        writer.write_record(&fields)?;
    }
    writer
        .into_inner()
        .map_err(|error| ::csv::Error::from(error.into_error()))
}

/// A file name of letters, digits, `.`, `-` and `_` only (no quoting needed in a header):
/// anything else becomes `_`.
pub fn file_name(parts: &[&str], extension: &str) -> String {
    let mut name: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.push('.');
    name.push_str(extension);
    name
}

/// A download: `body` as an attachment named `file_name`.
pub fn attachment(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The response for `table` of the page named by `parts`.
fn respond(table: &Table, parts: &[&str]) -> Response {
    match write(table) {
        Ok(body) => {
            let mut name_parts = parts.to_vec();
            name_parts.push(table.name);
            attachment(
                "text/csv; charset=utf-8",
                &file_name(&name_parts, "csv"),
                body,
            )
        }
        // Writing to memory fails only on a bug; say so rather than send half a file.
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// The table named `name` among `tables`, or 404 naming the page's tables.
fn pick(tables: Vec<Table>, name: &str) -> Result<Table, Problem> {
    let names: Vec<&'static str> = tables.iter().map(|table| table.name).collect();
    tables
        .into_iter()
        .find(|table| table.name == name)
        .ok_or_else(|| {
            Problem::NotFound(format!(
                "this page has no table {name:?}; its tables are {}",
                names.join(", ")
            ))
        })
}

fn failure(store: &StoreReader, problem: Problem) -> Failure {
    Failure {
        format: Format::Html,
        problem,
        network_name: store.genesis().name.clone(),
    }
}

#[derive(Debug, serde::Deserialize)]
struct TableQuery {
    #[serde(default)]
    table: String,
}

async fn home_csv(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    params: Result<Query<TableQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Html, params)?;
    let governed = Governed::of(&governance, &store);
    let home = read(&store, Format::Html, move |store| {
        model::home(store, governed.authority())
    })
    .await?;
    let tables = vec![
        table::members(&home),
        table::records("latest", &home.latest, Some(&home.members)),
    ];
    let table = pick(tables, &params.table).map_err(|problem| failure(&store, problem))?;
    Ok(respond(&table, &["home"]))
}

async fn governance_csv(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    params: Result<Query<TableQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Html, params)?;
    let governed = Governed::of(&governance, &store);
    let derivation = governed.derivation();
    let tables = vec![table::keys(derivation), table::proposals(derivation)];
    let table = pick(tables, &params.table).map_err(|problem| failure(&store, problem))?;
    Ok(respond(&table, &["governance"]))
}

#[derive(Debug, serde::Deserialize)]
struct OrgCsvQuery {
    before_seq: Option<u64>,
    #[serde(default)]
    table: String,
}

async fn org_csv(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    Path(org): Path<String>,
    params: Result<Query<OrgCsvQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Html, params)?;
    let governed = Governed::of(&governance, &store);
    let name = org.clone();
    let page = read(&store, Format::Html, move |store| {
        model::org_page(store, governed.authority(), &name, params.before_seq)
    })
    .await?;
    let tables = vec![
        table::records("records", &page.records, None),
        table::totals("totals", &page.totals),
        table::totals("others", &page.others.totals),
        table::totals_by_org("others-by-org", &page.others),
    ];
    let table = pick(tables, &params.table).map_err(|problem| failure(&store, problem))?;
    Ok(respond(&table, &["org", &org]))
}

#[derive(Debug, serde::Deserialize)]
struct ActivityCsvQuery {
    after: Option<String>,
    #[serde(default)]
    table: String,
}

async fn activity_csv(
    State(store): State<StoreReader>,
    Path(activity): Path<String>,
    params: Result<Query<ActivityCsvQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Html, params)?;
    let id = activity.clone();
    let page = read(&store, Format::Html, move |store| {
        model::activity_page(store, &id, params.after.as_deref())
    })
    .await?;
    let tables = vec![
        table::totals("own", &page.own.totals),
        table::totals_by_org("own-by-org", &page.own),
        table::totals("others", &page.others.totals),
        table::totals_by_org("others-by-org", &page.others),
        table::findings(&page.money),
        table::links(&page.money),
        table::commitments(&page.money, &|org| page.org_name(org)),
        table::transactions(&page.records, &|org| page.org_name(org)),
    ];
    let table = pick(tables, &params.table).map_err(|problem| failure(&store, problem))?;
    Ok(respond(&table, &["activity", &activity]))
}

async fn treaty_csv(
    State(store): State<StoreReader>,
    Path(text): Path<String>,
    params: Result<Query<TableQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Html, params)?;
    let page = read(&store, Format::Html, move |store| {
        let id = model::resolve_id(store, &text)?;
        model::treaty_page(store, &id, &model::TextPart::default())
    })
    .await?;
    let tables = vec![table::treaty_parties(&page)];
    let table = pick(tables, &params.table).map_err(|problem| failure(&store, problem))?;
    Ok(respond(&table, &["treaty", &model::short(&page.record.id)]))
}

/// One language version of a treaty text, exactly as signed, as a file
/// (`treaty-{short id}-{language}.txt`). A prefix of the id redirects to the full id's URL.
async fn treaty_text(
    State(store): State<StoreReader>,
    Path((text, language)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let lang = language.clone();
    let found = read(&store, Format::Html, move |store| {
        let id = model::resolve_id(store, &text)?;
        if id.to_hex() != text {
            return Ok(Err(model::treaty_text_href(&id, &lang)));
        }
        model::treaty_text(store, &id, &lang).map(|(_, text)| Ok((id, text)))
    })
    .await?;
    Ok(match found {
        Err(to) => axum::response::Redirect::to(&to).into_response(),
        Ok((id, text)) => attachment(
            "text/plain; charset=utf-8",
            &file_name(&["treaty", &model::short(&id), &language], "txt"),
            text.into_bytes(),
        ),
    })
}
