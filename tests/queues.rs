//! Queues end to end: `ringmaster serve` dials a SIPp callee that answers and stays up, the
//! campaign's flow hands the call to a queue (`queue_join`), and the queue rings the agent
//! whose softphone (SIPp, `agent_answer.xml`) registered with the node: the agent answers,
//! talks, hangs up, and the attempt ends `answered` with the agent's id; a flow's `connect` to
//! the agent does the same. With no agent available, the call waits out the queue's wait
//! timeout and ends `abandoned`, as does a call whose callee hangs up while it waits.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;
#[path = "campaign/sipp_agents.rs"]
#[allow(dead_code)] // shared with tests/agent_legs.rs and tests/dialmodes.rs
mod sipp_agents;

use helpers::{campaign, sipp_scenario, wait_for, Server};
use serde_json::{json, Value};
use sipp_agents::{node, register_agent, PASSWORD};
use std::time::{Duration, Instant};

/// A campaign of one target whose flow joins `queue`; runs it to the end and returns its one
/// campaigncall.
fn run_joining(server: &Server, queue: &str) -> Value {
    run_flow(
        server,
        json!([{"type": "queue_join", "option": {"queue_id": queue}}]),
    )
}

/// A campaign of one target with `actions`; runs it to the end and returns its one
/// campaigncall.
fn run_flow(server: &Server, actions: Value) -> Value {
    let outplan = json!({"name": "once", "dial_timeout": 5000, "try_interval": 200,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let (id, _, _) = campaign(
        server,
        outplan,
        &[&["+15550110001"]],
        json!({ "actions": actions }),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    server.wait_status(&id, "finished", Duration::from_secs(60));
    let calls = server.campaigncalls(&id);
    assert_eq!(calls.len(), 1, "{calls:?}");
    calls[0].clone()
}

#[test]
fn a_queued_call_is_bridged_to_the_registered_agent_or_abandoned_at_the_wait_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (server, sip) = node(dir.path(), trunk);

    let (agent_id, _agent_phone, log) = register_agent(
        &server,
        dir.path(),
        sip,
        "agent1",
        "agent_answer_invite.xml",
    );

    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "sales", "routing_method": "random", "wait_timeout": 10000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();

    let call = run_joining(&server, &queue_id);
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent_id.as_str(), "{call}");
    assert_eq!(call["queue_id"], queue_id.as_str(), "{call}");
    assert!(call["wait_ms"].as_u64().is_some(), "{call}");
    assert!(
        call["talk_ms"].as_u64().unwrap_or(0) >= 1500,
        "the agent talked about 2 s: {call}"
    );
    let received = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        received.contains("INVITE sip:agent1@127.0.0.1:"),
        "the agent's phone was rung: {received}"
    );
    let counted = wait_for(
        &server,
        &format!("/v1.0/queues/{queue_id}"),
        Duration::from_secs(5),
        |q| q["total_serviced_count"] == 1,
    );
    assert_eq!(counted["total_incoming_count"], 1, "{counted}");
    assert_eq!(counted["total_serviced_count"], 1, "{counted}");

    // A flow's connect to the agent rings it directly; the bridge ends the flow.
    let connect = json!([
        {"type": "connect", "option": {"destinations": [{"type": "agent", "target": agent_id}]}},
        {"type": "talk", "option": {"text": "never heard"}}
    ]);
    let call = run_flow(&server, connect.clone());
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent_id.as_str(), "{call}");
    assert_eq!(call["flow_result"]["actions"][0]["result"], "ok", "{call}");
    assert_eq!(
        call["flow_result"]["actions"].as_array().map(Vec::len),
        Some(1)
    );
    let received = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        received.matches("INVITE sip:agent1@").count() >= 2,
        "{received}"
    );

    // The agent steps away: the next call waits out the queue's wait timeout.
    server.ok(
        "PUT",
        &format!("/v1.0/agents/{agent_id}/status"),
        Some(json!({"status": "away"})),
    );
    let short = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "night", "wait_timeout": 1500})),
    );
    let short_id = short["id"].as_str().expect("a queue id").to_string();
    let call = run_joining(&server, &short_id);
    assert_eq!(call["disposition"], "abandoned", "{call}");
    assert_eq!(call["agent_id"], Value::Null, "{call}");
    assert_eq!(call["queue_id"], short_id.as_str(), "{call}");
    let counted = wait_for(
        &server,
        &format!("/v1.0/queues/{short_id}"),
        Duration::from_secs(5),
        |q| q["total_abandoned_count"] == 1,
    );
    assert_eq!(counted["total_abandoned_count"], 1, "{counted}");

    // A connect to an agent who is away fails, and the flow goes on.
    let connect = json!([
        {"type": "connect", "option": {"destinations": [{"type": "agent", "target": agent_id}]}},
        {"type": "hangup"}
    ]);
    let call = run_flow(&server, connect);
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], Value::Null, "{call}");
    let actions = &call["flow_result"]["actions"];
    assert_eq!(actions[0]["result"], "failed", "{call}");
    assert_eq!(actions[0]["reason"], "agent not available", "{call}");
    assert_eq!(actions[1]["type"], "hangup", "{call}");
}

#[test]
fn a_callee_who_hangs_up_while_waiting_abandons_the_queue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(
        dir.path(),
        "uas_answer_hangup.xml",
        &["-set", "hold_ms", "1000"],
    );
    let server = Server::start(dir.path(), trunk, 10);
    // No wait timeout and no agent: only the callee ends the wait.
    let queue = server.ok("POST", "/v1.0/queues", Some(json!({"name": "nobody"})));
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let call = run_joining(&server, &queue_id);
    assert_eq!(call["disposition"], "abandoned", "{call}");
    assert_eq!(call["reason"], "callee left the queue", "{call}");
    assert_eq!(call["hangup_by"], "remote", "{call}");
    assert_eq!(call["result"], "fail", "{call}");
    let counted = wait_for(
        &server,
        &format!("/v1.0/queues/{queue_id}"),
        Duration::from_secs(5),
        |q| q["total_abandoned_count"] == 1,
    );
    assert_eq!(counted["total_incoming_count"], 1, "{counted}");
    assert_eq!(counted["total_abandoned_count"], 1, "{counted}");
    assert_eq!(counted["wait_queuecall_ids"], json!([]), "{counted}");
}

/// Listens where the callee's SDP says its media goes, counting for `within` the RTP packets
/// ringmaster sends the callee and those that carry sound (PCMU other than silence).
fn hear(socket: std::net::UdpSocket, within: Duration) -> std::thread::JoinHandle<(u32, u32)> {
    std::thread::spawn(move || {
        let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
        let deadline = Instant::now() + within;
        let (mut packets, mut sound) = (0, 0);
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            let Ok((len, _)) = socket.recv_from(&mut buf) else {
                continue;
            };
            if len <= 12 || buf[1] & 0x7f != 0 {
                continue;
            }
            packets += 1;
            // µ-law silence is 0xFF (or 0x7F); speech has other values.
            if buf[12..len].iter().filter(|b| **b & 0x7f != 0x7f).count() > 20 {
                sound += 1;
            }
        }
        (packets, sound)
    })
}

#[test]
fn a_ring_all_queue_plays_its_wait_flow_rings_every_agent_and_cancels_the_others_at_the_first_answer(
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").expect("an RTP port");
    let rtp_port = rtp.local_addr().expect("its address").port().to_string();
    let (_callee, trunk) = sipp_scenario(
        dir.path(),
        "uas_answer_media_to.xml",
        &["-set", "rtp_port", &rtp_port],
    );
    let (server, sip) = node(dir.path(), trunk);
    let (slow_id, _slow, _) = register_agent(
        &server,
        dir.path(),
        sip,
        "slow",
        "agent_slow_answer_invite.xml",
    );
    let (away_id, _away, away_log) =
        register_agent(&server, dir.path(), sip, "desk", "agent_ring_invite.xml");

    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({
            "name": "everyone",
            "routing_method": "ring_all",
            "wait_timeout": 20000,
            "wait_announce_position": true,
            "wait_actions": [
                {"type": "talk", "option": {"text": "Thank you for waiting. An agent will be with you shortly."}},
                {"type": "sleep", "option": {"duration": 300}}
            ]
        })),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();

    let heard = hear(rtp, Duration::from_secs(12));
    let call = run_joining(&server, &queue_id);
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], slow_id.as_str(), "{call}");
    assert!(
        call["wait_ms"].as_u64().unwrap_or(0) >= 2500,
        "the agent rang 3 s: {call}"
    );
    let (packets, sound) = heard.join().expect("the listener");
    assert!(packets > 50, "the callee's leg got RTP: {packets}");
    assert!(
        sound > 10,
        "the wait flow was heard before the agent answered: {sound} of {packets} packets"
    );
    let desk = std::fs::read_to_string(&away_log).unwrap_or_default();
    assert!(
        desk.contains("INVITE sip:desk@"),
        "both agents rang: {desk}"
    );
    assert!(
        desk.contains("CANCEL sip:desk@"),
        "the agent who did not answer got a CANCEL: {desk}"
    );
    let desk_agent = wait_for(
        &server,
        &format!("/v1.0/agents/{away_id}"),
        Duration::from_secs(5),
        |a| a["status"] == "available",
    );
    assert_eq!(
        desk_agent["status"], "available",
        "a withdrawn offer is not held against the agent: {desk_agent}"
    );

    let stats = wait_for(
        &server,
        &format!("/v1.0/queues/{queue_id}/stats"),
        Duration::from_secs(5),
        |s| s["total_serviced_count"] == 1,
    );
    assert_eq!(stats["total_incoming_count"], 1, "{stats}");
    assert_eq!(stats["total_serviced_count"], 1, "{stats}");
    assert_eq!(stats["total_abandoned_count"], 0, "{stats}");
    assert_eq!(stats["waiting_count"], 0, "{stats}");
    assert_eq!(
        stats["service_level"], 100.0,
        "answered within 20 s: {stats}"
    );
    let average = stats["average_wait_ms"].as_u64().unwrap_or(0);
    assert!((2500..20000).contains(&average), "{stats}");
}

#[test]
fn an_agent_whose_phone_is_gone_is_passed_over_for_the_next_and_set_away_after_ringing_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (server, sip) = node(dir.path(), trunk);
    let (ghost_id, ghost_phone, _) =
        register_agent(&server, dir.path(), sip, "ghost", "agent_answer_invite.xml");
    // The softphone dies without unregistering: its binding stays, its port is closed.
    drop(ghost_phone);
    let (live_id, _live, _) =
        register_agent(&server, dir.path(), sip, "live", "agent_answer_invite.xml");
    // Fewest calls first: once the live agent has taken a call, the ghost is offered every
    // call first, and rings out.
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "fewest", "routing_method": "fewest_calls",
                    "ring_timeout": 1000, "wait_timeout": 30000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let mut calls = 0;
    let mut ghost = Value::Null;
    while calls < 4 {
        let call = run_joining(&server, &queue_id);
        calls += 1;
        assert_eq!(call["disposition"], "answered", "{call}");
        assert_eq!(call["agent_id"], live_id.as_str(), "{call}");
        ghost = server.ok("GET", &format!("/v1.0/agents/{ghost_id}"), None);
        if ghost["status"] == "away" {
            break;
        }
    }
    assert_eq!(
        ghost["status"], "away",
        "three ring-outs in a row set the agent away: {ghost}"
    );
    assert!(calls >= 3, "{calls} calls");
}

#[test]
fn a_node_killed_mid_bridge_closes_the_call_as_the_agents_and_hangs_up_both_legs_at_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (mut server, sip) = node(dir.path(), trunk);
    let (agent_id, _phone, log) = register_agent(
        &server,
        dir.path(),
        sip,
        "stayer",
        "agent_long_answer_invite.xml",
    );
    let queue = server.ok("POST", "/v1.0/queues", Some(json!({"name": "long"})));
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let outplan = json!({"name": "once", "dial_timeout": 5000, "try_interval": 200,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let (id, _, _) = campaign(
        &server,
        outplan,
        &[&["+15550110001"]],
        json!({"actions": [{"type": "queue_join", "option": {"queue_id": queue_id}}]}),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let bridged = wait_for(
        &server,
        &format!("/v1.0/queues/{queue_id}/stats"),
        Duration::from_secs(15),
        |s| s["serving_count"] == 1,
    );
    assert_eq!(bridged["serving_count"], 1, "{bridged}");
    // The bridge's record is written as it starts.
    std::thread::sleep(Duration::from_millis(500));
    server.kill9();
    server.restart();
    server.wait_status(&id, "finished", Duration::from_secs(30));
    let calls = server.campaigncalls(&id);
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent_id.as_str(), "{call}");
    assert_eq!(call["queue_id"], queue_id.as_str(), "{call}");
    assert!(call["wait_ms"].as_u64().is_some(), "{call}");
    // The call closed at the restart is the agent's: it counts as handled.
    let agent = server.ok("GET", &format!("/v1.0/agents/{agent_id}"), None);
    assert_eq!(agent["total_handled_count"], 1, "{agent}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut received = String::new();
    while Instant::now() < deadline {
        received = std::fs::read_to_string(&log).unwrap_or_default();
        if received.contains("BYE sip:") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        received.contains("BYE sip:"),
        "the agent's leg was hung up after the restart: {received}"
    );
}

#[test]
fn an_agent_with_a_sip_address_and_no_softphone_registered_is_rung_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    // The agent's desk phone: a SIP UA at a fixed address, never registered.
    let log = dir.path().join("desk_messages.txt");
    let log_arg = log.to_string_lossy().to_string();
    let (_desk, desk) = sipp_scenario(
        dir.path(),
        "agent_answer_invite.xml",
        &["-m", "1", "-trace_msg", "-message_file", &log_arg],
    );
    let server = Server::start(dir.path(), trunk, 10);
    let agent_id = server.available_agent(
        json!({"username": "deskonly", "password": PASSWORD, "name": "Desk",
                    "addresses": [{"type": "sip", "target": format!("sip:desk@{desk}")}]}),
    );
    let ready = wait_for(
        &server,
        &format!("/v1.0/agents/{agent_id}"),
        Duration::from_secs(5),
        |a| a["status"] == "available",
    );
    assert_eq!(
        ready["status"], "available",
        "an address makes it reachable: {ready}"
    );
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "desks", "wait_timeout": 15000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let call = run_joining(&server, &queue_id);
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent_id.as_str(), "{call}");
    let received = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        received.contains("INVITE sip:desk@127.0.0.1:"),
        "the desk phone was rung at its address: {received}"
    );
}
