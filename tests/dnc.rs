//! Do-not-call lists end to end: `ringmaster serve` with SIPp as the trunk
//! (`uas_by_number.xml`, every INVITE logged with `-trace_msg`). A number on a list that
//! applies is never sent an INVITE and its target ends `dnc`, also when it was added while
//! the campaign ran; a flow's `opt_out` puts the callee's number on the default list.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // the helpers serve several test binaries
mod helpers;

use helpers::{campaign, sipp_received, sipp_scenario, Server};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn outplan() -> Value {
    json!({"name": "one try", "dial_timeout": 2000, "try_interval": 200,
           "max_try_count_0": 1,
           "source": {"type": "tel", "target": "+15551230000"}})
}

/// The numbers SIPp was sent an INVITE for, from its Request-URIs.
fn invited(dir: &std::path::Path) -> Vec<String> {
    sipp_received(dir)
        .iter()
        .filter_map(|m| m.strip_prefix("INVITE sip:"))
        .filter_map(|rest| rest.split('@').next())
        .map(str::to_string)
        .collect()
}

fn default_list(s: &Server) -> String {
    let lists = s.ok("GET", "/v1.0/dnclists", None);
    lists["result"]
        .as_array()
        .and_then(|r| r.iter().find(|l| l["name"] == "default"))
        .and_then(|l| l["id"].as_str())
        .expect("the default list")
        .to_string()
}

fn add(s: &Server, list: &str, numbers: &[&str]) {
    let rows: Vec<Value> = numbers.iter().map(|n| json!({"number": n})).collect();
    let report = s.ok(
        "POST",
        &format!("/v1.0/dnclists/{list}/numbers"),
        Some(Value::Array(rows)),
    );
    assert_eq!(report["created"], numbers.len(), "{report}");
}

#[test]
fn listed_numbers_are_never_invited_and_end_dnc_even_when_added_mid_campaign() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    // One call a second: the last target is dialed seconds after the campaign starts.
    let s = Server::start(dir.path(), trunk, 1);
    let numbers = [
        "+15550110001",
        "+15550110002", // on the default list before the start
        "+15550110003",
        "+15550110004", // on the campaign's own list before the start
        "+15550110005",
        "+15550110006", // added to the default list while the campaign runs
    ];
    let default = default_list(&s);
    let own = s.ok(
        "POST",
        "/v1.0/dnclists",
        Some(json!({"name": "complaints"})),
    );
    let own = own["id"].as_str().expect("list id").to_string();
    add(&s, &default, &[numbers[1]]);
    add(&s, &own, &[numbers[3]]);
    let targets: Vec<&[&str]> = numbers.iter().map(std::slice::from_ref).collect();
    let (id, _, t) = campaign(&s, outplan(), &targets, json!({"dnclist_ids": [own]}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    // Once the first call is placed, the last number goes on the list.
    let deadline = Instant::now() + Duration::from_secs(20);
    while invited(dir.path()).is_empty() {
        assert!(Instant::now() < deadline, "no call was placed");
        std::thread::sleep(Duration::from_millis(50));
    }
    add(&s, &default, &[numbers[5]]);
    let added_after = invited(dir.path()).len();
    assert!(
        added_after < 3,
        "the add came too late to test: {added_after} calls"
    );

    let stats = s.wait_status(&id, "finished", Duration::from_secs(60));
    let invited = invited(dir.path());
    for barred in [numbers[1], numbers[3], numbers[5]] {
        assert!(
            !invited.iter().any(|n| n == barred),
            "{barred} was sent an INVITE: {invited:?}"
        );
    }
    for dialed in [numbers[0], numbers[2], numbers[4]] {
        assert_eq!(
            invited.iter().filter(|n| *n == dialed).count(),
            1,
            "{dialed}"
        );
    }
    let calls = s.campaigncalls(&id);
    let by_target: HashMap<&str, Vec<&str>> = calls.iter().fold(HashMap::new(), |mut map, c| {
        map.entry(c["outdial_target_id"].as_str().unwrap_or(""))
            .or_default()
            .push(c["disposition"].as_str().unwrap_or("?"));
        map
    });
    for (i, target) in t.iter().enumerate() {
        let want = if [1, 3, 5].contains(&i) {
            "dnc"
        } else {
            "answered"
        };
        assert_eq!(by_target[target.as_str()], [want], "{}", numbers[i]);
    }
    for i in [1, 3, 5] {
        let target = s.ok(
            "GET",
            &format!(
                "/v1.0/outdials/{}/targets/{}",
                calls[0]["outdial_id"].as_str().unwrap_or(""),
                t[i]
            ),
            None,
        );
        assert_eq!(target["result"], "fail");
        assert_eq!(target["try_count_0"], 0, "no try used");
    }
    assert_eq!(stats["dispositions"]["dnc"], 3, "{stats}");
    assert_eq!(stats["attempts"], 3, "{stats}");
}

#[test]
fn a_flow_opt_out_puts_the_callee_on_the_default_list_and_the_next_campaign_skips_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let s = Server::start(dir.path(), trunk, 50);
    let number = "+15550110007";
    let actions = json!([{"type": "opt_out"}, {"type": "hangup"}]);
    let (first, _, _) = campaign(&s, outplan(), &[&[number]], json!({"actions": actions}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{first}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&first, "finished", Duration::from_secs(30));
    assert_eq!(stats["dispositions"]["opted_out"], 1, "{stats}");
    assert_eq!(stats["succeeded"], 1, "an opted-out callee was reached");
    let default = default_list(&s);
    let found = s.ok(
        "GET",
        &format!("/v1.0/dnclists/{default}/numbers?number=%2B15550110007"),
        None,
    );
    assert_eq!(found["result"][0]["source"], "opt_out", "{found}");

    let (second, _, _) = campaign(&s, outplan(), &[&[number]], json!({}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{second}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&second, "finished", Duration::from_secs(30));
    assert_eq!(stats["dispositions"]["dnc"], 1, "{stats}");
    let invites = invited(dir.path());
    assert_eq!(invites, [number], "one INVITE, from the first campaign");
}
