//! Search at catalog scale: N synthetic listings (100,000 and 1,000,000; `AGORA_BENCH_SMOKE=1`
//! runs 3,000 for CI). Prints, per size: index build time and size; p50/p99 latency of a
//! realistic query mix through the search function (text, filters, facets and hydration from
//! SQLite included) next to SQLite FTS5 answering the same queries (top 20 + count, no facets)
//! in the same run, with equal hit counts checked in exact-term mode; and registration-to-
//! searchable latency through the real writer and indexer.
//! `AGORA_BENCH_SIZES=100000` picks sizes; `AGORA_BENCH_DETAIL=1` prints each query's figures;
//! `AGORA_BENCH_PROFILE=<query>` loops one query for a profiler instead (`long_tail`: the API
//! benchmark's long-tail mix, one search each, printing the slowest).

mod data;
#[path = "../api/long_tail.rs"]
mod long_tail;

#[path = "../support/memory.rs"]
mod memory;
use agora::clock::{Clock, SystemClock};
use agora::db::register::NewService;
use agora::db::{Store, connect};
use agora::search::results::search;
use agora::search::{SearchIndex, SearchRequest, TextMode, build};
use agora_crawler::{Listing, Offer, ProbeReport, Resource, Verdict};
use sqlx::{Connection, SqliteConnection};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The mix: (query string, also compared against FTS5 in exact mode).
const MIX: &[(&str, bool)] = &[
    ("q=weather", true),
    ("q=stock+price", true),
    ("q=translate+text", true),
    ("q=image+resize", true),
    ("q=crypto&network=base", true),
    ("q=geocode+address&min_usd=0.001&max_usd=0.01", true),
    ("q=llm+chat&testnet=include", true),
    ("q=speech&network=solana&network=polygon", true),
    ("q=forecast+temperature+city", true),
    ("q=market&asset=USDC&sort=price_asc", true),
    ("q=embedding&version=2&has_schema=true", true),
    ("q=t1234", true),
    ("q=realtime+data", true),
    ("q=wether", false),
    ("q=transalte+txt", false),
    ("q=forec", false),
    ("q=embed", false),
    ("sort=newest", true),
    ("network=base&sort=price_asc", true),
    ("min_usd=0.01&max_usd=0.1&sort=verified", true),
    ("testnet=only", true),
    ("sort=uptime&version=1", true),
];

fn request(query: &str, mode: TextMode) -> SearchRequest {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut request =
        SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[]).expect("valid");
    request.text_mode = mode;
    request
}

/// The same search in SQL + FTS5: top 20 by bm25 (or the sort column) and the count.
fn fts_sql(query: &str) -> (String, String, Vec<String>) {
    let r = request(query, TextMode::Exact);
    let mut offer = vec!["o.service_id = s.id".to_string()];
    let mut binds = Vec::new();
    match r.testnet {
        agora::search::TestnetMode::Exclude => offer.push("o.testnet = 0".into()),
        agora::search::TestnetMode::Only => offer.push("o.testnet = 1".into()),
        agora::search::TestnetMode::Include => {}
    }
    if !r.networks.is_empty() {
        let ids: Vec<String> = r
            .networks
            .iter()
            .map(|n| agora_crawler::x402::networks::canonical_for(n).unwrap_or(n).to_string())
            .collect();
        // Literals (from Agora's own network table): the filter appears twice in the SQL.
        offer.push(format!("o.network IN ({})", ids.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",")));
    }
    if !r.assets.is_empty() {
        offer.push("o.asset_symbol = 'USDC'".into());
    }
    if let Some(min) = r.min_usd_micros {
        offer.push(format!("o.usd_micros >= {min}"));
    }
    if let Some(max) = r.max_usd_micros {
        offer.push(format!("o.usd_micros <= {max}"));
    }
    let mut filters =
        vec![format!("s.status = 'listed' AND EXISTS (SELECT 1 FROM offers o WHERE {})", offer.join(" AND "))];
    if let Some(v) = r.version {
        filters.push(format!("s.x402_version = {v}"));
    }
    if r.has_schema {
        filters.push("s.has_schema = 1".into());
    }
    let words: Vec<String> = r.q.split_whitespace().map(|w| format!("\"{w}\"")).collect();
    let offer_filter = offer.join(" AND ");
    let sort_order = match r.sort() {
        agora::search::Sort::PriceAsc => format!("(SELECT MIN(o.usd_micros) FROM offers o WHERE {offer_filter}) ASC"),
        agora::search::Sort::PriceDesc => format!("(SELECT MIN(o.usd_micros) FROM offers o WHERE {offer_filter}) DESC"),
        agora::search::Sort::Verified => "s.last_listed_at DESC".to_string(),
        // Uptime lives in the probe roll-ups; newest stands in for it here.
        _ => "s.registered_at DESC".to_string(),
    };
    let (from, order) = if words.is_empty() {
        ("services s".to_string(), sort_order)
    } else if r.sort() != agora::search::Sort::Relevance {
        binds.insert(0, words.join(" "));
        ("(SELECT rowid FROM fts WHERE fts MATCH ?) f JOIN services s ON s.id = f.rowid".to_string(), sort_order)
    } else {
        // FTS first (a subquery), so SQLite never scans services probing the FTS table per row.
        binds.insert(0, words.join(" "));
        (
            "(SELECT rowid, bm25(fts, 5.0, 3.0, 2.0, 1.5, 1.0, 1.0) AS rank FROM fts WHERE fts MATCH ?) f \
             JOIN services s ON s.id = f.rowid"
                .to_string(),
            "f.rank".to_string(),
        )
    };
    let filter = filters.join(" AND ");
    (
        format!("SELECT s.id, s.name, s.description FROM {from} WHERE {filter} ORDER BY {order} LIMIT 20"),
        format!("SELECT COUNT(*) FROM {from} WHERE {filter}"),
        binds,
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(f64::NAN)
}

fn summary(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

fn dir_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries.filter_map(Result::ok).filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
    })
}

fn listing(url: &str, word: &str) -> ProbeReport {
    let offer = Offer {
        scheme: "exact".into(),
        network: "eip155:8453".into(),
        network_v1: Some("base".into()),
        family: "evm".into(),
        testnet: false,
        asset: "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913".into(),
        asset_symbol: Some("USDC".into()),
        decimals: Some(6),
        amount: "1000".into(),
        usd: Some("0.001".into()),
        usd_is_max: false,
        pay_to: "0x209693bc6afc0c5328ba36faf03c514ef312287c".into(),
        max_timeout_seconds: 300,
        extra: serde_json::json!({}),
        payment_flow: "authorization".into(),
        asset_transfer_method: Some("eip3009".into()),
        payable: true,
    };
    let resource = Resource { url: url.into(), description: format!("fresh {word} listing"), ..Resource::default() };
    ProbeReport {
        url: url.into(),
        method: "GET".into(),
        verdict: Verdict::Listed,
        problems: Vec::new(),
        problems_omitted: 0,
        warnings: Vec::new(),
        warnings_omitted: 0,
        http: None,
        listing: Some(Listing { x402_version: 2, resource, discovery: None, offers: vec![offer] }),
        challenge: None,
        retry_after: None,
    }
}

/// Seeds `n` listings into `dir` and builds the index; returns the seconds the build took.
async fn seed_and_build(dir: &std::path::Path, n: usize) -> (Store, f64) {
    let now = SystemClock.now_ms();
    connect::migrate(dir).await.expect("migrate");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", dir.join(connect::DB_FILE).display()))
        .await
        .expect("connect");
    let seeded = Instant::now();
    data::seed(&mut conn, n, now).await.expect("seed");
    conn.close().await.expect("close");
    println!("\n== {n} listings (seeded in {:.1} s)", seeded.elapsed().as_secs_f64());
    let store = Store::open(dir).await.expect("store");
    let started = Instant::now();
    build::rebuild(dir, store.read(), &SystemClock, &|_, _| {}).await.expect("rebuild");
    (store, started.elapsed().as_secs_f64())
}

/// Opens the index the way `agora serve` does (verify, decode every segment's offer facts).
async fn open_index(dir: &std::path::Path, store: &Store) -> (SearchIndex, f64) {
    let started = Instant::now();
    let index = build::open(dir, store, Arc::new(SystemClock)).await.expect("open index");
    (index, started.elapsed().as_secs_f64())
}

/// `AGORA_BENCH_PROFILE=<query>`: loops one query for a profiler (over a catalog kept in
/// `AGORA_BENCH_PROFILE_DIR` between runs, seeded when that directory is empty).
async fn profile(n: usize, query: &str) {
    let kept = std::env::var("AGORA_BENCH_PROFILE_DIR").ok().map(std::path::PathBuf::from);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("profile dir");
    let store = if dir.join(connect::DB_FILE).exists() {
        Store::open(&dir).await.expect("store")
    } else {
        seed_and_build(&dir, n).await.0
    };
    let (index, open_s) = open_index(&dir, &store).await;
    println!("index opened in {open_s:.2} s, {} documents", index.num_docs());
    if query == "long_tail" {
        profile_long_tail(&index, &store).await;
    } else {
        profile_one(&index, &store, query).await;
    }
    index.stop().await;
    store.close().await;
}

/// Each query of the long-tail mix once (twice over: the first pass warms the page cache), then
/// the distribution and the slowest.
async fn profile_long_tail(index: &SearchIndex, store: &Store) {
    let queries = long_tail::queries(3_000);
    let mut timed = Vec::new();
    let (mut hits, mut distinct, mut matches) = (0usize, std::collections::HashSet::new(), 0u64);
    for pass in 0..2 {
        for query in &queries {
            let t = Instant::now();
            let found = search(index, store.read(), &request(query, TextMode::Forgiving)).await.expect("search");
            if pass == 1 {
                timed.push((t.elapsed().as_secs_f64() * 1000.0, query));
                hits += found.hits.len();
                distinct.extend(found.hits.iter().map(|h| h.service.id));
                matches += found.total;
            }
        }
    }
    let ((hits_cached, computed, evictions), pairs) = index.word_cache_counts();
    println!("word cache: {hits_cached} hits, {computed} computed, {evictions} evictions, {pairs} pairs held");
    println!(
        "matches per query: mean {:.0}; hits shown: {hits}, {} distinct services",
        matches as f64 / queries.len() as f64,
        distinct.len()
    );
    let mean = timed.iter().map(|t| t.0).sum::<f64>() / timed.len() as f64;
    timed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let at = |p: f64| timed[((timed.len() - 1) as f64 * p) as usize].0;
    println!(
        "long tail, {} queries: mean {mean:.3} ms, p50 {:.3}, p90 {:.3}, p99 {:.3}, max {:.3}",
        timed.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    for (ms, query) in timed.iter().rev().take(40) {
        println!("  {ms:7.3} ms  {query}");
    }
}

async fn profile_one(index: &SearchIndex, store: &Store, query: &str) {
    let mut request = request(query, TextMode::Forgiving);
    let (started, mut count) = (Instant::now(), 0);
    while started.elapsed() < Duration::from_secs(10) {
        // A new offset each time: searches without text are otherwise answered from the cache.
        request.offset = count % 1_000;
        std::hint::black_box(search(index, store.read(), &request).await.expect("search"));
        count += 1;
    }
    println!(
        "{query}: {:.3} ms per search ({count} searches)",
        started.elapsed().as_secs_f64() * 1000.0 / count as f64
    );
}

async fn bench_size(n: usize, rounds: usize, fts_rounds: usize, registrations: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, build_s) = seed_and_build(dir.path(), n).await;
    let size_mib = dir_bytes(&SearchIndex::dir(dir.path())) as f64 / 1048576.0;
    let (index, open_s) = open_index(dir.path(), &store).await;
    println!(
        "index: built in {build_s:.1} s ({:.0} docs/s), {size_mib:.0} MiB on disk; opened in {open_s:.2} s \
         (offer facts decoded: {:.0} MiB in memory)",
        n as f64 / build_s,
        index.facts_bytes() as f64 / 1048576.0
    );
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", dir.path().join(connect::DB_FILE).display()))
        .await
        .expect("connect");

    // Exact mode: same hit counts as FTS5.
    let pool = store.read();
    for (query, comparable) in MIX.iter().filter(|(_, c)| *c) {
        let _ = comparable;
        let ours = search(&index, pool, &request(query, TextMode::Exact)).await.expect("search").total;
        let (_, count, binds) = fts_sql(query);
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count));
        for b in &binds {
            q = q.bind(b);
        }
        let t = Instant::now();
        let theirs = q.fetch_one(&mut conn).await.expect("fts count");
        if std::env::var("AGORA_BENCH_DETAIL").is_ok_and(|v| v == "1") {
            println!("  fts5 count {query:<45} {:8.2} ms", t.elapsed().as_secs_f64() * 1000.0);
        }
        assert_eq!(ours as i64, theirs, "hit counts differ for {query}");
    }
    println!("exact-term hit counts equal FTS5 for all {} comparable queries", MIX.iter().filter(|m| m.1).count());

    let detail = std::env::var("AGORA_BENCH_DETAIL").is_ok_and(|v| v == "1");
    let (mut ours, mut text, mut filter_only) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_query = vec![Vec::new(); MIX.len()];
    for _ in 0..rounds {
        for (i, (query, _)) in MIX.iter().enumerate() {
            let request = request(query, TextMode::Forgiving);
            let t = Instant::now();
            let results = search(&index, pool, &request).await.expect("search");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            std::hint::black_box(results);
            ours.push(ms);
            per_query[i].push(ms);
            if request.q.is_empty() { filter_only.push(ms) } else { text.push(ms) }
        }
    }
    // Searches without text are cached per index snapshot; in production commits come often
    // (every re-probe that changes a listing), so their uncached cost matters too. A new limit
    // each time misses the cache with the same work.
    let mut uncached = Vec::new();
    for round in 0..rounds {
        for (query, _) in MIX.iter().filter(|(q, _)| !q.contains("q=")) {
            let mut request = request(query, TextMode::Forgiving);
            request.limit = 20 + round % 80;
            let t = Instant::now();
            std::hint::black_box(search(&index, pool, &request).await.expect("search"));
            uncached.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    if detail {
        for ((query, _), samples) in MIX.iter().zip(per_query) {
            let (p50, p99) = summary(samples);
            println!("  {query:<50} p50 {p50:6.2} ms  max {p99:6.2} ms");
        }
    }
    // FTS5 is far slower, so it gets fewer rounds of the same queries.
    let mut fts = Vec::new();
    for _ in 0..fts_rounds {
        for (query, _) in MIX.iter().filter(|(_, comparable)| *comparable) {
            let (top, count, binds) = fts_sql(query);
            let t = Instant::now();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(top));
            for b in &binds {
                q = q.bind(b);
            }
            let rows = q.fetch_all(&mut conn).await.expect("fts top");
            let mut c = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count));
            for b in &binds {
                c = c.bind(b);
            }
            let total = c.fetch_one(&mut conn).await.expect("fts count");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if detail {
                println!("  fts5 {query:<45} {ms:8.2} ms");
            }
            fts.push(ms);
            std::hint::black_box((rows, total));
        }
    }
    let (p50, p99) = summary(ours);
    let (t50, t99) = summary(text);
    let (f50, f99) = summary(filter_only);
    let (u50, u99) = summary(uncached);
    let (s50, s99) = summary(fts);
    println!("agora search (mix of {} queries × {rounds}): p50 {p50:.2} ms, p99 {p99:.2} ms", MIX.len());
    println!("  text queries: p50 {t50:.2} ms, p99 {t99:.2} ms; filter-only: p50 {f50:.2} ms, p99 {f99:.2} ms");
    println!("  filter-only, never from the cache: p50 {u50:.2} ms, p99 {u99:.2} ms");
    println!(
        "sqlite fts5 ({} comparable queries × {fts_rounds}, top 20 + count, no facets): p50 {s50:.2} ms, p99 {s99:.2} ms",
        MIX.iter().filter(|m| m.1).count()
    );
    println!("ratio fts5/agora: p50 {:.1}x, p99 {:.1}x", s50 / p50, s99 / p99);

    // Registration to searchable: the writer commits, the indexer follows on its own.
    let applied = index.applied_seq();
    let mut tasks = Vec::new();
    let mut rng = fastrand::Rng::with_seed(9);
    for i in 0..registrations {
        tokio::time::sleep(Duration::from_millis(rng.u64(0..100))).await;
        let (writer, mut applied) = (store.writer().clone(), applied.clone());
        tasks.push(tokio::spawn(async move {
            let url = format!("https://fresh{i}.example/v1/item");
            let t = Instant::now();
            let registered = writer
                .register(
                    vec![NewService { url: url.clone(), method: "GET".into(), host: format!("fresh{i}.example") }],
                    SystemClock.now_ms(),
                )
                .await
                .expect("register");
            let record = agora::db::record::ProbeRecord {
                service_id: registered[0].id,
                report: Arc::new(listing(&url, &format!("fresh{i}"))),
                probed_at: SystemClock.now_ms(),
                jitter: 0.0,
                policy: Default::default(),
            };
            let seq = writer.record(record).await.expect("record").change_seq;
            applied.wait_for(|s| *s >= seq).await.expect("indexer alive");
            t.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.expect("task"));
    }
    let mut last = SearchRequest::new(&format!("fresh{}", registrations - 1));
    last.text_mode = TextMode::Exact;
    let found = search(&index, pool, &last).await.expect("search");
    assert_eq!(found.total, 1, "the last registration is searchable");
    let (r50, r99) = summary(latencies);
    println!("registration → searchable ({registrations} registrations): p50 {r50:.0} ms, p99 {r99:.0} ms");
    println!("peak RSS so far: {:.0} MiB", memory::peak_rss_mib());
    index.stop().await;
    store.close().await;
}

fn main() {
    let smoke = std::env::var("AGORA_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let sizes: Vec<usize> = match std::env::var("AGORA_BENCH_SIZES") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) if smoke => vec![3_000],
        Err(_) => vec![100_000, 1_000_000],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if let Ok(query) = std::env::var("AGORA_BENCH_PROFILE") {
        runtime.block_on(profile(sizes.first().copied().unwrap_or(100_000), &query));
        return;
    }
    for n in sizes {
        let (rounds, fts_rounds) = if smoke {
            (3, 1)
        } else if n >= 1_000_000 {
            (10, 1)
        } else {
            (30, 3)
        };
        runtime.block_on(bench_size(n, rounds, fts_rounds, if smoke { 10 } else { 100 }));
    }
}
