//! `agora mcp`: the MCP server over stdio, for local clients that start it as a child process.
//! It reads the same data directory as `serve` and works while `serve` runs (it follows the
//! index `serve` writes; see `app::Companion`). Stdout carries MCP messages only; logs go to
//! stderr. It ends when the client closes stdin, or on SIGINT/SIGTERM.

use crate::app::{Companion, cancel_on_signals};
use crate::config::GlobalOptions;
use crate::mcp::AgoraMcp;
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;

pub async fn run(global: &GlobalOptions) -> u8 {
    let companion = match Companion::open(global).await {
        Ok(companion) => companion,
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.store_name());
            return 2;
        }
    };
    let server = AgoraMcp::new(companion.catalog.clone(), None);
    let code = match server.serve(rmcp::transport::stdio_pipes()).await {
        Ok(running) => {
            let signalled = CancellationToken::new();
            cancel_on_signals(signalled.clone());
            let stop = running.cancellation_token();
            tokio::spawn(async move {
                signalled.cancelled().await;
                stop.cancel();
            });
            match running.waiting().await {
                Ok(_) => 0,
                Err(error) => {
                    eprintln!("agora: the MCP server stopped: {error}");
                    1
                }
            }
        }
        Err(error) => {
            eprintln!("agora: MCP session did not start: {error}");
            1
        }
    };
    companion.shutdown().await;
    code
}
