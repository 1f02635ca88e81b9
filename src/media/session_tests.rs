//! Session timing on tokio's paused clock: minutes of media in milliseconds.

use super::*;
use crate::media::g711::Codec;
use crate::sdp::Direction;
use std::time::Duration;

async fn far_end() -> (UdpSocket, RemoteMedia) {
    let far = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let remote = RemoteMedia {
        addr: far.local_addr().unwrap(),
        codec: Codec::Pcma,
        telephone_event: Some(101),
        direction: Direction::SendRecv,
        on_hold: false,
    };
    (far, remote)
}

async fn socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_silent_far_end_times_out_after_rtp_timeout() {
    let (_far, remote) = far_end().await;
    let start = Instant::now();
    let (_handle, mut events) = spawn(socket().await, remote, SessionConfig::default());
    assert_eq!(events.recv().await, Some(MediaEvent::RtpTimeout));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited <= Duration::from_millis(30_040),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_twelve_second_prompt_takes_twelve_seconds_of_packets() {
    let (_far, remote) = far_end().await;
    let (handle, mut events) = spawn(socket().await, remote, SessionConfig::default());
    let start = Instant::now();
    handle
        .play(5, vec![100i16; 12 * 8000].into(), false)
        .unwrap();
    assert_eq!(
        events.recv().await,
        Some(MediaEvent::PlayFinished {
            id: 5,
            interrupted: false
        })
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(11_980) && took <= Duration::from_millis(12_020),
        "{took:?}"
    );
    assert_eq!(handle.counters().sent.load(Ordering::Relaxed), 600);
}

#[tokio::test(start_paused = true)]
async fn a_far_end_on_hold_gets_nothing_and_one_that_will_not_send_never_times_out() {
    let (_far, mut remote) = far_end().await;
    remote.addr = "0.0.0.0:4000".parse().unwrap();
    remote.on_hold = true;
    remote.direction = Direction::RecvOnly;
    let (handle, mut events) = spawn(socket().await, remote, SessionConfig::default());
    handle.play(1, vec![100i16; 8000].into(), false).unwrap();
    assert_eq!(
        events.recv().await,
        Some(MediaEvent::PlayFinished {
            id: 1,
            interrupted: false
        })
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(events.try_recv().is_err(), "no RTP timeout");
    assert_eq!(handle.counters().sent.load(Ordering::Relaxed), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_ends_the_task() {
    let (_far, remote) = far_end().await;
    let (handle, mut events) = spawn(socket().await, remote, SessionConfig::default());
    drop(handle);
    assert_eq!(events.recv().await, None);
}

#[test]
fn rtp_parsing_strips_padding_and_refuses_bad_packets() {
    let mut p = vec![0xA0, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9, 0, 2];
    let (h, payload) = parse_rtp(&p).unwrap();
    assert_eq!((h.sequence_number, h.timestamp, h.ssrc), (1, 2, 3));
    assert_eq!(payload, [9, 9]);
    p[15] = 9; // padding longer than the payload
    assert!(parse_rtp(&p).is_none());
    assert!(parse_rtp(&[0x40; 12]).is_none(), "version 1");
    assert!(parse_rtp(&[0x80; 5]).is_none(), "short");
    // CSRC count of 15 with no room for them.
    assert!(parse_rtp(&[0x8F, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]).is_none());
}

/// (sequence number, timestamp, SSRC, payload type, marker) of a packet received.
type Seen = (u16, u32, u32, u8, bool);

/// Every RTP packet arriving at `far` within `window`.
async fn record(far: &UdpSocket, window: Duration) -> Vec<Seen> {
    let end = Instant::now() + window;
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(Ok((n, _))) = tokio::time::timeout_at(end, far.recv_from(&mut buf)).await {
        out.push(seen(&buf[..n]));
    }
    out.extend(drain(far));
    out
}

/// The packets already waiting at `far`.
fn drain(far: &UdpSocket) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok((n, _)) = far.try_recv_from(&mut buf) {
        out.push(seen(&buf[..n]));
    }
    out
}

fn seen(datagram: &[u8]) -> Seen {
    let (h, _) = parse_rtp(datagram).expect("valid RTP");
    (
        h.sequence_number,
        h.timestamp,
        h.ssrc,
        h.payload_type,
        h.marker,
    )
}

/// Sequence numbers one apart, timestamps 160 apart, one SSRC.
fn assert_continuous(packets: &[Seen]) {
    for pair in packets.windows(2) {
        assert_eq!(pair[1].0, pair[0].0.wrapping_add(1), "{pair:?}");
        assert_eq!(pair[1].1, pair[0].1.wrapping_add(160), "{pair:?}");
        assert_eq!(pair[1].2, pair[0].2, "{pair:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_update_to_a_new_port_moves_the_stream_without_resetting_it() {
    let (first, remote) = far_end().await;
    let (second, mut moved) = far_end().await;
    moved.codec = Codec::Pcmu;
    let (handle, _events) = spawn(socket().await, remote, SessionConfig::default());
    let before = record(&first, Duration::from_millis(200)).await;
    assert!(before.len() >= 9, "{}", before.len());
    assert!(before.iter().all(|p| p.3 == 8), "PCMA first");

    handle.update_remote(moved).unwrap();
    let after = record(&second, Duration::from_millis(200)).await;
    assert!(after.len() >= 9, "{}", after.len());
    assert!(drain(&first).is_empty(), "nothing more at the old port");
    assert!(
        after.iter().all(|p| p.3 == 0),
        "the new payload type (PCMU)"
    );
    let all: Vec<Seen> = before.iter().chain(&after).copied().collect();
    assert_continuous(&all);
    assert_eq!(
        handle.counters().sent.load(Ordering::Relaxed) as usize,
        all.len()
    );
}

/// An RTP packet of PCMA silence.
const RTP: [u8; 172] = {
    let mut p = [0xD5u8; 172];
    let header = [0x80, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
    let mut i = 0;
    while i < 12 {
        p[i] = header[i];
        i += 1;
    }
    p
};

/// RFC 4733 "1" (start packet).
const DIGIT_ONE: [u8; 16] = [0x80, 0xE5, 0, 2, 0, 0, 0x10, 0, 0, 0, 0, 9, 1, 10, 0, 160];

fn latching() -> SessionConfig {
    SessionConfig {
        latching: true,
        ..SessionConfig::default()
    }
}

#[tokio::test(start_paused = true)]
async fn only_the_sdp_address_is_heard_and_answered() {
    let (far, remote) = far_end().await;
    let stranger = socket().await;
    let session = socket().await;
    let ours = session.local_addr().unwrap();
    let (handle, mut events) = spawn(session, remote, SessionConfig::default());
    // A stranger sends first, audio and a digit, from the far end's own IP.
    stranger.send_to(&RTP, ours).await.unwrap();
    stranger.send_to(&DIGIT_ONE, ours).await.unwrap();
    let to_far = record(&far, Duration::from_millis(100)).await;
    assert!(to_far.len() >= 4, "packets still go to the SDP address");
    assert!(drain(&stranger).is_empty(), "nothing for the stranger");
    assert!(events.try_recv().is_err(), "its digit is not the callee's");
    assert_eq!(handle.counters().foreign.load(Ordering::Relaxed), 2);
    assert_eq!(handle.counters().received.load(Ordering::Relaxed), 0);
    // The far end itself is heard.
    far.send_to(&DIGIT_ONE, ours).await.unwrap();
    assert_eq!(events.recv().await, Some(MediaEvent::Digit('1')));
    assert_eq!(handle.counters().received.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stranger_does_not_keep_a_silent_far_end_from_timing_out() {
    let (_far, remote) = far_end().await;
    let stranger = socket().await;
    let session = socket().await;
    let ours = session.local_addr().unwrap();
    let config = SessionConfig {
        rtp_timeout: Duration::from_secs(1),
        ..SessionConfig::default()
    };
    let (_handle, mut events) = spawn(session, remote, config);
    for _ in 0..30 {
        stranger.send_to(&RTP, ours).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events.try_recv(), Ok(MediaEvent::RtpTimeout));
}

#[tokio::test(start_paused = true)]
async fn with_latching_the_first_port_at_the_sdp_ip_gets_the_stream_and_keeps_it() {
    let (first, remote) = far_end().await;
    let (second, mut moved) = far_end().await;
    let session = socket().await;
    let ours = session.local_addr().unwrap();
    let (handle, _events) = spawn(session, remote, latching());
    // The far end sends from `second` while its SDP names `first` (same IP): we latch.
    second.send_to(&RTP, ours).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!drain(&second).is_empty(), "latched onto the source");
    drain(&first);
    // The latch is decided: a later sender at that IP does not move it.
    let third = socket().await;
    third.send_to(&RTP, ours).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    drain(&second);
    assert!(record(&second, Duration::from_millis(100)).await.len() >= 4);
    assert!(drain(&third).is_empty());
    assert_eq!(handle.counters().foreign.load(Ordering::Relaxed), 1);

    // A move to a new address: packets go there, and its first packet decides again.
    let (fourth, _) = far_end().await;
    moved.addr = fourth.local_addr().unwrap();
    handle.update_remote(moved.clone()).unwrap();
    drain(&second);
    assert!(record(&fourth, Duration::from_millis(100)).await.len() >= 4);
    assert!(drain(&second).is_empty());
    first.send_to(&RTP, ours).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    drain(&fourth);
    assert!(record(&first, Duration::from_millis(100)).await.len() >= 4);

    // An update naming the same address again keeps the latched source.
    handle.update_remote(moved).unwrap();
    assert!(record(&first, Duration::from_millis(100)).await.len() >= 4);
    assert!(drain(&fourth).is_empty());
}

#[tokio::test(start_paused = true)]
async fn with_latching_a_sender_at_another_ip_is_still_a_stranger() {
    let (far, remote) = far_end().await;
    let Ok(stranger) = UdpSocket::bind("127.0.0.2:0").await else {
        return; // no 127.0.0.2 on this host
    };
    let session = socket().await;
    let ours = session.local_addr().unwrap();
    let (handle, mut events) = spawn(session, remote, latching());
    stranger.send_to(&DIGIT_ONE, ours).await.unwrap();
    assert!(record(&far, Duration::from_millis(100)).await.len() >= 4);
    assert!(drain(&stranger).is_empty());
    assert!(events.try_recv().is_err());
    assert_eq!(handle.counters().foreign.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hold_stops_the_packets_and_the_prompt_and_a_resume_restarts_both() {
    let (far, remote) = far_end().await;
    let (handle, mut events) = spawn(socket().await, remote.clone(), SessionConfig::default());
    // One second of prompt: 50 frames.
    handle.play(3, vec![100i16; 8000].into(), false).unwrap();
    let before = record(&far, Duration::from_millis(200)).await;
    assert!((9..=12).contains(&before.len()), "{}", before.len());

    for direction in [Direction::SendOnly, Direction::Inactive] {
        let hold = RemoteMedia {
            direction,
            ..remote.clone()
        };
        handle.update_remote(hold).unwrap();
        assert!(
            record(&far, Duration::from_secs(2)).await.is_empty(),
            "no packets while held ({direction:?})"
        );
        assert!(
            events.try_recv().is_err(),
            "the prompt waits ({direction:?})"
        );
    }

    handle.update_remote(remote).unwrap();
    let resumed = Instant::now();
    assert_eq!(
        events.recv().await,
        Some(MediaEvent::PlayFinished {
            id: 3,
            interrupted: false
        })
    );
    // The rest of the prompt, about 0.8 s, plays after the resume.
    let rest = resumed.elapsed();
    assert!(
        rest >= Duration::from_millis(740) && rest <= Duration::from_millis(820),
        "{rest:?}"
    );
    let after = drain(&far);
    assert!(after[0].4, "a new talk spurt after the hold");
    assert_eq!(after[0].0, before.last().unwrap().0.wrapping_add(1));
    assert_eq!(after[0].2, before[0].2);
    assert_continuous(&after);
}

#[tokio::test(start_paused = true)]
async fn no_rtp_timeout_while_the_far_end_will_not_send() {
    let (_far, remote) = far_end().await;
    let config = SessionConfig {
        rtp_timeout: Duration::from_secs(5),
        ..SessionConfig::default()
    };
    let (handle, mut events) = spawn(socket().await, remote.clone(), config);
    tokio::time::sleep(Duration::from_secs(3)).await;
    for direction in [Direction::RecvOnly, Direction::Inactive] {
        let hold = RemoteMedia {
            direction,
            ..remote.clone()
        };
        handle.update_remote(hold).unwrap();
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert!(events.try_recv().is_err(), "no RTP timeout ({direction:?})");
    }
    // Sending again: the timeout counts from the update.
    handle.update_remote(remote).unwrap();
    let resumed = Instant::now();
    assert_eq!(events.recv().await, Some(MediaEvent::RtpTimeout));
    let waited = resumed.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited <= Duration::from_millis(5_040),
        "{waited:?}"
    );
}

/// A PCMA packet of 20 ms: a 440 Hz tone of `amplitude` (0: silence).
fn pcma_packet(seq: u16, amplitude: f64) -> Vec<u8> {
    let mut p = vec![0x80, 8];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&7u32.to_be_bytes());
    p.extend((0..160u32).map(|i| {
        let n = f64::from(u32::from(seq) * 160 + i);
        let s = amplitude * (2.0 * std::f64::consts::PI * 440.0 * n / 8000.0).sin();
        Codec::Pcma.encode(s as i16)
    }));
    p
}

#[tokio::test(start_paused = true)]
async fn a_far_end_that_says_nothing_is_a_machine_at_initial_silence() {
    let (_far, remote) = far_end().await;
    let (handle, mut events) = spawn(socket().await, remote, SessionConfig::default());
    let start = Instant::now();
    handle.detect_machine(3, amd::Settings::default()).unwrap();
    let Some(MediaEvent::MachineDetected { id, detection }) = events.recv().await else {
        panic!("no detection");
    };
    assert_eq!(id, 3);
    assert_eq!(detection.verdict, amd::Verdict::Machine);
    assert_eq!(detection.cause.to_string(), "INITIALSILENCE-2500-2500");
    // Missing packets count as silence once they are late by the jitter allowance.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2600) && took <= Duration::from_millis(2640),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hello_in_the_far_ends_audio_is_a_human() {
    let (far, remote) = far_end().await;
    let local = socket().await;
    let ours = local.local_addr().unwrap();
    let (handle, mut events) = spawn(local, remote, SessionConfig::default());
    handle.detect_machine(4, amd::Settings::default()).unwrap();
    // 500 ms of silence, a 400 ms "hello", then silence, in real-time packets.
    let mut detected = None;
    for seq in 0..100u16 {
        let amplitude = if (25..45).contains(&seq) { 3000.0 } else { 0.0 };
        far.send_to(&pcma_packet(seq, amplitude), ours)
            .await
            .unwrap();
        tokio::time::sleep(PTIME).await;
        if let Ok(MediaEvent::MachineDetected { detection, .. }) = events.try_recv() {
            detected = Some((seq, detection));
            break;
        }
    }
    let (seq, detection) = detected.expect("a detection");
    assert_eq!(detection.verdict, amd::Verdict::Human);
    assert_eq!(detection.cause.to_string(), "HUMAN-800-800");
    // Decided after 0.5 + 0.4 + 0.8 s of audio.
    assert!((84..=88).contains(&seq), "after packet {seq}");
}

#[tokio::test]
async fn a_session_gives_its_socket_back_with_its_port_for_the_next_call() {
    use crate::media::ports::{PortPool, PortRange};
    let range: PortRange = "47391-47392".parse().unwrap();
    let pool = PortPool::keeping(range, 4);
    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let Ok(mut lease) = pool.bind(ip) else {
        return; // the range's one port is taken by another process
    };
    let socket = UdpSocket::from_std(lease.take_socket().expect("bound")).unwrap();
    let port = socket.local_addr().unwrap().port();
    let (far, remote) = far_end().await;
    let (handle, mut events) = spawn_holding(socket, Some(lease), remote, SessionConfig::default());
    // The far end is sent to from the session's socket, and talks back to it.
    let mut buf = [0u8; 2048];
    let (_, from) = far.recv_from(&mut buf).await.unwrap();
    assert_eq!(from.port(), port);
    assert_eq!(pool.kept(), 0, "the session holds the socket");
    handle.close().unwrap();
    while events.recv().await.is_some() {}
    assert_eq!(pool.kept(), 1, "the port came back with its socket");
    // A datagram that arrives between calls is read off before the next call uses it.
    far.send_to(b"late", from).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = pool.bind(ip).expect("the port again");
    let kept = again.socket().expect("its socket kept");
    assert_eq!(kept.local_addr().unwrap().port(), port);
    assert!(kept.recv_from(&mut buf).is_err(), "emptied before use");
}
