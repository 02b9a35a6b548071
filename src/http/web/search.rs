//! `GET /`: the search page — the JSON search's parameters (`shared/INTERFACES.md`) plus
//! `page`, rendered as a form with facet filters, sort, results and pagination. Blank form
//! fields are ignored (a browser sends `min_usd=` for an empty box); a bad parameter renders the
//! page with the reason and a 400.

use super::errors;
use super::rich::Rich;
use crate::app::AppState;
use crate::catalog::CatalogError;
use crate::http::answer_cache::{Freshness, Refresh, query_key};
use crate::http::views::words::{self as view, NetworkBadge};
use crate::params::{Known, MAX_OFFSET, ParamError, Params, parse_usd};
use crate::search::SearchRequest;
use crate::search::request::{SEARCH_PARAMS, TestnetMode};
use crate::search::results::{FacetValue, Found, FoundHit, micros_to_usd};
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// Results per page.
const PER_PAGE: usize = 20;
/// The parameters "clear filters" drops (`q` and `sort` stay).
const FILTERS: &[&str] = &[
    "network",
    "asset",
    "scheme",
    "min_usd",
    "max_usd",
    "testnet",
    "status",
    "version",
    "has_schema",
    "host",
    "format",
    "verified",
];

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    q: String,
    api_query: String,
    facets: Vec<FacetGroup>,
    min_usd: String,
    max_usd: String,
    price_buckets: Vec<PriceBucket>,
    /// The same search without any filter (`q` kept), when a filter is set.
    clear_url: Option<String>,
    testnet: String,
    /// `verified=true`: only services someone proved control of.
    verified_only: bool,
    /// What was read into the query, as a sentence, and the link that searches the words instead.
    interpreted: Option<String>,
    literal_url: String,
    testnet_options: &'static [(&'static str, &'static str)],
    error: Option<Rich>,
    total: u64,
    testnets_hidden: u64,
    show_testnets_url: String,
    sort: String,
    /// The first option (value "") is the default order for the query, so a search typed on the
    /// home page (newest first) is ranked by relevance rather than carrying "newest" along.
    sort_options: Vec<(&'static str, &'static str)>,
    hits: Vec<HitView>,
    page: usize,
    pages: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
}

struct FacetGroup {
    title: &'static str,
    param: &'static str,
    options: Vec<FacetOption>,
}

struct FacetOption {
    value: String,
    label: String,
    count: u64,
    checked: bool,
}

struct PriceBucket {
    label: String,
    count: u64,
    /// This search narrowed to the bucket's range.
    url: String,
}

pub struct HitView {
    pub id: i64,
    pub name: String,
    /// The seller's icon as Agora serves it (`/icons/{hash}`).
    pub icon: Option<String>,
    pub method: String,
    pub host: String,
    pub path: String,
    pub description: Option<String>,
    pub price: String,
    pub networks: Vec<NetworkBadge>,
    /// Offers the hit does not carry (a hit lists at most 16; the service page has them all).
    pub more_offers: usize,
    pub status: &'static str,
    pub uptime: Option<String>,
    pub verified: Option<String>,
    /// Someone proved control of it.
    pub owned: bool,
    /// The quality score, 0–100, and its parts as a tooltip.
    pub quality: u8,
    pub quality_parts: String,
}

const TESTNET_OPTIONS: &[(&str, &str)] =
    &[("exclude", "Hide testnets"), ("include", "Include testnets"), ("only", "Only testnets")];
const SORT_OPTIONS: &[(&str, &str)] = &[
    ("relevance", "Best match"),
    ("price_asc", "Price: low to high"),
    ("price_desc", "Price: high to low"),
    ("newest", "Newest"),
    ("verified", "Recently verified"),
    ("uptime", "Uptime"),
    ("quality", "Quality"),
];

/// The sort menu: the default for `q` first (blank value), then every other order.
fn sort_options(q: &str) -> Vec<(&'static str, &'static str)> {
    let default = if q.trim().is_empty() { "newest" } else { "relevance" };
    let label = |value| SORT_OPTIONS.iter().find(|(v, _)| *v == value).map_or(value, |(_, label)| *label);
    let others = SORT_OPTIONS.iter().filter(|(v, _)| *v != default && !(q.trim().is_empty() && *v == "relevance"));
    std::iter::once(("", label(default))).chain(others.copied()).collect()
}

/// `GET /`. A rendered page is kept per raw query and index snapshot, like the API's search
/// answers (`http::answer_cache`): its relative times ("verified 2 min ago") may be up to the
/// cache's 5 s old.
pub async fn page(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    // A form submit sends its blank fields (`min_usd=`); the address to share leaves them out.
    if let Some(clean) = without_blank_fields(&query) {
        if headers.contains_key("hx-request") {
            // htmx swaps the page in place; it pushes this address instead of the one it asked.
            let mut response = page_for(&state, &clean).await;
            if let Ok(value) = HeaderValue::from_str(&format!("/?{clean}")) {
                response.headers_mut().insert("hx-push-url", value);
            }
            return response;
        }
        return Redirect::to(&format!("/?{clean}")).into_response();
    }
    page_for(&state, &query).await
}

/// The query without its blank fields, when it has any (`None`: nothing to drop).
fn without_blank_fields(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let blank = |(_, value): &&(String, String)| value.trim().is_empty();
    if !pairs.iter().any(|pair| blank(&pair)) {
        return None;
    }
    let kept = pairs.iter().filter(|pair| !blank(pair));
    Some(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish())
}

/// The page for a query with no blank fields.
async fn page_for(state: &AppState, query: &str) -> Response {
    let query = query.to_string();
    let generation = state.catalog.search_generation();
    let freshness =
        Freshness { now: generation, current: |made_at| made_at == generation, refresh: Refresh::OneAtATime };
    let answer = state.answers.search_page.get_or_compute(query_key(&query), freshness, || render_page(state, &query));
    match answer.await {
        Ok(html) => html_page(html),
        Err(page) => page,
    }
}

/// The page for `query`, or (not kept) the page saying why there are no or fewer results: a
/// parameter the search cannot use is named, and the search runs without it, the other filters
/// kept.
async fn render_page(state: &AppState, query: &str) -> Result<Bytes, Response> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(_, value)| !value.trim().is_empty())
        .collect();
    let now = state.catalog.now_ms();
    let mut dropped: Option<ParamError> = None;
    // Each round drops the parameter at fault, so the rounds end: with a search, or with nothing
    // left to drop.
    loop {
        let (request, page) = match parse(&pairs) {
            Ok(parsed) => parsed,
            Err(error) => {
                drop_param(&mut pairs, &mut dropped, error).map_err(unusable)?;
                continue;
            }
        };
        match state.catalog.search(&request).await {
            Ok(found) => {
                let message = dropped.as_ref().map(|e| format!("{e}; showing the search without it."));
                let html = render(&pairs, &request, page, Some(&found), message, now).render().map_err(|error| {
                    tracing::error!(%error, "search page did not render");
                    errors::page(StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.")
                })?;
                let html = Bytes::from(html);
                return if dropped.is_none() {
                    Ok(html)
                } else {
                    Err((StatusCode::BAD_REQUEST, html_page(html)).into_response())
                };
            }
            Err(CatalogError::Param(error)) => drop_param(&mut pairs, &mut dropped, error).map_err(unusable)?,
            Err(error) => {
                // The problem mapping logs the cause and chooses the status.
                let problem = crate::http::problem::Problem::from(error);
                let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let message = "Search is unavailable just now. Try again in a moment.".to_string();
                return Err((status, render(&pairs, &request, page, None, Some(message), now)).into_response());
            }
        }
    }
}

/// Drops the parameter `error` names, remembering the first error to show; the error back when
/// no pair has that name (nothing left to drop).
fn drop_param(
    pairs: &mut Vec<(String, String)>,
    dropped: &mut Option<ParamError>,
    error: ParamError,
) -> Result<(), ParamError> {
    let before = pairs.len();
    pairs.retain(|(name, _)| *name != error.param);
    if pairs.len() == before {
        return Err(error);
    }
    dropped.get_or_insert(error);
    Ok(())
}

/// The error page for a parameter that could not be set aside.
fn unusable(error: ParamError) -> Response {
    errors::page(StatusCode::BAD_REQUEST, error.to_string())
}

fn html_page(html: Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html).into_response()
}

/// The search request and page number the pairs ask for (the search's parameters and `page`).
fn parse(pairs: &[(String, String)]) -> Result<(SearchRequest, usize), ParamError> {
    let names: Vec<&str> = SEARCH_PARAMS.names.iter().copied().chain(["page"]).collect();
    let known = Known { names: &names, repeatable: SEARCH_PARAMS.repeatable };
    let params = Params::check(pairs.to_vec(), known)?;
    let mut request = SearchRequest::from_params(&params)?;
    let last_page = MAX_OFFSET / PER_PAGE + 1;
    let page = params.int("page", 1..=i64::try_from(last_page).unwrap_or(1), 1)?;
    let page = usize::try_from(page).unwrap_or(1);
    if params.get("limit").is_none() {
        request.limit = PER_PAGE;
    }
    request.offset = (page - 1) * request.limit;
    Ok((request, page))
}

fn render(
    pairs: &[(String, String)],
    request: &SearchRequest,
    page: usize,
    results: Option<&Found>,
    error: Option<String>,
    now: i64,
) -> SearchPage {
    let error = error.map(Rich::new);
    let value_of = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let selected = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let group = |title, param, values: &[FacetValue]| {
        let chosen = selected(param);
        FacetGroup {
            title,
            param,
            options: values
                .iter()
                .map(|v| FacetOption {
                    value: v.value.clone(),
                    label: v.label.clone(),
                    count: v.count,
                    checked: chosen
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&v.value) || c.eq_ignore_ascii_case(&v.label)),
                })
                .collect(),
        }
    };
    let empty = Default::default();
    let facets = results.map_or(&empty, |r| &r.facets);
    let total = results.map_or(0, |r| r.total);
    let pages = (total as usize).div_ceil(request.limit.max(1)).min(MAX_OFFSET / request.limit.max(1) + 1);
    let link = |changes: &[(&str, Option<String>)]| -> String {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)) {
            serializer.append_pair(k, v);
        }
        for (k, v) in changes {
            if let Some(v) = v {
                serializer.append_pair(k, v);
            }
        }
        format!("/?{}", serializer.finish())
    };
    let page_link = |p: usize| link(&[("page", (p > 1).then(|| p.to_string()))]);
    SearchPage {
        q: request.q.clone(),
        api_query: link(&[("page", None)]).trim_start_matches("/?").to_string(),
        facets: vec![
            group("Network", "network", &facets.network),
            group("Asset", "asset", &facets.asset),
            group("Scheme", "scheme", &facets.scheme),
        ],
        min_usd: value_of("min_usd"),
        max_usd: value_of("max_usd"),
        price_buckets: facets
            .price
            .iter()
            .map(|bucket| PriceBucket {
                label: match (&bucket.min_usd, &bucket.max_usd) {
                    (None, Some(max)) => format!("up to ${max}"),
                    (Some(min), Some(max)) => format!("${min} – ${max}"),
                    (Some(min), None) => format!("over ${min}"),
                    (None, None) => "any".to_string(),
                },
                count: bucket.count,
                // A bucket's lower bound is exclusive, `min_usd` inclusive: one micro-dollar above.
                url: link(&[
                    (
                        "min_usd",
                        bucket
                            .min_usd
                            .as_deref()
                            .and_then(|m| parse_usd("min_usd", m).ok())
                            .map(|m| micros_to_usd(m + 1)),
                    ),
                    ("max_usd", bucket.max_usd.clone()),
                    ("page", None),
                ]),
            })
            .collect(),
        testnet: match request.testnet {
            TestnetMode::Exclude => "exclude",
            TestnetMode::Include => "include",
            TestnetMode::Only => "only",
        }
        .to_string(),
        testnet_options: TESTNET_OPTIONS,
        verified_only: request.verified,
        interpreted: super::interpreted::sentence(results.and_then(|r| r.interpreted_as.as_ref())),
        literal_url: link(&[("interpret", Some("false".into())), ("page", None)]),
        error,
        total,
        testnets_hidden: results.map_or(0, |r| r.testnets_hidden),
        show_testnets_url: link(&[("testnet", Some("include".into())), ("page", None)]),
        clear_url: pairs.iter().any(|(k, _)| FILTERS.contains(&k.as_str())).then(|| {
            let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("q", &request.q).finish();
            if request.q.is_empty() { "/".to_string() } else { format!("/?{q}") }
        }),
        sort: value_of("sort"),
        sort_options: sort_options(&request.q),
        hits: results.map_or_else(Vec::new, |r| r.hits.iter().map(|hit| hit_view(hit, now)).collect()),
        page,
        pages,
        prev_url: (page > 1).then(|| page_link(page - 1)),
        next_url: (page < pages).then(|| page_link(page + 1)),
    }
}

pub fn hit_view(hit: &FoundHit, now: i64) -> HitView {
    let service = &hit.service;
    HitView {
        id: service.id,
        icon: service.icon_hash.as_ref().map(|hash| format!("/icons/{hash}")),
        name: view::display_name(service),
        method: service.method.clone(),
        host: service.host.clone(),
        path: view::clip(&view::path_of(&service.url), 200),
        description: service.description.as_deref().filter(|d| !d.trim().is_empty()).map(|d| view::clip(d, 300)),
        price: view::best_price(&hit.offers),
        networks: view::networks(&hit.offers),
        more_offers: hit.offers_total.saturating_sub(hit.offers.len()),
        status: service.status.as_str(),
        uptime: hit.uptime.map(view::percent),
        verified: service.last_listed_at.map(|at| view::ago(at, now)),
        owned: hit.verified,
        quality: hit.quality.score,
        quality_parts: quality_summary(&hit.quality.parts),
    }
}

/// The parts of a quality score in words, for the score's tooltip.
fn quality_summary(parts: &crate::quality::Parts) -> String {
    let p = |v: f64| (v * 100.0).round();
    format!(
        "uptime {}, latency {}, integrity {}, price stability {}, payTo stability {}, owner verified {}",
        p(parts.uptime),
        p(parts.latency),
        p(parts.integrity),
        p(parts.price_stability),
        p(parts.pay_to_stability),
        p(parts.verified)
    )
}

#[cfg(test)]
mod tests {
    use super::drop_param;
    use crate::params::ParamError;

    #[test]
    fn a_bad_parameter_is_set_aside_once_and_an_absent_one_ends_the_rounds() {
        let mut pairs = vec![("q".to_string(), "x".to_string()), ("network".to_string(), "doge".to_string())];
        let mut dropped = None;
        assert_eq!(drop_param(&mut pairs, &mut dropped, ParamError::new("network", "unknown")), Ok(()));
        assert_eq!((pairs.len(), dropped.as_ref().map(|e| e.param.as_str())), (1, Some("network")));
        let absent = drop_param(&mut pairs, &mut dropped, ParamError::new("page", "bad"));
        assert_eq!(absent.map_err(|e| e.param), Err("page".to_string()), "nothing to drop: the rounds end");
    }
}
