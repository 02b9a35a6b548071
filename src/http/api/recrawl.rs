//! `POST /api/v1/services/{id}/recrawl`: a seller who fixed something asks for a probe now and
//! gets its result, ahead of scheduled work on the host but still one request at a time per host.
//! At most one such probe per service per [`RECRAWL_INTERVAL_MS`] (counted from the last probe of
//! any kind), so a loop of requests cannot turn Agora against a seller.

use super::detail::service_at;
use super::register::ServiceWithReport;
use crate::db::StoreError;
use crate::db::services::{self, DueService};
use crate::http::HttpState;
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use std::collections::HashMap;
use std::sync::Mutex;

/// Shortest time between a service's last probe and a requested one.
pub const RECRAWL_INTERVAL_MS: i64 = 60_000;

/// Recrawls granted, per service: checking `last_probed_at` alone lets concurrent requests that
/// read it before the first probe was recorded each start one; a claim taken under a lock does not.
#[derive(Debug, Default)]
pub struct RecrawlClaims {
    granted: Mutex<HashMap<i64, i64>>,
}

impl RecrawlClaims {
    /// Grants a recrawl of `id` at `now` unless the service was probed or granted one within
    /// [`RECRAWL_INTERVAL_MS`]; otherwise the milliseconds since that last one.
    pub fn claim(&self, id: i64, last_probed_at: Option<i64>, now: i64) -> Result<(), i64> {
        let mut granted = self.granted.lock().unwrap_or_else(|p| p.into_inner());
        let last = granted.get(&id).copied().max(last_probed_at);
        if let Some(last) = last
            && now - last < RECRAWL_INTERVAL_MS
        {
            return Err(now - last);
        }
        if granted.len() >= MAX_CLAIMS {
            granted.retain(|_, at| now - *at < RECRAWL_INTERVAL_MS);
        }
        granted.insert(id, now);
        Ok(())
    }
}

/// Claims kept before expired ones are dropped (memory bound).
const MAX_CLAIMS: usize = 10_000;

/// Probe a registered service now.
///
/// At most once a minute per service (429 `recrawl_too_soon` with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/services/{id}/recrawl", tag = "sellers",
    params(("id" = i64, Path, minimum = 1, example = 1, description = "Service id")),
    responses((status = 200, description = "The service after the probe, with its report", body = ServiceWithReport)))]
pub async fn recrawl(
    State(state): State<HttpState>,
    raw: Result<Path<String>, PathRejection>,
) -> Result<Json<ServiceWithReport>, Problem> {
    let pool = state.store.read();
    let service = service_at(pool, raw).await?;
    let now = state.dispatcher.worker().clock().now_ms();
    if let Err(since) = state.recrawls.claim(service.id, service.last_probed_at, now) {
        let wait = (RECRAWL_INTERVAL_MS - since + 999) / 1000;
        return Err(Problem::too_many(
            "recrawl_too_soon",
            format!("This service was probed {}s ago; ask again in {wait}s.", since / 1000),
            u32::try_from(wait).unwrap_or(1),
        ));
    }
    let id = service.id;
    let due = DueService { id, url: service.url, method: service.method, host: service.host };
    let probed = state.dispatcher.probe_now(due).await?;
    let service = services::get(pool, id).await?.ok_or(StoreError::NoSuchService(id))?;
    Ok(Json(ServiceWithReport::probed(pool, service, &probed.report).await?))
}

#[cfg(test)]
mod tests {
    use super::{RECRAWL_INTERVAL_MS, RecrawlClaims};

    #[test]
    fn one_recrawl_per_service_per_interval_however_many_ask() {
        let claims = RecrawlClaims::default();
        assert_eq!(claims.claim(1, None, 1_000_000), Ok(()));
        assert_eq!(claims.claim(1, None, 1_000_500), Err(500), "granted a moment ago, not yet probed");
        assert_eq!(claims.claim(2, Some(1_000_000 - 10_000), 1_000_000), Err(10_000), "probed 10 s ago");
        assert_eq!(claims.claim(1, None, 1_000_000 + RECRAWL_INTERVAL_MS), Ok(()));
    }
}
