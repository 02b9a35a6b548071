//! Search: a Tantivy index derived from SQLite (`shared/ARCHITECTURE.md`), with filters, facets,
//! sorting and near-real-time sync.
//!
//! - [`schema`]: fields, analyzer, service → document.
//! - [`facts`], [`snapshot`], [`spellings`]: per-document offer facts, decoded once per segment,
//!   and each segment's memo of typo and prefix spellings; [`word_cache`]: query words' scored
//!   matches per segment, reused while the index statistics hold; [`word_join`]: a query's words
//!   joined over those lists.
//! - [`norms`]: the latency yardsticks the indexer scores quality against.
//! - [`related`]: the catalog's vocabulary of words sellers use together (query recall).
//! - [`indexer`]: the one task that owns the `IndexWriter`; it catches up with SQLite after
//!   commits (the store publishes its highest committed `change_seq`) and commits ≤ 1 s later.
//! - [`build`]: open, verify, catch up, or rebuild from scratch; [`follow`]: read an index
//!   another process writes (`agora mcp` beside `serve`).
//! - [`request`], [`filters`], [`text`], [`expand`], [`forms`], [`collect`], [`top`], [`results`],
//!   [`hydrate`], [`matched`]: one search function for the API and the web pages.
//!
//! The index records how far it has caught up in each commit's payload (`{"schema", "seq"}`):
//! every service change bumps `services.change_seq` in the same SQLite transaction, and the
//! single writer commits them in order, so "applied everything ≤ seq" is one number.

pub mod build;
pub mod collect;
pub mod expand;
pub mod facet_counts;
pub mod facts;
pub mod filters;
pub mod follow;
pub mod formats;
pub mod forms;
pub mod hit_offers;
pub mod hydrate;
pub mod indexer;
pub mod matched;
pub mod norms;
pub mod plain;
pub mod plain_bits;
pub mod related;
pub mod request;
pub mod results;
pub mod schema;
pub mod snapshot;
pub mod spellings;
pub mod text;
pub mod top;
pub(crate) mod turns;
pub mod understand;
pub mod word_cache;
pub mod word_join;

pub use crate::params::ParamError;
pub use request::{SearchRequest, Sort, StatusFilter, TestnetMode, TextMode};
pub use results::{FacetValue, Facets, Found, FoundHit, Matched, PriceFacet};

use facts::Vocab;
use schema::Fields;
use snapshot::Snapshot;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use tantivy::IndexReader;
use tokio::sync::{mpsc, oneshot, watch};

/// The index directory inside the data directory (`shared/INTERFACES.md`).
pub const INDEX_DIR: &str = "index";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    Param(#[from] ParamError),
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
    #[error("the search index at {0} is in use by another agora process (stop it first)")]
    Locked(PathBuf),
    #[error("search index I/O error at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the search index is closed")]
    Closed,
    #[error(
        "the change log was trimmed past this node's search index (it fell more than a week behind); \
         restart the node to rebuild its index"
    )]
    Trimmed,
}

/// What every search and the indexer share.
pub(crate) struct Shared {
    pub(crate) fields: Fields,
    pub(crate) reader: IndexReader,
    pub(crate) snapshot: RwLock<Arc<Snapshot>>,
    pub(crate) vocab: RwLock<Vocab>,
    /// Words sellers use together, rebuilt from the index (see `related`).
    pub(crate) related: RwLock<Arc<related::RelatedTerms>>,
    /// Results of text-free searches, valid for one snapshot (see `results`).
    pub(crate) filter_cache: std::sync::Mutex<results::FilterCache>,
    /// Query words' scored matches per segment (`word_cache`).
    pub(crate) words: Arc<word_cache::WordCache>,
    /// Hits' rows, recently read (`hydrate`).
    pub(crate) rows: hydrate::RowMemo,
    /// Searches running or waiting for their turn: one alone may spread its segments over the
    /// cores; under load each runs on its own thread, since the others keep the cores busy and
    /// the hand-offs only cost.
    pub(crate) running: std::sync::atomic::AtomicUsize,
    /// Searches run on one thread per core (`turns`). More at once only interleave on the
    /// cores, each evicting the others' posting lists and facts from the CPU caches (under a
    /// long-tail load that took a third of the throughput); the rest wait their turn in order.
    pub(crate) threads: turns::SearchThreads,
}

impl Shared {
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Reloads the reader and publishes a snapshot with the new segments decoded.
    pub(crate) fn refresh(&self) -> tantivy::Result<()> {
        self.reader.reload()?;
        let previous = self.snapshot();
        let next = Snapshot::build(self.reader.searcher(), Some(&previous), self.fields.facts, &self.vocab)?;
        if self.related().stale(next.num_docs()) {
            let rebuilt = related::RelatedTerms::build(&next.searcher, &self.fields)?;
            *self.related.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(rebuilt);
        }
        let alive = next.searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
        self.words.retain_segments(&alive);
        *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        Ok(())
    }

    pub(crate) fn related(&self) -> Arc<related::RelatedTerms> {
        Arc::clone(&self.related.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Messages to the indexer task. (Changes themselves arrive through the store's committed
/// sequence; the indexer reads them from SQLite, so none can be lost.)
pub(crate) enum IndexOp {
    /// Catch up with everything committed so far, commit, make it searchable; answer the
    /// sequence now searchable.
    Flush(oneshot::Sender<Result<i64, SearchError>>),
    /// Flush, then stop.
    Stop(oneshot::Sender<()>),
}

/// Handle to the search index. Cheap to clone.
#[derive(Clone)]
pub struct SearchIndex {
    pub(crate) shared: Arc<Shared>,
    ops: mpsc::Sender<IndexOp>,
    applied: watch::Receiver<i64>,
    /// Another process writes this index (`follow`): each search first looks for its newer
    /// commits.
    follows: bool,
}

impl SearchIndex {
    /// The index directory of a data directory.
    pub fn dir(data_dir: &Path) -> PathBuf {
        data_dir.join(INDEX_DIR)
    }

    /// Whether another process writes this index.
    pub fn follows(&self) -> bool {
        self.follows
    }

    /// Makes everything committed to SQLite so far searchable, now (instead of within the
    /// commit delay). Returns the change sequence the index has applied.
    pub async fn flush(&self) -> Result<i64, SearchError> {
        let (reply, answer) = oneshot::channel();
        self.ops.send(IndexOp::Flush(reply)).await.map_err(|_| SearchError::Closed)?;
        answer.await.map_err(|_| SearchError::Closed)?
    }

    /// Commits what is pending and stops the indexer. Searches keep working on the last
    /// snapshot; later flushes answer `Closed`.
    pub async fn stop(&self) {
        let (reply, answer) = oneshot::channel();
        if self.ops.send(IndexOp::Stop(reply)).await.is_ok() {
            let _ = answer.await;
        }
    }

    /// The change sequence searchable so far; changes after each index commit.
    pub fn applied_seq(&self) -> watch::Receiver<i64> {
        self.applied.clone()
    }

    /// Documents in the index.
    pub fn num_docs(&self) -> u64 {
        self.shared.snapshot().num_docs()
    }

    /// Heap bytes of the decoded per-segment facts.
    pub fn facts_bytes(&self) -> usize {
        self.shared.snapshot().facts_bytes()
    }

    /// The word cache's (hits, computed, evictions) and pairs held (`word_cache`).
    pub fn word_cache_counts(&self) -> ((u64, u64, u64), usize) {
        (self.shared.words.counts(), self.shared.words.pairs())
    }
}
