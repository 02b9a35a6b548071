//! Hostile and misbehaving sellers: every probe ends within its configured limits with a clear
//! verdict, and nothing panics. Limits are set low so the suite stays fast; the assertions are on
//! verdicts and codes, never on wall time.

use agora_crawler::testkit::{Reply, Seller, v1_challenge, v2_challenge};
use agora_crawler::{AddressPolicy, FetchConfig, ProbeConfig, Prober, StaticResolver, Verdict};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn prober() -> Prober {
    let fetch = FetchConfig {
        total_timeout: Duration::from_millis(1500),
        read_timeout: Duration::from_millis(1000),
        ..FetchConfig::default()
    };
    let policy = AddressPolicy::new(AddressPolicy::parse_allowlist("127.0.0.0/8").expect("cidr"));
    Prober::new(ProbeConfig { fetch, policy, resolver: Arc::new(StaticResolver::new()) }).expect("prober")
}

#[tokio::test]
async fn a_slow_drip_body_times_out() {
    // Headers arrive at once; then one byte every 200 ms, longer than the total deadline.
    let seller = Seller::always(Reply::new(402).header("content-type", "application/json").drip(
        b" ",
        Duration::from_millis(200),
        100,
    ))
    .await
    .expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::FetchError, "{:?}", report.problems);
    assert_eq!(report.problems[0].code, "timeout");
}

#[tokio::test]
async fn a_slow_drip_body_does_not_hide_a_header_challenge() {
    let challenge = v2_challenge("http://127.0.0.1/");
    let reply = Reply::v2(&challenge).drip(b" ", Duration::from_millis(200), 100);
    let seller = Seller::always(reply).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    assert!(report.warnings.iter().any(|w| w.code == "body_truncated"));
}

#[tokio::test]
async fn a_huge_body_is_cut_at_the_cap() {
    let mut body = br#"{"x402Version":1,"accepts":[],"padding":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 4 * 1024 * 1024));
    body.extend_from_slice(b"\"}");
    let seller =
        Seller::always(Reply::new(402).header("content-type", "application/json").body(body)).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::FetchError);
    assert_eq!(report.problems[0].code, "body_too_large");
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_at_the_cap_after_decompression() {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(br#"{"x402Version":1,"accepts":[],"p":""#).expect("gzip");
    let zeros = vec![b'0'; 1024 * 1024];
    for _ in 0..64 {
        encoder.write_all(&zeros).expect("gzip");
    }
    let bomb = encoder.finish().expect("gzip");
    assert!(bomb.len() < 256 * 1024, "the compressed bomb itself is under the cap ({} bytes)", bomb.len());
    let reply =
        Reply::new(402).header("content-type", "application/json").header("content-encoding", "gzip").body(bomb);
    let seller = Seller::always(reply).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::FetchError, "{:?}", report.problems);
    assert_eq!(report.problems[0].code, "body_too_large");
}

#[tokio::test]
async fn a_gzip_challenge_within_the_cap_is_read() {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(v1_challenge("http://127.0.0.1/").to_string().as_bytes()).expect("gzip");
    let reply = Reply::new(402).header("content-encoding", "gzip").body(encoder.finish().expect("gzip"));
    let seller = Seller::always(reply).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
}

#[tokio::test]
async fn huge_headers_are_refused() {
    // Over the 128 KiB challenge cap but within what the HTTP parser reads.
    let big = "A".repeat(200 * 1024);
    let seller = Seller::always(Reply::new(402).header("payment-required", big)).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::FetchError, "header_too_large"));
    // Beyond what the HTTP parser accepts at all.
    let seller = Seller::always(Reply::new(402).header("x-junk", "B".repeat(2 * 1024 * 1024))).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::FetchError, "{:?}", report.problems);
}

#[tokio::test]
async fn a_large_but_allowed_challenge_header_is_read() {
    // Real merchants embed large challenges (x402scan raised its limit to 128 KB for them).
    let mut challenge = v2_challenge("http://127.0.0.1/");
    challenge["resource"]["description"] = "d".repeat(60 * 1024).into();
    let seller = Seller::always(Reply::v2(&challenge)).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
}

#[tokio::test]
async fn redirect_loops_and_chains_stop_after_three_hops() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let seller = Seller::always(Reply::new(302).header("location", "/loop")).await.expect("seller");
    let report = prober().probe_str(&seller.url("/loop"), None).await;
    assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::FetchError, "too_many_redirects"));
    assert_eq!(report.http.expect("http").redirects.len(), 3);
    assert_eq!(seller.connections(), 4, "the first request and three redirects");

    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let chain = Seller::start([127, 0, 0, 1].into(), move |request| {
        counter.fetch_add(1, Ordering::SeqCst);
        log.lock().expect("lock").push(format!("{} {}", request.method, request.path));
        match request.path.as_str() {
            "/a" => Reply::new(301).header("location", "/b"),
            "/b" => Reply::new(307).header("location", "/c"),
            "/see-other" => Reply::new(303).header("location", "/c"),
            _ => Reply::v1(&v1_challenge("http://127.0.0.1/c")),
        }
    })
    .await
    .expect("seller");
    let report = prober().probe_str(&chain.url("/a"), Some("POST")).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    let http = report.http.expect("http");
    assert_eq!(http.redirects, [chain.url("/b"), chain.url("/c")]);
    assert!(http.final_url.ends_with("/c"));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    // 301 and 307 keep the method: a POST route must be judged as a POST route.
    assert_eq!(*seen.lock().expect("lock"), ["POST /a", "POST /b", "POST /c"]);

    // 303 "see other" switches to GET.
    seen.lock().expect("lock").clear();
    let report = prober().probe_str(&chain.url("/see-other"), Some("POST")).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    assert_eq!(*seen.lock().expect("lock"), ["POST /see-other", "GET /c"]);
}

#[tokio::test]
async fn invalid_base64_and_utf8_are_invalid_not_crashes() {
    let seller =
        Seller::always(Reply::new(402).header("payment-required", "*** not base64 ***")).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::Invalid, "header_base64_invalid"));

    // Raw non-UTF-8 bytes in the header value and in the body.
    let reply = Reply::new(402)
        .header("payment-required", b"\xff\xfe\xfd".to_vec())
        .body(b"\xc3\x28{\"x402Version\":1".to_vec());
    let seller = Seller::always(reply).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{:?}", report.problems);
}

#[tokio::test]
async fn deeply_nested_json_is_rejected_cleanly() {
    let deep = format!("{}{}", "[".repeat(150_000), "]".repeat(150_000));
    let body = format!(r#"{{"x402Version":1,"accepts":{deep}}}"#);
    let seller = Seller::always(Reply::new(402).body(body)).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::FetchError, "300 KB of nesting is over the body cap: {:?}", report.problems);

    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let body = format!(r#"{{"x402Version":1,"accepts":{deep}}}"#);
    let seller = Seller::always(Reply::new(402).body(body)).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::Invalid, "challenge_json_invalid"));
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_transient_and_keep_retry_after() {
    let seller = Seller::always(Reply::new(429).header("retry-after", "120")).await.expect("seller");
    let report = prober().probe_str(&seller.url("/"), None).await;
    assert_eq!(report.verdict, Verdict::FetchError);
    assert_eq!(report.retry_after, Some(Duration::from_secs(120)));
    let seller = Seller::always(Reply::new(503)).await.expect("seller");
    assert_eq!(prober().probe_str(&seller.url("/"), None).await.verdict, Verdict::FetchError);
}

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let report = prober().probe_str(&format!("http://{addr}/"), None).await;
    assert_eq!((report.verdict, report.problems[0].code.as_str()), (Verdict::FetchError, "timeout"));
    hold.abort();
}

#[tokio::test]
async fn the_probe_sends_an_honest_non_browser_request() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let seller = Seller::start([127, 0, 0, 1].into(), move |request| {
        log.lock().expect("lock").push(request.clone());
        Reply::v2(&v2_challenge("http://127.0.0.1/"))
    })
    .await
    .expect("seller");
    let report = prober().probe_str(&seller.url("/pay?x=1#frag"), Some("post")).await;
    assert_eq!(report.verdict, Verdict::Listed);
    let request = seen.lock().expect("lock")[0].clone();
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/pay?x=1"));
    assert_eq!(request.header("accept"), Some("application/json"));
    let agent = request.header("user-agent").expect("user agent");
    assert!(agent.contains("Agora") && !agent.contains("Mozilla"), "{agent}");
    let timings = report.http.expect("http").timings_ms;
    assert!(timings.connect.is_some() && timings.first_byte.is_some() && timings.total > 0.0);
}
