//! What the endpoint refuses or drops is logged as one summary line per interval with counts
//! by kind, not one line per datagram: a flood of garbage must not become a flood of log.
//! The first of each kind in an interval is logged in full at DEBUG. Pure: time is an
//! argument, and the endpoint arms the summary's deadline on its timer queue.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Kinds of unwanted traffic, counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unwanted {
    /// Not SIP, or SIP that does not parse.
    Unparsable,
    /// A request outside our dialogs that we refuse (INVITE, REGISTER, an unknown dialog).
    Refused,
    /// A response or request that matches nothing and cannot be answered.
    Stray,
    /// A request over its source's rate limit: dropped unanswered.
    RateLimited,
    /// A request past the bound on server transactions: answered 503 statelessly.
    Overloaded,
}

impl Unwanted {
    const ALL: [Unwanted; 5] = [
        Unwanted::Unparsable,
        Unwanted::Refused,
        Unwanted::Stray,
        Unwanted::RateLimited,
        Unwanted::Overloaded,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            Unwanted::Unparsable => "unparsable",
            Unwanted::Refused => "refused",
            Unwanted::Stray => "stray",
            Unwanted::RateLimited => "rate_limited",
            Unwanted::Overloaded => "overloaded",
        }
    }
}

/// Counts of one interval, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts([u64; 5]);

impl Counts {
    /// The count of `kind`.
    pub(super) fn get(&self, kind: Unwanted) -> u64 {
        self.0[kind.index()]
    }

    /// Whether this calls for attention (a WARN): anything beyond plain refusals.
    fn alarming(&self) -> bool {
        [
            Unwanted::Unparsable,
            Unwanted::RateLimited,
            Unwanted::Overloaded,
        ]
        .iter()
        .any(|k| self.get(*k) > 0)
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for kind in Unwanted::ALL {
            let n = self.get(kind);
            if n > 0 {
                write!(f, "{}{}={n}", if first { "" } else { " " }, kind.name())?;
                first = false;
            }
        }
        Ok(())
    }
}

/// The start of a message as printable text, for the DEBUG line about the first of a kind:
/// converted only if that line is written.
pub(super) struct Excerpt<'a>(pub(super) &'a [u8]);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = &self.0[..self.0.len().min(300)];
        write!(f, "{:?}", String::from_utf8_lossy(start))
    }
}

/// Counts unwanted traffic and logs it once per interval.
#[derive(Debug)]
pub(super) struct UnwantedLog {
    interval: Duration,
    counts: Counts,
    /// When the open interval's summary is due; `None` while nothing has been counted.
    due: Option<Instant>,
    /// Summary lines logged since start.
    summaries: u64,
}

impl UnwantedLog {
    /// One summary per `interval` (at least a millisecond).
    pub(super) fn new(interval: Duration) -> UnwantedLog {
        UnwantedLog {
            interval: interval.max(Duration::from_millis(1)),
            counts: Counts::default(),
            due: None,
            summaries: 0,
        }
    }

    /// Counts one message of `kind` from `from`. Returns the deadline of the summary when this
    /// opened an interval (the caller arms it), else `None`.
    pub(super) fn record(
        &mut self,
        now: Instant,
        kind: Unwanted,
        from: SocketAddr,
        detail: impl fmt::Display,
    ) -> Option<Instant> {
        let count = &mut self.counts.0[kind.index()];
        *count += 1;
        if *count == 1 {
            tracing::debug!(kind = kind.name(), %from, "unwanted SIP traffic: {detail}");
        }
        match self.due {
            Some(_) => None,
            None => {
                let at = now + self.interval;
                self.due = Some(at);
                Some(at)
            }
        }
    }

    /// At the summary's deadline: logs the interval's counts in one line and starts afresh.
    /// Returns what was logged.
    pub(super) fn summarise(&mut self, now: Instant) -> Option<Counts> {
        let due = self.due?;
        if now < due {
            return None;
        }
        self.due = None;
        let counts = std::mem::take(&mut self.counts);
        let secs = self.interval.as_secs_f64();
        if counts.alarming() {
            tracing::warn!("unwanted SIP traffic in the last {secs} s: {counts}");
        } else {
            tracing::info!("unwanted SIP traffic in the last {secs} s: {counts}");
        }
        self.summaries += 1;
        Some(counts)
    }

    /// Summary lines logged since start.
    pub(super) fn summaries(&self) -> u64 {
        self.summaries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_one_summary_at_the_end_of_its_interval() {
        let mut log = UnwantedLog::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let from: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let due = log.record(t0, Unwanted::Unparsable, from, "garbage");
        assert_eq!(due, Some(t0 + Duration::from_secs(10)));
        for i in 1..50_000u64 {
            let now = t0 + Duration::from_micros(i * 20);
            let kind = match i % 3 {
                0 => Unwanted::RateLimited,
                _ => Unwanted::Unparsable,
            };
            assert_eq!(log.record(now, kind, from, "more"), None);
        }
        assert_eq!(log.summarise(t0 + Duration::from_secs(9)), None);
        let counts = log.summarise(t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(counts.get(Unwanted::Unparsable), 33_334);
        assert_eq!(counts.get(Unwanted::RateLimited), 16_666);
        assert_eq!(counts.to_string(), "unparsable=33334 rate_limited=16666");
        assert_eq!(log.summaries(), 1);
        // Quiet: nothing more to say.
        assert_eq!(log.summarise(t0 + Duration::from_secs(30)), None);
        // The next message opens a new interval.
        let t1 = t0 + Duration::from_secs(31);
        assert_eq!(
            log.record(t1, Unwanted::Refused, from, "INVITE"),
            Some(t1 + Duration::from_secs(10))
        );
    }
}
