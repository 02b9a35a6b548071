//! Who is asking: the peer address of the connection, or — only when that peer is a configured
//! trusted proxy — the nearest untrusted address in `X-Forwarded-For`. Forwarded headers from
//! anyone else are ignored, so a client cannot choose its own rate-limit key.
//!
//! Limits count a client by [`client_key`]: an IPv4 address, or an IPv6 address's prefix (a /64
//! by default), since one IPv6 client is handed a whole /64 and can rotate through it.

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, Request};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub fn client_ip<B>(request: &Request<B>, trusted_proxies: &[IpNet]) -> IpAddr {
    client_ip_of(request.extensions(), request.headers(), trusted_proxies)
}

/// [`client_ip`] from a request's parts (an MCP tool sees the HTTP request's parts).
pub fn client_ip_of(extensions: &Extensions, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer =
        extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
    // Rightmost first: each proxy appends the address it received the request from.
    hops.into_iter().rev().find(|hop| !trusted(hop)).unwrap_or(peer)
}

/// The key limits count `ip` under: IPv4 addresses (IPv4-mapped IPv6 included) as they are, IPv6
/// addresses cut to their first `ipv6_prefix` bits.
pub fn client_key(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u32::from(ipv6_prefix.min(128));
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str]) -> Request<()> {
        let mut builder = Request::builder();
        for value in forwarded {
            builder = builder.header("x-forwarded-for", *value);
        }
        let mut request = builder.body(()).expect("request");
        request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().expect("address")));
        request
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Not a proxy: the header is the client's own claim, ignored.
        assert_eq!(client_ip(&request("203.0.113.9:5000", &["198.51.100.1"]), &proxies), ip("203.0.113.9"));
        // Through our proxy: the nearest untrusted hop, not a spoofed leftmost one.
        assert_eq!(
            client_ip(&request("10.0.0.2:5000", &["1.2.3.4, 198.51.100.7", "10.0.0.3"]), &proxies),
            ip("198.51.100.7")
        );
        // A proxy without the header, or garbage in it: the proxy itself.
        assert_eq!(client_ip(&request("10.0.0.2:5000", &[]), &proxies), ip("10.0.0.2"));
        assert_eq!(client_ip(&request("10.0.0.2:5000", &["not an ip"]), &proxies), ip("10.0.0.2"));
        assert_eq!(client_ip(&request("10.0.0.2:5000", &["198.51.100.7"]), &[]), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1"), 64), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), 64), ip("2001:db8:1:2::"));
        assert_ne!(client_key(ip("2001:db8:1:3::1"), 64), client_key(ip("2001:db8:1:2::1"), 64));
        assert_eq!(client_key(ip("2001:db8:1:2::1"), 48), ip("2001:db8:1::"));
        assert_eq!(client_key(ip("2001:db8::1"), 128), ip("2001:db8::1"));
        assert_eq!(client_key(ip("2001:db8::1"), 0), ip("::"));
        assert_eq!(client_key(ip("::ffff:203.0.113.9"), 64), ip("203.0.113.9"));
        assert_eq!(client_key(ip("203.0.113.9"), 64), ip("203.0.113.9"));
    }
}
