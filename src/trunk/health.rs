//! Whether a trunk takes calls: a pure state machine fed with what its OPTIONS keep-alives
//! (`keepalive.rs`) and its calls show.

use crate::sip::endpoint::PeerFault;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Whether a trunk takes calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrunkState {
    /// Nothing heard from it yet.
    Unknown,
    /// It answered its last probe or call.
    Up,
    /// Its probes went unanswered, or its calls kept failing before reaching anyone.
    Down,
}

/// Something the trunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// A keep-alive got this final status. Any answer but 503 proves the trunk takes
    /// requests, even 404 or 405.
    ProbeAnswered(u16),
    /// A keep-alive got no answer.
    ProbeUnanswered,
    /// A call through it failed at the trunk itself.
    CallFault(PeerFault),
    /// A call through it got a response other than 503 (the trunk took it).
    CallTaken,
}

/// Keep-alive and call bookkeeping of one trunk: pure, fed with [`Observation`]s and `now`.
#[derive(Debug, Clone)]
pub struct TrunkHealth {
    state: TrunkState,
    probe_misses: u32,
    call_faults: u32,
    /// Why it is down (or why it asked for a pause), for the API.
    reason: String,
    /// When it went down.
    since: Option<Instant>,
    /// A 503's `Retry-After`: no call before this.
    resume_at: Option<Instant>,
}

impl Default for TrunkHealth {
    fn default() -> Self {
        TrunkHealth {
            state: TrunkState::Unknown,
            probe_misses: 0,
            call_faults: 0,
            reason: String::new(),
            since: None,
            resume_at: None,
        }
    }
}

impl TrunkHealth {
    /// Unanswered keep-alives in a row that mark a trunk down.
    pub const PROBE_MISSES_FOR_DOWN: u32 = 2;
    /// Calls in a row failing at the trunk (no response, transport error, 503) that mark it
    /// down.
    pub const CALL_FAULTS_FOR_DOWN: u32 = 5;
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

    /// Records `what` at `now`; returns whether the state changed.
    pub fn observe(&mut self, now: Instant, what: Observation) -> bool {
        let before = self.state;
        match what {
            Observation::ProbeAnswered(503) => {
                self.probe_misses += 1;
                if self.probe_misses >= Self::PROBE_MISSES_FOR_DOWN {
                    self.down(now, "keep-alive answered 503 Service Unavailable".into());
                }
            }
            Observation::ProbeAnswered(_) | Observation::CallTaken => {
                self.probe_misses = 0;
                self.call_faults = 0;
                self.state = TrunkState::Up;
                self.since = None;
                self.reason.clear();
            }
            Observation::ProbeUnanswered => {
                self.probe_misses += 1;
                if self.probe_misses >= Self::PROBE_MISSES_FOR_DOWN {
                    let n = self.probe_misses;
                    self.down(now, format!("{n} keep-alives in a row unanswered"));
                }
            }
            Observation::CallFault(fault) => {
                self.call_faults += 1;
                if let PeerFault::Unavailable {
                    retry_after: Some(secs),
                } = fault
                {
                    let pause = Duration::from_secs(u64::from(secs)).min(Self::MAX_RETRY_AFTER);
                    self.resume_at = Some(now + pause);
                    self.reason = format!("503 with Retry-After: {secs}");
                }
                if self.call_faults >= Self::CALL_FAULTS_FOR_DOWN {
                    let n = self.call_faults;
                    self.down(
                        now,
                        format!(
                            "{n} calls in a row failed at the trunk ({})",
                            describe(fault)
                        ),
                    );
                }
            }
        }
        self.state != before
    }

    fn down(&mut self, now: Instant, reason: String) {
        if self.state != TrunkState::Down {
            self.since = Some(now);
        }
        self.state = TrunkState::Down;
        self.reason = reason;
    }

    /// Why no call may go through the trunk at `now`, if none may.
    pub fn hold(&self, now: Instant) -> Option<String> {
        if self.state == TrunkState::Down {
            return Some(format!("trunk down: {}", self.reason));
        }
        match self.resume_at {
            Some(at) if now < at => Some(format!(
                "trunk asked for a pause ({}), {} s left",
                self.reason,
                (at - now).as_secs() + 1
            )),
            _ => None,
        }
    }

    /// The current state.
    pub fn state(&self) -> TrunkState {
        self.state
    }

    /// How long it has been down.
    pub fn down_for(&self, now: Instant) -> Option<Duration> {
        self.since.map(|s| now.saturating_duration_since(s))
    }
}

fn describe(fault: PeerFault) -> &'static str {
    match fault {
        PeerFault::NoResponse => "no response",
        PeerFault::Transport => "transport error",
        PeerFault::Unavailable { .. } => "503 Service Unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trunk_goes_down_after_two_unanswered_probes_and_up_after_one_answer() {
        let t0 = Instant::now();
        let mut h = TrunkHealth::default();
        assert!(!h.observe(t0, Observation::ProbeUnanswered));
        assert!(h.hold(t0).is_none());
        assert!(h.observe(t0, Observation::ProbeUnanswered));
        assert_eq!(h.state(), TrunkState::Down);
        let why = h.hold(t0).expect("held");
        assert!(why.contains("2 keep-alives in a row unanswered"), "{why}");
        assert!(h.observe(t0, Observation::ProbeAnswered(405)));
        assert_eq!((h.state(), h.hold(t0)), (TrunkState::Up, None));
        h.observe(t0, Observation::ProbeUnanswered);
        assert_eq!(h.state(), TrunkState::Up, "one miss is not enough");
    }

    #[test]
    fn five_calls_failing_at_the_trunk_mark_it_down_and_a_taken_call_resets_the_count() {
        let t0 = Instant::now();
        let mut h = TrunkHealth::default();
        for _ in 0..4 {
            h.observe(t0, Observation::CallFault(PeerFault::NoResponse));
        }
        h.observe(t0, Observation::CallTaken);
        for _ in 0..4 {
            h.observe(t0, Observation::CallFault(PeerFault::Transport));
        }
        assert_eq!(h.state(), TrunkState::Up);
        h.observe(t0, Observation::CallFault(PeerFault::Transport));
        assert_eq!(h.state(), TrunkState::Down);
        assert!(h.hold(t0).expect("held").contains("transport error"));
        assert_eq!(
            h.down_for(t0 + Duration::from_secs(3)),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn a_503_with_retry_after_holds_calls_for_that_long_only() {
        let t0 = Instant::now();
        let mut h = TrunkHealth::default();
        h.observe(t0, Observation::CallTaken);
        h.observe(
            t0,
            Observation::CallFault(PeerFault::Unavailable {
                retry_after: Some(30),
            }),
        );
        assert_eq!(h.state(), TrunkState::Up);
        let why = h.hold(t0 + Duration::from_secs(10)).expect("paused");
        assert!(why.contains("Retry-After: 30"), "{why}");
        assert!(h.hold(t0 + Duration::from_secs(30)).is_none());
        h.observe(
            t0,
            Observation::CallFault(PeerFault::Unavailable {
                retry_after: Some(86_400),
            }),
        );
        assert!(
            h.hold(t0 + TrunkHealth::MAX_RETRY_AFTER).is_none(),
            "capped"
        );
    }

    #[test]
    fn keep_alives_answered_503_mark_the_trunk_down() {
        let t0 = Instant::now();
        let mut h = TrunkHealth::default();
        h.observe(t0, Observation::ProbeAnswered(503));
        h.observe(t0, Observation::ProbeAnswered(503));
        assert_eq!(h.state(), TrunkState::Down);
    }
}
