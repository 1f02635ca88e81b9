//! The node's relays taken together: how many run now (bridged calls), their peak, how many
//! have started, and the counters of every relay that has ended, folded per side. A call's own
//! counters end with it; these are what an operator or a load run reads about the whole node.

use super::stats::{LegCounters, LegStats};
use super::RelayCounters;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (exclusive) of the buckets that count ended legs by their final RFC 3550
/// interarrival jitter, in microseconds; the last bucket takes everything from 40 ms on.
pub const JITTER_BUCKETS_US: [u64; 10] = [
    100, 250, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 20_000, 40_000,
];

/// Every relay of this process.
#[derive(Debug, Default)]
pub struct RelayTotals {
    running: AtomicU64,
    peak: AtomicU64,
    started: AtomicU64,
    ended: AtomicU64,
    /// Callee and agent sides, folded from ended relays (`jitter_us` holds the highest).
    legs: [LegCounters; 2],
    /// Ended legs per final jitter bucket (bounds in [`JITTER_BUCKETS_US`]), both sides.
    jitter: [AtomicU64; JITTER_BUCKETS_US.len() + 1],
}

/// A copy of [`RelayTotals`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayTotalsSnapshot {
    /// Relays running now.
    pub running: u64,
    /// The most that ran at once.
    pub peak: u64,
    /// Relays started.
    pub started: u64,
    /// Relays ended (their counters are in `legs`).
    pub ended: u64,
    /// Callee side, then agent side, of the ended relays; `jitter_us` is the highest of any
    /// leg.
    pub legs: [LegStats; 2],
    /// Ended legs per final jitter bucket.
    pub jitter: [u64; JITTER_BUCKETS_US.len() + 1],
}

impl RelayTotalsSnapshot {
    /// The jitter bucket bound under which at least `fraction` of the ended legs fall
    /// (`None` for the last, open bucket, or when no leg ended).
    pub fn jitter_quantile_us(&self, fraction: f64) -> Option<u64> {
        let total: u64 = self.jitter.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (total as f64 * fraction).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.jitter.iter().enumerate() {
            seen += n;
            if seen >= want {
                return JITTER_BUCKETS_US.get(i).copied();
            }
        }
        None
    }
}

static TOTALS: RelayTotals = RelayTotals {
    running: AtomicU64::new(0),
    peak: AtomicU64::new(0),
    started: AtomicU64::new(0),
    ended: AtomicU64::new(0),
    legs: [LegCounters::new(), LegCounters::new()],
    jitter: [const { AtomicU64::new(0) }; JITTER_BUCKETS_US.len() + 1],
};

/// The process's relays.
pub fn totals() -> &'static RelayTotals {
    &TOTALS
}

impl RelayTotals {
    /// A relay started.
    pub fn started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
        let now = self.running.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// A relay ended with `counters`.
    pub fn ended(&self, counters: &RelayCounters) {
        self.running.fetch_sub(1, Ordering::Relaxed);
        self.ended.fetch_add(1, Ordering::Relaxed);
        for (total, leg) in self.legs.iter().zip(&counters.legs) {
            let s = leg.snapshot();
            let add = |a: &AtomicU64, n: u64| {
                a.fetch_add(n, Ordering::Relaxed);
            };
            add(&total.received, s.received);
            add(&total.sent, s.sent);
            add(&total.foreign, s.foreign);
            add(&total.malformed, s.malformed);
            add(&total.not_relayed, s.not_relayed);
            add(&total.send_failed, s.send_failed);
            add(&total.lost, s.lost);
            total.jitter_us.fetch_max(s.jitter_us, Ordering::Relaxed);
            for (t, n) in total.delay.iter().zip(s.delay) {
                add(t, n);
            }
            if s.received > 0 {
                let bucket = JITTER_BUCKETS_US
                    .iter()
                    .position(|&bound| s.jitter_us < bound)
                    .unwrap_or(JITTER_BUCKETS_US.len());
                add(&self.jitter[bucket], 1);
            }
        }
    }

    /// The totals now.
    pub fn snapshot(&self) -> RelayTotalsSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RelayTotalsSnapshot {
            running: get(&self.running),
            peak: get(&self.peak),
            started: get(&self.started),
            ended: get(&self.ended),
            legs: [self.legs[0].snapshot(), self.legs[1].snapshot()],
            jitter: std::array::from_fn(|i| get(&self.jitter[i])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_relays_fold_into_the_totals_and_the_peak_stays() {
        let totals = RelayTotals::default();
        totals.started();
        totals.started();
        let one = RelayCounters::default();
        one.legs[0].received.store(50, Ordering::Relaxed);
        one.legs[0].lost.store(2, Ordering::Relaxed);
        one.legs[0].jitter_us.store(700, Ordering::Relaxed);
        one.legs[1].received.store(49, Ordering::Relaxed);
        one.legs[1].jitter_us.store(90, Ordering::Relaxed);
        totals.ended(&one);
        let s = totals.snapshot();
        assert_eq!((s.running, s.peak, s.started, s.ended), (1, 2, 2, 1));
        assert_eq!(s.legs[0].received, 50);
        assert_eq!(s.legs[0].lost, 2);
        assert_eq!(s.legs[0].jitter_us, 700);
        assert_eq!(s.jitter_quantile_us(0.5), Some(100), "one leg under 100 µs");
        assert_eq!(s.jitter_quantile_us(0.99), Some(1_000), "one under 1 ms");
    }

    #[test]
    fn no_ended_leg_has_no_jitter_quantile() {
        assert_eq!(
            RelayTotals::default().snapshot().jitter_quantile_us(0.99),
            None
        );
    }
}
