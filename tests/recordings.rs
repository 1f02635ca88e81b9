//! Recordings end to end: `ringmaster serve` dials a SIPp callee that answers and talks
//! (a 440 Hz tone), the campaign's flow starts recording and joins a queue, and the queue
//! bridges the call to the agent whose softphone (SIPp, registered with a password) answers
//! and talks back (a 1 kHz tone) for 3 s. The bridge's recording is listed by the API with its
//! campaigncall and agent, ends `finished`, and its file, served as `audio/wav`, has two
//! channels, each carrying its leg's audio.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;

use helpers::{campaign, free_port, sipp_scenario, wait_for, Extra, Server, TOKEN};
use ringmaster::media::g711::Codec;
use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const PASSWORD: &str = "a-long-secret";

/// Writes `secs` of a `hz` tone as raw µ-law, the way SIPp's `rtp_stream` reads it.
fn tone(path: &std::path::Path, hz: f64, secs: usize) {
    let bytes: Vec<u8> = (0..8000 * secs)
        .map(|n| {
            let s = (2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0).sin() * 8000.0;
            Codec::Pcmu.encode(s as i16)
        })
        .collect();
    std::fs::write(path, bytes).expect("tone file");
}

/// `GET path` as raw bytes: status, content type, body.
fn fetch(api: SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(api).expect("connect to the API");
    let request =
        format!("GET {path}?token={TOKEN} HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, response[split + 4..].to_vec())
}

/// The RMS level of each channel of a 2-channel 16-bit WAV's samples.
fn channel_levels(wav: &[u8]) -> [f64; 2] {
    let data = &wav[44..];
    let mut sums = [0f64; 2];
    let mut n = 0f64;
    for frame in data.chunks_exact(4) {
        for (c, sum) in sums.iter_mut().enumerate() {
            let s = f64::from(i16::from_le_bytes([frame[2 * c], frame[2 * c + 1]]));
            *sum += s * s;
        }
        n += 1.0;
    }
    sums.map(|s| (s / n.max(1.0)).sqrt())
}

#[test]
fn a_recorded_bridge_is_a_two_channel_wav_listed_and_served_by_the_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    tone(&dir.path().join("callee.ulaw"), 440.0, 20);
    tone(&dir.path().join("agent.ulaw"), 1000.0, 20);
    let recordings = dir.path().join("recordings");
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_stream.xml", &[]);
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let lines = format!(
        "listen = \"{sip}\"\nregister_algorithms = [\"MD5\"]\n\n[media]\nrecordings_dir = \"{}\"\n",
        recordings.display()
    );
    let server = Server::start_extra(
        dir.path(),
        trunk,
        10,
        &Extra {
            sip: &lines,
            ..Extra::default()
        },
    );
    let agent_id =
        server.available_agent(json!({"username": "agent1", "password": PASSWORD, "name": "Ann"}));
    let invite = format!(
        "{}/sip-test/scenarios/agent_answer_stream_invite.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let target = sip.to_string();
    let (_phone, _) = sipp_scenario(
        dir.path(),
        "agent_answer.xml",
        &[
            "-oocsf", &invite, "-au", "agent1", "-ap", PASSWORD, "-s", "agent1", "-m", "1", "-set",
            "hold_ms", "60000", &target,
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
        Some(json!({"name": "sales", "wait_timeout": 10000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();

    let outplan = json!({"name": "once", "dial_timeout": 5000, "try_interval": 200,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let actions = json!([
        {"type": "recording_start", "option": {"format": "wav"}},
        {"type": "queue_join", "option": {"queue_id": queue_id}}
    ]);
    let (campaign_id, _, _) = campaign(
        &server,
        outplan,
        &[&["+15550110001"]],
        json!({ "actions": actions }),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{campaign_id}/status"),
        Some(json!({"status": "run"})),
    );
    server.wait_status(&campaign_id, "finished", Duration::from_secs(60));
    let calls = server.campaigncalls(&campaign_id);
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["agent_id"], agent_id.as_str(), "{call}");
    let call_id = call["id"].as_str().expect("campaigncall id").to_string();

    let listed = wait_for(
        &server,
        &format!("/v1.0/recordings?campaigncall_id={call_id}"),
        Duration::from_secs(10),
        |l| l["result"][0]["status"] == "finished",
    );
    let recording = &listed["result"][0];
    assert_eq!(recording["status"], "finished", "{listed}");
    assert_eq!(recording["campaign_id"], campaign_id.as_str());
    assert_eq!(recording["agent_id"], agent_id.as_str());
    assert_eq!(recording["queue_id"], queue_id.as_str());
    assert_eq!(recording["channels"], 2);
    let duration = recording["duration_ms"].as_u64().unwrap_or(0);
    assert!(
        (2000..=6000).contains(&duration),
        "the bridge lasted about 3 s: {recording}"
    );
    let id = recording["id"].as_str().expect("recording id");
    let by_campaign = server.ok(
        "GET",
        &format!("/v1.0/recordings?campaign_id={campaign_id}"),
        None,
    );
    assert_eq!(by_campaign["result"][0]["id"], id);

    let (status, content_type, wav) = fetch(server.api, &format!("/v1.0/recordings/{id}/file"));
    assert_eq!(status, 200);
    assert_eq!(content_type, "audio/wav");
    assert_eq!(recording["size"].as_u64(), Some(wav.len() as u64));
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "two channels");
    assert_eq!(
        u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]),
        8000
    );
    let [callee, agent] = channel_levels(&wav);
    assert!(
        callee > 1000.0,
        "the callee's tone on channel 1: RMS {callee}"
    );
    assert!(agent > 1000.0, "the agent's tone on channel 2: RMS {agent}");
    assert_eq!(
        std::fs::read(recordings.join(format!("{id}.wav"))).expect("the file on disk"),
        wav
    );
}
