//! The queue's legs to agents over the wire, against SIPp: a softphone that hangs up every
//! call with a BYE of the same Via branch has each call's BYE answered as its own while the
//! next call is offered at once; a `linear` agent whose first contact does not answer within
//! the ring time is rung at its second, which answers; an agent reachable only by a `tel`
//! address is called through the trunk with that number in the Request-URI and bridged.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;
#[path = "campaign/sipp_agents.rs"]
#[allow(dead_code)] // shared with tests/dialmodes.rs and tests/queues.rs
mod sipp_agents;

use helpers::{campaign, header, sipp_scenario, wait_for, Server};
use serde_json::{json, Value};
use sipp_agents::{node, register_agent, softphone, wait_registered, PASSWORD};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// One message of a SIPp `-trace_msg` log.
struct Logged {
    /// Sent by SIPp (else received).
    sent: bool,
    /// The SIP message.
    text: String,
}

impl Logged {
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    fn call_id(&self) -> &str {
        header(&self.text, "Call-ID").unwrap_or("")
    }

    fn cseq(&self) -> &str {
        header(&self.text, "CSeq").unwrap_or("")
    }
}

/// Every message of a SIPp `-trace_msg` log, in order.
fn sipp_log(path: &Path) -> Vec<Logged> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split("\n-----------------------------------------------")
        .filter_map(|entry| {
            let (head, message) = entry
                .split_once("bytes):")
                .or_else(|| entry.split_once("bytes :"))?;
            Some(Logged {
                sent: head.contains("message sent"),
                text: message.trim().to_string(),
            })
        })
        .collect()
}

/// Runs a campaign of `numbers`, each answered call joining `queue`, to its end; its calls.
fn run_queue_campaign(server: &Server, queue: &str, numbers: &[&str]) -> Vec<Value> {
    let outplan = json!({"name": "once", "dial_timeout": 5000, "try_interval": 200,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let targets: Vec<[&str; 1]> = numbers.iter().map(|n| [*n]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(|t| &t[..]).collect();
    let (id, _, _) = campaign(
        server,
        outplan,
        &targets,
        json!({"actions": [{"type": "queue_join", "option": {"queue_id": queue}}]}),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    server.wait_status(&id, "finished", Duration::from_secs(40));
    let calls = server.campaigncalls(&id);
    assert_eq!(calls.len(), numbers.len(), "{calls:?}");
    calls
}

#[test]
fn a_softphone_that_hangs_up_every_call_with_the_same_branch_has_each_bye_answered_as_its_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (server, sip) = node(dir.path(), trunk);
    let agent = server.available_agent(json!({"username": "agent1", "password": PASSWORD}));
    let (_phone, log) = softphone(
        dir.path(),
        sip,
        "agent1",
        "agent_same_branch_invite.xml",
        "agent1",
    );
    wait_registered(&server, &agent, 1);
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "one desk", "wait_timeout": 20000, "wrap_up_time": 0})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id");

    // Both callees answer at once; the second waits for the agent, who is offered it as soon
    // as the first call's BYE is answered.
    let calls = run_queue_campaign(&server, queue_id, &["+15550110001", "+15550110002"]);
    for call in &calls {
        assert_eq!(call["disposition"], "answered", "{call}");
        assert_eq!(call["agent_id"], agent.as_str(), "{call}");
        assert_eq!(call["reason"], "agent hung up", "{call}");
        let talk = call["talk_ms"].as_u64().unwrap_or(0);
        assert!((1000..10_000).contains(&talk), "talked 1.5 s: {call}");
    }

    // What the softphone saw, call by call: one 200 to its INVITE (no retransmission: the
    // ACK came), one BYE (no retransmission: it was answered), and that BYE's 200.
    let messages = sipp_log(&log);
    let mut calls_seen: BTreeMap<&str, Vec<&Logged>> = BTreeMap::new();
    for m in &messages {
        calls_seen.entry(m.call_id()).or_default().push(m);
    }
    calls_seen.retain(|_, ms| {
        ms.iter()
            .any(|m| !m.sent && m.first_line().starts_with("INVITE "))
    });
    assert_eq!(calls_seen.len(), 2, "two calls offered to the softphone");
    let mut bye_branches = Vec::new();
    for (call_id, ms) in &calls_seen {
        let count = |f: &dyn Fn(&Logged) -> bool| ms.iter().filter(|m| f(m)).count();
        let oks_to_invite = count(&|m| {
            m.sent && m.first_line().starts_with("SIP/2.0 200") && m.cseq().ends_with("INVITE")
        });
        let acks = count(&|m| !m.sent && m.first_line().starts_with("ACK "));
        let byes = count(&|m| m.sent && m.first_line().starts_with("BYE "));
        let oks_to_bye = count(&|m| {
            !m.sent && m.first_line().starts_with("SIP/2.0 200") && m.cseq().ends_with("BYE")
        });
        let refused = count(&|m| !m.sent && m.first_line().starts_with("SIP/2.0 481"));
        assert_eq!(
            (oks_to_invite, acks, byes, oks_to_bye, refused),
            (1, 1, 1, 1, 0),
            "call {call_id}: 200s sent to the INVITE, ACKs, BYEs sent, their 200s, 481s"
        );
        let bye = ms
            .iter()
            .find(|m| m.sent && m.first_line().starts_with("BYE "))
            .map(|m| header(&m.text, "Via").unwrap_or("").to_string());
        bye_branches.extend(bye);
    }
    assert_eq!(
        bye_branches.len(),
        2,
        "both calls were hung up by the softphone"
    );
    assert_eq!(
        bye_branches[0], bye_branches[1],
        "the softphone's BYEs share one Via branch"
    );
}

/// An agent's `total_handled_count` counts the calls bridged to it, on the agent and in the
/// list, not those it never took; the count is stored, so a restart keeps it.
#[test]
fn an_agent_counts_the_calls_it_handled_and_keeps_the_count_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (mut server, sip) = node(dir.path(), trunk);
    let (agent, _phone, _) = register_agent(
        &server,
        dir.path(),
        sip,
        "counted",
        "agent_answer_invite.xml",
    );
    let idle = server.ok(
        "POST",
        "/v1.0/agents",
        Some(json!({"username": "idle", "password": PASSWORD})),
    );
    let idle = idle["id"].as_str().expect("an id").to_string();
    let handled = |server: &Server, id: &str| {
        server.ok("GET", &format!("/v1.0/agents/{id}"), None)["total_handled_count"].clone()
    };
    assert_eq!(handled(&server, &agent), 0);
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "counted", "wait_timeout": 20000, "wrap_up_time": 0})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id");

    let calls = run_queue_campaign(&server, queue_id, &["+15550110001", "+15550110002"]);
    let taken = calls
        .iter()
        .filter(|c| c["agent_id"] == agent.as_str())
        .count();
    assert_eq!(taken, 2, "{calls:?}");
    assert_eq!(handled(&server, &agent), 2);
    assert_eq!(handled(&server, &idle), 0);
    // The agent talks for 2 s on each call (agent_answer_invite.xml).
    let talked = server.ok("GET", &format!("/v1.0/agents/{agent}"), None)["total_talk_ms"]
        .as_u64()
        .unwrap_or(0);
    assert!((2_000..20_000).contains(&talked), "talked {talked} ms");
    let listed = server.ok("GET", "/v1.0/agents", None);
    let counts: BTreeMap<&str, &Value> = listed["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (a["id"].as_str().unwrap_or(""), &a["total_handled_count"]))
        .collect();
    assert_eq!(counts.get(agent.as_str()), Some(&&json!(2)), "{listed}");
    assert_eq!(counts.get(idle.as_str()), Some(&&json!(0)), "{listed}");

    server.stop();
    server.restart();
    assert_eq!(
        handled(&server, &agent),
        2,
        "the count is kept across a restart"
    );
    assert_eq!(handled(&server, &idle), 0);
}

#[test]
fn a_linear_agent_whose_first_contact_rings_out_is_rung_at_its_second_which_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (server, sip) = node(dir.path(), trunk);
    let agent = server.available_agent(
        json!({"username": "roaming", "password": PASSWORD, "ring_method": "linear"}),
    );
    // The desk phone registered first (rings, nobody picks up), the mobile second (answers).
    let (_desk, desk_log) = softphone(dir.path(), sip, "roaming", "agent_ring_invite.xml", "desk");
    wait_registered(&server, &agent, 1);
    let (_mobile, mobile_log) = softphone(
        dir.path(),
        sip,
        "roaming",
        "agent_answer_invite.xml",
        "mobile",
    );
    let live = wait_registered(&server, &agent, 2);
    assert_eq!(live["ring_method"], "linear", "{live}");
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "linear", "wait_timeout": 20000, "ring_timeout": 2000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id");

    let calls = run_queue_campaign(&server, queue_id, &["+15550110001"]);
    let call = &calls[0];
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent.as_str(), "{call}");
    assert_eq!(call["reason"], "agent hung up", "{call}");
    let wait = call["wait_ms"].as_u64().unwrap_or(0);
    assert!(
        (1800..8000).contains(&wait),
        "the desk rang its 2 s before the mobile was rung: {call}"
    );

    let desk = sipp_log(&desk_log);
    let desk_got = |start: &str| {
        desk.iter()
            .filter(|m| !m.sent && m.first_line().starts_with(start))
            .count()
    };
    assert_eq!(
        (desk_got("INVITE "), desk_got("CANCEL ")),
        (1, 1),
        "the desk phone was rung once and cancelled at the ring timeout"
    );
    assert!(
        desk.iter()
            .any(|m| m.sent && m.first_line().starts_with("SIP/2.0 487")),
        "the desk's INVITE ended 487"
    );
    let mobile = sipp_log(&mobile_log);
    let invite_at = |log: &[Logged]| {
        log.iter()
            .position(|m| !m.sent && m.first_line().starts_with("INVITE "))
    };
    assert!(invite_at(&mobile).is_some(), "the mobile was rung");
    assert!(
        mobile
            .iter()
            .any(|m| !m.sent && m.first_line().starts_with("ACK ")),
        "the mobile's answer was acknowledged"
    );
    let agent_now = wait_for(
        &server,
        &format!("/v1.0/agents/{agent}"),
        Duration::from_secs(5),
        |a| a["status"] == "available",
    );
    assert_eq!(
        agent_now["status"], "available",
        "one contact ringing out is no refusal by the agent: {agent_now}"
    );
}

#[test]
fn an_agent_with_only_a_tel_address_is_called_through_the_trunk_and_bridged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trunk_log = dir.path().join("trunk_messages.txt");
    let trunk_log_arg = trunk_log.to_string_lossy().to_string();
    // The trunk answers both the callee (+1555011...) and the agent's number (+1555019...)
    // and waits for a BYE: the queue's service timeout ends the bridge.
    let (_trunk, trunk) = sipp_scenario(
        dir.path(),
        "uas_by_number.xml",
        &["-trace_msg", "-message_file", &trunk_log_arg],
    );
    let (server, _) = node(dir.path(), trunk);
    let agent = server.available_agent(json!({
        "username": "outside", "password": PASSWORD,
        "addresses": [{"type": "tel", "target": "+15550190042"}]
    }));
    let ready = wait_for(
        &server,
        &format!("/v1.0/agents/{agent}"),
        Duration::from_secs(5),
        |a| a["status"] == "available",
    );
    assert_eq!(
        ready["status"], "available",
        "a number makes it reachable: {ready}"
    );
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "outside", "wait_timeout": 15000, "service_timeout": 2000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id");

    let calls = run_queue_campaign(&server, queue_id, &["+15550110001"]);
    let call = &calls[0];
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent.as_str(), "{call}");
    assert_eq!(call["reason"], "queue service timeout", "{call}");
    let talk = call["talk_ms"].as_u64().unwrap_or(0);
    assert!(talk >= 1500, "bridged until the service timeout: {call}");

    let trunk_messages = sipp_log(&trunk_log);
    let invites: Vec<&Logged> = trunk_messages
        .iter()
        .filter(|m| !m.sent && m.first_line().starts_with("INVITE "))
        .collect();
    let port = trunk.port();
    let uris: Vec<&str> = invites.iter().map(|m| m.first_line()).collect();
    assert_eq!(
        uris,
        vec![
            format!("INVITE sip:+15550110001@127.0.0.1:{port} SIP/2.0"),
            format!("INVITE sip:+15550190042@127.0.0.1:{port} SIP/2.0"),
        ],
        "the callee, then the agent's number, through the trunk"
    );
    let agent_leg = invites[1];
    assert!(
        header(&agent_leg.text, "From").is_some_and(|f| f.contains("+15550110001")),
        "the agent is shown the callee's number: {}",
        agent_leg.text
    );
    let agent_call_id = agent_leg.call_id();
    let on_agent_leg = |start: &str, sent: bool| {
        trunk_messages
            .iter()
            .filter(|m| m.sent == sent && m.call_id() == agent_call_id)
            .filter(|m| m.first_line().starts_with(start))
            .count()
    };
    assert_eq!(on_agent_leg("ACK ", false), 1, "the agent leg was answered");
    assert_eq!(on_agent_leg("BYE ", false), 1, "and hung up at the end");
}
