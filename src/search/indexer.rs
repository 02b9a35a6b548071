//! The indexer: the one task that owns the `IndexWriter`. It learns from the store's committed
//! sequence that something changed, waits [`COMMIT_DELAY`] to gather more, then reads every
//! service changed since the last applied sequence from SQLite (in change order), replaces their
//! documents, commits with the new sequence in the payload, reloads the reader and publishes a
//! new snapshot. Reading from SQLite rather than carrying rows in messages means a missed or
//! coalesced notification loses nothing: the next catch-up sees every change.

use super::schema::{document, id_term};
use super::{IndexOp, SearchError, Shared};
use crate::clock::Clock;
use crate::db::Pool;
use crate::db::search_feed;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tantivy::{IndexWriter, TantivyDocument};
use tokio::sync::{mpsc, watch};

/// How long after the first uncommitted change the indexer commits (the bound is ~1 s;
/// a commit itself costs 60–90 ms here).
pub const COMMIT_DELAY: Duration = Duration::from_millis(300);
/// How often SQLite is checked for changes committed by other processes (`agora register` or
/// `crawl` beside a running `serve`), whose commits this process's writer never sees.
const POLL_OTHER_PROCESSES: Duration = Duration::from_secs(1);
/// After a failed catch-up, try again this much later.
const RETRY_DELAY: Duration = Duration::from_secs(5);
/// Services read from SQLite per round trip.
pub const FEED_BATCH: i64 = 1000;

/// The commit payload: schema version and the highest change sequence applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    pub schema: u32,
    pub seq: i64,
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
    /// Highest change sequence committed to the index.
    pub(crate) applied: i64,
    pub(crate) publish: watch::Sender<i64>,
    pub(crate) norms: super::norms::NormsCache,
}

impl Indexer {
    /// Applies every change committed to SQLite after `applied`, commits and refreshes the
    /// snapshot. Returns the sequence now searchable.
    pub(crate) async fn catch_up(&mut self) -> Result<i64, SearchError> {
        let mut read = self.applied;
        if search_feed::max_change_seq(&self.pool).await? <= read {
            return Ok(self.applied);
        }
        let now = self.clock.now_ms();
        let norms = self.norms.get(&self.pool, now).await?;
        loop {
            let rows = search_feed::changed_since(&self.pool, read, FEED_BATCH, now, norms).await?;
            let Some(last) = rows.last() else { break };
            read = last.service.change_seq;
            let full = rows.len() as i64 == FEED_BATCH;
            // Before the commit that makes the change searchable: no search shows the old row.
            self.shared.rows.forget(rows.iter().map(|r| r.service.id));
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
            if !full {
                break;
            }
        }
        if read > self.applied {
            self.commit(read).await?;
        }
        Ok(self.applied)
    }

    async fn commit(&mut self, seq: i64) -> Result<(), SearchError> {
        let payload =
            serde_json::to_string(&Payload { schema: super::schema::SCHEMA_VERSION, seq }).unwrap_or_default();
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
                        let _ = reply.send(self.catch_up().await);
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
                _ = poll.tick(), if deadline.is_none() && store_open => {
                    if search_feed::max_change_seq(&self.pool).await.is_ok_and(|seq| seq > self.applied) {
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
