//! The `ringmaster` client commands run as an operator runs them: the built binary against a
//! served node dialing a SIPp trunk, with `--json` output parsed.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{sipp_trunk, Server, TOKEN};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};

/// Runs `ringmaster <args> --url <api>` with the token in the environment.
fn ringmaster(s: &Server, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg(env!("CARGO_BIN_EXE_ringmaster"))
        .args(args)
        .arg("--url")
        .arg(format!("http://{}", s.api))
        .env("RINGMASTER_TOKEN", TOKEN)
        .output()
        .expect("ringmaster runs")
}

/// The JSON a successful `--json` command printed.
fn json_of(output: Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {:?}",
            String::from_utf8_lossy(&output.stdout).to_string()
        )
    })
}

/// `campaign watch --json` of `campaign`, reading the stats at most every 200 ms, for at most
/// a minute: the last stats.
fn watch(s: &Server, campaign: &str) -> Value {
    json_of(ringmaster(
        s,
        &[
            "campaign",
            "watch",
            campaign,
            "--interval-ms",
            "200",
            "--timeout-secs",
            "60",
            "--json",
        ],
    ))
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// A raw `GET` of the API: the head and the body.
fn get_raw(s: &Server, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(s.api).expect("connect");
    write!(
        stream,
        "GET {path}?token={TOKEN} HTTP/1.0\r\nHost: {}\r\n\r\n",
        s.api
    )
    .expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

/// The content of a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[test]
fn create_import_start_watch_and_export_a_campaign_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 20);
    let outplan = s.ok(
        "POST",
        "/v1.0/outplans",
        Some(json!({"name": "plan", "max_try_count_0": 1, "dial_timeout": 5000})),
    );

    let outdial = json_of(ringmaster(
        &s,
        &["outdial", "create", "--name", "cli list", "--json"],
    ));
    // Answered (1), busy (2) and unknown (4) callees, and one row that is no number.
    let csv = dir.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "phone_number,name,tier\n+15550110001,Ann,gold\n+15550110002,Bob,\n+15550120001,Cy,\n\
         +15550140001,Di,\n12345,Bad,\n+15550110003,Ed,silver\n",
    )
    .expect("csv written");
    let csv_path = csv.display().to_string();
    let report = json_of(ringmaster(
        &s,
        &["outdial", "import", &id(&outdial), &csv_path, "--json"],
    ));
    assert_eq!(report["created"], 5, "{report}");
    assert_eq!(report["skipped_invalid_total"], 1);
    assert_eq!(report["skipped_invalid"][0]["row"], 6);

    let actions = dir.path().join("campaign.json");
    std::fs::write(
        &actions,
        json!({"type": "call", "actions": [
            {"type": "variable_set", "option": {"key": "tier_seen", "value": "{{voipbin.target.data.tier}}"}},
            {"type": "sleep", "option": {"duration": 200}},
            {"type": "hangup"}]})
        .to_string(),
    )
    .expect("campaign file written");
    let outplan_id = id(&outplan);
    let outdial_id = id(&outdial);
    let campaign = json_of(ringmaster(
        &s,
        &[
            "campaign",
            "create",
            "--file",
            &actions.display().to_string(),
            "--name",
            "cli campaign",
            "--outplan-id",
            &outplan_id,
            "--outdial-id",
            &outdial_id,
            "--trunk",
            "sipp",
            "--end-handle",
            "stop",
            "--json",
        ],
    ));
    let campaign_id = id(&campaign);
    assert_eq!(campaign["name"], "cli campaign");

    let listed = ringmaster(&s, &["campaign", "list"]);
    assert!(listed.status.success());
    let table = String::from_utf8_lossy(&listed.stdout);
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains(&campaign_id) && table.contains("cli campaign"),
        "{table}"
    );

    let started = json_of(ringmaster(
        &s,
        &["campaign", "start", &campaign_id, "--json"],
    ));
    assert_eq!(started["status"], "run");
    let stats = watch(&s, &campaign_id);
    assert_eq!(stats["progress"], 100, "{stats}");
    assert_eq!(stats["attempts"], 5, "{stats}");
    assert_eq!(stats["dialing"], 0, "{stats}");

    let calls = json_of(ringmaster(
        &s,
        &["campaigncall", "list", "--campaign", &campaign_id, "--json"],
    ));
    let calls = calls.as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 5);
    assert_eq!(calls, s.campaigncalls(&campaign_id));

    // The export holds every campaigncall with the API's values, flow results in columns.
    let exported = dir.path().join("calls.csv");
    let out = ringmaster(
        &s,
        &[
            "campaign",
            "export",
            &campaign_id,
            "-o",
            &exported.display().to_string(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let mut reader = csv::Reader::from_path(&exported).expect("the export reads as CSV");
    let header = reader.headers().expect("a header").clone();
    let rows: Vec<HashMap<String, String>> = reader
        .records()
        .map(|r| {
            let r = r.expect("a record");
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), calls.len());
    for (row, call) in rows.iter().zip(&calls) {
        assert_eq!(row["id"], call["id"].as_str().unwrap_or_default());
        assert_eq!(
            row["destination.target"],
            call["destination"]["target"].as_str().unwrap_or_default()
        );
        assert_eq!(
            row["disposition"],
            call["disposition"].as_str().unwrap_or_default()
        );
        assert_eq!(row["sip_code"], call["sip_code"].to_string());
        assert_eq!(row["talk_ms"], call["talk_ms"].to_string());
        let answered = call["disposition"] == "answered";
        let expected_tier = match call["destination"]["target"].as_str() {
            Some("+15550110001") => "gold",
            Some("+15550110003") => "silver",
            _ => "",
        };
        if answered {
            assert_eq!(row["result.sleep.result"], "ok", "{row:?}");
            assert_eq!(row["var.tier_seen"], expected_tier, "{row:?}");
            assert!(
                row["flow.actions"].starts_with("variable_set:ok sleep:ok"),
                "{row:?}"
            );
        } else {
            assert_eq!(row["result.sleep.result"], "", "{row:?}");
        }
    }
    let dispositions: Vec<&str> = rows.iter().map(|r| r["disposition"].as_str()).collect();
    assert_eq!(dispositions.iter().filter(|d| **d == "answered").count(), 3);

    let (head, body) = get_raw(
        &s,
        &format!("/v1.0/campaigns/{campaign_id}/campaigncalls.csv"),
    );
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/csv"), "{head}");
    assert!(
        head.contains("content-disposition: attachment; filename="),
        "{head}"
    );
    let text = std::fs::read_to_string(&exported).expect("export read");
    assert_eq!(dechunk(&body), text);
}

/// How many `GET /campaigns/{id}/stats` the node has answered, from its `/metrics`.
fn stats_reads(s: &Server) -> u64 {
    let (_, body) = get_raw(s, "/metrics");
    let series = "ringmaster_http_request_duration_seconds_count{route=\"/v1.0/campaigns/{id}/stats\",method=\"GET\",status=\"200\"}";
    body.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// `campaign watch` re-reads the stats when the event stream says the campaign changed, not
/// every interval: over calls that talk for three seconds, a watch reading at most every
/// 200 ms reads a handful of times (polling would have read fifteen or more) and still
/// follows the campaign to its end.
#[test]
fn watch_follows_a_running_campaign_to_its_end_from_the_event_stream_with_few_stats_reads() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 20);
    let (campaign_id, _, _) = helpers::campaign(
        &s,
        json!({"name": "watched", "max_try_count_0": 1, "dial_timeout": 5000}),
        &[&["+15550110001"], &["+15550110002"], &["+15550110003"]],
        json!({"actions": [{"type": "sleep", "option": {"duration": 3000}}, {"type": "hangup"}]}),
    );
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{campaign_id}/status"),
        Some(json!({"status": "run"})),
    );
    let before = stats_reads(&s);
    let started = std::time::Instant::now();
    let stats = watch(&s, &campaign_id);
    let took = started.elapsed();
    let reads = stats_reads(&s) - before;
    assert_eq!(stats["progress"], 100, "{stats}");
    assert_eq!(stats["attempts"], 3, "{stats}");
    assert_eq!(stats["dialing"], 0, "{stats}");
    assert!(took.as_millis() >= 3000, "the calls talk for 3 s: {took:?}");
    assert!(
        (1..=8).contains(&reads),
        "{reads} stats reads in {took:?}; polling every 200 ms would make {}",
        took.as_millis() / 200
    );
}

#[test]
fn failures_show_the_api_message_and_exit_non_zero() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 20);

    let missing = ringmaster(
        &s,
        &["campaign", "get", "0190f6c2-0000-7000-8000-000000000000"],
    );
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("campaign not found (HTTP 404)"), "{stderr}");

    let bad = ringmaster(&s, &["campaign", "create", "--name", "no lists", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("(HTTP 400)"),
        "{bad:?}"
    );

    let no_token = Command::new(env!("CARGO_BIN_EXE_ringmaster"))
        .args(["agent", "list", "--url"])
        .arg(format!("http://{}", s.api))
        .env_remove("RINGMASTER_TOKEN")
        .output()
        .expect("ringmaster runs");
    assert_eq!(no_token.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&no_token.stderr).contains("no API token"),
        "{no_token:?}"
    );

    let wrong = Command::new(env!("CARGO_BIN_EXE_ringmaster"))
        .args(["queue", "list", "--token", "not-a-token", "--url"])
        .arg(format!("http://{}", s.api))
        .output()
        .expect("ringmaster runs");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("(HTTP 401)"),
        "{wrong:?}"
    );

    let agents = json_of(ringmaster(&s, &["agent", "list", "--json"]));
    assert_eq!(agents, json!([]));
}
