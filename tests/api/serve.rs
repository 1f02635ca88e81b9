//! `ringmaster serve` as started by an operator: it refuses a guessable token on an API
//! reachable beyond loopback, and writes its logs without colour codes to a pipe, as text or
//! as JSON lines.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_ringmaster");

/// A configuration listening on `api_listen`, everything else on loopback, with `token`.
fn config(dir: &Path, api_listen: &str, token: &str) -> std::path::PathBuf {
    let path = dir.join("ringmaster.toml");
    let text = format!(
        r#"[sip]
listen = "127.0.0.1:0"

[api]
listen = "{api_listen}"

[database]
url = "sqlite://{db}"

[media]
rtp_ports = "41000-41100"

[[auth.tokens]]
token = "{token}"
customer_id = "7a1b2c3d-4e5f-6789-abcd-ef0123456789"
"#,
        db = dir.join("ringmaster.db").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn serve_refuses_the_sample_token_beyond_loopback() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (listen, token, why) in [
        ("0.0.0.0:0", "change-me", "the sample token"),
        ("192.0.2.1:8080", "short-token", "too short"),
    ] {
        let out = Command::new(BINARY)
            .args(["--config"])
            .arg(config(dir.path(), listen, token))
            .arg("serve")
            .env_remove("RINGMASTER_API_LISTEN")
            .output()
            .expect("run ringmaster");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("token \"{token}\"")) && stderr.contains(why),
            "{stderr}"
        );
        assert!(stderr.contains("at least 16 characters"), "{stderr}");
    }
}

/// Starts `serve` on loopback with `change-me` and `RINGMASTER_LOG=info`, waits for it to
/// serve, stops it, and returns what it wrote to stderr.
fn serve_on_loopback(format: Option<&str>) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(BINARY);
    command
        .arg("--config")
        .arg(config(dir.path(), "127.0.0.1:0", "change-me"))
        .arg("serve")
        .env("RINGMASTER_LOG", "info")
        .env_remove("RINGMASTER_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(f) = format {
        command.env("RINGMASTER_LOG_FORMAT", f);
    }
    let mut child = command.spawn().expect("spawn ringmaster");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let serving = line.contains("serving");
                lines.push(line);
                if serving {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines.join("\n")
}

#[test]
fn serve_on_loopback_runs_with_the_sample_token_and_logs_plain_text() {
    let stderr = serve_on_loopback(None);
    assert!(stderr.contains("API on http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("serving"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes on a pipe: {stderr:?}"
    );
}

#[test]
fn the_json_log_format_writes_one_object_per_line() {
    let stderr = serve_on_loopback(Some("json"));
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    assert!(
        events.iter().any(|e| e["fields"]["message"] == "serving"),
        "{stderr}"
    );
}
