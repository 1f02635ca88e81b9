//! Call windows, caller-id pools and scheduling end to end: `ringmaster serve` with SIPp as the
//! trunk (`uas_by_number.xml`, every message logged with `-trace_msg`). A target whose window
//! is closed is not sent an INVITE until the clock opens it (the clock moved with
//! `[campaign] clock_offset_s`), also for a number whose zones are several (a mobile of a
//! multi-zone country, until the window is open in all of them); the INVITEs' From headers
//! carry the outplan's caller ids as its strategy picks them; a campaign run before its
//! `scheduled_at` starts itself then, also after a restart.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // the helpers serve several test binaries
mod helpers;

use chrono::{TimeZone, Utc};
use helpers::{campaign, free_port, header, sipp_received, sipp_scenario, Server};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// The Request-URI user and the From URI user of each INVITE SIPp received.
fn invites(dir: &std::path::Path) -> Vec<(String, String)> {
    sipp_received(dir)
        .iter()
        .filter_map(|m| {
            let callee = m
                .strip_prefix("INVITE sip:")?
                .split('@')
                .next()?
                .to_string();
            let from = header(m, "From")?;
            let user = from.split("sip:").nth(1)?.split('@').next()?.to_string();
            Some((callee, user))
        })
        .collect()
}

fn invited(dir: &Path, number: &str) -> bool {
    invites(dir).iter().any(|(callee, _)| callee == number)
}

/// A server whose campaign clock runs `offset_s` seconds ahead of the real one.
fn server_with_clock(dir: &Path, trunk: SocketAddr, offset_s: i64) -> Server {
    let mut s = Server {
        proc: None,
        api: SocketAddr::from(([127, 0, 0, 1], free_port())),
        config: dir.join("ringmaster.toml"),
    };
    s.configure(trunk, 5, &helpers::Extra::default());
    let mut text = std::fs::read_to_string(&s.config).expect("config");
    text.push_str(&format!("\n[campaign]\nclock_offset_s = {offset_s}\n"));
    std::fs::write(&s.config, text).expect("write config");
    s.restart();
    s
}

/// A node whose campaign clock reads eight seconds before `opening` (UTC year, month, day,
/// hour); the instant the clock reaches it, rounded down to whole seconds, so the window opens
/// then or up to a second after.
fn server_opening_at(
    dir: &Path,
    trunk: SocketAddr,
    opening: (i32, u32, u32, u32),
) -> (Server, Instant) {
    let lead = Duration::from_secs(8);
    let (year, month, day, hour) = opening;
    let opening = Utc
        .with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .expect("a time");
    let opens_at = Instant::now() + lead;
    let offset_s =
        (opening - Utc::now()).num_milliseconds().div_euclid(1000) - lead.as_secs() as i64;
    (server_with_clock(dir, trunk, offset_s), opens_at)
}

/// Runs campaign `id`: `open` (inside its window) is called before `opens_at` while `closed`
/// waits, counted `outside_window`, and is called only once its window has opened; then the
/// campaign finishes.
fn run_across_opening(
    s: &Server,
    dir: &Path,
    id: &str,
    opens_at: Instant,
    open: &str,
    closed: &str,
) {
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !invited(dir, open) {
        assert!(Instant::now() < deadline, "{open} was never called");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        Instant::now() < opens_at,
        "too slow to test before the opening"
    );
    let e = s.ok("GET", &format!("/v1.0/campaigns/{id}/eligibility"), None);
    assert_eq!(e["outside_window"], 1, "{e}");
    while Instant::now() + Duration::from_millis(300) < opens_at {
        assert!(
            !invited(dir, closed),
            "{closed} was called before its window opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = opens_at + Duration::from_secs(8);
    while !invited(dir, closed) {
        assert!(
            Instant::now() < deadline,
            "{closed} was not called once its window opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    s.wait_status(id, "finished", Duration::from_secs(30));
}

#[test]
fn a_target_outside_its_window_is_not_invited_until_the_clock_opens_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    // The campaign clock reads 08:59:52 in New York (EDT) eight seconds before 09:00 there,
    // when the window opens; London is then at 13:59, inside it.
    let (s, opens_at) = server_opening_at(dir.path(), trunk, (2026, 6, 10, 13));
    let new_york = "+12125550101"; // area code 212: America/New_York, derived
    let london = "+442079460958"; // +44: Europe/London
    let outplan = json!({"name": "daytime", "dial_timeout": 2000, "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"},
                         "call_window": {"start": "09:00", "end": "21:00"}});
    let (id, outdial, targets) = campaign(&s, outplan, &[&[new_york], &[london]], json!({}));
    run_across_opening(&s, dir.path(), &id, opens_at, london, new_york);
    // The wait used no try: the one attempt is the call placed after the opening.
    let t = s.ok(
        "GET",
        &format!("/v1.0/outdials/{outdial}/targets/{}", targets[0]),
        None,
    );
    assert_eq!(
        (t["try_count_0"].as_u64(), t["result"].as_str()),
        (Some(1), Some("success"))
    );
    assert_eq!(t["zones"], json!(["America/New_York"]));
}

#[test]
fn a_mobile_of_a_multi_zone_country_waits_until_the_window_is_open_in_all_its_zones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    // An Australian mobile may be anywhere in Australia: its window opens when it opens in
    // Perth, the last of its zones, at 09:00 AWST (01:00 UTC), when Sydney is at 11:00. The
    // campaign clock reads eight seconds before that.
    let (s, opens_at) = server_opening_at(dir.path(), trunk, (2026, 6, 10, 1));
    let sydney = "+61291234567"; // 02: New South Wales
    let mobile = "+61412345678"; // 04: a mobile, every zone of Australia
    let outplan = json!({"name": "daytime", "dial_timeout": 2000, "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"},
                         "call_window": {"start": "09:00", "end": "21:00"}});
    let (id, outdial, targets) = campaign(&s, outplan, &[&[mobile], &[sydney]], json!({}));
    let t = s.ok(
        "GET",
        &format!("/v1.0/outdials/{outdial}/targets/{}", targets[0]),
        None,
    );
    let zones = t["zones"].as_array().cloned().unwrap_or_default();
    assert!(
        zones.contains(&json!("Australia/Perth")) && zones.contains(&json!("Australia/Sydney")),
        "{t}"
    );
    run_across_opening(&s, dir.path(), &id, opens_at, sydney, mobile);
}

/// The caller id each campaigncall of a campaign recorded, in the order they were placed, and
/// by the number dialed.
fn caller_ids(s: &Server, campaign: &str) -> (Vec<String>, HashMap<String, String>) {
    let mut calls = s.campaigncalls(campaign);
    calls.sort_by(|a, b| {
        let key = |c: &Value| c["tm_create"].as_str().unwrap_or("").to_string();
        key(a).cmp(&key(b))
    });
    let ordered = calls
        .iter()
        .map(|c| c["caller_id"].as_str().unwrap_or("").to_string())
        .collect();
    let by_number = calls
        .iter()
        .map(|c| {
            (
                c["destination"]["target"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                c["caller_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (ordered, by_number)
}

#[test]
fn invites_carry_the_caller_ids_the_outplans_strategy_picks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let s = Server::start(dir.path(), trunk, 1);
    let tel = |n: &str| json!({"type": "tel", "target": n});
    let (a, b, c) = ("+15557770001", "+15557770002", "+15557770003");
    let round = json!({"name": "pool", "dial_timeout": 2000, "max_try_count_0": 1,
                       "source": tel("+15551230000"),
                       "sources": [tel(a), tel(b), tel(c)], "source_strategy": "round_robin"});
    let numbers = [
        "+15550120001",
        "+15550120002",
        "+15550120003",
        "+15550120004",
    ];
    let targets: Vec<&[&str]> = numbers.iter().map(std::slice::from_ref).collect();
    let (first, _, _) = campaign(&s, round, &targets, json!({}));
    let (ny, chicago) = ("+12125550000", "+13125550000");
    let local = json!({"name": "local", "dial_timeout": 2000, "max_try_count_0": 1,
                       "source": tel("+15551230000"),
                       "sources": [tel(ny), tel(chicago)], "source_strategy": "local_presence"});
    let callees = [
        "+13125550177",
        "+12125550177",
        "+13125550178",
        "+14155550177",
    ];
    let targets: Vec<&[&str]> = callees.iter().map(std::slice::from_ref).collect();
    let (second, _, _) = campaign(&s, local, &targets, json!({}));
    for id in [&first, &second] {
        s.ok(
            "PUT",
            &format!("/v1.0/campaigns/{id}/status"),
            Some(json!({"status": "run"})),
        );
        s.wait_status(id, "finished", Duration::from_secs(60));
    }
    let (ordered, mut recorded) = caller_ids(&s, &first);
    assert_eq!(ordered, [a, b, c, a]);
    let (_, second_recorded) = caller_ids(&s, &second);
    assert_eq!(second_recorded[callees[0]], chicago);
    assert_eq!(second_recorded[callees[1]], ny);
    assert_eq!(second_recorded[callees[2]], chicago);
    // 415 has no local source: round robin, whose fourth turn is the second source.
    assert_eq!(second_recorded[callees[3]], chicago);
    recorded.extend(second_recorded);
    // Each INVITE's From is the caller id its attempt recorded.
    let seen = invites(dir.path());
    assert_eq!(seen.len(), 8, "{seen:?}");
    for (callee, from) in seen {
        assert_eq!(recorded.get(&callee), Some(&from), "INVITE to {callee}");
    }
}

#[test]
fn a_scheduled_campaign_starts_itself_at_its_time_even_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let mut s = Server::start(dir.path(), trunk, 5);
    let outplan = json!({"name": "later", "dial_timeout": 2000, "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let number = "+15550130001";
    let lead = Duration::from_secs(6);
    let starts_at = Instant::now() + lead;
    let at = Utc::now() + chrono::Duration::from_std(lead).expect("a duration");
    let (id, _, _) = campaign(
        &s,
        outplan,
        &[&[number]],
        json!({"scheduled_at": at.to_rfc3339()}),
    );
    let run = s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    assert_eq!(run["status"], "scheduled");
    let e = s.ok("GET", &format!("/v1.0/campaigns/{id}/eligibility"), None);
    assert_eq!(e["scheduled"], 1, "{e}");
    // A restart keeps the appointment.
    s.stop();
    s.restart();
    let c = s.ok("GET", &format!("/v1.0/campaigns/{id}"), None);
    assert_eq!(c["status"], "scheduled", "{c}");
    while Instant::now() + Duration::from_millis(300) < starts_at {
        assert!(
            !invited(dir.path(), number),
            "called before the campaign's scheduled_at"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = starts_at + Duration::from_secs(8);
    while !invited(dir.path(), number) {
        assert!(
            Instant::now() < deadline,
            "the scheduled campaign never called"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = s.wait_status(&id, "finished", Duration::from_secs(30));
    assert_eq!(stats["attempts"], 1, "{stats}");
}

#[test]
fn a_campaign_stops_dialing_at_its_end_at_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    // One call a second: twenty targets would take twenty seconds.
    let s = Server::start(dir.path(), trunk, 1);
    let outplan = json!({"name": "until", "dial_timeout": 2000, "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let numbers: Vec<String> = (1..=20).map(|i| format!("+1555014{i:04}")).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let targets: Vec<&[&str]> = numbers.iter().map(std::slice::from_ref).collect();
    let end = Utc::now() + chrono::Duration::seconds(4);
    let ends_at = Instant::now() + Duration::from_secs(4);
    let (id, _, _) = campaign(&s, outplan, &targets, json!({"end_at": end.to_rfc3339()}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    // Meanwhile the trunk's one call a second is what holds the other targets back.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let e = s.ok("GET", &format!("/v1.0/campaigns/{id}/eligibility"), None);
        if e["cps"].as_u64().is_some_and(|n| n > 0) {
            assert_eq!(e["dialable_now"], 0, "{e}");
            break;
        }
        assert!(Instant::now() < deadline, "never held by cps: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = s.wait_status(&id, "stop", Duration::from_secs(20));
    assert!(Instant::now() >= ends_at, "stopped before end_at: {stats}");
    let c = s.ok("GET", &format!("/v1.0/campaigns/{id}"), None);
    assert_eq!(c["status_reason"], "end_at", "{c}");
    let placed = invites(dir.path()).len();
    assert!((2..=6).contains(&placed), "{placed} calls before end_at");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(invites(dir.path()).len(), placed, "a call after end_at");
    let e = s.ok("GET", &format!("/v1.0/campaigns/{id}/eligibility"), None);
    assert_eq!(e["dialable_now"].as_u64(), Some(20 - placed as u64), "{e}");
}

/// A crash while a call rings: the restarted node closes the attempt `unknown` and retries
/// the target at the outplan's next `retry_at` local time, not after the bare `try_interval`.
#[test]
fn after_a_restart_a_retry_waits_for_its_retry_at_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let mut s = Server::start(dir.path(), trunk, 5);
    // Digit 3 after +155501: rings until CANCEL.
    let number = "+15550130001";
    // Two hours from now (UTC), on the minute: far enough that no retry may happen in the test.
    let retry_at = (Utc::now() + chrono::Duration::hours(2))
        .format("%H:%M")
        .to_string();
    let outplan = json!({"name": "call back later", "dial_timeout": 30000, "try_interval": 200,
                         "max_try_count_0": 3, "timezone": "UTC", "retry_at": [retry_at],
                         "source": {"type": "tel", "target": "+15551230000"}});
    let (id, _, _) = campaign(&s, outplan, &[&[number]], json!({}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !invited(dir.path(), number) {
        assert!(Instant::now() < deadline, "the target was never called");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.kill9();
    s.restart();
    // Recovery closed the ringing attempt; the target waits for its retry time.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let calls = s.campaigncalls(&id);
        if calls.iter().any(|c| c["disposition"] == "unknown") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the open attempt was never closed: {calls:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Long past the 200 ms interval: no second INVITE, and the target counts as waiting.
    std::thread::sleep(Duration::from_secs(3));
    let invites = invites(dir.path())
        .iter()
        .filter(|(callee, _)| callee == number)
        .count();
    assert_eq!(
        invites, 1,
        "the target was called again before its retry_at time"
    );
    assert_eq!(s.campaigncalls(&id).len(), 1);
    let e = s.ok("GET", &format!("/v1.0/campaigns/{id}/eligibility"), None);
    assert_eq!(e["retry_interval"], 1, "{e}");
    assert_eq!(e["dialable_now"], 0, "{e}");
}
