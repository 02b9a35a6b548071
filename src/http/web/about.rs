//! `GET /about`: what Agora is, how listing works (the figures come from the lifecycle policy the
//! crawler runs, flags included, so the page cannot drift from it), what searchers did not find
//! (demand a seller can meet), and where the machine interfaces are.

use crate::app::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use std::time::Duration;

#[derive(Template, WebTemplate)]
#[template(path = "about.html")]
pub struct AboutPage {
    base: String,
    min: String,
    max: String,
    backoff_start: String,
    backoff_max: String,
    recheck: String,
    degrade_after: u32,
    delist_after: String,
    /// The most-missed searches of the last [`DEMAND_DAYS`] days (`None`: could not be read).
    demand: Option<Vec<MissedRow>>,
    demand_days: i64,
    demand_from: i64,
}

/// One zero-result search, with the link that searches it again.
pub struct MissedRow {
    q: String,
    link: String,
    misses: i64,
    days: i64,
}

/// Days of zero-result searches the page lists, and how many.
const DEMAND_DAYS: i64 = 7;
const DEMAND_SHOWN: i64 = 20;

/// `GET /about`.
pub async fn page(State(state): State<AppState>) -> AboutPage {
    let demand = match state.catalog.demand(DEMAND_DAYS, DEMAND_SHOWN).await {
        Ok(demand) => Some(
            demand
                .into_iter()
                .map(|m| MissedRow {
                    link: format!(
                        "/?{}",
                        url::form_urlencoded::Serializer::new(String::new()).append_pair("q", &m.q).finish()
                    ),
                    q: m.q,
                    misses: m.misses,
                    days: m.days,
                })
                .collect(),
        ),
        Err(error) => {
            tracing::warn!(%error, "zero-result searches could not be read");
            None
        }
    };
    let policy = state.catalog.policy();
    AboutPage {
        demand,
        demand_days: DEMAND_DAYS,
        demand_from: crate::catalog::demand::SHOWN_FROM,
        base: span(policy.base_interval),
        min: span(policy.min_interval),
        max: span(policy.max_interval),
        backoff_start: span(policy.backoff_start),
        backoff_max: span(policy.backoff_max),
        recheck: span(policy.recheck_rejected),
        degrade_after: policy.degrade_after,
        delist_after: span(policy.delist_after),
    }
}

/// "15 minutes", "6 hours", "a day", "7 days".
fn span(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    let plural = |n: u64, unit: &str| if n == 1 { unit.to_string() } else { format!("{n} {unit}s") };
    match minutes {
        0..60 => plural(minutes, "minute"),
        60..1_440 => plural(minutes / 60, "hour"),
        _ => plural(minutes / 1_440, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::span;
    use std::time::Duration;

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span(Duration::from_secs(15 * 60)), "15 minutes");
        assert_eq!(span(Duration::from_secs(6 * 3600)), "6 hours");
        assert_eq!(span(Duration::from_secs(24 * 3600)), "day");
        assert_eq!(span(Duration::from_secs(7 * 24 * 3600)), "7 days");
    }
}
