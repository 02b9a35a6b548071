//! Probe outcomes as Prometheus counters: every probe the crawler runs (scheduled, on demand, or
//! a lookup that stores nothing) counts once under its verdict and lane, and its duration lands
//! in a histogram. Cheap to clone; `GET /metrics` encodes them.

use super::worker::Lane;
use agora_crawler::ProbeReport;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProbeLabels {
    verdict: &'static str,
    lane: &'static str,
}

#[derive(Clone)]
pub struct ProbeMetrics {
    probes: Family<ProbeLabels, Counter>,
    seconds: Histogram,
}

impl Default for ProbeMetrics {
    fn default() -> Self {
        // 10 ms .. ~10 s: a probe is bounded by the prober's timeouts.
        let buckets = prometheus_client::metrics::histogram::exponential_buckets(0.01, 2.0, 11);
        ProbeMetrics { probes: Family::default(), seconds: Histogram::new(buckets) }
    }
}

impl ProbeMetrics {
    pub fn observe(&self, report: &ProbeReport, lane: Lane) {
        let lane = match lane {
            Lane::Scheduled => "scheduled",
            Lane::Priority => "priority",
        };
        self.probes.get_or_create(&ProbeLabels { verdict: report.verdict.as_str(), lane }).inc();
        if let Some(http) = &report.http {
            self.seconds.observe(http.timings_ms.total / 1000.0);
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register("agora_probes", "Probes run, by verdict and lane", self.probes.clone());
        registry.register(
            "agora_probe_duration_seconds",
            "Time one probe took (answered probes)",
            self.seconds.clone(),
        );
    }
}
