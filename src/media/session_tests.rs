//! Session timing on tokio's paused clock: minutes of media in milliseconds.

use super::*;
use crate::media::g711::Codec;
use crate::media::sdp::Direction;
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
