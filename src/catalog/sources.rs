//! Sources as a use case (docs/SOURCES.md): add one over the API — stored at once, imported in
//! the background, its services queued for probes — re-import the due ones (every 6 hours,
//! backing off after failures), list them, read one, and wait for a run (tests drive the
//! background import to its end with [`Catalog::source_finished`]).

use super::{Catalog, CatalogError};
use crate::db::sources::{self, SourceRow};
use crate::params::ParamError;
use crate::sources::{SourceKind, add, detect, run};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// Imports running in this process, by source id: the receiver turns `true` when the run ends.
#[derive(Default)]
pub struct SourceRuns {
    running: Mutex<HashMap<i64, watch::Receiver<bool>>>,
}

impl SourceRuns {
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Receiver<bool>>> {
        self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A source with whether an import of it is running now.
#[derive(Debug, Clone)]
pub struct SourceState {
    pub row: SourceRow,
    pub running: bool,
}

impl Catalog {
    /// Adds the source at `location` (an http(s) URL: a facilitator base, or a list ending in
    /// `.txt`) and starts importing it in the background, unless a run is already going.
    pub async fn add_source(&self, location: &str, kind: Option<SourceKind>) -> Result<SourceState, CatalogError> {
        let url = url::Url::parse(location)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && location.len() <= 2048)
            .ok_or_else(|| ParamError::new("location", "expected the http(s) URL of a facilitator or a URL list"))?;
        let kind = match kind {
            Some(kind) => kind,
            None => detect(&self.jobs, url.as_str()).await.map_err(|e| CatalogError::Failed(e.to_string()))?,
        };
        let id = add(&self.jobs, kind, location).await.map_err(|e| CatalogError::Failed(e.to_string()))?;
        self.start_run(id, kind, location.to_string());
        self.source(id).await?.ok_or(CatalogError::Failed(format!("source {id} vanished")))
    }

    /// Starts a background run of source `id` unless one is running; answers whether it did.
    fn start_run(&self, id: i64, kind: SourceKind, location: String) -> bool {
        let (done, finished) = watch::channel(false);
        {
            let mut running = self.sources.running();
            if running.get(&id).is_some_and(|run| !*run.borrow()) {
                return false;
            }
            running.insert(id, finished);
        }
        let jobs = self.jobs.clone();
        tokio::spawn(async move {
            // Its services are queued for probes as its pages are read.
            if let Err(error) = run(&jobs, id, kind, &location).await {
                tracing::warn!(%error, source = id, "source import failed");
            }
            let _ = done.send(true);
        });
        true
    }

    /// Starts a run of every source that is due (never run, or 6 hours after its last run, later
    /// after failures); answers how many started. `serve` calls it every minute.
    pub async fn run_due_sources(&self) -> Result<usize, CatalogError> {
        let due = sources::due(self.store.read(), self.now_ms()).await?;
        let mut started = 0;
        for (id, kind, location) in due {
            let Some(kind) = SourceKind::parse(&kind) else { continue };
            if self.start_run(id, kind, location) {
                started += 1;
            }
        }
        Ok(started)
    }

    /// Every source, oldest first.
    pub async fn sources(&self) -> Result<Vec<SourceState>, CatalogError> {
        let rows = sources::all(self.store.read()).await?;
        let running = self.sources.running();
        Ok(rows
            .into_iter()
            .map(|row| {
                let busy = running.get(&row.id).is_some_and(|run| !*run.borrow());
                SourceState { row, running: busy }
            })
            .collect())
    }

    /// One source.
    pub async fn source(&self, id: i64) -> Result<Option<SourceState>, CatalogError> {
        Ok(self.sources().await?.into_iter().find(|source| source.row.id == id))
    }

    /// Resolves when the import of source `id` started in this process has finished (at once
    /// when none is running).
    pub async fn source_finished(&self, id: i64) {
        let run = self.sources.running().get(&id).cloned();
        if let Some(mut run) = run {
            let _ = run.wait_for(|done| *done).await;
        }
    }
}
