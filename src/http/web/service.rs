//! `GET /services/{id}`: one service for people — how to pay (every offer: `offer_rows`), why it
//! has its status (every problem, with its code and where), uptime over 30 days as a
//! server-rendered SVG bar, response time, the declared input (fields from the seller's schema:
//! `schema_fields`) and output, price and payTo history, recent probes, and a `curl` that shows
//! the 402. The same use case as the JSON detail (`catalog::detail`).

use super::errors;
use super::offer_rows::OfferRow;
use super::rich::{FindingRow, Rich, finding_rows};
use super::schema_fields::{FieldRow, input_fields};
use super::trust::Trust;
use crate::app::AppState;
use crate::catalog::detail::Detail;
use crate::db::history::Uptime;
use crate::db::maintain::DAY_MS;
use crate::http::views::words as view;
use crate::params::parse_service_id;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

/// Days the uptime bar shows.
const BAR_DAYS: i64 = 30;
/// Longest schema text shown (the JSON link has all of it).
const MAX_SCHEMA_CHARS: usize = 20_000;

#[derive(Template, WebTemplate)]
#[template(path = "service.html")]
pub struct ServicePage {
    id: i64,
    name: String,
    /// The seller's icon as Agora serves it (`/icons/{hash}`).
    icon: Option<String>,
    status: &'static str,
    method: String,
    url: String,
    url_param: String,
    description: Option<String>,
    reason: Option<Rich>,
    problems: Vec<FindingRow>,
    /// Problems found beyond the ones the report keeps.
    problems_omitted: u64,
    offers: Vec<OfferRow>,
    curl: String,
    uptime_day: String,
    uptime_week: String,
    uptime_month: String,
    latency: Option<String>,
    verified: Option<String>,
    days: Vec<DayBar>,
    input_fields: Vec<FieldRow>,
    input_schema: Option<String>,
    output_schema: Option<String>,
    /// Listed at some point (a price history can exist).
    ever_listed: bool,
    changes: Vec<ChangeRow>,
    /// Provenance: the sources that list it.
    sources: Vec<SourceLine>,
    probes: Vec<ProbeLine>,
    trust: Trust,
}

struct DayBar {
    x: i64,
    class: &'static str,
    title: String,
}

struct SourceLine {
    /// "facilitator https://…" (shown as text, never a link).
    source: String,
    since: String,
    /// What it claimed: "$0.01 on eip155:8453".
    claim: String,
    disagreement: Option<String>,
}

struct ChangeRow {
    when: String,
    kind: String,
    offer: String,
    before: String,
    after: String,
}

struct ProbeLine {
    when: String,
    verdict: String,
    http: String,
    time: String,
    codes: String,
}

/// `GET /services/{id}`.
pub async fn page(State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let Ok(id) = parse_service_id(&raw) else { return errors::not_found() };
    let catalog = &state.catalog;
    let now = catalog.now_ms();
    let first_day = now.div_euclid(DAY_MS) - (BAR_DAYS - 1);
    let read = async { Ok((catalog.detail(id).await?, catalog.uptime_by_day(id, first_day).await?)) };
    match read.await {
        Ok((detail, days)) => render(detail, &days, first_day, now).into_response(),
        Err(error) => errors::catalog_page(error),
    }
}

fn render(detail: Detail, days: &[(i64, Uptime)], first_day: i64, now: i64) -> ServicePage {
    let service = &detail.service;
    let report = detail.report.as_ref();
    let listed = service.status.as_str() == "listed";
    // Every problem in one list (code, where, what); the stored reason only when the report has
    // no problem to say it (a fetch error's reason, say).
    let problems = if listed { Vec::new() } else { report.map(|r| finding_rows(&r.problems)).unwrap_or_default() };
    let reason = (!listed && problems.is_empty())
        .then(|| service.reason.clone())
        .flatten()
        .map(|r| Rich::new(view::clip(&r, 500)));
    let ratio = |uptime: &Uptime| uptime.ratio().map_or("–".to_string(), view::percent);
    let schema = |part: fn(&agora_crawler::Discovery) -> &serde_json::Value| {
        detail
            .discovery
            .as_ref()
            .map(part)
            .filter(|v| !v.is_null())
            .map(|v| view::clip(&serde_json::to_string_pretty(v).unwrap_or_default(), MAX_SCHEMA_CHARS))
    };
    ServicePage {
        trust: Trust::new(service, &detail.proofs, now),
        id: service.id,
        name: view::display_name(service),
        icon: service.icon_hash.as_ref().map(|hash| format!("/icons/{hash}")),
        status: service.status.as_str(),
        method: service.method.clone(),
        url: service.url.clone(),
        url_param: url::form_urlencoded::byte_serialize(service.url.as_bytes()).collect(),
        description: service.description.as_deref().filter(|d| !d.trim().is_empty()).map(|d| view::clip(d, 2_000)),
        reason,
        problems,
        problems_omitted: if listed { 0 } else { report.map_or(0, |r| r.problems_omitted as u64) },
        offers: detail.offers.iter().map(OfferRow::new).collect(),
        curl: curl(&service.method, &service.url),
        uptime_day: ratio(&detail.uptime_day),
        uptime_week: ratio(&detail.uptime_week),
        uptime_month: ratio(&detail.uptime_month),
        latency: detail.latency.p50_ms.map(|p50| match detail.latency.p95_ms {
            Some(p95) => format!("{p50:.0} ms median, {p95:.0} ms p95"),
            None => format!("{p50:.0} ms median"),
        }),
        verified: service.last_listed_at.map(|at| view::ago(at, now)),
        days: day_bars(days, first_day),
        input_fields: input_fields(report.and_then(|r| r.challenge.as_ref()), detail.discovery.as_ref()),
        input_schema: schema(|d| &d.input),
        output_schema: schema(|d| &d.output),
        ever_listed: service.first_listed_at.is_some(),
        sources: detail
            .sources
            .iter()
            .map(|mention| SourceLine {
                source: format!("{} {}", mention.kind, view::clip(&mention.location, 120)),
                since: view::ago(mention.first_seen, now),
                claim: mention.claim.as_ref().map_or_else(String::new, |claim| {
                    let price = claim.usd.as_ref().map(|usd| format!("${usd}")).unwrap_or_else(|| "unpriced".into());
                    format!("{price}{}", claim.network.as_ref().map(|n| format!(" on {n}")).unwrap_or_default())
                }),
                disagreement: mention.disagreement.clone(),
            })
            .collect(),
        changes: detail
            .offer_changes
            .iter()
            .rev()
            .take(50)
            .map(|c| ChangeRow {
                when: view::ago(c.changed_at, now),
                kind: c.kind.replace('_', " "),
                offer: format!("{} {} on {}", c.scheme, view::short_address(&c.asset), c.network),
                before: c.old_value.clone().unwrap_or_default(),
                after: c.new_value.clone().unwrap_or_default(),
            })
            .collect(),
        probes: detail
            .recent_probes
            .iter()
            .map(|p| ProbeLine {
                when: view::ago(p.probed_at, now),
                verdict: p.verdict.replace('_', " "),
                http: p.http_status.map_or("–".to_string(), |s| s.to_string()),
                time: p.total_ms.map_or("–".to_string(), |ms| format!("{ms:.0} ms")),
                codes: p.codes.join(", "),
            })
            .collect(),
    }
}

/// A shell command that shows the 402: the URL single-quoted (a quote inside closed and escaped).
fn curl(method: &str, url: &str) -> String {
    let quoted = format!("'{}'", url.replace('\'', r"'\''"));
    if method == "GET" { format!("curl -i {quoted}") } else { format!("curl -i -X {method} {quoted}") }
}

/// One bar per day, oldest first: green when every probe succeeded, red when some failed, gray
/// when not probed.
fn day_bars(days: &[(i64, Uptime)], first_day: i64) -> Vec<DayBar> {
    (0..BAR_DAYS)
        .map(|offset| {
            let day = first_day + offset;
            let date = time::OffsetDateTime::from_unix_timestamp(day * 86_400)
                .map(|d| d.date().to_string())
                .unwrap_or_default();
            let (class, title) = match days.iter().find(|(d, _)| *d == day).map(|(_, u)| u) {
                Some(u) if u.probes > 0 => (
                    if u.successes == u.probes { "ok" } else { "bad" },
                    format!("{date}: {} of {} probes listed", u.successes, u.probes),
                ),
                _ => ("none", format!("{date}: not probed")),
            };
            DayBar { x: offset * 10, class, title }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::curl;

    #[test]
    fn the_curl_line_quotes_the_url_for_a_shell() {
        assert_eq!(curl("GET", "https://a.example/x?y=1&z=2"), "curl -i 'https://a.example/x?y=1&z=2'");
        assert_eq!(curl("POST", "https://a.example/it's"), r"curl -i -X POST 'https://a.example/it'\''s'");
    }
}
