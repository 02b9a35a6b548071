//! Query understanding end to end (docs/SEARCH.md "What Agora reads into `q`"): the API applies
//! what the words say and answers `interpreted_as`; a service whose name holds the word is still
//! found by it; explicit parameters win; `interpret=false` takes the words literally; the page says
//! what it read and links to the literal search.

use crate::api::serve;
use crate::catalog::{Catalog, POLYGON_USDC, ServiceSpec};
use serde_json::{Value, json};

fn spec(path: &str, name: &str, description: &str, offer: crate::catalog::OfferSpec, micros: i64) -> ServiceSpec {
    let mut spec = ServiceSpec::new(path, name, description, &[], "input");
    spec.offers = vec![crate::catalog::OfferSpec { amount: micros, ..offer }];
    spec
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.expect("get").json().await.expect("json")
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["hits"].as_array().expect("hits").iter().filter_map(|h| h["id"].as_i64()).collect()
}

#[tokio::test]
async fn the_words_of_a_query_become_filters_the_answer_states() {
    let catalog = Catalog::build(vec![
        spec("/a", "OCR Express", "Extract text from images", POLYGON_USDC, 500),
        spec("/b", "OCR Deluxe", "Extract text from images", crate::catalog::BASE_USDC, 20_000),
        spec("/c", "OCR Basic", "Extract text from images", POLYGON_USDC, 5_000),
        spec("/d", "Polygon Area Calculator", "Area of a polygon from its vertices", crate::catalog::BASE_USDC, 1000),
    ])
    .await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| catalog.specs[i].id);

    let answer = get(format!("{base}/api/v1/services?q=cheap+ocr+on+polygon")).await;
    assert_eq!(ids(&answer), vec![a, c], "{answer}");
    assert_eq!(answer["sort"], "price_asc");
    assert_eq!(
        answer["interpreted_as"],
        json!({"text": "ocr", "read": [
            {"words": "cheap", "param": "sort=price_asc", "applied": true},
            {"words": "on polygon", "param": "network=polygon", "applied": true}]})
    );
    let answer = get(format!("{base}/api/v1/services?q=ocr+under+a+cent")).await;
    assert_eq!(ids(&answer), vec![a, c], "{answer}");
    assert_eq!(answer["interpreted_as"]["read"][0]["param"], "max_usd=0.01");

    // A name holding the word keeps it: "polygon" is the calculator's, not a network.
    let answer = get(format!("{base}/api/v1/services?q=polygon+area+calculator")).await;
    assert_eq!((ids(&answer), answer.get("interpreted_as")), (vec![d], None), "{answer}");

    // An explicit parameter wins; the words are still taken out, and the answer says so.
    let answer = get(format!("{base}/api/v1/services?q=ocr+on+polygon&network=base")).await;
    assert_eq!(ids(&answer), vec![b], "{answer}");
    assert_eq!(answer["interpreted_as"]["read"][0]["applied"], false);

    // interpret=false: the words are words.
    let answer = get(format!("{base}/api/v1/services?q=cheap+ocr&interpret=false")).await;
    assert!(answer.get("interpreted_as").is_none(), "{answer}");
    assert_eq!(answer["sort"], "relevance");
    let bad = reqwest::get(format!("{base}/api/v1/services?q=x&interpret=maybe")).await.expect("get");
    assert_eq!(bad.status(), 400);

    // The page says what it read, with the way back.
    let page = reqwest::get(format!("{base}/?q=cheap+ocr+on+polygon")).await.expect("get").text().await.expect("html");
    assert!(page.contains("Read “cheap” as cheapest first, “on polygon” as network polygon."), "{page}");
    assert!(page.contains("interpret=false"), "{page}");
}

#[tokio::test]
async fn output_format_words_filter_by_the_declared_mime_type() {
    let mut specs = vec![
        spec("/json", "Rates JSON", "Exchange rates", POLYGON_USDC, 500),
        spec("/csv", "Rates Export", "Exchange rates", POLYGON_USDC, 500),
        spec("/png", "Rates Chart", "Exchange rates", POLYGON_USDC, 500),
        spec("/fmt", "JSON Formatter", "Pretty-prints documents", POLYGON_USDC, 500),
    ];
    specs[1].mime_type = "text/csv; charset=utf-8";
    specs[2].mime_type = "image/png";
    let catalog = Catalog::build(specs).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let [json, csv, png, formatter] = [0, 1, 2, 3].map(|i| catalog.specs[i].id);

    let answer = get(format!("{base}/api/v1/services?q=exchange+rates+as+csv")).await;
    assert_eq!(ids(&answer), vec![csv], "{answer}");
    assert_eq!(answer["interpreted_as"]["read"], json!([{"words": "as csv", "param": "format=csv", "applied": true}]));
    let answer = get(format!("{base}/api/v1/services?q=exchange+rates+png+output")).await;
    assert_eq!(ids(&answer), vec![png], "{answer}");
    // Explicit parameters: repeatable, any of them; an explicit one wins over the words.
    let mut found = ids(&get(format!("{base}/api/v1/services?q=exchange+rates&format=json&format=image")).await);
    found.sort_unstable();
    assert_eq!(found, {
        let mut want = vec![json, png];
        want.sort_unstable();
        want
    });
    let answer = get(format!("{base}/api/v1/services?q=exchange+rates+as+csv&format=image")).await;
    assert_eq!((ids(&answer), &answer["interpreted_as"]["read"][0]["applied"]), (vec![png], &json!(false)));
    // "json" alone is a service's name here: it stays a word.
    let answer = get(format!("{base}/api/v1/services?q=json+formatter")).await;
    assert_eq!((ids(&answer)[0], answer.get("interpreted_as")), (formatter, None), "{answer}");
    // A format no service declares is not read: the words stay text rather than match nothing.
    let answer = get(format!("{base}/api/v1/services?q=exchange+rates+as+pdf")).await;
    assert!(answer.get("interpreted_as").is_none(), "{answer}");
    // A format Agora does not know is a problem naming the parameter.
    let bad = reqwest::get(format!("{base}/api/v1/services?format=yaml")).await.expect("get");
    assert_eq!(bad.status(), 400);
    let problem: Value = bad.json().await.expect("problem");
    assert_eq!(problem["param"], "format", "{problem}");
}
