//! `agora probe URL [--method M] [--json]`: one probe, stored nowhere.

use super::terminal::Lines;
use crate::config::{GlobalOptions, ProbeArgs};
use agora_crawler::{Finding, Listing, ProbeConfig, ProbeReport, Prober, Verdict};

/// Runs the probe and prints it; returns the exit code pinned in INTERFACES.md.
pub async fn run(global: &GlobalOptions, args: &ProbeArgs) -> u8 {
    let config = ProbeConfig { policy: global.address_policy(), ..ProbeConfig::default() };
    let prober = match Prober::new(config) {
        Ok(prober) => prober,
        Err(error) => {
            eprintln!("agora: cannot build the HTTP client: {error}");
            return 2;
        }
    };
    let report = prober.probe_str(&args.url, Some(&args.method)).await;
    if args.json {
        match serde_json::to_string(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("agora: cannot serialize the report: {error}");
                return 2;
            }
        }
    } else {
        print!("{}", render(&report));
    }
    exit_code(report.verdict)
}

/// 0 listed, 1 not x402 or invalid, 2 fetch error or refused.
pub fn exit_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Listed => 0,
        Verdict::NotX402 | Verdict::Invalid => 1,
        Verdict::FetchError | Verdict::Refused => 2,
    }
}

/// The human-readable form of a report.
pub fn render(report: &ProbeReport) -> String {
    let mut out = Lines::default();
    let headline = match report.verdict {
        Verdict::Listed => "LISTED: a valid x402 endpoint",
        Verdict::NotX402 => "NOT X402: the answer is not an x402 challenge",
        Verdict::Invalid => "INVALID: an x402 challenge that breaks the protocol",
        Verdict::FetchError => "FETCH ERROR: no usable answer (will be retried)",
        Verdict::Refused => "REFUSED: the request was not sent",
    };
    out.line(format_args!("{headline}"));
    out.line(format_args!("  {} {}", report.method, report.url));
    if let Some(http) = &report.http {
        let status = http.status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
        let timings = &http.timings_ms;
        let mut phases = Vec::new();
        if let Some(connect) = timings.connect {
            phases.push(format!("connect {connect:.1} ms"));
        }
        if let Some(first_byte) = timings.first_byte {
            phases.push(format!("first byte {first_byte:.1} ms"));
        }
        let phases = if phases.is_empty() { String::new() } else { format!(" ({})", phases.join(", ")) };
        out.line(format_args!("  {status} in {:.1} ms{phases}", timings.total));
        for hop in &http.redirects {
            out.line(format_args!("  redirected to {hop}"));
        }
    }
    if let Some(listing) = &report.listing {
        render_listing(&mut out, listing);
    }
    render_findings(&mut out, "Problems", &report.problems, report.problems_omitted);
    render_findings(&mut out, "Warnings", &report.warnings, report.warnings_omitted);
    out.into_string()
}

fn render_listing(out: &mut Lines, listing: &Listing) {
    let name = listing.discovery.as_ref().and_then(|d| d.service_name.as_deref());
    out.blank();
    out.line(format_args!("  x402 v{} · {}", listing.x402_version, name.unwrap_or(&listing.resource.url)));
    if !listing.resource.description.is_empty() {
        out.line(format_args!("  {}", listing.resource.description));
    }
    if let Some(discovery) = &listing.discovery {
        if !discovery.tags.is_empty() {
            out.line(format_args!("  tags: {}", discovery.tags.join(", ")));
        }
        let state = if discovery.valid { "valid" } else { "INVALID (not used for search)" };
        out.line(format_args!("  discovery metadata: {state}"));
    }
    out.blank();
    out.line(format_args!("  Offers ({}):", listing.offers.len()));
    for offer in &listing.offers {
        let network = match &offer.network_v1 {
            Some(v1) => format!("{} ({v1}{})", offer.network, if offer.testnet { ", testnet" } else { "" }),
            None if offer.testnet => format!("{} (testnet)", offer.network),
            None => offer.network.clone(),
        };
        let price = match (&offer.usd, &offer.asset_symbol) {
            (Some(usd), Some(symbol)) => {
                format!("{}${usd} in {symbol} ({} atomic)", if offer.usd_is_max { "up to " } else { "" }, offer.amount)
            }
            _ => format!("{} atomic units of {}", offer.amount, offer.asset),
        };
        out.line(format_args!("  - {:<8} {network}", offer.scheme));
        out.line(format_args!("    price  {price}"));
        out.line(format_args!("    pay to {}", offer.pay_to));
    }
}

fn render_findings(out: &mut Lines, title: &str, findings: &[Finding], omitted: usize) {
    if findings.is_empty() {
        return;
    }
    out.blank();
    out.line(format_args!("  {title}:"));
    for finding in findings {
        let at = finding.path.as_deref().filter(|p| !p.is_empty()).map(|p| format!(" at {p}")).unwrap_or_default();
        out.line(format_args!("  - [{}]{at}: {}", finding.code, finding.message));
    }
    if omitted > 0 {
        out.line(format_args!("  … and {omitted} more (only the first {} are kept)", findings.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agora_crawler::testkit::v2_challenge;
    use agora_crawler::{HttpAnswer, evaluate};
    use base64::Engine as _;

    /// A listed report with an `upto` offer on a known stablecoin and an offer in an unknown token.
    fn report() -> ProbeReport {
        let url = "https://api.example.com/weather";
        let mut challenge = v2_challenge(url);
        let mut unknown = challenge["accepts"][0].clone();
        unknown["asset"] = "0x1111111111111111111111111111111111111111".into();
        unknown["amount"] = "42".into();
        challenge["accepts"][0]["scheme"] = "upto".into();
        challenge["accepts"][0]["extra"]["facilitatorAddress"] = "0x1".into();
        challenge["accepts"].as_array_mut().expect("array").push(unknown);
        let mut headers = http::HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(challenge.to_string());
        headers.insert("payment-required", encoded.parse().expect("header"));
        let parsed = url::Url::parse(url).expect("url");
        let evaluation =
            evaluate(&HttpAnswer { status: 402, headers: &headers, body: b"{}", body_error: None, url: &parsed });
        assert_eq!(evaluation.verdict, Verdict::Listed, "{:?}", evaluation.problems);
        ProbeReport {
            url: url.into(),
            method: "GET".into(),
            verdict: evaluation.verdict,
            problems: evaluation.problems,
            problems_omitted: 0,
            warnings: evaluation.warnings,
            warnings_omitted: 0,
            http: None,
            listing: evaluation.listing,
            challenge: None,
            retry_after: None,
        }
    }

    #[test]
    fn caps_and_unpriced_offers_render_honestly() {
        let text = render(&report());
        assert!(text.starts_with("LISTED"), "{text}");
        assert!(text.contains("x402 v2 · Weather"), "{text}");
        assert!(text.contains("price  up to $0.001 in USDC (1000 atomic)"), "{text}");
        assert!(text.contains("price  42 atomic units of 0x1111111111111111111111111111111111111111"), "{text}");
        assert!(text.contains("[asset_unknown] at accepts[1].asset"), "{text}");
        assert_eq!(exit_code(Verdict::Listed), 0);
    }
}
