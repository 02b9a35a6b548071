//! `agora serve`: the HTTP server and the background crawler until SIGINT/SIGTERM.

use crate::config::{GlobalOptions, ServeArgs};
use crate::http::{HttpState, router};
use crate::jobs::scheduler;

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
    let state = HttpState { store: app.store.clone(), dispatcher: app.dispatcher.clone(), search };
    let served =
        axum::serve(listener, router(state)).with_graceful_shutdown(app.cancel.clone().cancelled_owned()).await;
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
