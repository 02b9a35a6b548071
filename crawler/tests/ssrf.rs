//! The address policy end to end: forbidden addresses are refused before any connection, proven
//! by loopback listeners that count the connections they accept.

use agora_crawler::policy::AddressPolicy;
use agora_crawler::testkit::{Reply, Seller, v2_challenge};
use agora_crawler::{ProbeConfig, Prober, StaticResolver, Verdict};
use std::net::IpAddr;
use std::sync::Arc;

fn prober(allow: &str, resolver: StaticResolver) -> Prober {
    let policy = AddressPolicy::new(AddressPolicy::parse_allowlist(allow).expect("cidrs"));
    Prober::new(ProbeConfig { policy, resolver: Arc::new(resolver), ..ProbeConfig::default() }).expect("prober")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

/// A loopback listener standing where a forbidden target would be.
async fn victim() -> Seller {
    Seller::always(Reply::v2(&v2_challenge("http://victim/"))).await.expect("victim")
}

#[tokio::test]
async fn default_policy_refuses_private_targets_without_connecting() {
    let victim = victim().await;
    let port = victim.addr().port();
    let prober = prober("", StaticResolver::new().with("internal.example", &[ip("127.0.0.1")]));
    let targets = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://internal.example:{port}/"),
        format!("http://localhost:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00::1]/".to_string(),
        "http://[fd00:ec2::254]/".to_string(),
        "http://[64:ff9b::a9fe:a9fe]/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://100.64.0.1/".to_string(),
    ];
    for target in &targets {
        let report = prober.probe_str(target, None).await;
        assert_eq!(report.verdict, Verdict::Refused, "{target}: {:?}", report.problems);
        assert_eq!(report.problems[0].code, "address_refused", "{target}");
        assert!(report.http.is_none(), "{target}: nothing was sent");
    }
    assert_eq!(victim.connections(), 0, "a refused target must never be connected to");
}

#[tokio::test]
async fn a_name_is_refused_if_any_of_its_addresses_is_private() {
    let victim = victim().await;
    let mixed = StaticResolver::new().with("mixed.example", &[ip("93.184.216.34"), ip("127.0.0.1")]);
    let report = prober("", mixed).probe_str(&format!("http://mixed.example:{}/", victim.addr().port()), None).await;
    assert_eq!(report.verdict, Verdict::Refused);
    assert!(report.problems[0].message.contains("127.0.0.1"), "{}", report.problems[0].message);
    assert_eq!(victim.connections(), 0);
}

#[tokio::test]
async fn public_looking_redirects_to_private_targets_are_refused() {
    // The victim is on 127.0.0.1, outside the allowlist; the redirector on 127.0.0.2 is inside it
    // and plays a public site that redirects to each forbidden form.
    let victim = victim().await;
    let port = victim.addr().port();
    let locations = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://internal.example:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00::1]/".to_string(),
        "http://[64:ff9b::a9fe:a9fe]/".to_string(),
        "ftp://127.0.0.1/".to_string(),
    ];
    for location in &locations {
        let target = location.clone();
        let redirector = Seller::start(ip("127.0.0.2"), move |_| Reply::new(302).header("location", target.clone()))
            .await
            .expect("redirector");
        let resolver = StaticResolver::new()
            .with("public.example", &[ip("127.0.0.2")])
            .with("internal.example", &[ip("127.0.0.1")]);
        let url = format!("http://public.example:{}/start", redirector.addr().port());
        let report = prober("127.0.0.2/32", resolver).probe_str(&url, None).await;
        assert_eq!(report.verdict, Verdict::Refused, "{location}: {:?}", report.problems);
        let http = report.http.expect("the first hop was fetched");
        // A non-http(s) Location is refused before it counts as a hop.
        let hops = if location.starts_with("ftp:") { 0 } else { 1 };
        assert_eq!(http.redirects.len(), hops, "{location}");
        assert_eq!(redirector.connections(), 1);
    }
    assert_eq!(victim.connections(), 0, "no redirect may reach the victim");
}

#[tokio::test]
async fn the_allowlist_opens_exactly_its_ranges() {
    let seller = victim().await;
    let report = prober("127.0.0.0/8", StaticResolver::new()).probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    let narrow = prober("127.0.0.2/32", StaticResolver::new()).probe_str(&seller.url("/"), None).await;
    assert_eq!(narrow.verdict, Verdict::Refused);
    assert_eq!(seller.connections(), 1);
}

#[tokio::test]
async fn urls_that_cannot_be_probed_are_refused_with_a_reason() {
    let prober = prober("", StaticResolver::new());
    for (url, method, code) in [
        ("ftp://example.com/file", "GET", "url_scheme_unsupported"),
        ("http://user:secret@example.com/", "GET", "url_userinfo"),
        ("not a url", "GET", "url_invalid"),
        ("https://example.com/", "HEAD", "method_unsupported"),
        ("https://example.com/", "TRACE", "method_unsupported"),
    ] {
        let report = prober.probe_str(url, Some(method)).await;
        assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::Refused, code), "{url}");
    }
    let long = format!("https://example.com/{}", "a".repeat(3000));
    assert_eq!(prober.probe_str(&long, None).await.problems[0].code, "url_too_long");
}

#[tokio::test]
async fn unknown_names_are_dns_failures_and_cross_origin_redirects_are_flagged() {
    let report = prober("", StaticResolver::new()).probe_str("http://nowhere.example/", None).await;
    assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::FetchError, "dns_failed"));

    let target = Seller::always(Reply::v2(&v2_challenge("http://127.0.0.2/"))).await.expect("target");
    let location = target.url("/paid");
    let redirector = Seller::start(ip("127.0.0.3"), move |_| Reply::new(301).header("location", location.clone()))
        .await
        .expect("redirector");
    let report = prober("127.0.0.0/8", StaticResolver::new()).probe_str(&redirector.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    assert!(report.warnings.iter().any(|w| w.code == "redirected_cross_origin"), "{:?}", report.warnings);
}
