//! `agora serve`: the HTTP server and the background crawler until SIGINT/SIGTERM.

use super::wait_for_store::{self, Gate, Opened};
use crate::app::AppConfig;
use crate::catalog::{Catalog, CatalogError};
use crate::config::{GlobalOptions, ServeArgs};
use crate::demo::{self, DEMO_IP, DemoSellers};
use crate::http::limits::{HttpLimits, Rates};
use crate::http::router;
use crate::http::server::{self, ConnectionLimits};
use crate::jobs::scheduler;
use crate::ownership::OwnershipSettings;
use crate::ownership::token::OperatorToken;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The public URL and operator token `args` give (the URL defaulting to `http://<address>`).
fn ownership_settings(args: &ServeArgs, address: &str) -> Result<OwnershipSettings, String> {
    let public_url = match &args.public_url {
        Some(url) => url.clone(),
        None => url::Url::parse(&format!("http://{address}")).map_err(|e| format!("bad listening address: {e}"))?,
    };
    let operator = args
        .operator_token
        .as_deref()
        .map(OperatorToken::new)
        .transpose()
        .map_err(|e| format!("--operator-token / AGORA_OPERATOR_TOKEN: {e}"))?;
    Ok(OwnershipSettings { public_url, operator })
}

pub async fn run(global: &GlobalOptions, args: &ServeArgs) -> u8 {
    let demo_stop = CancellationToken::new();
    let mut global = global.clone();
    let demo = if args.demo {
        match DemoSellers::start(demo_stop.clone()).await {
            Ok(sellers) => {
                global.allow_cidrs.push(DemoSellers::cidr());
                Some(sellers)
            }
            Err(error) => {
                eprintln!("agora: cannot start the demo sellers on {DEMO_IP}: {error}");
                return 2;
            }
        }
    } else {
        None
    };
    let _stop_demo = demo_stop.drop_guard();
    // Bound first: the public URL defaults to the address actually listened on.
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("agora: cannot listen on {}: {error}", args.listen);
            return 2;
        }
    };
    let address = listener.local_addr().map_or_else(|_| args.listen.to_string(), |a| a.to_string());
    let ownership = match ownership_settings(args, &address) {
        Ok(ownership) => ownership,
        Err(message) => {
            eprintln!("agora: {message}");
            return 2;
        }
    };
    let connections = ConnectionLimits {
        header_read_timeout: Duration::from_secs(args.header_read_timeout),
        max_connections: connection_budget(args.max_connections, global.concurrency as usize),
        max_per_client: args.max_connections_per_client,
        trusted_proxies: args.trusted_proxies.clone(),
        ipv6_prefix: args.ipv6_prefix,
    };
    // Each attempt to open gets fresh settings (the rate limiters are not shared between tries).
    let config = || AppConfig {
        ownership: ownership.clone(),
        limits: HttpLimits {
            rates: (!args.no_rate_limits).then(|| Rates::new(args.reads_per_minute, args.registrations_per_hour)),
            trusted_proxies: args.trusted_proxies.clone(),
            request_timeout: Duration::from_secs(args.request_timeout.max(1)),
            ipv6_prefix: args.ipv6_prefix,
        },
        answer_cache: !args.no_answer_cache,
        mcp_allowed_hosts: args.mcp_allowed_hosts.clone(),
        public_sources: !args.no_public_sources,
        ..AppConfig::new(global.clone())
    };
    let global = &global;
    // Signals are caught from here on: one arriving while the catalog opens stops it once open.
    let stop = CancellationToken::new();
    crate::app::cancel_on_signals(stop.clone());
    // One line on stdout, so scripts and tests started with `--listen 127.0.0.1:0` learn the port
    // (and may signal it at once: the handlers are in place). A node waiting for its database
    // says it before waiting, since it answers (503) meanwhile.
    let announce = || println!("agora listening on http://{address}");
    // The server runs until `stop`: a signal, or the app stopping (linked below).
    let serve_with =
        |router| tokio::spawn(server::serve(listener, router, connections, stop.clone().cancelled_owned()));
    let (app, server) = match crate::build_app(config()).await {
        Ok(app) => {
            announce();
            let server = serve_with(router(app.state.clone()));
            (app, server)
        }
        Err(error) if wait_for_store::worth_waiting(global, &error) => {
            // Serve at once (503 until the catalog opens), on the server that will serve it.
            let gate = Gate::new(&error);
            let server = serve_with(gate.router());
            announce();
            let open = || crate::build_app(config());
            match gate.retry(global, open, &stop).await {
                Opened::App(app) => {
                    gate.open_to(router(app.state.clone()));
                    (*app, server)
                }
                Opened::Stopped => {
                    let _ = server.await;
                    return 0;
                }
                Opened::Failed(error) => {
                    stop.cancel();
                    let _ = server.await;
                    eprintln!("agora: cannot open {}: {error}", global.store_name());
                    return 2;
                }
            }
        }
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.store_name());
            return 2;
        }
    };
    // A signal stops the app; the app stopping (for any reason) stops the server.
    for (from, to) in [(stop.clone(), app.cancel.clone()), (app.cancel.clone(), stop.clone())] {
        tokio::spawn(async move {
            from.cancelled().await;
            to.cancel();
        });
    }
    let crawl = tokio::spawn(scheduler::run(app.dispatcher.clone(), app.retention));
    tokio::spawn(reimport_sources(app.state.catalog.clone(), app.cancel.clone()));
    if let Some(sellers) = demo {
        tokio::spawn(register_demo(app.state.catalog.clone(), sellers, address.clone()));
    }
    let served = server.await.unwrap_or_else(|panicked| Err(std::io::Error::other(panicked)));
    app.cancel.cancel();
    let _ = crawl.await;
    app.shutdown().await;
    match served {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("agora: server error: {error}");
            1
        }
    }
}

/// How often `serve` looks for sources due for a re-import.
const SOURCES_CHECK: Duration = Duration::from_secs(60);

/// Re-imports the sources that are due (`catalog::sources`), until shutdown.
async fn reimport_sources(catalog: Catalog, cancel: CancellationToken) {
    let mut every = tokio::time::interval(SOURCES_CHECK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => {
                if let Err(error) = catalog.run_due_sources().await {
                    tracing::warn!(%error, "sources due for a re-import could not be read");
                }
            }
        }
    }
}

/// Registers every demo endpoint through the catalog, reporting each verdict on stderr, then
/// makes them searchable at once and says where to look.
async fn register_demo(catalog: Catalog, sellers: DemoSellers, address: String) {
    for route in demo::ROUTES {
        let url = sellers.url(route.path);
        match catalog.register(&url, Some(route.method)).await {
            Ok(registration) => {
                let service = &registration.state.service;
                eprintln!("demo: {} {url} -> {} (service {})", route.method, service.status, service.id);
            }
            Err(CatalogError::Refused(report)) => {
                let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
                eprintln!("demo: {} {url} -> refused: {}", route.method, codes.join(", "));
            }
            Err(error) => eprintln!("demo: {} {url} -> {error}", route.method),
        }
    }
    match catalog.index().flush().await {
        Ok(_) => eprintln!("demo: ready: http://{address}/?testnet=include (JSON: /api/v1/services?testnet=include)"),
        Err(error) => eprintln!("demo: the search index did not catch up: {error}"),
    }
}

/// Descriptors kept for everything but client connections: the database and index files, the
/// probes' outbound sockets (one per concurrent probe), logs.
const RESERVED_DESCRIPTORS: usize = 256;

/// The connection cap: as asked, but below the open-file limit (raised to its hard maximum
/// first), so the process never runs out of descriptors for its own files and probes.
fn connection_budget(asked: usize, probe_concurrency: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        Err(error) => {
            tracing::warn!(%error, "cannot read the open-file limit; keeping --max-connections as given");
            return asked;
        }
    };
    let room = limit.saturating_sub(RESERVED_DESCRIPTORS + probe_concurrency).max(16);
    if asked > room {
        tracing::warn!(asked, room, limit, "--max-connections lowered to fit the open-file limit");
    }
    asked.min(room)
}
