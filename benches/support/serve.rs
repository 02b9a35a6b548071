//! The real `agora serve` binary as a child process, for the benchmarks: start it on port 0
//! with flags, read metrics from it, stop it gracefully. Included by path.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `agora serve` on port 0, no rate limits, plus `extra` flags; returns the child and its
/// address once it listens.
pub fn start_agora(dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-rate-limits"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start agora serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
    let address = line.trim().rsplit("http://").next().expect("a listening line").to_string();
    (child, address)
}

/// Stops a server gracefully (SIGTERM) so its final commit lands before the next one opens the
/// same data directory.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}

/// The sum of the `/metrics` samples whose line starts with `prefix`, read over a plain
/// HTTP/1.1 request (no client tool needed).
pub fn metric(address: &str, prefix: &str) -> f64 {
    let mut text = String::new();
    let mut stream = std::net::TcpStream::connect(address).expect("connect for /metrics");
    write!(stream, "GET /metrics HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n").expect("send");
    std::io::Read::read_to_string(&mut stream, &mut text).expect("read /metrics");
    text.lines().filter(|l| l.starts_with(prefix)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
}
