//! The relevance set (docs/SEARCH.md "Relevance set"): a generated catalog of 120 services in 12
//! topics whose sellers say the same things in different words (`tests/relevance/topics.tsv`), and
//! 156 judged queries in six classes — head, long, synonym, typo, price-intent, attribute
//! (`tests/relevance/queries.tsv`). Judgments are computed from the generator's labels (topic,
//! network, price, scheme, testnet), never from what the engine returns. The test prints nDCG@10
//! per class and fails when a class falls below its floor in `tests/relevance/floors.tsv`.

use crate::catalog::{AVALANCHE_USDC, BASE_USDC, Catalog, OfferSpec, POLYGON_USDC, SEPOLIA_USDC, ServiceSpec};
use agora::search::SearchRequest;
use agora::search::results::search;
use std::collections::BTreeMap;

const TOPICS: &str = include_str!("../relevance/topics.tsv");
const QUERIES: &str = include_str!("../relevance/queries.tsv");
const FLOORS: &str = include_str!("../relevance/floors.tsv");
/// Services generated per topic; the last one is on a testnet.
const PER_TOPIC: usize = 10;
/// Price tiers in USD micro-dollars ($0.0001 to $0.02).
const PRICES: [i64; 5] = [100, 500, 1000, 5000, 20_000];
/// "cheap": at most this (the three lowest tiers).
const CHEAP: i64 = 1000;
/// A class may fall this far below its floor before the test fails (rounding in the floors file).
const TOLERANCE: f64 = 0.005;

/// What the generator knows about a service: the truth queries are judged against.
#[derive(Debug, Clone)]
struct Labels {
    topic: String,
    network: &'static str,
    micros: i64,
    upto: bool,
    testnet: bool,
}

fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| l.split('\t').collect())
}

/// The catalog: service `i` of topic `k` takes the `i`th wording of each field and attributes that
/// cycle with different periods, so topic, network, price and scheme vary independently.
fn generate() -> (Vec<ServiceSpec>, Vec<Labels>) {
    let mut specs = Vec::new();
    let mut labels = Vec::new();
    for (k, fields) in lines(TOPICS).enumerate() {
        let (topic, names, descriptions, tags) = (fields[0], fields[1], fields[2], fields[3]);
        let names: Vec<&str> = names.split('|').collect();
        let descriptions: Vec<&str> = descriptions.split('|').collect();
        let tags: Vec<Vec<&str>> = tags.split('|').map(|t| t.split(',').collect()).collect();
        for i in 0..PER_TOPIC {
            let testnet = i == PER_TOPIC - 1;
            let network = [BASE_USDC, POLYGON_USDC, AVALANCHE_USDC][(i + k) % 3];
            let micros = PRICES[(i + 2 * k) % PRICES.len()];
            let upto = (i + k) % 4 == 3;
            let base = if testnet { SEPOLIA_USDC } else { network };
            let offer = OfferSpec { amount: micros, scheme: if upto { "upto" } else { "exact" }, ..base };
            // Neutral paths: the URL is searchable text and must not give the topic away.
            let mut spec = ServiceSpec::new(
                &format!("/svc/{}", specs.len()),
                names[i % names.len()],
                descriptions[i % descriptions.len()],
                &tags[i % tags.len()],
                "input",
            );
            spec.seller = i % 2;
            spec.offers = vec![offer];
            specs.push(spec);
            labels.push(Labels { topic: topic.to_string(), network: base.v1, micros, upto, testnet });
        }
    }
    (specs, labels)
}

/// The grade of a service for a query: 0 off-topic (or a testnet service nobody asked for), 1 on
/// topic but missing a constraint, 2 on topic with every constraint met.
fn grade(labels: &Labels, topic: &str, constraints: &[&str]) -> u32 {
    let wants_testnet = constraints.contains(&"testnet");
    if labels.topic != topic || (labels.testnet && !wants_testnet) {
        return 0;
    }
    let met = constraints.iter().all(|c| match c.split_once('=') {
        Some(("network", network)) => labels.network == network,
        Some(("max", max)) => max.parse::<i64>().is_ok_and(|max| labels.micros <= max),
        Some(("scheme", scheme)) => (scheme == "upto") == labels.upto,
        _ if *c == "cheap" => labels.micros <= CHEAP,
        _ if *c == "testnet" => labels.testnet,
        _ => panic!("unknown constraint {c:?}"),
    });
    if met { 2 } else { 1 }
}

/// nDCG@10 of `ranked` grades against the best order of `all` grades.
fn ndcg(ranked: &[u32], all: &[u32]) -> f64 {
    let dcg = |grades: &[u32]| -> f64 {
        let gains =
            grades.iter().take(10).enumerate().map(|(i, g)| (2f64.powi(*g as i32) - 1.0) / (i as f64 + 2.0).log2());
        gains.fold(0.0, |sum, gain| sum + gain)
    };
    let mut ideal = all.to_vec();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let best = dcg(&ideal);
    if best == 0.0 { 0.0 } else { dcg(ranked) / best }
}

#[tokio::test]
async fn ndcg_per_query_class_does_not_regress() {
    let (specs, labels) = generate();
    assert_eq!(specs.len(), 120);
    let catalog = Catalog::build(specs).await;
    pin_latencies(&catalog).await;
    catalog.search().flush().await.expect("flush");
    let by_id: BTreeMap<i64, &Labels> = catalog.specs.iter().zip(&labels).map(|(s, l)| (s.id, l)).collect();

    let mut per_class: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for fields in lines(QUERIES) {
        let (class, query, topic) = (fields[0], fields[1], fields[2]);
        let constraints: Vec<&str> =
            fields.get(3).map_or(Vec::new(), |c| c.split(',').filter(|c| !c.is_empty()).collect());
        let mut request = SearchRequest::new(query);
        request.limit = 10;
        let found = search(catalog.search(), catalog.app.store.read(), &request).await.expect("search runs");
        let ranked: Vec<u32> = found.hits.iter().map(|h| grade(by_id[&h.service.id], topic, &constraints)).collect();
        let all: Vec<u32> = labels.iter().map(|l| grade(l, topic, &constraints)).collect();
        assert!(all.contains(&2), "{query:?}: the catalog has no fully relevant service");
        per_class.entry(class.to_string()).or_default().push(ndcg(&ranked, &all));
    }

    let floors: BTreeMap<&str, f64> =
        lines(FLOORS).map(|f| (f[0], f[1].trim().parse::<f64>().expect("a floor"))).collect();
    let mut report = String::from("nDCG@10 per class (queries, mean, floor):\n");
    let mut fallen = Vec::new();
    for (class, scores) in &per_class {
        let mean = scores.iter().fold(0.0, |sum, s| sum + s) / scores.len() as f64;
        let floor = floors.get(class.as_str()).copied().unwrap_or_else(|| panic!("no floor for {class}"));
        report.push_str(&format!("  {class:<10} {:>3}  {mean:.3}  {floor:.3}\n", scores.len()));
        if mean < floor - TOLERANCE {
            fallen.push(format!("{class}: {mean:.3} < {floor:.3}"));
        }
    }
    let total: usize = per_class.values().map(Vec::len).sum();
    println!("{report}  all        {total}");
    assert!(total >= 150, "a relevance set of at least 150 judged queries: {total}");
    assert!(fallen.is_empty(), "relevance regressed: {fallen:?}\n{report}");
}

/// Probe times are this machine's (a loaded CI runner answers loopback in tens of milliseconds):
/// they feed quality, whose blend reorders services whose text ties. The set judges how queries
/// are read and matched, so every service gets the same measured latency and is re-indexed.
async fn pin_latencies(catalog: &Catalog) {
    let pool = crate::support::raw_pool(catalog.dir.path()).await;
    agora::on_pool!(&pool, |p| sqlx::query("UPDATE probes SET total_ms = 10.0").execute(p).await.map(drop))
        .expect("pin");
    // A new change sequence for every service: the index reads them all again.
    agora::on_pool!(&pool, |p| sqlx::query(
        "UPDATE services SET change_seq = change_seq + (SELECT MAX(change_seq) FROM services)"
    )
    .execute(p)
    .await
    .map(drop))
    .expect("touch");
    pool.close().await;
}

#[test]
fn grades_follow_the_labels_not_the_engine() {
    let labels = Labels { topic: "ocr".into(), network: "polygon", micros: 500, upto: false, testnet: false };
    assert_eq!(grade(&labels, "weather", &[]), 0);
    assert_eq!(grade(&labels, "ocr", &[]), 2);
    assert_eq!(grade(&labels, "ocr", &["network=polygon", "cheap"]), 2);
    assert_eq!(grade(&labels, "ocr", &["network=base"]), 1);
    assert_eq!(grade(&labels, "ocr", &["max=100"]), 1);
    assert_eq!(grade(&labels, "ocr", &["scheme=upto"]), 1);
    let testnet = Labels { testnet: true, ..labels };
    assert_eq!((grade(&testnet, "ocr", &[]), grade(&testnet, "ocr", &["testnet"])), (0, 2));
    assert!((ndcg(&[2, 2], &[2, 2, 0]) - 1.0).abs() < 1e-9);
    assert!(ndcg(&[0, 2], &[2, 2]) < ndcg(&[2, 0], &[2, 2]));
    assert_eq!(ndcg(&[], &[2]), 0.0);
}
