//! The catalog's event feed: status transitions, offer changes, new sources and owners' actions of every service merged in one
//! order — (time, source, row id) — so a cursor naming the last event seen resumes exactly after
//! it. Agents keeping a local copy poll it (`GET /api/v1/changes`).

use super::StoreError;
use super::backend::{AnyRow, Pool};
use crate::on_pool;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub at: i64,
    pub service_id: i64,
    pub url: String,
    pub method: String,
    /// `registered`, `listed`, `rejected`, `degraded`, `delisted` (status events),
    /// `price_changed`, `pay_to_changed`, `offer_added`, `offer_removed` (offer events), or
    /// `listed_by_source` (a source lists it now; `new_value` names the source), or an owner's
    /// (`claimed`, `owner_delisted`, `owner_relisted`, `pinned`; `new_value` names what was proven
    /// for `claimed`) and `claim_lapsed` (a probe found the proven payTo, `new_value`, gone).
    pub kind: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    /// The problem code behind a status change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// The offer an offer event is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<EventOffer>,
    /// Resume after this event.
    pub cursor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct EventOffer {
    pub scheme: String,
    pub network: String,
    pub asset: String,
}

/// Where a page starts: after the event with this (time, source, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub at: i64,
    pub source: i64,
    pub id: i64,
}

impl Cursor {
    /// The cursor's text form, `at.source.id` (opaque to clients).
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.at, self.source, self.id)
    }

    pub fn parse(text: &str) -> Option<Cursor> {
        let mut parts = text.split('.').map(|p| p.parse::<i64>().ok());
        let cursor = Cursor { at: parts.next()??, source: parts.next()??, id: parts.next()?? };
        parts.next().is_none().then_some(cursor)
    }
}

/// Up to `limit` events after `after`, oldest first.
pub async fn after(pool: &Pool, after: Cursor, limit: i64) -> Result<Vec<Event>, StoreError> {
    on_pool!(pool, |p| {
        let rows = sqlx::query(
        "SELECT e.at, e.source, e.id, e.service_id, s.url, s.method, e.kind, e.old_value, e.new_value, e.reason_code,
                e.scheme, e.network, e.asset
         FROM (SELECT changed_at AS at, CAST(0 AS BIGINT) AS source, id, service_id,
                      CASE new_status WHEN 'pending' THEN 'registered' ELSE new_status END AS kind,
                      old_status AS old_value, new_status AS new_value, reason_code,
                      NULL AS scheme, NULL AS network, NULL AS asset
               FROM status_changes WHERE changed_at >= $1
               UNION ALL
               SELECT changed_at, 1, id, service_id,
                      CASE kind WHEN 'price' THEN 'price_changed' WHEN 'pay_to' THEN 'pay_to_changed'
                                WHEN 'added' THEN 'offer_added' ELSE 'offer_removed' END,
                      old_value, new_value, NULL, scheme, network, asset
               FROM offer_changes WHERE changed_at >= $1
               UNION ALL
               SELECT p.first_seen, 2, p.rowid, p.service_id, 'listed_by_source', NULL,
                      (SELECT kind || ' ' || location FROM sources WHERE id = p.source_id), NULL, NULL, NULL, NULL
               FROM service_sources p WHERE p.first_seen >= $1
               UNION ALL
               SELECT a.at, 3, a.id, a.service_id, a.action, NULL, a.target, NULL, NULL, NULL, NULL
               FROM audit_log a WHERE a.at >= $1 AND a.service_id IS NOT NULL
                 AND a.action IN ('claimed', 'claim_lapsed', 'owner_delisted', 'owner_relisted', 'pinned')) e
         JOIN services s ON s.id = e.service_id
         -- What an operator hides leaves the feed with it.
         WHERE (e.at, e.source, e.id) > ($1, $2, $3) AND s.hidden_at IS NULL
         ORDER BY e.at, e.source, e.id
         LIMIT $4",
    )
    .bind(after.at)
    .bind(after.source)
    .bind(after.id)
    .bind(limit)
    .fetch_all(p)
    .await?;
        rows.iter().map(event).collect()
    })
}

/// One row of the merged feed, columns read by name.
fn event(row: &impl AnyRow) -> Result<Event, StoreError> {
    let (at, source, id): (i64, i64, i64) = (row.col("at")?, row.col("source")?, row.col("id")?);
    let offer = match (row.col("scheme")?, row.col("network")?, row.col("asset")?) {
        (Some(scheme), Some(network), Some(asset)) => Some(EventOffer { scheme, network, asset }),
        _ => None,
    };
    Ok(Event {
        at,
        service_id: row.col("service_id")?,
        url: row.col("url")?,
        method: row.col("method")?,
        kind: row.col("kind")?,
        old_value: row.col("old_value")?,
        new_value: row.col("new_value")?,
        reason_code: row.col("reason_code")?,
        offer,
        cursor: Cursor { at, source, id }.encode(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor { at: 1_795_240_801_000, source: 1, id: 42 };
        assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
        for bad in ["", "1.2", "1.2.3.4", "a.b.c", "1..3", "1.2.3 "] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }
}
