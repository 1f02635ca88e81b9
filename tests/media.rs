//! Media sessions over loopback UDP against a far end built in the test: prompt playout with
//! valid RTP, digit detection, barge-in, media only from the negotiated far end, symmetric
//! RTP as an option and the RTP timeout; the relay between a callee and an agent.

#[path = "media/helpers.rs"]
mod helpers;

#[path = "media/relay.rs"]
mod relay;

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod campaign_helpers;

use helpers::{events_within, rms, session_socket, FarEnd, EVENT_PT};
use ringmaster::media::g711::Codec;
use ringmaster::media::{self, MediaEvent, SessionConfig};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn config(timeout_ms: u64) -> SessionConfig {
    SessionConfig {
        rtp_timeout: Duration::from_millis(timeout_ms),
        ..SessionConfig::default()
    }
}

/// A 440 Hz tone.
fn tone(ms: usize) -> Arc<[i16]> {
    (0..ms * 8)
        .map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

#[tokio::test]
async fn talk_sends_the_prompt_as_paced_g711_with_valid_rtp_headers() {
    let cache = tempfile::tempdir().unwrap();
    let prompt = media::tts(
        "This is a test of ringmaster",
        "en-US",
        "female",
        cache.path(),
    )
    .await
    .unwrap();
    let prompt_ms = prompt.len() as u64 / 8;
    assert!(prompt_ms > 1000, "{prompt_ms} ms of speech");

    let far = FarEnd::bind().await;
    let (handle, mut events) = media::spawn(session_socket().await, far.remote(), config(30_000));
    let started = tokio::time::Instant::now();
    handle.play(1, prompt.clone(), false).unwrap();
    let packets = far.record(Duration::from_millis(prompt_ms + 600)).await;
    let finished = events_within(&mut events, Duration::from_millis(50)).await;
    assert_eq!(
        finished,
        [MediaEvent::PlayFinished {
            id: 1,
            interrupted: false
        }]
    );

    // Headers: PCMU, one SSRC, sequence +1 and timestamp +160 each, marker on the first only.
    assert!(
        packets.len() as u64 >= (prompt_ms + 600) / 20 * 8 / 10,
        "{} packets",
        packets.len()
    );
    assert!(packets
        .iter()
        .all(|p| p.payload_type == 0 && p.payload.len() == 160));
    assert!(packets.iter().all(|p| p.ssrc == packets[0].ssrc));
    assert!(packets[0].marker);
    assert!(packets[1..].iter().all(|p| !p.marker));
    for pair in packets.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
        assert_eq!(pair[1].timestamp, pair[0].timestamp.wrapping_add(160));
    }

    // Pacing: every ~20 ms, and the whole prompt took its own length.
    let mut gaps: Vec<f64> = packets
        .windows(2)
        .map(|p| (p[1].at - p[0].at).as_secs_f64() * 1000.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    assert!((17.0..23.0).contains(&median), "median gap {median} ms");
    let frames = prompt.len().div_ceil(160);
    let spoken = packets[frames - 1].at - packets[0].at;
    let expected = Duration::from_millis((frames as u64 - 1) * 20);
    assert!(
        spoken.abs_diff(expected) < Duration::from_millis(150),
        "{spoken:?} for {expected:?}"
    );
    assert!(started.elapsed() >= expected);

    // Audio: the first frames are exactly the prompt in µ-law, loud; then comfort silence.
    let mut sent = Vec::new();
    for p in &packets[..frames] {
        sent.extend(p.payload.iter().map(|&b| Codec::Pcmu.decode(b)));
    }
    let expected_audio: Vec<i16> = prompt
        .iter()
        .map(|&s| Codec::Pcmu.decode(Codec::Pcmu.encode(s)))
        .collect();
    assert_eq!(&sent[..prompt.len()], &expected_audio[..]);
    assert!(rms(&sent) > 500.0, "rms {}", rms(&sent));
    assert!(packets[frames..]
        .iter()
        .all(|p| p.payload.iter().all(|&b| b == 0xFF)));
    handle.close().unwrap();
}

#[tokio::test]
async fn digits_are_reported_once_each() {
    let mut far = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let (handle, mut events) = media::spawn(socket, far.remote(), config(30_000));
    far.send_digit(session_addr, 1, 48_000).await;
    far.send_digit(session_addr, 11, 52_000).await;
    let got = events_within(&mut events, Duration::from_millis(300)).await;
    assert_eq!(got, [MediaEvent::Digit('1'), MediaEvent::Digit('#')]);
    assert!(handle.counters().received.load(Ordering::Relaxed) >= 14);
    handle.close().unwrap();
}

#[tokio::test]
async fn an_injector_is_neither_heard_nor_sent_the_call_audio() {
    // The answer names `far`; another socket on the same host sends to the session's port
    // first: digits and audio, as an attacker spraying the RTP range would.
    let far = FarEnd::bind().await;
    let mut injector = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let (handle, mut events) = media::spawn(socket, far.remote(), config(30_000));
    handle.play(1, tone(400), false).unwrap();
    injector
        .send_rtp(session_addr, 0, true, 0, &[0x7F; 160])
        .await;
    injector.send_digit(session_addr, 1, 48_000).await;
    let got = events_within(&mut events, Duration::from_millis(600)).await;
    assert_eq!(
        got,
        [MediaEvent::PlayFinished {
            id: 1,
            interrupted: false
        }],
        "no digit"
    );
    assert!(far.record(Duration::from_millis(100)).await.len() >= 3);
    assert!(
        injector.record(Duration::from_millis(100)).await.is_empty(),
        "the injector receives nothing"
    );
    assert_eq!(handle.counters().foreign.load(Ordering::Relaxed), 8);
    assert_eq!(handle.counters().received.load(Ordering::Relaxed), 0);
    handle.close().unwrap();
}

#[tokio::test]
async fn with_latching_media_follows_the_far_ends_real_port() {
    // The answer names a decoy port; the far end really sends from another on its host.
    let decoy = FarEnd::bind().await;
    let mut far = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let latching = SessionConfig {
        latching: true,
        ..config(30_000)
    };
    let (handle, mut events) = media::spawn(socket, decoy.remote(), latching);
    far.send_digit(session_addr, 1, 48_000).await;
    let got = events_within(&mut events, Duration::from_millis(300)).await;
    assert_eq!(got, [MediaEvent::Digit('1')]);
    // Symmetric RTP: the session now sends to the source of the far end's packets.
    decoy.record(Duration::from_millis(30)).await;
    let packets = far.record(Duration::from_millis(200)).await;
    assert!(packets.len() >= 5, "{} packets", packets.len());
    assert!(decoy.record(Duration::from_millis(60)).await.is_empty());
    handle.close().unwrap();
}

#[tokio::test]
async fn a_digit_stops_an_interruptible_prompt() {
    let mut far = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let (handle, mut events) = media::spawn(socket, far.remote(), config(30_000));
    handle.play(7, tone(5000), true).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let at = tokio::time::Instant::now();
    far.send_digit(session_addr, 5, 9_000).await;
    let got = events_within(&mut events, Duration::from_millis(200)).await;
    assert_eq!(
        got,
        [
            MediaEvent::Digit('5'),
            MediaEvent::PlayFinished {
                id: 7,
                interrupted: true
            }
        ]
    );
    assert!(at.elapsed() < Duration::from_secs(1));
    // Drain what was sent so far; from now on only silence.
    far.record(Duration::from_millis(60)).await;
    let after = far.record(Duration::from_millis(200)).await;
    assert!(!after.is_empty());
    assert!(after.iter().all(|p| p.payload.iter().all(|&b| b == 0xFF)));
    handle.close().unwrap();
}

#[tokio::test]
async fn a_prompt_that_is_not_interruptible_plays_through_a_digit() {
    let mut far = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let (handle, mut events) = media::spawn(socket, far.remote(), config(30_000));
    handle.play(8, tone(600), false).unwrap();
    far.send_digit(session_addr, 2, 100).await;
    let got = events_within(&mut events, Duration::from_millis(900)).await;
    assert_eq!(
        got,
        [
            MediaEvent::Digit('2'),
            MediaEvent::PlayFinished {
                id: 8,
                interrupted: false
            }
        ]
    );
    handle.close().unwrap();
}

#[tokio::test]
async fn silence_from_the_far_end_is_an_rtp_timeout_once() {
    let mut far = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let (handle, mut events) = media::spawn(socket, far.remote(), config(200));
    // While the far end talks there is no timeout.
    for i in 0..20u32 {
        far.send_rtp(session_addr, 0, i == 0, i * 160, &[0xFF; 160])
            .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        events_within(&mut events, Duration::from_millis(10)).await,
        []
    );
    let quiet = tokio::time::Instant::now();
    let got = events_within(&mut events, Duration::from_millis(800)).await;
    assert_eq!(got, [MediaEvent::RtpTimeout]);
    assert!(quiet.elapsed() >= Duration::from_millis(200));
    handle.close().unwrap();
}

#[tokio::test]
async fn malformed_datagrams_are_dropped_and_counted() {
    let mut far = FarEnd::bind().await;
    let socket = session_socket().await;
    let session_addr = socket.local_addr().unwrap();
    let (handle, mut events) = media::spawn(socket, far.remote(), config(30_000));
    for junk in [
        &b""[..],
        b"\x00",
        b"hello world, not rtp",
        &[0x80, 0x65, 0, 1],
        &[0xA0; 12],
    ] {
        far.socket.send_to(junk, session_addr).await.unwrap();
    }
    // A truncated event payload is RTP but not a digit.
    far.send_rtp(session_addr, EVENT_PT, true, 5, &[1, 2]).await;
    far.send_digit(session_addr, 9, 10).await;
    let got = events_within(&mut events, Duration::from_millis(200)).await;
    assert_eq!(got, [MediaEvent::Digit('9')]);
    assert!(handle.counters().malformed.load(Ordering::Relaxed) >= 4);
    handle.close().unwrap();
}

#[tokio::test]
async fn digits_are_sent_as_telephone_events() {
    let far = FarEnd::bind().await;
    let (handle, mut events) = media::spawn(session_socket().await, far.remote(), config(30_000));
    handle.send_digits("1#", 100, 60).unwrap();
    let packets = far.record(Duration::from_millis(700)).await;
    let got = events_within(&mut events, Duration::from_millis(10)).await;
    assert_eq!(got, [MediaEvent::DigitsSent]);
    let mut detector = ringmaster::media::dtmf::Detector::new();
    let digits: String = packets
        .iter()
        .filter(|p| p.payload_type == EVENT_PT)
        .filter_map(|p| detector.feed(p.timestamp, &p.payload))
        .collect();
    assert_eq!(digits, "1#");
    let ends = packets
        .iter()
        .filter(|p| p.payload_type == EVENT_PT && p.payload[1] & 0x80 != 0)
        .count();
    assert_eq!(ends, 6);
    handle.close().unwrap();
}

#[tokio::test]
async fn close_ends_the_session_and_reports_the_prompt_cut_short() {
    let far = FarEnd::bind().await;
    let (handle, mut events) = media::spawn(session_socket().await, far.remote(), config(30_000));
    handle.play(3, tone(3000), false).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.close().unwrap();
    let got = events_within(&mut events, Duration::from_millis(300)).await;
    assert_eq!(
        got,
        [MediaEvent::PlayFinished {
            id: 3,
            interrupted: true
        }]
    );
    assert!(events.recv().await.is_none(), "the session is gone");
    assert!(handle.stop_playback().is_err());
}

// End to end: `ringmaster serve` calls a SIPp callee, with a flow on the answered call.

use campaign_helpers::{campaign, free_port, sipp_scenario, Server};
use serde_json::{json, Value};

const CONFIRM: &str = "11111111-1111-4111-8111-111111111111";
const CANCEL: &str = "22222222-2222-4222-8222-222222222222";
const BYE: &str = "33333333-3333-4333-8333-333333333333";

/// "Press 1 to confirm": a short prompt, then up to `wait_ms` for a digit.
fn press_one_to_confirm(wait_ms: u64) -> Value {
    json!({"max_concurrent": 1, "actions": [
        {"type": "talk", "option": {"text": "Press 1.", "language": "en-US", "digits_handle": "next"}},
        {"type": "digits_receive", "option": {"duration": wait_ms, "length": 1}},
        {"type": "branch", "option": {"target_ids": {"1": CONFIRM}, "default_target_id": CANCEL}},
        {"id": CONFIRM, "next_id": BYE, "type": "variable_set", "option": {"key": "answer", "value": "confirmed"}},
        {"id": CANCEL, "type": "variable_set", "option": {"key": "answer", "value": "cancelled"}},
        {"id": BYE, "type": "hangup"}
    ]})
}

/// A `[media] rtp_ports` range of `even` even ports on loopback, away from the ports tests
/// pick with `free_port`.
fn rtp_range(even: u16) -> (u16, u16) {
    let first = 42_000 + (free_port() % 2_000) * 2;
    (first, first + even * 2 - 1)
}

/// Runs a campaign of `targets` calls, one at a time, and returns them once all succeeded.
fn run_calls(s: &Server, targets: usize, wait_ms: u64) -> Vec<Value> {
    let plan = json!({"name": "once", "dial_timeout": 5000, "max_try_count_0": 1});
    let numbers: Vec<String> = (0..targets).map(|i| format!("+1555011{i:04}")).collect();
    let rows: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
    let (id, _, _) = campaign(s, plan, &rows, press_one_to_confirm(wait_ms));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(&id, "finished", Duration::from_secs(60));
    assert_eq!(stats["succeeded"], targets, "{stats}");
    s.campaigncalls(&id)
}

#[test]
fn digits_injected_at_the_rtp_ports_by_a_stranger_are_not_the_callees() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The callee answers and never presses a key.
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &[]);
    let (low, high) = rtp_range(4);
    let s = Server::start_with(
        dir.path(),
        trunk,
        10,
        &format!("\n[media]\nrtp_ports = \"{low}-{high}\"\n"),
    );
    // A stranger sprays "1" (RFC 4733) and audio at every RTP port of the range while the
    // call runs, and listens for anything sent back.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let injector = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            socket.set_nonblocking(true).expect("non-blocking");
            let mut received = 0usize;
            let mut buf = [0u8; 2048];
            // At most 30 s at 20 ms a round.
            for round in 0..1500u32 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let seq = (round as u16).to_be_bytes();
                // A new event every 5 rounds, so each would count as a fresh key press.
                let ts = (round / 5 * 1000).to_be_bytes();
                let mut event = vec![0x80, 101, seq[0], seq[1]];
                event.extend_from_slice(&ts);
                event.extend_from_slice(&[0xBA, 0xD0, 0xBA, 0xD0, 1, 10, 0, 160]);
                let mut audio = vec![0x80, 0, seq[0], seq[1]];
                audio.extend_from_slice(&(round * 160).to_be_bytes());
                audio.extend_from_slice(&[0xBA, 0xD0, 0xBA, 0xD1]);
                audio.extend_from_slice(&[0x7F; 160]);
                for port in (low..=high).step_by(2) {
                    let _ = socket.send_to(&event, ("127.0.0.1", port));
                    let _ = socket.send_to(&audio, ("127.0.0.1", port));
                }
                while socket.recv_from(&mut buf).is_ok() {
                    received += 1;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            received
        })
    };
    let calls = run_calls(&s, 1, 3000);
    stop.store(true, Ordering::Relaxed);
    let received = injector.join().expect("injector");
    let result = &calls[0]["flow_result"];
    assert_eq!(calls[0]["disposition"], "answered");
    assert_eq!(result["digits"].as_str().unwrap_or(""), "", "{result}");
    assert_eq!(result["variables"]["answer"], "cancelled", "{result}");
    assert_eq!(received, 0, "the stranger got the call's audio");
}

#[test]
fn a_port_of_the_range_held_by_another_process_is_skipped() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The callee presses 1 as RFC 4733 events sent to our SDP's port: a digit in the flow
    // result shows the call had media on the port it offered.
    let (_sipp, trunk) = sipp_scenario(
        dir.path(),
        "uas_dtmf.xml",
        &["-set", "via", "rtp", "-set", "wait_ms", "500"],
    );
    let (low, high) = rtp_range(2);
    // One of the two even ports is held by someone else for the whole run.
    let Ok(_squatter) = std::net::UdpSocket::bind(("127.0.0.1", low)) else {
        return; // taken already: nothing to show
    };
    let s = Server::start_with(
        dir.path(),
        trunk,
        10,
        &format!("\n[media]\nrtp_ports = \"{low}-{high}\"\n"),
    );
    // Two calls one after the other: whichever port the pool offers first, one of them
    // meets the held port.
    let calls = run_calls(&s, 2, 8000);
    for call in &calls {
        assert_eq!(call["disposition"], "answered", "{call}");
        assert_eq!(call["flow_result"]["digits"], "1", "{call}");
        assert_eq!(
            call["flow_result"]["variables"]["answer"], "confirmed",
            "{call}"
        );
    }
}
