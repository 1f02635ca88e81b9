//! One outgoing stream of the relay: packets from the other leg go out with this stream's
//! own SSRC, and sequence numbers and timestamps that run on across a change of the source's
//! SSRC (a prompt played before the bridge, a phone that restarts its stream), so the far
//! end sees one stream from start to end (pure: `now` is an input).

use crate::media::ids::{MediaTime, SeqNo, Ssrc};
use crate::media::relay::packet::{OutHeader, RtpView};
use tokio::time::Instant;

/// Media time units per millisecond at 8 kHz.
const UNITS_PER_MS: u64 = 8;
/// A 20 ms packet's worth of media time: the least a new source moves the timestamp on.
const PACKET_UNITS: u32 = 160;

/// The source currently relayed and how its numbers map onto the stream's.
#[derive(Debug, Clone, Copy)]
struct Source {
    ssrc: u32,
    seq_offset: u16,
    ts_offset: u32,
}

/// The relay's stream towards one leg.
#[derive(Debug, Clone)]
pub struct OutStream {
    ssrc: Ssrc,
    /// The next sequence number when nothing was sent yet; after that, one past the
    /// highest sent.
    next_seq: SeqNo,
    /// The timestamp of the first packet, or the highest sent.
    time: MediaTime,
    /// When the packet with the highest timestamp was sent.
    sent_at: Option<Instant>,
    source: Option<Source>,
    /// The next packet carries the marker bit (a new source, or the end of a hold).
    marker: bool,
}

impl OutStream {
    /// A stream that starts with these ids (random in production; those of the session
    /// that played to the leg before the bridge, so the far end sees one stream).
    pub fn new(ssrc: Ssrc, seq: SeqNo, time: MediaTime) -> OutStream {
        OutStream {
            ssrc,
            next_seq: seq,
            time,
            sent_at: None,
            source: None,
            marker: true,
        }
    }

    /// The stream's SSRC.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Sending paused (the leg is on hold): the next packet sent starts a talk spurt.
    pub fn interrupt(&mut self) {
        self.marker = true;
    }

    /// The header for relaying `packet` (received from the other leg at `now`) with
    /// payload type `payload_type`. Within one source, gaps and reordering show through
    /// unchanged; a new source continues one past the highest sequence number and at the
    /// highest timestamp plus the time since it was sent (at least one packet's worth).
    pub fn rewrite(&mut self, now: Instant, packet: &RtpView, payload_type: u8) -> OutHeader {
        let source = match self.source {
            Some(s) if s.ssrc == packet.ssrc => s,
            _ => {
                let time = match self.sent_at {
                    None => self.time.0,
                    Some(at) => {
                        let ms = now.saturating_duration_since(at).as_millis() as u64;
                        // Whole packets of the time since, so the new source's timestamps
                        // fall on the same 20 ms grid.
                        let packets = (ms * UNITS_PER_MS + u64::from(PACKET_UNITS) / 2)
                            / u64::from(PACKET_UNITS);
                        let units = (packets.max(1) * u64::from(PACKET_UNITS)) as u32;
                        self.time.0.wrapping_add(units)
                    }
                };
                let s = Source {
                    ssrc: packet.ssrc,
                    seq_offset: self.next_seq.0.wrapping_sub(packet.seq),
                    ts_offset: time.wrapping_sub(packet.timestamp),
                };
                self.source = Some(s);
                self.marker = true;
                s
            }
        };
        let seq = packet.seq.wrapping_add(source.seq_offset);
        let timestamp = packet.timestamp.wrapping_add(source.ts_offset);
        // Serial-number arithmetic: only a newer packet moves the stream's high marks.
        if self.sent_at.is_none() || (seq.wrapping_sub(self.next_seq.0) as i16) >= 0 {
            self.next_seq = SeqNo(seq.wrapping_add(1));
        }
        if self.sent_at.is_none() || (timestamp.wrapping_sub(self.time.0) as i32) >= 0 {
            self.time = MediaTime(timestamp);
            self.sent_at = Some(now);
        }
        let marker = packet.marker || std::mem::take(&mut self.marker);
        OutHeader {
            marker,
            payload_type,
            seq,
            timestamp,
            ssrc: self.ssrc.0,
        }
    }
}
