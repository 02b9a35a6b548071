//! `GET /api/v1/services`: the catalog search, with the parameters of `shared/INTERFACES.md`.
//! The query string is read as raw pairs so repeated parameters (`network=base&network=solana`)
//! and unknown names reach the strict parser, which names the parameter at fault.

use crate::http::HttpState;
use crate::http::problem::Problem;
use crate::search::SearchRequest;
use crate::search::results::{SearchResults, search};
use axum::Json;
use axum::extract::{RawQuery, State};

pub async fn services(
    State(state): State<HttpState>,
    RawQuery(query): RawQuery,
) -> Result<Json<SearchResults>, Problem> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let request = SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[])?;
    Ok(Json(search(&state.search, state.store.read(), &request).await?))
}
