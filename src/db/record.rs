//! Recording one probe, inside the writer's transaction: the probe row, the service's new status
//! and schedule (via [`crate::lifecycle`]), the offers and what changed in them, the latest report,
//! and the status transition if any — all or nothing.

use super::StoreError;
use crate::lifecycle::{self, LifecyclePolicy, Outcome, State, Status};
use agora_crawler::x402::price::usd_to_micros;
use agora_crawler::{Listing, Offer, ProbeReport, Verdict};
use sqlx::{Row, SqliteConnection};
use std::collections::HashMap;

/// One probe to record.
#[derive(Debug, Clone)]
pub struct ProbeRecord {
    pub service_id: i64,
    pub report: ProbeReport,
    pub probed_at: i64,
    /// In [-1, 1]: spreads the next due time (see [`lifecycle::next_state`]).
    pub jitter: f64,
    pub policy: LifecyclePolicy,
}

/// What recording did to the service.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub service_id: i64,
    pub previous: Status,
    pub status: Status,
    pub listing_changed: bool,
    pub next_due_at: i64,
    pub change_seq: i64,
}

pub(super) async fn apply(conn: &mut SqliteConnection, record: &ProbeRecord) -> Result<Recorded, StoreError> {
    let id = record.service_id;
    let row = sqlx::query(
        "SELECT status, failure_streak, failing_since, interval_ms, challenge_hash FROM services WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NoSuchService(id))?;
    let state = State {
        status: Status::parse(row.try_get("status")?).unwrap_or(Status::Pending),
        failure_streak: row.try_get::<i64, _>("failure_streak")?.try_into().unwrap_or(u32::MAX),
        failing_since: row.try_get("failing_since")?,
        interval_ms: row.try_get("interval_ms")?,
        challenge_hash: row.try_get("challenge_hash")?,
    };
    let report = &record.report;
    let listing = report.listing.as_ref().filter(|_| report.verdict == Verdict::Listed);
    let hash = listing.map(Listing::fingerprint);
    let first_problem = report.problems.first();
    let outcome = Outcome {
        verdict: report.verdict,
        reason_code: first_problem.map(|p| p.code.as_str()),
        challenge_hash: hash.as_deref(),
        retry_after: report.retry_after,
    };
    let now = record.probed_at;
    let next = lifecycle::next_state(&record.policy, &state, &outcome, now, record.jitter);
    let change_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services")
        .fetch_one(&mut *conn)
        .await?;

    sqlx::query(
        "UPDATE services SET status = ?2, verdict = ?3, reason_code = ?4, reason = ?5, last_probed_at = ?6,
                failure_streak = ?7, failing_since = ?8, interval_ms = ?9, next_due_at = ?10, change_seq = ?11,
                status_since = CASE WHEN status = ?2 THEN status_since ELSE ?6 END
         WHERE id = ?1",
    )
    .bind(id)
    .bind(next.status.as_str())
    .bind(report.verdict.as_str())
    .bind(first_problem.map(|p| p.code.as_str()))
    .bind(first_problem.map(|p| p.message.as_str()))
    .bind(now)
    .bind(i64::from(next.failure_streak))
    .bind(next.failing_since)
    .bind(next.interval_ms)
    .bind(next.next_due_at)
    .bind(change_seq)
    .execute(&mut *conn)
    .await?;

    if let (Some(listing), Some(hash)) = (listing, &hash) {
        store_listing(conn, id, listing, hash, now).await?;
    }

    let timings = report.http.as_ref().map(|h| &h.timings_ms);
    let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
    sqlx::query(
        "INSERT INTO probes (service_id, probed_at, verdict, http_status, connect_ms, first_byte_ms, total_ms, codes,
                             challenge_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(now)
    .bind(report.verdict.as_str())
    .bind(report.http.as_ref().and_then(|h| h.status).map(i64::from))
    .bind(timings.and_then(|t| t.connect))
    .bind(timings.and_then(|t| t.first_byte))
    .bind(timings.map(|t| t.total))
    .bind(serde_json::to_string(&codes)?)
    .bind(hash.as_deref())
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "INSERT INTO latest_reports (service_id, probed_at, report, challenge) VALUES (?, ?, ?, ?)
         ON CONFLICT (service_id) DO UPDATE SET probed_at = excluded.probed_at, report = excluded.report,
                                                challenge = excluded.challenge",
    )
    .bind(id)
    .bind(now)
    .bind(serde_json::to_string(report)?)
    .bind(report.challenge.as_ref().map(serde_json::to_string).transpose()?)
    .execute(&mut *conn)
    .await?;

    if next.status != state.status {
        sqlx::query(
            "INSERT INTO status_changes (service_id, changed_at, old_status, new_status, reason_code)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(now)
        .bind(state.status.as_str())
        .bind(next.status.as_str())
        .bind(first_problem.map(|p| p.code.as_str()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(Recorded {
        service_id: id,
        previous: state.status,
        status: next.status,
        listing_changed: next.listing_changed,
        next_due_at: next.next_due_at,
        change_seq,
    })
}

/// Stores a valid listing: service metadata, offers, and offer changes against the previous ones.
async fn store_listing(
    conn: &mut SqliteConnection,
    id: i64,
    listing: &Listing,
    hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    let discovery = listing.discovery.as_ref();
    let has_schema = discovery.is_some_and(|d| d.valid && !(d.input.is_null() && d.output.is_null()));
    sqlx::query(
        "UPDATE services SET x402_version = ?2, name = ?3, description = ?4, mime_type = ?5, tags = ?6,
                route_template = ?7, has_schema = ?8, challenge_hash = ?9, last_listed_at = ?10,
                first_listed_at = COALESCE(first_listed_at, ?10)
         WHERE id = ?1",
    )
    .bind(id)
    .bind(i64::from(listing.x402_version))
    .bind(discovery.and_then(|d| d.service_name.as_deref()))
    .bind(&listing.resource.description)
    .bind(listing.resource.mime_type.as_deref())
    .bind(serde_json::to_string(&discovery.map(|d| &d.tags).cloned().unwrap_or_default())?)
    .bind(discovery.and_then(|d| d.route_template.as_deref()))
    .bind(has_schema)
    .bind(hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;

    let old: Vec<(String, String, String, String, String)> =
        sqlx::query_as("SELECT scheme, network, asset, amount, pay_to FROM offers WHERE service_id = ?")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    if !old.is_empty() {
        record_offer_changes(conn, id, &old, &listing.offers, now).await?;
    }
    sqlx::query("DELETE FROM offers WHERE service_id = ?").bind(id).execute(&mut *conn).await?;
    for (position, offer) in listing.offers.iter().enumerate() {
        sqlx::query(
            "INSERT INTO offers (service_id, position, scheme, network, network_v1, family, testnet, asset,
                                 asset_symbol, decimals, amount, usd, usd_micros, usd_is_max, pay_to,
                                 max_timeout_seconds, extra)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(&offer.scheme)
        .bind(&offer.network)
        .bind(offer.network_v1.as_deref())
        .bind(&offer.family)
        .bind(offer.testnet)
        .bind(&offer.asset)
        .bind(offer.asset_symbol.as_deref())
        .bind(offer.decimals.map(i64::from))
        .bind(&offer.amount)
        .bind(offer.usd.as_deref())
        .bind(offer.usd.as_deref().and_then(usd_to_micros))
        .bind(offer.usd_is_max)
        .bind(&offer.pay_to)
        .bind(i64::try_from(offer.max_timeout_seconds).unwrap_or(i64::MAX))
        .bind(serde_json::to_string(&offer.extra)?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Offers are matched on (scheme, network, asset); a changed amount is a price change, a changed
/// payTo is worth its own row (it is where buyers' money goes).
async fn record_offer_changes(
    conn: &mut SqliteConnection,
    id: i64,
    old: &[(String, String, String, String, String)],
    new: &[Offer],
    now: i64,
) -> Result<(), StoreError> {
    let before: HashMap<(&str, &str, &str), (&str, &str)> =
        old.iter().map(|(s, n, a, amount, pay_to)| ((s.as_str(), n.as_str(), a.as_str()), (amount.as_str(), pay_to.as_str()))).collect();
    let after: HashMap<(&str, &str, &str), (&str, &str)> = new
        .iter()
        .map(|o| ((o.scheme.as_str(), o.network.as_str(), o.asset.as_str()), (o.amount.as_str(), o.pay_to.as_str())))
        .collect();
    let mut changes = Vec::new();
    for (key, (amount, pay_to)) in &after {
        match before.get(key) {
            None => changes.push((*key, "added", None, Some(*amount))),
            Some((old_amount, old_pay_to)) => {
                if old_amount != amount {
                    changes.push((*key, "price", Some(*old_amount), Some(*amount)));
                }
                if old_pay_to != pay_to {
                    changes.push((*key, "pay_to", Some(*old_pay_to), Some(*pay_to)));
                }
            }
        }
    }
    for (key, (amount, _)) in &before {
        if !after.contains_key(key) {
            changes.push((*key, "removed", Some(*amount), None));
        }
    }
    changes.sort();
    for ((scheme, network, asset), kind, old_value, new_value) in changes {
        sqlx::query(
            "INSERT INTO offer_changes (service_id, changed_at, kind, scheme, network, asset, old_value, new_value)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(now)
        .bind(kind)
        .bind(scheme)
        .bind(network)
        .bind(asset)
        .bind(old_value)
        .bind(new_value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
