//! `agora crawl [--once]`: probe what is due, with a progress bar on a terminal and a summary.

use crate::config::{CrawlArgs, GlobalOptions};
use crate::jobs::scheduler;
use indicatif::{ProgressBar, ProgressStyle};

pub async fn run(global: &GlobalOptions, args: &CrawlArgs) -> u8 {
    let Some(app) = super::open_crawler(global).await else { return 2 };
    crate::app::cancel_on_signals(app.cancel.clone());
    if !args.once {
        scheduler::run(app.dispatcher.clone(), app.retention).await;
        app.shutdown().await;
        return 0;
    }
    if let Err(error) = scheduler::maintain(&app.dispatcher, app.retention).await {
        eprintln!("agora: history maintenance failed: {error}");
    }
    let bar = ProgressBar::with_draw_target(None, super::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} probed [{elapsed_precise}] {wide_bar} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = scheduler::crawl_once(&app.dispatcher, |done, total, _| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await;
    bar.finish_and_clear();
    let interrupted = app.cancel.is_cancelled();
    app.shutdown().await;
    match result {
        Ok(summary) => {
            println!("{summary}{}", if interrupted { " (interrupted)" } else { "" });
            0
        }
        Err(error) => {
            eprintln!("agora: {error}");
            2
        }
    }
}
