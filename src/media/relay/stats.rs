//! Reception statistics of one leg (RFC 3550 appendix A.1/A.3 loss from sequence gaps, A.8
//! interarrival jitter) and the relay-added delay histogram, published as relaxed atomics
//! (the arithmetic is pure: arrival times are inputs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (exclusive) of the delay histogram's buckets, in microseconds; the last
/// bucket takes everything from 20 ms on.
pub const DELAY_BUCKETS_US: [u64; 9] = [50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000];

/// What one leg's relay counts. Read with [`LegCounters::snapshot`].
#[derive(Debug, Default)]
pub struct LegCounters {
    /// RTP packets from the leg's far end, accepted.
    pub received: AtomicU64,
    /// Packets sent to the leg.
    pub sent: AtomicU64,
    /// Datagrams from anyone but the leg's negotiated far end, dropped.
    pub foreign: AtomicU64,
    /// Datagrams from the far end dropped as not RTP version 2.
    pub malformed: AtomicU64,
    /// Packets from the far end not relayed: a payload type that is neither G.711 nor its
    /// telephone-event, events for a leg that takes none, anything while the other leg is
    /// on hold.
    pub not_relayed: AtomicU64,
    /// Sends to the leg the socket refused.
    pub send_failed: AtomicU64,
    /// Packets the leg's far end sent that never arrived, from sequence-number gaps.
    pub lost: AtomicU64,
    /// RFC 3550 interarrival jitter of the leg's far end, in microseconds.
    pub jitter_us: AtomicU64,
    /// Time from receiving a packet from the other leg to sending it to this one.
    pub delay: [AtomicU64; DELAY_BUCKETS_US.len() + 1],
}

/// A copy of [`LegCounters`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegStats {
    /// See [`LegCounters::received`].
    pub received: u64,
    /// See [`LegCounters::sent`].
    pub sent: u64,
    /// See [`LegCounters::foreign`].
    pub foreign: u64,
    /// See [`LegCounters::malformed`].
    pub malformed: u64,
    /// See [`LegCounters::not_relayed`].
    pub not_relayed: u64,
    /// See [`LegCounters::send_failed`].
    pub send_failed: u64,
    /// See [`LegCounters::lost`].
    pub lost: u64,
    /// See [`LegCounters::jitter_us`].
    pub jitter_us: u64,
    /// Packets per delay bucket (bounds in [`DELAY_BUCKETS_US`]).
    pub delay: [u64; DELAY_BUCKETS_US.len() + 1],
}

impl LegStats {
    /// Every datagram dropped: foreign, malformed and not relayed.
    pub fn dropped(&self) -> u64 {
        self.foreign + self.malformed + self.not_relayed
    }

    /// The delay bucket bound under which at least `fraction` of the relayed packets fall
    /// (`None` for the last, open bucket, or when nothing was relayed).
    pub fn delay_quantile_us(&self, fraction: f64) -> Option<u64> {
        let total: u64 = self.delay.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (total as f64 * fraction).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.delay.iter().enumerate() {
            seen += n;
            if seen >= want {
                return DELAY_BUCKETS_US.get(i).copied();
            }
        }
        None
    }
}

impl LegCounters {
    /// All zero (usable in a `static`).
    pub const fn new() -> LegCounters {
        LegCounters {
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            not_relayed: AtomicU64::new(0),
            send_failed: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            jitter_us: AtomicU64::new(0),
            delay: [const { AtomicU64::new(0) }; DELAY_BUCKETS_US.len() + 1],
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> LegStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LegStats {
            received: get(&self.received),
            sent: get(&self.sent),
            foreign: get(&self.foreign),
            malformed: get(&self.malformed),
            not_relayed: get(&self.not_relayed),
            send_failed: get(&self.send_failed),
            lost: get(&self.lost),
            jitter_us: get(&self.jitter_us),
            delay: std::array::from_fn(|i| get(&self.delay[i])),
        }
    }

    /// Adds what the leg sent and heard to the node's metrics (at the relay's end).
    pub fn report_metrics(&self) {
        let s = self.snapshot();
        crate::metrics::global().rtp(crate::metrics::RtpTotals {
            sent: s.sent,
            received: s.received,
            lost: s.lost,
            jitter_us: (s.received > 0).then_some(s.jitter_us),
        });
    }

    /// Counts one packet relayed to this leg after `delay` in the relay.
    pub fn add_delay(&self, delay: Duration) {
        let us = delay.as_micros() as u64;
        let bucket = DELAY_BUCKETS_US
            .iter()
            .position(|&bound| us < bound)
            .unwrap_or(DELAY_BUCKETS_US.len());
        self.delay[bucket].fetch_add(1, Ordering::Relaxed);
    }
}

/// The far end's stream as it arrives: sequence tracking for loss, transit for jitter.
#[derive(Debug, Clone, Default)]
pub struct Reception {
    ssrc: Option<u32>,
    /// First extended sequence number of the current source.
    base: u64,
    /// Highest extended sequence number of the current source.
    max: u64,
    /// Packets received from the current source.
    received: u64,
    /// Loss of the sources before the current one.
    lost_before: u64,
    /// Last transit time (arrival minus RTP timestamp, in media time units), audio only.
    transit: Option<i64>,
    /// Jitter in media time units, ×16 (RFC 3550's integer form).
    jitter16: u64,
}

impl Reception {
    /// A packet with `ssrc` and `seq` arrived.
    pub fn packet(&mut self, ssrc: u32, seq: u16) {
        if self.ssrc != Some(ssrc) {
            self.lost_before += self.lost_current();
            self.ssrc = Some(ssrc);
            self.base = u64::from(seq) + (1 << 16);
            self.max = self.base;
            self.received = 1;
            self.transit = None;
            return;
        }
        self.received += 1;
        // Extend `seq` to the value nearest the highest so far (wrap both ways).
        let delta = seq.wrapping_sub(self.max as u16) as i16 as i64;
        let extended = (self.max as i64 + delta).max(0) as u64;
        self.max = self.max.max(extended);
    }

    /// An audio packet with RTP `timestamp` arrived at `arrival` (media time units of any
    /// fixed origin): updates the jitter (RFC 3550 A.8).
    pub fn audio(&mut self, timestamp: u32, arrival: u64) {
        let transit = arrival as i64 - i64::from(timestamp);
        if let Some(previous) = self.transit {
            // Timestamps wrap at 2^32: take the difference modulo that.
            let d = (transit - previous) as i32 as i64;
            let d = d.unsigned_abs();
            // J += (|D| - J) / 16, with J kept ×16 to stay in integers.
            self.jitter16 = self.jitter16 + d - self.jitter16 / 16;
        }
        self.transit = Some(transit);
    }

    /// Packets lost so far (expected from the sequence numbers less received; never below 0).
    pub fn lost(&self) -> u64 {
        self.lost_before + self.lost_current()
    }

    /// The jitter, in media time units.
    pub fn jitter_units(&self) -> u64 {
        self.jitter16 / 16
    }

    fn lost_current(&self) -> u64 {
        if self.ssrc.is_none() {
            return 0;
        }
        (self.max - self.base + 1).saturating_sub(self.received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_the_gaps_in_the_sequence_across_a_wrap() {
        let mut r = Reception::default();
        for seq in [65533u16, 65534, 65535, 2, 3] {
            r.packet(7, seq);
        }
        assert_eq!(r.lost(), 2, "0 and 1 missing");
        r.packet(7, 1); // late
        assert_eq!(r.lost(), 1);
        r.packet(7, 1); // duplicate: counts as received, as RFC 3550 does
        assert_eq!(r.lost(), 0);
    }

    #[test]
    fn a_new_source_keeps_the_old_loss_and_starts_afresh() {
        let mut r = Reception::default();
        r.packet(1, 10);
        r.packet(1, 13);
        r.packet(2, 500);
        r.packet(2, 501);
        assert_eq!(r.lost(), 2);
    }

    #[test]
    fn steady_packets_have_no_jitter_and_a_late_one_adds_a_sixteenth() {
        let mut r = Reception::default();
        for i in 0..50u32 {
            r.audio(i * 160, 1_000 + u64::from(i) * 160);
        }
        assert_eq!(r.jitter_units(), 0);
        // 80 units (10 ms) late.
        r.audio(50 * 160, 1_000 + 50 * 160 + 80);
        assert_eq!(r.jitter_units(), 80 / 16);
    }

    #[test]
    fn delays_fall_in_their_buckets() {
        let c = LegCounters::default();
        c.add_delay(Duration::from_micros(10));
        c.add_delay(Duration::from_micros(150));
        c.add_delay(Duration::from_millis(30));
        let s = c.snapshot();
        assert_eq!(s.delay[0], 1);
        assert_eq!(s.delay[2], 1);
        assert_eq!(s.delay[DELAY_BUCKETS_US.len()], 1);
        assert_eq!(s.delay_quantile_us(0.5), Some(200));
        assert_eq!(s.delay_quantile_us(1.0), None);
    }
}
