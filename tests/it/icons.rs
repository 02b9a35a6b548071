//! Seller icons end to end: a listed seller's `resource.iconUrl` is fetched once through the
//! safe fetcher, checked, kept by content hash and served from Agora's own origin (the API and
//! the pages point there, never at the seller); an SVG or an icon on a private address is not
//! kept, and says why. Host names resolve to loopback sellers through a static resolver (the
//! address policy refuses IP-literal icon hosts, as the spec says).

use crate::api::serve_state;
use crate::support::{Switchable, T0, loopback_options, png};
use agora::clock::ManualClock;
use agora::db::icons;
use agora::db::services::DueService;
use agora::{AppConfig, build_app};
use agora_crawler::StaticResolver;
use agora_crawler::testkit::{Reply, v2_challenge};
use serde_json::Value;
use std::sync::Arc;

/// Why service `id`'s icon was not kept, as stored.
async fn icon_problem(app: &agora::App, id: i64) -> Option<String> {
    agora::on_pool!(app.store.read(), |p| sqlx::query_scalar("SELECT icon_problem FROM services WHERE id = $1")
        .bind(id)
        .fetch_one(p)
        .await)
    .expect("read")
}

fn challenge_with_icon(url: &str, icon: &str) -> Reply {
    let mut challenge = v2_challenge(url);
    challenge["resource"]["iconUrl"] = icon.into();
    Reply::v2(&challenge)
}

#[tokio::test]
async fn icons_are_kept_checked_and_served_from_agoras_origin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let seller = Switchable::start([127, 0, 0, 64], Reply::new(404)).await;
    let icons_host =
        Switchable::start([127, 0, 0, 65], Reply::new(200).header("content-type", "image/png").body(png(48))).await;
    let resolver = StaticResolver::new()
        .with("seller.test", &[[127, 0, 0, 64].into()])
        .with("icons.test", &[[127, 0, 0, 65].into()])
        .with("private.test", &[[10, 0, 0, 1].into()]);
    let config = AppConfig {
        clock: Arc::new(clock.clone()),
        resolver: Some(Arc::new(resolver)),
        ..AppConfig::new(loopback_options(dir.path()))
    };
    let app = build_app(config).await.expect("app opens");
    let url = format!("http://seller.test:{}/paid", seller.seller.addr().port());
    let icon_at = |path: &str| format!("http://icons.test:{}{path}", icons_host.seller.addr().port());
    seller.set(challenge_with_icon(&url, &icon_at("/icon.png")));

    let registered = app.state.catalog.register(&url, None).await.expect("registers");
    let id = registered.state.service.id;
    assert_eq!(registered.state.service.status.as_str(), "listed");
    assert_eq!(icons_host.requests_to("/icon.png"), 1, "fetched once, at the listing");
    let base = serve_state(app.state.clone()).await;
    let detail: Value =
        reqwest::get(format!("{base}/api/v1/services/{id}")).await.expect("get").json().await.expect("json");
    let icon = detail["icon"].as_str().expect("an icon path").to_string();
    assert!(icon.starts_with("/icons/") && icon.len() == "/icons/".len() + 64, "{icon}");
    assert_eq!(
        detail["report"]["listing"]["resource"]["icon_url"],
        icon_at("/icon.png"),
        "kept as data, for the seller"
    );

    let served = reqwest::get(format!("{base}{icon}")).await.expect("get");
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert!(served.headers()["cache-control"].to_str().expect("ascii").contains("immutable"));
    assert_eq!(served.bytes().await.expect("bytes").to_vec(), png(48));
    let page = reqwest::get(format!("{base}/services/{id}")).await.expect("get").text().await.expect("html");
    assert!(page.contains(&format!(r#"<img class="seller-icon" src="{icon}""#)), "the page shows Agora's copy");
    assert!(!page.contains(r#"src="http"#), "and never hot-links the seller");

    // A re-probe with the same icon URL fetches nothing again.
    let due = DueService { id, url: url.clone(), method: "GET".into(), host: "seller.test".into() };
    app.dispatcher.probe_now(due.clone()).await.expect("probed");
    assert_eq!(icons_host.requests_to("/icon.png"), 1);

    // An SVG is not kept, and the service says so; an icon on a private address is not fetched.
    icons_host.set(
        Reply::new(200).header("content-type", "image/svg+xml").body(r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#),
    );
    seller.set(challenge_with_icon(&url, &icon_at("/icon.svg")));
    app.dispatcher.probe_now(due.clone()).await.expect("probed");
    let stored = icons::stored(app.store.read(), id).await.expect("read");
    assert_eq!((stored.url.as_deref(), stored.hash), (Some(icon_at("/icon.svg").as_str()), None));
    assert_eq!(icon_problem(&app, id).await.as_deref(), Some("icon_format_unsupported"));
    let detail: Value =
        reqwest::get(format!("{base}/api/v1/services/{id}")).await.expect("get").json().await.expect("json");
    assert_eq!(detail["icon"], Value::Null);
    seller.set(challenge_with_icon(&url, "http://private.test/icon.png"));
    app.dispatcher.probe_now(due.clone()).await.expect("probed");
    assert_eq!(icon_problem(&app, id).await.as_deref(), Some("address_refused"));

    // A listing that names no icon any more forgets it.
    seller.set(Reply::v2(&v2_challenge(&url)));
    app.dispatcher.probe_now(due.clone()).await.expect("probed");
    let forgotten = icons::stored(app.store.read(), id).await.expect("read");
    assert_eq!((forgotten.url, forgotten.hash), (None, None));
    assert_eq!(icon_problem(&app, id).await, None);

    for bad in ["/icons/zzz", "/icons/0000000000000000000000000000000000000000000000000000000000000000"] {
        assert_eq!(reqwest::get(format!("{base}{bad}")).await.expect("get").status().as_u16(), 404, "{bad}");
    }
    app.shutdown().await;
}
