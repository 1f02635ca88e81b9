//! Hold and resume on an answered call, end to end: `ringmaster serve` places a campaign call
//! to SIPp (`uas_hold.xml`), which holds it with a re-INVITE (`a=sendonly`), takes it off hold
//! with another re-INVITE moving its media to a new port with PCMA, and waits for our BYE. The
//! test plays the callee's media ports itself, so it sees where our RTP goes.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;

use helpers::{campaign, sipp_scenario, Server};
use serde_json::json;
use std::net::UdpSocket;
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// Every RTP packet already waiting at `socket`: (payload type, sequence number, SSRC).
fn drain(socket: &UdpSocket) -> Vec<(u8, u16, u32)> {
    socket.set_nonblocking(true).expect("non-blocking");
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = socket.recv(&mut buf) {
        assert!(n >= 12 && buf[0] >> 6 == 2, "RTP version 2");
        out.push((
            buf[1] & 0x7F,
            u16::from_be_bytes([buf[2], buf[3]]),
            u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        ));
    }
    out
}

/// Waits for SIPp to end by itself (`-m 1`).
fn exit_status(child: &mut std::process::Child, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait for sipp") {
            return status;
        }
        assert!(Instant::now() < deadline, "SIPp did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The SIP messages SIPp received, from its `-trace_msg` log in `dir`.
fn received_by_sipp(dir: &Path) -> Vec<String> {
    let log = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("uas_hold_") && name.ends_with("_messages.log")
        })
        .expect("SIPp's message log");
    let text = std::fs::read_to_string(log).expect("read the log");
    text.split("\n-----------------------------------------------")
        .filter_map(|entry| {
            let (header, message) = entry.split_once(" bytes :")?;
            header
                .contains("message received")
                .then(|| message.trim().to_string())
        })
        .collect()
}

/// The `o=` session version of an SDP inside `message`.
fn sdp_version(message: &str) -> u64 {
    let origin = message
        .lines()
        .find(|l| l.starts_with("o="))
        .expect("an o= line");
    origin.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn a_hold_and_a_resume_at_a_new_port_are_answered_and_followed_by_the_media() {
    let dir = tempfile::tempdir().expect("temp dir");
    let held_at = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let resumed_at = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let hold_port = held_at.local_addr().unwrap().port().to_string();
    let resume_port = resumed_at.local_addr().unwrap().port().to_string();
    let (mut sipp, trunk) = sipp_scenario(
        dir.path(),
        "uas_hold.xml",
        &[
            "-m",
            "1",
            "-trace_msg",
            "-set",
            "hold_port",
            &hold_port,
            "-set",
            "resume_port",
            &resume_port,
            "-set",
            "pause_ms",
            "1000",
        ],
    );
    let s = Server::start(dir.path(), trunk, 10);
    let plan = json!({"name": "once", "dial_timeout": 5000, "max_try_count_0": 1});
    // On hold from about 1 s to 2 s, then moved; we hang up at about 4 s.
    let flow = json!({"actions": [
        {"type": "sleep", "option": {"duration": 4000}},
        {"type": "hangup"}
    ]});
    let (id, _, _) = campaign(&s, plan, &[&["+15550120001"]], flow);
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&id, "finished", Duration::from_secs(40));
    assert_eq!(stats["succeeded"], 1, "{stats}");
    let calls = s.campaigncalls(&id);
    assert_eq!(calls[0]["disposition"], "answered", "{}", calls[0]);

    // SIPp's scenario passed: both 200s carried the mirrored direction (check_it), and the
    // call ended with our BYE.
    let status = exit_status(&mut sipp.0, Duration::from_secs(20));
    assert!(status.success(), "SIPp failed the call: {status}");

    // Our answers, as SIPp received them.
    let received = received_by_sipp(dir.path());
    let offer = received
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .expect("our INVITE");
    let answer = |cseq: &str| {
        received
            .iter()
            .find(|m| m.starts_with("SIP/2.0 200") && m.contains(&format!("CSeq: {cseq}")))
            .unwrap_or_else(|| panic!("our 200 to the re-INVITE with CSeq {cseq}"))
    };
    let (hold, resume) = (answer("1 INVITE"), answer("2 INVITE"));
    assert!(
        hold.contains("a=recvonly") && !hold.contains("a=sendrecv"),
        "{hold}"
    );
    assert!(
        resume.contains("a=sendrecv") && !resume.contains("a=recvonly"),
        "{resume}"
    );
    assert_eq!(sdp_version(hold), sdp_version(offer) + 1);
    assert_eq!(sdp_version(resume), sdp_version(offer) + 2);

    // The media: nothing while held, then PCMA at the new port, one stream without a gap.
    assert!(drain(&held_at).is_empty(), "RTP sent to a callee on hold");
    let moved = drain(&resumed_at);
    assert!(
        moved.len() >= 40,
        "{} packets at the new port in about two seconds",
        moved.len()
    );
    assert!(moved.iter().all(|p| p.0 == 8), "PCMA after the move");
    assert!(moved.iter().all(|p| p.2 == moved[0].2), "one SSRC");
    for pair in moved.windows(2) {
        assert_eq!(
            pair[1].1,
            pair[0].1.wrapping_add(1),
            "sequence numbers run on"
        );
    }
}
