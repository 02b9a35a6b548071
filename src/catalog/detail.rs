//! Service detail: everything Agora knows about one service — the stored row and offers, the
//! discovery metadata and the latest probe report, uptime over 24 hours, 7 and 30 days,
//! response-time percentiles, the most recent probes, and its offer and status history.

use super::{Catalog, CatalogError};
use crate::db::claims::{self, Proof};
use crate::db::history::{self, OfferChange, StatusChange, Uptime};
use crate::db::maintain::DAY_MS;
use crate::db::probes::{self, Latency, ProbeRow};
use crate::db::services::{self, ServiceRow};
use crate::db::sources::{self, SourceMention};
use agora_crawler::{Discovery, Offer, ProbeReport};

/// Probes listed under `recent_probes`.
const RECENT_PROBES: i64 = 20;

/// One service in full.
#[derive(Debug, Clone)]
pub struct Detail {
    pub service: ServiceRow,
    pub offers: Vec<Offer>,
    /// As the seller declared it in its last valid listing.
    pub discovery: Option<Discovery>,
    pub report: Option<ProbeReport>,
    /// Exact for the last day (raw probes); whole UTC days (roll-ups) for the longer windows.
    pub uptime_day: Uptime,
    pub uptime_week: Uptime,
    pub uptime_month: Uptime,
    /// Over the last 7 days.
    pub latency: Latency,
    pub recent_probes: Vec<ProbeRow>,
    pub offer_changes: Vec<OfferChange>,
    pub status_changes: Vec<StatusChange>,
    /// The sources that list it, each with what it claimed and where the probe disagrees.
    pub sources: Vec<SourceMention>,
    /// What was proven about it by active claims (empty: unverified).
    pub proofs: Vec<Proof>,
}

impl Catalog {
    /// Everything known about service `id`.
    pub async fn detail(&self, id: i64) -> Result<Detail, CatalogError> {
        // One read transaction for all eleven reads: one snapshot (the probes, uptime and history
        // agree), and one pool acquire instead of eleven, which cost about as much as the reads.
        let mut snapshot = self.store.read().begin_read().await?;
        let conn = &mut snapshot.conn();
        let service = services::get(&mut *conn, id).await?.ok_or(CatalogError::NoSuchService(id))?;
        let now = self.now_ms();
        Ok(Detail {
            offers: services::offers(&mut *conn, id).await?,
            discovery: services::discovery(&mut *conn, id).await?,
            report: services::latest_report(&mut *conn, id).await?,
            uptime_day: probes::uptime_since(&mut *conn, id, now - DAY_MS).await?,
            uptime_week: history::uptime(&mut *conn, id, now - 7 * DAY_MS).await?,
            uptime_month: history::uptime(&mut *conn, id, now - 30 * DAY_MS).await?,
            latency: probes::latency_since(&mut *conn, id, now - 7 * DAY_MS).await?,
            recent_probes: probes::recent(&mut *conn, id, RECENT_PROBES).await?,
            offer_changes: history::offer_changes(&mut *conn, id).await?,
            status_changes: history::status_changes(&mut *conn, id).await?,
            sources: sources::of_service(&mut *conn, id).await?,
            proofs: claims::proofs_of(&mut *conn, id).await?,
            service,
        }
        .with_disagreements())
    }

    /// Probes and successes of service `id` per UTC day (epoch days) from `first_day` on; days
    /// without probes are absent.
    pub async fn uptime_by_day(&self, id: i64, first_day: i64) -> Result<Vec<(i64, Uptime)>, CatalogError> {
        Ok(history::uptime_by_day(self.store.read(), id, first_day).await?)
    }
}

impl Detail {
    /// Says, for each source, where its claimed price disagrees with what the probe found: a
    /// source's word is provenance, the probe is the truth.
    fn with_disagreements(mut self) -> Detail {
        for mention in &mut self.sources {
            let Some(claim) = &mention.claim else { continue };
            let Some(claimed) = &claim.usd else { continue };
            let asked: Vec<&str> = self.offers.iter().filter_map(|o| o.usd.as_deref()).collect();
            if !asked.is_empty() && !asked.contains(&claimed.as_str()) {
                mention.disagreement =
                    Some(format!("The source lists ${claimed}; the endpoint asks ${}.", asked.join(" or $")));
            }
        }
        self
    }
}
