//! Load from `wrk` (Debian package) for the benchmarks: run it with a Lua script and read its
//! summary (requests/s, p50, p99, errors). Included by path from each benchmark that uses it.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// What one wrk run measured.
pub struct Figures {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub errors: u64,
}

/// Runs wrk against `url` with `script` (Lua) and reads its summary.
pub fn wrk(url: &str, script: &Path, seconds: u64, connections: u32) -> Figures {
    let output = Command::new("wrk")
        // wrk wants at least as many connections as threads.
        .args([
            &format!("-t{}", connections.min(2)),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk is not installed: apt-get install wrk (.ci/run installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    let field = |prefix: &str| -> Option<String> {
        text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|rest| rest.trim().to_string()))
    };
    let millis = |value: String| -> f64 {
        let number = |suffix: &str| value.strip_suffix(suffix).and_then(|v| v.parse::<f64>().ok());
        number("us")
            .map(|v| v / 1000.0)
            .or_else(|| number("ms"))
            .or_else(|| number("s").map(|v| v * 1000.0))
            .unwrap_or(f64::NAN)
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let socket_errors: u64 = field("Socket errors:")
        .map_or(0, |s| s.split(',').filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok()).sum());
    let non_2xx: u64 = field("Non-2xx or 3xx responses:").and_then(|s| s.parse().ok()).unwrap_or(0);
    Figures {
        requests_per_second: field("Requests/sec:").and_then(|s| s.parse().ok()).unwrap_or(0.0),
        p50_ms: field("50%").map_or(f64::NAN, millis),
        p99_ms: field("99%").map_or(f64::NAN, millis),
        requests,
        errors: socket_errors + non_2xx,
    }
}

/// A wrk script cycling through `paths`, each connection starting at a different one.
pub fn rotating_script(dir: &Path, name: &str, paths: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    let list: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    let lua = format!(
        "local paths = {{{}}}\nlocal i = 0\nsetup = function(thread) thread:set(\"offset\", math.random(#paths)) end\n\
         init = function() i = tonumber(wrk.thread:get(\"offset\") or 0) or 0 end\n\
         request = function() i = i % #paths + 1; return wrk.format(\"GET\", paths[i]) end\n",
        list.join(", ")
    );
    std::fs::File::create(&path).and_then(|mut f| f.write_all(lua.as_bytes())).expect("write script");
    path
}

/// A wrk script POSTing to `path` with `headers`, cycling through `bodies`, each connection
/// starting at a different one.
#[allow(dead_code, reason = "included by every benchmark that loads with wrk; only some POST")]
pub fn rotating_post_script(
    dir: &Path,
    name: &str,
    path: &str,
    headers: &[(&str, &str)],
    bodies: &[String],
) -> std::path::PathBuf {
    let file = dir.join(name);
    let list: Vec<String> = bodies.iter().map(|b| format!("{b:?}")).collect();
    let headers: Vec<String> = headers.iter().map(|(k, v)| format!("[{k:?}] = {v:?}")).collect();
    let lua = format!(
        "local bodies = {{{}}}\nlocal headers = {{{}}}\nlocal i = 0\n\
         setup = function(thread) thread:set(\"offset\", math.random(#bodies)) end\n\
         init = function() i = tonumber(wrk.thread:get(\"offset\") or 0) or 0 end\n\
         request = function() i = i % #bodies + 1; return wrk.format(\"POST\", {path:?}, headers, bodies[i]) end\n",
        list.join(", "),
        headers.join(", ")
    );
    std::fs::File::create(&file).and_then(|mut f| f.write_all(lua.as_bytes())).expect("write script");
    file
}
