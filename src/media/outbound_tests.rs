use super::*;
use crate::media::session::parse_rtp;

fn stream(codec: Codec) -> Outbound {
    Outbound::new(
        Ssrc(0xdead_beef),
        SeqNo(65534),
        MediaTime(u32::MAX - 200),
        codec,
        Some(101),
        true,
    )
}

/// A sent packet: (marker, payload type, sequence number, timestamp, payload).
type Sent = (bool, u8, u16, u32, Vec<u8>);

/// Runs `slots` ticks; returns the packets and the events.
fn run(out: &mut Outbound, slots: usize) -> (Vec<Sent>, Vec<MediaEvent>) {
    let (mut packets, mut events) = (Vec::new(), Vec::new());
    for _ in 0..slots {
        let mut buf = [0u8; MAX_PACKET];
        let len = out.tick(&mut buf, &mut |e| events.push(e));
        if len > 0 {
            let (h, payload) = parse_rtp(&buf[..len]).unwrap();
            assert_eq!(h.ssrc, 0xdead_beef);
            packets.push((
                h.marker,
                h.payload_type,
                h.sequence_number,
                h.timestamp,
                payload.to_vec(),
            ));
        }
    }
    (packets, events)
}

#[test]
fn a_prompt_is_sent_in_20ms_frames_then_silence() {
    let mut out = stream(Codec::Pcmu);
    let samples: Arc<[i16]> = vec![1000i16; 400].into();
    let mut events = Vec::new();
    out.play(7, samples, false, &mut |e| events.push(e));
    let (packets, events) = run(&mut out, 5);
    assert_eq!(packets.len(), 5);
    assert_eq!(
        events,
        [MediaEvent::PlayFinished {
            id: 7,
            interrupted: false
        }]
    );
    for (i, p) in packets.iter().enumerate() {
        assert_eq!(p.0, i == 0, "marker only on the first");
        assert_eq!(p.1, 0);
        assert_eq!(p.2, 65534u16.wrapping_add(i as u16));
        assert_eq!(p.3, (u32::MAX - 200).wrapping_add(160 * i as u32));
        assert_eq!(p.4.len(), 160);
    }
    let code = Codec::Pcmu.encode(1000);
    assert!(packets[0].4.iter().all(|&b| b == code));
    // Third frame: 80 samples of prompt, then silence.
    assert!(packets[2].4[..80].iter().all(|&b| b == code));
    assert!(packets[2].4[80..].iter().all(|&b| b == 0xFF));
    assert!(packets[3].4.iter().all(|&b| b == 0xFF));
}

#[test]
fn stopping_and_replacing_report_the_interruption() {
    let mut out = stream(Codec::Pcma);
    let mut events = Vec::new();
    let long: Arc<[i16]> = vec![500i16; 8000].into();
    out.play(1, long.clone(), false, &mut |e| events.push(e));
    out.barge_in(&mut |e| events.push(e));
    assert!(events.is_empty(), "not interruptible");
    out.play(2, long.clone(), true, &mut |e| events.push(e));
    out.barge_in(&mut |e| events.push(e));
    out.play(3, long, false, &mut |e| events.push(e));
    out.stop(&mut |e| events.push(e));
    out.stop(&mut |e| events.push(e));
    assert_eq!(
        events,
        [
            MediaEvent::PlayFinished {
                id: 1,
                interrupted: true
            },
            MediaEvent::PlayFinished {
                id: 2,
                interrupted: true
            },
            MediaEvent::PlayFinished {
                id: 3,
                interrupted: true
            },
        ]
    );
    assert!(!out.is_playing());
}

#[test]
fn digits_go_out_as_events_sharing_one_timestamp() {
    let mut out = stream(Codec::Pcmu);
    let mut events = Vec::new();
    out.send_digits("1", 60, 0, &mut |e| events.push(e));
    let (packets, events) = run(&mut out, 7);
    // 60 ms = 3 packets (the third ends), two end retransmissions, then audio.
    let kinds: Vec<u8> = packets.iter().map(|p| p.1).collect();
    assert_eq!(kinds, [101, 101, 101, 101, 101, 0, 0]);
    assert!(packets[..5].iter().all(|p| p.3 == packets[0].3));
    assert!(packets[0].0 && !packets[1].0);
    assert!(packets[5].0, "audio after an event starts a talk spurt");
    assert_eq!(packets[5].3, packets[0].3.wrapping_add(5 * 160));
    let ends = packets[..5].iter().filter(|p| p.4[1] & 0x80 != 0).count();
    assert_eq!(ends, 3);
    assert_eq!(events, [MediaEvent::DigitsSent]);
}

#[test]
fn without_telephone_events_digits_are_reported_sent_at_once() {
    let mut out = Outbound::new(Ssrc(1), SeqNo(0), MediaTime(0), Codec::Pcmu, None, true);
    let mut events = Vec::new();
    out.send_digits("12", 100, 50, &mut |e| events.push(e));
    assert_eq!(events, [MediaEvent::DigitsSent]);
}

#[test]
fn a_far_end_that_will_not_receive_gets_nothing_but_prompts_still_finish() {
    let mut out = Outbound::new(
        Ssrc(1),
        SeqNo(0),
        MediaTime(0),
        Codec::Pcmu,
        Some(101),
        false,
    );
    let mut events = Vec::new();
    out.play(9, vec![0i16; 320].into(), false, &mut |e| events.push(e));
    let (packets, events) = run(&mut out, 3);
    assert!(packets.is_empty());
    assert_eq!(
        events,
        [MediaEvent::PlayFinished {
            id: 9,
            interrupted: false
        }]
    );
}

#[test]
fn a_hold_pauses_the_prompt_and_a_resume_carries_on_where_it_stopped() {
    let mut out = stream(Codec::Pcmu);
    let mut events = Vec::new();
    // Ten frames of prompt.
    out.play(4, vec![1000i16; 1600].into(), false, &mut |e| {
        events.push(e)
    });
    let (before, _) = run(&mut out, 4);
    out.update(Codec::Pcmu, Some(101), false, &mut |e| events.push(e));
    assert!(out.is_held());
    let (held, held_events) = run(&mut out, 50);
    assert!(held.is_empty(), "nothing is sent while held");
    assert!(held_events.is_empty(), "the prompt waits");
    assert!(out.is_playing());

    // Resumed with PCMA: six frames of prompt left, then silence.
    out.update(Codec::Pcma, Some(101), true, &mut |e| events.push(e));
    assert!(!out.is_held());
    let (after, after_events) = run(&mut out, 8);
    assert!(events.is_empty());
    assert_eq!(
        after_events,
        [MediaEvent::PlayFinished {
            id: 4,
            interrupted: false
        }]
    );
    assert_eq!(after.len(), 8);
    assert!(
        after[0].0,
        "the first packet after the hold starts a talk spurt"
    );
    assert!(after[1..].iter().all(|p| !p.0));
    assert!(after.iter().all(|p| p.1 == 8), "the new payload type");
    let prompt = Codec::Pcma.encode(1000);
    assert!(after[..6].iter().all(|p| p.4.iter().all(|&b| b == prompt)));
    assert!(after[6..].iter().all(|p| p.4.iter().all(|&b| b == 0xD5)));
    // Sequence numbers run on without a gap; media time kept running through the hold.
    let last = before.last().unwrap();
    assert_eq!(after[0].2, last.2.wrapping_add(1));
    assert_eq!(after[0].3, last.3.wrapping_add(51 * 160));
}

#[test]
fn digits_wait_out_a_hold_and_are_dropped_when_events_are_no_longer_taken() {
    let mut out = stream(Codec::Pcmu);
    let mut events = Vec::new();
    out.send_digits("1", 60, 0, &mut |e| events.push(e));
    out.update(Codec::Pcmu, Some(101), false, &mut |e| events.push(e));
    let (held, held_events) = run(&mut out, 20);
    assert!(held.is_empty() && held_events.is_empty());
    out.update(Codec::Pcmu, Some(101), true, &mut |e| events.push(e));
    let (packets, sent) = run(&mut out, 6);
    let kinds: Vec<u8> = packets.iter().map(|p| p.1).collect();
    assert_eq!(kinds, [101, 101, 101, 101, 101, 0]);
    assert_eq!(sent, [MediaEvent::DigitsSent]);

    out.send_digits("2", 60, 0, &mut |e| events.push(e));
    out.update(Codec::Pcmu, None, true, &mut |e| events.push(e));
    assert_eq!(events, [MediaEvent::DigitsSent]);
    let (packets, _) = run(&mut out, 2);
    assert!(packets.iter().all(|p| p.1 == 0));
}
