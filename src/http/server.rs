//! The connection layer of a public server (docs/LIMITS.md "Connections"): what `agora serve`
//! puts between the listening socket and the router, so that no client can hold sockets without
//! sending requests, however few requests it completes (rate limits only see completed ones).
//!
//! - Every connection must deliver a request's headers within `header_read_timeout` of becoming
//!   able to send one: a header trickled byte by byte and an idle keep-alive connection are both
//!   closed when it runs out (hyper's header timer, which restarts for each request).
//! - At most `max_connections` are open at once, and at most `max_per_client` from one client
//!   (an IPv4 address, or an IPv6 prefix: `client::client_key`). Trusted proxies are exempt from
//!   the per-client cap, since they carry many clients. A connection over a cap is answered at once
//!   with a problem (429 over the client's cap, 503 over the server's) and closed.
//! - Request heads are bounded (`MAX_HEAD_BYTES`), like bodies (`http::BODY_LIMIT`).
//! - On shutdown, listening stops; open connections finish their request and close.

use super::client::client_key;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use ipnet::IpNet;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// Largest request head (request line and headers) read; hyper answers 431 beyond it. Search
/// parameters are at most 512 bytes each, so real heads are a few kilobytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Refusals being written at once; beyond that, a refused connection is simply closed.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;
/// How long a refusal may take to write and let the client read it.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(1);
/// How long open connections get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub use crate::config::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IPV6_PREFIX, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PER_CLIENT,
};

/// The connection layer's settings.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_per_client: usize,
    /// Peers exempt from `max_per_client`.
    pub trusted_proxies: Vec<IpNet>,
    /// IPv6 clients are counted per prefix of this length.
    pub ipv6_prefix: u8,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_per_client: DEFAULT_MAX_PER_CLIENT,
            trusted_proxies: Vec::new(),
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open connections finish
/// (up to a grace period). The router sees each client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Slots::new(&limits);
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_HEAD_BYTES);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or memory: wait a moment rather than spin; connections
                    // closing will make room.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let slot = match slots.take(peer.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                    tokio::spawn(refuse(stream, refusal, permit));
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; closing them");
    }
    Ok(())
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    ClientFull,
    ServerFull,
}

/// Open connections per client key.
type ClientCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Open connections, in all and per client key.
#[derive(Clone)]
struct Slots {
    total: Arc<Semaphore>,
    per_client: ClientCounts,
    max_per_client: usize,
    exempt: Arc<[IpNet]>,
    ipv6_prefix: u8,
}

/// One open connection's place; given back when dropped.
struct Slot {
    _total: OwnedSemaphorePermit,
    client: Option<(IpAddr, ClientCounts)>,
}

impl Slots {
    fn new(limits: &ConnectionLimits) -> Slots {
        Slots {
            total: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            per_client: Arc::default(),
            max_per_client: limits.max_per_client.max(1),
            exempt: limits.trusted_proxies.clone().into(),
            ipv6_prefix: limits.ipv6_prefix,
        }
    }

    fn take(&self, peer: IpAddr) -> Result<Slot, Refusal> {
        let total = Arc::clone(&self.total).try_acquire_owned().map_err(|_| Refusal::ServerFull)?;
        if self.exempt.iter().any(|net| net.contains(&peer)) {
            return Ok(Slot { _total: total, client: None });
        }
        let key = client_key(peer, self.ipv6_prefix);
        let mut counts = self.per_client.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key).or_insert(0);
        if *count >= self.max_per_client {
            return Err(Refusal::ClientFull);
        }
        *count += 1;
        Ok(Slot { _total: total, client: Some((key, Arc::clone(&self.per_client))) })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some((key, counts)) = self.client.take() else { return };
        let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&key);
            }
        }
    }
}

/// Answers a refused connection with a problem and closes it, without reading its request.
async fn refuse(mut stream: TcpStream, refusal: Refusal, _permit: OwnedSemaphorePermit) {
    let (status, code, detail, retry_after) = match refusal {
        Refusal::ClientFull => (
            "429 Too Many Requests",
            "too_many_connections",
            "Too many open connections from your address; close some and retry.",
            1,
        ),
        Refusal::ServerFull => {
            ("503 Service Unavailable", "server_busy", "The server is at its connection limit; retry shortly.", 5)
        }
    };
    let status_code = &status[..3];
    let body = serde_json::json!({
        "type": format!("urn:agora:problem:{code}"),
        "title": &status[4..],
        "status": status_code.parse::<u16>().unwrap_or(503),
        "detail": detail,
        "code": code,
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nretry-after: {retry_after}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent, so closing does not reset the connection before it has
        // read the answer.
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}
