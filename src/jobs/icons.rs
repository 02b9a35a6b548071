//! After a listed probe, the seller's icon: fetched when its URL is new (or a failed fetch is a
//! day old), under the same manners as probes — the host's politeness gap, robots.txt, a lane
//! permit — through the icon fetcher (the probe's address policy, a 64 KiB cap), checked
//! (`agora_crawler::icon`), and kept by the writer. An icon that fails is recorded with its
//! reason and never blocks the listing.

use super::worker::{JobError, Lane, Mannered, Worker};
use crate::db::icons::{self, IconOutcome};
use agora_crawler::icon::{self, Icon};
use agora_crawler::{Finding, ProbeReport, Verdict};
use url::Url;

impl Worker {
    /// Refreshes service `id`'s icon from `report` (a listed one), if it needs it.
    pub async fn refresh_icon(&self, id: i64, report: &ProbeReport, lane: Lane) -> Result<(), JobError> {
        if report.verdict != Verdict::Listed {
            return Ok(());
        }
        // Most listings name no icon: nothing to read (the listing's write already forgot any
        // icon kept before).
        let Some(url) = report.listing.as_ref().and_then(|l| l.resource.icon_url.clone()) else { return Ok(()) };
        let now = self.now_ms();
        if !icons::stored(self.store().read(), id).await?.needs_fetch(&url, now) {
            return Ok(());
        }
        let result = self.fetch_icon(&url, lane).await?.map_err(|finding| finding.code);
        self.store().writer().icon(IconOutcome { service_id: id, url, result, at: now }).await?;
        Ok(())
    }

    /// Fetches the icon at `url` with the crawler's manners; the finding says why it was not kept.
    pub async fn fetch_icon(&self, url: &str, lane: Lane) -> Result<Result<Icon, Finding>, JobError> {
        let Ok(url) = Url::parse(url) else {
            return Ok(Err(Finding::new("icon_unavailable", "The icon URL does not parse.")));
        };
        let host = url.host_str().unwrap_or_default().to_string();
        Ok(match self.politely(&url, &host, lane, || icon::fetch(self.icon_fetcher(), &url)).await? {
            Mannered::Done(fetched) => fetched,
            Mannered::Refused(refusal, _) => Err(Finding::new("icon_unavailable", refusal.message)),
        })
    }
}
