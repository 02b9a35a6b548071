//! The latency norms the indexer scores services against (`db::quality`), read again when they
//! may have gone stale: at once in a small catalog (reading them costs less than a commit), at
//! most every [`LARGE_CATALOG_TTL`] in a large one (a pass over a week of samples), and then in
//! the background: the catch-up that finds them stale goes on with the ones held, so a
//! registration never waits for the pass.

use crate::db::StoreError;
use crate::db::backend::Pool;
use crate::db::quality::{LatencyNorms, latency_norms};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Up to this many measured services, norms are read for every catch-up.
pub const SMALL_CATALOG: usize = 2_000;
/// How long a large catalog's norms are kept.
pub const LARGE_CATALOG_TTL: Duration = Duration::from_secs(300);

type Reading = oneshot::Receiver<Result<LatencyNorms, StoreError>>;

#[derive(Debug, Default)]
pub struct NormsCache {
    held: Option<(LatencyNorms, Instant)>,
    /// A read started in the background, not taken yet.
    reading: Option<Reading>,
}

impl NormsCache {
    /// Norms for a catch-up at `now` (epoch ms): read now when none are held or the catalog is
    /// small; otherwise the ones held, with a fresh read started when they are stale.
    pub async fn get(&mut self, pool: &Pool, now: i64) -> Result<&LatencyNorms, StoreError> {
        self.take_finished_read();
        let held = match self.held.take() {
            Some((norms, read)) if norms.measured > SMALL_CATALOG => {
                if read.elapsed() >= LARGE_CATALOG_TTL && self.reading.is_none() {
                    let (reply, reading) = oneshot::channel();
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(latency_norms(&pool, now).await);
                    });
                    self.reading = Some(reading);
                }
                (norms, read)
            }
            _ => (latency_norms(pool, now).await?, Instant::now()),
        };
        Ok(&self.held.insert(held).0)
    }

    /// Waits for a background read, if one runs, and keeps what it read (tests drive the
    /// refresh with this instead of waiting for time to pass).
    #[cfg(test)]
    async fn settle(&mut self) {
        if let Some(reading) = self.reading.take() {
            self.keep(reading.await);
        }
    }

    fn take_finished_read(&mut self) {
        let Some(reading) = &mut self.reading else { return };
        match reading.try_recv() {
            Err(oneshot::error::TryRecvError::Empty) => {}
            Err(oneshot::error::TryRecvError::Closed) => self.reading = None,
            Ok(read) => {
                self.reading = None;
                self.keep(Ok(read));
            }
        }
    }

    fn keep(&mut self, read: Result<Result<LatencyNorms, StoreError>, oneshot::error::RecvError>) {
        match read {
            Ok(Ok(norms)) => self.held = Some((norms, Instant::now())),
            // The held norms stay; the next stale catch-up tries again.
            Ok(Err(error)) => tracing::warn!(%error, "latency norms could not be read; keeping the last ones"),
            Err(_) => {}
        }
    }

    /// Marks the held norms as read `age` ago (tests).
    #[cfg(test)]
    fn age_by(&mut self, age: Duration) {
        if let Some((_, read)) = &mut self.held {
            *read = read.checked_sub(age).unwrap_or(*read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::SqliteConnection;

    /// `n` listed services of one category answering in `ms`, probed an hour before `now`.
    async fn measured(conn: &mut SqliteConnection, n: usize, ms: f64, now: i64) {
        sqlx::query("BEGIN").execute(&mut *conn).await.expect("begin");
        for _ in 0..n {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO services (url, method, host, registered_at, status_since, interval_ms, next_due_at, status, tags)
                 VALUES ('https://a.example/' || (SELECT COUNT(*) FROM services), 'GET', 'a.example', $1, $1, 3600000, $1, 'listed', '[\"ocr\"]')
                 RETURNING id",
            )
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .expect("service");
            sqlx::query("INSERT INTO probes (service_id, probed_at, verdict, http_status, total_ms, codes) VALUES ($1, $2, 'listed', 402, $3, '[]')")
                .bind(id)
                .bind(now - 3_600_000)
                .bind(ms)
                .execute(&mut *conn)
                .await
                .expect("probe");
        }
        sqlx::query("COMMIT").execute(&mut *conn).await.expect("commit");
    }

    #[tokio::test]
    async fn a_large_catalogs_stale_norms_are_read_again_in_the_background() {
        let dir = tempfile::tempdir().expect("dir");
        let (mut conn, pool) = crate::db::connect::open(dir.path()).await.expect("open");
        let pool = Pool::Sqlite(pool);
        let now = 1_800_000_000_000;
        measured(&mut conn, 3, 20.0, now).await;
        let mut cache = NormsCache::default();
        // Small: read for every catch-up.
        assert_eq!(cache.get(&pool, now).await.expect("norms").categories.get("ocr"), Some(&20.0));
        measured(&mut conn, SMALL_CATALOG, 20.0, now).await;
        let norms = cache.get(&pool, now).await.expect("norms");
        assert_eq!(norms.measured, SMALL_CATALOG + 3);
        // Large and fresh: kept, whatever the probes say since.
        measured(&mut conn, SMALL_CATALOG * 2, 80.0, now).await;
        assert_eq!(cache.get(&pool, now).await.expect("norms").categories.get("ocr"), Some(&20.0));
        assert!(cache.reading.is_none(), "nothing read while fresh");
        // Stale: the catch-up goes on with the held norms while they are read again.
        cache.age_by(LARGE_CATALOG_TTL);
        assert_eq!(cache.get(&pool, now).await.expect("norms").categories.get("ocr"), Some(&20.0));
        assert!(cache.reading.is_some(), "a read started");
        cache.settle().await;
        let norms = cache.get(&pool, now).await.expect("norms");
        assert_eq!(norms.categories.get("ocr"), Some(&80.0), "the median of the new probes");
        assert_eq!(norms.measured, SMALL_CATALOG * 3 + 3);
        assert!(cache.reading.is_none(), "fresh again");
        // The database goes away mid-run: the read in the background fails, the held norms stay.
        cache.age_by(LARGE_CATALOG_TTL);
        pool.close().await;
        assert_eq!(cache.get(&pool, now).await.expect("held").categories.get("ocr"), Some(&80.0));
        cache.settle().await;
        assert_eq!(cache.get(&pool, now).await.expect("still held").categories.get("ocr"), Some(&80.0));
    }
}
