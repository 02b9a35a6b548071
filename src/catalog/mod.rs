//! The catalog core: the use cases every front end calls — [`search`], service [`detail`],
//! [`register`] and lookup, [`recrawl`], the [`changes`] feed, the [`export`], Bazaar
//! [`discovery`], [`sources`], [`stats`] and search [`demand`] — over the store, the crawl service (jobs), the search index and
//! the clock. The JSON API, the web pages, `/discovery/*` (and MCP next) call only these and
//! differ only in how they read a request and render an answer; every failure is one
//! [`CatalogError`].

pub mod admin;
pub mod changes;
pub mod claims;
pub mod demand;
pub mod detail;
pub mod discovery;
pub mod error;
pub mod export;
pub mod icons;
pub mod owner;
pub mod recrawl;
pub mod register;
pub mod search;
pub mod sources;
pub mod stats;

pub use error::CatalogError;

use crate::clock::Clock;
use crate::db::Store;
use crate::jobs::Dispatcher;
use crate::lifecycle::LifecyclePolicy;
use crate::ownership::OwnershipSettings;
use crate::search::SearchIndex;
use std::sync::Arc;

/// The catalog's parts. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    store: Store,
    jobs: Dispatcher,
    index: SearchIndex,
    clock: Arc<dyn Clock>,
    recrawls: Arc<recrawl::RecrawlClaims>,
    sources: Arc<sources::SourceRuns>,
    ownership: Arc<OwnershipSettings>,
    demand: Arc<demand::DemandCounter>,
}

impl Catalog {
    /// The catalog over its parts; starts writing zero-result counts in the background.
    pub fn new(store: Store, jobs: Dispatcher, index: SearchIndex, clock: Arc<dyn Clock>) -> Catalog {
        let demand = Arc::new(demand::DemandCounter::default());
        demand::spawn_flusher(Arc::downgrade(&demand), store.clone(), Arc::clone(&clock));
        Catalog {
            demand,
            store,
            jobs,
            index,
            clock,
            recrawls: Arc::default(),
            sources: Arc::default(),
            ownership: Arc::default(),
        }
    }

    /// The same catalog checking proofs against `settings` (its public URL, its operator).
    pub fn with_ownership(self, settings: OwnershipSettings) -> Catalog {
        Catalog { ownership: Arc::new(settings), ..self }
    }

    /// What proofs are bound to.
    pub fn ownership(&self) -> &OwnershipSettings {
        &self.ownership
    }

    /// Catalog time (epoch ms): the clock the crawl schedules with, so "3 h ago" and uptime
    /// windows agree with the history they describe.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The lifecycle rules the crawler runs (the about page shows them).
    pub fn policy(&self) -> &LifecyclePolicy {
        self.jobs.worker().policy()
    }

    /// The search index (`serve` flushes it after the demo registrations).
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Freshness of answers derived from one service: read [`Self::service_generation`] before
    /// reading the service; the answer is current while [`Self::service_unchanged`] holds.
    pub fn service_generation(&self) -> u64 {
        self.store.writer().touches().generation()
    }

    /// Whether service `id` is unwritten since `generation` (by this process).
    pub fn service_unchanged(&self, id: i64, generation: u64) -> bool {
        !self.store.writer().touches().touched_since(id, generation)
    }

    /// Freshness of search answers: the change sequence the index has made searchable. One
    /// index snapshot answers a query the same way.
    pub fn search_generation(&self) -> u64 {
        u64::try_from(*self.index.applied_seq().borrow()).unwrap_or(0)
    }
}
