//! Events per second over the last few whole seconds, lock-free: a ring of per-second
//! counters, each tagged with the second it counts. Time is an input (seconds since any fixed
//! origin), so the arithmetic is tested without a clock.

use std::sync::atomic::{AtomicU64, Ordering};

/// Slots in the ring: the seconds averaged, the second being counted, and one spare that is
/// cleared before it is reused.
const SLOTS: usize = 8;

/// Whole seconds averaged by [`RateWindow::per_second`].
pub const WINDOW_SECS: u64 = 5;

/// Counts of the last [`SLOTS`] seconds.
#[derive(Debug, Default)]
pub struct RateWindow {
    counts: [AtomicU64; SLOTS],
    /// The second each slot counts (plus one: 0 is a slot never used).
    seconds: [AtomicU64; SLOTS],
}

impl RateWindow {
    /// Counts `n` events in second `now`.
    pub fn add(&self, now: u64, n: u64) {
        let i = (now % SLOTS as u64) as usize;
        let tag = now + 1;
        let seen = self.seconds[i].load(Ordering::Relaxed);
        if seen != tag
            && self.seconds[i]
                .compare_exchange(seen, tag, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // The slot held an older second: it starts again (an add racing this store may
            // be lost, a small error for a gauge).
            self.counts[i].store(0, Ordering::Relaxed);
        }
        self.counts[i].fetch_add(n, Ordering::Relaxed);
    }

    /// Events per second over the [`WINDOW_SECS`] whole seconds before `now` (the second
    /// under way is not complete yet).
    pub fn per_second(&self, now: u64) -> f64 {
        let mut total = 0;
        for s in now.saturating_sub(WINDOW_SECS)..now {
            let i = (s % SLOTS as u64) as usize;
            if self.seconds[i].load(Ordering::Relaxed) == s + 1 {
                total += self.counts[i].load(Ordering::Relaxed);
            }
        }
        total as f64 / WINDOW_SECS as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_averages_the_last_whole_seconds_and_forgets_older_ones() {
        let r = RateWindow::default();
        assert_eq!(r.per_second(100), 0.0);
        for s in 100..105 {
            r.add(s, 10);
        }
        r.add(105, 1000); // the second under way does not count yet
        assert_eq!(r.per_second(105), 10.0);
        assert_eq!(r.per_second(106), (40.0 + 1000.0) / 5.0);
        // Long quiet: the old slots are not read again, and reuse clears them.
        assert_eq!(r.per_second(200), 0.0);
        r.add(200, 5);
        assert_eq!(r.per_second(201), 1.0);
    }
}
