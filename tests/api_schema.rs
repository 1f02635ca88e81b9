//! The API against its own OpenAPI document: schemathesis (installed by
//! `sip-test/schemathesis`) generates requests from the document a real `ringmaster serve`
//! serves, over loopback with a token, and checks that no answer is a server error and that
//! every answer matches the schema the document gives it. One resource of each kind exists
//! first, and the operations on an id are pointed at it, so that requests reach past the 404.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{sipp_trunk, Server, TOKEN};
use serde_json::{json, Value};
use std::process::Command;

/// The id of a created resource.
fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The `st` command, installed when missing.
fn schemathesis() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/sip-test/schemathesis");
    let out = Command::new(script)
        .output()
        .expect("sip-test/schemathesis runs");
    assert!(
        out.status.success(),
        "installing schemathesis failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn answers_keep_to_the_openapi_document_and_none_is_a_server_error() {
    let st = schemathesis();
    let dir = tempfile::tempdir().expect("tempdir");
    let (_trunk, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 10);

    let (campaign, outdial, targets) = helpers::campaign(
        &s,
        json!({"name": "schema plan"}),
        &[&["+15550100001"], &["+15550100002"]],
        json!({}),
    );
    let flow = id(&s.ok(
        "POST",
        "/v1.0/flows",
        Some(json!({"name": "schema flow", "actions": [{"type": "hangup"}]})),
    ));
    let agent = id(&s.ok(
        "POST",
        "/v1.0/agents",
        Some(json!({"username": "schema-agent", "password": "a-secret-1"})),
    ));
    let queue = id(&s.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "schema queue"})),
    ));
    let dnclist = id(&s.ok(
        "POST",
        "/v1.0/dnclists",
        Some(json!({"name": "schema dnc"})),
    ));
    s.ok(
        "POST",
        &format!("/v1.0/dnclists/{dnclist}/numbers"),
        Some(json!([{"number": "+15550100009"}])),
    );
    let webhook = id(&s.ok(
        "POST",
        "/v1.0/webhooks",
        Some(json!({"name": "schema hook", "uri": "http://127.0.0.1:9/hook"})),
    ));

    // The operations on an id take the seeded resource's.
    let bind = |regex: &str, params: &[(&str, &str)]| {
        let params: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("\"path.{k}\" = \"{v}\""))
            .collect();
        format!(
            "[[operations]]\ninclude-path-regex = '{regex}'\nparameters = {{ {} }}\n",
            params.join(", ")
        )
    };
    let config = [
        bind("^/v1.0/outplans/", &[("id", &outplan_of(&s, &campaign))]),
        bind(
            "^/v1.0/outdials/",
            &[("id", &outdial), ("target_id", &targets[0])],
        ),
        bind("^/v1.0/campaigns/", &[("id", &campaign)]),
        bind("^/v1.0/flows/", &[("id", &flow)]),
        bind("^/v1.0/agents/", &[("id", &agent)]),
        bind("^/v1.0/queues/", &[("id", &queue)]),
        bind(
            "^/v1.0/dnclists/",
            &[("id", &dnclist), ("number", "+15550100009")],
        ),
        bind("^/v1.0/webhooks/", &[("id", &webhook)]),
    ]
    .concat();
    let config_file = dir.path().join("schemathesis.toml");
    std::fs::write(&config_file, config).expect("write schemathesis.toml");

    let base = format!("http://{}", s.api);
    let run = || {
        Command::new("timeout")
            .args(["-k", "5", "110", &st, "--config-file"])
            .arg(&config_file)
            .arg("run")
            .arg(format!("{base}/v1.0/openapi.json"))
            .args(["--url", &base])
            .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
            .args(["--checks", "not_a_server_error,response_schema_conformance"])
            // The coverage phase needs the Hypothesis that sip-test/schemathesis pins (newer
            // ones fail on their own, under CPython 3.11, while drawing free-form values).
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "10", "--max-time", "70", "--workers", "2"])
            .args(["--request-timeout", "10", "--no-shrink", "--no-color"])
            // An endless stream: tests/events.rs reads it.
            .args(["--exclude-path", "/v1.0/events"])
            .current_dir(dir.path())
            .output()
            .expect("schemathesis runs")
    };
    // A run is tried again only when all that went wrong is the tool's own test-case
    // generator failing (a Hypothesis error raised while drawing a value, no request made);
    // any failed check, network error or other error fails the test at once.
    let mut tries = 0;
    let (out, report) = loop {
        tries += 1;
        let out = run();
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() || tries == 3 || !generator_error_only(&report) {
            break (out, report);
        }
        eprintln!(
            "schemathesis's generator failed on its own (run {tries}); running it again:\n{report}"
        );
    };
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}

/// Whether a failed run's report shows nothing but errors of the tool's own generator: no
/// failed check, and every error a Runtime Error raised by Hypothesis while drawing.
fn generator_error_only(report: &str) -> bool {
    let errors = report.matches("Runtime Error").count();
    !report.contains("FAILURES")
        && !report.contains("Network Error")
        && errors > 0
        && report.matches("hypothesis.errors").count() >= errors
}

/// The outplan a campaign dials with.
fn outplan_of(s: &Server, campaign: &str) -> String {
    s.ok("GET", &format!("/v1.0/campaigns/{campaign}"), None)["outplan_id"]
        .as_str()
        .expect("outplan_id")
        .to_string()
}
