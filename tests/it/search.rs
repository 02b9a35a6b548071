//! Search over a catalog built through real sellers and the real registration path: results,
//! totals, facets and orders checked against a brute-force computation over the specs the
//! sellers were built from; relevance a person would judge obvious; hostile input.

use crate::catalog::{BASE_USDC, Catalog, OfferSpec, ServiceSpec, random_specs, relevance_specs};
use agora::search::results::search;
use agora::search::{Found as SearchResults, SearchError, SearchRequest};
use agora_crawler::testkit::Reply;
use std::collections::BTreeMap;

/// A search as query-string pairs (parsed by the same function as the API and the web pages).
#[derive(Debug, Clone, Default)]
struct Q {
    pairs: Vec<(&'static str, String)>,
}

impl Q {
    fn with(mut self, name: &'static str, value: impl Into<String>) -> Q {
        self.pairs.push((name, value.into()));
        self
    }

    fn get(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_str()).collect()
    }

    fn request(&self) -> SearchRequest {
        SearchRequest::from_pairs(self.pairs.iter().map(|(n, v)| (*n, v.as_str())), &[]).expect("valid parameters")
    }
}

async fn run(catalog: &Catalog, q: &Q) -> SearchResults {
    search(catalog.search(), catalog.app.store.read(), &q.request()).await.expect("search runs")
}

/// What the brute force expects.
#[derive(Debug, PartialEq)]
struct Expected {
    total: u64,
    hidden: u64,
    order: Vec<i64>,
    facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

/// Which filters an offer passes: (network, asset, scheme, testnet, price).
fn passes(q: &Q, offer: &OfferSpec) -> [bool; 5] {
    let listed = |name: &str, value: &str| {
        let values = q.get(name);
        values.is_empty() || values.contains(&value)
    };
    let asset = q.get("asset").is_empty()
        || q.get("asset")
            .iter()
            .any(|a| offer.symbol.is_some_and(|s| s.eq_ignore_ascii_case(a)) || offer.asset.eq_ignore_ascii_case(a));
    let testnet = match q.get("testnet").first().copied().unwrap_or("exclude") {
        "exclude" => !offer.testnet,
        "only" => offer.testnet,
        _ => true,
    };
    let micros = |name| q.get(name).first().map(|v| (v.parse::<f64>().expect("number") * 1e6).round() as i64);
    let (min, max) = (micros("min_usd"), micros("max_usd"));
    let price = (min.is_none() && max.is_none())
        || offer.usd_micros().is_some_and(|u| min.is_none_or(|m| u >= m) && max.is_none_or(|m| u <= m));
    let network = listed("network", offer.network) || listed("network", offer.v1);
    [network, asset, listed("scheme", offer.scheme), testnet, price]
}

fn bucket(micros: i64) -> String {
    let bounds = [1_000, 10_000, 100_000, 1_000_000];
    bounds.iter().position(|b| micros <= *b).unwrap_or(4).to_string()
}

fn expected(specs: &[ServiceSpec], q: &Q) -> Expected {
    let word = q.get("q").first().map(|w| w.to_string());
    let mut facets: BTreeMap<&'static str, BTreeMap<String, u64>> = BTreeMap::new();
    let mut ranked: Vec<(i128, i128, i64)> = Vec::new();
    let mut hidden = 0;
    for spec in specs {
        let text_ok = word.as_ref().is_none_or(|w| spec.description.split(' ').any(|d| d == w));
        let host_ok = q.get("host").first().is_none_or(|h| *h == spec.host());
        let schema_ok = q.get("has_schema").is_empty() || spec.schema;
        if !(text_ok && host_ok && schema_ok) {
            continue;
        }
        let version_ok = q.get("version").first().is_none_or(|v| *v == spec.version.to_string());
        let results: Vec<[bool; 5]> = spec.offers.iter().map(|o| passes(q, o)).collect();
        let all = |p: &[bool; 5], skip: usize| p.iter().enumerate().all(|(i, ok)| i == skip || *ok);
        let matches_offers = results.iter().any(|p| all(p, 9));
        if matches_offers {
            *facets.entry("version").or_default().entry(spec.version.to_string()).or_default() += 1;
        }
        if !version_ok {
            continue;
        }
        let mut count = |dim: &'static str, skip: usize, value: &dyn Fn(&OfferSpec) -> Option<String>| {
            let mut values: Vec<String> =
                spec.offers.iter().zip(&results).filter(|(_, p)| all(p, skip)).filter_map(|(o, _)| value(o)).collect();
            values.sort();
            values.dedup();
            for v in values {
                *facets.entry(dim).or_default().entry(v).or_default() += 1;
            }
        };
        count("network", 0, &|o| Some(o.network.to_string()));
        count("asset", 1, &|o| Some(o.symbol.map_or(o.asset.to_ascii_lowercase(), str::to_string)));
        count("scheme", 2, &|o| Some(o.scheme.to_string()));
        count("price", 4, &|o| o.usd_micros().map(bucket));
        if !matches_offers {
            let with_testnets = results.iter().any(|p| all(p, 3));
            if with_testnets && q.get("testnet").first().copied().unwrap_or("exclude") == "exclude" {
                hidden += 1;
            }
            continue;
        }
        let best =
            spec.offers.iter().zip(&results).filter(|(_, p)| all(p, 9)).filter_map(|(o, _)| o.usd_micros()).min();
        let uptime = spec.uptime.1 as f64 / spec.uptime.0 as f64;
        let sort = q.get("sort").first().copied().unwrap_or(if word.is_some() { "relevance" } else { "newest" });
        // Greater is better; ties go to the lower id (the third key is negated).
        let key: (i128, i128) = match sort {
            "price_asc" => (best.map_or(i128::MIN, |p| -i128::from(p)), 0),
            "price_desc" => (best.map_or(i128::MIN, i128::from), 0),
            "newest" | "verified" => (i128::from(spec.registered_at), 0),
            "uptime" => ((uptime * 1e6) as i128, i128::from(spec.registered_at)),
            _ => (0, 0),
        };
        ranked.push((key.0, key.1, -spec.id));
    }
    ranked.sort_by(|a, b| b.cmp(a));
    Expected { total: ranked.len() as u64, hidden, order: ranked.iter().map(|r| -r.2).collect(), facets }
}

fn found(results: &SearchResults) -> Expected {
    let mut facets: BTreeMap<&'static str, BTreeMap<String, u64>> = BTreeMap::new();
    let f = &results.facets;
    for (dim, values) in [("network", &f.network), ("asset", &f.asset), ("scheme", &f.scheme), ("version", &f.version)]
    {
        for v in values {
            facets.entry(dim).or_default().insert(v.value.clone(), v.count);
        }
    }
    for (i, bucket) in f.price.iter().enumerate().filter(|(_, b)| b.count > 0) {
        facets.entry("price").or_default().insert(i.to_string(), bucket.count);
    }
    Expected {
        total: results.total,
        hidden: results.testnets_hidden,
        order: results.hits.iter().map(|h| h.service.id).collect(),
        facets,
    }
}

/// Random filter combinations, each a plausible page request.
fn random_queries(n: usize) -> Vec<Q> {
    let mut rng = fastrand::Rng::with_seed(42);
    let networks = ["base", "eip155:137", "avalanche", "eip155:84532"];
    let assets =
        ["USDC", "usdc", "0x1111111111111111111111111111111111111111", "0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913"];
    let prices = ["0", "0.0005", "0.001", "0.005", "0.01", "0.1", "1", "2"];
    let sorts = ["relevance", "price_asc", "price_desc", "newest", "verified", "uptime", "quality"];
    (0..n)
        .map(|_| {
            let mut q = Q::default().with("limit", "100");
            for _ in 0..rng.usize(..3) {
                q = q.with("network", networks[rng.usize(..networks.len())]);
            }
            if rng.u8(..3) == 0 {
                q = q.with("asset", assets[rng.usize(..assets.len())]);
            }
            if rng.u8(..4) == 0 {
                q = q.with("scheme", ["exact", "upto"][rng.usize(..2)]);
            }
            if rng.bool() {
                let (a, b) = (rng.usize(..prices.len()), rng.usize(..prices.len()));
                q = q.with("min_usd", prices[a.min(b)]).with("max_usd", prices[a.max(b)]);
            } else if rng.u8(..3) == 0 {
                q = q.with("max_usd", prices[rng.usize(..prices.len())]);
            }
            match rng.u8(..4) {
                0 => q = q.with("testnet", "include"),
                1 => q = q.with("testnet", "only"),
                _ => {}
            }
            if rng.u8(..4) == 0 {
                q = q.with("version", ["1", "2"][rng.usize(..2)]);
            }
            if rng.u8(..5) == 0 {
                q = q.with("has_schema", "true");
            }
            if rng.u8(..5) == 0 {
                q = q.with("host", ["127.0.0.1", "127.0.0.2"][rng.usize(..2)]);
            }
            if rng.u8(..4) == 0 {
                q = q.with("q", "quokka");
            }
            q.with("sort", sorts[rng.usize(..sorts.len())])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_facets_and_sorts_match_a_brute_force_computation() {
    let mut catalog = Catalog::build(random_specs(90, 7)).await;
    // Every fifth service fails one later probe: still listed, uptime 1/2.
    for index in (0..catalog.specs.len()).step_by(5) {
        let spec = catalog.specs[index].clone();
        catalog.set_reply(&spec, Reply::new(500));
        catalog.reprobe(index).await;
        catalog.serve(&spec);
        catalog.specs[index].uptime = (2, 1);
    }
    catalog.search().flush().await.expect("flush");
    let mut compared = 0;
    for q in random_queries(80).into_iter().chain([Q::default().with("limit", "100")]) {
        let mut want = expected(&catalog.specs, &q);
        let results = run(&catalog, &q).await;
        let mut got = found(&results);
        let sort = q.get("sort");
        if sort == ["relevance"] || sort == ["quality"] {
            // BM25 and quality (measured by probes) are not the brute force's business: compare
            // the sets; without text both order by quality alone.
            want.order.sort_unstable();
            got.order.sort_unstable();
            if sort == ["quality"] || q.get("q").is_empty() {
                let scores: Vec<u8> = results.hits.iter().map(|h| h.quality.score).collect();
                assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{q:?}: {scores:?}");
            }
        }
        assert_eq!(got, want, "{q:?}");
        compared += usize::from(want.total > 0);
    }
    assert!(compared > 40, "most random queries should match something ({compared})");

    // Each hit carries its uptime: 1 for most, 1/2 for those that failed once.
    let everything = run(&catalog, &Q::default().with("limit", "100").with("testnet", "include")).await;
    assert_eq!(everything.hits.len(), catalog.specs.len());
    for hit in &everything.hits {
        let spec = catalog.specs.iter().find(|s| s.id == hit.service.id).expect("a spec");
        let want = spec.uptime.1 as f64 / spec.uptime.0 as f64;
        assert_eq!(hit.uptime, Some(want), "service {}", spec.id);
    }

    // Pagination: pages of 7 concatenate to the first page of 100; past the end is empty.
    let q = Q::default().with("sort", "price_asc").with("testnet", "include");
    let all = expected(&catalog.specs, &q.clone().with("limit", "100")).order;
    let mut paged = Vec::new();
    for page in 0..all.len().div_ceil(7) {
        let results = run(&catalog, &q.clone().with("limit", "7").with("offset", (page * 7).to_string())).await;
        assert_eq!(results.total as usize, all.len());
        paged.extend(results.hits.iter().map(|h| h.service.id));
    }
    assert_eq!(paged, all);
    let beyond = run(&catalog, &q.clone().with("offset", "10000")).await;
    assert!(beyond.hits.is_empty());
    assert_eq!(beyond.total as usize, all.len());
    catalog.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn relevance_a_person_would_expect_and_why_it_matched() {
    let catalog = Catalog::build(relevance_specs().into_iter().chain(random_specs(20, 3)).collect()).await;
    catalog.search().flush().await.expect("flush");
    let id = |path: &str| catalog.specs.iter().find(|s| s.path == path).expect("spec").id;
    let ids = |results: &SearchResults| results.hits.iter().map(|h| h.service.id).collect::<Vec<_>>();

    let weather = run(&catalog, &Q::default().with("q", "weather")).await;
    assert_eq!(ids(&weather)[0], id("/weather"), "{:?}", ids(&weather));
    for other in ["/air", "/geo"] {
        assert!(ids(&weather).contains(&id(other)), "{other} mentions weather");
    }
    assert_eq!(weather.total, 3);
    let first = &weather.hits[0];
    let fields: Vec<&str> = first.matched.iter().map(|m| m.field).collect();
    assert!(fields.contains(&"name") && fields.contains(&"tags"), "{:?}", first.matched);
    let geo = weather.hits.iter().find(|h| h.service.id == id("/geo")).expect("geocoder");
    assert_eq!(geo.matched.iter().map(|m| m.field).collect::<Vec<_>>(), ["schema"]);
    assert!(weather.hits.windows(2).all(|w| w[0].score >= w[1].score));

    // A typo in a longer word, and search-as-you-type.
    for typed in ["wether", "waether", "weathr", "forec", "weath"] {
        let results = run(&catalog, &Q::default().with("q", typed)).await;
        assert_eq!(ids(&results).first(), Some(&id("/weather")), "{typed}: {:?}", ids(&results));
    }
    // An exact match outranks a typo match: "stocks" is an exact tag of one, a typo of nothing.
    let stocks = run(&catalog, &Q::default().with("q", "stocks")).await;
    assert_eq!(ids(&stocks).first(), Some(&id("/stocks")));
    let translation = run(&catalog, &Q::default().with("q", "translation for languages")).await;
    assert_eq!(ids(&translation), [id("/translate")]);
    // Every word must match somewhere (common words excepted).
    assert_eq!(run(&catalog, &Q::default().with("q", "weather ticker")).await.total, 0);
    assert_eq!(ids(&run(&catalog, &Q::default().with("q", "weather city forecast")).await)[0], id("/weather"));

    // Query syntax is just words: no error, and the words still find the obvious service.
    for hostile in [
        r#"weather AND forecast"#,
        r#""weather"#,
        r#"weather) OR (1=1"#,
        r#"description:weather"#,
        r#"weather^ forecast~ *"#,
        r#"weather' OR '1'='1"#,
        "\u{0000}weather\u{202e}",
    ] {
        let results = run(&catalog, &Q::default().with("q", hostile)).await;
        if !hostile.contains("description:") {
            assert_eq!(ids(&results).first(), Some(&id("/weather")), "{hostile:?}");
        }
    }
    let punctuation = run(&catalog, &Q::default().with("q", "!!! ::: ***").with("testnet", "include")).await;
    assert_eq!(punctuation.total, catalog.specs.len() as u64, "no words: everything listed");
    let long = SearchRequest::new(&"weather ".repeat(5000));
    let results =
        search(catalog.search(), catalog.app.store.read(), &long).await.expect("long text is cut, not an error");
    assert_eq!(results.hits.first().map(|h| h.service.id), Some(id("/weather")));
    catalog.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_filter_values_are_errors_naming_the_parameter() {
    let catalog =
        Catalog::build(vec![ServiceSpec::new("/weather", "Weather", "Forecasts", &["weather"], "city")]).await;
    catalog.search().flush().await.expect("flush");
    for (param, value) in
        [("network", "ethereum-classic"), ("asset", "DOGE"), ("scheme", "stream"), ("network", "eip155:")]
    {
        let request = SearchRequest::from_pairs([(param, value)], &[]).expect("well-formed");
        match search(catalog.search(), catalog.app.store.read(), &request).await {
            Err(SearchError::Param(error)) => assert_eq!(error.param, param),
            other => panic!("{param}={value}: {other:?}"),
        }
    }
    // Known to Agora but unused in this catalog: valid, and nothing matches.
    let polygon = SearchRequest::from_pairs([("network", "polygon")], &[]).expect("valid");
    let results = search(catalog.search(), catalog.app.store.read(), &polygon).await.expect("known network");
    assert_eq!(results.total, 0);
    assert_eq!(
        results.facets.network.first().map(|f| (f.value.as_str(), f.label.as_str(), f.count)),
        Some((BASE_USDC.network, "base", 1))
    );
    catalog.app.shutdown().await;
}
