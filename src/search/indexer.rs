//! The indexer: the one task that owns the `IndexWriter`. It learns that something changed —
//! from this process's writer, from another node's NOTIFY (PostgreSQL), or by polling — waits
//! [`COMMIT_DELAY`] to gather more, then reads every service changed since the applied position
//! from the store ([`change_feed`]: SQLite's change sequence, or PostgreSQL's change log below
//! the transaction watermark), replaces their documents, commits with the new position in the
//! payload, reloads the reader and publishes a new snapshot. Reading from the store rather than
//! carrying rows in messages means a missed or coalesced wake-up loses nothing: the next
//! catch-up sees every change. The services it applies are touched in the answer caches' log
//! first, so no cached answer outlives the index that changed under it.

use super::schema::{document, id_term};
use super::{IndexOp, SearchError, Shared};
use crate::clock::Clock;
use crate::db::Pool;
use crate::db::change_feed::{self, CatchUp};
use crate::db::touch::TouchLog;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tantivy::{IndexWriter, TantivyDocument};
use tokio::sync::{mpsc, watch};

/// How long after the first uncommitted change the indexer commits (the bound is ~1 s;
/// a commit itself costs 60–90 ms here).
pub const COMMIT_DELAY: Duration = Duration::from_millis(300);
/// How often the store is checked for changes committed by other processes (`agora register` or
/// `crawl` beside a running `serve`, other nodes on PostgreSQL), whose commits this process's
/// writer never sees: the safety net under PostgreSQL's notifications.
const POLL_OTHER_PROCESSES: Duration = Duration::from_secs(1);
/// After a failed catch-up, try again this much later.
const RETRY_DELAY: Duration = Duration::from_secs(5);
/// A flush waits at most this long for PostgreSQL's watermark to pass this node's last commit
/// (another transaction in the cluster, still running, holds it back), checking this often.
const FLUSH_WAIT: Duration = Duration::from_secs(10);
const WATERMARK_CHECK: Duration = Duration::from_millis(10);
/// Services read from SQLite per round trip.
pub const FEED_BATCH: i64 = 1000;

/// The commit payload: schema version, the position applied ([`change_feed`]) and the store it
/// was read from (absent in indexes written before PostgreSQL: SQLite's).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    pub schema: u32,
    pub seq: i64,
    #[serde(default = "sqlite_store", skip_serializing_if = "is_sqlite")]
    pub store: String,
}

fn sqlite_store() -> String {
    "sqlite".to_string()
}

fn is_sqlite(store: &str) -> bool {
    store == "sqlite"
}

impl Payload {
    pub fn parse(text: Option<&str>) -> Option<Payload> {
        serde_json::from_str(text?).ok()
    }
}

pub(crate) type SharedWriter = Arc<Mutex<Option<IndexWriter<TantivyDocument>>>>;

/// Runs `work` on the writer on the blocking pool (commits fsync; adds tokenize).
pub(crate) async fn with_writer<T: Send + 'static>(
    writer: &SharedWriter,
    work: impl FnOnce(&mut IndexWriter<TantivyDocument>) -> tantivy::Result<T> + Send + 'static,
) -> Result<T, SearchError> {
    let writer = Arc::clone(writer);
    let task = tokio::task::spawn_blocking(move || {
        let mut guard = writer.lock().unwrap_or_else(PoisonError::into_inner);
        let writer = guard.as_mut().ok_or(SearchError::Closed)?;
        work(writer).map_err(SearchError::from)
    });
    task.await.map_err(|_| SearchError::Closed)?
}

pub(crate) struct Indexer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) writer: SharedWriter,
    pub(crate) pool: Pool,
    pub(crate) clock: Arc<dyn Clock>,
    /// The feed position committed to the index.
    pub(crate) applied: i64,
    /// The store's identity, written into every commit ([`change_feed::store_identity`]).
    pub(crate) store: String,
    /// The answer caches' log: services this index changed are touched before it commits.
    pub(crate) touches: Arc<TouchLog>,
    pub(crate) publish: watch::Sender<i64>,
    pub(crate) norms: super::norms::NormsCache,
}

impl Indexer {
    /// Applies every change committed to the store after `applied`, commits and refreshes the
    /// snapshot. Returns the position now searchable.
    pub(crate) async fn catch_up(&mut self) -> Result<i64, SearchError> {
        let Some(mut feed) = CatchUp::start(&self.pool, self.applied).await? else {
            return Ok(self.applied);
        };
        let now = self.clock.now_ms();
        let norms = self.norms.get(&self.pool, now).await?;
        let mut changed = false;
        loop {
            let rows = feed.next(&self.pool, FEED_BATCH, now, norms).await?;
            if rows.is_empty() {
                break;
            }
            changed = true;
            // Before the commit that makes the change searchable: no search shows the old row,
            // no cached answer outlives it.
            let ids: Vec<i64> = rows.iter().map(|r| r.service.id).collect();
            self.shared.rows.forget(ids.iter().copied());
            self.touches.touch(&ids);
            let fields = self.shared.fields;
            let applied = with_writer(&self.writer, move |writer| {
                for service in &rows {
                    writer.delete_term(id_term(&fields, service.service.id));
                    if service.searchable() {
                        writer.add_document(document(&fields, service))?;
                    }
                }
                Ok(())
            })
            .await;
            if let Err(error) = applied {
                self.rollback().await;
                return Err(error);
            }
        }
        // Rows this catch-up should have read may have been trimmed meanwhile (only when this
        // index was already more than a week behind): its position would skip them.
        if change_feed::trimmed_past(&self.pool, self.applied).await? {
            self.rollback().await;
            return Err(SearchError::Trimmed);
        }
        if feed.position() > self.applied {
            if changed {
                self.commit(feed.position()).await?;
            } else {
                // Only the watermark moved (other databases' or non-catalog transactions): no
                // index commit; the payload's older position re-reads an empty range at worst.
                self.applied = feed.position();
                self.publish.send_replace(self.applied);
            }
        }
        Ok(self.applied)
    }

    /// Catches up until the index holds position `target` (what this node's writer has
    /// committed), or [`FLUSH_WAIT`] has passed: on PostgreSQL a transaction still running
    /// elsewhere can hold the watermark below a commit that is already acknowledged.
    async fn catch_up_to(&mut self, target: i64) -> Result<i64, SearchError> {
        let deadline = tokio::time::Instant::now() + FLUSH_WAIT;
        loop {
            let applied = self.catch_up().await?;
            if applied >= target || tokio::time::Instant::now() >= deadline {
                return Ok(applied);
            }
            tokio::time::sleep(WATERMARK_CHECK).await;
        }
    }

    async fn commit(&mut self, seq: i64) -> Result<(), SearchError> {
        let payload = Payload { schema: super::schema::SCHEMA_VERSION, seq, store: self.store.clone() };
        let payload = serde_json::to_string(&payload).unwrap_or_default();
        let committed = with_writer(&self.writer, move |writer| {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()
        })
        .await;
        if let Err(error) = committed {
            self.rollback().await;
            return Err(error);
        }
        self.applied = seq;
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.refresh()).await.map_err(|_| SearchError::Closed)??;
        self.publish.send_replace(seq);
        Ok(())
    }

    /// Drops uncommitted work after a failure; the next catch-up starts again at `applied`.
    async fn rollback(&mut self) {
        if let Err(error) = with_writer(&self.writer, |writer| writer.rollback()).await {
            tracing::error!(%error, "search index rollback failed");
        }
    }

    /// Commits pending work and releases the writer (waiting for merges to finish).
    async fn close(mut self) {
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "search index: last catch-up failed; the next start catches up");
        }
        let writer = Arc::clone(&self.writer);
        let _ = tokio::task::spawn_blocking(move || {
            let taken = writer.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(writer) = taken
                && let Err(error) = writer.wait_merging_threads()
            {
                tracing::warn!(%error, "search index merge did not finish");
            }
        })
        .await;
    }

    /// The task: catch up [`COMMIT_DELAY`] after a change, at once on a flush, finally on stop.
    pub(crate) async fn run(mut self, mut inbox: mpsc::Receiver<IndexOp>, mut committed: watch::Receiver<i64>) {
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut store_open = true;
        let mut notified = crate::db::notify::listen(&self.pool);
        let mut poll = tokio::time::interval(POLL_OTHER_PROCESSES);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wait = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                op = inbox.recv() => match op {
                    Some(IndexOp::Flush(reply)) => {
                        deadline = None;
                        let target = *committed.borrow();
                        let _ = reply.send(self.catch_up_to(target).await);
                    }
                    Some(IndexOp::Stop(reply)) => {
                        self.close().await;
                        let _ = reply.send(());
                        return;
                    }
                    None => {
                        self.close().await;
                        return;
                    }
                },
                changed = committed.changed(), if store_open => {
                    if changed.is_err() {
                        store_open = false;
                    } else if deadline.is_none() {
                        deadline = Some(tokio::time::Instant::now() + COMMIT_DELAY);
                    }
                }
                woken = async { notified.as_mut()?.changed().await.ok() }, if notified.is_some() && store_open => {
                    if woken.is_none() {
                        notified = None;
                    } else if deadline.is_none() {
                        deadline = Some(tokio::time::Instant::now() + COMMIT_DELAY);
                    }
                }
                _ = poll.tick(), if deadline.is_none() && store_open => {
                    if change_feed::pending(&self.pool, self.applied).await.unwrap_or(false) {
                        deadline = Some(tokio::time::Instant::now());
                    }
                }
                () = wait => {
                    deadline = None;
                    if let Err(error) = self.catch_up().await {
                        tracing::warn!(%error, "search index catch-up failed; retrying");
                        deadline = Some(tokio::time::Instant::now() + RETRY_DELAY);
                    }
                }
            }
        }
    }
}
