use super::rewrite::OutStream;
use super::*;
use tokio::time::Instant as StdInstant;

fn view(ssrc: u32, seq: u16, timestamp: u32, marker: bool, payload_type: u8) -> RtpView {
    RtpView {
        marker,
        payload_type,
        seq,
        timestamp,
        ssrc,
        payload_start: HEADER_LEN,
        payload_end: HEADER_LEN + 160,
    }
}

#[test]
fn the_stream_keeps_its_ssrc_and_runs_on_across_a_change_of_source() {
    let t0 = StdInstant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut out = OutStream::new(Ssrc(0xAAAA), SeqNo(65534), MediaTime(1_000));
    // The prompt's stream before the bridge: three packets.
    let a: Vec<_> = (0..3u16)
        .map(|i| {
            out.rewrite(
                ms(u64::from(i) * 20),
                &view(1, 500 + i, 9_000 + u32::from(i) * 160, false, 0),
                0,
            )
        })
        .collect();
    assert_eq!(
        a.iter()
            .map(|h| (h.seq, h.timestamp, h.ssrc))
            .collect::<Vec<_>>(),
        [
            (65534, 1_000, 0xAAAA),
            (65535, 1_160, 0xAAAA),
            (0, 1_320, 0xAAAA)
        ]
    );
    assert!(a[0].marker && !a[1].marker && !a[2].marker);
    // The agent's phone starts its own stream 20 ms later with unrelated numbers.
    let b = out.rewrite(ms(60), &view(2, 7, 123_456, false, 8), 8);
    assert_eq!((b.seq, b.timestamp, b.ssrc), (1, 1_480, 0xAAAA));
    assert!(b.marker, "a new source starts a talk spurt");
    // Loss and reordering inside the source show through unchanged.
    let c = out.rewrite(ms(100), &view(2, 9, 123_776, false, 8), 8);
    assert_eq!((c.seq, c.timestamp), (3, 1_800));
    let late = out.rewrite(ms(101), &view(2, 8, 123_616, false, 8), 8);
    assert_eq!((late.seq, late.timestamp), (2, 1_640));
    // A third source after a 1 s pause: on the 20 ms grid, one second on.
    let d = out.rewrite(ms(1_100), &view(3, 40_000, 5, false, 0), 0);
    assert_eq!((d.seq, d.timestamp), (4, 1_800 + 8_000));
}

#[test]
fn a_hold_marks_the_first_packet_after_it() {
    let t0 = StdInstant::now();
    let mut out = OutStream::new(Ssrc(1), SeqNo(0), MediaTime(0));
    out.rewrite(t0, &view(5, 0, 0, false, 0), 0);
    assert!(!out.rewrite(t0, &view(5, 1, 160, false, 0), 0).marker);
    out.interrupt();
    let h = out.rewrite(t0, &view(5, 50, 8_000, false, 0), 0);
    assert!(h.marker);
    assert_eq!(
        (h.seq, h.timestamp),
        (50, 8_000),
        "the hold's gap shows as time passing"
    );
}

fn remote(addr: SocketAddr, codec: Codec, telephone_event: Option<u8>) -> RemoteMedia {
    RemoteMedia {
        addr,
        codec,
        telephone_event,
        direction: crate::sdp::Direction::SendRecv,
        on_hold: false,
    }
}

const CALLEE: &str = "192.0.2.10:4000";
const AGENT: &str = "198.51.100.20:6000";

/// A relay task that is never run: its `relay` decides what each datagram becomes.
async fn task(
    callee: (Codec, Option<u8>),
    agent: (Codec, Option<u8>),
) -> (Task, mpsc::Receiver<RelayEvent>) {
    let leg = |addr: &str, (codec, pt): (Codec, Option<u8>)| {
        let addr = addr.parse().unwrap();
        async move {
            Leg::new(
                UdpSocket::bind("127.0.0.1:0").await.unwrap(),
                None,
                remote(addr, codec, pt),
            )
        }
    };
    let (callee, agent) = (leg(CALLEE, callee).await, leg(AGENT, agent).await);
    let (events_tx, events) = mpsc::channel(8);
    let now = Instant::now();
    let state = |leg: &Leg| LegState {
        remote: leg.remote.clone(),
        peer: Peer::new(leg.remote.addr, false, false),
        out: leg.stream.clone(),
        reception: Reception::default(),
        detector: Detector::new(),
        held: false,
        last_heard: now,
        timed_out: false,
        foreign_unlogged: 0,
        foreign_logged_at: None,
    };
    let legs = [state(&callee), state(&agent)];
    let task = Task {
        sockets: [callee.socket, agent.socket],
        legs,
        counters: Arc::new(RelayCounters::default()),
        events: events_tx,
        recorder: None,
        epoch: now,
        config: RelayConfig::default(),
        ports: [None, None],
    };
    (task, events)
}

fn rtp(pt: u8, seq: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = [0u8; HEADER_LEN].to_vec();
    packet::OutHeader {
        marker: false,
        payload_type: pt,
        seq,
        timestamp,
        ssrc: 0x5151,
    }
    .write(&mut p);
    p.extend_from_slice(payload);
    p
}

/// Runs one datagram through the task: what goes out, parsed, and where to.
fn through(
    task: &mut Task,
    side: Side,
    from: &str,
    datagram: &[u8],
) -> Option<(RtpView, Vec<u8>, SocketAddr)> {
    let mut out = [0u8; RECV_BUFFER];
    let (len, to) = task.relay(
        side.index(),
        datagram,
        from.parse().unwrap(),
        Instant::now(),
        &mut out,
    )?;
    let view = RtpView::parse(&out[..len]).unwrap();
    Some((view, out[view.payload_start..view.payload_end].to_vec(), to))
}

#[tokio::test]
async fn audio_is_transcoded_both_ways_and_passed_through_between_equals() {
    let (mut t, _events) = task((Codec::Pcmu, Some(101)), (Codec::Pcma, Some(96))).await;
    let ulaw: Vec<u8> = (0..160).map(|i| i as u8).collect();
    let (h, payload, to) = through(&mut t, Side::Callee, CALLEE, &rtp(0, 1, 0, &ulaw)).unwrap();
    assert_eq!(to, AGENT.parse().unwrap());
    assert_eq!(h.payload_type, 8);
    let mut want = vec![0u8; 160];
    transcode::transcode(Codec::Pcmu, Codec::Pcma, &ulaw, &mut want);
    assert_eq!(payload, want);

    let alaw = vec![0x55u8; 160];
    let (h, payload, to) = through(&mut t, Side::Agent, AGENT, &rtp(8, 1, 0, &alaw)).unwrap();
    assert_eq!((h.payload_type, to), (0, CALLEE.parse().unwrap()));
    assert_eq!(
        payload,
        vec![Codec::Pcmu.encode(Codec::Pcma.decode(0x55)); 160]
    );

    let (mut t, _events) = task((Codec::Pcma, None), (Codec::Pcma, None)).await;
    let (h, payload, _) = through(&mut t, Side::Callee, CALLEE, &rtp(8, 1, 0, &alaw)).unwrap();
    assert_eq!((h.payload_type, payload), (8, alaw));
}

#[tokio::test]
async fn digits_take_the_other_legs_event_type_or_are_only_reported() {
    let (mut t, mut events) = task((Codec::Pcmu, Some(101)), (Codec::Pcmu, Some(96))).await;
    let event = [5u8, 10, 0, 160];
    let (h, payload, _) = through(&mut t, Side::Callee, CALLEE, &rtp(101, 1, 800, &event)).unwrap();
    assert_eq!((h.payload_type, payload.as_slice()), (96, &event[..]));
    assert!(matches!(
        events.try_recv(),
        Ok(RelayEvent::Digit {
            side: Side::Callee,
            digit: '5'
        })
    ));
    // The agent negotiated no telephone-event: nothing goes out, the digit is still told.
    let (mut t, mut events) = task((Codec::Pcmu, Some(101)), (Codec::Pcmu, None)).await;
    assert!(through(
        &mut t,
        Side::Callee,
        CALLEE,
        &rtp(101, 1, 800, &[11, 10, 0, 160])
    )
    .is_none());
    assert!(matches!(
        events.try_recv(),
        Ok(RelayEvent::Digit {
            side: Side::Callee,
            digit: '#'
        })
    ));
    // The agent's own event type from the callee is not an event on that leg.
    assert!(through(
        &mut t,
        Side::Agent,
        AGENT,
        &rtp(101, 1, 800, &[1, 10, 0, 160])
    )
    .is_none());
    assert!(events.try_recv().is_err());
    let stats = t.counters.leg(Side::Callee).snapshot();
    assert_eq!((stats.received, stats.not_relayed), (1, 1));
}

#[tokio::test]
async fn strangers_are_dropped_and_counted() {
    let (mut t, mut events) = task((Codec::Pcmu, Some(101)), (Codec::Pcmu, Some(101))).await;
    assert!(through(
        &mut t,
        Side::Callee,
        "203.0.113.66:4000",
        &rtp(101, 1, 0, &[1, 10, 0, 160])
    )
    .is_none());
    assert!(
        through(&mut t, Side::Callee, AGENT, &rtp(0, 1, 0, &[0xFF; 160])).is_none(),
        "the other leg's peer on this leg"
    );
    assert!(
        through(&mut t, Side::Callee, CALLEE, &[0x80, 0]).is_none(),
        "malformed"
    );
    assert!(events.try_recv().is_err(), "a stranger's digit is nobody's");
    let stats = t.counters.leg(Side::Callee).snapshot();
    assert_eq!(
        (
            stats.foreign,
            stats.malformed,
            stats.received,
            stats.dropped()
        ),
        (2, 1, 0, 3)
    );
    assert_eq!(t.counters.leg(Side::Agent).snapshot().sent, 0);
}

#[tokio::test]
async fn a_held_leg_gets_nothing_and_a_new_address_is_the_only_one_heard() {
    let (mut t, _events) = task((Codec::Pcmu, Some(101)), (Codec::Pcmu, Some(101))).await;
    t.command(RelayCommand::Hold(Side::Agent));
    assert!(through(&mut t, Side::Callee, CALLEE, &rtp(0, 1, 0, &[0xFF; 160])).is_none());
    assert!(
        through(&mut t, Side::Agent, AGENT, &rtp(0, 1, 0, &[0xFF; 160])).is_some(),
        "the held leg still talks"
    );
    t.command(RelayCommand::Resume(Side::Agent));
    let (h, _, _) = through(&mut t, Side::Callee, CALLEE, &rtp(0, 2, 160, &[0xFF; 160])).unwrap();
    assert!(h.marker);
    let moved: SocketAddr = "198.51.100.21:7000".parse().unwrap();
    t.command(RelayCommand::UpdateRemote(
        Side::Agent,
        remote(moved, Codec::Pcma, None),
    ));
    assert!(through(&mut t, Side::Agent, AGENT, &rtp(0, 2, 160, &[0xFF; 160])).is_none());
    let (h, _, to) = through(&mut t, Side::Callee, CALLEE, &rtp(0, 3, 320, &[0xFF; 160])).unwrap();
    assert_eq!((to, h.payload_type), (moved, 8));
    assert!(through(
        &mut t,
        Side::Agent,
        "198.51.100.21:7000",
        &rtp(8, 9, 0, &[0xD5; 160])
    )
    .is_some());
}

#[tokio::test]
async fn loss_and_jitter_are_counted_per_leg() {
    let (mut t, _events) = task((Codec::Pcmu, None), (Codec::Pcmu, None)).await;
    for seq in [1u16, 2, 5] {
        through(
            &mut t,
            Side::Callee,
            CALLEE,
            &rtp(0, seq, u32::from(seq) * 160, &[0xFF; 160]),
        );
    }
    let stats = t.counters.leg(Side::Callee).snapshot();
    assert_eq!((stats.received, stats.lost), (3, 2));
    assert_eq!(t.counters.leg(Side::Agent).snapshot().received, 0);
}
