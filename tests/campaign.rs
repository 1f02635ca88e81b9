//! Campaigns end to end: `ringmaster serve` driven through its REST API dials SIPp callees
//! (answer, busy, no answer, unknown number) and records every attempt.

#[path = "campaign/helpers.rs"]
mod helpers;

use helpers::{campaign, header, sipp_received, sipp_scenario, sipp_trunk, Server};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const ANSWER: &str = "+15550110001";
const BUSY: &str = "+15550120001";
const UNKNOWN: &str = "+15550140001";

fn outplan(max0: u32, max1: u32) -> Value {
    json!({"name": "fast retries", "dial_timeout": 1000, "try_interval": 200,
           "max_try_count_0": max0, "max_try_count_1": max1,
           "source": {"type": "tel", "target": "+15551230000"}})
}

fn by_target(calls: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut map: HashMap<String, Vec<&Value>> = HashMap::new();
    for c in calls {
        map.entry(c["outdial_target_id"].as_str().unwrap_or("").to_string())
            .or_default()
            .push(c);
    }
    for v in map.values_mut() {
        v.sort_by_key(|c| c["tm_create"].as_str().unwrap_or("").to_string());
    }
    map
}

fn dispositions(calls: &[&Value]) -> Vec<String> {
    calls
        .iter()
        .map(|c| c["disposition"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// A document's time field (`tm_create`, `tm_update`, ...) as a time.
fn time_of(doc: &Value, field: &str) -> chrono::NaiveDateTime {
    let at = doc[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {doc}"));
    chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S%.f").expect("a time")
}

#[test]
fn retries_failover_and_final_dispositions_give_each_target_the_right_attempts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 50);
    let targets: &[&[&str]] = &[
        &[ANSWER],
        &[BUSY, "+15550110002"],
        &["+15550130002"],
        &[UNKNOWN],
    ];
    let (id, _, t) = campaign(&s, outplan(2, 1), targets, json!({}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&id, "finished", Duration::from_secs(60));
    let calls = s.campaigncalls(&id);
    let by = by_target(&calls);
    assert_eq!(dispositions(&by[&t[0]]), ["answered"]);
    assert_eq!(
        dispositions(&by[&t[1]]),
        ["busy", "busy", "answered"],
        "slot 0 twice, then slot 1"
    );
    let slots: Vec<u64> = by[&t[1]]
        .iter()
        .map(|c| c["destination_index"].as_u64().unwrap_or(9))
        .collect();
    assert_eq!(slots, [0, 0, 1]);
    assert_eq!(
        dispositions(&by[&t[2]]),
        ["no_answer", "no_answer"],
        "CANCEL at dial_timeout, twice"
    );
    assert_eq!(by[&t[2]][0]["sip_code"], 487);
    assert_eq!(dispositions(&by[&t[3]]), ["invalid_number"], "404 is final");
    for c in &calls {
        assert_eq!(c["status"], "done");
        let want = if c["disposition"] == "answered" {
            "success"
        } else {
            "fail"
        };
        assert_eq!(c["result"], want);
    }
    assert_eq!(stats["total"], 4);
    assert_eq!(stats["succeeded"], 2);
    assert_eq!(stats["failed"], 2);
    assert_eq!(stats["attempts"], 7);
    assert_eq!(
        stats["dispositions"],
        json!({"answered": 2, "busy": 2, "no_answer": 2, "invalid_number": 1})
    );
}

/// `max_setup` counts the calls whose INVITE has had no response yet: a call that rings
/// (180) frees its place at once, so one place lets every ringing callee be dialed together
/// rather than one after the other's dial timeout.
#[test]
fn max_setup_counts_only_calls_without_a_response_so_ringing_calls_do_not_hold_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start_with(dir.path(), trunk, 50, "max_setup = 1\n");
    let ringing: &[&[&str]] = &[&["+15550130001"], &["+15550130002"], &["+15550130003"]];
    let plan = json!({"name": "ring long", "dial_timeout": 3000, "try_interval": 200,
                      "max_try_count_0": 1,
                      "source": {"type": "tel", "target": "+15551230000"}});
    let (id, _, _) = campaign(&s, plan, ringing, json!({}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    s.wait_status(&id, "finished", Duration::from_secs(30));
    let calls = s.campaigncalls(&id);
    assert_eq!(calls.len(), 3);
    let mut created: Vec<chrono::NaiveDateTime> = calls
        .iter()
        .map(|c| {
            assert_eq!(c["disposition"], "no_answer", "{c}");
            time_of(c, "tm_create")
        })
        .collect();
    created.sort();
    let spread = created[2] - created[0];
    assert!(
        spread < chrono::Duration::milliseconds(1500),
        "the three ringing calls were dialed {spread} apart: a ringing call held max_setup"
    );
}

/// A campaign whose last call is long finishes when that call ends, not at its next idle look
/// for due targets (those looks grow apart, up to 2 s, while nothing is due).
#[test]
fn a_campaign_finishes_as_soon_as_its_last_long_call_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 50);
    let (id, _, _) = campaign(
        &s,
        outplan(1, 0),
        &[&["+15550110020"]],
        json!({"actions": [{"type": "sleep", "option": {"duration": 4000}}, {"type": "hangup"}]}),
    );
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    s.wait_status(&id, "finished", Duration::from_secs(30));
    let finished = s.ok("GET", &format!("/v1.0/campaigns/{id}"), None);
    let calls = s.campaigncalls(&id);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["disposition"], "answered");
    let lag = time_of(&finished, "tm_update") - time_of(&calls[0], "tm_update");
    assert!(
        lag < chrono::Duration::milliseconds(400),
        "the campaign finished {lag} after its last call ended"
    );
}

#[test]
fn end_handle_continue_dials_targets_added_later_and_next_campaign_starts_after_finish() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 50);
    let (second, _, _) = campaign(&s, outplan(1, 0), &[&["+15550110010"]], json!({}));
    let (first, _, _) = campaign(
        &s,
        outplan(1, 0),
        &[&["+15550110011"]],
        json!({"next_campaign_id": second}),
    );
    let (watching, outdial, _) = campaign(
        &s,
        outplan(1, 0),
        &[&["+15550110012"]],
        json!({"end_handle": "continue"}),
    );
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{first}"),
        Some(json!({"status": "running"})),
    );
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{watching}/status"),
        Some(json!({"status": "run"})),
    );
    s.wait_status(&first, "finished", Duration::from_secs(30));
    let next = s.wait_status(&second, "finished", Duration::from_secs(30));
    assert_eq!(next["succeeded"], 1, "the next campaign ran by itself");
    // The continuing campaign dials its first target, then keeps running with nothing to do.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while s.ok("GET", &format!("/v1.0/campaigns/{watching}/stats"), None)["succeeded"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "first target never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        s.ok("GET", &format!("/v1.0/campaigns/{watching}/stats"), None)["status"],
        "run"
    );
    s.ok(
        "POST",
        &format!("/v1.0/outdials/{outdial}/targets"),
        Some(json!({"destination_0": {"type": "tel", "target": "+15550110013"}})),
    );
    while s.ok("GET", &format!("/v1.0/campaigns/{watching}/stats"), None)["succeeded"] != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the target added later was never dialed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{watching}/status"),
        Some(json!({"status": "stop"})),
    );
    s.wait_status(&watching, "stop", Duration::from_secs(10));
}

/// A crash with calls answered and calls ringing: at the next start the answered ones are
/// closed `answered` (never dialed again) and hung up with a BYE on their stored dialog; the
/// ringing ones are closed `unknown` and retried as the outplan says.
#[test]
fn a_kill_9_mid_campaign_loses_no_disposition_and_never_exceeds_the_retry_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let mut s = Server::start(dir.path(), trunk, 50);
    // Digit 1 after +155501: answers and waits for our BYE; digit 3: rings until CANCEL.
    let answering: Vec<String> = (0..20).map(|i| format!("+15550110{i:03}")).collect();
    let ringing: Vec<String> = (0..10).map(|i| format!("+15550130{i:03}")).collect();
    let numbers: Vec<&String> = answering.iter().chain(&ringing).collect();
    let targets: Vec<Vec<&str>> = numbers.iter().map(|n| vec![n.as_str()]).collect();
    let target_refs: Vec<&[&str]> = targets.iter().map(|v| v.as_slice()).collect();
    let plan = json!({"name": "two tries", "dial_timeout": 4000, "try_interval": 200,
                      "max_try_count_0": 2,
                      "source": {"type": "tel", "target": "+15551230000"}});
    let hold =
        json!({"actions": [{"type": "sleep", "option": {"duration": 30000}}, {"type": "hangup"}]});
    let (id, _, t) = campaign(&s, plan, &target_refs, hold);
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    // Every answering callee answered (its answer recorded), every ringing one ringing.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let calls = s.campaigncalls(&id);
        let count = |status: &str| calls.iter().filter(|c| c["status"] == status).count();
        if count("progressing") == 20 && count("dialing") == 10 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never 20 answered and 10 ringing: {} and {}",
            count("progressing"),
            count("dialing")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.kill9();
    s.restart();
    let stats = s.wait_status(&id, "finished", Duration::from_secs(60));
    let calls = s.campaigncalls(&id);
    assert!(
        calls
            .iter()
            .all(|c| c["status"] == "done" && !c["disposition"].is_null()),
        "every attempt closed"
    );
    let by = by_target(&calls);
    for target in &t[..20] {
        let attempts = &by[target];
        assert_eq!(attempts.len(), 1, "an answered target was dialed again");
        let c = attempts[0];
        assert_eq!(c["disposition"], "answered", "{c}");
        assert_eq!(c["reason"], "interrupted by restart", "{c}");
        assert_eq!(c["hangup_by"], "local", "{c}");
        assert_eq!(c["result"], "success", "{c}");
    }
    for target in &t[20..] {
        assert_eq!(
            dispositions(&by[target]),
            ["unknown", "no_answer"],
            "a call ringing at the crash is unknown and retried, within the two tries"
        );
    }
    assert_eq!(stats["total"], 30);
    assert_eq!(stats["succeeded"], 20, "{stats}");
    assert_eq!(stats["failed"], 10, "{stats}");
    assert_eq!(stats["attempts"].as_u64(), Some(calls.len() as u64));

    // Each answered call got its BYE from the restarted process: SIPp answered it 200 (the
    // scenario expects it), on the call's own dialog, CSeq one past the INVITE's.
    let answered_ids: HashSet<&str> = t[..20]
        .iter()
        .map(|target| by[target][0]["sip_call_id"].as_str().unwrap_or(""))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let byes = loop {
        let byes: Vec<String> = sipp_received(dir.path())
            .into_iter()
            .filter(|m| m.starts_with("BYE "))
            .collect();
        if byes.len() >= 20 || Instant::now() >= deadline {
            break byes;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let bye_ids: HashSet<&str> = byes.iter().filter_map(|m| header(m, "Call-ID")).collect();
    assert_eq!(
        bye_ids, answered_ids,
        "one BYE per answered call, none other"
    );
    for bye in &byes {
        assert_eq!(header(bye, "CSeq"), Some("2 BYE"), "{bye}");
    }
    // Each attempt's sip_call_id is the Call-ID its INVITE carried.
    let invited: HashSet<String> = sipp_received(dir.path())
        .iter()
        .filter(|m| m.starts_with("INVITE "))
        .filter_map(|m| header(m, "Call-ID").map(str::to_string))
        .collect();
    assert_eq!(invited.len(), calls.len());
    for c in &calls {
        let call_id = c["sip_call_id"].as_str().unwrap_or("");
        assert!(invited.contains(call_id), "{call_id:?} never reached SIPp");
    }
}

/// A campaign's figures as the rows count them (what the stats counted per request before
/// they were kept as counters), read from the server's database file.
fn figures_from_rows(db: &std::path::Path, campaign: &str, outdial: &str, status: &str) -> Value {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = ringmaster::store::SqliteStore::open(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the database");
        let (targets, calls) = store
            .count_from_rows(
                campaign.parse().expect("campaign id"),
                outdial.parse().expect("outdial id"),
            )
            .await
            .expect("count");
        serde_json::to_value(ringmaster::campaign::stats::CampaignStats::new(
            status, targets, calls,
        ))
        .expect("json")
    })
}

/// Every figure of the stats equals the one counted from the rows.
fn assert_stats_equal_rows(s: &helpers::Server, db: &std::path::Path, id: &str, outdial: &str) {
    let stats = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
    let status = stats["status"].as_str().expect("status").to_string();
    let counted = figures_from_rows(db, id, outdial, &status);
    let fields = counted.as_object().expect("an object");
    assert!(fields.len() >= 12, "{counted}");
    for (field, value) in fields {
        assert_eq!(
            &stats[field], value,
            "{field}: stats {stats} rows {counted}"
        );
    }
}

#[test]
fn the_stats_kept_as_counters_equal_the_rows_counted_after_a_campaign_over_sipp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 50);
    let targets: &[&[&str]] = &[
        &[ANSWER],
        &[BUSY, "+15550110002"],
        &["+15550130002"],
        &[UNKNOWN],
        &["+15550110003"],
        &["+15550120002"],
        &["+15550120003", "+15550140003"],
    ];
    let (id, outdial, t) = campaign(&s, outplan(2, 1), targets, json!({}));
    let db = dir.path().join("ringmaster.db");
    assert_stats_equal_rows(&s, &db, &id, &outdial);
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&id, "finished", Duration::from_secs(60));
    assert_eq!(stats["total"], 7);
    assert!(stats["attempts"].as_u64().unwrap_or(0) >= 9, "{stats}");
    assert_stats_equal_rows(&s, &db, &id, &outdial);
    // A done target deleted, then every done target reset: the figures follow.
    s.ok(
        "DELETE",
        &format!("/v1.0/outdials/{outdial}/targets/{}", t[0]),
        None,
    );
    assert_stats_equal_rows(&s, &db, &id, &outdial);
    s.ok("POST", &format!("/v1.0/outdials/{outdial}/reset"), None);
    let stats = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
    assert_eq!(
        (stats["queued"].as_u64(), stats["succeeded"].as_u64()),
        (Some(6), Some(0))
    );
    assert_stats_equal_rows(&s, &db, &id, &outdial);
}
