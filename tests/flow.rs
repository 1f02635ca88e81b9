//! Flows on answered calls end to end: `ringmaster serve` runs an appointment reminder whose
//! callee (SIPp) presses 1, as RFC 4733 events (SIPp's bundled pcap) or in a SIP INFO; the
//! digit drives a `branch`, and the campaigncall records it.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;

use helpers::{campaign, sipp_scenario, Server};
use serde_json::{json, Value};
use std::time::Duration;

const CONFIRM: &str = "11111111-1111-4111-8111-111111111111";
const CANCEL: &str = "22222222-2222-4222-8222-222222222222";
const BYE: &str = "33333333-3333-4333-8333-333333333333";

fn reminder() -> Value {
    json!({"actions": [
        {"type": "talk", "option": {"text": "Hello {{name}}. Press 1 to confirm your appointment, 2 to cancel it.", "language": "en-US", "digits_handle": "next"}},
        {"type": "digits_receive", "option": {"duration": 8000, "length": 1}},
        {"type": "branch", "option": {"target_ids": {"1": CONFIRM, "2": CANCEL}, "default_target_id": CANCEL}},
        {"id": CONFIRM, "next_id": BYE, "type": "variable_set", "option": {"key": "answer", "value": "confirmed"}},
        {"id": CANCEL, "type": "variable_set", "option": {"key": "answer", "value": "cancelled"}},
        {"id": BYE, "type": "hangup"}
    ]})
}

fn press_one(via: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(
        dir.path(),
        "uas_dtmf.xml",
        &["-set", "via", via, "-set", "wait_ms", "1000"],
    );
    let s = Server::start(dir.path(), trunk, 10);
    let plan = json!({"name": "once", "dial_timeout": 5000, "max_try_count_0": 1});
    let (id, _, _) = campaign(&s, plan, &[&["+15550110001"]], reminder());
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&id, "finished", Duration::from_secs(40));
    assert_eq!(stats["succeeded"], 1, "{stats}");
    let calls = s.campaigncalls(&id);
    let result = &calls[0]["flow_result"];
    assert_eq!(calls[0]["disposition"], "answered");
    assert_eq!(result["digits"], "1", "{result}");
    assert_eq!(result["variables"]["answer"], "confirmed", "{result}");
    let kinds: Vec<&str> = result["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["talk", "digits_receive", "branch", "variable_set", "hangup"],
        "{result}"
    );
    let pressed = s.ok(
        "GET",
        &format!("/v1.0/campaigns/{id}/campaigncalls?digits=1"),
        None,
    );
    assert_eq!(pressed["result"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_digit_sent_as_rfc_4733_events_drives_the_branch() {
    press_one("rtp");
}

#[test]
fn a_digit_sent_in_a_sip_info_drives_the_branch() {
    press_one("info");
}
