//! Queues end to end: `ringmaster serve` dials a SIPp callee that answers and stays up, the
//! campaign's flow hands the call to a queue (`queue_join`), and the queue rings the agent
//! whose softphone (SIPp, `agent_answer.xml`) registered with the node: the agent answers,
//! talks, hangs up, and the attempt ends `answered` with the agent's id; a flow's `connect` to
//! the agent does the same. With no agent available, the call waits out the queue's wait
//! timeout and ends `abandoned`, as does a call whose callee hangs up while it waits.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;

use helpers::{campaign, free_port, sipp_scenario, Extra, Server};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a-long-secret";

/// Polls `GET path` until `done` holds for the answer; the last answer.
fn wait_for(server: &Server, path: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (_, v) = server.call("GET", path, None);
        if done(&v) || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let lines = format!("listen = \"{sip}\"\nregister_algorithms = [\"MD5\"]\n");
    let server = Server::start_extra(
        dir.path(),
        trunk,
        10,
        &Extra {
            sip: &lines,
            ..Extra::default()
        },
    );

    let agent = server.ok(
        "POST",
        "/v1.0/agents",
        Some(json!({"username": "agent1", "password": PASSWORD, "name": "Ann"})),
    );
    let agent_id = agent["id"].as_str().expect("an id").to_string();
    server.ok(
        "PUT",
        &format!("/v1.0/agents/{agent_id}/status"),
        Some(json!({"status": "available"})),
    );
    let invite = format!(
        "{}/sip-test/scenarios/agent_answer_invite.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let log = dir.path().join("agent_messages.txt");
    let log_arg = log.to_string_lossy().to_string();
    let target = sip.to_string();
    let (_agent_phone, _) = sipp_scenario(
        dir.path(),
        "agent_answer.xml",
        &[
            "-oocsf",
            &invite,
            "-au",
            "agent1",
            "-ap",
            PASSWORD,
            "-s",
            "agent1",
            "-m",
            "1",
            "-set",
            "hold_ms",
            "60000",
            "-trace_msg",
            "-message_file",
            &log_arg,
            &target,
        ],
    );
    let registered = wait_for(
        &server,
        &format!("/v1.0/agents/{agent_id}"),
        Duration::from_secs(10),
        |a| a["status"] == "available",
    );
    assert_eq!(registered["status"], "available", "{registered}");

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
