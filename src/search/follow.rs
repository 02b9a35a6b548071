//! Following an index another process writes: `agora mcp` runs beside `agora serve`, whose
//! indexer holds the index's writer lock. A follower never writes the index. It opens it
//! read-only and, before each search, reloads it when `meta.json` changed — every commit of the
//! writer replaces that small file, so "nothing new" costs one read. Before following, it brings
//! the index up to date itself when nobody holds the writer (a catalog with no `serve`
//! running), so it never answers from a missing or stale index; changes stored after that are
//! indexed by the next `serve`.

use super::build::{Unusable, open_checked, open_shared};
use super::indexer::Payload;
use super::schema::SCHEMA_VERSION;
use super::{IndexOp, SearchError, SearchIndex, Shared};
use crate::clock::Clock;
use crate::db::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::Index;
use tantivy::directory::Directory;
use tokio::sync::{mpsc, watch};

/// The file every commit replaces.
const META_FILE: &str = "meta.json";

/// Opens the index under `data_dir` to follow another process's commits (see the module).
pub async fn follow(data_dir: &Path, store: &Store, clock: Arc<dyn Clock>) -> Result<SearchIndex, SearchError> {
    match super::build::open(data_dir, store, clock).await {
        // Nobody else writes it: now caught up (or rebuilt); stopping commits and frees the lock.
        Ok(index) => index.stop().await,
        // `serve` (or a rebuild) holds it and keeps it current.
        Err(SearchError::Locked(_)) => {}
        Err(error) => return Err(error),
    }
    let dir = SearchIndex::dir(data_dir);
    let opened = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || -> Result<_, Unusable> {
            let (index, payload) = open_checked(&dir)?;
            let meta = read_meta(&index).map_err(|e| Unusable::Stale(e.to_string()))?;
            let mut shared = open_shared(&index)?;
            // No forgets reach a follower: its rows answer only briefly.
            shared.rows = super::hydrate::RowMemo::new(super::hydrate::FOLLOWER_ROW_TTL);
            Ok((index, payload, meta, shared))
        })
        .await
        .map_err(|_| SearchError::Closed)?
    };
    let (index, payload, meta, shared) = opened.map_err(|unusable| unusable_error(&dir, unusable))?;
    let shared = Arc::new(shared);
    let (publish, applied) = watch::channel(payload.seq);
    let (ops, inbox) = mpsc::channel(64);
    let follower = Follower { index, shared: Arc::clone(&shared), meta: Arc::new(meta), publish };
    tokio::spawn(follower.run(inbox));
    Ok(SearchIndex { shared, ops, applied, follows: true })
}

/// Why the index cannot be followed, as the operator should read it.
fn unusable_error(dir: &Path, unusable: Unusable) -> SearchError {
    let reason = match unusable {
        Unusable::Missing => "there is no search index yet".to_string(),
        Unusable::Stale(reason) => format!("the running agora writes an index this build cannot read ({reason})"),
        Unusable::Locked => "the index is locked".to_string(),
    };
    SearchError::Io { path: dir.to_path_buf(), source: std::io::Error::other(reason) }
}

fn read_meta(index: &Index) -> Result<Vec<u8>, SearchError> {
    index.directory().atomic_read(Path::new(META_FILE)).map_err(|error| SearchError::Io {
        path: PathBuf::from(META_FILE),
        source: std::io::Error::other(error.to_string()),
    })
}

/// The task answering a follower's flushes.
struct Follower {
    index: Index,
    shared: Arc<Shared>,
    /// `meta.json` as last loaded.
    meta: Arc<Vec<u8>>,
    publish: watch::Sender<i64>,
}

impl Follower {
    async fn run(mut self, mut inbox: mpsc::Receiver<IndexOp>) {
        while let Some(op) = inbox.recv().await {
            match op {
                IndexOp::Flush(reply) => {
                    let _ = reply.send(self.reload_if_changed().await);
                }
                IndexOp::Stop(reply) => {
                    let _ = reply.send(());
                    return;
                }
            }
        }
    }

    /// Reloads the reader when the writer committed since the last look; answers the change
    /// sequence now searchable.
    async fn reload_if_changed(&mut self) -> Result<i64, SearchError> {
        let (index, shared, known) = (self.index.clone(), Arc::clone(&self.shared), Arc::clone(&self.meta));
        let reloaded = tokio::task::spawn_blocking(move || -> Result<Option<(Vec<u8>, Payload)>, SearchError> {
            let meta = read_meta(&index)?;
            if meta == *known {
                return Ok(None);
            }
            let payload = payload_of(&meta).filter(|payload| payload.schema == SCHEMA_VERSION).ok_or_else(|| {
                SearchError::Io {
                    path: PathBuf::from(META_FILE),
                    source: std::io::Error::other(
                        "the index was rebuilt by another agora version: restart this one from the same build",
                    ),
                }
            })?;
            shared.refresh()?;
            Ok(Some((meta, payload)))
        })
        .await
        .map_err(|_| SearchError::Closed)??;
        if let Some((meta, payload)) = reloaded {
            self.meta = Arc::new(meta);
            self.publish.send_replace(payload.seq);
        }
        Ok(*self.publish.borrow())
    }
}

/// The commit payload inside `meta.json`.
fn payload_of(meta: &[u8]) -> Option<Payload> {
    let meta: serde_json::Value = serde_json::from_slice(meta).ok()?;
    Payload::parse(meta.get("payload")?.as_str())
}
