//! Media sessions over loopback UDP against a far end built in the test: prompt playout with
//! valid RTP, digit detection, barge-in, media only from the negotiated far end, symmetric
//! RTP as an option and the RTP timeout.

#[path = "media/helpers.rs"]
mod helpers;

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
