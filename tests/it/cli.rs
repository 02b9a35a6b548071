//! `agora probe` as a user runs it: the real binary, its exit codes and its JSON contract
//! (`shared/INTERFACES.md`).

use agora_crawler::testkit::{Reply, Seller, v2_challenge};
use serde_json::Value;
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        let lines: Vec<_> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "exactly one JSON object on stdout: {:?}", self.stdout);
        serde_json::from_str(lines[0]).expect("valid JSON")
    }
}

/// Runs the binary with `args` and `envs` (never the caller's AGORA_ALLOW_CIDRS).
pub async fn agora(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agora"));
    command.args(args).env_remove("AGORA_ALLOW_CIDRS");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output().expect("run agora")).await.expect("join");
    Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("utf8"),
        stderr: String::from_utf8(output.stderr).expect("utf8"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listed_endpoint_exits_0_with_the_pinned_json_shape() {
    let seller = Seller::always(Reply::v2(&v2_challenge("http://127.0.0.1/"))).await.expect("seller");
    let run = agora(&["probe", "--allow-cidr", "127.0.0.0/8", &seller.url("/weather"), "--json"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"], "listed");
    assert_eq!(report["method"], "GET");
    assert_eq!(report["http"]["status"], 402);
    assert!(report["http"]["timings_ms"]["total"].is_number());
    let offer = &report["listing"]["offers"][0];
    assert_eq!(offer["amount"], "1000", "amounts are decimal strings");
    assert_eq!(offer["usd"], "0.001", "USD is an exact decimal string");
    assert_eq!(offer["usd_is_max"], false);
    assert_eq!(offer["network"], "eip155:8453");
    assert_eq!(offer["network_v1"], "base");
    assert_eq!(offer["decimals"], 6);
    assert_eq!(report["listing"]["discovery"]["valid"], true);
    assert!(report["challenge"].is_object());
    assert_eq!(report["problems"], Value::Array(vec![]));
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_and_non_x402_answers_exit_1() {
    let mut broken = v2_challenge("http://127.0.0.1/");
    broken["accepts"][0]["amount"] = "0.5".into();
    broken["accepts"][0]["payTo"] = "".into();
    let seller = Seller::always(Reply::v2(&broken)).await.expect("seller");
    let run = agora(&["probe", "--allow-cidr", "127.0.0.0/8", &seller.url("/"), "--json"], &[]).await;
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["listing"], Value::Null);
    let codes: Vec<_> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["amount_not_integer", "pay_to_invalid"], "every problem, not only the first");
    assert_eq!(report["problems"][0]["path"], "accepts[0].amount");

    // Human output names the verdict and the codes.
    let run = agora(&["probe", "--allow-cidr", "127.0.0.0/8", &seller.url("/")], &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("INVALID") && run.stdout.contains("[amount_not_integer] at accepts[0].amount"),
        "{}",
        run.stdout
    );

    let free = Seller::always(Reply::new(200).body("{}")).await.expect("seller");
    let run = agora(&["probe", &free.url("/"), "--json"], &[("AGORA_ALLOW_CIDRS", "10.0.0.0/8,127.0.0.0/8")]).await;
    assert_eq!(run.code, 1, "the env twin of --allow-cidr works: {}", run.stdout);
    assert_eq!(run.json()["verdict"], "not_x402");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_fetch_errors_exit_2_and_still_print_json() {
    let seller = Seller::always(Reply::v2(&v2_challenge("http://127.0.0.1/"))).await.expect("seller");
    let run = agora(&["probe", &seller.url("/"), "--json"], &[]).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["verdict"], "refused");
    assert_eq!(seller.connections(), 0, "the default policy never reaches loopback");

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let run = agora(&["probe", "--allow-cidr", "127.0.0.0/8", &format!("http://{closed}/"), "--json"], &[]).await;
    assert_eq!(run.code, 2);
    let report = run.json();
    assert_eq!(
        (report["verdict"].as_str(), report["problems"][0]["code"].as_str()),
        (Some("fetch_error"), Some("connect_failed"))
    );

    let run = agora(&["probe", "gopher://example.com/", "--json"], &[]).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["problems"][0]["code"], "url_scheme_unsupported");
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_with_a_message() {
    let run = agora(&["probe"], &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("<URL>"), "{}", run.stderr);
    let run = agora(&["probe", "--allow-cidr", "not-a-range", "https://example.com/"], &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a CIDR range"), "{}", run.stderr);
    let run = agora(&["--help"], &[]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("probe") && run.stdout.contains("--data-dir"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn seller_text_cannot_drive_the_terminal() {
    // A description that would clear the screen, ring the bell, hide text behind a NUL, forge a
    // verdict line and reverse what follows; an unknown scheme quoted in a warning.
    let mut challenge = v2_challenge("http://127.0.0.1/");
    challenge["resource"]["description"] = "\u{1b}[2J\u{7}\0fine\nLISTED: trust me\r\u{202e}txt.exe\u{9b}31m".into();
    let mut odd = challenge["accepts"][0].clone();
    odd["scheme"] = "x\u{1b}]0;title\u{7}".into();
    challenge["accepts"].as_array_mut().expect("accepts").push(odd);
    let seller = Seller::always(Reply::v2(&challenge)).await.expect("seller");
    let run = agora(&["probe", "--allow-cidr", "127.0.0.0/8", &seller.url("/x")], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let forbidden: Vec<char> = run
        .stdout
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
        .collect();
    assert!(forbidden.is_empty(), "raw control characters reached the terminal: {forbidden:?}");
    assert!(run.stdout.contains("\\u{1b}[2J\\u{7}\\u{0}fine\\u{a}LISTED: trust me"), "{}", run.stdout);
    assert!(run.stdout.contains("\\u{202e}txt.exe"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().filter(|l| l.starts_with("LISTED")).count(), 1, "one verdict line");
}
