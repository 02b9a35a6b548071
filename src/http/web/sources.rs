//! `GET /sources`: where the catalog's services come from besides sellers' own registrations —
//! each source with its last run and a link to the services it lists (docs/SOURCES.md).

use super::errors;
use crate::app::AppState;
use crate::http::views::words as view;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

#[derive(Template, WebTemplate)]
#[template(path = "sources.html")]
pub struct SourcesPage {
    sources: Vec<SourceLine>,
}

struct SourceLine {
    id: i64,
    kind: String,
    location: String,
    last_run: String,
    outcome: String,
    counts: String,
}

/// `GET /sources`.
pub async fn page(State(state): State<AppState>) -> Response {
    let now = state.catalog.now_ms();
    match state.catalog.sources().await {
        Ok(sources) => SourcesPage {
            sources: sources
                .into_iter()
                .map(|source| {
                    let row = source.row;
                    let count = |name: &str| row.last_counts.as_ref().and_then(|c| c[name].as_u64()).unwrap_or(0);
                    SourceLine {
                        id: row.id,
                        kind: row.kind.clone(),
                        location: view::clip(&row.location, 120),
                        last_run: if source.running {
                            "running now".into()
                        } else {
                            row.last_run_at.map_or_else(|| "never".into(), |at| view::ago(at, now))
                        },
                        outcome: row.last_outcome.clone().unwrap_or_default().replace('_', " "),
                        counts: format!(
                            "{} found, {} new, {} already known, {} refused",
                            count("found"),
                            count("new"),
                            count("known"),
                            count("refused")
                        ),
                    }
                })
                .collect(),
        }
        .into_response(),
        Err(error) => errors::catalog_page(error),
    }
}
