//! A service as answered: the stored row without what is internal to the store (the schema's
//! search text, the discovery JSON, the listing fingerprint), and with its offers and latest report.

use crate::catalog::register::ServiceState;
use crate::db::services::ServiceRow;
use crate::lifecycle::Status;
use agora_crawler::{Offer, ProbeReport};
use serde::Serialize;

/// A service.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ServiceRow)]
pub struct ServiceView {
    pub id: i64,
    pub url: String,
    pub method: String,
    pub host: String,
    #[serde(serialize_with = "status_str")]
    pub status: Status,
    /// The last probe's verdict (`null` before the first probe).
    pub verdict: Option<String>,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub x402_version: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub tags: Vec<String>,
    pub route_template: Option<String>,
    /// The listing carries a trusted input/output schema.
    pub has_schema: bool,
    pub registered_at: i64,
    pub first_listed_at: Option<i64>,
    pub last_probed_at: Option<i64>,
    pub last_listed_at: Option<i64>,
    pub status_since: i64,
    pub failure_streak: i64,
    pub next_due_at: i64,
    pub interval_ms: i64,
    pub change_seq: i64,
    /// `http`, or `mcp` for an MCP tool sold through x402.
    #[serde(rename = "type")]
    pub service_type: String,
    /// The MCP tool's name (`mcp` services only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// The seller's icon as Agora serves it (`/icons/{hash}`), when it has one that passed the
    /// checks; never the seller's own URL.
    pub icon: Option<String>,
    /// What its owner pinned over the challenge's own fields (absent when nothing is pinned);
    /// `name`, `description`, `tags` and `icon` above already show the pinned values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<PinnedView>,
    /// Why it is out of search, the Bazaar endpoints and the feeds (absent when it is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<WithheldView>,
}

/// An owner's pins, and the challenge's own values under them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PinnedView {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub category: Option<String>,
    pub docs_url: Option<String>,
    /// The pinned icon as Agora serves it.
    pub icon: Option<String>,
    pub pinned_at: i64,
    /// What the seller's 402 challenge itself says.
    pub challenge: ChallengeFields,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChallengeFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// Why a service is withheld.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WithheldView {
    /// `owner` (its owner delisted it) or `operator` (hidden; `reason` says why).
    pub by: &'static str,
    pub since: i64,
    /// The operator's public reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn status_str<S: serde::Serializer>(status: &Status, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(status.as_str())
}

impl From<ServiceRow> for ServiceView {
    fn from(row: ServiceRow) -> ServiceView {
        let withheld = match (row.hidden_at, row.owner_delisted_at) {
            (Some(since), _) => Some(WithheldView { by: "operator", since, reason: row.hidden_reason.clone() }),
            (None, Some(since)) => Some(WithheldView { by: "owner", since, reason: None }),
            (None, None) => None,
        };
        let pinned = row.pinned.map(|pinned| {
            let pins = pinned.pins;
            PinnedView {
                name: pins.name,
                description: pins.description,
                tags: pins.tags,
                category: pins.category,
                docs_url: pins.docs_url,
                icon: pins.icon_hash.map(|hash| format!("/icons/{hash}")),
                pinned_at: pinned.pinned_at,
                challenge: ChallengeFields {
                    name: pinned.challenge_name,
                    description: pinned.challenge_description,
                    tags: pinned.challenge_tags,
                },
            }
        });
        ServiceView {
            pinned,
            withheld,
            id: row.id,
            url: row.url,
            method: row.method,
            host: row.host,
            status: row.status,
            verdict: row.verdict,
            reason_code: row.reason_code,
            reason: row.reason,
            x402_version: row.x402_version,
            name: row.name,
            description: row.description,
            mime_type: row.mime_type,
            tags: row.tags,
            route_template: row.route_template,
            has_schema: row.has_schema,
            registered_at: row.registered_at,
            first_listed_at: row.first_listed_at,
            last_probed_at: row.last_probed_at,
            last_listed_at: row.last_listed_at,
            status_since: row.status_since,
            failure_streak: row.failure_streak,
            next_due_at: row.next_due_at,
            interval_ms: row.interval_ms,
            change_seq: row.change_seq,
            service_type: row.service_type,
            tool_name: row.tool_name,
            icon: row.icon_hash.map(|hash| format!("/icons/{hash}")),
        }
    }
}

/// A stored service with its offers and latest probe report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceWithReport {
    #[serde(flatten)]
    pub service: ServiceView,
    pub offers: Vec<Offer>,
    /// The latest probe report (`null` before the first probe).
    pub report: Option<ProbeReport>,
}

impl From<ServiceState> for ServiceWithReport {
    fn from(state: ServiceState) -> ServiceWithReport {
        ServiceWithReport { service: state.service.into(), offers: state.offers, report: state.report }
    }
}
