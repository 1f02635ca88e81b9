//! A trunk's calls-per-second limit as a token bucket: pure, time is an argument.

use std::time::{Duration, Instant};

/// A token bucket for calls per second: `rate` tokens a second, holding at most `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket refilling at `rate` per second. The burst is a tenth of a second's worth
    /// (at least one), so a tick of 10-20 ms never releases a whole second at once.
    pub fn new(rate: u32, now: Instant) -> TokenBucket {
        let rate = f64::from(rate.max(1));
        let burst = (rate / 10.0).max(1.0);
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Whole tokens available at `now`.
    pub fn available(&mut self, now: Instant) -> u32 {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        self.tokens.floor() as u32
    }

    /// Spends `n` tokens (after `available`).
    pub fn take(&mut self, n: u32) {
        self.tokens = (self.tokens - f64::from(n)).max(0.0);
    }

    /// When at least one token will be there again.
    pub fn next_token_in(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_at_its_rate_and_caps_its_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(100, t0);
        assert_eq!(b.available(t0), 10);
        b.take(10);
        assert_eq!(b.available(t0), 0);
        assert_eq!(b.available(t0 + Duration::from_millis(50)), 5);
        assert_eq!(b.available(t0 + Duration::from_secs(10)), 10);
        b.take(10);
        assert_eq!(b.next_token_in(), Duration::from_millis(10));
    }
}
