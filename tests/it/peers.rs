//! The official x402 SDK sellers (tests/peers), started as child processes on loopback.
//!
//! `scripts/test` installs them (npm ci, a Python venv) and exports `AGORA_TEST_PEERS` and
//! `AGORA_TEST_PYTHON`; without them these tests fail with the command to run, never skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running SDK seller. Killed when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts `node tests/peers/<script>`.
    pub fn node(script: &str) -> Peer {
        let dir = peers_dir();
        assert!(
            dir.join("node_modules/@x402/express").exists(),
            "npm test peers are not installed: run `scripts/test` (it runs `npm ci` in tests/peers)"
        );
        Peer::spawn(Command::new("node").arg(dir.join(script)).current_dir(&dir))
    }

    /// Starts the PyPI SDK seller with the venv's Python.
    pub fn python(script: &str) -> Peer {
        let dir = peers_dir();
        let python =
            std::env::var("AGORA_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|_| dir.join(".venv/bin/python"));
        assert!(
            python.exists(),
            "the PyPI test peer is not installed: run `scripts/test` (it builds tests/peers/.venv)"
        );
        Peer::spawn(Command::new(python).arg(dir.join(script)).current_dir(&dir))
    }

    fn spawn(command: &mut Command) -> Peer {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start the test peer");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        // The peer prints {"port": N} once it listens; reading that line is the readiness signal.
        BufReader::new(stdout).read_line(&mut line).expect("read the peer's port");
        let value: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("the test peer did not start (printed {line:?}): {e}"));
        let port = value["port"].as_u64().and_then(|p| u16::try_from(p).ok()).expect("port");
        Peer { child, port }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peers_dir() -> PathBuf {
    std::env::var("AGORA_TEST_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers"))
}

/// Which SDK runs a one-shot client script.
#[derive(Debug, Clone, Copy)]
pub enum Sdk {
    Npm,
    PyPi,
}

/// Runs a client script of tests/peers with `args` and parses the JSON it prints.
pub async fn run_client(sdk: Sdk, args: &[&str]) -> serde_json::Value {
    let dir = peers_dir();
    let mut command = match sdk {
        Sdk::Npm => {
            assert!(dir.join("node_modules/@x402/extensions").exists(), "npm test peers missing: run `scripts/test`");
            let mut c = tokio::process::Command::new("node");
            c.arg(dir.join("bazaar-client.mjs"));
            c
        }
        Sdk::PyPi => {
            let python =
                std::env::var("AGORA_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|_| dir.join(".venv/bin/python"));
            assert!(python.exists(), "the PyPI test peer is not installed: run `scripts/test`");
            let mut c = tokio::process::Command::new(python);
            c.arg(dir.join("bazaar_client.py"));
            c
        }
    };
    let output = command.args(args).current_dir(&dir).output().await.expect("run the SDK client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("{sdk:?} client printed {stdout:?} ({e}); stderr: {}", String::from_utf8_lossy(&output.stderr))
    })
}
