//! Search results as answered (`GET /api/v1/services`). `processing_ms` is this request's own
//! figure, not part of a result: the answer cache keeps [`SearchResults`] serialized without it
//! and each answer appends its own (`http::api::search`).

use super::ServiceView;
use crate::search::understand::Interpretation;
use crate::search::{Facets, Found, FoundHit, Matched, Sort};
use agora_crawler::Offer;
use serde::Serialize;

/// One page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// Services matching (all pages).
    pub total: u64,
    pub facets: Facets,
    /// Services that would match if testnets were included (only with `testnet=exclude`).
    pub testnets_hidden: u64,
    pub limit: usize,
    pub offset: usize,
    pub sort: Sort,
    /// What Agora read into `q` (price, network, asset, scheme and testnet words taken out and
    /// applied as parameters; docs/SEARCH.md); absent when nothing was. `interpret=false` undoes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreted_as: Option<Interpretation>,
    /// Milliseconds this request took on the server.
    // Always present in answers: the cache keeps them without it (`None`) and every answer
    // appends its own, last (`http::api::search`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = f64, required = true)]
    pub processing_ms: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Hit {
    #[serde(flatten)]
    pub service: ServiceView,
    /// At most 16 offers, those matching the offer filters first (`hit_offers`); the service's
    /// detail has them all.
    pub offers: Vec<Offer>,
    /// How many offers the service has.
    pub offers_total: usize,
    /// Successes over probes in the last 30 days (as of the index's last update); `null` before
    /// any probe.
    pub uptime: Option<f64>,
    /// BM25 score, with `sort=relevance` and text.
    pub score: Option<f32>,
    /// Which fields matched which query words.
    pub matched: Vec<Matched>,
    /// Someone proved control of its origin or of the address it is paid to (docs/OWNERSHIP.md).
    pub verified: bool,
    /// What Agora's probes measured, 0–100 with its parts (docs/SEARCH.md "Quality"; as of the
    /// index's last update). Relevance is blended with it; `sort=quality` orders by it.
    pub quality: crate::quality::Quality,
}

impl From<FoundHit> for Hit {
    fn from(hit: FoundHit) -> Hit {
        Hit {
            service: hit.service.into(),
            offers: hit.offers,
            offers_total: hit.offers_total,
            uptime: hit.uptime,
            score: hit.score,
            matched: hit.matched,
            verified: hit.verified,
            quality: hit.quality,
        }
    }
}

impl From<Found> for SearchResults {
    fn from(found: Found) -> SearchResults {
        SearchResults {
            hits: found.hits.into_iter().map(Hit::from).collect(),
            total: found.total,
            facets: found.facets,
            testnets_hidden: found.testnets_hidden,
            limit: found.limit,
            offset: found.offset,
            sort: found.sort,
            interpreted_as: found.interpreted_as,
            processing_ms: None,
        }
    }
}
