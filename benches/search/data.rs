//! Synthetic catalog for the search benchmark: listings with realistic text (category words, a
//! filler vocabulary and a Zipf-distributed long tail, so the term dictionary has the shape of
//! real text), one to three offers over real networks and assets, written straight into SQLite
//! (seeding is not what is measured), plus the same text in an FTS5 table.

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};

const CATEGORIES: &[(&str, &[&str])] = &[
    ("weather", &["weather", "forecast", "temperature", "rain", "wind", "humidity", "city", "climate"]),
    ("finance", &["stock", "price", "quote", "market", "ticker", "exchange", "crypto", "bitcoin", "portfolio"]),
    ("language", &["translate", "translation", "language", "text", "summarize", "sentiment", "grammar"]),
    ("image", &["image", "resize", "thumbnail", "photo", "vision", "ocr", "detect", "generate"]),
    ("maps", &["geocode", "address", "map", "route", "distance", "location", "coordinates"]),
    ("data", &["dataset", "csv", "json", "scrape", "crawl", "extract", "search", "index"]),
    ("ai", &["llm", "chat", "completion", "embedding", "model", "inference", "prompt", "agent"]),
    ("audio", &["speech", "audio", "transcribe", "voice", "music", "podcast"]),
];
const FILLER: &[&str] = &[
    "fast",
    "reliable",
    "secure",
    "simple",
    "cheap",
    "global",
    "realtime",
    "accurate",
    "batch",
    "service",
    "endpoint",
    "data",
    "request",
    "call",
    "minute",
    "hour",
    "history",
    "latest",
    "premium",
    "developer",
    "results",
    "query",
    "returns",
    "from",
    "sources",
    "updated",
    "daily",
    "coverage",
    "high",
    "quality",
    "structured",
    "response",
];
const PARAMS: &[&str] = &["city", "ticker", "text", "url", "image", "lat", "lon", "query", "limit", "model", "lang"];

/// (CAIP-2, v1 name, asset address, symbol, testnet)
const OFFERS: &[(&str, &str, &str, Option<&str>, bool)] = &[
    ("eip155:8453", "base", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", Some("USDC"), false),
    ("eip155:8453", "base", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", Some("USDC"), false),
    ("eip155:137", "polygon", "0x3c499c542cef5e3811e1192ce70d8cc03d5c3359", Some("USDC"), false),
    (
        "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
        "solana",
        "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
        Some("USDC"),
        false,
    ),
    ("eip155:84532", "base-sepolia", "0x036cbd53842c5426634e7929541ec2318f3dcf7e", Some("USDC"), true),
    ("eip155:8453", "base", "0x1111111111111111111111111111111111111111", None, false),
];
const PRICES: &[i64] = &[100, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000, 1_000_000];

struct Generated {
    name: String,
    description: String,
    tags: Vec<String>,
    schema: String,
    url: String,
    host: String,
    version: i64,
    offers: Vec<(usize, i64, &'static str)>,
}

fn generate(i: usize, rng: &mut fastrand::Rng) -> Generated {
    let (category, words) = CATEGORIES[rng.usize(..CATEGORIES.len())];
    let pick = |rng: &mut fastrand::Rng, from: &[&'static str]| from[rng.usize(..from.len())];
    // Zipf-ish tail: small numbers are frequent, large ones rare.
    let tail = |rng: &mut fastrand::Rng| format!("t{}", (1.0 / rng.f64().max(1e-6)) as u64 % 200_000);
    let mut description: Vec<String> = Vec::new();
    for _ in 0..rng.usize(12..28) {
        description.push(match rng.u8(..10) {
            0..=3 => pick(rng, words).to_string(),
            4..=8 => pick(rng, FILLER).to_string(),
            _ => tail(rng),
        });
    }
    let host = format!("api{}.{}.example", i % 20_000, pick(rng, words));
    let offers = (0..rng.usize(1..=3))
        .map(|_| {
            (
                rng.usize(..OFFERS.len()),
                PRICES[rng.usize(..PRICES.len())],
                if rng.u8(..6) == 0 { "upto" } else { "exact" },
            )
        })
        .collect();
    Generated {
        name: format!("{} {} {}", pick(rng, words), pick(rng, FILLER), i),
        description: description.join(" "),
        tags: vec![category.to_string(), pick(rng, words).to_string()],
        schema: format!("{} {} {}", pick(rng, PARAMS), pick(rng, PARAMS), pick(rng, FILLER)),
        url: format!("https://{host}/v1/{}/{i}", pick(rng, words)),
        host,
        version: if rng.u8(..5) == 0 { 1 } else { 2 },
        offers,
    }
}

/// Writes `n` listed services with offers, and the FTS5 table over the same text.
pub async fn seed(conn: &mut SqliteConnection, n: usize, now: i64) -> Result<(), sqlx::Error> {
    let mut rng = fastrand::Rng::with_seed(2026);
    // SQLite allows 32,766 bound variables per statement: 500 services × 20, ≤ 1,500 offers × 17.
    let chunk = 500;
    for start in (0..n).step_by(chunk) {
        let rows: Vec<(usize, Generated)> =
            (start..(start + chunk).min(n)).map(|i| (i, generate(i, &mut rng))).collect();
        let mut tx = conn.begin().await?;
        let mut services = QueryBuilder::<Sqlite>::new(
            "INSERT INTO services (id, url, method, host, status, verdict, x402_version, name, description, tags, \
             has_schema, schema_text, registered_at, first_listed_at, last_probed_at, last_listed_at, status_since, \
             interval_ms, next_due_at, change_seq) ",
        );
        services.push_values(&rows, |mut b, (i, g)| {
            let id = *i as i64 + 1;
            let at = now - (n as i64 - id) * 1000;
            b.push_bind(id).push_bind(g.url.clone()).push_bind("GET").push_bind(g.host.clone()).push_bind("listed");
            b.push_bind("listed").push_bind(g.version).push_bind(g.name.clone()).push_bind(g.description.clone());
            b.push_bind(serde_json::to_string(&g.tags).unwrap_or_default()).push_bind(id % 2 == 0);
            b.push_bind(g.schema.clone())
                .push_bind(at)
                .push_bind(at)
                .push_bind(at)
                .push_bind(at - (id % 7) * 3_600_000);
            b.push_bind(at).push_bind(21_600_000i64).push_bind(now + 21_600_000).push_bind(id);
        });
        services.build().execute(&mut *tx).await?;
        let mut offers = QueryBuilder::<Sqlite>::new(
            "INSERT INTO offers (service_id, position, scheme, network, network_v1, family, testnet, asset, \
             asset_symbol, decimals, amount, usd, usd_micros, usd_is_max, pay_to, max_timeout_seconds, extra) ",
        );
        let flat: Vec<(i64, usize, (usize, i64, &str))> = rows
            .iter()
            .flat_map(|(i, g)| g.offers.iter().enumerate().map(move |(p, o)| (*i as i64 + 1, p, *o)))
            .collect();
        offers.push_values(&flat, |mut b, (id, position, (kind, micros, scheme))| {
            let (network, v1, asset, symbol, testnet) = OFFERS[*kind];
            let usd = symbol.map(|_| format!("{}", *micros as f64 / 1e6));
            b.push_bind(*id).push_bind(*position as i64).push_bind(*scheme).push_bind(network).push_bind(v1);
            b.push_bind(if network.starts_with("solana") { "svm" } else { "evm" }).push_bind(testnet).push_bind(asset);
            b.push_bind(symbol).push_bind(symbol.map(|_| 6i64)).push_bind(micros.to_string()).push_bind(usd);
            b.push_bind(symbol.map(|_| *micros)).push_bind(*scheme == "upto");
            b.push_bind("0x209693bc6afc0c5328ba36faf03c514ef312287c").push_bind(300i64).push_bind("{}");
        });
        offers.build().execute(&mut *tx).await?;
        tx.commit().await?;
    }
    // FTS5 over the same six text fields, with the same words in `offers`.
    sqlx::query(
        "CREATE VIRTUAL TABLE fts USING fts5(name, tags, description, schema, url, offers, \
         tokenize = 'unicode61 remove_diacritics 2')",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO fts (rowid, name, tags, description, schema, url, offers)
         SELECT s.id, s.name, (SELECT group_concat(value, ' ') FROM json_each(s.tags)), s.description, s.schema_text,
                s.url, (SELECT group_concat(o.network || ' ' || COALESCE(o.network_v1, '') || ' ' ||
                        COALESCE(o.asset_symbol, '') || ' ' || o.asset || ' ' || o.scheme || ' ' || o.pay_to, ' ')
                        FROM offers o WHERE o.service_id = s.id)
         FROM services s",
    )
    .execute(&mut *conn)
    .await?;
    // Planner statistics, as a long-running deployment would have them (`PRAGMA optimize`).
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    Ok(())
}
