//! One agent's state machine, pure: it takes `(now, input)` and answers the new state and what
//! changed, so that the actor owning it persists what must survive and wakes at
//! [`AgentMachine::poll_timeout`] to end a wrap-up.
//!
//! ```text
//!            registered                 offered           answered
//!  offline ─────────────► available ─────────────► ringing ─────────► busy
//!     ▲   (or away, as the   ▲  ▲   rejected / no answer │               │ call ended
//!     │    agent asked)      │  └────────────────────────┘               ▼
//!     │ unregistered         │  (away after max_ring_outs in a row)   wrap_up
//!     └── (once off a call)  └─────────────────────── tick past wrap-up ─┘
//! ```
//!
//! `away` is where a registered agent rests when it asked to (or rang out too often); set
//! `available` again to take calls. An agent that unregisters during a call stays on it and
//! goes offline when it ends.

use crate::domain::Availability;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Where an agent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// No softphone registered.
    Offline,
    /// Registered and free: a queue may offer it a call.
    Available,
    /// A call is being offered.
    Ringing,
    /// On a call.
    Busy,
    /// Resting after a call, until a time.
    WrapUp,
    /// Registered, not taking calls.
    Away,
}

impl AgentState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Offline => "offline",
            AgentState::Available => "available",
            AgentState::Ringing => "ringing",
            AgentState::Busy => "busy",
            AgentState::WrapUp => "wrap_up",
            AgentState::Away => "away",
        }
    }
}

/// What happens to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentInput {
    /// A softphone registered as the agent (or refreshed its binding).
    Registered,
    /// Its last binding was removed or expired.
    Unregistered,
    /// The agent or an operator set its status.
    SetStatus(Availability),
    /// A queue offers it a call.
    Offered,
    /// It answered the offered call.
    Answered,
    /// It declined the offered call.
    Rejected,
    /// The offered call rang out unanswered.
    NoAnswer,
    /// The offered call went away before an answer (the caller left, another agent answered a
    /// ring-all): not held against the agent.
    Withdrawn,
    /// Its call ended; it rests for `wrap_up` before taking another.
    CallEnded {
        /// The queue's wrap-up time.
        wrap_up: Duration,
    },
    /// Time passed.
    Tick,
}

/// An input the state does not allow (a bug in the caller, or a late event): the machine is
/// unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} does not apply to an agent that is {}", state.as_str())]
pub struct Unexpected {
    /// The state it was in.
    pub state: AgentState,
    /// The input refused.
    pub input: AgentInput,
}

/// The bounds an agent runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentRules {
    /// Offers in a row that ring out or are rejected before the agent is set away.
    pub max_ring_outs: u32,
}

impl Default for AgentRules {
    fn default() -> AgentRules {
        AgentRules { max_ring_outs: 3 }
    }
}

/// The figures routing strategies weigh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentFigures {
    /// When its last call ended (`None`: none since the node started).
    pub last_call_ended_at: Option<Instant>,
    /// Answer to hang-up, summed over its calls.
    pub talk_time: Duration,
    /// Calls it answered and finished.
    pub calls_handled: u64,
}

/// What a transition changed, for the actor to persist and publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: AgentState,
    /// The state after.
    pub to: AgentState,
    /// The agent's own status changed (it rang out too often and is now `away`): store it.
    pub availability: Option<Availability>,
    /// [`AgentFigures`] changed.
    pub figures: bool,
}

impl Transition {
    /// Whether the state changed.
    pub fn state_changed(&self) -> bool {
        self.from != self.to
    }
}

/// One agent.
#[derive(Debug, Clone)]
pub struct AgentMachine {
    rules: AgentRules,
    state: AgentState,
    registered: bool,
    wanted: Availability,
    ring_outs: u32,
    answered_at: Option<Instant>,
    wrap_up_until: Option<Instant>,
    figures: AgentFigures,
}

impl AgentMachine {
    /// An agent with no binding yet that asked to be `wanted` when registered.
    pub fn new(rules: AgentRules, wanted: Availability) -> AgentMachine {
        AgentMachine {
            rules,
            state: AgentState::Offline,
            registered: false,
            wanted,
            ring_outs: 0,
            answered_at: None,
            wrap_up_until: None,
            figures: AgentFigures::default(),
        }
    }

    /// Where it stands.
    pub fn state(&self) -> AgentState {
        self.state
    }

    /// What it asked to be.
    pub fn availability(&self) -> Availability {
        self.wanted
    }

    /// Its figures.
    pub fn figures(&self) -> AgentFigures {
        self.figures
    }

    /// Offers in a row that rang out or were rejected.
    pub fn ring_outs(&self) -> u32 {
        self.ring_outs
    }

    /// When it wants a [`AgentInput::Tick`]: the end of its wrap-up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.wrap_up_until
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Instant, input: AgentInput) -> Result<Transition, Unexpected> {
        use AgentInput as I;
        use AgentState as S;
        let from = self.state;
        let mut availability = None;
        let mut figures = false;
        let unexpected = Err(Unexpected { state: from, input });
        match (from, input) {
            (_, I::Registered) => {
                self.registered = true;
                if from == S::Offline {
                    self.state = self.resting();
                }
            }
            (_, I::Unregistered) => {
                self.registered = false;
                if !matches!(from, S::Ringing | S::Busy) {
                    self.wrap_up_until = None;
                    self.state = S::Offline;
                }
            }
            (_, I::SetStatus(wanted)) => {
                self.wanted = wanted;
                if wanted == Availability::Available {
                    self.ring_outs = 0;
                }
                if matches!(from, S::Available | S::Away) {
                    self.state = self.resting();
                }
            }
            (S::Available, I::Offered) => self.state = S::Ringing,
            (S::Ringing, I::Answered) => {
                self.ring_outs = 0;
                self.answered_at = Some(now);
                self.state = S::Busy;
            }
            (S::Ringing, I::Rejected | I::NoAnswer) => {
                self.ring_outs += 1;
                if self.ring_outs >= self.rules.max_ring_outs
                    && self.wanted == Availability::Available
                {
                    self.wanted = Availability::Away;
                    availability = Some(Availability::Away);
                }
                self.state = self.resting();
            }
            (S::Ringing, I::Withdrawn) => self.state = self.resting(),
            (S::Busy, I::CallEnded { wrap_up }) => {
                if let Some(answered) = self.answered_at.take() {
                    self.figures.talk_time += now.saturating_duration_since(answered);
                }
                self.figures.calls_handled += 1;
                self.figures.last_call_ended_at = Some(now);
                figures = true;
                if wrap_up.is_zero() || !self.registered {
                    self.state = self.resting();
                } else {
                    self.wrap_up_until = Some(now + wrap_up);
                    self.state = S::WrapUp;
                }
            }
            (S::WrapUp, I::Tick) => {
                if self.wrap_up_until.is_some_and(|until| now >= until) {
                    self.wrap_up_until = None;
                    self.state = self.resting();
                }
            }
            (_, I::Tick) => {}
            _ => return unexpected,
        }
        Ok(Transition {
            from,
            to: self.state,
            availability,
            figures,
        })
    }

    /// The state of an agent off any call.
    fn resting(&self) -> AgentState {
        match (self.registered, self.wanted) {
            (false, _) => AgentState::Offline,
            (true, Availability::Available) => AgentState::Available,
            (true, Availability::Away) => AgentState::Away,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgentInput as I;
    use AgentState as S;

    /// A simulated clock: `at(ms)` is `ms` after the start.
    struct Clock(Instant);

    impl Clock {
        fn at(&self, ms: u64) -> Instant {
            self.0 + Duration::from_millis(ms)
        }
    }

    fn available_agent() -> (AgentMachine, Clock) {
        let clock = Clock(Instant::now());
        let mut a = AgentMachine::new(AgentRules::default(), Availability::Available);
        a.handle(clock.at(0), I::Registered).expect("registers");
        (a, clock)
    }

    #[test]
    fn registering_rests_the_agent_where_it_asked() {
        let clock = Clock(Instant::now());
        let mut away = AgentMachine::new(AgentRules::default(), Availability::Away);
        assert_eq!(away.state(), S::Offline);
        let t = away.handle(clock.at(0), I::Registered).expect("ok");
        assert_eq!(
            (t.from, t.to, t.state_changed()),
            (S::Offline, S::Away, true)
        );
        let t = away
            .handle(clock.at(1), I::SetStatus(Availability::Available))
            .expect("ok");
        assert_eq!(t.to, S::Available);
        let t = away.handle(clock.at(2), I::Registered).expect("refresh");
        assert!(!t.state_changed());
        assert_eq!(
            away.handle(clock.at(3), I::Unregistered).map(|t| t.to),
            Ok(S::Offline)
        );
    }

    #[test]
    fn a_call_rings_is_answered_ends_and_wraps_up_on_the_clock() {
        let (mut a, clock) = available_agent();
        assert_eq!(
            a.handle(clock.at(1_000), I::Offered).map(|t| t.to),
            Ok(S::Ringing)
        );
        assert_eq!(
            a.handle(clock.at(3_000), I::Answered).map(|t| t.to),
            Ok(S::Busy)
        );
        let wrap_up = Duration::from_secs(10);
        let t = a
            .handle(clock.at(63_000), I::CallEnded { wrap_up })
            .expect("ends");
        assert_eq!((t.to, t.figures), (S::WrapUp, true));
        assert_eq!(a.poll_timeout(), Some(clock.at(73_000)));
        let f = a.figures();
        assert_eq!(f.talk_time, Duration::from_secs(60));
        assert_eq!(f.calls_handled, 1);
        assert_eq!(f.last_call_ended_at, Some(clock.at(63_000)));
        // Not offered during wrap-up; the tick before the end changes nothing.
        assert!(a.handle(clock.at(64_000), I::Offered).is_err());
        assert_eq!(
            a.handle(clock.at(72_999), I::Tick).map(|t| t.to),
            Ok(S::WrapUp)
        );
        assert_eq!(
            a.handle(clock.at(73_000), I::Tick).map(|t| t.to),
            Ok(S::Available)
        );
        assert_eq!(a.poll_timeout(), None);
    }

    #[test]
    fn no_wrap_up_time_means_available_at_once() {
        let (mut a, clock) = available_agent();
        a.handle(clock.at(0), I::Offered).expect("offer");
        a.handle(clock.at(0), I::Answered).expect("answer");
        let t = a
            .handle(
                clock.at(5),
                I::CallEnded {
                    wrap_up: Duration::ZERO,
                },
            )
            .expect("end");
        assert_eq!(t.to, S::Available);
    }

    #[test]
    fn three_ring_outs_in_a_row_set_the_agent_away_and_say_so() {
        let (mut a, clock) = available_agent();
        for (i, miss) in [I::NoAnswer, I::Rejected].into_iter().enumerate() {
            a.handle(clock.at(i as u64), I::Offered).expect("offer");
            let t = a.handle(clock.at(i as u64), miss).expect("miss");
            assert_eq!((t.to, t.availability), (S::Available, None));
        }
        a.handle(clock.at(10), I::Offered).expect("offer");
        let t = a.handle(clock.at(20), I::NoAnswer).expect("third miss");
        assert_eq!((t.to, t.availability), (S::Away, Some(Availability::Away)));
        assert_eq!(a.availability(), Availability::Away);
        // Available again: the count starts over.
        a.handle(clock.at(30), I::SetStatus(Availability::Available))
            .expect("back");
        assert_eq!((a.state(), a.ring_outs()), (S::Available, 0));
    }

    #[test]
    fn an_answer_resets_the_ring_out_count_and_a_withdrawn_offer_does_not_count() {
        let (mut a, clock) = available_agent();
        for _ in 0..2 {
            a.handle(clock.at(0), I::Offered).expect("offer");
            a.handle(clock.at(0), I::NoAnswer).expect("miss");
        }
        a.handle(clock.at(0), I::Offered).expect("offer");
        a.handle(clock.at(0), I::Withdrawn).expect("withdrawn");
        assert_eq!((a.state(), a.ring_outs()), (S::Available, 2));
        a.handle(clock.at(0), I::Offered).expect("offer");
        a.handle(clock.at(0), I::Answered).expect("answer");
        assert_eq!(a.ring_outs(), 0);
    }

    #[test]
    fn away_during_a_call_applies_once_it_ends() {
        let (mut a, clock) = available_agent();
        a.handle(clock.at(0), I::Offered).expect("offer");
        a.handle(clock.at(0), I::Answered).expect("answer");
        let t = a
            .handle(clock.at(1), I::SetStatus(Availability::Away))
            .expect("set away");
        assert_eq!(t.to, S::Busy);
        let wrap_up = Duration::from_secs(5);
        a.handle(clock.at(2), I::CallEnded { wrap_up })
            .expect("end");
        assert_eq!(
            a.handle(clock.at(5_002), I::Tick).map(|t| t.to),
            Ok(S::Away)
        );
    }

    #[test]
    fn unregistering_during_a_call_goes_offline_when_it_ends() {
        let (mut a, clock) = available_agent();
        a.handle(clock.at(0), I::Offered).expect("offer");
        a.handle(clock.at(0), I::Answered).expect("answer");
        assert_eq!(
            a.handle(clock.at(1), I::Unregistered).map(|t| t.to),
            Ok(S::Busy)
        );
        let wrap_up = Duration::from_secs(5);
        assert_eq!(
            a.handle(clock.at(2), I::CallEnded { wrap_up })
                .map(|t| t.to),
            Ok(S::Offline)
        );
        assert_eq!(a.poll_timeout(), None);
    }

    #[test]
    fn inputs_out_of_place_are_refused_and_change_nothing() {
        let (mut a, clock) = available_agent();
        for input in [
            I::Answered,
            I::Rejected,
            I::CallEnded {
                wrap_up: Duration::ZERO,
            },
        ] {
            assert_eq!(
                a.handle(clock.at(0), input),
                Err(Unexpected {
                    state: S::Available,
                    input
                })
            );
        }
        let mut offline = AgentMachine::new(AgentRules::default(), Availability::Available);
        assert!(offline.handle(clock.at(0), I::Offered).is_err());
        assert_eq!(offline.state(), S::Offline);
        assert_eq!(
            offline
                .handle(clock.at(0), I::SetStatus(Availability::Available))
                .map(|t| t.to),
            Ok(S::Offline)
        );
    }
}
