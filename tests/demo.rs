//! `ringmaster demo` end to end: a real node dials a sample campaign through the built-in
//! simulated trunk over loopback UDP and reports figures that add up; beside it, softphones
//! register as the service desk's agents (digest over UDP) and take the calls of a campaign
//! with a queue, hearing their own voice come back through the relay.

use std::process::Command;

#[test]
fn the_demo_campaign_runs_to_finished_and_its_figures_add_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_ringmaster"))
        .args([
            "demo",
            "--targets",
            "60",
            "--timeout-secs",
            "90",
            "--database",
        ])
        .arg(&db)
        .output()
        .expect("run ringmaster demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("  dashboard: http://127.0.0.1:")
                && l.contains("/dashboard/#token=")),
        "the demo prints where its dashboard is: {stdout}"
    );
    let json = &stdout[stdout.rfind("\n{").expect("final figures") + 1..];
    let json = &json[..json.rfind('}').expect("end of figures") + 1];
    let stats: serde_json::Value = serde_json::from_str(json).expect("figures are JSON");
    let n = |k: &str| {
        stats[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {stats}"))
    };
    assert_eq!(stats["status"], "finished");
    assert_eq!(n("total"), 60);
    assert_eq!(n("queued") + n("dialing"), 0);
    assert_eq!(n("succeeded") + n("failed"), 60);
    let by_disposition: u64 = stats["dispositions"]
        .as_object()
        .expect("dispositions")
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    assert_eq!(
        by_disposition,
        n("attempts"),
        "every attempt has a disposition"
    );
    assert!(
        n("attempts") >= 60 && n("attempts") <= 180,
        "at most three tries per target"
    );
    assert_eq!(
        stats["dispositions"]["answered"].as_u64(),
        Some(n("succeeded"))
    );
    assert!(db.exists());
    // The simulated callees press 1 or 2 (SIP INFO) during the reminder; the summary counts them.
    let answers = stdout
        .lines()
        .find(|l| l.starts_with("answers: "))
        .expect("answers line");
    let count = |what: &str| -> u64 {
        answers
            .split(", ")
            .find(|p| p.contains(what))
            .and_then(|p| p.split_whitespace().find_map(|w| w.parse().ok()))
            .unwrap_or_else(|| panic!("{what} in {answers}"))
    };
    assert!(count("pressed 1") > 0, "{answers}");
    assert_eq!(
        count("pressed 1") + count("pressed 2") + count("without a key"),
        n("succeeded")
    );
    service_desk(&stdout);
}

/// The first number in `text` after `label` (`"12 connected"` → 12 for label `""`).
fn number_before(text: &str, label: &str) -> u64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {text}"));
    text[..at]
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|w| !w.is_empty())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("a number before {label:?} in {text}"))
}

/// Every agent took calls and heard audio back through the relay; the desk's figures add up.
fn service_desk(stdout: &str) {
    let agents: Vec<&str> = stdout.lines().filter(|l| l.starts_with("agent ")).collect();
    assert_eq!(agents.len(), 3, "three agents by default: {stdout}");
    let mut connected = 0;
    for line in &agents {
        let calls = number_before(line, " calls connected");
        assert!(calls > 0, "every agent takes calls: {line}");
        connected += calls;
        let heard = number_before(line, " of ");
        let sent = number_before(line, " packets back");
        assert!(
            heard > 0 && heard <= sent,
            "audio came back through the relay: {line}"
        );
    }
    let waits = stdout
        .lines()
        .find(|l| l.starts_with("waits: "))
        .expect("waits line");
    assert_eq!(
        number_before(waits, " connected to an agent"),
        connected,
        "{waits}"
    );
    assert_eq!(
        number_before(waits, " answered callees"),
        connected + number_before(waits, " abandoned"),
        "{waits}"
    );
    assert!(waits.contains("abandon rate "), "{waits}");
    assert!(waits.contains("wait for an agent avg "), "{waits}");
    let desk = stdout
        .lines()
        .find(|l| l.starts_with("service desk campaign: "))
        .expect("service desk campaign line");
    assert!(desk.contains("24 of 24 targets done"), "{desk}");
}
