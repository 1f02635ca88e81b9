//! A lock-free histogram: one relaxed atomic per bucket, the sum in nanoseconds. Observing
//! is a scan of a dozen bounds and two atomic adds, cheap enough for every attempt.

use super::exposition::{Labels, Writer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Observations of a duration, by fixed bucket.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds (inclusive) of the buckets, in nanoseconds, ascending.
    bounds: &'static [u64],
    /// Observations per bucket (not cumulative); the last one is above every bound.
    buckets: Box<[AtomicU64]>,
    /// Sum of the observations, in nanoseconds.
    sum_ns: AtomicU64,
}

impl Histogram {
    /// An empty histogram over `bounds` (nanoseconds, ascending).
    pub fn new(bounds: &'static [u64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Counts one observation of `d`.
    pub fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = self
            .bounds
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(self.bounds.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// A copy: cumulative counts per bound, the total count and the sum in seconds.
    pub fn snapshot(&self) -> Snapshot {
        let mut cumulative = Vec::with_capacity(self.bounds.len());
        let mut total = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            total += bucket.load(Ordering::Relaxed);
            if i < self.bounds.len() {
                cumulative.push(total);
            }
        }
        Snapshot {
            bounds: self.bounds,
            cumulative,
            count: total,
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// A histogram at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    bounds: &'static [u64],
    /// Observations at or below each bound.
    pub cumulative: Vec<u64>,
    /// Every observation.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_seconds: f64,
}

impl Snapshot {
    /// Writes the `_bucket`, `_sum` and `_count` samples of `name` with `labels`.
    pub fn write(&self, out: &mut Writer, name: &str, labels: &Labels) {
        let bucket = format!("{name}_bucket");
        for (bound, n) in self.bounds.iter().zip(&self.cumulative) {
            let le = (*bound as f64 / 1e9).to_string();
            out.sample(&bucket, &labels.with("le", &le), *n as f64);
        }
        out.sample(&bucket, &labels.with("le", "+Inf"), self.count as f64);
        out.sample(&format!("{name}_sum"), labels, self.sum_seconds);
        out.sample(&format!("{name}_count"), labels, self.count as f64);
    }
}

/// Bucket bounds in nanoseconds, from milliseconds.
pub const fn ms(v: u64) -> u64 {
    v * 1_000_000
}

/// Bucket bounds in nanoseconds, from microseconds.
pub const fn us(v: u64) -> u64 {
    v * 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    static BOUNDS: [u64; 3] = [ms(1), ms(10), ms(100)];

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_holds_them_and_add_up() {
        let h = Histogram::new(&BOUNDS);
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(10)); // the bound is inclusive
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_secs(3));
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![1, 2, 3]);
        assert_eq!(s.count, 4);
        assert!((s.sum_seconds - 3.0605).abs() < 1e-9, "{}", s.sum_seconds);
    }
}
