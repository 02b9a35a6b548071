//! The address policy: which IP addresses an outbound fetch may connect to.
//!
//! Seller URLs are hostile. By default only globally routable unicast addresses are allowed; the
//! deny table is the union of safeurl, smokescreen, StormCrawler and ssrf-guard
//! (`shared/research/reliability-perf.md` §A3). IPv6 addresses that embed an IPv4 address
//! (mapped, compatible, NAT64) are judged by the embedded address; 6to4 and Teredo are refused
//! outright. An explicit allowlist of CIDRs (tests, demos, private deployments) overrides it.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ip} is a {reason} address")]
pub struct Denied {
    pub ip: IpAddr,
    pub reason: &'static str,
}

/// Which addresses outbound fetches may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

const V4_DENY: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\""),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
];

const V6_DENY: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique-local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
];

impl AddressPolicy {
    /// The default policy plus `allow`: addresses inside an allowed range are always accepted.
    pub fn new(allow: Vec<IpNet>) -> Self {
        AddressPolicy { allow }
    }

    /// Parses a comma- or whitespace-separated list of CIDRs (`AGORA_ALLOW_CIDRS`). A bare address
    /// means just that address.
    pub fn parse_allowlist(text: &str) -> Result<Vec<IpNet>, String> {
        text.split(|c: char| c == ',' || c.is_whitespace()).filter(|part| !part.is_empty()).map(parse_cidr).collect()
    }

    /// The allowed ranges.
    pub fn allowlist(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether connecting to `ip` is permitted.
    pub fn check(&self, ip: IpAddr) -> Result<(), Denied> {
        if self.is_allowed(ip) {
            return Ok(());
        }
        match ip {
            IpAddr::V4(v4) => check_v4(v4),
            IpAddr::V6(v6) => self.check_v6(v6),
        }
    }

    fn is_allowed(&self, ip: IpAddr) -> bool {
        let embedded = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allow.iter().any(|net| net.contains(&ip) || embedded.is_some_and(|v4| net.contains(&v4)))
    }

    fn check_v6(&self, ip: Ipv6Addr) -> Result<(), Denied> {
        if let Some(v4) = embedded_v4(ip) {
            return match self.check(IpAddr::V4(v4)) {
                Ok(()) => Ok(()),
                Err(inner) => Err(Denied { ip: IpAddr::V6(ip), reason: embedded_reason(inner.reason) }),
            };
        }
        for (net, reason) in V6_DENY {
            if net_v6(net).contains(&ip) {
                return Err(Denied { ip: IpAddr::V6(ip), reason });
            }
        }
        // Only 2000::/3 is global unicast; everything else is reserved.
        if (ip.segments()[0] & 0xe000) != 0x2000 {
            return Err(Denied { ip: IpAddr::V6(ip), reason: "reserved IPv6" });
        }
        Ok(())
    }
}

fn check_v4(ip: Ipv4Addr) -> Result<(), Denied> {
    if ip == Ipv4Addr::BROADCAST {
        return Err(Denied { ip: IpAddr::V4(ip), reason: "broadcast" });
    }
    for (net, reason) in V4_DENY {
        if net_v4(net).contains(&ip) {
            return Err(Denied { ip: IpAddr::V4(ip), reason });
        }
    }
    Ok(())
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) or
/// NAT64 (`64:ff9b::a.b.c.d`) address. `::` and `::1` are not treated as embedding anything.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let compatible = s[..6].iter().all(|&x| x == 0) && u32::from(tail) > 1;
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0);
    (compatible || nat64).then_some(tail)
}

fn embedded_reason(inner: &'static str) -> &'static str {
    match inner {
        "loopback" => "IPv4-embedded loopback",
        "private" => "IPv4-embedded private",
        "link-local (cloud metadata)" => "IPv4-embedded link-local (cloud metadata)",
        _ => "IPv4-embedded non-public",
    }
}

fn parse_cidr(text: &str) -> Result<IpNet, String> {
    IpNet::from_str(text)
        .or_else(|_| IpAddr::from_str(text).map(IpNet::from))
        .map_err(|_| format!("{text:?} is not a CIDR range (e.g. 127.0.0.0/8) or an IP address"))
}

fn net_v4(text: &str) -> Ipv4Net {
    text.parse().unwrap_or_else(|_| unreachable!("constant CIDR {text}"))
}

fn net_v6(text: &str) -> Ipv6Net {
    text.parse().unwrap_or_else(|_| unreachable!("constant CIDR {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(text: &str) -> bool {
        AddressPolicy::default().check(text.parse().expect("ip")).is_err()
    }

    #[test]
    fn default_policy_refuses_non_public_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "fd00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2002:7f00:1::",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "3fff::1",
        ] {
            assert!(denied(ip), "{ip} should be denied");
        }
    }

    #[test]
    fn default_policy_allows_public_unicast() {
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"] {
            assert!(!denied(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn allowlist_opens_exactly_its_ranges() {
        let policy = AddressPolicy::new(AddressPolicy::parse_allowlist("127.0.0.0/8, 10.0.0.5").expect("parses"));
        assert!(policy.check("127.3.4.5".parse().expect("ip")).is_ok());
        assert!(policy.check("::ffff:127.0.0.1".parse().expect("ip")).is_ok());
        assert!(policy.check("10.0.0.5".parse().expect("ip")).is_ok());
        assert!(policy.check("10.0.0.6".parse().expect("ip")).is_err());
        assert!(policy.check("169.254.169.254".parse().expect("ip")).is_err());
        assert!(AddressPolicy::parse_allowlist("not-a-cidr").is_err());
        assert_eq!(AddressPolicy::parse_allowlist(" ").expect("empty"), vec![]);
    }
}
