//! `agora register URL [--method M] [--json]` and `agora register --from-file FILE|-`.

use super::probe::{exit_code, render};
use super::terminal::safe;
use crate::app::Crawler;
use crate::config::{GlobalOptions, RegisterArgs};
use crate::http::views::ServiceView;
use crate::jobs::register::{self, RegisterError};
use crate::jobs::scheduler;
use agora_crawler::ProbeReport;
use serde_json::{Value, json};
use std::io::Read;
use std::time::Instant;

/// Largest bulk file read (about 50k URLs of typical length).
const MAX_BULK_BYTES: u64 = 16 * 1024 * 1024;

pub async fn run(global: &GlobalOptions, args: &RegisterArgs) -> u8 {
    let Some(app) = super::open_crawler(global).await else { return 2 };
    crate::app::cancel_on_signals(app.cancel.clone());
    let code = match (&args.from_file, &args.url) {
        (Some(path), _) => run_bulk(&app, path).await,
        (None, Some(url)) => run_one(&app, url, &args.method, args.json).await,
        (None, None) => 2, // clap requires one of them
    };
    app.shutdown().await;
    code
}

async fn run_one(app: &Crawler, url: &str, method: &str, as_json: bool) -> u8 {
    match register::register(&app.dispatcher, url, Some(method)).await {
        Ok(registration) => {
            let service = &registration.service;
            if as_json {
                print_json(&registration.report, json!(ServiceView::from(service.clone())), Some(registration.created));
            } else {
                let how = if registration.created { "registered" } else { "already registered; re-probed" };
                println!("Service #{} {how} — status: {}", service.id, service.status);
                print!("{}", render(&registration.report));
            }
            exit_code(registration.report.verdict)
        }
        Err(RegisterError::Refused(report)) => {
            if as_json {
                print_json(&report, Value::Null, None);
            } else {
                println!("Not registered: nothing was stored.");
                print!("{}", render(&report));
            }
            2
        }
        Err(error) => {
            eprintln!("agora: {error}");
            2
        }
    }
}

/// The probe report with the stored service beside it (`service` is null when nothing was stored).
fn print_json(report: &ProbeReport, service: Value, created: Option<bool>) {
    let mut object = serde_json::to_value(report).unwrap_or_else(|_| json!({}));
    if let Some(map) = object.as_object_mut() {
        map.insert("service".into(), service);
        map.insert("created".into(), json!(created));
    }
    println!("{object}");
}

async fn run_bulk(app: &Crawler, path: &std::path::Path) -> u8 {
    let text = match read_input(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("agora: cannot read {}: {error}", path.display());
            return 2;
        }
    };
    let lines = register::parse_lines(&text);
    let bulk = match register::register_many(&app.dispatcher, &lines).await {
        Ok(bulk) => bulk,
        Err(error) => {
            eprintln!("agora: {error}");
            return 2;
        }
    };
    for refusal in &bulk.refused {
        let line =
            format!("line {}: not registered ({}): {}", refusal.line, refusal.problem.code, refusal.problem.message);
        println!("{}", safe(&line));
    }
    let created = bulk.services.iter().filter(|(_, created)| *created).count();
    println!(
        "registered {} services ({created} new, {} already known); {} lines refused",
        bulk.services.len(),
        bulk.services.len() - created,
        bulk.refused.len()
    );
    let events = app.dispatcher.subscribe();
    let total = bulk.services.iter().filter(|(service, _)| app.dispatcher.enqueue(service.clone())).count();
    let summary = scheduler::collect(&app.dispatcher, events, total, Instant::now(), |_, _, result| match result {
        Ok(probed) => {
            let reason = probed.report.problems.first().map(|p| format!(" ({})", p.code)).unwrap_or_default();
            let service = &probed.service;
            let line = format!(
                "{:<9} #{} {} {}{reason}",
                probed.recorded.status.as_str(),
                service.id,
                service.method,
                service.url
            );
            println!("{}", safe(&line));
        }
        Err((service, error)) => {
            println!("{}", safe(&format!("not probed #{} {} {}: {error}", service.id, service.method, service.url)));
        }
    })
    .await;
    println!("{summary}");
    0
}

fn read_input(path: &std::path::Path) -> std::io::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().take(MAX_BULK_BYTES).read_to_string(&mut text)?;
    } else {
        std::fs::File::open(path)?.take(MAX_BULK_BYTES).read_to_string(&mut text)?;
    }
    Ok(text)
}
