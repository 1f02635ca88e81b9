//! The relay between a callee and an agent over loopback UDP: two far ends built in the test
//! exchange RTP through it.

use crate::helpers::{events_within, session_socket, FarEnd, EVENT_PT};
use ringmaster::media::g711::Codec;
use ringmaster::media::ports::{PortPool, PortRange};
use ringmaster::media::recording::RecordingOutcome;
use ringmaster::media::relay::{self, Leg, RelayConfig, RelayEvent, Side};
use ringmaster::media::{self, SessionConfig};
use ringmaster::sdp::{Direction, RemoteMedia};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;

fn remote(addr: SocketAddr, codec: Codec, telephone_event: Option<u8>) -> RemoteMedia {
    RemoteMedia {
        addr,
        codec,
        telephone_event,
        direction: Direction::SendRecv,
        on_hold: false,
    }
}

fn config(dir: &std::path::Path) -> RelayConfig {
    RelayConfig {
        rtp_timeout: Duration::from_secs(30),
        latching: false,
        recordings_dir: dir.to_path_buf(),
    }
}

/// A callee on PCMU with telephone-events 101 and an agent on `agent_codec` with events
/// `agent_events`, bridged by a relay.
struct Bridge {
    callee: FarEnd,
    agent: FarEnd,
    /// The relay's sockets: the callee sends to the first, the agent to the second.
    ports: [SocketAddr; 2],
    handle: ringmaster::media::RelayHandle,
    events: tokio::sync::mpsc::Receiver<RelayEvent>,
}

async fn bridge(agent_codec: Codec, agent_events: Option<u8>, dir: &std::path::Path) -> Bridge {
    let (callee, agent) = (FarEnd::bind().await, FarEnd::bind().await);
    let (a, b) = (session_socket().await, session_socket().await);
    let ports = [a.local_addr().unwrap(), b.local_addr().unwrap()];
    let (handle, events) = relay::spawn(
        Leg::new(a, None, remote(callee.addr(), Codec::Pcmu, Some(EVENT_PT))),
        Leg::new(b, None, remote(agent.addr(), agent_codec, agent_events)),
        config(dir),
    );
    Bridge {
        callee,
        agent,
        ports,
        handle,
        events,
    }
}

/// `count` packets of `byte` 20 ms apart.
async fn talk(from: &mut FarEnd, to: SocketAddr, pt: u8, byte: u8, count: u32) {
    for i in 0..count {
        from.send_rtp(to, pt, i == 0, i * 160, &[byte; 160]).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn audio_crosses_the_relay_both_ways_transcoded_as_one_stream_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bridge(Codec::Pcma, Some(96), dir.path()).await;
    let loud = Codec::Pcmu.encode(12_000);
    let (to_agent, to_callee) = (b.ports[0], b.ports[1]);
    let (_, agent_side) = tokio::join!(
        talk(&mut b.callee, to_agent, 0, loud, 10),
        b.agent.record(Duration::from_millis(400))
    );
    assert_eq!(agent_side.len(), 10, "every packet reaches the agent");
    for p in &agent_side {
        assert_eq!(p.payload_type, 8, "the agent's codec");
        assert_eq!(p.ssrc, agent_side[0].ssrc);
        let level = Codec::Pcma.decode(p.payload[0]);
        assert!((level - 12_000).abs() < 800, "{level}");
    }
    assert!(agent_side
        .windows(2)
        .all(|w| w[1].seq == w[0].seq.wrapping_add(1)
            && w[1].timestamp == w[0].timestamp.wrapping_add(160)));
    let (_, back) = tokio::join!(
        talk(&mut b.agent, to_callee, 8, 0x55, 10),
        b.callee.record(Duration::from_millis(400))
    );
    assert_eq!(back.len(), 10, "every packet reaches the callee");
    let want = Codec::Pcmu.encode(Codec::Pcma.decode(0x55));
    assert!(back
        .iter()
        .all(|p| p.payload_type == 0 && p.payload == vec![want; 160]));
    let stats = b.handle.counters().leg(Side::Agent).snapshot();
    assert_eq!((stats.received, stats.sent, stats.lost), (10, 10, 0));
    assert_eq!(
        stats.delay.iter().sum::<u64>(),
        10,
        "each relayed packet's delay counted"
    );
}

#[tokio::test]
async fn a_strangers_packets_are_dropped_and_never_reach_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bridge(Codec::Pcmu, Some(101), dir.path()).await;
    let mut stranger = FarEnd::bind().await;
    talk(&mut stranger, b.ports[0], 0, 0x11, 5).await;
    stranger.send_digit(b.ports[0], 1, 9_000).await;
    assert!(b.agent.record(Duration::from_millis(200)).await.is_empty());
    assert!(events_within(&mut b.events, Duration::from_millis(50))
        .await
        .is_empty());
    let stats = b.handle.counters().leg(Side::Callee).snapshot();
    assert_eq!((stats.foreign, stats.received), (12, 0));
    assert!(stranger.record(Duration::from_millis(50)).await.is_empty());
}

#[tokio::test]
async fn a_digit_is_relayed_with_the_agents_event_type_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bridge(Codec::Pcmu, Some(96), dir.path()).await;
    b.callee.send_digit(b.ports[0], 7, 4_000).await;
    let heard = b.agent.record(Duration::from_millis(200)).await;
    assert_eq!(heard.len(), 7);
    assert!(heard
        .iter()
        .all(|p| p.payload_type == 96 && p.payload[0] == 7));
    assert!(heard[0].marker);
    let events = events_within(&mut b.events, Duration::from_millis(50)).await;
    assert!(matches!(
        events.as_slice(),
        [RelayEvent::Digit {
            side: Side::Callee,
            digit: '7'
        }]
    ));
}

#[tokio::test]
async fn a_silent_leg_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let (callee, agent) = (FarEnd::bind().await, FarEnd::bind().await);
    let (handle, mut events) = relay::spawn(
        Leg::new(
            session_socket().await,
            None,
            remote(callee.addr(), Codec::Pcmu, None),
        ),
        Leg::new(
            session_socket().await,
            None,
            remote(agent.addr(), Codec::Pcmu, None),
        ),
        RelayConfig {
            rtp_timeout: Duration::from_millis(300),
            ..config(dir.path())
        },
    );
    let got = events_within(&mut events, Duration::from_millis(700)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got
        .iter()
        .all(|e| matches!(e, RelayEvent::RtpTimeout { .. })));
    handle.stop().unwrap();
}

#[tokio::test]
async fn recording_writes_each_side_to_its_own_channel_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bridge(Codec::Pcma, None, dir.path()).await;
    let id = b.handle.start_recording().unwrap();
    let (callee_level, agent_level) = (8_000i16, -4_000i16);
    // The callee talks for 400 ms, then the agent for 400 ms.
    talk(
        &mut b.callee,
        b.ports[0],
        0,
        Codec::Pcmu.encode(callee_level),
        20,
    )
    .await;
    talk(
        &mut b.agent,
        b.ports[1],
        8,
        Codec::Pcma.encode(agent_level),
        20,
    )
    .await;
    b.handle.stop_recording().unwrap();
    let outcome = loop {
        match tokio::time::timeout(Duration::from_secs(5), b.events.recv()).await {
            Ok(Some(RelayEvent::Recording(outcome))) => break outcome,
            Ok(Some(_)) => continue,
            other => panic!("no recording outcome: {other:?}"),
        }
    };
    let RecordingOutcome::Finished {
        id: done,
        path,
        frames,
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(done, id);
    assert_eq!(path, dir.path().join(format!("{id}.wav")));
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2);
    assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
    let data = u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as u64;
    assert_eq!(data, frames * 4);
    assert_eq!(bytes.len() as u64, 44 + data);
    // About 800 ms of wall clock (the sends take a little longer than 20 ms each).
    assert!((6_400..=16_000).contains(&frames), "{frames} frames");
    let (mut ch1, mut ch2) = (Vec::new(), Vec::new());
    for f in bytes[44..].chunks_exact(4) {
        ch1.push(i16::from_le_bytes([f[0], f[1]]));
        ch2.push(i16::from_le_bytes([f[2], f[3]]));
    }
    let callee_heard = Codec::Pcmu.decode(Codec::Pcmu.encode(callee_level));
    let agent_heard = Codec::Pcma.decode(Codec::Pcma.encode(agent_level));
    let spans = |ch: &[i16], level: i16| {
        let at: Vec<usize> = (0..ch.len()).filter(|&i| ch[i] == level).collect();
        (at.len(), at.first().copied(), at.last().copied())
    };
    // Each side's 20 packets, whole, on its own channel: 3,200 samples of its level in one
    // run, and nothing else on that channel.
    let (n1, first1, last1) = spans(&ch1, callee_heard);
    let (n2, first2, last2) = spans(&ch2, agent_heard);
    assert_eq!((n1, n2), (3_200, 3_200));
    let (first1, last1, first2, last2) = (
        first1.unwrap(),
        last1.unwrap(),
        first2.unwrap(),
        last2.unwrap(),
    );
    assert_eq!((last1 - first1, last2 - first2), (3_199, 3_199));
    assert!(ch1.iter().all(|&v| v == 0 || v == callee_heard));
    assert!(ch2.iter().all(|&v| v == 0 || v == agent_heard));
    // In time: the callee from the start, the agent after it, as they spoke.
    assert!(first1 < 8 * 50, "callee starts at {} ms", first1 / 8);
    assert!(
        first2 > last1 && first2 - last1 < 8 * 150,
        "agent starts {} ms after the callee's end",
        (first2 - last1) / 8
    );
    b.handle.stop().unwrap();
}

#[tokio::test]
async fn a_session_hands_its_leg_over_and_the_callee_hears_one_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (callee, mut agent) = (FarEnd::bind().await, FarEnd::bind().await);
    let (session, _session_events) = media::spawn(
        session_socket().await,
        remote(callee.addr(), Codec::Pcmu, Some(EVENT_PT)),
        SessionConfig::default(),
    );
    let prompt: Arc<[i16]> = vec![3_000i16; 8 * 200].into();
    session.play(1, prompt, false).unwrap();
    let before = callee.record(Duration::from_millis(120)).await;
    assert!(before.len() >= 4);
    let handover = session.hand_over().await.unwrap();
    let agent_socket = session_socket().await;
    let to_callee = agent_socket.local_addr().unwrap();
    let (handle, _events) = relay::spawn(
        Leg::from_session(handover),
        Leg::new(agent_socket, None, remote(agent.addr(), Codec::Pcmu, None)),
        config(dir.path()),
    );
    assert!(
        session.play(2, vec![0i16; 160].into(), false).is_err(),
        "the session is gone"
    );
    talk(&mut agent, to_callee, 0, 0x42, 5).await;
    let after = callee.record(Duration::from_millis(200)).await;
    let relayed: Vec<_> = after.iter().filter(|p| p.payload[0] == 0x42).collect();
    assert_eq!(relayed.len(), 5, "{after:?}");
    let last = before.last().unwrap();
    let first = relayed[0];
    assert_eq!(first.ssrc, last.ssrc, "the same stream");
    // Sequence numbers run on from the session's (a slot or two may have gone out between).
    let gap = first.seq.wrapping_sub(last.seq);
    assert!(
        (1..=4).contains(&gap),
        "seq {} after {}",
        first.seq,
        last.seq
    );
    assert!(first.timestamp.wrapping_sub(last.timestamp) <= 160 * 4);
    handle.stop().unwrap();
}

#[tokio::test]
async fn stop_gives_both_ports_back_to_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let first = 41_000 + (std::process::id() % 500) as u16 * 4;
    let pool = PortPool::new(PortRange::new(first, first + 3).unwrap());
    let ip = "127.0.0.1".parse().unwrap();
    let (callee, agent) = (FarEnd::bind().await, FarEnd::bind().await);
    let leg = |far: &FarEnd| {
        let mut lease = pool.bind(ip).unwrap();
        let socket = UdpSocket::from_std(lease.take_socket().unwrap()).unwrap();
        Leg::new(socket, Some(lease), remote(far.addr(), Codec::Pcmu, None))
    };
    let (a, b) = (leg(&callee), leg(&agent));
    assert_eq!(pool.available(), 0);
    let (handle, _events) = relay::spawn(a, b, config(dir.path()));
    handle.stop().unwrap();
    tokio::time::timeout(Duration::from_secs(2), handle.stopped())
        .await
        .unwrap();
    assert_eq!(pool.available(), 2);
    // Both ports bind again at once: their sockets are closed.
    let again = [pool.bind(ip).unwrap(), pool.bind(ip).unwrap()];
    assert!(again.iter().all(|l| l.socket().is_some()));
}
