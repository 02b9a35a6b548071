//! Sellers' use cases: register a URL (stored, then probed at once), look one up ("why am I (not)
//! listed": the stored service and its latest report, or for a URL not registered a probe run
//! now that stores nothing), and the stored state alone (the web status page).

use super::{Catalog, CatalogError};
use crate::db::register::NewService;
use crate::db::services::{self, ServiceRow};
use crate::jobs::Lane;
use crate::jobs::register::{new_service, register};
use crate::params::ParamError;
use agora_crawler::{Offer, ProbeReport, ProbeTarget};

/// A stored service with its offers and latest probe report.
#[derive(Debug, Clone)]
pub struct ServiceState {
    pub service: ServiceRow,
    pub offers: Vec<Offer>,
    /// `None` before the first probe.
    pub report: Option<ProbeReport>,
}

/// A registration that was stored and probed.
#[derive(Debug, Clone)]
pub struct Registration {
    /// After the first (or, for a known URL, a fresh) probe, with that probe's report.
    pub state: ServiceState,
    /// False when the URL was already registered (it was probed again).
    pub created: bool,
}

/// What a lookup found.
#[derive(Debug, Clone)]
pub enum Lookup {
    Registered(Box<ServiceState>),
    /// Not registered: what a probe finds now (nothing stored).
    Unregistered(Box<ProbeReport>),
}

impl Catalog {
    /// Registers `url` (method GET unless given) and probes it at once, ahead of scheduled work
    /// on its host. A URL that cannot be probed at all is [`CatalogError::Refused`], unstored.
    pub async fn register(&self, url: &str, method: Option<&str>) -> Result<Registration, CatalogError> {
        let registration = register(&self.jobs, url, method).await?;
        let state = self.state_after_probe(registration.service, &registration.report).await?;
        Ok(Registration { state, created: registration.created })
    }

    /// The stored service for `url` and `method` with its latest report, else a probe run now
    /// under the crawler's rules (politeness gap, robots.txt) that stores nothing.
    pub async fn lookup(&self, url: &str, method: Option<&str>) -> Result<Lookup, CatalogError> {
        let target = parse_target(url, method)?;
        if let Some(state) = self.state_of(&target).await? {
            return Ok(Lookup::Registered(Box::new(state)));
        }
        let report = self.jobs.worker().fetch_report(&new_service(&target), Lane::Priority).await?;
        Ok(Lookup::Unregistered(Box::new(report)))
    }

    /// The canonical form of `url` and `method` (as Agora stores them), and the stored service
    /// with its latest report if registered.
    pub async fn status(
        &self,
        url: &str,
        method: Option<&str>,
    ) -> Result<(NewService, Option<ServiceState>), CatalogError> {
        let target = parse_target(url, method)?;
        let found = self.state_of(&target).await?;
        Ok((new_service(&target), found))
    }

    async fn state_of(&self, target: &ProbeTarget) -> Result<Option<ServiceState>, CatalogError> {
        let pool = self.store.read();
        let Some(service) = services::lookup(pool, target.url.as_str(), target.method.as_str()).await? else {
            return Ok(None);
        };
        let id = service.id;
        Ok(Some(ServiceState {
            offers: services::offers(pool, id).await?,
            report: services::latest_report(pool, id).await?,
            service,
        }))
    }

    /// The stored service and offers after a probe Agora just ran, with that probe's report.
    pub(super) async fn state_after_probe(
        &self,
        service: ServiceRow,
        report: &ProbeReport,
    ) -> Result<ServiceState, CatalogError> {
        let offers = services::offers(self.store.read(), service.id).await?;
        Ok(ServiceState { service, offers, report: Some(report.clone()) })
    }
}

/// The canonical target of a URL and method, or the parameter at fault.
fn parse_target(url: &str, method: Option<&str>) -> Result<ProbeTarget, ParamError> {
    ProbeTarget::parse(url, method).map_err(|finding| {
        let param = if finding.code == "method_unsupported" { "method" } else { "url" };
        ParamError::new(param, finding.message)
    })
}
