//! Opening the index: open what is on disk, check it (schema version and store in the payload,
//! every segment readable), catch up with the store from the payload's position, and compare
//! document counts. Anything wrong — missing, corrupt, another schema or store, counts that
//! disagree — and the index is rebuilt from the store, which is cheap enough to be the standard
//! recovery
//! (`reliability-perf.md` §D2). A rebuild writes into `index.rebuild/` and renames it into
//! place only when complete, so a crash mid-rebuild leaves the old index or nothing.

use super::indexer::{FEED_BATCH, Indexer, Payload, SharedWriter, with_writer};
use super::schema::{SCHEMA_VERSION, build_schema, document, register_analyzer};
use super::snapshot::Snapshot;
use super::{SearchError, SearchIndex, Shared};
use crate::clock::Clock;
use crate::db::backend::Pool;
use crate::db::{Store, change_feed, search_feed};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tantivy::directory::error::LockError;
use tantivy::index::SegmentId;
use tantivy::indexer::NoMergePolicy;
use tantivy::{Index, IndexWriter, ReloadPolicy, SegmentMeta, TantivyDocument, TantivyError};
use tokio::sync::{mpsc, watch};

/// Writer memory in steady state (one thread) and for a rebuild (all threads together).
const WRITER_BYTES: usize = 48 << 20;
const REBUILD_BYTES: usize = 256 << 20;

/// A rebuilt index is merged into one segment per search thread, each at least this large:
/// segments are searched in parallel, and below this size a thread costs more than it saves.
const MIN_PARALLEL_SEGMENT_DOCS: u32 = 50_000;

/// Threads a search may use (one per segment): the cores, at most four.
fn search_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Progress of a rebuild: (services indexed, services to index).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Why an index on disk is not used as is.
pub(crate) enum Unusable {
    /// None yet (a first start): build it.
    Missing,
    /// Rebuild it.
    Stale(String),
    /// Someone else holds it: do not touch.
    Locked,
}

impl From<TantivyError> for Unusable {
    fn from(error: TantivyError) -> Self {
        match error {
            TantivyError::LockFailure(LockError::LockBusy, _) => Unusable::Locked,
            other => Unusable::Stale(other.to_string()),
        }
    }
}

struct Opened {
    shared: Arc<Shared>,
    writer: IndexWriter<TantivyDocument>,
    payload: Payload,
}

fn try_open(dir: &Path) -> Result<Opened, Unusable> {
    let (index, payload) = open_checked(dir)?;
    // The writer first: its lock says whether another process owns this index.
    let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
    let shared = open_shared(&index)?;
    Ok(Opened { shared: Arc::new(shared), writer, payload })
}

/// Opens the index in `dir` if it is this build's: the payload names this schema version and
/// the fields match. Takes no lock.
pub(crate) fn open_checked(dir: &Path) -> Result<(Index, Payload), Unusable> {
    if !dir.join("meta.json").exists() {
        return Err(Unusable::Missing);
    }
    let mut index = Index::open_in_dir(dir)?;
    let payload = Payload::parse(index.load_metas()?.payload.as_deref())
        .ok_or_else(|| Unusable::Stale("no catch-up sequence in the commit payload".into()))?;
    if payload.schema != SCHEMA_VERSION {
        return Err(Unusable::Stale(format!("schema version {} (this build uses {SCHEMA_VERSION})", payload.schema)));
    }
    let (schema, _) = build_schema();
    if index.schema() != schema {
        return Err(Unusable::Stale("the fields differ from this build's".into()));
    }
    register_analyzer(&index);
    if search_threads() > 1 {
        index.set_multithread_executor(search_threads())?;
    }
    Ok((index, payload))
}

/// The reader and the first snapshot of an opened index.
pub(crate) fn open_shared(index: &Index) -> Result<Shared, Unusable> {
    let (_, fields) = build_schema();
    let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    let vocab = RwLock::default();
    // Decodes every stored document: a damaged store shows up here, not in a later search.
    let snapshot = Snapshot::build(reader.searcher(), None, fields.facts, &vocab)?;
    let related = super::related::RelatedTerms::build(&snapshot.searcher, &fields)?;
    Ok(Shared {
        fields,
        reader,
        snapshot: RwLock::new(Arc::new(snapshot)),
        vocab,
        related: RwLock::new(Arc::new(related)),
        filter_cache: Default::default(),
        words: Default::default(),
        rows: Default::default(),
        running: Default::default(),
        threads: super::turns::SearchThreads::start(std::thread::available_parallelism().map_or(2, |n| n.get())),
    })
}

/// Opens (rebuilding if needed) the index under `data_dir`, catches it up with `store` and
/// starts the indexer, which then follows the store (its writer's commits, other writers' by
/// notification and polling).
pub async fn open(data_dir: &Path, store: &Store, clock: Arc<dyn Clock>) -> Result<SearchIndex, SearchError> {
    let pool = store.read();
    let committed = store.writer().committed_seq();
    let identity = change_feed::store_identity(pool).await?;
    let dir = SearchIndex::dir(data_dir);
    let mut rebuilt = false;
    loop {
        let opened = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || try_open(&dir)).await.map_err(|_| SearchError::Closed)?
        };
        let trimmed = match &opened {
            Ok(opened) => change_feed::trimmed_past(pool, opened.payload.seq).await?,
            Err(_) => false,
        };
        let opened = match opened {
            Ok(opened) if trimmed && !rebuilt => {
                tracing::warn!(dir = %dir.display(), position = opened.payload.seq, "the change log was trimmed past the search index's position; rebuilding");
                drop(opened);
                rebuild(data_dir, pool, clock.as_ref(), &|_, _| {}).await?;
                rebuilt = true;
                continue;
            }
            Ok(opened) if opened.payload.store != identity && !rebuilt => {
                tracing::warn!(dir = %dir.display(), built_from = %opened.payload.store, "the search index was built from another store; rebuilding");
                drop(opened);
                rebuild(data_dir, pool, clock.as_ref(), &|_, _| {}).await?;
                rebuilt = true;
                continue;
            }
            Ok(opened) => opened,
            Err(Unusable::Locked) => return Err(SearchError::Locked(dir)),
            // A first start (nothing to index) is not a problem: say what happens, quietly. An
            // index gone from under a catalog is worth a warning.
            Err(Unusable::Missing) if !rebuilt => {
                if search_feed::searchable_count(pool).await? == 0 {
                    tracing::info!(dir = %dir.display(), "creating the search index");
                } else {
                    tracing::warn!(dir = %dir.display(), "no search index: rebuilding the search index from SQLite");
                }
                rebuild(data_dir, pool, clock.as_ref(), &|_, _| {}).await?;
                rebuilt = true;
                continue;
            }
            Err(Unusable::Missing) => {
                return Err(SearchError::Io { path: dir, source: std::io::Error::other("the index was not created") });
            }
            Err(Unusable::Stale(reason)) if !rebuilt => {
                tracing::warn!(%reason, dir = %dir.display(), "rebuilding the search index from SQLite");
                rebuild(data_dir, pool, clock.as_ref(), &|_, _| {}).await?;
                rebuilt = true;
                continue;
            }
            Err(Unusable::Stale(reason)) => {
                return Err(SearchError::Io { path: dir, source: std::io::Error::other(reason) });
            }
        };
        let (publish, applied) = watch::channel(opened.payload.seq);
        let mut indexer = Indexer {
            shared: Arc::clone(&opened.shared),
            writer: Arc::new(Mutex::new(Some(opened.writer))),
            pool: pool.clone(),
            clock: Arc::clone(&clock),
            applied: opened.payload.seq,
            store: identity.clone(),
            touches: store.writer().touch_log(),
            publish,
            norms: Default::default(),
        };
        indexer.catch_up().await?;
        let expected = search_feed::searchable_count(pool).await?;
        let found = opened.shared.snapshot().num_docs();
        if u64::try_from(expected).ok() != Some(found) && !rebuilt {
            tracing::warn!(expected, found, "search index disagrees with SQLite; rebuilding");
            release(&indexer.writer).await;
            drop(indexer);
            drop(opened.shared);
            rebuild(data_dir, pool, clock.as_ref(), &|_, _| {}).await?;
            rebuilt = true;
            continue;
        }
        let (ops, inbox) = mpsc::channel(64);
        let shared = Arc::clone(&opened.shared);
        tokio::spawn(indexer.run(inbox, committed));
        return Ok(SearchIndex { shared, ops, applied, follows: false });
    }
}

async fn release(writer: &SharedWriter) {
    let writer = Arc::clone(writer);
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(writer) = writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            let _ = writer.wait_merging_threads();
        }
    })
    .await;
}

/// Rebuilds the index of `data_dir` from SQLite (`agora reindex`, and recovery on open).
/// Refuses while another process holds the current index. Returns the services indexed.
pub async fn rebuild(
    data_dir: &Path,
    pool: &Pool,
    clock: &dyn Clock,
    progress: Progress<'_>,
) -> Result<u64, SearchError> {
    let dir = SearchIndex::dir(data_dir);
    let staging = data_dir.join(format!("{}.rebuild", super::INDEX_DIR));
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| SearchError::Io { path, source }
    };
    // Hold the current index's lock (if it opens at all) so a running server is not pulled
    // out from under.
    let guard = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || -> Result<Option<IndexWriter<TantivyDocument>>, SearchError> {
            let Ok(index) = Index::open_in_dir(&dir) else { return Ok(None) };
            match index.writer_with_num_threads(1, 15 << 20) {
                Ok(writer) => Ok(Some(writer)),
                Err(TantivyError::LockFailure(LockError::LockBusy, _)) => Err(SearchError::Locked(dir)),
                Err(_) => Ok(None),
            }
        })
        .await
        .map_err(|_| SearchError::Closed)??
    };
    match std::fs::remove_dir_all(&staging) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&staging)(e)),
        _ => {}
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let (schema, fields) = build_schema();
    let index = Index::create_in_dir(&staging, schema)?;
    register_analyzer(&index);
    let threads = search_threads();
    let bulk = index.writer_with_num_threads(threads, REBUILD_BYTES)?;
    // The merges at the end are planned here, not by the policy (which could take a segment first).
    bulk.set_merge_policy(Box::new(NoMergePolicy));
    let writer: SharedWriter = Arc::new(Mutex::new(Some(bulk)));
    // The feed's head first: what is committed after it is caught up on open (upserts are
    // idempotent), what is below it is in the reads that follow.
    let seq = change_feed::head(pool).await?;
    let store = change_feed::store_identity(pool).await?;
    let total = u64::try_from(search_feed::searchable_count(pool).await?).unwrap_or(0);
    let (mut after, mut done) = (0, 0u64);
    progress(0, total);
    let now = clock.now_ms();
    let norms = crate::db::quality::latency_norms(pool, now).await?;
    loop {
        let rows = search_feed::searchable_after(pool, after, FEED_BATCH, now, &norms).await?;
        let Some(last) = rows.last() else { break };
        after = last.service.id;
        done += rows.len() as u64;
        with_writer(&writer, move |writer| {
            for service in &rows {
                writer.add_document(document(&fields, service))?;
            }
            Ok(())
        })
        .await?;
        progress(done, total.max(done));
    }
    let payload = serde_json::to_string(&Payload { schema: SCHEMA_VERSION, seq, store }).unwrap_or_default();
    with_writer(&writer, move |writer| {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        // Few, balanced segments search fastest (one per search thread); merging keeps the payload.
        let merges: Vec<_> = balanced_groups(&writer.index().searchable_segment_metas()?, threads)
            .into_iter()
            .filter(|group| group.len() > 1)
            .map(|group| writer.merge(&group))
            .collect();
        for merge in merges {
            merge.wait()?;
        }
        Ok(())
    })
    .await?;
    release(&writer).await;
    drop(guard);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&dir)(e)),
        _ => {}
    }
    std::fs::rename(&staging, &dir).map_err(io(&dir))?;
    Ok(done)
}

/// Splits segments into at most `threads` groups of nearly equal document counts, each of at
/// least [`MIN_PARALLEL_SEGMENT_DOCS`] where the total allows (largest first, each into the
/// lightest group).
fn balanced_groups(metas: &[SegmentMeta], threads: usize) -> Vec<Vec<SegmentId>> {
    let total: u32 = metas.iter().map(SegmentMeta::num_docs).sum();
    let count = usize::try_from(total / MIN_PARALLEL_SEGMENT_DOCS).unwrap_or(usize::MAX).clamp(1, threads.max(1));
    let mut sorted: Vec<&SegmentMeta> = metas.iter().collect();
    sorted.sort_by_key(|meta| std::cmp::Reverse(meta.num_docs()));
    let mut groups: Vec<(u32, Vec<SegmentId>)> = vec![(0, Vec::new()); count];
    for meta in sorted {
        if let Some(lightest) = groups.iter_mut().min_by_key(|(docs, _)| *docs) {
            lightest.0 += meta.num_docs();
            lightest.1.push(meta.id());
        }
    }
    groups.into_iter().map(|(_, ids)| ids).filter(|ids| !ids.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_balance_across_threads() {
        let metas: Vec<SegmentMeta> = [40_000, 35_000, 30_000, 20_000, 5_000]
            .into_iter()
            .map(|docs| Index::create_in_ram(build_schema().0).new_segment().with_max_doc(docs).meta().clone())
            .collect();
        let docs_of = |group: &[SegmentId]| -> u32 {
            group.iter().map(|id| metas.iter().find(|m| m.id() == *id).map_or(0, SegmentMeta::num_docs)).sum()
        };
        // 130k documents: two groups of at least 50k, nearly equal.
        let groups = balanced_groups(&metas, 4);
        let sizes: Vec<u32> = groups.iter().map(|g| docs_of(g)).collect();
        assert_eq!(sizes.len(), 2);
        assert_eq!(sizes.iter().sum::<u32>(), 130_000);
        assert!(sizes.iter().all(|s| (60_000..=70_000).contains(s)), "{sizes:?}");
        // One thread, or a small catalog: one segment.
        assert_eq!(balanced_groups(&metas, 1).len(), 1);
        assert_eq!(balanced_groups(&metas[4..], 4).len(), 1);
        assert!(balanced_groups(&[], 4).is_empty());
    }
}
