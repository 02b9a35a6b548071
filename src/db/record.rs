//! Recording one probe, inside the writer's transaction: the probe row, the service's new status
//! and schedule (via [`crate::lifecycle`]), the offers and what changed in them, the latest report,
//! and the status transition if any — all or nothing.

use super::StoreError;
use super::backend::{AnyRow, Conn};
pub use super::history_write::MAX_HISTORY_ROWS;
use super::history_write::{History, OfferKey, offer_key, record_offer_changes, trim_history};
use crate::lifecycle::{self, LifecyclePolicy, Outcome, State, Status};
use crate::on_conn;
use agora_crawler::x402::limits::MAX_REPORT_BYTES;
use agora_crawler::x402::price::usd_to_micros;
use agora_crawler::{Discovery, Listing, Offer, ProbeReport, Verdict};
use sqlx::QueryBuilder;
use std::collections::HashMap;
use std::sync::Arc;

/// One probe to record.
#[derive(Debug, Clone)]
pub struct ProbeRecord {
    pub service_id: i64,
    pub report: Arc<ProbeReport>,
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

/// Rows of a batch's probes, written together at the end of the writer's transaction: one UPDATE
/// per probe is unavoidable (each service's values differ), everything else is a multi-row
/// statement per batch — statements per commit are the writer's cost.
#[derive(Default)]
pub(super) struct Staged {
    states: HashMap<i64, State>,
    probes: Vec<ProbeRow>,
    reports: HashMap<i64, (i64, String)>,
    offers: HashMap<i64, Vec<Offer>>,
    status_rows: Vec<(i64, i64, Status, Status, Option<String>)>,
}

struct ProbeRow {
    service_id: i64,
    probed_at: i64,
    verdict: &'static str,
    http_status: Option<i64>,
    timings: Option<(Option<f64>, Option<f64>, f64)>,
    codes: String,
    hash: Option<String>,
}

/// The reason code of a route its origin withdrew.
pub const REMOVED_BY_ORIGIN: &str = "removed_by_origin";
const REMOVED_BY_ORIGIN_REASON: &str =
    "Its origin's own documents no longer list this route; it comes back when they list it again.";

/// Rows per multi-row statement (SQLite allows 32,766 bound parameters).
const ROWS_PER_STATEMENT: usize = 500;

impl Staged {
    /// Reads the lifecycle state of every service the batch will record, in one query per chunk.
    pub(super) async fn prefetch(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Staged, StoreError> {
        let mut staged = Staged::default();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            on_conn!(conn, |c| {
                let mut query = QueryBuilder::new(
                    "SELECT id, status, failure_streak, failing_since, interval_ms, challenge_hash, withdrawn FROM services WHERE id IN ",
                );
                super::in_list(&mut query, chunk);
                for row in query.build().fetch_all(c).await? {
                    staged.states.insert(row.col("id")?, state_of(&row)?);
                }
            });
        }
        Ok(staged)
    }

    /// Applies one probe: lifecycle, the service row, offer changes; stages the other rows.
    pub(super) async fn record(&mut self, conn: &mut Conn<'_>, record: &ProbeRecord) -> Result<Recorded, StoreError> {
        let id = record.service_id;
        let state = match self.states.get(&id) {
            Some(state) => state.clone(),
            None => {
                on_conn!(conn, |c| {
                    let row = sqlx::query(
                        "SELECT status, failure_streak, failing_since, interval_ms, challenge_hash, withdrawn FROM services WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(c)
                    .await?
                    .ok_or(StoreError::NoSuchService(id))?;
                    state_of(&row)?
                })
            }
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
        let mut next = lifecycle::next_state(&record.policy, &state, &outcome, now, record.jitter);
        // Its origin withdrew it: whatever the probe found, it stays delisted, saying why.
        let withdrawn_reason = state.withdrawn.then_some((REMOVED_BY_ORIGIN, REMOVED_BY_ORIGIN_REASON));
        if state.withdrawn {
            next.status = Status::Delisted;
        }
        let reason = withdrawn_reason.or(first_problem.map(|p| (p.code.as_str(), p.message.as_str())));
        // One UPDATE per probe (statements per commit are the writer's cost); listing columns only
        // change with a valid listing.
        let sql = if listing.is_some() { UPDATE_LISTED } else { UPDATE_FAILED };
        let discovery = listing.and_then(|l| l.discovery.as_ref());
        let change_seq: i64 = on_conn!(conn, |c| sqlx::query_scalar(sql)
            .bind(id)
            .bind(next.status.as_str())
            .bind(report.verdict.as_str())
            .bind(reason.map(|(code, _)| code))
            .bind(reason.map(|(_, message)| message))
            .bind(now)
            .bind(i64::from(next.failure_streak))
            .bind(next.failing_since)
            .bind(next.interval_ms)
            .bind(next.next_due_at)
            .bind(listing.map(|l| i64::from(l.x402_version)))
            .bind(discovery.and_then(|d| d.service_name.as_deref()))
            .bind(listing.map(|l| l.resource.description.as_str()))
            .bind(listing.and_then(|l| l.resource.mime_type.as_deref()))
            .bind(
                listing
                    .map(|_| serde_json::to_string(&discovery.map(|d| &d.tags).cloned().unwrap_or_default()))
                    .transpose()?,
            )
            .bind(discovery.and_then(|d| d.route_template.as_deref()))
            .bind(discovery.is_some_and(|d| d.valid && !(d.input.is_null() && d.output.is_null())))
            .bind(hash.as_deref())
            .bind(discovery.map(Discovery::schema_text))
            .bind(discovery.map(serde_json::to_string).transpose()?)
            .bind(discovery.map_or("http", Discovery::service_type))
            .bind(discovery.and_then(Discovery::tool_name))
            .bind(listing.is_some_and(|l| l.resource.icon_url.is_some()))
            .fetch_one(c)
            .await)?;

        if let (Some(listing), Some(hash)) = (listing, &hash)
            && state.challenge_hash.as_deref() != Some(hash.as_str())
        {
            // A new fingerprint: diff against the previous offers (staged earlier in this batch,
            // or stored), then replace them. An unchanged fingerprint rewrites nothing.
            if state.challenge_hash.is_some() {
                let old: Vec<OfferKey> = match self.offers.get(&id) {
                    Some(staged) => staged.iter().map(offer_key).collect(),
                    None => on_conn!(conn, |c| sqlx::query_as(
                        "SELECT scheme, network, asset, amount, pay_to FROM offers WHERE service_id = $1"
                    )
                    .bind(id)
                    .fetch_all(c)
                    .await)?,
                };
                if record_offer_changes(conn, id, &old, &listing.offers, now).await? > 0 {
                    trim_history(conn, History::Offers, id).await?;
                }
            }
            self.offers.insert(id, listing.offers.clone());
        }

        let timings = report.http.as_ref().map(|h| &h.timings_ms);
        let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
        self.probes.push(ProbeRow {
            service_id: id,
            probed_at: now,
            verdict: report.verdict.as_str(),
            http_status: report.http.as_ref().and_then(|h| h.status).map(i64::from),
            timings: timings.map(|t| (t.connect, t.first_byte, t.total)),
            codes: serde_json::to_string(&codes)?,
            hash: hash.clone(),
        });
        self.reports.insert(id, (now, stored_report(report)?));
        if next.status != state.status {
            self.status_rows.push((id, now, state.status, next.status, reason.map(|(code, _)| code.to_string())));
        }
        self.states.insert(
            id,
            State {
                status: next.status,
                failure_streak: next.failure_streak,
                failing_since: next.failing_since,
                interval_ms: next.interval_ms,
                challenge_hash: hash.or(state.challenge_hash.clone()),
                withdrawn: state.withdrawn,
            },
        );
        Ok(Recorded {
            service_id: id,
            previous: state.status,
            status: next.status,
            listing_changed: next.listing_changed,
            next_due_at: next.next_due_at,
            change_seq,
        })
    }

    /// Writes the staged rows: offers replaced, probes, latest reports, status transitions.
    pub(super) async fn flush(self, conn: &mut Conn<'_>) -> Result<(), StoreError> {
        let replaced: Vec<i64> = self.offers.keys().copied().collect();
        for chunk in replaced.chunks(ROWS_PER_STATEMENT) {
            on_conn!(conn, |c| {
                let mut query = QueryBuilder::new("DELETE FROM offers WHERE service_id IN (");
                let mut list = query.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build().execute(c).await.map(|done| done.rows_affected())
            })?;
        }
        let offers: Vec<(i64, usize, &Offer)> = self
            .offers
            .iter()
            .flat_map(|(id, offers)| offers.iter().enumerate().map(move |(position, offer)| (*id, position, offer)))
            .collect();
        for chunk in offers.chunks(ROWS_PER_STATEMENT / 2) {
            on_conn!(conn, |c| {
                let mut query = QueryBuilder::new(
                    "INSERT INTO offers (service_id, position, scheme, network, network_v1, family, testnet, asset, \
                     asset_symbol, decimals, amount, usd, usd_micros, usd_is_max, pay_to, max_timeout_seconds, extra, \
                     payment_flow, asset_transfer_method, payable) ",
                );
                let mut extras = Vec::with_capacity(chunk.len());
                for (_, _, offer) in chunk {
                    extras.push(serde_json::to_string(&offer.extra)?);
                }
                query.push_values(chunk.iter().zip(extras), |mut row, ((id, position, offer), extra)| {
                    row.push_bind(*id)
                        .push_bind(*position as i64)
                        .push_bind(offer.scheme.clone())
                        .push_bind(offer.network.clone())
                        .push_bind(offer.network_v1.clone())
                        .push_bind(offer.family.clone())
                        .push_bind(offer.testnet)
                        .push_bind(offer.asset.clone())
                        .push_bind(offer.asset_symbol.clone())
                        .push_bind(offer.decimals.map(i64::from))
                        .push_bind(offer.amount.clone())
                        .push_bind(offer.usd.clone())
                        .push_bind(offer.usd.as_deref().and_then(usd_to_micros))
                        .push_bind(offer.usd_is_max)
                        .push_bind(offer.pay_to.clone())
                        .push_bind(i64::try_from(offer.max_timeout_seconds).unwrap_or(i64::MAX))
                        .push_bind(extra)
                        .push_bind(offer.payment_flow.clone())
                        .push_bind(offer.asset_transfer_method.clone())
                        .push_bind(offer.payable);
                });
                query.build().execute(c).await.map(|done| done.rows_affected())
            })?;
        }
        for chunk in self.probes.chunks(ROWS_PER_STATEMENT) {
            on_conn!(conn, |c| {
                let mut query = QueryBuilder::new(
                    "INSERT INTO probes (service_id, probed_at, verdict, http_status, connect_ms, first_byte_ms, total_ms, \
                     codes, challenge_hash) ",
                );
                query.push_values(chunk, |mut row, probe| {
                    let (connect, first_byte, total) =
                        probe.timings.map_or((None, None, None), |(c, f, t)| (c, f, Some(t)));
                    row.push_bind(probe.service_id)
                        .push_bind(probe.probed_at)
                        .push_bind(probe.verdict)
                        .push_bind(probe.http_status)
                        .push_bind(connect)
                        .push_bind(first_byte)
                        .push_bind(total)
                        .push_bind(probe.codes.clone())
                        .push_bind(probe.hash.clone());
                });
                query.build().execute(c).await.map(|done| done.rows_affected())
            })?;
        }
        let reports: Vec<(i64, i64, String)> =
            self.reports.into_iter().map(|(id, (at, json))| (id, at, json)).collect();
        for chunk in reports.chunks(ROWS_PER_STATEMENT) {
            on_conn!(conn, |c| {
                let mut query = QueryBuilder::new("INSERT INTO latest_reports (service_id, probed_at, report) ");
                query.push_values(chunk, |mut row, (id, at, json)| {
                    row.push_bind(*id).push_bind(*at).push_bind(json.clone());
                });
                query.push(
                    " ON CONFLICT (service_id) DO UPDATE SET probed_at = excluded.probed_at, report = excluded.report",
                );
                query.build().execute(c).await.map(|done| done.rows_affected())
            })?;
        }
        for chunk in self.status_rows.chunks(ROWS_PER_STATEMENT) {
            on_conn!(conn, |c| {
                let mut query = QueryBuilder::new(
                    "INSERT INTO status_changes (service_id, changed_at, old_status, new_status, reason_code) ",
                );
                query.push_values(chunk, |mut row, (id, at, old, new, reason)| {
                    row.push_bind(*id)
                        .push_bind(*at)
                        .push_bind(old.as_str())
                        .push_bind(new.as_str())
                        .push_bind(reason.clone());
                });
                query.build().execute(c).await.map(|done| done.rows_affected())
            })?;
        }
        // New offers may drop (or newly pay) an address an owner proved, or pay a blocked one.
        if let Some(now) = self.probes.last().map(|p| p.probed_at) {
            super::claims::recheck_pay_to(conn, &replaced, now).await?;
            super::moderation::hide_matching(conn, None, Some(&replaced), now).await?;
        }
        let mut changed: Vec<i64> = self.status_rows.iter().map(|row| row.0).collect();
        changed.sort_unstable();
        changed.dedup();
        for id in changed {
            trim_history(conn, History::Statuses, id).await?;
        }
        Ok(())
    }
}

/// The report as stored. The validator's caps bound it (`x402::limits::MAX_REPORT_BYTES`); should
/// one still be larger, its raw challenge — kept for display only — is left out.
fn stored_report(report: &ProbeReport) -> Result<String, StoreError> {
    let json = serde_json::to_string(report)?;
    if json.len() <= MAX_REPORT_BYTES || report.challenge.is_none() {
        return Ok(json);
    }
    let slim = ProbeReport { challenge: None, ..report.clone() };
    Ok(serde_json::to_string(&slim)?)
}

fn state_of(row: &impl AnyRow) -> Result<State, StoreError> {
    Ok(State {
        status: Status::parse(&row.col::<String>("status")?).unwrap_or(Status::Pending),
        failure_streak: row.col::<i64>("failure_streak")?.try_into().unwrap_or(u32::MAX),
        failing_since: row.col("failing_since")?,
        interval_ms: row.col("interval_ms")?,
        challenge_hash: row.col("challenge_hash")?,
        withdrawn: row.col("withdrawn")?,
    })
}

const UPDATE_FAILED: &str = "UPDATE services SET status = $2, verdict = $3, reason_code = $4, reason = $5,
        last_probed_at = $6, failure_streak = $7, failing_since = $8, interval_ms = $9, next_due_at = $10,
        status_since = CASE WHEN status = $2 THEN status_since ELSE $6 END,
        lease_owner = NULL, lease_until = NULL,
        change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services)
    WHERE id = $1 RETURNING change_seq";

const UPDATE_LISTED: &str = "UPDATE services SET status = $2, verdict = $3, reason_code = $4, reason = $5,
        last_probed_at = $6, failure_streak = $7, failing_since = $8, interval_ms = $9, next_due_at = $10,
        status_since = CASE WHEN status = $2 THEN status_since ELSE $6 END,
        lease_owner = NULL, lease_until = NULL,
        change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services),
        x402_version = $11, name = $12, description = $13, mime_type = $14, tags = $15, route_template = $16,
        has_schema = $17, challenge_hash = $18, schema_text = $19, discovery = $20, last_listed_at = $6, first_listed_at = COALESCE(first_listed_at, $6),
        service_type = $21, tool_name = $22,
        -- A listing without an icon forgets the one kept (one with an icon: `jobs::icons`).
        icon_url = CASE WHEN $23 THEN icon_url END, icon_hash = CASE WHEN $23 THEN icon_hash END,
        icon_problem = CASE WHEN $23 THEN icon_problem END
    WHERE id = $1 RETURNING change_seq";

#[cfg(test)]
mod tests {
    use super::{MAX_REPORT_BYTES, stored_report};
    use agora_crawler::probe::refused_report;
    use agora_crawler::{Finding, ProbeReport, Verdict};
    use serde_json::{Value, json};

    fn report(challenge: Option<Value>) -> ProbeReport {
        let base = refused_report("https://api.example/x", "GET", Finding::new("x", "a problem"));
        ProbeReport { verdict: Verdict::Invalid, challenge, ..base }
    }

    #[test]
    fn a_report_over_the_bound_is_stored_without_its_raw_challenge() {
        let small = stored_report(&report(Some(json!({"x402Version": 2})))).expect("json");
        assert!(small.contains("x402Version"), "kept when it fits: {small}");
        let huge = report(Some(json!({"pad": "x".repeat(MAX_REPORT_BYTES)})));
        let stored = stored_report(&huge).expect("json");
        assert!(stored.len() <= MAX_REPORT_BYTES, "{} bytes", stored.len());
        let value: Value = serde_json::from_str(&stored).expect("json");
        assert!(value["challenge"].is_null() && value["url"] == "https://api.example/x", "{value}");
    }
}
