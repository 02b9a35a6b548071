//! A real headless Chromium driven over WebDriver (fantoccini + Debian's `chromedriver`).
//!
//! `scripts/test` installs `chromium` and `chromium-driver` when missing; without them these tests
//! fail with the command to run, never skip. Each [`Browser`] starts its own chromedriver on a
//! free port (it prints the port it bound) and kills it when dropped. nextest runs the browser
//! tests one at a time (`.config/nextest.toml`, test group `browser`): two Chromiums on two cores
//! make every step slow enough to look like a hang.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long one WebDriver wait may take before the test fails (a missing element, a page that
/// never loads); generous, since a cold Chromium on a loaded 2-core machine is slow.
const WAIT: Duration = Duration::from_secs(30);

/// Where screenshots go: `$AGORA_TEST_ARTIFACTS/browser`, else `target/test-artifacts/browser`.
pub fn artifacts_dir() -> PathBuf {
    let root = std::env::var("AGORA_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts"));
    root.join("browser")
}

/// Whether pages may run scripts: the UI must work both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripts {
    On,
    Off,
}

/// A headless Chromium session and the chromedriver behind it.
pub struct Browser {
    pub client: Client,
    scripts: Scripts,
    /// Names screenshots: `<label>-js-on-<step>.png`.
    label: String,
    _driver: Child,
}

impl Browser {
    /// Starts chromedriver and a Chromium session at a 1280×900 window.
    pub async fn start(label: &str, scripts: Scripts) -> Browser {
        let driver_path = which("chromedriver").or_else(|| which("chromium.chromedriver"));
        let chromium = which("chromium").or_else(|| which("chromium-browser"));
        let (Some(driver_path), Some(chromium)) = (driver_path, chromium) else {
            panic!("Chromium is not installed: run `scripts/test` (it installs Debian's chromium and chromium-driver)")
        };
        let mut driver = Command::new(driver_path)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let port = driver_port(&mut driver).await;

        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
        ];
        let mut options = json!({ "binary": chromium, "args": [] });
        if scripts == Scripts::Off {
            // The content setting a user flips in chrome://settings, not a WebDriver-only switch.
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
            args.push("--blink-settings=scriptEnabled=false");
        }
        options["args"] = json!(args);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Browser { client, scripts, label: label.to_string(), _driver: driver }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("load {url}: {e}"));
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// The text of every element matching `css` now.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            texts.push(element.text().await.expect("text"));
        }
        texts
    }

    /// Saves a PNG of the viewport as `<label>-js-<on|off>-<step>.png` in [`artifacts_dir`].
    pub async fn screenshot(&self, step: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        let js = if self.scripts == Scripts::On { "on" } else { "off" };
        std::fs::write(dir.join(format!("{}-js-{js}-{step}.png", self.label)), png).expect("write screenshot");
    }

    /// The browser's console since the last call: each entry's level and message.
    pub async fn console(&self) -> Vec<(String, String)> {
        let entries = self.client.issue_cmd(BrowserLog).await.expect("the browser log");
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (e["level"].as_str().unwrap_or("").to_string(), e["message"].as_str().unwrap_or("").to_string())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fails on any console error or warning, and on any Content-Security-Policy report
    /// (Chromium logs a blocked script, style or frame as a SEVERE console entry), except one
    /// entry per `expected` fragment (a 422 the step provoked on purpose is logged as SEVERE too).
    pub async fn assert_quiet_console(&self, step: &str, expected: &[&str]) {
        let mut noisy: Vec<_> = self
            .console()
            .await
            .into_iter()
            .filter(|(level, message)| {
                level != "INFO" && level != "DEBUG" || message.contains("Content Security Policy")
            })
            .collect();
        for fragment in expected {
            let at = noisy.iter().position(|(_, message)| message.contains(fragment));
            let at = at.unwrap_or_else(|| panic!("{step}: no console entry with {fragment:?} in {noisy:#?}"));
            noisy.remove(at);
        }
        assert!(noisy.is_empty(), "{step}: the browser console reported {noisy:#?}");
    }

    pub async fn close(self) {
        self.client.close().await.expect("close the session");
    }
}

/// chromedriver's `--port=0` binds a free port and prints it; reading that line is the readiness
/// signal (it accepts sessions from then on).
async fn driver_port(driver: &mut Child) -> u16 {
    let stdout = driver.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let read = async {
        while let Some(line) = lines.next_line().await.expect("chromedriver output") {
            if let Some(rest) = line.strip_prefix("ChromeDriver was started successfully on port ") {
                return rest.trim_end_matches('.').parse::<u16>().expect("a port");
            }
        }
        panic!("chromedriver exited before it listened");
    };
    let port = tokio::time::timeout(WAIT, read).await.expect("chromedriver starts");
    // Keep draining its output so a chatty driver never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    port
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// chromedriver's log endpoint (outside W3C WebDriver, so fantoccini has no method for it).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`), e.g. media emulation.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.command, "params": self.params }).to_string()))
    }
}

impl Browser {
    /// Emulates the visitor's colour-scheme preference (`prefers-color-scheme`).
    pub async fn prefer_color_scheme(&self, scheme: &str) {
        let params = json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] });
        let command = DevTools { command: "Emulation.setEmulatedMedia", params };
        self.client.issue_cmd(command).await.expect("emulate the colour scheme");
    }
}

/// Runs `script` in the page through WebDriver (which works with the page's scripts off too)
/// and returns its value.
pub async fn eval(browser: &Browser, script: &str) -> Value {
    browser.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("run {script}: {e}"))
}
