//! What recording a probe writes to the history tables: offer changes (added, removed, price,
//! payTo) judged against the previous listing, and the write-time trim that keeps each service's
//! history to [`MAX_HISTORY_ROWS`] rows per table.

use super::StoreError;
use super::backend::Conn;
use crate::on_conn;
use agora_crawler::Offer;
use std::collections::HashMap;

/// Rows of each history table kept per service: years of a real service's changes, while a
/// seller that flips its status or prices at every probe cannot grow its history without end.
pub const MAX_HISTORY_ROWS: i64 = 1000;

#[derive(Debug, Clone, Copy)]
pub(super) enum History {
    Offers,
    Statuses,
}

/// Deletes a service's oldest history rows beyond [`MAX_HISTORY_ROWS`] (an index walk of that
/// many rows; done only when the service's history grew).
pub(super) async fn trim_history(conn: &mut Conn<'_>, table: History, id: i64) -> Result<(), StoreError> {
    let sql = match table {
        History::Offers => {
            "DELETE FROM offer_changes WHERE service_id = $1 AND id IN (SELECT id FROM offer_changes
             WHERE service_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $3 OFFSET $2)"
        }
        History::Statuses => {
            "DELETE FROM status_changes WHERE service_id = $1 AND id IN (SELECT id FROM status_changes
             WHERE service_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $3 OFFSET $2)"
        }
    };
    on_conn!(conn, |c| sqlx::query(sql)
        .bind(id)
        .bind(MAX_HISTORY_ROWS)
        // "No limit": SQLite wants a LIMIT before an OFFSET, PostgreSQL refuses a negative one.
        .bind(i64::MAX)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// (scheme, network, asset, amount, payTo): what an offer change is judged on.
pub(super) type OfferKey = (String, String, String, String, String);

pub(super) fn offer_key(offer: &Offer) -> OfferKey {
    (offer.scheme.clone(), offer.network.clone(), offer.asset.clone(), offer.amount.clone(), offer.pay_to.clone())
}

/// Offers are matched on (scheme, network, asset); a changed amount is a price change, a changed
/// payTo is worth its own row (it is where buyers' money goes).
pub(super) async fn record_offer_changes(
    conn: &mut Conn<'_>,
    id: i64,
    old: &[OfferKey],
    new: &[Offer],
    now: i64,
) -> Result<usize, StoreError> {
    let before: HashMap<(&str, &str, &str), (&str, &str)> = old
        .iter()
        .map(|(s, n, a, amount, pay_to)| ((s.as_str(), n.as_str(), a.as_str()), (amount.as_str(), pay_to.as_str())))
        .collect();
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
    let count = changes.len();
    for ((scheme, network, asset), kind, old_value, new_value) in changes {
        on_conn!(conn, |c| sqlx::query(
            "INSERT INTO offer_changes (service_id, changed_at, kind, scheme, network, asset, old_value, new_value)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(now)
        .bind(kind)
        .bind(scheme)
        .bind(network)
        .bind(asset)
        .bind(old_value)
        .bind(new_value)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(count)
}
