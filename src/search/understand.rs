//! Query understanding (docs/SEARCH.md "What Agora reads into `q`"): price phrases ("cheap",
//! "under $0.01", "less than 2 cents", "≤ 5 cents per call"), networks ("on polygon"), assets
//! ("usdc"), schemes ("metered", "upto") and "testnet" are recognized in the free text, turned into
//! the filter or sort they stand for, and removed from the text. The answer says what was read
//! (`interpreted_as`) so it can be undone (`interpret=false`); a parameter given explicitly always
//! wins over what the text suggests.
//!
//! A single word is read only when no service uses it in its name, tags or description (the caller
//! says so): "Polygon Area Calculator" stays findable by its name. Phrases ("on polygon", "under 1
//! cent") are read always.

use super::Shared;
use super::filters::OfferFilter;
use super::formats;
use super::request::{SearchRequest, Sort, TestnetMode};
use agora_crawler::x402::networks;
use std::sync::PoisonError;
use tantivy::Term;

/// What was read into `q`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Interpretation {
    /// The text searched after the recognized words were taken out.
    pub text: String,
    /// What was recognized, in order: the words and the parameter they became.
    pub read: Vec<Reading>,
}

/// One recognized phrase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Reading {
    /// The words of `q`, as typed.
    pub words: String,
    /// The search parameter it stands for, as `name=value` (`max_usd=0.01`, `network=polygon`).
    pub param: String,
    /// False when an explicit parameter of the same name won: the words were still taken out.
    pub applied: bool,
}

/// Words that read as "cheapest first".
const CHEAP: &[&str] = &["cheap", "cheapest", "inexpensive", "affordable", "budget", "free", "lowcost", "low-cost"];
/// Words that read as the `upto` scheme.
const METERED: &[&str] = &["upto", "metered", "usage-based"];
/// Prepositions that make the next word a network or asset for sure.
const ON: &[&str] = &["on", "via", "over", "using", "in", "with"];
/// Asset symbols recognized as words.
const ASSETS: &[&str] = &["usdc", "usdt", "eurc", "usdt0", "pyusd"];
/// Network words too common to read without a preposition.
const AMBIGUOUS_NETWORKS: &[&str] = &["base", "sei", "story", "stable", "monad", "celo", "radius"];

/// Reads `request.q`, applies what it recognizes to `request` (unless a parameter was given) and
/// answers what it read. `used_in_text(word)` says whether some service's name, tags or
/// description contains the word. `None`: nothing recognized, `request` untouched.
pub fn interpret(request: &mut SearchRequest, used_in_text: &dyn Fn(&str) -> bool) -> Option<Interpretation> {
    let q = request.q.clone();
    let original: Vec<&str> = q.split_whitespace().collect();
    let words: Vec<String> = original.iter().map(|w| normalize(w)).collect();
    let mut taken = vec![false; words.len()];
    let mut read = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let next = |k: usize| words.get(i + k).map_or("", String::as_str);
        // Looked up only for candidate words (three term lookups each).
        let single = || !used_in_text(word);
        let mut reading: Option<(usize, String)> = None;
        if let Some((len, micros)) = price_bound(&words[i..]) {
            reading = Some((len, format!("max_usd={}", super::results::micros_to_usd(micros))));
        } else if (CHEAP.contains(&word) && next(1) != "than" && single()) || (word == "low" && next(1) == "cost") {
            reading = Some((if word == "low" { 2 } else { 1 }, "sort=price_asc".into()));
        } else if (METERED.contains(&word) && single())
            || (word == "usage" && next(1) == "based")
            || (word == "pay" && next(1) == "per" && next(2) == "use")
        {
            let len = match word {
                "usage" => 2,
                "pay" => 3,
                _ => 1,
            };
            reading = Some((len, "scheme=upto".into()));
        } else if let Some((len, param)) = network_or_asset(&words[i..], used_in_text) {
            reading = Some((len, param));
        } else if let Some((len, format)) = formats::phrase(&words[i..], used_in_text) {
            reading = Some((len, format!("format={format}")));
        } else if matches!(word, "testnet" | "testnets") && single() {
            reading = Some((1, "testnet=only".into()));
        } else if ON.contains(&word) && matches!(next(1), "testnet" | "testnets") {
            reading = Some((2, "testnet=only".into()));
        } else if ON.contains(&word) && next(1) == "a" && matches!(next(2), "testnet" | "testnets") {
            reading = Some((3, "testnet=only".into()));
        }
        if let Some((len, param)) = reading {
            let len = len + trailing_per_call(&words[i + len..]);
            let applied = apply(request, &param);
            read.push(Reading { words: original[i..i + len].join(" "), param, applied });
            taken[i..i + len].iter_mut().for_each(|t| *t = true);
            i += len;
        } else {
            i += 1;
        }
    }
    if read.is_empty() {
        return None;
    }
    let text: Vec<&str> = original.iter().zip(&taken).filter(|(_, t)| !**t).map(|(w, _)| *w).collect();
    request.q = text.join(" ");
    Some(Interpretation { text: request.q.clone(), read })
}

/// `request` with what its text says applied (`search::understand`), unless it asks to be taken
/// literally; a reading no filter can resolve (a network, or a format, no service has) is dropped.
pub(crate) fn understood(
    shared: &Shared,
    searcher: &tantivy::Searcher,
    request: &SearchRequest,
) -> (SearchRequest, Option<Interpretation>) {
    if request.literal {
        return (request.clone(), None);
    }
    let fields = &shared.fields;
    let used_in_text = |word: &str| {
        [fields.name, fields.tags, fields.description]
            .iter()
            .any(|field| searcher.doc_freq(&Term::from_field_text(*field, word)).is_ok_and(|n| n > 0))
    };
    let mut effective = request.clone();
    // Most queries read nothing: no filter to re-resolve.
    let Some(interpretation) = interpret(&mut effective, &used_in_text) else { return (effective, None) };
    let vocab = shared.vocab.read().unwrap_or_else(PoisonError::into_inner);
    let unknown_format =
        |format: &String| !searcher.doc_freq(&Term::from_field_text(fields.format, format)).is_ok_and(|n| n > 0);
    let read_format = interpretation.read.iter().any(|r| r.applied && r.param.starts_with("format="));
    if OfferFilter::resolve(&effective, &vocab).is_err()
        || (read_format && effective.formats.iter().any(unknown_format))
    {
        return (request.clone(), None);
    }
    (effective, Some(interpretation))
}

/// Lowercased, without the punctuation that ends a word in prose.
fn normalize(word: &str) -> String {
    word.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\'')).to_lowercase()
}

/// "per call", "per request", "each", "a call": noise after a price.
fn trailing_per_call(words: &[String]) -> usize {
    match words {
        [per, unit, ..] if per == "per" && matches!(unit.as_str(), "call" | "request" | "query" | "use") => 2,
        [a, unit, ..] if a == "a" && matches!(unit.as_str(), "call" | "request") => 2,
        [each, ..] if each == "each" => 1,
        _ => 0,
    }
}

/// "under $0.01", "below 2 cents", "less than a cent", "≤ 5 cents", "at most $0.001": the words it
/// spans and the bound in micro-dollars.
fn price_bound(words: &[String]) -> Option<(usize, i64)> {
    let first = words.first()?.as_str();
    let lead = match (first, words.get(1).map(String::as_str)) {
        ("under" | "below" | "max" | "<" | "≤" | "<=" | "within", _) => 1,
        ("less" | "cheaper" | "lower", Some("than")) => 2,
        ("at" | "no", Some("most" | "more")) if first == "at" || words.get(2).is_some_and(|w| w == "than") => {
            if first == "at" { 2 } else { 3 }
        }
        _ => return None,
    };
    let (len, micros) = amount(&words[lead..])?;
    Some((lead + len, micros))
}

/// "$0.01", "0.01$", "0.01 usd", "2 cents", "a cent", "half a cent", "1¢": words and micro-dollars.
fn amount(words: &[String]) -> Option<(usize, i64)> {
    let first = words.first()?.as_str();
    let unit = words.get(1).map_or("", String::as_str);
    let number = |text: &str| -> Option<f64> { text.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0) };
    let micros = |usd: f64| (usd * 1_000_000.0).round() as i64;
    let is_cent = |w: &str| matches!(w, "cent" | "cents" | "¢");
    if let Some(rest) = first.strip_prefix('$') {
        return Some((1, micros(number(rest)?)));
    }
    if let Some(rest) = first.strip_suffix('$').or_else(|| first.strip_suffix('¢').map(|_| "")) {
        if first.ends_with('¢') {
            return Some((1, micros(number(first.trim_end_matches('¢'))? / 100.0)));
        }
        return Some((1, micros(number(rest)?)));
    }
    if matches!(first, "a" | "one") && is_cent(unit) {
        return Some((2, 10_000));
    }
    if first == "half" && unit == "a" && words.get(2).is_some_and(|w| is_cent(w)) {
        return Some((3, 5_000));
    }
    let value = number(first)?;
    if is_cent(unit) {
        return Some((2, micros(value / 100.0)));
    }
    if matches!(unit, "usd" | "dollar" | "dollars" | "usdc") {
        return Some((2, micros(value)));
    }
    None
}

/// "on polygon", "solana", "usdc", "in usdc": the words it spans and the parameter.
fn network_or_asset(words: &[String], used_in_text: &dyn Fn(&str) -> bool) -> Option<(usize, String)> {
    let (lead, word) = match words {
        [on, word, ..] if ON.contains(&on.as_str()) => (1, word.as_str()),
        [word, ..] => (0, word.as_str()),
        [] => return None,
    };
    let prepositioned = lead == 1;
    let network = networks::by_v1_name(word).filter(|n| !n.testnet);
    if !ASSETS.contains(&word) && network.is_none() {
        return None;
    }
    if !prepositioned && (AMBIGUOUS_NETWORKS.contains(&word) || used_in_text(word)) {
        return None;
    }
    if ASSETS.contains(&word) {
        return Some((lead + 1, format!("asset={}", word.to_uppercase())));
    }
    let network = network?;
    Some((lead + 1, format!("network={}", network.v1_name.unwrap_or(network.caip2))))
}

/// Applies `name=value` to `request` unless the same parameter was given explicitly.
fn apply(request: &mut SearchRequest, param: &str) -> bool {
    let (name, value) = param.split_once('=').unwrap_or((param, ""));
    match name {
        "max_usd" if request.max_usd_micros.is_none() => {
            // A bound the parameter itself would refuse (beyond its range) is not applied.
            request.max_usd_micros = crate::params::parse_usd(name, value).ok();
            request.max_usd_micros.is_some()
        }
        "sort" if request.sort.is_none() => {
            request.sort = Some(Sort::PriceAsc);
            true
        }
        "scheme" if request.schemes.is_empty() => {
            request.schemes.push(value.to_string());
            true
        }
        "network" if request.networks.is_empty() => {
            request.networks.push(value.to_string());
            true
        }
        "asset" if request.assets.is_empty() => {
            request.assets.push(value.to_string());
            true
        }
        "format" if request.formats.is_empty() => {
            request.formats.push(value.to_string());
            true
        }
        "testnet" if !request.testnet_set => {
            request.testnet = TestnetMode::Only;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> (SearchRequest, Option<Interpretation>) {
        read_with(q, &[])
    }

    fn read_with(q: &str, in_text: &[&str]) -> (SearchRequest, Option<Interpretation>) {
        let mut request = SearchRequest::new(q);
        let used = |w: &str| in_text.contains(&w);
        let interpretation = interpret(&mut request, &used);
        (request, interpretation)
    }

    #[test]
    fn price_phrases_become_bounds_or_the_cheapest_first() {
        for (q, text, micros) in [
            ("weather under a cent", "weather", 10_000),
            ("ocr under $0.001", "ocr", 1_000),
            ("geocoding below 0.5 cents", "geocoding", 5_000),
            ("exchange rates less than $0.0005 per call", "exchange rates", 500),
            ("translation ≤ 2 cents", "translation", 20_000),
            ("scraping at most 0.01 usd each", "scraping", 10_000),
            ("tts below half a cent", "tts", 5_000),
            ("fx under 1¢", "fx", 10_000),
        ] {
            let (request, read) = parse(q);
            assert_eq!(request.q, text, "{q}");
            assert_eq!(request.max_usd_micros, Some(micros), "{q}");
            assert!(read.is_some_and(|r| r.read[0].applied), "{q}");
        }
        let (request, read) = parse("cheap ocr");
        assert_eq!((request.q.as_str(), request.sort), ("ocr", Some(Sort::PriceAsc)));
        assert_eq!(read.map(|r| r.read[0].param.clone()), Some("sort=price_asc".into()));
        let (request, read) = parse("ocr under $1e300");
        assert_eq!(request.max_usd_micros, None, "out of range: not applied");
        assert!(read.is_some_and(|r| !r.read[0].applied));
        let (request, _) = parse("low cost scraping");
        assert_eq!((request.q.as_str(), request.sort), ("scraping", Some(Sort::PriceAsc)));
    }

    #[test]
    fn networks_assets_schemes_and_testnets_become_filters() {
        let (request, _) = parse("ocr on polygon");
        assert_eq!((request.q.as_str(), request.networks.clone()), ("ocr", vec!["polygon".to_string()]));
        let (request, _) = parse("weather on base with usdc");
        assert_eq!((request.networks.clone(), request.assets.clone()), (vec!["base".into()], vec!["USDC".into()]));
        assert_eq!(request.q, "weather");
        let (request, _) = parse("metered transcription");
        assert_eq!((request.q.as_str(), request.schemes.clone()), ("transcription", vec!["upto".to_string()]));
        let (request, _) = parse("pay per use translation");
        assert_eq!(request.schemes, vec!["upto".to_string()]);
        let (request, _) = parse("fx on a testnet");
        assert_eq!((request.q.as_str(), request.testnet), ("fx", TestnetMode::Only));
        let (request, _) = parse("solana ocr");
        assert_eq!(request.networks, vec!["solana".to_string()]);
    }

    #[test]
    fn words_services_use_and_common_words_stay_text() {
        // A service named "Polygon Area Calculator": the word is its name, not a network.
        let (request, read) = read_with("polygon area calculator", &["polygon"]);
        assert_eq!((request.q.as_str(), read), ("polygon area calculator", None));
        assert!(request.networks.is_empty());
        // "Cheap Flights", "Budget Planner", "Metered Parking": names keep their words.
        for (q, word) in [("cheap flights", "cheap"), ("budget planner", "budget"), ("metered parking", "metered")] {
            let (request, read) = read_with(q, &[word]);
            assert_eq!((request.q.as_str(), read.is_none()), (q, true), "{q}");
        }
        // "base" alone is a common word (a knowledge base); "on base" is the network.
        let (request, _) = parse("knowledge base search");
        assert_eq!((request.q.as_str(), request.networks.len()), ("knowledge base search", 0));
        // Numbers without a bound or a unit, and "cheaper than" without an amount, are text.
        for q in
            ["top 10 weather apis", "under construction", "cheaper than ever", "base64 encoder", "free text search"]
        {
            let (request, _) = read_with(q, &["free"]);
            assert_eq!(request.q, q, "{q}");
        }
    }

    #[test]
    fn explicit_parameters_win_and_the_words_still_go() {
        let mut request = SearchRequest::new("ocr on polygon under a cent");
        request.networks = vec!["base".into()];
        request.max_usd_micros = Some(1);
        let seen = interpret(&mut request, &|_| false).expect("read");
        assert_eq!(request.networks, vec!["base".to_string()]);
        assert_eq!(request.max_usd_micros, Some(1));
        assert_eq!(request.q, "ocr");
        assert!(seen.read.iter().all(|r| !r.applied), "{seen:?}");
        let (request, read) = parse("weather");
        assert_eq!((request.q.as_str(), read), ("weather", None));
    }

    #[test]
    fn output_formats_are_read_and_names_keep_their_words() {
        let (request, read) = parse("translate text to french, json output");
        assert_eq!((request.q.as_str(), request.formats.clone()), ("translate text to french,", vec!["json".into()]));
        assert_eq!(read.map(|r| r.read[0].words.clone()), Some("json output".into()));
        let (request, _) = parse("stock quotes as csv");
        assert_eq!((request.q.as_str(), request.formats.clone()), ("stock quotes", vec!["csv".into()]));
        // "JSON Formatter" is a service: the word alone stays; "image" alone is a kind of service.
        let (request, read) = read_with("json formatter", &["json"]);
        assert_eq!((request.q.as_str(), read.is_none()), ("json formatter", true));
        let (request, _) = parse("image generation");
        assert!(request.formats.is_empty());
        let mut request = SearchRequest::new("weather as csv");
        request.formats = vec!["json".into()];
        let seen = interpret(&mut request, &|_| false).expect("read");
        assert_eq!((request.formats.clone(), seen.read[0].applied), (vec!["json".to_string()], false));
    }
}
