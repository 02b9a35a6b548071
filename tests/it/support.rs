//! Shared test scaffolding: an `App` (built by `agora::build_app`) over a temp data dir with a
//! manual clock, and a seller whose behaviour a test switches while the catalog watches it.

use agora::clock::ManualClock;
use agora::config::{Cli, GlobalOptions};
use agora::db::services::{self, ServiceRow};
use agora::{App, AppConfig};
use agora_crawler::testkit::{Reply, Request, Seller};
use clap::Parser;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// 2026-11-21T06:00:00Z: a fixed start so day boundaries are known.
pub const T0: i64 = 1_795_240_800_000;

/// Global options as a user would type them, plus `extra` flags.
pub fn options(dir: &Path, extra: &[&str]) -> GlobalOptions {
    let dir = dir.to_str().expect("utf-8 temp path");
    let mut args = vec!["agora", "--data-dir", dir];
    args.extend_from_slice(extra);
    args.push("migrate");
    Cli::try_parse_from(args).expect("valid options").global
}

/// Options for tests against loopback sellers: 127/8 allowed, no politeness gap.
pub fn loopback_options(dir: &Path) -> GlobalOptions {
    options(dir, &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
}

/// The whole product over `options`, started the way `agora serve` starts it, on `clock`.
pub async fn open_app(options: &GlobalOptions, clock: &ManualClock) -> App {
    let config = AppConfig { clock: Arc::new(clock.clone()), ..AppConfig::new(options.clone()) };
    agora::build_app(config).await.expect("app opens")
}

pub async fn service(app: &App, id: i64) -> ServiceRow {
    services::get(app.store.read(), id).await.expect("query").expect("service exists")
}

/// A seller whose answer the test changes at will; robots.txt is a 404 (no rules).
pub struct Switchable {
    pub seller: Seller,
    reply: Arc<Mutex<Reply>>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Switchable {
    pub async fn start(ip: [u8; 4], reply: Reply) -> Switchable {
        let current = Arc::new(Mutex::new(reply));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, r) = (Arc::clone(&current), Arc::clone(&requests));
        let seller = Seller::start(IpAddr::from(ip), move |request: &Request| {
            r.lock().expect("lock").push(request.path.clone());
            if request.path == "/robots.txt" {
                return Reply::new(404);
            }
            c.lock().expect("lock").clone()
        })
        .await
        .expect("seller starts");
        Switchable { seller, reply: current, requests }
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock().expect("lock") = reply;
    }

    pub fn requests_to(&self, path: &str) -> usize {
        self.requests.lock().expect("lock").iter().filter(|p| p.as_str() == path).count()
    }
}

/// The header of a `side`×`side` PNG: all a size check reads.
pub fn png(side: u32) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    bytes.extend_from_slice(&side.to_be_bytes());
    bytes.extend_from_slice(&side.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}
