//! `agora serve`: the HTTP server and the background crawler until SIGINT/SIGTERM.

use crate::config::{GlobalOptions, ServeArgs};
use crate::http::limits::{HttpLimits, Rates};
use crate::http::{HttpState, router};
use crate::jobs::scheduler;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(global: &GlobalOptions, args: &ServeArgs) -> u8 {
    let Some(app) = super::open_app(global, true).await else { return 2 };
    let Some(search) = app.search.clone() else {
        app.shutdown().await;
        return 2;
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("agora: cannot listen on {}: {error}", args.listen);
            app.shutdown().await;
            return 2;
        }
    };
    let address = listener.local_addr().map_or_else(|_| args.listen.to_string(), |a| a.to_string());
    // One line on stdout, so scripts and tests started with `--listen 127.0.0.1:0` learn the port.
    println!("agora listening on http://{address}");
    crate::app::cancel_on_signals(app.cancel.clone());
    let crawl = tokio::spawn(scheduler::run(app.dispatcher.clone(), app.retention));
    let limits = HttpLimits {
        rates: (!args.no_rate_limits).then(|| Rates::new(args.reads_per_minute, args.registrations_per_hour)),
        trusted_proxies: args.trusted_proxies.clone(),
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
    };
    let state =
        HttpState { limits: Arc::new(limits), ..HttpState::new(app.store.clone(), app.dispatcher.clone(), search) };
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(app.cancel.clone().cancelled_owned()).await;
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
