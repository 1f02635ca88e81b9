//! Predictive pacing, pure: from what a campaign has measured (answer rate, time to answer,
//! talk time, the abandon window) and what its agents and calls are doing at `now`, how many
//! calls not yet connected to an agent it should have in progress.
//!
//! The model: over each horizon `t` of the next seconds, the answers expected by `t` (the
//! callees already answered and waiting, the ringing calls that will still answer, and the
//! new dials) must not exceed the agents expected free by `t` plus the safe-harbour time,
//! less a safety margin of `safety × √agents`. Agents free now count whole; an agent on a
//! call frees up when its talk ends (the measured talk times, given how long it has talked)
//! and its wrap-up is over; an agent in wrap-up when its wrap-up is over. The new dials are
//! the most that keep every horizon balanced.
//!
//! The abandon cap steers how much it keeps in reserve: with room under the cap for at least
//! one more abandoned call and a margin it dials as predicted; the closer the measured rate
//! (over the rolling window) comes to the cap, the larger the reserve (up to one standard
//! deviation more), and at or over the cap it falls back to progressive (one call per
//! available agent), as it does before it has measured enough to predict. The reserve's
//! spread is that of the agents freeing up, of the ringing calls answering and of the new
//! dials, each a yes-or-no chance.
//!
//! Times are milliseconds on the caller's clock (a campaign's own start, a simulated shift).

use std::collections::VecDeque;

/// Milliseconds on the caller's clock.
pub type Ms = u64;

/// Samples kept of each measured duration.
const SAMPLES: usize = 400;
/// Attempts whose outcome (answered or not) make the answer rate.
const OUTCOMES: usize = 400;
/// Fewest answered attempts, attempts and talks measured before predicting.
const MIN_ANSWERS: usize = 10;
const MIN_ATTEMPTS: usize = 30;
const MIN_TALKS: usize = 5;
/// Horizons looked at, one a second, up to the longest measured time to answer (at most).
const MAX_HORIZON_S: u64 = 60;
/// The taper runs over this fraction of the cap: with less room than that left (counting one
/// more abandoned call), the reserve grows.
const TAPER: f64 = 0.4;
/// At the end of the taper, this much more is kept in reserve (standard deviations).
const TAPER_SAFETY: f64 = 1.0;

/// How predictive pacing behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictiveSettings {
    /// An answered call with no agent within this long is abandoned (safe harbour).
    pub harbour_ms: Ms,
    /// The abandon rate is measured over answered calls of this rolling window.
    pub abandon_window_ms: Ms,
    /// Most abandoned calls allowed, in percent of answered calls over the window.
    pub abandon_rate_cap: f64,
    /// The queue's wrap-up time after each call.
    pub wrap_up_ms: Ms,
    /// How many standard deviations of the agents freeing up are kept in reserve.
    pub safety: f64,
}

impl Default for PredictiveSettings {
    fn default() -> Self {
        PredictiveSettings {
            harbour_ms: 2000,
            abandon_window_ms: 3_600_000,
            abandon_rate_cap: 3.0,
            wrap_up_ms: 0,
            safety: DEFAULT_SAFETY,
        }
    }
}

/// The safety margin the simulator's shift was tuned with (see docs/performance.md).
pub const DEFAULT_SAFETY: f64 = 1.0;

/// What an agent is doing, as the pacing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentPhase {
    /// Free for a call (or being rung for a call already answered, which counts as waiting).
    Available,
    /// Talking to a callee.
    OnCall,
    /// In wrap-up after a call.
    WrapUp,
    /// Away, offline: not expected to take calls.
    Away,
}

/// An agent's phase and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentView {
    /// What it does.
    pub phase: AgentPhase,
    /// Since when.
    pub since: Ms,
}

/// A bounded set of recent durations, kept sorted too for their distribution.
#[derive(Debug, Clone, Default)]
struct Samples {
    recent: VecDeque<Ms>,
    sorted: Vec<Ms>,
}

impl Samples {
    fn push(&mut self, v: Ms) {
        if self.recent.len() == SAMPLES {
            if let Some(old) = self.recent.pop_front() {
                if let Ok(i) = self.sorted.binary_search(&old) {
                    self.sorted.remove(i);
                }
            }
        }
        self.recent.push_back(v);
        let i = self.sorted.partition_point(|&x| x <= v);
        self.sorted.insert(i, v);
    }

    fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The fraction of samples at most `x`.
    fn cdf(&self, x: Ms) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        self.sorted.partition_point(|&s| s <= x) as f64 / self.sorted.len() as f64
    }

    fn mean(&self) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        self.sorted.iter().sum::<u64>() as f64 / self.sorted.len() as f64
    }

    fn max(&self) -> Ms {
        self.sorted.last().copied().unwrap_or(0)
    }

    /// The chance that a duration already past `elapsed` ends within `more`: the measured
    /// distribution, or, past nearly all samples, an exponential tail of the same mean.
    fn ends_within(&self, elapsed: Ms, more: Ms) -> f64 {
        let survive = 1.0 - self.cdf(elapsed);
        if survive < 0.05 {
            let mean = self.mean().max(1000.0);
            return 1.0 - (-(more as f64) / mean).exp();
        }
        (self.cdf(elapsed + more) - self.cdf(elapsed)) / survive
    }
}

/// What a campaign has measured of its own calls.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    /// Dial to answer, of answered attempts.
    answer_ms: Samples,
    /// Dial to end, of attempts never answered.
    unanswered_ms: Samples,
    /// Whether each recent attempt was answered.
    outcomes: VecDeque<bool>,
    /// Connect to hang-up of calls an agent talked.
    talk_ms: Samples,
    /// Answered calls of the window: when, and whether they were abandoned.
    answered: VecDeque<(Ms, bool)>,
    abandoned_in_window: usize,
}

impl Measures {
    fn outcome(&mut self, answered: bool) {
        if self.outcomes.len() == OUTCOMES {
            self.outcomes.pop_front();
        }
        self.outcomes.push_back(answered);
    }

    /// An attempt was answered `ring_ms` after its dial.
    pub fn answered(&mut self, ring_ms: Ms) {
        self.answer_ms.push(ring_ms);
        self.outcome(true);
    }

    /// An attempt ended unanswered `ring_ms` after its dial.
    pub fn unanswered(&mut self, ring_ms: Ms) {
        self.unanswered_ms.push(ring_ms);
        self.outcome(false);
    }

    /// An answered call ended its stay with the pacing at `now`: connected to an agent in
    /// time, or abandoned (no agent within the safe-harbour time).
    pub fn served(&mut self, now: Ms, abandoned: bool) {
        self.answered.push_back((now, abandoned));
        if abandoned {
            self.abandoned_in_window += 1;
        }
    }

    /// A call an agent talked ended after `talk_ms`.
    pub fn talked(&mut self, talk_ms: Ms) {
        self.talk_ms.push(talk_ms);
    }

    /// Forgets answered calls older than the window.
    pub fn expire(&mut self, now: Ms, window: Ms) {
        while let Some(&(at, abandoned)) = self.answered.front() {
            if now.saturating_sub(at) <= window {
                break;
            }
            self.answered.pop_front();
            if abandoned {
                self.abandoned_in_window -= 1;
            }
        }
    }

    /// Answered and abandoned calls in the window (as of the last [`Measures::expire`]).
    pub fn window(&self) -> (usize, usize) {
        (self.answered.len(), self.abandoned_in_window)
    }

    /// The abandon rate over the window, percent (`None`: no answered call in it).
    pub fn abandon_rate(&self) -> Option<f64> {
        let (answered, abandoned) = self.window();
        (answered > 0).then(|| 100.0 * abandoned as f64 / answered as f64)
    }

    /// The measured answer rate, 0 to 1.
    pub fn answer_rate(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        self.outcomes.iter().filter(|a| **a).count() as f64 / self.outcomes.len() as f64
    }

    fn enough(&self) -> bool {
        self.answer_ms.len() >= MIN_ANSWERS
            && self.outcomes.len() >= MIN_ATTEMPTS
            && self.talk_ms.len() >= MIN_TALKS
    }
}

/// The campaign's calls and agents at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// Now.
    pub now: Ms,
    /// The queue's agents.
    pub agents: &'a [AgentView],
    /// When each call still ringing was dialed.
    pub ringing: &'a [Ms],
    /// Answered calls not yet connected to an agent.
    pub waiting: u32,
}

/// How the answer was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Not enough measured yet, or the abandon rate is at or over the cap: one call per
    /// available agent.
    Progressive,
    /// Between predicted and progressive, nearing the cap.
    Tapered,
    /// As predicted.
    Predicted,
}

/// What predictive pacing wants now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Calls not yet connected to an agent to have in progress (ringing, and answered and
    /// waiting, together).
    pub calls: u32,
    /// How it was reached.
    pub pace: Pace,
}

/// How many calls not yet connected to an agent to have in progress now.
pub fn calls_to_have(settings: &PredictiveSettings, m: &Measures, s: &Situation) -> Decision {
    let available = s
        .agents
        .iter()
        .filter(|a| a.phase == AgentPhase::Available)
        .count() as u32;
    let progressive = Decision {
        calls: available,
        pace: Pace::Progressive,
    };
    if !m.enough() {
        return progressive;
    }
    // Room under the cap, counting one more abandoned call, as a fraction of the taper.
    let (answered, abandoned) = m.window();
    let cap = settings.abandon_rate_cap;
    let with_one_more = 100.0 * (abandoned + 1) as f64 / answered.max(1) as f64;
    let room = ((cap - with_one_more) / (cap * TAPER)).min(1.0);
    if cap <= 0.0 || room <= 0.0 {
        return progressive;
    }
    // Nearing the cap, more is kept in reserve.
    let safety = settings.safety + TAPER_SAFETY * (1.0 - room);
    let calls = predicted_calls(settings, safety, m, s).max(f64::from(available));
    Decision {
        calls: calls.floor() as u32,
        pace: if room >= 1.0 {
            Pace::Predicted
        } else {
            Pace::Tapered
        },
    }
}

/// The calls to have in progress if the measures hold: those in progress now and the most
/// new dials that keep answers within the agents freeing up over every horizon.
fn predicted_calls(settings: &PredictiveSettings, safety: f64, m: &Measures, s: &Situation) -> f64 {
    let rate = m.answer_rate();
    let in_progress = s.ringing.len() as f64 + f64::from(s.waiting);
    if rate <= 0.0 {
        return in_progress;
    }
    let horizon_s = m.answer_ms.max().div_ceil(1000).clamp(1, MAX_HORIZON_S);
    let mut new_dials = f64::INFINITY;
    for t_s in 1..=horizon_s {
        let t = t_s * 1000;
        let (frees, frees_var) = agents_free_by(settings, m, s, t + settings.harbour_ms);
        let (mut answers, mut answers_var) = (f64::from(s.waiting), 0.0);
        for &dialed in s.ringing {
            let p = answers_within(m, rate, s.now.saturating_sub(dialed), t);
            answers += p;
            answers_var += p * (1.0 - p);
        }
        let per_dial = rate * m.answer_ms.cdf(t);
        if per_dial < 0.02 {
            continue;
        }
        // The new dials' own spread counts too: about as many answers as agents free.
        let spread = frees_var + answers_var + (frees - answers).max(0.0) * (1.0 - per_dial);
        let reserve = safety * spread.sqrt();
        new_dials = new_dials.min((frees - reserve - answers) / per_dial);
    }
    if !new_dials.is_finite() {
        return in_progress;
    }
    in_progress + new_dials.max(0.0)
}

/// Agents expected free within `within` from now, and the variance of that count.
fn agents_free_by(
    settings: &PredictiveSettings,
    m: &Measures,
    s: &Situation,
    within: Ms,
) -> (f64, f64) {
    let wrap = settings.wrap_up_ms;
    s.agents
        .iter()
        .map(|a| {
            let elapsed = s.now.saturating_sub(a.since);
            match a.phase {
                AgentPhase::Available => 1.0,
                AgentPhase::Away => 0.0,
                AgentPhase::WrapUp => f64::from(u8::from(wrap.saturating_sub(elapsed) <= within)),
                AgentPhase::OnCall if within > wrap => {
                    m.talk_ms.ends_within(elapsed, within - wrap)
                }
                AgentPhase::OnCall => 0.0,
            }
        })
        .fold((0.0, 0.0), |(mean, var), p| (mean + p, var + p * (1.0 - p)))
}

/// The chance that a call ringing for `elapsed` is answered within `more`.
fn answers_within(m: &Measures, rate: f64, elapsed: Ms, more: Ms) -> f64 {
    let answered_later = rate * (1.0 - m.answer_ms.cdf(elapsed));
    let unanswered_still = (1.0 - rate) * (1.0 - m.unanswered_ms.cdf(elapsed));
    let ringing = answered_later + unanswered_still;
    if ringing <= 1e-9 || answered_later <= 0.0 {
        return 0.0;
    }
    rate * (m.answer_ms.cdf(elapsed + more) - m.answer_ms.cdf(elapsed)) / ringing
}

#[cfg(test)]
#[path = "predictive_tests.rs"]
mod tests;
