//! A queue's waiting calls, pure: first in, first out by the time they joined; a call waiting
//! past the queue's wait timeout is abandoned; and the figures of the queue (waiting now,
//! longest and average wait, service level).
//!
//! The service level is the share of calls that left the waiting list (answered by an agent
//! or abandoned) that an agent answered within the service-level time (20 s unless
//! configured).

use crate::domain::queue::QueueCounts;
use serde::Serialize;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The service-level time unless configured.
pub const DEFAULT_SERVICE_LEVEL: Duration = Duration::from_secs(20);

/// A call waiting for an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// The queuecall.
    pub id: Uuid,
    /// When it joined.
    pub joined_at: Instant,
}

/// A queue's figures at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueFigures {
    /// Calls waiting now.
    pub waiting: usize,
    /// How long the longest-waiting call has waited.
    pub longest_wait: Duration,
    /// Average wait of the calls that left the waiting list (answered or abandoned).
    pub average_wait: Duration,
    /// Share (0 to 1) of the calls that left the waiting list that an agent answered within
    /// the service-level time; `None` before any call left it.
    pub service_level: Option<f64>,
    /// Calls that joined.
    pub incoming: u64,
    /// Calls an agent answered.
    pub serviced: u64,
    /// Calls that left unanswered (caller hung up, or the wait timeout).
    pub abandoned: u64,
}

/// A queue's figures as the API shows them (`GET /queues/{id}/stats`): the counters since the
/// queue was created, and its calls now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    /// Calls waiting now.
    pub waiting_count: usize,
    /// Calls an agent is serving now.
    pub serving_count: usize,
    /// How long the longest-waiting call has waited so far, in ms.
    pub longest_wait_ms: u64,
    /// Average wait of the calls that left the waiting list (answered or abandoned), in ms.
    pub average_wait_ms: u64,
    /// Percent (one decimal) of the calls that left the waiting list that an agent answered
    /// within `service_level_time`; `null` before any call left it.
    pub service_level: Option<f64>,
    /// The service-level time, in ms.
    pub service_level_time: u64,
    /// Calls that joined.
    pub total_incoming_count: u64,
    /// Calls an agent answered.
    pub total_serviced_count: u64,
    /// Calls that left unanswered.
    pub total_abandoned_count: u64,
}

/// The stats of a queue with `counts` stored, `waiting` and `serving` calls now, the oldest
/// waiting for `longest_wait`.
pub fn queue_stats(
    counts: QueueCounts,
    waiting: usize,
    serving: usize,
    longest_wait: Duration,
    service_level_time: Duration,
) -> QueueStats {
    let left = counts.serviced + counts.abandoned;
    QueueStats {
        waiting_count: waiting,
        serving_count: serving,
        longest_wait_ms: longest_wait.as_millis() as u64,
        average_wait_ms: counts.wait_ms.checked_div(left).unwrap_or(0),
        service_level: (left > 0).then(|| {
            (counts.answered_in_time.min(left) as f64 * 1000.0 / left as f64).round() / 10.0
        }),
        service_level_time: service_level_time.as_millis() as u64,
        total_incoming_count: counts.incoming,
        total_serviced_count: counts.serviced,
        total_abandoned_count: counts.abandoned,
    }
}

/// The waiting list of one queue.
#[derive(Debug, Clone)]
pub struct WaitingList {
    calls: VecDeque<Waiting>,
    wait_timeout: Option<Duration>,
    service_level: Duration,
    incoming: u64,
    serviced: u64,
    abandoned: u64,
    answered_in_time: u64,
    total_wait: Duration,
}

impl WaitingList {
    /// An empty list: calls wait at most `wait_timeout` (`None`: no limit), and an answer
    /// within `service_level` counts toward the service level.
    pub fn new(wait_timeout: Option<Duration>, service_level: Duration) -> WaitingList {
        WaitingList {
            calls: VecDeque::new(),
            wait_timeout,
            service_level,
            incoming: 0,
            serviced: 0,
            abandoned: 0,
            answered_in_time: 0,
            total_wait: Duration::ZERO,
        }
    }

    /// The queue's wait timeout changed: calls already waiting are held to the new one.
    pub fn set_wait_timeout(&mut self, wait_timeout: Option<Duration>) {
        self.wait_timeout = wait_timeout;
    }

    /// The service-level time changed: answers from now on are held to it.
    pub fn set_service_level(&mut self, service_level: Duration) {
        self.service_level = service_level;
    }

    /// A call joins at the end; `false` if it is already waiting.
    pub fn join(&mut self, id: Uuid, now: Instant) -> bool {
        if self.calls.iter().any(|c| c.id == id) {
            return false;
        }
        self.calls.push_back(Waiting { id, joined_at: now });
        self.incoming += 1;
        true
    }

    /// The call to serve next: the one that joined first.
    pub fn next(&self) -> Option<Waiting> {
        self.calls.front().copied()
    }

    /// The calls waiting, in order.
    pub fn ids(&self) -> Vec<Uuid> {
        self.calls.iter().map(|c| c.id).collect()
    }

    /// The call's place in line, 1 for the next served.
    pub fn position(&self, id: Uuid) -> Option<usize> {
        self.calls.iter().position(|c| c.id == id).map(|i| i + 1)
    }

    /// An agent answered the call: it leaves the list. Returns how long it waited.
    pub fn answered(&mut self, id: Uuid, now: Instant) -> Option<Duration> {
        let waited = self.remove(id, now)?;
        self.serviced += 1;
        if waited <= self.service_level {
            self.answered_in_time += 1;
        }
        Some(waited)
    }

    /// The caller left before an answer. Returns how long it waited.
    pub fn abandoned(&mut self, id: Uuid, now: Instant) -> Option<Duration> {
        let waited = self.remove(id, now)?;
        self.abandoned += 1;
        Some(waited)
    }

    /// Abandons the calls that have waited `wait_timeout` by `now`, and returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Uuid> {
        let Some(timeout) = self.wait_timeout else {
            return Vec::new();
        };
        let expired: Vec<Uuid> = self
            .calls
            .iter()
            .filter(|c| now.saturating_duration_since(c.joined_at) >= timeout)
            .map(|c| c.id)
            .collect();
        for id in &expired {
            self.abandoned(*id, now);
        }
        expired
    }

    /// When the next call's wait times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.wait_timeout?;
        // The first to join is the first to time out.
        self.calls.front().map(|c| c.joined_at + timeout)
    }

    /// The figures at `now`.
    pub fn figures(&self, now: Instant) -> QueueFigures {
        let left = self.serviced + self.abandoned;
        QueueFigures {
            waiting: self.calls.len(),
            longest_wait: self
                .calls
                .front()
                .map(|c| now.saturating_duration_since(c.joined_at))
                .unwrap_or_default(),
            average_wait: if left == 0 {
                Duration::ZERO
            } else {
                self.total_wait / left as u32
            },
            service_level: (left > 0).then(|| self.answered_in_time as f64 / left as f64),
            incoming: self.incoming,
            serviced: self.serviced,
            abandoned: self.abandoned,
        }
    }

    fn remove(&mut self, id: Uuid, now: Instant) -> Option<Duration> {
        let i = self.calls.iter().position(|c| c.id == id)?;
        let call = self.calls.remove(i)?;
        let waited = now.saturating_duration_since(call.joined_at);
        self.total_wait += waited;
        Some(waited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Clock(Instant);

    impl Clock {
        fn at(&self, secs: u64) -> Instant {
            self.0 + Duration::from_secs(secs)
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_wait_timeout_set_later_holds_the_calls_already_waiting() {
        let clock = Clock(Instant::now());
        let mut list = WaitingList::new(None, DEFAULT_SERVICE_LEVEL);
        assert!(list.join(id(1), clock.at(0)));
        assert!(list.expire(clock.at(100)).is_empty(), "no limit yet");
        list.set_wait_timeout(Some(Duration::from_secs(30)));
        assert_eq!(list.expire(clock.at(101)), vec![id(1)]);
        assert_eq!(list.figures(clock.at(101)).abandoned, 1);
    }

    #[test]
    fn calls_are_served_first_in_first_out_and_know_their_place() {
        let clock = Clock(Instant::now());
        let mut list = WaitingList::new(None, DEFAULT_SERVICE_LEVEL);
        for n in 1..=3 {
            assert!(list.join(id(n), clock.at(n as u64)));
        }
        assert!(!list.join(id(2), clock.at(9)), "already waiting");
        assert_eq!(list.next().map(|c| c.id), Some(id(1)));
        assert_eq!(list.position(id(3)), Some(3));
        list.answered(id(1), clock.at(5));
        assert_eq!(list.position(id(3)), Some(2));
        assert_eq!(list.position(id(1)), None);
        assert_eq!(list.ids(), vec![id(2), id(3)]);
        assert_eq!(
            list.answered(id(1), clock.at(6)),
            None,
            "not waiting any more"
        );
    }

    #[test]
    fn a_call_waiting_past_the_timeout_is_abandoned() {
        let clock = Clock(Instant::now());
        let mut list = WaitingList::new(Some(Duration::from_secs(60)), DEFAULT_SERVICE_LEVEL);
        list.join(id(1), clock.at(0));
        list.join(id(2), clock.at(30));
        assert_eq!(list.poll_timeout(), Some(clock.at(60)));
        assert!(list.expire(clock.at(59)).is_empty());
        assert_eq!(list.expire(clock.at(60)), vec![id(1)]);
        assert_eq!(list.poll_timeout(), Some(clock.at(90)));
        assert_eq!(list.figures(clock.at(60)).abandoned, 1);
        let mut unlimited = WaitingList::new(None, DEFAULT_SERVICE_LEVEL);
        unlimited.join(id(1), clock.at(0));
        assert!(unlimited.expire(clock.at(100_000)).is_empty());
        assert_eq!(unlimited.poll_timeout(), None);
    }

    #[test]
    fn stats_average_the_waits_of_calls_that_left_and_give_the_service_level_in_percent() {
        let none = queue_stats(
            QueueCounts::default(),
            0,
            0,
            Duration::ZERO,
            DEFAULT_SERVICE_LEVEL,
        );
        assert_eq!((none.average_wait_ms, none.service_level), (0, None));
        assert_eq!(none.service_level_time, 20_000);
        // 3 answered (2 within the 20 s), 1 abandoned; waits 10 + 15 + 40 + 55 s.
        let counts = QueueCounts {
            incoming: 6,
            serviced: 3,
            abandoned: 1,
            wait_ms: 120_000,
            answered_in_time: 2,
        };
        let s = queue_stats(
            counts,
            2,
            1,
            Duration::from_millis(7_500),
            DEFAULT_SERVICE_LEVEL,
        );
        assert_eq!(s.average_wait_ms, 30_000);
        assert_eq!(s.service_level, Some(50.0));
        assert_eq!(
            (s.waiting_count, s.serving_count, s.longest_wait_ms),
            (2, 1, 7_500)
        );
        assert_eq!(
            (
                s.total_incoming_count,
                s.total_serviced_count,
                s.total_abandoned_count
            ),
            (6, 3, 1)
        );
        let thirds = QueueCounts {
            serviced: 3,
            answered_in_time: 2,
            ..QueueCounts::default()
        };
        let s = queue_stats(thirds, 0, 0, Duration::ZERO, DEFAULT_SERVICE_LEVEL);
        assert_eq!(s.service_level, Some(66.7));
    }

    #[test]
    fn figures_count_waits_and_the_service_level() {
        let clock = Clock(Instant::now());
        let mut list = WaitingList::new(None, DEFAULT_SERVICE_LEVEL);
        assert_eq!(list.figures(clock.at(0)).service_level, None);
        for n in 1..=5 {
            list.join(id(n), clock.at(0));
        }
        list.answered(id(1), clock.at(10)); // in time
        list.answered(id(2), clock.at(20)); // in time: the bound is inclusive
        list.answered(id(3), clock.at(40)); // late
        list.abandoned(id(4), clock.at(50));
        let f = list.figures(clock.at(70));
        assert_eq!(
            (f.waiting, f.incoming, f.serviced, f.abandoned),
            (1, 5, 3, 1)
        );
        assert_eq!(f.longest_wait, Duration::from_secs(70));
        assert_eq!(f.average_wait, Duration::from_secs(30)); // (10+20+40+50)/4
        assert_eq!(f.service_level, Some(0.5));
    }
}
