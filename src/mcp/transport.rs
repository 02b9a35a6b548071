//! `/mcp` over Streamable HTTP on `serve`'s port: stateless (no sessions), JSON answers, the
//! API's body cap, and the DNS-rebinding guards — `Host` must be a loopback name or one the
//! operator allows (`serve --mcp-allowed-host`), and a browser's `Origin`, when sent, one of
//! those hosts. Over HTTP the tools share the API's rate limits and answer caches.

use super::{AgoraMcp, HttpFront};
use crate::app::AppState;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;

/// Hosts `/mcp` answers when the operator names none: loopback only, against DNS rebinding.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The Streamable HTTP service for `/mcp`: stateless; `Host` checked against the loopback names
/// and `public_hosts` (`serve --mcp-allowed-host`), and a browser's `Origin`, when sent, against
/// the same hosts (any port, http or https) — both against DNS rebinding.
pub fn http_service(state: &AppState) -> StreamableHttpService<AgoraMcp, LocalSessionManager> {
    let allowed_hosts: Vec<String> =
        LOOPBACK_HOSTS.iter().map(|h| h.to_string()).chain(state.mcp_allowed_hosts.iter().cloned()).collect();
    let allowed_origins: Vec<String> = allowed_hosts.iter().flat_map(|host| origins_of(host)).collect();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(allowed_hosts)
        .with_allowed_origins(allowed_origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(crate::http::BODY_LIMIT);
    let front = HttpFront { limits: Arc::clone(&state.limits), answers: Arc::clone(&state.answers) };
    let catalog = state.catalog.clone();
    StreamableHttpService::new(
        move || Ok(AgoraMcp::new(catalog.clone(), Some(front.clone()))),
        Default::default(),
        config,
    )
}

/// The browser origins of an allowed host (`example.com`, `example.com:8443`, `::1`): http and
/// https, on its port if it names one, else on any.
fn origins_of(host: &str) -> [String; 2] {
    let bare_ipv6 = host.contains(':') && !host.starts_with('[') && host.parse::<std::net::Ipv6Addr>().is_ok();
    let authority = if bare_ipv6 { format!("[{host}]") } else { host.to_string() };
    let names_port = authority.rsplit_once(':').is_some_and(|(name, port)| {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && (!name.contains(':') || name.ends_with(']'))
    });
    let port = if names_port { "" } else { ":*" };
    [format!("http://{authority}{port}"), format!("https://{authority}{port}")]
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_allowed_host_allows_its_own_browser_origins() {
        assert_eq!(super::origins_of("localhost"), ["http://localhost:*", "https://localhost:*"]);
        assert_eq!(super::origins_of("::1"), ["http://[::1]:*", "https://[::1]:*"]);
        assert_eq!(
            super::origins_of("agora.example:8443"),
            ["http://agora.example:8443", "https://agora.example:8443"]
        );
        assert_eq!(super::origins_of("[2001:db8::1]:80"), ["http://[2001:db8::1]:80", "https://[2001:db8::1]:80"]);
    }
}
