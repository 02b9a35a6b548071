//! A service's detail as answered (`GET /api/v1/services/{id}`).

use super::ServiceView;
use crate::catalog::detail::Detail;
use crate::db::claims::Proof;
use crate::db::history::{OfferChange, StatusChange, Uptime};
use crate::db::probes::{Latency, ProbeRow};
use crate::db::sources::SourceMention;
use agora_crawler::{Discovery, Offer, ProbeReport};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub service: ServiceView,
    pub offers: Vec<Offer>,
    /// Service name, tags, input/output schemas as the seller declared them (last valid listing).
    #[schema(value_type = Option<Object>)]
    pub discovery: Option<Discovery>,
    /// The latest probe report: the "why" behind the status (`shared/INTERFACES.md`).
    pub report: Option<ProbeReport>,
    pub uptime: UptimeWindows,
    /// Over the last 7 days.
    pub latency: Latency,
    pub recent_probes: Vec<ProbeRow>,
    pub offer_changes: Vec<OfferChange>,
    pub status_changes: Vec<StatusChange>,
    /// Provenance: the sources that list it ([SOURCES.md]), what each claimed, and where the
    /// probe disagrees.
    pub sources: Vec<SourceMention>,
    /// Someone proved control of it.
    pub verified: bool,
    /// What was proven about it, and when (docs/OWNERSHIP.md).
    pub proofs: Vec<Proof>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UptimeWindows {
    #[serde(rename = "24h")]
    pub day: UptimeFigure,
    #[serde(rename = "7d")]
    pub week: UptimeFigure,
    #[serde(rename = "30d")]
    pub month: UptimeFigure,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UptimeFigure {
    pub probes: i64,
    pub successes: i64,
    /// Successes over probes; `null` before any probe in the window.
    pub ratio: Option<f64>,
}

impl From<Uptime> for UptimeFigure {
    fn from(uptime: Uptime) -> Self {
        UptimeFigure { probes: uptime.probes, successes: uptime.successes, ratio: uptime.ratio() }
    }
}

impl From<Detail> for ServiceDetail {
    fn from(detail: Detail) -> ServiceDetail {
        ServiceDetail {
            service: detail.service.into(),
            offers: detail.offers,
            discovery: detail.discovery,
            report: detail.report,
            uptime: UptimeWindows {
                day: detail.uptime_day.into(),
                week: detail.uptime_week.into(),
                month: detail.uptime_month.into(),
            },
            latency: detail.latency,
            recent_probes: detail.recent_probes,
            offer_changes: detail.offer_changes,
            status_changes: detail.status_changes,
            sources: detail.sources,
            verified: !detail.proofs.is_empty(),
            proofs: detail.proofs,
        }
    }
}
