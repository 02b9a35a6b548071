//! The long-tail search mix: many distinct queries of every kind an agent or a person sends
//! (one word, several, natural-language requests, typos, prefixes, price and network phrases,
//! filters with and without text, later pages), generated from the benchmark catalog's own
//! vocabulary so they match what a real catalog would. Real agent traffic rarely repeats a
//! query, so these are the requests the answer cache does not help with.

use std::collections::HashSet;

const TOPIC_WORDS: &[&str] = &[
    "weather",
    "forecast",
    "temperature",
    "rain",
    "wind",
    "humidity",
    "climate",
    "stock",
    "price",
    "quote",
    "market",
    "ticker",
    "exchange",
    "crypto",
    "bitcoin",
    "portfolio",
    "translate",
    "translation",
    "language",
    "summarize",
    "sentiment",
    "grammar",
    "image",
    "resize",
    "thumbnail",
    "photo",
    "vision",
    "ocr",
    "detect",
    "generate",
    "geocode",
    "address",
    "route",
    "distance",
    "location",
    "coordinates",
    "dataset",
    "csv",
    "scrape",
    "crawl",
    "extract",
    "llm",
    "chat",
    "completion",
    "embedding",
    "model",
    "inference",
    "prompt",
    "agent",
    "speech",
    "audio",
    "transcribe",
    "voice",
    "music",
    "podcast",
];
const QUALIFIERS: &[&str] =
    &["fast", "reliable", "realtime", "accurate", "batch", "latest", "premium", "daily", "structured", "global"];
const REQUESTS: &[&str] = &[
    "i need an api that can {a} the {b} for my agent",
    "find a service to {a} {b} data",
    "what is the best {a} {b} endpoint",
    "looking for {a} and {b} with good coverage",
    "api to get {a} {b} results quickly",
];
const PRICES: &[&str] = &["cheap", "under+2+cents", "below+%240.005", "less+than+a+cent", "under+%240.05+per+call"];
const NETWORKS: &[&str] = &["on+solana", "on+polygon", "on+base", "usdc", "metered"];
const FILTERS: &[&str] = &[
    "network=base",
    "network=solana",
    "network=polygon",
    "asset=USDC",
    "max_usd=0.01",
    "min_usd=0.001&max_usd=0.1",
    "version=2",
    "has_schema=true",
    "testnet=include",
    "scheme=upto",
];
const SORTS: &[&str] = &["sort=price_asc", "sort=price_desc", "sort=newest", "sort=uptime", "sort=verified"];

/// A misspelling of `word`: one character dropped, doubled or swapped with the next.
fn typo(word: &str, rng: &mut fastrand::Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.usize(..chars.len() - 1);
    match rng.u8(..3) {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        _ => chars.swap(at, at + 1),
    }
    chars.into_iter().collect()
}

/// One query string of a randomly chosen kind.
fn one(rng: &mut fastrand::Rng) -> String {
    let pick = |rng: &mut fastrand::Rng, from: &[&'static str]| from[rng.usize(..from.len())];
    let word = |rng: &mut fastrand::Rng| pick(rng, TOPIC_WORDS);
    match rng.u8(..12) {
        0 => format!("q={}", word(rng)),
        1 => format!("q={}+{}", word(rng), word(rng)),
        2 => format!("q={}+{}+{}", pick(rng, QUALIFIERS), word(rng), word(rng)),
        3 => {
            let request = pick(rng, REQUESTS).replace("{a}", word(rng)).replace("{b}", word(rng));
            format!("q={}", request.replace(' ', "+"))
        }
        4 => {
            // Misspelt words of five letters or more (shorter ones are not matched with a typo).
            let long: Vec<&str> = TOPIC_WORDS.iter().copied().filter(|w| w.len() >= 5).collect();
            format!("q={}", typo(pick(rng, &long), rng))
        }
        5 => {
            let w = word(rng);
            format!("q={}+{}", word(rng), &w[..w.len().min(3 + rng.usize(..3))])
        }
        6 => format!("q={}+{}", pick(rng, PRICES), word(rng)),
        7 => format!("q={}+{}", word(rng), pick(rng, NETWORKS)),
        8 => format!("q={}&{}", word(rng), pick(rng, FILTERS)),
        9 => format!("q={}+{}&{}&{}", word(rng), word(rng), pick(rng, FILTERS), pick(rng, SORTS)),
        10 => format!("{}&{}&offset={}", pick(rng, FILTERS), pick(rng, SORTS), 20 * rng.usize(..5)),
        _ => format!("q=t{}", (1.0 / rng.f64().max(1e-4)) as u64 % 5_000),
    }
}

/// `count` distinct query strings (API query syntax), the same ones on every run.
pub fn queries(count: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(402);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let query = one(&mut rng);
        if seen.insert(query.clone()) {
            out.push(query);
        }
    }
    out
}
