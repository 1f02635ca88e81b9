//! A token bucket per source IP for requests from outside our dialogs and trunks: a scanner or
//! a flood from one address is cut to a trickle while everyone else is served. The table of
//! sources is bounded; sources that do not fit share one overflow bucket, so a flood from
//! spoofed addresses cannot grow it either. Pure: time is an argument.

use crate::fast::FastMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How often, at most, a full table is swept for idle sources: a sweep visits every entry,
/// which must not happen once per packet of a flood.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One source's bucket: tokens left at `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            at: now,
        }
    }

    /// Refills for the time since `at`, then takes one token if there is one.
    fn take(&mut self, now: Instant, rate: f64, burst: f64) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-source token buckets with a bounded table.
#[derive(Debug)]
pub(super) struct SourceLimiter {
    /// Tokens per second; 0 turns the limiter off.
    rate: f64,
    /// Bucket size: how many requests a quiet source may send at once.
    burst: f64,
    max_sources: usize,
    buckets: FastMap<IpAddr, Bucket>,
    /// Shared by the sources the table has no room for.
    overflow: Option<Bucket>,
    last_sweep: Option<Instant>,
}

impl SourceLimiter {
    /// `rate` requests per second and bursts of `burst` per source, at most `max_sources`
    /// sources tracked apart. A rate of 0 admits everything.
    pub(super) fn new(rate: u32, burst: u32, max_sources: usize) -> SourceLimiter {
        SourceLimiter {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            max_sources,
            buckets: FastMap::default(),
            overflow: None,
            last_sweep: None,
        }
    }

    /// Whether a request from `source` at `now` is admitted (and counted).
    pub(super) fn admit(&mut self, now: Instant, source: IpAddr) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let (rate, burst) = (self.rate, self.burst);
        if let Some(b) = self.buckets.get_mut(&source) {
            return b.take(now, rate, burst);
        }
        if self.buckets.len() >= self.max_sources {
            self.sweep(now);
        }
        let bucket = if self.buckets.len() < self.max_sources {
            self.buckets
                .entry(source)
                .or_insert_with(|| Bucket::full(burst, now))
        } else {
            self.overflow
                .get_or_insert_with(|| Bucket::full(burst, now))
        };
        bucket.take(now, rate, burst)
    }

    /// How many sources are tracked apart.
    #[cfg(test)]
    pub(super) fn sources(&self) -> usize {
        self.buckets.len()
    }

    /// Forgets the sources whose bucket has refilled: they are as good as new.
    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|at| now.saturating_duration_since(at) < SWEEP_EVERY)
        {
            return;
        }
        self.last_sweep = Some(now);
        let refill = Duration::from_secs_f64(self.burst / self.rate);
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.at) < refill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn admitted(l: &mut SourceLimiter, now: Instant, source: IpAddr, tries: usize) -> usize {
        (0..tries).filter(|_| l.admit(now, source)).count()
    }

    #[test]
    fn a_source_gets_its_burst_then_the_rate() {
        let mut l = SourceLimiter::new(10, 20, 100);
        let t0 = Instant::now();
        assert_eq!(admitted(&mut l, t0, ip(1), 1000), 20);
        // Half a second later: five more tokens.
        assert_eq!(
            admitted(&mut l, t0 + Duration::from_millis(500), ip(1), 1000),
            5
        );
        // Ten seconds of quiet refill the bucket, but no further than the burst.
        assert_eq!(
            admitted(&mut l, t0 + Duration::from_millis(10_500), ip(1), 1000),
            20
        );
    }

    #[test]
    fn one_flooding_source_does_not_limit_another() {
        let mut l = SourceLimiter::new(10, 20, 100);
        let t0 = Instant::now();
        for ms in 0..1000 {
            admitted(&mut l, t0 + Duration::from_millis(ms), ip(1), 50);
        }
        assert_eq!(admitted(&mut l, t0 + Duration::from_secs(1), ip(2), 20), 20);
    }

    #[test]
    fn a_rate_of_zero_admits_everything_and_tracks_nobody() {
        let mut l = SourceLimiter::new(0, 20, 100);
        let t0 = Instant::now();
        assert_eq!(admitted(&mut l, t0, ip(1), 10_000), 10_000);
        assert_eq!(l.sources(), 0);
    }

    #[test]
    fn the_table_stays_bounded_and_the_newcomers_share_one_bucket() {
        let mut l = SourceLimiter::new(10, 5, 3);
        let t0 = Instant::now();
        for last in 1..=3 {
            assert!(l.admit(t0, ip(last)));
        }
        // Spoofed sources beyond the table: five requests between them, not five each.
        let newcomers = (10..=200).filter(|last| l.admit(t0, ip(*last))).count();
        assert_eq!(newcomers, 5);
        assert_eq!(l.sources(), 3);
    }

    #[test]
    fn idle_sources_make_room_once_their_bucket_has_refilled() {
        let mut l = SourceLimiter::new(10, 5, 2);
        let t0 = Instant::now();
        assert!(l.admit(t0, ip(1)));
        assert!(l.admit(t0, ip(2)));
        // Half a second: not refilled yet, the newcomer goes to the overflow bucket.
        let t1 = t0 + Duration::from_millis(400);
        assert!(l.admit(t1, ip(3)));
        assert_eq!(l.sources(), 2);
        // A second and a half: both idle buckets are full again and are forgotten.
        let t2 = t0 + Duration::from_millis(1500);
        assert!(l.admit(t2, ip(4)));
        assert_eq!(l.sources(), 1);
        assert_eq!(admitted(&mut l, t2, ip(4), 100), 4);
    }
}
