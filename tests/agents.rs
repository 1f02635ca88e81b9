//! Agents end to end: an agent created through the REST API of `ringmaster serve` registers
//! its softphone (SIPp, `agent_register.xml`) with the node's registrar using the password the
//! API was given, and the API shows it `available` with its contact while registered, then
//! `offline`; a wrong password, or an agent deleted, gets 403 and no contact.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;

use helpers::{free_port, sipp_scenario, Extra, Server};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A node whose registrar challenges with MD5 only (SIPp answers nothing else), on a known
/// SIP port. No campaign runs: the trunk is never dialed.
fn node(dir: &std::path::Path) -> (Server, SocketAddr) {
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let lines = format!("listen = \"{sip}\"\nregister_algorithms = [\"MD5\"]\n");
    let server = Server::start_extra(
        dir,
        SocketAddr::from(([127, 0, 0, 1], 9)),
        10,
        &Extra {
            sip: &lines,
            ..Extra::default()
        },
    );
    (server, sip)
}

/// SIPp registers `user` with `password`, holds the binding a second, unregisters; returns
/// how SIPp exited (success: it saw its whole scenario), and every agent state read meanwhile.
fn register(
    dir: &std::path::Path,
    server: &Server,
    agent: &str,
    user: &str,
    password: &str,
    sip: SocketAddr,
) -> (Option<std::process::ExitStatus>, Vec<Value>) {
    let target = sip.to_string();
    let (mut sipp, _) = sipp_scenario(
        dir,
        "agent_register.xml",
        &["-au", user, "-ap", password, "-s", user, "-m", "1", &target],
    );
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        // A deleted agent answers 404: nothing to see.
        let (code, a) = server.call("GET", &format!("/v1.0/agents/{agent}"), None);
        if code == 200 {
            seen.push(a);
        }
        if let Ok(Some(status)) = sipp.0.try_wait() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, seen)
}

#[test]
fn agents_created_through_the_api_register_and_show_their_state_and_contacts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, sip) = node(dir.path());
    let agent = server.ok(
        "POST",
        "/v1.0/agents",
        Some(json!({"username": "agent1", "password": "a-long-secret", "name": "Ann"})),
    );
    let id = agent["id"].as_str().expect("an id").to_string();
    assert_eq!(agent["status"], "offline");
    server.ok(
        "PUT",
        &format!("/v1.0/agents/{id}/status"),
        Some(json!({"status": "available"})),
    );

    let (ok, seen) = register(dir.path(), &server, &id, "agent1", "a-long-secret", sip);
    assert!(
        ok.is_some_and(|s| s.success()),
        "SIPp registered and unregistered: {ok:?}"
    );
    let registered: Vec<&Value> = seen.iter().filter(|a| a["status"] == "available").collect();
    assert!(
        !registered.is_empty(),
        "seen available while registered: {seen:?}"
    );
    let contact = registered[0]["contacts"][0]["uri"].as_str().unwrap_or("");
    assert!(contact.starts_with("sip:agent1@127.0.0.1:"), "{contact}");
    assert!(registered[0].get("password").is_none());
    let after = server.ok("GET", &format!("/v1.0/agents/{id}"), None);
    assert_eq!(after["status"], "offline", "{after}");
    assert_eq!(after["contacts"], json!([]));

    // A wrong password: SIPp gets its 403 (the scenario's other branch) and no binding shows.
    let (ok, seen) = register(dir.path(), &server, &id, "agent1", "wrong-secret", sip);
    assert!(ok.is_some_and(|s| s.success()), "SIPp got its 403: {ok:?}");
    assert!(seen.iter().all(|a| a["status"] == "offline"), "{seen:?}");

    // A new password takes effect at once; the old one is refused.
    server.ok(
        "PUT",
        &format!("/v1.0/agents/{id}/password"),
        Some(json!({"password": "another-secret"})),
    );
    let (_, seen) = register(dir.path(), &server, &id, "agent1", "a-long-secret", sip);
    assert!(seen.iter().all(|a| a["status"] == "offline"), "{seen:?}");
    let (ok, seen) = register(dir.path(), &server, &id, "agent1", "another-secret", sip);
    assert!(ok.is_some_and(|s| s.success()), "{ok:?}");
    assert!(seen.iter().any(|a| a["status"] == "available"), "{seen:?}");

    // Deleted: its softphone can no longer register.
    let (code, _) = server.call("DELETE", &format!("/v1.0/agents/{id}"), None);
    assert_eq!(code, 200);
    let (ok, _) = register(dir.path(), &server, &id, "agent1", "another-secret", sip);
    assert!(ok.is_some_and(|s| s.success()), "SIPp got its 403: {ok:?}");

    // One SIPp at a time: the same node serves the next case.
    an_agent_away_registers_but_stays_away(dir.path(), &server, sip);
}

/// An agent that never set itself available registers and shows `away` with its contact.
fn an_agent_away_registers_but_stays_away(dir: &std::path::Path, server: &Server, sip: SocketAddr) {
    let agent = server.ok(
        "POST",
        "/v1.0/agents",
        Some(json!({"username": "agent2", "password": "a-long-secret"})),
    );
    let id = agent["id"].as_str().expect("an id").to_string();
    let (ok, seen) = register(dir, server, &id, "agent2", "a-long-secret", sip);
    assert!(ok.is_some_and(|s| s.success()), "{ok:?}");
    assert!(
        seen.iter().any(
            |a| a["status"] == "away" && a["contacts"].as_array().is_some_and(|c| c.len() == 1)
        ),
        "{seen:?}"
    );
    assert!(seen.iter().all(|a| a["status"] != "available"), "{seen:?}");
}
