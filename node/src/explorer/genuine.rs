//! The routes of "Is this genuine?": `GET /genuine` (the form, or the answer for the
//! fingerprints in `?sha256=…&normalised=…`, computed by the page's script in the reader's
//! browser), `POST /genuine` (the form without JavaScript: the text is sent, bounded by
//! [`GENUINE_FORM_BYTES_MAX`]; 413 beyond, 400 when empty), `GET /api/genuine` (the same
//! answer as JSON) and the script itself. Nothing is written: the POST only carries a text to
//! read with (`public.rs` lets this one path through its read-only rule).

use axum::extract::rejection::FormRejection;
use axum::extract::DefaultBodyLimit;
use axum::routing::MethodRouter;
use axum::Form;

use super::*;
use model::{
    fingerprint, GenuineQuery, GenuineResult, OrgName, GENUINE_FORM_BYTES_MAX,
    GENUINE_TEXT_BYTES_MAX,
};
use pages::{GenuineForm, GENUINE_SCRIPT, GENUINE_SCRIPT_PATH};

/// The page's path (the only path the public listener accepts a POST on).
pub const GENUINE_PATH: &str = "/genuine";

/// The routes, to merge into the explorer's.
pub(super) fn routes() -> Router<StoreReader> {
    let page: MethodRouter<StoreReader> = get(genuine_html)
        .post(genuine_post)
        .layer(DefaultBodyLimit::max(GENUINE_FORM_BYTES_MAX));
    Router::new()
        .route(GENUINE_PATH, page)
        .route("/api/genuine", get(genuine_json))
        .route(GENUINE_SCRIPT_PATH, get(script))
}

/// The script; like the style sheet it changes only with the node's version.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        GENUINE_SCRIPT,
    )
        .into_response()
}

#[derive(Debug, serde::Deserialize)]
struct PrintsQuery {
    sha256: Option<String>,
    normalised: Option<String>,
    org: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct TextForm {
    #[serde(default)]
    text: String,
    org: Option<String>,
}

fn members(governed: &Governed) -> Vec<OrgName> {
    governed
        .authority()
        .members()
        .filter(|member| member.removed.is_none())
        .map(|member| OrgName {
            id: member.id.clone(),
            name: member.name.clone(),
        })
        .collect()
}

/// The query of `?sha256=…&normalised=…`, or `None` when neither is given (the bare form).
fn prints_query(query: PrintsQuery) -> Result<Option<GenuineQuery>, Problem> {
    match (query.sha256, query.normalised) {
        (None, None) => Ok(None),
        (Some(exact), Some(normalised)) => Ok(Some(GenuineQuery {
            prints: aidledger_view::genuine::Fingerprints {
                exact: fingerprint("sha256", &exact)?,
                normalised: fingerprint("normalised", &normalised)?,
            },
            text: None,
            org: query.org,
        })),
        _ => Err(Problem::BadRequest(
            "give both fingerprints: sha256 (of the exact text) and normalised".into(),
        )),
    }
}

async fn answer(
    store: &StoreReader,
    governed: Governed,
    format: Format,
    query: GenuineQuery,
) -> Result<GenuineResult, Failure> {
    read(store, format, move |store| {
        model::genuine(store, governed.authority(), &query)
    })
    .await
}

async fn genuine_html(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    params: Result<Query<PrintsQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Html, params)?;
    let governed = Governed::of(&governance, &store);
    let members = members(&governed);
    let form = GenuineForm {
        members: &members,
        text: None,
    };
    let asked = prints_query(params).map_err(|problem| Failure {
        format: Format::Html,
        problem,
        network_name: store.genesis().name.clone(),
    })?;
    let result = match asked {
        Some(asked) => Some(answer(&store, governed, Format::Html, asked).await?),
        None => None,
    };
    let page = pages::genuine(&form, result.as_ref(), &store.genesis().name);
    Ok(HtmlBody(page).into_response())
}

async fn genuine_post(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    sent: Result<Form<TextForm>, FormRejection>,
) -> Result<Response, Failure> {
    let network_name = store.genesis().name.clone();
    let too_large = || {
        let message = format!(
            "The text is longer than {GENUINE_TEXT_BYTES_MAX} bytes. Check it with JavaScript on \
             (only its fingerprints are sent), or offline with aidledger provenance --text-file."
        );
        let page = pages::error(413, &message, &network_name);
        (StatusCode::PAYLOAD_TOO_LARGE, HtmlBody(page)).into_response()
    };
    let sent = match sent {
        Ok(Form(sent)) => sent,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(too_large())
        }
        Err(rejection) => {
            return Err(Failure {
                format: Format::Html,
                problem: Problem::BadRequest(rejection.body_text()),
                network_name,
            })
        }
    };
    if sent.text.len() > GENUINE_TEXT_BYTES_MAX {
        return Ok(too_large());
    }
    if sent.text.trim().is_empty() {
        return Err(Failure {
            format: Format::Html,
            problem: Problem::BadRequest("paste the text to check: the form was empty".into()),
            network_name,
        });
    }
    let governed = Governed::of(&governance, &store);
    let members = members(&governed);
    let asked = GenuineQuery::of_text(sent.text, sent.org);
    let text = asked.text.clone();
    let result = answer(&store, governed, Format::Html, asked).await?;
    let form = GenuineForm {
        members: &members,
        text: text.as_deref(),
    };
    let page = pages::genuine(&form, Some(&result), &network_name);
    Ok(HtmlBody(page).into_response())
}

async fn genuine_json(
    State(store): State<StoreReader>,
    governance: MaybeGovernance,
    params: Result<Query<PrintsQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let params = query(&store, Format::Json, params)?;
    let failure = |problem| Failure {
        format: Format::Json,
        problem,
        network_name: store.genesis().name.clone(),
    };
    let asked = prints_query(params)
        .map_err(failure)?
        .ok_or_else(|| failure(Problem::BadRequest("give sha256 and normalised".into())))?;
    let governed = Governed::of(&governance, &store);
    Ok(Json(answer(&store, governed, Format::Json, asked).await?).into_response())
}
