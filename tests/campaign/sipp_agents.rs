//! Agents at SIPp softphones, for the tests that bridge calls to agents: a node whose
//! registrar challenges as SIPp answers, agents created with a password, their softphones
//! registered with digest (`agent_answer.xml`, playing the INVITEs they are offered with a
//! scenario of the test's choosing) and the wait for their bindings.
//!
//! Included with `#[path]` beside `helpers.rs`, whose `Server` and SIPp runner it uses.

use super::helpers::{free_port, sipp_scenario, wait_for, Extra, Proc, Server};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every test agent's password.
pub const PASSWORD: &str = "a-long-secret";

/// A node on a known SIP port whose registrar challenges with MD5 (what SIPp answers), with
/// no qualify OPTIONS (they would reach the agents' out-of-call scenarios), dialing `trunk`.
pub fn node(dir: &Path, trunk: SocketAddr) -> (Server, SocketAddr) {
    node_with(dir, trunk, 10, "")
}

/// [`node`] dialing at most `max_cps`, with more settings after the trunk's (TOML lines).
pub fn node_with(
    dir: &Path,
    trunk: SocketAddr,
    max_cps: u32,
    trunk_extra: &str,
) -> (Server, SocketAddr) {
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let lines =
        format!("listen = \"{sip}\"\nregister_algorithms = [\"MD5\"]\nqualify_interval_s = 0\n");
    let server = Server::start_extra(
        dir,
        trunk,
        max_cps,
        &Extra {
            sip: &lines,
            trunk: trunk_extra,
            ..Extra::default()
        },
    );
    (server, sip)
}

/// A SIPp softphone that registers `username` with the node at `sip` and plays the INVITEs
/// it is sent with `invite_scenario` (a file of `sip-test/scenarios/`); returns it with the
/// file its messages go to (`<name>_messages.txt`).
pub fn softphone(
    dir: &Path,
    sip: SocketAddr,
    username: &str,
    invite_scenario: &str,
    name: &str,
) -> (Proc, PathBuf) {
    let invite = format!(
        "{}/sip-test/scenarios/{invite_scenario}",
        env!("CARGO_MANIFEST_DIR")
    );
    let log = dir.join(format!("{name}_messages.txt"));
    let log_arg = log.to_string_lossy().to_string();
    let target = sip.to_string();
    let (phone, _) = sipp_scenario(
        dir,
        "agent_answer.xml",
        &[
            "-oocsf",
            &invite,
            "-au",
            username,
            "-ap",
            PASSWORD,
            "-s",
            username,
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
    (phone, log)
}

/// Waits until `agent` shows `contacts` registered contacts and is available.
pub fn wait_registered(server: &Server, agent: &str, contacts: usize) -> Value {
    let live = wait_for(
        server,
        &format!("/v1.0/agents/{agent}"),
        Duration::from_secs(10),
        |a| a["status"] == "available" && a["contacts"].as_array().map(Vec::len) == Some(contacts),
    );
    assert_eq!(live["status"], "available", "{live}");
    assert_eq!(
        live["contacts"].as_array().map(Vec::len),
        Some(contacts),
        "{live}"
    );
    live
}

/// Creates `username` (with the test password, available), registers it from a SIPp
/// softphone that plays offered INVITEs with `invite_scenario` and waits for its binding;
/// returns the agent's id and SIPp with the file its messages go to.
pub fn register_agent(
    server: &Server,
    dir: &Path,
    sip: SocketAddr,
    username: &str,
    invite_scenario: &str,
) -> (String, Proc, PathBuf) {
    let id = server
        .available_agent(json!({"username": username, "password": PASSWORD, "name": username}));
    // A softphone that could not bind one of its ports (another test took it between the
    // free-port probe and SIPp's bind) never registers: it is started once more on others.
    let (mut phone, mut log) = softphone(dir, sip, username, invite_scenario, username);
    let first = wait_for(
        server,
        &format!("/v1.0/agents/{id}"),
        Duration::from_secs(10),
        |a| a["status"] == "available" && a["contacts"].as_array().map(Vec::len) == Some(1),
    );
    if first["status"] != "available" {
        drop(phone);
        (phone, log) = softphone(dir, sip, username, invite_scenario, username);
    }
    wait_registered(server, &id, 1);
    (id, phone, log)
}
