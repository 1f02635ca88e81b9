//! The web dashboard in a real headless browser (Debian's Chromium, driven by Playwright from
//! `tests/dashboard/walkthrough.py`) against `ringmaster serve` and a SIPp trunk: sign in,
//! start and stop a campaign from the list, import a CSV file into a new list and see its rejected row, create and start a campaign,
//! watch it reach 100 % without a reload, filter its calls, download them as CSV. Screenshots
//! of the main pages are kept under `target/dashboard-screenshots/`.
//!
//! Chromium and Playwright are installed by `sip-test/test-all`; when they are missing this
//! test fails, saying so.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // the campaign tests use the rest
mod helpers;

use helpers::{sipp_trunk, Server, TOKEN};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

/// The Python of the virtual environment with Playwright that `sip-test/test-all` makes:
/// `RINGMASTER_PLAYWRIGHT_VENV`, else `~/.cache/ringmaster-playwright`.
fn playwright_python() -> PathBuf {
    let venv = std::env::var_os("RINGMASTER_PLAYWRIGHT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/ringmaster-playwright")
        });
    venv.join("bin/python")
}

#[test]
fn an_operator_imports_targets_runs_a_campaign_and_exports_its_calls_in_the_dashboard() {
    let python = playwright_python();
    assert!(
        python.exists(),
        "{} is missing: run sip-test/test-all, which makes the Playwright environment",
        python.display()
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: run sip-test/test-all, which installs Debian's chromium"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let server = Server::start(dir.path(), trunk, 20);
    // Something on the agents' and queues' board.
    server.ok(
        "POST",
        "/v1.0/agents",
        Some(json!({"username": "dashboard-agent", "password": "secret", "name": "Dee"})),
    );
    server.ok("POST", "/v1.0/queues", Some(json!({"name": "support"})));
    // The flow the new campaign plays to each answered callee.
    server.ok(
        "POST",
        "/v1.0/flows",
        Some(json!({"name": "short call", "actions": [
            {"type": "sleep", "option": {"duration": 300}}, {"type": "hangup"}]})),
    );
    // A campaign whose one callee rings until the call is cancelled, to start and stop.
    let plan = server.ok(
        "POST",
        "/v1.0/outplans",
        Some(json!({"name": "short ring", "dial_timeout": 4000})),
    );
    let list = server.ok("POST", "/v1.0/outdials", Some(json!({"name": "ringing"})));
    let list = list["id"].as_str().expect("outdial id");
    server.ok(
        "POST",
        &format!("/v1.0/outdials/{list}/targets"),
        Some(json!({"destination_0": {"type": "tel", "target": "+15550130001"}})),
    );
    let ringing = server.ok(
        "POST",
        "/v1.0/campaigns",
        Some(
            json!({"name": "ringing campaign", "outplan_id": plan["id"], "outdial_id": list,
                    "actions": [{"type": "hangup"}]}),
        ),
    );

    // Four callees who answer, one busy (see uas_by_number.xml), one number that cannot be.
    let csv = dir.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "phone_number,name,company\n\
         +15550110001,Ann,Acme\n+15550110002,Ben,Acme\n+15550110003,Cat,Beta\n\
         +15550110004,Dan,Beta\n+15550120001,Eve,Gamma\n12345,Fay,Gamma\n",
    )
    .expect("write the CSV file");

    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    let download = dir.path().join("download.csv");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/dashboard/walkthrough.py"
    );
    let out = Command::new("timeout")
        .arg("300")
        .arg(&python)
        .arg(script)
        .arg(format!("http://{}", server.api))
        .arg(TOKEN)
        .arg(&csv)
        .arg(&shots)
        .arg(&download)
        .arg(ringing["id"].as_str().expect("campaign id"))
        .output()
        .expect("run the browser walkthrough");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the dashboard walkthrough failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("dashboard walkthrough passed"), "{stdout}");
    for page in [
        "signin",
        "import",
        "campaign",
        "calls",
        "campaigns",
        "agents",
    ] {
        let shot = shots.join(format!("{page}.png"));
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "no screenshot {}", shot.display());
    }
}
