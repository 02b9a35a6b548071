//! `agora import SOURCE [--kind facilitator|origin|list]` (a progress bar on a terminal, then the
//! summary) and `agora sources`.

use super::terminal::safe;
use crate::config::{GlobalOptions, ImportArgs};
use crate::db::sources;
use crate::jobs::scheduler;
use crate::sources::{ImportError, detect, import};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

pub async fn run(global: &GlobalOptions, args: &ImportArgs) -> u8 {
    let Some(app) = super::open_crawler(global).await else { return 2 };
    crate::app::cancel_on_signals(app.cancel.clone());
    let kind = match args.kind {
        Some(kind) => kind,
        None => match detect(&app.dispatcher, &args.source).await {
            Ok(kind) => kind,
            Err(error) => {
                eprintln!("agora: {error}");
                app.shutdown().await;
                return 2;
            }
        },
    };
    // Probes start as pages are read: listen before the import begins.
    let events = app.dispatcher.subscribe();
    let bar = ProgressBar::with_draw_target(None, super::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {wide_bar} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("reading the {} source", kind.as_str()));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    // Results are tallied while pages are still being read: none waits in the channel.
    let (imported, probed) = scheduler::collect_while(
        &app.dispatcher,
        events,
        import(&app.dispatcher, kind, &args.source),
        |imported| imported.as_ref().map_or(0, |summary| summary.queued),
        Instant::now(),
        |done, total, _| {
            if total > 0 {
                bar.set_message("probing");
                bar.set_length(total as u64);
            }
            bar.set_position(done as u64);
        },
    )
    .await;
    let code = match imported {
        Ok(summary) => {
            for (url, problem) in &summary.refusals {
                println!("{}", safe(&format!("not registered ({}): {url}: {}", problem.code, problem.message)));
            }
            for skipped in &summary.skipped {
                println!("{}", safe(&format!("skipped: {}", skipped.message)));
            }
            if let Some(stopped) = &summary.stopped {
                println!("{}", safe(&format!("stopped ({}): {}", stopped.code, stopped.message)));
            }
            println!(
                "source #{} ({}): {} found on {} pages — {} new, {} already known, {} refused",
                summary.source_id,
                kind.as_str(),
                summary.found,
                summary.pages,
                summary.new,
                summary.known,
                summary.refused
            );
            // Nothing a source says is believed: every service it listed was probed.
            println!("{probed}");
            0
        }
        Err(ImportError::Unreadable(why)) => {
            bar.finish_and_clear();
            eprintln!("{}", safe(&format!("agora: cannot read the source: {why}")));
            2
        }
        Err(error) => {
            bar.finish_and_clear();
            eprintln!("agora: {error}");
            2
        }
    };
    app.shutdown().await;
    code
}

/// `agora sources`: each source with its last run.
pub async fn list(global: &GlobalOptions) -> u8 {
    let Some(app) = super::open_crawler(global).await else { return 2 };
    let code = match sources::all(app.store.read()).await {
        Ok(rows) if rows.is_empty() => {
            println!("no sources yet: add one with `agora import SOURCE`");
            0
        }
        Ok(rows) => {
            for row in rows {
                let counts = row.last_counts.map(|c| c.to_string()).unwrap_or_default();
                let outcome = row.last_outcome.unwrap_or_else(|| "never run".into());
                println!("{}", safe(&format!("#{} {} {} — {outcome} {counts}", row.id, row.kind, row.location)));
            }
            0
        }
        Err(error) => {
            eprintln!("agora: {error}");
            2
        }
    };
    app.shutdown().await;
    code
}
