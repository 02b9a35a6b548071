//! The one HTTP client for all outbound requests to sellers (PROTOCOL §4.1,
//! `reliability-perf.md` §A2–A4).
//!
//! - Every hop's host is checked: IP literals here, names by the guarded resolver, which pins
//!   the connection to the addresses it approved.
//! - Redirects are followed by hand (at most [`FetchConfig::max_redirects`]), each re-checked.
//! - No proxy (a proxy would resolve names behind the policy's back), no Referer.
//! - Connect, read and total deadlines; the total covers redirects and the body.
//! - The body is streamed into a capped buffer; decompressed bytes count against the cap, so a
//!   gzip bomb stops at the cap. The challenge header has its own cap.

use crate::policy::AddressPolicy;
use crate::report::Finding;
use crate::resolve::{GuardedResolver, RefusedName, Resolver};
use crate::timing::{CONNECT_TIME, ConnectTimingLayer};
use http::{HeaderMap, Method, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::time::timeout_at;
use url::{Host, Url};

/// Limits of one fetch.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub connect_timeout: Duration,
    /// Longest silence between two reads.
    pub read_timeout: Duration,
    /// The whole fetch: every hop, headers and body.
    pub total_timeout: Duration,
    /// Decoded body bytes kept; more is an oversize answer.
    pub max_body_bytes: usize,
    /// Longest `PAYMENT-REQUIRED` value accepted (real merchants send large ones).
    pub max_challenge_header_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
    /// The `Accept` header sent (probes ask for JSON; icon fetches for images).
    pub accept: &'static str,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_body_bytes: 256 * 1024,
            max_challenge_header_bytes: 128 * 1024,
            max_redirects: 3,
            user_agent: format!("AgoraBot/{} (x402 discovery catalog; non-browser)", env!("CARGO_PKG_VERSION")),
            accept: "application/json",
        }
    }
}

/// What a server said a document's version is (`ETag`, `Last-Modified`), to ask next time
/// whether it changed (`If-None-Match`, `If-Modified-Since`: a 304 says it did not).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators an answer carries (short printable values only).
    pub fn of(headers: &HeaderMap) -> Validators {
        let get = |name: http::header::HeaderName| {
            headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| v.len() <= 256).map(str::to_string)
        };
        Validators { etag: get(http::header::ETAG), last_modified: get(http::header::LAST_MODIFIED) }
    }

    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    /// The conditional request headers these validators make.
    pub fn request_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name, value: &Option<String>| {
            if let Some(value) = value.as_deref().and_then(|v| http::HeaderValue::from_str(v).ok()) {
                headers.insert(name, value);
            }
        };
        put(http::header::IF_NONE_MATCH, &self.etag);
        put(http::header::IF_MODIFIED_SINCE, &self.last_modified);
        headers
    }
}

/// A response that arrived (whatever its status).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Why `body` is incomplete, when it is.
    pub body_error: Option<Finding>,
}

/// How a fetch ended.
#[derive(Debug)]
pub enum FetchResult {
    Answered(Box<Answer>),
    /// The policy forbade a request; nothing was sent to the forbidden address.
    Refused(Finding),
    /// No usable answer.
    Failed(Finding),
}

/// Everything a fetch observed.
#[derive(Debug)]
pub struct Fetched {
    pub result: FetchResult,
    pub final_url: Url,
    pub redirects: Vec<String>,
    pub connect: Option<Duration>,
    pub first_byte: Option<Duration>,
    pub total: Duration,
}

/// The safe client. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    resolver: Arc<dyn Resolver>,
    config: Arc<FetchConfig>,
}

impl Fetcher {
    /// Builds the client. Fails only if TLS cannot be initialized.
    pub fn new(
        config: FetchConfig,
        policy: AddressPolicy,
        resolver: Arc<dyn Resolver>,
    ) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver { inner: Arc::clone(&resolver), policy: Arc::clone(&policy) })
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .timeout(config.total_timeout)
            .user_agent(config.user_agent.clone())
            .tls_version_min(reqwest::tls::Version::TLS_1_2)
            // Sellers are many hosts visited rarely: idle connections would only hold sockets.
            .pool_max_idle_per_host(0)
            .connector_layer(ConnectTimingLayer)
            .build()?;
        Ok(Fetcher { client, policy, resolver, config: Arc::new(config) })
    }

    /// Judges `url`'s host without sending anything: an IP literal against the policy, a name by
    /// resolving it and checking every address. Registration uses it so a private or unresolvable
    /// URL is a clear error before anything is stored. (The fetch checks again, at connect time:
    /// DNS may change in between.)
    pub async fn preflight(&self, url: &Url) -> Result<(), Finding> {
        self.check_literal_host(url)?;
        let Some(Host::Domain(name)) = url.host() else { return Ok(()) };
        let lookup = tokio::time::timeout(self.config.connect_timeout, self.resolver.resolve(name)).await;
        let ips = match lookup {
            Ok(Ok(ips)) if !ips.is_empty() => ips,
            Ok(Ok(_)) | Ok(Err(_)) => {
                return Err(Finding::new("dns_failed", format!("The host name {name} does not resolve.")));
            }
            Err(_) => return Err(Finding::new("dns_failed", format!("Resolving {name} timed out."))),
        };
        for ip in ips {
            self.policy.check(ip).map_err(|denied| {
                Finding::new(
                    "address_refused",
                    format!("Refused: {name} resolves to {denied}. Agora only probes public addresses."),
                )
            })?;
        }
        Ok(())
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// Fetches `url` with `method`, following redirects by hand.
    pub async fn fetch(&self, url: &Url, method: &Method) -> Fetched {
        self.fetch_with(url, method, &HeaderMap::new()).await
    }

    /// Like [`Fetcher::fetch`], sending `headers` too (a conditional GET's validators).
    pub async fn fetch_with(&self, url: &Url, method: &Method, headers: &HeaderMap) -> Fetched {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.config.total_timeout;
        let slot = Arc::new(Mutex::new(None));
        let mut current = url.clone();
        let mut method = method.clone();
        let mut redirects = Vec::new();
        let mut first_byte = None;
        let result = loop {
            if let Err(refusal) = self.check_literal_host(&current) {
                break FetchResult::Refused(refusal);
            }
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
            let request = self
                .client
                .request(method.clone(), current.clone())
                .header(http::header::ACCEPT, self.config.accept)
                .headers(headers.clone())
                .send();
            let sent = CONNECT_TIME.scope(Arc::clone(&slot), timeout_at(deadline, request)).await;
            let response = match sent {
                Err(_) => break FetchResult::Failed(timeout_finding(self.config.total_timeout)),
                Ok(Err(error)) => break classify_error(&error),
                Ok(Ok(response)) => response,
            };
            first_byte = Some(started.elapsed());
            let status = response.status();
            if status.is_redirection()
                && status != StatusCode::NOT_MODIFIED
                && let Some(location) = response.headers().get(http::header::LOCATION)
            {
                match self.next_hop(&current, location, redirects.len()) {
                    Ok(next) => {
                        // 303 means "see other with GET"; 301/302/307/308 keep the method,
                        // because probing a POST endpoint with GET would judge another route.
                        if status == StatusCode::SEE_OTHER {
                            method = Method::GET;
                        }
                        redirects.push(next.to_string());
                        current = next;
                        continue;
                    }
                    Err(result) => break result,
                }
            }
            break self.read_answer(response, deadline).await;
        };
        let connect = *slot.lock().unwrap_or_else(|p| p.into_inner());
        Fetched { result, final_url: current, redirects, connect, first_byte, total: started.elapsed() }
    }

    /// IP-literal hosts never reach the resolver, so they are judged here, on every hop.
    fn check_literal_host(&self, url: &Url) -> Result<(), Finding> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
            // RFC 6761: `localhost` names are loopback wherever they are resolved, so they are
            // judged as such without asking DNS (which may not know them, or may lie).
            Some(Host::Domain(name)) if is_localhost(name) => std::net::IpAddr::from([127, 0, 0, 1]),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(Finding::new("url_invalid", "The URL has no host.")),
        };
        self.policy.check(ip).map_err(|denied| {
            Finding::new(
                "address_refused",
                format!("Refused to connect: {denied}. Agora only probes public addresses."),
            )
        })
    }

    fn next_hop(&self, current: &Url, location: &http::HeaderValue, hops: usize) -> Result<Url, FetchResult> {
        if hops >= self.config.max_redirects {
            return Err(FetchResult::Failed(Finding::new(
                "too_many_redirects",
                format!("More than {} redirects; register the final URL instead.", self.config.max_redirects),
            )));
        }
        let next = location.to_str().ok().and_then(|l| current.join(l).ok()).ok_or_else(|| {
            FetchResult::Failed(Finding::new("redirect_invalid", "A redirect's Location is not a valid URL."))
        })?;
        if next.as_str().len() > crate::target::MAX_URL_BYTES || next.port() == Some(0) {
            return Err(FetchResult::Failed(Finding::new(
                "redirect_invalid",
                format!("A redirect's Location is longer than {} bytes or names port 0.", crate::target::MAX_URL_BYTES),
            )));
        }
        if !matches!(next.scheme(), "http" | "https") || !next.username().is_empty() || next.password().is_some() {
            return Err(FetchResult::Refused(Finding::new(
                "redirect_refused",
                format!(
                    "A redirect points to {}, which is not a plain http(s) URL.",
                    crate::x402::findings::quote(next.as_str())
                ),
            )));
        }
        Ok(next)
    }

    async fn read_answer(&self, mut response: reqwest::Response, deadline: tokio::time::Instant) -> FetchResult {
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let oversized = headers
            .get(crate::x402::decode::PAYMENT_REQUIRED)
            .is_some_and(|v| v.len() > self.config.max_challenge_header_bytes);
        if oversized {
            return FetchResult::Failed(Finding::new(
                "header_too_large",
                format!(
                    "The PAYMENT-REQUIRED header is larger than {} KiB.",
                    self.config.max_challenge_header_bytes / 1024
                ),
            ));
        }
        let cap = self.config.max_body_bytes;
        let mut body = Vec::new();
        let body_error = loop {
            match timeout_at(deadline, response.chunk()).await {
                Err(_) => break Some(timeout_finding(self.config.total_timeout)),
                Ok(Ok(None)) => break None,
                Ok(Ok(Some(chunk))) => {
                    if body.len() + chunk.len() > cap {
                        break Some(Finding::new(
                            "body_too_large",
                            format!("The body is larger than {} KiB (after decompression).", cap / 1024),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(Err(error)) => break Some(body_read_finding(&error)),
            }
        };
        FetchResult::Answered(Box::new(Answer { status, headers, body, body_error }))
    }
}

fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

fn timeout_finding(total: Duration) -> Finding {
    Finding::new("timeout", format!("No complete answer within {} s.", total.as_secs_f64()))
}

fn body_read_finding(error: &reqwest::Error) -> Finding {
    if error.is_timeout() {
        Finding::new("timeout", "The body stalled past the read timeout.")
    } else if error.is_decode() {
        Finding::new("body_decode_failed", format!("The compressed body could not be decoded: {}.", root_cause(error)))
    } else {
        Finding::new("body_read_failed", format!("Reading the body failed: {}.", root_cause(error)))
    }
}

/// Maps a send error to a verdict: a refused name is `refused`, everything else `fetch_error`.
fn classify_error(error: &reqwest::Error) -> FetchResult {
    if let Some(refused) = error_chain(error).find_map(|e| e.downcast_ref::<RefusedName>()) {
        return FetchResult::Refused(Finding::new(
            "address_refused",
            format!("Refused to connect: {refused}. Agora only probes public addresses."),
        ));
    }
    let cause = root_cause(error);
    let finding = if error.is_timeout() {
        Finding::new("timeout", format!("The request timed out ({cause})."))
    } else if error.is_connect() {
        // hyper-util wraps every resolver failure as "dns error".
        if error_chain(error).any(|e| e.to_string().contains("dns error")) {
            Finding::new("dns_failed", format!("The host name could not be resolved: {cause}."))
        } else {
            Finding::new("connect_failed", format!("Could not connect: {cause}."))
        }
    } else {
        Finding::new("response_invalid", format!("The server's answer could not be read: {cause}."))
    };
    FetchResult::Failed(finding)
}

/// The error and every `source()` below it, outermost first.
fn error_chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

/// The innermost error message: reqwest's own Display is generic ("error sending request").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let text = error_chain(error).last().map(ToString::to_string).unwrap_or_default();
    if text.len() > 200 { format!("{}…", &text[..text.floor_char_boundary(200)]) } else { text }
}
