//! A far end for media tests: a plain UDP socket on loopback that records what a
//! `MediaSession` sends and sends RTP of its own, built by hand.

use ringmaster::media::g711::Codec;
use ringmaster::media::session::parse_rtp;
use ringmaster::sdp::{Direction, RemoteMedia};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The telephone-event payload type the far end answers with.
pub const EVENT_PT: u8 = 101;

/// One packet as the far end saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub marker: bool,
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

/// A UDP socket on loopback playing the far end.
pub struct FarEnd {
    pub socket: UdpSocket,
    seq: u16,
}

impl FarEnd {
    pub async fn bind() -> FarEnd {
        FarEnd {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            seq: 1000,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// What its SDP answer would say: PCMU, telephone-events, sendrecv.
    pub fn remote(&self) -> RemoteMedia {
        RemoteMedia {
            addr: self.addr(),
            codec: Codec::Pcmu,
            telephone_event: Some(EVENT_PT),
            direction: Direction::SendRecv,
            on_hold: false,
        }
    }

    /// Records every RTP packet that arrives within `window`.
    pub async fn record(&self, window: Duration) -> Vec<Received> {
        let end = Instant::now() + window;
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(Ok((n, _))) =
            tokio::time::timeout_at(end, self.socket.recv_from(&mut buf)).await
        {
            let at = Instant::now();
            let (h, payload) = parse_rtp(&buf[..n]).expect("valid RTP from the session");
            out.push(Received {
                at,
                marker: h.marker,
                payload_type: h.payload_type,
                seq: h.sequence_number,
                timestamp: h.timestamp,
                ssrc: h.ssrc,
                payload: payload.to_vec(),
            });
        }
        out
    }

    /// Sends one RTP packet to `to`.
    pub async fn send_rtp(
        &mut self,
        to: SocketAddr,
        pt: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
    ) {
        let mut p = vec![0x80, (pt & 0x7F) | if marker { 0x80 } else { 0 }];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&timestamp.to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        p.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.socket.send_to(&p, to).await.unwrap();
    }

    /// Sends one RFC 4733 event the way phones do: start with marker, updates every 20 ms,
    /// then the end packet three times.
    pub async fn send_digit(&mut self, to: SocketAddr, code: u8, timestamp: u32) {
        for (i, duration) in [160u16, 320, 480, 640].into_iter().enumerate() {
            let d = duration.to_be_bytes();
            self.send_rtp(to, EVENT_PT, i == 0, timestamp, &[code, 10, d[0], d[1]])
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for _ in 0..3 {
            let d = 800u16.to_be_bytes();
            self.send_rtp(
                to,
                EVENT_PT,
                false,
                timestamp,
                &[code, 0x80 | 10, d[0], d[1]],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Every event that arrives within `window`.
pub async fn events_within<E>(events: &mut mpsc::Receiver<E>, window: Duration) -> Vec<E> {
    let end = Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout_at(end, events.recv()).await {
        out.push(e);
    }
    out
}

/// Root mean square of decoded samples.
pub fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

/// A session socket on loopback.
pub async fn session_socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}
