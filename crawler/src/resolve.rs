//! Name resolution: the one seam all DNS goes through, and the guard that applies the address
//! policy to every resolved address before a connection is made.
//!
//! The guard is installed as reqwest's resolver, so the addresses it approves are the very ones
//! the connection uses (resolve, check, pin: no second lookup a rebinding attacker could answer
//! differently). IP-literal URLs never reach a resolver (hyper-util parses them directly), so
//! the fetcher checks those itself.

use crate::policy::{AddressPolicy, Denied};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A boxed future of resolved addresses.
pub type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses. Tests substitute their own to make a name resolve anywhere.
pub trait Resolver: Send + Sync + 'static {
    fn resolve(&self, host: &str) -> ResolveFuture;
}

/// The operating system's resolver (getaddrinfo on a blocking thread), bounded by a timeout.
#[derive(Debug, Clone)]
pub struct SystemResolver {
    pub timeout: Duration,
}

impl Default for SystemResolver {
    fn default() -> Self {
        SystemResolver { timeout: Duration::from_secs(3) }
    }
}

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        let host = host.to_string();
        let timeout = self.timeout;
        Box::pin(async move {
            let lookup = tokio::net::lookup_host((host.as_str(), 0));
            match tokio::time::timeout(timeout, lookup).await {
                Ok(addrs) => Ok(addrs?.map(|a| a.ip()).collect()),
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, format!("resolving {host} timed out"))),
            }
        })
    }
}

/// A fixed table of names, for tests and demos; unknown names fail to resolve.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `host` resolve to `ips`.
    pub fn with(mut self, host: &str, ips: &[IpAddr]) -> Self {
        self.names.insert(host.to_ascii_lowercase(), ips.to_vec());
        self
    }
}

impl Resolver for StaticResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        let found = self.names.get(&host.to_ascii_lowercase()).cloned();
        let host = host.to_string();
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}")))
        })
    }
}

/// reqwest's resolver: resolves through the seam, then refuses the whole name if any address is
/// denied (a name that mixes public and private answers is an attack, not a fallback).
pub(crate) struct GuardedResolver {
    pub(crate) inner: Arc<dyn Resolver>,
    pub(crate) policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let inner = Arc::clone(&self.inner);
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips =
                inner.resolve(&host).await.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            if ips.is_empty() {
                return Err(Box::new(io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}"))) as _);
            }
            for ip in &ips {
                policy.check(*ip).map_err(|denied| {
                    Box::new(RefusedName { host: host.clone(), denied }) as Box<dyn std::error::Error + Send + Sync>
                })?;
            }
            let addrs: reqwest::dns::Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// A name refused because it resolves to a denied address. Found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {}, a {} address", denied.ip, denied.reason)]
pub(crate) struct RefusedName {
    pub(crate) host: String,
    pub(crate) denied: Denied,
}
