//! Dial modes end to end: `ringmaster serve` dials SIPp callees (`uas_pacing.xml`: each
//! number says after how long it answers, or that it never does, and where its media goes)
//! for a campaign with a queue whose agents are SIPp softphones (`agent_answer.xml`: they
//! register with digest, answer offered calls, talk 2 s and hang up).
//!
//! In power mode with more calls than agents, the callees no agent took within the safe
//! harbour hear the safe-harbour message (a tone here: RTP with sound reaches their media
//! socket) and are hung up `abandoned`. In predictive mode, the measured abandon rate of the
//! campaign (abandoned of answered calls) stays under its cap.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;
#[path = "campaign/sipp_agents.rs"]
#[allow(dead_code)] // shared with tests/agent_legs.rs and tests/queues.rs
mod sipp_agents;

use helpers::{campaign, sipp_scenario, wait_for, wait_for_calls, Proc, Server};
use ringmaster::media::g711::Codec;
use serde_json::{json, Value};
use sipp_agents::{node_with, register_agent};
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A callee's media socket, and how many RTP packets with sound in them it has heard.
struct Ear {
    port: u16,
    loud: Arc<AtomicU32>,
}

/// A media socket whose port has five digits (it goes into the callee's number); listens
/// until `until`.
fn ear(until: Instant) -> Ear {
    let socket = loop {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind a media socket");
        if s.local_addr().expect("addr").port() >= 10_000 {
            break s;
        }
    };
    let port = socket.local_addr().expect("addr").port();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let loud = Arc::new(AtomicU32::new(0));
    let counter = loud.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while Instant::now() < until {
            let Ok(n) = socket.recv(&mut buf) else {
                continue;
            };
            // RTP header of 12 bytes, then PCMU.
            let payload = buf.get(12..n).unwrap_or_default();
            let peak = payload
                .iter()
                .map(|b| Codec::Pcmu.decode(*b).unsigned_abs())
                .max()
                .unwrap_or(0);
            if peak > 2000 {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    Ear { port, loud }
}

/// One second of a 1 kHz tone as a WAV file: the safe-harbour message.
fn tone(path: &std::path::Path) {
    let samples: Vec<i16> = (0..8000)
        .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI / 8.0).sin() * 12_000.0) as i16)
        .collect();
    std::fs::write(path, ringmaster::media::wav::encode_pcm16(&samples, 8000))
        .expect("write the tone");
}

/// SIPp callees (`uas_pacing.xml`) and a node dialing them at most `max_cps`, whose
/// safe-harbour message is a tone; the node's SIP address, where agents register.
fn pacing_node(dir: &std::path::Path, max_cps: u32) -> (Proc, Server, SocketAddr) {
    tone(&dir.join("harbour.wav"));
    let (callees, trunk) = sipp_scenario(dir, "uas_pacing.xml", &[]);
    let dialing = format!(
        "\n[dialing]\nsafe_harbour_audio = \"harbour.wav\"\nsafe_harbour_ms = 2000\n\n\
         [media]\nprompts_dir = \"{}\"\n",
        dir.display()
    );
    let (server, sip) = node_with(dir, trunk, max_cps, &dialing);
    (callees, server, sip)
}

/// Creates agent `name`, sets it available and registers its SIPp softphone with `sip`.
fn agent(server: &Server, dir: &std::path::Path, sip: SocketAddr, name: &str) -> Proc {
    register_agent(server, dir, sip, name, "agent_answer_invite.xml").1
}

/// Runs a campaign over `numbers` with `fields` to its end; its campaigncalls.
fn run(server: &Server, queue: &str, numbers: &[String], fields: Value) -> Vec<Value> {
    let outplan = json!({"name": "pacing", "dial_timeout": 4000, "try_interval": 60000,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let targets: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(|t| &t[..]).collect();
    let mut extra = json!({"actions": [], "queue_id": queue});
    if let (Some(e), Some(f)) = (extra.as_object_mut(), fields.as_object()) {
        e.extend(f.clone());
    }
    let (id, _, _) = campaign(server, outplan, &targets, extra);
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = wait_for(
        server,
        &format!("/v1.0/campaigns/{id}/stats"),
        Duration::from_secs(40),
        |s| s["status"] == "finished",
    );
    let calls = server.campaigncalls(&id);
    assert_eq!(stats["status"], "finished", "{stats} {calls:?}");
    calls
}

fn number(delay_s: u8, port: u16) -> String {
    format!("+1555{delay_s}{port:05}0")
}

fn disposition(call: &Value) -> &str {
    call["disposition"].as_str().unwrap_or_default()
}

#[test]
fn power_abandons_with_the_safe_harbour_message_and_predictive_stays_under_its_cap() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callees, server, sip) = pacing_node(dir.path(), 20);
    let _ann = agent(&server, dir.path(), sip, "ann");
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "sales", "routing_method": "random", "wait_timeout": 30000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let until = Instant::now() + Duration::from_secs(55);

    // Power at 400 %: four callees answer after 1 s for one agent.
    let ears: Vec<Ear> = (0..4).map(|_| ear(until)).collect();
    let numbers: Vec<String> = ears.iter().map(|e| number(1, e.port)).collect();
    let calls = run(
        &server,
        &queue_id,
        &numbers,
        json!({"dial_mode": "power", "service_level": 400}),
    );
    assert_eq!(calls.len(), 4, "{calls:?}");
    let by_number: HashMap<&str, &Value> = calls
        .iter()
        .map(|c| (c["destination"]["target"].as_str().unwrap_or_default(), c))
        .collect();
    let mut abandoned = 0;
    for (n, e) in numbers.iter().zip(&ears) {
        let call = by_number.get(n.as_str()).expect("a call per number");
        match disposition(call) {
            "abandoned" => {
                abandoned += 1;
                assert_eq!(
                    call["reason"],
                    ringmaster::domain::SAFE_HARBOUR_REASON,
                    "{call}"
                );
                // One second of tone is 50 packets; most of them are heard.
                let heard = e.loud.load(Ordering::Relaxed);
                assert!(
                    heard >= 30,
                    "{n} heard {heard} packets of the message: {call}"
                );
            }
            "answered" => {
                assert!(call["agent_id"].is_string(), "{call}");
                assert_eq!(e.loud.load(Ordering::Relaxed), 0, "{n}: {call}");
            }
            other => panic!("{n}: unexpected disposition {other}: {call}"),
        }
    }
    assert!(abandoned >= 2, "{calls:?}");

    // Predictive under a 3 % cap, with a second agent: callees answer after 1 to 3 s, one in
    // four never does.
    let _bob = agent(&server, dir.path(), sip, "bob");
    let ears: Vec<Ear> = (0..12).map(|_| ear(until)).collect();
    let numbers: Vec<String> = ears
        .iter()
        .enumerate()
        .map(|(i, e)| number(if i % 4 == 3 { 0 } else { 1 + (i % 3) as u8 }, e.port))
        .collect();
    let calls = run(
        &server,
        &queue_id,
        &numbers,
        json!({"dial_mode": "predictive", "abandon_rate_cap": 3}),
    );
    assert_eq!(calls.len(), 12, "{calls:?}");
    let answered = calls
        .iter()
        .filter(|c| matches!(disposition(c), "answered" | "abandoned"))
        .count();
    let abandoned = calls
        .iter()
        .filter(|c| disposition(c) == "abandoned")
        .count();
    assert_eq!(answered, 9, "{calls:?}");
    assert!(
        abandoned as f64 <= 0.03 * answered as f64,
        "{abandoned} of {answered} abandoned: {calls:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// The abandon window a campaign holds its cap over (30 days by default) is read back from
/// the stored attempts when the node restarts: the abandoned calls before a crash still
/// count after it.
#[test]
fn the_abandon_window_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callees, mut server, sip) = pacing_node(dir.path(), 20);
    let _ann = agent(&server, dir.path(), sip, "ann");
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "sales", "routing_method": "random", "wait_timeout": 30000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let until = Instant::now() + Duration::from_secs(55);
    // Power at 400 % for one agent: four callees answering after 1 s (most of them abandoned
    // at the safe harbour), then eight ringing 9 s: four ringing at the crash, four waiting to
    // be dialed (the campaign still runs after the restart).
    let ear = ear(until);
    let numbers: Vec<String> = (0..12u8)
        .map(|i| {
            let delay = if i < 4 { 1 } else { 9 };
            format!("+1555{delay}{:05}{}", ear.port, i % 10)
        })
        .collect();
    let outplan = json!({"name": "pacing", "dial_timeout": 20000, "try_interval": 600000,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let targets: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(|t| &t[..]).collect();
    let (id, _, _) = campaign(
        &server,
        outplan,
        &targets,
        json!({"actions": [], "queue_id": queue_id, "dial_mode": "power", "service_level": 400}),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let eligibility = format!("/v1.0/campaigns/{id}/eligibility");
    // The four quick callees done, their ends recorded.
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let done: Vec<Value> = server
            .campaigncalls(&id)
            .into_iter()
            .filter(|c| c["status"] == "done")
            .collect();
        if done.len() >= 4 {
            break done;
        }
        assert!(
            Instant::now() < deadline,
            "the quick callees never ended: {done:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let abandoned = done
        .iter()
        .filter(|c| disposition(c) == "abandoned")
        .count() as u64;
    assert!(abandoned >= 2, "{done:?}");
    let before = wait_for(&server, &eligibility, Duration::from_secs(5), |e| {
        e["abandon_window"]["answered"].as_u64() >= Some(4)
    });
    assert_eq!(before["abandon_window"]["abandoned"], abandoned, "{before}");

    server.kill9();
    server.restart();
    // Before any new call is answered (the others ring 9 s), the window holds them again.
    let after = wait_for(&server, &eligibility, Duration::from_secs(5), |e| {
        e["abandon_window"]["answered"].as_u64() >= Some(4)
    });
    assert_eq!(after["abandon_window"]["answered"], 4, "{after}");
    assert_eq!(after["abandon_window"]["abandoned"], abandoned, "{after}");
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "stop"})),
    );
}

/// Predictive pacing over real SIP leaves its warm-up: with four SIPp agents and callees
/// answering after 1 to 3 s, the campaign measures enough to predict (`pace` turns
/// `tapered` or `predicted` once its window can afford one abandoned call under the 3 %
/// cap), and its abandon rate, sampled all along, never exceeds the cap.
#[test]
fn predictive_leaves_its_warm_up_over_sip_and_never_exceeds_its_cap() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callees, server, sip) = pacing_node(dir.path(), 50);
    let _agents: Vec<Proc> = ["ann", "bob", "cat", "dan"]
        .iter()
        .map(|name| agent(&server, dir.path(), sip, name))
        .collect();
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "sales", "routing_method": "random", "wait_timeout": 30000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let until = Instant::now() + Duration::from_secs(58);
    // 120 callees: one in ten never answers, the others after 1, 2 or 3 s.
    let ears: Vec<Ear> = (0..12).map(|_| ear(until)).collect();
    let numbers: Vec<String> = (0..120usize)
        .map(|i| {
            let delay = if i % 10 == 9 { 0 } else { 1 + (i % 3) };
            format!("+1555{delay}{:05}{}", ears[i / 10].port, i % 10)
        })
        .collect();
    let outplan = json!({"name": "pacing", "dial_timeout": 4000, "try_interval": 600000,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let targets: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(|t| &t[..]).collect();
    let (id, _, _) = campaign(
        &server,
        outplan,
        &targets,
        json!({"actions": [], "queue_id": queue_id, "dial_mode": "predictive",
               "abandon_rate_cap": 3}),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let eligibility = format!("/v1.0/campaigns/{id}/eligibility");
    let mut predicted_at = None;
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        let (_, e) = server.call("GET", &eligibility, None);
        let answered = e["abandon_window"]["answered"].as_u64().unwrap_or(0);
        let abandoned = e["abandon_window"]["abandoned"].as_u64().unwrap_or(0);
        assert!(
            abandoned as f64 <= 0.03 * answered as f64,
            "{abandoned} of {answered} abandoned: {e}"
        );
        if matches!(e["pace"].as_str(), Some("tapered" | "predicted")) && predicted_at.is_none() {
            predicted_at = Some(answered);
        }
        if e["status"] != "run" {
            break;
        }
        last = e;
        // Some seconds of predicted dialing after leaving the warm-up.
        if predicted_at.is_some_and(|at| answered >= at + 15) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let at = predicted_at.unwrap_or_else(|| panic!("never left the warm-up: {last}"));
    assert!(at >= 34, "predicted with {at} answered calls: {last}");
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "stop"})),
    );
    wait_for(
        &server,
        &format!("/v1.0/campaigns/{id}"),
        Duration::from_secs(10),
        |c| c["status"] == "stop",
    );
    let calls = server.campaigncalls(&id);
    let answered = calls
        .iter()
        .filter(|c| matches!(disposition(c), "answered" | "abandoned"))
        .count();
    let abandoned = calls
        .iter()
        .filter(|c| disposition(c) == "abandoned")
        .count();
    assert!(answered >= 34, "{answered} answered: {calls:?}");
    assert!(
        abandoned as f64 <= 0.03 * answered as f64,
        "{abandoned} of {answered} abandoned"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// One line per attempt: number, status, disposition, SIP code, setup time, reason.
fn summary(calls: &[Value]) -> String {
    calls
        .iter()
        .map(|c| {
            format!(
                "\n{} {} {} {} {}ms {} {}",
                c["destination"]["target"],
                c["status"],
                c["disposition"],
                c["sip_code"],
                c["setup_ms"],
                c["reason"],
                c["tm_create"]
            )
        })
        .collect()
}

/// How a predictive campaign over `uas_take_back.xml` callees went: its campaigncalls and
/// the numbers of its late block.
struct TakeBack {
    calls: Vec<Value>,
    late: Vec<String>,
}

/// Runs a predictive campaign with `min_ring_s` whose callees (`uas_take_back.xml`) warm its
/// measures up: one answers only after 18 s of ringing (a measured late answer), then 30
/// answer after 1 s or are busy at once, for four SIPp agents talking 2 s. Then a block of
/// three callees who answer only after 18 s: once they are all dialed, the agents step away
/// (no agent is predicted free for them) until the block's first attempts have ended; the
/// campaign runs until every block callee taken back was dialed again (or for a while after).
fn take_back_run(min_ring_s: u32) -> TakeBack {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    tone(&dir.join("harbour.wav"));
    let (_callees, trunk) = sipp_scenario(dir, "uas_take_back.xml", &[]);
    let dialing = format!(
        "\n[dialing]\nsafe_harbour_audio = \"harbour.wav\"\nsafe_harbour_ms = 2000\n\n\
         [media]\nprompts_dir = \"{}\"\n",
        dir.display()
    );
    let (server, sip) = node_with(dir, trunk, 50, &dialing);
    let agents: Vec<(String, Proc)> = ["ann", "bob", "cat", "dan"]
        .iter()
        .map(|name| {
            let (id, phone, _) = register_agent(&server, dir, sip, name, "agent_answer_invite.xml");
            (id, phone)
        })
        .collect();
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "sales", "routing_method": "random", "wait_timeout": 30000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let until = Instant::now() + Duration::from_secs(90);
    let ears: Vec<Ear> = (0..4).map(|_| ear(until)).collect();
    // Digit 9: answers after 18 s unless cancelled; 1: after 1 s; 0: busy.
    let late = |i: usize| format!("+15559{:05}{}", ears[3].port, i % 10);
    let mut numbers = vec![late(0)];
    numbers.extend((0..30usize).map(|i| {
        let delay = if i % 5 < 2 { 1 } else { 0 };
        format!("+1555{delay}{:05}{}", ears[i / 10].port, i % 10)
    }));
    let block: Vec<String> = (1..4).map(late).collect();
    numbers.extend(block.iter().cloned());
    let outplan = json!({"name": "pacing", "dial_timeout": 25000, "try_interval": 2000,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let targets: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(|t| &t[..]).collect();
    let (id, _, _) = campaign(
        &server,
        outplan,
        &targets,
        json!({"actions": [], "queue_id": queue_id, "dial_mode": "predictive",
               "abandon_rate_cap": 3, "min_ring_s": min_ring_s}),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let of = |calls: &[Value], n: &str| -> Vec<Value> {
        calls
            .iter()
            .filter(|c| c["destination"]["target"] == n)
            .cloned()
            .collect()
    };
    let agents_to = |status: &str| {
        for (agent, _) in &agents {
            server.call(
                "PUT",
                &format!("/v1.0/agents/{agent}/status"),
                Some(json!({"status": status})),
            );
        }
    };
    // The first late callee answered and done, the block dialed: the agents step away.
    let blocked = |calls: &[Value]| {
        of(calls, &numbers[0]).iter().any(|c| c["status"] == "done")
            && block.iter().all(|n| !of(calls, n).is_empty())
    };
    let calls = wait_for_calls(&server, &id, Duration::from_secs(45), blocked);
    assert!(
        blocked(&calls),
        "the block was never dialed: {}",
        summary(&calls)
    );
    agents_to("away");
    // The block's first attempts end (taken back, or answered after 18 s); the agents return.
    let ended = |calls: &[Value]| {
        block
            .iter()
            .all(|n| of(calls, n).iter().any(|c| c["status"] == "done"))
    };
    let calls = wait_for_calls(&server, &id, Duration::from_secs(30), ended);
    assert!(ended(&calls), "the block never ended: {}", summary(&calls));
    agents_to("available");
    // Every block callee taken back is dialed again (bounded either way).
    wait_for_calls(&server, &id, Duration::from_secs(10), |calls| {
        block.iter().all(|n| {
            let attempts = of(calls, n);
            let taken = attempts
                .iter()
                .any(|c| c["reason"] == ringmaster::call::actor::TAKEN_BACK_REASON);
            !taken || attempts.len() >= 2
        })
    });
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "stop"})),
    );
    TakeBack {
        calls: server.campaigncalls(&id),
        late: block,
    }
}

/// Predictive pacing takes back ringing calls over real SIP: with no agent predicted free,
/// the late callees that have rung the minimum ring time (15 s) are cancelled, never before
/// it (the callee's side of the CANCEL tells), end `no_answer`, "cancelled by pacing", keep
/// their try and are dialed again.
#[test]
fn predictive_cancels_surplus_calls_after_the_minimum_ring_and_dials_them_again() {
    let started = Instant::now();
    let TakeBack { calls, late } = take_back_run(15);
    let taken: Vec<&Value> = calls
        .iter()
        .filter(|c| c["reason"] == ringmaster::call::actor::TAKEN_BACK_REASON)
        .collect();
    assert!(
        !taken.is_empty(),
        "nothing was taken back: {}",
        summary(&calls)
    );
    for c in &calls {
        // 480: the callee saw a CANCEL before 15 s of ringing (less its timer's 100 ms).
        assert_ne!(
            c["sip_code"],
            480,
            "cancelled before the minimum ring: {}",
            summary(&calls)
        );
    }
    for c in &taken {
        assert_eq!(disposition(c), "no_answer", "{c}");
        assert_eq!(c["sip_code"], 487, "{c}");
        assert!(c["setup_ms"].as_u64() >= Some(15_000), "{c}");
        let n = c["destination"]["target"].as_str().unwrap_or_default();
        assert!(late.iter().any(|l| l == n), "{c}");
        // Dialed again though the outplan allows one try: the try was given back.
        let attempts: Vec<&Value> = calls
            .iter()
            .filter(|a| a["destination"]["target"] == n)
            .collect();
        assert!(
            attempts.len() >= 2,
            "{n} was not dialed again: {attempts:?}"
        );
        assert!(
            attempts
                .iter()
                .any(|a| a["tm_create"].as_str() > c["tm_create"].as_str()),
            "{attempts:?}"
        );
        assert!(
            attempts.iter().all(|a| a["try_count"] == c["try_count"]),
            "{attempts:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "{:?}",
        started.elapsed()
    );
}

/// With `min_ring_s: 0` nothing is taken back: the same late callees ring until they answer.
#[test]
fn predictive_with_no_minimum_ring_cancels_nothing() {
    let TakeBack { calls, late } = take_back_run(0);
    for c in &calls {
        assert_ne!(
            c["reason"],
            ringmaster::call::actor::TAKEN_BACK_REASON,
            "{c}"
        );
        assert_ne!(c["sip_code"], 487, "{c}");
    }
    for n in &late {
        let attempts: Vec<&Value> = calls
            .iter()
            .filter(|c| c["destination"]["target"] == n.as_str())
            .collect();
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(attempts[0]["sip_code"], 200, "{attempts:?}");
    }
}
